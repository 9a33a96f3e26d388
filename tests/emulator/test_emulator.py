"""The emulator extension: documented global-database semantics, faults, darkness, server mode."""

from __future__ import annotations

import itertools
import json
import time
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
    for client, cluster in ((e, "p"), (w, "s")):  # one instance each, available: a global database as it runs
        client.create_db_instance(DBInstanceIdentifier=f"{cluster}-1", DBClusterIdentifier=cluster, Engine="aurora-mysql", DBInstanceClass="db.r7g.large")
    emulator.settle()
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


@pytest.mark.parametrize("mode", ["standard", "adaptive"])
def test_the_sdks_own_waits_are_spent_in_emulator_time(aws: dict[str, Any], mode: str) -> None:
    """botocore's retry backoff (and the adaptive mode's rate limiter after a throttle) waits on the emulator's clock."""
    client = boto3.client("rds", region_name=W, config=Config(retries={"mode": mode, "total_max_attempts": 4}))
    fault = emulator.inject_fault("error", service="rds", operation="DescribeDBClusters", region=W, error_code="Throttling", remaining=3)
    emulated, wall = emulator.STATE.clock_offset, time.monotonic()
    client.describe_db_clusters()  # three throttles, then the answer
    waited, took = emulator.STATE.clock_offset - emulated, time.monotonic() - wall
    assert fault.hits == 3
    assert waited > 0 and took < 1.0, (waited, took)  # backoff of up to 1 + 2 + 4 s (standard), more when rate-limited
    # A caller beside the failover path keeps its waits to itself: the shared clock does not move.
    emulator.inject_fault("error", service="rds", operation="DescribeDBClusters", region=W, error_code="Throttling", remaining=2)
    emulator.STATE.deferred_dark_costs = own = []
    try:
        before = emulator.STATE.clock_offset
        client.describe_db_clusters()
    finally:
        emulator.STATE.deferred_dark_costs = None
    assert emulator.STATE.clock_offset == before and sum(own) > 0


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


# ---------------------------------------------------------------- three members (a database-only "bunker" region)
B = "eu-central-1"


@pytest.fixture
def aws3(aws: dict[str, Any]) -> dict[str, Any]:
    """The two-region global database plus a third, reader-only member in ``B``."""
    b = boto3.client("rds", region_name=B, config=NO_RETRY)
    created = b.create_db_cluster(DBClusterIdentifier="b", Engine="aurora-mysql", GlobalClusterIdentifier="gdb")
    b.create_db_instance(DBInstanceIdentifier="b-1", DBClusterIdentifier="b", Engine="aurora-mysql", DBInstanceClass="db.r7g.large")
    emulator.settle()
    return {**aws, "b": b, "bunker": created["DBCluster"]["DBClusterArn"]}


def _members(client: Any) -> dict[str, tuple[bool, str]]:
    return {m["DBClusterArn"]: (m["IsWriter"], m["SynchronizationStatus"]) for m in _gc(client)["GlobalClusterMembers"]}


def test_third_member_joins_as_a_reader(aws3: dict[str, Any]) -> None:
    members = _gc(aws3["b"])["GlobalClusterMembers"]
    assert {m["DBClusterArn"]: m["IsWriter"] for m in members} == {aws3["p"]: True, aws3["s"]: False, aws3["bunker"]: False}
    [writer] = [m for m in members if m["IsWriter"]]
    assert sorted(writer["Readers"]) == sorted([aws3["s"], aws3["bunker"]])


def test_failover_with_three_members_rebuilds_every_other_secondary(aws3: dict[str, Any]) -> None:
    # User Guide: after a managed failover Aurora rebuilds all additional secondary clusters from the
    # new primary, and re-adds the old primary as a secondary once its region is healthy again.
    w = aws3["w"]
    emulator.set_dark(E)
    resp = w.failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws3["s"], AllowDataLoss=True)
    fs = resp["GlobalCluster"]["FailoverState"]
    assert (fs["FromDbClusterArn"], fs["ToDbClusterArn"]) == (aws3["p"], aws3["s"])
    emulator.advance(33)
    assert "FailoverState" not in _gc(w)
    assert _members(w) == {
        aws3["s"]: (True, "connected"),
        aws3["p"]: (False, "pending-resync"),
        aws3["bunker"]: (False, "pending-resync"),
    }
    [writer] = [m for m in _gc(w)["GlobalClusterMembers"] if m["IsWriter"]]
    assert sorted(writer["Readers"]) == sorted([aws3["p"], aws3["bunker"]])
    emulator.advance(61)  # the bunker's region is healthy: its rebuild finishes; the old primary's region is still dark
    assert _members(w) == {
        aws3["s"]: (True, "connected"),
        aws3["p"]: (False, "pending-resync"),
        aws3["bunker"]: (False, "connected"),
    }
    emulator.set_dark(E, False)
    _gc(w)
    emulator.advance(61)
    assert _members(w) == {aws3["s"]: (True, "connected"), aws3["p"]: (False, "connected"), aws3["bunker"]: (False, "connected")}
    assert emulator.STATE.promotions == [("gdb", aws3["s"], "failover")]


def test_switchover_with_three_members_keeps_the_topology(aws3: dict[str, Any]) -> None:
    e = aws3["e"]
    e.switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws3["bunker"])
    fs = _gc(e)["FailoverState"]
    assert (fs["FromDbClusterArn"], fs["ToDbClusterArn"], fs["IsDataLossAllowed"]) == (aws3["p"], aws3["bunker"], False)
    emulator.complete_operations()
    assert _members(e) == {aws3["bunker"]: (True, "connected"), aws3["p"]: (False, "connected"), aws3["s"]: (False, "connected")}
    # and on to the other secondary, then back: one writer at every step, nobody leaves
    aws3["b"].switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws3["s"])
    emulator.complete_operations()
    assert _members(e) == {aws3["s"]: (True, "connected"), aws3["p"]: (False, "connected"), aws3["bunker"]: (False, "connected")}
    aws3["w"].switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws3["p"])
    emulator.complete_operations()
    assert _members(e) == {aws3["p"]: (True, "connected"), aws3["s"]: (False, "connected"), aws3["bunker"]: (False, "connected")}
    assert [(t, k) for (_g, t, k) in emulator.STATE.promotions] == [
        (aws3["bunker"], "switchover"), (aws3["s"], "switchover"), (aws3["p"], "switchover")]


def test_a_secondary_being_rebuilt_is_no_switchover_target(aws3: dict[str, Any]) -> None:
    aws3["w"].failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws3["s"], AllowDataLoss=True)
    emulator.complete_operations()
    with pytest.raises(ClientError) as info:
        aws3["w"].switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws3["bunker"])
    assert info.value.response["Error"]["Code"] == "InvalidDBClusterStateFault"
    emulator.advance(61)
    aws3["w"].switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws3["bunker"])
    emulator.complete_operations()
    assert _writer(aws3["w"]) == aws3["bunker"]


def test_a_bare_identifier_names_the_member_in_the_request_region(aws3: dict[str, Any]) -> None:
    # Same cluster name in three regions (as per-region stacks often produce): only the ARN is unambiguous.
    clients = {E: aws3["e"], W: aws3["w"], B: aws3["b"]}
    clients[E].create_global_cluster(GlobalClusterIdentifier="gdb2", Engine="aurora-mysql")
    arns = {}
    for region in (E, W, B):
        extra = {"MasterUsername": "a", "MasterUserPassword": "password1"} if region == E else {}
        arns[region] = clients[region].create_db_cluster(
            DBClusterIdentifier="shop", Engine="aurora-mysql", GlobalClusterIdentifier="gdb2", **extra
        )["DBCluster"]["DBClusterArn"]
        clients[region].create_db_instance(DBInstanceIdentifier="shop-1", DBClusterIdentifier="shop", Engine="aurora-mysql", DBInstanceClass="db.r7g.large")
    emulator.settle()
    with pytest.raises(ClientError) as info:
        clients[E].switchover_global_cluster(GlobalClusterIdentifier="gdb2", TargetDbClusterIdentifier="shop")
    assert info.value.response["Error"]["Code"] == "InvalidGlobalClusterStateFault"  # us-east-1's "shop" is the primary
    clients[B].switchover_global_cluster(GlobalClusterIdentifier="gdb2", TargetDbClusterIdentifier="shop")
    assert emulator.STATE.promotions == [("gdb2", arns[B], "switchover")]
    with pytest.raises(ClientError) as info:
        clients[W].switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier="b")  # "b" lives in eu-central-1
    assert info.value.response["Error"]["Code"] == "DBClusterNotFoundFault"
    clients[W].switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws3["bunker"])  # its ARN works anywhere
    assert emulator.STATE.promotions[-1] == ("gdb", aws3["bunker"], "switchover")


def test_a_switchover_waits_for_every_secondary_to_be_synchronized(aws3: dict[str, Any]) -> None:
    # "All secondary clusters are synchronized with the primary at the beginning of the process"
    # (API reference, SwitchoverGlobalCluster): while the bunker is rebuilt, nothing can switch over.
    aws3["w"].failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws3["s"], AllowDataLoss=True)
    emulator.complete_operations()
    emulator.set_dark(B)  # the bunker's region is out: its rebuild cannot finish
    emulator.advance(61)
    assert _members(aws3["w"])[aws3["p"]] == (False, "connected")
    assert _members(aws3["w"])[aws3["bunker"]] == (False, "pending-resync")
    with pytest.raises(ClientError) as info:
        aws3["w"].switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws3["p"])
    assert info.value.response["Error"]["Code"] == "InvalidGlobalClusterStateFault"
    assert aws3["bunker"] in info.value.response["Error"]["Message"]
    emulator.set_dark(B, False)
    emulator.advance(61)
    aws3["w"].switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws3["p"])
    emulator.complete_operations()
    assert _writer(aws3["w"]) == aws3["p"]


def test_a_switchover_is_cancelled_when_another_member_region_goes_dark(aws3: dict[str, Any]) -> None:
    aws3["e"].switchover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws3["s"])
    emulator.set_dark(B)  # neither source nor target: a member the switchover must synchronize
    assert _gc(aws3["w"])["FailoverState"]["Status"] == "cancelling"
    emulator.advance(emulator.STATE.promotion_seconds + emulator.STATE.pending_seconds + 1)
    assert "FailoverState" not in _gc(aws3["w"]) and _writer(aws3["w"]) == aws3["p"]
    assert emulator.STATE.promotions[-1] == ("gdb", aws3["s"], "switchover")


def test_a_datastore_member_inherits_from_the_primary_and_refuses_what_it_must_not_pass(aws: dict[str, Any]) -> None:
    """AWS (CreateReplicationGroup, GlobalReplicationGroupId): the member takes engine, version, node type and
    the encryption flags from the datastore's primary — "Do not pass in values for these parameters"."""
    e = boto3.client("elasticache", region_name=E)
    w = boto3.client("elasticache", region_name=W)
    e.create_replication_group(
        ReplicationGroupId="a", ReplicationGroupDescription="d", Engine="valkey", EngineVersion="8.0", CacheNodeType="cache.r7g.large",
        NumCacheClusters=2, AtRestEncryptionEnabled=True, TransitEncryptionEnabled=True, AuthToken="a" * 32,
    )
    created = e.create_global_replication_group(GlobalReplicationGroupIdSuffix="shop", PrimaryReplicationGroupId="a")
    gid = created["GlobalReplicationGroup"]["GlobalReplicationGroupId"]
    with pytest.raises(ClientError) as refused:
        w.create_replication_group(ReplicationGroupId="b", ReplicationGroupDescription="d", GlobalReplicationGroupId=gid, AtRestEncryptionEnabled=True)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterCombination" and "AtRestEncryptionEnabled" in str(refused.value)
    w.create_replication_group(ReplicationGroupId="b", ReplicationGroupDescription="d", GlobalReplicationGroupId=gid, AuthToken="b" * 32)
    member = w.describe_replication_groups(ReplicationGroupId="b")["ReplicationGroups"][0]
    assert member["AtRestEncryptionEnabled"] is True and member["TransitEncryptionEnabled"] is True and member["AuthTokenEnabled"] is True
    assert member["CacheNodeType"] == "cache.r7g.large"


# ---------------------------------------------------------------- what AWS does not document: every answer played
def _lag_points(region: str, metric: str) -> list[tuple[float, float]]:
    from datetime import UTC, datetime

    cw = boto3.client("cloudwatch", region_name=region)
    points = cw.get_metric_statistics(
        Namespace="AWS/RDS", MetricName=metric, Dimensions=[{"Name": "DBClusterIdentifier", "Value": "s"}],
        StartTime=datetime(2000, 1, 1, tzinfo=UTC), EndTime=datetime(2100, 1, 1, tzinfo=UTC), Period=60, Statistics=["Maximum"],
    )["Datapoints"]
    return sorted((p["Timestamp"].timestamp(), p["Maximum"]) for p in points)


@pytest.mark.parametrize(
    ("model", "during_outage_ms"),
    [
        (emulator.LagModel(during_outage="stops"), []),
        (emulator.LagModel(during_outage="grows"), [60_800.0, 120_800.0]),
    ],
    ids=["stops", "grows"],
)
def test_aurora_publishes_its_lag_once_a_minute_under_each_outage_model(
    aws: dict[str, Any], model: emulator.LagModel, during_outage_ms: list[float]
) -> None:
    emulator.set_aurora_lag(model)
    for _ in range(3):  # three minutes of replication
        _gc(aws["w"])
        emulator.advance(60)
    emulator.set_dark(E)
    for _ in range(2):
        emulator.advance(60)
        _gc(aws["w"])
    for metric in ("AuroraGlobalDBRPOLag", "AuroraGlobalDBReplicationLag"):
        values = [v for _t, v in _lag_points(W, metric)]
        # Emulator time is the wall clock plus the advances, so a value that counts time since the outage also
        # counts the test's own run time (milliseconds; seconds on a loaded CI machine): judged to 2 s.
        assert values == pytest.approx([800.0] * 3 + during_outage_ms, abs=2000), (metric, values)
        assert all(later - earlier > 50_000 for earlier, later in itertools.pairwise(values[3:])), values
    # Only secondaries publish it: the writer's own cluster has none.
    assert not [p for p in emulator.STATE.aurora_lag_log if p[1] == aws["p"]]


def test_an_engine_before_aurora_mysql_3_04_publishes_no_rpo_lag(aws: dict[str, Any]) -> None:
    emulator.set_aurora_lag(emulator.LagModel(rpo_lag_published=False))
    _gc(aws["w"])
    assert _lag_points(W, "AuroraGlobalDBRPOLag") == []
    assert [v for _t, v in _lag_points(W, "AuroraGlobalDBReplicationLag")] == [800.0]


@pytest.mark.parametrize("status", ["pending-resync", ""])
def test_members_report_the_played_sync_status_only_while_the_writer_is_dark(aws: dict[str, Any], status: str) -> None:
    emulator.set_sync_during_outage(status)

    def sync() -> dict[str, str | None]:
        return {m["DBClusterArn"]: m.get("SynchronizationStatus") for m in _gc(aws["w"])["GlobalClusterMembers"]}

    assert sync() == {aws["p"]: "connected", aws["s"]: "connected"}
    emulator.set_dark(E)
    assert sync() == {aws["p"]: "connected", aws["s"]: status or None}
    emulator.set_dark(E, False)
    assert sync()[aws["s"]] == "connected"
    # A data-loss failover is still accepted (AWS: it "doesn't wait for data to synchronize").
    emulator.set_dark(E)
    aws["w"].failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws["s"], AllowDataLoss=True)


def test_a_fault_can_last_a_stretch_of_emulator_time(aws: dict[str, Any]) -> None:
    fault = emulator.inject_fault("error", service="rds", operation="FailoverGlobalCluster", error_code="InvalidGlobalClusterStateFault",
                                  remaining=None, until=emulator.STATE.now() + 300)
    for _ in range(2):
        with pytest.raises(ClientError):
            aws["w"].failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws["s"], AllowDataLoss=True)
        emulator.advance(120)
    emulator.advance(61)
    aws["w"].failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws["s"], AllowDataLoss=True)
    assert fault.hits == 2


def test_ssm_stamps_parameters_with_emulator_time() -> None:
    emulator.install()
    with mock_aws():
        emulator.reset()
        emulator.advance(7200)
        ssm = boto3.client("ssm", region_name=W)
        ssm.put_parameter(Name="/x", Value="1", Type="String")
        written = ssm.get_parameters(Names=["/x"])["Parameters"][0]["LastModifiedDate"].timestamp()
        assert abs(written - emulator.STATE.now()) < 2


def _failover_while_east_is_dark(aws: dict[str, Any]) -> None:
    emulator.set_dark(E)
    aws["w"].failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws["s"], AllowDataLoss=True)
    emulator.advance(31)
    assert _writer(aws["w"]) == aws["s"]


def test_a_returning_region_answers_with_the_current_view_by_default(aws: dict[str, Any]) -> None:
    _failover_while_east_is_dark(aws)
    emulator.set_dark(E, False)
    assert _writer(aws["e"]) == aws["s"]


@pytest.mark.parametrize("sync_during_outage", [None, "pending-resync"])
def test_a_returning_region_answers_with_its_view_from_before_the_outage_for_the_played_time(
    aws: dict[str, Any], sync_during_outage: str | None
) -> None:
    emulator.set_stale_view_after_outage(120)
    emulator.set_sync_during_outage(sync_during_outage)
    _failover_while_east_is_dark(aws)
    emulator.advance(300)
    emulator.set_dark(E, False)
    stale = _gc(aws["e"])
    # As us-east-1 saw it when it went dark: its own cluster the writer, no failover, both members connected.
    assert {m["DBClusterArn"]: (m["IsWriter"], m.get("SynchronizationStatus")) for m in stale["GlobalClusterMembers"]} == {
        aws["p"]: (True, "connected"),
        aws["s"]: (False, "connected"),
    }
    assert "FailoverState" not in stale
    assert _writer(aws["w"]) == aws["s"]  # the region that stayed up answers with the current view
    emulator.advance(119)
    assert _writer(aws["e"]) == aws["p"]
    emulator.advance(1)
    assert _writer(aws["e"]) == aws["s"]


def test_a_stale_view_keeps_a_failover_that_was_under_way_and_a_later_outage_keeps_its_own(aws: dict[str, Any]) -> None:
    emulator.set_stale_view_after_outage(60)
    emulator.set_promotion_time(30, pending_seconds=0, auto_complete=False)
    aws["w"].failover_global_cluster(GlobalClusterIdentifier="gdb", TargetDbClusterIdentifier=aws["s"], AllowDataLoss=True)
    emulator.set_dark(E)
    emulator.complete_operations()
    emulator.set_dark(E, False)
    assert _gc(aws["e"])["FailoverState"]["ToDbClusterArn"] == aws["s"]  # what it saw: the failover under way
    assert "FailoverState" not in _gc(aws["w"])
    emulator.advance(61)
    emulator.set_dark(E)  # a second outage: the view kept is the one from now, with s the writer
    emulator.set_dark(E, False)
    assert "FailoverState" not in _gc(aws["e"]) and _writer(aws["e"]) == aws["s"]


def test_a_stale_view_is_a_duration() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        emulator.set_stale_view_after_outage(-1)


def test_sns_signs_every_subscriptions_messages_with_one_key(aws: dict[str, Any]) -> None:
    """As AWS does (one certificate named by SigningCertURL), not a fresh 2048-bit key per subscription as moto would."""
    from moto.sns.models import sns_backends

    sns, sqs = boto3.client("sns", region_name=E), boto3.client("sqs", region_name=E)
    topic = sns.create_topic(Name="ops")["TopicArn"]
    queues = [sqs.create_queue(QueueName=f"inbox-{i}")["QueueUrl"] for i in range(2)]
    for url in queues:
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="failover done", Subject="done")
    bodies = [json.loads(sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"]) for url in queues]
    assert all(b["Message"] == "failover done" and b["Signature"] and b["SignatureVersion"] == "2" for b in bodies)
    subscriptions = list(sns_backends["123456789012"][E].subscriptions.values())
    assert len(subscriptions) == 2 and subscriptions[0].private_key() is subscriptions[1].private_key()
