"""Experiment tracking and data versioning on the store: runs with params, metrics, tags and
artifacts, the dataset versions they used, and search over them.

Runs are started from the user's process with `vigil.start_run` (`vigil.client.tracking.run`);
the values exchanged with a server are in `vigil.api.tracking`.
"""
