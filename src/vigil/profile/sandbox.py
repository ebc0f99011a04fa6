"""A child process that tries CPC sketch bytes before this process hands them to native code.

CPC sketches carry compressed streams whose content only the native decoder can read, and a
crafted stream makes it write out of bounds. `sketch_formats.check_cpc` proves the preamble and
lengths; this sandbox proves the rest: the bytes must deserialise, merge and serialise back to
exactly themselves in a separate process (`_sandbox_worker`, limited to 1 GiB of memory). A crash,
a hang or a difference rejects them; this process never touches bytes that failed.

One sandbox per process (it is a child process, like an open file): `CPC_SANDBOX`. It is started
on first use, restarted after a crash and after a fork, and shared by threads under a lock.
"""

from __future__ import annotations

import os
import select
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from vigil.errors import SerializationError

WORKER = Path(__file__).with_name("_sandbox_worker.py")
TIMEOUT_SECONDS = 30.0
"""A verdict on one profile's sketches takes milliseconds; only a hung decoder takes this long."""

_U32 = struct.Struct("<I")


class SketchSandbox:
    """Round-trips CPC sketch bytes (of one `lg_k`) in a child process; see the module doc."""

    def __init__(self, lg_k: int, timeout: float = TIMEOUT_SECONDS) -> None:
        self.lg_k = lg_k
        self.timeout = timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._pid = 0

    def check(
        self,
        blobs: Sequence[bytes],
        what: str = "distinct-count sketch",
        names: Sequence[str] | None = None,
    ) -> None:
        """Raise SerializationError unless every blob round-trips exactly in the sandbox;
        `names` (one per blob, e.g. column names) make the message say which."""
        if not blobs:
            return
        with self._lock:
            verdict = self._ask(blobs)
            if verdict is None:  # the worker died or hung: once more with a fresh one
                verdict = self._ask(blobs)
            if verdict is None or 0 in verdict:
                self._stop()  # a worker that read hostile bytes is not trusted again
        where = list(names) if names is not None else [f"#{i}" for i in range(len(blobs))]
        if verdict is None:
            raise SerializationError(
                f"corrupt {what} in profile bytes: one of {where[:20]} crashed or hung the "
                "sandboxed decoder",
                columns=where[:20],
            )
        if 0 in verdict:
            index = verdict.index(0)
            raise SerializationError(
                f"corrupt {what} in profile bytes: {where[index]} ({len(blobs[index])} bytes) "
                "does not decode to itself",
                column=where[index],
            )

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _ask(self, blobs: Sequence[bytes]) -> bytes | None:
        process = self._worker()
        frame = [_U32.pack(len(blobs))]
        for blob in blobs:
            frame += (_U32.pack(len(blob)), blob)
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            process.stdin.write(b"".join(frame))
            process.stdin.flush()
            return self._read(process.stdout.fileno(), len(blobs))
        except (OSError, TimeoutError, EOFError):
            self._stop()
            return None

    def _read(self, fd: int, size: int) -> bytes:
        answer = b""
        while len(answer) < size:
            ready, _, _ = select.select([fd], [], [], self.timeout)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, size - len(answer))
            if not chunk:
                raise EOFError
            answer += chunk
        return answer

    def _worker(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._pid == os.getpid():
            return self._process
        # After a fork the pipes belong to the parent's worker: start this process's own.
        self._process = subprocess.Popen(
            [sys.executable, "-I", str(WORKER), str(self.lg_k)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        self._pid = os.getpid()
        return self._process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None or self._pid != os.getpid():
            return
        process.kill()
        process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
