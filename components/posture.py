"""Standby postures: how much of the shop the secondary runs before a failover, and what that buys.

Pure. AWS's disaster-recovery strategies, from cheapest to fastest, are backup & restore, pilot light,
warm standby and multi-site ("Disaster recovery options in the cloud",
https://docs.aws.amazon.com/whitepapers/latest/disaster-recovery-workloads-on-aws/disaster-recovery-options-in-the-cloud.html).
A shop's secondary stands by in one of three of them (`magento-dr:standby.posture`):

* ``pilot-light`` — the data is replicated and nothing else runs: the Aurora secondary is *headless* (storage
  only, no DB instances), the web group is at 0, search is one small node and the VPC has one NAT gateway.
  The cache stays as it is (a Global Datastore member cannot be smaller). The failover function adds the DB instances and starts the web
  instances before it promotes (handlers, "prepare"); that adds the instance creation to the RTO.
* ``warm`` — today's default: a reader, one web instance (`web.standbyCapacity`) and the full data tier;
  the function scales the web tier to production after promoting.
* ``hot`` — the standby at production size: nothing to scale, the RTO has no capacity term.

Each posture sets the defaults of the settings it concerns and refuses values that contradict it
(`SIZING`), with the reason and its consequence, so a reviewer reads the trade-off in the error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PostureName = Literal["pilot-light", "warm", "hot"]
POSTURES: tuple[PostureName, ...] = ("pilot-light", "warm", "hot")
DEFAULT_POSTURE: PostureName = "warm"

# How many DB instances the failover function adds to a headless standby before promoting it: a writer
# and a reader in another AZ, as the primary runs (components/config.py, primary instanceCount >= 2).
DEFAULT_FAILOVER_DATABASE_INSTANCES = 2
# A secondary cluster of a global database holds at most 16 instances.
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-getting-started.html
MAX_FAILOVER_DATABASE_INSTANCES = 16

# The pilot light's search domain: one node of the smallest general-purpose Graviton size. Magento needs a
# search engine to serve catalog pages at all, so the standby keeps one; the failover reindexes into it.
PILOT_LIGHT_SEARCH_INSTANCE_TYPE = "m7g.medium.search"


@dataclass(frozen=True)
class Bound:
    """What a posture allows for one setting of the secondary: a default and an inclusive range."""

    default: int | str
    low: int | None = None
    high: int | None = None
    why: str = ""
    """The reason and its consequence, shown when a value falls outside the range."""


@dataclass(frozen=True)
class PostureSizing:
    database_instances: Bound
    standby_capacity: Bound  # its default None means "the production desiredCapacity" (hot)
    cache_replicas: Bound
    search_instances: Bound
    search_instance_type: str | None  # None: the setting's own default
    nat_gateways: str | None  # None: the setting's own default


SIZING: dict[PostureName, PostureSizing] = {
    "pilot-light": PostureSizing(
        database_instances=Bound(
            0, 0, 0,
            "a pilot light keeps the standby cluster headless (storage only; no instance is billed): the failover "
            "function adds standby.failoverDatabaseInstances before it promotes. Remove the key, or choose posture warm "
            "to keep a reader running",
        ),
        standby_capacity=Bound(
            0, 0, 0,
            "a pilot light runs no web instance: the failover function starts production capacity while it adds the "
            "database instances. Remove the key, or choose posture warm",
        ),
        # The cache cannot shrink: a Global Datastore's members share one node type, and a secondary "must have
        # at least 1 replica" when the primary has automatic failover on (ours does). Sessions stay replicated.
        # https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Redis-Global-Datastores-Getting-Started.html
        cache_replicas=Bound(
            1, 1, 5,
            "a Global Datastore secondary keeps at least one replica while the primary has automatic failover on (AWS)",
        ),
        search_instances=Bound(
            1, 1, 20,
            "a pilot light keeps its search domain (Magento's catalog search and the reindex after a failover need one): "
            "one node by default, yellow by design; more nodes span Availability Zones as in a warm standby",
        ),
        search_instance_type=PILOT_LIGHT_SEARCH_INSTANCE_TYPE,
        nat_gateways="single",
    ),
    "warm": PostureSizing(
        database_instances=Bound(1, 1, 16, "a warm standby keeps at least one reader; for none choose posture pilot-light"),
        standby_capacity=Bound(1, 1, 200, "a warm standby runs at least one web instance; for none choose posture pilot-light"),
        cache_replicas=Bound(1, 1, 5, "a warm standby's cache keeps a replica (Multi-AZ); for none choose posture pilot-light"),
        search_instances=Bound(2, 2, 20, "a warm standby's search spans two AZs; for one node choose posture pilot-light"),
        search_instance_type=None,
        nat_gateways=None,
    ),
    "hot": PostureSizing(
        database_instances=Bound(
            2, 2, 16,
            "a hot standby runs the database at production size: a writer-to-be and a reader in another AZ; "
            "for fewer choose posture warm",
        ),
        standby_capacity=Bound("desiredCapacity", why="a hot standby runs production capacity; for less choose posture warm"),
        cache_replicas=Bound(1, 1, 5, "a hot standby's cache keeps a replica (Multi-AZ)"),
        search_instances=Bound(2, 2, 20, "a hot standby's search spans two AZs"),
        search_instance_type=None,
        nat_gateways=None,
    ),
}


def describe(posture: PostureName) -> str:
    """One line for the README, `make cost` and the stack output."""
    return {
        "pilot-light": "data replicated, nothing else running: headless Aurora, 0 web instances, one search node, one NAT gateway",
        "warm": "a reader, web.standbyCapacity web instances and the full data tier, scaled to production after the promotion",
        "hot": "the standby at production size: nothing to scale after the promotion",
    }[posture]
