"""ElastiCache Global Datastore extension for moto (moto 5.2.5 has none).

Implements ``CreateGlobalReplicationGroup``, ``DescribeGlobalReplicationGroups``
and ``FailoverGlobalReplicationGroup`` with the documented semantics: the
datastore id is a region prefix + the caller's suffix; secondaries join with
``CreateReplicationGroup(GlobalReplicationGroupId=...)``; a failover puts the
datastore in ``modifying`` and, after ``STATE.cache_failover_seconds`` of emulator
time, flips the members' ``Role`` (``primary``/``secondary``). Faults:
``GlobalReplicationGroupNotFoundFault``, ``InvalidGlobalReplicationGroupStateFault``
(another change in progress), ``InvalidParameterValue`` (unknown member / already
primary), ``ReplicationGroupNotFoundFault``, ``GlobalReplicationGroupAlreadyExistsFault``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.elasticache.models import elasticache_backends
from moto.elasticache.responses import ElastiCacheResponse

from .state import STATE

# Documented per-region prefixes (subset); unknown regions get a stable stand-in.
_PREFIX = {
    "us-east-1": "ldgnf",
    "us-east-2": "fpkhr",
    "us-west-1": "virxk",
    "us-west-2": "sgaui",
    "eu-west-1": "iudkw",
    "eu-central-1": "iemxf",
    "eu-west-2": "okuqm",
    "ap-southeast-1": "qkjjc",
}


class _Fault(ServiceException):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


@dataclass
class Member:
    replication_group_id: str
    region: str
    role: str  # "primary" | "secondary"


@dataclass
class GlobalDatastore:
    account: str
    gid: str
    description: str
    engine: str
    members: list[Member] = field(default_factory=list)
    status: str = "available"
    pending: tuple[str, str] | None = None  # (region, rg id) becoming primary
    pending_until: float = 0.0

    def to_dict(self, show_members: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "GlobalReplicationGroupId": self.gid,
            "GlobalReplicationGroupDescription": self.description,
            "Status": self.status,
            "Engine": self.engine,
            "ClusterEnabled": False,
            "ARN": f"arn:aws:elasticache::{self.account}:globalreplicationgroup:{self.gid}",
        }
        if show_members:
            out["Members"] = [
                {
                    "ReplicationGroupId": m.replication_group_id,
                    "ReplicationGroupRegion": m.region,
                    "Role": m.role,
                    "AutomaticFailover": "enabled",
                    "Status": "associated",
                }
                for m in self.members
            ]
        return out


def _store(account: str) -> dict[str, GlobalDatastore]:
    """Global datastores live on moto's (account, us-east-1) backend, so moto's own reset clears them."""
    backend = elasticache_backends[account]["us-east-1"]
    store: dict[str, GlobalDatastore] = backend.__dict__.setdefault("_mdr_global_datastores", {})
    return store


def refresh(account: str) -> None:
    now = STATE.now()
    for ds in list(_store(account).values()):
        if ds.pending is None:
            continue
        if STATE.force_complete or (STATE.auto_complete and now >= ds.pending_until):
            region, rg_id = ds.pending
            for m in ds.members:
                m.role = "primary" if (m.region, m.replication_group_id) == (region, rg_id) else "secondary"
                rg = elasticache_backends[account][m.region].replication_groups.get(m.replication_group_id)
                if rg is not None:
                    rg.global_replication_group_member_role = m.role.upper()
            ds.pending = None
            ds.status = "available"


def _get(account: str, gid: str | None) -> GlobalDatastore:
    ds = _store(account).get(gid or "")
    if ds is None:
        raise _Fault("GlobalReplicationGroupNotFoundFault", f"Global replication group {gid} not found.")
    return ds


def _resp_create(self: ElastiCacheResponse) -> ActionResult:
    suffix = self._get_param("GlobalReplicationGroupIdSuffix")
    primary = self._get_param("PrimaryReplicationGroupId")
    description = self._get_param("GlobalReplicationGroupDescription") or ""
    backend = elasticache_backends[self.current_account][self.region]
    rg = backend.replication_groups.get(primary)
    if rg is None:
        raise _Fault("ReplicationGroupNotFoundFault", f"Replication group {primary} not found.")
    gid = f"{_PREFIX.get(self.region, 'xmdrx')}-{suffix}"
    if gid in _store(self.current_account):
        raise _Fault("GlobalReplicationGroupAlreadyExistsFault", f"Global replication group {gid} already exists.")
    ds = GlobalDatastore(self.current_account, gid, description, getattr(rg, "engine", "redis") or "redis")
    ds.members.append(Member(primary, self.region, "primary"))
    _store(self.current_account)[gid] = ds
    rg.global_replication_group_id = gid
    rg.global_replication_group_member_role = "PRIMARY"
    return ActionResult({"GlobalReplicationGroup": ds.to_dict(show_members=True)})


def _resp_describe(self: ElastiCacheResponse) -> ActionResult:
    gid = self._get_param("GlobalReplicationGroupId")
    show = str(self._get_param("ShowMemberInfo")).lower() == "true"
    items = [_get(self.current_account, gid)] if gid else list(_store(self.current_account).values())
    return ActionResult({"GlobalReplicationGroups": [ds.to_dict(show) for ds in items]})


def _resp_failover(self: ElastiCacheResponse) -> ActionResult:
    ds = _get(self.current_account, self._get_param("GlobalReplicationGroupId"))
    region = self._get_param("PrimaryRegion")
    rg_id = self._get_param("PrimaryReplicationGroupId")
    if ds.status != "available" or ds.pending is not None:
        raise _Fault(
            "InvalidGlobalReplicationGroupStateFault",
            f"Global replication group {ds.gid} is not in available state.",
        )
    member = next((m for m in ds.members if (m.region, m.replication_group_id) == (region, rg_id)), None)
    if member is None:
        raise _Fault("InvalidParameterValue", f"{rg_id} in {region} is not a member of {ds.gid}.")
    if member.role == "primary":
        raise _Fault("InvalidParameterValue", f"{rg_id} is already the primary of {ds.gid}.")
    ds.status = "modifying"
    ds.pending = (region, rg_id)
    ds.pending_until = STATE.now() + STATE.cache_failover_seconds
    refresh(self.current_account)
    return ActionResult({"GlobalReplicationGroup": ds.to_dict(show_members=True)})


def _resp_disassociate(self: ElastiCacheResponse) -> ActionResult:
    """DisassociateGlobalReplicationGroup: a secondary member leaves and becomes a standalone, writable group.

    AWS refuses to remove the primary member (fail over first). This is the operator's way out
    when the datastore cannot fail over while its primary region is lost.
    """
    ds = _get(self.current_account, self._get_param("GlobalReplicationGroupId"))
    rg_id = self._get_param("ReplicationGroupId")
    region = self._get_param("ReplicationGroupRegion")
    member = next((m for m in ds.members if (m.region, m.replication_group_id) == (region, rg_id)), None)
    if member is None:
        raise _Fault("InvalidParameterValue", f"{rg_id} in {region} is not a member of {ds.gid}.")
    if member.role == "primary":
        raise _Fault("InvalidParameterValue", f"{rg_id} is the primary of {ds.gid}; fail over before removing it.")
    ds.members.remove(member)
    rg = elasticache_backends[self.current_account][region].replication_groups.get(rg_id)
    if rg is not None:
        rg.global_replication_group_id = ""
        rg.global_replication_group_member_role = ""
    return ActionResult({"GlobalReplicationGroup": ds.to_dict(show_members=True)})


# AWS, CreateReplicationGroup with GlobalReplicationGroupId: "ElastiCache ... will infer the values from
# the primary replication group of the global replication group for the following parameters ...
# CacheNodeType, Engine, EngineVersion, ... EnableTransitEncryption, AtRestEncryptionEnabled".
# The AUTH token and KMS key stay the member's own.
# https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html
# The same page: "Do not pass in values for these parameters" (the emulator refuses them, as the
# provider's ConflictsWith does at preview; the API's exact error for them is not documented).
MEMBER_MUST_NOT_PASS = (
    "PrimaryClusterId",
    "AutomaticFailoverEnabled",
    "NumNodeGroups",
    "CacheParameterGroupName",
    "CacheNodeType",
    "Engine",
    "EngineVersion",
    "CacheSecurityGroupNames",
    "TransitEncryptionEnabled",
    "AtRestEncryptionEnabled",
    "SnapshotArns",
    "SnapshotName",
)
INHERITED_ATTRIBUTES = (
    "engine",
    "engine_version",
    "cache_node_type",
    "transit_encryption_enabled",
    "transit_encryption_mode",
    "at_rest_encryption_enabled",
)


def _inherit_from_primary(account: str, ds: GlobalDatastore, member_id: str, region: str) -> None:
    primary = next((m for m in ds.members if m.role == "primary"), None)
    if primary is None:
        return
    source = elasticache_backends[account][primary.region].replication_groups.get(primary.replication_group_id)
    target = elasticache_backends[account][region].replication_groups.get(member_id)
    if source is None or target is None:
        return
    for attribute in INHERITED_ATTRIBUTES:
        setattr(target, attribute, getattr(source, attribute))


def install_elasticache() -> None:
    original_create_rg = ElastiCacheResponse.create_replication_group

    def create_replication_group(self: ElastiCacheResponse) -> Any:
        gid = self._get_param("GlobalReplicationGroupId")
        if gid:
            _get(self.current_account, gid)
            passed = [p for p in MEMBER_MUST_NOT_PASS if self._get_param(p) is not None]
            if passed:
                raise _Fault(
                    "InvalidParameterCombination",
                    f"{', '.join(passed)}: a member of {gid} takes these from the datastore's primary; do not pass them",
                )
        result = original_create_rg(self)
        if gid:
            ds = _get(self.current_account, gid)
            member_id = self._get_param("ReplicationGroupId")
            ds.members.append(Member(member_id, self.region, "secondary"))
            _inherit_from_primary(self.current_account, ds, member_id, self.region)
        return result

    if not getattr(ElastiCacheResponse, "_mdr_installed", False):
        ElastiCacheResponse.create_replication_group = create_replication_group  # type: ignore[method-assign]
        ElastiCacheResponse._mdr_installed = True  # type: ignore[attr-defined]
    ElastiCacheResponse.create_global_replication_group = _resp_create  # type: ignore[attr-defined]
    ElastiCacheResponse.describe_global_replication_groups = _resp_describe  # type: ignore[attr-defined]
    ElastiCacheResponse.failover_global_replication_group = _resp_failover  # type: ignore[attr-defined]
    ElastiCacheResponse.disassociate_global_replication_group = _resp_disassociate  # type: ignore[attr-defined]


def reset() -> None:
    """Nothing to do: datastores are reset with moto's backends."""
