"""SQS: how many messages each queue was ever sent (by SendMessage, or by SNS delivering to a subscribed queue).

An observer that drains a queue (the drill's inbox on each topic) reads it only when something was sent since it
last emptied it: a ReceiveMessage then could find nothing. The messages themselves are moto's, unchanged.
"""

from __future__ import annotations

from typing import Any

from moto.sqs.models import SQSBackend

from .state import STATE


def install_sqs() -> None:
    if getattr(SQSBackend, "_mdr_installed", False):
        return
    send, send_batch = SQSBackend.send_message, SQSBackend.send_message_batch

    def send_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        message = send(self, queue_name, *args, **kwargs)
        STATE.tally(STATE.queue_sends, (self.region_name, queue_name))
        return message

    def send_message_batch(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        sent, failed = send_batch(self, queue_name, *args, **kwargs)
        STATE.tally(STATE.queue_sends, (self.region_name, queue_name), len(sent))
        return sent, failed

    SQSBackend.send_message = send_message  # type: ignore[method-assign]
    SQSBackend.send_message_batch = send_message_batch  # type: ignore[method-assign]
    SQSBackend._mdr_installed = True  # type: ignore[attr-defined]


def sends(region: str, queue_name: str) -> int:
    """How many messages were sent to the queue since the emulator's last reset."""
    return STATE.queue_sends.get((region, queue_name), 0)
