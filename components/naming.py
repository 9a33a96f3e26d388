"""Physical names and tags shared by every component (pure)."""

from __future__ import annotations

import re

PROJECT = "magento-dr"


def physical_name(stack: str, region: str, part: str, *, max_length: int = 63) -> str:
    """A readable, unique-per-region AWS name: `magento-dr-<stack>-<part>`.

    Names are lower-case, hyphenated and cut to `max_length` (S3 and RDS cap at
    63). The region is not repeated: each stack lives in exactly one region.
    """
    del region  # names are per stack; kept in the signature so call sites say where
    name = re.sub(r"[^a-z0-9-]+", "-", f"{PROJECT}-{stack}-{part}".lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)
    return name[:max_length].rstrip("-")


def default_tags(*, stack: str, role: str, region: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Tags every provider stamps on every resource."""
    tags = {
        "project": PROJECT,
        "stack": stack,
        "role": role,
        "region": region,
        "managed-by": "pulumi",
    }
    for key, value in (extra or {}).items():
        tags.setdefault(key, value)
    return tags


def regional_hostname(shop_hostname: str, region: str) -> str:
    """The hostname that reaches one region's load balancer directly, e.g. us-east-1.shop.example.com.

    Each stack serves its own; the peer's failover function probes it, so both
    stacks derive it from config alone and neither needs the other's outputs.
    """
    return f"{region}.{shop_hostname}"


def health_url(shop_hostname: str, region: str) -> str:
    """Magento's deep health check (database + cache) on a region's own hostname."""
    return f"https://{regional_hostname(shop_hostname, region)}/health_check.php"
