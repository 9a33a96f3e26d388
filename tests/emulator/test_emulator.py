"""The emulator extension: documented global-database semantics, faults, darkness, server mode."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from moto import mock_aws

import emulator

E, W = "us-east-1", "us-west-2"
NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(k, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    emulator.install()
    with mock_aws():
        emulator.reset()
        emulator.set_promotion_time(30, pending_seconds=2)
        yield _global_db()
        emulator.reset()


def _global_db(endpoint: str | None = None) -> dict[str, Any]:
    e = boto3.client("rds", region_name=E, endpoint_url=endpoint, config=NO_RETRY)
    w = boto3.client("rds", region_name=W, endpoint_url=endpoint, config=NO_RETRY)
    e.create_global_cluster(GlobalClusterIdentifier="gdb", Engine="aurora-mysql")
    p = e.create_db_cluster(DBClusterIdentifier="p", Engine="aurora-mysql", GlobalClusterIdentifier="gdb", MasterUsername="a", MasterUserPassword="password1")
    s = w.create_db_cluster(DBClusterIdentifier="s", Engine="aurora-mysql", GlobalClusterIdentifier="gdb")
    return {"e": e, "w": w, "p": p["DBCluster"]["DBClusterArn"], "s": s["DBCluster"]["DBClusterArn"]}


def _gc(client: Any) -> dict[str, Any]:
    return dict(client.describe_global_clusters(GlobalClusterIdentifier="gdb")["GlobalClusters"][0])


def _writer(client: Any) -> str:
    return next(m["DBClusterArn"] for m in _gc(client)["GlobalClusterMembers"] if m["IsWriter"])


def test_failover_with_data_loss_transitions(aws: dict[str, Any]) -> None:
    w = aws["w"]
    resp = w.failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws["s"], AllowDataLoss=True)
    fs = resp["GlobalCluster"]["FailoverState"]
    assert fs == {"Status": "pending", "FromDbClusterArn": aws["p"], "ToDbClusterArn": aws["s"], "IsDataLossAllowed": True}
    emulator.advance(3)
    assert _gc(w)["FailoverState"]["Status"] == "failing-over"
    assert _writer(w) == aws["p"]
    emulator.advance(30)
    gc = _gc(w)
    assert "FailoverState" not in gc and _writer(w) == aws["s"]
    sync = {m["DBClusterArn"]: m["SynchronizationStatus"] for m in gc["GlobalClusterMembers"]}
    assert sync == {aws["p"]: "pending-resync", aws["s"]: "connected"}
    emulator.advance(61)
    assert {m["SynchronizationStatus"] for m in _gc(w)["GlobalClusterMembers"]} == {"connected"}


def test_switchover_and_failover_without_allow_data_loss_are_switchovers(aws: dict[str, Any]) -> None:
    emulator.set_promotion_time(30, pending_seconds=0, auto_complete=False)
    w = aws["w"]
    w.failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws["s"])
    fs = _gc(w)["FailoverState"]
    assert fs["IsDataLossAllowed"] is False and fs["Status"] == "switching-over"
    emulator.advance(1000)
    assert _writer(w) == aws["p"]  # manual completion mode
    emulator.complete_operations()
    assert _writer(w) == aws["s"]
    aws["e"].switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws["p"])
    emulator.complete_operations()
    assert _writer(w) == aws["p"]
    assert [k for (_g, _t, k) in emulator.STATE.promotions] == ["switchover", "switchover"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"GlobalClusterIdentifier": "nope", "TargetDbClusterIdentifier": "S"}, "GlobalClusterNotFoundFault"),
        ({"GlobalClusterIdentifier": "gdb", "TargetDbClusterIdentifier": "arn:aws:rds:us-west-2:123456789012:cluster:zz"}, "DBClusterNotFoundFault"),
        ({"GlobalClusterIdentifier": "gdb", "TargetDbClusterIdentifier": "P", "AllowDataLoss": True}, "InvalidGlobalClusterStateFault"),
        ({"GlobalClusterIdentifier": "gdb", "TargetDbClusterIdentifier": "S", "AllowDataLoss": True, "Switchover": True}, "InvalidParameterCombination"),
    ],
)
def test_documented_faults(aws: dict[str, Any], kwargs: dict[str, Any], code: str) -> None:
    kwargs = {k: (aws["s"] if v == "S" else aws["p"] if v == "P" else v) for k, v in kwargs.items()}
    with pytest.raises(ClientError) as info:
        aws["w"].failover_global_cluster(**kwargs)
    assert info.value.response["Error"]["Code"] == code


def test_second_request_while_in_progress_is_rejected(aws: dict[str, Any]) -> None:
    aws["w"].failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws["s"], AllowDataLoss=True)
    with pytest.raises(ClientError) as info:
        aws["w"].switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws["s"])
    assert info.value.response["Error"]["Code"] == "InvalidGlobalClusterStateFault"
    assert len(emulator.STATE.promotions) == 1


def test_switchover_cancels_when_primary_region_goes_dark(aws: dict[str, Any]) -> None:
    aws["w"].switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws["s"])
    emulator.set_dark(E)
    assert _gc(aws["w"])["FailoverState"]["Status"] == "cancelling"
    emulator.advance(5)
    assert "FailoverState" not in _gc(aws["w"]) and _writer(aws["w"]) == aws["p"]


def test_switchover_target_must_be_in_sync(aws: dict[str, Any]) -> None:
    aws["w"].failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws["s"], AllowDataLoss=True)
    emulator.complete_operations()
    with pytest.raises(ClientError) as info:
        aws["e"].switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws["p"])
    assert info.value.response["Error"]["Code"] == "InvalidDBClusterStateFault"


def test_dark_region_and_injected_faults(aws: dict[str, Any]) -> None:
    emulator.set_dark(E)
    with pytest.raises(EndpointConnectionError):
        aws["e"].describe_db_clusters()
    assert _writer(aws["w"]) == aws["p"]  # still readable from the healthy region
    emulator.set_dark(E, False)
    fault = emulator.inject_fault("error", service="rds", operation="DescribeDBClusters", region=W, error_code="Throttling", remaining=1)
    with pytest.raises(ClientError) as info:
        aws["w"].describe_db_clusters()
    assert info.value.response["Error"]["Code"] == "Throttling" and fault.hits == 1
    aws["w"].describe_db_clusters()
    emulator.inject_fault("read_timeout", service="rds", operation="FailoverGlobalCluster", after_processing=True)
    with pytest.raises(ReadTimeoutError):
        aws["w"].failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws["s"], AllowDataLoss=True)
    assert len(emulator.STATE.promotions) == 1  # processed, response lost


def test_elasticache_global_datastore_failover(aws: dict[str, Any]) -> None:
    e = boto3.client("elasticache", region_name=E)
    w = boto3.client("elasticache", region_name=W)
    e.create_replication_group(ReplicationGroupId="a", ReplicationGroupDescription="d", Engine="redis", CacheNodeType="cache.r6g.large", NumCacheClusters=2)
    created = e.create_global_replication_group(GlobalReplicationGroupIdSuffix="shop", PrimaryReplicationGroupId="a")
    gid = created["GlobalReplicationGroup"]["GlobalReplicationGroupId"]
    assert gid == "ldgnf-shop"
    w.create_replication_group(ReplicationGroupId="b", ReplicationGroupDescription="d", GlobalReplicationGroupId=gid)
    emulator.set_promotion_time(30, cache_failover_seconds=10)
    w.failover_global_replication_group(GlobalReplicationGroupId=gid, PrimaryRegion=W, PrimaryReplicationGroupId="b")
    g = w.describe_global_replication_groups(GlobalReplicationGroupId=gid, ShowMemberInfo=True)["GlobalReplicationGroups"][0]
    assert g["Status"] == "modifying"
    with pytest.raises(ClientError) as info:
        w.failover_global_replication_group(GlobalReplicationGroupId=gid, PrimaryRegion=W, PrimaryReplicationGroupId="b")
    assert info.value.response["Error"]["Code"] == "InvalidGlobalReplicationGroupState"  # wire code of the ...Fault shape
    emulator.advance(11)
    g = w.describe_global_replication_groups(GlobalReplicationGroupId=gid, ShowMemberInfo=True)["GlobalReplicationGroups"][0]
    assert {m["ReplicationGroupRegion"]: m["Role"] for m in g["Members"]} == {E: "secondary", W: "primary"}
    assert "Members" not in w.describe_global_replication_groups(GlobalReplicationGroupId=gid)["GlobalReplicationGroups"][0]
    with pytest.raises(ClientError) as info:
        w.describe_global_replication_groups(GlobalReplicationGroupId="missing")
    assert info.value.response["Error"]["Code"] == "GlobalReplicationGroupNotFoundFault"


def test_server_mode_real_http(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(k, "testing")
    server, url = emulator.start_server()
    try:
        emulator.reset()
        emulator.set_promotion_time(30, pending_seconds=0, auto_complete=False)
        world = _global_db(url)
        w = world["w"]
        w.failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=world["s"], AllowDataLoss=True)
        assert _gc(w)["FailoverState"]["Status"] == "failing-over"
        emulator.complete_operations()
        assert _writer(w) == world["s"]
        emulator.set_dark(E)
        with pytest.raises(EndpointConnectionError):
            world["e"].describe_db_clusters()
        emulator.set_dark(E, False)
        emulator.inject_fault("error", service="rds", operation="DescribeGlobalClusters", error_code="Throttling")
        with pytest.raises(ClientError) as info:
            _gc(w)
        assert info.value.response["Error"]["Code"] == "Throttling"
    finally:
        emulator.reset()
        server.stop()


def test_cloudwatch_stamps_untimed_datapoints_with_emulator_time() -> None:
    from datetime import UTC, datetime, timedelta

    emulator.install()
    with mock_aws():
        emulator.reset()
        emulator.advance(3600)  # an hour ahead of the wall clock
        cw = boto3.client("cloudwatch", region_name="eu-west-1")
        cw.put_metric_data(Namespace="T", MetricData=[{"MetricName": "m", "Value": 1.0}])
        cw.put_metric_data(Namespace="T", MetricData=[{"MetricName": "m", "Value": 2.0, "Timestamp": datetime(2020, 1, 1, tzinfo=UTC)}])
        emulated_now = datetime.fromtimestamp(emulator.STATE.now(), UTC)
        recent = cw.get_metric_statistics(
            Namespace="T", MetricName="m", StartTime=emulated_now - timedelta(minutes=5), EndTime=emulated_now + timedelta(minutes=1),
            Period=60, Statistics=["Maximum", "SampleCount"],
        )["Datapoints"]
        assert [(d["Maximum"], d["SampleCount"]) for d in recent] == [(1.0, 1.0)]  # the explicit 2020 datapoint kept its own time


def test_dark_region_can_cost_the_connect_timeout_in_emulator_time() -> None:
    emulator.install()
    with mock_aws():
        emulator.reset()
        client = boto3.client("rds", region_name="us-east-1", config=Config(connect_timeout=2, retries={"mode": "standard", "total_max_attempts": 1}))
        emulator.set_dark("us-east-1")
        before = emulator.STATE.now()
        with pytest.raises(EndpointConnectionError):
            client.describe_db_clusters()  # default: an instant refusal
        assert emulator.STATE.now() - before < 1
        emulator.set_dark_timeouts(True)
        before = emulator.STATE.now()
        with pytest.raises(ConnectTimeoutError):
            client.describe_db_clusters()  # blackholed: the client waits out its 2 s connect timeout
        assert 2 <= emulator.STATE.now() - before < 3


def test_disassociate_leaves_a_standalone_secondary_and_refuses_the_primary() -> None:
    emulator.install()
    with mock_aws():
        emulator.reset()
        groups = {}
        for region, name in (("us-east-1", "rg-a"), ("eu-west-1", "rg-b")):
            ec = boto3.client("elasticache", region_name=region)
            groups[region] = ec
            if region == "us-east-1":
                ec.create_replication_group(ReplicationGroupId=name, ReplicationGroupDescription="a", Engine="redis", CacheNodeType="cache.r7g.large")
                created = ec.create_global_replication_group(GlobalReplicationGroupIdSuffix="shop", PrimaryReplicationGroupId=name)
                gid = created["GlobalReplicationGroup"]["GlobalReplicationGroupId"]
            else:
                ec.create_replication_group(ReplicationGroupId=name, ReplicationGroupDescription="b", GlobalReplicationGroupId=gid)
        east, west = groups["us-east-1"], groups["eu-west-1"]
        with pytest.raises(ClientError, match="primary"):
            west.disassociate_global_replication_group(GlobalReplicationGroupId=gid, ReplicationGroupId="rg-a", ReplicationGroupRegion="us-east-1")
        west.disassociate_global_replication_group(GlobalReplicationGroupId=gid, ReplicationGroupId="rg-b", ReplicationGroupRegion="eu-west-1")
        members = east.describe_global_replication_groups(GlobalReplicationGroupId=gid, ShowMemberInfo=True)["GlobalReplicationGroups"][0]["Members"]
        assert [m["ReplicationGroupId"] for m in members] == ["rg-a"]
        info = west.describe_replication_groups(ReplicationGroupId="rg-b")["ReplicationGroups"][0].get("GlobalReplicationGroupInfo", {})
        assert not info.get("GlobalReplicationGroupId")
