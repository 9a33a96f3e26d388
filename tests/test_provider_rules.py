"""Every resource of every example stack (and the options that add resources) passes the provider's
argument validation as `pulumi preview` would run it, and every argument set has had its constraints read.

The constraints and their sources are in offline/provider_rules.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from offline.provider_rules import RULES, unreviewed, violations
from offline.runner import Resource, StackGraph, posture_overrides, run_stack

# Module-scoped fixtures: under `make unit` (pytest-xdist --dist loadgroup) these tests share one worker,
# with the other modules that run the accelerated pair (tests/conftest.py `accelerated`), built once there.
pytestmark = pytest.mark.xdist_group("accelerated")

ROLE_ARN = "arn:aws:iam::123456789012:role/dr-approvers"


@pytest.fixture(scope="module")
def variants(primary: StackGraph, accelerated: tuple[StackGraph, StackGraph]) -> dict[str, StackGraph]:
    """Options that declare resources (or arguments) the example stacks do not."""
    return {
        "primary+globalAccelerator+flowLogs": accelerated[0],
        "secondary+globalAccelerator": accelerated[1],
        "secondary+arcRegionSwitch": run_stack(
            "secondary",
            overrides={"magento-dr:failover": {"arcRegionSwitch": True, "arcApprovalRoleArn": ROLE_ARN, "notificationEmails": ["sre@example.com"]}},
            peer_exports=primary.exports,
        ),
        # A pilot light declares what no other stack does: a headless cluster and a one-node search domain.
        "secondary+pilotLight": run_stack("secondary", overrides=posture_overrides("pilot-light"), peer_exports=primary.exports),
        "primary+singleNat+auditLog+varnish": run_stack(
            "primary",
            overrides={
                "magento-dr:network": {"cidr": "10.10.0.0/16", "natGateways": "single"},
                "magento-dr:database": {"auditLog": True, "instanceCount": 3},
                "magento-dr:web": {"fullPageCache": "varnish", "varnishMemoryPercent": 20},
            },
        ),
    }


def _resources(*graphs: StackGraph) -> Iterator[tuple[str, Resource]]:
    """Every resource the provider validates, the explicit AWS providers included."""
    for graph in graphs:
        for r in graph.resources:
            if r.custom and r.type != "pulumi:pulumi:StackReference":
                yield graph.stack, r


def _all(primary: StackGraph, secondary: StackGraph, bunker: StackGraph, variants: dict[str, StackGraph]) -> list[tuple[str, Resource]]:
    return list(_resources(primary, secondary, bunker, *variants.values()))


def test_no_resource_breaks_a_provider_constraint(primary: StackGraph, secondary: StackGraph, bunker: StackGraph, variants: dict[str, StackGraph]) -> None:
    found = [f"{stack}: {v}" for stack, r in _all(primary, secondary, bunker, variants) for v in violations(r.type, r.name, r.inputs)]
    assert not found, "pulumi preview would refuse:\n" + "\n".join(found)


def test_every_argument_set_has_had_its_constraints_read(
    primary: StackGraph, secondary: StackGraph, bunker: StackGraph, variants: dict[str, StackGraph]
) -> None:
    """A new resource type or argument must first be looked up in the provider's source and recorded."""
    missing = sorted({f"{r.type}: {arg}" for _, r in _all(primary, secondary, bunker, variants) for arg in unreviewed(r.type, r.inputs)})
    assert not missing, "read the provider's constraints, add rules to offline/provider_rules.py RULES and the argument to REVIEWED:\n" + "\n".join(missing)


def test_the_optional_resources_are_in_the_checked_graphs(variants: dict[str, StackGraph]) -> None:
    """The variants are worth their run time only while they declare what the examples do not."""
    types = {r.type for g in variants.values() for r in g.resources}
    assert "aws:arcregionswitch/plan:Plan" in types
    assert {"aws:globalaccelerator/accelerator:Accelerator", "aws:globalaccelerator/endpointGroup:EndpointGroup", "aws:lb/listenerRule:ListenerRule"} <= types
    names = {r.name for g in variants.values() for r in g.resources}
    assert {"frontend-app-purge-in", "frontend-app-purge-out"} <= names  # web.fullPageCache: varnish
    search = variants["secondary+pilotLight"].one("aws:opensearch/domain:Domain").inputs["clusterConfig"]
    assert search["zoneAwarenessEnabled"] is False  # the one-node domain's arguments are checked too


# ---------------------------------------------------------------- the checker catches what the provider refuses
BAD: list[tuple[str, str, dict[str, Any], str]] = [
    # The defect on main before this round: a Global Datastore member that sets what it inherits.
    (
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "member setting encryption",
        {"globalReplicationGroupId": "ldgnf-x", "atRestEncryptionEnabled": True, "transitEncryptionEnabled": True, "transitEncryptionMode": "required"},
        "globalReplicationGroupId conflicts with transitEncryptionEnabled, transitEncryptionMode, atRestEncryptionEnabled",
    ),
    ("aws:elasticache/replicationGroup:ReplicationGroup", "long id", {"replicationGroupId": "x" * 41}, "41 characters"),
    ("aws:route53/record:Record", "alias with ttl", {"aliases": [{"name": "a"}], "ttl": 60}, "aliases conflicts with ttl"),
    (
        "aws:route53/record:Record",
        "failover without set id",
        {"records": ["1.2.3.4"], "ttl": 60, "failoverRoutingPolicies": [{"type": "PRIMARY"}]},
        "requires setIdentifier",
    ),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "odd period", {"period": 90}, "not 10, 20, 30 or a multiple of 60"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "m of n", {"evaluationPeriods": 2, "datapointsToAlarm": 3}, "datapointsToAlarm 3 > evaluationPeriods 2"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "missing data", {"treatMissingData": "zero"}, "treatMissingData 'zero'"),
    (
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "math and a metric in one query",
        {"metricQueries": [{"id": "m0", "expression": "MAX([m0])", "metric": {"metricName": "x", "stat": "Maximum", "period": 60}, "returnData": True}]},
        "exactly one of expression, metric",
    ),
    (
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "math and metricName",
        {"metricName": "x", "metricQueries": [{"id": "e", "expression": "1", "returnData": True}]},
        "metricName conflicts with metricQueries",
    ),
    ("aws:ssm/parameter:Parameter", "both values", {"insecureValue": "a", "value": "b", "type": "String"}, "exactly one of insecureValue, value, valueWo"),
    ("aws:lambda/function:Function", "timeout", {"timeout": 901}, "timeout 901"),
    ("pulumi:providers:aws", "provider without region", {"skipCredentialsValidation": "true"}, "provider without a region"),
    ("aws:secretsmanager/secret:Secret", "window", {"recoveryWindowInDays": 3}, "neither 0 nor 7..30"),
    ("aws:route53/healthCheck:HealthCheck", "interval", {"type": "HTTPS", "fqdn": "x", "requestInterval": 20}, "requestInterval 20"),
    (
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "filter without marker",
        {"rules": [{"status": "Enabled", "filter": {"prefix": ""}}]},
        "filter requires deleteMarkerReplication",
    ),
    ("aws:opensearch/domain:Domain", "long name", {"domainName": "magento-dr-a-very-long-stack-search"}, "domainName"),
    ("aws:lb/targetGroup:TargetGroup", "lambda group with a port", {"targetType": "lambda", "port": 443}, "a lambda target group sets port"),
    ("aws:lb/targetGroup:TargetGroup", "instance group without a VPC", {"targetType": "instance", "port": 443, "protocol": "HTTPS"}, "without vpcId"),
    (
        "aws:lb/listenerRule:ListenerRule",
        "two fields in one condition",
        {"conditions": [{"httpHeader": {"httpHeaderName": "x", "values": ["y"]}, "pathPattern": {"values": ["/"]}}]},
        "exactly one",
    ),
    ("aws:lb/listenerRule:ListenerRule", "priority", {"priority": 50001}, "priority 50001"),
    ("aws:globalaccelerator/endpointGroup:EndpointGroup", "weight", {"endpointConfigurations": [{"endpointId": "a", "weight": 256}]}, "weight 256"),
    ("aws:globalaccelerator/endpointGroup:EndpointGroup", "dial", {"trafficDialPercentage": 120}, "trafficDialPercentage 120"),
    ("aws:globalaccelerator/listener:Listener", "https listener", {"protocol": "HTTPS", "portRanges": [{"fromPort": 443, "toPort": 443}]}, "protocol 'HTTPS'"),
    ("aws:globalaccelerator/accelerator:Accelerator", "hyphen name", {"name": "-shop"}, "does not match"),
    ("aws:globalaccelerator/accelerator:Accelerator", "flow logs without bucket", {"attributes": {"flowLogsEnabled": True}}, "without flowLogsS3Bucket"),
    (
        "aws:autoscaling/group:Group",
        "capacity",
        {"minSize": 3, "desiredCapacity": 2, "maxSize": 4, "launchTemplate": {"id": "lt"}},
        "minSize <= desiredCapacity <= maxSize",
    ),
]


@pytest.mark.parametrize(("type_", "why", "inputs", "words"), BAD, ids=[b[1] for b in BAD])
def test_the_checker_refuses_what_the_provider_refuses(type_: str, why: str, inputs: dict[str, Any], words: str) -> None:
    found = [v.detail for v in violations(type_, why, inputs)]
    assert any(words in d for d in found), f"{why}: {found}"


def test_every_rule_names_its_source() -> None:
    for type_, rules in RULES.items():
        for rule in rules:
            assert rule.source, f"{type_}: a {rule.kind} rule on {rule.keys} without its source"
