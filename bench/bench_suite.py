"""Benchmark of the test suite (a script, not a timed test): the pytest part of `make test`, as `make unit` runs it.

Prints the wall time, the number of workers and tests, the time the tests themselves took (setup, call and teardown,
summed over workers), and the files that take the most of it.

Run: ``python bench/bench_suite.py`` (extra arguments go to pytest, e.g. ``-n 1`` or a path).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DURATION = re.compile(r"^(\d+\.\d+)s (setup|call|teardown)\s+(\S+?)::")
SUMMARY = re.compile(r"(\d+) passed")


def main(argv: list[str]) -> int:
    cmd = [sys.executable, "-m", "pytest", "-q", "-n", "auto", "--dist", "loadgroup", "-p", "no:warnings", "--durations=0", "-vv", *argv]
    started = time.perf_counter()
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603 - our interpreter, fixed arguments
    wall = time.perf_counter() - started
    lines = run.stdout.splitlines()
    by_file: Counter[str] = Counter()
    for line in lines:
        m = DURATION.match(line)
        if m:
            by_file[m.group(3)] += float(m.group(1))
    passed = next((int(m.group(1)) for line in reversed(lines) if (m := SUMMARY.search(line))), 0)
    print("magento-dr test suite benchmark (the pytest part of make test)")
    print(f"  wall time:                {wall:6.1f} s  (pytest exit {run.returncode}; -n auto: one worker per CPU, {os.cpu_count()} here)")
    print(f"  tests passed:             {passed:6d}")
    print(f"  tests' own time (summed): {sum(by_file.values()):6.1f} s  (setup + call + teardown, every worker)")
    print("  files taking the most of it:")
    for path, seconds in by_file.most_common(10):
        print(f"    {seconds:6.1f} s  {path}")
    if run.returncode != 0:
        print("\n".join(lines[-30:]), file=sys.stderr)
    return run.returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
