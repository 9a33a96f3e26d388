"""What the drill test files share: fast timings, the evidence step's name, an invariant lookup."""

from __future__ import annotations

from drill.run import DrillRun

# Emulated seconds, no wall-clock pacing: a whole drill in a few seconds of CPU.
FAST = {"speed": 0.0, "transport": "in-process", "promotion_seconds": 40.0, "resync_seconds": 60.0, "cache_failover_seconds": 10.0, "recovery_periods": 3}
EVIDENCE_STEP = "RPO judged on the lag before the loss of contact"


def invariant_ok(run: DrillRun, name: str) -> bool:
    return next(i for i in run.result.invariants if i.name == name).ok
