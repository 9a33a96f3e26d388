"""Aurora's global-database lag metrics, as CloudWatch receives them, under every plausible outage behaviour.

What AWS documents (Aurora User Guide, "Using switchover or failover in Amazon Aurora Global
Database", https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html):

* "for Aurora MySQL-based global databases starting with engine versions 3.04.0 and higher or
  2.12.0 and higher, use Amazon CloudWatch to view the AuroraGlobalDBRPOLag metric for all
  secondary DB clusters. For lower minor versions of Aurora MySQL-based global databases, view the
  AuroraGlobalDBReplicationLag metric instead. These metrics show you how far behind (in
  milliseconds) replication to a secondary cluster is to the primary DB cluster."
* "Some CloudWatch metrics, such as replication lag, are only available for secondary Regions."
* In an unplanned outage "the replication between the primary and secondary DB clusters stops",
  and "the amount of data loss depends on the ... replication lag ... at the time of the failure".

What AWS does *not* document is what these metrics do in the secondary's region while the primary's
region is dark. The nearest statement is about a network disruption between regions, for Aurora
MySQL 3.09+ ("the replication lag may continue to increase until the resolution of the unplanned
event", https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-secondary-availability.html,
about AuroraGlobalDBProgressLag). The emulator plays each plausible answer (:class:`LagModel.during_outage`):

* ``"stops"`` — no datapoints while the writer's region is dark (the last ones stay);
* ``"grows"`` — a datapoint every minute with the time since replication stopped (it keeps growing).

Nor does AWS document the metrics' dimensions. An AWS workshop reads them in the secondary's region
under ``DBClusterIdentifier`` alone and under ``DBClusterIdentifier, SourceRegion``; the emulator
publishes under either or both (:attr:`LagModel.dimensions`).

Whether ``AuroraGlobalDBRPOLag`` exists at all follows the engine version (``rpo_lag_published``:
False plays an Aurora MySQL below 3.04 / 2.12). A secondary that is itself being rebuilt
(``pending-resync`` after a failover) publishes nothing (unverified; it has nothing to measure yet).
Whether a *headless* secondary (no DB instance) publishes them is not documented either: they are
cluster-level metrics about the storage volume's replication, which a headless cluster keeps doing,
but AWS never says so (docs/aws-assumptions.md P5); ``headless_published=False`` plays "it does not".

Aurora publishes one datapoint per metric per minute; the emulator publishes it lazily, at the
first emulated request in each minute (server side, so no client counts it), stamped with
emulator time. Opt-in: nothing is published until :func:`emulator.set_aurora_lag` is called.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from moto.cloudwatch.models import cloudwatch_backends
from moto.rds.models import rds_backends

from .state import STATE

RPO_LAG_METRIC = "AuroraGlobalDBRPOLag"
REPLICATION_LAG_METRIC = "AuroraGlobalDBReplicationLag"
NAMESPACE = "AWS/RDS"
OUTAGE_BEHAVIOURS = ("stops", "grows")
#: The dimension sets a datapoint is published under: the cluster alone, with the source region, or both.
DIMENSION_SETS = ("cluster", "cluster+source", "both")


@dataclass(frozen=True)
class LagModel:
    """How Aurora reports a secondary's lag (milliseconds, once a minute)."""

    #: What the metrics do while the writer's region is dark: "stops" or "grows".
    during_outage: str = "stops"
    #: The lag while replication flows (e.g. above the RPO to play "already behind before the outage").
    steady_ms: float = 800.0
    #: AuroraGlobalDBRPOLag is published (Aurora MySQL >= 3.04 / 2.12); AuroraGlobalDBReplicationLag always is.
    rpo_lag_published: bool = True
    period_seconds: float = 60.0
    #: Which dimension sets Aurora publishes under (unverified): one of DIMENSION_SETS.
    dimensions: str = "cluster"
    #: Whether a secondary with no DB instance publishes its lag (unverified).
    headless_published: bool = True

    def __post_init__(self) -> None:
        if self.during_outage not in OUTAGE_BEHAVIOURS:
            raise ValueError(f"LagModel.during_outage {self.during_outage!r}: one of {OUTAGE_BEHAVIOURS}")
        if self.dimensions not in DIMENSION_SETS:
            raise ValueError(f"LagModel.dimensions {self.dimensions!r}: one of {DIMENSION_SETS}")

    def dimension_sets(self, cluster_id: str, source_region: str) -> list[list[dict[str, str]]]:
        cluster = [{"Name": "DBClusterIdentifier", "Value": cluster_id}]
        with_source = [*cluster, {"Name": "SourceRegion", "Value": source_region}]
        return {"cluster": [cluster], "cluster+source": [with_source], "both": [cluster, with_source]}[self.dimensions]

    def lag_ms(self, now: float, writer_dark_since: float | None) -> float | None:
        """The lag a secondary reports at ``now`` (None: no datapoint), the writer dark since ``writer_dark_since``."""
        if writer_dark_since is None:
            return self.steady_ms
        if self.during_outage == "stops":
            return None
        return self.steady_ms + max(0.0, now - writer_dark_since) * 1000.0

    @property
    def metrics(self) -> tuple[str, ...]:
        return (RPO_LAG_METRIC, REPLICATION_LAG_METRIC) if self.rpo_lag_published else (REPLICATION_LAG_METRIC,)


def _region_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 else ""


def refresh(account: str) -> None:
    """Publish this minute's lag datapoints for every secondary cluster that has not had them yet."""
    model: LagModel | None = STATE.aurora_lag
    if model is None:
        return
    from .rds import _extra  # the emulator's own global-cluster bookkeeping (sync status, operations)

    now = STATE.now()
    slot = math.floor(now / model.period_seconds)
    stamp = datetime.fromtimestamp(now, UTC).replace(tzinfo=None)  # moto keeps naive UTC
    for gc in list(rds_backends[account]["us-east-1"].global_clusters.values()):
        writer = next((m for m in gc.members if m.is_writer), None)
        if writer is None:
            continue
        writer_region = _region_of(writer.db_cluster_arn)
        dark_since = STATE.dark_since.get(writer_region) if STATE.is_dark(writer_region) else None
        sync = _extra(gc)["sync"]
        for member in gc.members:
            arn = member.db_cluster_arn
            region = _region_of(arn)
            if member is writer or STATE.is_dark(region) or sync.get(arn, "connected") != "connected":
                continue
            if STATE.aurora_lag_slots.get(arn) == slot:
                continue
            if not model.headless_published and not member._members:
                continue
            STATE.aurora_lag_slots[arn] = slot
            value = model.lag_ms(now, dark_since)
            if value is None:
                continue
            data = [
                {"MetricName": name, "Value": value, "Unit": "Milliseconds", "Dimensions": dims, "Timestamp": stamp}
                for name in model.metrics
                for dims in model.dimension_sets(member.db_cluster_identifier, writer_region)
            ]
            cloudwatch_backends[account][region].put_metric_data(NAMESPACE, data)
            STATE.aurora_lag_log.extend((now, arn, name, value) for name in model.metrics)
