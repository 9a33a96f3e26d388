"""SSM Parameter Store in emulator time.

AWS stamps a parameter's ``LastModifiedDate`` with the time it stored the write; moto stamps it with
the wall clock. In the emulator it is emulator time (which `advance` moves), so a reader that
judges a parameter's age by the service's own clock — the failover lease does
(handlers/lease.py) — sees the age the emulated world would.
"""

from __future__ import annotations

from collections.abc import Sequence
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
        STATE.tally(STATE.parameter_writes, (self.region_name, param.name))
        return param

    SimpleSystemManagerBackend.put_parameter = put_parameter  # type: ignore[method-assign]
    # Deleting a parameter is a change its readers see too.
    delete, delete_many = SimpleSystemManagerBackend.delete_parameter, SimpleSystemManagerBackend.delete_parameters

    def delete_parameter(self: SimpleSystemManagerBackend, name: str) -> None:
        delete(self, name)
        STATE.tally(STATE.parameter_writes, (self.region_name, name))

    def delete_parameters(self: SimpleSystemManagerBackend, names: list[str]) -> list[str]:
        deleted = delete_many(self, names)
        for name in deleted:
            STATE.tally(STATE.parameter_writes, (self.region_name, name))
        return deleted

    SimpleSystemManagerBackend.delete_parameter = delete_parameter  # type: ignore[method-assign]
    SimpleSystemManagerBackend.delete_parameters = delete_parameters  # type: ignore[method-assign]
    SimpleSystemManagerBackend._mdr_installed = True  # type: ignore[attr-defined]


def writes(region: str, names: Sequence[str]) -> tuple[int, ...]:
    """How many times each parameter was written or deleted since the emulator's last reset: an observer that read them
    when these counts were the same would read the same values again."""
    return tuple(STATE.parameter_writes.get((region, name), 0) for name in names)
