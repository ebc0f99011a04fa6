"""Fixed caps on how many items one request may carry (issue 14: bounded work per request).

The request models declare them (`Field(max_length=...)`), so a longer list or map is a 422
naming the field before any work, and the OpenAPI document shows each cap (maxItems,
maxProperties). Caps that depend on the deployment (rows per upload, request time, backfill
windows) are server settings instead (`vigil.server.settings`).
"""

from __future__ import annotations

MAX_TAGS = 1_000  # tags, params or metrics (name -> value) in one request
MAX_NAMES = 1_000  # names or ids listed in one request (monitors, experiments, addresses)
MAX_MODEL_COLUMNS = 5_000  # columns in one role (features, predictions...) of a model
MAX_METRIC_POINTS = 100_000  # metric points in one log-batch (the client sends 50,000)
MAX_MANIFEST_CHUNKS = 250_000  # chunks of one dataset version (1 TB in 4 MiB chunks)
MAX_HEADERS = 50  # HTTP headers of one webhook channel
MAX_SEGMENT_KEYS = 20  # columns fixed by one monitor's segment target
MAX_PAGE = 10_000  # items one list answer holds; the rest is on the next page

MAX_WINDOWS = 2_000
"""Windows one performance, drift or fairness report, or one KPI series, computes at most. A report
measures every window that holds rows, so a `"1m"` window over years of traffic would be millions
of measurements in one request: it is refused, naming the count, rather than silently coarsened
(the caller chooses the coarser window, and a figure never means another period than the one
asked for)."""
