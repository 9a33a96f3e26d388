"""The drill with Varnish (`python -m drill --full-page-cache varnish`): the failover's post-failover command,
as the function sent it and SSM holds it, empties every Varnish of the region; the check can fail."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from components.failover_automation import post_failover_command_lines
from components.varnish import BAN_ALL_AS_ROOT, BAN_ALL_COMMAND, SYNC_AS_ROOT, SYNC_COMMAND
from drill.__main__ import main
from drill.run import run_emulator_drill, stacks_topology
from drill.scenario import DrillOptions, full_page_cache_findings
from drill.topology import build_topology
from offline.runner import StackGraph

from ._common import FAST

# The session's varnish_pair (tests/conftest.py): under `make unit` its users share one worker.
pytestmark = pytest.mark.xdist_group("full_page_cache")

STEP = "post-failover command clears the full-page cache"
DOC = "magento-dr-secondary-post-failover"


@pytest.mark.parametrize(
    ("mode", "sent", "lines", "words"),
    [
        ("redis", DOC, post_failover_command_lines("redis"), []),
        ("varnish", DOC, post_failover_command_lines("varnish"), []),
        ("varnish", DOC, post_failover_command_lines("redis"), [SYNC_COMMAND, BAN_ALL_COMMAND]),  # the stack forgot Varnish
        ("varnish", DOC, post_failover_command_lines("varnish")[:-1], ["Varnish is not emptied last"]),
        ("varnish", DOC, ["set -euo pipefail", SYNC_AS_ROOT, BAN_ALL_AS_ROOT, "sudo -u nginx php bin/magento cache:flush"],
         ["not emptied last"]),  # pages rendered between the ban and the end of the command would survive
        ("redis", "", [], ["no post-failover command was sent"]),
        ("redis", "magento-dr-primary-post-failover", post_failover_command_lines("redis"), ["the stack's document is " + DOC]),
        ("redis", DOC, ["set -euo pipefail"], ["no bin/magento cache:flush"]),
    ],
)  # fmt: skip
def test_the_drill_holds_the_post_failover_command_to_the_regions_full_page_cache(mode: str, sent: str, lines: list[str], words: list[str]) -> None:
    findings = full_page_cache_findings(mode, DOC, sent, lines)
    assert bool(findings) == bool(words), findings
    for word in words:
        assert any(word in f for f in findings), (word, findings)


def test_the_varnish_option_is_for_the_emulator_only() -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--target", "aws", "--outputs-primary", "p.json", "--outputs-secondary", "s.json", "--full-page-cache", "varnish"])
    assert stopped.value.code == 2


def test_the_varnish_option_sets_the_full_page_cache_of_both_shop_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    import offline.runner

    asked: dict[str, object] = {}

    def run_pair(**overrides: object) -> None:
        asked.update(overrides)
        raise RuntimeError("stop here")

    monkeypatch.setattr(offline.runner, "run_pair", run_pair)
    with pytest.raises(RuntimeError, match="stop here"):
        stacks_topology(database_standby=False, full_page_cache="varnish")
    for stack in ("primary", "secondary"):
        web = asked[f"{stack}_overrides"]["magento-dr:web"]  # type: ignore[index]
        assert web["fullPageCache"] == "varnish" and web["instanceType"] == "m7g.large"  # the rest of the stack's web section kept


def test_a_failover_of_varnish_stacks_empties_every_varnish_of_the_new_region(varnish_pair: dict[str, StackGraph], tmp_path: Path) -> None:
    # What `python -m drill --full-page-cache varnish` runs (without the database standby: quicker).
    topology = build_topology(varnish_pair["primary"], varnish_pair["secondary"])
    assert {r.full_page_cache for r in topology.regions} == {"varnish"}
    out = io.StringIO()
    # Only the outage matters here (the writer-vote check of the steady phase has its own tests): a short steady phase.
    quick = {**FAST, "stop_after_outage": True, "steady_periods": 1, "late_writer_datapoint": False}
    run = run_emulator_drill(DrillOptions(scenario="full", **quick), tmp_path, out, topology)  # type: ignore[arg-type]
    assert run.result.ok, out.getvalue()[-3000:]
    (step,) = [s for s in run.result.steps if s.name.startswith(STEP)]
    assert step.ok and step.phase == "outage" and step.name.endswith("(varnish)")
    assert "every Varnish of eu-west-1 emptied" in step.detail
    report = json.loads(run.json_path.read_text())
    assert report["topology"]["regions"]["eu-west-1"]["full_page_cache"] == "varnish"
