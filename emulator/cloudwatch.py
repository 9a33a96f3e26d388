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
        original(self, namespace, stamped)

    CloudWatchBackend.put_metric_data = put_metric_data  # type: ignore[method-assign]
    CloudWatchBackend._mdr_installed = True  # type: ignore[attr-defined]
