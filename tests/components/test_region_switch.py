"""RegionSwitchPlan: pure helpers (table-tested) and the whole plan the secondary declares (Pulumi mocks)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from components.config import ConfigError, parse_settings
from components.failover_automation import PROMOTION_TIMEOUT_SECONDS
from components.failover_iam import NO_RESOURCE_LEVEL_ACTIONS
from components.providers import GLOBAL_SERVICES_REGION
from components.region_switch import (
    APPROVAL_TIMEOUT_MINUTES,
    AURORA_TIMEOUT_MINUTES,
    CONTROL_PLANE_REGION,
    PLAN_NAME_MAX_LENGTH,
    PLAN_NAME_RE,
    WILDCARD_RESOURCE_ACTIONS,
    ExecutionScope,
    RegionSwitchPlanArgs,
    activate_workflow,
    execution_policy,
    objective_minutes,
    plan_name,
    plan_read_policy,
    trust_policy,
)
from emulator.iam_policy import Request
from emulator.iam_policy import evaluate as iam_allows
from offline.runner import ProgramFailed, Resource, StackGraph, example_config, load_stack_config, run_stack
from policy.rules import RULE_IDS, evaluate, subjects_from_graph

# Module-scoped fixtures: under `make unit` (pytest-xdist --dist loadgroup) these tests share one worker.
pytestmark = pytest.mark.xdist_group("test_region_switch")

PLAN = "aws:arcregionswitch/plan:Plan"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
COMPONENT = "magento-dr:index:RegionSwitchPlan"
APPROVERS = "arn:aws:iam::123456789012:role/dr-approvers"

PRIMARY_CLUSTER = "arn:aws:rds:us-east-1:123456789012:cluster:magento-dr-primary-db"
SECONDARY_CLUSTER = "arn:aws:rds:eu-west-1:123456789012:cluster:magento-dr-secondary-db"
PRIMARY_ASG = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1111:autoScalingGroupName/magento-dr-primary-web"
SECONDARY_ASG = "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:2222:autoScalingGroupName/magento-dr-secondary-web"


def _failover(stack: str, **change: Any) -> dict[str, Any]:
    """The stack file's magento-dr:failover block with `change` applied (what a team would write)."""
    return {**copy.deepcopy(load_stack_config(stack)["magento-dr:failover"]), **change}


def _raw(stack: str, **failover: Any) -> dict[str, Any]:
    raw = {k.split(":", 1)[1]: copy.deepcopy(v) for k, v in load_stack_config(stack).items() if k.startswith("magento-dr:")}
    raw["failover"] = {**raw["failover"], **failover}
    return raw


# ---------------------------------------------------------------- pure helpers
@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("secondary", "magento-dr-secondary-switch"),
        ("eu", "magento-dr-eu-switch"),
        ("Shop_Standby.EU", "magento-dr-shop-standby-e-switch"),
        ("a-very-long-standby-stack-name-indeed", "magento-dr-a-very-long-st-switch"),
        ("standby-eu-west-1", "magento-dr-standby-eu-wes-switch"),
        ("abcdefghijklm-xyz", "magento-dr-abcdefghijklm-switch"),  # the cut lands on a hyphen
    ],
)
def test_plan_name_is_within_arcs_rules(stack: str, expected: str) -> None:
    name = plan_name(stack)
    assert name == expected
    assert len(name) <= PLAN_NAME_MAX_LENGTH and PLAN_NAME_RE.match(name)


@pytest.mark.parametrize(("rto_seconds", "minutes"), [(60, 1), (61, 2), (300, 5), (359, 6), (86400, 1440)])
def test_objective_minutes_round_up(rto_seconds: int, minutes: int) -> None:
    assert objective_minutes(rto_seconds) == minutes


def test_aurora_timeout_is_the_handlers_promotion_deadline() -> None:
    assert AURORA_TIMEOUT_MINUTES * 60 == PROMOTION_TIMEOUT_SECONDS == 300


def _workflow(approval_role_arn: str = "", region: str = "eu-west-1") -> dict[str, Any]:
    return activate_workflow(
        region,
        global_cluster_id="magento-dr-primary-global-db",
        cluster_arns=[PRIMARY_CLUSTER, SECONDARY_CLUSTER],
        asg_arns=[PRIMARY_ASG, SECONDARY_ASG],
        rto_seconds=300,
        approval_role_arn=approval_role_arn,
    )


@pytest.mark.parametrize(
    ("approval_role_arn", "step_types"),
    [("", ["Parallel"]), (APPROVERS, ["ManualApproval", "Parallel"])],
)
def test_workflow_asks_for_approval_only_when_configured(approval_role_arn: str, step_types: list[str]) -> None:
    workflow = _workflow(approval_role_arn)
    assert workflow["workflow_target_action"] == "activate" and workflow["workflow_target_region"] == "eu-west-1"
    assert [s["execution_block_type"] for s in workflow["steps"]] == step_types
    if approval_role_arn:
        assert workflow["steps"][0]["execution_approval_configs"] == [{"approval_role": APPROVERS, "timeout_minutes": APPROVAL_TIMEOUT_MINUTES}]


def test_workflow_runs_aurora_and_capacity_in_parallel_and_nothing_else() -> None:
    (parallel,) = _workflow()["steps"]
    aurora, capacity = parallel["parallel_configs"][0]["steps"]
    assert aurora["execution_block_type"] == "AuroraGlobalDatabase"
    assert aurora["global_aurora_configs"] == [
        {
            "behavior": "switchoverOnly",
            "global_cluster_identifier": "magento-dr-primary-global-db",
            "database_cluster_arns": [PRIMARY_CLUSTER, SECONDARY_CLUSTER],
            "timeout_minutes": 5,
            "ungracefuls": [{"ungraceful": "failover"}],
        }
    ]
    assert capacity["execution_block_type"] == "EC2AutoScaling"
    assert capacity["ec2_asg_capacity_increase_configs"] == [
        {
            "asgs": [{"arn": PRIMARY_ASG}, {"arn": SECONDARY_ASG}],
            "capacity_monitoring_approach": "sampledMaxInLast24Hours",
            "target_percent": 100,
            "timeout_minutes": 5,
        }
    ]


def test_step_names_are_unique_across_both_workflows() -> None:
    def names(step: dict[str, Any]) -> list[str]:
        nested = [n for p in step.get("parallel_configs", []) for s in p["steps"] for n in names(s)]
        return [step["name"], *nested]

    all_names = [n for region in ("eu-west-1", "us-east-1") for s in _workflow(APPROVERS, region)["steps"] for n in names(s)]
    assert len(all_names) == len(set(all_names)) == 8


def _scope(**change: Any) -> ExecutionScope:
    values: dict[str, Any] = {
        "partition": "aws",
        "account_id": "123456789012",
        "role_arn": "arn:aws:iam::123456789012:role/region-switch-role",
        "global_cluster_id": "magento-dr-primary-global-db",
        "cluster_arns": (PRIMARY_CLUSTER, SECONDARY_CLUSTER),
        "asg_arns": (PRIMARY_ASG, SECONDARY_ASG),
    }
    return ExecutionScope(**{**values, **change})


GLOBAL_CLUSTER_ARN = "arn:aws:rds::123456789012:global-cluster:magento-dr-primary-global-db"
EXPECTED_GRANTS = {
    "PromoteEitherCluster": (["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"], [GLOBAL_CLUSTER_ARN, PRIMARY_CLUSTER, SECONDARY_CLUSTER]),
    "DescribeTheGlobalCluster": (["rds:DescribeGlobalClusters"], [GLOBAL_CLUSTER_ARN]),
    "DescribeBothClusters": (["rds:DescribeDBClusters"], [PRIMARY_CLUSTER, SECONDARY_CLUSTER]),
    "ScaleBothWebGroups": (["autoscaling:UpdateAutoScalingGroup"], [PRIMARY_ASG, SECONDARY_ASG]),
    "ReadGroupCapacity": (["autoscaling:DescribeAutoScalingGroups"], "*"),
    "ReadAutoScalingMetricsOnly": (["cloudwatch:GetMetricStatistics"], "*"),
    "EvaluateOwnPermissions": (["iam:SimulatePrincipalPolicy"], ["arn:aws:iam::123456789012:role/region-switch-role"]),
}


def _grants(document: dict[str, Any]) -> dict[str, tuple[list[str], Any]]:
    return {s["Sid"]: (s["Action"], s["Resource"]) for s in document["Statement"]}


def test_execution_policy_grants_exactly_the_two_blocks() -> None:
    document = execution_policy(_scope())
    assert _grants(document) == EXPECTED_GRANTS


@pytest.mark.parametrize(
    ("context", "allowed"),
    [
        # The Service Authorization Reference lists no condition key for GetMetricStatistics: the
        # grant must match a request without one (a plain StringEquals never would).
        ({}, True),
        # If CloudWatch does put the namespace in the request (as ARC's sample policy implies),
        # the grant still reads Auto Scaling metrics only.
        ({"cloudwatch:namespace": "AWS/AutoScaling"}, True),
        ({"cloudwatch:namespace": "AWS/RDS"}, False),
    ],
)
def test_capacity_block_can_read_group_metrics_whether_or_not_the_namespace_key_exists(context: dict[str, str], allowed: bool) -> None:
    request = Request("cloudwatch:GetMetricStatistics", ("*",), context)
    assert iam_allows(request, [execution_policy(_scope())]).allowed is allowed


@pytest.mark.parametrize("target", [PRIMARY_CLUSTER, SECONDARY_CLUSTER])
@pytest.mark.parametrize("action", ["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"])
def test_either_promotion_is_allowed_whichever_cluster_rds_authorizes(action: str, target: str) -> None:
    """Which member ARNs RDS authorizes is not documented: the target, the current writer, or both."""
    request = Request(action, (GLOBAL_CLUSTER_ARN, PRIMARY_CLUSTER, SECONDARY_CLUSTER))
    assert iam_allows(request, [execution_policy(_scope())]).allowed


def test_execution_policy_uses_star_only_where_iam_cannot_scope() -> None:
    for statement in execution_policy(_scope())["Statement"]:
        assert all("*" not in action for action in statement["Action"]), statement
        if statement["Resource"] == "*":
            assert set(statement["Action"]) <= WILDCARD_RESOURCE_ACTIONS | NO_RESOURCE_LEVEL_ACTIONS, statement


def test_execution_scope_needs_both_regions() -> None:
    with pytest.raises(ValueError, match="exactly two Regions"):
        _scope(cluster_arns=(SECONDARY_CLUSTER,))


def test_plan_read_policy_names_only_this_plan() -> None:
    arn = "arn:aws:arc-region-switch::123456789012:plan/magento-dr-secondary-switch:abc123"
    assert _grants(plan_read_policy(arn)) == {
        "ReadThisPlanAndItsExecutions": (
            ["arc-region-switch:GetPlan", "arc-region-switch:GetPlanExecution", "arc-region-switch:ListPlanExecutions"],
            [arn],
        )
    }


def test_trust_policy_admits_only_arc_region_switch_for_this_account() -> None:
    (statement,) = trust_policy("123456789012")["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "arc-region-switch.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    }


def test_the_control_plane_region_has_a_provider_in_every_stack() -> None:
    # __main__.py looks the plan's provider up by CONTROL_PLANE_REGION among regional_providers().
    assert CONTROL_PLANE_REGION == GLOBAL_SERVICES_REGION == "us-east-1"


# ---------------------------------------------------------------- args validation
def _args(**change: Any) -> RegionSwitchPlanArgs:
    values: dict[str, Any] = {
        "stack": "secondary",
        "primary_region": "us-east-1",
        "secondary_region": "eu-west-1",
        "global_cluster_id": "magento-dr-primary-global-db",
        "primary_cluster_arn": PRIMARY_CLUSTER,
        "secondary_cluster_arn": SECONDARY_CLUSTER,
        "primary_asg_arn": PRIMARY_ASG,
        "secondary_asg_arn": SECONDARY_ASG,
        "rto_seconds": 300,
        "control_plane_provider": object(),
    }
    return RegionSwitchPlanArgs(**{**values, **change})


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"secondary_region": "us-east-1"}, "must differ"),
        ({"rto_seconds": 59}, "below a minute"),
        ({"approval_role_arn": "dr-approvers"}, "not an IAM role ARN"),
        ({"primary_cluster_arn": SECONDARY_CLUSTER}, "primary_cluster_arn"),
        ({"secondary_cluster_arn": PRIMARY_ASG}, "not a rds ARN in eu-west-1"),
        ({"primary_asg_arn": SECONDARY_ASG}, "not a autoscaling ARN in us-east-1"),
        ({"secondary_asg_arn": PRIMARY_ASG}, "secondary_asg_arn"),
    ],
)
def test_args_refuse_what_would_act_on_the_wrong_region(change: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        _args(**change)


def test_args_build_one_activate_workflow_per_region() -> None:
    workflows = _args().workflows()
    assert [w["workflow_target_region"] for w in workflows] == ["eu-west-1", "us-east-1"]


def test_only_the_paired_standby_builds_args() -> None:
    settings = parse_settings("primary", _raw("primary"))
    with pytest.raises(ValueError, match="only the paired standby"):
        RegionSwitchPlanArgs.from_settings(
            settings,
            control_plane_provider=object(),  # type: ignore[arg-type]
            global_cluster_id="g",
            cluster_arn=PRIMARY_CLUSTER,
            asg_arn=PRIMARY_ASG,
            primary_cluster_arn=PRIMARY_CLUSTER,
            primary_asg_arn=PRIMARY_ASG,
        )


def test_args_carry_the_configured_approval_role_and_objective() -> None:
    settings = parse_settings("secondary", _raw("secondary", arcRegionSwitch=True, arcApprovalRoleArn=APPROVERS, rtoSeconds=420))
    args = RegionSwitchPlanArgs.from_settings(
        settings,
        control_plane_provider=object(),  # type: ignore[arg-type]
        global_cluster_id="magento-dr-primary-global-db",
        cluster_arn=SECONDARY_CLUSTER,
        asg_arn=SECONDARY_ASG,
        primary_cluster_arn=PRIMARY_CLUSTER,
        primary_asg_arn=PRIMARY_ASG,
    )
    assert args.regions == ("us-east-1", "eu-west-1") and args.approval_role_arn == APPROVERS and args.rto_seconds == 420


# ---------------------------------------------------------------- config
@pytest.mark.parametrize(
    ("stack", "failover", "words"),
    [
        ("primary", {"arcRegionSwitch": True}, ["magento-dr:failover.arcRegionSwitch", "paired standby", "secondary's Pulumi.<stack>.yaml"]),
        ("secondary", {"arcApprovalRoleArn": APPROVERS}, ["magento-dr:failover.arcApprovalRoleArn", "no effect without"]),
        ("secondary", {"arcRegionSwitch": True, "arcApprovalRoleArn": "approvers"}, ["arcApprovalRoleArn", "not an IAM role ARN"]),
        ("secondary", {"arcRegionSwitch": "yes"}, ["magento-dr:failover.arcRegionSwitch", "true or false"]),
    ],
)
def test_config_refuses_a_plan_it_cannot_build(stack: str, failover: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(stack, _raw(stack, **failover))
    for word in words:
        assert word in str(error.value), f"{word!r} missing from: {error.value}"


def test_a_database_standby_refuses_the_plan_keys() -> None:
    raw = {k.split(":", 1)[1]: copy.deepcopy(v) for k, v in example_config("bunker").items()}
    raw["failover"] = {**raw["failover"], "arcRegionSwitch": True}
    with pytest.raises(ConfigError, match=r"failover\.arcRegionSwitch has no effect on a database standby"):
        parse_settings("bunker", raw)


def test_the_example_stacks_keep_the_plan_off(primary: StackGraph, secondary: StackGraph) -> None:
    for graph in (primary, secondary):
        assert graph.of_type(PLAN) == [] and graph.of_type(COMPONENT) == []
        assert "regionSwitchPlanArn" not in graph.exports


def test_the_primary_with_the_plan_stops_before_any_resource() -> None:
    with pytest.raises(ProgramFailed) as failed:
        run_stack("primary", overrides={"magento-dr:failover": _failover("primary", arcRegionSwitch=True)})
    assert isinstance(failed.value.cause, ConfigError) and "arcRegionSwitch" in str(failed.value.cause)
    assert failed.value.declared == []


# ---------------------------------------------------------------- the whole plan (mocks)
@pytest.fixture(scope="module")
def with_plan(primary: StackGraph) -> StackGraph:
    """The example secondary with `failover.arcRegionSwitch: true`, its reference answered by the primary."""
    return run_stack("secondary", overrides={"magento-dr:failover": _failover("secondary", arcRegionSwitch=True)}, peer_exports=primary.exports)


@pytest.fixture(scope="module")
def with_approval(primary: StackGraph) -> StackGraph:
    failover = _failover("secondary", arcRegionSwitch=True, arcApprovalRoleArn=APPROVERS)
    return run_stack("secondary", overrides={"magento-dr:failover": failover}, peer_exports=primary.exports)


def _plan(graph: StackGraph) -> Resource:
    return graph.one(PLAN)


def _policy(graph: StackGraph, name: str) -> dict[str, Any]:
    return dict(json.loads(graph.one(ROLE_POLICY, name).inputs["policy"]))


def test_the_plan_spans_both_regions_active_passive(with_plan: StackGraph) -> None:
    plan = _plan(with_plan)
    assert plan.inputs["name"] == "magento-dr-secondary-switch"
    assert plan.inputs["regions"] == ["us-east-1", "eu-west-1"]
    assert plan.inputs["primaryRegion"] == "us-east-1"
    assert plan.inputs["recoveryApproach"] == "activePassive"
    assert plan.inputs["recoveryTimeObjectiveMinutes"] == 5  # failover.rtoSeconds 300
    assert "triggers" not in plan.inputs and "associatedAlarms" not in plan.inputs  # executions are started by people
    # Created through the control plane's Region, owned by the secondary's component.
    assert plan.region == "us-east-1"
    assert plan.parent == with_plan.one(COMPONENT, "region-switch").urn


def test_one_activate_workflow_per_region_with_aurora_and_capacity(with_plan: StackGraph, primary: StackGraph) -> None:
    workflows = _plan(with_plan).inputs["workflows"]
    assert [(w["workflowTargetAction"], w["workflowTargetRegion"]) for w in workflows] == [("activate", "eu-west-1"), ("activate", "us-east-1")]
    clusters = [primary.exports["dbClusterArn"], with_plan.exports["dbClusterArn"]]
    groups = [primary.exports["asgArn"], with_plan.exports["asgArn"]]
    assert clusters[0].startswith("arn:aws:rds:us-east-1:") and clusters[1].startswith("arn:aws:rds:eu-west-1:")
    for workflow in workflows:
        (step,) = workflow["steps"]  # no approval step unless configured; no Lambda step
        assert step["executionBlockType"] == "Parallel"
        aurora, capacity = step["parallelConfigs"][0]["steps"]
        (aurora_config,) = aurora["globalAuroraConfigs"]
        assert aurora_config["globalClusterIdentifier"] == with_plan.exports["globalClusterId"] == primary.exports["globalClusterId"]
        assert aurora_config["databaseClusterArns"] == clusters
        assert aurora_config["behavior"] == "switchoverOnly" and aurora_config["ungracefuls"] == [{"ungraceful": "failover"}]
        assert aurora_config["timeoutMinutes"] == 5
        (capacity_config,) = capacity["ec2AsgCapacityIncreaseConfigs"]
        assert [a["arn"] for a in capacity_config["asgs"]] == groups
        assert capacity_config["targetPercent"] == 100 and capacity_config["timeoutMinutes"] == 5


def test_approval_comes_first_in_both_workflows_when_configured(with_approval: StackGraph) -> None:
    for workflow in _plan(with_approval).inputs["workflows"]:
        first, second = workflow["steps"]
        assert first["executionBlockType"] == "ManualApproval"
        assert first["executionApprovalConfigs"] == [{"approvalRole": APPROVERS, "timeoutMinutes": 60}]
        assert second["executionBlockType"] == "Parallel"


def test_execution_role_trusts_arc_for_this_account_only(with_plan: StackGraph) -> None:
    role = with_plan.one(ROLE, "region-switch-role")
    assert _plan(with_plan).inputs["executionRole"] == role.outputs["arn"]
    assert json.loads(role.inputs["assumeRolePolicy"]) == trust_policy("123456789012")
    assert "managedPolicyArns" not in role.inputs


def test_execution_role_grants_exact_actions_on_this_pair(with_plan: StackGraph, primary: StackGraph) -> None:
    global_cluster = f"arn:aws:rds::123456789012:global-cluster:{primary.exports['globalClusterId']}"
    clusters = [primary.exports["dbClusterArn"], with_plan.exports["dbClusterArn"]]
    groups = [primary.exports["asgArn"], with_plan.exports["asgArn"]]
    role_arn = with_plan.one(ROLE, "region-switch-role").outputs["arn"]
    assert _grants(_policy(with_plan, "region-switch-policy")) == {
        "PromoteEitherCluster": (["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"], [global_cluster, *clusters]),
        "DescribeTheGlobalCluster": (["rds:DescribeGlobalClusters"], [global_cluster]),
        "DescribeBothClusters": (["rds:DescribeDBClusters"], clusters),
        "ScaleBothWebGroups": (["autoscaling:UpdateAutoScalingGroup"], groups),
        "ReadGroupCapacity": (["autoscaling:DescribeAutoScalingGroups"], "*"),
        "ReadAutoScalingMetricsOnly": (["cloudwatch:GetMetricStatistics"], "*"),
        "EvaluateOwnPermissions": (["iam:SimulatePrincipalPolicy"], [role_arn]),
    }
    plan_arn = _plan(with_plan).outputs["arn"]
    assert _grants(_policy(with_plan, "region-switch-plan-read-policy")) == {
        "ReadThisPlanAndItsExecutions": (
            ["arc-region-switch:GetPlan", "arc-region-switch:GetPlanExecution", "arc-region-switch:ListPlanExecutions"],
            [plan_arn],
        )
    }
    for name in ("region-switch-policy", "region-switch-plan-read-policy"):
        for statement in _policy(with_plan, name)["Statement"]:
            assert all("*" not in action for action in statement["Action"]), statement


def test_the_permissions_are_in_place_before_the_plan(with_plan: StackGraph) -> None:
    # ARC evaluates a plan (simulating the role's policies) when it is created.
    assert with_plan.one(ROLE_POLICY, "region-switch-policy").urn in _plan(with_plan).dependencies


def test_the_secondary_exports_the_plan_arn_and_the_readme_documents_it(with_plan: StackGraph) -> None:
    arn = with_plan.exports["regionSwitchPlanArn"]
    assert arn == _plan(with_plan).outputs["arn"]
    assert arn.startswith("arn:aws:arc-region-switch::123456789012:plan/magento-dr-secondary-switch:")
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = sorted(name for name in with_plan.exports if f"`{name}`" not in readme)
    assert not missing, f"README 'Stack outputs' lacks: {', '.join(missing)}"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_the_stack_with_the_plan_passes_every_guardrail(with_plan: StackGraph, rule_id: str) -> None:
    violations = evaluate(subjects_from_graph(with_plan.resources), [rule_id])
    assert not violations, "\n".join(f"  {v.name}: {v.message}" for v in violations)
