"""SSM Parameter Store in emulator time.

AWS stamps a parameter's ``LastModifiedDate`` with the time it stored the write; moto stamps it with
the wall clock. In the emulator it is emulator time (which `advance` moves), so a reader that
judges a parameter's age by the service's own clock — the failover lease does
(handlers/lease.py) — sees the age the emulated world would.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from moto.ssm.models import SimpleSystemManagerBackend

from .state import STATE


def install_ssm() -> None:
    if getattr(SimpleSystemManagerBackend, "_mdr_installed", False):
        return
    original = SimpleSystemManagerBackend.put_parameter

    def put_parameter(self: SimpleSystemManagerBackend, *args: Any, **kwargs: Any) -> Any:
        param = original(self, *args, **kwargs)
        param.last_modified_date = datetime.fromtimestamp(STATE.now(), UTC).replace(tzinfo=None)  # moto keeps naive UTC
        return param

    SimpleSystemManagerBackend.put_parameter = put_parameter  # type: ignore[method-assign]
    SimpleSystemManagerBackend._mdr_installed = True  # type: ignore[attr-defined]
