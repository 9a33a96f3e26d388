"""ShopTraffic: this region's half of the Route 53 failover pair, and its regional hostname.

Traffic follows the database writer without calling the Route 53 API during an
outage. Each failover record carries a calculated health check:

* PRIMARY — healthy only when BOTH Magento's deep check (`/health_check.php`:
  database + cache) answers over HTTPS on this region's own hostname AND this
  region holds the Aurora global writer (a CloudWatch alarm on the
  `MagentoDR/RegionHoldsWriter` metric the failover function publishes every
  minute, watched by a CLOUDWATCH_METRIC check). A recovered old primary
  therefore stays out of DNS while the peer holds the writer.
* SECONDARY — healthy when AT LEAST ONE of its own deep check passes or an
  *inverted* deep check of the primary's regional hostname says the primary is
  failing. Traffic thus moves as soon as Route 53 sees the primary fail, in
  parallel with the failover function's detection and Aurora's promotion
  (components/rto.py), and stays after a failover because the secondary's deep
  check passes against the writer it now holds.

With the optional accelerator (`failover.globalAccelerator`, docs/front-door.md)
the same record, health check included, aliases the accelerator instead of this
region's ALB: an in-place change of one record set, so the shop's name never
goes unanswered while the option is switched, and the pair keeps failing over
through Route 53 until both stacks have joined the accelerator. Once they have,
both records lead to the accelerator, and its health-based routing (the writer
gates) decides where shoppers go; the regional records stay on the ALBs.

See docs/frontend.md for the failure modes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .contracts import METRIC_NAMESPACE, WRITER_METRIC
from .front_door import HOSTED_ZONE_ID as ACCELERATOR_ZONE_ID
from .magento_runtime import DEEP_HEALTH_PATH
from .naming import physical_name

# Route 53 alarms must use standard-resolution metrics and a basic statistic.
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_AlarmIdentifier.html
WRITER_ALARM_PERIOD_SECONDS = 60
# Two silent or zero minutes in a row and a region loses its writer vote; one good
# datapoint restores it. The failover function publishes at the start and the end
# of each ~55 s evaluation and every 30 s of a long one, but an evaluation can
# still arrive late or not at all (Scheduler delivery, a throttled tick): with a
# single period that one empty minute cost the writer its vote (the drill's late
# writer datapoint shows it). DatapointsToAlarm equals EvaluationPeriods on purpose:
# "Route 53 does not support "M out of N" alarms"
# (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-types.html).
# Route 53 evaluates the alarm's data stream itself ("Route 53 monitors the data
# stream for the corresponding alarm instead of monitoring the alarm state",
# https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html);
# whether it applies treatMissingData or reads a missing period from older
# datapoints, as CloudWatch's own evaluation does, is not documented: the drill
# plays both readings (drill/traffic.py). The price: a region that stops holding
# the writer loses its vote one minute later. Its deep check keeps it out first
# (it fails wherever the writer is not), which is why a primary back from a short
# outage still does not flap back (the drill's short-outage scenario checks it).
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
    peer_regional_hostname: str | None = None
    """Secondary only: the primary's regional hostname, whose deep check (inverted) lets traffic move here."""
    accelerator_dns_name: pulumi.Input[str] | None = None
    """With the accelerator: the failover record aliases it (components/front_door.HOSTED_ZONE_ID) instead of the ALB."""

    def __post_init__(self) -> None:
        if self.health_check.fqdn != self.regional_hostname:
            raise ValueError("ShopTrafficArgs.health_check must probe the regional hostname, not the shared shop hostname")
        if not self.regional_hostname.endswith("." + self.shop_hostname):
            raise ValueError("ShopTrafficArgs.regional_hostname must be a name under the shop hostname")
        if self.is_primary and self.peer_regional_hostname is not None:
            raise ValueError(
                "ShopTrafficArgs.peer_regional_hostname is for the secondary; the PRIMARY record never takes traffic "
                "because the peer fails (only a planned failback brings it back)"
            )
        if not self.is_primary:
            peer = self.peer_regional_hostname
            if peer is None or peer == self.regional_hostname or not peer.endswith("." + self.shop_hostname):
                raise ValueError(
                    "ShopTrafficArgs.peer_regional_hostname is required in the secondary: the primary's regional "
                    "hostname (components/naming.regional_hostname(shop, primary region))"
                )

    def peer_health_check(self) -> HealthCheckPlan | None:
        """The deep check of the primary that the secondary watches (inverted), with the same interval and threshold."""
        if self.peer_regional_hostname is None:
            return None
        return dataclasses.replace(self.health_check, fqdn=self.peer_regional_hostname)


class ShopTraffic(pulumi.ComponentResource):
    """Writer alarm, the health checks, the failover record and the regional record."""

    health_check_ids: dict[str, pulumi.Output[str]]
    """Route 53 health check ids: `https`, `writer`, `calculated` (the one on the record), and in the secondary `peer_down`."""
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
                + (
                    "Route 53 keeps the shop away from this region while this alarm is not OK."
                    if args.is_primary
                    else "informational here: the SECONDARY record follows its deep check and the primary's."
                )
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
        https_check = _https_check(f"{name}-https", args.health_check, inverted=False, opts=child)
        peer_plan = args.peer_health_check()
        if peer_plan is None:
            # PRIMARY: deep check AND holds the writer, so a recovered old
            # primary stays out while the peer holds the writer.
            children: list[pulumi.Input[str]] = [https_check.id, writer_check.id]
            threshold = 2
            peer_down_check = None
        else:
            # SECONDARY: own deep check OR the primary failing. While the
            # primary is dark there is nowhere better to send shoppers, and
            # being here already when Aurora promotes saves the deep check's
            # recovery and the alias TTL. This region's writer check stays out:
            # the deep check passes wherever the writer is, through the global
            # writer endpoint (it is kept for the healthCheckIds export and
            # the operators' view of which region Route 53 sees as the writer).
            peer_down_check = _https_check(f"{name}-peer-down", peer_plan, inverted=True, opts=child)
            children = [https_check.id, peer_down_check.id]
            threshold = 1
        calculated = aws.route53.HealthCheck(
            f"{name}-serves-shop",
            type="CALCULATED",
            child_healthchecks=children,
            child_health_threshold=threshold,
            tags={"Name": f"{args.regional_hostname} may serve {args.shop_hostname}"},
            opts=child,
        )

        if args.accelerator_dns_name is None:
            shop_alias = aws.route53.RecordAliasArgs(name=args.alb_dns_name, zone_id=args.alb_zone_id, evaluate_target_health=True)
        else:
            # What Route 53's evaluate-target-health makes of an accelerator is not documented; the
            # accelerator does the health routing itself, and the record keeps its own check.
            shop_alias = aws.route53.RecordAliasArgs(name=args.accelerator_dns_name, zone_id=ACCELERATOR_ZONE_ID, evaluate_target_health=False)
        failover_record = aws.route53.Record(
            f"{name}-shop-{role.lower()}",
            zone_id=args.zone_id,
            name=args.shop_hostname,
            type="A",
            set_identifier=failover_set_identifier(role.lower(), args.region),
            failover_routing_policies=[aws.route53.RecordFailoverRoutingPolicyArgs(type=role)],
            health_check_id=calculated.id,
            aliases=[shop_alias],
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
        if peer_down_check is not None:
            self.health_check_ids["peer_down"] = peer_down_check.id
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


def _https_check(logical_name: str, plan: HealthCheckPlan, *, inverted: bool, opts: pulumi.ResourceOptions) -> aws.route53.HealthCheck:
    """Route 53's HTTPS check of a region's deep health URL (SNI: the ALB serves several certificates' names)."""
    url = f"https://{plan.fqdn}{plan.resource_path}"
    return aws.route53.HealthCheck(
        logical_name,
        type="HTTPS",
        fqdn=plan.fqdn,
        port=443,
        resource_path=plan.resource_path,
        request_interval=plan.request_interval,
        failure_threshold=plan.failure_threshold,
        enable_sni=True,
        # Set only where inverted, so the own-region check's inputs stay as they were.
        invert_healthcheck=True if inverted else None,
        tags={"Name": f"{url} is failing" if inverted else url},
        opts=opts,
    )
