"""Names the stacks and the handler must agree on (the handler cannot import components/)."""

from __future__ import annotations

from components import contracts
from handlers import obs
from handlers.settings import Settings


def test_writer_metric_name_matches() -> None:
    assert obs.WRITER_METRIC == contracts.WRITER_METRIC


def test_metric_namespace_default_matches() -> None:
    assert Settings.__dataclass_fields__["metric_namespace"].default == contracts.METRIC_NAMESPACE


def test_lease_blocked_metric_name_matches() -> None:
    assert obs.LEASE_BLOCKED_METRIC == contracts.LEASE_BLOCKED_METRIC


def test_the_lease_blocked_alarm_is_sized_from_the_handlers_own_lease() -> None:
    from components import failover_automation
    from handlers import lease

    assert failover_automation.LEASE_TTL_SECONDS == lease.LEASE_TTL_SECONDS


def test_the_stacks_alarm_on_the_lag_metrics_the_function_judges() -> None:
    from components import contracts
    from handlers import decide

    assert contracts.LAG_METRICS == decide.LAG_METRICS


def test_the_readiness_metrics_and_checks_match() -> None:
    from handlers import readiness

    assert (readiness.READY_METRIC, readiness.CHECK_METRIC) == (contracts.READY_METRIC, contracts.READINESS_CHECK_METRIC)
    assert readiness.CHECKS == contracts.READINESS_CHECKS


def test_the_dashboards_failover_metrics_are_the_ones_the_function_publishes() -> None:
    import re
    from pathlib import Path

    from handlers.decide import Act

    source = (Path(__file__).resolve().parents[1] / "handlers" / "runner.py").read_text()
    published = set(re.findall(r'metrics\.add\("([A-Za-z]+)"', source))
    assert set(contracts.FAILOVER_METRICS) == published
    assert set(contracts.DECISION_ACTIONS) == {a.value for a in Act}


def test_readiness_judges_the_stacks_heartbeat_window_and_media_rule_ids() -> None:
    from components import failover_automation, media_bucket
    from handlers import readiness

    assert readiness.HEARTBEAT_MINUTES == failover_automation.HEARTBEAT_MINUTES
    assert readiness.replication_rule_id("eu-west-1") == media_bucket.replication_rule_id("eu-west-1")


def test_readiness_knows_the_stacks_placeholder_for_no_release() -> None:
    from components.magento_runtime import NO_RELEASE
    from handlers import readiness

    assert readiness.NO_RELEASE == NO_RELEASE


def test_the_emulator_plays_the_rto_budgets_capacity_figures_by_default() -> None:
    """A DB instance added to a cluster, and a web instance launched by a scale-up, take what the budget says."""
    from components import rto
    from emulator import state

    assert state.DB_INSTANCE_CREATE_SECONDS == rto.DB_INSTANCE_CREATE_SECONDS
    assert sum(t.seconds for t in rto.web_ready_terms()) == state.WEB_INSTANCE_READY_SECONDS


def test_the_failover_function_adds_instances_as_the_stack_declares_its_own() -> None:
    from components import failover_iam, global_database, posture
    from handlers import aws, readiness, settings

    assert aws.DB_ENGINE == global_database.ENGINE
    assert aws.PERFORMANCE_INSIGHTS_RETENTION_DAYS == global_database.PERFORMANCE_INSIGHTS_RETENTION_DAYS
    assert aws.CREATED_BY_TAG == failover_iam.CREATED_BY_TAG
    assert readiness.FAILOVER_INSTANCE_INFIX == failover_iam.FAILOVER_INSTANCE_INFIX
    assert settings.MAX_DB_INSTANCES_TO_ADD == posture.MAX_FAILOVER_DATABASE_INSTANCES
    assert set(readiness.POSTURES) == set(posture.POSTURES)
    assert global_database.PARAMETER_GROUP_FAMILY == "aurora-mysql8.0" and failover_iam.DEFAULT_OPTION_GROUP == "default:aurora-mysql-8-0"


def test_the_activation_record_has_one_name_for_the_stacks_the_gates_and_the_failover_functions() -> None:
    from handlers import activation

    assert activation.activation_parameter("magento-dr-global") == contracts.activation_parameter("magento-dr-global")
