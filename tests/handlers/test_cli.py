"""The operator CLI runs the same code paths with human-readable output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import emulator
from handlers import failover

from .conftest import PRIMARY, World


def test_status_is_read_only(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    rc = failover.main(["status"], world.env, world.clock)
    out = capsys.readouterr().out
    assert rc == 0 and out.startswith("OK: report-status") and "writer_here: False" in out


def test_failover_dry_run_then_real(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    emulator.set_dark(PRIMARY)
    assert failover.main(["failover", "--dry-run"], world.env, world.clock) == 0
    assert "dry run" in capsys.readouterr().out and world.promotions() == []
    assert failover.main(["failover"], world.env, world.clock) == 0
    out = capsys.readouterr().out
    assert "writer-promoted" in out and "notify" in out and len(world.promotions()) == 1


def test_refusal_exits_non_zero_and_json(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    rc = failover.main(["failover", "--json"], world.env, world.clock)
    result = json.loads(capsys.readouterr().out)
    assert rc == 1 and result["guard"] == "peer-healthy"


def test_configuration_error_names_the_variable(capsys: pytest.CaptureFixture[str]) -> None:
    assert failover.main(["status"], {}, None) == 2
    assert "MDR_" in capsys.readouterr().err


def test_module_entry_point_usage() -> None:
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-m", "handlers.failover", "--help"], cwd=root, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "status" in proc.stdout and "--dry-run" in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "handlers.failover", "explode"], cwd=root, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
