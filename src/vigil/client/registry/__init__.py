"""The registry from the user's process: `vigil.models` (load, register, promote) and the remote
registry the CLI uses over HTTP."""

from vigil.client.registry import api as models

__all__ = ["models"]
