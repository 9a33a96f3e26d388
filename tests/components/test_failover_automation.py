"""FailoverAutomation in both example stacks (Pulumi mocks): package, function, triggers, alarms, environment."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from components import rto
from components.contracts import METRIC_NAMESPACE, WRITER_METRIC, ssm_prefix
from components.failover_automation import (
    FailoverAutomationArgs,
    handler_archive_files,
    post_failover_document,
)
from components.naming import health_url
from handlers.events import Evaluate, parse_event
from handlers.settings import ENV_VARS, Settings
from offline.runner import Resource, StackGraph
from tests.lag_alarm import expected_reads, lag_alarm_reads

COMPONENT = "magento-dr:index:FailoverAutomation"


def _component(stack: StackGraph) -> Resource:
    return stack.one(COMPONENT, "failover")


def _children(stack: StackGraph) -> list[Resource]:
    return list(stack.descendants(_component(stack)))


def _function(stack: StackGraph) -> Resource:
    return stack.one("aws:lambda/function:Function", "failover-function")


def _environment(stack: StackGraph) -> dict[str, str]:
    return dict(_function(stack).inputs["environment"]["variables"])


def _topic_arn(stack: StackGraph) -> str:
    return str(stack.exports["notificationTopicArn"])


# ---------------------------------------------------------------- packaging
def test_archive_holds_only_the_handler_sources(tmp_path: Path) -> None:
    (tmp_path / "handlers" / "__pycache__").mkdir(parents=True)
    (tmp_path / "handlers" / "tests").mkdir()
    for name in ("__init__.py", "failover.py", "settings.py"):
        (tmp_path / "handlers" / name).write_text("")
    (tmp_path / "handlers" / "__pycache__" / "failover.cpython-311.pyc").write_bytes(b"")
    (tmp_path / "handlers" / "tests" / "test_x.py").write_text("")
    (tmp_path / "handlers" / "test_decide.py").write_text("")
    (tmp_path / "handlers" / "notes.md").write_text("")
    assert sorted(handler_archive_files(tmp_path)) == ["handlers/__init__.py", "handlers/failover.py", "handlers/settings.py"]


def test_archive_refuses_a_tree_without_the_entry_point(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"failover\.py"):
        handler_archive_files(tmp_path)


def test_deployed_archive_is_the_handler_package_and_its_entry_point_imports(primary: StackGraph, tmp_path: Path) -> None:
    archive = _function(primary).inputs["code"]
    assets = {key: Path(asset.path) for key, asset in archive.assets.items()}
    assert set(assets) == set(handler_archive_files())
    assert all(key.startswith("handlers/") and key.endswith(".py") for key in assets)
    bundle = tmp_path / "function.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        for key, path in assets.items():
            zf.write(path, key)
    # Import from the zip alone (isolated mode: no project directory on sys.path), as Lambda would.
    module, attribute = _function(primary).inputs["handler"].rsplit(".", 1)
    check = f"import sys; sys.path.insert(0, {str(bundle)!r}); import {module} as m; assert callable(m.{attribute}); print(m.__file__)"
    result = subprocess.run([sys.executable, "-I", "-c", check], cwd=tmp_path, capture_output=True, text=True, check=False)  # noqa: S603
    assert result.returncode == 0, result.stderr
    assert str(bundle) in result.stdout


# ---------------------------------------------------------------- function
def test_function_runtime_and_limits(stack: StackGraph) -> None:
    inputs = _function(stack).inputs
    runtime = inputs["runtime"]
    assert runtime.startswith("python3.") and int(runtime.split(".")[1]) >= 12
    assert inputs["architectures"] == ["arm64"]
    assert inputs["reservedConcurrentExecutions"] == 1
    assert inputs["handler"] == "handlers.failover.lambda_handler"
    assert inputs["tracingConfig"] == {"mode": "Active"}
    assert inputs["loggingConfig"]["logFormat"] == "JSON"
    # One invocation covers a minute of probing and the whole promotion wait (the wait is not split).
    env = _environment(stack)
    assert inputs["timeout"] >= rto.SCHEDULE_PERIOD_SECONDS + int(env["MDR_PROMOTION_TIMEOUT_SECONDS"]) + 60
    assert inputs["timeout"] <= 900  # Lambda's maximum


def test_probing_covers_the_whole_minute_at_the_configured_cadence(stack: StackGraph) -> None:
    # The handler probes every MDR_PROBE_INTERVAL_SECONDS for MDR_PROBES_PER_INVOCATION rounds, healthy peer or not:
    # the rounds must fill the schedule period, and a last failing probe must still end inside it.
    env = _environment(stack)
    interval, rounds = int(env["MDR_PROBE_INTERVAL_SECONDS"]), int(env["MDR_PROBES_PER_INVOCATION"])
    timeout = int(env["MDR_PROBE_TIMEOUT_SECONDS"])
    assert interval == stack.config["magento-dr:failover"]["probeIntervalSeconds"]
    assert timeout == rto.PROBE_TIMEOUT_SECONDS  # the figure the RTO budget assumes
    last_failure_ends = rto.INVOCATION_START_SECONDS + (rounds - 1) * interval + rto.failed_probe_seconds(timeout)
    assert last_failure_ends <= rto.SCHEDULE_PERIOD_SECONDS < last_failure_ends + interval
    assert rounds == 6  # the example's 10 s cadence


def test_asynchronous_failures_go_to_the_dead_letter_queue(stack: StackGraph) -> None:
    config = stack.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "failover-async")
    queue = stack.one("aws:sqs/queue:Queue", "failover-dead-letters")
    assert config.inputs["destinationConfig"]["onFailure"]["destination"] == queue.outputs["arn"]
    assert config.inputs["maximumRetryAttempts"] == 0
    # Events queued behind a running promotion (reserved concurrency 1) must outlive it.
    assert config.inputs["maximumEventAgeInSeconds"] > _function(stack).inputs["timeout"]
    assert queue.inputs["sqsManagedSseEnabled"] is True


# ---------------------------------------------------------------- triggers
def test_everything_lives_in_the_stacks_own_region(stack: StackGraph) -> None:
    own = stack.exports["region"]
    children = [r for r in _children(stack) if r.custom]
    assert len(children) >= 15
    for resource in children:
        assert resource.region == own, f"{resource.type} {resource.name} is in {resource.region}, not {own}"


def test_schedule_evaluates_every_minute_in_this_region(stack: StackGraph) -> None:
    schedule = stack.one("aws:scheduler/schedule:Schedule", "failover-schedule")
    assert schedule.inputs["scheduleExpression"] == "rate(1 minute)"
    assert schedule.inputs["flexibleTimeWindow"] == {"mode": "OFF"}
    target = schedule.inputs["target"]
    assert target["arn"] == _function(stack).outputs["arn"]
    assert target["deadLetterConfig"]["arn"] == stack.one("aws:sqs/queue:Queue", "failover-dead-letters").outputs["arn"]
    # What the handler receives once Scheduler substitutes its context attributes.
    payload = target["input"]
    context = {"schedule-arn": "arn:aws:scheduler:x", "scheduled-time": "2025-01-01T00:00:00Z", "execution-id": "e-1", "attempt-number": "1"}
    for attribute, value in context.items():
        payload = payload.replace(f"<aws.scheduler.{attribute}>", value)
    assert parse_event(json.loads(payload)) == Evaluate(source="scheduler", event_id="e-1")


def test_scheduler_role_is_assumable_only_by_this_schedule(stack: StackGraph) -> None:
    role = stack.one("aws:iam/role:Role", "failover-scheduler-role")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    schedule = stack.one("aws:scheduler/schedule:Schedule", "failover-schedule")
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    expected = f":{stack.exports['region']}:123456789012:schedule/default/{schedule.inputs['name']}"
    assert statement["Condition"]["StringEquals"]["aws:SourceArn"].endswith(expected)


def _matches(pattern: Any, event: Any) -> bool:
    """EventBridge matching for the subset we use: nested objects and lists of exact values."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(k in event and _matches(v, event[k]) for k, v in pattern.items())
    values = event if isinstance(event, list) else [event]
    return any(v in pattern for v in values)


def test_rds_global_failover_events_reach_the_function(stack: StackGraph) -> None:
    rule = stack.one("aws:cloudwatch/eventRule:EventRule", "failover-rds-events")
    target = stack.one("aws:cloudwatch/eventTarget:EventTarget", "failover-rds-events-target")
    permission = stack.one("aws:lambda/permission:Permission", "failover-rds-events-invoke")
    assert target.inputs["arn"] == _function(stack).outputs["arn"]
    assert permission.inputs["sourceArn"] == rule.outputs["arn"] and permission.inputs["principal"] == "events.amazonaws.com"
    # An RDS "global failover completed" event, as EventBridge delivers it.
    event = {
        "version": "0",
        "id": "6a7e8feb",
        "detail-type": "RDS DB Cluster Event",
        "source": "aws.rds",
        "region": stack.exports["region"],
        "detail": {
            "EventCategories": ["global-failover"],
            "SourceType": "CLUSTER",
            "SourceArn": "arn:aws:rds:x",
            "Message": "done",
            "EventID": "RDS-EVENT-0238",
        },
    }
    assert _matches(json.loads(rule.inputs["eventPattern"]), event)
    assert parse_event(event).rds_event_id == "RDS-EVENT-0238"  # type: ignore[union-attr]
    other = {**event, "detail": {**event["detail"], "EventCategories": ["backup"], "EventID": "RDS-EVENT-0001"}}
    assert not _matches(json.loads(rule.inputs["eventPattern"]), other)


# ---------------------------------------------------------------- environment
def _required(env_vars: dict[str, str]) -> set[str]:
    return {name for name, meaning in env_vars.items() if not meaning.startswith("(optional")}


def test_every_variable_the_handler_requires_is_set(stack: StackGraph) -> None:
    env = _environment(stack)
    assert _required(ENV_VARS) <= set(env), f"missing: {sorted(_required(ENV_VARS) - set(env))}"
    assert set(env) <= set(ENV_VARS), f"the handler does not read: {sorted(set(env) - set(ENV_VARS))}"
    assert all(isinstance(value, str) and value for value in env.values())


def test_the_handlers_own_loader_accepts_the_environment(stack: StackGraph) -> None:
    settings = Settings.from_env(_environment(stack))
    region, peer = stack.exports["region"], stack.exports["peerRegion"]
    assert (settings.region, settings.peer_region, settings.stack) == (region, peer, stack.stack)
    assert settings.peer_health_url == health_url("shop.example.com", peer)
    assert settings.ssm_prefix == ssm_prefix(stack.stack)
    assert settings.local_cluster_arn == stack.exports["dbClusterArn"]
    assert settings.global_cluster_id == stack.exports["globalClusterId"]
    assert settings.asg_name == stack.exports["asgName"]
    assert settings.topic_arn == _topic_arn(stack)
    assert settings.mode == "automatic" and settings.rpo_seconds == 60 and settings.consecutive_failures == 7
    assert settings.min_evidence_seconds == 60  # a full minute from the first failed probe to the last
    assert (settings.cache_failover_timeout_seconds, settings.run_command_timeout_seconds) == (120, 180)
    assert settings.run_command_document == stack.one("aws:ssm/document:Document", "failover-post-failover").inputs["name"]
    assert (settings.instance_tag_key, settings.instance_tag_value) == (stack.exports["instanceTagKey"], stack.exports["instanceTagValue"])
    assert (settings.cache_global_datastore_id, settings.cache_replication_group_id) == (
        stack.exports["cacheGlobalDatastoreId"],
        stack.exports["cacheReplicationGroupId"],
    )
    capacity = stack.exports["productionCapacity"]
    assert (settings.scale_min, settings.scale_desired, settings.scale_max) == (capacity["min_size"], capacity["desired_capacity"], capacity["max_size"])
    assert settings.metric_namespace == METRIC_NAMESPACE


def test_the_instances_the_function_adds_carry_the_tags_of_every_resource_of_the_stack(stack: StackGraph) -> None:
    """The provider's default tags (project, stack, role, region, managed-by and magento-dr:tags) reach the function; the
    function sets Name and the created-by mark itself."""
    provider = next(p for p in stack.resources if p.is_provider and p.inputs.get("region") == stack.exports["region"])
    settings = Settings.from_env(_environment(stack))
    assert dict(settings.db_instance_tags) == provider.inputs["defaultTags"]["tags"]
    assert {"owner", "cost-center", "project", "stack", "role", "region"} <= set(dict(settings.db_instance_tags))


# ---------------------------------------------------------------- permissions (wired)
def test_role_policy_is_scoped_to_this_stacks_resources(stack: StackGraph) -> None:
    policy = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy", "failover-policy").inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert stack.exports["dbClusterArn"] in by_sid["PromoteThisRegionsCluster"]["Resource"]
    assert by_sid["PublishToThisTopic"]["Resource"] == [_topic_arn(stack)]
    assert by_sid["SendThePostFailoverDocument"]["Resource"] == [stack.one("aws:ssm/document:Document", "failover-post-failover").outputs["arn"]]
    assert by_sid["ScaleThisGroupOnly"]["Resource"][0].endswith(f"autoScalingGroupName/{stack.exports['asgName']}")
    assert by_sid["ProbePeerRegionClusters"]["Resource"] == [f"arn:aws:rds:{stack.exports['peerRegion']}:123456789012:cluster:*"]
    role = stack.one("aws:iam/role:Role", "failover-role")
    assert _function(stack).inputs["role"] == role.outputs["arn"]


# ---------------------------------------------------------------- alarms
def _alarms(stack: StackGraph) -> dict[str, Resource]:
    return {r.name.removeprefix("failover-"): r for r in _children(stack) if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"}


def test_every_alarm_notifies_this_regions_topic(stack: StackGraph) -> None:
    alarms = _alarms(stack)
    assert set(alarms) == {"errors", "throttles", "dead-letters", "replication-lag", "writer", "heartbeat", "lease-blocked"}
    for alarm in alarms.values():
        assert alarm.inputs["alarmActions"] == [_topic_arn(stack)], alarm.name
    assert sorted(stack.exports["failoverAlarmNames"]) == sorted(a.inputs["name"] for a in alarms.values())


def test_function_error_and_throttle_alarms(stack: StackGraph) -> None:
    alarms = _alarms(stack)
    for key, metric in (("errors", "Errors"), ("throttles", "Throttles")):
        alarm = alarms[key].inputs
        assert (alarm["namespace"], alarm["metricName"]) == ("AWS/Lambda", metric)
        assert alarm["dimensions"] == {"FunctionName": _function(stack).inputs["name"]}
        assert alarm["threshold"] == 1 and alarm["comparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_replication_lag_alarm_is_the_rpo_on_this_regions_cluster(stack: StackGraph) -> None:
    alarm = _alarms(stack)["replication-lag"].inputs
    # The figures the function judges: both lag metrics under both dimension sets AWS may use.
    assert lag_alarm_reads(alarm) == expected_reads(stack.exports["dbClusterId"], stack.exports["peerRegion"])
    assert alarm["threshold"] == 60 * 1000  # rpoSeconds in the metric's milliseconds
    # Only the current secondary publishes the metric; the writer region's silence is not an alarm.
    assert alarm["treatMissingData"] == "notBreaching"


def test_writer_and_heartbeat_alarms_watch_the_metric_the_handler_publishes(stack: StackGraph) -> None:
    alarms = _alarms(stack)
    for key in ("writer", "heartbeat"):
        alarm = alarms[key].inputs
        assert (alarm["namespace"], alarm["metricName"]) == (METRIC_NAMESPACE, WRITER_METRIC)
        assert alarm["dimensions"] == {"Stack": stack.stack, "Region": stack.exports["region"]}
        assert alarm["treatMissingData"] == "breaching"  # silence is the failure we look for
    assert alarms["writer"].inputs["okActions"] == [_topic_arn(stack)]  # the writer arriving is news too
    assert alarms["heartbeat"].inputs["statistic"] == "SampleCount"
    assert alarms["heartbeat"].inputs["evaluationPeriods"] * alarms["heartbeat"].inputs["period"] == 600
    # As the Route 53 writer alarm: one late or missing datapoint is not news.
    assert alarms["writer"].inputs["evaluationPeriods"] == alarms["writer"].inputs["datapointsToAlarm"] == 2


def test_lease_blocked_alarm_fires_when_evaluations_stay_blocked_longer_than_any_holder_works(stack: StackGraph) -> None:
    from components.failover_automation import longest_lease_hold_seconds

    alarm = _alarms(stack)["lease-blocked"].inputs
    assert (alarm["namespace"], alarm["metricName"]) == (METRIC_NAMESPACE, "FailoverLeaseBlocked")
    assert alarm["dimensions"] == {"Stack": stack.stack, "Region": stack.exports["region"]}
    assert alarm["statistic"] == "Sum" and alarm["threshold"] == 1 and alarm["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["treatMissingData"] == "notBreaching"  # published only by a blocked evaluation
    # Every minute of the longest legitimate hold: the wait for an added DB instance + the promotion wait + both step
    # budgets + one lease TTL.
    env = _environment(stack)
    waits = ("MDR_DB_INSTANCE_TIMEOUT_SECONDS", "MDR_PROMOTION_TIMEOUT_SECONDS", "MDR_CACHE_FAILOVER_TIMEOUT_SECONDS", "MDR_RUN_COMMAND_TIMEOUT_SECONDS")
    hold = sum(int(env[k]) for k in waits) + 120
    assert hold == longest_lease_hold_seconds() == 760
    assert alarm["period"] == 60 and (alarm["datapointsToAlarm"], alarm["evaluationPeriods"]) == (14, 16)

    def fires(minutes: str) -> bool:
        """CloudWatch's M of N over one datapoint a minute: B blocked, '.' no datapoint (not breaching)."""
        n, m = int(alarm["evaluationPeriods"]), int(alarm["datapointsToAlarm"])
        return any(minutes[max(0, end - n):end].count("B") >= m for end in range(1, len(minutes) + 1))

    # A legitimate holder blocks at most one evaluation a minute for 760 s: 13. A stuck one keeps blocking, and an
    # evaluation EventBridge Scheduler dropped or delayed does not reset the count.
    assert not fires("." + "B" * 13 + "...")
    assert fires("B" * 14) and fires("B" * 7 + "." + "B" * 7) and fires("B" * 6 + ".." + "B" * 8)


def test_the_stack_also_alarms_on_s3_replication_failures_in_this_region(stack: StackGraph) -> None:
    # Owned by ReplicatedMediaBucket (it knows the rule ids); the alarm list is complete per stack.
    failed = [r for r in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if r.inputs.get("metricName") == "OperationsFailedReplication"]
    assert failed and all(r.region == stack.exports["region"] and r.inputs["alarmActions"] == [_topic_arn(stack)] for r in failed)


# ---------------------------------------------------------------- run command
def test_post_failover_document_runs_magento_as_the_web_user() -> None:
    document = post_failover_document()
    (step,) = document["mainSteps"]
    assert step["action"] == "aws:runShellScript"
    assert step["inputs"]["workingDirectory"] == "/var/www/magento"
    commands = step["inputs"]["runCommand"]
    assert "sudo -u nginx php bin/magento cache:flush" in commands
    assert "sudo -u nginx php bin/magento indexer:reindex catalogsearch_fulltext" in commands
    assert commands[0] == "set -euo pipefail"  # a failed flush fails the step, and the handler reports it


def test_document_is_deployed_as_a_command_document(stack: StackGraph) -> None:
    document = stack.one("aws:ssm/document:Document", "failover-post-failover")
    assert document.inputs["documentType"] == "Command"
    assert json.loads(document.inputs["content"]) == post_failover_document()


# ---------------------------------------------------------------- args validation
def _args(**change: Any) -> FailoverAutomationArgs:
    base = FailoverAutomationArgs(
        stack="secondary",
        region="eu-west-1",
        peer_region="us-east-1",
        peer_health_url="https://us-east-1.shop.example.com/health_check.php",
        local_health_url="https://eu-west-1.shop.example.com/health_check.php",
        ssm_prefix="/magento-dr/secondary",
        mode="automatic",
        rpo_seconds=60,
        rto_seconds=300,
        consecutive_failures=3,
        probe_interval_seconds=10,
        health_check_interval_seconds=10,
        health_check_failure_threshold=3,
        scale_min=2,
        scale_desired=3,
        scale_max=8,
        topic_arn="t",
        topic_key_arn="k",
        global_cluster_id="g",
        cluster_id="c",
        cluster_arn="arn:aws:rds:eu-west-1:123456789012:cluster:c",
        asg_name="a",
        instance_tag_key="magento-dr:stack",
        instance_tag_value="secondary",
    )
    return dataclasses.replace(base, **change)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"peer_region": "eu-west-1"}, "peer_region"),
        ({"mode": "yolo"}, "mode"),
        ({"ssm_prefix": "/magento-dr/secondary/"}, "ssm_prefix"),
        ({"peer_health_url": "http://us-east-1.shop.example.com/"}, "https"),
        ({"consecutive_failures": 1}, "at least 2"),
        ({"scale_desired": 9}, "min <= desired <= max"),
        ({"cache_global_datastore_id": "ldgnf-x"}, "together"),
        ({"full_page_cache": "memcached"}, "full_page_cache 'memcached'"),
        ({"stack_tags": {"owner": "rds:sre"}}, "magento-dr:tags"),
        ({"stack_tags": {f"k{i}": "v" for i in range(49)}}, "51 tags"),
    ],
)
def test_args_reject_what_would_break_failover(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _args(**change)


def test_valid_args_build() -> None:
    args = _args()
    assert args.probes_per_invocation == 6
    assert args.budget().total_seconds == 90


def test_args_refuse_a_cadence_shorter_than_a_failed_probe() -> None:
    with pytest.raises(rto.RtoError, match="shorter than one failed probe"):
        _args(probe_interval_seconds=3)


# ---------------------------------------------------------------- contract with the handler
def test_handler_publishes_the_writer_metric_the_alarms_watch() -> None:
    source = (Path(__file__).resolve().parents[2] / "handlers" / "runner.py").read_text()
    assert f'"{WRITER_METRIC}"' in source or "WRITER_METRIC" in source


def test_the_failover_functions_environment_leaves_room_for_the_users_tags(stack: StackGraph) -> None:
    """Lambda: "The total size of all environment variables doesn't exceed 4 KB". Config caps the user's tags as JSON
    (MAX_TAGS_JSON_BYTES); everything else the function receives must fit in the rest, with the stack's own tags."""
    import json

    from components.config import FAILOVER_ENV_BASE_BYTES

    env = {str(k): str(v) for k, v in _environment(stack).items()}
    assert len(json.dumps(env, separators=(",", ":"))) <= FAILOVER_ENV_BASE_BYTES, len(json.dumps(env))
