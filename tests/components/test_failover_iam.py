"""The failover function's policy (pure): exactly the handler's AWS calls, on this stack's resources only."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from components.failover_iam import NO_RESOURCE_LEVEL_ACTIONS, FailoverScope, function_policy, scheduler_policy
from emulator.iam_policy import Request, evaluate

HANDLER_ADAPTER = Path(__file__).resolve().parents[2] / "handlers" / "aws.py"
# Client attribute in handlers/aws.py -> boto3 service name.
CLIENTS = {
    "rds": "rds",
    "peer_rds": "rds",
    "ssm": "ssm",
    "peer_ssm": "ssm",
    "sns": "sns",
    "autoscaling": "autoscaling",
    "cloudwatch": "cloudwatch",
    "elasticache": "elasticache",
    "ec2": "ec2",
}
# Calls the stack deliberately does not enable: the best-effort write to the
# peer's active flag runs only with MDR_PEER_SSM_PREFIX, which we leave unset.
NOT_ENABLED = {("peer_ssm", "put_parameter")}
# Permissions the Lambda platform itself uses for this function, not handler calls.
PLATFORM_ACTIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "sqs:SendMessage",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "kms:Decrypt",
    "kms:GenerateDataKey",
}
# What RDS authorizes on the function's behalf while it runs CreateDBInstance (the Service Authorization Reference's
# dependent actions): tags at creation, and Performance Insights' customer managed key.
DEPENDENT_ACTIONS = {"rds:AddTagsToResource", "kms:CreateGrant", "kms:DescribeKey"}

SCOPE = FailoverScope(
    partition="aws",
    account_id="123456789012",
    region="eu-west-1",
    peer_region="us-east-1",
    global_cluster_id="magento-dr-global",
    cluster_arn="arn:aws:rds:eu-west-1:123456789012:cluster:magento-dr-secondary-db",
    asg_name="magento-dr-secondary-web",
    ssm_prefix="/magento-dr/secondary",
    topic_arn="arn:aws:sns:eu-west-1:123456789012:alerts",
    topic_key_arn="arn:aws:kms:eu-west-1:123456789012:key/1111",
    log_group_arn="arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/magento-dr-secondary-failover",
    dead_letter_queue_arn="arn:aws:sqs:eu-west-1:123456789012:dlq",
    run_command_document_arn="arn:aws:ssm:eu-west-1:123456789012:document/magento-dr-secondary-post-failover",
    instance_tag_key="magento-dr:stack",
    instance_tag_value="secondary",
    metric_namespace="MagentoDR",
    cache_global_datastore_id="ldgnf-sessions",
    cache_replication_group_id="magento-dr-secondary-sessions",
    release_parameter_name="/magento-dr/release/shop.example.com/version",
    db_instance_class="db.r7g.large",
    db_instance_parameter_group="magento-dr-secondary-db-instances",
    db_subnet_group="magento-dr-secondary-db",
    db_performance_insights_key_arn="arn:aws:kms:eu-west-1:123456789012:key/db",
    db_instance_tag_keys=("cost-center", "managed-by", "project", "region", "role", "stack"),
)


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return list(policy["Statement"])


def _grants(policy: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    grants: dict[str, list[dict[str, Any]]] = {}
    for statement in _statements(policy):
        for action in statement["Action"]:
            grants.setdefault(action, []).append(statement)
    return grants


def handler_api_calls() -> set[tuple[str, str]]:
    """(client attribute, boto3 method) for every AWS call in the handler's adapter."""
    source = HANDLER_ADAPTER.read_text()
    return set(re.findall(r"self\.(" + "|".join(CLIENTS) + r")\.([a-z_]+)\(", source))


def iam_action(client: str, method: str) -> str:
    service = CLIENTS[client]
    operation = boto3.client(service, region_name="us-east-1").meta.method_to_api_mapping[method]
    return f"{service}:{operation}"


def test_the_adapter_scan_finds_the_promotion_call() -> None:
    # Guards the scan itself: if handlers/aws.py changes shape, this fails before the others pass vacuously.
    assert ("rds", "failover_global_cluster") in handler_api_calls()
    assert len(handler_api_calls()) >= 15


def test_every_handler_call_is_granted() -> None:
    granted = set(_grants(function_policy(SCOPE)))
    missing = sorted(iam_action(c, m) for c, m in handler_api_calls() - NOT_ENABLED if iam_action(c, m) not in granted)
    assert missing == [], f"the handler calls {missing} but the role does not allow it"


def test_nothing_is_granted_the_handler_does_not_call() -> None:
    called = {iam_action(c, m) for c, m in handler_api_calls() - NOT_ENABLED}
    extra = sorted(set(_grants(function_policy(SCOPE))) - called - PLATFORM_ACTIONS - DEPENDENT_ACTIONS)
    assert extra == [], f"granted but never called: {extra}"


def test_no_wildcard_actions_and_star_resources_only_where_aws_offers_nothing_narrower() -> None:
    for statement in _statements(function_policy(SCOPE)):
        for action in statement["Action"]:
            assert "*" not in action, statement["Sid"]
        if statement["Resource"] == "*":
            assert set(statement["Action"]) <= NO_RESOURCE_LEVEL_ACTIONS, statement["Sid"]
        else:
            assert all("*" not in arn.split(":")[4] for arn in statement["Resource"]), "account must never be a wildcard"


def test_put_metric_data_only_into_our_namespace() -> None:
    (statement,) = _grants(function_policy(SCOPE))["cloudwatch:PutMetricData"]
    assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": "MagentoDR"}}


def test_promotion_only_of_this_global_cluster_into_this_regions_cluster() -> None:
    for action in ("rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"):
        (statement,) = _grants(function_policy(SCOPE))[action]
        assert statement["Resource"] == ["arn:aws:rds::123456789012:global-cluster:magento-dr-global", SCOPE.cluster_arn]


def test_describe_clusters_locally_and_only_probe_the_peer_region() -> None:
    resources = [r for s in _grants(function_policy(SCOPE))["rds:DescribeDBClusters"] for r in s["Resource"]]
    assert sorted(resources) == sorted([SCOPE.cluster_arn, "arn:aws:rds:us-east-1:123456789012:cluster:*"])


def test_parameters_only_under_this_stacks_prefix_and_this_regions_activation_record() -> None:
    grants = _grants(function_policy(SCOPE))
    record = "arn:aws:ssm:eu-west-1:123456789012:parameter/magento-dr/activation/magento-dr-global"
    for action in ("ssm:GetParameters", "ssm:PutParameter", "ssm:DeleteParameter"):
        for statement in grants[action]:
            for arn in statement["Resource"]:
                assert arn.startswith("arn:aws:ssm:eu-west-1:123456789012:parameter/magento-dr/secondary/") or arn == record, arn
    (delete,) = grants["ssm:DeleteParameter"]
    assert delete["Resource"] == ["arn:aws:ssm:eu-west-1:123456789012:parameter/magento-dr/secondary/failover/*"]


def test_the_peers_activation_record_is_read_only() -> None:
    peer = "arn:aws:ssm:us-east-1:123456789012:parameter/magento-dr/activation/magento-dr-global"
    writes = [s for action in ("ssm:PutParameter", "ssm:DeleteParameter") for s in _grants(function_policy(SCOPE))[action]]
    assert not any(peer in s["Resource"] for s in writes)
    assert any(peer in s["Resource"] for s in _grants(function_policy(SCOPE))["ssm:GetParameter"])


def test_scaling_only_this_group() -> None:
    (statement,) = _grants(function_policy(SCOPE))["autoscaling:UpdateAutoScalingGroup"]
    assert statement["Resource"] == ["arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/magento-dr-secondary-web"]


def test_send_command_only_our_document_and_instances_tagged_for_this_stack() -> None:
    document, instances = sorted(_grants(function_policy(SCOPE))["ssm:SendCommand"], key=lambda s: "Condition" in s)
    assert document["Resource"] == [SCOPE.run_command_document_arn] and "Condition" not in document
    assert instances["Resource"] == ["arn:aws:ec2:eu-west-1:123456789012:instance/*"]
    assert instances["Condition"] == {"StringEquals": {"ssm:resourceTag/magento-dr:stack": "secondary"}}


def test_publish_only_to_this_topic_through_its_key() -> None:
    grants = _grants(function_policy(SCOPE))
    assert [s["Resource"] for s in grants["sns:Publish"]] == [[SCOPE.topic_arn]]
    (key,) = [g for g in grants["kms:GenerateDataKey"] if g["Resource"] != [SCOPE.db_performance_insights_key_arn]]
    assert key["Resource"] == [SCOPE.topic_key_arn]
    assert key["Condition"] == {"StringEquals": {"kms:ViaService": "sns.eu-west-1.amazonaws.com"}}


def test_cache_failover_only_when_a_datastore_is_configured() -> None:
    (statement,) = _grants(function_policy(SCOPE))["elasticache:FailoverGlobalReplicationGroup"]
    assert "arn:aws:elasticache::123456789012:globalreplicationgroup:ldgnf-sessions" in statement["Resource"]
    without = FailoverScope(**{**SCOPE.__dict__, "cache_global_datastore_id": "", "cache_replication_group_id": ""})
    assert not any(a.startswith("elasticache:") for a in _grants(function_policy(without)))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ssm_prefix": "magento-dr/secondary"}, "ssm_prefix"),
        ({"peer_region": "eu-west-1"}, "peer_region"),
        ({"cache_replication_group_id": ""}, "together"),
    ],
)
def test_scope_validation(change: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FailoverScope(**{**SCOPE.__dict__, **change})


def test_scheduler_may_only_invoke_this_function() -> None:
    policy = scheduler_policy("arn:aws:lambda:eu-west-1:123456789012:function:f", SCOPE.dead_letter_queue_arn)
    grants = _grants(policy)
    assert set(grants) == {"lambda:InvokeFunction", "sqs:SendMessage"}
    function = "arn:aws:lambda:eu-west-1:123456789012:function:f"
    assert grants["lambda:InvokeFunction"][0]["Resource"] == [function, f"{function}:*"]


# ---------------------------------------------------------------- the role as deployed, both stacks together
def _function_role_policies(role_name: str, *graphs: Any) -> list[dict[str, Any]]:
    """Every inline policy on the role, whichever stack declares it (the secondary adds one to the primary's)."""
    return [
        json.loads(p.inputs["policy"])
        for graph in graphs
        for p in graph.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role_name
    ]


@pytest.mark.parametrize("action", ["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"])
@pytest.mark.parametrize("stack_name", ["primary", "secondary"])
def test_each_function_may_promote_its_cluster_whoever_holds_the_writer(action: str, stack_name: str, primary: Any, secondary: Any) -> None:
    """RDS authorizes a `global-cluster` and a `cluster`; whether the cluster is only the target or the
    current writer too is not documented. Each function's role, as both stacks leave it, covers the global
    cluster, its own cluster (the target) and the peer's (the writer it takes over from)."""
    own, peer = (primary, secondary) if stack_name == "primary" else (secondary, primary)
    global_arn = f"arn:aws:rds::123456789012:global-cluster:{own.exports['globalClusterId']}"
    policies = _function_role_policies(own.exports["failoverRoleName"], primary, secondary)
    request = Request(action, (global_arn, own.exports["dbClusterArn"], peer.exports["dbClusterArn"]))
    decision = evaluate(request, policies)
    assert decision.allowed, decision.reason
    # ...and nothing beyond the pair: another cluster in the peer's region is not promotable.
    other = own.exports["dbClusterArn"].replace(own.exports["dbClusterArn"].rsplit(":", 1)[1], "someone-elses-db")
    assert not evaluate(Request(action, (global_arn, other)), policies).allowed


# ---------------------------------------------------------------- adding DB instances before a promotion
def _rds(kind: str, name: str, region: str = "eu-west-1") -> str:
    return f"arn:aws:rds:{region}:123456789012:{kind}:{name}"


def _create_db_instance(resources: tuple[str, ...], database_class: str | None = "db.r7g.large", *, everywhere: bool = False) -> Request:
    """CreateDBInstance as IAM sees it. The Service Authorization Reference lists rds:DatabaseClass on the action's `db` row
    only: the new instance (resources[0]) is authorized with the key; whether the cluster and the groups are too is not said,
    and `everywhere` plays that answer (docs/aws-assumptions.md P10). None: a request whose context lacks the key."""
    keys = {} if database_class is None else {"rds:DatabaseClass": database_class}
    if everywhere:
        return Request("rds:CreateDBInstance", resources, keys)
    return Request("rds:CreateDBInstance", resources, resource_context={resources[0]: keys})


ADD = _create_db_instance(
    (
        _rds("db", "magento-dr-secondary-db-failover-1"),
        SCOPE.cluster_arn,
        _rds("pg", "magento-dr-secondary-db-instances"),
        _rds("subgrp", "magento-dr-secondary-db"),
        _rds("og", "default:aurora-mysql-8-0"),
    ),
)
def _tagging(tags: dict[str, str]) -> dict[str, Any]:
    """The request context of tags given at creation (RDS authorizes them as rds:AddTagsToResource)."""
    return {"aws:TagKeys": sorted(tags), **{f"aws:RequestTag/{key}": value for key, value in tags.items()}}


STACK_TAGS = {"cost-center": "ecommerce", "managed-by": "pulumi", "project": "magento-dr", "region": "eu-west-1", "role": "secondary",
              "stack": "secondary"}
TAGS = _tagging({**STACK_TAGS, "Name": "magento-dr-secondary-db-failover-1", "magento-dr:created-by": "failover-function"})


def test_create_db_instance_on_every_resource_rds_may_authorize_it_against() -> None:
    """The Service Authorization Reference lists db (required) and cluster, og, pg, secgrp, subgrp: whichever RDS
    evaluates for an Aurora instance, this stack's own are allowed (docs/aws-assumptions.md P9)."""
    policies = [function_policy(SCOPE)]
    assert evaluate(ADD, policies).allowed
    for i in range(1, len(ADD.resources)):  # any subset RDS might evaluate
        assert evaluate(_create_db_instance((ADD.resources[0], ADD.resources[i])), policies).allowed


@pytest.mark.parametrize("everywhere", [False, True], ids=["class-on-the-db-only", "class-on-every-resource"])
def test_create_db_instance_only_of_the_stacks_class(everywhere: bool) -> None:
    """A role that can create any class could create the largest (the cost of an outage is bad enough), or one too small to
    carry the shop; rds:DatabaseClass pins the stack's, under either answer to which resources carry the key."""
    policies = [function_policy(SCOPE)]
    decision = evaluate(_create_db_instance(ADD.resources, "db.r7g.large", everywhere=everywhere), policies)
    assert decision.allowed, decision.reason
    for other in ("db.r7g.16xlarge", "db.t4g.medium", "db.R7G.LARGE", None):
        assert not evaluate(_create_db_instance(ADD.resources, other, everywhere=everywhere), policies).allowed, other


@pytest.mark.parametrize(
    ("position", "other"),
    [
        (0, _rds("db", "magento-dr-secondary-db-2")),  # an instance not named as the function names its own
        (0, _rds("db", "someone-else-failover-1")),
        (0, _rds("db", "magento-dr-secondary-db-failover-1", region="us-east-1")),  # never in the peer's region
        (1, _rds("cluster", "someone-elses-db")),
        (2, _rds("pg", "default.aurora-mysql8.0")),
        (3, _rds("subgrp", "default")),
    ],
)
def test_create_db_instance_nowhere_else(position: int, other: str) -> None:
    resources = list(ADD.resources)
    resources[position] = other
    assert not evaluate(_create_db_instance(tuple(resources)), [function_policy(SCOPE)]).allowed


def test_tags_at_creation_the_stacks_default_tags_a_name_and_the_created_by_mark_only() -> None:
    policies = [function_policy(SCOPE)]
    instance = (ADD.resources[0],)
    assert evaluate(Request("rds:AddTagsToResource", instance, TAGS), policies).allowed
    assert evaluate(Request("rds:AddTagsToResource", instance, _tagging({"Name": "x", "magento-dr:created-by": "failover-function"})),
                    policies).allowed  # a subset: ForAllValues
    assert not evaluate(Request("rds:AddTagsToResource", instance, {**TAGS, "aws:RequestTag/magento-dr:created-by": "me"}), policies).allowed
    assert not evaluate(Request("rds:AddTagsToResource", instance, {**TAGS, "aws:TagKeys": [*TAGS["aws:TagKeys"], "owner"]}), policies).allowed
    assert not evaluate(Request("rds:AddTagsToResource", (SCOPE.cluster_arn,), TAGS), policies).allowed
    (statement,) = _grants(function_policy(SCOPE))["rds:AddTagsToResource"]
    keys = statement["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"]
    assert keys == sorted([*STACK_TAGS, "Name", "magento-dr:created-by"]) and not any("*" in k or "?" in k for k in keys)


def test_performance_insights_key_only_through_rds_in_this_region() -> None:
    policies = [function_policy(SCOPE)]
    via = {"kms:ViaService": "rds.eu-west-1.amazonaws.com"}
    for action in ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"):
        assert evaluate(Request(action, (SCOPE.db_performance_insights_key_arn,), via), policies).allowed, action
        assert not evaluate(Request(action, (SCOPE.db_performance_insights_key_arn,)), policies).allowed, action
    assert not evaluate(Request("kms:Decrypt", (SCOPE.topic_key_arn,), via), policies).allowed


def test_without_an_instance_class_the_function_may_only_read_its_instances() -> None:
    scope = FailoverScope(**{**SCOPE.__dict__, "db_instance_class": ""})
    grants = _grants(function_policy(scope))
    assert "rds:CreateDBInstance" not in grants and "rds:AddTagsToResource" not in grants
    assert not any(a.startswith("kms:") and a != "kms:Decrypt" and a != "kms:GenerateDataKey" for a in grants)
    assert evaluate(Request("rds:DescribeDBInstances", (_rds("db", "*"),)), [function_policy(scope)]).allowed
    assert not evaluate(Request("rds:DescribeDBInstances", (_rds("db", "*", region="us-east-1"),)), [function_policy(scope)]).allowed


def test_the_deployed_secondary_role_may_add_exactly_the_instances_its_function_adds(secondary: Any) -> None:
    """The role as the stack leaves it, against the requests the handler sends with the stack's environment."""
    from handlers.aws import failover_instance_request
    from handlers.settings import Settings

    fn = next(f for f in secondary.of_type("aws:lambda/function:Function") if f.inputs.get("name") == secondary.exports["failoverFunctionName"])
    env = {str(k): str(v) for k, v in fn.inputs["environment"]["variables"].items()}
    s = Settings.from_env(env)
    assert s.db_instance_class and s.db_instance_parameter_group and s.db_performance_insights_kms_key
    policies = _function_role_policies(secondary.exports["failoverRoleName"], secondary)
    region, account = s.region, s.local_cluster_arn.split(":")[4]
    subnet_groups = [g.inputs["name"] for g in secondary.of_type("aws:rds/subnetGroup:SubnetGroup")]
    for identifier in s.failover_instance_ids():
        resources = (
            f"arn:aws:rds:{region}:{account}:db:{identifier}",
            s.local_cluster_arn,
            f"arn:aws:rds:{region}:{account}:pg:{s.db_instance_parameter_group}",
            f"arn:aws:rds:{region}:{account}:og:default:aurora-mysql-8-0",
            *(f"arn:aws:rds:{region}:{account}:subgrp:{g}" for g in subnet_groups),
        )
        decision = evaluate(_create_db_instance(resources, s.db_instance_class), policies)
        assert decision.allowed, decision.reason
        assert not evaluate(_create_db_instance(resources, "db.r7g.16xlarge"), policies).allowed
        sent = failover_instance_request(s, identifier, 0)
        tags = _tagging({t["Key"]: t["Value"] for t in sent["Tags"]})
        assert evaluate(Request("rds:AddTagsToResource", resources[:1], tags), policies).allowed
        assert not evaluate(Request("rds:AddTagsToResource", resources[:1], {**tags, "aws:TagKeys": [*tags["aws:TagKeys"], "team"]}),
                            policies).allowed
    via = {"kms:ViaService": f"rds.{region}.amazonaws.com"}
    for action in ("kms:CreateGrant", "kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"):
        assert evaluate(Request(action, (s.db_performance_insights_kms_key,), via), policies).allowed, action
    assert evaluate(Request("rds:DescribeDBInstances", (f"arn:aws:rds:{region}:{account}:db:*",)), policies).allowed
