"""How `vigil.Client` delivers a log call: at once, or, while the server is away, through an
on-disk spool that a background thread flushes, each call delivered once."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from pathlib import Path

from vigil.api.specs import IngestResult, KpiIn, KpiOut
from vigil.client.transport import Transport, UnavailableError
from vigil.errors import VigilError

logger = logging.getLogger("vigil.client")

DEFAULT_SPOOL_DIR = Path(".vigil") / "spool"


class Spooling:
    """Mixed into `vigil.Client`: send a call, or spool it while the server is unavailable."""

    url: str
    spool_dir: Path | None
    flush_interval: float | None
    _transport: Transport

    def _init_spooling(self) -> None:
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    def _send(
        self, kind: str, model: str, body: bytes, *, attempts: int | None = None
    ) -> IngestResult | KpiOut:
        if kind == "kpi":
            return self._transport.send_kpi(KpiIn.model_validate_json(body), attempts=attempts)
        return self._transport.send(kind, model, body, attempts=attempts)

    def _deliver(self, kind: str, model: str, body: bytes) -> IngestResult | KpiOut | None:
        if self.spool_dir is not None and self._any_spooled():
            self.flush()
            if self._any_spooled():
                # Still down: queue behind the spooled calls at once, without the retries, so
                # serving code is not slowed down call after call while the server is away.
                self._spool(kind, model, body)
                return None
        try:
            return self._send(kind, model, body)
        except UnavailableError as exc:
            if self.spool_dir is None:
                raise
            path = self._spool(kind, model, body)
            logger.warning(
                "Vigil server unavailable (%s); spooled the %s call to %s", exc, kind, path
            )
            return None

    def _any_spooled(self) -> bool:
        """Whether a call waits in the spool: stops at the first one (every log call asks, and
        listing and sorting a spool folder that stays once created cost ~50 us a call)."""
        if self.spool_dir is None:
            return False
        try:
            with os.scandir(self.spool_dir) as entries:
                return any(e.name.endswith(".vsp") for e in entries)  # as glob("*.vsp")
        except OSError:  # no folder (yet), or not readable: as `_spooled` finds nothing
            return False

    def _spooled(self) -> list[Path]:
        if self.spool_dir is None or not self.spool_dir.is_dir():
            return []
        return sorted(self.spool_dir.glob("*.vsp"))

    def _spool(self, kind: str, model: str, body: bytes) -> Path:
        assert self.spool_dir is not None
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.{kind}.vsp"
        header = model.encode()
        temp = self.spool_dir / f".{name}.tmp"
        temp.write_bytes(len(header).to_bytes(2, "big") + header + body)
        path = self.spool_dir / name
        os.replace(temp, path)
        self._start_flusher()
        return path

    def _start_flusher(self) -> None:
        """A daemon thread that delivers the spool every `flush_interval` seconds until it is
        empty, so spooled calls arrive even if the process logs nothing more."""
        if self.flush_interval is None or (self._flusher and self._flusher.is_alive()):
            return
        interval = self.flush_interval

        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    self.flush()
                except Exception:
                    logger.exception("Vigil spool flush failed")
                if not self._spooled():
                    return

        self._flusher = threading.Thread(target=run, name="vigil-spool-flusher", daemon=True)
        self._flusher.start()

    def flush(self) -> int:
        """Deliver spooled calls, oldest first; returns how many were delivered.

        Stops at the first that still cannot be delivered. A call the server refuses for good
        (a 4xx) is moved to `rejected/` in the spool folder instead of blocking the others.
        """
        with self._flush_lock:
            return self._flush()

    def _flush(self) -> int:
        delivered = 0
        for path in self._spooled():
            try:
                blob = path.read_bytes()
            except FileNotFoundError:
                continue  # another process delivered it
            size = int.from_bytes(blob[:2], "big")
            model, body = blob[2 : 2 + size].decode(), blob[2 + size :]
            kind = path.name.split(".")[-2]
            try:
                self._send(kind, model, body, attempts=1)
            except UnavailableError:
                break
            except VigilError as exc:
                assert self.spool_dir is not None
                rejected = self.spool_dir / "rejected"
                rejected.mkdir(exist_ok=True)
                os.replace(path, rejected / path.name)
                logger.error("Vigil refused spooled call %s: %s", path.name, exc)
                continue
            path.unlink(missing_ok=True)
            delivered += 1
        return delivered

    @property
    def pending(self) -> int:
        """How many calls wait in the spool."""
        return len(self._spooled())

    def _stop_spooling(self) -> None:
        """Stop the background flusher and try once more to deliver the spool."""
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join(timeout=30)
        if self.spool_dir is not None and self._spooled():
            self.flush()
