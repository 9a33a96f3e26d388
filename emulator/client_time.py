"""The AWS SDK's own waits, spent in emulator time.

botocore waits on the client side in two places: between the attempts of a retried call (``Endpoint._needs_retry``
sleeps the retry mode's backoff) and, in the ``adaptive`` retry mode the failover function uses, in its client-side
rate limiter once AWS has throttled a call (``botocore.retries.bucket.TokenBucket`` waits for a token). Against AWS
those are real seconds in which the world moves on. In the emulator the world's clock is emulator time, so the waits
are spent there: a drill's figures count them, and no test waits for them on the wall clock.

A wait of a function that runs beside the failover path (``STATE.deferred_dark_costs`` set: the drill's readiness
evaluation, the writer gate) is added to its own duration, as a dark region's connect timeout is
(emulator/faults.py), not to the shared clock.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

from botocore import endpoint
from botocore.retries import bucket

from .state import STATE

_ORIGINALS: dict[str, Any] = {}


class _EmulatorClock(bucket.Clock):
    """The adaptive retry mode's clock (its token bucket, rate measurements and cubic rate adjustment) in emulator time."""

    def __init__(self) -> None:
        super().__init__()
        self._own = 0.0  # waits kept off the shared clock (a deferred caller): this client's time still moves

    def sleep(self, amount: float) -> None:
        if amount <= 0:
            return
        if STATE.deferred_dark_costs is not None:
            STATE.deferred_dark_costs.append(amount)
            self._own += amount
        else:
            STATE.advance(amount)

    def current_time(self) -> float:
        return STATE.now() + self._own


class _EmulatorCondition:
    """The token bucket's condition: waiting for a token is sleeping on the bucket's clock."""

    def __init__(self, condition: threading.Condition, clock: _EmulatorClock) -> None:
        self._condition = condition
        self._clock = clock

    def __enter__(self) -> bool:
        return self._condition.__enter__()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._condition.__exit__(exc_type, exc, tb)

    def wait(self, timeout: float | None = None) -> bool:
        self._clock.sleep(timeout or 0.0)
        return False

    def notify(self, n: int = 1) -> None:
        self._condition.notify(n)

    def notify_all(self) -> None:
        self._condition.notify_all()


class _EmulatorTokenBucket(bucket.TokenBucket):
    def __init__(self, max_rate: float, clock: Any, **kwargs: Any) -> None:
        super().__init__(max_rate, clock, **kwargs)
        if isinstance(clock, _EmulatorClock):
            condition: threading.Condition = self._new_fill_rate_condition  # type: ignore[has-type]
            self._new_fill_rate_condition = _EmulatorCondition(condition, clock)


class _Time:
    """What botocore.endpoint uses of the time module (its retry backoff's sleep), with the sleep in emulator time."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        _EmulatorClock().sleep(seconds)


def install_client_time() -> None:
    if _ORIGINALS:
        return
    _ORIGINALS.update(endpoint_time=getattr(endpoint, "time"), clock=bucket.Clock, token_bucket=bucket.TokenBucket)  # noqa: B009
    setattr(endpoint, "time", _Time())  # noqa: B010 - the module botocore.endpoint sleeps through
    bucket.Clock = _EmulatorClock  # type: ignore[misc]
    bucket.TokenBucket = _EmulatorTokenBucket  # type: ignore[misc,assignment]
