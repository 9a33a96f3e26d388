"""Names the stacks and the handler must agree on (the handler cannot import components/)."""

from __future__ import annotations

from components import contracts
from handlers import obs
from handlers.settings import Settings
from offline.runner import StackGraph


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


def test_readiness_stores_its_parameter_digest_where_the_role_lets_it() -> None:
    from handlers import readiness

    assert readiness.digest_parameter_name("magento-gdb") == contracts.parameter_digest_parameter("magento-gdb")


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


def test_the_stack_and_the_function_judge_tags_by_the_same_aws_rules() -> None:
    from components import naming
    from handlers import settings

    for name in ("MAX_TAG_KEY_LENGTH", "MAX_TAG_VALUE_LENGTH", "RESERVED_TAG_PREFIXES", "TAG_SYMBOLS", "MAX_TAGS_PER_RESOURCE"):
        assert getattr(settings, name) == getattr(naming, name), name


_MINIMAL = {
    "MDR_STACK": "s", "MDR_REGION": "eu-west-1", "MDR_PEER_REGION": "us-east-1", "MDR_GLOBAL_CLUSTER_ID": "g", "MDR_LOCAL_CLUSTER_ID": "c",
    "MDR_LOCAL_CLUSTER_ARN": "arn:aws:rds:eu-west-1:123456789012:cluster:c", "MDR_PEER_HEALTH_URL": "https://x.example.com/",
    "MDR_ASG_NAME": "a", "MDR_SCALE_MIN": "1", "MDR_SCALE_DESIRED": "1", "MDR_SCALE_MAX": "1", "MDR_SSM_PREFIX": "/p", "MDR_TOPIC_ARN": "t",
}


def test_the_failover_function_adds_instances_as_the_stack_declares_its_own() -> None:
    from components import failover_iam, global_database, naming, posture
    from handlers import aws, readiness, settings

    assert aws.DB_ENGINE == global_database.ENGINE
    assert aws.PERFORMANCE_INSIGHTS_RETENTION_DAYS == global_database.PERFORMANCE_INSIGHTS_RETENTION_DAYS
    assert aws.CREATED_BY_TAG == settings.CREATED_BY_TAG == naming.CREATED_BY_TAG
    assert settings.OWN_TAG_KEYS == naming.FAILOVER_INSTANCE_OWN_TAG_KEYS
    assert readiness.FAILOVER_INSTANCE_INFIX == naming.FAILOVER_INSTANCE_INFIX
    assert settings.Settings.from_env(_MINIMAL | {"MDR_DB_INSTANCES_TO_ADD": "2"}).failover_instance_ids() == tuple(
        naming.failover_instance_identifier("c", n) for n in (1, 2)
    )
    assert settings.MAX_DB_INSTANCES_TO_ADD == posture.MAX_FAILOVER_DATABASE_INSTANCES
    assert set(readiness.POSTURES) == set(posture.POSTURES)
    assert global_database.PARAMETER_GROUP_FAMILY == "aurora-mysql8.0" and failover_iam.DEFAULT_OPTION_GROUP == "default:aurora-mysql-8-0"


# What CreateDBInstance sends (handlers/aws.py) -> the input of the stack's own aws:rds/clusterInstance:ClusterInstance.
INSTANCE_PARITY = {
    "Engine": "engine",
    "DBClusterIdentifier": "clusterIdentifier",
    "DBInstanceClass": "instanceClass",
    "DBParameterGroupName": "dbParameterGroupName",
    "CACertificateIdentifier": "caCertIdentifier",
    "EnablePerformanceInsights": "performanceInsightsEnabled",
    "PerformanceInsightsKMSKeyId": "performanceInsightsKmsKeyId",
    "PerformanceInsightsRetentionPeriod": "performanceInsightsRetentionPeriod",
    "AutoMinorVersionUpgrade": "autoMinorVersionUpgrade",
    "PubliclyAccessible": "publiclyAccessible",
    "CopyTagsToSnapshot": "copyTagsToSnapshot",
}


def test_the_instance_the_function_adds_is_one_the_stack_would_declare(stack: StackGraph) -> None:
    """A promoted cluster whose writer is an instance added in the outage serves the shop as the stack's own would: same
    class, parameter group, CA, Performance Insights (key, retention), engine, upgrades and exposure, and the tags every
    resource of the stack carries. Compared with the stack's own instances, as the function's environment makes it send them."""
    from handlers.aws import failover_instance_request
    from handlers.settings import Settings

    function = next(f for f in stack.of_type("aws:lambda/function:Function") if f.inputs["name"] == stack.exports["failoverFunctionName"])
    settings = Settings.from_env({str(k): str(v) for k, v in function.inputs["environment"]["variables"].items()})
    (identifier,) = settings.failover_instance_ids()[:1]
    sent = failover_instance_request(settings, identifier, 0)
    own = stack.of_type("aws:rds/clusterInstance:ClusterInstance")
    assert own, "the stack declares no instance to compare with"
    for instance in own:
        declared = {request_key: instance.inputs.get(input_key) for request_key, input_key in INSTANCE_PARITY.items()}
        assert {key: sent.get(key) for key in INSTANCE_PARITY} == declared, instance.name
        provider = stack.by_urn(str(instance.provider).rsplit("::", 1)[0])
        tags = {t["Key"]: t["Value"] for t in sent["Tags"]}
        assert tags == {**provider.inputs["defaultTags"]["tags"], "Name": identifier, "magento-dr:created-by": "failover-function"}


def test_the_activation_record_has_one_name_for_the_stacks_the_gates_and_the_failover_functions() -> None:
    from handlers import activation

    assert activation.activation_parameter("magento-dr-global") == contracts.activation_parameter("magento-dr-global")
