"""The drill's outage-operations step judges each emergency update by the invariants the RUNBOOK promises.

Built from the session's primary graph (no extra program runs): the primary while eu-west-1 is dark.
The full step, with every change, runs in `make drill`.
"""

from __future__ import annotations

import dataclasses

import pytest

from drill.__main__ import main
from drill.outage_ops import CHANGES, INVARIANTS, EmergencyChange, OutageOperationsResult, findings, summary
from offline.outage import OutageRun, plan_update
from offline.runner import StackGraph

NO_CHANGE = EmergencyChange("primary", ("eu-west-1",), "nothing at all")


def _run(before: StackGraph, outage: StackGraph) -> OutageRun:
    plan = plan_update(before, outage, ["eu-west-1"])
    return OutageRun(before, outage, None, plan, [], zone_id_needed=False, after_return=[])


def _with_replica_key_policy(graph: StackGraph, policy: str) -> StackGraph:
    """The credentials replica's key in eu-west-1 (the primary declares it through the peer provider), altered."""
    name = "database-peer-eu-west-1-credentials-key"
    return dataclasses.replace(
        graph, resources=[dataclasses.replace(r, inputs={**r.inputs, "policy": policy}) if r.name == name else r for r in graph.resources]
    )


def test_an_update_that_changes_nothing_keeps_every_invariant(primary: StackGraph) -> None:
    found = findings(NO_CHANGE, _run(primary, primary))
    assert set(found) == set(INVARIANTS) and not any(found.values())


def test_a_changed_dark_region_resource_breaks_the_invariants_and_the_refusal_is_reported(primary: StackGraph) -> None:
    found = findings(NO_CHANGE, _run(primary, _with_replica_key_policy(primary, "{}")))
    assert found["dark-inputs-unchanged"] == ["aws:kms/key:Key database-peer-eu-west-1-credentials-key"]
    assert found["refused-when-it-must"] and "was refused" in found["refused-when-it-must"][0]


def test_a_change_that_must_be_refused_but_is_planned_fails_the_step(primary: StackGraph) -> None:
    must_refuse = dataclasses.replace(NO_CHANGE, refused=True)
    found = findings(must_refuse, _run(primary, primary))
    assert found["refused-when-it-must"] == ["nothing at all () was planned: 0 targets"]
    result = OutageOperationsResult([(must_refuse, _run(primary, primary), found)])
    assert not result.ok and "OUTAGE OPERATIONS FAILED" in summary(result)


def test_the_step_covers_every_stack_role_and_a_refusal() -> None:
    assert {c.stack for c in CHANGES} == {"primary", "secondary", "bunker"}
    assert {c.dark for c in CHANGES if c.stack == "primary"} == {("eu-west-1",)}
    assert any(c.refused for c in CHANGES) and any(c.replace for c in CHANGES)


@pytest.mark.parametrize("extra", [["--target", "aws"], ["--execute"]])
def test_outage_operations_run_offline_only(extra: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--outage-operations", *extra])
    assert exit_.value.code == 2 and "runs offline" in capsys.readouterr().err


def test_the_summary_names_every_invariant(primary: StackGraph) -> None:
    run = _run(primary, primary)
    text = summary(OutageOperationsResult([(NO_CHANGE, run, findings(NO_CHANGE, run))]))
    assert all(f"{name} ✔" in text for name in INVARIANTS) and "OUTAGE OPERATIONS PASSED" in text
