"""Names shared between the stacks and the failover handler; one place, so they cannot drift.

The handler (handlers/) cannot import this package (it ships without Pulumi), so
it keeps its own copies and tests/test_contracts.py checks the two agree.
"""

from typing import Any

# CloudWatch metric the failover function publishes on every evaluation:
# 1 when this region's cluster holds the global writer, else 0. A per-region
# alarm on it feeds the Route 53 health check, so traffic follows the writer.
METRIC_NAMESPACE = "MagentoDR"
WRITER_METRIC = "RegionHoldsWriter"
WRITER_METRIC_DIMENSIONS = ("Stack", "Region")
# Published (1) by every evaluation another holder's failover lease blocked; an
# alarm fires when evaluations stay blocked longer than any holder should work.
LEASE_BLOCKED_METRIC = "FailoverLeaseBlocked"

# Published by the readiness function (handlers/readiness.py) after every evaluation: Ready (1/0) and
# ReadinessCheck (1 pass, 0.5 warn, 0 fail) with a Check dimension, one per name in READINESS_CHECKS.
READY_METRIC = "Ready"
READINESS_CHECK_METRIC = "ReadinessCheck"
READINESS_CHECKS = (
    "writer", "activation", "members", "replication-lag", "engine-version", "parameters", "credentials", "capacity", "cache", "search",
    "media-replication", "release", "failover-function", "post-failover", "peer", "health-checks", "backups",
)
# What the failover function publishes besides the writer and lease metrics (handlers/runner.py), each with
# the dimensions Stack and Region (Decision adds Action): the dashboard graphs only these.
FAILOVER_METRICS = ("Decision", "PeerConsecutiveFailures", "EvaluationDuration", "PromotionDuration", "DetectionToPromotion", "StepFailed")
DECISION_ACTIONS = (
    "noop", "inconclusive", "report-status", "refuse", "notify-operator", "prepare", "promote", "wait-promotion", "finish-steps", "cancel",
)


# SSM parameter (under the stack's prefix) that says whether this region is
# active: cron and queue consumers run only where it is "true".
def ssm_prefix(stack: str) -> str:
    return f"/magento-dr/{stack}"


ACTIVE_PARAMETER = "active"


# Where each shop region's readiness function stores the digest of the database parameters AWS reports there
# (handlers/readiness.py DIGEST_PARAMETER): named by the global cluster, the same in both regions, so each
# region's readiness function reads the peer's without knowing the peer's stack name.
def parameter_digest_parameter(global_cluster_id: str) -> str:
    return f"/magento-dr/global-cluster/{global_cluster_id}/parameter-digest"


# The activation record (handlers/activation.py keeps the handlers' copy): each failover function writes it in its own
# region when it makes that region the active one; the same name in both regions, so the writer gates and the failover
# functions read the peer's without knowing the peer's stack. When two regions' RDS APIs disagree about the writer
# (a region back from an outage may answer with its old view, docs/aws-assumptions.md G6), the later activation wins.
def activation_parameter(global_cluster_id: str) -> str:
    return f"/magento-dr/activation/{global_cluster_id}"


# Aurora's global-database lag metrics, in the order the failover function prefers them (the handler's
# decide.LAG_METRICS): AuroraGlobalDBRPOLag (Aurora MySQL 3.04+), AuroraGlobalDBReplicationLag.
# Their dimensions are not documented (docs/aws-assumptions.md A5): the cluster alone, or the cluster
# and the source (writer's) region; the function, the readiness check and the lag alarms read both.
LAG_NAMESPACE = "AWS/RDS"
LAG_METRICS = ("AuroraGlobalDBRPOLag", "AuroraGlobalDBReplicationLag")


def lag_dimension_sets(cluster_id: Any, source_region: str) -> list[dict[str, Any]]:
    """The dimension sets Aurora may publish a secondary's lag under (values may be Pulumi inputs)."""
    return [{"DBClusterIdentifier": cluster_id}, {"DBClusterIdentifier": cluster_id, "SourceRegion": source_region}]

