"""magento-dr emulator: moto + the AWS behaviour moto lacks, for tests and drills.

Usage (decorator mode)::

    import emulator
    from moto import mock_aws

    emulator.install()            # idempotent; patch moto before or after mock_aws starts
    with mock_aws():
        emulator.reset()
        emulator.set_promotion_time(30, pending_seconds=2)   # emulator seconds
        emulator.set_dark("us-east-1")                     # region unreachable
        emulator.inject_fault(kind="error", service="rds", operation="FailoverGlobalCluster",
                              error_code="Throttling", remaining=2)
        emulator.advance(31)                               # move emulator time
        emulator.complete_operations()                     # or finish now
        emulator.set_aurora_lag(LagModel(during_outage="grows"))  # Aurora publishes its lag metrics
        emulator.set_sync_during_outage("pending-resync")  # what members report while the writer is dark
        emulator.set_stale_view_after_outage(120)          # a returning region's DescribeGlobalClusters: its old view
        emulator.set_instance_timings(db_create_seconds=600, web_ready_seconds=240)  # DB / web instances coming up
        emulator.set_headless_promotion("accept")        # a promotion to a cluster with no available instance
        emulator.settle()                                  # everything created so far is ready (a seeded world)

Server mode: ``server, url = emulator.start_server()`` runs moto's
``ThreadedMotoServer`` on loopback with the extension installed; point clients at
``url`` (``AWS_ENDPOINT_URL``). Fault injection and darkness act on every botocore
client in this process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .aurora_metrics import LagModel
from .state import STATE, EmulatorState, Fault


def _builtin_amis_only() -> None:
    """moto loads some 1,400 AMIs into every region's EC2 backend (a quarter of a second of CPU each
    time a test or drill touches EC2 or Auto Scaling in a region, and again when moto resets) unless
    MOTO_AMIS_PATH names a file of them. The emulated world launches one AMI (drill/world.MOTO_AMI,
    one of moto's built-ins, copied into amis.json). moto reads the variable when its EC2 models are
    first imported: this runs before that, on import of the emulator."""
    os.environ.setdefault("MOTO_AMIS_PATH", str(Path(__file__).with_name("amis.json")))


_builtin_amis_only()

__all__ = [
    "STATE",
    "EmulatorState",
    "Fault",
    "LagModel",
    "advance",
    "clear_faults",
    "complete_operations",
    "inject_fault",
    "install",
    "reset",
    "set_aurora_lag",
    "set_dark",
    "set_dark_timeouts",
    "set_headless_promotion",
    "set_instance_timings",
    "set_promotion_time",
    "set_stale_view_after_outage",
    "set_sync_during_outage",
    "settle",
    "start_server",
]

_INSTALLED = False


def _cache_moto_module_list() -> None:
    """moto's server lists its own package directory (os.listdir and an isdir per module, ~170) on every request to
    route it (moto/moto_server/werkzeug_app.py get_backend_for_host): the list never changes while we run, so it is read
    once. About a third of the server's time per request in the drill's emulator."""
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


def install() -> EmulatorState:
    """Patch moto (RDS global failover/switchover, ElastiCache global datastore, S3 ownership and IAM), botocore fault hooks and
    botocore's own waits (emulator/client_time.py)."""
    global _INSTALLED
    if not _INSTALLED:
        from . import aurora_metrics, autoscaling, client_time, cloudwatch, elasticache, faults, opensearch_metrics, rds, s3, sns, sqs, ssm

        rds.install_rds()
        autoscaling.install_autoscaling()
        s3.install_s3()
        cloudwatch.install_cloudwatch()
        elasticache.install_elasticache()
        ssm.install_ssm()
        sqs.install_sqs()
        sns.install_sns()
        faults.install_fault_hooks()
        client_time.install_client_time()
        _cache_moto_module_list()
        # Order matters: operations finish (writer moves) before Aurora reports this minute's lag.
        faults.REFRESHERS.extend([rds.refresh, elasticache.refresh, aurora_metrics.refresh, opensearch_metrics.refresh])
        _INSTALLED = True
    return STATE


def reset() -> None:
    """Forget emulator-only state (faults, darkness, clock offset, global datastores)."""
    from . import elasticache, opensearch_metrics

    STATE.reset()
    elasticache.reset()
    opensearch_metrics.reset()


def set_dark(region: str, dark: bool = True) -> None:
    """Make every API call to ``region`` (and its loopback health URL) fail as unreachable."""
    STATE.set_dark(region, dark)


def set_aurora_lag(model: LagModel | None) -> None:
    """Make Aurora publish its global-database lag metrics under ``model`` (None: stop publishing)."""
    with STATE.lock:
        STATE.aurora_lag = model
        STATE.aurora_lag_slots.clear()


def set_sync_during_outage(status: str | None) -> None:
    """What every non-writer member reports as SynchronizationStatus while the writer's region is dark
    (None: its real status; "" : no status at all)."""
    with STATE.lock:
        STATE.sync_during_outage = status


def set_stale_view_after_outage(seconds: float) -> None:
    """For `seconds` of emulator time after a region comes back from dark, its RDS API answers DescribeGlobalClusters
    with the view it had when it went dark (AWS does not say, docs/aws-assumptions.md G6); 0: the current view."""
    if seconds < 0:
        raise ValueError(f"stale view of {seconds:g}s: a duration >= 0")
    with STATE.lock:
        STATE.stale_view_seconds = float(seconds)


def set_instance_timings(
    db_create_seconds: float | None = None, web_ready_seconds: float | None = None, *, db_waits_for_writer: bool | None = None
) -> None:
    """How long (emulator seconds) a DB instance added to a cluster stays `creating`, and a web instance an Auto
    Scaling group launches takes to be in service; each applies to what is created from now on. `db_waits_for_writer`:
    an instance in a secondary stays `creating` while the writer's region is dark."""
    with STATE.lock:
        if db_create_seconds is not None:
            STATE.db_instance_create_seconds = db_create_seconds
        if web_ready_seconds is not None:
            STATE.web_instance_ready_seconds = web_ready_seconds
        if db_waits_for_writer is not None:
            STATE.db_instance_waits_for_writer = db_waits_for_writer


def set_headless_promotion(answer: str) -> None:
    """What a global failover/switchover to a cluster with no available DB instance gets (AWS does not say):
    "refuse" (InvalidDBClusterStateFault) or "accept" (promoted; no writer instance until one is available)."""
    from .state import HEADLESS_PROMOTION_ANSWERS

    if answer not in HEADLESS_PROMOTION_ANSWERS:
        raise ValueError(f"headless promotion answer {answer!r}: one of {', '.join(HEADLESS_PROMOTION_ANSWERS)}")
    with STATE.lock:
        STATE.headless_promotion = answer


def settle() -> None:
    """Everything created or launched so far is ready now: DB instances available, web instances in service
    (a world seeded as if it had been running for a while)."""
    with STATE.lock:
        STATE.settled_until = STATE.now()


def set_dark_timeouts(enabled: bool = True, http_seconds: float = 2.0) -> None:
    """Make calls to a dark region cost their connect timeout in emulator time (see EmulatorState)."""
    with STATE.lock:
        STATE.dark_costs_timeout = enabled
        STATE.dark_http_seconds = http_seconds


def set_promotion_time(
    seconds: float,
    pending_seconds: float | None = None,
    *,
    auto_complete: bool = True,
    resync_seconds: float | None = None,
    cache_failover_seconds: float | None = None,
) -> None:
    """How long (emulator seconds) a global failover/switchover takes; ``auto_complete=False`` waits for
    :func:`complete_operations`."""
    with STATE.lock:
        STATE.promotion_seconds = seconds
        if pending_seconds is not None:
            STATE.pending_seconds = pending_seconds
        if resync_seconds is not None:
            STATE.resync_seconds = resync_seconds
        if cache_failover_seconds is not None:
            STATE.cache_failover_seconds = cache_failover_seconds
        STATE.auto_complete = auto_complete


def advance(seconds: float) -> None:
    """Move emulator time forward (transitions are evaluated on the next API call)."""
    STATE.advance(seconds)


def complete_operations(account: str = "123456789012") -> None:
    """Finish every in-flight global failover/switchover and cache failover now."""
    from . import elasticache, rds

    with STATE.lock:
        STATE.force_complete = True
        try:
            rds.refresh(account)
            elasticache.refresh(account)
        finally:
            STATE.force_complete = False


def inject_fault(kind: str = "error", **kwargs: Any) -> Fault:
    """Add a :class:`Fault` (see its docstring); returns it so tests can read ``hits``."""
    return STATE.add_fault(Fault(kind=kind, **kwargs))


def clear_faults() -> None:
    with STATE.lock:
        STATE.faults.clear()


class InProcess:
    """moto's mock in this process with the extension: the same backends and emulator as the server, no HTTP.
    `stop()` ends it (the interface of ThreadedMotoServer that the drill's world uses)."""

    def __init__(self) -> None:
        from moto import mock_aws

        install()
        self._mock = mock_aws()
        self._mock.start()  # starts from empty backends, as the server's reset does

    def stop(self) -> None:
        self._mock.stop()


def start_in_process() -> InProcess:
    """Start moto's mock in this process with the extension (the drill's `transport="in-process"`)."""
    return InProcess()


def start_server(port: int = 0) -> tuple[Any, str]:
    """Start moto's ThreadedMotoServer on 127.0.0.1 with the extension; returns (server, endpoint_url)."""
    from moto.server import ThreadedMotoServer

    install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, real_port = server.get_host_and_port()
    return server, f"http://{host}:{real_port}"
