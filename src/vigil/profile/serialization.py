"""The binary form of a DatasetProfile.

Layout: magic `VGPF`, format version (uint16, little-endian), CRC-32 of the payload (uint32), then
the payload: zlib-compressed MessagePack of plain values (numbers, strings, bytes of the DataSketches
serialisations). A reader refuses a newer format version, a bad checksum or a malformed payload
with a SerializationError, never a crash or a silently wrong profile.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import msgpack

from vigil.errors import SerializationError
from vigil.profile.columns import column_from_state
from vigil.profile.profile import DatasetProfile, Window

MAGIC = b"VGPF"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<4sHI")


def encode_profile(profile: DatasetProfile) -> bytes:
    payload = {
        "n_rows": profile.n_rows,
        "window": _window_state(profile.window),
        "skipped": dict(profile.skipped),
        "columns": [
            [name, column.kind.value, column.to_state()] for name, column in profile.columns.items()
        ],
    }
    # Level 1: within 1% of level 6's size on sketch-heavy profiles, in 60% of the time (every
    # upload into a window re-encodes its merged profile).
    body = zlib.compress(msgpack.packb(payload, use_bin_type=True), 1)
    return _HEADER.pack(MAGIC, FORMAT_VERSION, zlib.crc32(body)) + body


def decode_profile(blob: bytes) -> DatasetProfile:
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise SerializationError(f"profile bytes must be bytes, got {type(blob).__name__}")
    blob = bytes(blob)
    if len(blob) < _HEADER.size:
        raise SerializationError(
            f"profile bytes are truncated: {len(blob)} bytes, fewer than the {_HEADER.size}-byte header"
        )
    magic, version, crc = _HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise SerializationError(
            f"these bytes are not a Vigil profile (magic {magic!r}, expected {MAGIC!r})"
        )
    if version > FORMAT_VERSION:
        raise SerializationError(
            f"profile format version {version} is newer than this Vigil reads "
            f"(up to {FORMAT_VERSION}); upgrade vigil to read it",
            version=version,
        )
    if version < 1:
        raise SerializationError(f"invalid profile format version {version}", version=version)
    body = blob[_HEADER.size :]
    if zlib.crc32(body) != crc:
        raise SerializationError("profile bytes are corrupt: checksum mismatch")
    try:
        payload = msgpack.unpackb(zlib.decompress(body), raw=False, strict_map_key=True)
        return _from_payload(payload)
    except SerializationError:
        raise
    except Exception as exc:  # malformed structure inside a payload whose checksum matched
        raise SerializationError(
            f"profile bytes are malformed: {type(exc).__name__}: {exc}"
        ) from None


def _from_payload(payload: Any) -> DatasetProfile:
    if not isinstance(payload, dict):
        raise SerializationError("profile payload is not a mapping")
    columns = {}
    for name, kind, state in payload["columns"]:
        if not isinstance(name, str) or not isinstance(state, dict):
            raise SerializationError("profile payload has a malformed column entry")
        columns[name] = column_from_state(kind, state)
    window = payload["window"]
    return DatasetProfile(
        columns=columns,
        n_rows=int(payload["n_rows"]),
        window=_window_from_state(window),
        skipped={str(k): str(v) for k, v in payload["skipped"].items()},
    )


def _window_state(window: Window | None) -> list[str] | None:
    if window is None:
        return None
    return [window.start.isoformat(), window.end.isoformat()]


def _window_from_state(state: Any) -> Window | None:
    if state is None:
        return None
    import datetime as dt

    start, end = state
    return Window(dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end))
