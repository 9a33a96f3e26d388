"""The failover lease (pure): at most one holder acts on a promotion and its steps at a time.

The lease is an SSM parameter created with ``Overwrite=False`` (atomic: one creator wins). Its
holder renews it while it works — at every step and every ``LEASE_RENEW_SECONDS`` of a wait — so
it stays short: a holder that dies (Lambda timeout, out of memory, a killed CLI) stops renewing,
and its lease stops counting ``LEASE_TTL_SECONDS`` after its last renewal. The next evaluation
then takes over and resumes from the operation record.

Age is judged by SSM's own clock at both ends: the parameter's ``LastModifiedDate``, not the time
the holder wrote into the value, and "now" from the Date header of the same answer, not the reader's
clock. So neither a holder whose clock is wrong (an operator's workstation) can make its lease last
longer than a TTL, nor a reader whose clock runs fast can take over a live holder's lease. SSM has no compare-and-swap: a renewal is read, check the
owner, overwrite. A holder that stalls for a whole TTL and then renews in the same moment a
successor takes over could overwrite the successor's lease; both would act until the successor's
next renewal finds it lost (at most ``LEASE_RENEW_SECONDS``). AWS refuses a second promotion and
every step checks AWS before it acts, which bounds what that overlap can do.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

#: A dead holder keeps others out at most this long after its last renewal ("within about two minutes").
LEASE_TTL_SECONDS = 120.0
#: How often a live holder renews. With the adapter's retries a single AWS call can block for about
#: a minute (connect 3 s + read 10 s, 5 attempts), so renewals this far apart still never let a
#: live holder's lease lapse.
LEASE_RENEW_SECONDS = 30.0


@dataclass(frozen=True)
class Lease:
    owner: str
    #: The holder's own clock: informational (status, logs), never used to judge expiry.
    acquired_at: float
    renewed_at: float
    holder: str = ""

    def encode(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


def decode(raw: str | None) -> Lease | None:
    """The lease in a parameter value; None when absent or unreadable (an unreadable lease counts as expired)."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
        owner = str(data["owner"])
        acquired = float(data.get("acquired_at", data.get("expires_at", 0.0)))
        renewed = float(data.get("renewed_at", acquired))
        return Lease(owner=owner, acquired_at=acquired, renewed_at=renewed, holder=str(data.get("holder", "")))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def expires_at(written_at: float | None) -> float:
    """When a lease last written at ``written_at`` (SSM's LastModifiedDate) stops counting."""
    return -1.0 if written_at is None else written_at + LEASE_TTL_SECONDS


def is_live(lease: Lease | None, written_at: float | None, now: float) -> bool:
    """Whether a lease still keeps others out at ``now``."""
    return lease is not None and now < expires_at(written_at)


def renewal_due(last_renewed: float, now: float) -> bool:
    return now - last_renewed >= LEASE_RENEW_SECONDS
