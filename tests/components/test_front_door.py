"""The optional accelerator (`failover.globalAccelerator`): its facts and plans (pure) and both stacks with it on.

The pair runs once per worker (tests/conftest.py `accelerated`): the primary with its flow logs,
the secondary joining the primary's listener through the primary's exports.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from components import front_door as fd
from components import rto
from components.config import ConfigError, check_front_door, parse_settings
from components.contracts import activation_parameter
from components.failover_automation import handler_archive_files
from components.outage import regions_needed
from components.writer_gate import gate_archive_files
from offline.runner import ProgramFailed, Resource, StackGraph, accelerator_overrides, load_stack_config, run_stack
from policy.rules import evaluate, subjects_from_graph

# With the other modules that run the accelerated pair (tests/conftest.py `accelerated`): one worker builds it once.
pytestmark = pytest.mark.xdist_group("accelerated")

ACCELERATOR = "aws:globalaccelerator/accelerator:Accelerator"
LISTENER = "aws:globalaccelerator/listener:Listener"
ENDPOINT_GROUP = "aws:globalaccelerator/endpointGroup:EndpointGroup"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
RECORD = "aws:route53/record:Record"
GATE_SOURCE = Path(__file__).resolve().parents[2] / "handlers" / "writer_gate.py"


def _pair(accelerated: tuple[StackGraph, StackGraph]) -> dict[str, StackGraph]:
    return {"primary": accelerated[0], "secondary": accelerated[1]}


def _gate(stack: StackGraph, token: str, part: str) -> Resource:
    return stack.one(token, f"writer-gate-{part}")


# ---------------------------------------------------------------- pure
def test_the_traffic_path_is_the_gate_checks_and_the_accelerators_reaction() -> None:
    assert fd.gate_reaction_seconds() == 2 * 5
    assert fd.traffic_path_seconds() == 2 * 5 + 30
    terms = {t.name: t.seconds for t in rto.accelerator_traffic_terms()}
    assert terms == {"gate_checks": 10, "accelerator": 30} and sum(terms.values()) == fd.traffic_path_seconds()


def test_the_accelerated_budget_runs_traffic_beside_the_promotion() -> None:
    settings = {"probe_interval_seconds": 10, "consecutive_failures": 7, "health_check_interval_seconds": 10, "health_check_failure_threshold": 3}
    route53 = rto.failover_budget(**settings)
    accelerated = rto.failover_budget(**settings, front_door="accelerator")
    assert accelerated.writes == route53.writes  # the function's detection does not change
    assert (accelerated.traffic_seconds, accelerated.total_seconds) == (40, 79 + 40)
    # Traffic starts at the promotion request, so with a typical promotion (60 s > 40 s) it is hidden behind it.
    assert accelerated.with_typical_promotion_seconds == 79 + 60 == route53.with_typical_promotion_seconds
    export = accelerated.as_export(300)
    assert export["front_door"] == "accelerator" and route53.as_export(300)["front_door"] == "route53"
    assert "dns_ttl" not in {t["name"] for t in export["breakdown"]["traffic"]}
    with pytest.raises(rto.RtoError, match="front door"):
        rto.failover_budget(**settings, front_door="latency")  # type: ignore[arg-type]


def test_validation_uses_the_accelerators_budget() -> None:
    raw = {k.split(":", 1)[1]: v for k, v in load_stack_config("primary").items() if k.startswith("magento-dr:")}
    # 10 s probes x 7 failures: 79 s of writes; with Route 53 the budget is max(90, 79) = 90, with the accelerator 79 + 40 = 119.
    parse_settings("primary", {**raw, "failover": {**raw["failover"], "rtoSeconds": 100}})
    with pytest.raises(ConfigError, match=r"rtoSeconds is 100s but the worst-case failover takes 119s"):
        parse_settings("primary", {**raw, "failover": {**raw["failover"], "rtoSeconds": 100, "globalAccelerator": True}})


def test_flow_logs_belong_to_the_primary() -> None:
    raw = {k.split(":", 1)[1]: v for k, v in load_stack_config("secondary").items() if k.startswith("magento-dr:")}
    with pytest.raises(ConfigError, match="primary owns the accelerator"):
        parse_settings("secondary", {**raw, "failover": {**raw["failover"], "globalAccelerator": True, "acceleratorFlowLogs": True}})


@pytest.mark.parametrize(
    ("secondary_on", "primary_export", "outcome"),
    [
        (True, True, None),
        (False, False, None),
        (False, None, None),  # a primary deployed before the option existed exports nothing
        (True, False, "error"),
        (True, None, "error"),
        (False, True, "warning"),  # between the two stacks' updates: shoppers still fail over through Route 53
    ],
)
def test_the_secondary_joins_only_an_accelerator_the_primary_has(secondary_on: bool, primary_export: Any, outcome: str | None) -> None:
    raw = {k.split(":", 1)[1]: v for k, v in load_stack_config("secondary").items() if k.startswith("magento-dr:")}
    settings = parse_settings("secondary", {**raw, "failover": {**raw["failover"], "globalAccelerator": secondary_on}})
    if outcome == "error":
        with pytest.raises(ConfigError, match="primary owns the accelerator and its listener"):
            check_front_door(settings, primary_export)
        return
    warning = check_front_door(settings, primary_export)
    assert (warning is not None) == (outcome == "warning")
    if warning:
        assert "update the primary next" in warning and "Route 53" in warning


def test_accelerator_name_and_costs() -> None:
    assert fd.accelerator_name("primary") == "magento-dr-primary-shop"
    assert fd.accelerator_name("a_b..c") == "magento-dr-a-b-c-shop"
    assert fd.monthly_fixed_fee_usd() == 18.25
    assert fd.is_alb_arn("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188")
    assert not fd.is_alb_arn("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/web/50dc6c495c0c9188")


def test_the_gate_policy_grants_exactly_what_the_gate_calls() -> None:
    """Derived from the boto3 calls in handlers/writer_gate.py, like the failover function's (test_failover_iam.py)."""
    source = GATE_SOURCE.read_text()
    calls = {(service, method) for service in ("rds", "ssm") for method in re.findall(rf"\b(?:peer_)?{service}\.([a-z_]+)\(", source)}
    assert calls == {("rds", "describe_global_clusters"), ("ssm", "get_parameter")}  # guards the scan itself
    called = {f"{service}:{boto3.client(service, region_name='us-east-1').meta.method_to_api_mapping[m]}" for service, m in calls}
    log_group = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/x"
    policy = fd.gate_policy(
        partition="aws", account_id="123456789012", global_cluster_id="g", log_group_arn=log_group,
        regions=("eu-west-1", "us-east-1"), activation_parameter="/magento-dr/activation/g",
    )
    granted = {a for s in policy["Statement"] for a in s["Action"]}
    assert granted - {"logs:CreateLogStream", "logs:PutLogEvents"} == called
    (rds,) = [s for s in policy["Statement"] if "rds:DescribeGlobalClusters" in s["Action"]]
    assert rds["Resource"] == ["arn:aws:rds::123456789012:global-cluster:g"]  # no region: the peer region's API too
    (ssm,) = [s for s in policy["Statement"] if "ssm:GetParameter" in s["Action"]]
    assert ssm["Resource"] == [f"arn:aws:ssm:{r}:123456789012:parameter/magento-dr/activation/g" for r in ("eu-west-1", "us-east-1")]
    assert all("*" not in action for s in policy["Statement"] for action in s["Action"])


def test_the_gate_ships_alone_and_its_entry_point_imports_from_the_zip(tmp_path: Path) -> None:
    files = gate_archive_files()
    assert sorted(files) == ["handlers/__init__.py", "handlers/activation.py", "handlers/writer_gate.py"]
    assert "handlers/writer_gate.py" not in handler_archive_files()  # the failover function does not carry it
    assert "handlers/activation.py" in handler_archive_files()  # the rule both apply
    bundle = tmp_path / "gate.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        for key, path in files.items():
            zf.write(path, key)
    module, attribute = fd.GATE_HANDLER.rsplit(".", 1)
    check = f"import sys; sys.path.insert(0, {str(bundle)!r}); import {module} as m; assert callable(m.{attribute})"
    result = subprocess.run([sys.executable, "-I", "-c", check], cwd=tmp_path, capture_output=True, text=True, check=False)  # noqa: S603
    assert result.returncode == 0, result.stderr


def test_the_accelerators_api_counts_as_us_west_2_in_an_outage() -> None:
    for token in (ACCELERATOR, LISTENER, ENDPOINT_GROUP):
        assert regions_needed(token, "eu-west-1") == {"eu-west-1", fd.API_REGION}


# ---------------------------------------------------------------- both stacks with the accelerator
def test_the_primary_alone_owns_the_accelerator_and_its_listener(accelerated: tuple[StackGraph, StackGraph]) -> None:
    primary, secondary = accelerated
    assert secondary.of_type(ACCELERATOR) == [] and secondary.of_type(LISTENER) == []
    accelerator = primary.one(ACCELERATOR)
    assert accelerator.inputs["name"] == "magento-dr-primary-shop" and accelerator.inputs["ipAddressType"] == "IPV4"
    listener = primary.one(LISTENER)
    assert listener.inputs["protocol"] == "TCP" and listener.inputs["clientAffinity"] == "NONE"
    assert sorted((r["fromPort"], r["toPort"]) for r in listener.inputs["portRanges"]) == [(80, 80), (443, 443)]
    assert primary.exports["acceleratorListenerArn"] == listener.outputs["arn"]
    assert len(primary.exports["acceleratorIpAddresses"]) == 2
    # No us-west-2 provider: the provider pins the API region itself; each resource uses its stack's own provider.
    for graph in accelerated:
        assert {r.region for r in graph.aws_resources() if r.type.startswith("aws:globalaccelerator/")} == {graph.exports["region"]}
        assert fd.API_REGION not in {r.inputs["region"] for r in graph.resources if r.is_provider}


@pytest.mark.parametrize(("stack", "dial"), [("primary", 100.0), ("secondary", 0.0)])
def test_each_stack_adds_its_own_alb_with_explicit_region_weight_and_client_ip(
    accelerated: tuple[StackGraph, StackGraph], stack: str, dial: float
) -> None:
    graph = _pair(accelerated)[stack]
    group = graph.one(ENDPOINT_GROUP)
    assert group.inputs["listenerArn"] == accelerated[0].exports["acceleratorListenerArn"]  # the secondary joins the primary's
    assert group.inputs["endpointGroupRegion"] == graph.exports["region"]
    assert group.inputs["trafficDialPercentage"] == dial
    (endpoint,) = group.inputs["endpointConfigurations"]
    assert endpoint == {"endpointId": graph.exports["albArn"], "weight": fd.ENDPOINT_WEIGHT, "clientIpPreservationEnabled": True}
    assert fd.is_alb_arn(endpoint["endpointId"])
    # It joins only once the gate is in place (rule and target registered).
    deps = {graph.by_urn(d).name for d in group.dependencies}
    assert {"writer-gate-rule", "writer-gate-target"} <= deps


@pytest.mark.parametrize("stack", ["primary", "secondary"])
def test_the_gate_is_a_second_target_group_no_client_reaches(accelerated: tuple[StackGraph, StackGraph], stack: str) -> None:
    graph = _pair(accelerated)[stack]
    gate = _gate(graph, TARGET_GROUP, "target-group")
    assert gate.inputs["targetType"] == "lambda" and not {"port", "protocol", "vpcId"} & set(gate.inputs)
    check = gate.inputs["healthCheck"]
    assert (check["enabled"], check["interval"], check["healthyThreshold"], check["unhealthyThreshold"], check["timeout"]) == (True, 5, 2, 2, 4)
    assert check["matcher"] == "200" and check["path"] == fd.GATE_HEALTH_PATH
    # The web target group (the liveness file) stays the Auto Scaling group's only one: the gate never replaces instances.
    asg = graph.one("aws:autoscaling/group:Group")
    web = graph.one(TARGET_GROUP, "frontend-web")
    assert asg.inputs["targetGroupArns"] == [web.outputs["arn"]]
    # The rule sits on this region's HTTPS listener, after every other rule, and matches only the stack's secret header.
    rule = _gate(graph, "aws:lb/listenerRule:ListenerRule", "rule")
    https = graph.one("aws:lb/listener:Listener", "frontend-https")
    assert rule.inputs["listenerArn"] == https.outputs["arn"] and rule.inputs["priority"] == fd.GATE_RULE_PRIORITY
    assert rule.inputs["actions"] == [{"type": "forward", "targetGroupArn": gate.outputs["arn"]}]
    (condition,) = _plain(rule.inputs["conditions"])  # a secret as a whole: its value is the stack's secret
    secret = graph.one("random:index/randomPassword:RandomPassword", "writer-gate-header")
    assert condition["httpHeader"]["httpHeaderName"] == fd.GATE_HEADER
    (value,) = condition["httpHeader"]["values"]
    assert secret.urn in rule.dependencies and value.startswith("mock-")  # the generated password, not a constant
    assert secret.inputs["special"] is False and secret.inputs["length"] == fd.GATE_SECRET_LENGTH


def _plain(value: Any) -> Any:
    return value.get("value") if isinstance(value, dict) and "value" in value else value


@pytest.mark.parametrize("stack", ["primary", "secondary"])
def test_only_the_load_balancer_may_invoke_the_gate_and_the_gate_reads_only_its_global_cluster_and_activation_records(
    accelerated: tuple[StackGraph, StackGraph], stack: str
) -> None:
    graph = _pair(accelerated)[stack]
    function = _gate(graph, "aws:lambda/function:Function", "function")
    permission = _gate(graph, "aws:lambda/permission:Permission", "invoke")
    gate = _gate(graph, TARGET_GROUP, "target-group")
    assert permission.inputs["principal"] == "elasticloadbalancing.amazonaws.com"
    assert permission.inputs["sourceArn"] == gate.outputs["arn"] and permission.inputs["function"] == function.outputs["name"]
    attachment = _gate(graph, "aws:lb/targetGroupAttachment:TargetGroupAttachment", "target")
    assert attachment.inputs["targetId"] == function.outputs["arn"] and permission.urn in attachment.dependencies
    assert function.inputs["handler"] == fd.GATE_HANDLER and function.inputs["timeout"] == fd.GATE_FUNCTION_TIMEOUT_SECONDS
    env = function.inputs["environment"]["variables"]
    peer_region = _pair(accelerated)["secondary" if stack == "primary" else "primary"].exports["region"]
    assert env == {
        fd.GATE_ENV_GLOBAL_CLUSTER_ID: graph.exports["globalClusterId"],
        fd.GATE_ENV_LOCAL_CLUSTER_ARN: graph.exports["dbClusterArn"],
        fd.GATE_ENV_PEER_REGION: peer_region,
    }
    policy = json.loads(_gate(graph, "aws:iam/rolePolicy:RolePolicy", "policy").inputs["policy"])
    assert policy == fd.gate_policy(
        partition="aws",
        account_id="123456789012",
        global_cluster_id=graph.exports["globalClusterId"],
        log_group_arn=_gate(graph, "aws:cloudwatch/logGroup:LogGroup", "logs").outputs["arn"],
        regions=(graph.exports["region"], peer_region),
        activation_parameter=activation_parameter(graph.exports["globalClusterId"]),
    )
    trust = json.loads(_gate(graph, "aws:iam/role:Role", "role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


@pytest.mark.parametrize("stack", ["primary", "secondary"])
def test_the_shops_name_aliases_the_accelerator_and_the_regional_name_the_alb(accelerated: tuple[StackGraph, StackGraph], stack: str) -> None:
    graph = _pair(accelerated)[stack]
    shop = next(r for r in graph.of_type(RECORD) if r.inputs.get("failoverRoutingPolicies"))
    # The same failover record (its health check kept), now aliasing the accelerator: an in-place change, no gap.
    assert shop.name == f"frontend-traffic-shop-{stack}" and shop.inputs["healthCheckId"]
    assert shop.inputs["aliases"] == [
        {"name": accelerated[0].exports["acceleratorDnsName"], "zoneId": fd.HOSTED_ZONE_ID, "evaluateTargetHealth": False}
    ]
    regional = graph.one(RECORD, "frontend-traffic-regional")
    assert regional.inputs["aliases"][0]["name"] == graph.exports["albDnsName"]


def test_the_example_stacks_keep_the_route53_front_door(primary: StackGraph, secondary: StackGraph) -> None:
    for graph in (primary, secondary):
        assert not [r for r in graph.aws_resources() if r.type.startswith("aws:globalaccelerator/") or r.name.startswith("writer-gate")]
        shop = next(r for r in graph.of_type(RECORD) if r.inputs.get("failoverRoutingPolicies"))
        assert shop.inputs["aliases"][0]["name"] == graph.exports["albDnsName"]
        assert graph.exports["globalAccelerator"] is False and graph.exports["rtoBudget"]["front_door"] == "route53"


def test_the_budget_export_follows_the_front_door(accelerated: tuple[StackGraph, StackGraph]) -> None:
    for graph in accelerated:
        budget = graph.exports["rtoBudget"]
        assert (budget["front_door"], budget["traffic_seconds"], budget["total_seconds"], budget["with_typical_promotion_seconds"]) == (
            "accelerator",
            40,
            119,
            139,
        )


def test_flow_logs_go_to_a_private_encrypted_bucket_log_delivery_alone_may_write(accelerated: tuple[StackGraph, StackGraph]) -> None:
    primary = accelerated[0]
    bucket = primary.one("aws:s3/bucket:Bucket", "front-door-flow-logs")
    attributes = primary.one(ACCELERATOR).inputs["attributes"]
    assert attributes == {"flowLogsEnabled": True, "flowLogsS3Bucket": bucket.outputs["bucket"], "flowLogsS3Prefix": fd.FLOW_LOG_PREFIX}
    assert bucket.protect
    policy = json.loads(primary.one("aws:s3/bucketPolicy:BucketPolicy", "front-door-flow-logs").inputs["policy"])
    write = next(s for s in policy["Statement"] if s["Sid"] == "AWSLogDeliveryWrite")
    assert write["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert write["Resource"].endswith(f"/{fd.FLOW_LOG_PREFIX}/AWSLogs/123456789012/*")
    assert write["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert primary.one(ACCELERATOR).dependencies  # after the policy: delivery checks it when flow logs are enabled


def test_the_accelerated_stacks_pass_every_guardrail(accelerated: tuple[StackGraph, StackGraph]) -> None:
    for graph in accelerated:
        subjects = subjects_from_graph(graph.resources)
        violations = evaluate(subjects)
        assert not violations, "\n".join(f"{graph.stack} {v.rule} {v.name}: {v.message}" for v in violations)
        assert evaluate([s for s in subjects if s.type == ENDPOINT_GROUP], ["accelerator-fronts-load-balancers"]) == []
        assert [s for s in subjects if s.type == ENDPOINT_GROUP]  # the rule had something to check


def test_a_secondary_cannot_join_an_accelerator_the_primary_lacks(primary: StackGraph) -> None:
    with pytest.raises(ProgramFailed) as failed:
        run_stack("secondary", overrides=accelerator_overrides("secondary"), peer_exports=primary.exports)
    assert isinstance(failed.value.cause, ConfigError)
    assert "primary owns the accelerator and its listener" in str(failed.value.cause)
