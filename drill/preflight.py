"""Before `pulumi up`: the account settings that would stop a deploy half-way, read-only.

    python -m drill.preflight --stack primary            # reads the region from Pulumi.primary.yaml
    aws lambda get-account-settings --region us-east-1 > s.json && python -m drill.preflight --stack primary --account-settings s.json

The failover function reserves concurrency (components/failover_automation.RESERVED_CONCURRENCY) so
it runs when the account's other functions use everything else. Lambda refuses a reservation that
leaves fewer than 100 unreserved executions: "You can reserve up to the Unreserved account
concurrency value minus 100" — and new accounts start with a "reduced" concurrency quota (AWS gives
no figure; accounts with 10 and 50 are reported), so the first deploy would fail at the function,
after the network, database and web tier exist. This check says so before anything is created,
with the fix. https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
The deploy workflow runs it before each shop stack's `pulumi up`; `make drill TARGET=aws` runs the
same check against the deployed functions.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from components.failover_automation import RESERVED_CONCURRENCY
from components.naming import physical_name
from handlers.readiness import MIN_UNRESERVED_CONCURRENCY
from handlers.readiness import concurrency_problem as readiness_concurrency_problem


def concurrency_problem(account_settings: Mapping[str, Any], already_reserved: int, wanted: int = RESERVED_CONCURRENCY) -> str | None:
    """Why reserving `wanted` for the function (which holds `already_reserved` now) would fail, or None.

    The rule is the readiness core's (handlers/readiness.py), so the deploy's preflight, `make drill TARGET=aws`
    and the readiness function every few minutes judge the account alike.
    """
    return readiness_concurrency_problem(account_settings, already_reserved, wanted)


PROJECT_ROOT = Path(__file__).resolve().parent.parent
__all__ = ["MIN_UNRESERVED_CONCURRENCY", "concurrency_problem", "main", "stack_region"]


def stack_region(stack: str, root: Path = PROJECT_ROOT) -> str:
    path = root / f"Pulumi.{stack}.yaml"
    config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    region = config.get("magento-dr:region")
    if not isinstance(region, str):
        raise SystemExit(f"{path.name}: magento-dr:region is not set")
    return region


def _reserved_now(lambda_client: Any, function_name: str) -> int:
    try:
        return int(lambda_client.get_function_concurrency(FunctionName=function_name).get("ReservedConcurrentExecutions") or 0)
    except lambda_client.exceptions.ResourceNotFoundException:
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drill.preflight", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="a shop stack (its Pulumi.<stack>.yaml names the region)")
    parser.add_argument("--account-settings", type=Path, help="saved `aws lambda get-account-settings` output (default: ask AWS)")
    parser.add_argument("--already-reserved", type=int, help="the function's current reservation (default: ask AWS; 0 if absent)")
    args = parser.parse_args(argv)
    region = stack_region(args.stack)
    function_name = physical_name(args.stack, region, "failover")
    client: Any = None
    if args.account_settings is None or args.already_reserved is None:
        import boto3

        client = boto3.client("lambda", region_name=region)
    settings = json.loads(args.account_settings.read_text()) if args.account_settings else client.get_account_settings()
    reserved = args.already_reserved if args.already_reserved is not None else _reserved_now(client, function_name)
    problem = concurrency_problem(settings, reserved)
    if problem:
        print(f"✘ {args.stack} ({region}): {problem}", file=sys.stderr)
        return 1
    left = int(settings["AccountLimit"]["UnreservedConcurrentExecutions"]) - max(0, RESERVED_CONCURRENCY - reserved)
    print(f"✔ {args.stack} ({region}): Lambda concurrency leaves {left} unreserved after {function_name}'s reservation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
