"""Whose claim to the Aurora writer stands when two regions' RDS APIs disagree: the later activation's.

A region that comes back from an outage may, for a while, answer DescribeGlobalClusters with its old view: its own
cluster still the writer, no failover (AWS does not say; docs/aws-assumptions.md G6). Its writer gate and its failover
function cannot tell that from their own region alone, so while its view names its own cluster the writer they ask the
peer region. When the peer's API names another writer, the views disagree, and the region activated last wins: each
failover function records in its own region when it made that region the active one (the activation record). A view
that agrees with the peer's, or a peer that does not answer, leaves the claim as it stands: an outage of the peer is
the failover's ordinary case, and its records then say nothing newer.

Pure (no AWS calls, standard library only): it ships with both the writer gate and the failover function.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

#: The activation record's value names the cluster the failover function made active; its LastModifiedDate (SSM's own
#: clock, as the failover lease reads it) says when.
ACTIVATION_PREFIX = "/magento-dr/activation"


def activation_parameter(global_cluster_id: str) -> str:
    """The activation record: one per region, the same name in both, so each region reads the peer's without knowing
    the peer's stack (as with the release version parameter); components/contracts.py keeps a copy."""
    return f"{ACTIVATION_PREFIX}/{global_cluster_id}"


@dataclass(frozen=True)
class PeerView:
    """What the peer region says, asked only while this region's own view names its cluster the writer."""

    region: str
    #: The writer the peer region's RDS API names ("" when it names none; None when it did not answer).
    writer_arn: str | None
    #: When the peer region was last activated (its activation record's LastModifiedDate); None: never, or unreadable.
    activated_at: float | None = None


def views_disagree(local_arn: str, peer: PeerView | None) -> bool:
    """The peer's API answered and names another cluster the writer (the activation records then decide)."""
    return peer is not None and bool(peer.writer_arn) and peer.writer_arn != local_arn


def stale_claim(local_arn: str, own_activated_at: float | None, peer: PeerView | None) -> str:
    """Why this region's view that its cluster holds the writer is stale ("" when the claim stands).

    Stale only when the peer answers with another writer *and* was activated after this region (or this region never
    was). A peer never activated, or whose record is unreadable, cannot outrank a view; nor can one activated earlier.
    """
    if not views_disagree(local_arn, peer):
        return ""
    assert peer is not None
    if peer.activated_at is None or (own_activated_at is not None and own_activated_at >= peer.activated_at):
        return ""
    since = "never" if own_activated_at is None else f"at {_iso(own_activated_at)}"
    return (
        f"stale view: {peer.region}'s RDS API names {peer.writer_arn} the writer, and {peer.region} was activated at "
        f"{_iso(peer.activated_at)}, after this region ({since})"
    )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
