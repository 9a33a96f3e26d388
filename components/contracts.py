"""Names shared between the stacks and the failover handler; one place, so they cannot drift.

The handler (handlers/) cannot import this package (it ships without Pulumi), so
it keeps its own copies and tests/test_contracts.py checks the two agree.
"""

# CloudWatch metric the failover function publishes on every evaluation:
# 1 when this region's cluster holds the global writer, else 0. A per-region
# alarm on it feeds the Route 53 health check, so traffic follows the writer.
METRIC_NAMESPACE = "MagentoDR"
WRITER_METRIC = "RegionHoldsWriter"
WRITER_METRIC_DIMENSIONS = ("Stack", "Region")
# Published (1) by every evaluation another holder's failover lease blocked; an
# alarm fires when evaluations stay blocked longer than any holder should work.
LEASE_BLOCKED_METRIC = "FailoverLeaseBlocked"

# SSM parameter (under the stack's prefix) that says whether this region is
# active: cron and queue consumers run only where it is "true".
def ssm_prefix(stack: str) -> str:
    return f"/magento-dr/{stack}"


ACTIVE_PARAMETER = "active"
