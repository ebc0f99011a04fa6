"""Monitors, channels and alerts. Their values (`Monitor`, `Channel`, `Alert`, `Plan`) live with
the monitor service, so answers are the server's JSON and the client reads them in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.api.http import segment
from vigil.api.routes.base import V1, Area


class MonitorRoutes(Area):
    def save(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create or replace monitor `name`; the change (`Change`'s JSON)."""
        return dict(self.http.json("PUT", f"{V1}/monitors/{segment(name)}", json=dict(body)))

    def get(self, name: str) -> dict[str, Any]:
        return dict(self.http.json("GET", f"{V1}/monitors/{segment(name)}"))

    def all(self, params: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        return list(self.http.json("GET", f"{V1}/monitors", params=dict(params or {})))

    def delete(self, name: str) -> None:
        self.http.request("DELETE", f"{V1}/monitors/{segment(name)}")

    def apply(self, yaml: str, *, dry_run: bool, prune: bool) -> dict[str, Any]:
        """Apply a monitors file's text (`${NAME}` already expanded); the plan's JSON."""
        body = {"yaml": yaml, "dry_run": dry_run, "prune": prune}
        return dict(self.http.json("POST", f"{V1}/monitors/apply", json=body))

    def run(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Evaluate the closed windows of `{"start", "end", "monitors"}`; the run's JSON."""
        return dict(self.http.json("POST", f"{V1}/monitors/run", json=dict(body)))


class ChannelRoutes(Area):
    def all(self) -> list[dict[str, Any]]:
        return list(self.http.json("GET", f"{V1}/channels"))

    def save(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.http.json("PUT", f"{V1}/channels/{segment(name)}", json=dict(body)))

    def delete(self, name: str) -> None:
        self.http.request("DELETE", f"{V1}/channels/{segment(name)}")


class AlertRoutes(Area):
    def all(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        return list(self.http.json("GET", f"{V1}/alerts", params=dict(params)))

    def get(self, alert_id: int) -> dict[str, Any]:
        return dict(self.http.json("GET", f"{V1}/alerts/{int(alert_id)}"))

    def act(self, alert_id: int, action: str, note: str) -> dict[str, Any]:
        """`ack` or `resolve` an alert (recorded as the token's owner)."""
        if action not in ("ack", "resolve"):
            raise ValueError(f"action must be 'ack' or 'resolve', got {action!r}")
        path = f"{V1}/alerts/{int(alert_id)}/{action}"
        return dict(self.http.json("POST", path, json={"note": note}))
