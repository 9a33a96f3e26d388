"""The failover in a region that runs Varnish (magento-dr:web.fullPageCache: varnish): the function runs the
stack's own post-failover document, which empties every Varnish of the region, once the writer and the cache
are this region's; a ban that did not reach every Varnish fails the step, is reported and is retried."""

from __future__ import annotations

import json
from typing import Any

import pytest

import emulator
from components.failover_automation import post_failover_document
from components.varnish import BAN_ALL_AS_ROOT, SYNC_AS_ROOT
from handlers.aws import AwsAdapter

from .conftest import PRIMARY, SCHEDULED, World

DOCUMENT = "magento-dr-secondary-post-failover"


def _varnish_region(world: World) -> None:
    """This region's document as the Varnish stack declares it (components/failover_automation.py)."""
    world.client("ssm").create_document(
        Name=DOCUMENT, DocumentType="Command", DocumentFormat="JSON", Content=json.dumps(post_failover_document("varnish"))
    )


def _sent(world: World) -> list[dict[str, Any]]:
    return [c for c in world.client("ssm").list_commands()["Commands"] if c["DocumentName"] == DOCUMENT]


def test_the_failover_empties_every_varnish_once_the_writer_and_the_cache_are_here(world: World) -> None:
    _varnish_region(world)
    emulator.set_dark(PRIMARY)
    result = world.run(SCHEDULED, MDR_RUN_COMMAND_DOCUMENT=DOCUMENT)
    assert result["ok"] and result["operation"]["status"] == "complete", result
    steps = [e["step"] for e in result["operation"]["timeline"]]
    # Fresh pages need the promoted writer, and Magento's cache:flush a writable cache (the datastore's primary).
    assert steps.index("writer-promoted") < steps.index("cache_failover") < steps.index("run_commands")
    (command,) = _sent(world)
    op = result["operation"]
    assert command["CommandId"] == op["command_id"]
    instance_id = op["instance_id"]  # (moto lists every instance of the region under InstanceIds)
    (reservation,) = world.client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"]
    instance = reservation["Instances"][0]
    assert instance["State"]["Name"] == "running"
    assert {t["Key"]: t["Value"] for t in instance["Tags"]}["aws:autoscaling:groupName"] == "web-secondary"
    # What that instance runs, as SSM holds it: the purge list refreshed first, every Varnish emptied last.
    (step,) = json.loads(world.client("ssm").get_document(Name=DOCUMENT)["Content"])["mainSteps"]
    lines = step["inputs"]["runCommand"]
    assert lines[1] == SYNC_AS_ROOT and lines[-1] == BAN_ALL_AS_ROOT
    assert lines.index("sudo -u nginx php bin/magento cache:flush") < lines.index(BAN_ALL_AS_ROOT)
    body = world.messages()[0]["message"]
    assert body["failed_steps"] == [] and DOCUMENT in next(e["detail"] for e in body["timeline"] if e["step"] == "run_commands")


def test_a_ban_that_missed_a_varnish_is_reported_and_sent_again(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """magento-dr-varnish-ban-all exits 1 when a Varnish that answers did not confirm: the command fails."""
    _varnish_region(world)
    statuses = iter(["Failed"])
    real = AwsAdapter.command_status

    def first_run_fails(self: AwsAdapter, command_id: str, instance_id: str) -> str:
        return next(statuses, None) or real(self, command_id, instance_id)

    monkeypatch.setattr(AwsAdapter, "command_status", first_run_fails)
    emulator.set_dark(PRIMARY)
    first = world.run(SCHEDULED, MDR_RUN_COMMAND_DOCUMENT=DOCUMENT)
    assert not first["ok"] and "run_commands (StepFailed: run command Failed)" in first["error"]
    (failed,) = world.messages()[0]["message"]["failed_steps"]
    assert failed["step"] == "run_commands" and f"--document-name {DOCUMENT}" in failed["run_this"]
    second = world.run(SCHEDULED, MDR_RUN_COMMAND_DOCUMENT=DOCUMENT)
    assert second["ok"] and second["operation"]["status"] == "complete", second
    assert len(_sent(world)) == 2  # a fresh command: the ban runs again on every Varnish
