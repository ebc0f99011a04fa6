"""Issue 19.2, a fleet of servers: three `vigil server` processes on one PostgreSQL database and
one S3 bucket (moto), behind nginx, with 16 clients logging into shared windows (rows and
profiles, and every third call a profile alone). One server is
killed with SIGKILL mid-run. Checked against the clients' own counts and the receivers' logs:
nothing acknowledged is lost or doubled, each monitor has one result per window and one alert,
each delivery reaches its receiver once, and the killed server's work is taken over by the others.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine

import vigil
from tests.e2e.live import LiveServer, make_token
from tests.fleet.fleet import Receiver, nginx, nginx_or_skip, owner, receiver, upstreams_used
from tests.store.pg import postgres_url
from tests.store.s3 import s3_bucket, s3_endpoint
from tests.waits import patience, wait_until
from vigil.api.client import VigilApi
from vigil.client import Client
from vigil.store.collab_tables import EventDeliveryRow, EventRow
from vigil.store.monitor_tables import AlertRow, MonitorResultRow, MonitorRow

__all__ = ["postgres_url", "s3_bucket", "s3_endpoint"]

pytestmark = pytest.mark.slow

SERVERS = 3
CLIENTS = 16
CALLS = 24  # log calls per client
ROWS = 8  # rows per call
PROFILE_EVERY = 3  # every third call sends a profile only, as a replica that keeps its rows
MODELS = ("m0", "m1", "m2")
MINUTE = dt.timedelta(minutes=1)
WINDOWS = 4  # closed one-minute windows the clients log into
LEASE_SECONDS = 3.0


@dataclass
class Tally:
    """What the server acknowledged to one client, per (model, window start)."""

    rows: Counter[tuple[str, dt.datetime]] = field(default_factory=Counter)
    calls: Counter[tuple[str, dt.datetime]] = field(default_factory=Counter)
    ids: list[str] = field(default_factory=list)
    spooled: int = 0
    done: int = 0


def _fleet_env(endpoint: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if k.startswith("AWS_")},
        "VIGIL_S3_ENDPOINT_URL": endpoint,
        "VIGIL_MONITOR_INTERVAL_SECONDS": "1",
        "VIGIL_EVENTS_INTERVAL_SECONDS": "0.5",
        "VIGIL_WEBHOOK_ALLOW_LOOPBACK": "true",
        "VIGIL_DELIVERY_BACKOFF_SECONDS": "1",
        "VIGIL_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
        "VIGIL_DASHBOARD_WARM_SECONDS": "0",
    }


@pytest.fixture
def servers(
    postgres_url: str, s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> Iterator[tuple[list[LiveServer], str]]:
    nginx_or_skip()
    token = make_token(postgres_url)  # migrates the database before the servers start
    fleet = [
        LiveServer(
            postgres_url,
            f"s3://{s3_bucket}/vigil",
            tmp_path / f"server{i}.log",
            env=_fleet_env(s3_endpoint),
        )
        for i in range(SERVERS)
    ]
    try:
        with ThreadPoolExecutor(SERVERS) as pool:  # a server's start is mostly imports: overlap
            list(pool.map(lambda server: server.start(timeout=60), fleet))
        yield fleet, token
    finally:
        with ThreadPoolExecutor(SERVERS) as pool:
            list(pool.map(lambda server: server.stop(), fleet))


def _client(url: str, token: str, spool: Path) -> Client:
    return Client(url, token=token, spool_dir=spool, retries=5, backoff=0.2, flush_interval=0.5)


def _log_traffic(
    url: str, token: str, index: int, starts: list[dt.datetime], tally: Tally, spool: Path
) -> None:
    with _client(url, token, spool) as client:
        for call in range(CALLS):
            model = MODELS[(index + call) % len(MODELS)]
            start = starts[(index * 7 + call) % len(starts)]
            ids = [f"c{index}-{call}-{i}" for i in range(ROWS)]
            data = {
                "id": ids,
                "x": [float(index + i) for i in range(ROWS)],
                "p": [i % 2 for i in range(ROWS)],
            }
            if call % PROFILE_EVERY == PROFILE_EVERY - 1:
                # A replica sending its window's profile only (no rows): on every backend the
                # server checks it on its event loop and commits it in a group.
                profile = vigil.profile(data, window=(start, start + MINUTE))
                result = client.log_profiles(model, [profile])
            else:
                result = client.log(model, data, timestamp=start + dt.timedelta(seconds=call))
                tally.ids.extend(f"{model}/{i}" for i in ids)
            tally.spooled += result is None  # sent when the server is back (the spool)
            tally.rows[model, start] += ROWS
            tally.calls[model, start] += 1
            tally.done += 1
        deadline = time.monotonic() + patience(30)
        while client.pending and time.monotonic() < deadline:
            client.flush()
            time.sleep(0.2)
        assert client.pending == 0, f"client {index}: {client.pending} calls still spooled"
    assert not (spool / "rejected").exists(), f"client {index}: the server refused spooled calls"


def _monitors(hook: str) -> list[dict[str, object]]:
    grace = {"grace": "PT1H", "window": "1m"}
    volume = [
        {
            "name": f"volume-{m}",
            "kind": "volume",
            "target": {"model": m},
            "threshold": {"type": "static", "upper": 1e9},  # measured, never alerting
            **grace,
        }
        for m in MODELS
    ]
    quiet = {
        "name": "silence",
        "kind": "no_data",
        "target": {"model": "quiet"},
        "channels": [hook],
        **grace,
    }
    return [*volume, quiet]


def test_a_fleet_behind_nginx_loses_and_doubles_nothing_and_survives_a_kill(
    servers: tuple[list[LiveServer], str], postgres_url: str, tmp_path: Path
) -> None:
    fleet, token = servers
    began = time.monotonic()
    engine = create_engine(postgres_url)
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    starts = [now - (WINDOWS + 1 - i) * MINUTE for i in range(WINDOWS)]
    with (
        receiver() as events_hook,
        receiver() as channel_hook,
        nginx([s.port for s in fleet], tmp_path / "nginx") as url,
    ):
        with _client(url, token, tmp_path / "spool-setup") as admin:
            for name in (*MODELS, "quiet"):
                admin.create_model(
                    name, features=["x"], predictions=["p"], id_column="id", window="1m"
                )
            # The quiet model logged once, long enough ago that its later windows are empty.
            admin.log("quiet", {"id": ["q"], "x": [1.0], "p": [1]}, timestamp=starts[0])
            with VigilApi(url, token) as api:
                api.events.subscribe({"name": "all", "url": events_hook.url})
            admin.channels.save(
                {"name": "hook", "config": {"type": "webhook", "url": channel_hook.url}}
            )
            for monitor in _monitors("hook"):
                admin.monitors.create(monitor)

            tallies = [Tally() for _ in range(CLIENTS)]
            errors: list[BaseException] = []

            def run(index: int) -> None:
                try:
                    spool = tmp_path / f"spool-{index}"
                    _log_traffic(url, token, index, starts, tallies[index], spool)
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
            logging_began = time.monotonic()
            for thread in threads:
                thread.start()

            # Mid-run: a new event is held by the receiver while its sender waits for the
            # answer; that sender is killed.
            assert wait_until(lambda: sum(t.done for t in tallies) >= CLIENTS * CALLS // 3, 60)
            events_hook.hold()
            admin.monitors.create({**_monitors("hook")[0], "name": "late"})
            assert events_hook.wait_held(30), "no server sent the held event"
            assert events_hook.held is not None
            assert events_hook.held_peer is not None
            pids = [s.process.pid for s in fleet if s.process is not None]
            victim_pid = owner(pids, events_hook.held_peer, events_hook.port)
            assert victim_pid is not None, "the held request's sender is none of the servers"
            victim = next(s for s in fleet if s.process is not None and s.process.pid == victim_pid)
            killed_at = dt.datetime.now(dt.UTC)
            os.kill(victim_pid, signal.SIGKILL)
            victim.process.wait()  # type: ignore[union-attr]
            done_at_kill = sum(t.done for t in tallies)
            events_hook.release()

            for thread in threads:
                thread.join(patience(120))
            logging_took = time.monotonic() - logging_began
            assert not errors, errors
            assert done_at_kill < CLIENTS * CALLS, "the kill came after the clients were done"

            _nothing_lost_or_doubled(admin, tallies, starts)
            _results_match_the_windows(engine, admin, tallies, starts, killed_at)
            _one_alert_and_each_delivery_once(engine, events_hook, channel_hook, killed_at)

        used = upstreams_used(tmp_path / "nginx")
        errors_log = (tmp_path / "nginx" / "error.log").read_text()[-3000:]
        assert len(used) == SERVERS, (
            f"nginx sent requests to {used}, not to all {SERVERS} "
            f"({[s.port for s in fleet]}); its error log ends: {errors_log}"
        )
    engine.dispose()
    calls = CLIENTS * CALLS
    print(
        f"\nfleet: {SERVERS} servers, {calls} log calls of {ROWS} rows by {CLIENTS} clients in "
        f"{logging_took:.1f}s ({calls / logging_took:.0f} calls/s through nginx, one server "
        f"killed after {done_at_kill}); spooled {sum(t.spooled for t in tallies)}; upstream "
        f"requests {used}; whole test {time.monotonic() - began:.1f}s"
    )


def _nothing_lost_or_doubled(
    admin: Client, tallies: list[Tally], starts: list[dt.datetime]
) -> None:
    rows: Counter[tuple[str, dt.datetime]] = sum((t.rows for t in tallies), Counter())
    calls: Counter[tuple[str, dt.datetime]] = sum((t.calls for t in tallies), Counter())
    for model in MODELS:
        windows = {w.start: w for w in admin.data.windows(model) if w.start in starts}
        assert {s: w.n_rows for s, w in windows.items()} == {
            s: rows[model, s] for s in starts if rows[model, s]
        }, model
        assert {s: w.n_uploads for s, w in windows.items()} == {
            s: calls[model, s] for s in starts if calls[model, s]
        }, model
        for start in starts:
            profile = admin.data.profile(model, start=start, end=start + MINUTE)
            assert profile.n_rows == rows[model, start], (model, start)
        stored = admin.data.predictions(model)
        ids = [f"{model}/{i}" for i in stored["vigil_id"].to_pylist()]
        assert len(ids) == len(set(ids)), f"{model}: doubled prediction rows"
        expected = sorted(i for t in tallies for i in t.ids if i.startswith(f"{model}/"))
        assert sorted(ids) == expected, f"{model}: prediction rows lost or doubled"


def _results_match_the_windows(
    engine: Engine,
    admin: Client,
    tallies: list[Tally],
    starts: list[dt.datetime],
    killed_at: dt.datetime,
) -> None:
    """Every volume monitor's result of each window is the window's final row count, evaluated
    after the kill (late data re-evaluates a window: the surviving servers did)."""
    rows: Counter[tuple[str, dt.datetime]] = sum((t.rows for t in tallies), Counter())

    def results() -> dict[tuple[str, dt.datetime], tuple[float | None, dt.datetime]]:
        with engine.connect() as connection:
            found = connection.execute(
                select(
                    MonitorRow.name,
                    MonitorResultRow.window_start,
                    MonitorResultRow.value,
                    MonitorResultRow.evaluated_at,
                )
                .join(MonitorRow, MonitorRow.id == MonitorResultRow.monitor_id)
                .where(MonitorResultRow.window_start.in_(starts))
            ).all()
        return {(n, s): (v, at) for n, s, v, at in found}

    wanted = {(f"volume-{m}", s): float(rows[m, s]) for m in MODELS for s in starts}

    def settled() -> bool:
        got = results()
        return all(k in got and got[k][0] == v for k, v in wanted.items())

    if not wait_until(settled, 30, interval=0.5):
        got = results()
        stale = {
            f"{name} {start:%H:%M}": f"{got.get((name, start), (None,))[0]} != {rows}"
            for (name, start), rows in wanted.items()
            if got.get((name, start), (None,))[0] != rows
        }
        raise AssertionError(f"results that are not the windows' final row counts: {stale}")
    for key in wanted:
        assert results()[key][1] > killed_at, f"{key} was not re-evaluated after the kill"


def _one_alert_and_each_delivery_once(
    engine: Engine, events_hook: Receiver, channel_hook: Receiver, killed_at: dt.datetime
) -> None:
    with engine.connect() as connection:
        alerts = connection.execute(
            select(AlertRow.id, AlertRow.monitor_name, AlertRow.n_windows)
        ).all()
    assert [a.monitor_name for a in alerts] == ["silence"], alerts
    with engine.connect() as connection:
        breached = connection.execute(
            select(MonitorResultRow.window_start)
            .join(MonitorRow, MonitorRow.id == MonitorResultRow.monitor_id)
            .where(MonitorRow.name == "silence", MonitorResultRow.breached)
        ).all()
    assert alerts[0].n_windows == len(breached)  # each breached window counted once

    def deliveries() -> list[tuple[int, str, int, str | None, int | None]]:
        with engine.connect() as connection:
            return [
                tuple(r)
                for r in connection.execute(
                    select(
                        EventDeliveryRow.id,
                        EventDeliveryRow.state,
                        EventDeliveryRow.attempts,
                        EventDeliveryRow.channel,
                        EventDeliveryRow.subscription_id,
                    ).order_by(EventDeliveryRow.id)
                ).all()
            ]

    assert wait_until(
        lambda: all(d[1] == "sent" for d in deliveries()), 30 + 3 * LEASE_SECONDS, interval=0.5
    ), deliveries()
    with engine.connect() as connection:
        events = connection.execute(select(EventRow.id, EventRow.type)).all()
    types = Counter(t for _, t in events)
    assert types["alert.opened"] == 1, types
    assert types["monitor.created"] == len(MODELS) + 2, types

    to_subscription = [d for d in deliveries() if d[4] is not None]
    to_channel = [d for d in deliveries() if d[3] is not None]
    assert len(to_subscription) == len(events)  # the subscription wants every type
    assert len(to_channel) == 1  # the alert's opening, to its monitor's channel
    got = Counter(r.delivery for r in events_hook.acknowledged)
    assert got == Counter({str(d[0]): 1 for d in to_subscription}), got
    assert sorted(r.body["id"] for r in events_hook.acknowledged) == sorted(i for i, _ in events)
    assert len(channel_hook.acknowledged) == 1, channel_hook.acknowledged
    # The held delivery: its killed sender never recorded its attempt; another server sent it
    # once its lease ran out.
    held = events_hook.held
    assert held is not None
    (attempts,) = [d[2] for d in to_subscription if str(d[0]) == held.delivery]
    assert attempts == 1
    assert events_hook.count(held.delivery) == 1
