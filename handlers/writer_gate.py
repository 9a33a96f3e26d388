"""The writer gate: an ALB health-check target that passes only where the Aurora writer is (or is going).

Deployed per shop region when `failover.globalAccelerator` is on (components/writer_gate.py), as the
only target of a target group on that region's ALB that no client request reaches. Global
Accelerator counts an ALB healthy only if every target group behind it has a healthy target, so this
answer decides whether the accelerator may send shoppers to the region (docs/front-door.md).

It is packaged alone (this module, handlers/activation.py and the package's `__init__.py`): it imports
nothing else of `handlers/` and nothing of Pulumi. It asks its own region's RDS API
(`rds:DescribeGlobalClusters`); while that names this region's cluster the writer it also asks the
peer region's, because a region back from an outage may answer with its old view for a while
(docs/aws-assumptions.md G6): when the two disagree, the activation records (`ssm:GetParameter`, one in
each region) say whose claim stands (handlers/activation.py). Every failure to know this region's own
answer closes the gate: the ALB needs two failed checks in a row before the region drops out, and when
both regions are out the accelerator fails open to the closest one. A peer that does not answer leaves
this region's answer as it is: the peer's outage is what a failover is for.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .activation import PeerView, activation_parameter, stale_claim, views_disagree

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_ssm import SSMClient

#: The whole environment contract (components/front_door.py GATE_ENV_*; tests keep them equal).
ENV_VARS = ("WRITER_GATE_GLOBAL_CLUSTER_ID", "WRITER_GATE_LOCAL_CLUSTER_ARN", "WRITER_GATE_PEER_REGION")
#: FailoverState.Status values that name the target as becoming the writer (API_FailoverState).
BECOMING_WRITER_STATUSES = ("pending", "failing-over", "switching-over")
#: One attempt each, no retry here: the ALB's unhealthy threshold (two failed checks in a row) is the retry. This
#: region's calls: a 0.5 s connect and a 1 s read. The peer region's: 0.5 s each (an unanswered peer changes nothing,
#: so a short wait costs nothing). The usual check (this region's view, then the peer's) ends within 2.5 s, inside
#: the function's 3 s and the health check's 4 s; the activation records are read only while the views disagree.
CLIENT_CONFIG = Config(connect_timeout=0.5, read_timeout=1, retries={"mode": "standard", "total_max_attempts": 1})
PEER_CLIENT_CONFIG = Config(connect_timeout=0.5, read_timeout=0.5, retries={"mode": "standard", "total_max_attempts": 1})

log = logging.getLogger("magento-dr.writer-gate")
log.setLevel(logging.INFO)


@dataclass(frozen=True)
class Verdict:
    """Open (200): this region holds the writer or is becoming it. Closed (503) otherwise."""

    open: bool
    reason: str

    def response(self) -> dict[str, Any]:
        """The ALB's Lambda response format (statusDescription: the code and its reason phrase)."""
        code, phrase = (200, "OK") if self.open else (503, "Service Unavailable")
        return {
            "isBase64Encoded": False,
            "statusCode": code,
            "statusDescription": f"{code} {phrase}",
            "headers": {"Content-Type": "text/plain", "Cache-Control": "no-store"},
            "body": self.reason,
        }


def verdict(
    global_cluster: Mapping[str, Any] | None,
    local_cluster_arn: str,
    peer: PeerView | None = None,
    own_activated_at: float | None = None,
) -> Verdict:
    """The gate's whole decision (pure), from one DescribeGlobalClusters entry of this region's API and, while that
    names this region's cluster the writer, what the peer region says and when this region was last activated."""
    if not global_cluster:
        return Verdict(False, "global cluster not found")
    if claims_writer(global_cluster, local_cluster_arn):
        stale = stale_claim(local_cluster_arn, own_activated_at, peer)
        if stale:
            return Verdict(False, stale)
        return Verdict(True, "this region's cluster holds the global writer")
    state = global_cluster.get("FailoverState") or {}
    status = str(state.get("Status") or "")
    if state.get("ToDbClusterArn") == local_cluster_arn and status in BECOMING_WRITER_STATUSES:
        return Verdict(True, f"this region's cluster is becoming the writer ({status})")
    writer = writer_of(global_cluster)
    if not writer:
        return Verdict(False, "no member holds the writer")
    return Verdict(False, f"the writer is {writer}")


def claims_writer(global_cluster: Mapping[str, Any] | None, cluster_arn: str) -> bool:
    """The entry names `cluster_arn` the writer (IsWriter)."""
    members = (global_cluster or {}).get("GlobalClusterMembers") or []
    return any(m.get("DBClusterArn") == cluster_arn and m.get("IsWriter") for m in members)


def writer_of(global_cluster: Mapping[str, Any] | None) -> str:
    """The member the entry names the writer ("" when none)."""
    members = (global_cluster or {}).get("GlobalClusterMembers") or []
    return next((str(m.get("DBClusterArn")) for m in members if m.get("IsWriter")), "")


@dataclass(frozen=True)
class GateClients:
    """This region's RDS and SSM clients, and the peer region's."""

    rds: Any
    ssm: Any
    peer_rds: Any
    peer_ssm: Any


def evaluate(clients: GateClients, global_cluster_id: str, local_cluster_arn: str, peer_region: str) -> Verdict:
    """Ask this region's RDS API; while it names this region's cluster the writer, the peer region's too (and, when
    they disagree, both activation records). Any error of this region's closes the gate; the peer's change nothing."""
    try:
        found = clients.rds.describe_global_clusters(GlobalClusterIdentifier=global_cluster_id).get("GlobalClusters") or []
    except ClientError as exc:
        if _code(exc) == "GlobalClusterNotFoundFault":
            return Verdict(False, "global cluster not found")
        return Verdict(False, f"cannot read the global cluster: {_code(exc)}")
    except BotoCoreError as exc:
        return Verdict(False, f"cannot read the global cluster: {type(exc).__name__}")
    global_cluster = dict(found[0]) if found else None
    if not claims_writer(global_cluster, local_cluster_arn):
        return verdict(global_cluster, local_cluster_arn)
    peer = PeerView(peer_region, _peer_writer(clients.peer_rds, global_cluster_id))
    if not views_disagree(local_cluster_arn, peer):
        return verdict(global_cluster, local_cluster_arn, peer)
    record = activation_parameter(global_cluster_id)
    try:
        own = activated_at(clients.ssm, record)
    except (ClientError, BotoCoreError) as exc:
        why = _code(exc) if isinstance(exc, ClientError) else type(exc).__name__
        return Verdict(False, f"the peer names {peer.writer_arn} the writer and this region's activation record is unreadable: {why}")
    with contextlib.suppress(ClientError, BotoCoreError):  # unread: nothing newer from the peer
        peer = replace(peer, activated_at=activated_at(clients.peer_ssm, record))
    return verdict(global_cluster, local_cluster_arn, peer, own)


def activated_at(ssm: SSMClient, name: str) -> float | None:
    """When the activation record `name` was last written in the client's region (None: never)."""
    try:
        written = ssm.get_parameter(Name=name)["Parameter"].get("LastModifiedDate")
    except ClientError as exc:
        if _code(exc) == "ParameterNotFound":
            return None
        raise
    return written.timestamp() if written is not None else None


def _peer_writer(peer_rds: RDSClient, global_cluster_id: str) -> str | None:
    """The writer the peer region's API names ("" none; None when it did not answer)."""
    try:
        found = peer_rds.describe_global_clusters(GlobalClusterIdentifier=global_cluster_id).get("GlobalClusters") or []
    except (ClientError, BotoCoreError):
        return None
    return writer_of(dict(found[0])) if found else ""


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


_clients: dict[str, Any] = {}  # one client per service and region per container, created on first use
_last: Verdict | None = None  # what this container answered last: only changes are logged


def _client(service: str, region: str | None = None) -> Any:
    key = f"{service}:{region or ''}"
    if key not in _clients:
        config = CLIENT_CONFIG if region is None else PEER_CLIENT_CONFIG
        _clients[key] = boto3.client(service, config=config, region_name=region)  # type: ignore[call-overload]
    return _clients[key]


def lambda_handler(
    event: Mapping[str, Any], context: object = None, environ: Mapping[str, str] | None = None, clients: GateClients | None = None
) -> dict[str, Any]:
    """ALB entry point: every request (health checks only; no client matches the gate's rule)."""
    env = os.environ if environ is None else environ
    missing = [name for name in ENV_VARS if not env.get(name)]
    if missing:
        result = Verdict(False, f"misconfigured: {', '.join(missing)} unset")
    else:
        peer_region = env["WRITER_GATE_PEER_REGION"]
        if clients is None:
            clients = GateClients(_client("rds"), _client("ssm"), _client("rds", peer_region), _client("ssm", peer_region))
        result = evaluate(clients, env["WRITER_GATE_GLOBAL_CLUSTER_ID"], env["WRITER_GATE_LOCAL_CLUSTER_ARN"], peer_region)
    global _last
    if result != _last:  # about one health check a second per region: log the changes, not every answer
        agent = str((event.get("headers") or {}).get("user-agent", ""))
        log.info(json.dumps({"open": result.open, "reason": result.reason, "user_agent": agent[:64]}))
        _last = result
    return result.response()
