"""Run the emulator drill end to end: stacks → topology → emulator world → scenario → reports."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

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


def stacks_topology(
    database_standby: bool = True, front_door: str = "route53", full_page_cache: str | None = None, posture: str | None = None
) -> Topology:
    """Both stacks under the mock runner, exactly as `pulumi up` would run them, and (by default)
    the example database standby (examples/Pulumi.bunker.yaml) as a third member of the global database.
    `front_door="accelerator"` runs both stacks with `failover.globalAccelerator: true`; `full_page_cache`
    sets magento-dr:web.fullPageCache on both shop stacks (None: as their files say); `posture` sets the
    secondary's magento-dr:standby.posture (None: as its file says)."""
    from offline.runner import accelerator_overrides, load_stack_config, posture_overrides, run_database_standby, run_pair

    def overrides(stack: str) -> dict[str, Any] | None:
        merged: dict[str, Any] = {}
        if posture is not None and stack == "secondary":
            # The one place the drill sets a posture: the example secondary as a file written for it (offline/runner.py).
            merged.update(posture_overrides(posture))
        if front_door == "accelerator":
            accelerated = accelerator_overrides(stack)["magento-dr:failover"]
            merged["magento-dr:failover"] = {**accelerated, **(merged.get("magento-dr:failover") or {}), "globalAccelerator": True}
        if full_page_cache is not None:
            web = merged.get("magento-dr:web") or load_stack_config(stack).get("magento-dr:web") or {}
            merged["magento-dr:web"] = {**dict(web), "fullPageCache": full_page_cache}
        return merged or None

    primary, secondary = run_pair(primary_overrides=overrides("primary"), secondary_overrides=overrides("secondary"))
    standbys = [run_database_standby(primary)] if database_standby else []
    return build_topology(primary, secondary, standbys)


def run_emulator_drill(
    options: DrillOptions,
    reports_dir: Path,
    out: TextIO | None = None,
    topology: Topology | None = None,
    database_standby: bool = True,
    full_page_cache: str | None = None,
    posture: str | None = None,
) -> DrillRun:
    """`database_standby`, `full_page_cache` and `posture` apply only when the topology is built here (`topology` None)."""
    out = out or sys.stdout
    if topology is None:
        what = "both stacks and the example database standby (bunker)" if database_standby else "both stacks"
        if options.front_door == "accelerator":
            what += ", with failover.globalAccelerator: true"
        if full_page_cache is not None:
            what += f", with web.fullPageCache: {full_page_cache},"
        if posture is not None:
            what += f", the secondary standing by {posture},"
        print(f"Running {what} under Pulumi mocks (offline/runner.py) …", file=out, flush=True)
        topology = stacks_topology(database_standby, options.front_door, full_page_cache, posture)
    reports_dir.mkdir(parents=True, exist_ok=True)
    world = start(topology, options.transport)
    # The functions log JSON to stderr (as in Lambda); the drill keeps them in a file of its own
    # beside the report (a unique name, so two drills never write into one file).
    log_fd, log_name = tempfile.mkstemp(prefix="drill-functions-", suffix=".log", dir=reports_dir)
    log_path = Path(log_name)
    logger = get_logger()
    saved_handlers = list(logger.handlers)
    try:
        with os.fdopen(log_fd, "w") as log_file, process_env(world.endpoint_url):
            file_handler = logging.StreamHandler(log_file)
            if saved_handlers:
                file_handler.setFormatter(saved_handlers[0].formatter)
            logger.handlers = [file_handler]
            failover.reset_clients()
            try:
                result = Drill(topology, world, options, out).run()
            finally:
                logger.handlers = saved_handlers
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
