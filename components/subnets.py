"""Subnet CIDR arithmetic for the regional network (pure, table-tested)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

TIERS = ("public", "private", "data")
# AWS's smallest subnet is a /28; five addresses of each are reserved.
SMALLEST_SUBNET_PREFIX = 28


@dataclass(frozen=True)
class AzSubnets:
    """The three subnets of one availability zone."""

    public: str
    private: str
    data: str


# The VPC is cut into quarters — public, private, data, and one spare for later
# tiers — and each quarter into eight AZ slots. Fixed positions mean that adding
# an AZ (up to eight) or a tier never renumbers an existing subnet.
TIER_BITS = 2
AZ_SLOT_BITS = 3
MAX_AZS = 2**AZ_SLOT_BITS


def plan_subnets(vpc_cidr: str, az_count: int) -> list[AzSubnets]:
    """Public/private/data subnet CIDRs for each of `az_count` AZs in `vpc_cidr`."""
    if not 1 <= az_count <= MAX_AZS:
        raise ValueError(f"az_count must be between 1 and {MAX_AZS}, got {az_count}")
    network = ipaddress.IPv4Network(vpc_cidr, strict=True)
    new_prefix = network.prefixlen + TIER_BITS + AZ_SLOT_BITS
    if new_prefix > SMALLEST_SUBNET_PREFIX:
        raise ValueError(
            f"{vpc_cidr} is too small: subnets would be /{new_prefix}; "
            f"AWS's smallest is /{SMALLEST_SUBNET_PREFIX}, so use a /{SMALLEST_SUBNET_PREFIX - TIER_BITS - AZ_SLOT_BITS} or larger"
        )
    quarters = list(network.subnets(prefixlen_diff=TIER_BITS))
    slots = [list(quarter.subnets(prefixlen_diff=AZ_SLOT_BITS)) for quarter in quarters[: len(TIERS)]]
    return [AzSubnets(public=str(slots[0][az]), private=str(slots[1][az]), data=str(slots[2][az])) for az in range(az_count)]
