"""Lambda entry point (``handlers.failover.lambda_handler``) and operator CLI.

CLI: ``python -m handlers.failover status|failover|switchover|failback [--dry-run] [--force] [--json]``
(configuration from the same ``MDR_*`` environment variables as the Lambda).
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
from .settings import Settings, SettingsError

if TYPE_CHECKING:
    from .aws import AwsAdapter
    from .runner import Clock, Outcome

_CACHE: dict[Settings, AwsAdapter] = {}
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


def reset_clients() -> None:
    """Forget cached clients (tests: after changing endpoints or moto sessions)."""
    with _CACHE_LOCK:
        _CACHE.clear()


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
    parser.add_argument("action", choices=["status", "failover", "switchover", "failback"])
    parser.add_argument("--dry-run", action="store_true", help="decide and report, change nothing")
    parser.add_argument("--force", action="store_true", help="override the RPO / sync / peer-healthy guards")
    parser.add_argument("--json", action="store_true", help="print the machine-readable result")
    args = parser.parse_args(argv)
    command = {"action": args.action, "dry_run": args.dry_run, "force": args.force, "requested_by": "cli"}
    try:
        result = handle(command, environ, clock)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, default=str) if args.json else _render(result))
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    raise SystemExit(main())
