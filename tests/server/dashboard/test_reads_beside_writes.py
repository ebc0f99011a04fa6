"""The dashboard's reading pages read in read sessions: on SQLite they answer while a writer holds
the write lock (an upload's group, the compactor, a monitor tick), instead of waiting for it. The
model and feature pages are not among them yet: they store the drift and statistics cells they
compute (`vigil.monitor.period_drift`, `vigil.monitor.window_stats`) in the same sessions.

The test holds SQLite's write lock (`BEGIN IMMEDIATE` on a connection of its own) while it
fetches every page; a page that waited for the lock would fail after SQLite's busy timeout, so
the answers prove that none waited (nothing is timed)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from tests.server.dashboard.conftest import Demo, copy_demo, make_app, sign_in
from vigil.api.specs import Scope
from vigil.store.core import Store

READING_PAGES = [
    "/ui/",
    "/ui/models/churn/explanations",
    "/ui/alerts",
    "/ui/monitors",
    "/ui/events",
    "/ui/settings",
]


def test_reading_pages_answer_while_the_write_lock_is_held(demo: Demo, tmp_path: Path) -> None:
    mine = copy_demo(demo, tmp_path)  # the lock must not hold up the other tests' shared demo
    store = Store.open(mine.store_url, mine.artifacts_url)
    try:
        with make_app(mine, store) as web:
            sign_in(web, mine.tokens[Scope.ADMIN])
            alerts = re.findall(r'href="/ui/alerts/(\d+)"', web.get("/ui/alerts?state=").text)
            assert alerts
            pages = [*READING_PAGES, f"/ui/alerts/{alerts[0]}"]
            lock = sqlite3.connect(mine.store_url.removeprefix("sqlite:///"), isolation_level=None)
            try:
                lock.execute("BEGIN IMMEDIATE")
                answers = {url: web.get(url).status_code for url in pages}
            finally:
                lock.execute("ROLLBACK")
                lock.close()
            assert answers == dict.fromkeys(pages, 200)
    finally:
        store.close()
