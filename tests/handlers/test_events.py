"""Every accepted event shape (AWS documentation examples) and a battery of malformed ones."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from handlers.events import Evaluate, EventRejected, OperatorCommand, parse_event

# CloudWatch User Guide, "Alarm events and EventBridge" - single metric alarm example.
ALARM_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
    "detail-type": "CloudWatch Alarm State Change",
    "source": "aws.cloudwatch",
    "account": "123456789012",
    "time": "2019-10-02T17:04:40Z",
    "region": "us-east-1",
    "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"],
    "detail": {
        "alarmName": "ServerCpuTooHigh",
        "configuration": {
            "description": "Goes into alarm when server CPU utilization is too high!",
            "metrics": [
                {
                    "id": "30b6c6b2-a864-43a2-4877-c09a1afc3b87",
                    "metricStat": {
                        "metric": {"dimensions": {"InstanceId": "i-12345678901234567"}, "name": "CPUUtilization", "namespace": "AWS/EC2"},
                        "period": 300,
                        "stat": "Average",
                    },
                    "returnData": True,
                }
            ],
        },
        "previousState": {
            "reason": "Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (01/10/19 13:46:00)] was not greater than the threshold (50.0)",
            "reasonData": "{}",
            "timestamp": "2019-10-02T13:56:40.987+0000",
            "value": "OK",
        },
        "state": {
            "reason": "Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was greater than the threshold (50.0)",
            "reasonData": "{}",
            "timestamp": "2019-10-02T17:04:40.989+0000",
            "value": "ALARM",
        },
    },
}

# Lambda developer guide, SNS event example; Message is the CloudWatch alarm notification JSON.
ALARM_MESSAGE = {
    "AlarmName": "peer-health",
    "AlarmDescription": "peer region health",
    "AWSAccountId": "123456789012",
    "NewStateValue": "ALARM",
    "NewStateReason": "Threshold Crossed",
    "StateChangeTime": "2024-01-01T00:00:00.000+0000",
    "Region": "US West (Oregon)",
    "AlarmArn": "arn:aws:cloudwatch:us-west-2:123456789012:alarm:peer-health",
    "OldStateValue": "OK",
    "Trigger": {"MetricName": "HealthCheckStatus", "Namespace": "AWS/Route53", "Statistic": "MINIMUM", "Period": 60},
}
SNS_EVENT: dict[str, Any] = {
    "Records": [
        {
            "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-west-2:123456789012:sns-lambda:21be56ed-a058-49f5-8c98-aedd2564c486",
            "EventSource": "aws:sns",
            "Sns": {
                "SignatureVersion": "1",
                "Timestamp": "2019-01-02T12:45:07.000Z",
                "Signature": "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
                "SigningCertUrl": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
                "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "Message": json.dumps(ALARM_MESSAGE),
                "MessageAttributes": {},
                "Type": "Notification",
                "UnsubscribeUrl": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&amp;SubscriptionArn=arn:aws:sns:us-west-2:123456789012:test-lambda:21be56ed",
                "TopicArn": "arn:aws:sns:us-west-2:123456789012:sns-lambda",
                "Subject": "ALARM",
            },
        }
    ]
}

# EventBridge user guide, scheduled rule event.
SCHEDULED_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2015-10-08T16:53:06Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"],
    "detail": {},
}

# EventBridge Scheduler target input after context-attribute substitution.
SCHEDULER_INPUT = {
    "action": "evaluate",
    "schedule_arn": "arn:aws:scheduler:us-west-2:123456789012:schedule/default/magento-dr-evaluate",
    "scheduled_time": "2022-03-22T18:59:43Z",
    "execution_id": "d32c5kddcf5bb8c3",
    "attempt_number": "1",
}

# RDS user guide, "RDS DB Cluster Event" example shape with a global-failover event id.
RDS_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "844e2571-85d4-695f-b930-0153b71dcb42",
    "detail-type": "RDS DB Cluster Event",
    "source": "aws.rds",
    "account": "123456789012",
    "time": "2024-10-06T12:26:13Z",
    "region": "us-west-2",
    "resources": ["arn:aws:rds:us-west-2:123456789012:cluster:shop-secondary"],
    "detail": {
        "EventCategories": ["global-failover"],
        "SourceType": "CLUSTER",
        "SourceArn": "arn:aws:rds:us-west-2:123456789012:cluster:shop-secondary",
        "Date": "2024-10-06T12:26:13.882Z",
        "Message": "Global failover to DB cluster shop-secondary in Region us-west-2 completed.",
        "SourceIdentifier": "shop-secondary",
        "EventID": "RDS-EVENT-0238",
    },
}


def test_eventbridge_alarm_reads_detail_state_value() -> None:
    t = parse_event(ALARM_EVENT)
    assert t == Evaluate(source="alarm", event_id=ALARM_EVENT["id"], alarm_name="ServerCpuTooHigh", alarm_state="ALARM")


def test_sns_wrapped_alarm() -> None:
    t = parse_event(SNS_EVENT)
    assert isinstance(t, Evaluate) and t.source == "sns-alarm" and t.alarm_name == "peer-health" and t.alarm_state == "ALARM"


def test_scheduled_rule_event() -> None:
    assert parse_event(SCHEDULED_EVENT) == Evaluate(source="schedule", event_id=SCHEDULED_EVENT["id"])


def test_scheduler_payload() -> None:
    assert parse_event(SCHEDULER_INPUT) == Evaluate(source="scheduler", event_id="d32c5kddcf5bb8c3")
    assert parse_event({"action": "evaluate"}) == Evaluate(source="scheduler")


@pytest.mark.parametrize("event_id", ["RDS-EVENT-0181", "RDS-EVENT-0185", "RDS-EVENT-0238", "RDS-EVENT-0239", "RDS-EVENT-0241", "RDS-EVENT-0519"])
def test_rds_global_failover_events(event_id: str) -> None:
    """Ids from the Aurora user guide's DB cluster events table, category "global failover"."""
    ev = copy.deepcopy(RDS_EVENT)
    ev["detail"]["EventID"] = event_id
    t = parse_event(ev)
    assert isinstance(t, Evaluate) and t.source == "rds-event" and t.rds_event_id == event_id


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"action": "status"}, OperatorCommand("status")),
        ({"action": "failover", "dry_run": True}, OperatorCommand("failover", dry_run=True)),
        ({"action": "switchover", "force": True}, OperatorCommand("switchover", force=True)),
        ({"action": "failback", "dry_run": False, "force": False, "requested_by": "ops"}, OperatorCommand("failback", requested_by="ops")),
    ],
)
def test_operator_commands(payload: dict[str, Any], expected: OperatorCommand) -> None:
    assert parse_event(payload) == expected


def _mut(base: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    ev = copy.deepcopy(base)
    cur = ev
    for key in path[:-1]:
        cur = cur[key]
    if value is _DELETE:
        del cur[path[-1]]
    else:
        cur[path[-1]] = value
    return ev


_DELETE = object()
MALFORMED = [
    None, 0, "ALARM", [], [SCHEDULED_EVENT], {}, {"foo": "bar"},
    # the reference design's mistake: detail.state as a string
    _mut(ALARM_EVENT, ["detail", "state"], "ALARM"),
    _mut(ALARM_EVENT, ["detail", "state"], _DELETE),
    _mut(ALARM_EVENT, ["detail", "state", "value"], "BROKEN"),
    _mut(ALARM_EVENT, ["detail", "state", "value"], 1),
    _mut(ALARM_EVENT, ["detail"], None),
    _mut(ALARM_EVENT, ["detail"], "x"),
    _mut(ALARM_EVENT, ["detail", "alarmName"], _DELETE),
    _mut(ALARM_EVENT, ["detail-type"], "Something Else"),
    _mut(ALARM_EVENT, ["source"], 5),
    _mut(SCHEDULED_EVENT, ["source"], "aws.ec2"),
    _mut(SNS_EVENT, ["Records"], []),
    _mut(SNS_EVENT, ["Records"], "x"),
    _mut(SNS_EVENT, ["Records", 0], None),
    _mut(SNS_EVENT, ["Records", 0, "EventSource"], "aws:sqs"),
    _mut(SNS_EVENT, ["Records", 0, "Sns"], _DELETE),
    _mut(SNS_EVENT, ["Records", 0, "Sns", "Message"], "not json"),
    _mut(SNS_EVENT, ["Records", 0, "Sns", "Message"], json.dumps(["list"])),
    _mut(SNS_EVENT, ["Records", 0, "Sns", "Message"], json.dumps({"AlarmName": "a"})),
    _mut(SNS_EVENT, ["Records", 0, "Sns", "Message"], json.dumps({"AlarmName": "a", "NewStateValue": "NOPE"})),
    {"Records": [SNS_EVENT["Records"][0], SNS_EVENT["Records"][0]]},
    _mut(_mut(RDS_EVENT, ["detail", "EventID"], "RDS-EVENT-0173"), ["detail", "EventCategories"], ["maintenance"]),
    _mut(RDS_EVENT, ["detail", "EventCategories"], "global-failover"),
    _mut(RDS_EVENT, ["detail", "EventID"], _DELETE),
    {"action": "reboot"},
    {"action": None},
    {"action": "failover", "dry_run": "yes"},
    {"action": "failover", "force": 1},
    {"action": "failover", "dryrun": True},
    {"action": "evaluate", "extra": 1},
    {"action": "evaluate", "scheduled_time": {"x": 1}},
]


@pytest.mark.parametrize("event", MALFORMED, ids=[f"malformed-{i}" for i in range(len(MALFORMED))])
def test_malformed_events_are_rejected_with_reason(event: Any) -> None:
    with pytest.raises(EventRejected) as info:
        parse_event(event)
    assert info.value.reason
