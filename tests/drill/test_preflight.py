"""The pre-deploy check stops a first deploy that Lambda's concurrency rule would break half-way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drill.preflight import MIN_UNRESERVED_CONCURRENCY, concurrency_problem, main


def _settings(total: int, unreserved: int) -> dict[str, dict[str, int]]:
    return {"AccountLimit": {"ConcurrentExecutions": total, "UnreservedConcurrentExecutions": unreserved}}


@pytest.mark.parametrize(
    ("total", "unreserved", "already", "ok"),
    [
        (1000, 1000, 0, True),  # AWS's default quota
        (10, 10, 0, False),  # a new account's reduced quota (reported in the field, not documented)
        (50, 50, 0, False),
        (101, 101, 0, True),  # 100 left after the reservation: exactly enough
        (100, 100, 0, False),
        (1000, 100, 0, False),  # other functions already reserve 900
        (1000, 100, 1, True),  # a re-deploy keeps the reservation it has
    ],
)
def test_the_reservation_must_leave_a_hundred_unreserved(total: int, unreserved: int, already: int, ok: bool) -> None:
    problem = concurrency_problem(_settings(total, unreserved), already)
    assert (problem is None) is ok
    if problem:
        assert "Concurrent executions" in problem and f"at least {total + MIN_UNRESERVED_CONCURRENCY - (unreserved - 1 + already)}" in problem


def test_the_command_stops_before_pulumi_up_with_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "settings.json"
    saved.write_text(json.dumps(_settings(10, 10)))
    assert main(["--stack", "primary", "--account-settings", str(saved), "--already-reserved", "0"]) == 1
    err = capsys.readouterr().err
    assert "primary (us-east-1)" in err and "at least 101" in err
    saved.write_text(json.dumps(_settings(1000, 1000)))
    assert main(["--stack", "secondary", "--account-settings", str(saved), "--already-reserved", "0"]) == 0
    assert "eu-west-1" in capsys.readouterr().out
