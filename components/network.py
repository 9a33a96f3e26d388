"""RegionalNetwork: one region's VPC with public, private (app) and isolated (data) subnets."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .config import NatMode
from .kms import key_policy, service_use_statement
from .subnets import plan_subnets


@dataclass(frozen=True)
class RegionalNetworkArgs:
    """What the network needs; validated before anything is declared."""

    cidr: str
    az_count: int
    nat_gateways: NatMode
    interface_endpoints: tuple[str, ...]
    flow_log_retention_days: int
    region: str
    protect: bool = True
    internet_gateway: bool = True
    """False (a database standby): no internet gateway and no route out; needs nat_gateways none."""

    def __post_init__(self) -> None:
        if self.az_count < 2:
            raise ValueError("RegionalNetworkArgs.az_count must be at least 2: Aurora, ALB and ElastiCache need two AZs")
        if self.nat_gateways not in ("per-az", "single", "none"):
            raise ValueError(f"RegionalNetworkArgs.nat_gateways must be per-az, single or none, got {self.nat_gateways!r}")
        if not self.internet_gateway and self.nat_gateways != "none":
            raise ValueError("RegionalNetworkArgs: NAT gateways need the internet gateway; use nat_gateways none without it")
        plan_subnets(self.cidr, self.az_count)  # raises if the CIDR cannot hold the subnets


class RegionalNetwork(pulumi.ComponentResource):
    """VPC, subnets in three tiers, NAT, endpoints, flow logs, and the web tier's two security groups."""

    vpc_id: pulumi.Output[str]
    """The VPC's id."""
    public_subnet_ids: list[pulumi.Output[str]]
    """Subnets with a route to the internet gateway (load balancers only)."""
    private_subnet_ids: list[pulumi.Output[str]]
    """Subnets for the web instances, out through NAT."""
    data_subnet_ids: list[pulumi.Output[str]]
    """Isolated subnets with no internet route (Aurora, ElastiCache, OpenSearch)."""
    alb_security_group_id: pulumi.Output[str]
    """Security group of the public load balancer; the web tier adds its rules."""
    app_security_group_id: pulumi.Output[str]
    """Security group of the web instances; data tiers admit only this group."""
    availability_zones: list[pulumi.Output[str]]
    """The AZ names the subnets use, in order."""

    def __init__(self, name: str, args: RegionalNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("magento-dr:index:RegionalNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        plan = plan_subnets(args.cidr, args.az_count)

        azs = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(parent=self))
        self.availability_zones = [azs.names[i] for i in range(args.az_count)]

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,  # interface endpoints and RDS need private DNS
            enable_dns_support=True,
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        self.vpc_id = vpc.id

        # Lock the default security group down: nothing should ever use it.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[], opts=child)

        # A database standby has no internet gateway: its "public" subnets route nowhere either.
        igw = (
            aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{name}-igw"}, opts=child)
            if args.internet_gateway
            else None
        )

        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)] if igw is not None else [],
            tags={"Name": f"{name}-public"},
            opts=child,
        )
        data_rt = aws.ec2.RouteTable(
            f"{name}-data-rt", vpc_id=vpc.id, tags={"Name": f"{name}-data"}, opts=child
        )  # no default route: the data tier is isolated

        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        data_subnets: list[aws.ec2.Subnet] = []
        for i, cidrs in enumerate(plan):
            az = self.availability_zones[i]
            for tier, cidr, bucket in (
                ("public", cidrs.public, public_subnets),
                ("private", cidrs.private, private_subnets),
                ("data", cidrs.data, data_subnets),
            ):
                bucket.append(
                    aws.ec2.Subnet(
                        f"{name}-{tier}-{i}",
                        vpc_id=vpc.id,
                        cidr_block=cidr,
                        availability_zone=az,
                        map_public_ip_on_launch=False,  # nothing gets a public IP; the ALB has its own
                        tags={"Name": f"{name}-{tier}-{i}", "tier": tier},
                        opts=child,
                    )
                )
        for i, subnet in enumerate(public_subnets):
            aws.ec2.RouteTableAssociation(f"{name}-public-{i}-rta", subnet_id=subnet.id, route_table_id=public_rt.id, opts=child)
        for i, subnet in enumerate(data_subnets):
            aws.ec2.RouteTableAssociation(f"{name}-data-{i}-rta", subnet_id=subnet.id, route_table_id=data_rt.id, opts=child)

        # NAT: one per AZ so losing an AZ does not cut the others off; "single" trades that for cost;
        # "none" (a database standby, which runs no instances) leaves the private subnets isolated too.
        nat_count = {"per-az": args.az_count, "single": 1, "none": 0}[args.nat_gateways]
        nats = []
        for i in range(nat_count):
            eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags={"Name": f"{name}-nat-{i}"}, opts=child)
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{i}",
                    allocation_id=eip.id,
                    subnet_id=public_subnets[i].id,
                    tags={"Name": f"{name}-nat-{i}"},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw] if igw is not None else []),
                )
            )
        private_rts = []
        for i, subnet in enumerate(private_subnets):
            rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{i}",
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nats[i % nat_count].id)]
                if nats
                else [],
                tags={"Name": f"{name}-private-{i}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(f"{name}-private-{i}-rta", subnet_id=subnet.id, route_table_id=rt.id, opts=child)
            private_rts.append(rt)

        # S3 through a gateway endpoint: media and artifacts never depend on NAT.
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in private_rts] + [data_rt.id],
            tags={"Name": f"{name}-s3"},
            opts=child,
        )

        # Interface endpoints keep SSM, Secrets Manager, KMS and logging working
        # when the internet path (NAT) is impaired. A database standby declares none.
        if args.interface_endpoints:
            self._interface_endpoints(name, args, vpc.id, [s.id for s in private_subnets], child)

        # Flow logs to an encrypted log group, so a post-incident review can see who talked to what.
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        logs_key = aws.kms.Key(
            f"{name}-logs-key",
            description=f"{name}: VPC flow log encryption",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=caller.account_id.apply(lambda account: _logs_key_policy(account, args.region)),
            # Deleting the key would make every flow log it encrypted unreadable.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=logs_key.arn,
            opts=child,
        )
        flow_role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=flow_role.id,
            policy=log_group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=flow_role.arn,
            max_aggregation_interval=60,
            opts=child,
        )

        # The web tier's two groups live here so the data tiers (declared before
        # the web tier) can admit the instances by group, never by CIDR.
        alb_sg = aws.ec2.SecurityGroup(
            f"{name}-alb-sg", vpc_id=vpc.id, description="Public load balancer", tags={"Name": f"{name}-alb"}, opts=child
        )
        app_sg = aws.ec2.SecurityGroup(
            f"{name}-app-sg", vpc_id=vpc.id, description="Magento web instances", tags={"Name": f"{name}-app"}, opts=child
        )

        self.public_subnet_ids = [s.id for s in public_subnets]
        self.private_subnet_ids = [s.id for s in private_subnets]
        self.data_subnet_ids = [s.id for s in data_subnets]
        self.alb_security_group_id = alb_sg.id
        self.app_security_group_id = app_sg.id
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
                "data_subnet_ids": self.data_subnet_ids,
                "alb_security_group_id": self.alb_security_group_id,
                "app_security_group_id": self.app_security_group_id,
            }
        )


    def _interface_endpoints(
        self,
        name: str,
        args: RegionalNetworkArgs,
        vpc_id: pulumi.Output[str],
        subnet_ids: list[pulumi.Output[str]],
        child: pulumi.ResourceOptions,
    ) -> None:
        endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            vpc_id=vpc_id,
            description="HTTPS to interface endpoints from inside the VPC",
            ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=443, to_port=443, cidr_blocks=[args.cidr], description="HTTPS from the VPC")],
            egress=[],
            tags={"Name": f"{name}-endpoints"},
            opts=child,
        )
        for service in args.interface_endpoints:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=vpc_id,
                service_name=f"com.amazonaws.{args.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=subnet_ids,
                security_group_ids=[endpoint_sg.id],
                tags={"Name": f"{name}-{service}"},
                opts=child,
            )


def _logs_key_policy(account_id: str, region: str) -> str:
    """The account administers the key; CloudWatch Logs may use it for this region's log groups only."""
    return key_policy(
        account_id,
        [
            service_use_statement(
                "CloudWatchLogsUse",
                f"logs.{region}.amazonaws.com",
                {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account_id}:log-group:*"}},
            )
        ],
    )
