"""Coverage-guided fuzzing of `DatasetProfile.from_bytes` and merge (atheris / libFuzzer).

    python tests/profile/fuzz_profile.py -runs=1000000 -artifact_prefix=crashes/ CORPUS_DIR
    python tests/profile/fuzz_profile.py --write-seeds CORPUS_DIR   # valid profiles, every kind

Each input is turned into profile bytes with a valid envelope and checksum, so the fuzzer gets
past the CRC into the payload and the sketches:

- starting with b"VGPF": whole profile bytes, the checksum recomputed;
- starting with b"P": the rest is the MessagePack payload, compressed and framed here;
- anything else drives a structured mutation of a real profile (every column kind): one field of
  one column is replaced (counts, floats, strings, types) or its sketch bytes mutated (bytes
  flipped, set, cut, grown, or a u32/u16 overwritten at a preamble offset).

If the bytes decode, the profile is merged with a real profile and with itself, re-encoded and
summarised (quantiles, top values, distinct counts all run native code). A VigilError is an
expected rejection; any other exception, or a signal, is a crash: libFuzzer writes the input to
`<artifact_prefix>crash-<sha1>` and exits non-zero, which a supervising process (tests/profile/
test_fuzz.py, or libFuzzer's own -fork=N) records.
"""

from __future__ import annotations

import copy
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

import atheris
import msgpack
import numpy as np
import pyarrow as pa

with atheris.instrument_imports(include=["vigil.profile", "vigil.errors"]):
    import vigil
    from vigil.errors import VigilError
    from vigil.profile import DatasetProfile

MAGIC = b"VGPF"
_HEADER = struct.Struct("<4sHI")


def seed_profiles() -> dict[str, DatasetProfile]:
    """Valid profiles covering every column kind and every sketch flavour Vigil writes."""
    rng = np.random.default_rng(7)
    n = 3_000
    wide = {
        "num": rng.normal(size=n),
        "int": rng.integers(0, 50, n),
        "flag": rng.random(n) < 0.3,
        "when": pa.array(
            rng.integers(1_600_000_000, 1_700_000_000, n) * 1_000_000, pa.timestamp("us")
        ),
        "cat": rng.choice(["a", "b", "c", "é"], n),
        "ids": [f"id{i}" for i in rng.integers(0, 2_000, n)],  # frequent-items sketch, CPC
        "text": [f"some words {i}" for i in range(n)],
        "nothing": pa.nulls(n),
        "emb": pa.array([list(v) for v in rng.normal(size=(n, 4))], pa.list_(pa.float32(), 4)),
        "odd": [1.0, float("nan"), float("inf"), None] * (n // 4),
    }
    schema = {"text": "text", "emb": "embedding", "cat": "categorical", "ids": "categorical"}
    seeds = {"wide": vigil.profile(wide, schema=schema)}
    small = {"num": [1.5, 2.5], "cat": ["x", "y"], "when": pa.array([0, 1], pa.timestamp("us"))}
    seeds["small"] = vigil.profile(small)
    seeds["single"] = vigil.profile({"num": [3.0], "cat": ["z"]})
    seeds["empty"] = vigil.profile(
        {"num": pa.array([], pa.float64()), "cat": pa.array([], pa.string())}
    )
    # CPC flavours: sparse (< 192 coupons), hybrid (< 1,024), pinned and sliding (windowed).
    for distinct in (150, 600, 3_000, 40_000):
        values = [f"v{i}" for i in range(distinct)]
        seeds[f"cpc{distinct}"] = vigil.profile({"s": values}, schema={"s": "text"})
    half = {k: v[: n // 2] for k, v in wide.items()}
    seeds["merged"] = seeds["wide"].merge(vigil.profile(half, schema=schema))
    return seeds


SEEDS = seed_profiles()
SEED_PAYLOADS = [
    msgpack.unpackb(zlib.decompress(p.to_bytes()[_HEADER.size :]), raw=False)
    for p in SEEDS.values()
]
PARTNER = SEEDS["small"]


def frame(body: bytes) -> bytes:
    return _HEADER.pack(MAGIC, 1, zlib.crc32(body)) + body


def pack(payload: Any) -> bytes:
    return frame(zlib.compress(msgpack.packb(payload, use_bin_type=True), 1))


def _mutate_bytes(blob: bytes, fdp: atheris.FuzzedDataProvider) -> bytes:
    data = bytearray(blob)
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        op = fdp.ConsumeIntInRange(0, 6)
        at = fdp.ConsumeIntInRange(0, max(len(data) - 1, 0))
        if op == 0 and data:
            data[at] ^= 1 << fdp.ConsumeIntInRange(0, 7)
        elif op == 1 and data:
            data[at] = fdp.ConsumeIntInRange(0, 255)
        elif op == 2:
            del data[at:]
        elif op == 3:
            data[at:at] = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 64))
        elif op == 4:  # a preamble field: u32 lengths, counts and offsets
            word = fdp.ConsumeIntInRange(0, 40) // 4 * 4
            if word + 4 <= len(data):
                data[word : word + 4] = struct.pack("<I", fdp.ConsumeIntInRange(0, 2**32 - 1))
        elif op == 5:  # the first 8 bytes: versions, families, flags, k
            byte = fdp.ConsumeIntInRange(0, 7)
            if byte < len(data):
                data[byte] = fdp.ConsumeIntInRange(0, 255)
        elif op == 6:
            data += bytes(fdp.ConsumeIntInRange(1, 2048))
    return bytes(data)


def _replacement(value: Any, fdp: atheris.FuzzedDataProvider) -> Any:
    if isinstance(value, bytes) and fdp.ConsumeIntInRange(0, 9):
        return _mutate_bytes(value, fdp)
    choice = fdp.ConsumeIntInRange(0, 9)
    if choice == 0:
        return fdp.ConsumeInt(9)
    if choice == 1:
        return fdp.PickValueInList([-1, 0, 2**63 - 1, 2**64 - 1, -(2**63), 10**18])
    if choice == 2:
        return fdp.ConsumeFloat()
    if choice == 3:
        return fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 300))
    if choice == 4:
        return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 64))
    if choice == 5:
        return None
    if choice == 6:
        return [fdp.ConsumeInt(4) for _ in range(fdp.ConsumeIntInRange(0, 5))]
    if choice == 7:
        return {
            fdp.ConsumeUnicode(4): fdp.ConsumeInt(4) for _ in range(fdp.ConsumeIntInRange(0, 5))
        }
    if choice == 8:
        return fdp.ConsumeBool()
    return fdp.PickValueInList(
        ["numeric", "categorical", "text", "datetime", "boolean", "embedding"]
    )


def _mutate_payload(fdp: atheris.FuzzedDataProvider) -> Any:
    payload = copy.deepcopy(SEED_PAYLOADS[fdp.ConsumeIntInRange(0, len(SEED_PAYLOADS) - 1)])
    for _ in range(fdp.ConsumeIntInRange(1, 3)):
        target = fdp.ConsumeIntInRange(0, 9)
        columns = payload["columns"]
        if target == 0:  # the envelope's own fields
            key = fdp.PickValueInList(sorted(payload))
            payload[key] = _replacement(payload[key], fdp)
        elif columns:
            entry = columns[fdp.ConsumeIntInRange(0, len(columns) - 1)]
            if target == 1:
                entry[1] = _replacement(entry[1], fdp)
                continue
            state = entry[2]
            key = fdp.PickValueInList(sorted(state))
            if isinstance(state[key], dict) and state[key]:  # category counts
                state = state[key]
                key = fdp.PickValueInList(sorted(state))
            state[key] = _replacement(state[key], fdp)
    return payload


def profile_bytes(data: bytes) -> bytes:
    if data.startswith(MAGIC):
        return frame(data[_HEADER.size :]) if len(data) >= _HEADER.size else data
    if data.startswith(b"P"):
        return frame(zlib.compress(data[1:], 1))
    return pack(_mutate_payload(atheris.FuzzedDataProvider(data)))


def exercise(profile: DatasetProfile) -> None:
    """What readers do with a decoded profile: merge, re-encode, summarise."""
    for merged in (profile.merge(PARTNER), profile.merge(profile)):
        DatasetProfile.from_bytes(merged.to_bytes())
        for column in merged.columns.values():
            column.to_dict()


def test_one_input(data: bytes) -> None:
    try:
        blob = profile_bytes(data)
    except (LookupError, ValueError, TypeError, OverflowError):
        return  # the mutation broke its own structure, or msgpack cannot pack it: not an input
    try:
        profile = DatasetProfile.from_bytes(blob)
    except VigilError:
        return
    try:
        exercise(profile)
    except VigilError:
        return  # a schema conflict with the partner, or counts a merge would overflow


def write_seeds(directory: Path) -> None:
    """Valid profiles (whole, and as bare payloads) as a starting corpus."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, profile in SEEDS.items():
        blob = profile.to_bytes()
        (directory / f"{name}.vgpf").write_bytes(blob)
        (directory / f"{name}.payload").write_bytes(b"P" + zlib.decompress(blob[_HEADER.size :]))
        (directory / f"{name}.mutation").write_bytes(bytes(range(1, 64)))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--write-seeds":
        write_seeds(Path(sys.argv[2]))
        return
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
