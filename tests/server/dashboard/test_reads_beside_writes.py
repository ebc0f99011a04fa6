"""The dashboard's monitoring pages read in read sessions: on SQLite they answer while a writer
holds the write lock (an upload's group, the compactor, a monitor tick), instead of waiting for it.
The model and feature pages store the drift and statistics cells they compute, each in a short
write of its own (`vigil.monitor.period_drift`, `vigil.monitor.window_stats`): once their cells
are stored, they read only.

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

CELL_PAGES = [
    "/ui/models/churn",
    "/ui/models/churn?granularity=hour&days=3",
    "/ui/models/churn?granularity=month",
    "/ui/models/churn/features/monthly_charges",
    "/ui/models/churn/features/contract",
]
"""Pages that compute and store cells on their first view."""
READING_PAGES = [
    "/ui/",
    *CELL_PAGES,
    "/ui/models/churn/explanations",
    "/ui/alerts",
    "/ui/monitors",
    "/ui/events",
    "/ui/settings",
]


def test_monitoring_pages_answer_while_the_write_lock_is_held(demo: Demo, tmp_path: Path) -> None:
    mine = copy_demo(demo, tmp_path)  # the lock must not hold up the other tests' shared demo
    store = Store.open(mine.store_url, mine.artifacts_url)
    try:
        with make_app(mine, store) as web:
            sign_in(web, mine.tokens[Scope.ADMIN])
            for url in CELL_PAGES:  # their cells computed and stored
                assert web.get(url).status_code == 200, url
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
