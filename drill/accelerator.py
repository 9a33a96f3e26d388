"""A pure model of where Global Accelerator sends shoppers, beside drill/traffic.py's model of Route 53.

Built from what the stacks declare (the endpoint groups, each region's writer gate target group;
`accelerator_topology`) and AWS's documented routing, with every undocumented answer a parameter:

* **The writer gate** (one Lambda target, ELB health checks): a check every `interval` seconds
  passes iff the gate's verdict (handlers/writer_gate.evaluate on what its own region's, and while
  that names it the writer the peer region's, APIs say) is open; the target turns healthy after `healthy_threshold` passes in a row and unhealthy after
  `unhealthy_threshold` failures. A dark region runs no checks; when it returns its target starts
  over as `initial` (unhealthy until it passes) — ELB: "Before a target can receive requests from
  the load balancer, it must pass the initial health checks" — or, with `elb_state_after_outage=
  "kept"` (the other answer AWS leaves open, G5), resumes from the state it had.
* **An ALB endpoint** is healthy iff its region is not dark and each target group behind it has a
  healthy target: the web group (the liveness file; healthy while the region runs) and the gate,
  unless `gate_counted=False` plays the answer in which the accelerator ignores a group only a
  listener rule uses (G2).
* **The accelerator's view** of each endpoint is refreshed every `reaction_seconds` (AWS: "up to
  30 seconds"; 0 plays an instant reaction, G4); a dark region's ALB is seen unhealthy at the next
  refresh (G3).
* **Routing** of a population of shoppers nearest some region ("closest" below): regular traffic
  goes to the closest endpoint group whose traffic dial is above zero; if its endpoint is not
  healthy, to the closest healthy group whatever its dial ("for this failover, Global Accelerator
  ignores the traffic dial setting"); with no healthy group, to the group closest to the client
  ("it fails open"). (about-endpoints-endpoint-weights.unhealthy-endpoints.html)

The drill's shoppers are one population per region, nearest that region (e.g. North American
shoppers nearest us-east-1, European ones nearest eu-west-1); "closest" ranks the populations' own
region first, then the others in the topology's order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ELB_STATES_AFTER_OUTAGE = ("initial", "kept")

T_ACCELERATOR = "aws:globalaccelerator/accelerator:Accelerator"
T_LISTENER = "aws:globalaccelerator/listener:Listener"
T_ENDPOINT_GROUP = "aws:globalaccelerator/endpointGroup:EndpointGroup"
T_TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
T_LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"


class AcceleratorTopologyError(ValueError):
    """The stacks declare the accelerator in a way the drill cannot play; the message names what."""


@dataclass(frozen=True)
class GateSpec:
    """The writer gate's target group health check, as the stack declares it."""

    interval_seconds: int
    healthy_threshold: int
    unhealthy_threshold: int
    timeout_seconds: int


@dataclass(frozen=True)
class EndpointSpec:
    """One region's endpoint group: its ALB, dial, weight, and the gate in front of it."""

    region: str
    alb_arn: str
    traffic_dial: float
    weight: int
    client_ip_preservation: bool
    gate: GateSpec


@dataclass(frozen=True)
class AcceleratorTopology:
    dns_name: str
    listener_arn: str
    ports: tuple[int, ...]
    endpoints: tuple[EndpointSpec, ...]
    reaction_seconds: float
    """The stacks' budget term for the accelerator's own reaction (rtoBudget, `accelerator`)."""

    def endpoint(self, region: str) -> EndpointSpec:
        return next(e for e in self.endpoints if e.region == region)

    def summary(self) -> dict[str, Any]:
        return {
            "dns_name": self.dns_name,
            "ports": list(self.ports),
            "reaction_seconds": self.reaction_seconds,
            "endpoints": {
                e.region: {"traffic_dial": e.traffic_dial, "weight": e.weight, "client_ip_preservation": e.client_ip_preservation, "gate": e.gate.__dict__}
                for e in self.endpoints
            },
        }


def _value(resource: Any, key: str) -> Any:
    return resource.inputs[key] if key in resource.inputs else resource.outputs.get(key)


def accelerator_topology(primary: Any, secondary: Any, reaction_seconds: float) -> AcceleratorTopology | None:
    """The accelerator both stacks declare (None when the primary has none), checked for what the drill relies on."""
    accelerators = primary.of_type(T_ACCELERATOR)
    if not accelerators:
        if secondary.of_type(T_ENDPOINT_GROUP):
            raise AcceleratorTopologyError(f"stack {secondary.stack} declares an endpoint group but {primary.stack} no accelerator")
        return None
    (accelerator,) = accelerators
    (listener,) = primary.of_type(T_LISTENER)
    listener_arn = str(_value(listener, "arn"))
    endpoints = []
    for graph in (primary, secondary):
        groups = graph.of_type(T_ENDPOINT_GROUP)
        if len(groups) != 1:
            raise AcceleratorTopologyError(
                f"stack {graph.stack} declares {len(groups)} endpoint groups; the drill plays the accelerator with both shop stacks joined "
                "(failover.globalAccelerator true in each)"
            )
        group = groups[0]
        region = str(graph.exports["region"])
        if group.inputs.get("endpointGroupRegion") != region:
            raise AcceleratorTopologyError(f"stack {graph.stack}: its endpoint group names region {group.inputs.get('endpointGroupRegion')!r}, not {region}")
        if group.inputs.get("listenerArn") != listener_arn:
            raise AcceleratorTopologyError(f"stack {graph.stack}: its endpoint group joins {group.inputs.get('listenerArn')!r}, not the primary's listener")
        (endpoint,) = group.inputs.get("endpointConfigurations") or [{}]
        gates = [t for t in graph.of_type(T_TARGET_GROUP) if t.inputs.get("targetType") == "lambda"]
        if len(gates) != 1:
            raise AcceleratorTopologyError(f"stack {graph.stack}: expected one writer gate (lambda target group), found {len(gates)}")
        check = gates[0].inputs.get("healthCheck") or {}
        if not check.get("enabled"):
            raise AcceleratorTopologyError(f"stack {graph.stack}: the writer gate's health check is not enabled (off by default for Lambda targets)")
        endpoints.append(
            EndpointSpec(
                region=region,
                alb_arn=str(endpoint.get("endpointId", "")),
                traffic_dial=float(group.inputs.get("trafficDialPercentage", 100.0)),
                weight=int(float(endpoint.get("weight", 0))),
                client_ip_preservation=bool(endpoint.get("clientIpPreservationEnabled")),
                gate=GateSpec(
                    interval_seconds=int(check["interval"]),
                    healthy_threshold=int(check["healthyThreshold"]),
                    unhealthy_threshold=int(check["unhealthyThreshold"]),
                    timeout_seconds=int(check.get("timeout", 0)),
                ),
            )
        )
    return AcceleratorTopology(
        dns_name=str(_value(accelerator, "dnsName")),
        listener_arn=listener_arn,
        ports=tuple(sorted(int(r["fromPort"]) for r in listener.inputs.get("portRanges") or [])),
        endpoints=tuple(endpoints),
        reaction_seconds=reaction_seconds,
    )


def populations(regions: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """One population of shoppers per region, nearest it: name -> endpoint groups from closest to farthest."""
    return {f"nearest {r}": (r, *[o for o in regions if o != r]) for r in regions}


@dataclass
class GateState:
    """ELB's health of the gate's one target."""

    spec: GateSpec
    healthy: bool
    streak: int = 0  # consecutive results disagreeing with `healthy`
    next_check_at: float = 0.0
    verdict: bool = False  # what the gate function answers, and since when
    verdict_since: float = 0.0

    def observe(self, passed: bool) -> None:
        if passed == self.healthy:
            self.streak = 0
            return
        self.streak += 1
        if self.streak >= (self.spec.healthy_threshold if passed else self.spec.unhealthy_threshold):
            self.healthy, self.streak = passed, 0


@dataclass
class AcceleratorModel:
    """Advance with `step(now, dark, gate_open)`; `answers` maps each population to the region it reaches."""

    topology: AcceleratorTopology
    started_at: float
    initially_open: Mapping[str, bool]
    reaction_seconds: float | None = None
    gate_counted: bool = True
    elb_state_after_outage: str = "initial"
    gates: dict[str, GateState] = field(default_factory=dict)
    view: dict[str, bool] = field(default_factory=dict)
    next_refresh_at: float = 0.0
    was_dark: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.elb_state_after_outage not in ELB_STATES_AFTER_OUTAGE:
            raise ValueError(f"elb_state_after_outage {self.elb_state_after_outage!r}: one of {ELB_STATES_AFTER_OUTAGE}")
        if self.reaction_seconds is None:
            self.reaction_seconds = self.topology.reaction_seconds
        for e in self.topology.endpoints:
            if e.traffic_dial not in (0.0, 100.0):
                raise ValueError(f"{e.region}: traffic dial {e.traffic_dial:g}; the model plays 0 or 100 only")
            is_open = bool(self.initially_open.get(e.region))
            self.gates[e.region] = GateState(e.gate, healthy=is_open, next_check_at=self.started_at, verdict=is_open, verdict_since=self.started_at)
        self.view = {e.region: self.endpoint_healthy(e.region, set()) for e in self.topology.endpoints}
        self.next_refresh_at = self.started_at + float(self.reaction_seconds)
        self.population_order = populations([e.region for e in self.topology.endpoints])

    def endpoint_healthy(self, region: str, dark: set[str]) -> bool:
        """The ALB as the accelerator judges it: reachable, the web group healthy, and the gate (if counted)."""
        if region in dark:
            return False
        return self.gates[region].healthy or not self.gate_counted

    def step(self, now: float, dark: set[str], gate_open: Mapping[str, bool]) -> None:
        """Run every gate check and accelerator refresh due up to `now` (the gates' verdicts as of `now`)."""
        for region, gate in self.gates.items():
            if region in dark:  # no check reaches a dark region's ALB
                self.was_dark.add(region)
                continue
            if region in self.was_dark:  # back: the checks resume now
                self.was_dark.discard(region)
                gate.next_check_at = now
                if self.elb_state_after_outage == "initial":
                    gate.healthy, gate.streak = False, 0
            # A verdict that changed since the last step counts from now on: the checks due before now saw
            # the old one (the change is known only when observed; never earlier than reality).
            verdict = bool(gate_open.get(region))
            before = gate.verdict
            if verdict != gate.verdict:
                gate.verdict, gate.verdict_since = verdict, now
            while gate.next_check_at <= now:
                gate.observe(verdict if gate.next_check_at >= gate.verdict_since else before)
                gate.next_check_at += gate.spec.interval_seconds
        reaction = float(self.reaction_seconds or 0.0)
        if reaction <= 0:
            self.view = {r: self.endpoint_healthy(r, dark) for r in self.gates}
            return
        if now >= self.next_refresh_at:
            self.view = {r: self.endpoint_healthy(r, dark) for r in self.gates}
            self.next_refresh_at += reaction * math.floor((now - self.next_refresh_at) / reaction + 1)

    def route(self, closest_first: Sequence[str]) -> str:
        """Where the accelerator sends new connections of shoppers whose closest groups are `closest_first`."""
        dials = {e.region: e.traffic_dial for e in self.topology.endpoints}
        weights = {e.region: e.weight for e in self.topology.endpoints}
        eligible = {r for r in closest_first if self.view.get(r) and weights.get(r, 0) > 0}
        original = next((r for r in closest_first if dials.get(r, 0) > 0), closest_first[0])
        if original in eligible:
            return original
        for region in closest_first[:3]:  # "after trying the three closest endpoint groups"
            if region in eligible:
                return region
        return closest_first[0]  # fails open to the closest group

    @property
    def answers(self) -> dict[str, str]:
        return {name: self.route(order) for name, order in self.population_order.items()}

    def health(self) -> dict[str, dict[str, object]]:
        return {r: {"gate_target": "healthy" if g.healthy else "unhealthy", "accelerator_sees": self.view.get(r)} for r, g in self.gates.items()}


def grace_seconds(topology: AcceleratorTopology, reaction_seconds: float | None = None) -> tuple[float, str]:
    """How long the accelerator may take to follow a change: the gate's threshold x interval, then its refresh."""
    reaction = topology.reaction_seconds if reaction_seconds is None else reaction_seconds
    gate = max((e.gate for e in topology.endpoints), key=lambda g: max(g.healthy_threshold, g.unhealthy_threshold) * g.interval_seconds)
    checks = max(gate.healthy_threshold, gate.unhealthy_threshold) * gate.interval_seconds
    g = checks + reaction
    why = (
        f"gate {max(gate.healthy_threshold, gate.unhealthy_threshold)}x{gate.interval_seconds}s + accelerator {reaction:g}s = {g:g}s "
        "after the writer moved (or began to) or a region went dark/came back"
    )
    return float(g), why
