"""A pure model of where Route 53 sends shoppers, built from the health checks the stacks declare.

Every check of both stacks is modelled as declared (drill/topology.py `HealthCheckSpec`):

* **HTTPS**: a probe every `interval` seconds of a regional hostname succeeds iff
  that region is not dark *and holds the writer*: Magento's deep check connects to
  the database through the global writer endpoint, whose addresses are reachable
  only inside the writer's own VPC (the stacks build no network path between the
  regions); the check turns unhealthy after `threshold`
  consecutive failures and healthy again after `threshold` consecutive successes
  (Route 53 uses the same threshold both ways). It starts healthy. An
  *inverted* check reports the opposite.
* **CLOUDWATCH_METRIC** follows its CloudWatch alarm, evaluated at each period
  boundary over the last `evaluation_periods` complete periods; a period's value
  is the alarm's statistic over the datapoints the failover functions published
  in it. ALARM when at least `datapoints_to_alarm` periods breach, else OK. OK is
  healthy, ALARM unhealthy, INSUFFICIENT_DATA (the first full window) per
  `insufficientDataHealthStatus`. Route 53 "monitors the data stream for the
  corresponding alarm instead of monitoring the alarm state" and does not say how
  it reads a missing period, so two readings are played (`reading`):
  ``"strict"`` — a missing period is filled per `treatMissingData` (breaching);
  ``"lookback"`` — as CloudWatch documents its own alarm evaluation ("Configuring
  how CloudWatch alarms treat missing data"): with at least N real datapoints in
  the evaluation range (N + 2 periods here, the documented example's 3 -> 5) the N
  most recent real ones are evaluated; otherwise the missing are filled per
  `treatMissingData`.
* **CALCULATED**: healthy when at least `child_health_threshold` children are.
* **Failover pair**: PRIMARY if its record's check is healthy, else SECONDARY if
  its check is healthy, else PRIMARY (Route 53 fails open).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .topology import HealthCheckSpec, HttpsCheck, Topology, WriterAlarm


@dataclass
class HttpsState:
    spec: HttpsCheck
    passing: bool = True  # the endpoint's own state, before inversion
    streak: int = 0  # consecutive results disagreeing with `passing`
    next_probe_at: float = 0.0

    def observe(self, success: bool) -> None:
        if success == self.passing:
            self.streak = 0
            return
        self.streak += 1
        if self.streak >= self.spec.failure_threshold:
            self.passing = success
            self.streak = 0

    @property
    def healthy(self) -> bool:
        return self.passing != self.spec.inverted


def _breaches(alarm: WriterAlarm, value: float) -> bool:
    ops = {
        "LessThanThreshold": value < alarm.threshold,
        "LessThanOrEqualToThreshold": value <= alarm.threshold,
        "GreaterThanThreshold": value > alarm.threshold,
        "GreaterThanOrEqualToThreshold": value >= alarm.threshold,
    }
    if alarm.comparison not in ops:
        raise ValueError(f"alarm {alarm.name}: comparison {alarm.comparison} is not modelled")
    return ops[alarm.comparison]


READINGS = ("strict", "lookback")
#: Extra periods CloudWatch retrieves beyond EvaluationPeriods (its documented example: 3 -> 5).
LOOKBACK_EXTRA_PERIODS = 2


@dataclass
class WriterState:
    spec: WriterAlarm
    #: (emulator time, value) of every datapoint published to the alarm's metric.
    datapoints: list[tuple[float, float]] = field(default_factory=list)
    state: str = "INSUFFICIENT_DATA"
    evaluated_boundary: float = -math.inf
    started_at: float = 0.0
    reading: str = "strict"

    def record(self, at: float, value: float) -> None:
        self.datapoints.append((at, value))

    def _period_stat(self, lo: float, hi: float) -> float | None:
        values = [v for (t, v) in self.datapoints if lo <= t < hi]
        if not values:
            return None
        if self.spec.statistic == "Maximum":
            return max(values)
        if self.spec.statistic == "Minimum":
            return min(values)
        return sum(values) / len(values)

    def evaluate(self, now: float) -> None:
        period = self.spec.period_seconds
        boundary = math.floor(now / period) * period
        if boundary <= self.evaluated_boundary:
            return
        self.evaluated_boundary = boundary
        n = self.spec.evaluation_periods
        if boundary - self.started_at < period * n:
            return  # not one full evaluation window since the alarm exists
        span = n + (LOOKBACK_EXTRA_PERIODS if self.reading == "lookback" else 0)
        stats = [self._period_stat(boundary - i * period, boundary - (i - 1) * period) for i in range(1, span + 1)]
        real = [s for s in stats if s is not None]
        if self.reading == "lookback" and len(real) >= n:
            evaluated: list[bool] = [_breaches(self.spec, s) for s in real[:n]]
        else:
            window = stats[:n] if self.reading == "strict" else real + [None] * (n - len(real))
            missing_breaches = self.spec.treat_missing_data == "breaching"
            evaluated = [missing_breaches if s is None else _breaches(self.spec, s) for s in window]
        self.state = "ALARM" if sum(evaluated) >= self.spec.datapoints_to_alarm else "OK"

    @property
    def healthy(self) -> bool:
        if self.state == "INSUFFICIENT_DATA":
            return self.spec.insufficient_data_health == "Healthy"
        return self.state == "OK"


@dataclass
class RegionTraffic:
    region: str
    failover_type: str
    record_check: str
    checks: dict[str, HealthCheckSpec]
    https: dict[str, HttpsState]
    writer: dict[str, WriterState]

    def check_healthy(self, key: str) -> bool:
        spec = self.checks[key]
        if spec.kind == "HTTPS":
            return self.https[key].healthy
        if spec.kind == "CLOUDWATCH_METRIC":
            return self.writer[key].healthy
        return sum(1 for c in spec.children if self.check_healthy(c)) >= spec.child_health_threshold

    @property
    def healthy(self) -> bool:
        return self.check_healthy(self.record_check)


class TrafficModel:
    """Advance with `step(now, dark_regions)`; `answer` is the region Route 53 answers with."""

    def __init__(self, topology: Topology, started_at: float, reading: str = "strict") -> None:
        if reading not in READINGS:
            raise ValueError(f"Route 53 reading {reading!r}: one of {READINGS}")
        self.regions: dict[str, RegionTraffic] = {}
        for r in topology.regions:
            self.regions[r.region] = RegionTraffic(
                region=r.region,
                failover_type=r.record.failover_type,
                record_check=r.record.check_key,
                checks=dict(r.health_checks),
                https={k: HttpsState(c.https, next_probe_at=started_at) for k, c in r.health_checks.items() if c.https is not None},
                writer={k: WriterState(c.alarm, started_at=started_at, reading=reading) for k, c in r.health_checks.items() if c.alarm is not None},
            )
        self.primary = next(r for r in self.regions.values() if r.failover_type == "PRIMARY").region
        self.secondary = next(r for r in self.regions.values() if r.failover_type == "SECONDARY").region

    def record_writer_datapoint(self, region: str, at: float, value: float) -> None:
        """A datapoint the function in `region` published to its writer metric (every alarm on it sees it)."""
        for w in self.regions[region].writer.values():
            if w.spec.dimensions.get("Region", region) == region:
                w.record(at, value)

    def step(self, now: float, dark_regions: set[str], writer_region: str | None = None) -> None:
        """Run every health-check probe and alarm evaluation due up to `now`.

        `writer_region` is where the Aurora writer is (None: unknown, e.g. mid-operation,
        when no region's deep check can reach it).
        """
        for r in self.regions.values():
            for h in r.https.values():
                while h.next_probe_at <= now:
                    h.observe(h.spec.target_region not in dark_regions and h.spec.target_region == writer_region)
                    h.next_probe_at += h.spec.interval_seconds
            for w in r.writer.values():
                w.evaluate(now)

    @property
    def answer(self) -> str:
        if self.regions[self.primary].healthy:
            return self.primary
        if self.regions[self.secondary].healthy:
            return self.secondary
        return self.primary  # fails open

    def writer_checks_healthy(self, region: str) -> bool:
        """Whether every CLOUDWATCH_METRIC (writer) check of `region` is healthy."""
        return all(w.healthy for w in self.regions[region].writer.values())

    def health(self) -> dict[str, dict[str, object]]:
        out: dict[str, dict[str, object]] = {}
        for r in self.regions.values():
            row: dict[str, object] = {k: r.check_healthy(k) for k in r.checks if k != r.record_check}
            row["writer_alarm"] = ",".join(w.state for w in r.writer.values())
            row["record_healthy"] = r.healthy
            out[r.region] = row
        return out


def grace_seconds(topology: Topology) -> tuple[float, str]:
    """How long Route 53 may take to follow a change (the writer moving, a region going dark or coming back).

    A function publishes the writer metric at the latest one schedule period later,
    the alarm needs its evaluation window, and an HTTPS check `threshold`
    intervals; Route 53's own propagation is not modelled.
    """
    schedule = max(r.schedule_period_seconds for r in topology.regions)
    alarms = [c.alarm for r in topology.regions for c in r.health_checks.values() if c.alarm is not None]
    checks = [c.https for r in topology.regions for c in r.health_checks.values() if c.https is not None]
    alarm = max(alarms, key=lambda a: a.period_seconds * a.evaluation_periods)
    https = max(checks, key=lambda h: h.interval_seconds * h.failure_threshold)
    g = schedule + alarm.period_seconds * alarm.evaluation_periods + https.interval_seconds * https.failure_threshold
    why = (
        f"schedule {schedule}s + writer alarm {alarm.evaluation_periods}x{alarm.period_seconds}s"
        f" + HTTPS check {https.failure_threshold}x{https.interval_seconds}s = {g:g}s after the writer moved or a region went dark/came back"
    )
    return float(g), why
