"""Crafted sketch bytes inside a valid envelope and checksum: the ingest API answers 422 before
any native code reads them, stores nothing, and keeps serving (issue 14, point 2)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import auth, make_tokens
from tests.store.helpers import SPEC, log_batch
from vigil.api.specs import Scope
from vigil.api.wire import CONTENT_TYPE, LogBatch
from vigil.server import Settings, create_app
from vigil.store.core import Store

REGRESSIONS = Path(__file__).with_name("regressions")
LOG = "/api/v1/models/churn/log"
Payload = dict[str, Any]


def _frame(body: bytes) -> bytes:
    return struct.pack("<4sHI", b"VGPF", 1, zlib.crc32(body)) + body


def _payload(blob: bytes) -> Payload:
    payload: Payload = msgpack.unpackb(zlib.decompress(blob[10:]), raw=False)
    return payload


def _pack(payload: Payload) -> bytes:
    return _frame(zlib.compress(msgpack.packb(payload, use_bin_type=True)))


def _state(payload: Payload, column: str) -> dict[str, Any]:
    states: dict[str, dict[str, Any]] = {name: state for name, _, state in payload["columns"]}
    return states[column]


def _kll(change: Callable[[bytes], bytes]) -> Callable[[Payload], None]:
    def apply(payload: Payload) -> None:
        state = _state(payload, "age")
        state["kll"] = change(state["kll"])

    return apply


def _cpc(change: Callable[[bytes], bytes]) -> Callable[[Payload], None]:
    def apply(payload: Payload) -> None:
        state = _state(payload, "city")
        state["cpc"] = change(state["cpc"])

    return apply


def _crashing_cpc(_: bytes) -> bytes:
    """CPC bytes whose layout is right but whose compressed stream crashed the native decoder."""
    blob = sorted(REGRESSIONS.glob("decode-cpc-*.vgpf"))[0].read_bytes()
    cpc: bytes = _state(_payload(blob), "s")["cpc"]
    return cpc


def _set_byte(at: int, value: int) -> Callable[[bytes], bytes]:
    return lambda blob: blob[:at] + bytes([value]) + blob[at + 1 :]


def _bomb(payload: Payload) -> None:
    payload["skipped"] = {"padding": "x" * (64 << 20)}


CRAFTED: dict[str, Callable[[Payload], None]] = {
    "kll-huge-level-count": _kll(_set_byte(18, 60)),
    "kll-truncated": _kll(lambda blob: blob[:-7]),
    "kll-level-offset-past-the-end": _kll(lambda blob: blob[:20] + b"\xff\xff\xff\x00" + blob[24:]),
    "kll-nan-item": _kll(lambda blob: blob[:-4] + struct.pack("<f", float("nan"))),
    "cpc-wrong-length": _cpc(lambda blob: blob + b"\0\0\0\0"),
    "cpc-wrong-lg-k": _cpc(_set_byte(3, 26)),
    "cpc-crashing-stream": _cpc(_crashing_cpc),
    "count-negative": lambda payload: _state(payload, "age").update(count=-5),
    "zlib-bomb": _bomb,
}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"))
    config = Settings(
        store_url=str(store.engine.url),
        artifacts_url=store.artifacts.url,
        max_request_bytes=1 << 20,
    )
    headers = auth(make_tokens(store)[Scope.WRITE])
    try:
        with TestClient(create_app(config, store=store)) as client:
            assert client.post("/api/v1/models", json=SPEC.model_dump(), headers=headers).is_success
            yield client, headers | {"Content-Type": CONTENT_TYPE}
    finally:
        store.close()


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_sketch_bytes_in_a_valid_envelope_are_a_422(
    api: tuple[TestClient, dict[str, str]], name: str
) -> None:
    client, headers = api
    good = log_batch(50)
    payload = _payload(good.profiles[0])
    CRAFTED[name](payload)
    crafted = LogBatch("v1", [_pack(payload)], None).encode()
    assert len(crafted) < 1 << 20

    response = client.post(LOG, content=crafted, headers=headers)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "serialization_error"
    windows = client.get("/api/v1/models/churn/windows", headers=headers).json()
    assert windows == []
    # The server is unharmed: the untouched batch is accepted.
    assert client.post(LOG, content=good.encode(), headers=headers).status_code == 200
