"""The one network rule every data tier shares: admit the web instances, on one port, and nothing else."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def web_only_security_group(
    name: str,
    *,
    vpc_id: pulumi.Input[str],
    app_security_group_id: pulumi.Input[str],
    port: int,
    description: str,
    rule_description: str,
    tag_name: str,
    opts: pulumi.ResourceOptions,
) -> aws.ec2.SecurityGroup:
    """A security group (`<name>-sg`) whose only ingress (`<name>-from-app`) is `port` from the web tier's group.

    By reference to the web instances' group, never a CIDR range, so nothing else in the VPC —
    and nothing outside it — can reach the data tier.
    """
    group = aws.ec2.SecurityGroup(f"{name}-sg", vpc_id=vpc_id, description=description, tags={"Name": tag_name}, opts=opts)
    aws.vpc.SecurityGroupIngressRule(
        f"{name}-from-app",
        security_group_id=group.id,
        referenced_security_group_id=app_security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=rule_description,
        opts=opts,
    )
    return group
