"""The emulator's capacity that takes time to come up: DB instances added to a cluster, web instances a group
launches, and both answers AWS may give to a promotion of a cluster that has no available instance."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

import emulator

E, W = "us-east-1", "us-west-2"
NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})
CLASS = "db.r7g.large"


@pytest.fixture
def headless(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A global database whose primary has one instance and whose secondary (in W) is headless."""
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(k, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    emulator.install()
    with mock_aws():
        emulator.reset()
        emulator.set_promotion_time(30, pending_seconds=2)
        e = boto3.client("rds", region_name=E, config=NO_RETRY)
        w = boto3.client("rds", region_name=W, config=NO_RETRY)
        e.create_global_cluster(GlobalClusterIdentifier="gdb", Engine="aurora-mysql")
        p = e.create_db_cluster(DBClusterIdentifier="p", Engine="aurora-mysql", GlobalClusterIdentifier="gdb",
                                MasterUsername="a", MasterUserPassword="password1")
        s = w.create_db_cluster(DBClusterIdentifier="s", Engine="aurora-mysql", GlobalClusterIdentifier="gdb")
        e.create_db_instance(DBInstanceIdentifier="p-1", DBClusterIdentifier="p", Engine="aurora-mysql", DBInstanceClass=CLASS)
        emulator.settle()
        yield {"e": e, "w": w, "p": p["DBCluster"]["DBClusterArn"], "s": s["DBCluster"]["DBClusterArn"]}
        emulator.reset()


def _add(client: Any, instance: str, cluster: str = "s", tier: int = 1) -> dict[str, Any]:
    return dict(client.create_db_instance(DBInstanceIdentifier=instance, DBClusterIdentifier=cluster, Engine="aurora-mysql",
                                          DBInstanceClass=CLASS, PromotionTier=tier)["DBInstance"])


def _status(client: Any, instance: str) -> str:
    return str(client.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"][0]["DBInstanceStatus"])


def _writer_instances(client: Any, cluster: str) -> list[str]:
    members = client.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"][0]["DBClusterMembers"]
    return [m["DBInstanceIdentifier"] for m in members if m["IsClusterWriter"]]


def _writer_cluster(client: Any) -> str:
    gc = client.describe_global_clusters(GlobalClusterIdentifier="gdb")["GlobalClusters"][0]
    return next(m["DBClusterArn"] for m in gc["GlobalClusterMembers"] if m["IsWriter"])


def test_an_instance_added_to_a_secondary_is_creating_then_available_and_never_its_writer(headless: dict[str, Any]) -> None:
    w = headless["w"]
    emulator.set_instance_timings(db_create_seconds=420)
    assert _add(w, "s-failover-1", tier=0)["DBInstanceStatus"] == "creating"
    emulator.advance(419)
    assert _status(w, "s-failover-1") == "creating"
    emulator.advance(2)
    assert _status(w, "s-failover-1") == "available"
    # A secondary of a global database is read-only: none of its instances takes writes.
    assert _writer_instances(w, "s") == []
    assert _writer_instances(headless["e"], "p") == ["p-1"]


def test_creating_the_same_instance_again_is_refused_as_already_existing(headless: dict[str, Any]) -> None:
    _add(headless["w"], "s-failover-1")
    with pytest.raises(ClientError) as info:
        _add(headless["w"], "s-failover-1")
    assert info.value.response["Error"]["Code"] in ("DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault")


def test_a_dark_regions_rds_api_does_not_answer(headless: dict[str, Any]) -> None:
    emulator.set_dark(W)
    with pytest.raises(EndpointConnectionError):
        _add(headless["w"], "s-failover-1")
    with pytest.raises(EndpointConnectionError):
        headless["w"].describe_db_instances()


@pytest.mark.parametrize("operation", ["failover", "switchover"])
@pytest.mark.parametrize("instances", [(), ("creating",)], ids=["headless", "only-creating"])
def test_refuse_a_promotion_to_a_cluster_without_an_available_instance(headless: dict[str, Any], operation: str, instances: tuple[str, ...]) -> None:
    w = headless["w"]
    emulator.set_headless_promotion("refuse")
    for n, _ in enumerate(instances, 1):
        _add(w, f"s-failover-{n}")
    with pytest.raises(ClientError) as info:
        if operation == "failover":
            w.failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=headless["s"], AllowDataLoss=True)
        else:
            w.switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=headless["s"])
    assert info.value.response["Error"]["Code"] == "InvalidDBClusterStateFault"
    assert emulator.STATE.promotions == [] and _writer_cluster(w) == headless["p"]


def test_refused_while_creating_accepted_once_an_instance_is_available(headless: dict[str, Any]) -> None:
    w = headless["w"]
    emulator.set_headless_promotion("refuse")
    _add(w, "s-failover-1", tier=0)
    emulator.advance(emulator.STATE.db_instance_create_seconds)
    w.failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=headless["s"], AllowDataLoss=True)
    emulator.advance(31)
    assert _writer_cluster(w) == headless["s"]
    assert _writer_instances(w, "s") == ["s-failover-1"]
    assert _writer_instances(headless["e"], "p") == []  # the old primary is a read-only secondary now


def test_accept_promotes_a_headless_cluster_which_cannot_write_until_an_instance_is_available(headless: dict[str, Any]) -> None:
    w = headless["w"]
    emulator.set_headless_promotion("accept")
    w.failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=headless["s"], AllowDataLoss=True)
    emulator.advance(31)
    assert _writer_cluster(w) == headless["s"] and emulator.STATE.promotions == [("gdb", headless["s"], "failover")]
    assert w.describe_db_clusters(DBClusterIdentifier="s")["DBClusters"][0]["DBClusterMembers"] == []
    _add(w, "s-failover-2", tier=1)
    _add(w, "s-failover-1", tier=0)
    assert _writer_instances(w, "s") == []  # the primary holds no writer instance: nothing can write yet
    emulator.advance(emulator.STATE.db_instance_create_seconds)
    assert _writer_instances(w, "s") == ["s-failover-1"]  # the first available by promotion tier


def test_an_unknown_headless_answer_is_refused() -> None:
    with pytest.raises(ValueError, match="refuse, accept"):
        emulator.set_headless_promotion("maybe")


@pytest.fixture
def group(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(k, "testing")
    emulator.install()
    with mock_aws():
        emulator.reset()
        ec2 = boto3.client("ec2", region_name=W)
        asg = boto3.client("autoscaling", region_name=W)
        ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"})
        asg.create_auto_scaling_group(AutoScalingGroupName="web", LaunchTemplate={"LaunchTemplateName": "web"}, MinSize=0, MaxSize=4,
                                      DesiredCapacity=1, AvailabilityZones=[f"{W}a"])
        yield ec2, asg
        emulator.reset()


def _lifecycle(asg: Any) -> list[str]:
    return sorted(i["LifecycleState"] for i in asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]["Instances"])


def _running(ec2: Any) -> int:
    found = ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])["Reservations"]
    return sum(len(r["Instances"]) for r in found)


def test_instances_a_group_launches_serve_only_after_the_ready_time_and_settle_readies_what_exists(group: tuple[Any, Any]) -> None:
    ec2, asg = group
    assert _lifecycle(asg) == ["Pending"] and _running(ec2) == 0
    emulator.settle()  # the seeded instance has been running for a while
    assert _lifecycle(asg) == ["InService"] and _running(ec2) == 1
    emulator.set_instance_timings(web_ready_seconds=180)
    asg.update_auto_scaling_group(AutoScalingGroupName="web", MinSize=3, DesiredCapacity=3, MaxSize=4)
    assert _lifecycle(asg) == ["InService", "Pending", "Pending"] and _running(ec2) == 1
    emulator.advance(179)
    assert _lifecycle(asg) == ["InService", "Pending", "Pending"]
    emulator.advance(2)
    assert _lifecycle(asg) == ["InService"] * 3 and _running(ec2) == 3


def test_an_instance_can_be_played_waiting_for_the_writers_region(headless: dict[str, Any]) -> None:
    """Aurora MySQL before 3.09 (and maybe after, for a new instance): a secondary's instance does not start while the
    writer's region is unreachable (docs/aws-assumptions.md P3)."""
    w = headless["w"]
    emulator.set_instance_timings(db_create_seconds=60, db_waits_for_writer=True)
    emulator.set_dark(E)
    _add(w, "s-failover-1")
    emulator.advance(600)
    assert _status(w, "s-failover-1") == "creating"
    emulator.set_dark(E, False)
    assert _status(w, "s-failover-1") == "available"


def test_every_promotion_request_is_logged_with_whether_its_target_could_write(headless: dict[str, Any]) -> None:
    w = headless["w"]
    emulator.set_headless_promotion("refuse")
    with pytest.raises(ClientError):
        w.failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=headless["s"], AllowDataLoss=True)
    _add(w, "s-failover-1")
    emulator.advance(emulator.STATE.db_instance_create_seconds)
    w.switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=headless["s"])
    assert [(arn, kind, ready) for _t, arn, kind, ready in emulator.STATE.promotion_requests] == [
        (headless["s"], "failover", False),
        (headless["s"], "switchover", True),
    ]
