"""The lag alarms' metric math: both Aurora lag metrics under both dimension sets AWS may publish them under.

Used by the shop stacks' FailoverAutomation and a database standby's GlobalDatabase; the failover
function and the readiness check read the same figures (components/contracts.py LAG_METRICS,
lag_dimension_sets; docs/aws-assumptions.md A5).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .contracts import LAG_METRICS, LAG_NAMESPACE, lag_dimension_sets


def lag_alarm_queries(cluster_id: pulumi.Input[str], source_region: str, period: int) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
    """Every lag metric under every dimension set, and the alarm on their maximum (MAX over an array of
    time series is their per-point maximum): whichever metric and set an account publishes, the alarm
    sees it; in milliseconds, like the metrics. AWS allows up to 10 metrics in an alarm's math.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html#metric-math-syntax
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Metric_Math_Alarm.html
    """
    stats = [(metric, dims) for metric in LAG_METRICS for dims in lag_dimension_sets(cluster_id, source_region)]
    ids = [f"m{i}" for i in range(len(stats))]
    queries = [
        aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=ident,
            return_data=False,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace=LAG_NAMESPACE, metric_name=metric, dimensions=dims, stat="Maximum", period=period
            ),
        )
        for ident, (metric, dims) in zip(ids, stats, strict=True)
    ]
    expression = f"MAX([{', '.join(ids)}])"
    return [*queries, aws.cloudwatch.MetricAlarmMetricQueryArgs(id="lag", label="Aurora global lag (ms)", return_data=True, expression=expression)]
