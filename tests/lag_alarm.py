"""Reading a lag alarm's metric math back out of a recorded resource (tests share it)."""

from __future__ import annotations

import re
from typing import Any

LAG_METRICS = {"AuroraGlobalDBRPOLag", "AuroraGlobalDBReplicationLag"}


def lag_alarm_reads(inputs: dict[str, Any]) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """The (metric, dimensions) an alarm's MAX expression covers; asserts the expression covers every metric query."""
    queries = inputs["metricQueries"]
    (expression,) = [q for q in queries if q.get("expression")]
    assert expression.get("returnData") is True and not [q for q in queries if q.get("metric") and q.get("returnData")]
    ids = set(re.findall(r"\bm\d+\b", expression["expression"]))
    assert expression["expression"].startswith("MAX([") and ids == {q["id"] for q in queries if q.get("metric")}
    reads = set()
    for q in queries:
        if q.get("metric"):
            m = q["metric"]
            assert m["namespace"] == "AWS/RDS" and m["stat"] == "Maximum" and int(m["period"]) == 60
            reads.add((m["metricName"], tuple(sorted(m["dimensions"].items()))))
    return reads


def expected_reads(cluster_id: str, source_region: str) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """Both lag metrics under both dimension sets AWS may publish them under (docs/aws-assumptions.md A5)."""
    sets = [(("DBClusterIdentifier", cluster_id),), (("DBClusterIdentifier", cluster_id), ("SourceRegion", source_region))]
    return {(metric, dims) for metric in LAG_METRICS for dims in sets}
