"""Which AWS regions a resource or a lookup needs: operating a stack while another region is dark.

Pure (no Pulumi import). The stack program asks it which lookups it must not make in outage mode
(`magento-dr:outage.unavailableRegions`, components/config.py); offline/outage.py asks it which
resources an emergency `pulumi up` may touch. RUNBOOK.md, "Changing infrastructure during an outage".

A resource needs its provider's region, and for a *global* service also the one region that hosts
that service's control plane, whatever region its provider names: an IAM role declared through the
eu-west-1 provider is still created, read and changed by IAM's API in us-east-1.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

FAULT_ISOLATION_GLOBAL = "https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/global-services.html"
FAULT_ISOLATION_EDGE = (
    "https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/appendix-b---edge-network-global-service-guidance.html"
)


@dataclass(frozen=True)
class ControlPlane:
    """Where a global service's API (create, read, update, delete, list) is served."""

    region: str
    why: str
    source: str
    verified: bool = True
    """False: no AWS page states it. The service is then treated as needing the region (never
    touched while it is dark), which is right under either answer: at worst a change waits."""


# pulumi-aws module (the `<module>` of `aws:<module>/<type>:<Type>`) -> its control plane. Only the
# global services this program declares; a regional service (EC2, RDS, Lambda, ...) needs only its
# provider's region. ACM is regional: the CloudFront certificate is in us-east-1 because its
# provider is. The ARC Region switch plan is declared through the us-east-1 provider
# (components/region_switch.py CONTROL_PLANE_REGION), so its provider already names the region.
GLOBAL_CONTROL_PLANES: Mapping[str, ControlPlane] = {
    # "In the aws partition, the IAM service's control plane is in the us-east-1 Region, with
    # isolated data planes in each Region of the partition."
    "iam": ControlPlane("us-east-1", "IAM's control plane is in us-east-1", FAULT_ISOLATION_GLOBAL),
    # "The Route 53 control plane consists of all public Route 53 APIs covering functionality for
    # hosted zones, records, health checks [...]. It is hosted in us-east-1." DNS answers and
    # health checks (the data plane) keep working: that is what fails traffic over.
    "route53": ControlPlane("us-east-1", "Route 53's control plane (zones, records, health checks) is in us-east-1", FAULT_ISOLATION_EDGE),
    # Same appendix, "Amazon CloudFront": its control plane is hosted in us-east-1.
    "cloudfront": ControlPlane("us-east-1", "CloudFront's control plane is in us-east-1", FAULT_ISOLATION_EDGE),
    # The whitepaper lists "global single-Region operations"; a secondary summary of it names S3
    # bucket configuration calls (PutBucketPolicy, PutBucketVersioning, PutBucketReplication) among
    # them, but we could not read AWS's own sentence. Treated as needing us-east-1: a bucket
    # setting then waits for the region instead of failing half-way through an emergency update.
    # "you must specify the US West (Oregon) Region to create, update, or otherwise work with
    # accelerators" (Global Accelerator API reference, Welcome). Only the optional accelerator
    # (components/accelerator.py, writer_gate.py) uses it; its data plane is at the edge, and nothing on
    # the failover path calls the API (docs/front-door.md).
    "globalaccelerator": ControlPlane(
        "us-west-2",
        "Global Accelerator's API is served from us-west-2 only",
        "https://docs.aws.amazon.com/global-accelerator/latest/api/Welcome.html",
    ),
    "s3": ControlPlane(
        "us-east-1",
        "S3 bucket configuration may depend on us-east-1 (unverified, docs/aws-assumptions.md O4)",
        FAULT_ISOLATION_GLOBAL,
        verified=False,
    ),
}

# The Route 53 API the program's hosted-zone lookup calls (GetHostedZone/ListHostedZonesByName).
ROUTE53_CONTROL_PLANE_REGION = GLOBAL_CONTROL_PLANES["route53"].region
# The CloudFront API (the managed cache policy is a constant id, so the program calls none at preview).
CLOUDFRONT_CONTROL_PLANE_REGION = GLOBAL_CONTROL_PLANES["cloudfront"].region


def service_of(type_token: str) -> str:
    """`aws:route53/record:Record` -> `route53`; a provider or non-AWS token -> ``""``."""
    package, _, rest = type_token.partition(":")
    return rest.split("/", 1)[0] if package == "aws" and "/" in rest else ""


def regions_needed(type_token: str, provider_region: str | None) -> frozenset[str]:
    """Every region AWS must be answering in to read or change a resource of this type."""
    needed = {provider_region} if provider_region else set()
    plane = GLOBAL_CONTROL_PLANES.get(service_of(type_token))
    if plane is not None:
        needed.add(plane.region)
    return frozenset(needed)


def unreachable_because(type_token: str, provider_region: str | None, unavailable: Collection[str]) -> str:
    """Why a resource (or an invoke) cannot be served while `unavailable` regions are dark; "" if it can."""
    reasons = []
    if provider_region and provider_region in unavailable:
        reasons.append(f"its provider is in {provider_region}")
    plane = GLOBAL_CONTROL_PLANES.get(service_of(type_token))
    if plane is not None and plane.region in unavailable:
        reasons.append(plane.why)
    return "; ".join(reasons)
