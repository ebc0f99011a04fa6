"""Who acts in a process of the user's: the OS user, recorded as the actor of local changes
(runs, registry changes, KPIs, alert acknowledgements). On a server the actor is the token's
owner instead, never this."""

from __future__ import annotations

import getpass
import os


def current_user() -> str:
    """The OS user's name; its numeric id where the system has no name for it (a bare
    container), else "unknown"."""
    try:
        return getpass.getuser()
    except Exception:  # getpass raises OSError or KeyError, by platform, when there is no name
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"
