"""The drill itself: steady state → primary dark → automatic failover → primary back → planned failback.

Driven by the emulator clock. Each region's failover function is invoked with
the EventBridge Scheduler event its schedule delivers, every schedule period,
while its region is not dark; a function that sleeps (probe pauses, promotion
polls) advances emulator time through `DrillClock`, and the drill uses those
moments to run Route 53's health checks, publish Aurora's replication lag, fire
the other region's schedule and check the invariants — so nothing waits in real
time except the optional `--speed` pacing.

A database standby (a further Aurora member with no function, scope: database)
is watched on every tick: it must never be promoted, never leave the global
cluster, never be called by a failover function, and end as a connected reader.

With `front_door="accelerator"` (both stacks with `failover.globalAccelerator`) the
invariants hold the accelerator's routing (drill/accelerator.py) to the writer, and
Route 53's answers are modelled and reported beside it.
"""

from __future__ import annotations

import json
import math
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

import emulator
from components import varnish
from components.failover_automation import MAX_EVENT_AGE_SECONDS
from emulator import cloudwatch as emulator_cloudwatch
from emulator import ssm as emulator_ssm
from handlers import failover, readiness_runner, runner
from handlers.readiness import LAG_WINDOW_SECONDS
from handlers.writer_gate import GateClients
from handlers.writer_gate import Verdict as GateVerdict
from handlers.writer_gate import evaluate as gate_evaluate

from .accelerator import AcceleratorModel
from .accelerator import grace_seconds as accelerator_grace_seconds
from .topology import RegionTopology, StandbyTopology, Topology, budget_term, scheduler_event
from .traffic import TrafficModel, grace_seconds
from .variants import VARIANTS, Variant
from .world import World, read_inbox

POST_STEPS = ("cache_failover", "scale_asg", "activate_region", "run_commands", "notify")
READINESS_OWNER = " readiness"  # the API-call ledger's owner suffix for a stack's readiness function
LAG_METRICS = ("AuroraGlobalDBRPOLag", "AuroraGlobalDBReplicationLag")  # published by Aurora in a secondary's region
FRONT_DOORS = ("route53", "accelerator")


class Killed(BaseException):
    """The Lambda runtime ends the invocation (timeout, out of memory): no `finally`, no lease released."""


@dataclass
class DrillOptions:
    scenario: str = "full"  # full | flap
    #: What AWS leaves open, played one way (drill/variants.py); the default run is "default".
    variant: str = "default"
    speed: float = 100.0  # emulator seconds per wall second; 0 = as fast as possible
    # Aurora promotion (emulator seconds). AWS: a secondary Region is promoted "typically in less than a
    # minute" (https://aws.amazon.com/rds/aurora/global-database/; components/rto.py cites the same).
    promotion_seconds: float = 60.0
    pending_seconds: float = 5.0
    resync_seconds: float = 180.0
    cache_failover_seconds: float = 30.0
    steady_periods: int = 3
    #: In the steady phase (and after the failback), one of the writer region's scheduled evaluations is
    #: dropped and the next arrives late, so a whole writer-alarm period gets no datapoint.
    late_writer_datapoint: bool = True
    #: End the drill once the outage phase has its outcome (tests of the variants; `make drill` runs everything).
    stop_after_outage: bool = False
    outage_offset_seconds: float = 25.0  # outage starts this long after the secondary's last evaluation
    recovery_periods: int = 5
    # How long the primary region stays dark at least. A shorter outage than the writer alarm's window after a fast
    # failover exposes the flap-back race in the report (see tests/drill/test_drill.py test_short_outage_*).
    outage_min_seconds: float = 300.0
    phase_timeout_seconds: float = 1200.0
    tick_seconds: float = 5.0
    #: Where the shop's name leads: the Route 53 failover pair, or the accelerator (both stacks with failover.globalAccelerator).
    front_door: str = "route53"
    #: The accelerator's reaction to an endpoint's health (None: the stacks' budget figure, 30 s; 0 plays it instant).
    accelerator_reaction_seconds: float | None = None
    #: How long a DB instance added to a cluster takes to be available, and a web instance launched by a scale-up to serve
    #: (None: the emulator's defaults, the RTO budget's figures, components/rto.py). A variant may set its own.
    db_instance_create_seconds: float | None = None
    web_instance_ready_seconds: float | None = None
    #: How the SDK reaches moto: "server" (real HTTP to moto's server on loopback, what `make drill` runs) or
    #: "in-process" (moto's mock in this process: the same emulator without HTTP, for the test suite's many drills).
    transport: str = "server"


@dataclass
class Event:
    t: float
    phase: str
    region: str
    source: str  # drill | function | readiness | aws | route53 | invariant
    text: str

    def to_dict(self, t0: float) -> dict[str, Any]:
        return {
            "t": round(self.t - t0, 3),
            "at": datetime.fromtimestamp(self.t, UTC).isoformat(timespec="milliseconds"),
            "phase": self.phase,
            "region": self.region,
            "source": self.source,
            "text": self.text,
        }


@dataclass
class Invariant:
    name: str
    description: str
    violations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass
class Step:
    phase: str
    name: str
    ok: bool
    detail: str
    t: float


@dataclass
class Phase:
    name: str
    started_at: float
    ended_at: float | None = None
    expected_promotions: list[tuple[str, str]] = field(default_factory=list)  # (target region, kind)
    promotions: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Invocation:
    region: str
    trigger: str
    started_at: float
    ended_at: float
    outcome: dict[str, Any]
    phase: str


@dataclass
class StandbyRecord:
    """What the drill saw of one database standby during the run."""

    standby: StandbyTopology
    #: (emulator time, phase, new SynchronizationStatus) each time DescribeGlobalClusters showed a change.
    sync_changes: list[tuple[float, str, str]] = field(default_factory=list)
    last_sync: str = "connected"  # as seeded (world._check_members)
    #: (phase, kind) of every global failover/switchover AWS accepted with this standby as its target.
    promotions: list[tuple[str, str]] = field(default_factory=list)
    #: "<owner> <service>:<operation>" -> calls a failover function made to the standby's region.
    function_calls: Counter[str] = field(default_factory=Counter)
    #: Its member entry when the drill ended: {"member", "is_writer", "synchronization_status"}.
    end: dict[str, Any] = field(default_factory=dict)

    def not_connected(self) -> list[tuple[float, float | None]]:
        """(from, to) of every stretch the standby was seen not `connected`; `to` None when it never was again."""
        out: list[tuple[float, float | None]] = []
        start: float | None = None
        for t, _phase, status in self.sync_changes:
            if status != "connected" and start is None:
                start = t
            elif status == "connected" and start is not None:
                out.append((start, t))
                start = None
        if start is not None:
            out.append((start, None))
        return out


def standby_member_findings(standby: StandbyTopology, member: dict[str, Any] | None) -> list[str]:
    """What is wrong with a database standby's entry in DescribeGlobalClusters' GlobalClusterMembers (None: absent)."""
    if member is None:
        return [f"{standby.cluster_id} ({standby.region}) is no longer a member of the global cluster"]
    if member.get("IsWriter"):
        return [f"{standby.cluster_id} ({standby.region}) is the writer of the global cluster"]
    return []


def full_page_cache_findings(full_page_cache: str, expected_document: str, sent_document: str, lines: list[str]) -> list[str]:
    """What is wrong with the post-failover command a function sent (empty: nothing): it must be the stack's
    document and flush Magento's caches; in a Varnish region (magento-dr:web.fullPageCache) it must also refresh
    the purge list first and empty every Varnish of the region last, after Magento's flush and reindex."""
    if not sent_document:
        return ["no post-failover command was sent"]
    findings = []
    if sent_document != expected_document:
        findings.append(f"sent {sent_document}, the stack's document is {expected_document}")
    flush = next((i for i, line in enumerate(lines) if line.endswith("bin/magento cache:flush")), None)
    if flush is None:
        findings.append("no bin/magento cache:flush")
    if full_page_cache == "varnish":
        if lines[1:2] != list(varnish.POST_FAILOVER_BEFORE):
            findings.append(f"the purge list is not refreshed first ({varnish.SYNC_COMMAND})")
        if lines[-1:] != list(varnish.POST_FAILOVER_AFTER):
            findings.append(f"Varnish is not emptied last ({varnish.BAN_ALL_COMMAND}): pages cached before the failover survive it")
    return findings


def standby_end_findings(standby: StandbyTopology, member: dict[str, Any] | None) -> list[str]:
    """The end-of-drill check: a member, a reader, SynchronizationStatus connected."""
    found = standby_member_findings(standby, member)
    if member is not None and member.get("SynchronizationStatus") != "connected":
        found.append(f"{standby.cluster_id} ({standby.region}) ends with SynchronizationStatus {member.get('SynchronizationStatus')!r}, not 'connected'")
    return found


@dataclass
class ReadinessRun:
    """One scheduled readiness evaluation of a region, as its result and the SSM record say."""

    region: str
    phase: str
    started_at: float
    ended_at: float
    ok: bool  # the function returned a result and stored it
    ready: bool
    failing: list[str]
    unknown: list[str]  # the checks that warned (could not judge, or cost money but not readiness)
    api_calls: int
    reasons: dict[str, str] = field(default_factory=dict)  # check -> reason, for the checks that did not pass


def alarm_transitions(
    points: list[tuple[float, float]], start: float, end: float, *, period: float, evaluation_periods: int, datapoints_to_alarm: int,
    treat_missing: str,
) -> list[tuple[float, str]]:
    """(time, state) each time an alarm on Ready (Minimum < 1) as declared would change state, evaluated at each period's end.

    Periods are aligned to the clock, as CloudWatch's are; a period without a datapoint counts as `treat_missing` says
    (breaching / notBreaching; missing and ignore leave it out). Evaluation starts with the first period that has data:
    before the first run nothing was reported, which says nothing about the drill."""
    if not points:
        return []
    first = math.floor(min(t for t, _ in points) / period) * period
    breaching: list[bool | None] = []
    out: list[tuple[float, str]] = []
    state = "OK"
    p = first
    while p + period <= end:
        values = [v for t, v in points if p <= t < p + period]
        if values:
            breaching.append(min(values) < 1)
        else:
            breaching.append(True if treat_missing == "breaching" else False if treat_missing == "notBreaching" else None)
        window = [b for b in breaching[-evaluation_periods:] if b is not None]
        new = "ALARM" if sum(window) >= datapoints_to_alarm else "OK"
        if new != state and p + period >= start:
            out.append((p + period, new))
        state = new
        p += period
    return out


@dataclass
class DrillResult:
    topology: Topology
    options: DrillOptions
    t0: float
    t_end: float
    wall_seconds: float
    events: list[Event]
    steps: list[Step]
    invariants: list[Invariant]
    phases: list[Phase]
    invocations: list[Invocation]
    api_calls: dict[str, Counter[str]]
    handler_counted_calls: dict[str, int]
    measurements: dict[str, dict[str, float | None]]
    intervals: dict[str, list[tuple[float, float, str]]]
    substitutions: list[dict[str, str]]
    grace_seconds: float
    grace_derivation: str
    notes: list[str]
    standbys: list[StandbyRecord] = field(default_factory=list)
    #: owner (stack) -> region -> calls its failover function made there.
    function_calls_by_region: dict[str, Counter[str]] = field(default_factory=dict)
    variant: Variant = VARIANTS["default"]
    #: The front door the invariants held (the accelerator's grace when it is the accelerator).
    front_door: str = "route53"
    traffic_grace_seconds: float = 0.0
    traffic_grace_derivation: str = ""
    #: Every scheduled readiness evaluation, and the calls the readiness functions made (apart from the failover functions').
    readiness_runs: list[ReadinessRun] = field(default_factory=list)
    readiness_calls: dict[str, Counter[str]] = field(default_factory=dict)
    #: region -> (t, state) of the not-ready alarm as declared, evaluated over the Ready datapoints.
    readiness_alarm: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    #: What the emulator played for capacity that comes up: DB instance creation, a web instance's readiness (seconds).
    db_instance_create_seconds: float = 0.0
    web_instance_ready_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps) and all(i.ok for i in self.invariants)


class Printer:
    """The live timeline: one line per event; a progress line while the drill waits."""

    def __init__(self, out: TextIO, t0: float) -> None:
        self.out = out
        self.t0 = t0
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self._progress_shown = False
        self._last_progress_t = -1e9

    def stamp(self, t: float) -> str:
        s = max(0.0, t - self.t0)
        return f"T+{int(s // 60):02d}:{s % 60:04.1f}"

    def event(self, e: Event) -> None:
        self._clear()
        where = f"{e.region:<10}" if e.region else " " * 10
        print(f"{self.stamp(e.t)}  {where} {e.source:<9} {e.text}", file=self.out, flush=True)

    def progress(self, t: float, text: str) -> None:
        if self.tty:
            self.out.write(f"\r{self.stamp(t)}  … {text}"[:140].ljust(140))
            self.out.flush()
            self._progress_shown = True
        elif t - self._last_progress_t >= 60:
            print(f"{self.stamp(t)}  … {text}", file=self.out, flush=True)
            self._last_progress_t = t

    def _clear(self) -> None:
        if self._progress_shown:
            self.out.write("\r" + " " * 140 + "\r")
            self._progress_shown = False


class DrillClock:
    """The handler's Clock: emulator time; sleeping lets the drill world move on."""

    def __init__(self, drill: Drill) -> None:
        self.drill = drill

    def now(self) -> float:
        return emulator.STATE.now()

    def monotonic(self) -> float:
        return emulator.STATE.now()

    def sleep(self, seconds: float) -> None:
        self.drill.wait(seconds, "function sleeps")


def _parse_at(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value).timestamp()


class Drill:
    def __init__(self, topology: Topology, world: World, options: DrillOptions, out: TextIO | None = None) -> None:
        self.t = topology
        self.world = world
        self.o = options
        if options.variant not in VARIANTS:
            raise ValueError(f"unknown drill variant {options.variant!r}; one of {', '.join(VARIANTS)}")
        self.v: Variant = VARIANTS[options.variant]
        self.clock = DrillClock(self)
        self.wall0 = time.monotonic()
        emulator.set_promotion_time(
            options.promotion_seconds,
            pending_seconds=options.pending_seconds,
            resync_seconds=options.resync_seconds,
            cache_failover_seconds=options.cache_failover_seconds,
        )
        # A dark region blackholes packets: each probe signal waits out its timeout, as the
        # stack's functions would (their MDR_PROBE_TIMEOUT_SECONDS), instead of failing at once.
        emulator.set_dark_timeouts(True, http_seconds=float(topology.secondary.function_env.get("MDR_PROBE_TIMEOUT_SECONDS", "2")))
        # Aurora publishes its lag metrics (and members their sync status) as this variant plays them.
        emulator.set_aurora_lag(
            emulator.LagModel(
                during_outage=self.v.lag_during_outage,
                steady_ms=self.v.lag_before_outage_ms,
                rpo_lag_published=self.v.rpo_lag_published,
                dimensions=self.v.lag_dimensions,
                headless_published=self.v.headless_lag_published,
            )
        )
        emulator.set_sync_during_outage(self.v.sync_during_outage)
        # What a region that comes back from dark reports about the global cluster at first (G6).
        emulator.set_stale_view_after_outage(self.v.stale_view_seconds)
        # Capacity that takes time to come up (a pilot-light standby's DB instances and web tier), and what AWS answers a
        # promotion of a cluster without an available instance.
        emulator.set_instance_timings(
            db_create_seconds=self.v.db_instance_create_seconds or options.db_instance_create_seconds,
            web_ready_seconds=options.web_instance_ready_seconds,
            db_waits_for_writer=self.v.db_instance_waits_for_writer,
        )
        emulator.set_headless_promotion(self.v.headless_promotion)
        if self.v.posture and self.v.posture != topology.secondary.posture:
            raise ValueError(f"variant {self.v.name} plays a {self.v.posture} standby; the secondary stands by {topology.secondary.posture}")
        self.t0 = emulator.STATE.now()
        self.printer = Printer(out or sys.stdout, self.t0)
        self.traffic = TrafficModel(topology, self.t0, reading=self.v.route53_reading)
        self.grace, self.grace_derivation = grace_seconds(topology)
        if options.front_door not in FRONT_DOORS:
            raise ValueError(f"front door {options.front_door!r}: one of {', '.join(FRONT_DOORS)}")
        self.accelerator: AcceleratorModel | None = None
        self.traffic_grace, self.traffic_grace_derivation = self.grace, self.grace_derivation
        if options.front_door == "accelerator":
            if topology.accelerator is None:
                raise ValueError("front door accelerator: the stacks declare no accelerator with both regions joined (failover.globalAccelerator)")
            self.accelerator = AcceleratorModel(
                topology.accelerator,
                self.t0,
                initially_open={topology.primary.region: True, topology.secondary.region: False},
                reaction_seconds=options.accelerator_reaction_seconds,
            )
            self.traffic_grace, self.traffic_grace_derivation = accelerator_grace_seconds(topology.accelerator, options.accelerator_reaction_seconds)
        self.phase = Phase("setup", self.t0)
        self.phases: list[Phase] = []
        self.events: list[Event] = []
        self.steps: list[Step] = []
        self.invocations: list[Invocation] = []
        self.dark: set[str] = set()
        self.running: set[str] = set()
        self.queued: dict[str, list[dict[str, Any]]] = {r.region: [] for r in topology.regions}
        self.draining: set[str] = set()
        self.dead_letters: Counter[str] = Counter()
        self.next_run = {
            topology.primary.region: self.t0 + topology.primary.schedule_period_seconds,
            topology.secondary.region: self.t0 + 0.5 * topology.secondary.schedule_period_seconds,
        }
        #: A scheduled evaluation the Scheduler drops (region -> count), and the next one delivered no earlier than (region -> t).
        self.drop_ticks: dict[str, int] = {}
        self.late_until: dict[str, float] = {}
        self.killed_at: float | None = None
        self.refused_until: float | None = None
        self.writer_arn: str = topology.primary.cluster_arn
        self.writer_changed_at: float | None = None
        self.world_changed_at = self.t0  # last time a region went dark or came back
        self.answer = self.traffic.answer
        self.ga_answers: dict[str, str] = dict(self.accelerator.answers) if self.accelerator is not None else {}
        self.last_gc: dict[str, Any] | None = None
        #: Each region's writer gate's last answer (logged when it changes).
        self.gate_answers: dict[str, GateVerdict] = {}
        #: The region Aurora's FailoverState is promoting (None when no operation runs), and when that last changed.
        self.failover_target: str | None = None
        self.failover_state_changed_at = self.t0
        self.metric_seen_until: dict[str, float] = {}
        #: region -> the write counts of the running function's state parameters when the drill last read them.
        self.watched_writes: dict[str, tuple[int, ...]] = {}
        self.promotions_seen = 0
        self.ops_printed: dict[str, int] = {}
        self.probes_seen: dict[str, int] = {r.region: 0 for r in topology.regions}
        self.first_failed_probe_at: dict[str, float] = {}
        self.ops: dict[str, dict[str, Any]] = {}  # op_id -> latest record
        self.ops_phase: dict[str, str] = {}
        self.messages: list[tuple[float, str, dict[str, Any]]] = []
        self.marks: dict[str, float] = {}
        self.failback_requested_at: float | None = None
        self.primary_back_at: float | None = None
        self.flap_restored = False
        self.in_wait = False
        self.intervals: dict[str, list[tuple[float, float, str]]] = {}
        self._open: dict[tuple[str, str], float] = {}
        self._ledger: list[tuple[str, int]] = []
        self.api_calls: dict[str, Counter[str]] = {}
        self.calls_by_region: dict[str, Counter[str]] = {}
        self.handler_counted: Counter[str] = Counter()
        self.standbys = [StandbyRecord(sb) for sb in topology.database_standbys]
        # Each region's readiness function on its own schedule (the first run after both failover functions reported once).
        self.readiness_next = {
            r.region: self.t0 + 1.5 * r.schedule_period_seconds + 10 * i for i, r in enumerate(topology.regions) if r.readiness is not None
        }
        self.readiness_runs: list[ReadinessRun] = []
        self.readiness_calls: dict[str, Counter[str]] = {}
        #: Promotion requests RDS has seen (emulator.STATE.promotion_requests), and which of them the drill itself sent.
        self.requests_seen = 0
        self.external_requests: set[int] = set()
        #: region -> whether its shop can take orders (writer instance available, a web instance in service); None: re-read.
        self.serving: dict[str, bool | None] = {}
        inv = [
            ("single-writer", "never two writers (DescribeGlobalClusters members' IsWriter)"),
            (
                "traffic-follows-writer",
                f"Route 53 answers with the writer's region, while it is reachable, once {self.grace:g}s have passed since the writer "
                "moved or a region went dark/came back"
                if self.accelerator is None
                else f"the accelerator sends every population of shoppers to the writer's region (or the one Aurora is promoting), while it "
                f"is reachable, once {self.traffic_grace:g}s have passed since the writer moved (or began to) or a region went dark/came back",
            ),
            (
                "writer-vote-steady",
                f"the writer region's Route 53 writer check stays healthy while it holds the writer and is reachable (after {self.grace:g}s): "
                "a late or missing writer datapoint does not cost it its vote",
            ),
            (
                "rpo-guard",
                "a data-loss failover only when the lag Aurora reported before the loss of contact was within the RPO, and the "
                "function reports the figure it judged (the drill never forces)",
            ),
            ("steps-once", "no post-failover step completes twice in a phase (operation records, SendCommand calls, SNS reports)"),
            ("one-promotion-per-phase", "exactly the promotions each phase expects, and no others"),
            (
                "never-promote-headless",
                "no failover function asks AWS to promote a cluster that has no available DB instance (a variant's own request excepted)",
            ),
            (
                "prepare-once",
                "at most one preparation per phase: one operation adds the DB instances, and a cluster never holds more of them "
                "than MDR_DB_INSTANCES_TO_ADD",
            ),
            ("no-flap-back", "the recovered old primary takes no traffic before the planned failback"
             + ("" if self.accelerator is None else " (no population of shoppers, through the accelerator)")),
        ]
        if self.readiness_next:
            inv.append(
                (
                    "readiness-reports",
                    "every scheduled readiness evaluation in a reachable region returns within its function's timeout and stores its result, "
                    "whichever other region is dark",
                )
            )
        if self.standbys:
            where = ", ".join(f"{x.cluster_id} in {x.region}" for x in topology.database_standbys)
            inv += [
                (
                    "db-standby-never-promoted",
                    f"the database standby ({where}) is never promoted and stays a member: no failover/switchover targets it, "
                    "DescribeGlobalClusters never shows it as writer or missing, no failover function calls its region",
                ),
                (
                    "db-standby-reconnected",
                    "at the end the database standby is a connected reader again (SynchronizationStatus connected, IsWriter false)",
                ),
            ]
        self.invariants = {name: Invariant(name, desc) for name, desc in inv}
        self.notes: list[str] = []

    # ------------------------------------------------------------------ output
    def log(self, source: str, text: str, region: str = "", at: float | None = None) -> None:
        e = Event(at if at is not None else emulator.STATE.now(), self.phase.name, region, source, text)
        self.events.append(e)
        self.printer.event(e)

    def step(self, name: str, ok: bool, detail: str) -> None:
        self.steps.append(Step(self.phase.name, name, ok, detail, emulator.STATE.now()))
        self.log("drill", f"{'✔' if ok else '✘'} {name}: {detail}")

    def violate(self, name: str, detail: str) -> None:
        inv = self.invariants[name]
        inv.violations.append({"t": round(emulator.STATE.now() - self.t0, 3), "phase": self.phase.name, "detail": detail})
        self.log("invariant", f"✘ {name}: {detail}")

    def _interval(self, row: str, label: str, on: bool) -> None:
        key = (row, label)
        now = emulator.STATE.now()
        if on and key not in self._open:
            self._open[key] = now
        elif not on and key in self._open:
            self.intervals.setdefault(row, []).append((self._open.pop(key) - self.t0, now - self.t0, label))

    # ------------------------------------------------------------------ API-call ledger
    @contextmanager
    def _owner(self, owner: str) -> Iterator[None]:
        """Attribute the emulator's client-side calls made inside this block to `owner`."""
        self._close_segment()
        self._ledger.append((owner, len(emulator.STATE.client_calls)))
        try:
            yield
        finally:
            self._close_segment()
            self._ledger.pop()
            if self._ledger:
                self._ledger[-1] = (self._ledger[-1][0], len(emulator.STATE.client_calls))

    def _close_segment(self) -> None:
        if not self._ledger:
            return
        owner, start = self._ledger[-1]
        calls = emulator.STATE.client_calls[start:]
        if owner.endswith(READINESS_OWNER):
            counter = self.readiness_calls.setdefault(owner, Counter())
            for service, op, _region in calls:
                counter[f"{service}:{op}"] += 1
            self._check_standby_calls(owner, calls)
        elif owner != "drill":
            counter = self.api_calls.setdefault(owner, Counter())
            regions = self.calls_by_region.setdefault(owner, Counter())
            for service, op, region in calls:
                counter[f"{service}:{op}"] += 1
                regions[region] += 1
            self._check_standby_calls(owner, calls)
        self._ledger[-1] = (owner, len(emulator.STATE.client_calls))

    def _check_standby_calls(self, owner: str, calls: list[tuple[str, str, str]]) -> None:
        """A failover function has no business in a database standby's region (the handler knows only its pair)."""
        for rec in self.standbys:
            ops = Counter(f"{service}:{op}" for service, op, region in calls if region == rec.standby.region)
            if ops:
                rec.function_calls.update({f"{owner} {op}": n for op, n in ops.items()})
                self.violate("db-standby-never-promoted", f"{owner}'s function called {rec.standby.region}: {dict(ops)}")

    # ------------------------------------------------------------------ phases
    def begin(self, name: str, expected: list[tuple[str, str]] | None = None) -> None:
        self.end_phase()
        self.phase = Phase(name, emulator.STATE.now(), expected_promotions=list(expected or []))
        self.log("drill", f"── phase: {name} ──")

    def end_phase(self) -> None:
        if self.phase.name == "setup":
            return
        self.phase.ended_at = emulator.STATE.now()
        self._check_steps_once(self.phase)
        self._check_prepared_once(self.phase)
        got = sorted(self.phase.promotions)
        want = sorted(self.phase.expected_promotions)
        if got != want:
            self.violate("one-promotion-per-phase", f"phase {self.phase.name}: expected {want or 'none'}, AWS accepted {got or 'none'}")
        self.phases.append(self.phase)

    # ------------------------------------------------------------------ time
    def wait(self, seconds: float, label: str) -> None:
        """Move the world forward `seconds` of emulator time, handling everything due on the way."""
        end = emulator.STATE.now() + max(0.0, seconds)
        while True:
            now = emulator.STATE.now()
            if now >= end:
                break
            dt = min(self.o.tick_seconds, end - now)
            if self.o.speed > 0:
                time.sleep(dt / self.o.speed)
            target = now + dt
            gap = target - emulator.STATE.now()
            if gap > 0:
                emulator.advance(gap)
            self.printer.progress(emulator.STATE.now(), f"{label} ({self._status_line()})")
            self.tick()

    def wait_until(self, done: Callable[[], bool], timeout: float, label: str) -> bool:
        deadline = emulator.STATE.now() + timeout
        while not done():
            if emulator.STATE.now() >= deadline:
                return False
            self.wait(self.o.tick_seconds, label)
        return True

    def _status_line(self) -> str:
        rows = [f"{r}: record {'✔' if v['record_healthy'] else '✘'}, writer alarm {v['writer_alarm']}" for r, v in self.traffic.health().items()]
        ga = "" if self.accelerator is None else "accelerator→" + "/".join(sorted(set(self.accelerator.answers.values()))) + "; "
        return f"{ga}DNS→{self.traffic.answer}; " + "; ".join(rows)

    # ------------------------------------------------------------------ the front door in use
    def shoppers(self) -> dict[str, str]:
        """Where shoppers reach: each population through the accelerator, or everyone through Route 53's answer."""
        if self.accelerator is not None:
            return self.accelerator.answers
        return {"route53": self.traffic.answer}

    def all_on(self, region: str) -> bool:
        return all(r == region for r in self.shoppers().values())

    def front_door_state(self) -> str:
        if self.accelerator is not None:
            return f"accelerator routes {self.accelerator.answers}; endpoints {self.accelerator.health()}; Route 53 answers {self.traffic.answer}"
        return f"Route 53 answers {self.traffic.answer}; checks {self.traffic.health()}"

    # ------------------------------------------------------------------ one tick of the world
    def tick(self) -> None:
        now = emulator.STATE.now()
        with self._owner("drill"):
            self._observe_global()  # also lets Aurora publish this minute's lag (emulator/aurora_metrics.py)
            self._watch_running()
            self._read_inboxes()
            for r in self.t.regions:  # the writer datapoints of running functions too: the alarm sees them as sent
                self._observe_writer_metric(r, now)
            self._watch_capacity(now)
        writer_region = self.writer_arn.split(":")[3] if self.writer_arn else None
        for r in self.t.regions:  # the shop's deep health check answers only where the writer is, and it can take orders
            self.world.health.set_healthy(r.region, r.region == writer_region and bool(self.serving.get(r.region)))
        self.traffic.step(now, self.dark, writer_region)
        if self.accelerator is not None and self.last_gc is not None:
            self.accelerator.step(now, self.dark, self._gate_verdicts())
        self._check_traffic(now)
        self._fire_schedules(now)

    def _gate_verdicts(self) -> dict[str, bool]:
        """Each reachable region's writer gate, its own code asking its own region's API and the peer's (a region may
        see the global cluster differently: the stale-writer-view variant). A change of a gate's answer is logged with its
        reason. The gate waits out a dark peer's connect timeout in its own time, not the shared emulated clock's."""
        verdicts: dict[str, bool] = {}
        deferred, emulator.STATE.deferred_dark_costs = emulator.STATE.deferred_dark_costs, []
        try:
            with self._owner("drill"):
                for r in self.t.regions:
                    if r.region in self.dark:
                        continue
                    peer = next(x.region for x in self.t.regions if x is not r)
                    client = self.world.client
                    clients = GateClients(rds=client("rds", r.region), ssm=client("ssm", r.region), peer_rds=client("rds", peer), peer_ssm=client("ssm", peer))
                    answer = gate_evaluate(clients, self.t.global_cluster_id, r.cluster_arn, peer)
                    verdicts[r.region] = answer.open
                    if self.gate_answers.get(r.region) != answer:
                        self.gate_answers[r.region] = answer
                        self.log("accelerator", f"writer gate {'open' if answer.open else 'closed'}: {answer.reason}", r.region)
        finally:
            emulator.STATE.deferred_dark_costs = deferred
        return verdicts

    def _watch_capacity(self, now: float) -> None:
        """Where the writer is, whether the shop can take orders: its cluster's writer instance available and a web instance in
        service (a pilot-light standby has neither until its failover prepared them); during the outage, when the standby's
        first web instance serves. Read until true, and again once the writer moves or a region goes dark or comes back."""
        writer_region = self.writer_arn.split(":")[3] if self.writer_arn else ""
        for r in self.t.regions:
            if r.region in self.dark:
                continue
            web_key = f"{self.phase.name}:web_in_service:{r.region}"
            watch_web = self.phase.name == "outage" and r is self.t.secondary and web_key not in self.marks
            if r.region == writer_region and not self.serving.get(r.region):
                db = self._writer_instance_available(r)
                web = self._in_service(r) > 0
                if db:
                    self.marks.setdefault(f"{self.phase.name}:writer_instance:{r.region}", now)
                if web:
                    self.marks.setdefault(web_key, now)
                self.serving[r.region] = db and web
            elif watch_web and self._in_service(r) > 0:
                self.marks[web_key] = now

    def _in_service(self, r: RegionTopology) -> int:
        groups = self.world.client("autoscaling", r.region).describe_auto_scaling_groups(AutoScalingGroupNames=[r.asg_name])["AutoScalingGroups"]
        return sum(1 for i in (groups[0].get("Instances", []) if groups else []) if i.get("LifecycleState") == "InService")

    def _writer_instance_available(self, r: RegionTopology) -> bool:
        """The cluster has a writer instance (DBClusterMembers IsClusterWriter; the emulator names one only once it is available)."""
        rds = self.world.client("rds", r.region)
        members = rds.describe_db_clusters(DBClusterIdentifier=r.cluster_id)["DBClusters"][0].get("DBClusterMembers", [])
        return any(m.get("IsClusterWriter") for m in members)

    def _failover_instances(self, r: RegionTopology) -> list[str]:
        """The DB instances the failover function added to the region's cluster (named {cluster}-failover-N)."""
        found = self.world.client("rds", r.region).describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [r.cluster_id]}])
        return sorted(i["DBInstanceIdentifier"] for i in found["DBInstances"] if i["DBInstanceIdentifier"].startswith(f"{r.cluster_id}-failover-"))

    def _live_region(self) -> RegionTopology | None:
        for r in (self.t.secondary, self.t.primary):
            if r.region not in self.dark:
                return r
        return None

    def _observe_global(self) -> None:
        r = self._live_region()
        if r is None:
            return
        gc = self.world.client("rds", r.region).describe_global_clusters(GlobalClusterIdentifier=self.t.global_cluster_id)["GlobalClusters"][0]
        self.last_gc = gc
        writers = [m["DBClusterArn"] for m in gc.get("GlobalClusterMembers", []) if m.get("IsWriter")]
        if len(writers) > 1:
            self.violate("single-writer", f"{len(writers)} writers: {', '.join(writers)}")
        fs = gc.get("FailoverState") or {}
        self._interval("aurora", f"{fs.get('Status', '')}", bool(fs))
        target_arn = str(fs.get("ToDbClusterArn") or "") if fs.get("Status") not in (None, "", "cancelling") else ""
        target = target_arn.split(":")[3] if target_arn.count(":") >= 5 else None
        if target != self.failover_target:
            self.failover_target = target
            self.failover_state_changed_at = emulator.STATE.now()
        if writers and writers[0] != self.writer_arn:
            self.writer_arn = writers[0]
            self.writer_changed_at = emulator.STATE.now()
            self.serving.clear()
            region = self.writer_arn.split(":")[3]
            self.marks.setdefault(f"{self.phase.name}:writer_moved", self.writer_changed_at)
            self.log("aws", f"Aurora writer is now {self.writer_arn.rsplit(':', 1)[-1]} ({region})", region)
        for region in (x.region for x in self.t.regions):
            self._interval(f"writer:{region}", "writer", self.writer_arn.split(":")[3] == region)
        self._observe_standbys(gc)
        for target_gid, arn, kind in emulator.STATE.promotions[self.promotions_seen :]:
            del target_gid
            region = arn.split(":")[3]
            self.phase.promotions.append((region, kind))
            self.log("aws", f"RDS accepted a global {kind} to {arn.rsplit(':', 1)[-1]}", region)
            for rec in self.standbys:
                if rec.standby.cluster_arn == arn:
                    rec.promotions.append((self.phase.name, kind))
                    self.violate("db-standby-never-promoted", f"RDS accepted a global {kind} to the database standby {rec.standby.cluster_id}")
            if kind == "failover":
                self._check_rpo(arn)
        self.promotions_seen = len(emulator.STATE.promotions)
        requests = emulator.STATE.promotion_requests
        for index in range(self.requests_seen, len(requests)):
            _at, arn, kind, ready = requests[index]
            if not ready and index not in self.external_requests:
                self.violate("never-promote-headless", f"a {kind} of {arn.rsplit(':', 1)[-1]} was requested while it had no available DB instance")
        self.requests_seen = len(requests)

    def _observe_standbys(self, gc: dict[str, Any]) -> None:
        """Each database standby's member entry: still a member, never the writer; log its sync status changes."""
        members = {m["DBClusterArn"]: m for m in gc.get("GlobalClusterMembers", [])}
        for rec in self.standbys:
            sb = rec.standby
            member = members.get(sb.cluster_arn)
            findings = standby_member_findings(sb, member)
            key = ("violation", f"standby:{sb.cluster_arn}")
            if findings and key not in self._open:
                self._open[key] = emulator.STATE.now()
                for finding in findings:
                    self.violate("db-standby-never-promoted", finding)
            elif not findings:
                self._open.pop(key, None)
            sync = str(member.get("SynchronizationStatus", "")) if member is not None else "(not a member)"
            if sync != rec.last_sync:
                self.log("aws", f"database standby {sb.cluster_id}: SynchronizationStatus {rec.last_sync} → {sync}", sb.region)
                rec.sync_changes.append((emulator.STATE.now(), self.phase.name, sync))
                rec.last_sync = sync

    def lag_before(self, cluster_arn: str, until: float, lookback: float) -> tuple[str, float | None]:
        """What Aurora reported for `cluster_arn` in the `lookback` before `until`: the metric the function
        should prefer and its maximum in seconds (None: no datapoint)."""
        log = emulator.STATE.aurora_lag_log
        for metric in LAG_METRICS:
            values = [v for (t, arn, name, v) in log if arn == cluster_arn and name == metric and until - lookback <= t < until]
            if values:
                return metric, max(values) / 1000.0
        return "", None

    def _check_rpo(self, target_arn: str) -> None:
        r = next((x for x in self.t.regions if x.cluster_arn == target_arn), None)
        if r is None:
            return  # a database standby: db-standby-never-promoted has reported it
        dark = self.marks.get(f"{self.phase.name}:dark")
        if dark is None:
            return  # no outage in this phase: not a failover this drill plays
        lookback = float(r.function_env.get("MDR_LAG_LOOKBACK_SECONDS", "300"))
        metric, seconds = self.lag_before(target_arn, dark, lookback)
        if seconds is None:
            self.violate("rpo-guard", f"failover to {r.region} although Aurora reported no lag in the {lookback:g}s before the outage")
        elif seconds > r.rpo_seconds:
            self.violate("rpo-guard", f"failover to {r.region} although {metric} was {seconds:.1f}s before the outage > RPO {r.rpo_seconds:g}s")
        else:
            self.log("drill", f"RPO guard held: {metric} was {seconds:.1f}s before the outage ≤ RPO {r.rpo_seconds:g}s", r.region)

    def _check_reported_evidence(self, region: RegionTopology, op: dict[str, Any]) -> bool:
        """The function's report names the figure it judged: the metric Aurora publishes for this engine, from before the outage."""
        evidence = op.get("rpo_evidence") or {}
        dark = self.marks.get("outage:dark")
        if dark is None:
            return True
        metric, seconds = self.lag_before(region.cluster_arn, dark, float(region.function_env.get("MDR_LAG_LOOKBACK_SECONDS", "300")))
        got = (evidence.get("lag_metric"), evidence.get("lag_seconds"))
        if got[0] != metric or got[1] is None or seconds is None or abs(float(got[1]) - seconds) > 0.01:
            self.violate("rpo-guard", f"the failover report says it judged {got}, but before the outage Aurora reported {metric} {seconds}s")
            return False
        return True

    def _watch_running(self) -> None:
        """Follow a running function's persisted state live (probe counter, operation timeline)."""
        for r in self.t.regions:
            if r.region not in self.running or r.region in self.dark:
                continue
            names = [f"{r.ssm_prefix}/failover/probes", f"{r.ssm_prefix}/failover/operation"]
            written = emulator_ssm.writes(r.region, names)
            if self.watched_writes.get(r.region) == written:
                continue  # neither was written since the last look: the same values
            self.watched_writes[r.region] = written
            params = {p["Name"]: p["Value"] for p in self.world.client("ssm", r.region).get_parameters(Names=names)["Parameters"]}
            self._note_probes(r, params.get(names[0]))
            self._note_operation(r, params.get(names[1]))

    def _note_probes(self, r: RegionTopology, raw: str | None) -> None:
        try:
            state = json.loads(raw) if raw else {}
        except ValueError:
            return
        n = int(state.get("consecutive_failures", 0))
        if n > self.probes_seen[r.region]:
            first = state.get("first_failure_at")
            if first is not None:
                self.first_failed_probe_at.setdefault(f"{self.phase.name}:{r.region}", float(first))
            threshold = r.function_env.get("MDR_CONSECUTIVE_FAILURES", "3")
            self.log("function", f"peer probe failed ({n}/{threshold} consecutive)", r.region, at=state.get("last_probe_at"))
            if self.o.scenario == "flap" and self.phase.name == "outage" and not self.flap_restored:
                self.flap_restored = True
                self._set_dark(self.t.primary.region, False, f"primary region back during confirmation (after {n} failed probe(s))")
        elif n < self.probes_seen[r.region] and self.probes_seen[r.region]:
            # A success resets the count; a failure long after the previous one (a preparation's evaluations) restarts it.
            self.log("function", "peer probe succeeded; failure count reset" if n == 0 else f"peer probe failed; the count restarted at {n} "
                     "(the previous failure was too long ago)", r.region)
        self.probes_seen[r.region] = n

    def _note_operation(self, r: RegionTopology, raw: str | None) -> None:
        if not raw:
            return
        try:
            op = json.loads(raw)
        except ValueError:
            return
        self._record_op(r, op)

    def _record_op(self, r: RegionTopology, op: dict[str, Any]) -> None:
        op_id = str(op.get("op_id", ""))
        if not op_id:
            return
        self.ops[op_id] = op
        self.ops_phase.setdefault(op_id, self.phase.name)
        timeline = op.get("timeline", [])
        for entry in timeline[self.ops_printed.get(op_id, 0) :]:
            at = _parse_at(entry.get("at"))
            mark = "✔" if entry.get("result") == "ok" else "✘"
            self.log("function", f"{mark} {entry.get('step')}: {entry.get('detail')}", r.region, at=at)
            key = f"{self.phase.name}:{entry.get('step')}"
            if at is not None and entry.get("result") == "ok":
                self.marks.setdefault(key, at)
        self.ops_printed[op_id] = len(timeline)

    def _read_inboxes(self) -> None:
        for r in self.t.regions:
            if r.region in self.dark:
                continue
            for m in read_inbox(self.world, r.region):
                self.messages.append((emulator.STATE.now(), r.region, m))
                self.log("function", f"SNS → operators: {m['subject']}", r.region)

    def _check_traffic(self, now: float) -> None:
        answer = self.traffic.answer
        for region in (x.region for x in self.t.regions):
            self._interval(f"dns:{region}", "answer", answer == region)
            self._interval(f"check:{region}", "healthy", self.traffic.regions[region].healthy)
        if answer != self.answer:
            self.answer = answer
            self.marks.setdefault(f"{self.phase.name}:traffic_to:{answer}", now)
            self.log("route53", f"{self.t.shop_hostname} now answers with {answer}", answer)
        if self.accelerator is not None:
            ga = self.accelerator.answers
            for region in (x.region for x in self.t.regions):
                self._interval(f"ga:{region}", "all shoppers", all(v == region for v in ga.values()))
                self._interval(f"ga-endpoint:{region}", "healthy", bool(self.accelerator.view.get(region)))
            if ga != self.ga_answers:
                self.ga_answers = dict(ga)
                self.log("accelerator", "shoppers " + ", ".join(f"{k} → {v}" for k, v in ga.items()))
                if len(set(ga.values())) == 1:
                    self.marks.setdefault(f"{self.phase.name}:accelerator_to:{next(iter(ga.values()))}", now)
        writer_region = self.writer_arn.split(":")[3]
        since = max(self.writer_changed_at or self.t0, self.world_changed_at)
        settled = now - since > self.grace and writer_region not in self.dark
        if settled and not self.traffic.writer_checks_healthy(writer_region):
            if not self._open.get(("violation", "vote")):
                self._open[("violation", "vote")] = now
                self.violate(
                    "writer-vote-steady",
                    f"{writer_region} holds the writer but its Route 53 writer check is unhealthy ({self.traffic.health()[writer_region]['writer_alarm']}), "
                    f"{now - since:.0f}s after the last change",
                )
        else:
            self._open.pop(("violation", "vote"), None)
        # Route 53 never moves before the writer; the accelerator may send shoppers to the region Aurora is promoting.
        allowed = {writer_region} | ({self.failover_target} if self.accelerator is not None and self.failover_target else set())
        elsewhere = {k: v for k, v in self.shoppers().items() if v not in allowed}
        front_since = max(since, self.failover_state_changed_at) if self.accelerator is not None else since
        if elsewhere and writer_region not in self.dark:
            # The front door may lag a change of the world by the grace; after that it must lead to the writer.
            # (While the writer's region is dark there is nowhere better: the design sends shoppers to the
            # secondary, read-only, in parallel with the promotion, or for good when a guard blocks it.)
            if now - front_since > self.traffic_grace and not self._open.get(("violation", "traffic")):
                self._open[("violation", "traffic")] = now
                self.violate(
                    "traffic-follows-writer",
                    f"shoppers reach {elsewhere} but the writer is in {writer_region}, {now - front_since:.0f}s after the last change "
                    f"(> {self.traffic_grace:g}s); {self.front_door_state()}",
                )
        else:
            self._open.pop(("violation", "traffic"), None)
        reaches_primary = any(v == self.t.primary.region for v in self.shoppers().values())
        flapped_back = self.primary_back_at is not None and self.failback_requested_at is None and reaches_primary
        if flapped_back and not self._open.get(("violation", "flap")):
            self._open[("violation", "flap")] = now
            self.violate("no-flap-back", f"the recovered {self.t.primary.region} receives traffic before the planned failback ({self.front_door_state()})")

    def _fire_schedules(self, now: float) -> None:
        for r in self.t.regions:
            spec = r.readiness
            while spec is not None and r.region in self.readiness_next and now >= self.readiness_next[r.region]:
                self.readiness_next[r.region] += spec.schedule_period_seconds
                if r.region not in self.dark:  # the Scheduler of a dark region is dark too
                    self.invoke_readiness(r)
        for r in self.t.regions:
            while now >= self.next_run[r.region]:
                if now < self.late_until.get(r.region, 0.0):
                    break  # delivered late: this tick's event arrives at late_until
                if self.late_until.pop(r.region, None) is not None and not self.drop_ticks.get(r.region):
                    self.log("drill", f"this evaluation's event arrives {now - self.next_run[r.region]:.0f}s late", r.region)
                scheduled = self.next_run[r.region]
                self.next_run[r.region] += r.schedule_period_seconds
                if r.region in self.dark:
                    continue  # the Scheduler of a dark region is dark too
                if self.drop_ticks.get(r.region):
                    self.drop_ticks[r.region] -= 1
                    self.log("drill", "EventBridge Scheduler drops this evaluation (its events live at most 60 s)", r.region)
                    continue
                event = scheduler_event(r, datetime.fromtimestamp(scheduled, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), str(uuid.uuid4()))
                if r.region in self.running:
                    # Reserved concurrency 1: the asynchronous event waits and runs after the current invocation.
                    self.queued[r.region].append(event)
                    continue
                self.invoke(r, event, "schedule")

    # ------------------------------------------------------------------ invoking the function
    def invoke(self, r: RegionTopology, event: dict[str, Any], trigger: str) -> dict[str, Any]:
        self.running.add(r.region)
        self._interval(f"function:{r.region}", "running", True)
        started = emulator.STATE.now()
        try:
            with self._owner(r.stack), self._kill_after_promotion(r):
                try:
                    outcome = failover.handle(event, environ=self.world.env(r), clock=self.clock)
                except Killed:
                    self.killed_at = emulator.STATE.now()
                    outcome = {"ok": False, "action": "killed", "reason": "the Lambda runtime ended the invocation right after the writer "
                               "was confirmed (variant crash: timeout / out of memory); its lease stays until it lapses"}
                except Exception as exc:  # noqa: BLE001 - a crash is a drill finding, reported as a failed step
                    outcome = {"ok": False, "action": "crashed", "reason": f"{type(exc).__name__}: {exc}", "error": str(exc)}
        finally:
            self.running.discard(r.region)
            self._interval(f"function:{r.region}", "running", False)
        ended = emulator.STATE.now()
        self.invocations.append(Invocation(r.region, trigger, started, ended, outcome, self.phase.name))
        self.handler_counted[r.stack] += int(outcome.get("api_calls", 0) or 0)
        self.probes_seen[r.region] = int((outcome.get("status") or {}).get("consecutive_failures", 0) or 0)
        if outcome.get("operation"):
            self._record_op(r, outcome["operation"])
        if outcome.get("action") not in ("noop",) or not outcome.get("ok") or trigger != "schedule":
            mark = "✔" if outcome.get("ok") else "✘"
            self.log(
                "function",
                f"{mark} {trigger}: {outcome.get('action')} — {outcome.get('reason')}{' — ' + outcome['error'] if outcome.get('error') else ''}",
                r.region,
            )
        if outcome.get("action") == "crashed":
            self.step(f"{r.function_name} ran", False, str(outcome.get("reason")))
        with self._owner("drill"):
            self._observe_writer_metric(r, ended)
        self._drain_queue(r)
        return outcome

    def invoke_readiness(self, r: RegionTopology) -> ReadinessRun:
        """One scheduled readiness evaluation: the readiness function's own code, environment and schedule event."""
        assert r.readiness is not None
        spec = r.readiness
        event = json.loads(
            spec.schedule_input.replace("<aws.scheduler.schedule-arn>", spec.schedule_arn)
            .replace("<aws.scheduler.scheduled-time>", datetime.fromtimestamp(emulator.STATE.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
            .replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
            .replace("<aws.scheduler.attempt-number>", "1")
        )
        started = emulator.STATE.now()
        # It runs beside the failover function, not in its way: the connect timeouts it waits out against a dark
        # region are its own time (added to its duration), not the shared emulated clock's.
        waited: list[float] = []
        emulator.STATE.deferred_dark_costs = waited
        try:
            with self._owner(f"{r.stack}{READINESS_OWNER}"):
                out = readiness_runner.handle(event, self.world.readiness_env(r), self.clock)
        except Exception as exc:  # noqa: BLE001 - a crash is a finding: the invariant below reports it
            out = {"ok": False, "action": "crashed", "reason": f"{type(exc).__name__}: {exc}", "checks": []}
        finally:
            emulator.STATE.deferred_dark_costs = None
        ended = emulator.STATE.now() + sum(waited)
        rows = [row for row in out.get("checks", []) if isinstance(row, list) and len(row) >= 3]
        with self._owner("drill"):
            stored = self.world.client("ssm", r.region).get_parameters(Names=[f"{r.ssm_prefix}/failover/readiness"])["Parameters"]
        stored_at = json.loads(stored[0]["Value"]).get("at") if stored else None
        run = ReadinessRun(
            region=r.region,
            phase=self.phase.name,
            started_at=started,
            ended_at=ended,
            ok=bool(out.get("ok")) and stored_at == out.get("at"),
            ready=bool(out.get("ready")),
            failing=[row[0] for row in rows if row[1] == "fail"],
            unknown=[row[0] for row in rows if row[1] == "warn"],
            api_calls=int(out.get("api_calls", 0) or 0),
            reasons={row[0]: str(row[2]) for row in rows if row[1] != "pass"},
        )
        self.readiness_runs.append(run)
        self._interval(f"ready:{r.region}", "ready", run.ready)
        self._interval(f"notready:{r.region}", "not ready", not run.ready)
        timeout = spec.timeout_seconds
        if not run.ok or ended - started > timeout:
            self.violate(
                "readiness-reports",
                f"{spec.function_name}: {out.get('action')} {out.get('reason', '')} after {ended - started:.1f}s "
                f"(timeout {timeout}s); stored result at {stored_at}",
            )
        previous = next((x for x in reversed(self.readiness_runs[:-1]) if x.region == r.region), None)
        if previous is None or (previous.ready, previous.failing) != (run.ready, run.failing):
            verdict = "ready" if run.ready else f"NOT READY ({', '.join(run.failing)})"
            self.log("readiness", f"{verdict}; warn: {', '.join(run.unknown) or 'none'} ({run.api_calls} calls, {ended - started:.1f}s)", r.region)
        return run

    def _readiness_red_during_outage(self, dark_at: float) -> None:
        """The standby's readiness says 'not ready' while its peer is dark: no standby is left to fail over to."""
        s = self.t.secondary
        if s.readiness is None:
            return
        # An evaluation in the outage's first seconds cannot know yet; the outage lasts until the next one (at most a period).
        self.wait_until(
            lambda: any(x.region == s.region and x.started_at >= dark_at and not x.ready for x in self.readiness_runs),
            s.readiness.schedule_period_seconds + 60,
            "waiting for the standby's readiness evaluation",
        )
        runs = [x for x in self.readiness_runs if x.region == s.region and x.started_at >= dark_at]
        red = next((x for x in runs if not x.ready), None)
        self.step(
            "readiness: the standby not ready during the outage",
            red is not None,
            "no readiness evaluation during the outage" if not runs else (
                f"{len(runs)} evaluation(s) while {self.t.primary.region} was dark; not ready {red.started_at - dark_at:.0f}s after it went dark: "
                + "; ".join(f"{c}: {red.reasons.get(c, '')}" for c in red.failing)
                if red is not None else f"{len(runs)} evaluation(s), every one ready"
            ),
        )

    def latest_readiness(self, region: str, since: float = 0.0) -> ReadinessRun | None:
        return next((x for x in reversed(self.readiness_runs) if x.region == region and x.started_at >= since), None)

    def _expected_not_ready(self) -> dict[str, set[str]]:
        """What readiness must say while nothing is dark: every check passes, except what the variant plays on purpose
        (a lag above the RPO: a failover now would be refused, and readiness says so before the outage)."""
        s = self.t.secondary
        lag_above = self.v.lag_before_outage_ms / 1000.0 > s.rpo_seconds
        unpublished = not self.v.headless_lag_published and not s.db_instances
        return {self.t.primary.region: set(), s.region: {"replication-lag"} if lag_above or unpublished else set()}

    def _readiness_step(self, name: str, since: float) -> None:
        """Wait (at most two readiness periods) for every region's first evaluation since `since`; each must fail exactly
        the checks _expected_not_ready names (none: ready)."""
        period = max((r.readiness.schedule_period_seconds for r in self.t.regions if r.readiness is not None), default=0)
        if not period:
            return
        expected = self._expected_not_ready()
        self.wait_until(lambda: all(self.latest_readiness(x, since) is not None for x in expected), 2 * period + 60, "waiting for readiness evaluations")
        runs = {x: self.latest_readiness(x, since) for x in expected}
        ok = all(run is not None and set(run.failing) == expected[x] for x, run in runs.items())
        detail = "; ".join(
            f"{x}: {'no evaluation' if run is None else ('ready' if run.ready else 'not ready: ' + ', '.join(run.failing))} "
            f"(T+{0 if run is None else run.started_at - self.t0:.0f}s{'; expected not ready: ' + ', '.join(sorted(expected[x])) if expected[x] else ''})"
            for x, run in runs.items()
        )
        self.step(name, ok, detail)

    @contextmanager
    def _kill_after_promotion(self, r: RegionTopology) -> Iterator[None]:
        """Variant crash: the first invocation of the secondary's function that confirms the promotion dies right
        there, as when Lambda ends it: nothing after that line runs, its `finally` included (the lease stays)."""
        if not (self.v.crash_after_promotion and self.killed_at is None and r.region == self.t.secondary.region and self.phase.name == "outage"):
            yield
            return
        real_steps, real_release = runner.Runner._post_steps, runner.Runner._release_lease
        killed: list[bool] = []

        def die(runner_self: runner.Runner, op: runner.Operation) -> None:
            killed.append(True)
            raise Killed

        def released_by_nobody(runner_self: runner.Runner) -> None:
            # Only the run that is killed never releases its lease (an earlier run, a preparation's, ends as usual).
            return None if killed else real_release(runner_self)

        runner.Runner._post_steps = die  # type: ignore[method-assign,assignment]
        runner.Runner._release_lease = released_by_nobody  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            runner.Runner._post_steps = real_steps  # type: ignore[method-assign]
            runner.Runner._release_lease = real_release  # type: ignore[method-assign]

    def _drain_queue(self, r: RegionTopology) -> None:
        """Run the events that waited for the function's one concurrent execution, oldest first, one after another (the
        outermost drain runs them all; an invocation it starts does not drain again). An event older than the function's
        maximum event age goes to its dead-letter queue instead, as Lambda's asynchronous queue does."""
        if r.region in self.draining:
            return
        self.draining.add(r.region)
        try:
            while self.queued[r.region] and r.region not in self.dark:
                event = self.queued[r.region].pop(0)
                age = emulator.STATE.now() - datetime.strptime(event["scheduled_time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
                if age > MAX_EVENT_AGE_SECONDS:
                    self.dead_letters[r.region] += 1
                    self.log("drill", f"a scheduled event waited {age:.0f}s, past the maximum event age: dead-letter queue", r.region)
                    continue
                self.invoke(r, event, "schedule (queued)")
        finally:
            self.draining.discard(r.region)
        self.queued[r.region].clear()

    def _observe_writer_metric(self, r: RegionTopology, at: float) -> None:
        """Feed the traffic model every writer datapoint the function published since the last look.

        The emulator stamps datapoints with emulator time (as AWS stamps them with
        its receipt time), so each one is read back at the moment it was sent —
        the handler sends one at the start and one at the end of an evaluation.
        """
        if r.region in self.dark:
            return
        a = r.writer_alarm
        since = self.metric_seen_until.get(r.region)
        start = datetime.fromtimestamp(math.floor(since if since is not None else at - 86400), UTC)
        # Whole seconds only: a datapoint sent later in the current second is read next time, not lost.
        end = datetime.fromtimestamp(math.floor(at), UTC)
        if start >= end:
            return
        if since is not None and emulator_cloudwatch.nothing_since(r.region, a.namespace, since):
            self.metric_seen_until[r.region] = end.timestamp()  # the query would find nothing: nothing stored since `since`
            return
        resp = self.world.client("cloudwatch", r.region).get_metric_statistics(
            Namespace=a.namespace,
            MetricName=a.metric_name,
            Dimensions=[{"Name": k, "Value": v} for k, v in a.dimensions.items()],
            StartTime=start,
            EndTime=end,
            Period=1,  # one bucket per second: each datapoint keeps its own time
            Statistics=[a.statistic],  # the alarm's own statistic decides a bucket shared by two datapoints
        )
        for point in sorted(resp.get("Datapoints", []), key=lambda d: d["Timestamp"]):
            self.traffic.record_writer_datapoint(r.region, point["Timestamp"].timestamp(), float(point[a.statistic]))
        self.metric_seen_until[r.region] = end.timestamp()

    # ------------------------------------------------------------------ world changes
    def _set_dark(self, region: str, dark: bool, why: str) -> None:
        emulator.set_dark(region, dark)
        self.serving.clear()
        if dark:
            self.dark.add(region)
        else:
            self.dark.discard(region)
        self._interval(f"dark:{region}", "dark", dark)
        if dark:  # its readiness function is dark too: its last verdict says nothing any more
            self._interval(f"ready:{region}", "ready", False)
            self._interval(f"notready:{region}", "not ready", False)
        self.world_changed_at = emulator.STATE.now()
        self.marks[f"{self.phase.name}:{'dark' if dark else 'back'}"] = emulator.STATE.now()
        self.log("drill", why, region)

    # ------------------------------------------------------------------ invariants that look at records
    def _check_steps_once(self, phase: Phase) -> None:
        done: Counter[str] = Counter()
        for op_id, op in self.ops.items():
            if self.ops_phase.get(op_id) != phase.name:
                continue
            for entry in op.get("timeline", []):
                if entry.get("step") in POST_STEPS and entry.get("result") == "ok":
                    done[str(entry["step"])] += 1
        for step, n in done.items():
            if n > 1:
                self.violate("steps-once", f"phase {phase.name}: step {step} completed {n} times")
        end = phase.ended_at or emulator.STATE.now()
        reports = [m for (t, _r, m) in self.messages if phase.started_at <= t <= end and " complete: " in m["subject"]]
        if len(reports) > 1:
            self.violate("steps-once", f"phase {phase.name}: {len(reports)} completion reports on SNS")

    def _check_prepared_once(self, phase: Phase) -> None:
        preparing = [op_id for op_id, op in self.ops.items() if self.ops_phase.get(op_id) == phase.name
                     and any(e.get("step") == "db-instances-requested" and e.get("result") == "ok" for e in op.get("timeline", []))]
        if len(preparing) > 1:
            self.violate("prepare-once", f"phase {phase.name}: {len(preparing)} operations added DB instances ({', '.join(preparing)})")
        for r in self.t.regions:
            if r.region in self.dark:
                continue
            with self._owner("drill"):
                added = self._failover_instances(r)
            most = int(r.function_env.get("MDR_DB_INSTANCES_TO_ADD", "1"))
            if len(added) > most:
                self.violate("prepare-once", f"phase {phase.name}: {r.cluster_id} holds {len(added)} instances the function added, more than {most}")

    # ------------------------------------------------------------------ helpers for the scenario
    def op_complete(self, region: str, since: float) -> bool:
        return self._complete_op(region, since) is not None

    def active_flag(self, r: RegionTopology) -> str | None:
        with self._owner("drill"):
            params = self.world.client("ssm", r.region).get_parameters(Names=[r.active_parameter])["Parameters"]
        return params[0]["Value"] if params else None

    def member_sync(self, r: RegionTopology) -> str:
        live = self._live_region()
        if live is None:
            return ""
        with self._owner("drill"):
            gc = self.world.client("rds", live.region).describe_global_clusters(GlobalClusterIdentifier=self.t.global_cluster_id)["GlobalClusters"][0]
        for m in gc.get("GlobalClusterMembers", []):
            if m["DBClusterArn"] == r.cluster_arn:
                return str(m.get("SynchronizationStatus", ""))
        return ""

    def asg_capacity(self, r: RegionTopology) -> tuple[int, int, int] | None:
        with self._owner("drill"):
            groups = self.world.client("autoscaling", r.region).describe_auto_scaling_groups(AutoScalingGroupNames=[r.asg_name])["AutoScalingGroups"]
        if not groups:
            return None
        g = groups[0]
        return (g["MinSize"], g["DesiredCapacity"], g["MaxSize"])

    # ------------------------------------------------------------------ the scenarios
    def run(self) -> DrillResult:
        p, s = self.t.primary, self.t.secondary
        self.log("drill", f"world seeded from the stacks: writer {p.cluster_id} in {p.region}, standby {s.cluster_id} in {s.region}")
        for sb in self.t.database_standbys:
            self.log("drill", f"database standby {sb.cluster_id} ({sb.stack}) joined the global cluster as a reader; no failover function there", sb.region)
        self.log("drill", f"promotion takes {self.o.promotion_seconds:g}s of emulator time; traffic grace {self.traffic_grace_derivation}")
        if self.accelerator is not None:
            name = self.t.accelerator.dns_name if self.t.accelerator else ""
            self.log("drill", f"front door: the accelerator {name} (Route 53's answers modelled beside it)")
        self.log("drill", f"variant {self.v.name}: {self.v.description}")
        self.begin("steady")
        self.wait(self.o.steady_periods * s.schedule_period_seconds, "steady state")
        ok = self.wait_until(
            lambda: self.traffic.regions[p.region].healthy and self.all_on(p.region), 5 * p.schedule_period_seconds, "waiting for the primary's Route 53 check"
        )
        self.step("steady state", ok and self.all_on(p.region) and self.traffic.answer == p.region, self.front_door_state())
        if self.o.late_writer_datapoint:
            self._late_writer_datapoint(p)
        self._readiness_step("readiness: as the world is before the outage", self.t0)
        # Start the outage a fixed offset after the secondary's last evaluation (worst case is just after it).
        until = (self.next_run[s.region] - s.schedule_period_seconds + self.o.outage_offset_seconds) - emulator.STATE.now()
        self.wait(until % s.schedule_period_seconds, "steady state")
        if self.o.scenario == "flap":
            self._run_flap()
        else:
            self._run_full()
        self.end_phase()
        self.phase = Phase("done", emulator.STATE.now())
        self._check_standbys_at_end()
        return self._result()

    def _check_standbys_at_end(self) -> None:
        if not self.standbys:
            return
        live = self._live_region()
        if live is None:
            self.violate("db-standby-reconnected", "every shop region is dark at the end; the global cluster cannot be read")
            return
        with self._owner("drill"):
            gc = self.world.client("rds", live.region).describe_global_clusters(GlobalClusterIdentifier=self.t.global_cluster_id)["GlobalClusters"][0]
            self._observe_standbys(gc)
        members = {m["DBClusterArn"]: m for m in gc.get("GlobalClusterMembers", [])}
        for rec in self.standbys:
            sb = rec.standby
            member = members.get(sb.cluster_arn)
            rec.end = {
                "member": member is not None,
                "is_writer": bool(member and member.get("IsWriter")),
                "synchronization_status": str(member.get("SynchronizationStatus", "")) if member is not None else "",
            }
            findings = standby_end_findings(sb, member)
            for finding in findings:
                self.violate("db-standby-reconnected", finding)
            if not findings:
                self.log("drill", f"✔ database standby {sb.cluster_id} ends as a connected reader", sb.region)

    def _run_flap(self) -> None:
        p, s = self.t.primary, self.t.secondary
        self.begin("outage", expected=[])
        self._set_dark(p.region, True, f"{p.region} goes dark: every API call and health probe to it fails")
        restored = self.wait_until(lambda: self.flap_restored, 3 * s.schedule_period_seconds, "waiting for the first failed probe")
        if not restored:
            self._set_dark(p.region, False, "primary region back (no failed probe was seen)")
        self.step("primary back during confirmation", restored, "restored after the secondary's first failed probe" if restored else "no probe failed")
        self.wait(self.o.recovery_periods * s.schedule_period_seconds, "watching for an unwanted failover")
        promoted = [i for i in self.invocations if i.outcome.get("action") == "promote"]
        self.step("no failover", not promoted and not self.phase.promotions, f"{len(self.phase.promotions)} promotion(s), {len(promoted)} promote decision(s)")
        self.step("traffic stayed on the primary", self.all_on(p.region), self.front_door_state())

    def _late_writer_datapoint(self, r: RegionTopology) -> None:
        """One of `r`'s evaluations is dropped (EventBridge Scheduler gives up on an event older than 60 s) and the
        next is delivered late, so that one whole writer-alarm period gets no datapoint from `r`, the writer. Its
        Route 53 writer check must stay healthy (the writer-vote-steady invariant watches every tick)."""
        self.wait_until(lambda: r.region not in self.running, 2 * r.schedule_period_seconds, "waiting for the evaluation under way")
        period = r.writer_alarm.period_seconds
        published = [t for w in self.traffic.regions[r.region].writer.values() for (t, _v) in w.datapoints]
        last = max(published, default=emulator.STATE.now())
        empty_from = (math.floor(last / period) + 1) * period  # the first period that starts after the last datapoint
        deliver_at = empty_from + period + 1  # the next datapoint lands in the period after it
        self.drop_ticks[r.region] = 1
        self.late_until[r.region] = max(deliver_at, self.next_run[r.region] + r.schedule_period_seconds)
        late = self.late_until[r.region] - (self.next_run[r.region] + r.schedule_period_seconds)
        self.log("drill", f"the next evaluation is dropped and the one after arrives {late:.0f}s late: no writer datapoint from "
                          f"{r.region} in T+{empty_from - self.t0:.0f}s…T+{empty_from + period - self.t0:.0f}s", r.region)
        violations = len(self.invariants["writer-vote-steady"].violations)
        self.wait_until(lambda: emulator.STATE.now() >= empty_from + 2 * period + 5, 6 * period, "a late writer datapoint")
        points = [t for w in self.traffic.regions[r.region].writer.values() for (t, _v) in w.datapoints]
        empty = not any(empty_from <= t < empty_from + period for t in points)
        kept = len(self.invariants["writer-vote-steady"].violations) == violations and self.traffic.writer_checks_healthy(r.region)
        self.step(
            "writer vote kept through a missing minute",
            empty and kept,
            f"no writer datapoint from {r.region} for a whole period: {empty}; its Route 53 writer check stayed healthy: {kept} "
            f"(the alarm needs {r.writer_alarm.datapoints_to_alarm} of {r.writer_alarm.evaluation_periods} periods; reading {self.v.route53_reading})",
        )

    def _preparation_seconds(self, r: RegionTopology) -> float:
        """How much longer than a warm standby's a failover to `r` may take: a headless cluster's instance to create first."""
        return 0.0 if r.db_instances else emulator.STATE.db_instance_create_seconds + 2 * r.schedule_period_seconds

    def _run_full(self) -> None:
        p, s = self.t.primary, self.t.secondary
        prepare = self._preparation_seconds(s)
        timeout = self.o.phase_timeout_seconds + prepare
        # ---- outage: automatic failover (or, when the evidence says no, none)
        self.begin("outage", expected=[(s.region, "failover")] if self.v.expect_failover else [])
        self._set_dark(p.region, True, f"{p.region} goes dark: every API call and health probe to it fails")
        dark_at = emulator.STATE.now()
        if self.v.promotion_refused_seconds:
            # From the moment the function could first ask (after a headless standby's preparation).
            self.refused_until = dark_at + prepare + self.v.promotion_refused_seconds
            emulator.inject_fault(
                "error", service="rds", operation="FailoverGlobalCluster", error_code="InvalidGlobalClusterStateFault",
                message="the global cluster is being modified; try again later", remaining=None, until=self.refused_until,
            )
            self.log("drill", f"AWS refuses FailoverGlobalCluster for the next {self.v.promotion_refused_seconds:g}s", s.region)
        if not self.v.expect_failover:
            self._run_blocked(dark_at)
            return
        if self.v.external_failover_after_seconds is not None:
            self.wait(self.v.external_failover_after_seconds, f"{p.region} dark")
            self._external_failover(s)
        done = self.wait_until(lambda: self.op_complete(s.region, dark_at), timeout, "waiting for the secondary's function")
        self.step("secondary promoted and post-failover steps done", done, f"operation complete in {s.region}" if done else "no complete operation")
        self._expected_failover_evidence(s, dark_at)
        if not s.db_instances:
            self._prepared_before_promoted(s, dark_at)
        moved = self.wait_until(lambda: self.all_on(s.region), timeout / 2, "waiting for the front door to move shoppers")
        self.step("traffic on the secondary", moved, self.front_door_state())
        cap = self.asg_capacity(s)
        want = (int(s.function_env["MDR_SCALE_MIN"]), int(s.function_env["MDR_SCALE_DESIRED"]), int(s.function_env["MDR_SCALE_MAX"]))
        self.step("secondary scaled to production", cap == want, f"{s.asg_name} min/desired/max {cap}, wanted {want}")
        self.step("secondary marked active", self.active_flag(s) == "true", f"{s.active_parameter}={self.active_flag(s)}")
        self._full_page_cache_cleared(s, dark_at)
        if self.o.stop_after_outage:
            return
        left = dark_at + self.o.outage_min_seconds - emulator.STATE.now()
        if left > 0:
            self.wait(left, f"{p.region} stays dark")
        self._readiness_red_during_outage(dark_at)
        # ---- recovery: the old primary returns and must stay out of traffic
        self.begin("recovery", expected=[])
        self._set_dark(p.region, False, f"{p.region} is reachable again")
        self.primary_back_at = emulator.STATE.now()
        self.wait(self.o.recovery_periods * p.schedule_period_seconds, "old primary back, out of traffic")
        fenced = self.wait_until(lambda: self.active_flag(p) == "false", 3 * p.schedule_period_seconds, "waiting for the old primary to fence itself")
        self.step("old primary fenced itself", fenced, f"{p.active_parameter}={self.active_flag(p)}")
        synced = self.wait_until(lambda: self.member_sync(p) == "connected", timeout, "waiting for the old primary to resynchronise")
        self.step("old primary resynchronised", synced, f"{p.cluster_id} SynchronizationStatus={self.member_sync(p)}")
        self.step("old primary out of traffic", self.all_on(s.region), self.front_door_state())
        self._no_writer_claim_since_back(p)
        # ---- planned failback (switchover) by the operator, from the primary region
        self.begin("failback", expected=[(p.region, "switchover")])
        self.failback_requested_at = emulator.STATE.now()
        self.log("drill", "operator runs: python -m handlers.failover failback   (in the primary region's environment)", p.region)
        command = {"action": "failback", "dry_run": False, "force": False, "requested_by": "drill"}
        outcome = self.invoke(p, command, "operator failback")
        self.step("failback command", bool(outcome.get("ok")), f"{outcome.get('action')}: {outcome.get('reason')} {outcome.get('error') or ''}".strip())
        back = self.wait_until(lambda: self.all_on(p.region), timeout / 2, "waiting for the front door to move shoppers home")
        self.step("traffic back on the primary", back, self.front_door_state())
        fenced = self.wait_until(lambda: self.active_flag(s) == "false", 3 * s.schedule_period_seconds, "waiting for the secondary to fence itself")
        self.step("secondary fenced itself", fenced, f"{s.active_parameter}={self.active_flag(s)}")
        self.step("primary marked active", self.active_flag(p) == "true", f"{p.active_parameter}={self.active_flag(p)}")
        self._full_page_cache_cleared(p, self.failback_requested_at)
        self.wait(p.schedule_period_seconds, "settling")
        self._readiness_step("readiness: both regions ready again after the failback", emulator.STATE.now())
        if not s.db_instances:
            self._return_to_posture(s)
            return
        cap = self.asg_capacity(s)
        if cap is not None and cap[1] > s.asg_desired:
            self.notes.append(
                f"{s.asg_name} stays at production capacity {cap} after failback (the handler never scales down); "
                f"RUNBOOK.md 'Failback' step 5 returns it to {s.asg_min}/{s.asg_desired}/{s.asg_max}"
            )

    def _no_writer_claim_since_back(self, p: RegionTopology) -> None:
        """Since it came back, the old primary's function published no RegionHoldsWriter of 1: the writer is elsewhere,
        whatever its own region's API may say for a while (the stale-writer-view variant); its Route 53 writer check must not
        vote for it."""
        assert self.primary_back_at is not None
        back = self.primary_back_at
        claims = sorted(t for w in self.traffic.regions[p.region].writer.values() for (t, v) in w.datapoints if t >= back and v >= 1)
        published = sum(1 for w in self.traffic.regions[p.region].writer.values() for (t, _v) in w.datapoints if t >= back)
        detail = (
            f"{published} writer datapoint(s) from {p.region} since it came back, none of them 1"
            if not claims
            else f"{len(claims)} of {published} writer datapoint(s) from {p.region} said 1, the first {claims[0] - back:.0f}s after it came back"
        )
        self.step("old primary claimed no writer vote", not claims and published > 0, detail)

    def _external_failover(self, s: RegionTopology) -> None:
        """ARC's Region switch plan (or an operator in the console) asks AWS to fail over to the standby, headless or not."""
        before = len(emulator.STATE.promotion_requests)
        with self._owner("drill"):
            try:
                self.world.client("rds", s.region).failover_global_cluster(
                    GlobalClusterIdentifier=self.t.global_cluster_id, TargetDbClusterIdentifier=s.cluster_arn, AllowDataLoss=True
                )
                answer = "accepted"
            except Exception as exc:  # noqa: BLE001 - the refusal is this variant's finding, reported as the step below
                answer = f"refused ({getattr(exc, 'response', {}).get('Error', {}).get('Code', type(exc).__name__)})"
        self.external_requests.update(range(before, len(emulator.STATE.promotion_requests)))
        self.log("drill", f"FailoverGlobalCluster to {s.cluster_id} requested outside the failover function (ARC's plan, the console): {answer}", s.region)
        expected = "accepted" if self.v.headless_promotion == "accept" else "refused (InvalidDBClusterStateFault)"
        self.step(f"a promotion of the headless standby requested elsewhere: AWS {self.v.headless_promotion}s it", answer == expected, answer)

    def _prepared_before_promoted(self, s: RegionTopology, dark_at: float) -> None:
        """A headless standby: its web tier scaled and its instances added before it was promoted (or, when AWS promoted it
        headless at someone else's request, before the function's steps), and the shop took orders only then."""
        op = self._complete_op(s.region, dark_at) or {}
        steps = [str(e.get("step")) for e in op.get("timeline", []) if e.get("result") == "ok"]
        first = "promotion-requested" if op.get("kind") != "adopt" else "activate_region"
        order = ["scale_asg", "db-instances-requested", "db-instance-available", first]
        positions = [steps.index(x) if x in steps else -1 for x in order]
        self.step(
            "the standby prepared before it was promoted",
            -1 not in positions and positions == sorted(positions),
            f"{op.get('kind')}: {' → '.join(x for x in steps if x in order)} (added {', '.join(op.get('db_instances_added') or []) or 'none'})",
        )
        ready = max(self.o.web_instance_ready_seconds or emulator.STATE.web_instance_ready_seconds, 0.0) + 2 * s.schedule_period_seconds
        serving = self.wait_until(lambda: bool(self.serving.get(s.region)), ready, "waiting for the secondary to take orders")
        m = self._measure().get("failover", {})
        self.step(
            "the shop takes orders in the secondary",
            serving,
            f"writer instance available {m.get('writer_instance_seconds')}s, first web instance in service "
            f"{m.get('first_web_in_service_seconds')}s, takes orders {m.get('takes_orders_seconds')}s after dark",
        )

    def _return_to_posture(self, s: RegionTopology) -> None:
        """After the failback, what RUNBOOK §4 step 5 says: delete the DB instances the function added, the web tier back to
        its standby size; then the standby's readiness passes its capacity check again (no warning: nothing runs at cost)."""
        from handlers.readiness import posture_commands

        assert s.readiness is not None
        standby = int(s.readiness.env.get("MDR_STANDBY_CAPACITY", "0"))
        with self._owner("drill"):
            added = self._failover_instances(s)
            commands = posture_commands(s.region, added, s.asg_name, (standby, standby, s.asg_max))
            for identifier in added:
                self.world.client("rds", s.region).delete_db_instance(DBInstanceIdentifier=identifier)
            self.world.client("autoscaling", s.region).update_auto_scaling_group(
                AutoScalingGroupName=s.asg_name, MinSize=standby, DesiredCapacity=standby, MaxSize=s.asg_max
            )
        for command in commands:
            self.log("drill", f"operator runs: {command}", s.region)
        since = emulator.STATE.now()
        self.wait_until(lambda: self.latest_readiness(s.region, since) is not None, s.readiness.schedule_period_seconds + 60, "waiting for readiness")
        run = self.latest_readiness(s.region, since)
        clean = run is not None and run.ready and "capacity" not in run.unknown
        self.step(
            f"the standby back in its {s.posture} posture (RUNBOOK §4 step 5)",
            clean and bool(added),
            f"deleted {', '.join(added) or 'nothing'}; web tier {standby}/{standby}/{s.asg_max}; readiness capacity: "
            + ("no evaluation" if run is None else run.reasons.get("capacity", "pass")),
        )

    def _full_page_cache_cleared(self, r: RegionTopology, since: float) -> None:
        """The post-failover command the function sent in `r`, as the instance would run it (the document SSM holds)."""
        op = self._complete_op(r.region, since) or {}
        command_id, instance = str(op.get("command_id", "")), str(op.get("instance_id", ""))
        lines: list[str] = []
        document = ""
        with self._owner("drill"):
            ssm = self.world.client("ssm", r.region)
            sent = ssm.list_commands(CommandId=command_id)["Commands"] if command_id else []
            if sent:
                document = str(sent[0]["DocumentName"])
                content = json.loads(ssm.get_document(Name=document)["Content"])
                lines = [str(line) for step in content["mainSteps"] for line in step["inputs"]["runCommand"]]
        findings = full_page_cache_findings(r.full_page_cache, r.run_command_document, document, lines)
        what = "Magento's caches flushed (its full-page cache is one of them)"
        if r.full_page_cache == "varnish":
            what = f"purge list refreshed, Magento's caches flushed, then every Varnish of {r.region} emptied ({varnish.BAN_ALL_COMMAND})"
        self.step(
            f"post-failover command clears the full-page cache ({r.full_page_cache})",
            not findings,
            f"{document} on {instance}: {what}" if not findings else "; ".join(findings),
        )

    def _complete_op(self, region: str, since: float) -> dict[str, Any] | None:
        stack = self.t.by_region(region).stack
        for op in self.ops.values():
            if op.get("op_id", "").startswith(stack) and op.get("status") == "complete" and float(op.get("started_at", 0)) >= since - 1:
                return op
        return None

    def _expected_failover_evidence(self, s: RegionTopology, dark_at: float) -> None:
        """What this variant expects of a failover that happened: the figure it was judged on, and how it got there."""
        op = self._complete_op(s.region, dark_at) or {}
        if op.get("kind") == "adopt":
            # Promoted at someone else's request (a variant's): the function judged no evidence, it adopted the writer.
            self.step("a promotion requested elsewhere adopted, not judged again", self.v.external_failover_after_seconds is not None,
                      f"operation {op.get('op_id')} adopted the writer: {op.get('timeline', [{}])[0].get('detail')}")
            return
        evidence = op.get("rpo_evidence") or {}
        held = self._check_reported_evidence(s, op)
        self.step(
            "RPO judged on the lag before the loss of contact",
            held and evidence.get("lag_metric") == self.v.lag_metric,
            f"{evidence.get('lag_metric')} {evidence.get('lag_seconds')}s in {evidence.get('lag_window')} "
            f"(contact lost {evidence.get('contact_lost_at')}); this engine's metric: {self.v.lag_metric}",
        )
        if self.v.sync_during_outage is not None:
            judged = (evidence.get("synchronization_status"), evidence.get("synchronization_status_read"))
            self.step(
                "a synchronization status that changed during the outage is reported, not judged",
                judged == ("connected", "read while the peer last answered") and evidence.get("synchronization_status_now") == self.v.sync_during_outage,
                f"judged {judged[0]} ({judged[1]}); at the decision AWS showed {evidence.get('synchronization_status_now')!r}",
            )
        if self.refused_until is not None:
            refused = [i for i in self.invocations if i.region == s.region and "InvalidGlobalClusterStateFault" in str(i.outcome.get("error", ""))]
            accepted = self.marks.get("outage:promotion-requested")
            lookback = float(s.function_env.get("MDR_LAG_LOOKBACK_SECONDS", "300"))
            self.step(
                "promotion refused for longer than the look-back, then accepted on the same evidence",
                bool(refused) and accepted is not None and accepted >= self.refused_until and self.refused_until - dark_at > lookback,
                f"{len(refused)} refused attempt(s) over {self.refused_until - dark_at:.0f}s (look-back {lookback:g}s); accepted "
                f"T+{(accepted or 0) - self.t0:.0f}s",
            )
        if self.v.crash_after_promotion:
            resumed = next((i for i in self.invocations if i.region == s.region and self.killed_at is not None and i.started_at > self.killed_at
                            and i.outcome.get("action") == "finish-steps"), None)
            blocked = [i for i in self.invocations if i.region == s.region and self.killed_at is not None and i.started_at > self.killed_at
                       and "holds the failover lease" in str(i.outcome.get("reason", ""))]
            after = None if resumed is None or self.killed_at is None else resumed.started_at - self.killed_at
            ttl = 120.0
            self.step(
                "a killed run is resumed within about two minutes",
                after is not None and after <= ttl + s.schedule_period_seconds,
                f"killed T+{(self.killed_at or 0) - self.t0:.0f}s; {len(blocked)} evaluation(s) blocked by its lease; resumed "
                f"{'never' if after is None else f'{after:.0f}s later'} (lease TTL {ttl:g}s + one schedule period)",
            )

    def _run_blocked(self, dark_at: float) -> None:
        """The evidence says no: no promotion, one notification naming the guard, the shop back on the primary when it returns.
        Or (expect_cancelled) the preparation of a headless standby never finished: no promotion, the operator told it is
        preparing, and the preparation stopped once the primary answers again."""
        p, s = self.t.primary, self.t.secondary
        self.wait(self.o.outage_min_seconds, f"{p.region} stays dark")
        kind = "preparing" if self.v.expect_cancelled else "action needed"
        notices = [(t, m) for (t, region, m) in self.messages if region == s.region and t >= dark_at and kind in m["subject"]]
        guards = [str((m.get("message") or {}).get("guard", "")) for _t, m in notices]
        self.step("no failover", not self.phase.promotions, f"{len(self.phase.promotions)} promotion(s) accepted by AWS")
        first = notices[0][0] - dark_at if notices else None
        self.step(
            "one notification that the standby is being prepared" if self.v.expect_cancelled else "one notification naming the guard",
            (len(notices) == 1 if self.v.expect_cancelled else guards == [self.v.blocked_by]) and first is not None
            and first <= 3 * s.schedule_period_seconds,
            f"{len(notices)} '{kind}' message(s) {[] if self.v.expect_cancelled else guards}"
            + ("" if first is None else f", the first {first:.0f}s after the outage began"),
        )
        self.marks["outage:notified"] = notices[0][0] if notices else dark_at
        self._readiness_red_during_outage(dark_at)
        # ---- recovery: the primary returns; it held the writer all along
        self.begin("recovery", expected=[])
        self._set_dark(p.region, False, f"{p.region} is reachable again")
        back = self.wait_until(lambda: self.all_on(p.region), self.o.phase_timeout_seconds / 2, "waiting for the front door to move shoppers home")
        self.step("traffic back on the primary", back, self.front_door_state())
        self.wait(2 * s.schedule_period_seconds, "settling")
        self.step("primary still the writer", self.writer_arn == p.cluster_arn, f"writer {self.writer_arn.rsplit(':', 1)[-1]}")
        if self.v.expect_cancelled:
            cancelled = [m for (t, region, m) in self.messages if region == s.region and t >= dark_at and "cancelled" in m["subject"]]
            body = cancelled[0]["message"] if cancelled else {}
            self.step(
                "the preparation stopped once the primary answered, nothing deleted, the way back named",
                len(cancelled) == 1 and bool(body.get("return_to_posture")) and bool(self._failover_instances(s)),
                f"{len(cancelled)} cancellation notice(s); {len(body.get('return_to_posture') or [])} command(s) to return to the posture",
            )
        # The lag check reads the last LAG_WINDOW_SECONDS: until they no longer hold the outage, its lag is what they show.
        back_at = self.marks.get("recovery:back", emulator.STATE.now())
        self._readiness_step(
            f"readiness: as before the outage once the primary is back and the {LAG_WINDOW_SECONDS}s lag window is past it",
            max(emulator.STATE.now(), back_at + LAG_WINDOW_SECONDS),
        )
        if self.v.expect_cancelled:
            self._return_to_posture(s)

    # ------------------------------------------------------------------ measurements
    def _measure(self) -> dict[str, dict[str, float | None]]:
        p, s = self.t.primary, self.t.secondary
        ttl = budget_term(s.rto_budget, "dns_ttl") or 60.0
        out: dict[str, dict[str, float | None]] = {}
        dark = self.marks.get("outage:dark")
        if dark is not None and self.o.scenario == "full":

            def since(key: str) -> float | None:
                v = self.marks.get(key)
                return None if v is None else round(v - dark, 3)

            first = self.first_failed_probe_at.get(f"outage:{s.region}")
            shift = since(f"outage:traffic_to:{s.region}")
            ga_shift = since(f"outage:accelerator_to:{s.region}")
            # The function's confirmation; for a promotion it adopted (requested elsewhere), when the drill saw the writer move.
            promoted = since("outage:writer-promoted") if "outage:writer-promoted" in self.marks else since("outage:writer_moved")
            out["failover"] = {
                "detection_seconds": None if first is None else round(first - dark, 3),
                "decision_seconds": since("outage:decision"),
                "promotion_requested_seconds": since("outage:promotion-requested"),
                "promotion_seconds": promoted,
                "aurora_promotion_duration_seconds": _diff(self.marks.get("outage:promotion-requested"), self.marks.get("outage:writer-promoted")),
                "post_steps_done_seconds": since("outage:notify"),
                "traffic_shift_seconds": shift,
                "dns_ttl_seconds": ttl,
                # Shoppers on the secondary (resolvers followed) and the secondary writable: the later of the two.
                "total_seconds": _later(None if shift is None else round(shift + ttl, 3), promoted),
                # The evidence: from the first failed probe to the decision (the claim: at least a minute).
                "evidence_seconds": _diff(first, self.marks.get("outage:decision")),
                # What a pilot-light standby adds (a warm or hot one has both at once): the first DB instance the function added
                # available, the new writer's writer instance, the first web instance in service in the secondary, and the
                # moment the shop takes orders there: the later of all of them and of shoppers reaching it.
                "db_instance_available_seconds": since("outage:db-instance-available"),
                "writer_instance_seconds": since(f"outage:writer_instance:{s.region}"),
                "first_web_in_service_seconds": since(f"outage:web_in_service:{s.region}"),
            }
            if self.accelerator is not None:
                # Beside the Route 53 path: the accelerator's, from the promotion request (its budgeted path), no TTL.
                out["failover"]["accelerator_shift_seconds"] = ga_shift
                out["failover"]["accelerator_after_request_seconds"] = _diff(
                    self.marks.get("outage:promotion-requested"), self.marks.get(f"outage:accelerator_to:{s.region}")
                )
                out["failover"]["total_seconds"] = _later(ga_shift, promoted)
            f = out["failover"]
            f["takes_orders_seconds"] = _latest(f["total_seconds"], f["writer_instance_seconds"], f["first_web_in_service_seconds"])
            if self.killed_at is not None:
                out["failover"]["killed_seconds"] = round(self.killed_at - dark, 3)
            if not self.v.expect_failover:
                out["failover"] = {
                    "detection_seconds": None if first is None else round(first - dark, 3),
                    "notified_seconds": since("outage:notified"),
                }
        fb = self.failback_requested_at
        if fb is not None:

            def since_fb(key: str) -> float | None:
                v = self.marks.get(key)
                return None if v is None else round(v - fb, 3)

            shift = since_fb(f"failback:traffic_to:{p.region}")
            ga_back = since_fb(f"failback:accelerator_to:{p.region}")
            out["failback"] = {
                "promotion_requested_seconds": since_fb("failback:promotion-requested"),
                "promotion_seconds": since_fb("failback:writer-promoted"),
                "aurora_promotion_duration_seconds": _diff(self.marks.get("failback:promotion-requested"), self.marks.get("failback:writer-promoted")),
                "post_steps_done_seconds": since_fb("failback:notify"),
                "traffic_shift_seconds": shift,
                "dns_ttl_seconds": ttl,
                "total_seconds": _later(None if shift is None else round(shift + ttl, 3), since_fb("failback:writer-promoted")),
            }
            if self.accelerator is not None:
                out["failback"]["accelerator_shift_seconds"] = ga_back
                out["failback"]["total_seconds"] = _later(ga_back, since_fb("failback:writer-promoted"))
        return out

    def _result(self) -> DrillResult:
        for key in list(self._open):
            if key[0] != "violation":
                self._interval(key[0], key[1], False)
        return DrillResult(
            topology=self.t,
            options=self.o,
            t0=self.t0,
            t_end=emulator.STATE.now(),
            wall_seconds=round(time.monotonic() - self.wall0, 3),
            events=self.events,
            steps=self.steps,
            invariants=list(self.invariants.values()),
            phases=self.phases,
            invocations=self.invocations,
            api_calls=self.api_calls,
            handler_counted_calls=dict(self.handler_counted),
            measurements=self._measure(),
            intervals=self.intervals,
            substitutions=[x.to_dict() for x in self.world.substitutions]
            + [
                {
                    "variable": f"{r.function_name} {n}",
                    "graph": r.function_env[n],
                    "drill": self.world.env(r)[n],
                    "why": "the emulator's loopback health endpoint for that region",
                }
                for r in self.t.regions
                for n in ("MDR_PEER_HEALTH_URL", "MDR_LOCAL_HEALTH_URL")
                if r.function_env.get(n)
            ]
            + [
                {"variable": "AWS_ENDPOINT_URL", "graph": "(unset: real AWS)", "drill": self.world.endpoint_url, "why": "moto server on loopback"}
                if self.world.endpoint_url
                else {"variable": "AWS_ENDPOINT_URL", "graph": "(unset: real AWS)", "drill": "(unset)", "why": "moto's mock in the drill's process"}
            ],
            grace_seconds=self.grace,
            grace_derivation=self.grace_derivation,
            notes=[*self.t.notes, *self.notes],
            standbys=self.standbys,
            function_calls_by_region=self.calls_by_region,
            variant=self.v,
            front_door=self.o.front_door,
            traffic_grace_seconds=self.traffic_grace,
            traffic_grace_derivation=self.traffic_grace_derivation,
            readiness_runs=self.readiness_runs,
            readiness_calls=self.readiness_calls,
            db_instance_create_seconds=emulator.STATE.db_instance_create_seconds,
            web_instance_ready_seconds=emulator.STATE.web_instance_ready_seconds,
            readiness_alarm={
                r.region: alarm_transitions(
                    [(x.ended_at, 1.0 if x.ready else 0.0) for x in self.readiness_runs if x.region == r.region],
                    self.t0,
                    emulator.STATE.now(),
                    period=r.readiness.alarm_period_seconds,
                    evaluation_periods=r.readiness.alarm_evaluation_periods,
                    datapoints_to_alarm=r.readiness.alarm_datapoints_to_alarm,
                    treat_missing=r.readiness.alarm_treat_missing_data,
                )
                for r in self.t.regions
                if r.readiness is not None
            },
        )


def _latest(*values: float | None) -> float | None:
    return None if any(v is None for v in values) else max(v for v in values if v is not None)


def _later(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else max(a, b)


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(b - a, 3)

