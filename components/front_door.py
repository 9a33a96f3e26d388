"""The optional Global Accelerator front door (`failover.globalAccelerator`), as data (pure).

AWS's facts the accelerator path rests on, each with the page that states it (docs/front-door.md
has the whole design), the writer gate's health-check settings, the plan of each region's endpoint
group, and the writer gate function's IAM documents. No Pulumi import: config validation, the RTO
arithmetic, the drill and the tests read these without the SDK.

How traffic follows the writer here: Global Accelerator judges an ALB endpoint by the ALB's own
target health ("considers the load balancer endpoint to be healthy only if each target group behind
the load balancer has at least one healthy target"). Each region's ALB therefore carries a second
target group, the *writer gate*: one Lambda target, health-checked by the ALB, that answers 200 only
while this region's Aurora cluster holds the global writer or a global failover/switchover names it
as the target. A region that is neither is unhealthy for the accelerator, whatever its web tier
does; the web target group (the liveness file the Auto Scaling group relies on) is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .iam import allow

# ---------------------------------------------------------------------------------- AWS facts
# "you must specify the US West (Oregon) Region to create, update, or otherwise work with
# accelerators" — https://docs.aws.amazon.com/global-accelerator/latest/api/Welcome.html. Only the
# API: the accelerator's data plane runs at AWS's edge (whitepaper "AWS Fault Isolation Boundaries",
# global services: "their control plane is hosted in a single AWS Region, while their data plane is
# globally distributed"). terraform-provider-aws pins the GA client to us-west-2 itself
# (service_package_gen.go), so the resources go through the stack's own provider.
API_REGION = "us-west-2"
# Route 53 alias target zone of every accelerator (General Reference endpoint table; provider
# internal/conns/awsclient.go GlobalAcceleratorHostedZoneID).
HOSTED_ZONE_ID = "Z2BJ6XQ5FK7U4H"
# "Listeners support TCP and UDP protocols"; TLS stays on the ALB (the accelerator is layer 4).
# https://docs.aws.amazon.com/global-accelerator/latest/dg/about-listeners.html
LISTENER_PROTOCOL = "TCP"
SHOP_PORTS = (80, 443)  # 80 only redirects to 443 (the ALB's HTTP listener)
# "By default, client affinity for a standard listener is set to None": one region is live at a
# time, so affinity has nothing to keep together. Set explicitly all the same.
CLIENT_AFFINITY = "NONE"
# "By default, the weight for an endpoint is set to 128" (about-endpoints-endpoint-weights.html).
# Set explicitly: the provider sends Weight whenever the key is present in the endpoint block, and an
# omitted weight may reach AWS as 0 (provider PR #31767; docs/aws-assumptions.md G7).
ENDPOINT_WEIGHT = 128
# "client IP address preservation is enabled by default for new accelerators" for internet-facing
# ALBs (preserve-client-ip-address.html), but the provider's default is false: set it. Magento keeps
# seeing the shopper's address in X-Forwarded-For, as behind the ALB alone.
CLIENT_IP_PRESERVATION = True
# Traffic dials: the primary's group takes all regular traffic (100), the standby's none (0). A dial
# does not stop failover: "for this failover, Global Accelerator ignores the traffic dial setting. So
# if, for example, an endpoint group has a traffic dial set to zero, Global Accelerator still includes
# that endpoint group in the failover attempt" (about-endpoints-endpoint-weights.unhealthy-endpoints.html).
# The gates decide where shoppers go; the dial decides only the tie while both regions are healthy
# (during a switchover) and keeps the standby out if the accelerator ever ignored its gate (G2).
PRIMARY_TRAFFIC_DIAL = 100.0
STANDBY_TRAFFIC_DIAL = 0.0
# How soon the accelerator acts on a change of an ALB endpoint's health. Not configurable for load
# balancer endpoints ("Global Accelerator uses the settings for EC2 instance or Elastic IP address
# health checks but not for Network Load Balancers or Application Load Balancers",
# about-endpoint-groups-health-check-options.html). AWS's workshop: "it takes AWS Global Accelerator
# up to 30 seconds (the health check interval) to direct new connections to the next closest
# endpoint" (https://intro-to-global-accelerator.workshop.aws/en/failover.html); the developer guide:
# after recovery "routing will start back to healthy endpoints [...] in about 30 seconds or so".
# Which figure governs an endpoint that turns healthy while the other is unhealthy is not
# documented (G4): the budget takes 30 s, the drill's model plays 30 s and instant.
ENDPOINT_REACTION_SECONDS = 30

# Pricing (https://aws.amazon.com/global-accelerator/pricing/): "a fixed hourly fee and an
# incremental charge over your standard Data Transfer rates [...] (DT-Premium)". Stated in the
# README where the option is documented.
FIXED_FEE_PER_HOUR_USD = 0.025
DT_PREMIUM_NA_EU_PER_GB_USD = 0.015
HOURS_PER_MONTH = 730


def monthly_fixed_fee_usd() -> float:
    """The accelerator's fixed fee for a month of 730 hours (charged while it exists, enabled or not)."""
    return round(FIXED_FEE_PER_HOUR_USD * HOURS_PER_MONTH, 2)


# ------------------------------------------------------------------------- the writer gate
# ELB target-group health checks, at ELB's minimums so the gate follows the writer as fast as an ALB
# can: "HealthCheckIntervalSeconds [...] The range is 5-300 seconds", "HealthyThresholdCount [...]
# The range is 2-10", "UnhealthyThresholdCount [...] The range is 2-10"
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html).
GATE_INTERVAL_SECONDS = 5
GATE_HEALTHY_THRESHOLD = 2
GATE_UNHEALTHY_THRESHOLD = 2
# The timeout must be smaller than the interval (CreateTargetGroup), and the function's own timeout
# smaller still, so a slow RDS answer is a failed check, never a late success.
GATE_CHECK_TIMEOUT_SECONDS = 4
GATE_FUNCTION_TIMEOUT_SECONDS = 3
GATE_MEMORY_MB = 128
# Health checks are off by default for Lambda targets ("You can enable health checks in order to
# implement DNS failover [...] The Lambda function can check the health of a downstream service
# before responding", elb-application-load-balancers-user-guide lambda-functions.md).
GATE_HEALTH_PATH = "/magento-dr-writer-gate"
GATE_MATCHER = "200"
# Clients never reach the gate: its listener rule matches only a header whose value is a secret the
# stack generates (no client sends it), and it is evaluated after every other rule. A target group
# used in a listener rule is health-checked ("Before the load balancer sends a health check request to
# a target, you must register it with a target group, specify its target group in a listener rule";
# a target is `unused` when "the target group is not used in a listener rule"); whether the
# accelerator counts such a group among those "behind the load balancer" is not documented (G2).
GATE_HEADER = "x-magento-dr-writer-gate"
GATE_RULE_PRIORITY = 49_999  # 1..50,000 (listener_rule.go); the last place, out of every other rule's way
GATE_SECRET_LENGTH = 40  # header values: 1..128 characters (listener_rule.go)
# FailoverState.Status values (API_FailoverState) that mean "this cluster is becoming the writer".
BECOMING_WRITER_STATUSES = ("pending", "failing-over", "switching-over")

# The environment the gate reads (handlers/writer_gate.py ENV_VARS; tests keep the two equal).
GATE_ENV_GLOBAL_CLUSTER_ID = "WRITER_GATE_GLOBAL_CLUSTER_ID"
GATE_ENV_LOCAL_CLUSTER_ARN = "WRITER_GATE_LOCAL_CLUSTER_ARN"
GATE_ENV_PEER_REGION = "WRITER_GATE_PEER_REGION"
GATE_HANDLER = "handlers.writer_gate.lambda_handler"
# The gate and the rule it shares with the failover function (whose claim to the writer stands when two regions disagree).
GATE_MODULES = ("handlers/__init__.py", "handlers/activation.py", "handlers/writer_gate.py")


def gate_reaction_seconds() -> int:
    """How long the gate target group needs to follow a change of the writer (either way)."""
    return max(GATE_HEALTHY_THRESHOLD, GATE_UNHEALTHY_THRESHOLD) * GATE_INTERVAL_SECONDS


def traffic_path_seconds() -> int:
    """From a promotion request (or a writer change) to the accelerator sending new connections there."""
    return GATE_HEALTHY_THRESHOLD * GATE_INTERVAL_SECONDS + ENDPOINT_REACTION_SECONDS


# ------------------------------------------------------------------------------ plans (pure)
_ACCELERATOR_NAME_RE = re.compile(r"^[0-9A-Za-z](?:[0-9A-Za-z-]{0,253}[0-9A-Za-z])?$")
_ALB_ARN_RE = re.compile(r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/app/[^/]+/[0-9a-f]+$")


def accelerator_name(stack: str) -> str:
    """`magento-dr-<stack>-shop`: 1-255 characters, letters, digits and inner hyphens (accelerator.go)."""
    name = re.sub(r"-{2,}", "-", re.sub(r"[^0-9A-Za-z-]+", "-", f"magento-dr-{stack}-shop")).strip("-")[:255].rstrip("-")
    if not _ACCELERATOR_NAME_RE.match(name):
        raise ValueError(f"accelerator name {name!r} is not 1-255 letters, digits and inner hyphens")
    return name


@dataclass(frozen=True)
class EndpointGroupPlan:
    """One region's endpoint group: its ALB, explicitly weighted, client IP preserved, and its dial."""

    region: str
    is_primary: bool

    @property
    def traffic_dial_percentage(self) -> float:
        return PRIMARY_TRAFFIC_DIAL if self.is_primary else STANDBY_TRAFFIC_DIAL

    def endpoint(self, alb_arn: Any) -> dict[str, Any]:
        """The endpoint configuration for this region's ALB (`alb_arn` may be a Pulumi output)."""
        return {"endpoint_id": alb_arn, "weight": ENDPOINT_WEIGHT, "client_ip_preservation_enabled": CLIENT_IP_PRESERVATION}


def is_alb_arn(arn: str) -> bool:
    """An Application Load Balancer's ARN: the only endpoint type the accelerator may front here."""
    return bool(_ALB_ARN_RE.match(arn))


# ---------------------------------------------------------------------------- IAM (pure)
def gate_policy(
    *, partition: str, account_id: str, global_cluster_id: str, log_group_arn: str, regions: tuple[str, str], activation_parameter: str
) -> dict[str, Any]:
    """The writer gate's only permissions: read its global cluster (from its own region's API and the peer's), read the
    activation record in both regions (`regions`: this one and the peer), write its own log streams.

    `rds:DescribeGlobalClusters` is authorized on the `global-cluster` resource type (Service
    Authorization Reference, Amazon RDS), whose ARN names no region.
    """
    records = [f"arn:{partition}:ssm:{region}:{account_id}:parameter{activation_parameter}" for region in regions]
    return {
        "Version": "2012-10-17",
        "Statement": [
            allow("ReadTheGlobalCluster", ["rds:DescribeGlobalClusters"], [f"arn:{partition}:rds::{account_id}:global-cluster:{global_cluster_id}"]),
            allow("ReadTheActivationRecords", ["ssm:GetParameter"], records),
            allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [log_group_arn, f"{log_group_arn}:log-stream:*"]),
        ],
    }


# ------------------------------------------------------------------------- flow logs (pure)
FLOW_LOG_PREFIX = "accelerator"  # not "/": that yields bucket//AWSLogs/... (flow logs page)
FLOW_LOG_RETENTION_DAYS = 90


def flow_log_bucket_policy(bucket_arn: str, account_id: str) -> dict[str, Any]:
    """Log delivery may write this account's flow logs under the prefix and check the bucket ACL; TLS only.

    The two statements are AWS's own for Global Accelerator flow logs ("AWSLogDeliveryWrite",
    "AWSLogDeliveryAclCheck", monitoring-global-accelerator.flow-logs.html), narrowed to this account
    with aws:SourceAccount; declaring them here keeps the service from rewriting a policy Pulumi owns.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSLogDeliveryWrite",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{FLOW_LOG_PREFIX}/AWSLogs/{account_id}/*",
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceAccount": account_id}},
            },
            {
                "Sid": "AWSLogDeliveryAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
