"""Shared fixtures: the example stacks run once per session under Pulumi mocks."""

from __future__ import annotations

import pytest

from offline.runner import StackGraph, run_database_standby, run_stack


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


@pytest.fixture(scope="session", params=["primary", "secondary"])
def stack(request: pytest.FixtureRequest, primary: StackGraph, secondary: StackGraph) -> StackGraph:
    """Each shop stack in turn."""
    return primary if request.param == "primary" else secondary


@pytest.fixture(scope="session", params=["primary", "secondary", "bunker"])
def any_stack(request: pytest.FixtureRequest, primary: StackGraph, secondary: StackGraph, bunker: StackGraph) -> StackGraph:
    """Every example stack, the database standby included (graph-wide invariants)."""
    return {"primary": primary, "secondary": secondary, "bunker": bunker}[request.param]
