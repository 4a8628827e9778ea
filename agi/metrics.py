"""Decision latency: from the end of the AGI environment to Asterisk acknowledging the
`SET VARIABLE DIALER_ACTION` of the decision. Exported to Prometheus and kept in memory
(a bounded window) so a benchmark can report percentiles without scraping."""

from __future__ import annotations

from collections import deque

import numpy as np
from prometheus_client import Histogram

# Decisions normally take milliseconds; the tail reaches the connect window (about 2 s).
_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)

DECISION_SECONDS = Histogram(
    "dialer_agi_decision_seconds",
    "Time from the AGI request to the decision being set on the channel",
    labelnames=("route",),
    buckets=_BUCKETS,
)


class DecisionLatencies:
    """Records one observation per decision into the histogram and a recent-samples window."""

    def __init__(self, histogram: Histogram | None = None, window: int = 100_000) -> None:
        self._histogram = DECISION_SECONDS if histogram is None else histogram
        self._window = window
        self._samples: dict[str, deque[float]] = {}

    def observe(self, route: str, seconds: float) -> None:
        self._histogram.labels(route=route).observe(seconds)
        samples = self._samples.get(route)
        if samples is None:
            samples = self._samples[route] = deque(maxlen=self._window)
        samples.append(seconds)

    def samples(self, route: str) -> list[float]:
        """The most recent observations for `route`, oldest first."""
        return list(self._samples.get(route, ()))

    def quantiles(self, route: str, *qs: float) -> list[float]:
        """Quantiles (0..1) of the recent samples; NaN when there are none."""
        samples = self._samples.get(route)
        if not samples:
            return [float("nan")] * len(qs)
        return [float(v) for v in np.quantile(np.fromiter(samples, dtype=float), qs)]

    def clear(self) -> None:
        self._samples.clear()
