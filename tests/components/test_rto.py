"""The RTO arithmetic (pure), its validation in parse_settings and its `rtoBudget` export."""

from __future__ import annotations

import copy
import itertools

import pytest

from components import rto
from components.config import ConfigError, parse_settings
from offline.runner import StackGraph, load_stack_config

EXAMPLE = {"probe_interval_seconds": 10, "consecutive_failures": 3, "health_check_interval_seconds": 10, "health_check_failure_threshold": 3}


@pytest.mark.parametrize(
    ("settings", "writes", "traffic"),
    [
        # The example stacks: one evaluation finds 3 failures 10 s apart.
        (EXAMPLE, 60 + 3 + 20 + 12 + 2, 60 + 60),
        # Tightest allowed settings: the writer alarm period and the TTL dominate traffic.
        ({**EXAMPLE, "probe_interval_seconds": 5, "consecutive_failures": 2, "health_check_failure_threshold": 1}, 60 + 3 + 5 + 8 + 2, 60 + 60),
        # Slow Route 53 checks: 30 s x 3 passing checks outlast the writer alarm.
        ({**EXAMPLE, "health_check_interval_seconds": 30}, 97, 90 + 60),
        # 30 s pauses: only two failing probes fit in a minute, the third comes with the next tick.
        ({**EXAMPLE, "probe_interval_seconds": 30}, 120 + 3 + 0 + 4 + 2, 120),
        # One probe per minute: the threshold counts minutes.
        ({**EXAMPLE, "probe_interval_seconds": 60, "consecutive_failures": 5}, 300 + 3 + 0 + 4 + 2, 120),
    ],
)
def test_failover_budget_table(settings: dict[str, int], writes: int, traffic: int) -> None:
    budget = rto.failover_budget(**settings)
    assert (budget.writes_seconds, budget.traffic_seconds) == (writes, traffic)
    assert budget.total_seconds == writes + traffic


def test_example_breakdown_names_every_input() -> None:
    budget = rto.failover_budget(**EXAMPLE)
    assert [(t.name, t.seconds) for t in budget.writes] == [
        ("schedule", 60),
        ("invocation_start", 3),
        ("probe_pauses", 20),
        ("failed_probes", 12),
        ("decision", 2),
    ]
    assert [(t.name, t.seconds) for t in budget.traffic] == [("health_checks", 60), ("dns_ttl", 60)]
    assert budget.total_seconds == 217


def test_reference_design_is_the_blog_posts_arithmetic() -> None:
    budget = rto.reference_design_budget()
    assert [t.seconds for t in budget.writes] == [30 * 3, 2 * 60]
    assert [t.seconds for t in budget.traffic] == [300]
    assert budget.total_seconds == 510
    assert rto.failover_budget(**EXAMPLE).total_seconds < budget.total_seconds


@pytest.mark.parametrize(("failures", "interval"), list(itertools.product(range(2, 11), (5, 10, 20, 30, 45, 60))))
def test_failing_probes_never_outlast_the_schedule_period(failures: int, interval: int) -> None:
    # With reserved concurrency 1 an evaluation that runs into the next tick gets that tick throttled.
    probes = rto.probes_per_invocation(consecutive_failures=failures, probe_interval_seconds=interval)
    assert 1 <= probes <= failures
    duration = rto.INVOCATION_START_SECONDS + probes * rto.failed_probe_seconds() + (probes - 1) * interval
    assert duration <= rto.SCHEDULE_PERIOD_SECONDS


def test_a_probe_longer_than_the_schedule_is_refused() -> None:
    with pytest.raises(rto.RtoError, match="does not fit"):
        rto.probes_per_invocation(consecutive_failures=3, probe_interval_seconds=10, probe_timeout_seconds=40)


def test_writer_alarm_period_matches_the_alarm_route53_follows() -> None:
    from components.traffic import WRITER_ALARM_PERIOD_SECONDS

    assert rto.WRITER_ALARM_PERIOD_SECONDS == WRITER_ALARM_PERIOD_SECONDS


def _raw(stack: str, **failover: object) -> dict[str, object]:
    raw = {key.split(":", 1)[1]: value for key, value in copy.deepcopy(load_stack_config(stack)).items() if key.startswith("magento-dr:")}
    raw["failover"] = {**raw["failover"], **failover}  # type: ignore[dict-item]
    return raw


def test_parse_settings_rejects_an_objective_below_the_budget() -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings("primary", _raw("primary", rtoSeconds=216))
    message = str(error.value)
    assert "magento-dr:failover.rtoSeconds is 216s" in message
    assert "217s" in message and "probeIntervalSeconds" in message


def test_parse_settings_accepts_an_objective_equal_to_the_budget() -> None:
    assert parse_settings("primary", _raw("primary", rtoSeconds=217)).failover.rto_seconds == 217


def test_slow_detection_settings_are_rejected_against_the_default_objective() -> None:
    # 10 one-a-minute probes: ten minutes to detect, far beyond the example's 300 s objective.
    with pytest.raises(ConfigError, match="rtoSeconds"):
        parse_settings("primary", _raw("primary", probeIntervalSeconds=60, consecutiveFailures=10))


def test_rto_budget_is_exported_per_stack(stack: StackGraph) -> None:
    exported = stack.exports["rtoBudget"]
    settings = stack.config["magento-dr:failover"]
    expected = rto.failover_budget(
        probe_interval_seconds=settings["probeIntervalSeconds"],
        consecutive_failures=settings["consecutiveFailures"],
        health_check_interval_seconds=settings["healthCheckIntervalSeconds"],
        health_check_failure_threshold=settings["healthCheckFailureThreshold"],
    )
    assert exported["total_seconds"] == expected.total_seconds == 217
    assert exported["objective_seconds"] == settings["rtoSeconds"] >= exported["total_seconds"]
    assert [t["name"] for t in exported["breakdown"]["writes"]] == [t.name for t in expected.writes]
    assert sum(t["seconds"] for t in exported["breakdown"]["traffic"]) == exported["traffic_seconds"]
    assert exported["aurora_promotion_typical_seconds"] == 60
    assert exported["aurora_promotion_source"].startswith("https://")
