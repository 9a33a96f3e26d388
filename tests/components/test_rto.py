"""The RTO arithmetic (pure), its validation in parse_settings and its `rtoBudget` export."""

from __future__ import annotations

import copy
import itertools

import pytest

from components import rto
from components.config import ConfigError, parse_settings
from components.varnish import MAGENTO_PROBE
from offline.runner import StackGraph, load_stack_config

EXAMPLE = {"probe_interval_seconds": 10, "consecutive_failures": 3, "health_check_interval_seconds": 10, "health_check_failure_threshold": 3}
START = rto.INVOCATION_START_SECONDS
FAILED_PROBE = rto.failed_probe_seconds()
DECISION = rto.DECISION_SECONDS
# The example stacks' failover settings (Pulumi.primary.yaml): writes 79 s, traffic 90 s.
EXAMPLE_STACKS = {"probe_interval_seconds": 10, "consecutive_failures": 7, "health_check_interval_seconds": 10, "health_check_failure_threshold": 3}


# ---------------------------------------------------------------- probes per invocation
@pytest.mark.parametrize(
    ("interval", "probes"),
    [
        (10, 6),  # (60 - 3 - 4) // 10 + 1: probes at 3, 13, ..., 53 s; the last failing one ends at 57 s
        (5, 11),
        (4, 14),  # the shortest cadence a failed probe (2 x 2 s) allows
        (13, 5),
        (20, 3),
        (30, 2),
        (53, 2),  # the second probe just fits: starts at 56 s, a failure ends at 60 s
        (54, 1),
        (60, 1),
    ],
)
def test_probes_per_invocation_fill_the_schedule_period(interval: int, probes: int) -> None:
    assert rto.probes_per_invocation(probe_interval_seconds=interval) == probes


@pytest.mark.parametrize("interval", [4, 5, 7, 10, 11, 13, 15, 20, 29, 30, 45, 53, 54, 60])
def test_probes_never_outlast_the_tick_but_leave_no_room_for_another(interval: int) -> None:
    # With reserved concurrency 1 an evaluation that runs into the next tick gets that tick throttled.
    probes = rto.probes_per_invocation(probe_interval_seconds=interval)
    last_failure_ends = START + (probes - 1) * interval + FAILED_PROBE
    assert last_failure_ends <= rto.SCHEDULE_PERIOD_SECONDS
    assert last_failure_ends + interval > rto.SCHEDULE_PERIOD_SECONDS  # one more would not fit


def test_a_probe_longer_than_the_schedule_is_refused() -> None:
    with pytest.raises(rto.RtoError, match="does not fit"):
        rto.probes_per_invocation(probe_interval_seconds=10, probe_timeout_seconds=40)


def test_a_cadence_shorter_than_a_failed_probe_is_refused() -> None:
    with pytest.raises(rto.RtoError, match="shorter than one failed probe"):
        rto.probes_per_invocation(probe_interval_seconds=3)


# ---------------------------------------------------------------- the budget
@pytest.mark.parametrize(
    ("settings", "writes", "traffic"),
    [
        # Three failures at a 10 s cadence: 6 probes a minute; worst window = one evaluation boundary (10 s + 3 s jitter) + 2 x 10 s.
        (EXAMPLE, 20 + 10 + START + FAILED_PROBE + DECISION, 30 + 60),
        # Tightest allowed settings: detection ~20 s, the TTL dominates.
        (
            {**EXAMPLE, "probe_interval_seconds": 5, "consecutive_failures": 2, "health_check_failure_threshold": 1},
            5 + 10 + START + FAILED_PROBE + DECISION,
            10 + 60,
        ),
        # Slow Route 53 checks: 30 s x 3 failures.
        ({**EXAMPLE, "health_check_interval_seconds": 30}, 39, 90 + 60),
        # 30 s cadence: 2 probes a minute, 30 s apart, and the boundary gap is 30 s too.
        ({**EXAMPLE, "probe_interval_seconds": 30}, 2 * 30 + 30 + START + FAILED_PROBE + DECISION, 90),
        # 13 s cadence: the boundary gap (60 - 4 x 13 = 8 s) is shorter than the cadence; 3 plain gaps are worse.
        ({**EXAMPLE, "probe_interval_seconds": 13}, 3 * 13 + 0 + 0 + FAILED_PROBE + DECISION, 90),
        # One probe per minute: the threshold counts minutes, the jitter counts once.
        ({**EXAMPLE, "probe_interval_seconds": 60, "consecutive_failures": 5}, 5 * 60 + START + FAILED_PROBE + DECISION, 90),
        # More failures than probes per minute: 11 s cadence, 5 probes, boundary gap 16 s crossed twice in 10 gaps.
        ({**EXAMPLE, "probe_interval_seconds": 11, "consecutive_failures": 10}, 8 * 11 + 2 * 16 + START + FAILED_PROBE + DECISION, 90),
    ],
)
def test_failover_budget_table(settings: dict[str, int], writes: int, traffic: int) -> None:
    budget = rto.failover_budget(**settings)
    assert (budget.writes_seconds, budget.traffic_seconds) == (writes, traffic)
    assert budget.total_seconds == max(writes, traffic)
    assert budget.with_typical_promotion_seconds == max(traffic, writes + rto.AURORA_PROMOTION_TYPICAL_SECONDS)


def _simulated_detection(failures: int, interval: int) -> int:
    """Brute force: probe start times over a few ticks, the worst window of `failures` gaps, plus the failed probe.

    Only the first and last evaluation's start offsets change a window's length,
    so the extremes suffice: the window's first evaluation starts at once, the
    later ones as late as the start allowance (or all at once: no jitter).
    """
    probes = rto.probes_per_invocation(probe_interval_seconds=interval)
    period = rto.SCHEDULE_PERIOD_SECONDS
    worst = 0
    for late in (0, START):
        times = [tick * period + (late if tick else 0) + k * interval for tick in range(failures + 2) for k in range(probes)]
        for first in range(probes):  # the last good probe, in the first evaluation
            worst = max(worst, times[first + failures] - times[first])
    return worst + FAILED_PROBE


@pytest.mark.parametrize(("failures", "interval"), list(itertools.product(range(2, 11), (5, 7, 10, 11, 13, 15, 20, 30, 45, 60))))
def test_detection_matches_a_brute_force_of_the_probe_timeline(failures: int, interval: int) -> None:
    budget = rto.failover_budget(**{**EXAMPLE, "probe_interval_seconds": interval, "consecutive_failures": failures})
    assert budget.writes_seconds - DECISION == _simulated_detection(failures, interval)


def test_example_breakdown_names_every_input() -> None:
    budget = rto.failover_budget(**EXAMPLE)
    assert [(t.name, t.seconds) for t in budget.traffic] == [("health_checks", 30), ("dns_ttl", 60)]
    assert [(t.name, t.seconds) for t in budget.writes] == [
        ("probe_cadence", 20),
        ("evaluation_boundary", 10),
        ("start_jitter", 3),
        ("failed_probe", 4),
        ("decision", 2),
    ]
    assert (budget.traffic_seconds, budget.writes_seconds, budget.total_seconds) == (90, 39, 90)
    assert budget.with_typical_promotion_seconds == 99


def test_example_budget_meets_the_issues_90_seconds() -> None:
    assert rto.failover_budget(**EXAMPLE).total_seconds <= 90


def test_traffic_does_not_wait_for_detection_or_promotion() -> None:
    # Slower detection moves only the writes path; the traffic path is Route 53 and the TTL alone.
    slow = rto.failover_budget(**{**EXAMPLE, "probe_interval_seconds": 60, "consecutive_failures": 2})
    assert slow.traffic_seconds == rto.failover_budget(**EXAMPLE).traffic_seconds
    assert slow.total_seconds == slow.writes_seconds > slow.traffic_seconds


def test_reference_design_is_the_blog_posts_arithmetic() -> None:
    budget = rto.reference_design_budget()
    assert [t.seconds for t in budget.writes] == [30 * 3, 2 * 60]
    assert [t.seconds for t in budget.traffic] == [300]
    assert budget.sequential  # its record is rewritten only after the promotion
    assert budget.total_seconds == 510
    assert budget.with_typical_promotion_seconds == 570
    assert rto.failover_budget(**EXAMPLE).total_seconds < budget.total_seconds


def test_explain_names_both_paths_and_how_they_combine() -> None:
    line = rto.failover_budget(**EXAMPLE).explain()
    assert "traffic health_checks 30s + dns_ttl 60s = 90s" in line
    assert "max(90s, 39s) = 90s" in line and "99s with it" in line
    assert "total 210s + 300s = 510s" in rto.reference_design_budget().explain()


def test_writer_alarm_period_matches_the_alarm_route53_follows() -> None:
    from components.traffic import WRITER_ALARM_PERIOD_SECONDS

    assert rto.WRITER_ALARM_PERIOD_SECONDS == WRITER_ALARM_PERIOD_SECONDS


# ---------------------------------------------------------------- the full-page cache
VARNISH_WAIT = MAGENTO_PROBE.threshold * MAGENTO_PROBE.interval_seconds  # 5 good probes 5 s apart: 25 s


def test_redis_adds_nothing_after_the_promotion() -> None:
    assert rto.failover_budget(**EXAMPLE, full_page_cache="redis") == rto.failover_budget(**EXAMPLE)
    assert rto.full_page_cache_terms("redis") == ()


def test_varnish_counts_its_probe_after_the_promotion_beside_the_route53_traffic_path() -> None:
    """A standby's Varnish has seen only failing deep checks: after the promotion it passes pages once `threshold`
    probes have seen the deep check green (tests/components/test_varnish.py measures it with varnishd)."""
    redis = rto.failover_budget(**EXAMPLE_STACKS)
    varnish = rto.failover_budget(**EXAMPLE_STACKS, full_page_cache="varnish")
    assert [(t.name, t.seconds) for t in varnish.after_promotion] == [("varnish_probe", VARNISH_WAIT)] == [("varnish_probe", 25)]
    # The writes path and the traffic path themselves do not change; the pages follow the promotion.
    assert (varnish.writes_seconds, varnish.traffic_seconds, varnish.decision_seconds) == (redis.writes_seconds, redis.traffic_seconds, 79)
    assert (redis.total_seconds, varnish.total_seconds) == (90, 79 + 25)
    assert (redis.with_typical_promotion_seconds, varnish.with_typical_promotion_seconds) == (139, 79 + 60 + 25)
    line = varnish.explain()
    assert "after Aurora's promotion varnish_probe 25s = 25s" in line and "budget max(90s, 79s + 25s) = 104s" in line
    exported = varnish.as_export(300)
    assert exported["after_promotion_seconds"] == 25 and exported["breakdown"]["after_promotion"][0]["name"] == "varnish_probe"


@pytest.mark.parametrize("posture", ["hot", "warm", "pilot-light"])
def test_varnish_counts_its_probe_in_every_posture_and_front_door(posture: str) -> None:
    for front_door in rto.FRONT_DOORS:
        redis = rto.failover_budget(**EXAMPLE_STACKS, posture=posture, front_door=front_door)  # type: ignore[arg-type]
        varnish = rto.failover_budget(**EXAMPLE_STACKS, posture=posture, front_door=front_door, full_page_cache="varnish")  # type: ignore[arg-type]
        promoted = varnish.writes_seconds + rto.AURORA_PROMOTION_TYPICAL_SECONDS
        if front_door == "accelerator":  # the accelerator's traffic path runs beside the promotion and the probe
            assert varnish.total_seconds == varnish.writes_seconds + max(varnish.traffic_seconds, VARNISH_WAIT)
            assert varnish.with_typical_promotion_seconds == max(
                varnish.writes_seconds + max(varnish.traffic_seconds, rto.AURORA_PROMOTION_TYPICAL_SECONDS + VARNISH_WAIT), varnish.capacity_seconds
            )
        else:
            assert varnish.total_seconds == max(varnish.writes_seconds + VARNISH_WAIT, varnish.traffic_seconds, varnish.capacity_seconds)
            assert varnish.with_typical_promotion_seconds == max(varnish.traffic_seconds, promoted + VARNISH_WAIT, varnish.capacity_seconds)
        assert redis.with_typical_promotion_seconds < varnish.with_typical_promotion_seconds <= redis.with_typical_promotion_seconds + VARNISH_WAIT


def test_an_unknown_full_page_cache_is_refused() -> None:
    with pytest.raises(rto.RtoError, match="redis, varnish"):
        rto.failover_budget(**EXAMPLE, full_page_cache="memcached")


def test_a_varnish_stack_is_held_to_the_budget_with_its_probe() -> None:
    raw = _raw("primary", rtoSeconds=90)
    assert parse_settings("primary", raw).failover.rto_seconds == 90  # Magento's built-in cache: 90 s fits
    raw["web"] = {**raw["web"], "fullPageCache": "varnish"}  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match="the worst-case failover takes 104s") as error:
        parse_settings("primary", raw)
    assert "varnish_probe 25s" in str(error.value)
    raw["failover"] = {**raw["failover"], "rtoSeconds": 104}  # type: ignore[dict-item]
    assert parse_settings("primary", raw).web.full_page_cache == "varnish"


# ---------------------------------------------------------------- validation
def _raw(stack: str, **failover: object) -> dict[str, object]:
    raw = {key.split(":", 1)[1]: value for key, value in copy.deepcopy(load_stack_config(stack)).items() if key.startswith("magento-dr:")}
    raw["failover"] = {**raw["failover"], **failover}  # type: ignore[dict-item]
    return raw


def test_parse_settings_rejects_an_objective_below_the_budget() -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings("primary", _raw("primary", rtoSeconds=89))
    message = str(error.value)
    assert "magento-dr:failover.rtoSeconds is 89s" in message
    assert "90s" in message and "healthCheckIntervalSeconds" in message


def test_parse_settings_accepts_an_objective_equal_to_the_budget() -> None:
    assert parse_settings("primary", _raw("primary", rtoSeconds=90)).failover.rto_seconds == 90


def test_slow_detection_settings_are_rejected_against_the_default_objective() -> None:
    # 10 one-a-minute probes: ten minutes to detect, far beyond the example's 300 s objective.
    with pytest.raises(ConfigError, match="rtoSeconds") as error:
        parse_settings("primary", _raw("primary", probeIntervalSeconds=60, consecutiveFailures=10))
    assert "609s" in str(error.value)


def test_slow_route53_checks_are_rejected_against_a_tight_objective() -> None:
    # 30 s x 3 + 60 s TTL = 150 s on the traffic path, whatever the probes do.
    with pytest.raises(ConfigError, match="150s"):
        parse_settings("primary", _raw("primary", rtoSeconds=120, healthCheckIntervalSeconds=30))


# ---------------------------------------------------------------- export
def test_rto_budget_is_exported_per_stack(stack: StackGraph) -> None:
    exported = stack.exports["rtoBudget"]
    settings = stack.config["magento-dr:failover"]
    expected = rto.failover_budget(
        probe_interval_seconds=settings["probeIntervalSeconds"],
        consecutive_failures=settings["consecutiveFailures"],
        health_check_interval_seconds=settings["healthCheckIntervalSeconds"],
        health_check_failure_threshold=settings["healthCheckFailureThreshold"],
    )
    assert exported["total_seconds"] == expected.total_seconds == 90
    assert exported["combined_as"] == "max(traffic, writes)"
    assert exported["total_seconds"] == max(exported["traffic_seconds"], exported["writes_seconds"])
    assert exported["objective_seconds"] == settings["rtoSeconds"] >= exported["total_seconds"]
    for path in ("traffic", "writes"):
        terms = exported["breakdown"][path]
        assert [t["name"] for t in terms] == [t.name for t in getattr(expected, path)]
        assert sum(t["seconds"] for t in terms) == exported[f"{path}_seconds"]
    assert exported["aurora_promotion_typical_seconds"] == 60
    assert exported["aurora_promotion_source"].startswith("https://")
    # The example stacks wait for seven failed probes, 10 s apart (a full minute from the first failed
    # probe to the last) before a data-loss failover: writes 13 + 6 x 10 + 4 + 2 = 79 s, still inside the
    # 90 s traffic path.
    assert exported["writes_seconds"] == 79
    assert exported["with_typical_promotion_seconds"] == max(exported["traffic_seconds"], exported["writes_seconds"] + 60) == 139
