"""Prometheus metrics of the runtime. One registry per service instance so tests and
several in-process services do not collide; `/metrics` serves it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class RuntimeMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.dials = Counter(
            "dialer_dials_total", "Originates sent", ["campaign", "server"], registry=r
        )
        self.outcomes = Counter(
            "dialer_attempt_outcomes_total",
            "Attempts by terminal state",
            ["campaign", "state"],
            registry=r,
        )
        self.abandons = Counter(
            "dialer_abandons_total", "Live answers with no agent in time", ["campaign"], registry=r
        )
        self.connect_latency = Histogram(
            "dialer_answer_to_bridge_seconds",
            "From the AGI request of an answered call to the bridge decision",
            ["campaign"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0),
            registry=r,
        )
        self.pacing_decisions = Counter(
            "dialer_pacing_calls_requested_total",
            "Calls the pacer asked for",
            ["campaign"],
            registry=r,
        )
        self.pacing_tick = Histogram(
            "dialer_pacing_tick_seconds",
            "Duration of one campaign pacing tick",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=r,
        )
        self.blocked = Counter(
            "dialer_compliance_blocked_total",
            "Dials the compliance gate refused",
            ["campaign", "rule"],
            registry=r,
        )
        self.ami_connected = Gauge(
            "dialer_ami_connected",
            "1 when the AMI link is up and logged in",
            ["server"],
            registry=r,
        )
        self.ami_event_age = Gauge(
            "dialer_ami_last_event_age_seconds",
            "Seconds since the last AMI event",
            ["server"],
            registry=r,
        )
        self.agents = Gauge("dialer_agents", "Agents by state", ["campaign", "state"], registry=r)
        self.db_ok = Gauge("dialer_database_ok", "1 when the database is reachable", registry=r)
        self.pending_writes = Gauge(
            "dialer_pending_writes", "Writes waiting for the database", registry=r
        )
