"""Runs the documentation's blocks as a reader would: one page at a time, in order, in a fresh
folder, Python blocks in one namespace (a page's blocks build on each other), shell blocks with
`bash -euo pipefail` and the project's virtualenv first on PATH.

A block's test catches its page up first: when the blocks before it have not run in this process
(another xdist worker took them, or `-k` selected one block), they run before it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.docs.blocks import Block
from tests.e2e.live import LiveServer, make_token
from tests.spark_needs import require_spark
from tests.waits import patience

SHELL_TIMEOUT = 300.0
"""Seconds a shell block may take on an idle machine (stretched by the load)."""
CLEARED = ("VIGIL_", "MLFLOW_TRACKING_")
"""Variables of the test's own environment a block never sees (a block sets what it needs)."""


class EarlierBlockFailedError(AssertionError):
    """A block this one builds on failed."""


@dataclass
class Page:
    """One Markdown file's run: its folder, its namespace and how far it got."""

    path: Path
    blocks: list[Block]
    workdir: Path
    namespace: dict[str, Any] = field(default_factory=lambda: {"__name__": "__main__"})
    next: int = 0
    failed: Block | None = None
    server: LiveServer | None = None
    token: str = ""


class Runner:
    """The pages run in this process, and what their blocks asked to be started."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.pages: dict[Path, Page] = {}
        self.spark = False

    def page(self, block: Block, blocks: list[Block]) -> Page:
        if block.path not in self.pages:
            name = block.path.stem.lower()
            workdir = self.base / name
            workdir.mkdir(parents=True)
            same = [b for b in blocks if b.path == block.path]
            self.pages[block.path] = Page(block.path, same, workdir)
        return self.pages[block.path]

    def run(self, block: Block, blocks: list[Block]) -> None:
        """Run the page's blocks up to and including `block`."""
        page = self.page(block, blocks)
        if page.failed is not None:
            raise EarlierBlockFailedError(f"an earlier block of this page failed: {page.failed.id}")
        index = page.blocks.index(block)
        while page.next <= index:
            current = page.blocks[page.next]
            page.next += 1
            if current.skip is not None:
                continue
            try:
                self.execute(page, current)
            except BaseException as exc:
                page.failed = current
                if current is not block:
                    raise EarlierBlockFailedError(
                        f"{current.id}, which {block.id} builds on, failed: {exc}"
                    ) from exc
                raise

    def execute(self, page: Page, block: Block) -> None:
        if "spark" in block.needs:
            self.require_spark()
        with self.environment(page, block):
            if block.file is not None:
                target = page.workdir / block.file
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.code + "\n")
            elif block.is_python:
                # Line numbers of a traceback are the Markdown file's.
                code = compile("\n" * block.line + block.script(), str(block.path), "exec")
                exec(code, page.namespace)
            else:
                self.shell(page, block)

    @contextlib.contextmanager
    def environment(self, page: Page, block: Block) -> Iterator[None]:
        saved = dict(os.environ)
        cwd = Path.cwd()
        try:
            for name in list(os.environ):
                if name.startswith(CLEARED):
                    del os.environ[name]
            if "server" in block.needs:
                server = self.server(page)
                os.environ.update(
                    VIGIL_URL=server.url,
                    VIGIL_TOKEN=page.token,
                    MLFLOW_TRACKING_URI=server.url,
                    MLFLOW_TRACKING_TOKEN=page.token,
                )
            os.chdir(page.workdir)
            yield
        finally:
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(saved)

    def shell(self, page: Page, block: Block) -> None:
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.script()],
            cwd=page.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=patience(SHELL_TIMEOUT),
        )
        if done.returncode != 0:
            raise AssertionError(
                f"{block.id} exited with {done.returncode}\n"
                f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
            )
        sys.stdout.write(done.stdout)

    def server(self, page: Page) -> LiveServer:
        """The page's own server (a store of its own), started when a block first needs it."""
        if page.server is None:
            folder = page.workdir.parent / f"{page.workdir.name}-server"
            folder.mkdir()
            store_url = f"sqlite:///{folder / 'vigil.db'}"
            page.token = make_token(store_url)  # migrates the store, too
            server = LiveServer(store_url, str(folder / "artifacts"), folder / "server.log")
            page.server = server.start()
        return page.server

    def require_spark(self) -> None:
        if self.spark:
            return
        require_spark("a Spark block")
        from pyspark import SparkContext

        if SparkContext._active_spark_context is None and SparkContext._gateway is not None:
            # A JVM another test of this process started, and stopped its session in: it reads
            # relative paths ("events/") against the folder it started in. The page's session
            # starts a JVM of its own, in the page's folder, as a reader's would.
            SparkContext._gateway.shutdown()
            SparkContext._gateway = None
            SparkContext._jvm = None
        self.spark = True

    def close(self) -> None:
        """Close what the pages opened: clients and runs left in namespaces, servers, Spark."""
        for page in self.pages.values():
            for value in page.namespace.values():
                closer = getattr(value, "close", None)
                if type(value).__module__.startswith("vigil.client") and callable(closer):
                    with contextlib.suppress(Exception):
                        closer()
            if page.server is not None:
                page.server.stop()
        if self.spark:
            from pyspark.sql import SparkSession

            session = SparkSession.getActiveSession()
            if session is not None:
                session.stop()
        with contextlib.suppress(ImportError):
            import vigil

            vigil.autolog(disable=True)
