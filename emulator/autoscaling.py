"""Auto Scaling instances that take time to serve: the moment a scaled-up web tier can take orders.

moto puts every instance an Auto Scaling group launches ``InService`` (EC2 ``running``) at once. In
AWS an instance is launched, boots, runs its user data and must pass the load balancer's health
checks before it serves (the group's health-check grace period covers that time). The emulator folds
all of it into one figure, ``STATE.web_instance_ready_seconds``: until then an instance a group
launched is ``Pending`` in the group and ``pending`` in EC2 (so the failover function's Run Command
step finds no instance to run Magento's commands on, fails and is retried), then ``InService`` and
``running``. ``emulator.settle()`` makes everything launched so far ready (a world that has run for a
while). A simplification, stated in docs/aws-assumptions.md: in AWS, EC2 reports ``running`` and the
group ``InService`` before the instance's own boot has finished.
"""

from __future__ import annotations

from typing import Any

from moto.autoscaling.models import InstanceState as GroupInstance
from moto.ec2.models.instances import InstanceState as Ec2State

from .state import STATE

PENDING_CODE = 0  # EC2's instance state codes: 0 pending, 16 running


class _ReadyingState(Ec2State):
    """An EC2 instance state that reads `pending` until the instance is ready (then whatever was last set)."""

    def __init__(self, launched_at: float, takes: float) -> None:
        super().__init__("running", 16)
        self.launched_at = launched_at
        self.takes = takes

    def _ready(self) -> bool:
        return STATE.ready(self.launched_at, self.takes)

    @property
    def name(self) -> str:
        stored = str(self.__dict__["_name"])
        return "pending" if stored == "running" and not self._ready() else stored

    @name.setter
    def name(self, value: str) -> None:
        self.__dict__["_name"] = value

    @property
    def code(self) -> int:
        stored = int(self.__dict__["_code"])
        return PENDING_CODE if stored == 16 and not self._ready() else stored

    @code.setter
    def code(self, value: int) -> None:
        self.__dict__["_code"] = value


def _lifecycle_state(self: GroupInstance) -> str:
    stored = str(self.__dict__.get("_mdr_lifecycle", "InService"))
    launched = self.__dict__.get("_mdr_launched_at")
    if stored == "InService" and launched is not None and not STATE.ready(launched, self.__dict__["_mdr_takes"]):
        return "Pending"
    return stored


def _set_lifecycle_state(self: GroupInstance, value: str) -> None:
    self.__dict__["_mdr_lifecycle"] = value


def install_autoscaling() -> None:
    if getattr(GroupInstance, "_mdr_installed", False):
        return
    original = GroupInstance.__init__

    def init(self: GroupInstance, instance: Any, *args: Any, **kwargs: Any) -> None:
        original(self, instance, *args, **kwargs)
        now, takes = STATE.now(), STATE.web_instance_ready_seconds
        self.__dict__["_mdr_launched_at"] = now
        self.__dict__["_mdr_takes"] = takes
        if instance.state == "running":
            instance._state = _ReadyingState(now, takes)

    GroupInstance.__init__ = init  # type: ignore[method-assign]
    GroupInstance.lifecycle_state = property(_lifecycle_state, _set_lifecycle_state)  # type: ignore[assignment]
    GroupInstance._mdr_installed = True  # type: ignore[attr-defined]
