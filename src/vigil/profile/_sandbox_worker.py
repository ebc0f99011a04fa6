"""The child process of `vigil.profile.sandbox`: round-trips CPC sketches through the native code.

Run as a script (not imported with the vigil package, so it starts in a fraction of a second).
Reads frames from stdin: u32 count, then count x (u32 length, bytes). Answers count bytes on
stdout: 1 when the sketch deserialises, merges and serialises back to exactly its bytes, else 0.
Crafted bytes may crash this process; the parent then rejects them and starts a new one.
"""

from __future__ import annotations

import resource
import struct
import sys

import datasketches as ds

_U32 = struct.Struct("<I")
MEMORY_LIMIT = 1 << 30


def _read(stream: object, size: int) -> bytes:
    data = stream.read(size)  # type: ignore[attr-defined]
    if len(data) != size:
        raise SystemExit(0)  # the parent closed the pipe
    return bytes(data)


def _canonical(blob: bytes, lg_k: int) -> bool:
    try:
        sketch = ds.cpc_sketch.deserialize(blob)
        if bytes(sketch.serialize()) != blob:
            return False
        union = ds.cpc_union(lg_k)
        union.update(sketch)
        union.update(sketch)
        merged = union.get_result()
        return bool(merged.get_estimate() >= 0.0 and sketch.get_upper_bound(2) >= 0.0)
    except Exception:
        return False


def main() -> None:
    lg_k = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        (count,) = _U32.unpack(_read(stdin, 4))
        blobs = [_read(stdin, _U32.unpack(_read(stdin, 4))[0]) for _ in range(count)]
        stdout.write(bytes(_canonical(blob, lg_k) for blob in blobs))
        stdout.flush()


if __name__ == "__main__":
    main()
