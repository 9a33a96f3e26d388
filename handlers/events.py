"""Parse raw Lambda events into typed triggers at the edge.

Accepted shapes (AWS documentation examples):

* EventBridge ``CloudWatch Alarm State Change`` (``source: aws.cloudwatch``; the
  state is ``detail.state.value``).
* SNS-wrapped CloudWatch alarm (``Records[0].Sns.Message`` is a JSON string
  with ``AlarmName`` / ``NewStateValue``).
* EventBridge rule schedule (``source: aws.events``, ``detail-type: Scheduled Event``).
* EventBridge Scheduler target input ``{"action": "evaluate", ...}`` where the
  optional ``schedule_arn`` / ``scheduled_time`` / ``execution_id`` /
  ``attempt_number`` carry Scheduler's ``<aws.scheduler.*>`` context attributes.
* RDS ``RDS DB Cluster Event`` in category ``global-failover`` (RDS-EVENT-0181..0187
  switchover, 0238..0241 failover, 0397, 0423, 0519) - bookkeeping.
* Operator command ``{"action": "status"|"failover"|"switchover"|"failback",
  "dry_run": bool, "force": bool}``.

Everything else raises :class:`EventRejected` with a reason; nothing here raises
``KeyError``/``TypeError`` on malformed input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ALARM_STATES = frozenset({"OK", "ALARM", "INSUFFICIENT_DATA"})
OPERATOR_ACTIONS = frozenset({"status", "failover", "switchover", "failback"})
GLOBAL_FAILOVER_EVENT_IDS = frozenset(
    {
        "RDS-EVENT-0181",  # global switchover started
        "RDS-EVENT-0182",  # old primary shut down (switchover)
        "RDS-EVENT-0183",  # waiting for data synchronization (switchover)
        "RDS-EVENT-0184",  # new primary promoted (switchover)
        "RDS-EVENT-0185",  # global switchover finished
        "RDS-EVENT-0186",  # global switchover cancelled
        "RDS-EVENT-0187",  # global switchover failed
        "RDS-EVENT-0238",  # global failover completed
        "RDS-EVENT-0239",  # global failover failed
        "RDS-EVENT-0240",  # resynchronizing members after global failover started
        "RDS-EVENT-0241",  # resynchronizing members after global failover finished
        "RDS-EVENT-0397",  # global writer endpoint DNS changed
        "RDS-EVENT-0423",  # waiting for data synchronization with the target
        "RDS-EVENT-0519",  # global failover completed, promoted cluster has no instances
    }
)
_SCHEDULER_KEYS = frozenset({"action", "source", "schedule_arn", "scheduled_time", "execution_id", "attempt_number"})
_OPERATOR_KEYS = frozenset({"action", "dry_run", "force", "source", "requested_by"})


class EventRejected(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Evaluate:
    """Run one evaluation. ``source``: schedule | scheduler | alarm | sns-alarm | rds-event."""

    source: str
    event_id: str = ""
    alarm_name: str = ""
    alarm_state: str = ""
    rds_event_id: str = ""
    rds_source_arn: str = ""
    message: str = ""


@dataclass(frozen=True)
class OperatorCommand:
    action: str
    dry_run: bool = False
    force: bool = False
    requested_by: str = ""


Trigger = Evaluate | OperatorCommand


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EventRejected(f"{where} must be a JSON object, got {type(value).__name__}")
    return value


def _str(container: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = container.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise EventRejected(f"{where}.{key} must be a non-empty string")
    return value


def parse_event(event: Any) -> Trigger:
    """Classify ``event``; raise :class:`EventRejected` for anything not accepted."""
    ev = _obj(event, "event")
    if "Records" in ev:
        return _parse_sns(ev)
    if "detail-type" in ev or ("source" in ev and str(ev.get("source", "")).startswith("aws.")):
        return _parse_eventbridge(ev)
    if "action" in ev:
        action = ev.get("action")
        if action == "evaluate":
            extra = set(ev) - _SCHEDULER_KEYS
            if extra:
                raise EventRejected(f"scheduler payload has unknown keys {sorted(extra)}")
            for key in _SCHEDULER_KEYS - {"action"}:
                if key in ev and not isinstance(ev[key], str | int):
                    raise EventRejected(f"scheduler payload {key} must be a string")
            return Evaluate(source="scheduler", event_id=str(ev.get("execution_id", "")))
        return _parse_operator(ev)
    raise EventRejected("unrecognised event: not an alarm, SNS, schedule, RDS or operator payload")


def _parse_operator(ev: dict[str, Any]) -> OperatorCommand:
    action = ev.get("action")
    if not isinstance(action, str) or action not in OPERATOR_ACTIONS:
        raise EventRejected(f"operator action must be one of {sorted(OPERATOR_ACTIONS)}, got {action!r}")
    extra = set(ev) - _OPERATOR_KEYS
    if extra:
        raise EventRejected(f"operator payload has unknown keys {sorted(extra)}")
    flags: dict[str, bool] = {}
    for key in ("dry_run", "force"):
        value = ev.get(key, False)
        if not isinstance(value, bool):
            raise EventRejected(f"operator {key} must be true or false, got {value!r}")
        flags[key] = value
    requested_by = ev.get("requested_by", "")
    if not isinstance(requested_by, str):
        raise EventRejected("operator requested_by must be a string")
    return OperatorCommand(action=action, dry_run=flags["dry_run"], force=flags["force"], requested_by=requested_by)


def _parse_eventbridge(ev: dict[str, Any]) -> Evaluate:
    source = _str(ev, "source", "event")
    detail_type = _str(ev, "detail-type", "event")
    event_id = ev.get("id") if isinstance(ev.get("id"), str) else ""
    if source == "aws.events" and detail_type == "Scheduled Event":
        return Evaluate(source="schedule", event_id=event_id or "")
    if source == "aws.cloudwatch" and detail_type == "CloudWatch Alarm State Change":
        detail = _obj(ev.get("detail"), "detail")
        name = _str(detail, "alarmName", "detail")
        state = _obj(detail.get("state"), "detail.state")
        value = _str(state, "value", "detail.state")
        if value not in ALARM_STATES:
            raise EventRejected(f"detail.state.value {value!r} is not an alarm state")
        return Evaluate(source="alarm", event_id=event_id or "", alarm_name=name, alarm_state=value)
    if source == "aws.rds" and detail_type == "RDS DB Cluster Event":
        detail = _obj(ev.get("detail"), "detail")
        event_code = _str(detail, "EventID", "detail")
        categories = detail.get("EventCategories", [])
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise EventRejected("detail.EventCategories must be a list of strings")
        if event_code not in GLOBAL_FAILOVER_EVENT_IDS and "global-failover" not in categories:
            raise EventRejected(f"RDS event {event_code} is not a global-failover event")
        return Evaluate(
            source="rds-event",
            event_id=event_id or "",
            rds_event_id=event_code,
            rds_source_arn=_str(detail, "SourceArn", "detail", required=False),
            message=_str(detail, "Message", "detail", required=False),
        )
    raise EventRejected(f"unsupported EventBridge event {source!r} / {detail_type!r}")


def _parse_sns(ev: dict[str, Any]) -> Evaluate:
    records = ev.get("Records")
    if not isinstance(records, list) or len(records) != 1:
        raise EventRejected("Records must be a list with exactly one SNS record")
    record = _obj(records[0], "Records[0]")
    if record.get("EventSource") != "aws:sns":
        raise EventRejected("Records[0].EventSource must be 'aws:sns'")
    sns = _obj(record.get("Sns"), "Records[0].Sns")
    raw = _str(sns, "Message", "Records[0].Sns")
    try:
        message = json.loads(raw)
    except ValueError:
        raise EventRejected("Records[0].Sns.Message is not JSON (not a CloudWatch alarm notification)") from None
    msg = _obj(message, "Records[0].Sns.Message")
    name = _str(msg, "AlarmName", "Message")
    state = _str(msg, "NewStateValue", "Message")
    if state not in ALARM_STATES:
        raise EventRejected(f"Message.NewStateValue {state!r} is not an alarm state")
    message_id = sns.get("MessageId") if isinstance(sns.get("MessageId"), str) else ""
    return Evaluate(source="sns-alarm", event_id=message_id or "", alarm_name=name, alarm_state=state)
