"""ShopTraffic: this region's half of the Route 53 failover pair, and its regional hostname.

Traffic follows the database writer. The failover record's health check is a
calculated check that is healthy only when BOTH
  * Magento's deep health check (`/health_check.php`: database + cache) answers
    over HTTPS on this region's own hostname, and
  * this region holds the Aurora global writer — a CloudWatch alarm on the
    `MagentoDR/RegionHoldsWriter` metric the failover function publishes every
    minute, watched by a Route 53 CLOUDWATCH_METRIC health check.
So a recovered old primary stays out of DNS while the peer holds the writer, and
nothing calls the Route 53 API during an outage. See docs/frontend.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .contracts import METRIC_NAMESPACE, WRITER_METRIC
from .magento_runtime import DEEP_HEALTH_PATH
from .naming import physical_name

# Route 53 alarms must use standard-resolution metrics and a basic statistic.
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_AlarmIdentifier.html
WRITER_ALARM_PERIOD_SECONDS = 60
# Two silent or zero minutes before a region loses its writer vote; one good
# datapoint restores it (the alarm leaves ALARM as soon as fewer than 2 of 2 breach).
WRITER_ALARM_EVALUATION_PERIODS = 2


@dataclass(frozen=True)
class HealthCheckPlan:
    """Settings of the HTTPS deep check (pure, validated)."""

    fqdn: str
    request_interval: int
    failure_threshold: int
    resource_path: str = DEEP_HEALTH_PATH

    def __post_init__(self) -> None:
        if self.request_interval not in (10, 30):
            raise ValueError(f"Route 53 request_interval must be 10 or 30 seconds, got {self.request_interval}")
        if not 1 <= self.failure_threshold <= 3:
            raise ValueError(f"failure_threshold {self.failure_threshold}: the shop needs failover within three failed checks (1-3)")

    def seconds_to_unhealthy(self) -> int:
        """Roughly how long a dead region keeps receiving new DNS answers."""
        return self.request_interval * self.failure_threshold


def failover_set_identifier(role: str, region: str) -> str:
    return f"{role}-{region}"


@dataclass(frozen=True)
class ShopTrafficArgs:
    stack: str
    region: str
    is_primary: bool
    zone_id: pulumi.Input[str]
    shop_hostname: str
    regional_hostname: str
    alb_dns_name: pulumi.Input[str]
    alb_zone_id: pulumi.Input[str]
    health_check: HealthCheckPlan

    def __post_init__(self) -> None:
        if self.health_check.fqdn != self.regional_hostname:
            raise ValueError("ShopTrafficArgs.health_check must probe the regional hostname, not the shared shop hostname")
        if not self.regional_hostname.endswith("." + self.shop_hostname):
            raise ValueError("ShopTrafficArgs.regional_hostname must be a name under the shop hostname")


class ShopTraffic(pulumi.ComponentResource):
    """Writer alarm, three health checks, the failover record and the regional record."""

    health_check_ids: dict[str, pulumi.Output[str]]
    """Route 53 health check ids: `https`, `writer` and `calculated` (the one on the record)."""
    writer_alarm_name: pulumi.Output[str]
    """CloudWatch alarm that is OK only while this region holds the global writer."""
    failover_record_fqdn: pulumi.Output[str]
    """The shop hostname this stack's failover record answers for."""
    regional_record_fqdn: pulumi.Output[str]
    """This region's own hostname (probed by Route 53 and the peer's failover function)."""

    def __init__(self, name: str, args: ShopTrafficArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("magento-dr:index:ShopTraffic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = "PRIMARY" if args.is_primary else "SECONDARY"

        writer_alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-holds-writer",
            name=physical_name(args.stack, args.region, "holds-writer", max_length=255),
            alarm_description=(
                f"{args.region} does not hold the Aurora global writer (or its failover function is silent); "
                f"Route 53 keeps the shop away from this region while this alarm is not OK."
            ),
            namespace=METRIC_NAMESPACE,
            metric_name=WRITER_METRIC,
            dimensions={"Stack": args.stack, "Region": args.region},
            statistic="Maximum",
            period=WRITER_ALARM_PERIOD_SECONDS,
            evaluation_periods=WRITER_ALARM_EVALUATION_PERIODS,
            datapoints_to_alarm=WRITER_ALARM_EVALUATION_PERIODS,
            threshold=1,
            comparison_operator="LessThanThreshold",
            # No data means nobody vouches for this region holding the writer.
            treat_missing_data="breaching",
            opts=child,
        )
        writer_check = aws.route53.HealthCheck(
            f"{name}-writer",
            type="CLOUDWATCH_METRIC",
            cloudwatch_alarm_name=writer_alarm.name,
            cloudwatch_alarm_region=args.region,
            insufficient_data_health_status="Unhealthy",
            reference_name=f"{args.stack}-writer"[:64],
            tags={"Name": f"{args.regional_hostname} holds writer"},
            # Route 53 reads the alarm's configuration when the check is created; re-sync when it changes.
            triggers={"alarm": writer_alarm.arn},
            opts=child,
        )
        https_check = aws.route53.HealthCheck(
            f"{name}-https",
            type="HTTPS",
            fqdn=args.health_check.fqdn,
            port=443,
            resource_path=args.health_check.resource_path,
            request_interval=args.health_check.request_interval,
            failure_threshold=args.health_check.failure_threshold,
            enable_sni=True,
            tags={"Name": f"https://{args.health_check.fqdn}{args.health_check.resource_path}"},
            opts=child,
        )
        calculated = aws.route53.HealthCheck(
            f"{name}-serves-shop",
            type="CALCULATED",
            child_healthchecks=[https_check.id, writer_check.id],
            child_health_threshold=2,  # both: healthy deep check AND holds the writer
            tags={"Name": f"{args.regional_hostname} may serve {args.shop_hostname}"},
            opts=child,
        )

        failover_record = aws.route53.Record(
            f"{name}-shop-{role.lower()}",
            zone_id=args.zone_id,
            name=args.shop_hostname,
            type="A",
            set_identifier=failover_set_identifier(role.lower(), args.region),
            failover_routing_policies=[aws.route53.RecordFailoverRoutingPolicyArgs(type=role)],
            health_check_id=calculated.id,
            aliases=[aws.route53.RecordAliasArgs(name=args.alb_dns_name, zone_id=args.alb_zone_id, evaluate_target_health=True)],
            opts=child,
        )
        regional_record = aws.route53.Record(
            f"{name}-regional",
            zone_id=args.zone_id,
            name=args.regional_hostname,
            type="A",
            aliases=[aws.route53.RecordAliasArgs(name=args.alb_dns_name, zone_id=args.alb_zone_id, evaluate_target_health=True)],
            opts=child,
        )

        self.health_check_ids = {"https": https_check.id, "writer": writer_check.id, "calculated": calculated.id}
        self.writer_alarm_name = writer_alarm.name
        self.failover_record_fqdn = failover_record.name
        self.regional_record_fqdn = regional_record.name
        self.register_outputs(
            {
                "health_check_ids": self.health_check_ids,
                "writer_alarm_name": self.writer_alarm_name,
                "failover_record_fqdn": self.failover_record_fqdn,
                "regional_record_fqdn": self.regional_record_fqdn,
            }
        )
