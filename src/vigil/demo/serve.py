"""Serving the demo: an admin token in the demo's store, the address to open, then the server."""

from __future__ import annotations

from collections.abc import Callable

from vigil.api.specs import Scope
from vigil.store.core import Store

Echo = Callable[[str], None]


def demo_token(store_url: str, artifacts_url: str) -> str:
    """A new admin token (owner `demo`) in the demo's store."""
    store = Store.open(store_url, artifacts_url)
    try:
        return store.create_token(Scope.ADMIN, name="demo", owner="demo")
    finally:
        store.close()


def serve_demo(store_url: str, artifacts_url: str, *, host: str, port: int, echo: Echo) -> None:
    """Print the dashboard's address and a token, then serve until interrupted."""
    from vigil.config import Settings
    from vigil.server.app import serve

    token = demo_token(store_url, artifacts_url)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    echo(
        f"\n== Dashboard: http://{shown}:{port}/ui/\n"
        f"Sign in with this admin token (also for the API, as 'Authorization: Bearer ...'):\n"
        f"    {token}\n"
        "Ctrl-C stops the server."
    )
    settings = Settings(store_url=store_url, artifacts_url=artifacts_url, host=host, port=port)
    serve(settings, log_level="warning")
