"""`python -m drill`: the regional-failover drill (emulator by default; `--target aws` for a real account).

    python -m drill                                   # full scenario on the embedded emulator (variant "default")
    python -m drill --variant lag-above-rpo           # one answer to what AWS leaves open (see --help for the list)
    python -m drill --scenario flap                   # primary back during confirmation: no failover
    python -m drill --front-door accelerator          # the stacks with failover.globalAccelerator: the accelerator's path, Route 53's beside it
    python -m drill --no-database-standby             # only the shop pair (no third member, examples/Pulumi.bunker.yaml)
    python -m drill --full-page-cache varnish         # both shop stacks with Varnish: the failover must empty every Varnish
    python -m drill --posture pilot-light             # the secondary stands by as pilot light: prepared, then promoted
    python -m drill --outage-operations               # emergency `pulumi up` of each surviving stack while the other region is dark (offline)
    python -m drill --target aws --outputs-primary p.json --outputs-secondary s.json            # read-only readiness
    python -m drill --target aws --outputs-primary p.json --outputs-secondary s.json --execute  # + switchover and failback

Exit 0 when every step and invariant held, 1 otherwise, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .scenario import DrillOptions
from .variants import VARIANTS


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m drill",
        description="magento-dr regional failover drill",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="variants (--variant; each plays one answer to what AWS leaves open, with the outcome expected):\n"
        + "\n".join(f"  {v.name:<20} {v.description}" for v in VARIANTS.values()),
    )
    parser.add_argument("--target", choices=["emulator", "aws"], default="emulator")
    parser.add_argument("--scenario", choices=["full", "flap"], default="full")
    parser.add_argument("--variant", choices=list(VARIANTS), default="default", help="emulator: what AWS does that it does not document (list below)")
    parser.add_argument("--speed", type=float, default=100.0, help="emulator seconds per wall second (0: no pacing); default 100")
    parser.add_argument("--promotion-seconds", type=float, default=60.0, help="Aurora promotion time in emulator seconds (default 60, AWS's typical figure)")
    parser.add_argument(
        "--front-door",
        choices=["route53", "accelerator"],
        default="route53",
        help="emulator: where the shop's name leads: the Route 53 failover pair (default), or Global Accelerator (both stacks run with "
        "failover.globalAccelerator: true; the invariants hold the accelerator, Route 53's answers are shown beside it)",
    )
    parser.add_argument(
        "--accelerator-reaction-seconds",
        type=float,
        default=None,
        help="with --front-door accelerator: how soon the accelerator acts on an endpoint's health (default: the stacks' budget, 30 s, "
        "AWS's figure; 0 plays it instant: AWS does not document which applies)",
    )
    parser.add_argument(
        "--no-database-standby",
        action="store_true",
        help="emulator: leave out the example database standby (examples/Pulumi.bunker.yaml, a third Aurora member)",
    )
    parser.add_argument(
        "--full-page-cache",
        choices=["redis", "varnish"],
        help="emulator: set magento-dr:web.fullPageCache on both shop stacks (default: as their files say); "
        "the drill then checks the post-failover command empties every Varnish of the region",
    )
    parser.add_argument(
        "--posture",
        choices=["pilot-light", "warm", "hot"],
        help="emulator: set magento-dr:standby.posture on the secondary (default: as its file says, warm); pilot light has the "
        "failover function add DB instances and web capacity before it promotes",
    )
    parser.add_argument("--reports", type=Path, default=Path("reports"), help="folder for the JSON report and SVG chart")
    parser.add_argument("--execute", action="store_true", help="aws: after a passing readiness check, run a planned switchover and failback")
    parser.add_argument("--outputs-primary", type=Path, help="aws: `pulumi stack output --json --show-secrets=false -s primary` saved to a file")
    parser.add_argument("--outputs-secondary", type=Path, help="aws: the same for the secondary stack")
    parser.add_argument("--max-drill-age-days", type=int, default=90, help="aws: readiness fails when the last drill report is older")
    parser.add_argument(
        "--outage-operations",
        action="store_true",
        help="only the outage-operations step: each surviving stack's emergency update while the other region is dark (RUNBOOK)",
    )
    args = parser.parse_args(argv)
    if args.speed < 0:
        parser.error("--speed must be >= 0")
    if args.outage_operations:
        if args.target != "emulator" or args.execute:
            parser.error("--outage-operations runs offline, under mocks: leave out --target aws and --execute")
        from .outage_ops import run_outage_operations

        return 0 if run_outage_operations(reports_dir=args.reports).ok else 1

    if args.target == "aws":
        if args.front_door != "route53" or args.accelerator_reaction_seconds is not None:
            parser.error("--front-door applies to the emulator drill (--target aws reads whatever the deployed stacks export)")
        if args.no_database_standby:
            parser.error("--no-database-standby only applies to the emulator drill (--target aws checks the shop pair)")
        if args.full_page_cache:
            parser.error("--full-page-cache only applies to the emulator drill (--target aws reads what is deployed)")
        if args.posture:
            parser.error("--posture only applies to the emulator drill (--target aws reads what is deployed)")
        if not (args.outputs_primary and args.outputs_secondary):
            parser.error("--target aws needs --outputs-primary and --outputs-secondary (pulumi stack output --json)")
        from .readiness import main_aws

        return main_aws(args.outputs_primary, args.outputs_secondary, args.reports, execute=args.execute, max_drill_age_days=args.max_drill_age_days)
    if args.execute:
        parser.error("--execute only applies to --target aws (the emulator drill always executes)")
    if args.scenario == "flap" and args.variant != "default":
        parser.error("--variant applies to --scenario full (the flap scenario never fails over)")
    wanted = VARIANTS[args.variant].posture
    if wanted and args.posture and wanted != args.posture:
        parser.error(f"--variant {args.variant} plays a {wanted} standby, not {args.posture}: leave --posture out")
    args.posture = args.posture or wanted or None  # a variant about one posture plays it without being told
    if args.accelerator_reaction_seconds is not None and (args.front_door != "accelerator" or args.accelerator_reaction_seconds < 0):
        parser.error("--accelerator-reaction-seconds takes a number >= 0, with --front-door accelerator")

    from .run import run_emulator_drill

    options = DrillOptions(
        scenario=args.scenario,
        variant=args.variant,
        speed=args.speed,
        promotion_seconds=args.promotion_seconds,
        front_door=args.front_door,
        accelerator_reaction_seconds=args.accelerator_reaction_seconds,
    )
    run = run_emulator_drill(
        options, args.reports, database_standby=not args.no_database_standby, full_page_cache=args.full_page_cache, posture=args.posture
    )
    return 0 if run.result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
