"""The Vigil server: REST API under /api/v1, /metrics, /health (FastAPI)."""

from vigil.server.app import create_app, serve
from vigil.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app", "serve"]
