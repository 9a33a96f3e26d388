"""The Route 53 model: thresholds both ways, the writer alarm, the failover pair failing open."""

from __future__ import annotations

from dataclasses import replace

from drill.topology import HttpsCheck, Topology, WriterAlarm
from drill.traffic import HttpsState, TrafficModel, WriterState, grace_seconds

HTTPS = HttpsCheck("hc", "r.example.com", "/health_check.php", interval_seconds=10, failure_threshold=3)
ALARM = WriterAlarm("w", "a", "MagentoDR", "RegionHoldsWriter", {}, "Maximum", 60, 2, 2, 1.0, "LessThanThreshold", "breaching", "Unhealthy")


def test_inverted_check_reports_the_opposite() -> None:
    h = HttpsState(replace(HTTPS, inverted=True))
    assert not h.healthy
    for _ in range(3):
        h.observe(False)
    assert h.healthy


def test_https_check_needs_threshold_results_in_a_row_both_ways() -> None:
    h = HttpsState(HTTPS)
    for ok, healthy in [(False, True), (False, True), (True, True), (False, True), (False, True), (False, False), (True, False), (True, False), (True, True)]:
        h.observe(ok)
        assert h.healthy is healthy


def test_writer_alarm_insufficient_then_alarm_then_ok() -> None:
    w = WriterState(ALARM, started_at=0)
    w.evaluate(60)
    assert w.state == "INSUFFICIENT_DATA" and not w.healthy
    w.evaluate(120)
    assert w.state == "ALARM"  # two missing periods breach
    w.record(125, 1.0)
    w.evaluate(179)
    assert w.state == "ALARM"  # the period holding the datapoint is not complete yet
    w.evaluate(180)
    assert w.state == "OK" and w.healthy  # one good period of two: not 2-of-2 breaching
    w.record(185, 0.0)
    w.evaluate(240)
    assert w.state == "OK"
    w.evaluate(300)
    assert w.state == "ALARM"


def test_the_stacks_routing(topology: Topology) -> None:
    """Primary: deep check AND writer; secondary: its deep check OR the primary failing (components/traffic.py)."""
    model = TrafficModel(topology, started_at=0)
    p, s = topology.primary.region, topology.secondary.region
    model.step(600, set(), writer_region=p)
    # No writer metric from the primary yet: PRIMARY is unhealthy, and so is SECONDARY (its deep check
    # cannot reach the writer in the other VPC; the inverted check sees the primary answer): fail open.
    assert not model.regions[p].healthy and not model.regions[s].healthy and model.answer == p
    for t in range(0, 660, 60):  # one datapoint in every period, the last one included
        model.record_writer_datapoint(p, t, 1.0)
    model.step(660, set(), writer_region=p)
    assert model.regions[p].healthy and model.answer == p
    model.step(700, {p}, writer_region=p)  # primary dark: its deep check fails after 3 x 10 s, the inverted one passes
    assert model.answer == s and not model.regions[p].healthy and model.regions[s].healthy


def test_grace_is_schedule_plus_alarm_plus_https(topology: Topology) -> None:
    g, why = grace_seconds(topology)
    assert g == 60 + 2 * 60 + 3 * 10 and "210s" in why  # the writer alarm breaches on two empty/zero periods
    slower = replace(topology, secondary=replace(topology.secondary, schedule_period_seconds=120))
    assert grace_seconds(slower)[0] == 270


def _writer_state_after(datapoints: list[float], reading: str, alarm: WriterAlarm = ALARM) -> list[str]:
    """The alarm's state at each boundary from 120 s to 420 s, with one datapoint (1.0) at each given time."""
    w = WriterState(alarm, started_at=0, reading=reading)
    for t in datapoints:
        w.record(t, 1.0)
    states = []
    for boundary in range(120, 421, 60):
        w.evaluate(boundary)
        states.append(w.state)
    return states


# A writer that publishes every minute, but nothing lands in [240, 300): one late or missing evaluation.
ONE_EMPTY_MINUTE = [5, 65, 125, 185, 305, 365]


def test_one_empty_minute_costs_a_single_period_alarm_the_writer_vote_but_not_two_of_two() -> None:
    single = replace(ALARM, evaluation_periods=1, datapoints_to_alarm=1)
    assert _writer_state_after(ONE_EMPTY_MINUTE, "strict", single) == ["OK", "OK", "OK", "ALARM", "OK", "OK"]
    assert _writer_state_after(ONE_EMPTY_MINUTE, "strict") == ["OK"] * 6


def test_a_lookback_reading_fills_a_missing_period_from_older_real_datapoints() -> None:
    single = replace(ALARM, evaluation_periods=1, datapoints_to_alarm=1)
    assert _writer_state_after(ONE_EMPTY_MINUTE, "lookback", single) == ["OK"] * 6
    # A region that stops publishing keeps its stale vote until the evaluation range (N + 2 periods) is empty.
    assert _writer_state_after([5, 65, 125], "lookback", single) == ["OK", "OK", "OK", "OK", "ALARM", "ALARM"]
    assert _writer_state_after([5, 65, 125], "strict", single) == ["OK", "OK", "ALARM", "ALARM", "ALARM", "ALARM"]
