"""OpenSearch Service's domain-health metrics, as CloudWatch receives them.

AWS publishes, once a minute for every domain, ``ClusterStatus.green``, ``ClusterStatus.yellow`` and
``ClusterStatus.red`` (1 for the status the cluster is in, 0 for the others) in the ``AWS/ES`` namespace
with the dimensions ``DomainName`` and ``ClientId`` (the account id)
(https://docs.aws.amazon.com/opensearch-service/latest/developerguide/managedomains-cloudwatchmetrics.html).
The emulator publishes green for every domain of a region that is not dark, lazily at the first emulated
request of each minute (server side, so no client counts it), stamped with emulator time. A test can make a
domain red with :func:`set_status`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from moto.cloudwatch.models import cloudwatch_backends
from moto.opensearch.models import opensearch_backends

from .state import STATE

NAMESPACE = "AWS/ES"
STATUSES = ("green", "yellow", "red")
_STATUS: dict[str, str] = {}  # domain name -> status played ("green" unless set)
_SLOTS: dict[tuple[str, str], int] = {}


def set_status(domain: str, status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"cluster status {status!r}: one of {STATUSES}")
    _STATUS[domain] = status


def reset() -> None:
    _STATUS.clear()
    _SLOTS.clear()


def refresh(account: str) -> None:
    now = STATE.now()
    slot = math.floor(now / 60)
    stamp = datetime.fromtimestamp(now, UTC).replace(tzinfo=None)  # moto keeps naive UTC
    for region, backend in list(opensearch_backends[account].items()):
        if STATE.is_dark(region):
            continue
        for name in list(getattr(backend, "domains", {})):
            if _SLOTS.get((region, name)) == slot:
                continue
            _SLOTS[(region, name)] = slot
            status = _STATUS.get(name, "green")
            dims = [{"Name": "DomainName", "Value": name}, {"Name": "ClientId", "Value": account}]
            data = [{"MetricName": f"ClusterStatus.{s}", "Value": 1.0 if s == status else 0.0, "Dimensions": dims, "Timestamp": stamp} for s in STATUSES]
            cloudwatch_backends[account][region].put_metric_data(NAMESPACE, data)
