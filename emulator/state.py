"""Backend model of the emulator extension: clock, promotion timing, faults.

One process-wide :class:`EmulatorState` (``STATE``) is shared by the RDS and
ElastiCache extensions, the fault injector and the loopback health endpoints,
so it works the same whether moto runs as ``mock_aws()`` or as an in-process
``ThreadedMotoServer``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

#: How long an Aurora DB instance added to a cluster takes from `creating` to `available`, and how long a web
#: instance launched by a scale-up takes to be in service (launch, boot and the load balancer's health checks
#: folded into one figure). The emulator's defaults are the RTO budget's estimates (components/rto.py
#: DB_INSTANCE_CREATE_SECONDS, and the web_ready terms: WEB_BOOT_SECONDS + the target group's passing checks;
#: tests/test_contracts.py keeps them equal); the drill plays other values in its variants.
DB_INSTANCE_CREATE_SECONDS = 1200.0
WEB_INSTANCE_READY_SECONDS = 210.0
#: What FailoverGlobalCluster / SwitchoverGlobalCluster do with a target cluster that has no `available` DB
#: instance (AWS does not document it; docs/aws-assumptions.md): "refuse" answers InvalidDBClusterStateFault;
#: "accept" promotes it, and the new primary has no writer instance until one of its instances is available.
HEADLESS_PROMOTION_ANSWERS = ("refuse", "accept")


@dataclass
class Fault:
    """One injected fault.

    kind:
      * ``"error"``   - the service answers with ``error_code`` (HTTP ``status``);
                        e.g. ``Throttling`` / ``ThrottlingException`` / ``InvalidGlobalClusterStateFault``.
      * ``"connect"`` - the client cannot connect (``EndpointConnectionError``); never reaches the service.
      * ``"connect_timeout"`` - ``ConnectTimeoutError``; never reaches the service.
      * ``"read_timeout"`` - ``ReadTimeoutError``. With ``after_processing=True`` the
                        service *did* process the request and the response was lost.
    ``remaining``: how many matching calls are affected (``None`` = until cleared).
    ``until``: emulator time after which the fault stops matching (``None`` = no end), e.g.
    "FailoverGlobalCluster refused for six minutes".
    ``service``/``operation``/``region``: ``None`` matches anything. ``operation``
    is the API name, e.g. ``FailoverGlobalCluster``.
    """

    kind: str
    service: str | None = None
    operation: str | None = None
    region: str | None = None
    error_code: str = "Throttling"
    message: str = "Rate exceeded"
    status: int = 400
    remaining: int | None = 1
    after_processing: bool = False
    until: float | None = None
    hits: int = 0

    def matches(self, service: str, operation: str, region: str | None) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.until is not None and STATE.now() >= self.until:
            return False
        if self.service is not None and self.service != service:
            return False
        if self.operation is not None and self.operation != operation:
            return False
        return self.region is None or self.region == region

    def consume(self) -> None:
        self.hits += 1
        if self.remaining is not None:
            self.remaining -= 1


@dataclass
class EmulatorState:
    lock: threading.RLock = field(default_factory=threading.RLock)
    clock_offset: float = 0.0
    # Promotion timing (seconds of emulator time).
    promotion_seconds: float = 30.0
    pending_seconds: float = 2.0
    resync_seconds: float = 60.0
    cache_failover_seconds: float = 10.0
    #: When False, operations only complete on :meth:`complete_operations` /
    #: :meth:`advance` past their deadline is ignored.
    auto_complete: bool = True
    dark_regions: set[str] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    #: (service, operation, region) of every call that reached the emulated service.
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    #: Calls attempted by in-process clients, including failed/dark ones.
    client_calls: list[tuple[str, str, str]] = field(default_factory=list)
    force_complete: bool = False
    #: When set, a call to a dark region costs the caller its connect timeout in
    #: emulator time (packets blackholed, as in a real regional outage) instead of
    #: failing at once; the loopback health endpoints then cost `dark_http_seconds`.
    dark_costs_timeout: bool = False
    dark_http_seconds: float = 2.0
    #: Every global operation the emulated RDS accepted: (global id, target ARN, "failover"|"switchover").
    promotions: list[tuple[str, str, str]] = field(default_factory=list)
    #: Every promotion request that named a member (accepted or refused): (emulator time, target ARN, kind, whether the
    #: target had an available DB instance then).
    promotion_requests: list[tuple[float, str, str, bool]] = field(default_factory=list)
    #: region -> emulator time it went dark (while it is dark).
    dark_since: dict[str, float] = field(default_factory=dict)
    #: region -> (when it went dark, when it came back) of its last outage, once it is back.
    last_outage: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: For this long (emulator seconds) after a region comes back from dark, its RDS API answers
    #: DescribeGlobalClusters with the view it had when it went dark (AWS does not say what a returning
    #: region reports, docs/aws-assumptions.md G6); 0: every region answers with the one current view.
    stale_view_seconds: float = 0.0
    #: How Aurora publishes its global-database lag metrics (emulator/aurora_metrics.py); None: it does not.
    aurora_lag: Any = None
    #: cluster ARN -> the last metric period Aurora published its lag for.
    aurora_lag_slots: dict[str, int] = field(default_factory=dict)
    #: (emulator time, cluster ARN, metric name, milliseconds) of every lag datapoint Aurora published.
    aurora_lag_log: list[tuple[float, str, str, float]] = field(default_factory=list)
    #: When set, every non-writer member reports this SynchronizationStatus while the writer's
    #: region is dark (AWS does not document what it shows then; "" = the field is absent).
    sync_during_outage: str | None = None
    #: When a list: the connect timeouts of calls to a dark region are added to it instead of to the clock. The drill
    #: runs a function that is not on the failover path (readiness) this way: in AWS it waits out its own timeouts
    #: while the other functions run on, so its waits must not hold up the shared emulated clock.
    deferred_dark_costs: list[float] | None = None
    db_instance_create_seconds: float = DB_INSTANCE_CREATE_SECONDS
    web_instance_ready_seconds: float = WEB_INSTANCE_READY_SECONDS
    headless_promotion: str = "refuse"
    #: When True, a DB instance created in a global database's secondary stays `creating` while the writer's region is
    #: dark (Aurora MySQL before 3.09: secondary instances "could not restart" during unplanned events; whether a new one
    #: starts on 3.09+ is not documented, docs/aws-assumptions.md P3).
    db_instance_waits_for_writer: bool = False
    #: Whatever was created or launched at or before this emulator time is as a long-running world has it
    #: (DB instances available, web instances in service): `emulator.settle()` after seeding a world.
    settled_until: float = float("-inf")
    #: (region, namespace) -> the latest timestamp (epoch seconds) of any datapoint stored there, and
    #: (region, queue name) -> how many messages were ever sent to the queue: what lets an observer (the drill)
    #: skip a read that could find nothing new (emulator/cloudwatch.py, emulator/sqs.py).
    latest_datapoint: dict[tuple[str, str], float] = field(default_factory=dict)
    queue_sends: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (region, parameter name) -> how many times it was written or deleted (emulator/ssm.py).
    parameter_writes: dict[tuple[str, str], int] = field(default_factory=dict)

    def tally(self, table: dict[tuple[str, str], int], key: tuple[str, str], n: int = 1) -> None:
        """Add `n` to one of the change counts above (queue sends, parameter writes)."""
        with self.lock:
            table[key] = table.get(key, 0) + n

    # ---- clock -----------------------------------------------------------
    def now(self) -> float:
        """Emulator time: wall clock plus whatever :meth:`advance` added."""
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.clock_offset += max(0.0, seconds)

    def ready(self, created_at: float, takes_seconds: float) -> bool:
        """Whether something created at `created_at` that takes `takes_seconds` is ready now (or was settled)."""
        return created_at <= self.settled_until or self.now() >= created_at + takes_seconds

    # ---- darkness --------------------------------------------------------
    def set_dark(self, region: str, dark: bool = True) -> None:
        with self.lock:
            if dark:
                if region not in self.dark_regions:
                    self.dark_since[region] = self.now()
                self.dark_regions.add(region)
            else:
                self.dark_regions.discard(region)
                went_dark = self.dark_since.pop(region, None)
                if went_dark is not None:
                    self.last_outage[region] = (went_dark, self.now())

    def is_dark(self, region: str | None) -> bool:
        return region is not None and region in self.dark_regions

    def stale_since(self, region: str) -> float | None:
        """When `region` went dark, if it is back and still inside its stale-view window (else None)."""
        outage = self.last_outage.get(region)
        if outage is None or region in self.dark_regions or self.now() >= outage[1] + self.stale_view_seconds:
            return None
        return outage[0]

    # ---- faults ----------------------------------------------------------
    def add_fault(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(
        self, service: str, operation: str, region: str | None, kinds: tuple[str, ...]
    ) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.kind in kinds and fault.matches(service, operation, region):
                    fault.consume()
                    return fault
        return None

    def count_calls(self, operation: str, region: str | None = None) -> int:
        with self.lock:
            return sum(
                1 for (_s, op, reg) in self.calls if op == operation and (region is None or reg == region)
            )

    def reset(self) -> None:
        with self.lock:
            self.clock_offset = 0.0
            self.promotion_seconds = 30.0
            self.pending_seconds = 2.0
            self.resync_seconds = 60.0
            self.cache_failover_seconds = 10.0
            self.auto_complete = True
            self.force_complete = False
            self.dark_costs_timeout = False
            self.dark_http_seconds = 2.0
            self.dark_regions.clear()
            self.faults.clear()
            self.calls.clear()
            self.client_calls.clear()
            self.promotions.clear()
            self.promotion_requests.clear()
            self.dark_since.clear()
            self.last_outage.clear()
            self.stale_view_seconds = 0.0
            self.aurora_lag = None
            self.aurora_lag_slots.clear()
            self.deferred_dark_costs = None
            self.aurora_lag_log.clear()
            self.sync_during_outage = None
            self.db_instance_create_seconds = DB_INSTANCE_CREATE_SECONDS
            self.web_instance_ready_seconds = WEB_INSTANCE_READY_SECONDS
            self.headless_promotion = "refuse"
            self.db_instance_waits_for_writer = False
            self.settled_until = float("-inf")
            self.latest_datapoint.clear()
            self.queue_sends.clear()
            self.parameter_writes.clear()


STATE = EmulatorState()
