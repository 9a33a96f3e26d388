"""A further standby region: examples/Pulumi.bunker.yaml is all it takes (issue 3).

The bunker is a third stack, role secondary and scope database: one more secondary cluster of the
global database, with its own key, network and copy of the credentials, and nothing of the shop.
The graph-wide invariants and the policy rules run on it too (the `any_stack` fixture).
"""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError
from offline.runner import ProgramFailed, StackGraph, example_config, load_stack_config, run_stack
from tests.lag_alarm import expected_reads, lag_alarm_reads

CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"

# The sections only a shop stack may carry.
SHOP_SECTIONS = ("web", "cache", "search", "media", "release", "failover")

# What the shop tiers declare; a database standby must declare none of them.
SHOP_TYPES = (
    "aws:autoscaling/group:Group",
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:lambda/function:Function",
    "aws:scheduler/schedule:Schedule",
    "aws:route53/record:Record",
    "aws:route53/healthCheck:HealthCheck",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
    "aws:cloudfront/distribution:Distribution",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:opensearch/domain:Domain",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/internetGateway:InternetGateway",
)


def test_the_bunker_joins_the_primarys_global_cluster_in_its_own_region(primary: StackGraph, bunker: StackGraph) -> None:
    cluster = bunker.one(CLUSTER)
    assert cluster.region == "us-west-2"
    assert cluster.inputs["globalClusterIdentifier"] == primary.exports["globalClusterId"]
    assert cluster.inputs["storageEncrypted"] is True and cluster.inputs["deletionProtection"] is True
    assert cluster.protect
    key = bunker.one("aws:kms/key:Key", "database-key")
    assert cluster.inputs["kmsKeyId"] == key.outputs["arn"] and key.region == "us-west-2" and key.protect
    instances = bunker.of_type(INSTANCE)
    assert len(instances) == 1 and instances[0].inputs["publiclyAccessible"] is False
    assert bunker.exports["globalClusterId"] == primary.exports["globalClusterId"]
    assert bunker.exports["globalWriterEndpoint"] == primary.exports["globalWriterEndpoint"]
    assert bunker.exports["dbParameterDigest"] == primary.exports["dbParameterDigest"]
    assert bunker.exports["role"] == "secondary" and bunker.exports["scope"] == "database"


def test_the_bunker_keeps_its_own_encrypted_copy_of_the_credentials(primary: StackGraph, bunker: StackGraph) -> None:
    # The primary replicates its secret only to its paired standby: the bunker copies it.
    assert "us-west-2" not in primary.exports["dbCredentialsReplicas"]
    secret = bunker.one(SECRET)
    key = bunker.one("aws:kms/key:Key", "database-key")
    assert secret.region == "us-west-2" and secret.inputs["kmsKeyId"] == key.outputs["arn"] and secret.protect
    assert not secret.inputs.get("replicas")
    assert bunker.one(SECRET_VERSION).inputs["secretString"] == primary.exports["dbCredentialsDocument"]


def test_the_bunker_alarms_when_its_copy_falls_behind_the_rpo(bunker: StackGraph) -> None:
    alarm = bunker.one("aws:cloudwatch/metricAlarm:MetricAlarm", "database-replication-lag-alarm")
    # Both lag metrics, under both dimension sets (undocumented), the primary's region the source.
    assert lag_alarm_reads(alarm.inputs) == expected_reads(bunker.exports["dbClusterId"], bunker.exports["peerRegion"])
    assert alarm.inputs["threshold"] == 60 * 1000  # failover.rpoSeconds, in the metric's milliseconds
    # No lag reported means the copy is not replicating (rebuilt, detached, or the writer): alarm.
    assert alarm.inputs["treatMissingData"] == "breaching"
    assert alarm.inputs["alarmActions"] == [bunker.exports["notificationTopicArn"]]


def test_shop_stacks_leave_the_lag_alarm_to_the_failover_automation(primary: StackGraph, secondary: StackGraph) -> None:
    for graph in (primary, secondary):
        assert not [a for a in graph.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if a.name == "database-replication-lag-alarm"]
    assert [a for a in secondary.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if a.inputs.get("metricQueries") and lag_alarm_reads(a.inputs)]


def test_the_bunker_declares_nothing_of_the_shop(bunker: StackGraph) -> None:
    declared = {r.type for r in bunker.resources}
    assert not declared & set(SHOP_TYPES), sorted(declared & set(SHOP_TYPES))
    assert not [r for r in bunker.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if r.inputs["vpcEndpointType"] == "Interface"]
    for name in ("mediaBucketName", "failoverFunctionName", "shopUrl", "releaseBucketName", "asgName"):
        assert name not in bunker.exports
    # Isolated: no route leaves the VPC (the S3 gateway endpoint's routes are managed by the endpoint).
    for table in bunker.of_type("aws:ec2/routeTable:RouteTable"):
        assert not table.inputs.get("routes"), (table.name, table.inputs.get("routes"))
    # Everything it declares lives in its own region: neither shop region is touched.
    assert {r.region for r in bunker.aws_resources()} == {"us-west-2"}


def _bunker(**changes: Any) -> dict[str, Any]:
    config = example_config("bunker")
    for key, value in changes.items():
        if value is None:
            config.pop(f"magento-dr:{key}", None)
        else:
            config[f"magento-dr:{key}"] = value
    return config


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        # A third *shop* region: the pairs' records and replication have room for one standby.
        ({"scope": None}, ["would be a second shop standby in us-west-2", "magento-dr:scope database"]),
        # The primary's paired standby cannot be a database standby: the shop needs it.
        (
            {"region": "eu-west-1", "network": {"cidr": "10.20.0.0/16"}},
            ["eu-west-1 is the primary's paired standby", "remove magento-dr:scope database"],
        ),
    ],
    ids=["third-shop-region", "paired-region-as-bunker"],
)
def test_a_standby_in_the_wrong_place_is_stopped_with_the_fix(primary: StackGraph, changes: dict[str, Any], words: list[str]) -> None:
    config = _bunker(**changes)
    if "scope" in changes:
        # A shop standby needs its shop sections; give it the secondary's so only its place is wrong.
        config.update({k: v for k, v in load_stack_config("secondary").items() if k.split(":", 1)[1] in SHOP_SECTIONS})
    with pytest.raises(ProgramFailed) as failed:
        run_stack("bunker", config=config, peer_exports=primary.exports)
    assert isinstance(failed.value.cause, ConfigError)
    for word in words:
        assert word in str(failed.value.cause), str(failed.value.cause)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"web": {"minSize": 2}}, ["magento-dr:web has no effect on a database standby"]),
        ({"media": {"noncurrentVersionDays": 30}}, ["magento-dr:media has no effect"]),
        ({"failover": {"mode": "automatic"}}, ["magento-dr:failover.mode has no effect", "notificationEmails", "rpoSeconds"]),
        ({"database": {"credentials": "replica"}}, ["magento-dr:database.credentials replica", "copy"]),
        ({"network": {"cidr": "10.30.0.0/16", "natGateways": "single"}}, ["magento-dr:network.natGateways single", "no internet gateway"]),
        ({"role": "primary", "primaryStack": None}, ["magento-dr:scope database is for a further standby region"]),
        ({"scope": "reader"}, ["magento-dr:scope is 'reader'", "shop", "database"]),
    ],
    ids=["web", "media", "failover-mode", "credentials-replica", "nat", "primary", "unknown-scope"],
)
def test_bad_database_standby_config_stops_before_any_resource(changes: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ProgramFailed) as failed:
        run_stack("bunker", config=_bunker(**changes))
    assert isinstance(failed.value.cause, ConfigError)
    for word in words:
        assert word in str(failed.value.cause), str(failed.value.cause)
    assert failed.value.declared == []


def test_a_bunker_that_would_overfill_the_primary_stops_with_the_fix(primary: StackGraph, secondary: StackGraph) -> None:
    # With the pair's secondary and this bunker, s = 2: the primary may run at most 1 + 13 = 14 instances.
    exports = {**primary.exports, "dbInstanceCount": 15}
    members = [primary.exports["dbClusterArn"], secondary.exports["dbClusterArn"]]
    with pytest.raises(ProgramFailed) as failed:
        run_stack("bunker", config=example_config("bunker"), peer_exports=exports, global_cluster_members=members)
    assert isinstance(failed.value.cause, ConfigError)
    assert "lower magento-dr:database.instanceCount on the primary to 14" in str(failed.value.cause)
