"""`client.retention` and `vigil models retention --url` against a real server on loopback."""

from __future__ import annotations

import json

import pytest

from tests.server.live_api import LiveApi, live_api
from vigil.api.specs import Scope
from vigil.cli import main
from vigil.client import Client
from vigil.errors import VigilError

__all__ = ["live_api"]


def test_the_remote_client_and_cli_set_a_policy(
    live_api: LiveApi, capsys: pytest.CaptureFixture[str]
) -> None:
    url = live_api.live.url
    admin = Client(url, token=live_api.tokens[Scope.ADMIN], spool_dir=None, flush_interval=None)
    reader = Client(url, token=live_api.tokens[Scope.READ], spool_dir=None, flush_interval=None)
    try:
        assert admin.retention.get("churn").rows_days is None
        out = admin.retention.set("churn", rows_days=60, daily_after_days=3)
        assert (out.rows_days, out.daily_after_days, out.monthly_after_days) == (60, 3, None)
        assert reader.retention.get("churn").daily_after_days == 3
        with pytest.raises(VigilError, match="admin"):
            reader.retention.set("churn", rows_days=1)
        assert reader.retention.get("churn").rows_days == 60
    finally:
        admin.close()
        reader.close()
    remote = ["--url", url, "--token", live_api.tokens[Scope.ADMIN]]
    assert main(["models", "retention", "churn", "--monthly-after-days", "30", *remote]) == 0
    capsys.readouterr()
    assert main(["models", "retention", "churn", "--json", *remote]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["rows_days"], shown["daily_after_days"], shown["monthly_after_days"]) == (
        60,
        3,
        30,
    )
    assert main(["models", "retention", "churn", "--monthly-after-days", "2", *remote]) == 2
    assert "monthly_after_days=2" in capsys.readouterr().err
