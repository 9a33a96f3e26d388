"""A third, database-only member ("bunker") in the global cluster: the secondary's handler with N=3.

The bunker (``eu-central-1``) is an Aurora secondary cluster joined to the same global
database, with no web tier and no failover function. The handler under test is still the
secondary's (us-west-2); the old primary's (us-east-1) handler runs the failback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

import emulator
from handlers import failover

from .conftest import GID, PRIMARY, SCHEDULED, SECONDARY, World

BUNKER = "eu-central-1"


@dataclass
class ThreeRegions:
    w: World
    bunker_arn: str

    def members(self) -> dict[str, tuple[bool, str]]:
        """ARN -> (IsWriter, SynchronizationStatus), read from the secondary's region."""
        gc = self.w.client("rds").describe_global_clusters(GlobalClusterIdentifier=GID)["GlobalClusters"][0]
        return {m["DBClusterArn"]: (m["IsWriter"], m["SynchronizationStatus"]) for m in gc["GlobalClusterMembers"]}

    def targets(self) -> list[str]:
        return [target for (_gid, target, _kind) in self.w.promotions()]

    def handler_calls_to(self, region: str) -> list[str]:
        return [op for (_svc, op, reg) in emulator.STATE.client_calls if reg == region]

    def operator_switchover_to_bunker(self) -> None:
        """What an operator runs by hand (the bunker has no handler): switchover-global-cluster in the primary's region."""
        self.w.client("rds", PRIMARY).switchover_global_cluster(GlobalClusterIdentifier=GID, TargetDbClusterIdentifier=self.bunker_arn)
        emulator.complete_operations()
        assert self.w.writer() == self.bunker_arn


@pytest.fixture
def three(world: World) -> ThreeRegions:
    rds = world.client("rds", BUNKER)
    bunker = rds.create_db_cluster(DBClusterIdentifier="shop-bunker", Engine="aurora-mysql", GlobalClusterIdentifier=GID)["DBCluster"]
    rds.create_db_instance(DBInstanceIdentifier="shop-bunker-1", DBClusterIdentifier="shop-bunker", Engine="aurora-mysql", DBInstanceClass="db.r7g.large")
    emulator.settle()
    t = ThreeRegions(w=world, bunker_arn=bunker["DBClusterArn"])
    assert t.members() == {
        world.primary_arn: (True, "connected"),
        world.secondary_arn: (False, "connected"),
        t.bunker_arn: (False, "connected"),
    }
    emulator.STATE.client_calls.clear()
    return t


def _primary_env(w: World) -> dict[str, str]:
    """The old primary region's function environment, plus what its post-promotion steps need there."""
    ec2, asg = w.client("ec2", PRIMARY), w.client("autoscaling", PRIMARY)
    ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"})
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web-primary", LaunchTemplate={"LaunchTemplateName": "web"},
        MinSize=1, MaxSize=2, DesiredCapacity=1, AvailabilityZones=[f"{PRIMARY}a"],
    )
    emulator.settle()
    topic = w.client("sns", PRIMARY).create_topic(Name="magento-dr-ops")["TopicArn"]
    env = dict(w.env)
    env.update(
        MDR_STACK="primary", MDR_REGION=PRIMARY, MDR_PEER_REGION=SECONDARY, MDR_LOCAL_CLUSTER_ID="shop-primary",
        MDR_LOCAL_CLUSTER_ARN=w.primary_arn, MDR_PEER_HEALTH_URL=w.health.url(SECONDARY), MDR_LOCAL_HEALTH_URL=w.health.url(PRIMARY),
        MDR_SSM_PREFIX="/magento-dr/primary", MDR_PEER_SSM_PREFIX="/magento-dr/secondary",
        MDR_ASG_NAME="web-primary", MDR_CACHE_REPLICATION_GROUP_ID="cache-primary", MDR_TOPIC_ARN=topic,
        MDR_RUN_COMMAND_DOCUMENT="",
    )
    return env


# ---------------------------------------------------------------- a. the primary region goes dark
def test_primary_dark_promotes_its_own_cluster_once_and_the_bunker_stays_a_reader(three: ThreeRegions) -> None:
    w = three.w
    emulator.set_dark(PRIMARY)
    result = w.run(SCHEDULED)
    assert result["ok"] and result["action"] == "promote", result
    assert w.promotions() == [(GID, w.secondary_arn, "failover")]
    assert emulator.STATE.count_calls("FailoverGlobalCluster") == 1
    assert three.handler_calls_to(BUNKER) == []  # the handler never even talks to the bunker's region
    members = three.members()
    assert members[w.secondary_arn] == (True, "connected")
    assert members[w.primary_arn] == (False, "pending-resync")
    assert members[three.bunker_arn] == (False, "pending-resync")  # being rebuilt from the new primary
    assert w.capacity() == (2, 2, 4) and w.param("/magento-dr/secondary/active") == "true"
    # A minute later the bunker has caught up with the new primary; the dark old primary has not.
    emulator.advance(61)
    members = three.members()
    assert members[three.bunker_arn] == (False, "connected") and members[w.primary_arn] == (False, "pending-resync")
    again = w.run(SCHEDULED)
    assert again["action"] == "noop" and again["writer"] == 1 and len(w.promotions()) == 1
    assert [arn for arn, (is_writer, _sync) in three.members().items() if is_writer] == [w.secondary_arn]


def test_primary_and_bunker_both_dark_still_promotes_only_the_secondary(three: ThreeRegions) -> None:
    w = three.w
    emulator.set_dark(PRIMARY)
    emulator.set_dark(BUNKER)
    result = w.run(SCHEDULED)
    assert result["ok"] and result["action"] == "promote", result
    assert three.targets() == [w.secondary_arn] and w.writer() == w.secondary_arn
    emulator.advance(120)
    members = three.members()
    assert members[three.bunker_arn] == (False, "pending-resync")  # still a member; rebuilt once its region is back
    emulator.set_dark(BUNKER, False)
    three.members()
    emulator.advance(61)
    assert three.members()[three.bunker_arn] == (False, "connected")


def test_the_bunker_rebuilding_does_not_block_the_secondary_handler(three: ThreeRegions) -> None:
    # Right after the failover the bunker is pending-resync: the handler's own sync guard looks
    # at its own member only, so finishing steps / a duplicate delivery are unaffected.
    w = three.w
    emulator.inject_fault("error", service="autoscaling", operation="UpdateAutoScalingGroup", error_code="ValidationError", remaining=1)
    emulator.set_dark(PRIMARY)
    first = w.run(SCHEDULED)
    assert not first["ok"] and three.members()[three.bunker_arn] == (False, "pending-resync")
    second = w.run(SCHEDULED)
    assert second["ok"] and second["action"] == "finish-steps", second
    assert second["operation"]["status"] == "complete" and w.capacity() == (2, 2, 4)
    assert three.targets() == [w.secondary_arn]


# ---------------------------------------------------------------- b. planned switchover and failback
def test_switchover_targets_the_secondary_and_keeps_the_bunker_in_sync(three: ThreeRegions) -> None:
    w = three.w
    result = w.run({"action": "switchover"})
    assert result["ok"], result
    assert w.promotions() == [(GID, w.secondary_arn, "switchover")]
    assert three.members() == {
        w.secondary_arn: (True, "connected"),
        w.primary_arn: (False, "connected"),
        three.bunker_arn: (False, "connected"),  # a switchover keeps the topology: no rebuild
    }
    assert w.cache_roles() == {PRIMARY: "secondary", SECONDARY: "primary"}
    assert three.handler_calls_to(BUNKER) == []


def test_failback_after_a_failover_targets_the_old_primary_and_leaves_the_bunker_a_reader(three: ThreeRegions) -> None:
    w = three.w
    emulator.set_dark(PRIMARY)
    assert w.run(SCHEDULED)["ok"]
    emulator.set_dark(PRIMARY, False)
    three.members()
    emulator.advance(61)  # the old primary is re-added as a secondary and both readers resync
    assert three.members() == {
        w.secondary_arn: (True, "connected"),
        w.primary_arn: (False, "connected"),
        three.bunker_arn: (False, "connected"),
    }
    env = _primary_env(w)
    result = failover.handle({"action": "failback"}, env, w.clock)
    assert result["ok"] and result["kind"] == "failback", result
    assert w.promotions() == [(GID, w.secondary_arn, "failover"), (GID, w.primary_arn, "switchover")]
    assert three.members() == {
        w.primary_arn: (True, "connected"),
        w.secondary_arn: (False, "connected"),
        three.bunker_arn: (False, "connected"),
    }
    assert w.param("/magento-dr/primary/active", PRIMARY) == "true"
    assert w.param("/magento-dr/secondary/active") == "false"  # the primary's activate step set its peer inactive
    # The secondary's next evaluation: a reader again, peer healthy; it promotes nothing.
    after = w.run(SCHEDULED)
    assert after["action"] == "noop" and after["writer"] == 0 and after["reason"] == "peer healthy", after
    assert len(w.promotions()) == 2 and w.writer() == w.primary_arn


def test_failback_while_the_old_primary_still_resyncs_is_refused(three: ThreeRegions) -> None:
    w = three.w
    emulator.set_dark(PRIMARY)
    assert w.run(SCHEDULED)["ok"]
    emulator.set_dark(PRIMARY, False)
    result = failover.handle({"action": "failback"}, _primary_env(w), w.clock)
    assert not result["ok"] and result["guard"] == "local-not-in-sync", result
    assert three.targets() == [w.secondary_arn] and w.writer() == w.secondary_arn


# ---------------------------------------------------------------- c. an operator put the writer in the bunker
def test_bunker_writer_healthy_world_the_secondary_does_nothing(three: ThreeRegions) -> None:
    w = three.w
    three.operator_switchover_to_bunker()
    result = w.run(SCHEDULED)
    # The peer's health says nothing about a writer outside the pair: no probes, nothing judged.
    assert result["action"] == "noop" and result["writer"] == 0 and result["probes"] == [], result
    assert "outside this pair" in result["reason"] and result["status"]["writer_outside_pair"] == BUNKER
    assert three.targets() == [three.bunker_arn] and w.writer() == three.bunker_arn


def test_bunker_writer_operator_failover_command_is_refused_without_force(three: ThreeRegions) -> None:
    w = three.w
    three.operator_switchover_to_bunker()
    result = w.run({"action": "failover"})
    assert not result["ok"] and result["guard"] == "writer-outside-pair", result
    assert "switchover" in result["command_hint"]
    assert three.targets() == [three.bunker_arn] and w.writer() == three.bunker_arn


def test_bunker_writer_region_dark_the_secondary_does_not_promote_itself(three: ThreeRegions) -> None:
    # The writer's own region is lost: the handler does nothing on its own (an operator decides;
    # see the next test) — it neither probes nor promotes.
    w = three.w
    three.operator_switchover_to_bunker()
    emulator.set_dark(BUNKER)
    for _ in range(3):
        result = w.run(SCHEDULED)
        assert result["action"] == "noop" and result["probes"] == [], result
    assert three.targets() == [three.bunker_arn] and w.writer() == three.bunker_arn
    # With --force an operator can still move the writer here, and only here.
    forced = w.run({"action": "failover", "force": True})
    assert forced["ok"], forced
    assert three.targets() == [three.bunker_arn, w.secondary_arn] and w.writer() == w.secondary_arn


def test_an_operator_switchover_to_the_bunker_under_way_is_never_raced(three: ThreeRegions) -> None:
    w = three.w
    emulator.set_promotion_time(30, pending_seconds=2, auto_complete=False)
    w.client("rds", PRIMARY).switchover_global_cluster(GlobalClusterIdentifier=GID, TargetDbClusterIdentifier=three.bunker_arn)
    for event in (SCHEDULED, {"action": "switchover"}):
        result = w.run(event)
        assert result["action"] == "refuse" and result["guard"] == "operation-in-progress", result
    assert three.targets() == [three.bunker_arn]
    emulator.complete_operations()
    assert w.writer() == three.bunker_arn


def test_bunker_writer_and_old_primary_region_dark_the_secondary_must_not_fight(three: ThreeRegions) -> None:
    w = three.w
    three.operator_switchover_to_bunker()
    emulator.set_dark(PRIMARY)  # a region that holds no writer goes dark
    results = [w.run(SCHEDULED) for _ in range(2)]
    # Before the fix the first evaluation decided "peer lost (3 consecutive failed probes)" and called
    # FailoverGlobalCluster(AllowDataLoss=True) for shop-secondary: the bunker lost the writer.
    assert emulator.STATE.count_calls("FailoverGlobalCluster") == 0, json.dumps([r["reason"] for r in results])
    assert three.targets() == [three.bunker_arn] and w.writer() == three.bunker_arn
    assert all(r["action"] != "promote" and r["writer"] == 0 for r in results)


def test_bunker_writer_unforced_failover_command_is_refused_while_the_writer_answers(three: ThreeRegions) -> None:
    w = three.w
    three.operator_switchover_to_bunker()
    emulator.set_dark(PRIMARY)
    result = w.run({"action": "failover"})
    assert not result["ok"] and result["guard"] == "writer-outside-pair", result
    assert "switchover" in result["command_hint"]
    assert three.targets() == [three.bunker_arn] and w.writer() == three.bunker_arn


def test_a_switchover_brings_the_writer_home_from_the_bunker(three: ThreeRegions) -> None:
    # RUNBOOK "Database standby": once the shop regions are healthy, `switchover` in one of them
    # moves the writer back without data loss; the bunker becomes a reader again.
    w = three.w
    three.operator_switchover_to_bunker()
    result = w.run({"action": "switchover"})
    assert result["ok"] and result["action"] == "promote" and result["kind"] == "switchover", result
    assert three.targets() == [three.bunker_arn, w.secondary_arn] and w.writer() == w.secondary_arn
    assert emulator.STATE.count_calls("FailoverGlobalCluster") == 0
    assert three.members()[three.bunker_arn] == (False, "connected")


def test_a_switchover_home_with_a_member_region_dark_is_cancelled_not_forced(three: ThreeRegions) -> None:
    # A switchover synchronizes every secondary first: with the old primary's region dark, AWS
    # cancels it and the writer stays in the bunker. The handler reports failure; it never turns
    # the switchover into a data-loss failover on its own.
    w = three.w
    three.operator_switchover_to_bunker()
    emulator.set_dark(PRIMARY)
    result = w.run({"action": "switchover"})
    assert not result["ok"], result
    assert w.writer() == three.bunker_arn
    assert emulator.STATE.count_calls("FailoverGlobalCluster") == 0


def test_failback_waits_for_the_bunker_to_be_rebuilt(three: ThreeRegions) -> None:
    # After a data-loss failover AWS rebuilds every other secondary. Here the old primary is back
    # and connected while the bunker (its region out too) is still not: a switchover cannot
    # synchronize it, so the failback is refused with the reason, and succeeds once it is back.
    w = three.w
    emulator.set_dark(PRIMARY)
    w.run(SCHEDULED)  # detects the loss and fails over to the secondary
    assert w.writer() == w.secondary_arn
    emulator.set_dark(BUNKER)
    emulator.set_dark(PRIMARY, False)
    emulator.advance(emulator.STATE.resync_seconds + 1)
    assert three.members()[w.primary_arn] == (False, "connected")
    assert three.members()[three.bunker_arn] == (False, "pending-resync")
    env = _primary_env(w)
    refused = w.run({"action": "failback"}, **env)
    assert not refused["ok"] and refused["guard"] == "secondaries-not-in-sync", refused
    assert three.bunker_arn in refused["reason"] and refused["status"]["secondaries_behind"] == [three.bunker_arn]
    emulator.set_dark(BUNKER, False)
    emulator.advance(emulator.STATE.resync_seconds + 1)
    done = w.run({"action": "failback"}, **env)
    assert done["ok"] and done["kind"] == "failback", done
    assert w.writer() == w.primary_arn and three.members()[three.bunker_arn] == (False, "connected")
