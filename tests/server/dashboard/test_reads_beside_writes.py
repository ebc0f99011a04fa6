"""The dashboard's pages read in read sessions: on SQLite they answer while a writer holds the
write lock (an upload's group, the compactor, a monitor tick), instead of waiting for it. The model
and feature pages store the drift and statistics cells they compute, each in a short write of its
own (`vigil.monitor.period_drift`, `vigil.monitor.window_stats`): once their cells are stored,
they read only.

The test holds SQLite's write lock (`BEGIN IMMEDIATE` on a connection of its own) while it
fetches every page; a page that waited for the lock would fail after SQLite's busy timeout, so
the answers prove that none waited (nothing is timed)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.server.dashboard.conftest import Demo, copy_demo, make_app, page_urls, sign_in
from vigil.api.specs import Scope
from vigil.store.core import Store


def test_every_page_answers_while_the_write_lock_is_held(demo: Demo, tmp_path: Path) -> None:
    mine = copy_demo(demo, tmp_path)  # the lock must not hold up the other tests' shared demo
    store = Store.open(mine.store_url, mine.artifacts_url)
    try:
        with make_app(mine, store) as web:
            sign_in(web, mine.tokens[Scope.ADMIN])
            pages = page_urls(web)
            for url in pages:  # the cells of the model and feature pages computed and stored
                assert web.get(url).status_code == 200, url
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
