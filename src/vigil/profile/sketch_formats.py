"""Structural checks of the DataSketches serialisations a profile carries, run before native code.

The native deserialisers trust their input: a KLL sketch with a forged level count or a CPC sketch
whose lengths disagree with its bytes corrupts the heap. Each check here reads the published
layout of one format (little-endian, preamble first), accepts only what Vigil itself writes
(its k, lg_k, lg_max_map, serial versions and flags) and requires every count, offset and length
to agree with the exact byte length. Anything else is a SerializationError naming the field and
its value. The checks cost a few microseconds per sketch (struct reads plus NumPy over the items).

Layouts (byte offsets):

KLL (family 15): 0 preamble ints, 1 serial version, 2 family, 3 flags, 4 k (u16), 6 m, 7 unused;
  empty: 8 bytes; one item: the item at 8; otherwise 8 n (u64), 16 min k (u16), 18 number of levels,
  19 unused, 20 level offsets (u32 each), then min, max and the retained items.
CPC (family 16): 0 preamble ints, 1 serial version, 2 family, 3 lg_k, 4 first interesting column,
  5 flags (compressed, HIP, table, window), 6 seed hash (u16); then, by flags: coupons, surprising
  values, KxP and HIP accumulator, compressed-table and compressed-window lengths (in u32 words),
  and the two compressed streams, which end the sketch exactly.
Frequent items (family 10): 0 preamble ints, 1 serial version, 2 family, 3 lg max map size,
  4 lg current map size, 5 flags, 6 unused; then 8 active items (u32), 16 stream weight (u64),
  24 offset (u64), the weights (u64 each) and the items (u32 length + UTF-8 bytes each).
"""

from __future__ import annotations

import functools
import math
import struct

import numpy as np

from vigil.errors import SerializationError

KLL_FAMILY = 10 + 5
KLL_M = 8
KLL_MAX_LEVELS = 61
"""A KLL sketch of 2**64 values has fewer levels than this."""

CPC_FAMILY = 16
CPC_SEED_HASH = 0x93CC
"""The 16-bit hash of DataSketches' default update seed, which every Vigil CPC sketch uses."""

FREQUENT_FAMILY = 10
FREQUENT_LG_MIN_MAP = 3
FREQUENT_MAX_ITEM_BYTES = 4 * 200 + 64
"""Vigil stores category values of at most 200 characters (4 UTF-8 bytes each) plus a hash."""

_U64_MAX = 2**64 - 1
_KLL_FLAG_EMPTY = 1
_KLL_FLAG_SORTED = 2
_KLL_FLAG_SINGLE = 4
_CPC_FLAG_COMPRESSED = 2
_CPC_FLAG_HIP = 4
_CPC_FLAG_TABLE = 8
_CPC_FLAG_WINDOW = 16

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_F64 = struct.Struct("<d")
_KLL_FULL = struct.Struct("<QHB")  # n, min k, number of levels
_HEAD8 = struct.Struct("<BBBBHBB")  # KLL: pre ints, version, family, flags, k, m, unused
_CPC_HEAD = struct.Struct("<BBBBBBH")  # pre ints, version, family, lg_k, fi col, flags, seed hash
_FREQ_HEAD = struct.Struct("<BBBBBBH")  # pre ints, version, family, lg max, lg cur, flags, unused


def _bad(what: str, message: str, **details: object) -> SerializationError:
    return SerializationError(f"corrupt {what} in profile bytes: {message}", **details)


def _need(blob: bytes, size: int, what: str) -> None:
    if len(blob) < size:
        raise _bad(
            what, f"{len(blob)} bytes, fewer than the {size} its header needs", size=len(blob)
        )


# ------------------------------------------------------------------------------------------ KLL


def kll_capacity(k: int, m: int, num_levels: int) -> int:
    """Total item capacity of a KLL sketch: level h holds max(m, round(k * (2/3)**depth)) items,
    depth being the number of levels above h."""
    total = 0
    for depth in range(num_levels):
        scaled = ((2 * k) << depth) // 3**depth  # 2k(2/3)^depth, floored; halved with rounding
        total += max(m, (scaled + 1) >> 1)
    return total


@functools.cache
def _kll_capacities(k: int) -> tuple[int, ...]:
    return tuple(kll_capacity(k, KLL_M, levels) for levels in range(KLL_MAX_LEVELS + 1))


def check_kll(blob: bytes, *, k: int, item_size: int, what: str = "quantile sketch") -> int:
    """The count of values of `blob`, a KLL sketch as Vigil writes it (parameter `k`, float32 or
    float64 items by `item_size`); SerializationError unless its levels, count and length agree."""
    item_dtype = "<f4" if item_size == 4 else "<f8"
    _need(blob, 8, what)
    pre_ints, version, family, flags, sk_k, m, _ = _HEAD8.unpack_from(blob)
    if family != KLL_FAMILY:
        raise _bad(what, f"family id {family}, expected {KLL_FAMILY} (KLL)", family=family)
    if sk_k != k or m != KLL_M:
        raise _bad(what, f"k={sk_k}, m={m}; Vigil writes k={k}, m={KLL_M}", k=sk_k, m=m)
    if flags == _KLL_FLAG_EMPTY:
        if (pre_ints, version) != (2, 1) or len(blob) != 8:
            raise _bad(what, f"an empty sketch of {len(blob)} bytes (preamble {pre_ints})")
        return 0
    if flags == _KLL_FLAG_SINGLE:
        if (pre_ints, version) != (2, 2) or len(blob) != 8 + item_size:
            raise _bad(what, f"a one-item sketch of {len(blob)} bytes (preamble {pre_ints})")
        if not math.isfinite(float(np.frombuffer(blob, item_dtype, 1, 8)[0])):
            raise _bad(what, "its item is NaN or infinite (Vigil sketches finite values only)")
        return 1
    if flags & ~_KLL_FLAG_SORTED or (pre_ints, version) != (5, 1):
        raise _bad(
            what,
            f"preamble {pre_ints}, serial version {version}, flags {flags:#x}; "
            "Vigil writes 5, 1 and no flag but 'level zero sorted'",
            flags=flags,
        )
    _need(blob, 20, what)
    n, min_k, num_levels = _KLL_FULL.unpack_from(blob, 8)
    if min_k != k:
        raise _bad(what, f"min k {min_k}, expected {k}", min_k=min_k)
    if not 1 <= num_levels <= KLL_MAX_LEVELS:
        raise _bad(what, f"{num_levels} levels (1 to {KLL_MAX_LEVELS} allowed)", levels=num_levels)
    capacity = _kll_capacities(k)[num_levels]
    items_at = 20 + 4 * num_levels
    _need(blob, items_at, what)
    bounds = [*struct.unpack_from(f"<{num_levels}I", blob, 20), capacity]
    sizes = [bounds[i + 1] - bounds[i] for i in range(num_levels)]
    if bounds[0] >= capacity or min(sizes) < 0:
        raise _bad(what, f"level offsets {bounds[:-1]} do not fit a capacity of {capacity}")
    retained = capacity - bounds[0]
    expected = items_at + (2 + retained) * item_size
    if len(blob) != expected:
        raise _bad(
            what,
            f"{len(blob)} bytes for {retained} items in {num_levels} levels; expected {expected}",
            size=len(blob),
        )
    weight = sum(size << level for level, size in enumerate(sizes))
    if n != weight:
        raise _bad(what, f"count {n} but its levels weigh {weight}", n=n)
    values = np.frombuffer(blob, item_dtype, 2 + retained, items_at)
    low, high, items = float(values[0]), float(values[1]), values[2:]
    # NaN fails every comparison, so this also proves every item finite.
    if not (
        math.isfinite(low) and math.isfinite(high) and low <= items.min() <= items.max() <= high
    ):
        raise _bad(what, f"items that are not finite or outside its min {low!r} and max {high!r}")
    # Each level above 0 (and level 0 when flagged) is sorted: merges rely on it. Past an
    # unsorted level 0, an item may be smaller than the one before it only where a level starts.
    sorted_from = 0 if flags & _KLL_FLAG_SORTED else sizes[0]
    tail = items[sorted_from:]
    descents = (tail[1:] < tail[:-1]).nonzero()[0]
    if descents.size:
        starts = {b - bounds[0] - sorted_from - 1 for b in bounds}
        if not starts.issuperset(descents.tolist()):
            raise _bad(what, "a level's items are not sorted")
    return int(n)


# ------------------------------------------------------------------------------------------ CPC


def check_cpc(blob: bytes, *, lg_k: int, what: str = "distinct-count sketch") -> None:
    """Raise SerializationError unless `blob` is a CPC sketch as Vigil writes it (`lg_k`, default
    seed, compressed) whose flags, counts and stream lengths agree with its byte length."""
    _need(blob, 8, what)
    pre_ints, version, family, sk_lg_k, fi_col, flags, seed_hash = _CPC_HEAD.unpack_from(blob)
    if family != CPC_FAMILY or version != 1:
        raise _bad(
            what, f"family {family}, serial version {version}; expected CPC ({CPC_FAMILY}), 1"
        )
    if sk_lg_k != lg_k or seed_hash != CPC_SEED_HASH:
        raise _bad(
            what,
            f"lg_k {sk_lg_k}, seed hash {seed_hash:#06x}; Vigil writes {lg_k}, {CPC_SEED_HASH:#06x}",
            lg_k=sk_lg_k,
        )
    if not flags & _CPC_FLAG_COMPRESSED or flags & ~0b11110:
        raise _bad(what, f"flags {flags:#x} (compressed bit, HIP, table, window only)", flags=flags)
    hip = bool(flags & _CPC_FLAG_HIP)
    table = bool(flags & _CPC_FLAG_TABLE)
    window = bool(flags & _CPC_FLAG_WINDOW)
    if not table and not window:
        if pre_ints != 2 or len(blob) != 8 or fi_col != 0:
            raise _bad(what, f"an empty sketch of {len(blob)} bytes (preamble {pre_ints})")
        return
    expected_ints = {(False, True): 4, (True, False): 4, (True, True): 6}[(table, window)]
    expected_ints += 4 if hip else 0
    if pre_ints != expected_ints:
        raise _bad(
            what, f"preamble of {pre_ints} ints, expected {expected_ints} for flags {flags:#x}"
        )
    _need(blob, 4 * pre_ints, what)
    (coupons,) = _U32.unpack_from(blob, 8)
    k = 1 << lg_k
    if not 0 < coupons <= 64 * k:
        raise _bad(what, f"{coupons} coupons (1 to {64 * k})", coupons=coupons)
    windowed = 32 * coupons >= 16 * k  # pinned or sliding flavour: the window is kept
    if window != windowed or (not windowed and not table):
        raise _bad(what, f"{coupons} coupons with flags {flags:#x} (table/window do not match)")
    if table and window:
        (surprising,) = _U32.unpack_from(blob, 12)
        if not 0 < surprising <= coupons:
            raise _bad(what, f"{surprising} surprising values for {coupons} coupons")
    if hip:
        kxp, accumulator = _F64.unpack_from(blob, 16)[0], _F64.unpack_from(blob, 24)[0]
        if not (0.0 < kxp <= k and math.isfinite(accumulator) and accumulator >= 0.0):
            raise _bad(what, f"HIP state kxp={kxp!r}, accumulator={accumulator!r}")
    lengths_at = 12 if not (table and window) else 32 if hip else 16
    lengths = [_U32.unpack_from(blob, lengths_at + 4 * i)[0] for i in range(table + window)]
    if 0 in lengths:
        raise _bad(what, "a compressed stream of length 0")
    expected = 4 * (pre_ints + sum(lengths))
    if len(blob) != expected:
        raise _bad(
            what,
            f"{len(blob)} bytes, but its preamble and stream lengths {lengths} make {expected}",
            size=len(blob),
        )
    if window:
        if lengths[-1] > k:  # a window of k bytes never compresses to more than k words
            raise _bad(what, f"a compressed window of {lengths[-1]} words (at most {k})")
        if fi_col > 63:
            raise _bad(what, f"first interesting column {fi_col} (0 to 63)")
    elif fi_col != 0:
        raise _bad(what, f"first interesting column {fi_col} without a window")


# ------------------------------------------------------------------------------ frequent items


def check_frequent_strings(
    blob: bytes, *, lg_max_map: int, what: str = "frequent-items sketch"
) -> int:
    """The total weight of `blob`, a frequent-strings sketch as Vigil writes it (`lg_max_map`);
    SerializationError unless its item count, weights and UTF-8 items fill its bytes exactly."""
    _need(blob, 8, what)
    pre_ints, version, family, lg_max, lg_cur, flags, _ = _FREQ_HEAD.unpack_from(blob)
    if family != FREQUENT_FAMILY or version != 1 or lg_max != lg_max_map:
        raise _bad(
            what,
            f"family {family}, serial version {version}, lg max map {lg_max}; "
            f"Vigil writes {FREQUENT_FAMILY}, 1, {lg_max_map}",
        )
    if not FREQUENT_LG_MIN_MAP <= lg_cur <= lg_max_map:
        raise _bad(what, f"lg current map size {lg_cur} ({FREQUENT_LG_MIN_MAP} to {lg_max_map})")
    if pre_ints == 1:
        if flags != 5 or len(blob) != 8:
            raise _bad(what, f"an empty sketch of {len(blob)} bytes with flags {flags:#x}")
        return 0
    if pre_ints != 4 or flags != 0:
        raise _bad(what, f"preamble {pre_ints}, flags {flags:#x}; Vigil writes 4 and 0")
    _need(blob, 32, what)
    (active,) = _U32.unpack_from(blob, 8)
    (stream_weight,) = _U64.unpack_from(blob, 16)
    (offset,) = _U64.unpack_from(blob, 24)
    if not 0 < active <= (3 << lg_cur) // 4:
        raise _bad(what, f"{active} items in a map of 2**{lg_cur} slots", items=active)
    _need(blob, 32 + 8 * active, what)
    weights = np.frombuffer(blob, "<u8", active, 32)
    total = int(weights.sum(dtype=np.float64))  # float: a forged u64 sum must not wrap around
    if (
        (weights == 0).any()
        or total > stream_weight
        or stream_weight >= 2**63
        or offset > stream_weight
    ):
        raise _bad(what, f"weights summing to {total} for a stream weight of {stream_weight}")
    at = 32 + 8 * active
    items: list[bytes] = []
    append, unpack = items.append, _U32.unpack_from
    try:
        for _ in range(active):
            end = at + 4 + unpack(blob, at)[0]
            append(blob[at + 4 : end])
            at = end
    except struct.error:
        raise _bad(what, f"{len(blob)} bytes, too few for its {active} items") from None
    if at != len(blob) or len(set(items)) != active:
        raise _bad(what, f"{len(blob)} bytes, {len(blob) - at} after its {active} distinct items")
    if max(map(len, items)) > FREQUENT_MAX_ITEM_BYTES:
        raise _bad(what, f"an item longer than {FREQUENT_MAX_ITEM_BYTES} bytes")
    try:  # NUL never continues a UTF-8 sequence: the join is valid iff every item is
        b"\0".join(items).decode("utf-8")
    except UnicodeDecodeError:
        raise _bad(what, "an item is not UTF-8") from None
    return int(stream_weight)
