"""Entry point the Pulumi CLI runs for `--policy-pack policy`: serve the guardrails to the engine.

The CLI runs this directory as a script (`runpy.run_path`), so the directory is
on sys.path but not importable as the `policy` package its modules expect. Load
it under that name from wherever it sits — the repo, or a published copy of the
pack — then build the pack. Constructing `PolicyPack` starts the gRPC server and
never returns.
"""

import importlib.util
import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack  # type: ignore[import-not-found, unused-ignore]

_HERE = Path(__file__).resolve().parent
if "policy" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("policy", _HERE / "__init__.py", submodule_search_locations=[str(_HERE)])
    assert _spec is not None and _spec.loader is not None
    sys.modules["policy"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["policy"])

from policy.pack import PACK_NAME, policies  # noqa: E402 - needs the package registered above

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=policies())
