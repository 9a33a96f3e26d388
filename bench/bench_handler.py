"""Benchmark of the failover handler (a script, not a timed test).

Prints: the handler's CPU time per evaluation and per failover (process CPU minus
the CPU spent inside the in-process emulated services; AWS waits are emulator time
and cost nothing), AWS API calls per failover, a readiness evaluation's API calls and
CPU and the timeouts it waits out while the peer region is dark, cold-import time of the
Lambda module, and the deployment package size (zip of handlers/, no vendored boto3).

Run: ``python bench/bench_handler.py``
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cold_import_ms(module: str, runs: int = 5) -> float:
    code = f"import time; t=time.perf_counter(); import {module}; print((time.perf_counter()-t)*1000)"
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-X", "frozen_modules=on", "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603 - our own interpreter
        samples.append(float(out.stdout.strip()))
    return statistics.median(samples)


def package_size() -> tuple[int, int]:
    buf = io.BytesIO()
    files = 0
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted((ROOT / "handlers").rglob("*.py")):
            if path.name == "writer_gate.py":  # the accelerator's writer gate ships as a function of its own
                continue
            zf.write(path, path.relative_to(ROOT).as_posix())
            files += 1
    return len(buf.getvalue()), files


class _MotoTimer:
    """Accumulates CPU spent inside the emulated services (moto) so it can be subtracted."""

    def __init__(self) -> None:
        self.cpu = 0.0

    def install(self) -> None:
        from moto.core.responses import BaseResponse

        original = BaseResponse.call_action
        timer = self

        def timed(self: Any) -> Any:
            t = time.process_time()
            try:
                return original(self)
            finally:
                timer.cpu += time.process_time() - t

        BaseResponse.call_action = timed  # type: ignore[method-assign]


def main() -> None:
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-west-2"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import emulator
    from emulator.health import HealthEndpoints

    emulator.install()
    moto_timer = _MotoTimer()
    moto_timer.install()

    from moto import mock_aws

    from handlers import failover
    from tests.handlers.conftest import PRIMARY, SCHEDULED, _build

    health = HealthEndpoints()
    evals: list[float] = []
    fails: list[float] = []
    calls: list[int] = []
    for i in range(5):
        with mock_aws():
            emulator.reset()
            emulator.set_promotion_time(30, pending_seconds=2, cache_failover_seconds=10)
            failover.reset_clients()
            world = _build(health)
            world.run(SCHEDULED)  # warm clients (client creation is a cold-start cost, reported separately)
            for _ in range(3):
                moto_timer.cpu = 0.0
                r = world.run(SCHEDULED)
                evals.append(r["cpu_seconds"] - moto_timer.cpu)
            emulator.set_dark(PRIMARY)
            moto_timer.cpu = 0.0
            r = world.run(SCHEDULED)
            assert r["ok"] and r["operation"]["status"] == "complete", r
            fails.append(r["cpu_seconds"] - moto_timer.cpu)
            calls.append(r["api_calls"])
            if i == 0:
                print(f"(failover run: action={r['action']}, emulated promotion wait {world.clock.slept:.0f}s of emulator time)")
    ready_cpu: list[float] = []
    ready_calls: list[int] = []
    dark_waits: list[float] = []
    from handlers.readiness_runner import handle as handle_readiness
    from tests.handlers.test_readiness_moto import build_ready

    for _ in range(3):
        with mock_aws():
            emulator.reset()
            failover.reset_clients()
            world = _build(health)
            ready = build_ready(world)
            ready.run()  # warm clients (created once per container, as the failover function's are)
            for _ in range(3):
                moto_timer.cpu = 0.0
                out = handle_readiness({"action": "readiness"}, ready.env, world.clock)
                ready_cpu.append(out["cpu_seconds"] - moto_timer.cpu)
                ready_calls.append(out["api_calls"])
            # The peer region (here also Route 53's us-east-1) dark: each of its calls waits out one connect timeout.
            emulator.set_dark_timeouts(True)
            emulator.set_dark(PRIMARY)
            before = emulator.STATE.clock_offset
            out = handle_readiness({"action": "readiness"}, ready.env, world.clock)
            dark_waits.append(emulator.STATE.clock_offset - before)
    health.close()
    size, nfiles = package_size()
    print("magento-dr failover handler benchmark")
    print(f"  CPU per evaluation (steady state, excl. AWS): median {statistics.median(evals) * 1000:.1f} ms")
    print(f"  CPU per failover (excl. AWS waits/emulator):  median {statistics.median(fails) * 1000:.1f} ms")
    print(f"  AWS API calls per failover (incl. probes):    {statistics.median(calls):.0f}")
    print(f"  readiness evaluation: AWS API calls           {statistics.median(ready_calls):.0f} (17 checks, one region's view)")
    print(f"  readiness evaluation: CPU (excl. AWS)         median {statistics.median(ready_cpu) * 1000:.1f} ms")
    print(f"  readiness with peer/us-east-1 dark: waits     {statistics.median(dark_waits):.1f} s of connect timeouts (probe timeout 0.5 s here)")
    print(f"  cold import handlers.failover:                {cold_import_ms('handlers.failover'):.1f} ms (target < 300 ms)")
    print(f"  cold import handlers.aws (+boto3):            {cold_import_ms('handlers.aws'):.1f} ms")
    print(f"  deployment package (zip of handlers/):        {size / 1024:.1f} KB, {nfiles} files (target < 100 KB, no boto3)")


if __name__ == "__main__":
    main()
