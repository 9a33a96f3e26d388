"""Typed, validated stack settings read from the `magento-dr:*` config keys.

`parse_settings` is pure (a dict in, a frozen `StackSettings` out, or one
`ConfigError` that names the key and the fix); `load_settings` only reads
Pulumi config and hands it over. Validation therefore runs before the program
declares a single resource.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from .naming import (
    FAILOVER_INSTANCE_OWN_TAG_KEYS,
    MAX_DB_INSTANCE_IDENTIFIER_LENGTH,
    MAX_TAGS_PER_RESOURCE,
    db_cluster_name,
    db_instance_identifier_problem,
    default_tags,
    failover_instance_identifier,
    failover_instance_tag_count,
    tag_problem,
)
from .posture import (
    DEFAULT_FAILOVER_DATABASE_INSTANCES,
    DEFAULT_POSTURE,
    MAX_FAILOVER_DATABASE_INSTANCES,
    POSTURES,
    SIZING,
    Bound,
    PostureName,
)
from .varnish import DEFAULT_MEMORY_PERCENT, FULL_PAGE_CACHES, MEMORY_PERCENT_RANGE

if TYPE_CHECKING:
    from .rto import RtoBudget

NAMESPACE = "magento-dr"

Role = Literal["primary", "secondary"]
Scope = Literal["shop", "database"]
FailoverMode = Literal["automatic", "notify"]
NatMode = Literal["per-az", "single", "none"]

# What a `scope: database` stack (a further secondary region of the global database, with no
# shop tiers) may configure: everything else would be silently ignored, so it is refused.
DATABASE_SCOPE_SECTIONS = ("web", "cache", "search", "media", "release", "readiness", "standby")
DATABASE_SCOPE_FAILOVER_KEYS = ("notificationEmails", "rpoSeconds")  # rpoSeconds: its replication-lag alarm

# https://docs.aws.amazon.com/general/latest/gr/rande.html#regional-endpoints
_REGION_RE = re.compile(
    r"^(us|eu|ap|sa|ca|me|af|il|mx)-(gov-)?"
    r"(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d{1,2}$"
)
_STACK_FQN_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_DB_CLASS_RE = re.compile(r"^db\.(r5|r6g|r6i|r7g|r7i|r8g|x2g)\.(large|[0-9]*xlarge)$")
# Aurora global databases need memory-optimized classes (db.r5 or higher recommended).
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.configuration.requirements.html
DB_INSTANCE_CLASS_RE = _DB_CLASS_RE
_CACHE_NODE_RE = re.compile(r"^cache\.(m6g|m7g|r6g|r7g|m5|r5)\.(large|[0-9]*xlarge)$")
_EC2_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_SEARCH_TYPE_RE = re.compile(r"^[a-z][a-z0-9]*\.[a-z0-9]+\.search$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_AMI_RE = re.compile(r"^ami-[0-9a-f]{8,17}$")

# "Aurora MySQL versions 3.09 or higher contain availability improvements that enable secondary Region read
# replicas to maintain service continuity during unplanned events" (before, they "could not restart"). Whether a
# *new* instance starts while the primary's region is down is not stated (docs/aws-assumptions.md P3).
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-secondary-availability.html
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraMySQLReleaseNotes/AuroraMySQL.Updates.3090.html
PILOT_LIGHT_MIN_AURORA_MINOR = 9

# Route 53 accepts only these request intervals for endpoint health checks.
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html
ROUTE53_REQUEST_INTERVALS = (10, 30)


# Cache engine versions both Magento 2.4.7/2.4.8 and ElastiCache Global Datastore support.
# Magento 2.4.8 lists Valkey 8 and Redis 7.2; ElastiCache's newest Redis OSS is 7.1, and its
# Valkey 7.2 carries every Redis OSS 7.2 feature, so Valkey 7.2 stands in for "Redis 7.2".
# https://experienceleague.adobe.com/en/docs/commerce-operations/installation-guide/system-requirements
# https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/engine-versions.html
CACHE_ENGINE_VERSIONS: dict[str, tuple[str, ...]] = {"valkey": ("7.2", "8.0", "8.1"), "redis": ("7.0", "7.1")}


class ConfigError(ValueError):
    """A stack setting is missing or wrong; the message names the key and the fix."""


@dataclass(frozen=True)
class PeerSettings:
    """The other region of the pair (for a secondary: the primary's region)."""

    region: str
    network_cidr: str


@dataclass(frozen=True)
class DnsSettings:
    zone_name: str
    shop_hostname: str
    zone_id: str = ""
    """The zone's id as last deployed (output hostedZoneId): used instead of looking the zone up, which
    needs Route 53's API in us-east-1; required in outage mode while us-east-1 is dark."""


@dataclass(frozen=True)
class NetworkSettings:
    cidr: str = "10.10.0.0/16"
    az_count: int = 3
    nat_gateways: NatMode = "per-az"
    interface_endpoints: tuple[str, ...] = (  # a database-scope stack defaults to none (no instances)
        "ssm",
        "ssmmessages",
        "ec2messages",
        "secretsmanager",
        "kms",
        "logs",
        "monitoring",
        "sts",
    )
    flow_log_retention_days: int = 90


@dataclass(frozen=True)
class DatabaseSettings:
    engine_version: str = "8.0.mysql_aurora.3.10.0"
    instance_class: str = "db.r7g.large"
    instance_count: int = 2
    backup_retention_days: int = 7
    write_forwarding: bool = False
    audit_log: bool = False
    credentials: Literal["replica", "copy"] = "replica"
    """Secondary: read the primary's secret replica in this region, or keep an own copy (a region the primary does not replicate to)."""


FullPageCache = Literal["redis", "varnish"]


@dataclass(frozen=True)
class WebSettings:
    instance_type: str = "m7g.large"
    ami_id: str | None = None
    min_size: int = 2
    desired_capacity: int = 2
    max_size: int = 6
    standby_capacity: int = 1
    full_page_cache: FullPageCache = "redis"
    """Magento's full-page cache: the built-in one in Redis/Valkey, or Varnish on each web instance (components/varnish.py)."""
    varnish_memory_percent: int = DEFAULT_MEMORY_PERCENT
    """With Varnish: the share of each instance's memory its cache may use."""


@dataclass(frozen=True)
class CacheSettings:
    engine: Literal["valkey", "redis"] = "valkey"
    engine_version: str = "8.0"
    node_type: str = "cache.r7g.large"
    replicas: int = 1


@dataclass(frozen=True)
class SearchSettings:
    engine_version: str = "OpenSearch_2.19"
    instance_type: str = "r7g.large.search"
    instance_count: int = 2
    volume_size_gb: int = 100


@dataclass(frozen=True)
class MediaSettings:
    noncurrent_version_days: int = 30
    # The CDN's own name (its certificate allows a modern TLS policy); default media.<shopHostname>.
    hostname: str = ""


@dataclass(frozen=True)
class ReleaseSettings:
    """The release path (components/release.py, docs/release.md)."""

    # owner/name of the GitHub repository whose release workflow may publish; "" declares no publisher role.
    github_repository: str = ""
    # The GitHub environment of this region's release jobs (its OIDC subject); "" means release-<stack>.
    github_environment: str = ""
    noncurrent_version_days: int = 90


@dataclass(frozen=True)
class FailoverSettings:
    mode: FailoverMode = "automatic"
    rpo_seconds: int = 60
    rto_seconds: int = 300
    probe_interval_seconds: int = 10
    consecutive_failures: int = 7
    health_check_interval_seconds: int = 10
    health_check_failure_threshold: int = 3
    notification_emails: tuple[str, ...] = ()
    global_accelerator: bool = False
    """AWS Global Accelerator in front of both ALBs (components/front_door.py): the primary owns it, each
    shop stack adds its own region's endpoint group and writer gate."""
    accelerator_flow_logs: bool = False
    """Primary, with the accelerator: its flow logs to an S3 bucket in the primary's region."""
    arc_region_switch: bool = False
    """The secondary declares an ARC Region switch plan for the pair (components/region_switch.py)."""
    arc_approval_role_arn: str = ""
    """IAM role whose holders approve each plan execution; "" adds no approval step."""


@dataclass(frozen=True)
class ReadinessSettings:
    """The continuous readiness evaluation (components/readiness.py, docs/readiness.md)."""

    schedule_minutes: int = 5
    """How often each shop region evaluates whether a failover would work."""
    alarm_after_minutes: int = 15
    """Not ready (or not reporting) this long: one notification to the region's topic, and one on recovery."""


@dataclass(frozen=True)
class StandbySettings:
    """How the secondary stands by (components/posture.py); the primary runs production and has none."""

    posture: PostureName = DEFAULT_POSTURE
    failover_database_instances: int = 0
    """pilot-light: the DB instances the failover function adds to the headless cluster before promoting it."""


@dataclass(frozen=True)
class OutageSettings:
    """Outage mode (RUNBOOK "Changing infrastructure during an outage"): regions AWS is not answering in.

    The program then makes no lookup those regions would have to answer; which resources an update
    may touch is computed by `python -m offline.outage`, which prints the targeted `pulumi up`."""

    unavailable_regions: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.unavailable_regions)


def front_door_of(failover: FailoverSettings) -> Literal["route53", "accelerator"]:
    """Where the shop's name leads: the Route 53 failover pair's ALBs, or the accelerator."""
    return "accelerator" if failover.global_accelerator else "route53"


@dataclass(frozen=True)
class StackSettings:
    """Everything one stack needs, validated."""

    stack: str
    role: Role
    region: str
    peer: PeerSettings
    dns: DnsSettings
    primary_stack: str | None = None
    scope: Scope = "shop"
    """shop: the whole shop (the primary and its paired standby). database: a further secondary
    region of the global database and nothing else (docs/database.md "Further standby regions")."""
    network: NetworkSettings = field(default_factory=NetworkSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    web: WebSettings = field(default_factory=WebSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    release: ReleaseSettings = field(default_factory=ReleaseSettings)
    failover: FailoverSettings = field(default_factory=FailoverSettings)
    readiness: ReadinessSettings = field(default_factory=ReadinessSettings)
    standby: StandbySettings = field(default_factory=StandbySettings)
    protect: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)
    outage: OutageSettings = field(default_factory=OutageSettings)

    @property
    def is_primary(self) -> bool:
        return self.role == "primary"

    @property
    def serves_shop(self) -> bool:
        """False for a database standby (`scope: database`): no web, cache, search, media, release or failover tiers."""
        return self.scope == "shop"

    @property
    def regions(self) -> tuple[str, str]:
        """(primary region, secondary region) of this pair."""
        if self.is_primary:
            return (self.region, self.peer.region)
        return (self.peer.region, self.region)


# --------------------------------------------------------------------------- keys
# Top-level keys and whether they hold an object. Shared by the loader and the
# README reference table test, so the two cannot drift.
TOP_LEVEL_KEYS: dict[str, bool] = {
    "role": False,
    "region": False,
    "primaryStack": False,
    "scope": False,
    "peer": True,
    "dns": True,
    "network": True,
    "database": True,
    "web": True,
    "cache": True,
    "search": True,
    "media": True,
    "release": True,
    "failover": True,
    "readiness": True,
    "standby": True,
    "protect": False,
    "tags": True,
    "outage": True,
}


def _key(*parts: str) -> str:
    return f"{NAMESPACE}:" + ".".join(parts)


class _Section:
    """Reads typed values out of one config object, remembering the key path."""

    def __init__(self, name: str, raw: Any, allowed: set[str]):
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ConfigError(
                f"{_key(name)} must be an object (YAML map), got {type(raw).__name__}; "
                f"see the README's configuration reference"
            )
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise ConfigError(
                f"{_key(name, unknown[0])} is not a known setting; "
                f"valid keys under {_key(name)} are: {', '.join(sorted(allowed))}"
            )
        self.name = name
        self.raw = raw

    def present(self, key: str) -> bool:
        return key in self.raw and self.raw[key] is not None

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str:
        value = self.raw.get(key, default)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise ConfigError(
                    f"{_key(self.name, key)} is required; set it in Pulumi.<stack>.yaml "
                    f"under {_key(self.name)}"
                )
            return "" if default is None else default
        if not isinstance(value, str):
            raise ConfigError(f"{_key(self.name, key)} must be a string, got {value!r}")
        return value.strip()

    def number(self, key: str, default: int, lo: int, hi: int) -> int:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ConfigError(f"{_key(self.name, key)} must be a whole number, got {value!r}")
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(
                f"{_key(self.name, key)} must be a whole number, got {value!r}"
            ) from None
        if not lo <= number <= hi:
            raise ConfigError(
                f"{_key(self.name, key)} is {number}; it must be between {lo} and {hi}"
            )
        return number

    def flag(self, key: str, default: bool) -> bool:
        return _as_bool(_key(self.name, key), self.raw.get(key, default))

    def choice(self, key: str, default: str, options: tuple[str, ...]) -> str:
        value = self.text(key, default)
        if value not in options:
            raise ConfigError(
                f"{_key(self.name, key)} is {value!r}; set it to one of: {', '.join(options)}"
            )
        return value

    def text_list(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.raw.get(key, list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{_key(self.name, key)} must be a list of strings, got {value!r}")
        return tuple(v.strip() for v in value)


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(f"{key} must be true or false, got {value!r}")


def _region(key: str, value: str) -> str:
    if not _REGION_RE.match(value):
        raise ConfigError(
            f"{key} {value!r} is not an AWS region name; use a name such as us-east-1 or eu-west-1"
        )
    return value


def _cidr(key: str, value: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ConfigError(
            f"{key} {value!r} is not an IPv4 network in CIDR form ({exc}); use e.g. 10.10.0.0/16"
        ) from None
    if not 16 <= network.prefixlen <= 20:
        raise ConfigError(
            f"{key} {value} has a /{network.prefixlen} prefix; use a /16 to /20 so every "
            f"availability zone gets public, private and data subnets"
        )
    if not network.is_private:
        raise ConfigError(f"{key} {value} is not a private (RFC 1918) range; pick one in 10/8, 172.16/12 or 192.168/16")
    return network


def parse_settings(stack: str, raw: Mapping[str, Any]) -> StackSettings:
    """Validate raw `magento-dr:*` values (objects already decoded) into settings."""
    unknown = sorted(set(raw) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise ConfigError(
            f"{_key(unknown[0])} is not a known setting; valid keys are: "
            f"{', '.join(sorted(TOP_LEVEL_KEYS))}"
        )

    role = raw.get("role")
    if role not in ("primary", "secondary"):
        raise ConfigError(
            f"{_key('role')} is {role!r}; set it to primary or secondary "
            f"(pulumi config set {_key('role')} primary)"
        )
    region_value = raw.get("region")
    if not isinstance(region_value, str) or not region_value:
        raise ConfigError(
            f"{_key('region')} is required; set the AWS region this stack deploys to, "
            f"e.g. pulumi config set {_key('region')} us-east-1"
        )
    region = _region(_key("region"), region_value)

    peer_section = _Section("peer", raw.get("peer"), {"region", "networkCidr"})
    peer = PeerSettings(
        region=_region(_key("peer", "region"), peer_section.text("region", required=True)),
        network_cidr=peer_section.text("networkCidr", required=True),
    )
    if peer.region == region:
        raise ConfigError(
            f"{_key('region')} and {_key('peer', 'region')} are both {region}; a regional "
            f"failover needs the standby in a different region, e.g. eu-west-1"
        )

    primary_stack = raw.get("primaryStack")
    if role == "secondary":
        if not isinstance(primary_stack, str) or not primary_stack:
            raise ConfigError(
                f"{_key('primaryStack')} is required for a secondary stack; set it to the "
                f"primary stack's fully qualified name, e.g. my-org/magento-dr/primary"
            )
        if not _STACK_FQN_RE.match(primary_stack):
            raise ConfigError(
                f"{_key('primaryStack')} {primary_stack!r} is not a fully qualified stack "
                f"name; use <organization>/<project>/<stack>, e.g. my-org/magento-dr/primary"
            )
    elif primary_stack:
        raise ConfigError(
            f"{_key('primaryStack')} is set on a primary stack; remove it (only secondaries "
            f"read the primary's outputs)"
        )

    scope = _scope(raw, cast(Role, role))

    dns_section = _Section("dns", raw.get("dns"), {"zoneName", "shopHostname", "zoneId"})
    dns = DnsSettings(
        zone_name=dns_section.text("zoneName", required=True).rstrip(".").lower(),
        shop_hostname=dns_section.text("shopHostname", required=True).rstrip(".").lower(),
        zone_id=_zone_id(dns_section.text("zoneId")),
    )
    for key, value in (("zoneName", dns.zone_name), ("shopHostname", dns.shop_hostname)):
        if not _HOSTNAME_RE.match(value):
            raise ConfigError(f"{_key('dns', key)} {value!r} is not a valid DNS name")
    if not dns.shop_hostname.endswith("." + dns.zone_name):
        raise ConfigError(
            f"{_key('dns', 'shopHostname')} {dns.shop_hostname} is not inside the hosted zone "
            f"{dns.zone_name}; use a name ending in .{dns.zone_name}"
        )

    standby = _parse_standby(raw.get("standby"), cast(Role, role), scope)
    network = _parse_network(raw.get("network"), scope, standby.posture if role == "secondary" else None)
    own_cidr = _cidr(_key("network", "cidr"), network.cidr)
    peer_cidr = _cidr(_key("peer", "networkCidr"), peer.network_cidr)
    if own_cidr.overlaps(peer_cidr):
        raise ConfigError(
            f"{_key('network', 'cidr')} {own_cidr} overlaps the peer's {peer_cidr} "
            f"({_key('peer', 'networkCidr')}); pick disjoint ranges, e.g. 10.10.0.0/16 and "
            f"10.20.0.0/16"
        )

    # The posture sizes the secondary's shop tiers; the primary (and a database standby) size their own.
    posture = standby.posture if role == "secondary" and scope == "shop" else None
    web = _parse_web(raw.get("web"), posture)
    # The budget counts what the full-page cache needs after a promotion (components/rto.py).
    failover = _parse_failover(raw.get("failover"), cast(Role, role), posture, web.full_page_cache)
    tags = _parse_tags(raw.get("tags"))
    outage = _parse_outage(raw.get("outage"), region, scope, dns)
    settings = StackSettings(
        stack=stack,
        role=cast(Role, role),
        region=region,
        peer=peer,
        dns=dns,
        primary_stack=primary_stack if role == "secondary" else None,
        scope=scope,
        network=network,
        database=_parse_database(raw.get("database"), cast(Role, role), scope, posture),
        web=web,
        cache=_parse_cache(raw.get("cache"), posture),
        search=_parse_search(raw.get("search"), posture),
        media=_parse_media(raw.get("media"), dns),
        release=_parse_release(raw.get("release")),
        failover=failover,
        readiness=_parse_readiness(raw.get("readiness")),
        standby=standby,
        protect=_as_bool(_key("protect"), raw.get("protect", True)),
        tags=tags,
        outage=outage,
    )
    _check_db_instance_identifiers(settings)
    return settings


# Route 53 hosted zone ids: "Maximum length of 32" (upper-case letters and digits in practice).
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html
_ZONE_ID_RE = re.compile(r"^[A-Z0-9]{1,32}$")


def _zone_id(value: str) -> str:
    zone_id = value.removeprefix("/hostedzone/")
    if zone_id and not _ZONE_ID_RE.match(zone_id):
        raise ConfigError(
            f"{_key('dns', 'zoneId')} {value!r} is not a Route 53 hosted zone id; use this stack's last output: "
            f"pulumi config set --path {_key('dns', 'zoneId')} \"$(pulumi stack output hostedZoneId)\""
        )
    return zone_id


def _parse_outage(raw: Any, region: str, scope: Scope, dns: DnsSettings) -> OutageSettings:
    """`magento-dr:outage`: which regions are dark while an emergency update runs (RUNBOOK)."""
    from .outage import ROUTE53_CONTROL_PLANE_REGION  # pure; kept local like the RTO import

    s = _Section("outage", raw, {"unavailableRegions"})
    regions = tuple(_region(_key("outage", "unavailableRegions"), r) for r in s.text_list("unavailableRegions", ()))
    if len(set(regions)) != len(regions):
        raise ConfigError(f"{_key('outage', 'unavailableRegions')} lists a region twice ({', '.join(regions)}); name each once")
    if region in regions:
        raise ConfigError(
            f"{_key('outage', 'unavailableRegions')} names {region}, this stack's own region: nothing of this stack can "
            f"be changed while its region is dark, and the failover needs no Pulumi (RUNBOOK §1). Update the surviving "
            f"stack instead, and remove {region} here"
        )
    if ROUTE53_CONTROL_PLANE_REGION in regions and scope == "shop" and not dns.zone_id:
        raise ConfigError(
            f"{_key('dns', 'zoneId')} is required while {_key('outage', 'unavailableRegions')} includes "
            f"{ROUTE53_CONTROL_PLANE_REGION}: looking the hosted zone {dns.zone_name} up needs Route 53's API, which is "
            f"served from {ROUTE53_CONTROL_PLANE_REGION}. Set it from this stack's last outputs (the state backend "
            f"survives): pulumi config set --path {_key('dns', 'zoneId')} \"$(pulumi stack output hostedZoneId)\""
        )
    return OutageSettings(unavailable_regions=regions)


def check_pairing(settings: StackSettings, primary_peer_region: str) -> None:
    """A secondary's place beside the primary, once the primary's exports are known.

    The primary pairs its shop tiers with exactly one standby, the region its `magento-dr:peer`
    names: a Route 53 failover record set has one SECONDARY, each bucket one replication
    configuration, and the pairs' health checks and replication rules are written for two. Any
    further region joins the global database only (`scope: database`).
    """
    if settings.is_primary:
        return
    if settings.serves_shop and settings.region != primary_peer_region:
        raise ConfigError(
            f"stack {settings.stack} would be a second shop standby in {settings.region}, but the primary pairs "
            f"its shop with {primary_peer_region} (the primary's {_key('peer', 'region')}): its failover records, "
            f"media and release replication and cache datastore have room for one paired standby. To add "
            f"{settings.region} as a further copy of the database, set {_key('scope')} database in "
            f"Pulumi.{settings.stack}.yaml (docs/database.md, 'Further standby regions'); to move the paired "
            f"standby here, change the primary's {_key('peer')} first"
        )
    if not settings.serves_shop and settings.region == primary_peer_region:
        raise ConfigError(
            f"{settings.region} is the primary's paired standby (the primary's {_key('peer', 'region')}), which "
            f"must serve the shop: remove {_key('scope')} database from Pulumi.{settings.stack}.yaml, or pair the "
            f"primary with another region"
        )


def check_front_door(settings: StackSettings, primary_accelerator: object) -> str | None:
    """A secondary's `failover.globalAccelerator` beside the primary's (its `globalAccelerator` export).

    The primary owns the accelerator and its listener; each shop stack joins it with its own region's
    endpoint group. Joining a listener the primary does not have is an error. The primary with the
    accelerator and this stack without it is the state between the two stacks' updates (turning the
    option on: the primary first; off: this stack first, docs/front-door.md "Switching it on and off"):
    safe, since shoppers still fail over through Route 53 (this stack's record still leads to its own
    ALB), but the accelerator serves the primary alone. It is returned as a warning to print.
    """
    if settings.is_primary or not settings.serves_shop:
        return None
    primary_on = primary_accelerator is True or str(primary_accelerator).lower() == "true"
    if settings.failover.global_accelerator and not primary_on:
        raise ConfigError(
            f"{_key('failover', 'globalAccelerator')} is true here but the primary ({settings.primary_stack}) has no accelerator "  # noqa: S608 - a message
            f"(its globalAccelerator output is {primary_accelerator!r}): the primary owns the accelerator and its listener, which "
            f"this stack's endpoint group joins. Set {_key('failover', 'globalAccelerator')} true in the primary's "
            f"Pulumi.<stack>.yaml and update the primary first, or set it false here"
        )
    if primary_on and not settings.failover.global_accelerator:
        return (
            f"the primary serves the shop through its accelerator but {_key('failover', 'globalAccelerator')} is false here: the "
            f"accelerator has no endpoint in {settings.region}, and shoppers who keep its addresses would not follow a failover "
            f"(those who resolve the name still do, through Route 53). Set it true here, or, to turn the accelerator off, "
            f"update the primary next (docs/front-door.md)"
        )
    return None


def _scope(raw: Mapping[str, Any], role: Role) -> Scope:
    """`scope: database` makes a further secondary region of the global database and nothing else."""
    value = raw.get("scope", "shop")
    if value not in ("shop", "database"):
        raise ConfigError(
            f"{_key('scope')} is {value!r}; set it to shop (the whole shop: the primary and its paired standby) "
            f"or database (a further standby region holding only a copy of the database)"
        )
    if value == "shop":
        return "shop"
    if role == "primary":
        raise ConfigError(
            f"{_key('scope')} database is for a further standby region (role secondary); the primary serves "
            f"the shop: remove {_key('scope')}"
        )
    for section in DATABASE_SCOPE_SECTIONS:
        if raw.get(section) is not None:
            raise ConfigError(
                f"{_key(section)} has no effect on a database standby ({_key('scope')} database runs no "
                f"{section} tier); remove it from Pulumi.<stack>.yaml"
            )
    failover = raw.get("failover")
    if isinstance(failover, Mapping):
        extra = sorted(set(failover) - set(DATABASE_SCOPE_FAILOVER_KEYS))
        if extra:
            raise ConfigError(
                f"{_key('failover', extra[0])} has no effect on a database standby: it runs no failover function "
                f"(the paired standby's function fails over; operators promote this region by hand, RUNBOOK.md). "
                f"Keep only {_key('failover', 'notificationEmails')} and {_key('failover', 'rpoSeconds')} (its replication-lag alarm)"
            )
    return "database"


def _parse_standby(raw: Any, role: Role, scope: Scope) -> StandbySettings:
    """`standby.posture`: how the paired standby stands by (components/posture.py)."""
    s = _Section("standby", raw, {"posture", "failoverDatabaseInstances"})
    if raw is not None and role == "primary":
        raise ConfigError(
            f"{_key('standby')} is set on the primary, which runs production; the posture is the paired standby's: "
            f"set it in the secondary's Pulumi.<stack>.yaml and remove it here"
        )
    posture = cast(PostureName, s.choice("posture", DEFAULT_POSTURE, POSTURES))
    if posture != "pilot-light" and s.present("failoverDatabaseInstances"):
        raise ConfigError(
            f"{_key('standby', 'failoverDatabaseInstances')} is for {_key('standby', 'posture')} pilot-light (the DB instances "
            f"the failover function adds to the headless cluster); a {posture} standby already runs its readers: remove it"
        )
    default = DEFAULT_FAILOVER_DATABASE_INSTANCES if posture == "pilot-light" else 0
    low = 1 if posture == "pilot-light" else 0
    count = s.number("failoverDatabaseInstances", default, low, MAX_FAILOVER_DATABASE_INSTANCES)
    if role == "primary" or scope == "database":
        return StandbySettings()
    return StandbySettings(posture=posture, failover_database_instances=count)


def _sized(s: _Section, key: str, posture: PostureName | None, bound: Bound | None, default: int, lo: int, hi: int) -> int:
    """A number the posture sizes: its default and range when there is a posture, else the setting's own."""
    if posture is None or bound is None:
        return s.number(key, default, lo, hi)
    assert isinstance(bound.default, int) and bound.low is not None and bound.high is not None
    value = s.number(key, bound.default, 0, max(hi, bound.high, 10**6))
    if value > bound.high >= hi:  # beyond what AWS or the setting allows at all: the plain range
        raise ConfigError(f"{_key(s.name, key)} is {value}; it must be between {bound.low} and {bound.high}")
    if not bound.low <= value <= bound.high:
        allowed = f"{bound.low}" if bound.low == bound.high else f"{bound.low} to {bound.high}"
        raise ConfigError(
            f"{_key(s.name, key)} is {value} but {_key('standby', 'posture')} {posture} allows {allowed}: {bound.why}"
        )
    return value


def _parse_network(raw: Any, scope: Scope = "shop", posture: PostureName | None = None) -> NetworkSettings:
    d = NetworkSettings()
    s = _Section(
        "network", raw, {"cidr", "azCount", "natGateways", "interfaceEndpoints", "flowLogRetentionDays"}
    )
    # A database standby has no instances: nothing needs a way out, nor interface endpoints.
    default_nat: str
    default_nat, default_endpoints = ("none", ()) if scope == "database" else (d.nat_gateways, d.interface_endpoints)
    if posture is not None and scope == "shop":
        # A pilot light has nothing running that needs a way out in every AZ; the failover's instances share one.
        default_nat = SIZING[posture].nat_gateways or default_nat
    nat_gateways = s.choice("natGateways", default_nat, ("per-az", "single", "none"))
    if nat_gateways == "none" and scope == "shop":
        raise ConfigError(
            f"{_key('network', 'natGateways')} none leaves the web instances without a way out (package and "
            f"AMI updates, Magento's outbound calls); use per-az or single. none is for {_key('scope')} database"
        )
    if nat_gateways != "none" and scope == "database":
        raise ConfigError(
            f"{_key('network', 'natGateways')} {nat_gateways}: a database standby runs no instances and its VPC has no "
            f"internet gateway, so NAT gateways would have no way out; remove the key (none)"
        )
    endpoints = s.text_list("interfaceEndpoints", default_endpoints)
    for name in endpoints:
        if not re.match(r"^[a-z0-9.-]+$", name):
            raise ConfigError(
                f"{_key('network', 'interfaceEndpoints')} entry {name!r} is not a service "
                f"short name such as ssm or secretsmanager"
            )
    retention = s.number("flowLogRetentionDays", d.flow_log_retention_days, 1, 3653)
    # CloudWatch Logs accepts only these retention values.
    allowed_retention = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
    if retention not in allowed_retention:
        raise ConfigError(
            f"{_key('network', 'flowLogRetentionDays')} is {retention}; CloudWatch Logs accepts "
            f"only {', '.join(map(str, allowed_retention))}"
        )
    return NetworkSettings(
        cidr=s.text("cidr", d.cidr),
        az_count=s.number("azCount", d.az_count, 2, 6),
        nat_gateways=cast(NatMode, nat_gateways),
        interface_endpoints=endpoints,
        flow_log_retention_days=retention,
    )


def _parse_database(raw: Any, role: Role, scope: Scope = "shop", posture: PostureName | None = None) -> DatabaseSettings:
    d = DatabaseSettings()
    s = _Section(
        "database",
        raw,
        {"engineVersion", "instanceClass", "instanceCount", "backupRetentionDays", "writeForwarding", "auditLog", "credentials"},
    )
    engine_version = s.text("engineVersion", d.engine_version)
    if not re.match(r"^8\.0\.mysql_aurora\.3\.\d{2}\.\d+$", engine_version):
        raise ConfigError(
            f"{_key('database', 'engineVersion')} {engine_version!r} is not an Aurora MySQL 3 "
            f"version; Magento 2.4.7/2.4.8 need MySQL 8.0 compatibility, e.g. {d.engine_version}"
        )
    if posture == "pilot-light" and int(engine_version.split(".")[4]) < PILOT_LIGHT_MIN_AURORA_MINOR:
        raise ConfigError(
            f"{_key('database', 'engineVersion')} {engine_version} is older than Aurora MySQL 3.{PILOT_LIGHT_MIN_AURORA_MINOR:02d}: "
            f"a pilot light's failover starts the standby's first DB instance while the primary's region is down, and "
            f"only 3.{PILOT_LIGHT_MIN_AURORA_MINOR:02d}+ lets secondary instances complete startup during such events (AWS); "
            f"upgrade the global database first, or choose {_key('standby', 'posture')} warm"
        )
    instance_class = s.text("instanceClass", d.instance_class)
    if not _DB_CLASS_RE.match(instance_class):
        raise ConfigError(
            f"{_key('database', 'instanceClass')} {instance_class!r} is not an instance class "
            f"Aurora global databases support for production; use a memory-optimized class "
            f"such as db.r7g.large or db.r6i.xlarge"
        )
    # A primary needs a writer and a reader in another AZ. In a global database the
    # primary cluster holds at most 15 instances and a secondary 16.
    # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-getting-started.html
    minimum, maximum = (2, 15) if role == "primary" else (1, 16)
    bound = SIZING[posture].database_instances if posture is not None else None
    instance_count = _sized(s, "instanceCount", posture, bound, d.instance_count if role == "primary" else 1, minimum, maximum)
    return DatabaseSettings(
        engine_version=engine_version,
        instance_class=instance_class,
        instance_count=instance_count,
        backup_retention_days=s.number("backupRetentionDays", d.backup_retention_days, 7, 35),
        write_forwarding=s.flag("writeForwarding", d.write_forwarding),
        audit_log=s.flag("auditLog", d.audit_log),
        credentials=_credentials_source(s, role, scope),
    )


def _credentials_source(s: _Section, role: Role, scope: Scope) -> Literal["replica", "copy"]:
    source = s.choice("credentials", "copy" if scope == "database" else "replica", ("replica", "copy"))
    if role == "primary" and source != "replica":
        raise ConfigError(
            f"{_key('database', 'credentials')} is for secondaries; the primary owns the credentials secret "
            f"(and its replica in the peer region): remove it"
        )
    if scope == "database" and source != "copy":
        raise ConfigError(
            f"{_key('database', 'credentials')} replica: the primary replicates its secret only to its paired "
            f"standby, so a database standby keeps its own copy; set it to copy or remove it"
        )
    return cast(Literal["replica", "copy"], source)


def _parse_web(raw: Any, posture: PostureName | None = None) -> WebSettings:
    d = WebSettings()
    s = _Section(
        "web",
        raw,
        {"instanceType", "amiId", "minSize", "desiredCapacity", "maxSize", "standbyCapacity", "fullPageCache", "varnishMemoryPercent"},
    )
    instance_type = s.text("instanceType", d.instance_type)
    if not _EC2_TYPE_RE.match(instance_type):
        raise ConfigError(f"{_key('web', 'instanceType')} {instance_type!r} is not an EC2 instance type such as m7g.large")
    ami_id = s.text("amiId") or None
    if ami_id is not None and not _AMI_RE.match(ami_id):
        raise ConfigError(f"{_key('web', 'amiId')} {ami_id!r} is not an AMI id (ami-0123456789abcdef0); remove it to use the current Amazon Linux 2023 AMI")
    min_size = s.number("minSize", d.min_size, 2, 100)
    max_size = s.number("maxSize", d.max_size, 2, 200)
    desired = s.number("desiredCapacity", d.desired_capacity, 2, 200)
    if not min_size <= desired <= max_size:
        raise ConfigError(
            f"{_key('web', 'desiredCapacity')} {desired} must lie between {_key('web', 'minSize')} "
            f"{min_size} and {_key('web', 'maxSize')} {max_size}"
        )
    if posture == "hot":
        # Production capacity, whatever desiredCapacity is: nothing to scale after the promotion.
        bound = SIZING["hot"].standby_capacity
        standby = s.number("standbyCapacity", desired, 0, 200)
        if standby != desired:
            raise ConfigError(
                f"{_key('web', 'standbyCapacity')} is {standby} but {_key('standby', 'posture')} hot runs "
                f"{_key('web', 'desiredCapacity')} ({desired}): {bound.why}; remove the key"
            )
    else:
        standby = _sized(s, "standbyCapacity", posture, SIZING[posture].standby_capacity if posture else None, d.standby_capacity, 1, 200)
    if standby > desired:
        raise ConfigError(
            f"{_key('web', 'standbyCapacity')} {standby} exceeds {_key('web', 'desiredCapacity')} "
            f"{desired}; the warm standby runs at most production capacity"
        )
    full_page_cache = s.choice("fullPageCache", d.full_page_cache, FULL_PAGE_CACHES)
    if s.present("varnishMemoryPercent") and full_page_cache != "varnish":
        raise ConfigError(
            f"{_key('web', 'varnishMemoryPercent')} sizes Varnish's cache, which runs only with "
            f"{_key('web', 'fullPageCache')} varnish (it is {full_page_cache}); remove it or set fullPageCache: varnish"
        )
    memory_percent = s.number("varnishMemoryPercent", d.varnish_memory_percent, *MEMORY_PERCENT_RANGE)
    return WebSettings(
        instance_type,
        ami_id,
        min_size,
        desired,
        max_size,
        standby,
        full_page_cache=cast(FullPageCache, full_page_cache),
        varnish_memory_percent=memory_percent,
    )


def _parse_cache(raw: Any, posture: PostureName | None = None) -> CacheSettings:
    d = CacheSettings()
    s = _Section("cache", raw, {"engine", "engineVersion", "nodeType", "replicas"})
    node_type = s.text("nodeType", d.node_type)
    if not _CACHE_NODE_RE.match(node_type):
        raise ConfigError(
            f"{_key('cache', 'nodeType')} {node_type!r} cannot join a Global Datastore; use an "
            f"M5/M6g/M7g/R5/R6g/R7g node of size large or bigger, e.g. cache.r7g.large"
        )
    engine = s.choice("engine", d.engine, ("valkey", "redis"))
    engine_version = s.text("engineVersion", d.engine_version)
    if engine_version not in CACHE_ENGINE_VERSIONS[engine]:
        raise ConfigError(
            f"{_key('cache', 'engineVersion')} {engine} {engine_version!r} is not a version both Magento 2.4.7/2.4.8 "
            f"and an ElastiCache Global Datastore support; use one of {', '.join(CACHE_ENGINE_VERSIONS[engine])}"
        )
    return CacheSettings(
        engine=cast(Literal["valkey", "redis"], engine),
        engine_version=engine_version,
        node_type=node_type,
        replicas=_sized(s, "replicas", posture, SIZING[posture].cache_replicas if posture else None, d.replicas, 1, 5),
    )


def _parse_search(raw: Any, posture: PostureName | None = None) -> SearchSettings:
    d = SearchSettings()
    s = _Section("search", raw, {"engineVersion", "instanceType", "instanceCount", "volumeSizeGb"})
    instance_type = s.text("instanceType", (SIZING[posture].search_instance_type if posture else None) or d.instance_type)
    if not _SEARCH_TYPE_RE.match(instance_type):
        raise ConfigError(f"{_key('search', 'instanceType')} {instance_type!r} is not an OpenSearch instance type such as r7g.large.search")
    engine_version = s.text("engineVersion", d.engine_version)
    if not re.match(r"^OpenSearch_2\.\d+$", engine_version):
        raise ConfigError(
            f"{_key('search', 'engineVersion')} {engine_version!r} is not an OpenSearch 2.x "
            f"version Magento 2.4.7/2.4.8 supports; use e.g. {d.engine_version}"
        )
    instance_count = _sized(s, "instanceCount", posture, SIZING[posture].search_instances if posture else None, d.instance_count, 2, 20)
    if instance_count > 1 and instance_count % 2 and instance_count % 3:
        # components/search_domain.py zone_count: data nodes spread evenly over two or three AZs.
        # https://docs.aws.amazon.com/opensearch-service/latest/developerguide/managedomains-multiaz.html
        raise ConfigError(
            f"{_key('search', 'instanceCount')} is {instance_count}: OpenSearch spreads data nodes evenly over two or three "
            f"Availability Zones, so use an even number or a multiple of three (e.g. {instance_count + 1})"
        )
    return SearchSettings(
        engine_version=engine_version,
        instance_type=instance_type,
        instance_count=instance_count,
        volume_size_gb=s.number("volumeSizeGb", d.volume_size_gb, 10, 3072),
    )


def _parse_media(raw: Any, dns: DnsSettings) -> MediaSettings:
    s = _Section("media", raw, {"noncurrentVersionDays", "hostname"})
    hostname = s.text("hostname", f"media.{dns.shop_hostname}").rstrip(".").lower()
    if not _HOSTNAME_RE.match(hostname) or not hostname.endswith("." + dns.zone_name):
        raise ConfigError(
            f"{_key('media', 'hostname')} {hostname!r} must be a DNS name inside the hosted zone "
            f"{dns.zone_name} (its certificate is validated there), e.g. media.{dns.shop_hostname}"
        )
    if hostname == dns.shop_hostname:
        raise ConfigError(f"{_key('media', 'hostname')} must differ from {_key('dns', 'shopHostname')}; use e.g. media.{dns.shop_hostname}")
    return MediaSettings(
        noncurrent_version_days=s.number("noncurrentVersionDays", MediaSettings.noncurrent_version_days, 1, 3650),
        hostname=hostname,
    )


_GITHUB_REPOSITORY_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_GITHUB_ENVIRONMENT_RE = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")


def _parse_release(raw: Any) -> ReleaseSettings:
    d = ReleaseSettings()
    s = _Section("release", raw, {"githubRepository", "githubEnvironment", "noncurrentVersionDays"})
    repository = s.text("githubRepository", d.github_repository)
    if repository and not _GITHUB_REPOSITORY_RE.match(repository):
        raise ConfigError(
            f"{_key('release', 'githubRepository')} {repository!r} is not a GitHub repository; "
            f"use owner/name, e.g. acme/magento-dr"
        )
    environment = s.text("githubEnvironment", d.github_environment)
    if environment and not _GITHUB_ENVIRONMENT_RE.match(environment):
        raise ConfigError(
            f"{_key('release', 'githubEnvironment')} {environment!r} is not a GitHub environment name "
            f"(letters, digits, '.', '_', '-'); e.g. release"
        )
    return ReleaseSettings(
        github_repository=repository,
        github_environment=environment,
        noncurrent_version_days=s.number("noncurrentVersionDays", d.noncurrent_version_days, 1, 3650),
    )


def _parse_failover(raw: Any, role: Role, posture: PostureName | None = None, full_page_cache: FullPageCache = "redis") -> FailoverSettings:
    d = FailoverSettings()
    s = _Section(
        "failover",
        raw,
        {
            "mode",
            "rpoSeconds",
            "rtoSeconds",
            "probeIntervalSeconds",
            "consecutiveFailures",
            "healthCheckIntervalSeconds",
            "healthCheckFailureThreshold",
            "notificationEmails",
            "globalAccelerator",
            "acceleratorFlowLogs",
            "arcRegionSwitch",
            "arcApprovalRoleArn",
        },
    )
    interval = s.number("healthCheckIntervalSeconds", d.health_check_interval_seconds, 10, 30)
    if interval not in ROUTE53_REQUEST_INTERVALS:
        raise ConfigError(
            f"{_key('failover', 'healthCheckIntervalSeconds')} is {interval}; Route 53 accepts 10 or 30"
        )
    emails = s.text_list("notificationEmails", d.notification_emails)
    for email in emails:
        if not _EMAIL_RE.match(email):
            raise ConfigError(f"{_key('failover', 'notificationEmails')} entry {email!r} is not an email address")
    arc_region_switch, arc_approval_role_arn = _arc_region_switch(s, role)
    global_accelerator, accelerator_flow_logs = _global_accelerator(s, role)
    failover = FailoverSettings(
        mode=cast(FailoverMode, s.choice("mode", d.mode, ("automatic", "notify"))),
        rpo_seconds=s.number("rpoSeconds", d.rpo_seconds, 1, 3600),
        rto_seconds=s.number("rtoSeconds", d.rto_seconds, 60, 86400),
        probe_interval_seconds=s.number("probeIntervalSeconds", d.probe_interval_seconds, 5, 60),
        # One failed probe is never enough to drop data: at least two in a row.
        consecutive_failures=s.number("consecutiveFailures", d.consecutive_failures, 2, 10),
        health_check_interval_seconds=interval,
        health_check_failure_threshold=s.number("healthCheckFailureThreshold", d.health_check_failure_threshold, 1, 3),
        notification_emails=emails,
        global_accelerator=global_accelerator,
        accelerator_flow_logs=accelerator_flow_logs,
        arc_region_switch=arc_region_switch,
        arc_approval_role_arn=arc_approval_role_arn,
    )
    _check_rto_budget(failover, budget_posture(role, posture), full_page_cache)
    return failover


# CloudWatch: "For alarms with a period of less than one hour (3,600 seconds), the total evaluation period
# can't be longer than one day (86,400 seconds)" (PutMetricAlarm, Period). The not-ready alarm's period
# is the schedule, its evaluation window alarmAfterMinutes.
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
ALARM_EVALUATION_LIMIT_MINUTES = 24 * 60


def _parse_readiness(raw: Any) -> ReadinessSettings:
    d = ReadinessSettings()
    s = _Section("readiness", raw, {"scheduleMinutes", "alarmAfterMinutes"})
    schedule = s.number("scheduleMinutes", d.schedule_minutes, 1, 60)
    after = s.number("alarmAfterMinutes", max(d.alarm_after_minutes, schedule), schedule, ALARM_EVALUATION_LIMIT_MINUTES)
    if after % schedule:
        lower, higher = after - after % schedule, after - after % schedule + schedule
        raise ConfigError(
            f"{_key('readiness', 'alarmAfterMinutes')} is {after}, not a whole number of evaluations every "
            f"{schedule} minutes ({_key('readiness', 'scheduleMinutes')}); use {lower} or {higher}"
        )
    return ReadinessSettings(schedule_minutes=schedule, alarm_after_minutes=after)


def budget_posture(role: Role, posture: PostureName | None) -> PostureName:
    """The posture a stack's RTO budget assumes for its own region: the secondary's configured one; the primary
    (its function promotes it back when the secondary, holding the writer, is lost) runs production: hot."""
    return posture if role == "secondary" and posture is not None else "hot"


def standby_of(settings: StackSettings) -> tuple[PostureName, int]:
    """(posture, DB instances the failover function adds before a promotion) from magento-dr:standby: pilot light adds
    standby.failoverDatabaseInstances to its headless cluster; warm and hot add one, a repair, if theirs are all down.
    The primary stands by at production size, hot (budget_posture, the posture its RTO check used): it too may repair its
    own cluster before a failback."""
    posture = budget_posture(settings.role, settings.standby.posture)
    return posture, settings.standby.failover_database_instances if posture == "pilot-light" else 1


def _check_db_instance_identifiers(settings: StackSettings) -> None:
    """The failover function names the instances it adds `{cluster}-failover-N`: RDS must accept the longest of them, or
    CreateDBInstance fails in the middle of an outage. (The stack's own instances, `{cluster}-N`, are shorter.) A database
    standby runs no failover function."""
    if not settings.serves_shop:
        return
    cluster = db_cluster_name(settings.stack, settings.region)
    count = standby_of(settings)[1]
    identifier = failover_instance_identifier(cluster, count)
    problem = db_instance_identifier_problem(identifier)
    if problem is None:
        return
    fixes = [f"a stack name at least {len(identifier) - MAX_DB_INSTANCE_IDENTIFIER_LENGTH} characters shorter (choose it before the "
             f"first `pulumi up`: the cluster is named after it)"]
    if len(str(count)) > 1 and len(identifier) - (len(str(count)) - 1) <= MAX_DB_INSTANCE_IDENTIFIER_LENGTH:
        fixes.append(f"{_key('standby', 'failoverDatabaseInstances')} below 10")
    raise ConfigError(
        f"stack {settings.stack!r} names its DB cluster {cluster!r}, and the failover function would add {identifier!r} before a "
        f"promotion, which RDS refuses as a DB instance identifier: {problem}. Use {' or '.join(fixes)}"
    )


def rto_budget(failover: FailoverSettings, posture: PostureName, full_page_cache: FullPageCache = "redis") -> RtoBudget:
    """The worst-case failover (components/rto.py) these settings give a region standing by in `posture`, serving
    pages through `full_page_cache`."""
    from .rto import failover_budget  # pure; imported here to keep this module's imports minimal

    return failover_budget(
        probe_interval_seconds=failover.probe_interval_seconds,
        consecutive_failures=failover.consecutive_failures,
        health_check_interval_seconds=failover.health_check_interval_seconds,
        health_check_failure_threshold=failover.health_check_failure_threshold,
        front_door=front_door_of(failover),
        posture=posture,
        full_page_cache=full_page_cache,
    )


def _check_rto_budget(failover: FailoverSettings, posture: PostureName = "warm", full_page_cache: FullPageCache = "redis") -> None:
    """Reject settings whose worst-case failover (components/rto.py) exceeds failover.rtoSeconds."""
    budget = rto_budget(failover, posture, full_page_cache)
    if budget.prepare and budget.total_seconds > failover.rto_seconds:
        raise ConfigError(
            f"{_key('failover', 'rtoSeconds')} is {failover.rto_seconds}s but a {posture} standby's worst-case failover "
            f"takes {budget.total_seconds}s: {budget.explain()}. Most of it is adding the DB instance to the headless "
            f"cluster, which no setting shortens: raise {_key('failover', 'rtoSeconds')} to at least {budget.total_seconds}, "
            f"or choose {_key('standby', 'posture')} warm (a reader stands by; budget "
            f"{rto_budget(failover, 'warm', full_page_cache).total_seconds}s)"
        )
    if budget.total_seconds > failover.rto_seconds:
        raise ConfigError(
            f"{_key('failover', 'rtoSeconds')} is {failover.rto_seconds}s but the worst-case failover takes "
            f"{budget.total_seconds}s: {budget.explain()}; raise {_key('failover', 'rtoSeconds')} or lower "
            f"{_key('failover', 'probeIntervalSeconds')}, {_key('failover', 'consecutiveFailures')}, "
            f"{_key('failover', 'healthCheckIntervalSeconds')} or {_key('failover', 'healthCheckFailureThreshold')}"
        )


# An IAM role ARN (the execution approval block's approvalRole).
# https://docs.aws.amazon.com/arc-region-switch/latest/api/API_ExecutionApprovalConfiguration.html
ROLE_ARN_RE = re.compile(r"^arn:aws[a-zA-Z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


def _arc_region_switch(s: _Section, role: Role) -> tuple[bool, str]:
    """`arcRegionSwitch` and its approval role: the secondary owns the plan (docs/region-switch.md)."""
    enabled = s.flag("arcRegionSwitch", False)
    approval_role_arn = s.text("arcApprovalRoleArn", "")
    if enabled and role == "primary":
        raise ConfigError(
            f"{_key('failover', 'arcRegionSwitch')} is set on the primary, but the paired standby (role secondary) owns "
            f"the ARC Region switch plan for both regions (it alone reads both regions' clusters and groups): "
            f"set it in the secondary's Pulumi.<stack>.yaml and remove it here"
        )
    if approval_role_arn and not enabled:
        raise ConfigError(
            f"{_key('failover', 'arcApprovalRoleArn')} has no effect without {_key('failover', 'arcRegionSwitch')} true; "
            f"set {_key('failover', 'arcRegionSwitch')} true or remove it"
        )
    if approval_role_arn and not ROLE_ARN_RE.match(approval_role_arn):
        raise ConfigError(
            f"{_key('failover', 'arcApprovalRoleArn')} {approval_role_arn!r} is not an IAM role ARN; "
            f"use e.g. arn:aws:iam::123456789012:role/dr-approvers"
        )
    return enabled, approval_role_arn


def _global_accelerator(s: _Section, role: Role) -> tuple[bool, bool]:
    """`globalAccelerator` and `acceleratorFlowLogs`: the primary owns the accelerator (docs/front-door.md)."""
    enabled = s.flag("globalAccelerator", False)
    flow_logs = s.flag("acceleratorFlowLogs", False)
    if flow_logs and not enabled:
        raise ConfigError(
            f"{_key('failover', 'acceleratorFlowLogs')} has no effect without {_key('failover', 'globalAccelerator')} true; "
            f"set {_key('failover', 'globalAccelerator')} true or remove it"
        )
    if flow_logs and role != "primary":
        raise ConfigError(
            f"{_key('failover', 'acceleratorFlowLogs')} is set on a secondary, but the primary owns the accelerator and its "
            f"flow logs (docs/front-door.md, 'Ownership'): set it in the primary's Pulumi.<stack>.yaml and remove it here"
        )
    return enabled, flow_logs


#: The user's tags as JSON at most (they ride in the failover function's 4 KB environment beside about 2.5 KB of the rest).
MAX_TAGS_JSON_BYTES = 1024
#: What the failover function's environment may take without the user's tags (a test measures the example stacks').
FAILOVER_ENV_BASE_BYTES = 4096 - MAX_TAGS_JSON_BYTES


def _parse_tags(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{_key('tags')} must be a map of tag names to values")
    tags: dict[str, str] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not name or name.lower().startswith("aws:"):
            raise ConfigError(f"{_key('tags')} key {name!r} is not allowed; tag keys may not be empty or start with aws:")
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{_key('tags', str(name))} must be a string, got {value!r}")
        # Every stack has RDS resources, and the provider stamps these tags on each: RDS's rules bind them all.
        if problem := tag_problem(name, str(value)):
            raise ConfigError(f"{_key('tags', name)}: {problem}")
        tags[name] = str(value)
    # The most tags any resource carries: a DB instance the failover function adds (components/naming.py).
    count = failover_instance_tag_count(default_tags(stack="-", role="-", region="-", extra=tags))
    if count > MAX_TAGS_PER_RESOURCE:
        raise ConfigError(
            f"{_key('tags')} has {len(tags)} tags; with the stack's own ({', '.join(default_tags(stack='-', role='-', region='-'))}) "
            f"and the two the failover function sets on a DB instance it adds ({', '.join(FAILOVER_INSTANCE_OWN_TAG_KEYS)}), "
            f"that instance would carry {count}, over AWS's {MAX_TAGS_PER_RESOURCE} per resource: remove {count - MAX_TAGS_PER_RESOURCE}"
        )
    # They reach the failover function in MDR_DB_INSTANCE_TAGS, and "the total size of all environment variables doesn't
    # exceed 4 KB" (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html): the rest of its environment
    # takes about 2 KB (tests/components/test_failover_automation.py keeps it under FAILOVER_ENV_BASE_BYTES).
    size = len(json.dumps(tags, sort_keys=True))
    if size > MAX_TAGS_JSON_BYTES:
        raise ConfigError(
            f"{_key('tags')} take {size} bytes as JSON; the failover function receives them in its environment, which Lambda "
            f"caps at 4 KB in all: keep them under {MAX_TAGS_JSON_BYTES} bytes (fewer or shorter tags)"
        )
    return tags


def load_settings() -> StackSettings:
    """Read `magento-dr:*` from the stack's Pulumi config and validate it."""
    import pulumi  # imported here so the pure parser stays importable without the SDK

    cfg = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    # A misspelt top-level key (`magento-dr:databse`) would never be read below and every setting
    # of that block would silently fall back to its default: refuse it, naming the valid keys.
    unknown = sorted(set(namespace_keys()) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise ConfigError(
            f"{_key(unknown[0])} is not a known setting (a typo?); valid keys are: {', '.join(sorted(TOP_LEVEL_KEYS))}"
        )
    for key, is_object in TOP_LEVEL_KEYS.items():
        try:
            value = cfg.get_object(key) if is_object else cfg.get(key)
        except Exception as exc:  # noqa: BLE001 - pulumi raises a bare ConfigTypeError
            raise ConfigError(f"{_key(key)} is not valid JSON/YAML: {exc}") from None
        if value is not None:
            raw[key] = value
    if "protect" in raw:
        raw["protect"] = _as_bool(_key("protect"), raw["protect"])
    return parse_settings(pulumi.get_stack(), raw)


def namespace_keys() -> list[str]:
    """Every `magento-dr:*` key the engine handed the program (names without the namespace).

    The Python language host passes config in the PULUMI_CONFIG environment variable; the
    runtime's own map holds what `set_all_config` set (mocks, the automation API). Both count.
    """
    from pulumi.runtime import config as runtime_config

    prefix = f"{NAMESPACE}:"
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    return sorted(key[len(prefix) :] for key in keys if key.startswith(prefix))
