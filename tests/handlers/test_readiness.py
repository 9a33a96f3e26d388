"""The readiness checks as pure functions: a healthy snapshot passes, each drift fails (or warns) with the fix."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from handlers import readiness as r
from handlers.decide import LagReading

NOW = 1_700_000_000.0
P_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:shop-primary"
S_ARN = "arn:aws:rds:eu-west-1:123456789012:cluster:shop-secondary"
B_ARN = "arn:aws:rds:us-west-2:123456789012:cluster:shop-bunker"
CLUSTER_PARAMS = {"require_secure_transport": "ON", "character_set_server": "utf8mb4"}
INSTANCE_PARAMS = {"log_bin_trust_function_creators": "1"}
ENGINE = "8.0.mysql_aurora.3.10.0"
# What both regions' groups report in a healthy pair, and the primary's readiness stored two minutes ago.
DIGEST = r.parameter_digest(ENGINE, CLUSTER_PARAMS, INSTANCE_PARAMS)
OTHER_DIGEST = "0123456789abcdef"

# The standby region (eu-west-1) of a healthy pair.
X = r.Expectations(
    stack="secondary",
    region="eu-west-1",
    peer_region="us-east-1",
    home_region="us-east-1",
    global_cluster_id="gdb",
    local_cluster_arn=S_ARN,
    ssm_prefix="/magento-dr/secondary",
    rpo_seconds=60,
    consecutive_failures=7,
    posture="warm",
    standby_capacity=1,
    production=(2, 2, 6),
    cluster_parameter_group="shop-secondary-cluster",
    cluster_parameters=CLUSTER_PARAMS,
    instance_parameters=INSTANCE_PARAMS,
    backup_retention_days=7,
    credentials_source="replica",
    reserved_concurrency=1,
    failover_function="shop-secondary-failover",
    cache_replication_group_id="sessions-secondary",
    media_bucket="media-secondary",
    release_parameter="/magento-dr/release/shop/version",
)
MEMBERS = (r.Member(P_ARN, True, ""), r.Member(S_ARN, False, "connected"), r.Member(B_ARN, False, "connected"))
SNAP = r.Snapshot(
    now=NOW,
    global_cluster=r.GlobalView(MEMBERS, "8.0.mysql_aurora.3.10.0"),
    local_cluster=r.ClusterView("available", "8.0.mysql_aurora.3.10.0", "shop-secondary-cluster", (("shop-secondary-1", "in-sync"),), 7, NOW - 60),
    cluster_parameters=CLUSTER_PARAMS,
    instance_parameters=INSTANCE_PARAMS,
    lag=LagReading("AuroraGlobalDBRPOLag", 0.8, NOW - 600, NOW, 10),
    state=r.StateView(False, {"consecutive_failures": 0}, {}),
    secret=r.SecretView(primary_region="us-east-1"),
    group=r.GroupView(1, 1, 6, 1),
    cache=r.CacheView(
        "available",
        (("sessions-primary", "us-east-1", "PRIMARY", "associated"), ("sessions-secondary", "eu-west-1", "SECONDARY", "associated")),
        "available",
        True,
        True,
        True,
    ),
    search=r.SearchView(False, False, red=0.0, yellow=0.0),
    media=r.MediaView({"media-to-us-east-1": ("Enabled", "Enabled")}),
    release_local="2024.06.1",
    release_peer="2024.06.1",
    peer_digest=r.DigestRecord(DIGEST, NOW - 120, "primary"),
    function=r.FunctionView("ENABLED", 1, {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 999}}, 10.0),
    peer_answered=None,
    health_checks=(r.HealthCheckView("https", "hc-1", True), r.HealthCheckView("writer", "hc-2", True), r.HealthCheckView("calculated", "hc-3", True)),
)
# The same pair seen from the writer's region (us-east-1).
XP = replace(X, stack="primary", region="us-east-1", peer_region="eu-west-1", local_cluster_arn=P_ARN, ssm_prefix="/magento-dr/primary",
             cluster_parameter_group="shop-primary-cluster", credentials_source="owner", cache_replication_group_id="sessions-primary",
             media_bucket="media-primary", failover_function="shop-primary-failover")
SNAP_P = replace(
    SNAP,
    local_cluster=replace(SNAP.local_cluster, parameter_group="shop-primary-cluster"),  # type: ignore[type-var]
    lag=None,
    state=r.StateView(True, {}, {}),
    secret=r.SecretView(replicas={"eu-west-1": ("InSync", "")}),
    group=r.GroupView(2, 2, 6, 2),
    media=r.MediaView({"media-to-eu-west-1": ("Enabled", "Enabled")}),
    peer_answered=True,
    peer_digest=r.DigestRecord(DIGEST, NOW - 120, "secondary"),
    health_checks=(r.HealthCheckView("https", "hc-4", True, observations=(15, 16)), r.HealthCheckView("calculated", "hc-5", True)),
)


def _verdicts(snap: r.Snapshot, x: r.Expectations) -> dict[str, r.CheckResult]:
    return {c.name: c for c in r.evaluate(snap, x)}


@pytest.mark.parametrize(("snap", "x"), [(SNAP, X), (SNAP_P, XP)], ids=["standby", "writer"])
def test_a_healthy_pair_passes_every_check_from_either_region(snap: r.Snapshot, x: r.Expectations) -> None:
    verdicts = _verdicts(snap, x)
    assert list(verdicts) == list(r.CHECKS)
    assert {n: (c.status.value, c.reason) for n, c in verdicts.items() if c.status != r.Status.PASS} == {}
    assert r.Result("s", x.region, NOW, tuple(verdicts.values())).ready


# Each drift a standby can suffer, the check that catches it, and a word its reason or fix must carry.
FAILS = [
    ("writer", replace(SNAP, global_cluster=r.GlobalView((r.Member(P_ARN, False, "pending-resync"), r.Member(S_ARN, True, ""))),
                       state=r.StateView(True, activation=(S_ARN, NOW - 600))), "RUNBOOK §4"),
    ("writer", replace(SNAP, state=r.StateView(True)), "fences"),
    ("members", replace(SNAP, global_cluster=r.GlobalView((MEMBERS[0], MEMBERS[1], r.Member(B_ARN, False, "pending-resync")), "8.0.mysql_aurora.3.10.0")),
     "shop-bunker (us-west-2) pending-resync"),
    ("replication-lag", replace(SNAP, lag=LagReading("AuroraGlobalDBRPOLag", 75.0, NOW - 600, NOW, 10)), "rpo-exceeded"),
    ("replication-lag", replace(SNAP, lag=LagReading("", None, NOW - 600, NOW)), "lag-unknown"),
    ("engine-version", replace(SNAP, local_cluster=replace(SNAP.local_cluster, engine_version="8.0.mysql_aurora.3.08.0")), "3.08.0"),  # type: ignore[type-var]
    ("parameters", replace(SNAP, cluster_parameters={**CLUSTER_PARAMS, "require_secure_transport": "OFF"}), "require_secure_transport=OFF"),
    ("parameters", replace(SNAP, local_cluster=replace(SNAP.local_cluster, instance_parameter_status=(("i-1", "pending-reboot"),))), "reboot"),  # type: ignore[type-var]
    ("parameters", replace(SNAP, peer_digest=r.DigestRecord(OTHER_DIGEST, NOW - 120, "primary")), f"{DIGEST} in eu-west-1, {OTHER_DIGEST} in us-east-1"),
    ("credentials", replace(SNAP, secret=None), "missing"),
    ("capacity", replace(SNAP, group=r.GroupView(1, 1, 1, 1)), "web.maxSize"),
    ("capacity", replace(SNAP, group=r.GroupView(1, 1, 6, 0)), "posture needs 1"),
    ("cache", replace(SNAP, cache=replace(SNAP.cache, members=(("sessions-primary", "us-east-1", "SECONDARY", "associated"),  # type: ignore[type-var]
                                                                 ("sessions-secondary", "eu-west-1", "PRIMARY", "associated")))), "move the cache primary"),
    ("search", replace(SNAP, search=r.SearchView(False, False, red=1.0, yellow=0.0)), "red"),
    ("media-replication", replace(SNAP, media=r.MediaView({"media-to-us-east-1": ("Disabled", "Enabled")})), "Disabled"),
    ("media-replication", replace(SNAP, media=r.MediaView({"media-to-us-east-1": ("Enabled", "Enabled")}, failed_operations=3)), "failed to replicate"),
    ("media-replication", replace(SNAP, media=r.MediaView({"media-to-us-east-1": ("Enabled", "Enabled")}, latency_seconds=1200)), "late"),
    ("release", replace(SNAP, release_peer="2024.05.9"), "2024.05.9"),
    ("failover-function", replace(SNAP, function=replace(SNAP.function, schedule_state="DISABLED")), "DISABLED"),
    ("failover-function", replace(SNAP, function=replace(SNAP.function, reserved=0)), "put-function-concurrency"),
    ("failover-function", replace(SNAP, function=replace(SNAP.function, heartbeat_samples=0.0)), "no evaluation reported"),
    ("failover-function", replace(SNAP, function=replace(SNAP.function, account_settings={
        "AccountLimit": {"ConcurrentExecutions": 50, "UnreservedConcurrentExecutions": 49}})), "Service Quotas"),
    # A promotion made outside the failover function (console, CLI, ARC) that its adoption has not recorded yet.
    ("activation", replace(SNAP, global_cluster=r.GlobalView((r.Member(P_ARN, False, "connected"), r.Member(S_ARN, True, ""), MEMBERS[2])),
                           state=r.StateView(True)), "no activation record"),
    ("post-failover", replace(SNAP, state=r.StateView(False, {}, {"op_id": "op1", "kind": "failover", "status": "promoted",
                                                                  "failed_steps": {"cache_failover": "refused"}})), "cache_failover"),
    ("peer", replace(SNAP, state=r.StateView(False, {"consecutive_failures": 7})), "lost"),
    ("health-checks", replace(SNAP, health_checks=(r.HealthCheckView("https", "hc-1", False),)), "hc-1 missing"),
    ("health-checks", replace(SNAP, health_checks=(r.HealthCheckView("https", "hc-1", True, disabled=True),)), "disabled"),
    ("backups", replace(SNAP, local_cluster=replace(SNAP.local_cluster, backup_retention_days=1)), "retention 1"),  # type: ignore[type-var]
]


# A failover to the standby: the old primary rebuilding, the standby's web tier still at standby size, the
# cache primary not moved yet.
AFTER_FAILOVER = {"members", "capacity", "cache"}


@pytest.mark.parametrize(("check", "snap", "words"), FAILS, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(FAILS)])
def test_each_drift_fails_its_check_and_says_what_to_do(check: str, snap: r.Snapshot, words: str) -> None:
    verdicts = _verdicts(snap, X)
    got = verdicts[check]
    assert got.status == r.Status.FAIL, got
    assert words in f"{got.reason} {got.fix}", got
    assert got.fix, "a failing check names the fix"
    others = {n for n, c in verdicts.items() if c.status == r.Status.FAIL and n != check}
    # One drift, one failing check; except the writer away from home, which the rest of the region follows, and
    # another engine version, which the parameter digest covers (the peer's digest no longer matches).
    if check == "activation":  # the writer moved here, its old region connected: the writer is away from home too
        assert others == {"writer", "capacity", "cache"}, others
        return
    assert others == (AFTER_FAILOVER if snap is FAILS[0][1] else {"parameters"} if check == "engine-version" else set()), others


FAILS_WRITER = [
    ("peer", replace(SNAP_P, peer_answered=False), "no standby"),
    ("capacity", replace(SNAP_P, group=r.GroupView(2, 2, 6, 1)), "production minimum 2"),
    ("credentials", replace(SNAP_P, secret=r.SecretView(replicas={"eu-west-1": ("Failed", "key disabled")})), "force-overwrite-replica-secret"),
    ("health-checks", replace(SNAP_P, health_checks=(r.HealthCheckView("https", "hc-4", True, observations=(2, 16)),)), "2/16"),
    ("backups", replace(SNAP_P, local_cluster=replace(SNAP_P.local_cluster, latest_restorable_time=NOW - 3600)), "60 min ago"),  # type: ignore[type-var]
    ("writer", replace(SNAP_P, state=r.StateView(False)), "adopts"),
    ("parameters", replace(SNAP_P, peer_digest=r.DigestRecord(OTHER_DIGEST, NOW - 120, "secondary")), f"{OTHER_DIGEST} in eu-west-1"),
    # Back home by a switchover made outside the failover function: eu-west-1's record (its failover) outranks this region's none.
    ("activation", replace(SNAP_P, peer_activation=(S_ARN, NOW - 3600)), "no activation record"),
    ("activation", replace(SNAP_P, state=r.StateView(True, activation=(P_ARN, NOW - 7200)), peer_activation=(S_ARN, NOW - 3600)), "is not older"),
    ("activation", replace(SNAP_P, state=r.StateView(True, activation=(S_ARN, NOW - 60))), "names shop-secondary (eu-west-1)"),
]


@pytest.mark.parametrize(("check", "snap", "words"), FAILS_WRITER, ids=[c for c, _, _ in FAILS_WRITER])
def test_drift_seen_from_the_writers_region(check: str, snap: r.Snapshot, words: str) -> None:
    got = _verdicts(snap, XP)[check]
    assert got.status == r.Status.FAIL and words in f"{got.reason} {got.fix}", got


def test_a_dark_peer_or_us_east_1_makes_only_their_checks_unknown() -> None:
    peer_dark = r.Unread("the release version and parameter digest in us-east-1", "no answer: ConnectTimeoutError")
    dark = replace(SNAP, release_peer=peer_dark, peer_digest=peer_dark, health_checks=r.Unread("Route 53 health checks", "no answer: ConnectTimeoutError"))
    verdicts = _verdicts(dark, X)
    assert {n for n, c in verdicts.items() if c.status != r.Status.PASS} == {"release", "parameters", "health-checks"}
    assert all(verdicts[n].status == r.Status.WARN for n in ("release", "parameters", "health-checks"))
    assert "us-east-1" in verdicts["health-checks"].fix and "unknown" in verdicts["release"].reason
    assert f"digest {DIGEST}; us-east-1's unknown" in verdicts["parameters"].reason
    assert r.Result("s", "eu-west-1", NOW, tuple(verdicts.values())).ready, "unknown is not 'not ready'"


# ---------------------------------------------------------------- the parameter digest, across regions
def test_the_digest_is_stable_and_ignores_the_order_parameters_are_reported_in() -> None:
    reordered = dict(reversed(list(CLUSTER_PARAMS.items())))
    assert list(reordered) != list(CLUSTER_PARAMS)
    assert r.parameter_digest(ENGINE, reordered, INSTANCE_PARAMS) == DIGEST == r.parameter_digest(ENGINE, CLUSTER_PARAMS, dict(INSTANCE_PARAMS))
    assert len(DIGEST) == 16 and int(DIGEST, 16) >= 0


@pytest.mark.parametrize(
    ("engine", "cluster", "instance"),
    [
        ("8.0.mysql_aurora.3.08.0", CLUSTER_PARAMS, INSTANCE_PARAMS),  # another engine version
        (ENGINE, {**CLUSTER_PARAMS, "require_secure_transport": "OFF"}, INSTANCE_PARAMS),  # a value changed
        (ENGINE, CLUSTER_PARAMS, {**INSTANCE_PARAMS, "max_connections": "500"}),  # a key set beside the declared ones
        (ENGINE, INSTANCE_PARAMS, CLUSTER_PARAMS),  # the same keys at the other level
    ],
    ids=["engine", "value", "extra-key", "level"],
)
def test_the_digest_changes_with_what_a_promoted_cluster_would_run(engine: str, cluster: dict[str, str], instance: dict[str, str]) -> None:
    assert r.parameter_digest(engine, cluster, instance) != DIGEST


def test_the_local_digest_is_what_aws_reports_whatever_the_verdict_and_empty_when_unread() -> None:
    assert r.local_parameter_digest(SNAP) == DIGEST
    drifted = replace(SNAP, cluster_parameters={**CLUSTER_PARAMS, "require_secure_transport": "OFF"})
    assert r.local_parameter_digest(drifted) not in ("", DIGEST), "the peer sees a drift as another digest"
    assert r.local_parameter_digest(replace(SNAP, instance_parameters=r.Unread("the instance parameters", "Throttling"))) == ""
    assert r.local_parameter_digest(replace(SNAP, local_cluster=None)) == ""


def test_different_digests_fail_naming_both_regions_digests_and_the_fix() -> None:
    got = _verdicts(replace(SNAP, peer_digest=r.DigestRecord(OTHER_DIGEST, NOW - 180, "primary")), X)["parameters"]
    assert got.status == r.Status.FAIL
    assert got.reason.startswith(f"digest {DIGEST} in eu-west-1, {OTHER_DIGEST} in us-east-1 (primary, 3 min ago)")
    assert "readiness` in each region" in got.fix and "same commit" in got.fix


@pytest.mark.parametrize(
    ("peer_digest", "words"),
    [
        (None, "us-east-1 has stored none yet"),
        (r.Unread("the parameter digest in us-east-1", "AccessDeniedException"), "us-east-1's unknown (AccessDeniedException)"),
        (r.DigestRecord(OTHER_DIGEST, NOW - 3 * 3600, "primary"), f"us-east-1's ({OTHER_DIGEST}) is 3.0 h old"),
    ],
    ids=["none-yet", "unreadable", "stale"],
)
def test_a_peer_digest_that_cannot_be_judged_warns_and_never_fails(peer_digest: r.DigestRecord | r.Unread | None, words: str) -> None:
    got = _verdicts(replace(SNAP, peer_digest=peer_digest), X)["parameters"]
    assert got.status == r.Status.WARN and words in got.reason and got.fix, got


def test_a_local_drift_fails_on_its_own_account_before_the_peer_is_compared() -> None:
    snap = replace(SNAP, cluster_parameters={**CLUSTER_PARAMS, "require_secure_transport": "OFF"}, peer_digest=r.Unread("x", "timeout"))
    got = _verdicts(snap, X)["parameters"]
    assert got.status == r.Status.FAIL and "require_secure_transport=OFF (declared ON)" in got.reason


def test_the_digest_record_round_trips_and_garbage_is_no_record() -> None:
    text = r.encode_digest(DIGEST, "primary", NOW)
    assert r.decode_digest(text) == r.DigestRecord(DIGEST, NOW, "primary") and len(text) < 100 and text.isascii()
    for garbage in (None, "", "not json", "[]", '{"v": 2, "digest": "x", "at": 1}', '{"v": 1, "digest": "", "at": 1}', '{"v": 1, "digest": "x"}'):
        assert r.decode_digest(garbage) is None, garbage
    assert r.digest_parameter_name("gdb") == "/magento-dr/global-cluster/gdb/parameter-digest"


def test_a_standby_at_production_size_is_ready_and_reminded_to_scale_back() -> None:
    got = _verdicts(replace(SNAP, group=r.GroupView(2, 2, 6, 2)), X)["capacity"]
    assert got.status == r.Status.WARN and "RUNBOOK §4 step 5" in got.fix


def test_the_lag_is_not_judged_where_the_writer_is() -> None:
    got = _verdicts(SNAP_P, XP)["replication-lag"]
    assert got.status == r.Status.PASS and "not applicable" in got.reason


def test_an_unknown_posture_is_a_settings_error() -> None:
    from handlers.settings import ReadinessSettings, SettingsError

    with pytest.raises(SettingsError) as info:
        ReadinessSettings.from_env({"MDR_STANDBY_POSTURE": "lukewarm", **_readiness_env()})
    assert info.value.variable == "MDR_STANDBY_POSTURE"


def _readiness_env() -> dict[str, str]:
    return {
        "MDR_STACK": "secondary", "MDR_REGION": "eu-west-1", "MDR_PEER_REGION": "us-east-1", "MDR_GLOBAL_CLUSTER_ID": "gdb",
        "MDR_LOCAL_CLUSTER_ID": "shop-secondary", "MDR_LOCAL_CLUSTER_ARN": S_ARN, "MDR_ASG_NAME": "web", "MDR_SCALE_MIN": "2",
        "MDR_SCALE_DESIRED": "2", "MDR_SCALE_MAX": "6", "MDR_SSM_PREFIX": "/magento-dr/secondary", "MDR_HOME_REGION": "us-east-1",
        "MDR_STANDBY_CAPACITY": "1", "MDR_FAILOVER_FUNCTION": "f", "MDR_FAILOVER_SCHEDULE": "s", "MDR_DB_CLUSTER_PARAMETER_GROUP": "c",
        "MDR_DB_INSTANCE_PARAMETER_GROUP": "i", "MDR_DB_PARAMETERS": json.dumps({"cluster": CLUSTER_PARAMS, "instance": INSTANCE_PARAMS}),
        "MDR_DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x", "MDR_DB_SECRET_ROLE": "replica",
        "MDR_HEALTH_CHECK_IDS": json.dumps({"https": "hc-1"}),
    }


def test_readiness_settings_parse_and_name_a_missing_variable() -> None:
    from handlers.settings import ReadinessSettings, SettingsError

    s = ReadinessSettings.from_env(_readiness_env())
    assert (s.home_region, s.standby_posture, s.readiness_param) == ("us-east-1", "warm", "/magento-dr/secondary/failover/readiness")
    assert dict(s.cluster_parameters) == CLUSTER_PARAMS
    env = {k: v for k, v in _readiness_env().items() if k != "MDR_FAILOVER_SCHEDULE"}
    with pytest.raises(SettingsError) as info:
        ReadinessSettings.from_env(env)
    assert info.value.variable == "MDR_FAILOVER_SCHEDULE"


def test_the_stored_result_fits_an_ssm_standard_parameter_even_when_everything_fails_at_length() -> None:
    long = "x" * 900
    checks = tuple(r.CheckResult(name, r.Status.FAIL, f"{name} {long}", f"fix {long}") for name in r.CHECKS)
    text = r.encode(r.Result("secondary", "eu-west-1", NOW, checks, parameter_digest=DIGEST))
    assert len(text) <= r.SSM_STANDARD_VALUE_LIMIT and text.isascii()
    stored = r.decode(text)
    assert stored is not None and stored["ready"] is False and stored["digest"] == DIGEST
    assert [row[:2] for row in stored["checks"]] == [[n, "fail"] for n in r.CHECKS], "every check's name and verdict survive"


def test_the_stored_result_keeps_every_reason_when_it_fits() -> None:
    checks = r.evaluate(SNAP, X)
    stored = r.decode(r.encode(r.Result("secondary", "eu-west-1", NOW, checks, parameter_digest=DIGEST)))
    assert stored is not None and [row[2] for row in stored["checks"]] == [c.reason for c in checks]
    text = r.render(stored, NOW + 120)
    assert text.startswith(f"READY: secondary (eu-west-1) 17 pass, 0 warn, 0 fail, 2.0 min ago\n  parameter digest {DIGEST}")
    assert r.summary(stored, NOW + 120) == {
        "readiness": {"ready": True, "at": NOW, "age_seconds": 120.0, "parameter_digest": DIGEST, "not_passing": {}}
    }


def test_metrics_one_per_check_and_ready() -> None:
    checks = r.evaluate(replace(SNAP, release_peer="other", health_checks=r.Unread("Route 53", "timeout")), X)
    data = r.metric_data(r.Result("secondary", "eu-west-1", NOW, checks))
    assert data[0] == ("Ready", 0.0, {})
    values = {dims["Check"]: value for name, value, dims in data[1:] if name == "ReadinessCheck"}
    assert set(values) == set(r.CHECKS) and values["release"] == 0.0 and values["health-checks"] == 0.5 and values["writer"] == 1.0


def test_parameter_digest_matches_the_stacks() -> None:
    from components.global_database import cluster_parameters, instance_parameters, parameter_digest

    cluster, instance = cluster_parameters(audit_log=False), instance_parameters()
    assert r.parameter_digest("8.0.mysql_aurora.3.10.0", cluster, instance) == parameter_digest("8.0.mysql_aurora.3.10.0", cluster, instance)


# ---------------------------------------------------------------- the postures (magento-dr:standby.posture)
PILOT = replace(X, posture="pilot-light", standby_capacity=0)
HEADLESS = replace(SNAP, group=r.GroupView(0, 0, 6, 0), local_cluster=replace(SNAP.local_cluster, instance_parameter_status=()))  # type: ignore[type-var]
HOT = replace(X, posture="hot", standby_capacity=2)


def _capacity(snap: r.Snapshot, x: r.Expectations) -> r.CheckResult:
    return _verdicts(snap, x)["capacity"]


def test_a_pilot_light_standby_without_web_or_db_instances_is_ready() -> None:
    got = _capacity(HEADLESS, PILOT)
    assert got.status == r.Status.PASS and "0 DB instance(s)" in got.reason, got


def test_a_pilot_light_standby_still_running_what_a_failover_added_is_ready_at_cost_with_the_commands_to_return() -> None:
    """After a failback (or a preparation that stopped), the instances the function added and the scaled web tier stay."""
    added = (("shop-secondary-failover-1", "in-sync"), ("shop-secondary-failover-2", "in-sync"))
    snap = replace(HEADLESS, group=r.GroupView(2, 2, 6, 2), local_cluster=replace(HEADLESS.local_cluster, instance_parameter_status=added))  # type: ignore[type-var]
    got = _capacity(snap, replace(PILOT, asg_name="web-secondary"))
    assert got.status == r.Status.WARN and "ready, at cost" in got.reason, got
    assert "aws rds delete-db-instance --region eu-west-1 --db-instance-identifier shop-secondary-failover-1" in got.fix
    assert "aws rds delete-db-instance --region eu-west-1 --db-instance-identifier shop-secondary-failover-2" in got.fix
    assert ("aws autoscaling update-auto-scaling-group --region eu-west-1 --auto-scaling-group-name web-secondary --min-size 0 "
            "--desired-capacity 0 --max-size 6") in got.fix


def test_a_pilot_light_standby_with_an_instance_nobody_added_is_ready_at_cost_but_not_deleted_for_you() -> None:
    snap = replace(HEADLESS, local_cluster=replace(HEADLESS.local_cluster, instance_parameter_status=(("shop-secondary-1", "in-sync"),)))  # type: ignore[type-var]
    got = _capacity(snap, PILOT)
    assert got.status == r.Status.WARN and "shop-secondary-1" in got.reason and "delete-db-instance" not in got.fix, got
    assert "pulumi up" in got.fix


def test_a_warm_standby_without_a_db_instance_is_not_ready() -> None:
    got = _capacity(replace(SNAP, local_cluster=HEADLESS.local_cluster), X)
    assert got.status == r.Status.FAIL and "no DB instance" in got.reason, got


def test_a_warm_standby_keeping_a_repair_instance_warns_with_its_delete_command() -> None:
    members = (("shop-secondary-1", "in-sync"), ("shop-secondary-failover-1", "in-sync"))
    got = _capacity(replace(SNAP, local_cluster=replace(SNAP.local_cluster, instance_parameter_status=members)), X)  # type: ignore[type-var]
    assert got.status == r.Status.WARN and "delete-db-instance --region eu-west-1 --db-instance-identifier shop-secondary-failover-1" in got.fix


@pytest.mark.parametrize(("in_service", "status"), [(2, r.Status.PASS), (1, r.Status.FAIL)])
def test_a_hot_standby_serves_at_production_desired(in_service: int, status: r.Status) -> None:
    got = _capacity(replace(SNAP, group=r.GroupView(2, 2, 6, in_service)), HOT)
    assert got.status == status, got


def test_every_posture_has_a_description_and_pilot_light_alone_is_headless() -> None:
    assert set(r.POSTURES) == {"pilot-light", "warm", "hot"}
    assert [name for name, p in r.POSTURES.items() if p.headless] == ["pilot-light"]
    assert all(p.description for p in r.POSTURES.values())


# ---------------------------------------------------------------- the activation record, where the writer is
def test_the_activation_record_is_judged_where_the_writer_is() -> None:
    judged = lambda snap, x: _verdicts(snap, x)["activation"]  # noqa: E731
    assert "not applicable" in judged(SNAP, X).reason  # the standby: its peer's readiness judges the writer's record
    assert "never left its home region" in judged(SNAP_P, XP).reason  # a fresh pair: no region was ever activated
    failed_back = replace(SNAP_P, state=r.StateView(True, activation=(P_ARN, NOW - 60)), peer_activation=(S_ARN, NOW - 3600))
    got = judged(failed_back, XP)
    assert got.status == r.Status.PASS and "after eu-west-1's" in got.reason, got
    # The fix is the exact command; while the operation that activates the region is under way it only warns.
    bare = judged(replace(SNAP_P, peer_activation=(S_ARN, NOW - 3600)), XP)
    assert "aws ssm put-parameter --region us-east-1 --name /magento-dr/activation/gdb --value " + P_ARN in bare.fix
    under_way = r.StateView(True, operation={"op_id": "op2", "kind": "switchover", "status": "promoted", "steps_done": ["cache_failover"]})
    assert judged(replace(SNAP_P, state=under_way, peer_activation=(S_ARN, NOW - 3600)), XP).status == r.Status.WARN
    # The peer's record unread (its region dark): unknown, not failing.
    dark = judged(replace(SNAP_P, peer_activation=r.Unread("the activation record in eu-west-1", "timeout")), XP)
    assert dark.status == r.Status.WARN and "unknown" in dark.reason
