"""The readiness function, its schedule, its read-only role, the not-ready alarm and the DR dashboard, in both stacks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from components.contracts import DECISION_ACTIONS, FAILOVER_METRICS, LEASE_BLOCKED_METRIC, READINESS_CHECKS, WRITER_METRIC
from components.dashboard import DashboardScope, dashboard_body
from components.failover_iam import NO_RESOURCE_LEVEL_ACTIONS
from components.readiness import alarm_periods, schedule_expression
from components.readiness_iam import IAM_ACTION_OVERRIDES, ReadinessScope, readiness_policy
from emulator.iam_policy import Request, evaluate
from handlers.settings import ReadinessSettings
from offline.runner import Resource, StackGraph

ADAPTER = Path(__file__).resolve().parents[2] / "handlers" / "readiness_aws.py"
CLIENTS = {
    "rds": "rds", "peer_rds": "rds", "ssm": "ssm", "peer_ssm": "ssm", "secretsmanager": "secretsmanager", "autoscaling": "autoscaling",
    "elasticache": "elasticache", "opensearch": "opensearch", "s3": "s3", "cloudwatch": "cloudwatch", "scheduler": "scheduler",
    "awslambda": "lambda", "route53": "route53",
}
PLATFORM_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}  # the Lambda platform writes the function's logs


def _function(stack: StackGraph) -> Resource:
    return stack.one("aws:lambda/function:Function", "readiness-function")


def _env(stack: StackGraph) -> dict[str, str]:
    return {k: str(v) for k, v in _function(stack).inputs["environment"]["variables"].items()}


def _policy(stack: StackGraph) -> dict[str, Any]:
    raw = stack.one("aws:iam/rolePolicy:RolePolicy", "readiness-policy").inputs["policy"]
    return json.loads(raw) if isinstance(raw, str) else dict(raw)


def adapter_calls() -> set[tuple[str, str]]:
    return set(re.findall(r"self\.(" + "|".join(CLIENTS) + r")\.([a-z_]+)\(", ADAPTER.read_text()))


def iam_action(client: str, method: str) -> str:
    service = CLIENTS[client]
    operation = boto3.client(service, region_name="us-east-1").meta.method_to_api_mapping[method]  # type: ignore[call-overload]
    action = f"{service}:{operation}"
    return IAM_ACTION_OVERRIDES.get(action, action)


def _granted(policy: dict[str, Any]) -> set[str]:
    return {a for s in policy["Statement"] for a in s["Action"]}


# ---------------------------------------------------------------- the function
def test_the_readiness_function_is_the_failover_package_with_its_own_entry_point_and_no_reservation(stack: StackGraph) -> None:
    fn = _function(stack)
    failover = stack.one("aws:lambda/function:Function", "failover-function")
    assert fn.inputs["handler"] == "handlers.failover.readiness_handler"
    assert (fn.inputs["runtime"], fn.inputs["architectures"]) == (failover.inputs["runtime"], failover.inputs["architectures"])
    assert fn.inputs["role"] != failover.inputs["role"], "its own role"
    # Never competes for the failover function's single slot, and reserves nothing of the account's pool.
    assert "reservedConcurrentExecutions" not in fn.inputs and fn.inputs["timeout"] == 60


def test_its_environment_is_what_the_handler_reads_and_fits_lambdas_4_kb(stack: StackGraph) -> None:
    env = _env(stack)
    settings = ReadinessSettings.from_env(env)
    assert settings.home_region == "us-east-1" and settings.failover_schedule == f"magento-dr-{stack.stack}-failover-evaluate"
    assert settings.failover_function == stack.exports["failoverFunctionName"]
    assert dict(settings.health_check_ids) == stack.exports["healthCheckIds"]
    assert settings.secret_role == ("owner" if stack.stack == "primary" else "replica")
    assert settings.search_domain and settings.media_bucket == stack.exports["mediaBucketName"]
    # "The total size of all environment variables doesn't exceed 4 KB" (Lambda quotas).
    assert len(json.dumps(env, separators=(",", ":"))) < 4096


def test_the_declared_parameters_are_the_ones_the_digest_covers(stack: StackGraph) -> None:
    from handlers.readiness import parameter_digest

    s = ReadinessSettings.from_env(_env(stack))
    digest = parameter_digest(stack.exports["dbEngineVersion"], dict(s.cluster_parameters), dict(s.instance_parameters))
    assert digest == stack.exports["dbParameterDigest"]


def test_the_schedule_runs_it_every_few_minutes_in_this_region(stack: StackGraph) -> None:
    schedule = stack.one("aws:scheduler/schedule:Schedule", "readiness-schedule")
    assert schedule.inputs["scheduleExpression"] == "rate(5 minutes)" and schedule.region == stack.exports["region"]
    target = schedule.inputs["target"]
    assert json.loads(target["input"])["action"] == "readiness"
    assert target["arn"] == _function(stack).outputs["arn"] and target["retryPolicy"]["maximumRetryAttempts"] == 0
    trust = json.loads(stack.one("aws:iam/role:Role", "readiness-scheduler-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceArn"].endswith(":schedule/default/magento-dr-" + stack.stack + "-readiness-evaluate")


@pytest.mark.parametrize(("minutes", "expression"), [(1, "rate(1 minute)"), (5, "rate(5 minutes)"), (60, "rate(60 minutes)")])
def test_schedule_expression(minutes: int, expression: str) -> None:
    assert schedule_expression(minutes) == expression


def test_the_not_ready_alarm_notifies_once_after_the_configured_time_and_on_recovery(stack: StackGraph) -> None:
    alarm = stack.one("aws:cloudwatch/metricAlarm:MetricAlarm", "readiness-not-ready")
    i = alarm.inputs
    assert (i["namespace"], i["metricName"], i["dimensions"]) == ("MagentoDR", "Ready", {"Stack": stack.stack, "Region": stack.exports["region"]})
    assert (i["statistic"], i["comparisonOperator"], i["threshold"]) == ("Minimum", "LessThanThreshold", 1)
    # 15 minutes of 5-minute evaluations, every one not ready (or missing: silence is not readiness).
    assert (i["period"], i["evaluationPeriods"], i["datapointsToAlarm"], i["treatMissingData"]) == (300, 3, 3, "breaching")
    assert i["alarmActions"] == i["okActions"] == [stack.exports["notificationTopicArn"]]
    assert stack.exports["readinessAlarmName"] == i["name"] == f"magento-dr-{stack.stack}-not-ready"


def test_alarm_periods_must_divide() -> None:
    assert alarm_periods(5, 15) == 3
    with pytest.raises(ValueError, match="multiple"):
        alarm_periods(5, 16)


# ---------------------------------------------------------------- least privilege
def test_the_adapter_scan_finds_the_calls() -> None:
    calls = adapter_calls()
    assert ("rds", "describe_global_clusters") in calls and ("route53", "get_health_check_status") in calls and len(calls) >= 18


def test_the_role_grants_exactly_what_the_adapter_calls(stack: StackGraph) -> None:
    called = {iam_action(c, m) for c, m in adapter_calls()}
    granted = _granted(_policy(stack))
    assert called - granted == set(), f"called but not granted: {sorted(called - granted)}"
    assert granted - called - PLATFORM_ACTIONS == set(), f"granted but never called: {sorted(granted - called - PLATFORM_ACTIONS)}"


def test_no_wildcard_actions_and_star_only_where_aws_offers_nothing_narrower(stack: StackGraph) -> None:
    for statement in _policy(stack)["Statement"]:
        assert all("*" not in a for a in statement["Action"]), statement["Sid"]
        if statement["Resource"] == "*":
            assert set(statement["Action"]) <= NO_RESOURCE_LEVEL_ACTIONS, statement["Sid"]


def test_it_writes_only_its_metrics_its_result_and_its_digest(stack: StackGraph) -> None:
    docs = [_policy(stack)]
    region, peer = stack.exports["region"], stack.exports["peerRegion"]
    prefix = f"arn:aws:ssm:{region}:123456789012:parameter/magento-dr/{stack.stack}"
    digest = f"arn:aws:ssm:{region}:123456789012:parameter/magento-dr/global-cluster/{stack.exports['globalClusterId']}/parameter-digest"
    writes = [a for s in docs[0]["Statement"] for a in s["Action"] if not a.split(":")[1].startswith(("Describe", "Get", "List"))]
    assert sorted(writes) == ["cloudwatch:PutMetricData", "logs:CreateLogStream", "logs:PutLogEvents", "ssm:PutParameter"]
    assert evaluate(Request("ssm:PutParameter", (f"{prefix}/failover/readiness",)), docs).allowed
    assert evaluate(Request("ssm:PutParameter", (digest,)), docs).allowed
    assert not evaluate(Request("ssm:PutParameter", (digest.replace(f":{region}:", f":{peer}:"),)), docs).allowed, "never the peer's digest"
    for other in ("active", "failover/probes", "failover/operation", "failover/lease"):
        assert not evaluate(Request("ssm:PutParameter", (f"{prefix}/{other}",)), docs).allowed, other
    assert not evaluate(Request("cloudwatch:PutMetricData", ("*",), {"cloudwatch:namespace": "AWS/Lambda"}), docs).allowed
    assert evaluate(Request("cloudwatch:PutMetricData", ("*",), {"cloudwatch:namespace": "MagentoDR"}), docs).allowed


def test_it_reads_the_peers_digest_activation_and_release_in_one_call_on_their_exact_names(stack: StackGraph) -> None:
    from handlers.activation import activation_parameter
    from handlers.readiness import digest_parameter_name

    region, peer, gid = stack.exports["region"], stack.exports["peerRegion"], stack.exports["globalClusterId"]
    (read,) = [s for s in _policy(stack)["Statement"] if s["Sid"] == "ReadThePeersDigestActivationAndRelease"]
    names = (digest_parameter_name(gid), activation_parameter(gid), stack.exports["releaseVersionParameterName"])
    assert read["Action"] == ["ssm:GetParameters"] and read["Resource"] == [f"arn:aws:ssm:{peer}:123456789012:parameter{n}" for n in names]
    (local,) = [s for s in _policy(stack)["Statement"] if s["Sid"] == "ReadThisRegionsReleaseVersion"]
    assert local["Resource"] == [f"arn:aws:ssm:{region}:123456789012:parameter{names[2]}"]
    # Its own region's activation record, read with the failover function's state in one call; never written.
    (state,) = [s for s in _policy(stack)["Statement"] if s["Sid"] == "ReadTheFailoverFunctionsState"]
    assert f"arn:aws:ssm:{region}:123456789012:parameter{names[1]}" in state["Resource"] and state["Action"] == ["ssm:GetParameters"]
    assert not [s for s in _policy(stack)["Statement"] if "ssm:PutParameter" in s["Action"] and any(names[1] in r for r in s["Resource"])]
    # The two calls exactly as the adapter makes them (every name of a GetParameters call must be allowed).
    docs, arn = [_policy(stack)], lambda r, name: f"arn:aws:ssm:{r}:123456789012:parameter{name}"
    prefix = f"/magento-dr/{stack.stack}"
    local = (f"{prefix}/active", f"{prefix}/failover/probes", f"{prefix}/failover/operation", names[1])
    assert evaluate(Request("ssm:GetParameters", tuple(arn(region, n) for n in local)), docs).allowed
    assert evaluate(Request("ssm:GetParameters", tuple(arn(peer, n) for n in names)), docs).allowed
    assert not evaluate(Request("ssm:GetParameters", (arn(peer, f"{prefix}/active"),)), docs).allowed, "nothing else of the peer's"


def test_a_scope_without_optional_tiers_grants_nothing_for_them() -> None:
    scope = ReadinessScope(
        partition="aws", account_id="123456789012", region="eu-west-1", peer_region="us-east-1", global_cluster_id="g",
        cluster_arn="arn:aws:rds:eu-west-1:123456789012:cluster:c", cluster_parameter_group="cpg", instance_parameter_group="pg",
        ssm_prefix="/magento-dr/s", metric_namespace="MagentoDR", log_group_arn="arn:aws:logs:eu-west-1:123456789012:log-group:l",
        secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:s", failover_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:f",
        failover_schedule_arn="arn:aws:scheduler:eu-west-1:123456789012:schedule/default/e", health_check_ids=("hc",),
    )
    policy = readiness_policy(scope)
    assert not _granted(policy) & {"es:DescribeDomain", "s3:GetReplicationConfiguration", "elasticache:DescribeGlobalReplicationGroups", "ssm:GetParameter"}
    (peer,) = [s for s in policy["Statement"] if s["Sid"] == "ReadThePeersDigestActivationAndRelease"]
    assert peer["Resource"] == [
        "arn:aws:ssm:us-east-1:123456789012:parameter/magento-dr/global-cluster/g/parameter-digest",
        "arn:aws:ssm:us-east-1:123456789012:parameter/magento-dr/activation/g",
    ], "the digest and the activation record, no release version"


# ---------------------------------------------------------------- the dashboard
def _body(stack: StackGraph) -> dict[str, Any]:
    dashboard = stack.one("aws:cloudwatch/dashboard:Dashboard")
    assert dashboard.inputs["dashboardName"] == stack.exports["drDashboardName"] == f"magento-dr-{stack.stack}-dr"
    body: dict[str, Any] = json.loads(dashboard.inputs["dashboardBody"])
    return body


def _metrics(body: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """(widget region, metric row) of every graphed metric; expressions come back as ("expr", row)."""
    out = []
    for w in body["widgets"]:
        if w["type"] == "metric":
            out += [(w["properties"]["region"], row) for row in w["properties"]["metrics"]]
    return out


def test_every_graphed_metric_is_one_the_program_or_aws_publishes_for_this_stack(stack: StackGraph, primary: StackGraph, secondary: StackGraph) -> None:
    region, peer = stack.exports["region"], stack.exports["peerRegion"]
    ours = {WRITER_METRIC, LEASE_BLOCKED_METRIC, "Ready", "ReadinessCheck", *FAILOVER_METRICS}
    functions = {f.inputs["name"] for f in stack.of_type("aws:lambda/function:Function")}
    domain = next(d.inputs["domainName"] for d in stack.of_type("aws:opensearch/domain:Domain"))
    buckets = {primary.exports["mediaBucketName"], secondary.exports["mediaBucketName"]}
    rules = {r["id"] for c in secondary.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig") for r in c.inputs["rules"]}
    seen: set[str] = set()
    for widget_region, row in _metrics(_body(stack)):
        if isinstance(row[0], dict):  # a SEARCH expression over our namespace in the peer region
            expr = row[0]["expression"]
            assert widget_region == peer and "MagentoDR" in expr and f'MetricName="{WRITER_METRIC}"' in expr and f'Region="{peer}"' in expr, expr
            continue
        namespace, name, *rest = row
        dims = dict(zip(rest[0::2], rest[1::2], strict=False)) if not isinstance(rest[-1] if rest else None, dict) else dict(
            zip(rest[:-1][0::2], rest[:-1][1::2], strict=False))
        seen.add(f"{namespace}:{name}")
        if namespace == "MagentoDR":
            assert name in ours and widget_region == region and dims["Stack"] == stack.stack and dims["Region"] == region, row
            assert dims.get("Check", READINESS_CHECKS[0]) in READINESS_CHECKS and dims.get("Action", DECISION_ACTIONS[0]) in DECISION_ACTIONS
        elif namespace == "AWS/Lambda":
            assert dims["FunctionName"] in functions, row
        elif namespace == "AWS/RDS":
            assert dims["DBClusterIdentifier"] == stack.exports["dbClusterId"] and dims.get("SourceRegion", peer) == peer, row
        elif namespace == "AWS/Route53":
            assert widget_region == "us-east-1" and dims["HealthCheckId"] in stack.exports["healthCheckIds"].values(), row
        elif namespace == "AWS/ES":
            assert dims == {"DomainName": domain, "ClientId": "123456789012"}, row
        elif namespace == "AWS/S3":
            assert {dims["SourceBucket"], dims["DestinationBucket"]} == buckets and dims["RuleId"] in rules, row
        else:
            raise AssertionError(f"unexpected namespace in {row}")
    # What an on-call engineer needs first is there.
    assert {"MagentoDR:Ready", "MagentoDR:ReadinessCheck", f"MagentoDR:{WRITER_METRIC}", "AWS/RDS:AuroraGlobalDBRPOLag", "AWS/Route53:HealthCheckStatus",
            "MagentoDR:Decision", "MagentoDR:StepFailed", "AWS/ES:ClusterStatus.red", "AWS/S3:OperationsFailedReplication"} <= seen


def test_the_alarm_widget_shows_the_not_ready_alarm_first_and_every_failover_alarm(stack: StackGraph) -> None:
    (widget,) = [w for w in _body(stack)["widgets"] if w["type"] == "alarm"]
    names = [arn.rsplit(":alarm:", 1)[1] for arn in widget["properties"]["alarms"]]
    assert names == [stack.exports["readinessAlarmName"], *stack.exports["failoverAlarmNames"]]


def test_widgets_fit_the_grid_without_overlapping(stack: StackGraph) -> None:
    cells: set[tuple[int, int]] = set()
    for w in _body(stack)["widgets"]:
        assert w["x"] + w["width"] <= 24
        mine = {(x, y) for x in range(w["x"], w["x"] + w["width"]) for y in range(w["y"], w["y"] + w["height"])}
        assert not cells & mine, w
        cells |= mine


def test_the_dashboard_body_builder_without_media_leaves_the_widget_out() -> None:
    scope = DashboardScope(stack="s", region="eu-west-1", peer_region="us-east-1", account_id="1", cluster_id="c", rpo_seconds=60,
                           failover_function="f", readiness_function="r", readiness_parameter="/p", schedule_minutes=5,
                           health_check_ids={"https": "h"}, alarm_arns=())
    titles = [w["properties"].get("title", "") for w in dashboard_body(scope)["widgets"]]
    assert "Media replication" not in titles and "Cache and search" in titles
