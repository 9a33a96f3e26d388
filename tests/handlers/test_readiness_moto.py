"""The readiness function against moto + the emulator: every check passes in a healthy world, and each one fails
when the world drifts the way it says — read through the same adapter and role-shaped calls the Lambda makes."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

import emulator
from emulator import opensearch_metrics
from handlers import failover
from handlers.activation import activation_parameter
from handlers.readiness import CHECKS, decode, decode_digest, digest_parameter_name, encode_digest, parameter_digest
from handlers.readiness_runner import handle

from .conftest import GID, PRIMARY, SECONDARY, World

CLUSTER_PARAMS = {"character_set_server": "utf8mb4", "require_secure_transport": "ON"}
INSTANCE_PARAMS = {"log_bin_trust_function_creators": "1", "max_allowed_packet": "67108864"}
RELEASE = "/magento-dr/release/shop.example.com/version"
DIGEST_RECORD = digest_parameter_name(GID)


@dataclass
class Ready:
    world: World
    env: dict[str, str]
    ids: dict[str, str]

    def run(self, **env: str) -> dict[str, Any]:
        failover.reset_clients()
        return handle({"action": "readiness", "execution_id": "e1"}, {**self.env, **env}, self.world.clock)

    def verdicts(self, **env: str) -> dict[str, list[str]]:
        result = self.run(**env)
        return {row[0]: row[1:] for row in result["checks"]}


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handlers/failover.py", "def lambda_handler(e, c):\n    return {}\n")
    return buf.getvalue()


@pytest.fixture
def ready(world: World) -> Ready:
    """The handler tests' two-region world plus everything readiness reads, healthy, seen from the standby (us-west-2)."""
    return build_ready(world)


def build_ready(world: World) -> Ready:
    """Everything readiness reads, added to the handler tests' world (also bench/bench_handler.py's)."""
    c = world.client
    rds = c("rds")
    rds.create_db_cluster_parameter_group(DBClusterParameterGroupName="shop-cluster", DBParameterGroupFamily="aurora-mysql8.0", Description="x")
    rds.modify_db_cluster_parameter_group(
        DBClusterParameterGroupName="shop-cluster",
        Parameters=[{"ParameterName": k, "ParameterValue": v, "ApplyMethod": "pending-reboot"} for k, v in CLUSTER_PARAMS.items()],
    )
    rds.create_db_parameter_group(DBParameterGroupName="shop-instance", DBParameterGroupFamily="aurora-mysql8.0", Description="x")
    rds.modify_db_parameter_group(
        DBParameterGroupName="shop-instance",
        Parameters=[{"ParameterName": k, "ParameterValue": v, "ApplyMethod": "pending-reboot"} for k, v in INSTANCE_PARAMS.items()],
    )
    rds.modify_db_cluster(DBClusterIdentifier="shop-secondary", DBClusterParameterGroupName="shop-cluster", BackupRetentionPeriod=7, ApplyImmediately=True)
    secret = c("secretsmanager", PRIMARY).create_secret(Name="db-credentials", SecretString="{}", AddReplicaRegions=[{"Region": SECONDARY}])
    replica_arn = secret["ARN"].replace(f":{PRIMARY}:", f":{SECONDARY}:")
    # The sessions' Global Datastore: encrypted, with AUTH (the member inherits both from its primary).
    ec_p = c("elasticache", PRIMARY)
    ec_p.create_replication_group(
        ReplicationGroupId="rdy-primary", ReplicationGroupDescription="x", Engine="valkey", EngineVersion="8.0", CacheNodeType="cache.r7g.large",
        NumCacheClusters=2, AtRestEncryptionEnabled=True, TransitEncryptionEnabled=True, AuthToken="a" * 32,
    )
    datastore = ec_p.create_global_replication_group(GlobalReplicationGroupIdSuffix="rdy", PrimaryReplicationGroupId="rdy-primary")[
        "GlobalReplicationGroup"]["GlobalReplicationGroupId"]
    c("elasticache").create_replication_group(
        ReplicationGroupId="rdy-secondary", ReplicationGroupDescription="x", GlobalReplicationGroupId=datastore, AuthToken="a" * 32
    )
    c("opensearch").create_domain(DomainName="shop-search")
    for region, bucket in ((PRIMARY, "media-primary"), (SECONDARY, "media-secondary")):
        s3 = c("s3", region)
        s3.create_bucket(Bucket=bucket, **({} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}))
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    c("s3").put_bucket_replication(
        Bucket="media-secondary",
        ReplicationConfiguration={
            "Role": "arn:aws:iam::123456789012:role/replication",
            "Rules": [{
                "ID": "media-to-us-east-1", "Status": "Enabled", "Priority": 1, "Filter": {}, "DeleteMarkerReplication": {"Status": "Enabled"},
                "Destination": {"Bucket": "arn:aws:s3:::media-primary", "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                                "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}},
            }],
        },
    )
    for region in (PRIMARY, SECONDARY):
        c("ssm", region).put_parameter(Name=RELEASE, Value="2024.06.1", Type="String")
    # The primary's readiness function stored its digest a minute ago: the same groups, the same engine.
    engine = rds.describe_db_clusters(DBClusterIdentifier="shop-secondary")["DBClusters"][0]["EngineVersion"]
    store_peer_digest(world, parameter_digest(engine, CLUSTER_PARAMS, INSTANCE_PARAMS))
    role = c("iam").create_role(RoleName="failover", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function = c("lambda").create_function(
        FunctionName="shop-secondary-failover", Runtime="python3.13", Role=role, Handler="handlers.failover.lambda_handler", Code={"ZipFile": _zip()}
    )
    c("lambda").put_function_concurrency(FunctionName="shop-secondary-failover", ReservedConcurrentExecutions=1)
    c("scheduler").create_schedule(
        Name="shop-secondary-evaluate", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": function["FunctionArn"], "RoleArn": role},
    )
    ids = {}
    for kind in ("https", "calculated"):
        ids[kind] = c("route53", PRIMARY).create_health_check(
            CallerReference=kind,
            HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": f"{SECONDARY}.shop.example.com", "Port": 443, "ResourcePath": "/"},
        )["HealthCheck"]["Id"]
    now = emulator.STATE.now()
    c("cloudwatch").put_metric_data(
        Namespace="MagentoDR",
        MetricData=[{"MetricName": "RegionHoldsWriter", "Dimensions": [{"Name": "Region", "Value": SECONDARY}, {"Name": "Stack", "Value": "secondary"}],
                     "Value": 0.0, "Timestamp": datetime.fromtimestamp(now - 60 * k, UTC)} for k in range(3)],
    )
    env = {
        **{k: v for k, v in world.env.items() if k not in ("MDR_CACHE_GLOBAL_DATASTORE_ID", "MDR_CACHE_REPLICATION_GROUP_ID")},
        "MDR_CACHE_GLOBAL_DATASTORE_ID": datastore,
        "MDR_CACHE_REPLICATION_GROUP_ID": "rdy-secondary",
        "MDR_RELEASE_PARAMETER": RELEASE,
        "MDR_HOME_REGION": PRIMARY,
        "MDR_STANDBY_CAPACITY": "1",
        "MDR_FAILOVER_FUNCTION": "shop-secondary-failover",
        "MDR_FAILOVER_SCHEDULE": "shop-secondary-evaluate",
        "MDR_DB_CLUSTER_PARAMETER_GROUP": "shop-cluster",
        "MDR_DB_INSTANCE_PARAMETER_GROUP": "shop-instance",
        "MDR_DB_PARAMETERS": json.dumps({"cluster": CLUSTER_PARAMS, "instance": INSTANCE_PARAMS}),
        "MDR_DB_SECRET_ARN": replica_arn,
        "MDR_DB_SECRET_ROLE": "replica",
        "MDR_SEARCH_DOMAIN": "shop-search",
        "MDR_MEDIA_BUCKET": "media-secondary",
        "MDR_MEDIA_PEER_BUCKET": "media-primary",
        "MDR_HEALTH_CHECK_IDS": json.dumps(ids),
        "MDR_PROBE_TIMEOUT_SECONDS": "0.5",
    }
    return Ready(world, env, {**ids, "datastore": datastore, "secret": secret["ARN"]})


def store_peer_digest(world: World, digest: str, age_seconds: float = 60.0) -> None:
    """What the primary's readiness function stores in us-east-1 (handlers/readiness_aws.py publish)."""
    value = encode_digest(digest, "primary", emulator.STATE.now() - age_seconds)
    world.client("ssm", PRIMARY).put_parameter(Name=DIGEST_RECORD, Value=value, Type="String", Overwrite=True)


def test_a_healthy_world_passes_every_check_and_publishes(ready: Ready) -> None:
    result = ready.run()
    assert [row[0] for row in result["checks"]] == list(CHECKS)
    assert {row[0]: row[1:] for row in result["checks"] if row[1] != "pass"} == {}
    assert result["ready"] is True and result["api_calls"] <= 25, result["api_calls"]
    stored = decode(ready.world.param("/magento-dr/secondary/failover/readiness"))
    assert stored is not None and stored["ready"] is True and stored["at"] == result["at"]
    # This region's digest, for the primary's readiness to compare: in the stored result and its own record here.
    record = decode_digest(ready.world.param(DIGEST_RECORD))
    assert record is not None and (record.digest, record.stack, record.at) == (result["digest"], "secondary", result["at"])
    assert stored["digest"] == result["digest"] and f"digest {result['digest']}" in {r[0]: r[2] for r in result["checks"]}["parameters"]
    points = ready.world.client("cloudwatch").get_metric_statistics(
        Namespace="MagentoDR", MetricName="Ready", Dimensions=[{"Name": "Region", "Value": SECONDARY}, {"Name": "Stack", "Value": "secondary"}],
        StartTime=datetime.fromtimestamp(emulator.STATE.now() - 120, UTC), EndTime=datetime.fromtimestamp(emulator.STATE.now() + 60, UTC),
        Period=60, Statistics=["Minimum"],
    )["Datapoints"]
    assert [p["Minimum"] for p in points] == [1.0]


def _break_writer(w: World) -> None:
    w.client("ssm").put_parameter(Name="/magento-dr/secondary/active", Value="true", Type="String", Overwrite=True)


def _break_members(w: World) -> None:
    emulator.set_sync_during_outage("pending-resync")
    emulator.set_dark(PRIMARY)


def _break_lag(w: World) -> None:
    w.set_lag_ms(90_000, metric="AuroraGlobalDBRPOLag")


def _break_parameters(w: World) -> None:
    w.client("rds").modify_db_parameter_group(
        DBParameterGroupName="shop-instance", Parameters=[{"ParameterName": "max_allowed_packet", "ParameterValue": "16777216", "ApplyMethod": "immediate"}]
    )


def _break_credentials(w: World) -> None:
    w.client("secretsmanager", PRIMARY).remove_regions_from_replication(SecretId="db-credentials", RemoveReplicaRegions=[SECONDARY])


def _break_capacity(w: World) -> None:
    w.client("autoscaling").update_auto_scaling_group(AutoScalingGroupName="web-secondary", MaxSize=1, MinSize=1, DesiredCapacity=1)


def _break_cache(w: World) -> None:
    emulator.set_promotion_time(30, cache_failover_seconds=0)
    gid = next(g["GlobalReplicationGroupId"] for g in w.client("elasticache").describe_global_replication_groups()["GlobalReplicationGroups"]
               if g["GlobalReplicationGroupId"].endswith("rdy"))
    w.client("elasticache").failover_global_replication_group(GlobalReplicationGroupId=gid, PrimaryRegion=SECONDARY, PrimaryReplicationGroupId="rdy-secondary")
    emulator.complete_operations()


def _break_search(w: World) -> None:
    # OpenSearch publishes ClusterStatus.* every minute (the emulator: green unless told otherwise).
    opensearch_metrics.set_status("shop-search", "red")
    emulator.advance(61)


def _break_media(w: World) -> None:
    w.client("s3").delete_bucket_replication(Bucket="media-secondary")


def _break_release(w: World) -> None:
    w.client("ssm", PRIMARY).put_parameter(Name=RELEASE, Value="2024.07.0", Type="String", Overwrite=True)


def _break_function(w: World) -> None:
    w.client("lambda").delete_function_concurrency(FunctionName="shop-secondary-failover")


def _break_post_failover(w: World) -> None:
    op = {"op_id": "secondary-1", "kind": "failover", "status": "promoted", "failed_steps": {"run_commands": "no running instance"}}
    w.client("ssm").put_parameter(Name="/magento-dr/secondary/failover/operation", Value=json.dumps(op), Type="String", Overwrite=True)


def _break_peer(w: World) -> None:
    w.client("ssm").put_parameter(Name="/magento-dr/secondary/failover/probes", Value=json.dumps({"consecutive_failures": 3}), Type="String")


def _break_health_checks(w: World) -> None:
    hc = w.client("route53", PRIMARY).list_health_checks()["HealthChecks"][0]["Id"]
    w.client("route53", PRIMARY).update_health_check(HealthCheckId=hc, Disabled=True)


def _break_backups(w: World) -> None:
    w.client("rds").modify_db_cluster(DBClusterIdentifier="shop-secondary", BackupRetentionPeriod=1, ApplyImmediately=True)


def _switchover_here(w: World) -> None:
    """The writer moved to this region outside the failover function (console, CLI, ARC); the region marked active."""
    w.client("rds").switchover_global_cluster(GlobalClusterIdentifier=GID, TargetDbClusterIdentifier=w.secondary_arn)
    emulator.complete_operations()
    w.client("ssm").put_parameter(Name="/magento-dr/secondary/active", Value="true", Type="String", Overwrite=True)


def _break_activation(w: World) -> None:
    _switchover_here(w)  # and its activation record never written: a returning us-east-1 with a stale view would outrank it


def _break_engine(w: World) -> None:
    w.client("rds").modify_db_cluster(DBClusterIdentifier="shop-secondary", EngineVersion="8.0.mysql_aurora.3.08.0", ApplyImmediately=True)


BREAKS: dict[str, tuple[Callable[[World], None], str]] = {
    "writer": (_break_writer, "fences"),
    "members": (_break_members, "pending-resync"),
    "replication-lag": (_break_lag, "rpo-exceeded"),
    "engine-version": (_break_engine, "3.08.0"),
    "parameters": (_break_parameters, "max_allowed_packet=16777216"),
    "credentials": (_break_credentials, "missing"),
    "capacity": (_break_capacity, "web.maxSize"),
    "cache": (_break_cache, "the cache primary is here"),
    "search": (_break_search, "red"),
    "media-replication": (_break_media, "missing"),
    "release": (_break_release, "2024.07.0"),
    "failover-function": (_break_function, "reserves 0"),
    "post-failover": (_break_post_failover, "run_commands"),
    "peer": (_break_peer, "lost"),
    "health-checks": (_break_health_checks, "disabled"),
    "backups": (_break_backups, "retention 1"),
    "activation": (_break_activation, "no activation record"),
}


def test_every_check_has_a_drift_test() -> None:
    assert set(BREAKS) == set(CHECKS)


@pytest.mark.parametrize("check", sorted(BREAKS))
def test_each_check_fails_when_the_world_drifts(ready: Ready, check: str) -> None:
    breaker, words = BREAKS[check]
    breaker(ready.world)
    verdicts = ready.verdicts()
    status, reason, *fix = verdicts[check]
    assert status == "fail", (status, reason, fix)
    assert words in f"{reason} {' '.join(fix)}", (reason, fix)


def test_a_dark_peer_region_leaves_the_evaluation_quick_and_only_its_checks_unknown(ready: Ready) -> None:
    emulator.set_dark_timeouts(True, http_seconds=0.5)
    emulator.set_dark(PRIMARY)  # us-east-1: the peer *and* Route 53's API
    t0 = emulator.STATE.clock_offset
    result = ready.run()
    verdicts = {row[0]: row[1] for row in result["checks"]}
    assert verdicts["release"] == "warn" and verdicts["health-checks"] == "warn" and verdicts["parameters"] == "warn"
    assert result["ready"] is True, [row for row in result["checks"] if row[1] == "fail"]
    # Each unanswered call costs one connect timeout (0.5 s), once: the peer's release and digest (one call) and Route 53's API.
    assert emulator.STATE.clock_offset - t0 == pytest.approx(2 * 0.5)
    assert decode_digest(ready.world.param(DIGEST_RECORD)) is not None, "its own digest is stored all the same"


def test_the_peers_digest_differing_fails_parameters_naming_both(ready: Ready) -> None:
    """The same parameter drifted to different values in each region, or a stack deployed from another commit: each
    region's groups may match what its own stack declares, but the digests differ."""
    store_peer_digest(ready.world, "0123456789abcdef")
    result = ready.run()
    status, reason, fix = {row[0]: row[1:] for row in result["checks"]}["parameters"]
    assert status == "fail" and result["ready"] is False
    assert f"digest {result['digest']} in {SECONDARY}, 0123456789abcdef in {PRIMARY} (primary, 1 min ago)" in reason
    assert "same commit" in fix
    # The primary's readiness would say the same from its side: this region stored its own, different digest.
    record = decode_digest(ready.world.param(DIGEST_RECORD))
    assert record is not None and record.digest == result["digest"] != "0123456789abcdef"


def test_no_peer_digest_yet_warns(ready: Ready) -> None:
    ready.world.client("ssm", PRIMARY).delete_parameter(Name=DIGEST_RECORD)
    status, reason, _ = ready.verdicts()["parameters"]
    assert status == "warn" and f"{PRIMARY} has stored none yet" in reason


def test_the_failover_functions_status_shows_the_latest_readiness(ready: Ready) -> None:
    ready.run(**{"MDR_STANDBY_CAPACITY": "2"})  # the standby "needs" 2: capacity fails
    out = ready.world.run({"action": "status", "dry_run": False, "force": False})
    summary = out["status"]["readiness"]
    assert summary["ready"] is False and summary["not_passing"] == {"capacity": "fail"}


def test_the_cli_prints_the_stored_result_and_exits_by_it(ready: Ready, capsys: pytest.CaptureFixture[str]) -> None:
    ready.run()
    assert failover.main(["readiness"], environ=ready.world.env, clock=ready.world.clock) == 0
    out = capsys.readouterr().out
    assert out.startswith("READY: secondary (us-west-2) 17 pass") and "✔ replication-lag" in out
    failover.reset_clients()
    assert failover.main(["readiness", "--now", "--json"], environ={**ready.env, "MDR_STANDBY_CAPACITY": "2"}, clock=ready.world.clock) == 1
    fresh = json.loads(capsys.readouterr().out)
    assert fresh["ready"] is False and fresh["api_calls"] > 0


def test_the_readiness_function_refuses_a_failover_action_without_calling_aws(ready: Ready) -> None:
    before = len(emulator.STATE.client_calls)
    out = handle({"action": "failover", "dry_run": False, "force": True}, ready.env)
    assert out["action"] == "rejected" and len(emulator.STATE.client_calls) == before


def test_the_activation_records_are_read_from_both_regions_by_ssms_clock(ready: Ready) -> None:
    """Where the writer is, the record written here after the peer's passes; the peer's written later fails, naming both."""
    _switchover_here(ready.world)
    record = activation_parameter(GID)
    ready.world.client("ssm", PRIMARY).put_parameter(Name=record, Value=ready.world.primary_arn, Type="String")
    emulator.advance(120)
    ready.world.client("ssm").put_parameter(Name=record, Value=ready.world.secondary_arn, Type="String")
    status, reason, *_ = ready.verdicts()["activation"]
    assert status == "pass" and "after us-east-1's" in reason, reason
    emulator.advance(120)
    ready.world.client("ssm", PRIMARY).put_parameter(Name=record, Value=ready.world.primary_arn, Type="String", Overwrite=True)
    status, reason, *fix = ready.verdicts()["activation"]
    assert status == "fail" and "us-east-1's activation record" in reason and "is not older" in reason, reason
    assert f"--region {SECONDARY} --name {record} --value {ready.world.secondary_arn}" in " ".join(fix)
