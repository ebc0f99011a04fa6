"""Inputs that once crashed a profile reader, kept as regression tests (tests/profile/regressions).

`decode-*.vgpf`: a valid envelope and checksum around crafted DataSketches bytes (KLL level
offsets past the buffer; CPC streams that make the native decoder write out of bounds). Before the
structural checks and the CPC sandbox each of them killed the process (SIGSEGV / SIGABRT); now
each is a SerializationError. `merge-*.vgpf`: profiles the fuzzer found that decode, but whose
merge with themselves overflowed a count into bytes that no longer decoded; the merge must now be
refused with a VigilError or give decodable bytes.

Each input runs in a forked child, so a native crash fails the test instead of killing pytest.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vigil.errors import SerializationError, VigilError
from vigil.profile import DatasetProfile

REGRESSIONS = Path(__file__).with_name("regressions")


def _in_child(blob: bytes, merge: bool) -> str:
    """What reading `blob` (and merging it with itself) ends in, found in a forked child."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        try:
            profile = DatasetProfile.from_bytes(blob)
            outcome = "decoded"
            if merge:
                DatasetProfile.from_bytes(profile.merge(profile).to_bytes())
                outcome = "merged"
        except SerializationError:
            outcome = "SerializationError"
        except VigilError as exc:
            outcome = type(exc).__name__
        except Exception as exc:
            outcome = f"unexpected {type(exc).__name__}: {exc}"
        os.write(write, outcome.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return f"crashed with signal {os.WTERMSIG(status)}"
    return answer


@pytest.mark.parametrize("path", sorted(REGRESSIONS.glob("decode-*.vgpf")), ids=lambda p: p.name)
def test_crafted_sketch_bytes_are_a_serialization_error(path: Path) -> None:
    assert _in_child(path.read_bytes(), merge=False) == "SerializationError"


@pytest.mark.parametrize("path", sorted(REGRESSIONS.glob("merge-*.vgpf")), ids=lambda p: p.name)
def test_merging_a_fuzzed_profile_is_refused_or_decodable(path: Path) -> None:
    assert _in_child(path.read_bytes(), merge=True) in {"merged", "InvalidInputError"}


def test_there_are_regressions_of_each_kind() -> None:
    names = [p.name for p in REGRESSIONS.iterdir()]
    assert any(n.startswith("decode-kll") for n in names)
    assert any(n.startswith("decode-cpc") for n in names)
    assert any(n.startswith("merge-") for n in names)
