"""Run `__main__.py` for one stack under Pulumi mocks and return the whole resource graph.

The program runs exactly as `pulumi up` would run it — the stack's real
`Pulumi.<stack>.yaml` config, the real `__main__.py` — but every RegisterResource
call lands in a recording monitor instead of the engine, and every lookup (invoke) is
recorded with the region of the provider it went through. Each run happens in a
fresh thread with a fresh event loop, so Pulumi's context-local runtime state
(root stack, config) cannot leak from one run into the next.
"""

from __future__ import annotations

import asyncio
import json
import runpy
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource_runtime
from pulumi.runtime import rpc
from pulumi.runtime import stack as pulumi_stack
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.rpc_manager import RPCManager
from pulumi.runtime.settings import SETTINGS, configure
from pulumi.runtime.stack import run_in_stack

from .mocks import ComputedAttributes, invoke_result

# The SDK walks the Python stack on every registration to tell the engine where in the program a resource was declared
# (source positions for the engine's diagnostics). No engine reads them here and the graph does not keep them: an empty
# trace spares a tenth of each run's CPU. A real `pulumi up` never imports this module.
if hasattr(pulumi_resource_runtime, "_get_stack_trace"):
    pulumi_resource_runtime._get_stack_trace = source_pb2.StackTrace

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT = "magento-dr"
ORGANIZATION = "organization"


class ProgramFailed(Exception):
    """The program raised; `cause` is what it raised, `declared` what it had registered by then."""

    def __init__(self, stack: str, cause: BaseException, declared: list[str]):
        super().__init__(f"stack {stack}: {cause}")
        self.cause = cause
        self.declared = declared


@dataclass
class Resource:
    """One registered resource as the engine would have seen it."""

    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    parent: str | None
    provider: str | None
    region: str | None
    protect: bool
    ignore_changes: list[str]
    replace_on_changes: list[str]
    retain_on_delete: bool
    delete_before_replace: bool
    dependencies: list[str]

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")


@dataclass(frozen=True)
class Invoke:
    """One data-source lookup the program made, and the region of the provider it went through."""

    token: str
    region: str


@dataclass
class StackGraph:
    """The complete result of one offline run."""

    stack: str
    config: dict[str, Any]
    resources: list[Resource] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)
    invokes: list[Invoke] = field(default_factory=list)

    def by_urn(self, urn: str) -> Resource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)

    def of_type(self, token: str) -> list[Resource]:
        return [r for r in self.resources if r.type == token]

    def one(self, token: str, name: str | None = None) -> Resource:
        """The single resource of a type (optionally with that logical name)."""
        matches = [r for r in self.of_type(token) if name is None or r.name == name]
        if len(matches) != 1:
            names = [r.name for r in self.of_type(token)]
            raise AssertionError(f"expected one {token} named {name!r}, found {len(matches)} among {names}")
        return matches[0]

    def named(self, name: str) -> Resource:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise AssertionError(f"expected one resource named {name!r}, found {len(matches)}")
        return matches[0]

    def children(self, parent: Resource) -> list[Resource]:
        return [r for r in self.resources if r.parent == parent.urn]

    def descendants(self, parent: Resource) -> Iterator[Resource]:
        for child in self.children(parent):
            yield child
            yield from self.descendants(child)

    def ancestors(self, resource: Resource) -> Iterator[Resource]:
        parent = resource.parent
        while parent and "::pulumi:pulumi:Stack::" not in parent:
            node = self.by_urn(parent)
            yield node
            parent = node.parent

    def aws_resources(self) -> list[Resource]:
        return [r for r in self.resources if r.custom and not r.is_provider and r.type.startswith("aws:")]


def load_stack_config(stack: str, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The stack's `config:` block from Pulumi.<stack>.yaml, keys as written."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no stack file {path.name}; stacks are primary and secondary")
    document = yaml.safe_load(path.read_text()) or {}
    return dict(document.get("config") or {})


def project_config(root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """Project-level config defaults from Pulumi.yaml (e.g. disabled default providers)."""
    document = yaml.safe_load((root / "Pulumi.yaml").read_text()) or {}
    result: dict[str, Any] = {}
    for key, spec in (document.get("config") or {}).items():
        result[key] = spec.get("value", spec.get("default")) if isinstance(spec, dict) else spec
    return result


def _as_engine_config(config: Mapping[str, Any]) -> dict[str, str]:
    # The engine hands the program strings; objects and lists arrive as JSON.
    flat: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, str):
            flat[key] = value
        else:
            flat[key] = json.dumps(value)
    return flat


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """The stock mock monitor, plus a record of each request's options and the stack's outputs."""

    def __init__(self, mocks: pulumi_mocks.Mocks, stack_urn: str):
        super().__init__(mocks)
        self.requests: dict[str, Any] = {}
        self.stack_urn = stack_urn
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        self.requests[response.urn] = request
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name (StackReference reads)
        response = super().ReadResource(request)
        self.requests[response.urn] = request
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.urn == self.stack_urn:
            self.stack_outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)


GET_GLOBAL_CLUSTER = "aws:rds/getGlobalCluster:getGlobalCluster"  # an invoke token (ruff S105 misreads "token")


class _Mocks(pulumi_mocks.Mocks):
    def __init__(self, peer_exports: Mapping[str, Any] | None, global_cluster_members: Sequence[str] | None = None):
        self.computed = ComputedAttributes()
        self.peer_exports = dict(peer_exports or {})
        # What getGlobalCluster answers: by default the primary's cluster alone (the writer).
        primary_cluster = self.peer_exports.get("dbClusterArn")
        self.global_cluster_members = list(global_cluster_members or ([str(primary_cluster)] if primary_cluster else []))
        self.provider_regions: dict[str, str] = {}
        self.invokes: list[Invoke] = []
        self.lock = threading.Lock()

    def region_of(self, provider_ref: str | None) -> str:
        """The region of the provider a resource or invoke uses ("<urn>::<id>")."""
        if not provider_ref:
            return "unknown"
        with self.lock:
            return self.provider_regions.get(provider_ref.rsplit("::", 1)[0], "unknown")

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            return args.name, {"name": args.name, "outputs": self.peer_exports, "secretOutputNames": []}
        if args.typ.startswith("pulumi:providers:"):
            return f"{args.name}-id", dict(args.inputs)
        if not args.custom:
            return None, {}
        region = self.region_of(args.provider)
        return self.computed(args.typ, args.name, region, dict(args.inputs))

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        invoke = Invoke(args.token, self.region_of(args.provider))
        with self.lock:
            self.invokes.append(invoke)
        if args.token == GET_GLOBAL_CLUSTER:
            if self.region_of(args.provider) == "unknown":
                # The real invoke would go through the default provider, which Pulumi.yaml disables.
                raise ValueError("getGlobalCluster was invoked without a regional provider")
            members = [{"dbClusterArn": arn, "isWriter": i == 0} for i, arn in enumerate(self.global_cluster_members)]
            return {"identifier": args.args.get("identifier"), "id": args.args.get("identifier"), "members": members}, []
        return invoke_result(args.token, self.region_of(args.provider), dict(args.args)), []


async def _wait_for_rpcs_linear(await_all_outstanding_tasks: bool = True) -> None:
    """Pulumi's `wait_for_rpcs` with the same contract, without its quadratic output loop.

    The SDK re-waits the whole set of pending outputs with FIRST_COMPLETED after
    every completion, which costs O(outputs²) callbacks: ~5 s for one 200-resource
    stack. Awaiting each batch with gather finishes the same tasks, re-raises the
    same first error, and still loops until no RPC or output is left.
    """
    rpc_manager = SETTINGS.rpc_manager
    while True:
        while rpc_manager.rpcs:
            await rpc_manager.rpcs.pop()
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
        if await_all_outstanding_tasks:
            while True:
                with SETTINGS.lock:
                    batch = list(SETTINGS.outputs)
                    SETTINGS.outputs.clear()
                if not batch:
                    break
                await asyncio.gather(*batch)
        if not rpc_manager.rpcs:
            break


def _json_or_plain(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _plain(value: Any) -> Any:
    """Resolve Outputs/secrets inside recorded state into plain Python values."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def run_stack(
    stack: str,
    *,
    config: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    peer_exports: Mapping[str, Any] | None = None,
    global_cluster_members: Sequence[str] | None = None,
    root: Path = PROJECT_ROOT,
) -> StackGraph:
    """Run the program for `stack` under mocks and return its graph and exports.

    `config` replaces the stack file's config entirely; `overrides` patches it
    (a value of None removes the key). `peer_exports` answers the secondary's
    StackReference to the primary; `global_cluster_members` (cluster ARNs, writer first) what
    the live global cluster holds (default: the primary's cluster alone).
    """
    full_config = {**project_config(root), **(dict(config) if config is not None else load_stack_config(stack, root))}
    for key, value in (overrides or {}).items():
        if value is None:
            full_config.pop(key, None)
        else:
            full_config[key] = value

    stack_urn = f"urn:pulumi:{stack}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{stack}"
    mocks = _Mocks(peer_exports, global_cluster_members)
    monitor = _RecordingMonitor(mocks, stack_urn)
    failure: list[BaseException] = []

    def program() -> None:
        main = root / "__main__.py"
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        runpy.run_path(str(main), run_name="__main__")

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            pulumi.runtime.set_all_config(_as_engine_config(full_config))
            settings = pulumi_mocks.MockSettings(
                monitor=monitor,
                monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
                engine=pulumi_mocks.MockEngine(None),
                project=PROJECT,
                stack=stack,
                dry_run=False,
                organization=ORGANIZATION,
                callbacks=None,
            )
            configure(settings)
            # rpc_manager and outputs are context properties whose default is one
            # shared object that configure() does not replace: a failed run would
            # leave its pending tasks (bound to its closed loop) for the next run.
            SETTINGS.rpc_manager = RPCManager()
            SETTINGS.outputs = set()
            pulumi_stack.wait_for_rpcs = _wait_for_rpcs_linear
            loop.run_until_complete(run_in_stack(program))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            failure.append(exc)
            # A failed program leaves outputs pending; cancel them so they die quietly with the loop.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        finally:
            loop.close()

    # Providers must be known before their resources ask for a region; the
    # monitor sees registrations in program order, so learn regions as they come.
    original = monitor.RegisterResource

    def register(request: Any) -> Any:
        response = original(request)
        if request.type.startswith("pulumi:providers:aws"):
            inputs = rpc.deserialize_properties(request.object)
            with mocks.lock:
                mocks.provider_regions[response.urn] = str(inputs.get("region", "unknown"))
        return response

    monitor.RegisterResource = register  # type: ignore[method-assign]

    thread = threading.Thread(target=run, name=f"pulumi-mock-{stack}")
    thread.start()
    thread.join()
    if failure:
        raise ProgramFailed(stack, failure[0], sorted(monitor.resources)) from failure[0]

    graph = StackGraph(stack=stack, config=full_config)
    for urn, registration in monitor.resources.items():
        request = monitor.requests.get(urn)
        if request is None:
            continue
        is_read = not hasattr(request, "object")  # ReadResourceRequest (StackReference)
        inputs = rpc.deserialize_properties(request.properties if is_read else request.object)
        if request.type.startswith("pulumi:providers:"):
            inputs = {k: _json_or_plain(v) for k, v in inputs.items()}  # the engine hands providers JSON strings
        provider = request.provider or None
        graph.resources.append(
            Resource(
                urn=urn,
                type=request.type,
                name=request.name,
                custom=True if is_read else bool(request.custom),
                inputs=_plain(inputs),
                outputs=_plain(dict(registration.state or {})),
                parent=request.parent or None,
                provider=provider,
                region=mocks.region_of(provider) if provider else None,
                protect=False if is_read else bool(request.protect),
                ignore_changes=[] if is_read else list(request.ignoreChanges),
                replace_on_changes=[] if is_read else list(request.replaceOnChanges),
                retain_on_delete=False if is_read else bool(request.retainOnDelete),
                delete_before_replace=False if is_read else bool(request.deleteBeforeReplace),
                dependencies=list(request.dependencies),
            )
        )
    graph.exports = _plain(dict(monitor.stack_outputs))
    graph.invokes = list(mocks.invokes)
    return graph


def run_pair(
    *,
    primary_overrides: Mapping[str, Any] | None = None,
    secondary_overrides: Mapping[str, Any] | None = None,
    root: Path = PROJECT_ROOT,
) -> tuple[StackGraph, StackGraph]:
    """Run primary, then secondary with the primary's exports behind its StackReference."""
    primary = run_stack("primary", overrides=primary_overrides, root=root)
    secondary = run_stack("secondary", overrides=secondary_overrides, peer_exports=primary.exports, root=root)
    return primary, secondary


def example_config(stack: str, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """examples/Pulumi.<stack>.yaml, exactly as a user would copy it next to the others."""
    return load_stack_config(stack, root / "examples")


def run_database_standby(primary: StackGraph, stack: str = "bunker", root: Path = PROJECT_ROOT) -> StackGraph:
    """The example database standby (scope: database) beside the primary."""
    return run_stack(stack, config=example_config(stack, root), peer_exports=primary.exports, root=root)


def accelerator_overrides(stack: str, *, flow_logs: bool = False, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The stack file's `magento-dr:failover` with `globalAccelerator: true` (and, on the primary, flow logs)."""
    failover = dict(load_stack_config(stack, root).get("magento-dr:failover") or {})
    failover["globalAccelerator"] = True
    if flow_logs:
        failover["acceleratorFlowLogs"] = True
    return {"magento-dr:failover": failover}


# The settings a posture sizes (components/posture.py SIZING): the example secondary's own values are dropped
# so the posture's defaults apply, as in a stack file written for that posture.
POSTURE_SIZED_KEYS: dict[str, tuple[str, ...]] = {
    "magento-dr:database": ("instanceCount",),
    "magento-dr:web": ("standbyCapacity",),
    "magento-dr:cache": ("replicas",),
    "magento-dr:search": ("instanceCount", "instanceType"),
    "magento-dr:network": ("natGateways",),
}


def posture_overrides(posture: str, *, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The example secondary as a stack file for `posture` would read (warm: the example as written): `standby.posture`
    set, the sized settings left to the posture's defaults, and `failover.rtoSeconds` raised to the posture's budget (whole minutes)
    where the example's objective is below it (a pilot light's instance creation)."""
    from components.config import parse_settings, rto_budget

    base = load_stack_config("secondary", root)
    out: dict[str, Any] = {"magento-dr:standby": {"posture": posture}}
    if posture == "warm":
        return out  # the example secondary is a warm standby as written
    for key, sized in POSTURE_SIZED_KEYS.items():
        out[key] = {k: v for k, v in dict(base.get(key) or {}).items() if k not in sized}
    failover = dict(base.get("magento-dr:failover") or {})
    settings = parse_settings("secondary", {k.split(":", 1)[1]: v for k, v in base.items()})
    current = settings.failover
    budget = rto_budget(current, posture, settings.web.full_page_cache)  # type: ignore[arg-type]
    if budget.total_seconds > current.rto_seconds:
        failover["rtoSeconds"] = -(-budget.total_seconds // 60) * 60
    out["magento-dr:failover"] = failover
    return out


def run_accelerated_pair(*, flow_logs: bool = False, root: Path = PROJECT_ROOT) -> tuple[StackGraph, StackGraph]:
    """Both example stacks with the accelerator in front (`failover.globalAccelerator: true` on each)."""
    return run_pair(
        primary_overrides=accelerator_overrides("primary", flow_logs=flow_logs, root=root),
        secondary_overrides=accelerator_overrides("secondary", root=root),
        root=root,
    )
