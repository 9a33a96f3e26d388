"""Notifications: encrypted topic, who may publish, email subscriptions."""

from __future__ import annotations

import json

from offline.runner import StackGraph


def test_topic_is_encrypted_with_a_rotating_customer_key(stack: StackGraph) -> None:
    topic = stack.one("aws:sns/topic:Topic")
    key = stack.named("notifications-key")
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    services = {s["Principal"].get("Service") for s in json.loads(key.inputs["policy"])["Statement"]}
    assert {"cloudwatch.amazonaws.com", "events.amazonaws.com"} <= services


def test_only_this_accounts_alarms_and_rules_publish_over_tls(stack: StackGraph) -> None:
    policy = json.loads(stack.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    allow, deny = policy["Statement"]
    assert allow["Action"] == "sns:Publish" and allow["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert deny["Effect"] == "Deny" and deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"


def test_email_subscriptions_come_from_config(stack: StackGraph) -> None:
    subs = stack.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert [s.inputs["endpoint"] for s in subs] == ["sre-oncall@example.com"]
    assert all(s.inputs["protocol"] == "email" for s in subs)
    assert stack.exports["notificationTopicArn"].startswith(f"arn:aws:sns:{stack.exports['region']}:")


def test_topic_key_is_protected(stack: StackGraph) -> None:
    assert stack.named("notifications-key").protect is True
