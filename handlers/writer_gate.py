"""The writer gate: an ALB health-check target that passes only where the Aurora writer is (or is going).

Deployed per shop region when `failover.globalAccelerator` is on (components/writer_gate.py), as the
only target of a target group on that region's ALB that no client request reaches. Global
Accelerator counts an ALB healthy only if every target group behind it has a healthy target, so this
answer decides whether the accelerator may send shoppers to the region (docs/front-door.md).

It is packaged alone (this module and the package's `__init__.py`): it imports nothing else of
`handlers/`, nothing of Pulumi, and makes one AWS call, `rds:DescribeGlobalClusters` in its own
region. Every failure to know closes the gate: the ALB needs two failed checks in a row before the
region drops out, and when both regions are out the accelerator fails open to the closest one.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient

#: The whole environment contract (components/front_door.py GATE_ENV_*; tests keep them equal).
ENV_VARS = ("WRITER_GATE_GLOBAL_CLUSTER_ID", "WRITER_GATE_LOCAL_CLUSTER_ARN")
#: FailoverState.Status values that name the target as becoming the writer (API_FailoverState).
BECOMING_WRITER_STATUSES = ("pending", "failing-over", "switching-over")
#: One attempt of a 1 s connect and a 1 s read, inside the function's 3 s and the health check's 4 s. No
#: retry here: the ALB's unhealthy threshold (two failed checks in a row) is the retry.
CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=1, retries={"mode": "standard", "total_max_attempts": 1})

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


def verdict(global_cluster: Mapping[str, Any] | None, local_cluster_arn: str) -> Verdict:
    """The gate's whole decision (pure), from one DescribeGlobalClusters entry."""
    if not global_cluster:
        return Verdict(False, "global cluster not found")
    members = global_cluster.get("GlobalClusterMembers") or []
    if any(m.get("DBClusterArn") == local_cluster_arn and m.get("IsWriter") for m in members):
        return Verdict(True, "this region's cluster holds the global writer")
    state = global_cluster.get("FailoverState") or {}
    status = str(state.get("Status") or "")
    if state.get("ToDbClusterArn") == local_cluster_arn and status in BECOMING_WRITER_STATUSES:
        return Verdict(True, f"this region's cluster is becoming the writer ({status})")
    writer = next((str(m.get("DBClusterArn")) for m in members if m.get("IsWriter")), "")
    if not writer:
        return Verdict(False, "no member holds the writer")
    return Verdict(False, f"the writer is {writer}")


def evaluate(rds: RDSClient, global_cluster_id: str, local_cluster_arn: str) -> Verdict:
    """Ask this region's RDS API; any error closes the gate (the ALB's threshold absorbs one)."""
    try:
        found = rds.describe_global_clusters(GlobalClusterIdentifier=global_cluster_id).get("GlobalClusters") or []
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "GlobalClusterNotFoundFault":
            return Verdict(False, "global cluster not found")
        return Verdict(False, f"cannot read the global cluster: {exc.response.get('Error', {}).get('Code')}")
    except BotoCoreError as exc:
        return Verdict(False, f"cannot read the global cluster: {type(exc).__name__}")
    return verdict(dict(found[0]) if found else None, local_cluster_arn)


_rds: Any = None
_last: Verdict | None = None  # what this container answered last: only changes are logged


def _client() -> Any:
    global _rds  # one client per container, created on first use
    if _rds is None:
        _rds = boto3.client("rds", config=CLIENT_CONFIG)
    return _rds


def lambda_handler(event: Mapping[str, Any], context: object = None, environ: Mapping[str, str] | None = None, rds: Any = None) -> dict[str, Any]:
    """ALB entry point: every request (health checks only; no client matches the gate's rule)."""
    env = os.environ if environ is None else environ
    missing = [name for name in ENV_VARS if not env.get(name)]
    if missing:
        result = Verdict(False, f"misconfigured: {', '.join(missing)} unset")
    else:
        result = evaluate(rds or _client(), env["WRITER_GATE_GLOBAL_CLUSTER_ID"], env["WRITER_GATE_LOCAL_CLUSTER_ARN"])
    global _last
    if result != _last:  # about one health check a second per region: log the changes, not every answer
        agent = str((event.get("headers") or {}).get("user-agent", ""))
        log.info(json.dumps({"open": result.open, "reason": result.reason, "user_agent": agent[:64]}))
        _last = result
    return result.response()
