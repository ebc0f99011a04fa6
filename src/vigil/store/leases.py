"""Leases that end with their holder: for work one process of several on a store should do at a
time (folding a window's parts, `vigil.ingestion.compactor`).

A lease is a lock on an integer key, tried without waiting: a process told no goes on to other
work. Nothing is written to the store and no clock is involved: a lease ends when its holder
releases it, or with its holder, so a killed process's leases are free at once for the others.

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a connection of the
  holder's own, the monitors' leases (`vigil.monitor.scheduler`). PostgreSQL drops the locks of a
  connection that closed, however its process ended.
- A SQLite file: a lock on the key's byte of a file beside the database (`<db>.leases.lock`),
  the kind of lock the migrations take (`vigil.store.db`), tried without waiting. On Linux an
  open-file-description lock: two holders conflict even in one process. Elsewhere a POSIX record
  lock, which threads of one process share. The kernel drops it when its holder dies.
- In-memory SQLite (one process, one connection): every lease is granted.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from sqlalchemy import BigInteger, Connection, Engine, func, literal, select

# The key spaces of PostgreSQL advisory locks and of these leases, in one place: a key is its
# space's base plus a row id (below 2**32), so no two spaces can meet.
RECORD_LOCK_BASE = 0x5649_0000
"""Held while a monitor's results are recorded (`vigil.monitor.evaluate`): + the monitor's id."""
TICK_LOCK_BASE = 0x5649_0001_0000_0000
"""A round's monitor leases (`vigil.monitor.scheduler`): + the monitor's id."""
MODEL_LOCK_BASE = 0x5649_0002_0000_0000
"""A round's model leases (`vigil.monitor.scheduler`): + the model's id."""
FOLD_LOCK_BASE = 0x5649_0003_0000_0000
"""Window folds (`vigil.ingestion.compactor`): + the window's id."""

_OFD_SETLK: int | None = getattr(fcntl, "F_OFD_SETLK", None)
# struct flock on Linux (64-bit off_t): l_type, l_whence, l_start, l_len, l_pid, padding.
_FLOCK = struct.Struct("@hhqqi4x")


class Leases:
    """Leases on integer keys (at most 2**63 - 1) for one holder, until `release` or `close`.

    with Leases(store.engine) as leases:
        if leases.take(key):
            try: ...  # the work no other process does meanwhile
            finally: leases.release(key)
    """

    def __init__(self, engine: Engine) -> None:
        self._connection: Connection | None = None
        self._file: BinaryIO | None = None
        self._held: set[int] = set()
        backend, database = engine.url.get_backend_name(), engine.url.database
        if backend == "postgresql":
            self._connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        elif backend == "sqlite" and database and database != ":memory:":
            path = Path(database).expanduser().with_suffix(".leases.lock")
            self._file = path.open("a+b")

    def take(self, key: int) -> bool:
        """Whether this holder now has the lease on `key` (False: another holder has it)."""
        if not 0 <= key < 2**63:
            raise ValueError(f"a lease key is an integer from 0 to 2**63 - 1, got {key}")
        if key in self._held:
            return True
        if self._connection is not None:
            taken = bool(
                self._connection.scalar(select(func.pg_try_advisory_lock(literal(key, BigInteger))))
            )
        elif self._file is not None:
            taken = _lock_byte(self._file, key, fcntl.F_WRLCK)
        else:
            taken = True
        if taken:
            self._held.add(key)
        return taken

    def release(self, key: int) -> None:
        if key not in self._held:
            return
        self._held.discard(key)
        if self._connection is not None:
            self._connection.scalar(select(func.pg_advisory_unlock(literal(key, BigInteger))))
        elif self._file is not None:
            _lock_byte(self._file, key, fcntl.F_UNLCK)

    @property
    def held(self) -> frozenset[int]:
        return frozenset(self._held)

    def close(self) -> None:
        """Release every lease held and the connection or file they are held on."""
        self._held.clear()
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.exec_driver_sql("SELECT pg_advisory_unlock_all()")
            except Exception:  # never pool a connection that may still hold leases
                connection.invalidate()
                raise
            finally:
                connection.close()
        if self._file is not None:
            handle, self._file = self._file, None
            handle.close()  # drops this holder's locks on the file

    def __enter__(self) -> Leases:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _lock_byte(handle: BinaryIO, offset: int, kind: int) -> bool:
    """Lock (F_WRLCK) or unlock (F_UNLCK) one byte at `offset` without waiting."""
    try:
        if _OFD_SETLK is not None:
            fcntl.fcntl(handle.fileno(), _OFD_SETLK, _FLOCK.pack(kind, os.SEEK_SET, offset, 1, 0))
        else:
            mode = fcntl.LOCK_UN if kind == fcntl.F_UNLCK else fcntl.LOCK_EX | fcntl.LOCK_NB
            fcntl.lockf(handle.fileno(), mode, 1, offset, os.SEEK_SET)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True
