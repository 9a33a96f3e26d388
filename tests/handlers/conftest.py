"""A two-region world in moto + the emulator extension; the handler runs as the secondary (us-west-2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

import emulator
from emulator.health import HealthEndpoints
from handlers import failover

PRIMARY, SECONDARY = "us-east-1", "us-west-2"
GID = "magento-gdb"


_CLIENTS: dict[tuple[str, str], Any] = {}


def _client(service: str, region: str) -> Any:
    """Test-side clients are reused across tests (moto intercepts them whichever mock is active)."""
    key = (service, region)
    if key not in _CLIENTS:
        _CLIENTS[key] = boto3.client(service, region_name=region)  # type: ignore[call-overload]
    return _CLIENTS[key]


class FakeClock:
    """Handler clock tied to emulator time: sleeping advances the emulator."""

    def __init__(self) -> None:
        self.slept = 0.0

    def now(self) -> float:
        return emulator.STATE.now()

    def monotonic(self) -> float:
        return emulator.STATE.clock_offset

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        emulator.advance(seconds)


@dataclass
class World:
    env: dict[str, str]
    health: HealthEndpoints
    primary_arn: str
    secondary_arn: str
    queue_url: str
    clock: FakeClock = field(default_factory=FakeClock)

    def client(self, service: str, region: str = SECONDARY) -> Any:
        return _client(service, region)

    def run(self, event: Any, **env: str) -> dict[str, Any]:
        return failover.handle(event, {**self.env, **env}, self.clock)

    def writer(self) -> str:
        gc = self.client("rds").describe_global_clusters(GlobalClusterIdentifier=GID)["GlobalClusters"][0]
        return next(m["DBClusterArn"] for m in gc["GlobalClusterMembers"] if m["IsWriter"])

    def param(self, name: str, region: str = SECONDARY) -> str | None:
        try:
            return str(self.client("ssm", region).get_parameter(Name=name)["Parameter"]["Value"])
        except Exception:  # noqa: BLE001
            return None

    def messages(self) -> list[dict[str, Any]]:
        sqs = self.client("sqs")
        out: list[dict[str, Any]] = []
        while True:
            resp = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            msgs = resp.get("Messages", [])
            if not msgs:
                return out
            for m in msgs:
                body = json.loads(m["Body"])
                out.append({"subject": body.get("Subject"), "message": json.loads(body["Message"])})
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])

    def capacity(self) -> tuple[int, int, int]:
        g = self.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["web-secondary"])["AutoScalingGroups"][0]
        return (g["MinSize"], g["DesiredCapacity"], g["MaxSize"])

    def cache_roles(self) -> dict[str, str]:
        ec = self.client("elasticache")
        gid = self.env["MDR_CACHE_GLOBAL_DATASTORE_ID"]
        g = ec.describe_global_replication_groups(GlobalReplicationGroupId=gid, ShowMemberInfo=True)["GlobalReplicationGroups"][0]
        return {m["ReplicationGroupRegion"]: m["Role"] for m in g["Members"]}

    def set_lag_ms(self, value: float, metric: str = "AuroraGlobalDBReplicationLag", minutes: int = 6, source_region: str = "") -> None:
        """Aurora's lag history for this region's cluster: one datapoint a minute for the last `minutes` minutes
        (with `source_region`, under DBClusterIdentifier and SourceRegion instead of DBClusterIdentifier alone)."""
        now = emulator.STATE.now()
        dimensions = [{"Name": "DBClusterIdentifier", "Value": "shop-secondary"}]
        if source_region:
            dimensions.append({"Name": "SourceRegion", "Value": source_region})
        self.client("cloudwatch").put_metric_data(
            Namespace="AWS/RDS",
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": dimensions,
                    "Value": value,
                    "Unit": "Milliseconds",
                    "Timestamp": datetime.fromtimestamp(now - 60 * k, UTC),
                }
                for k in range(minutes)
            ],
        )

    def promotions(self) -> list[tuple[str, str, str]]:
        return list(emulator.STATE.promotions)


@pytest.fixture(scope="session")
def health() -> Iterator[HealthEndpoints]:
    emulator.install()
    endpoints = HealthEndpoints()
    yield endpoints
    endpoints.close()


@pytest.fixture
def world(health: HealthEndpoints, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": SECONDARY,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    emulator.install()
    with mock_aws():
        emulator.reset()
        emulator.set_promotion_time(30, pending_seconds=2, cache_failover_seconds=10, resync_seconds=60)
        for region in (PRIMARY, SECONDARY):
            health.set_healthy(region, True)
        failover.reset_clients()
        yield _build(health)
        failover.reset_clients()
        emulator.reset()


def _build(health: HealthEndpoints) -> World:
    e_rds, w_rds = _client("rds", PRIMARY), _client("rds", SECONDARY)
    e_rds.create_global_cluster(GlobalClusterIdentifier=GID, Engine="aurora-mysql")
    p = e_rds.create_db_cluster(
        DBClusterIdentifier="shop-primary", Engine="aurora-mysql", GlobalClusterIdentifier=GID,
        MasterUsername="admin", MasterUserPassword="password123",
    )["DBCluster"]
    s = w_rds.create_db_cluster(DBClusterIdentifier="shop-secondary", Engine="aurora-mysql", GlobalClusterIdentifier=GID)["DBCluster"]
    for rds, cluster in ((e_rds, "shop-primary"), (w_rds, "shop-secondary")):  # a warm standby: one instance each
        rds.create_db_instance(DBInstanceIdentifier=f"{cluster}-1", DBClusterIdentifier=cluster, Engine="aurora-mysql", DBInstanceClass="db.r7g.large")
    for region, rg in ((PRIMARY, "cache-primary"), (SECONDARY, "cache-secondary")):
        ec = _client("elasticache", region)
        if region == PRIMARY:
            ec.create_replication_group(
                ReplicationGroupId=rg, ReplicationGroupDescription="c", Engine="redis", CacheNodeType="cache.r6g.large", NumCacheClusters=2
            )
            gds = ec.create_global_replication_group(GlobalReplicationGroupIdSuffix="shop", PrimaryReplicationGroupId=rg)["GlobalReplicationGroup"]
        else:
            ec.create_replication_group(ReplicationGroupId=rg, ReplicationGroupDescription="c", GlobalReplicationGroupId=gds["GlobalReplicationGroupId"])
    ec2 = _client("ec2", SECONDARY)
    ami = "ami-12c6146b"  # one of moto's built-in AMIs (describing all of them costs seconds)
    ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": ami, "InstanceType": "t3.micro"})
    asg = _client("autoscaling", SECONDARY)
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web-secondary", LaunchTemplate={"LaunchTemplateName": "web"},
        MinSize=1, MaxSize=2, DesiredCapacity=1, AvailabilityZones=[f"{SECONDARY}a"],
    )
    ssm = _client("ssm", SECONDARY)
    ssm.create_document(
        Name="magento-dr-post-failover", DocumentType="Command", DocumentFormat="JSON",
        Content=json.dumps({
            "schemaVersion": "2.2", "description": "Magento post-failover",
            "mainSteps": [{"action": "aws:runShellScript", "name": "magento", "inputs": {"runCommand": [
                "bin/magento cache:flush", "bin/magento indexer:reindex catalogsearch_fulltext"]}}],
        }),
    )
    ssm.put_parameter(Name="/magento-dr/secondary/active", Value="false", Type="String")
    _client("ssm", PRIMARY).put_parameter(Name="/magento-dr/primary/active", Value="true", Type="String")
    sns = _client("sns", SECONDARY)
    topic = sns.create_topic(Name="magento-dr-ops")["TopicArn"]
    sqs = _client("sqs", SECONDARY)
    queue_url = sqs.create_queue(QueueName="ops")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    env = {
        "MDR_STACK": "secondary",
        "MDR_REGION": SECONDARY,
        "MDR_PEER_REGION": PRIMARY,
        "MDR_GLOBAL_CLUSTER_ID": GID,
        "MDR_LOCAL_CLUSTER_ID": "shop-secondary",
        "MDR_LOCAL_CLUSTER_ARN": s["DBClusterArn"],
        "MDR_PEER_HEALTH_URL": health.url(PRIMARY),
        "MDR_LOCAL_HEALTH_URL": health.url(SECONDARY),
        "MDR_ASG_NAME": "web-secondary",
        "MDR_SCALE_MIN": "2",
        "MDR_SCALE_DESIRED": "2",
        "MDR_SCALE_MAX": "4",
        "MDR_SSM_PREFIX": "/magento-dr/secondary",
        "MDR_PEER_SSM_PREFIX": "/magento-dr/primary",
        "MDR_TOPIC_ARN": topic,
        "MDR_MODE": "automatic",
        "MDR_RPO_SECONDS": "60",
        "MDR_CONSECUTIVE_FAILURES": "3",
        "MDR_PROBE_INTERVAL_SECONDS": "10",
        "MDR_PROBES_PER_INVOCATION": "3",
        "MDR_PROBE_TIMEOUT_SECONDS": "0.5",
        "MDR_PROMOTION_TIMEOUT_SECONDS": "300",
        "MDR_POLL_SECONDS": "5",
        "MDR_CACHE_GLOBAL_DATASTORE_ID": gds["GlobalReplicationGroupId"],
        "MDR_CACHE_REPLICATION_GROUP_ID": "cache-secondary",
        "MDR_RUN_COMMAND_DOCUMENT": "magento-dr-post-failover",
        "MDR_LOG_LEVEL": "WARNING",
    }
    w = World(env=env, health=health, primary_arn=p["DBClusterArn"], secondary_arn=s["DBClusterArn"], queue_url=queue_url)
    w.set_lag_ms(500)
    emulator.settle()  # the world has been running: its DB and web instances are up
    return w


SCHEDULED = {
    "version": "0",
    "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2024-02-02T12:00:00Z",
    "region": SECONDARY,
    "resources": [f"arn:aws:events:{SECONDARY}:123456789012:rule/magento-dr-evaluate"],
    "detail": {},
}
