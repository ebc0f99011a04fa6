"""Stored feature importances and per-window attributions, by model version and run."""
