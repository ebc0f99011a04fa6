"""The spool check each log call makes (`Spooling._any_spooled`) agrees with the spool's listing
(`_spooled`) in every state the folder can be in."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.client import Client


@pytest.fixture
def client(tmp_path: Path) -> Client:
    return Client("http://127.0.0.1:9", spool_dir=tmp_path / "spool", flush_interval=None)


def agrees(client: Client) -> bool:
    assert client._any_spooled() == bool(client._spooled())
    return client._any_spooled()


def test_the_quick_check_agrees_with_the_listing(client: Client, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    assert not agrees(client)  # no folder yet
    spool.mkdir()
    assert not agrees(client)  # an empty folder, as after every spooled call was delivered
    (spool / ".00001-abc.log.vsp.tmp").write_bytes(b"half written")
    (spool / "notes.txt").write_bytes(b"")
    assert not agrees(client)
    (spool / "00002-def.log.vsp").write_bytes(b"\x00\x01m")
    assert agrees(client)
    (spool / "00002-def.log.vsp").unlink()
    (spool / ".vsp").write_bytes(b"")  # glob("*.vsp") matches it too
    assert agrees(client)
    (spool / ".vsp").unlink()
    client.close()


def test_a_spool_path_that_is_a_file_holds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "spool"
    path.write_bytes(b"")
    client = Client("http://127.0.0.1:9", spool_dir=path, flush_interval=None)
    assert not agrees(client)
    client.close()


def test_without_a_spool_nothing_is_spooled() -> None:
    client = Client("http://127.0.0.1:9", spool_dir=None, flush_interval=None)
    assert not agrees(client)
    client.close()
