"""`make drill TARGET=aws`, with the accelerator: does the real accelerator honour the writer gates? (read-only)

AWS documents that the accelerator counts an ALB healthy only if each target group behind it has a
healthy target, but not whether a target group used only by a listener rule counts (the writer
gate's; docs/aws-assumptions.md G2). A real account tells: while the primary holds the writer, the
standby's endpoint must be UNHEALTHY although its web target group has a healthy target. If it is
HEALTHY with its gate's target unhealthy, the accelerator ignores the gate, and a recovered old
primary would take shoppers back before a failback (docs/front-door.md, "If the accelerator ignored
the gate"). Reads Global Accelerator's API in us-west-2 (DescribeEndpointGroup) and ELB's in each
region (DescribeTargetHealth); nothing here is on the failover path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from components.front_door import API_REGION

ClientFactory = Callable[[str, str], Any]


def _on(outputs: Mapping[str, Any]) -> bool:
    return outputs.get("globalAccelerator") is True


def _web_target_group_arn(outputs: Mapping[str, Any]) -> str:
    """arn:...:elasticloadbalancing:<region>:<account>:<targetGroupArnSuffix>, from the ALB's ARN."""
    prefix = ":".join(str(outputs["albArn"]).split(":")[:5])
    return f"{prefix}:{outputs['targetGroupArnSuffix']}"


def _healthy_targets(elb: Any, target_group_arn: str) -> int:
    descriptions = elb.describe_target_health(TargetGroupArn=target_group_arn).get("TargetHealthDescriptions") or []
    return sum(1 for d in descriptions if (d.get("TargetHealth") or {}).get("State") == "healthy")


def accelerator_checks(
    primary: Mapping[str, Any], secondary: Mapping[str, Any], writer_region: str, client: ClientFactory, check: Callable[..., Any]
) -> list[Any]:
    """`check(name, ok, detail, warning=False)` builds the readiness module's Check; [] without the accelerator."""
    if not _on(primary) and not _on(secondary):
        return []
    if not (_on(primary) and _on(secondary)):
        return [
            check(
                "accelerator joined by both",
                False,
                "the primary has the accelerator but the secondary has not joined it (failover.globalAccelerator): shoppers who keep the "
                "accelerator's addresses would not follow a failover; finish turning the option on or off (docs/front-door.md)",
            )
        ]
    ga = client("globalaccelerator", API_REGION)
    out = []
    for o in (primary, secondary):
        region = str(o["region"])
        group = ga.describe_endpoint_group(EndpointGroupArn=o["acceleratorEndpointGroupArn"])["EndpointGroup"]
        states = [str(d.get("HealthState", "")) for d in group.get("EndpointDescriptions") or []]
        state = states[0] if len(states) == 1 else f"{len(states)} endpoints"
        elb = client("elbv2", region)
        gate = _healthy_targets(elb, str(o["writerGateTargetGroupArn"]))
        web = _healthy_targets(elb, _web_target_group_arn(o))
        wanted = "HEALTHY" if region == writer_region else "UNHEALTHY"
        name = f"{region} accelerator endpoint"
        detail = f"{state} (gate target {'healthy' if gate else 'not healthy'}, {web} healthy web target(s)); wanted {wanted}"
        if region != writer_region and not web:
            out.append(check(name, True, f"{detail}: cannot tell whether the gate counts while no web target is healthy", warning=True))
        elif state == wanted:
            out.append(check(name, True, detail))
        elif region != writer_region and state == "HEALTHY" and not gate:
            out.append(
                check(
                    name,
                    False,
                    f"{detail}: the accelerator does not count the writer gate's target group. A recovered old primary would take "
                    "shoppers back before a failback. Turn the accelerator off (docs/front-door.md, 'Switching it on and off'), or keep "
                    "a recovered old primary's web group at 0 until the failback (RUNBOOK)",
                )
            )
        else:
            out.append(check(name, False, f"{detail}: the accelerator will not send shoppers where the writer is; check the gate's logs"))
        dial = float(group.get("TrafficDialPercentage", 100.0))
        if dial != (100.0 if o is primary else 0.0):
            out.append(check(f"{region} traffic dial", False, f"{dial:g}% (the stack declares {100 if o is primary else 0}%): run pulumi up"))
    return out
