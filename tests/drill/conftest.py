"""The drill's topology from the session's stack graphs (tests/conftest.py), built once."""

from __future__ import annotations

import pytest

from drill.topology import Topology, build_topology
from offline.runner import StackGraph


@pytest.fixture(scope="session")
def topology(primary: StackGraph, secondary: StackGraph) -> Topology:
    return build_topology(primary, secondary)
