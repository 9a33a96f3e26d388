"""RDS global-database extension for moto: FailoverGlobalCluster / SwitchoverGlobalCluster.

Model (documented AWS behaviour, API reference ``FailoverGlobalCluster``,
``SwitchoverGlobalCluster``, ``FailoverState``, ``GlobalClusterMember``):

* ``FailoverGlobalCluster`` with ``AllowDataLoss=True`` is a *failover*; without it
  (or with ``Switchover=True``) it is a *switchover*; both together is
  ``InvalidParameterCombination``. ``SwitchoverGlobalCluster`` is a switchover.
* While an operation runs, ``DescribeGlobalClusters`` shows ``FailoverState``
  {Status, FromDbClusterArn, ToDbClusterArn, IsDataLossAllowed}: ``pending`` for
  ``STATE.pending_seconds``, then ``failing-over`` (failover) or
  ``switching-over`` (switchover); a switchover whose current primary's region
  is dark, or with any other member in a dark region, goes to ``cancelling`` and
  then back to the previous topology, and one while any secondary is still being
  rebuilt (``pending-resync``) is refused: the API reference says a switchover
  synchronizes all secondaries with the primary at the beginning.
* After ``STATE.promotion_seconds`` of emulator time (or
  :func:`emulator.complete_operations`) the target becomes the only writer; every
  other member stays in the global cluster as a reader (any number of members).
  A switchover keeps the replication topology: the old primary becomes a
  ``connected`` secondary and the other secondaries are left as they were. After a
  failover with data loss the old primary is a secondary with
  ``SynchronizationStatus: pending-resync`` until its region is reachable again
  for ``STATE.resync_seconds`` (Aurora re-adds it once the region is healthy), and
  so is every *other* secondary: Aurora rebuilds all additional secondary clusters
  from the new primary after a failover (User Guide, "Performing managed failovers
  for Aurora global databases"); ``pending-resync`` is how the emulator shows that
  rebuild.
* ``TargetDbClusterIdentifier`` is matched against member ARNs; a bare cluster
  identifier only names a member in the region the request is sent to (the API
  reference asks for the ARN "so that Aurora can locate the cluster in its
  Region"), so same-named clusters in different regions are never confused.
* **DB instances** (``CreateDBInstance`` into a cluster, a global database's member included): an
  instance is ``creating`` for ``STATE.db_instance_create_seconds`` of emulator time, then
  ``available`` (``emulator.settle()`` makes everything created so far available: a world that has
  run for a while). A cluster's writer instance (``DBClusterMembers[].IsClusterWriter``) is one of its
  ``available`` instances, and only where the cluster writes: a secondary of a global database has
  none ("A secondary AWS Region runs a read-only Aurora DB cluster made up entirely of Aurora
  Replicas", aurora-global-database-getting-started). A cluster that becomes the writer takes its
  first available instance (by promotion tier) as its writer instance.
* Whether a new instance in a secondary can start while the writer's region is dark is not documented
  (docs/aws-assumptions.md P3): ``STATE.db_instance_waits_for_writer`` plays "it cannot" (it stays
  ``creating`` until the region is back).
* **A promotion to a cluster with no available DB instance** (a headless secondary, AWS's
  "aurora-global-database-attach.console.headless") is not documented; ``STATE.headless_promotion``
  plays each answer: ``refuse`` (``InvalidDBClusterStateFault``) or ``accept`` (the promotion runs;
  the new primary has no writer instance, so nothing can write, until one of its instances is
  available).
* **What a region reports right after it comes back from dark** is not documented (docs/aws-assumptions.md
  G6): by default every region answers ``DescribeGlobalClusters`` with the one current view;
  ``STATE.stale_view_seconds`` plays the other answer: for that long after its return, the region answers
  with the view it had when it went dark (its own cluster still ``IsWriter``, no ``FailoverState`` of the
  failover that happened meanwhile). Only that call is stale; the global cluster itself is not.
* Faults: ``GlobalClusterNotFoundFault`` (unknown global cluster),
  ``DBClusterNotFoundFault`` (target is not a member), ``InvalidGlobalClusterStateFault``
  (an operation is already in progress, or the target is already the primary),
  ``InvalidDBClusterStateFault`` (target not ``available``; switchover target not
  ``connected``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.rds.models import DBCluster, DBInstance, DBInstanceClustered, GlobalCluster, RDSBackend, rds_backends
from moto.rds.responses import RDSResponse

from .state import STATE


class _Fault(ServiceException):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


@dataclass
class GlobalOperation:
    kind: str  # "failover" | "switchover"
    from_arn: str
    to_arn: str
    data_loss: bool
    started_at: float
    status: str = "pending"
    cancel_at: float | None = None


def _region_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 else ""


def _cluster_by_arn(account: str, arn: str) -> DBCluster | None:
    region = _region_of(arn)
    if not region:
        return None
    cid = arn.split(":")[-1]
    return rds_backends[account][region].clusters.get(cid)


def _extra(gc: GlobalCluster) -> dict[str, Any]:
    extra = gc.__dict__.get("_mdr")
    if extra is None:
        extra = {"op": None, "sync": {}, "resync_at": {}, "views": {}}
        gc.__dict__["_mdr"] = extra
    return extra


def _failover_state(self: GlobalCluster) -> dict[str, Any] | None:
    op: GlobalOperation | None = _extra(self)["op"]
    if op is None:
        return None
    return {
        "Status": op.status,
        "FromDbClusterArn": op.from_arn,
        "ToDbClusterArn": op.to_arn,
        "IsDataLossAllowed": op.data_loss,
    }


def _members(self: GlobalCluster, *, during_outage: bool = True) -> list[dict[str, Any]]:
    sync = _extra(self)["sync"]
    readers = [m.db_cluster_arn for m in self.members if not m.is_writer]
    writer = _writer(self)
    # AWS documents SynchronizationStatus (connected | pending-resync) but not what a secondary shows
    # while the writer's region is unreachable: STATE.sync_during_outage plays the other answers
    # (a flip to pending-resync, or no status at all), as reported, without changing the copy itself.
    writer_dark = during_outage and writer is not None and STATE.is_dark(_region_of(writer.db_cluster_arn))
    outage_sync = STATE.sync_during_outage if writer_dark else None
    out: list[dict[str, Any]] = []
    for m in self.members:
        status = sync.get(m.db_cluster_arn, "connected")
        if outage_sync is not None and not m.is_writer:
            status = outage_sync
        item: dict[str, Any] = {
            "DBClusterArn": m.db_cluster_arn,
            "IsWriter": bool(m.is_writer),
            "Readers": readers if m.is_writer else [],
        }
        if status:
            item["SynchronizationStatus"] = status
        if not m.is_writer:
            item["GlobalWriteForwardingStatus"] = "disabled"
        out.append(item)
    return out


def _writer(gc: GlobalCluster) -> DBCluster | None:
    for m in gc.members:
        if m.is_writer:
            return m
    return None


class _ViewFrom:
    """A global cluster as one region's RDS API last saw it (its members, FailoverState and status), the rest as it is."""

    def __init__(self, gc: GlobalCluster, view: dict[str, Any]) -> None:
        self._gc = gc
        self.global_cluster_members = view["members"]
        self.failover_state = view["failover_state"]
        self.status = view["status"]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gc, name)


def _keep_views(gc: GlobalCluster) -> None:
    """Keep, for each region gone dark, the view of `gc` it had then (played back on its return, STATE.stale_view_seconds).
    Runs before anything else of a request, so no change made after the region went dark is in it."""
    views = _extra(gc)["views"]
    for region, went_dark in STATE.dark_since.items():
        if views.get(region, (None,))[0] != went_dark:
            state = _failover_state(gc)
            views[region] = (went_dark, {"members": _members(gc, during_outage=False), "failover_state": state, "status": gc.status})


def view_for(gc: GlobalCluster, region: str) -> Any:
    """What `region`'s RDS API answers for `gc`: the current view, or the one it kept while it is stale."""
    went_dark = STATE.stale_since(region)
    kept = _extra(gc)["views"].get(region)
    if went_dark is None or kept is None or kept[0] != went_dark:
        return gc
    return _ViewFrom(gc, kept[1])


def refresh(account: str) -> None:
    """Advance every global operation to what emulator time says it should be."""
    backend = rds_backends[account]["us-east-1"]
    now = STATE.now()
    for gc in list(backend.global_clusters.values()):
        _keep_views(gc)
        extra = _extra(gc)
        op: GlobalOperation | None = extra["op"]
        if op is not None:
            if op.status == "cancelling":
                if op.cancel_at is not None and now >= op.cancel_at:
                    _finish(account, gc, op, success=False)
            else:
                if op.kind == "switchover" and _switchover_blocked_by_dark_member(gc, op):
                    op.status = "cancelling"
                    op.cancel_at = now + STATE.pending_seconds
                elif now >= op.started_at + STATE.pending_seconds and op.status == "pending":
                    op.status = "failing-over" if op.data_loss else "switching-over"
                    gc.status = op.status
                due = now >= op.started_at + STATE.promotion_seconds
                if op.status != "cancelling" and (STATE.force_complete or (STATE.auto_complete and due)):
                    _finish(account, gc, op, success=True)
        for arn, at in list(extra["resync_at"].items()):
            if not STATE.is_dark(_region_of(arn)) and now >= at:
                extra["sync"][arn] = "connected"
                del extra["resync_at"][arn]
            elif STATE.is_dark(_region_of(arn)):
                extra["resync_at"][arn] = now + STATE.resync_seconds


def _switchover_blocked_by_dark_member(gc: GlobalCluster, op: GlobalOperation) -> bool:
    """A switchover synchronizes *all* secondaries with the primary first (API reference,
    SwitchoverGlobalCluster): a dark current primary, or any other member in a dark region,
    keeps it from completing, and it is cancelled back to the previous topology."""
    if STATE.is_dark(_region_of(op.from_arn)):
        return True
    return any(STATE.is_dark(_region_of(m.db_cluster_arn)) for m in gc.members if m.db_cluster_arn != op.to_arn)


def _finish(account: str, gc: GlobalCluster, op: GlobalOperation, success: bool) -> None:
    extra = _extra(gc)
    target = _cluster_by_arn(account, op.to_arn)
    source = _cluster_by_arn(account, op.from_arn)
    if success and target is not None:
        for m in gc.members:
            m.is_writer = m is target
        extra["sync"][op.to_arn] = "connected"
        if op.data_loss:
            # Failover: the old primary gets a new volume once its region is back, and Aurora
            # rebuilds every additional secondary from the new primary. All stay members.
            resync_at = STATE.now() + STATE.resync_seconds
            for m in gc.members:
                if m is not target:
                    extra["sync"][m.db_cluster_arn] = "pending-resync"
                    extra["resync_at"][m.db_cluster_arn] = resync_at
        elif source is not None:
            # Switchover: topology kept; the old primary is a synchronized secondary.
            extra["sync"][op.from_arn] = "connected"
    if target is not None:
        target.status = "available"
    extra["op"] = None
    gc.status = "available"


def _find_global(account: str, gid: str | None) -> GlobalCluster:
    backend = rds_backends[account]["us-east-1"]
    gc = backend.global_clusters.get((gid or "").lower()) if gid else None
    if gc is None:
        raise _Fault("GlobalClusterNotFoundFault", f"Global cluster {gid} not found.")
    return gc


def _target_member(gc: GlobalCluster, target_id: str | None, region: str) -> DBCluster | None:
    """The member named by ``target_id``: its ARN, or a bare identifier of a member in ``region``."""
    if not target_id:
        return None
    for m in gc.members:
        if target_id == m.db_cluster_arn:
            return m
    if target_id.startswith("arn:"):
        return None
    for m in gc.members:
        if str(m.db_cluster_identifier).lower() == target_id.lower() and _region_of(m.db_cluster_arn) == region:
            return m
    return None


def start_operation(
    account: str, gid: str | None, target_id: str | None, data_loss: bool, region: str = "us-east-1"
) -> GlobalCluster:
    gc = _find_global(account, gid)
    refresh(account)
    target = _target_member(gc, target_id, region)
    if target is None:
        raise _Fault("DBClusterNotFoundFault", f"DBCluster {target_id} is not a member of global cluster {gid}.")
    kind = "failover" if data_loss else "switchover"
    STATE.promotion_requests.append((STATE.now(), target.db_cluster_arn, kind, bool(available_instances(target))))
    extra = _extra(gc)
    if extra["op"] is not None:
        raise _Fault(
            "InvalidGlobalClusterStateFault",
            f"Global cluster {gc.global_cluster_arn} has a switchover or failover operation in progress.",
        )
    writer = _writer(gc)
    if writer is target:
        raise _Fault(
            "InvalidGlobalClusterStateFault",
            f"DB cluster {target.db_cluster_arn} is already the primary cluster of {gc.global_cluster_identifier}.",
        )
    if target.status != "available":
        raise _Fault("InvalidDBClusterStateFault", f"DB cluster {target.db_cluster_identifier} is not available.")
    if STATE.headless_promotion == "refuse" and not available_instances(target):
        raise _Fault(
            "InvalidDBClusterStateFault",
            f"DB cluster {target.db_cluster_identifier} has no available DB instance to promote.",
        )
    if not data_loss and extra["sync"].get(target.db_cluster_arn, "connected") != "connected":
        raise _Fault(
            "InvalidDBClusterStateFault",
            f"DB cluster {target.db_cluster_identifier} is not synchronized with the primary.",
        )
    if not data_loss:
        # "All secondary clusters are synchronized with the primary at the beginning of the
        # process": a member still being rebuilt (pending-resync) cannot be, so AWS has nothing
        # to switch over with (our reading of the API reference; confirm on a real account).
        behind = [m for m in gc.members if m is not writer and extra["sync"].get(m.db_cluster_arn, "connected") != "connected"]
        if behind:
            raise _Fault(
                "InvalidGlobalClusterStateFault",
                f"Global cluster {gc.global_cluster_identifier}: secondary {behind[0].db_cluster_arn} is not synchronized "
                f"with the primary; a switchover synchronizes every secondary first.",
            )
    op = GlobalOperation(
        kind="failover" if data_loss else "switchover",
        from_arn=writer.db_cluster_arn if writer is not None else "",
        to_arn=target.db_cluster_arn,
        data_loss=data_loss,
        started_at=STATE.now(),
    )
    extra["op"] = op
    STATE.promotions.append((gc.global_cluster_identifier, target.db_cluster_arn, op.kind))
    target.status = "failing-over" if data_loss else "switching-over"
    if STATE.pending_seconds <= 0:
        op.status = "failing-over" if data_loss else "switching-over"
        gc.status = op.status
    refresh(account)
    return gc


# ---- DB instances ------------------------------------------------------------------

def available_instances(cluster: DBCluster) -> list[DBInstanceClustered]:
    return [i for i in cluster._members if i.status == "available"]


def writer_instance(cluster: DBCluster) -> DBInstanceClustered | None:
    """The instance that takes the cluster's writes. A global database's secondary has none; its primary keeps the
    one it has while that one is available, else takes the first available by promotion tier (none before one of its
    instances is available). A cluster outside a global database keeps moto's choice, once it is available."""
    ready = available_instances(cluster)
    if not cluster.global_cluster_identifier:
        return next((i for i in ready if i.is_cluster_writer), None)
    if not cluster.is_writer:
        cluster.__dict__.pop("_mdr_writer", None)
        return None
    current = cluster.__dict__.get("_mdr_writer")
    if current not in ready:
        current = min(ready, key=lambda i: (i.promotion_tier, i.db_instance_identifier)) if ready else None
        cluster.__dict__["_mdr_writer"] = current
    return current


def _db_cluster_members(self: DBCluster) -> list[dict[str, Any]]:
    writer = writer_instance(self)
    return [
        {
            "DBInstanceIdentifier": m.db_instance_identifier,
            "IsClusterWriter": m is writer,
            "DBClusterParameterGroupStatus": "in-sync",
            "PromotionTier": m.promotion_tier,
        }
        for m in self._members
    ]


def _instance_status(self: DBInstance) -> str:
    status = str(self.__dict__.get("_mdr_status", "available"))
    created = self.__dict__.get("_mdr_created_at")
    waiting = created is not None and (
        not STATE.ready(created, self.__dict__["_mdr_takes"]) or (STATE.db_instance_waits_for_writer and _writer_dark(self))
    )
    if status == "available" and waiting:
        return "creating"
    return status


def _writer_dark(instance: DBInstance) -> bool:
    """Whether the instance's cluster is a global database's secondary whose writer's region is dark."""
    cluster = instance.backend.clusters.get(instance.db_cluster_identifier) if instance.db_cluster_identifier else None
    if cluster is None or not cluster.global_cluster_identifier or cluster.is_writer:
        return False
    gc = rds_backends[instance.account_id]["us-east-1"].global_clusters.get(cluster.global_cluster_identifier.rsplit(":", 1)[-1].lower())
    writer = _writer(gc) if gc is not None else None
    return writer is not None and STATE.is_dark(_region_of(writer.db_cluster_arn))


def _set_instance_status(self: DBInstance, value: str) -> None:
    self.__dict__["_mdr_status"] = value


def _create_db_instance(original: Any) -> Any:
    def create_db_instance(self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
        instance = original(self, db_kwargs)
        if isinstance(instance, DBInstanceClustered):
            instance.__dict__["_mdr_created_at"] = STATE.now()
            instance.__dict__["_mdr_takes"] = STATE.db_instance_create_seconds
        return instance

    return create_db_instance


# ---- response layer ------------------------------------------------------------

def _resp_describe_global_clusters(self: RDSResponse) -> ActionResult:
    gid = self.params.get("GlobalClusterIdentifier")
    refresh(self.current_account)
    clusters = self.global_backend.describe_global_clusters()
    if gid:
        clusters = [c for c in clusters if c.global_cluster_identifier == str(gid).lower()]
        if not clusters:
            raise _Fault("GlobalClusterNotFoundFault", f"Global cluster {gid} not found.")
    return ActionResult({"GlobalClusters": [view_for(c, self.region) for c in clusters]})


def _resp_failover_global_cluster(self: RDSResponse) -> ActionResult:
    params = self.params
    allow = params.get("AllowDataLoss")
    switchover = params.get("Switchover")
    if _truthy(allow) and switchover is not None:
        raise _Fault("InvalidParameterCombination", "AllowDataLoss and Switchover can't be specified together.")
    gc = start_operation(
        self.current_account,
        params.get("GlobalClusterIdentifier"),
        params.get("TargetDbClusterIdentifier"),
        data_loss=_truthy(allow),
        region=self.region,
    )
    return ActionResult({"GlobalCluster": gc})


def _resp_switchover_global_cluster(self: RDSResponse) -> ActionResult:
    params = self.params
    gc = start_operation(
        self.current_account,
        params.get("GlobalClusterIdentifier"),
        params.get("TargetDbClusterIdentifier"),
        data_loss=False,
        region=self.region,
    )
    return ActionResult({"GlobalCluster": gc})


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


#: How far behind now a cluster's point-in-time restore reaches in the emulator: AWS says "typically within
#: 5 minutes of the current time" (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-pitr.html).
RESTORABLE_LAG_SECONDS = 300.0


def _latest_restorable_time(cluster: DBCluster) -> Any:
    """LatestRestorableTime in emulator time (moto uses the wall clock, which emulated minutes leave behind)."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(STATE.now() - RESTORABLE_LAG_SECONDS, UTC).replace(tzinfo=None)


def install_rds() -> None:
    if getattr(RDSBackend, "_mdr_installed", False):
        return
    RDSBackend.create_db_instance = _create_db_instance(RDSBackend.create_db_instance)  # type: ignore[method-assign]
    RDSBackend._mdr_installed = True  # type: ignore[attr-defined]
    DBInstance.status = property(_instance_status, _set_instance_status)  # type: ignore[assignment]
    DBCluster.db_cluster_members = property(_db_cluster_members)  # type: ignore[assignment,method-assign]
    DBCluster.latest_restorable_time = property(_latest_restorable_time)  # type: ignore[assignment,method-assign]
    GlobalCluster.failover_state = property(_failover_state)  # type: ignore[attr-defined]
    GlobalCluster.global_cluster_members = property(_members)  # type: ignore[assignment,method-assign]
    RDSResponse.describe_global_clusters = _resp_describe_global_clusters  # type: ignore[method-assign]
    RDSResponse.failover_global_cluster = _resp_failover_global_cluster  # type: ignore[attr-defined]
    RDSResponse.switchover_global_cluster = _resp_switchover_global_cluster  # type: ignore[attr-defined]
