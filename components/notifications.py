"""Notifications: the region's KMS-encrypted SNS topic for failover reports and alarms."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .kms import key_policy, service_use_statement


@dataclass(frozen=True)
class NotificationsArgs:
    region: str
    emails: tuple[str, ...] = ()
    protect: bool = True

    def __post_init__(self) -> None:
        for email in self.emails:
            if "@" not in email:
                raise ValueError(f"NotificationsArgs.emails: {email!r} is not an email address")


class Notifications(pulumi.ComponentResource):
    """One topic per region: alarms, replication events and the failover function all report here."""

    topic_arn: pulumi.Output[str]
    """ARN of the region's notification topic."""
    key_arn: pulumi.Output[str]
    """The customer key that encrypts the topic."""

    def __init__(self, name: str, args: NotificationsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("magento-dr:index:Notifications", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))

        # CloudWatch alarms and EventBridge publish to an encrypted topic only if
        # the key lets those services use it (the AWS-managed SNS key does not).
        key = aws.kms.Key(
            f"{name}-key",
            description=f"{name}: SNS topic encryption",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=caller.account_id.apply(
                lambda account: key_policy(
                    account,
                    [
                        service_use_statement("CloudWatchAlarms", "cloudwatch.amazonaws.com"),
                        service_use_statement("EventBridge", "events.amazonaws.com"),
                    ],
                )
            ),
            # A deleted key takes the topic's queued messages with it.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        topic = aws.sns.Topic(f"{name}-topic", kms_master_key_id=key.arn, opts=child)
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, caller.account_id).apply(lambda v: _topic_policy(v[0], v[1])),
            opts=child,
        )
        for i, email in enumerate(args.emails):
            aws.sns.TopicSubscription(f"{name}-email-{i}", topic=topic.arn, protocol="email", endpoint=email, opts=child)

        self.topic_arn = topic.arn
        self.key_arn = key.arn
        self.register_outputs({"topic_arn": self.topic_arn, "key_arn": self.key_arn})


def _topic_policy(topic_arn: str, account_id: str) -> str:
    """Only this account's CloudWatch alarms and EventBridge rules may publish, and only over TLS."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AlarmsAndRulesPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )
