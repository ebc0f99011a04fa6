"""The column kinds of stored windows, so that an upload whose column conflicts with its window's
(numbers where the window has text, an embedding of another dimension) is refused at upload time
without decoding, merging and re-encoding the window.

A window's kinds are the union of its pieces' (its folded blob and its parts). `WindowKinds`, kept
per store and process, remembers them per window with the window's upload count: when the upload
being checked is the next one (`n_uploads` one more than remembered, read under the window's row
lock), checking it needs nothing from the store. Otherwise (another process uploaded meanwhile,
or the window is new to this process) the kinds are read from the window's pieces; each piece's
kinds are remembered by a digest of its bytes, so a piece is decoded once per process.

The rules mirror `vigil.profile.columns.merge_columns` (a contract test checks they agree):
an unknown column merges into anything, other kinds must match, embeddings with values must
have one dimension.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence

from sqlalchemy.orm import Session

from vigil.errors import SchemaConflictError, VigilError
from vigil.profile import DatasetProfile
from vigil.profile.columns import AnyColumn, EmbeddingColumn, UnknownColumn

Kind = tuple[str, int | None]
"""A column's kind (its column class) and, for an embedding with values, its dimension."""
Kinds = Mapping[str, Kind]

_UNKNOWN = UnknownColumn.__name__


def kind_of(column: AnyColumn) -> Kind:
    dim = column.dim if isinstance(column, EmbeddingColumn) and column.moments.count else None
    return type(column).__name__, dim


def kinds_of(profile: DatasetProfile) -> dict[str, Kind]:
    return {name: kind_of(column) for name, column in profile.columns.items()}


def combine(window: Kinds, upload: Kinds, *, what: str = "this upload") -> dict[str, Kind]:
    """The kinds of a window after `upload` is merged into it; SchemaConflictError (409) naming
    the column when a column of `upload` cannot merge with the window's."""
    merged = dict(window)
    for name, new in upload.items():
        old = merged.get(name)
        if old is None or old[0] == _UNKNOWN:
            merged[name] = new
        elif new[0] == _UNKNOWN:
            continue
        elif old[0] != new[0] or (old[1] is not None and new[1] is not None and old[1] != new[1]):
            raise SchemaConflictError(
                f"column {name!r} of {what} is {_describe(new)}, but its window already holds "
                f"{_describe(old)}; profile it with the same schema as before "
                f"(e.g. schema={{{name!r}: ...}})",
                column=name,
                kinds=[_describe(old), _describe(new)],
            )
        elif old[1] is None:
            merged[name] = new
    return merged


def _describe(kind: Kind) -> str:
    name = kind[0].removesuffix("Column").lower()
    return f"{name} of dimension {kind[1]}" if kind[1] is not None else name


class WindowKinds:
    """Column kinds per window id (with the upload count they hold) and per piece digest; bounded,
    least recently used entries dropped first. Thread-safe."""

    def __init__(self, windows: int = 4096, pieces: int = 16384) -> None:
        self._lock = threading.Lock()
        self._windows: OrderedDict[int, tuple[int, dict[str, Kind]]] = OrderedDict()
        self._pieces: OrderedDict[bytes, dict[str, Kind]] = OrderedDict()
        self._max_windows = windows
        self._max_pieces = pieces
        self.store_reads = 0
        """How many checks had to read their window's pieces from the store."""

    def check(
        self,
        window_id: int,
        n_uploads: int,
        upload: DatasetProfile,
        blob: bytes,
        pieces: Callable[[], Sequence[bytes]],
        *,
        what: str = "this upload",
    ) -> dict[str, Kind]:
        """The window's kinds with `upload` (its `n_uploads`-th, already appended in a
        transaction that holds the window's row lock); raises SchemaConflictError when `upload`
        conflicts with the window. `pieces` reads the window's blob and parts (in that
        transaction) when this process does not know the window's kinds. `blob` is `upload`'s
        bytes (remembered as a piece). Then call `remember` before the commit, and `forget` if
        the transaction does not commit: an upload waiting for the row lock sees this one's
        kinds as soon as it is committed."""
        new = kinds_of(upload)
        self._remember_piece(blob, new)
        if n_uploads == 1:
            return new
        with self._lock:
            entry = self._windows.get(window_id)
        if entry is not None and entry[0] == n_uploads - 1:
            return combine(entry[1], new, what=what)
        # The pieces read include `upload` itself: their union conflicts only if it does (what
        # was committed before merged without conflict).
        self.store_reads += 1
        kinds: dict[str, Kind] = {}
        for piece in pieces():
            kinds = combine(kinds, self._piece(piece), what=what)
        return combine(kinds, new, what=what)

    def clear(self) -> None:
        """Forget every window and piece (what a process that just started knows)."""
        with self._lock:
            self._windows.clear()
            self._pieces.clear()

    def forget(self, window_ids: Iterable[int]) -> None:
        with self._lock:
            for window_id in window_ids:
                self._windows.pop(window_id, None)

    def remember(self, window_id: int, n_uploads: int, kinds: Kinds) -> None:
        """Record the window's kinds as of its `n_uploads` uploads."""
        with self._lock:
            entry = self._windows.get(window_id)
            if entry is not None and entry[0] >= n_uploads:
                return
            self._windows[window_id] = (n_uploads, dict(kinds))
            self._windows.move_to_end(window_id)
            while len(self._windows) > self._max_windows:
                self._windows.popitem(last=False)

    def _piece(self, blob: bytes) -> dict[str, Kind]:
        digest = hashlib.blake2b(blob, digest_size=16).digest()
        with self._lock:
            found = self._pieces.get(digest)
        if found is not None:
            return found
        try:
            kinds = kinds_of(DatasetProfile.from_bytes(blob))
        except VigilError:  # an undecodable piece holds no readable column (readers skip it)
            kinds = {}
        self._remember_piece(blob, kinds, digest)
        return kinds

    def _remember_piece(self, blob: bytes, kinds: dict[str, Kind], digest: bytes = b"") -> None:
        digest = digest or hashlib.blake2b(blob, digest_size=16).digest()
        with self._lock:
            self._pieces[digest] = kinds
            while len(self._pieces) > self._max_pieces:
                self._pieces.popitem(last=False)


KINDS_KEY = "vigil.window_kinds"
"""Where a Store's sessions carry its `WindowKinds` (`Session.info`)."""


def kinds_cache(session: Session) -> WindowKinds:
    """The column kinds of windows that the store of `session` remembers (a new, empty one for a
    session of no Store)."""
    kinds = session.info.get(KINDS_KEY)
    return kinds if isinstance(kinds, WindowKinds) else WindowKinds()
