"""CloudWatch in emulator time.

AWS stamps a datapoint sent without a Timestamp with the time it received it;
moto stamps it with the wall clock. In the emulator the receipt time is emulator
time (which `advance` moves), so alarms and queries see the datapoint when the
emulated world sent it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend

from .state import STATE


def install_cloudwatch() -> None:
    if getattr(CloudWatchBackend, "_mdr_installed", False):
        return
    original = CloudWatchBackend.put_metric_data

    def put_metric_data(self: CloudWatchBackend, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        received = datetime.fromtimestamp(STATE.now(), UTC).replace(tzinfo=None)  # moto keeps naive UTC
        stamped = [m if m.get("Timestamp") else {**m, "Timestamp": received} for m in metric_data]
        before = len(self.metric_data)
        original(self, namespace, stamped)
        _note_latest(self.region_name, namespace, self.metric_data[before:])

    CloudWatchBackend.put_metric_data = put_metric_data  # type: ignore[method-assign]
    CloudWatchBackend._mdr_installed = True  # type: ignore[attr-defined]


def _note_latest(region: str, namespace: str, added: list[Any]) -> None:
    """Keep STATE.latest_datapoint: the newest datapoint time stored in a region's namespace (any time it cannot read
    counts as "now and later": an observer then reads rather than skip)."""
    latest = STATE.latest_datapoint.get((region, namespace), float("-inf"))
    for datum in added:
        stamp = getattr(datum, "timestamp", None)
        latest = max(latest, stamp.replace(tzinfo=UTC).timestamp() if isinstance(stamp, datetime) else float("inf"))
    with STATE.lock:
        STATE.latest_datapoint[(region, namespace)] = latest


def nothing_since(region: str, namespace: str, since: float) -> bool:
    """Whether every datapoint stored in the region's namespace is older than `since` (a query from `since` finds none)."""
    return STATE.latest_datapoint.get((region, namespace), float("-inf")) < since
