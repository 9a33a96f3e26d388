"""A pilot-light standby (headless cluster, web tier at 0) fails over: prepare first, promote once, exactly once.

The handler runs against moto + the emulator, whose DB instances take `STATE.db_instance_create_seconds`
to be available and whose web instances take `STATE.web_instance_ready_seconds` to serve.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pytest

import emulator
from emulator.iam_policy import Request, evaluate
from handlers import runner
from handlers.settings import Settings
from offline.runner import StackGraph

from .conftest import PRIMARY, SCHEDULED, SECONDARY, World

ADDED = ["shop-secondary-failover-1", "shop-secondary-failover-2"]
STACK_TAGS = {"project": "magento-dr", "stack": "secondary", "role": "secondary", "region": "us-west-2", "managed-by": "pulumi",
              "cost-center": "ecommerce"}
PILOT_LIGHT = {
    "MDR_STANDBY_POSTURE": "pilot-light",
    "MDR_DB_INSTANCE_CLASS": "db.r7g.large",
    "MDR_DB_INSTANCES_TO_ADD": "2",
    "MDR_DB_INSTANCE_PARAMETER_GROUP": "shop-instances",
    "MDR_DB_PERFORMANCE_INSIGHTS_KMS_KEY": "arn:aws:kms:us-west-2:123456789012:key/db",
    "MDR_DB_CA_CERTIFICATE": "rds-ca-rsa2048-g1",
    "MDR_DB_INSTANCE_TIMEOUT_SECONDS": "120",
    "MDR_DB_INSTANCE_TAGS": json.dumps(STACK_TAGS),
}


@pytest.fixture
def pilot(world: World) -> World:
    """The secondary stands by as pilot light: no DB instance in its cluster, no web instance."""
    rds = world.client("rds")
    rds.create_db_parameter_group(DBParameterGroupName="shop-instances", DBParameterGroupFamily="aurora-mysql8.0", Description="x")
    rds.delete_db_instance(DBInstanceIdentifier="shop-secondary-1")
    world.client("autoscaling").update_auto_scaling_group(AutoScalingGroupName="web-secondary", MinSize=0, DesiredCapacity=0, MaxSize=4)
    world.env.update(PILOT_LIGHT, MDR_SCALE_MAX="4")
    emulator.set_instance_timings(db_create_seconds=600, web_ready_seconds=240)
    emulator.set_promotion_time(60, pending_seconds=5, cache_failover_seconds=10)
    return world


def _instances(world: World) -> dict[str, dict[str, Any]]:
    found = world.client("rds").describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": ["shop-secondary"]}])["DBInstances"]
    return {i["DBInstanceIdentifier"]: i for i in found}


def _tags(world: World, instance: dict[str, Any]) -> dict[str, str]:
    found = world.client("rds").list_tags_for_resource(ResourceName=instance["DBInstanceArn"])["TagList"]
    return {t["Key"]: t["Value"] for t in found}


def _promotion_checked(world: World) -> Callable[[], None]:
    """Wrap the handler's promotion request: when it is sent, this cluster must have an available instance."""
    seen: list[dict[str, str]] = []
    original = runner.Runner._promote

    def checked(self: runner.Runner, op: runner.Operation, kind: str) -> None:
        seen.append({i: x["DBInstanceStatus"] for i, x in _instances(world).items()})
        original(self, op, kind)

    runner.Runner._promote = checked  # type: ignore[method-assign]

    def verify() -> None:
        runner.Runner._promote = original  # type: ignore[method-assign]
        assert seen, "no promotion was requested"
        assert all("available" in statuses.values() for statuses in seen), seen

    return verify


def _until(world: World, done: Callable[[dict[str, Any]], bool], limit: int = 15, **env: str) -> list[dict[str, Any]]:
    """Scheduled evaluations back to back (reserved concurrency 1: an event that waited runs right after), until done."""
    runs: list[dict[str, Any]] = []
    while not runs or not done(runs[-1]):
        assert len(runs) < limit, [(r["action"], r["reason"]) for r in runs]
        emulator.advance(5)
        runs.append(world.run(SCHEDULED, **env))
    return runs


def test_a_pilot_light_failover_prepares_then_promotes_once(pilot: World) -> None:
    verify = _promotion_checked(pilot)
    emulator.set_dark(PRIMARY)
    first = pilot.run(SCHEDULED)
    assert first["ok"] and first["action"] == "prepare", first
    assert first["operation"]["status"] == "preparing" and pilot.promotions() == []
    # The web tier first (recorded done: the steps will not scale it again), then the instances.
    assert pilot.capacity() == (2, 2, 4) and first["operation"]["steps_done"] == ["scale_asg"]
    assert first["operation"]["capacity_before"] == [0, 0, 4]
    created = _instances(pilot)
    assert sorted(created) == ADDED and {i["DBInstanceStatus"] for i in created.values()} == {"creating"}
    one, two = created[ADDED[0]], created[ADDED[1]]
    assert (one["PromotionTier"], two["PromotionTier"]) == (0, 1)
    assert one["AvailabilityZone"] != two["AvailabilityZone"]  # the writer-to-be and the reader in different AZs
    assert one["DBInstanceClass"] == "db.r7g.large" and one["Engine"] == "aurora-mysql"
    assert one["DBParameterGroups"][0]["DBParameterGroupName"] == "shop-instances"
    assert one["PerformanceInsightsEnabled"] and one["PerformanceInsightsKMSKeyId"].endswith("key/db")
    assert one["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"
    assert not one["PubliclyAccessible"] and not one["AutoMinorVersionUpgrade"]
    assert _tags(pilot, one) == {**STACK_TAGS, "Name": ADDED[0], "magento-dr:created-by": "failover-function"}
    notices = pilot.messages()
    assert [m["subject"] for m in notices] == ["magento-dr failover preparing: us-west-2"]
    assert notices[0]["message"]["db_instances"] == ADDED

    runs = _until(pilot, lambda r: (r["operation"] or {}).get("status") == "complete")
    verify()
    assert [r["action"] for r in runs[:-1]] == ["prepare"] * (len(runs) - 1)
    assert runs[-1]["action"] == "promote" and runs[-1]["probes"] == [False]  # one probe while preparing
    assert pilot.promotions() == [("magento-gdb", pilot.secondary_arn, "failover")]
    op = runs[-1]["operation"]
    steps = [e["step"] for e in op["timeline"]]
    assert steps[:3] == ["decision", "scale_asg", "db-instances-requested"]
    assert steps.index("db-instance-available") < steps.index("promotion-requested") < steps.index("writer-promoted")
    assert steps.count("resume") == 1 and len(runs) > 2  # a resumed preparation does not grow the record each minute
    assert steps.count("scale_asg") == 1 and op["steps_done"] == ["scale_asg", "activate_region", "cache_failover", "run_commands", "notify"]
    assert op["rpo_evidence"]["lag_metric"] == "AuroraGlobalDBReplicationLag"
    subjects = [m["subject"] for m in pilot.messages()]
    assert subjects == ["magento-dr failover complete: us-west-2"]


def test_the_added_instance_carries_the_stacks_default_tags_and_its_deployed_role_allows_exactly_them(
    pilot: World, secondary: StackGraph
) -> None:
    """Every resource the stack declares carries its provider's default tags; an organisation's tag policy or SCP may require
    them, and would refuse CreateDBInstance in the middle of an outage. The instance the function adds (here with the example
    secondary's own environment) carries them too, and the role that stack deploys allows that request, and no extra tag."""
    function = next(f for f in secondary.of_type("aws:lambda/function:Function") if f.inputs["name"] == secondary.exports["failoverFunctionName"])
    env = {str(k): str(v) for k, v in function.inputs["environment"]["variables"].items()}
    provider = next(p for p in secondary.resources if p.is_provider and p.inputs.get("region") == env["MDR_REGION"])
    stack_tags = provider.inputs["defaultTags"]["tags"]
    pilot.env["MDR_DB_INSTANCE_TAGS"] = env["MDR_DB_INSTANCE_TAGS"]
    emulator.set_dark(PRIMARY)
    assert pilot.run(SCHEDULED)["action"] == "prepare"
    tags = _tags(pilot, _instances(pilot)[ADDED[0]])
    assert tags == {**stack_tags, "Name": ADDED[0], "magento-dr:created-by": "failover-function"}

    # The stack's role, evaluated against that very request (RDS authorizes tags at creation as rds:AddTagsToResource).
    s = Settings.from_env(env)
    policies = [json.loads(p.inputs["policy"]) for p in secondary.of_type("aws:iam/rolePolicy:RolePolicy")
                if p.inputs["role"] == secondary.exports["failoverRoleName"]]
    instance = f"arn:aws:rds:{s.region}:{s.local_cluster_arn.split(':')[4]}:db:{s.failover_instance_ids()[0]}"
    context = {"aws:TagKeys": sorted(tags), **{f"aws:RequestTag/{key}": value for key, value in tags.items()}}
    decision = evaluate(Request("rds:AddTagsToResource", (instance,), context), policies)
    assert decision.allowed, decision.reason
    extra = {**context, "aws:TagKeys": [*context["aws:TagKeys"], "team"], "aws:RequestTag/team": "dba"}
    assert not evaluate(Request("rds:AddTagsToResource", (instance,), extra), policies).allowed


def test_the_post_failover_commands_wait_for_a_web_instance_in_service(pilot: World) -> None:
    """DB instance quick, web slow: the promotion does not wait for the web tier; Run Command fails until one serves."""
    emulator.set_instance_timings(db_create_seconds=60, web_ready_seconds=900)
    emulator.set_dark(PRIMARY)
    runs = _until(pilot, lambda r: (r["operation"] or {}).get("status") == "promoted" and "run_commands" in r["operation"]["failed_steps"])
    assert pilot.writer() == pilot.secondary_arn and len(pilot.promotions()) == 1
    emulator.advance(900)
    resumed = pilot.run(SCHEDULED)
    assert resumed["action"] == "finish-steps" and resumed["operation"]["status"] == "complete", resumed
    assert [e["step"] for e in resumed["operation"]["timeline"] if e["result"] == "ok"].count("run_commands") == 1
    assert runs  # the steps failed (and were reported) before any instance served


def test_the_peer_answering_while_preparing_cancels_and_deletes_nothing(pilot: World) -> None:
    emulator.set_dark(PRIMARY)
    first = pilot.run(SCHEDULED)
    assert first["action"] == "prepare"
    pilot.messages()
    emulator.set_dark(PRIMARY, False)
    emulator.advance(5)
    cancelled = pilot.run(SCHEDULED)
    assert cancelled["ok"] and cancelled["action"] == "cancel", cancelled
    assert cancelled["operation"]["status"] == "cancelled" and pilot.promotions() == []
    assert pilot.writer() == pilot.primary_arn
    # Nothing deleted: the instances keep coming up, the web tier stays scaled.
    assert sorted(_instances(pilot)) == ADDED and pilot.capacity() == (2, 2, 4)
    (message,) = pilot.messages()
    assert message["subject"] == "magento-dr: failover preparation cancelled in us-west-2"
    body = message["message"]
    assert body["return_to_posture"] == [
        f"aws rds delete-db-instance --region {SECONDARY} --db-instance-identifier {ADDED[0]}",
        f"aws rds delete-db-instance --region {SECONDARY} --db-instance-identifier {ADDED[1]}",
        f"aws autoscaling update-auto-scaling-group --region {SECONDARY} --auto-scaling-group-name web-secondary "
        "--min-size 0 --desired-capacity 0 --max-size 4",
    ]
    # Back to steady state: the peer answers, nothing under way, nothing more said.
    emulator.advance(60)
    after = pilot.run(SCHEDULED)
    assert after["action"] == "noop" and after["reason"] == "peer healthy" and pilot.messages() == []


def test_a_run_killed_while_preparing_is_resumed_without_a_second_set_of_instances(pilot: World, monkeypatch: pytest.MonkeyPatch) -> None:
    class Killed(BaseException):
        pass

    emulator.set_dark(PRIMARY)
    with monkeypatch.context() as m:
        original = runner.Runner._add_instances

        def die_after_creating(self: runner.Runner, op: runner.Operation, existing: list[tuple[str, str]]) -> None:
            for n, identifier in enumerate(self.s.failover_instance_ids()):
                self.aws.create_failover_instance(identifier, 0 if n == 0 else 1)
            raise Killed  # the Lambda runtime ends it: the record never learnt of the instances; the lease stays

        m.setattr(runner.Runner, "_add_instances", die_after_creating)
        m.setattr(runner.Runner, "_release_lease", lambda self: None)
        with pytest.raises(Killed):
            pilot.run(SCHEDULED)
        m.setattr(runner.Runner, "_add_instances", original)
    assert sorted(_instances(pilot)) == ADDED and pilot.promotions() == []
    runs = _until(pilot, lambda r: (r["operation"] or {}).get("status") == "complete", limit=40)
    assert any("holds the failover lease" in r["reason"] for r in runs)  # blocked until the dead run's lease lapsed
    assert sorted(_instances(pilot)) == ADDED  # the same two: the identifiers exist already
    assert pilot.promotions() == [("magento-gdb", pilot.secondary_arn, "failover")]


def test_an_operators_failover_during_the_preparation_takes_it_over(pilot: World) -> None:
    emulator.set_dark(PRIMARY)
    pilot.run(SCHEDULED)
    emulator.advance(30)
    taken = pilot.run({"action": "failover", "requested_by": "oncall"})
    assert taken["ok"] and taken["action"] == "prepare" and not taken["operation"]["automatic"], taken
    assert sorted(_instances(pilot)) == ADDED and pilot.promotions() == []  # the same preparation: no new instances
    # Theirs now: the peer answering no longer stops it (they asked for a failover with data loss).
    emulator.set_dark(PRIMARY, False)
    runs = _until(pilot, lambda r: (r["operation"] or {}).get("status") == "complete")
    assert all(r["action"] != "cancel" for r in runs)
    assert pilot.promotions() == [("magento-gdb", pilot.secondary_arn, "failover")]


def test_a_planned_switchover_to_a_headless_standby_prepares_then_switches_over(pilot: World) -> None:
    """The planned drill of a pilot-light standby: no data loss, the operator's command, resumed by the schedule."""
    asked = pilot.run({"action": "switchover", "requested_by": "drill"})
    assert asked["ok"] and asked["action"] == "prepare" and asked["kind"] == "switchover", asked
    runs = _until(pilot, lambda r: (r["operation"] or {}).get("status") == "complete")
    assert all(r["action"] != "cancel" for r in runs)  # the peer answers all along: planned, not stopped
    assert pilot.promotions() == [("magento-gdb", pilot.secondary_arn, "switchover")]
    assert pilot.writer() == pilot.secondary_arn


def test_status_shows_the_preparation(pilot: World) -> None:
    emulator.set_dark(PRIMARY)
    pilot.run(SCHEDULED)
    status = pilot.run({"action": "status"})
    assert status["status"]["operation"]["status"] == "preparing"
    assert sorted(status["status"]["db_instances"]) == [f"{i} creating" for i in ADDED]


def test_without_an_instance_class_it_refuses_to_promote_a_headless_cluster_and_says_how(pilot: World) -> None:
    emulator.set_dark(PRIMARY)
    result = pilot.run(SCHEDULED, MDR_DB_INSTANCE_CLASS="")
    assert result["action"] == "notify-operator" and result["guard"] == "no-db-instance", result
    assert "aws rds create-db-instance" in result["command_hint"]
    assert pilot.promotions() == [] and _instances(pilot) == {} and pilot.capacity() == (0, 0, 4)
    again = pilot.run(SCHEDULED, MDR_DB_INSTANCE_CLASS="")
    assert again["action"] == "refuse" and len(pilot.messages()) == 1


@pytest.mark.parametrize("answer", ["refuse", "accept"])
def test_a_headless_promotion_requested_elsewhere_under_either_answer(pilot: World, answer: str) -> None:
    """ARC's plan, or an operator in the console, asks AWS to fail over to the headless cluster. Refused: the function's
    own preparation promotes. Accepted: the function adopts the promotion, adds the instances and runs the steps once one
    is available. Either way one promotion, and no step before the cluster can write."""
    emulator.set_headless_promotion(answer)
    emulator.set_dark(PRIMARY)
    rds = pilot.client("rds")
    try:
        rds.failover_global_cluster(GlobalClusterIdentifier="magento-gdb", TargetDbClusterIdentifier=pilot.secondary_arn, AllowDataLoss=True)
    except rds.exceptions.InvalidDBClusterStateFault:
        assert answer == "refuse"
    else:
        assert answer == "accept"
    runs = _until(pilot, lambda r: (r["operation"] or {}).get("status") == "complete", limit=20)
    assert pilot.promotions() == [("magento-gdb", pilot.secondary_arn, "failover")]
    op = runs[-1]["operation"]
    steps = [e["step"] for e in op["timeline"]]
    assert steps.index("db-instance-available") < steps.index("activate_region")
    assert op["kind"] == ("adopt" if answer == "accept" else "failover")


def test_the_operation_record_always_fits_a_standard_parameter() -> None:
    record = runner.Operation("op", "failover", "promoted", 0.0, timeline=[
        {"at": "2024-01-01T00:00:00.000+00:00", "step": f"step-{n}", "result": "failed", "detail": "x" * 900} for n in range(12)
    ])
    text = runner.fit_record(asdict(record))
    assert len(text) <= 4096
    back = runner.Operation.load(text)
    assert back is not None and [e["step"] for e in back.timeline] == [f"step-{n}" for n in range(12)]


def test_a_promotion_refused_after_the_preparation_keeps_it_and_asks_again(pilot: World) -> None:
    """AWS refuses the first request (another operation, throttling): the preparation stands, no instance is added again,
    the next evaluation asks again, one promotion in the end."""
    emulator.set_instance_timings(db_create_seconds=60)
    emulator.set_dark(PRIMARY)
    fault = emulator.inject_fault("error", service="rds", operation="FailoverGlobalCluster", error_code="InvalidGlobalClusterStateFault", remaining=1)
    runs = _until(pilot, lambda r: (r["operation"] or {}).get("status") == "complete")
    assert fault.hits == 1 and any("InvalidGlobalClusterStateFault" in (r.get("error") or "") for r in runs)
    refused = next(r for r in runs if "InvalidGlobalClusterStateFault" in (r.get("error") or ""))
    assert refused["operation"]["status"] == "preparing"
    ops = {r["operation"]["op_id"] for r in runs if r["operation"]}
    assert len(ops) == 1 and sorted(_instances(pilot)) == ADDED  # one operation, one set of instances
    assert pilot.promotions() == [("magento-gdb", pilot.secondary_arn, "failover")]
    timeline = runs[-1]["operation"]["timeline"]
    assert [e["step"] for e in timeline if e["result"] == "ok"].count("scale_asg") == 1


def test_an_instance_that_came_up_between_evaluations_is_recorded_before_the_promotion(pilot: World) -> None:
    """The stack's wait per evaluation (40 s) is far shorter than an instance's creation: most often the instance comes up
    while no evaluation runs, and the next one decides to promote straight away. The timeline still says when it was
    found available, before the promotion request, and the promotion is sent once."""
    from components import failover_automation

    wait = str(failover_automation.DB_INSTANCE_WAIT_SECONDS)
    verify = _promotion_checked(pilot)
    emulator.set_dark(PRIMARY)
    first = pilot.run(SCHEDULED, MDR_DB_INSTANCE_TIMEOUT_SECONDS=wait)
    assert first["action"] == "prepare" and first["operation"]["status"] == "preparing", first
    emulator.advance(emulator.STATE.db_instance_create_seconds)
    second = pilot.run(SCHEDULED, MDR_DB_INSTANCE_TIMEOUT_SECONDS=wait)
    verify()
    assert second["action"] == "promote" and second["operation"]["status"] == "complete", second
    steps = [e["step"] for e in second["operation"]["timeline"]]
    assert steps.count("db-instance-available") == 1
    assert steps.index("db-instance-available") < steps.index("promotion-requested") < steps.index("writer-promoted")
    assert pilot.promotions() == [("magento-gdb", pilot.secondary_arn, "failover")]
