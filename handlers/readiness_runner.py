"""The readiness function's shell: parse the schedule's event, read the snapshot, judge, publish, log.

The readiness function is a second Lambda function built from the same package (handlers/), with its
own read-only role and its own schedule (components/readiness.py), so the failover function's single
concurrency slot and its one-minute evaluations are never held up by it. `make drill TARGET=aws`
(drill/readiness.py) and the CLI (`python -m handlers.failover readiness --now`) run the same
:func:`evaluate_now`.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .events import EventRejected
from .obs import get_logger
from .readiness import Expectations, Result, evaluate, local_parameter_digest, result_dict
from .settings import ReadinessSettings

if TYPE_CHECKING:
    from .readiness_aws import ReadinessAdapter
    from .runner import Clock

#: What the readiness schedule delivers: {"action": "readiness"} with Scheduler's context attributes.
READINESS_ACTION = "readiness"
_EVENT_KEYS = frozenset({"action", "schedule_arn", "scheduled_time", "execution_id", "attempt_number"})


def parse_event(event: Any) -> str:
    """The schedule's execution id; anything but a readiness event raises EventRejected (no AWS call)."""
    if not isinstance(event, dict) or event.get("action") != READINESS_ACTION:
        raise EventRejected("the readiness function takes {\"action\": \"readiness\"} only (failover actions go to the failover function)")
    extra = set(event) - _EVENT_KEYS
    if extra:
        raise EventRejected(f"readiness payload has unknown keys {sorted(extra)}")
    return str(event.get("execution_id", ""))


def expectations(s: ReadinessSettings) -> Expectations:
    """What the stacks declared, as the pure checks read it."""
    health = dict(s.health_check_ids)
    return Expectations(
        stack=s.stack,
        region=s.region,
        peer_region=s.peer_region,
        home_region=s.home_region,
        global_cluster_id=s.global_cluster_id,
        local_cluster_arn=s.local_cluster_arn,
        ssm_prefix=s.ssm_prefix,
        rpo_seconds=s.rpo_seconds,
        consecutive_failures=s.consecutive_failures,
        posture=s.standby_posture,
        standby_capacity=s.standby_capacity,
        production=(s.scale_min, s.scale_desired, s.scale_max),
        asg_name=s.asg_name,
        cluster_parameter_group=s.cluster_parameter_group,
        cluster_parameters=dict(s.cluster_parameters),
        instance_parameters=dict(s.instance_parameters),
        backup_retention_days=s.backup_retention_days,
        credentials_source=s.secret_role,
        reserved_concurrency=s.reserved_concurrency,
        failover_function=s.failover_function,
        cache_replication_group_id=s.cache_replication_group_id,
        media_bucket=s.media_bucket,
        release_parameter=s.release_parameter,
        https_check_kind="https" if "https" in health else "",
    )


def evaluate_now(settings: ReadinessSettings, adapter: ReadinessAdapter, clock: Clock, *, publish: bool) -> Result:
    """One evaluation: read, judge, and (publish) send the metrics and store the compact result."""
    calls0 = adapter.api_calls
    t0 = clock.monotonic()
    now = clock.now()
    snap = adapter.snapshot(now)
    checks = evaluate(snap, expectations(settings))
    result = Result(settings.stack, settings.region, now, checks, parameter_digest=local_parameter_digest(snap))
    if publish:
        adapter.publish(result)
    return replace(result, api_calls=adapter.api_calls - calls0, duration_ms=(clock.monotonic() - t0) * 1000.0)


def handle(event: Any, environ: Any, clock: Clock | None = None) -> dict[str, Any]:
    """The readiness function: one scheduled evaluation, published. Returns the full result."""
    from .failover import readiness_adapter_for
    from .runner import SystemClock

    log = get_logger(environ.get("MDR_LOG_LEVEL", "INFO") if environ.get("MDR_LOG_LEVEL") in ("DEBUG", "INFO", "WARNING", "ERROR") else "INFO",
                     service="magento-dr-readiness")
    try:
        execution = parse_event(event)
    except EventRejected as exc:
        log.warning("event rejected", extra={"reason": exc.reason})
        return {"ok": False, "action": "rejected", "reason": exc.reason}
    settings = ReadinessSettings.from_env(environ)
    cpu0 = time.process_time()
    result = evaluate_now(settings, readiness_adapter_for(settings), clock or SystemClock(), publish=True)
    out = {"ok": True, "action": READINESS_ACTION, "execution_id": execution, **result_dict(result), "cpu_seconds": round(time.process_time() - cpu0, 4)}
    # The whole result, every reason and fix uncut, once per evaluation: CloudWatch Logs Insights finds it.
    log.info("readiness", extra={"result": out})
    return out
