from __future__ import annotations

from pathlib import Path

from tests.cli.commands import table
from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from tests.monitor.test_definitions import FILE
from vigil.cli import main
from vigil.store.core import Store


def test_monitors_apply_list_run_and_alerts(
    sqlite_store: Store, tmp_path: Path, capsys: object
) -> None:
    url = sqlite_store.engine.url.render_as_string(hide_password=False)
    opts = ["--store", url, "--artifacts", str(tmp_path / "artifacts")]
    path = tmp_path / "monitors.yaml"
    path.write_text(FILE.replace("model: churn, version: v2", "model: m"))
    assert main(["monitors", "apply", str(path), "--dry-run", *opts]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "would create monitor churn-silence" in out
    assert main(["monitors", "apply", str(path), *opts]) == 0
    assert main(["monitors", "apply", str(path), *opts]) == 0
    assert "nothing to change" in capsys.readouterr().out  # type: ignore[attr-defined]
    assert main(["monitors", "list", *opts]) == 0
    listed = table(capsys.readouterr().out)  # type: ignore[attr-defined]
    assert listed[0][:4] == ["MONITOR", "KIND", "TARGET", "WINDOW"]
    assert ["churn-silence", "no_data", "m", "hour"] in [row[:4] for row in listed]

    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 1))
    client.close()
    run = ["monitors", "run", "--from", T0.isoformat(), "--to", (T0 + 2 * HOUR).isoformat()]
    assert main([*run, "--monitor", "churn-silence", *opts]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "2 windows evaluated, 1 breached" in out
    assert main(["alerts", "list", "--state", "open", *opts]) == 0
    header, row = table(capsys.readouterr().out)  # type: ignore[attr-defined]
    assert header[0] == "ID"
    alert_id = row[0]
    assert "churn-silence" in row
    assert main(["alerts", "ack", alert_id, "--by", "ana", *opts]) == 0
    assert main(["alerts", "resolve", alert_id, "--by", "ana", *opts]) == 0
    assert f"alert {alert_id} resolved" in capsys.readouterr().out  # type: ignore[attr-defined]
    assert main(["alerts", "resolve", alert_id, *opts]) == 2


def test_the_commands_go_to_a_server_with_url(tmp_path: Path, capsys: object) -> None:
    from tests.e2e.live import LiveServer, make_token

    store_url = f"sqlite:///{tmp_path / 'vigil.db'}"
    artifacts = str(tmp_path / "artifacts")
    token = make_token(store_url)
    server = LiveServer(store_url, artifacts, tmp_path / "server.log").start()
    try:
        remote = ["--url", server.url, "--token", token]
        path = tmp_path / "monitors.yaml"
        path.write_text("monitors:\n  - {name: silence, kind: no_data, target: {model: m}}\n")
        assert main(["monitors", "apply", str(path), "--dry-run", *remote]) == 0
        assert "would create monitor silence" in capsys.readouterr().out  # type: ignore[attr-defined]
        assert main(["monitors", "apply", str(path), *remote]) == 0
        assert main(["monitors", "list", *remote]) == 0
        listed = table(capsys.readouterr().out)  # type: ignore[attr-defined]
        assert ["silence", "no_data", "m"] in [row[:3] for row in listed]
        store = Store.open(store_url, artifacts)
        client = client_for(store, tmp_path)
        create_model(client)
        log_hours(client, range(0, 1))
        client.close()
        run = ["monitors", "run", "--from", T0.isoformat(), "--to", (T0 + 2 * HOUR).isoformat()]
        assert main([*run, "--store", store_url, "--artifacts", artifacts]) == 0
        store.close()
        capsys.readouterr()  # type: ignore[attr-defined]
        assert main(["alerts", "list", *remote]) == 0
        alert_id = table(capsys.readouterr().out)[1][0]  # type: ignore[attr-defined]
        assert main(["alerts", "ack", alert_id, "--note", "mine", *remote]) == 0
        assert f"alert {alert_id} acknowledged" in capsys.readouterr().out  # type: ignore[attr-defined]
        assert main(["alerts", "ack", alert_id, *remote]) == 2
        assert main(["monitors", "list", "--url", server.url, "--token", "vgl_wrong"]) == 2
    finally:
        server.stop()
