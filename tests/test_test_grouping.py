"""`make unit` runs pytest-xdist with --dist loadgroup: tests marked with one xdist_group share a worker, so a module's
expensive fixtures (a whole drill, six stack graphs) are built once. pytest 9.2 silently broke that with xdist 3.8
(requirements-dev.txt pins pytest below 9); this keeps a version change from breaking it again unnoticed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MODULE = '''
import os
import pytest

pytestmark = pytest.mark.xdist_group("one")


@pytest.mark.parametrize("i", range(6))
def test_worker(i, tmp_path_factory):
    (tmp_path_factory.getbasetemp().parent / f"{i}.worker").write_text(os.environ["PYTEST_XDIST_WORKER"])
'''


def test_a_group_runs_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "test_grouped.py").write_text(MODULE)
    (tmp_path / "conftest.py").write_text("")
    base = tmp_path / "base"
    done = subprocess.run(  # noqa: S603 - our own interpreter, a fixed argument list
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup",
         f"--basetemp={base}", "test_grouped.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    workers = {p.read_text() for p in base.glob("*.worker")}
    assert len(list(base.glob("*.worker"))) == 6 and len(workers) == 1, workers
