"""Physical names and tags shared by every component (pure)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

PROJECT = "magento-dr"

# A tag on an RDS resource (every stack has them, and its providers stamp the default tags on each): a key of 1-128
# characters and a value of 0-256, neither prefixed "aws:" or "rds:", of Unicode letters, digits, white space and
# _ . : / = + - @ ("Java regex: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$").
# https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Tag.html
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 256
RESERVED_TAG_PREFIXES = ("aws:", "rds:")
TAG_SYMBOLS = "_.:/=+-@"
# "The maximum number of tags per resource is 50" (user-defined tags; RDS's own pages name no other figure).
# https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/allocation-tag-restrictions.html
MAX_TAGS_PER_RESOURCE = 50
# The DB instances the failover function adds before a promotion are named after the cluster ({cluster}-failover-N,
# handlers/settings.py Settings.failover_instance_ids) and carry, beside the stack's default tags, two tags the function
# sets itself: their Name and this mark (handlers/aws.py; the IAM grant allows no other keys, components/failover_iam.py).
FAILOVER_INSTANCE_INFIX = "-failover-"
CREATED_BY_TAG = ("magento-dr:created-by", "failover-function")
FAILOVER_INSTANCE_OWN_TAG_KEYS = ("Name", CREATED_BY_TAG[0])
# A DB instance identifier "must contain from 1 to 63 letters, numbers, or hyphens", its "first character must be a letter",
# and it "can't end with a hyphen or contain two consecutive hyphens".
# https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html (DBInstanceIdentifier)
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/CHAP_Limits.html#RDS_Limits.Constraints
MAX_DB_INSTANCE_IDENTIFIER_LENGTH = 63


def physical_name(stack: str, region: str, part: str, *, max_length: int = 63) -> str:
    """A readable, unique-per-region AWS name: `magento-dr-<stack>-<part>`.

    Names are lower-case, hyphenated and cut to `max_length` (S3 and RDS cap at
    63). The region is not repeated: each stack lives in exactly one region.
    """
    del region  # names are per stack; kept in the signature so call sites say where
    name = re.sub(r"[^a-z0-9-]+", "-", f"{PROJECT}-{stack}-{part}".lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)
    return name[:max_length].rstrip("-")


def db_cluster_name(stack: str, region: str) -> str:
    """This stack's Aurora cluster: `magento-dr-<stack>-db` (components/global_database.py database_names)."""
    return physical_name(stack, region, "db")


def failover_instance_identifier(cluster: str, n: int) -> str:
    """The n-th DB instance (from 1) the failover function adds to `cluster` (handlers/settings.py failover_instance_ids)."""
    return f"{cluster}{FAILOVER_INSTANCE_INFIX}{n}"


def db_instance_identifier_problem(identifier: str) -> str | None:
    """Why RDS would refuse `identifier` for a DB instance, or None."""
    if not 1 <= len(identifier) <= MAX_DB_INSTANCE_IDENTIFIER_LENGTH:
        return f"it is {len(identifier)} characters long, and RDS takes 1 to {MAX_DB_INSTANCE_IDENTIFIER_LENGTH}"
    if not re.fullmatch(r"[A-Za-z0-9-]+", identifier):
        return "RDS takes letters, digits and hyphens only"
    if not identifier[0].isalpha():
        return "RDS wants a letter first"
    if identifier.endswith("-") or "--" in identifier:
        return "RDS refuses a hyphen at the end or two in a row"
    return None


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


def tag_problem(key: str, value: str) -> str | None:
    """Why AWS would refuse the tag `key`=`value` on an RDS resource (API_Tag), or None."""
    for part, text, longest, minimum in (("key", key, MAX_TAG_KEY_LENGTH, 1), ("value", value, MAX_TAG_VALUE_LENGTH, 0)):
        if not minimum <= len(text) <= longest:
            return f"the {part} {text!r} must be {minimum} to {longest} characters long"
        if text.lower().startswith(RESERVED_TAG_PREFIXES):
            return f"the {part} {text!r} starts with {text[:4]!r}, reserved for AWS"
        odd = [c for c in text if c not in TAG_SYMBOLS and not unicodedata.category(c).startswith(("L", "N", "Z"))]
        if odd:
            return f"the {part} {text!r} has {odd[0]!r}: AWS allows letters, digits, spaces and {' '.join(TAG_SYMBOLS)}"
    return None


def failover_instance_default_tags(stack_tags: Mapping[str, str]) -> dict[str, str]:
    """The stack's default tags the failover function puts on the DB instances it adds: all but the two it sets itself
    (its own win, as a declared resource's own tags win over its provider's defaults)."""
    return {key: value for key, value in stack_tags.items() if key not in FAILOVER_INSTANCE_OWN_TAG_KEYS}


def failover_instance_tag_count(stack_tags: Mapping[str, str]) -> int:
    """How many tags a DB instance the failover function adds carries: the stack's default tags and its own two."""
    return len(failover_instance_default_tags(stack_tags)) + len(FAILOVER_INSTANCE_OWN_TAG_KEYS)


def regional_hostname(shop_hostname: str, region: str) -> str:
    """The hostname that reaches one region's load balancer directly, e.g. us-east-1.shop.example.com.

    Each stack serves its own; the peer's failover function probes it, so both
    stacks derive it from config alone and neither needs the other's outputs.
    """
    return f"{region}.{shop_hostname}"


def health_url(shop_hostname: str, region: str) -> str:
    """Magento's deep health check (database + cache) on a region's own hostname."""
    return f"https://{regional_hostname(shop_hostname, region)}/health_check.php"
