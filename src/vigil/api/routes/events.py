"""Registry and monitoring events, and the webhook subscriptions and deliveries fed by them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.api.http import segment
from vigil.api.routes.base import V1, Area


class EventRoutes(Area):
    def page(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A page of events after a cursor (`EventsPage`'s JSON)."""
        return dict(self.http.json("GET", f"{V1}/events", params=dict(params)))

    def subscriptions(self) -> list[dict[str, Any]]:
        return list(self.http.json("GET", f"{V1}/events/subscriptions"))

    def subscribe(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.http.json("POST", f"{V1}/events/subscriptions", json=dict(body)))

    def subscription(self, name: str) -> dict[str, Any]:
        return dict(self.http.json("GET", f"{V1}/events/subscriptions/{segment(name)}"))

    def update_subscription(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Replace a subscription; a secret left out and the URL sent back masked are kept."""
        path = f"{V1}/events/subscriptions/{segment(name)}"
        return dict(self.http.json("PUT", path, json=dict(body)))

    def unsubscribe(self, name: str) -> None:
        self.http.request("DELETE", f"{V1}/events/subscriptions/{segment(name)}")

    def deliveries(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        return list(self.http.json("GET", f"{V1}/events/deliveries", params=dict(params)))
