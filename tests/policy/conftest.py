"""Fixtures for the guardrail tests: the deliberately good-and-bad fixture program, run once."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline.runner import StackGraph, run_stack

FIXTURE_PROJECT = Path(__file__).parent / "fixture"


@pytest.fixture(scope="session")
def fixture_graph() -> StackGraph:
    """tests/policy/fixture/__main__.py under the same mocks as the real stacks."""
    return run_stack("fixture", root=FIXTURE_PROJECT)
