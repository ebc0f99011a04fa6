"""`client.data`: what the model's logged traffic left, read back: its windows, segments, merged
profile and prediction rows (with their latest labels).

>>> client.data.profile("churn", start=monday, end=tuesday).to_pandas()    # doctest: +SKIP

Its two sides are the client's transports (`HttpTransport`, `LocalTransport`), which satisfy
`vigil.client.transport.Transport`: these calls only shape the arguments.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from vigil.api.specs import WindowOut
from vigil.client.batching import query_params
from vigil.client.transport import Transport
from vigil.profile import DatasetProfile


class Data:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def windows(
        self,
        model: str,
        *,
        version: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        segment: str | None = None,
    ) -> list[WindowOut]:
        """The model's windows (of one segment, `"<column>=<value>"`, or the whole traffic)."""
        params = query_params(version=version, start=start, end=end, segment=segment)
        return self._transport.windows(model, params)

    def segments(self, model: str) -> list[str]:
        """The segment keys (`"<column>=<value>"`) the model has windows for."""
        return self._transport.segments(model)

    def profile(
        self,
        model: str,
        *,
        version: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        segment: str | None = None,
    ) -> DatasetProfile:
        """The merged profile of the model's windows in [start, end) (of one segment, or the
        whole traffic)."""
        params = query_params(version=version, start=start, end=end, segment=segment)
        return self._transport.profile(model, params)

    def predictions(
        self, model: str, *, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> pa.Table:
        """Prediction rows in [start, end) with their latest label (`vigil_label`)."""
        return self._transport.predictions(model, query_params(start=start, end=end))
