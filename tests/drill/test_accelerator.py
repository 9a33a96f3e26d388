"""The accelerator front door in the drill: the pure model (drill/accelerator.py) and one whole drill through it."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from drill.accelerator import AcceleratorModel, AcceleratorTopology, EndpointSpec, GateSpec, grace_seconds, populations
from drill.report import DRILL_REPORT_SCHEMA
from drill.run import DrillRun, run_emulator_drill
from drill.scenario import DrillOptions
from drill.topology import build_topology
from offline.runner import StackGraph, run_stack

from ._common import FAST

# With the other modules that run the accelerated pair (tests/conftest.py `accelerated`): one worker builds it once.
pytestmark = pytest.mark.xdist_group("accelerated")

NA, EU = "us-east-1", "eu-west-1"
GATE = GateSpec(interval_seconds=5, healthy_threshold=2, unhealthy_threshold=2, timeout_seconds=4)
TOPOLOGY = AcceleratorTopology(
    dns_name="a1.awsglobalaccelerator.com",
    listener_arn="arn:aws:globalaccelerator::123456789012:accelerator/a/listener/l",
    ports=(80, 443),
    endpoints=(EndpointSpec(NA, "arn:na", 100.0, 128, True, GATE), EndpointSpec(EU, "arn:eu", 0.0, 128, True, GATE)),
    reaction_seconds=30.0,
)
EVERYONE_NA = {"nearest us-east-1": NA, "nearest eu-west-1": NA}
EVERYONE_EU = {"nearest us-east-1": EU, "nearest eu-west-1": EU}
CLOSEST = {"nearest us-east-1": NA, "nearest eu-west-1": EU}


def _model(**kwargs: object) -> AcceleratorModel:
    return AcceleratorModel(TOPOLOGY, 0.0, initially_open={NA: True, EU: False}, **kwargs)  # type: ignore[arg-type]


def _run(model: AcceleratorModel, start: float, end: float, dark: set[str], gates: dict[str, bool]) -> list[tuple[float, dict[str, str]]]:
    """Step once a second; return every change of the answers with its time."""
    changes, last, t = [], model.answers, start
    while t <= end:
        model.step(t, dark, gates)
        if model.answers != last:
            last = model.answers
            changes.append((t, dict(last)))
        t += 1.0
    return changes


def test_populations_rank_their_own_region_first() -> None:
    assert populations([NA, EU]) == {"nearest us-east-1": (NA, EU), "nearest eu-west-1": (EU, NA)}


def test_the_standby_gets_no_one_while_the_primary_holds_the_writer() -> None:
    model = _model()
    assert model.answers == EVERYONE_NA  # European shoppers too: the standby's gate is closed and its dial is 0
    assert _run(model, 0, 600, set(), {NA: True, EU: False}) == []


def test_both_gates_open_during_a_switchover_the_dial_breaks_the_tie() -> None:
    model = _model(reaction_seconds=0.0)
    _run(model, 0, 20, set(), {NA: True, EU: True})
    assert model.health()[EU]["accelerator_sees"] and model.answers == EVERYONE_NA


@pytest.mark.parametrize(("reaction", "latest"), [(30.0, 40.0), (0.0, 10.0)])
def test_a_dark_primary_fails_open_then_everyone_follows_the_promotion(reaction: float, latest: float) -> None:
    model = _model(reaction_seconds=reaction)
    _run(model, 0, 29, set(), {NA: True, EU: False})
    # The primary goes dark at 30 s, the secondary's gate still closed: nobody is healthy, each population
    # goes to the group closest to it (fail-open). North Americans reach the dead region; nothing better exists.
    changes = _run(model, 30, 119, {NA}, {NA: False, EU: False})
    assert changes and changes[0][1] == CLOSEST and changes[0][0] <= 30 + reaction
    # Aurora names the secondary's cluster at 120 s: its gate opens, and everyone moves within the budgeted path.
    moved = _run(model, 120, 300, {NA}, {NA: False, EU: True})
    assert moved[-1][1] == EVERYONE_EU and moved[-1][0] - 120 <= latest
    assert grace_seconds(TOPOLOGY, reaction)[0] == latest


def test_a_recovered_old_primary_stays_out_until_it_is_the_writer_again() -> None:
    model = _model()
    _run(model, 0, 30, {NA}, {NA: False, EU: True})
    _run(model, 31, 200, {NA}, {NA: False, EU: True})
    assert model.answers == EVERYONE_EU
    # The region answers again; its gate says no (the writer is in the secondary): no flap back.
    assert _run(model, 201, 900, set(), {NA: False, EU: True}) == []
    # A planned failback: the switchover names the primary's cluster, its gate opens, the dial brings everyone home.
    home = _run(model, 901, 1000, set(), {NA: True, EU: True})
    assert home[-1][1] == EVERYONE_NA and home[-1][0] - 901 <= 40


def test_if_the_alb_kept_the_gates_last_health_through_an_outage_a_flap_lasts_one_refresh_at_most() -> None:
    """G5: should ELB resume from the state it had before the region went dark, the old primary's gate is
    healthy until two checks fail (10 s); a refresh in that window sends shoppers back for one refresh period."""
    model = _model(elb_state_after_outage="kept")
    _run(model, 0, 200, {NA}, {NA: False, EU: True})  # dark while it was the writer: its gate stays "healthy"
    assert model.answers == EVERYONE_EU
    back = _run(model, 210, 400, set(), {NA: False, EU: True})  # a refresh at 210 s lands in the window
    on_primary = [t for t, a in back if NA in a.values()]
    assert on_primary, back
    off = next(t for t, a in back if t > on_primary[0] and NA not in a.values())
    assert off - on_primary[0] <= TOPOLOGY.reaction_seconds
    # The default answer (the target starts over, initial) has no such window.
    model = _model()
    _run(model, 0, 200, {NA}, {NA: False, EU: True})
    assert _run(model, 210, 400, set(), {NA: False, EU: True}) == []


def test_if_the_accelerator_ignored_the_gate_the_dial_holds_the_steady_state_but_the_old_primary_flaps_back() -> None:
    """G2, the other answer: only the web target group counts. Exactly what breaks, and what does not."""
    model = _model(gate_counted=False)
    assert _run(model, 0, 300, set(), {NA: True, EU: False}) == [] and model.answers == EVERYONE_NA  # dial 0 keeps the standby out
    _run(model, 301, 600, {NA}, {NA: False, EU: False})
    assert model.answers == EVERYONE_EU  # the dark primary's ALB fails; failover ignores the dial: traffic moves at once
    back = _run(model, 601, 700, set(), {NA: False, EU: True})
    assert back and back[-1][1] == EVERYONE_NA  # the recovered old primary takes everyone back: no-flap-back is broken


# ---------------------------------------------------------------- from the stacks, and one whole drill
def test_the_drills_accelerator_is_what_the_stacks_declare(accelerated: tuple[StackGraph, StackGraph]) -> None:
    topology = build_topology(*accelerated)
    assert topology.accelerator is not None
    acc = topology.accelerator
    assert acc.dns_name == accelerated[0].exports["acceleratorDnsName"] and acc.ports == (80, 443)
    assert [(e.region, e.traffic_dial, e.weight, e.client_ip_preservation) for e in acc.endpoints] == [(NA, 100.0, 128, True), (EU, 0.0, 128, True)]
    assert all(e.gate == GATE for e in acc.endpoints) and acc.reaction_seconds == 30.0
    # The failover function is found by its exported name beside the gate function.
    assert topology.secondary.function_name == accelerated[1].exports["failoverFunctionName"]


def test_a_primary_with_an_accelerator_the_secondary_has_not_joined_plays_route53(accelerated: tuple[StackGraph, StackGraph], secondary: StackGraph) -> None:
    topology = build_topology(accelerated[0], run_stack("secondary", peer_exports=accelerated[0].exports))
    assert topology.accelerator is None and any("not joined it yet" in n for n in topology.notes)
    assert build_topology(accelerated[0], secondary).accelerator is None


@pytest.fixture(scope="module")
def through_accelerator(accelerated: tuple[StackGraph, StackGraph], tmp_path_factory: pytest.TempPathFactory) -> tuple[DrillRun, str]:
    out = io.StringIO()
    options = DrillOptions(scenario="full", front_door="accelerator", **FAST)  # type: ignore[arg-type]
    run = run_emulator_drill(options, tmp_path_factory.mktemp("reports"), out, build_topology(*accelerated))
    return run, out.getvalue()


def test_the_drill_through_the_accelerator_passes_with_every_invariant(through_accelerator: tuple[DrillRun, str]) -> None:
    run, text = through_accelerator
    assert [s.name for s in run.result.steps if not s.ok] == [], text[-3000:]
    assert all(i.ok for i in run.result.invariants), [(i.name, i.violations) for i in run.result.invariants if not i.ok]
    assert {i.name for i in run.result.invariants} >= {"traffic-follows-writer", "no-flap-back", "writer-vote-steady"}
    assert run.result.front_door == "accelerator" and run.result.traffic_grace_seconds == 40.0


def test_the_accelerator_moves_shoppers_within_its_budget_and_route53_is_measured_beside_it(through_accelerator: tuple[DrillRun, str]) -> None:
    run, text = through_accelerator
    m = run.result.measurements["failover"]
    budget = run.result.topology.secondary.rto_budget
    after_request = m["accelerator_after_request_seconds"]
    # The drill sees Aurora's FailoverState at its next tick (5 s); the gate function itself asks at every check.
    assert after_request is not None and 0 < after_request <= budget["traffic_seconds"] + DrillOptions().tick_seconds
    assert budget["traffic_seconds"] == 40
    assert m["accelerator_shift_seconds"] is not None and m["decision_seconds"] is not None
    assert m["accelerator_shift_seconds"] > m["decision_seconds"]  # the gate waits for the writer to begin to move
    assert m["traffic_shift_seconds"] is not None  # Route 53's own decision, beside
    assert m["total_seconds"] == max(m["accelerator_shift_seconds"], m["promotion_seconds"])  # type: ignore[type-var]
    assert run.result.measurements["failback"]["accelerator_shift_seconds"] is not None
    assert "accelerator (dark → every shopper on the secondary)" in text and "Route 53 path, beside" in text
    report = json.loads(run.json_path.read_text())
    jsonschema.validate(report, DRILL_REPORT_SCHEMA)
    assert report["front_door"] == "accelerator" and report["topology"]["accelerator"]["endpoints"][EU]["traffic_dial"] == 0.0
    assert any(e["source"] == "accelerator" for e in report["timeline"])
    labels = [t.text for t in ET.fromstring(Path(run.svg_path).read_text()).iter() if t.tag.endswith("text") and t.text]  # noqa: S314
    assert f"accelerator: all shoppers to {EU}" in labels and f"DNS answers {EU}" in labels


def test_a_returning_old_primary_whose_api_still_names_it_the_writer_keeps_its_gate_closed(
    accelerated: tuple[StackGraph, StackGraph], tmp_path: Path
) -> None:
    """stale-writer-view: for 120 s after its return us-east-1's own API names its cluster the writer. Its gate asks
    eu-west-1, which names its own cluster and was activated since: closed, and no shopper reaches us-east-1 (before the
    gate asked the peer, every shopper did, for the whole 120 s: the dial is 100 there)."""
    out = io.StringIO()
    options = DrillOptions(scenario="full", front_door="accelerator", variant="stale-writer-view", **FAST)  # type: ignore[arg-type]
    run = run_emulator_drill(options, tmp_path, out, build_topology(*accelerated))
    text = out.getvalue()
    assert run.result.ok, text[-4000:]
    assert all(i.ok for i in run.result.invariants), [(i.name, i.violations) for i in run.result.invariants if not i.ok]
    recovery = text[text.index("── phase: recovery ──") : text.index("── phase: failback ──")]
    assert f"{NA}  accelerator writer gate closed: stale view: {EU}'s RDS API names" in recovery
    assert f"{NA}  accelerator writer gate open" not in recovery


# ---------------------------------------------------------------- TARGET=aws: does the accelerator honour the gate?
class _Stub:
    """Global Accelerator's DescribeEndpointGroup and ELB's DescribeTargetHealth, as a real account would answer."""

    def __init__(self, groups: dict[str, tuple[str, float]], healthy: dict[str, bool]) -> None:
        self.groups, self.healthy = groups, healthy

    def describe_endpoint_group(self, EndpointGroupArn: str) -> dict[str, object]:  # noqa: N803 - boto3's keyword
        state, dial = self.groups[EndpointGroupArn]
        return {"EndpointGroup": {"EndpointDescriptions": [{"HealthState": state}], "TrafficDialPercentage": dial}}

    def describe_target_health(self, TargetGroupArn: str) -> dict[str, object]:  # noqa: N803
        return {"TargetHealthDescriptions": [{"TargetHealth": {"State": "healthy" if self.healthy[TargetGroupArn] else "unhealthy"}}]}


def _outputs(region: str, stack: str) -> dict[str, object]:
    return {
        "region": region,
        "globalAccelerator": True,
        "acceleratorEndpointGroupArn": f"eg-{stack}",
        "writerGateTargetGroupArn": f"gate-{stack}",
        "albArn": f"arn:aws:elasticloadbalancing:{region}:123456789012:loadbalancer/app/{stack}-web/0123456789abcdef",
        "targetGroupArnSuffix": f"targetgroup/{stack}-web/fedcba9876543210",
    }


def _checks(standby_state: str, standby_gate: bool, standby_web: bool = True, *, joined: bool = True) -> list[object]:
    from drill.accelerator_readiness import accelerator_checks
    from drill.readiness import Check

    p, s = _outputs(NA, "primary"), _outputs(EU, "secondary")
    if not joined:
        s["globalAccelerator"] = False
    web = {f"arn:aws:elasticloadbalancing:{o['region']}:123456789012:{o['targetGroupArnSuffix']}": True for o in (p, s)}
    web[f"arn:aws:elasticloadbalancing:{EU}:123456789012:targetgroup/secondary-web/fedcba9876543210"] = standby_web
    stub = _Stub({"eg-primary": ("HEALTHY", 100.0), "eg-secondary": (standby_state, 0.0)}, {"gate-primary": True, "gate-secondary": standby_gate, **web})
    return accelerator_checks(p, s, NA, lambda service, region: stub, Check)


def test_readiness_passes_when_the_standby_is_unhealthy_for_the_accelerator_only_because_of_its_gate() -> None:
    checks = _checks("UNHEALTHY", standby_gate=False)
    assert [c.ok for c in checks] == [True, True] and not any(c.warning for c in checks)  # type: ignore[attr-defined]


def test_readiness_fails_when_the_accelerator_ignores_the_gate() -> None:
    (_, standby) = _checks("HEALTHY", standby_gate=False)
    assert not standby.ok and "does not count the writer gate" in standby.detail  # type: ignore[attr-defined]


def test_readiness_cannot_tell_without_a_healthy_web_target_and_says_so() -> None:
    (_, standby) = _checks("UNHEALTHY", standby_gate=False, standby_web=False)
    assert standby.ok and standby.warning and "cannot tell" in standby.detail  # type: ignore[attr-defined]


def test_readiness_fails_while_only_the_primary_has_joined() -> None:
    (check,) = _checks("UNHEALTHY", standby_gate=False, joined=False)
    assert not check.ok and "has not joined" in check.detail  # type: ignore[attr-defined]
