"""RegionalNetwork in both example stacks."""

from __future__ import annotations

import json

from offline.runner import StackGraph


def test_three_tiers_across_three_azs(stack: StackGraph) -> None:
    subnets = stack.of_type("aws:ec2/subnet:Subnet")
    by_tier: dict[str, list[str]] = {}
    for subnet in subnets:
        by_tier.setdefault(subnet.inputs["tags"]["tier"], []).append(subnet.inputs["availabilityZone"])
    assert sorted(by_tier) == ["data", "private", "public"]
    for azs in by_tier.values():
        assert len(azs) == 3 and len(set(azs)) == 3
    assert not any(s.inputs.get("mapPublicIpOnLaunch") for s in subnets)


def test_data_tier_has_no_route_out_and_private_goes_through_nat_per_az(stack: StackGraph) -> None:
    data_rt = stack.named("network-data-rt")
    assert not data_rt.inputs.get("routes")
    private = [r for r in stack.of_type("aws:ec2/routeTable:RouteTable") if r.name.startswith("network-private-rt")]
    assert len(private) == 3
    nats = {r.outputs.get("id") or r.name for r in stack.of_type("aws:ec2/natGateway:NatGateway")}
    assert len(nats) == 3
    assert all(rt.inputs["routes"][0]["natGatewayId"] for rt in private)
    assert len({rt.inputs["routes"][0]["natGatewayId"] for rt in private}) == 3


def test_single_nat_option() -> None:
    from offline.runner import run_stack

    graph = run_stack("primary", overrides={"magento-dr:network": {"cidr": "10.10.0.0/16", "natGateways": "single", "azCount": 2}})
    assert len(graph.of_type("aws:ec2/natGateway:NatGateway")) == 1
    assert len(graph.of_type("aws:ec2/subnet:Subnet")) == 6


def test_endpoints_keep_ssm_and_secrets_reachable_without_nat(stack: StackGraph) -> None:
    endpoints = {r.inputs["serviceName"].rsplit(".", 1)[-1]: r for r in stack.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert endpoints["s3"].inputs["vpcEndpointType"] == "Gateway"
    for service in ("ssm", "ssmmessages", "ec2messages", "secretsmanager", "kms", "logs", "monitoring", "sts"):
        assert endpoints[service].inputs["vpcEndpointType"] == "Interface"
        assert endpoints[service].inputs["privateDnsEnabled"] is True
    region = stack.exports["region"]
    assert all(r.inputs["serviceName"].startswith(f"com.amazonaws.{region}.") for r in endpoints.values())


def test_flow_logs_are_encrypted_with_a_rotating_customer_key(stack: StackGraph) -> None:
    flow = stack.one("aws:ec2/flowLog:FlowLog")
    assert flow.inputs["trafficType"] == "ALL"
    group = stack.one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    key = stack.named("network-logs-key")
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    policy = json.loads(key.inputs["policy"])
    assert all(stmt["Action"] != "kms:*" for stmt in policy["Statement"])


def test_default_security_group_is_emptied(stack: StackGraph) -> None:
    default = stack.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.inputs.get("ingress", []) == [] and default.inputs.get("egress", []) == []


def test_vpc_cidr_comes_from_config(primary: StackGraph, secondary: StackGraph) -> None:
    assert primary.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"] == "10.10.0.0/16"
    assert secondary.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"] == "10.20.0.0/16"


def test_flow_log_key_is_protected_and_follows_config(primary: StackGraph, unprotected_primary: StackGraph) -> None:
    assert primary.named("network-logs-key").protect is True
    assert unprotected_primary.named("network-logs-key").protect is False
