"""The column kinds of stored windows, so that an upload whose column conflicts with its window's
(numbers where the window has text, an embedding of another dimension) is refused at upload time
without decoding, merging and re-encoding the window.

A window's kinds are the union of its pieces' (its folded blob and its parts). The window row
keeps them (`ProfileWindow.kinds`, this module's `encode`): an upload reads them back from the
statement that counts it into its window (which takes the window's row lock), combines its own,
and writes the result in its transaction when it added a column. Every server process reads the
same kinds, so checking an upload never decodes another process's parts. A window whose kinds
are not stored (written before they were, or rolled up) has them computed once from its pieces;
each piece's kinds are remembered by a digest of its bytes (`WindowKinds`), so a piece is
decoded once per process.

The rules mirror `vigil.profile.columns.merge_columns` (a contract test checks they agree):
an unknown column merges into anything, other kinds must match, embeddings with values must
have one dimension.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy.orm import Session

from vigil.errors import SchemaConflictError, VigilError
from vigil.lru import LruCache
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


def encode(kinds: Kinds) -> str:
    """`kinds` as the window row keeps them: compact JSON, `{"column": ["NumericColumn", null]}`."""
    return json.dumps(
        {name: list(kind) for name, kind in sorted(kinds.items())}, separators=(",", ":")
    )


def decode(text: str | None) -> dict[str, Kind] | None:
    """The kinds a window row keeps, None when it keeps none (or something this code did not
    write: then they are computed again from the window's pieces)."""
    if text is None:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    if not isinstance(found, dict):
        return None
    kinds: dict[str, Kind] = {}
    for name, kind in found.items():
        if not (
            isinstance(kind, list)
            and len(kind) == 2
            and isinstance(kind[0], str)
            and (kind[1] is None or type(kind[1]) is int)
        ):
            return None
        kinds[name] = (kind[0], kind[1])
    return kinds


class WindowKinds:
    """Checks uploads against their windows' kinds; remembers the kinds of pieces it had to
    decode (windows whose kinds are not stored) by digest, at most `pieces` of them, the least
    recently used dropped first. Thread-safe."""

    def __init__(self, pieces: int = 16384) -> None:
        self._pieces: LruCache[dict[str, Kind]] = LruCache(max_entries=pieces)
        self.store_reads = 0
        """How many checks had to read their window's pieces (its kinds were not stored)."""

    def check(
        self,
        stored: str | None,
        upload: Kinds,
        pieces: Callable[[], Sequence[bytes]],
        *,
        what: str = "this upload",
    ) -> str | None:
        """The window's kinds to store once `upload` (already appended to it, in a transaction
        that holds the window's row lock) is merged in: None when the `stored` ones stay right.
        Raises SchemaConflictError when `upload` conflicts with the window. `pieces` reads the
        window's blob and parts (in that transaction), only when no kinds are stored."""
        known = decode(stored)
        if known is None:
            # The pieces read include the upload itself: their union conflicts only if it does
            # (what was committed before merged without conflict).
            self.store_reads += 1
            found: dict[str, Kind] = {}
            for piece in pieces():
                found = combine(found, self._piece(piece), what=what)
            return encode(combine(found, upload, what=what))
        merged = combine(known, upload, what=what)
        return None if merged == known else encode(merged)

    def _piece(self, blob: bytes) -> dict[str, Kind]:
        digest = hashlib.blake2b(blob, digest_size=16).digest()
        known, found = self._pieces.get(digest)
        if known and found is not None:
            return found
        try:
            kinds = kinds_of(DatasetProfile.from_bytes(blob))
        except VigilError:  # an undecodable piece holds no readable column (readers skip it)
            kinds = {}
        self._pieces.put(digest, kinds)
        return kinds


KINDS_KEY = "vigil.window_kinds"
"""Where a Store's sessions carry its `WindowKinds` (`Session.info`)."""


def kinds_cache(session: Session) -> WindowKinds:
    """The column kinds of windows that the store of `session` remembers (a new, empty one for a
    session of no Store)."""
    kinds = session.info.get(KINDS_KEY)
    return kinds if isinstance(kinds, WindowKinds) else WindowKinds()
