"""Realistic fake cloud answers for Pulumi mocks.

Each resource gets its inputs back plus the attributes AWS would compute (ARNs,
endpoints, DNS names), derived deterministically from its name and region so that
the graph, the preview and the drill see stable, plausible values. An invoke this
table does not know fails loudly instead of returning something made up.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"
PARTITION = "aws"


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha1("/".join(parts).encode(), usedforsecurity=False).hexdigest()[:length]


def _service(token: str) -> str:
    # "aws:rds/cluster:Cluster" -> "rds"
    return token.split(":")[1].split("/")[0]


def physical_name(token: str, name: str, inputs: dict[str, Any]) -> str:
    """The name AWS would know the resource by: an explicit name input, else the logical name."""
    for key in (
        "name",
        "bucket",
        "clusterIdentifier",
        "globalClusterIdentifier",
        "identifier",
        "replicationGroupId",
        "globalReplicationGroupIdSuffix",
        "domainName",
        "functionName",
        "roleName",
    ):
        value = inputs.get(key)
        if isinstance(value, str) and value:
            return value
    return name


class ComputedAttributes:
    """What AWS adds to a resource's inputs once it exists, by type token."""

    def __init__(self) -> None:
        self._extra: dict[str, Callable[[str, str, dict[str, Any]], dict[str, Any]]] = {
            "aws:rds/globalCluster:GlobalCluster": self._global_cluster,
            "aws:rds/cluster:Cluster": self._cluster,
            "aws:rds/clusterInstance:ClusterInstance": self._cluster_instance,
            "aws:lb/loadBalancer:LoadBalancer": self._load_balancer,
            "aws:lb/targetGroup:TargetGroup": self._target_group,
            "aws:cloudfront/distribution:Distribution": self._distribution,
            "aws:s3/bucket:Bucket": self._bucket,
            "aws:kms/key:Key": self._kms_key,
            "aws:sqs/queue:Queue": self._queue,
            "aws:elasticache/replicationGroup:ReplicationGroup": self._replication_group,
            "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": self._global_replication_group,
            "aws:opensearch/domain:Domain": self._search_domain,
            "aws:route53/zone:Zone": self._zone,
            "aws:route53/healthCheck:HealthCheck": self._health_check,
            "aws:acm/certificate:Certificate": self._certificate,
            "aws:globalaccelerator/accelerator:Accelerator": self._accelerator,
            "random:index/randomPassword:RandomPassword": self._random_password,
            "aws:ec2/launchTemplate:LaunchTemplate": self._launch_template,
            "aws:rds/parameterGroup:ParameterGroup": self._name_from_prefix,
            "aws:rds/clusterParameterGroup:ClusterParameterGroup": self._name_from_prefix,
            "aws:route53/record:Record": self._record,
        }

    def __call__(self, token: str, name: str, region: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        physical = physical_name(token, name, inputs)
        state = dict(inputs)
        resource_id = self._id(token, physical, region)
        state.setdefault("arn", self._arn(token, physical, region))
        state.setdefault("region", region)
        extra = self._extra.get(token)
        if extra is not None:
            state.update(extra(physical, region, inputs))
        if token.startswith("aws:") and "name" not in inputs and token.split(":")[-1] in (
            "Group",
            "Topic",
            "Function",
            "Role",
            "Policy",
            "Document",
            "Queue",
            "LogGroup",
            "EventRule",  # EventBridge names a rule from its logical name when none is given
        ):
            state["name"] = physical
        return resource_id, state

    # ---- ids and ARNs
    def _id(self, token: str, physical: str, region: str) -> str:
        prefixes = {
            "aws:ec2/vpc:Vpc": "vpc",
            "aws:ec2/subnet:Subnet": "subnet",
            "aws:ec2/securityGroup:SecurityGroup": "sg",
            "aws:ec2/internetGateway:InternetGateway": "igw",
            "aws:ec2/natGateway:NatGateway": "nat",
            "aws:ec2/eip:Eip": "eipalloc",
            "aws:ec2/routeTable:RouteTable": "rtb",
            "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
            "aws:ec2/flowLog:FlowLog": "fl",
            "aws:ec2/launchTemplate:LaunchTemplate": "lt",
            "aws:route53/zone:Zone": "Z",
        }
        prefix = prefixes.get(token)
        if prefix == "Z":
            return "Z" + _digest(physical, length=20).upper()
        if prefix:
            return f"{prefix}-{_digest(token, physical, region)}"
        if token == "aws:route53/healthCheck:HealthCheck":
            h = _digest(physical, region, length=32)
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        return physical

    def _arn(self, token: str, physical: str, region: str) -> str:
        service = _service(token)
        kind = token.split(":")[-1].lower()
        if service == "s3":
            return f"arn:{PARTITION}:s3:::{physical}"
        if service == "iam":
            return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:{kind}/{physical}"
        if service == "sns":
            return f"arn:{PARTITION}:sns:{region}:{ACCOUNT_ID}:{physical}"
        if service == "sqs":
            return f"arn:{PARTITION}:sqs:{region}:{ACCOUNT_ID}:{physical}"
        if service == "lambda":
            return f"arn:{PARTITION}:lambda:{region}:{ACCOUNT_ID}:function:{physical}"
        if service == "rds" and kind == "cluster":
            return f"arn:{PARTITION}:rds:{region}:{ACCOUNT_ID}:cluster:{physical}"
        if service == "rds" and kind == "globalcluster":
            return f"arn:{PARTITION}:rds::{ACCOUNT_ID}:global-cluster:{physical}"
        if service == "rds" and kind == "clusterinstance":
            return f"arn:{PARTITION}:rds:{region}:{ACCOUNT_ID}:db:{physical}"
        if service == "secretsmanager":
            return f"arn:{PARTITION}:secretsmanager:{region}:{ACCOUNT_ID}:secret:{physical}-{_digest(physical, length=6)}"
        if service == "autoscaling" and kind == "group":
            return (
                f"arn:{PARTITION}:autoscaling:{region}:{ACCOUNT_ID}:autoScalingGroup:"
                f"{_digest(physical, length=8)}-0000-0000-0000-000000000000:autoScalingGroupName/{physical}"
            )
        if service == "ssm" and kind == "parameter":
            return f"arn:{PARTITION}:ssm:{region}:{ACCOUNT_ID}:parameter{physical if physical.startswith('/') else '/' + physical}"
        if service == "ssm" and kind == "document":
            return f"arn:{PARTITION}:ssm:{region}:{ACCOUNT_ID}:document/{physical}"
        if service == "cloudwatch" and kind == "loggroup":
            return f"arn:{PARTITION}:logs:{region}:{ACCOUNT_ID}:log-group:{physical}"
        if service == "cloudwatch" and kind == "metricalarm":
            return f"arn:{PARTITION}:cloudwatch:{region}:{ACCOUNT_ID}:alarm:{physical}"
        if service == "cloudfront":
            return f"arn:{PARTITION}:cloudfront::{ACCOUNT_ID}:{kind}/{physical}"
        if service == "route53":
            return f"arn:{PARTITION}:route53:::{kind}/{physical}"
        if service == "kms":
            return f"arn:{PARTITION}:kms:{region}:{ACCOUNT_ID}:key/{self._key_id(physical, region)}"
        if service == "lb":
            # arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id> (and targetgroup/<name>/<id>, listener/app/...)
            prefix = f"arn:{PARTITION}:elasticloadbalancing:{region}:{ACCOUNT_ID}"
            suffix = _digest(physical, region, length=16)
            if kind == "targetgroup":
                return f"{prefix}:targetgroup/{physical}/{suffix}"
            if kind in ("listener", "listenerrule"):
                return f"{prefix}:{'listener-rule' if kind == 'listenerrule' else 'listener'}/app/{physical}/{suffix}/{_digest(physical, length=16)}"
            return f"{prefix}:loadbalancer/app/{physical}/{suffix}"
        if service == "globalaccelerator":
            # Global: no region in the ARN (arn:aws:globalaccelerator::<account>:accelerator/<uuid>[/listener/<id>[/endpoint-group/<id>]]).
            accelerator = self._key_id(physical, "global")
            listener = f"/listener/{_digest(physical, length=8)}"
            tail = {"listener": listener, "endpointgroup": f"{listener}/endpoint-group/{_digest(physical, region, length=12)}"}
            return f"arn:{PARTITION}:globalaccelerator::{ACCOUNT_ID}:accelerator/{accelerator}{tail.get(kind, '')}"
        if service == "arcregionswitch":
            # Global (no Region), service prefix arc-region-switch, a six-character suffix after the name.
            # https://docs.aws.amazon.com/arc-region-switch/latest/api/API_Plan.html
            return f"arn:{PARTITION}:arc-region-switch::{ACCOUNT_ID}:plan/{physical}:{_digest(physical, length=6)}"
        return f"arn:{PARTITION}:{service}:{region}:{ACCOUNT_ID}:{kind}/{physical}"

    @staticmethod
    def _key_id(physical: str, region: str) -> str:
        h = _digest(physical, region, length=32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    # ---- per-type extras
    def _global_cluster(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {
            "endpoint": f"{physical}.global-{_digest(physical, length=10)}.global.rds.amazonaws.com",
            "globalClusterResourceId": f"cluster-{_digest(physical, length=20)}",
        }

    def _cluster(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        suffix = _digest(ACCOUNT_ID, region, length=12)
        return {
            "endpoint": f"{physical}.cluster-{suffix}.{region}.rds.amazonaws.com",
            "readerEndpoint": f"{physical}.cluster-ro-{suffix}.{region}.rds.amazonaws.com",
            "clusterResourceId": f"cluster-{_digest(physical, region, length=26).upper()}",
            "port": inputs.get("port", 3306),
        }

    def _cluster_instance(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"endpoint": f"{physical}.{_digest(ACCOUNT_ID, region, length=12)}.{region}.rds.amazonaws.com"}

    def _load_balancer(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        # Canonical hosted zone ids of ALBs per region (the alias target's zone).
        zones = {"us-east-1": "Z35SXDOTRQ7X7K", "eu-west-1": "Z32O12XQLNTSW2", "us-west-2": "Z1H1FL5HABSF5"}
        return {
            "dnsName": f"{physical}-{_digest(physical, length=10)}.{region}.elb.amazonaws.com",
            "zoneId": zones.get(region, "Z" + _digest(region, length=13).upper()),
            "arnSuffix": f"app/{physical}/{_digest(physical, region, length=16)}",
        }

    def _target_group(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"arnSuffix": f"targetgroup/{physical}/{_digest(physical, region, length=16)}"}

    def _distribution(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {
            "domainName": f"d{_digest(physical, length=13)}.cloudfront.net",
            "hostedZoneId": "Z2FDTNDATAQYW2",
        }

    def _bucket(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {
            "bucket": physical,
            "bucketRegionalDomainName": f"{physical}.s3.{region}.amazonaws.com",
            "bucketDomainName": f"{physical}.s3.amazonaws.com",
        }

    def _queue(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        # SQS: https://sqs.<region>.amazonaws.com/<account>/<name> (the queue's url and id).
        return {"url": f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{physical}"}

    def _kms_key(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"keyId": self._key_id(physical, region)}

    def _replication_group(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {
            "primaryEndpointAddress": f"master.{physical}.{_digest(physical, length=6)}.{region}.cache.amazonaws.com",
            "readerEndpointAddress": f"replica.{physical}.{_digest(physical, length=6)}.{region}.cache.amazonaws.com",
        }

    def _global_replication_group(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        # AWS prefixes the suffix with a fixed per-account code.
        return {"globalReplicationGroupId": f"ldgnf-{physical}"}

    def _search_domain(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {
            "endpoint": f"vpc-{physical}-{_digest(physical, region, length=26)}.{region}.es.amazonaws.com",
            "domainId": f"{ACCOUNT_ID}/{physical}",
        }

    def _zone(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        zone_id = self._id("aws:route53/zone:Zone", physical, region)
        return {"zoneId": zone_id, "nameServers": [f"ns-{i}.awsdns-0{i}.org" for i in range(1, 5)]}

    def _health_check(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _certificate(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        names = [inputs.get("domainName", physical), *(inputs.get("subjectAlternativeNames") or [])]
        return {
            "domainValidationOptions": [
                {
                    "domainName": n,
                    "resourceRecordName": f"_{_digest(n, length=32)}.{n}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": f"_{_digest(n, 'v', length=32)}.acm-validations.aws.",
                }
                for n in names
            ],
            "status": "ISSUED",
        }

    def _accelerator(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        # Two static IPv4 addresses from AWS's pool (TEST-NET-3 here); the zone id is the same for every accelerator.
        h = int(_digest(physical, length=4), 16)
        return {
            "dnsName": f"a{_digest(physical, length=16)}.awsglobalaccelerator.com",
            "hostedZoneId": "Z2BJ6XQ5FK7U4H",
            "ipSets": [{"ipFamily": "IPv4", "ipAddresses": [f"203.0.113.{h % 100 + 1}", f"203.0.113.{h % 100 + 101}"]}],
        }

    def _random_password(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"result": pulumi.Output.secret(f"mock-{_digest(physical, length=24)}")}

    def _launch_template(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"latestVersion": 1}

    def _name_from_prefix(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        # AWS/Terraform append a 26-character unique suffix to name_prefix.
        if inputs.get("name"):
            return {}
        return {"name": f"{inputs.get('namePrefix', physical + '-')}{_digest(physical, region, length=26)}"}

    def _record(self, physical: str, region: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"fqdn": str(inputs.get("name", physical)).rstrip(".")}


def invoke_result(token: str, region: str, args: dict[str, Any]) -> dict[str, Any]:
    """Answers for the data-source invokes the program uses."""
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        letters = "abcdef"
        return {
            "names": [f"{region}{c}" for c in letters],
            "zoneIds": [f"{region[:3]}{region.split('-')[1][:2]}{region[-1]}-az{i + 1}" for i in range(6)],
            "id": region,
            "state": "available",
        }
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/ci", "userId": "AIDAMOCK", "id": ACCOUNT_ID}
    if token == "aws:index/getRegion:getRegion":
        return {"name": region, "region": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com", "description": region}
    if token == "aws:index/getPartition:getPartition":
        return {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "id": PARTITION, "reverseDnsPrefix": "com.amazonaws"}
    if token == "aws:ssm/getParameter:getParameter":
        name = str(args.get("name", ""))
        return {"name": name, "value": f"ami-{_digest(name, region)}", "type": "String", "id": name, "arn": "", "version": 1, "insecureValue": ""}
    if token == "aws:ec2/getAmi:getAmi":
        return {"id": f"ami-{_digest('ami', region)}", "architecture": "arm64", "name": "al2023-ami-mock"}
    if token == "aws:route53/getZone:getZone":
        name = str(args.get("name", "example.com")).rstrip(".")
        return {"zoneId": "Z" + _digest(name, length=20).upper(), "name": name, "id": "Z" + _digest(name, length=20).upper(), "nameServers": []}
    if token == "aws:ec2/getPrefixList:getPrefixList":
        return {"id": f"pl-{_digest(region, length=8)}", "cidrBlocks": ["52.216.0.0/15"], "name": args.get("name", "")}
    if token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
        return {"id": f"pl-{_digest(region, str(args.get('name')), length=8)}", "name": args.get("name", ""), "arn": ""}
    if token == "aws:cloudfront/getCachePolicy:getCachePolicy":
        return {"id": _digest(str(args.get("name")), length=32), "name": args.get("name")}
    if token == "aws:cloudfront/getOriginRequestPolicy:getOriginRequestPolicy":
        return {"id": _digest(str(args.get("name")), length=32), "name": args.get("name")}
    if token == "aws:elb/getServiceAccount:getServiceAccount":
        return {"arn": "arn:aws:iam::127311923021:root", "id": "127311923021"}
    if token == "aws:iam/getPolicyDocument:getPolicyDocument":
        return {"json": json.dumps({"Version": "2012-10-17", "Statement": args.get("statements", [])}), "id": "doc"}
    raise NotImplementedError(
        f"offline mocks have no answer for invoke {token}; add one to offline/mocks.py::invoke_result"
    )
