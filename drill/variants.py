"""The drill's variants: each plays one answer to a question AWS leaves open, with the outcome an SRE expects.

AWS does not document what Aurora's lag metrics (AuroraGlobalDBRPOLag, AuroraGlobalDBReplicationLag)
or a member's SynchronizationStatus show in the secondary's region while the primary's region is
dark, nor how long it may refuse a promotion, nor what a region that comes back reports about the writer. `python -m drill --variant NAME` plays one answer
(emulator/aurora_metrics.py, emulator/rds.py, emulator faults); the default run plays the one that
defeated the old look-back guard (the lag keeps growing). Each variant states what must happen:
a failover when the lag before the outage was within the RPO, none (and one notification) when it
was not.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    #: Aurora's lag metrics while the writer's region is dark: "grows" (time since replication
    #: stopped) or "stops" (no datapoints).
    lag_during_outage: str = "grows"
    #: The lag while replication flows, before the outage (milliseconds).
    lag_before_outage_ms: float = 800.0
    #: AuroraGlobalDBRPOLag published (Aurora MySQL >= 3.04 / 2.12); False plays an older engine.
    rpo_lag_published: bool = True
    #: What the secondary's member reports as SynchronizationStatus while the writer is dark (None: its real status).
    sync_during_outage: str | None = None
    #: FailoverGlobalCluster is refused (InvalidGlobalClusterStateFault) this long after the outage starts.
    promotion_refused_seconds: float = 0.0
    #: The secondary's function is killed right after the writer is confirmed (Lambda timeout, out of memory).
    crash_after_promotion: bool = False
    #: Route 53 reads a missing writer datapoint per the alarm's treatMissingData ("strict") or as
    #: CloudWatch's own evaluation does, from the most recent real datapoints ("lookback").
    route53_reading: str = "strict"
    #: The dimension sets Aurora publishes its lag metrics under (undocumented): emulator.LagModel.dimensions.
    lag_dimensions: str = "cluster"
    #: What AWS answers a promotion request to a cluster without an available DB instance (emulator.set_headless_promotion).
    headless_promotion: str = "refuse"
    #: Someone else (ARC's Region switch plan, an operator in the console) asks AWS to fail over to the standby this long
    #: after the outage starts (None: nobody does).
    external_failover_after_seconds: float | None = None
    #: How long a DB instance added to a cluster takes to be available (None: the emulator's default, the RTO budget's figure).
    db_instance_create_seconds: float | None = None
    #: Whether a headless secondary publishes its lag metrics (unverified: emulator LagModel.headless_published).
    headless_lag_published: bool = True
    #: A DB instance added to the secondary stays `creating` while the writer's region is dark (unverified).
    db_instance_waits_for_writer: bool = False
    #: For this long after the primary's region comes back, its RDS API answers DescribeGlobalClusters with the view it had
    #: when it went dark: its own cluster still the writer, no failover (emulator.set_stale_view_after_outage; G6).
    stale_view_seconds: float = 0.0
    #: The standby posture whose question the variant plays ("": any posture).
    posture: str = ""
    #: The outcome an SRE expects: an automatic failover, or none and one "action needed" naming `blocked_by`.
    expect_failover: bool = True
    blocked_by: str = ""
    #: No failover because the preparation never finished: it stops (cancelled) once the primary answers again.
    expect_cancelled: bool = False

    @property
    def lag_metric(self) -> str:
        """The metric the failover function must report having judged."""
        return "AuroraGlobalDBRPOLag" if self.rpo_lag_published else "AuroraGlobalDBReplicationLag"


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant(
            "default",
            "the lag metrics keep reporting a growing lag during the outage (AuroraGlobalDBRPOLag published); "
            "expected: failover (the lag before the outage was 0.8 s)",
        ),
        Variant(
            "lag-stops",
            "the lag metrics stop with the outage; expected: failover",
            lag_during_outage="stops",
        ),
        Variant(
            "lag-above-rpo",
            "the lag was 90 s, above the 60 s RPO, before the outage (then stops); expected: no failover, one notification (rpo-exceeded)",
            lag_during_outage="stops",
            lag_before_outage_ms=90_000.0,
            expect_failover=False,
            blocked_by="rpo-exceeded",
        ),
        Variant(
            "rpo-lag-unpublished",
            "an engine before Aurora MySQL 3.04 publishes no AuroraGlobalDBRPOLag; expected: failover judged on AuroraGlobalDBReplicationLag",
            rpo_lag_published=False,
        ),
        Variant(
            "sync-flips",
            "this region's member reports SynchronizationStatus pending-resync while the primary is dark; expected: failover",
            sync_during_outage="pending-resync",
        ),
        Variant(
            "promotion-refused",
            "the lag stops and AWS refuses FailoverGlobalCluster for 7 minutes, longer than the 5-minute look-back; "
            "expected: failover once AWS accepts",
            lag_during_outage="stops",
            promotion_refused_seconds=420.0,
        ),
        Variant(
            "crash",
            "the secondary's function dies right after the writer is confirmed; expected: the next evaluations "
            "resume the steps within about two minutes",
            crash_after_promotion=True,
        ),
        Variant(
            "lag-by-source-region",
            "Aurora publishes its lag metrics only under DBClusterIdentifier and SourceRegion (the dimensions are not "
            "documented); expected: failover judged on the lag under that dimension set",
            lag_dimensions="cluster+source",
        ),
        Variant(
            "headless-refused",
            "pilot light: ARC's plan (or an operator in the console) asks AWS to fail over to the headless standby a minute into the "
            "outage and AWS refuses it (InvalidDBClusterStateFault); expected: the function prepares the standby and promotes it, once",
            external_failover_after_seconds=60.0,
            headless_promotion="refuse",
            posture="pilot-light",
        ),
        Variant(
            "headless-accepted",
            "pilot light: the same request, and AWS promotes the headless cluster, which cannot write until one of its instances is "
            "available; expected: the function adopts the promotion, adds the instances and runs its steps once one is available",
            external_failover_after_seconds=60.0,
            headless_promotion="accept",
            posture="pilot-light",
        ),
        Variant(
            "slow-db-instance",
            "pilot light: a DB instance takes 40 minutes to be available, twice the budget's estimate (AWS publishes no figure); "
            "expected: the preparation is resumed invocation after invocation and the standby promoted once the instance is available",
            db_instance_create_seconds=2400.0,
            posture="pilot-light",
        ),
        Variant(
            "db-instance-waits-for-primary",
            "pilot light: a new DB instance in the secondary does not start while the primary's region is dark (Aurora MySQL "
            "before 3.09 behaves so; 3.09+ is not documented for new instances); expected: no promotion of the headless "
            "cluster, the preparation stops once the primary answers again, the operator told how to return to the posture",
            db_instance_waits_for_writer=True,
            posture="pilot-light",
            expect_failover=False,
            expect_cancelled=True,
        ),
        Variant(
            "headless-lag-unpublished",
            "pilot light: a headless secondary publishes no lag metric (AWS does not say); expected: readiness red before the "
            "outage, no failover, one notification (lag-unknown)",
            lag_during_outage="stops",
            headless_lag_published=False,
            posture="pilot-light",
            expect_failover=False,
            blocked_by="lag-unknown",
        ),
        Variant(
            "route53-lookback",
            "Route 53 reads a missing writer datapoint from the most recent real ones (CloudWatch's documented alarm "
            "evaluation) instead of as breaching; expected: failover, traffic follows the writer all the same",
            route53_reading="lookback",
        ),
        Variant(
            "stale-writer-view",
            "the recovered old primary's RDS API still names its own cluster the writer (its view from before the outage, no "
            "failover) for 120 s after its region returns (AWS does not say); expected: failover, and the old primary takes no "
            "traffic and claims no writer vote before the failback, through either front door",
            stale_view_seconds=120.0,
        ),
    )
}
