"""Token lifetimes: `--expires-in`, last use, rotation, on the store and through `vigil token`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from vigil.api.specs import Scope
from vigil.cli import main
from vigil.errors import ConflictError, InvalidInputError
from vigil.ranges import parse_duration
from vigil.store.core import Store
from vigil.store.models import ApiToken
from vigil.store.repositories import TokenRepository, hash_token
from vigil.store.tokens import LAST_USE_RESOLUTION

T0 = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90d", dt.timedelta(days=90)),
        ("12h", dt.timedelta(hours=12)),
        ("30m", dt.timedelta(minutes=30)),
        ("3600s", dt.timedelta(hours=1)),
        ("2w", dt.timedelta(days=14)),
    ],
)
def test_durations_take_one_unit(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["90", "d", "90x", "1.5d", "-1d", "0d", "1d2h", "99999999999w", "", "\u0661\u0662d"]
)
def test_a_bad_duration_names_the_option_and_the_value(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_duration(text, name="--expires-in")
    assert caught.value.message.startswith(f"--expires-in: {text!r} is ")


def test_an_expiring_token_stops_authenticating_at_its_expiry(store: Store) -> None:
    with store.session() as session:
        tokens = TokenRepository(session)
        token, secret = tokens.create(Scope.READ, expires_in=dt.timedelta(days=90), now=T0)
        assert token.expires_at == T0 + dt.timedelta(days=90)
        session.commit()
        expiry = T0 + dt.timedelta(days=90)
        assert tokens.authenticate(secret, expiry - dt.timedelta(seconds=1)) is not None
        assert tokens.authenticate(secret, expiry) is None
        assert tokens.find(secret) is not None  # still there, to say when it expired


def test_the_last_use_is_written_at_most_once_a_minute(store: Store) -> None:
    with store.session() as session:
        tokens = TokenRepository(session)
        token, _ = tokens.create(Scope.READ, now=T0)
        assert token.last_used_at is None
        stamps = [T0 + dt.timedelta(seconds=s) for s in (0, 1, 59, 60, 61, 119, 120)]
        written = [tokens.touch(token.id, at) for at in stamps]
        assert written == [True, False, False, True, False, False, True]
        session.commit()
        session.refresh(token)
        assert token.last_used_at == T0 + 2 * LAST_USE_RESOLUTION


def test_rotation_keeps_name_owner_scope_and_lifetime(store: Store) -> None:
    with store.session() as session:
        tokens = TokenRepository(session)
        old, old_secret = tokens.create(
            Scope.WRITE, name="serving", owner="alice", expires_in=dt.timedelta(days=30), now=T0
        )
        later = T0 + dt.timedelta(days=20)
        replaced, new, secret = tokens.rotate(old.id, now=later)
        session.commit()
        assert replaced.id == old.id
        assert replaced.revoked_at == later
        assert (new.name, new.owner, new.scope) == ("serving", "alice", "write")
        assert new.expires_at == later + dt.timedelta(days=30)
        assert tokens.authenticate(old_secret, later) is None
        assert tokens.authenticate(secret, later) is not None
        with pytest.raises(ConflictError, match="revoked or expired"):
            tokens.rotate(old.id, now=later)

        # With a grace period the old secret keeps working until then, and no longer.
        _, _newer, newest_secret = tokens.rotate(new.id, grace=dt.timedelta(hours=1), now=later)
        assert new.revoked_at is None
        assert new.expires_at == later + dt.timedelta(hours=1)
        assert tokens.authenticate(secret, later + dt.timedelta(minutes=59)) is not None
        assert tokens.authenticate(secret, later + dt.timedelta(hours=1)) is None
        assert tokens.authenticate(newest_secret, later + dt.timedelta(hours=1)) is not None


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_token_cli_expires_lists_and_rotates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    store = ["--store", url]
    code, out, _ = _cli(
        [
            "token",
            "create",
            "--scope",
            "write",
            "--name",
            "serving",
            "--owner",
            "alice",
            "--expires-in",
            "90d",
            *store,
        ],
        capsys,
    )
    assert code == 0
    secret = out.strip()
    opened = Store.open(url, str(tmp_path / "artifacts"))
    with opened.session() as session:
        row = session.query(ApiToken).filter_by(token_hash=hash_token(secret)).one()
        assert row.expires_at is not None
        assert row.expires_at - row.created_at == dt.timedelta(days=90)
        token_id, expires = row.id, row.expires_at

    code, out, _ = _cli(["token", "list", *store], capsys)
    assert code == 0
    assert secret not in out
    assert hash_token(secret) not in out
    header, row_line = out.strip().splitlines()
    assert header.split() == ["ID", "SCOPE", "OWNER", "NAME", "STATE", "EXPIRES", "LAST", "USED"]
    fields = row_line.split()
    assert fields[:5] == [token_id, "write", "alice", "serving", "active"]
    assert fields[5:] == [expires.isoformat(timespec="seconds"), "never"]

    code, out, err = _cli(["token", "rotate", "serving", "--grace", "1h", *store], capsys)
    assert code == 0, err
    new_secret = out.strip()
    assert new_secret.startswith("vgl_")
    assert new_secret != secret
    assert f"replaces {token_id}" in err
    with opened.session() as session:
        tokens = TokenRepository(session)
        new = tokens.authenticate(new_secret)
        assert new is not None
        assert (new.owner, new.scope, new.name) == ("alice", "write", "serving")
        old = tokens.get(token_id)
        assert old.revoked_at is None
        assert old.expires_at is not None
        assert old.expires_at < expires  # ends after the grace hour, not in 90 days
    opened.close()

    # Two live tokens are named "serving" for the next hour: the name no longer picks one.
    code, _, err = _cli(["token", "rotate", "serving", *store], capsys)
    assert code == 2
    assert "2 live tokens are named 'serving'" in err


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["token", "create", "--scope", "read", "--expires-in", "90x"], "--expires-in: '90x'"),
        (["token", "create", "--scope", "read", "--expires-in", "0d"], "--expires-in: '0d'"),
        (["token", "rotate", "nope", "--grace", "soon"], "--grace: 'soon'"),
        (["token", "rotate", "nope"], "no API token with id 'nope'"),
    ],
)
def test_token_cli_refuses_bad_values_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], named: str
) -> None:
    code, out, err = _cli([*args, "--store", f"sqlite:///{tmp_path / 'v.db'}"], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert named in err
    assert "Traceback" not in err


def test_a_dashboard_session_ends_when_its_token_expires(store: Store) -> None:
    from vigil.server.dashboard.auth import sign_in, viewer_of

    with store.session() as session:
        tokens = TokenRepository(session)
        _, lasting = tokens.create(Scope.READ, owner="alice", expires_in=dt.timedelta(hours=1))
        _, expired = tokens.create(
            Scope.READ, expires_in=dt.timedelta(hours=1), now=T0 - dt.timedelta(hours=2)
        )
        session.commit()
        assert sign_in(session, expired) is None
        cookie = sign_in(session, lasting)
        assert cookie is not None
        viewer = viewer_of(session, cookie)
        assert viewer is not None
        assert viewer.actor == "alice"
        row = tokens.find(lasting)
        assert row is not None
        assert row.expires_at is not None
        minute = dt.timedelta(minutes=1)
        assert viewer_of(session, cookie, now=row.expires_at - minute) is not None
        assert viewer_of(session, cookie, now=row.expires_at) is None  # the session has 12 hours
