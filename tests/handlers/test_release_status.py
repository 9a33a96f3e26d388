"""The failover function reports both regions' Magento release versions (status and failover report)."""

from __future__ import annotations

import emulator
from tests.handlers.conftest import PRIMARY, SECONDARY, World

PARAMETER = "/magento-dr/release/shop.example.com/version"


def _publish(world: World, primary: str, secondary: str) -> None:
    for region, version in ((PRIMARY, primary), (SECONDARY, secondary)):
        world.client("ssm", region).put_parameter(Name=PARAMETER, Value=version, Type="String", Overwrite=True)


def test_status_shows_both_versions_and_whether_they_match(world: World) -> None:
    _publish(world, "v42", "v42")
    status = world.run({"action": "status"}, MDR_RELEASE_PARAMETER=PARAMETER)["status"]
    assert (status["release_version"], status["peer_release_version"], status["release_versions_match"]) == ("v42", "v42", True)
    _publish(world, "v43", "v42")
    status = world.run({"action": "status"}, MDR_RELEASE_PARAMETER=PARAMETER)["status"]
    assert status["release_versions_match"] is False


def test_a_lost_peer_leaves_the_match_unknown(world: World) -> None:
    _publish(world, "v42", "v42")
    emulator.set_dark(PRIMARY)
    status = world.run({"action": "status"}, MDR_RELEASE_PARAMETER=PARAMETER)["status"]
    assert (status["release_version"], status["peer_release_version"], status["release_versions_match"]) == ("v42", None, None)


def test_a_mismatch_never_blocks_the_failover_and_is_in_the_report(world: World) -> None:
    _publish(world, "v43", "v42")
    emulator.set_dark(PRIMARY)
    result = world.run({"action": "evaluate"}, MDR_RELEASE_PARAMETER=PARAMETER)
    assert result["action"] == "promote", result
    (message,) = world.messages()
    assert message["message"]["release"] == {"release_version": "v42", "peer_release_version": None, "release_versions_match": None}


def test_without_the_parameter_status_says_unknown(world: World) -> None:
    status = world.run({"action": "status"})["status"]
    assert status["release_version"] is None and status["release_versions_match"] is None
