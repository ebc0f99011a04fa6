"""The log batch envelope's ids (`vigil.api.wire`)."""

from __future__ import annotations

import uuid

from vigil.api.wire import LogBatch, check_batch_id, new_batch_id


def test_batch_ids_are_random_uuid4_hex_digits_the_server_accepts() -> None:
    ids = [new_batch_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        parsed = uuid.UUID(hex=value)
        assert parsed.hex == value
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert check_batch_id(value) == value
    # every other bit is random: each hex digit outside the version and variant varies
    for position in set(range(32)) - {12, 16}:
        assert len({value[position] for value in ids}) > 8, position
    assert {value[16] for value in ids} == set("89ab")


def test_a_batch_round_trips_with_its_id() -> None:
    batch = LogBatch(version="v1", profiles=[b"p"], rows=None)
    decoded = LogBatch.decode(batch.encode())
    assert decoded.batch_id == batch.batch_id
    assert len(batch.batch_id) == 32
