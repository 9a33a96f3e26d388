"""Lambda entry points (``handlers.failover.lambda_handler``; the readiness function's
``handlers.failover.readiness_handler``) and the operator CLI.

CLI: ``python -m handlers.failover status|failover|switchover|failback [--dry-run] [--force] [--json]``
(configuration from the same ``MDR_*`` environment variables as the Lambda), and
``python -m handlers.failover readiness [--now] [--json]``: the latest readiness result this region
stored (any of the two functions' environments), or a fresh read-only evaluation (``--now``, the
readiness function's environment).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .events import EventRejected, parse_event
from .obs import get_logger
from .settings import ReadinessSettings, Settings, SettingsError

if TYPE_CHECKING:
    from .aws import AwsAdapter
    from .readiness_aws import ReadinessAdapter
    from .runner import Clock, Outcome

_CACHE: dict[Settings, AwsAdapter] = {}
_READINESS_CACHE: dict[ReadinessSettings, ReadinessAdapter] = {}
_CACHE_LOCK = threading.Lock()


class FailoverError(RuntimeError):
    """Raised by the Lambda handler when an action failed (so Lambda's Errors metric sees it)."""


def adapter_for(settings: Settings) -> AwsAdapter:
    """One adapter (and one set of boto3 clients) per container and configuration."""
    with _CACHE_LOCK:
        adapter = _CACHE.get(settings)
        if adapter is None:
            from .aws import AwsAdapter

            adapter = AwsAdapter(settings)
            _CACHE[settings] = adapter
        return adapter


def readiness_adapter_for(settings: ReadinessSettings) -> ReadinessAdapter:
    """The readiness function's adapter, one per container and configuration."""
    with _CACHE_LOCK:
        adapter = _READINESS_CACHE.get(settings)
        if adapter is None:
            from .readiness_aws import ReadinessAdapter

            adapter = ReadinessAdapter(settings)
            _READINESS_CACHE[settings] = adapter
        return adapter


def reset_clients() -> None:
    """Forget cached clients (tests: after changing endpoints or moto sessions)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _READINESS_CACHE.clear()


def handle(
    event: Any,
    environ: Mapping[str, str] | None = None,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Parse, then run; returns the outcome dict. Rejected events make no AWS call at all."""
    env = os.environ if environ is None else environ
    log = get_logger(env.get("MDR_LOG_LEVEL", "INFO") if env.get("MDR_LOG_LEVEL") in ("DEBUG", "INFO", "WARNING", "ERROR") else "INFO")
    try:
        trigger = parse_event(event)
    except EventRejected as exc:
        log.warning("event rejected", extra={"reason": exc.reason})
        return {"ok": False, "action": "rejected", "reason": exc.reason}
    settings = Settings.from_env(env)
    from .runner import Runner

    outcome: Outcome = Runner(settings, adapter_for(settings), clock).run(trigger)
    return outcome.to_dict()


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    result = handle(event)
    if result.get("action") == "rejected":
        return result
    if not result.get("ok"):
        raise FailoverError(f"{result.get('action')}: {result.get('error') or result.get('reason')}")
    return result


def readiness_handler(event: Any, context: Any) -> dict[str, Any]:
    """The readiness function's entry point: one scheduled, read-only evaluation (handlers/readiness_runner.py)."""
    from .readiness_runner import handle as handle_readiness

    return handle_readiness(event, os.environ)


# ---------------------------------------------------------------------------- CLI
def _render(result: dict[str, Any]) -> str:
    lines = [f"{'OK' if result.get('ok') else 'FAILED'}: {result.get('action')} - {result.get('reason')}"]
    if result.get("dry_run"):
        lines.append("(dry run / read-only: no changes were made)")
    for key in ("kind", "guard", "error", "command_hint"):
        if result.get(key):
            lines.append(f"  {key}: {result[key]}")
    status = result.get("status") or {}
    if status:
        lines.append("status:")
        for key, value in status.items():
            lines.append(f"  {key}: {value}")
    if result.get("probes"):
        lines.append(f"peer probes: {['ok' if p else 'fail' for p in result['probes']]}")
    op = result.get("operation") or {}
    for entry in op.get("timeline", []):
        lines.append(f"  {entry['at']}  {entry['step']:<20} {entry['result']:<7} {entry['detail']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, clock: Clock | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handlers.failover", description="magento-dr failover operator CLI")
    parser.add_argument("action", choices=["status", "failover", "switchover", "failback", "readiness"])
    parser.add_argument("--dry-run", action="store_true", help="decide and report, change nothing")
    parser.add_argument("--force", action="store_true", help="override the RPO / sync / peer-healthy guards")
    parser.add_argument("--now", action="store_true", help="readiness: evaluate now (read-only) instead of printing the stored result")
    parser.add_argument("--json", action="store_true", help="print the machine-readable result")
    args = parser.parse_args(argv)
    if args.action == "readiness":
        return _readiness_cli(os.environ if environ is None else environ, clock, now=args.now, as_json=args.json)
    command = {"action": args.action, "dry_run": args.dry_run, "force": args.force, "requested_by": "cli"}
    try:
        result = handle(command, environ, clock)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, default=str) if args.json else _render(result))
    return 0 if result.get("ok") else 1


def _readiness_cli(environ: Mapping[str, str], clock: Clock | None, *, now: bool, as_json: bool) -> int:
    """The stored readiness result (exit 0 when ready), or with --now a fresh read-only evaluation."""
    from . import readiness
    from .runner import SystemClock

    clock = clock or SystemClock()
    try:
        if now:
            from .readiness_runner import evaluate_now

            settings = ReadinessSettings.from_env(environ)
            result = evaluate_now(settings, readiness_adapter_for(settings), clock, publish=False)
            stored: dict[str, object] | None = readiness.result_dict(result)
        else:
            stored = _stored_readiness(environ)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if stored is None:
        print("no readiness result stored in this region yet (the readiness function runs on its schedule; try --now)", file=sys.stderr)
        return 1
    print(json.dumps(stored, indent=2, default=str) if as_json else readiness.render(stored, clock.now()))
    return 0 if stored.get("ready") else 1


def _stored_readiness(environ: Mapping[str, str]) -> dict[str, object] | None:
    """Read {MDR_SSM_PREFIX}/failover/readiness in MDR_REGION (either function's environment has both)."""
    from . import readiness
    from .readiness_aws import read_stored

    region, prefix = (environ.get("MDR_REGION") or "").strip(), (environ.get("MDR_SSM_PREFIX") or "").strip()
    for name, value in (("MDR_REGION", region), ("MDR_SSM_PREFIX", prefix)):
        if not value:
            raise SettingsError(name, "is required but missing or empty")
    return readiness.decode(read_stored(region, prefix))


if __name__ == "__main__":
    raise SystemExit(main())
