"""The drill's topology from the session's stack graphs (tests/conftest.py), built once."""

from __future__ import annotations

import pytest

from drill.topology import Topology, build_topology
from offline.runner import StackGraph


@pytest.fixture(scope="session")
def topology(primary: StackGraph, secondary: StackGraph, bunker: StackGraph) -> Topology:
    """What `make drill` runs: the shop pair and the example database standby (examples/Pulumi.bunker.yaml)."""
    return build_topology(primary, secondary, [bunker])


@pytest.fixture(scope="session")
def pair_topology(primary: StackGraph, secondary: StackGraph) -> Topology:
    """The shop pair alone (`python -m drill --no-database-standby`)."""
    return build_topology(primary, secondary)
