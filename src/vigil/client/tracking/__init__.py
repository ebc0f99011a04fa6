"""Tracking from the user's process: `vigil.start_run`, the run it returns, what it captures (code,
environment, system metrics), and the remote backend it talks to."""
