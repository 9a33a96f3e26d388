"""Run the emulator drill end to end: stacks → topology → emulator world → scenario → reports."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import emulator
from handlers import failover
from handlers.obs import get_logger

from .report import summary_table, write_reports
from .scenario import Drill, DrillOptions, DrillResult
from .topology import Topology, build_topology
from .world import process_env, start


@dataclass
class DrillRun:
    result: DrillResult
    json_path: Path
    svg_path: Path
    log_path: Path


def stacks_topology() -> Topology:
    """Both stacks under the mock runner, exactly as `pulumi up` would run them."""
    from offline.runner import run_pair

    primary, secondary = run_pair()
    return build_topology(primary, secondary)


def run_emulator_drill(
    options: DrillOptions,
    reports_dir: Path,
    out: TextIO | None = None,
    topology: Topology | None = None,
) -> DrillRun:
    out = out or sys.stdout
    if topology is None:
        print("Running both stacks under Pulumi mocks (offline/runner.py) …", file=out, flush=True)
        topology = stacks_topology()
    reports_dir.mkdir(parents=True, exist_ok=True)
    world = start(topology)
    log_path = reports_dir / "drill-functions.log"
    # The functions log JSON to stderr (as in Lambda); the drill keeps them in a file beside the report.
    logger = get_logger()
    stream_handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    try:
        with open(log_path, "w") as log_file, process_env(world.endpoint_url):
            saved = [h.setStream(log_file) for h in stream_handlers]
            failover.reset_clients()
            try:
                result = Drill(topology, world, options, out).run()
            finally:
                for h, stream in zip(stream_handlers, saved, strict=True):
                    if stream is not None:
                        h.setStream(stream)
                failover.reset_clients()
    finally:
        emulator.reset()
        world.close()
    json_path, svg_path = write_reports(result, reports_dir)
    final_log = json_path.with_suffix(".functions.log")
    log_path.replace(final_log)
    print(summary_table(result), file=out)
    print(f"\n  report: {json_path}\n  chart:  {svg_path}\n  function logs: {final_log}", file=out, flush=True)
    return DrillRun(result, json_path, svg_path, final_log)
