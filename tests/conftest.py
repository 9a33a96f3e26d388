"""Shared fixtures: the example stacks run once per session under Pulumi mocks."""

from __future__ import annotations

import gc

import pytest

try:
    import botocore.loaders
    import botocore.session

    import emulator  # noqa: F401 - first: it sets MOTO_AMIS_PATH before any test imports moto's EC2 models
except ModuleNotFoundError:  # the policy pack's venv (make policy-pack) has neither: it runs tests/policy/test_pack.py only
    botocore = None  # type: ignore[assignment]

from offline.runner import StackGraph, load_stack_config, run_accelerated_pair, run_database_standby, run_stack

# Python collects its youngest generation every 700 net allocations and, with the hundreds of thousands of objects
# a worker keeps (stack graphs, moto's backends, botocore's models), each collection cascades into costly older ones:
# measured, 22 s of each worker's 80 s went to the garbage collector (16,000 collections). Collecting the youngest
# generation every 50,000 allocations instead: under 5 s in under 200 collections, the suite 85 s -> 65-70 s on
# 2 cores, at about 200 MB more memory per worker. Nothing under test depends on when cycles are freed.
gc.set_threshold(50_000, 50, 100)

# The handler builds a boto3 Session per adapter, and every new botocore Session gets a new data
# loader that parses botocore's JSON models (endpoints.json, ssm, rds, ec2 ...) again: most of a
# second of CPU per handler test. Within one Session botocore shares its loader's parsed models among
# all clients; here every Session shares one loader (the bundled model files do not change during a
# run). Behaviour under test is unchanged.
if botocore is not None:
    _SHARED_LOADER = botocore.loaders.create_loader()

    def _register_shared_data_loader(self: botocore.session.Session) -> None:
        self._components.lazy_register_component("data_loader", lambda: _SHARED_LOADER)

    botocore.session.Session._register_data_loader = _register_shared_data_loader  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def primary() -> StackGraph:
    """The primary stack's complete graph with its real Pulumi.primary.yaml."""
    return run_stack("primary")


@pytest.fixture(scope="session")
def secondary(primary: StackGraph) -> StackGraph:
    """The secondary stack, its StackReference answered with the primary's exports."""
    return run_stack("secondary", peer_exports=primary.exports)


@pytest.fixture(scope="session")
def bunker(primary: StackGraph) -> StackGraph:
    """A third stack, a database standby (examples/Pulumi.bunker.yaml), beside the other two."""
    return run_database_standby(primary)


@pytest.fixture(scope="session")
def posture_secondaries(primary: StackGraph) -> dict[str, StackGraph]:
    """The example secondary in each standby posture (its users share the xdist group "posture-graphs")."""
    from offline.cost import posture_secondaries

    return posture_secondaries(primary)


@pytest.fixture(scope="session")
def unprotected_primary() -> StackGraph:
    """The primary with `magento-dr:protect: false` (whatever follows that switch, in every component)."""
    return run_stack("primary", overrides={"magento-dr:protect": False})


@pytest.fixture(scope="session", params=["primary", "secondary"])
def stack(request: pytest.FixtureRequest, primary: StackGraph, secondary: StackGraph) -> StackGraph:
    """Each shop stack in turn."""
    return primary if request.param == "primary" else secondary


@pytest.fixture(scope="session", params=["primary", "secondary", "bunker"])
def any_stack(request: pytest.FixtureRequest, primary: StackGraph, secondary: StackGraph, bunker: StackGraph) -> StackGraph:
    """Every example stack, the database standby included (graph-wide invariants)."""
    return {"primary": primary, "secondary": secondary, "bunker": bunker}[request.param]


@pytest.fixture(scope="session")
def accelerated() -> tuple[StackGraph, StackGraph]:
    """Both shop stacks with `failover.globalAccelerator: true` (the primary also with its flow logs)."""
    return run_accelerated_pair(flow_logs=True)


@pytest.fixture(scope="session")
def varnish_pair() -> dict[str, StackGraph]:
    """Both shop stacks as their files say, with magento-dr:web.fullPageCache: varnish. Its users share one
    xdist group ("full_page_cache"), so the two stacks run once."""

    def varnish(stack: str) -> dict[str, object]:
        return {"magento-dr:web": {**load_stack_config(stack)["magento-dr:web"], "fullPageCache": "varnish"}}

    primary = run_stack("primary", overrides=varnish("primary"))
    return {"primary": primary, "secondary": run_stack("secondary", overrides=varnish("secondary"), peer_exports=primary.exports)}
