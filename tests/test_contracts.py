"""Names the stacks and the handler must agree on (the handler cannot import components/)."""

from __future__ import annotations

from components import contracts
from handlers import obs
from handlers.settings import Settings


def test_writer_metric_name_matches() -> None:
    assert obs.WRITER_METRIC == contracts.WRITER_METRIC


def test_metric_namespace_default_matches() -> None:
    assert Settings.__dataclass_fields__["metric_namespace"].default == contracts.METRIC_NAMESPACE


def test_lease_blocked_metric_name_matches() -> None:
    assert obs.LEASE_BLOCKED_METRIC == contracts.LEASE_BLOCKED_METRIC


def test_the_lease_blocked_alarm_is_sized_from_the_handlers_own_lease() -> None:
    from components import failover_automation
    from handlers import lease

    assert failover_automation.LEASE_TTL_SECONDS == lease.LEASE_TTL_SECONDS
