"""`make drill TARGET=aws`: a read-only readiness check of the deployed pair, and (only with --execute) a planned drill.

Input: each stack's outputs (`pulumi stack output --json -s <stack>` saved to a file).
Each region is judged by the very checks its readiness function runs every few minutes
(handlers/readiness.py, read through handlers/readiness_aws.py with the deployed function's own
environment), seen from that region: writer, members, lag, engine version, parameters, credentials,
capacity, cache, search, media replication, release, the failover function, post-failover steps,
the peer, health checks, backups. Then the two regions' parameter digests, both read now (each function
compares its own with the one the peer stored, up to a schedule old). Beside them, what only an
operator's credentials can read:
which dimension sets Aurora publishes the lag under, the EC2 vCPU quota, both functions' mode,
their roles' permissions (IAM policy simulation, the promotion grants on every member), the media
buckets' ownership setting, and the last executed drill.

`--execute` (after a passing check) invokes the secondary's function with
`switchover` and then the primary's with `failback`: planned operations without
data loss. The drill never asks for a data-loss failover and never uses `force`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from components.failover_iam import PROMOTION_ACTIONS
from components.media_bucket import MEDIA_OBJECT_OWNERSHIP
from drill.accelerator_readiness import accelerator_checks
from emulator.iam_policy import Request as IamRequest
from emulator.iam_policy import denied_actions
from emulator.iam_policy import evaluate as iam_evaluate
from handlers.decide import LAG_METRICS
from handlers.readiness import Status
from handlers.readiness_aws import ReadinessAdapter
from handlers.readiness_runner import evaluate_now
from handlers.settings import ReadinessSettings, SettingsError

# Every AWS action handlers/aws.py calls (docs/failover-automation.md "Permissions");
# tests/drill/test_readiness.py checks the stacks' failover role grants each one.
HANDLER_ACTIONS = (
    "rds:DescribeGlobalClusters",
    "rds:DescribeDBClusters",
    "rds:FailoverGlobalCluster",
    "rds:SwitchoverGlobalCluster",
    "rds:DescribeDBInstances",
    "rds:CreateDBInstance",
    "cloudwatch:GetMetricData",
    "cloudwatch:PutMetricData",
    "ssm:GetParameters",
    "ssm:PutParameter",
    "ssm:DeleteParameter",
    "ssm:SendCommand",
    "ssm:GetCommandInvocation",
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:UpdateAutoScalingGroup",
    "ec2:DescribeInstances",
    "elasticache:DescribeGlobalReplicationGroups",
    "elasticache:FailoverGlobalReplicationGroup",
    "sns:Publish",
)

# Every AWS action handlers/readiness_aws.py calls (components/readiness_iam.py); tests/drill/test_readiness.py
# checks it against the adapter and the stacks' readiness role.
READINESS_ACTIONS = (
    "rds:DescribeGlobalClusters",
    "rds:DescribeDBClusters",
    "rds:DescribeDBClusterParameters",
    "rds:DescribeDBParameters",
    "cloudwatch:GetMetricData",
    "cloudwatch:PutMetricData",
    "ssm:GetParameters",
    "ssm:GetParameter",
    "ssm:PutParameter",
    "secretsmanager:DescribeSecret",
    "autoscaling:DescribeAutoScalingGroups",
    "elasticache:DescribeGlobalReplicationGroups",
    "elasticache:DescribeReplicationGroups",
    "es:DescribeDomain",
    "s3:GetReplicationConfiguration",
    "scheduler:GetSchedule",
    "lambda:GetFunctionConcurrency",
    "lambda:GetAccountSettings",
    "route53:GetHealthCheck",
    "route53:GetHealthCheckStatus",
)

# Service Quotas: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", in vCPUs.
# https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html
EC2_STANDARD_VCPU_QUOTA = ("ec2", "L-1216C47A")
LAG_NAMESPACE = "AWS/RDS"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # could not be judged; does not fail the check

    def line(self) -> str:
        mark = "✔" if self.ok else ("!" if self.warning else "✘")
        return f"  {mark} {self.name:<28} {self.detail}"


def load_outputs(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or "region" not in data:
        raise ValueError(f"{path}: not `pulumi stack output --json` of a magento-dr stack (no 'region')")
    return data


ClientFactory = Callable[[str, str], Any]
AdapterFactory = Callable[[ReadinessSettings], Any]


class _FixedClock:
    """The readiness core's clock for one read-only evaluation at `now`."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        return None


def _default_clients() -> ClientFactory:
    session = boto3.session.Session()
    cache: dict[tuple[str, str], Any] = {}

    def client(service: str, region: str) -> Any:
        if (service, region) not in cache:
            cache[(service, region)] = session.client(service, region_name=region)  # type: ignore[call-overload]
        return cache[(service, region)]

    return client


def _err(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        e = exc.response.get("Error", {})
        return f"{e.get('Code')}: {e.get('Message')}"
    return f"{type(exc).__name__}: {exc}"


class Readiness:
    def __init__(
        self,
        primary: Mapping[str, Any],
        secondary: Mapping[str, Any],
        *,
        clients: ClientFactory | None = None,
        reports_dir: Path = Path("reports"),
        max_drill_age_days: int = 90,
        now: float | None = None,
        adapters: AdapterFactory = ReadinessAdapter,
    ) -> None:
        self.p, self.s = primary, secondary
        self.client = clients or _default_clients()
        self.adapters = adapters
        self.reports_dir = reports_dir
        self.max_age = max_drill_age_days
        self.now = time.time() if now is None else now
        #: region -> the parameter digest its evaluation read ("" when unread).
        self.digests: dict[str, str] = {}

    def run(self) -> list[Check]:
        checks: list[Check] = []
        for fn in (
            lambda: self.region_checks(self.p),
            lambda: self.region_checks(self.s),
            self.check_parameter_digests,
            self.check_lag_dimensions,
            self.check_vcpu_quota,
            self.check_functions,
            self.check_permissions,
            self.check_promotion_grants,
            self.check_media_ownership,
            self.check_accelerator,
            self.check_last_drill,
        ):
            try:
                checks.extend(fn())
            except (ClientError, BotoCoreError) as exc:
                checks.append(Check(getattr(fn, "__name__", "readiness").removeprefix("check_").replace("_", " "), False, _err(exc)))
        return checks

    # ---------------------------------------------------------------- the readiness function's own checks
    def region_checks(self, out: Mapping[str, Any]) -> list[Check]:
        """What the region's readiness function would answer now, by its own code and environment, read with our credentials."""
        region, name = out["region"], out.get("readinessFunctionName")
        if not name:
            return [Check(f"{region} readiness", False, "the stack exports no readinessFunctionName: deploy this version (pulumi up)", warning=True)]
        cfg = self.client("lambda", region).get_function_configuration(FunctionName=name)
        try:
            settings = ReadinessSettings.from_env((cfg.get("Environment") or {}).get("Variables") or {})
        except SettingsError as exc:
            return [Check(f"{region} readiness", False, f"{name}'s environment: {exc}; run pulumi up")]
        result = evaluate_now(settings, self.adapters(settings), _FixedClock(self.now), publish=False)
        self.digests[region] = result.parameter_digest
        return [
            Check(
                f"{region} {c.name}",
                c.status == Status.PASS,
                c.reason + (f" — fix: {c.fix}" if c.fix and c.status != Status.PASS else ""),
                warning=c.status == Status.WARN,
            )
            for c in result.checks
        ]

    def check_parameter_digests(self) -> list[Check]:
        """Both regions run the same database parameters and engine version: their digests, both read just now."""
        p, s = (self.digests.get(o["region"], "") for o in (self.p, self.s))
        detail = f"{self.p['region']} {p or 'unread'}, {self.s['region']} {s or 'unread'}"
        if not p or not s:
            return [Check("parameter digests", False, f"{detail} (see each region's parameters check)", warning=True)]
        if p != s:
            detail += (
                ": the regions run different database parameters or engine versions; "
                "each region's parameters and engine-version checks name its drift"
            )
        return [Check("parameter digests", p == s, detail)]

    def check_lag_dimensions(self) -> list[Check]:
        """Which dimension sets Aurora publishes the lag under in this account (not documented; docs/aws-assumptions.md A5).
        The readiness check and the function read both; this says which one answered (ListMetrics)."""
        cw = self.client("cloudwatch", self.s["region"])
        cluster = {"Name": "DBClusterIdentifier", "Value": self.s["dbClusterId"]}
        found = {
            f"{metric} ({', '.join(d['Name'] for d in m['Dimensions'])})"
            for metric in LAG_METRICS
            for m in cw.list_metrics(Namespace=LAG_NAMESPACE, MetricName=metric, Dimensions=[cluster]).get("Metrics", [])
        }
        if not found:
            return [Check("lag dimensions published", False, f"no {' or '.join(LAG_METRICS)} for {self.s['dbClusterId']} (the failover guard would block)",
                          warning=True)]
        return [Check("lag dimensions published", True, "; ".join(sorted(found)))]

    # ---------------------------------------------------------------- capacity
    def check_vcpu_quota(self) -> list[Check]:
        region = self.s["region"]
        try:
            quota = self.client("service-quotas", region).get_service_quota(ServiceCode=EC2_STANDARD_VCPU_QUOTA[0], QuotaCode=EC2_STANDARD_VCPU_QUOTA[1])
            limit = float(quota["Quota"]["Value"])
            groups = self.client("autoscaling", region).describe_auto_scaling_groups(AutoScalingGroupNames=[self.s["asgName"]])["AutoScalingGroups"]
            instance_type = _instance_type(self.client("ec2", region), groups[0]) if groups else None
            vcpus = 2
            if instance_type:
                info = self.client("ec2", region).describe_instance_types(InstanceTypes=[instance_type])["InstanceTypes"]
                vcpus = int(info[0]["VCpuInfo"]["DefaultVCpus"]) if info else 2
            need = vcpus * int(float(self.s["productionCapacity"]["max_size"]))
        except (ClientError, BotoCoreError, KeyError, IndexError) as exc:
            return [Check("EC2 vCPU quota", False, f"could not read ({_err(exc)})", warning=True)]
        return [Check("EC2 vCPU quota", limit >= need, f"quota {limit:g} vCPUs in {region}; production max needs {need} (+ whatever else runs there)")]

    # ---------------------------------------------------------------- automation
    def _env(self, out: Mapping[str, Any]) -> dict[str, str]:
        cfg = self.client("lambda", out["region"]).get_function_configuration(FunctionName=out["failoverFunctionName"])
        return dict((cfg.get("Environment") or {}).get("Variables") or {})

    def check_functions(self) -> list[Check]:
        out = []
        for o in (self.p, self.s):
            env = self._env(o)
            mode = env.get("MDR_MODE", "notify")
            out.append(Check(f"{o['region']} function", mode in ("automatic", "notify"), f"{o['failoverFunctionName']} MDR_MODE={mode}"))
        return out

    def check_permissions(self) -> list[Check]:
        out = []
        for o in (self.p, self.s):
            for label, key, actions in (("IAM permissions", "failoverFunctionName", HANDLER_ACTIONS),
                                        ("readiness IAM permissions", "readinessFunctionName", READINESS_ACTIONS)):
                if not o.get(key):
                    continue
                role_arn = self.client("lambda", o["region"]).get_function_configuration(FunctionName=o[key])["Role"]
                denied = simulate(self.client("iam", o["region"]), role_arn, actions)
                out.append(
                    Check(
                        f"{o['region']} {label}",
                        not denied,
                        f"{role_arn}: all {len(actions)} actions allowed" if not denied else f"{role_arn} lacks {', '.join(denied)}",
                    )
                )
        return out

    # ---------------------------------------------------------------- AWS behaviour the program assumes
    # (docs/aws-assumptions.md): each check reads what a real account answers, read-only.
    def check_promotion_grants(self) -> list[Check]:
        """Each function's role may promote with the global cluster and *both* clusters named: which member
        RDS authorizes is undocumented (components/failover_iam.PROMOTION_ACTIONS)."""
        out = []
        for own, peer in ((self.p, self.s), (self.s, self.p)):
            role_arn = self.client("lambda", own["region"]).get_function_configuration(FunctionName=own["failoverFunctionName"])["Role"]
            account = own["dbClusterArn"].split(":")[4]
            resources = [f"arn:aws:rds::{account}:global-cluster:{own['globalClusterId']}", own["dbClusterArn"], peer["dbClusterArn"]]
            denied = simulate_on_resources(self.client("iam", own["region"]), role_arn, PROMOTION_ACTIONS, resources)
            out.append(
                Check(
                    f"{own['region']} promotion grant",
                    not denied,
                    f"{', '.join(PROMOTION_ACTIONS)} on the global cluster and both clusters" if not denied else "denied: " + "; ".join(denied),
                )
            )
        return out

    def check_media_ownership(self) -> list[Check]:
        """Both media buckets accept the ACL Magento's driver sends (docs/media.md "What Magento sends")."""
        out = []
        for o in (self.p, self.s):
            bucket = o.get("mediaBucketName")
            if not bucket:
                out.append(Check(f"{o['region']} media bucket", False, "no mediaBucketName exported", warning=True))
                continue
            rules = self.client("s3", o["region"]).get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
            ownership = rules[0]["ObjectOwnership"] if rules else "none"
            out.append(
                Check(
                    f"{o['region']} media bucket",
                    ownership == MEDIA_OBJECT_OWNERSHIP,
                    f"{bucket} ObjectOwnership={ownership}"
                    + ("" if ownership == MEDIA_OBJECT_OWNERSHIP else f"; Magento's x-amz-acl: private needs {MEDIA_OBJECT_OWNERSHIP} (run pulumi up)"),
                )
            )
        return out

    def check_accelerator(self) -> list[Check]:
        """With failover.globalAccelerator: the accelerator honours the writer gates (docs/aws-assumptions.md G2)."""
        if self.p.get("globalAccelerator") is not True and self.s.get("globalAccelerator") is not True:
            return []
        rds = self.client("rds", self.s["region"])
        members = rds.describe_global_clusters(GlobalClusterIdentifier=self.p["globalClusterId"])["GlobalClusters"][0].get("GlobalClusterMembers", [])
        writer = next((str(m["DBClusterArn"]).split(":")[3] for m in members if m.get("IsWriter")), "")
        return accelerator_checks(self.p, self.s, writer, self.client, Check)

    def check_last_drill(self) -> list[Check]:
        newest = last_executed_drill(self.reports_dir)
        if newest is None:
            return [
                Check("last drill", False, f"no executed drill report under {self.reports_dir}/ (run with --execute in a maintenance window)", warning=True)
            ]
        age_days = (self.now - newest) / 86400
        return [Check("last drill", age_days <= self.max_age, f"{age_days:.0f} days ago (limit {self.max_age})")]


def _instance_type(ec2: Any, group: Mapping[str, Any]) -> str | None:
    lt = group.get("LaunchTemplate") or (group.get("MixedInstancesPolicy") or {}).get("LaunchTemplate", {}).get("LaunchTemplateSpecification")
    if not lt:
        return None
    ref = {"LaunchTemplateId": lt["LaunchTemplateId"]} if lt.get("LaunchTemplateId") else {"LaunchTemplateName": lt["LaunchTemplateName"]}
    versions = ec2.describe_launch_template_versions(**ref, Versions=[str(lt.get("Version", "$Default"))])["LaunchTemplateVersions"]
    return str(versions[0]["LaunchTemplateData"].get("InstanceType")) if versions else None


def last_executed_drill(reports_dir: Path) -> float | None:
    """Epoch of the newest successful `--execute` drill recorded under reports_dir."""
    newest = None
    for path in sorted(reports_dir.glob("aws-drill-*.json")):
        try:
            data = json.loads(path.read_text())
        except ValueError:
            continue
        if data.get("executed") and data.get("ok"):
            t = datetime.fromisoformat(data["finished_at"]).timestamp()
            newest = t if newest is None or t > newest else newest
    return newest


# ---------------------------------------------------------------- IAM simulation
def simulate_on_resources(iam: Any, role_arn: str, actions: Iterable[str], resources: list[str]) -> list[str]:
    """'action on resource' the role may not do when one request names all `resources` (each must be
    allowed): iam:SimulatePrincipalPolicy, or the emulator's evaluation of the role's policies."""
    actions = list(actions)
    try:
        resp = iam.simulate_principal_policy(PolicySourceArn=role_arn, ActionNames=actions, ResourceArns=resources)
        denied = []
        for result in resp["EvaluationResults"]:
            whole = {"EvalResourceName": result.get("EvalResourceName"), "EvalResourceDecision": result["EvalDecision"]}
            for per in result.get("ResourceSpecificResults") or [whole]:
                if per.get("EvalResourceDecision") != "allowed":
                    denied.append(f"{result['EvalActionName']} on {per.get('EvalResourceName')}")
        return denied
    except ClientError as exc:
        if "NotImplemented" not in str(exc) and "not yet been implemented" not in str(exc):
            raise
    except NotImplementedError:
        pass
    policies = role_policies(iam, role_arn.rsplit("/", 1)[-1])
    return [
        f"{action}: {decision.reason}"
        for action in actions
        if not (decision := iam_evaluate(IamRequest(action, tuple(resources)), policies)).allowed
    ]


def simulate(iam: Any, role_arn: str, actions: Iterable[str]) -> list[str]:
    """Actions the role is not allowed (resource "*"): iam:SimulatePrincipalPolicy, or a local
    evaluation of the role's policies where that API is unavailable (an emulator)."""
    actions = list(actions)
    try:
        resp = iam.simulate_principal_policy(PolicySourceArn=role_arn, ActionNames=actions)
        return sorted(r["EvalActionName"] for r in resp["EvaluationResults"] if r["EvalDecision"] != "allowed")
    except ClientError as exc:
        if "NotImplemented" not in str(exc) and "not yet been implemented" not in str(exc):
            raise
    except NotImplementedError:
        pass
    return evaluate_locally(role_policies(iam, role_arn.rsplit("/", 1)[-1]), actions)


def role_policies(iam: Any, role_name: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        docs.append(json.loads(doc) if isinstance(doc, str) else doc)
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"])["PolicyVersion"]
        doc = version["Document"]
        docs.append(json.loads(doc) if isinstance(doc, str) else doc)
    return docs


def evaluate_locally(documents: Iterable[Mapping[str, Any]], actions: Iterable[str]) -> list[str]:
    """Action-level evaluation: allowed iff some Allow statement names the action and no Deny does
    (resources and conditions are not evaluated — SimulatePrincipalPolicy does that against AWS)."""
    return denied_actions(documents, actions)


# ---------------------------------------------------------------- --execute
Invoker = Callable[[str, str, dict[str, Any]], dict[str, Any]]


def _lambda_invoker(clients: ClientFactory) -> Invoker:
    def invoke(region: str, function: str, payload: dict[str, Any]) -> dict[str, Any]:
        resp = clients("lambda", region).invoke(FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(payload).encode())
        body = json.loads(resp["Payload"].read() or b"{}")
        if resp.get("FunctionError"):
            return {"ok": False, "action": "error", "reason": body.get("errorMessage", str(body))}
        return dict(body)

    return invoke


def planned_drill(primary: Mapping[str, Any], secondary: Mapping[str, Any], invoke: Invoker, out: TextIO) -> list[Check]:
    """Switchover to the secondary, then failback to the primary — both planned (no data loss, no force)."""
    checks = []
    for label, o, action in (("switchover to the secondary", secondary, "switchover"), ("failback to the primary", primary, "failback")):
        print(f"  → {o['failoverFunctionName']} ({o['region']}): {action}", file=out, flush=True)
        result = invoke(o["region"], o["failoverFunctionName"], {"action": action, "dry_run": False, "force": False, "requested_by": "drill"})
        checks.append(Check(label, bool(result.get("ok")), f"{result.get('action')}: {result.get('reason')} {result.get('error') or ''}".strip()))
        if not result.get("ok"):
            break
    return checks


def main_aws(primary_path: Path, secondary_path: Path, reports_dir: Path, *, execute: bool, max_drill_age_days: int, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        p, s = load_outputs(primary_path), load_outputs(secondary_path)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    clients = _default_clients()
    started = datetime.now(UTC)
    print(f"Readiness of {p['region']} (primary) → {s['region']} (secondary), read-only:", file=out)
    checks = Readiness(p, s, clients=clients, reports_dir=reports_dir, max_drill_age_days=max_drill_age_days).run()
    for c in checks:
        print(c.line(), file=out)
    ready = all(c.ok or c.warning for c in checks)
    executed: list[Check] = []
    if execute and ready:
        print("Planned drill (switchover, then failback):", file=out)
        executed = planned_drill(p, s, _lambda_invoker(clients), out)
        for c in executed:
            print(c.line(), file=out)
    elif execute:
        print("Not executing: the readiness check failed.", file=out)
    ok = ready and all(c.ok for c in executed) and (not execute or bool(executed))
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / f"aws-drill-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(
        json.dumps(
            {
                "target": "aws",
                "executed": bool(executed),
                "ok": ok,
                "started_at": started.isoformat(timespec="seconds"),
                "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "checks": [c.__dict__ for c in [*checks, *executed]],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"{'READY' if ok else 'NOT READY'} — report: {path}", file=out)
    return 0 if ok else 1
