"""The mandatory guardrails of magento-dr as pure functions over resources (no Pulumi imports).

Each rule turns a resource (type, props, protect, URN) — or, for rules that
relate resources, the whole stack — into violation messages that say what to
change. The same rules run in two places: over `offline.runner.StackGraph` in the
unit tests (`subjects_from_graph`) and inside the CrossGuard pack (`pack.py`).

Props are the resource's inputs with the camelCase names the engine uses. Inside
CrossGuard they arrive wrapped in proxies that raise when a value preview cannot
know yet; the rules therefore treat props as read-only `Mapping`/`Sequence`,
never copy them, and never swallow exceptions, so an unknown value becomes the
SDK's "can't run during preview" note and the rule runs for real at `pulumi up`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# --------------------------------------------------------------------------- type tokens
# pulumi-aws 7.x tokens; tests/policy/test_rules_catch_bad_resources.py declares
# one resource of each through the real SDK, so a misspelt token fails there.
RDS_GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS_CLUSTER_PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
RDS_INSTANCE = "aws:rds/instance:Instance"
S3_BUCKET = "aws:s3/bucket:Bucket"
S3_BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
S3_VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
S3_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
S3_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
S3_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_ACCOUNT_PUBLIC_ACCESS_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
S3_BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
S3_BUCKET_ACL = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
ELASTICACHE_REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
ELASTICACHE_GLOBAL_REPLICATION_GROUP = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
ELASTICACHE_CLUSTER = "aws:elasticache/cluster:Cluster"
ELASTICACHE_SERVERLESS = "aws:elasticache/serverlessCache:ServerlessCache"
OPENSEARCH_DOMAIN = "aws:opensearch/domain:Domain"
SNS_TOPIC = "aws:sns/topic:Topic"
SNS_TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
EC2_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EC2_INSTANCE = "aws:ec2/instance:Instance"
EBS_VOLUME = "aws:ebs/volume:Volume"
EC2_SUBNET = "aws:ec2/subnet:Subnet"
EC2_SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
EC2_SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECRETSMANAGER_SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105 - a type token
SECRETSMANAGER_SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"  # noqa: S105 - a type token
KMS_KEY = "aws:kms/key:Key"
DYNAMODB_TABLE = "aws:dynamodb/table:Table"
LB_LISTENER = "aws:lb/listener:Listener"
CLOUDFRONT_DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
ROUTE53_HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
LAMBDA_FUNCTION = "aws:lambda/function:Function"
GA_ENDPOINT_GROUP = "aws:globalaccelerator/endpointGroup:EndpointGroup"
IAM_ROLE = "aws:iam/role:Role"
IAM_IDENTITY_POLICIES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
IAM_POLICY_ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
AWS_PROVIDER = "pulumi:providers:aws"

S3_BUCKETS = (S3_BUCKET, S3_BUCKET_V2)
# Resource policies: `Resource: "*"` is normal there (in a key policy it means "this key").
RESOURCE_POLICIES = (KMS_KEY, SNS_TOPIC_POLICY, S3_BUCKET_POLICY, SECRETSMANAGER_SECRET_POLICY)

# The project's components, as their URNs spell them (magento-dr:index:<Component>).
MEDIA_COMPONENT = "magento-dr:index:ReplicatedMediaBucket"
FAILOVER_COMPONENT = "magento-dr:index:FailoverAutomation"

# What the README's `protect` setting promises to protect: databases, buckets,
# caches, search, tables, and the keys and secrets without which their data is
# unreadable. `pulumi destroy` or an accidental replace must stop here. Aurora
# instances, load balancers and launch templates are rebuilt from config.
STATEFUL_TYPES = (
    RDS_GLOBAL_CLUSTER,
    RDS_CLUSTER,
    RDS_INSTANCE,
    *S3_BUCKETS,
    ELASTICACHE_REPLICATION_GROUP,
    ELASTICACHE_GLOBAL_REPLICATION_GROUP,
    ELASTICACHE_SERVERLESS,
    OPENSEARCH_DOMAIN,
    DYNAMODB_TABLE,
    KMS_KEY,
    SECRETSMANAGER_SECRET,
)

# Tags every resource gets through its provider's default_tags (components/naming.py).
REQUIRED_DEFAULT_TAGS = ("project", "stack", "role", "region", "managed-by")

# Route 53 endpoint checks: "fast" is 10 s (the other accepted value is 30 s).
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html
HEALTH_CHECK_INTERVAL_SECONDS = 10
ENDPOINT_HEALTH_CHECK_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")

# S3 Replication Time Control replicates 99.99 % of objects within 15 minutes and
# is the only setting AWS accepts. https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html
RTC_MINUTES = 15

OPENSEARCH_TLS_POLICIES = ("Policy-Min-TLS-1-2-2019-07", "Policy-Min-TLS-1-2-PFS-2023-10")
OPEN_CIDRS = ("0.0.0.0/0", "::/0")
PUBLIC_INGRESS_PORTS = (80, 443)  # the public load balancer's listeners; nothing else faces the internet
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
BROAD_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")


# --------------------------------------------------------------------------- subjects and rules
@dataclass(frozen=True)
class Subject:
    """One resource as a rule sees it, wherever it came from."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False
    dependencies: frozenset[str] = frozenset()
    """URNs this resource depends on (its inputs' resources and depends_on)."""

    @property
    def enclosing_types(self) -> tuple[str, ...]:
        """Types of the components this resource sits in, outermost first (read from the URN)."""
        parts = self.urn.split("::")
        if len(parts) < 4:
            return ()
        return tuple(parts[2].split("$")[:-1])

    def within(self, component_type: str) -> bool:
        return component_type in self.enclosing_types


@dataclass(frozen=True)
class Violation:
    rule: str
    urn: str
    name: str
    message: str


ResourceCheck = Callable[[Subject], list[str]]
StackCheck = Callable[[Sequence[Subject]], list[tuple[Subject, str]]]


@dataclass(frozen=True)
class ResourceRule:
    """A rule about one resource; CrossGuard runs it before the resource is created or updated."""

    id: str
    description: str
    types: tuple[str, ...]
    check: ResourceCheck

    def violations(self, subject: Subject) -> list[str]:
        return self.check(subject) if subject.type in self.types else []


@dataclass(frozen=True)
class StackRule:
    """A rule that relates resources (a bucket and its settings); CrossGuard runs it over the whole stack."""

    id: str
    description: str
    types: tuple[str, ...]
    check: StackCheck = field(repr=False)

    def violations(self, subjects: Sequence[Subject]) -> list[tuple[Subject, str]]:
        return self.check(subjects)


# --------------------------------------------------------------------------- reading props
def _get(value: Any, *path: str | int) -> Any:
    """Walk nested props by key (str) or position (int); None where a step is missing."""
    for step in path:
        if isinstance(step, str):
            if not isinstance(value, Mapping) or step not in _keys(value):
                return None
            value = value[step]
        else:
            if not _is_sequence(value) or step >= len(value):
                return None
            value = value[step]
    return value


def _keys(props: Mapping[str, Any]) -> list[str]:
    # Iterating reads only the keys, so it is safe on CrossGuard's unknown-checking proxies.
    return list(iter(props))


def _is_set(props: Mapping[str, Any], key: str) -> bool:
    """`key` has a value. A value preview cannot know yet (a key ARN from this same update) counts as set."""
    if key not in _keys(props):
        return False
    if isinstance(props, dict):  # plain props (tests, `pulumi up`): an explicit None or "" is not a value
        return props[key] not in (None, "")
    return True


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    if _is_sequence(value):
        return list(value)
    return [value]


def _true(value: Any) -> bool:
    """True for True and "true" (launch templates and some EC2 blocks take booleans as strings)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _document(value: Any) -> Mapping[str, Any] | None:
    """A policy document from a JSON string or an already-parsed object; None if it is neither."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, Mapping) else None
    return None


# --------------------------------------------------------------------------- IAM documents (pure)
def statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in _items(document.get("Statement")) if isinstance(s, Mapping)]


def wildcard_actions(document: Mapping[str, Any]) -> list[str]:
    """What an Allow statement grants too broadly: `*`, `service:*`, or any NotAction (everything but...)."""
    found: list[str] = []
    for statement in statements(document):
        if statement.get("Effect") != "Allow":
            continue  # a Deny on s3:* (e.g. "deny non-TLS") narrows access; it is the good kind
        for action in _items(statement.get("Action")):
            if isinstance(action, str) and (action == "*" or action.endswith(":*")):
                found.append(action)
        if "NotAction" in _keys(statement):
            found.append("NotAction " + json.dumps(_plain(statement["NotAction"])))
    return found


def public_principals(document: Mapping[str, Any]) -> list[str]:
    """Sids (or positions) of Allow statements open to anyone: Principal "*" with no Condition."""
    found: list[str] = []
    for i, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        principal = statement.get("Principal")
        principals = _items(principal.get("AWS")) if isinstance(principal, Mapping) else _items(principal)
        if "*" in principals:
            found.append(str(statement.get("Sid") or f"statement {i}"))
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(value[k]) for k in _keys(value)}
    if _is_sequence(value):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------- encryption at rest
def _aurora_encrypted(subject: Subject) -> list[str]:
    props = subject.props
    out: list[str] = []
    if subject.type == RDS_GLOBAL_CLUSTER:
        if not _true(props.get("storageEncrypted")) and not _is_set(props, "sourceDbClusterIdentifier"):
            out.append("global cluster storage is not encrypted: set storage_encrypted=True")
        return out
    if not _true(props.get("storageEncrypted")):
        out.append("storage is not encrypted: set storage_encrypted=True")
    if subject.type == RDS_CLUSTER and not _is_set(props, "kmsKeyId"):
        out.append(
            "no kms_key_id: pass the region's customer-managed key (a cross-region global-database member cannot use the AWS-managed key)"
        )
    return out


def _elasticache_encrypted(subject: Subject) -> list[str]:
    props = subject.props
    if subject.type == ELASTICACHE_CLUSTER:
        if _is_set(props, "replicationGroupId"):
            return []
        return ["a standalone cache cluster cannot encrypt at rest: use aws.elasticache.ReplicationGroup with at_rest_encryption_enabled=True"]
    if _is_set(props, "globalReplicationGroupId"):
        return []  # a global datastore member inherits encryption from the global group's primary
    if not _true(props.get("atRestEncryptionEnabled")):
        return ["cache data is not encrypted at rest: set at_rest_encryption_enabled=True (and kms_key_id to the region's key)"]
    return []


def _opensearch_encrypted(subject: Subject) -> list[str]:
    if not _true(_get(subject.props, "encryptAtRest", "enabled")):
        return ["search indices are not encrypted at rest: set encrypt_at_rest={'enabled': True, 'kms_key_id': ...}"]
    return []


def _sns_encrypted(subject: Subject) -> list[str]:
    if not _is_set(subject.props, "kmsMasterKeyId"):
        return ["topic is not encrypted: set kms_master_key_id to a customer-managed key that CloudWatch and EventBridge may use"]
    return []


def _ebs_encrypted(subject: Subject) -> list[str]:
    props = subject.props
    if subject.type == EBS_VOLUME:
        return [] if _true(props.get("encrypted")) else ["volume is not encrypted: set encrypted=True"]
    if subject.type == EC2_INSTANCE:
        out = []
        if not _true(_get(props, "rootBlockDevice", "encrypted")):
            out.append("root volume is not encrypted: set root_block_device={'encrypted': True}")
        for device in _items(props.get("ebsBlockDevices")):
            if not _true(_get(device, "encrypted")):
                out.append(f"EBS volume {_get(device, 'deviceName')} is not encrypted: set encrypted=True")
        return out
    mappings = _items(props.get("blockDeviceMappings"))
    if not mappings:
        return [
            "no block_device_mappings: the root volume would inherit the AMI's (unencrypted) setting; "
            "map the root device with ebs={'encrypted': 'true'}"
        ]
    return [
        f"EBS volume {_get(m, 'deviceName')} is not encrypted: set ebs={{'encrypted': 'true', ...}}"
        for m in mappings
        if _get(m, "ebs") is not None and not _true(_get(m, "ebs", "encrypted"))
    ]


def _secrets_encrypted(subject: Subject) -> list[str]:
    props = subject.props
    if subject.type == SECRETSMANAGER_SECRET:
        if not _is_set(props, "kmsKeyId"):
            return ["secret uses the AWS-managed key: set kms_key_id to a customer-managed key so its use is auditable and replicable"]
        return []
    if _true(props.get("manageMasterUserPassword")) and not _is_set(props, "masterUserSecretKmsKeyId"):
        return ["the RDS-managed master secret uses the AWS-managed key: set master_user_secret_kms_key_id"]
    return []


# --------------------------------------------------------------------------- TLS in transit
def _is_modern_elb_policy(policy: str) -> bool:
    """Listener policies that negotiate TLS 1.2 at least.

    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
    """
    return policy.startswith("ELBSecurityPolicy-TLS13") or "TLS-1-2" in policy


def _tls_in_transit(subject: Subject) -> list[str]:
    props = subject.props
    kind = subject.type
    if kind == ELASTICACHE_REPLICATION_GROUP:
        if _is_set(props, "globalReplicationGroupId"):
            return []
        if not _true(props.get("transitEncryptionEnabled")):
            return ["cache traffic is plaintext: set transit_encryption_enabled=True"]
        if props.get("transitEncryptionMode") == "preferred":
            return ["transit_encryption_mode='preferred' still accepts plaintext clients: set it to 'required'"]
        return []
    if kind == OPENSEARCH_DOMAIN:
        out = []
        if not _true(_get(props, "nodeToNodeEncryption", "enabled")):
            out.append("node-to-node traffic is plaintext: set node_to_node_encryption={'enabled': True}")
        if not _true(_get(props, "domainEndpointOptions", "enforceHttps")):
            out.append("the endpoint accepts HTTP: set domain_endpoint_options={'enforce_https': True, ...}")
        if _get(props, "domainEndpointOptions", "tlsSecurityPolicy") not in OPENSEARCH_TLS_POLICIES:
            out.append(f"the endpoint may negotiate TLS < 1.2: set domain_endpoint_options.tls_security_policy to one of {list(OPENSEARCH_TLS_POLICIES)}")
        return out
    if kind == LB_LISTENER:
        protocol = props.get("protocol")
        if protocol == "HTTPS":
            policy = props.get("sslPolicy")
            if not isinstance(policy, str) or not _is_modern_elb_policy(policy):
                return [f"ssl_policy {policy!r} allows TLS < 1.2: use ELBSecurityPolicy-TLS13-1-2-2021-06 (or newer)"]
            return []
        if protocol == "HTTP":
            actions = _items(props.get("defaultActions"))
            redirects = [a for a in actions if _get(a, "type") == "redirect" and _get(a, "redirect", "protocol") == "HTTPS"]
            if not actions or len(redirects) != len(actions):
                return [
                    "an HTTP listener that does not redirect serves plaintext: "
                    "set default_actions=[{'type': 'redirect', 'redirect': {'protocol': 'HTTPS', ...}}]"
                ]
            return []
        return [] if protocol in ("TLS", "TCP_UDP") else [f"listener protocol {protocol!r} is not encrypted: use HTTPS (or an HTTP listener that redirects)"]
    if kind == CLOUDFRONT_DISTRIBUTION:
        out = []
        behaviors = [_get(props, "defaultCacheBehavior"), *_items(props.get("orderedCacheBehaviors"))]
        for behavior in behaviors:
            policy = _get(behavior, "viewerProtocolPolicy")
            if policy not in ("redirect-to-https", "https-only"):
                out.append(f"cache behavior {_get(behavior, 'pathPattern') or 'default'} allows HTTP: set viewer_protocol_policy='redirect-to-https'")
        if not _true(_get(props, "viewerCertificate", "cloudfrontDefaultCertificate")):
            version = _get(props, "viewerCertificate", "minimumProtocolVersion")
            if not (isinstance(version, str) and version.startswith("TLSv1.2")):
                out.append(f"viewer_certificate.minimum_protocol_version {version!r}: set TLSv1.2_2021")
        for origin in _items(props.get("origins")):
            custom = _get(origin, "customOriginConfig")
            if custom is not None and _get(custom, "originProtocolPolicy") != "https-only":
                out.append(f"origin {_get(origin, 'originId')} is fetched over HTTP: set custom_origin_config.origin_protocol_policy='https-only'")
        return out
    if kind == RDS_CLUSTER_PARAMETER_GROUP:
        if not str(props.get("family") or "").startswith("aurora-mysql"):
            return []
        for parameter in _items(props.get("parameters")):
            if _get(parameter, "name") == "require_secure_transport" and str(_get(parameter, "value")).upper() in ("ON", "1"):
                return []
        return ["MySQL clients may connect without TLS: add parameters=[{'name': 'require_secure_transport', 'value': 'ON'}]"]
    if kind == RDS_CLUSTER:
        if not _is_set(props, "dbClusterParameterGroupName"):
            return [
                "the cluster uses the default parameter group, which accepts plaintext: "
                "set db_cluster_parameter_group_name to a group with require_secure_transport=ON"
            ]
        return []
    return []


# --------------------------------------------------------------------------- nothing public
def _open_ingress(cidrs: Iterable[Any], from_port: Any, to_port: Any, protocol: Any) -> str | None:
    open_cidrs = [c for c in cidrs if c in OPEN_CIDRS]
    if not open_cidrs:
        return None
    low, high = _number(from_port), _number(to_port)
    if str(protocol) in ("-1", "all") or low is None or high is None:
        return f"{', '.join(open_cidrs)} may reach every port"
    ports = range(int(low), int(high) + 1)
    if any(p not in PUBLIC_INGRESS_PORTS for p in ports):
        span = f"port {int(low)}" if low == high else f"ports {int(low)}-{int(high)}"
        return f"{', '.join(open_cidrs)} may reach {span}"
    return None


def _nothing_public(subject: Subject) -> list[str]:
    props = subject.props
    kind = subject.type
    if kind in (RDS_CLUSTER_INSTANCE, RDS_INSTANCE):
        return ["the database has a public endpoint: set publicly_accessible=False"] if _true(props.get("publiclyAccessible")) else []
    if kind == OPENSEARCH_DOMAIN:
        if not _items(_get(props, "vpcOptions", "subnetIds")):
            return ["the search domain has a public endpoint: set vpc_options={'subnet_ids': <data subnets>, 'security_group_ids': [...]}"]
        return []
    if kind == ELASTICACHE_REPLICATION_GROUP:
        if not _is_set(props, "globalReplicationGroupId") and not _is_set(props, "subnetGroupName"):
            return ["no subnet_group_name: the cache would land in the default VPC; place it in the isolated data subnets"]
        return []
    if kind == EC2_SUBNET:
        return ["instances launched here get public IPs: set map_public_ip_on_launch=False"] if _true(props.get("mapPublicIpOnLaunch")) else []
    if kind == EC2_LAUNCH_TEMPLATE:
        return [
            "instances get a public IP: set associate_public_ip_address='false' (the ALB is the only public entry)"
            for ni in _items(props.get("networkInterfaces"))
            if _true(_get(ni, "associatePublicIpAddress"))
        ]
    if kind == EC2_INSTANCE:
        return ["the instance gets a public IP: set associate_public_ip_address=False"] if _true(props.get("associatePublicIpAddress")) else []
    if kind == EC2_SECURITY_GROUP:
        out = []
        for rule in _items(props.get("ingress")):
            cidrs = [*_items(_get(rule, "cidrBlocks")), *_items(_get(rule, "ipv6CidrBlocks"))]
            problem = _open_ingress(cidrs, _get(rule, "fromPort"), _get(rule, "toPort"), _get(rule, "protocol"))
            if problem:
                out.append(f"{problem}: admit the internet only on 80/443 (the ALB) and everything else by security group")
        return out
    if kind == EC2_SECURITY_GROUP_RULE:
        if props.get("type") != "ingress":
            return []
        cidrs = [*_items(props.get("cidrBlocks")), *_items(props.get("ipv6CidrBlocks"))]
        problem = _open_ingress(cidrs, props.get("fromPort"), props.get("toPort"), props.get("protocol"))
        return [f"{problem}: admit the internet only on 80/443 and everything else by source_security_group_id"] if problem else []
    if kind == VPC_INGRESS_RULE:
        cidrs = [props.get("cidrIpv4"), props.get("cidrIpv6")]
        problem = _open_ingress(cidrs, props.get("fromPort"), props.get("toPort"), props.get("ipProtocol"))
        return [f"{problem}: admit the internet only on 80/443 and everything else by referenced_security_group_id"] if problem else []
    if kind in S3_BUCKETS or kind in S3_BUCKET_ACL:
        acl = props.get("acl")
        return [f"acl={acl!r} makes objects public: drop the ACL; CloudFront reads through origin access control"] if acl in PUBLIC_ACLS else []
    if kind == S3_ACCOUNT_PUBLIC_ACCESS_BLOCK:
        return _public_access_block_gaps(props)
    if kind in RESOURCE_POLICIES:
        document = _document(props.get("policy"))
        if document is None:
            return []
        return [
            f"policy statement {sid} allows Principal '*' with no Condition: name the principal (e.g. the CloudFront distribution via aws:SourceArn)"
            for sid in public_principals(document)
        ]
    if kind == IAM_ROLE:
        trust = _document(props.get("assumeRolePolicy"))
        if trust is None:
            return []
        return [f"anyone may assume this role ({sid}): name the service or account in the trust policy" for sid in public_principals(trust)]
    return []


def _public_access_block_gaps(props: Mapping[str, Any]) -> list[str]:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    missing = [f for f in flags if not _true(props.get(f))]
    return [f"public access is not fully blocked: set {', '.join(_snake(f) + '=True' for f in missing)}"] if missing else []


def _snake(camel: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in camel)


# --------------------------------------------------------------------------- deletion protection
def _deletion_protection(subject: Subject) -> list[str]:
    props = subject.props
    if subject.type == SECRETSMANAGER_SECRET:
        if _number(props.get("recoveryWindowInDays")) == 0:
            return ["recovery_window_in_days=0 deletes the secret at once: keep a 7-30 day recovery window"]
        return []
    if subject.type == DYNAMODB_TABLE:
        return [] if _true(props.get("deletionProtectionEnabled")) else ["table can be deleted: set deletion_protection_enabled=True"]
    return [] if _true(props.get("deletionProtection")) else ["database can be deleted: set deletion_protection=True"]


def _protected(subject: Subject) -> list[str]:
    if subject.protect:
        return []
    return [
        "stateful resource without `protect`: pass opts=pulumi.ResourceOptions(protect=settings.protect) "
        "(magento-dr:protect is true on production stacks)"
    ]


# --------------------------------------------------------------------------- instances
def _imdsv2(subject: Subject) -> list[str]:
    if _get(subject.props, "metadataOptions", "httpTokens") != "required":
        return ["IMDSv1 is allowed: set metadata_options={'http_tokens': 'required', 'http_endpoint': 'enabled'}"]
    return []


# --------------------------------------------------------------------------- IAM
def _least_privilege(subject: Subject) -> list[str]:
    props = subject.props
    documents: list[tuple[str, Any]] = []
    if subject.type == IAM_ROLE:
        documents += [(f"inline policy {_get(p, 'name')}", _get(p, "policy")) for p in _items(props.get("inlinePolicies"))]
    elif subject.type in IAM_POLICY_ATTACHMENTS:
        return _broad_managed_policies([props.get("policyArn")])
    else:
        documents.append(("policy", props.get("policy")))
    out: list[str] = []
    if subject.type == IAM_ROLE:
        out += _broad_managed_policies(_items(props.get("managedPolicyArns")))
    for label, raw in documents:
        if raw is None:
            continue
        document = _document(raw)
        if document is None:
            out.append(f"{label} is not a JSON policy document: build it as data and json.dumps it")
            continue
        for action in wildcard_actions(document):
            out.append(f"{label} allows {action}: list the actions the code calls (e.g. rds:FailoverGlobalCluster), never a wildcard service or *")
    return out


def _broad_managed_policies(arns: Iterable[Any]) -> list[str]:
    out = []
    for arn in arns:
        if not isinstance(arn, str) or not arn.startswith("arn:aws:iam::aws:policy/"):
            continue
        name = arn.rsplit("/", 1)[-1]
        if name in BROAD_MANAGED_POLICIES or name.endswith("FullAccess"):
            out.append(f"attaches {name}, which grants wildcard actions: write a policy with the actions the role needs")
    return out


# --------------------------------------------------------------------------- replication, health checks, failover, tags
def _replication_rtc(subject: Subject) -> list[str]:
    if subject.type == S3_REPLICATION:
        rules = _items(subject.props.get("rules"))
    else:  # the deprecated inline replication_configuration on a bucket
        rules = _items(_get(subject.props, "replicationConfiguration", "rules"))
        if not rules:
            return []
    if not rules:
        return ["replication configuration has no rules: add a rule for the whole bucket"]
    out = []
    for rule in rules:
        if _get(rule, "status") != "Enabled":
            continue
        label = _get(rule, "id") or "rule"
        rtc = _get(rule, "destination", "replicationTime")
        minutes = _number(_get(rtc, "time", "minutes") if _get(rtc, "time") is not None else _get(rtc, "minutes"))
        if _get(rtc, "status") != "Enabled" or minutes != RTC_MINUTES:
            out.append(
                f"{label}: no Replication Time Control: set destination.replication_time={{'status': 'Enabled', 'time': {{'minutes': {RTC_MINUTES}}}}}"
            )
        if _get(rule, "destination", "metrics", "status") != "Enabled":
            out.append(
                f"{label}: replication metrics are off (RTC needs them): "
                f"set destination.metrics={{'status': 'Enabled', 'event_threshold': {{'minutes': {RTC_MINUTES}}}}}"
            )
    return out


def _health_check_interval(subject: Subject) -> list[str]:
    props = subject.props
    if props.get("type") not in ENDPOINT_HEALTH_CHECK_TYPES:
        return []  # CLOUDWATCH_METRIC and CALCULATED checks have no interval of their own
    if _number(props.get("requestInterval")) != HEALTH_CHECK_INTERVAL_SECONDS:
        interval = _number(props.get("requestInterval"))
        shown = "unset (30 s)" if interval is None else f"{interval:g} s"
        return [f"request_interval is {shown}: set request_interval={HEALTH_CHECK_INTERVAL_SECONDS} (fast checks) so detection fits the RTO"]
    return []


def _accelerator_fronts_load_balancers(subject: Subject) -> list[str]:
    """The optional accelerator is public like the ALBs it fronts, and must front nothing else.

    Each endpoint is an Application Load Balancer (an EC2 instance or an Elastic IP behind the
    accelerator would be a second way in that skips the ALB's TLS policy and security group), with
    client IP preservation on (the provider's default is off, AWS's is on) and an explicit weight (an
    omitted one may reach AWS as 0), in an endpoint group that names its region (it would otherwise
    land in the provider's region, and changing it replaces the group).
    """
    props = subject.props
    out = []
    if not _is_set(props, "endpointGroupRegion"):
        out.append("the endpoint group's region is implicit (the provider's own): set endpoint_group_region to the ALB's region")
    for endpoint in _items(props.get("endpointConfigurations")):
        endpoint_id = _get(endpoint, "endpointId")
        if isinstance(endpoint_id, str) and not (":elasticloadbalancing:" in endpoint_id and ":loadbalancer/app/" in endpoint_id):
            out.append(f"endpoint {endpoint_id!r} is not an Application Load Balancer: use the region's ALB as the accelerator's only endpoint")
        if not _true(_get(endpoint, "clientIpPreservationEnabled")):
            out.append("client IP preservation is off (the provider's default): set client_ip_preservation_enabled=True")
        if _number(_get(endpoint, "weight")) is None:
            out.append("the endpoint's weight is implicit: set weight=128 (AWS's default) explicitly")
    return out


def _is_failover_function(subject: Subject) -> bool:
    return subject.within(FAILOVER_COMPONENT) or "failover" in subject.name.lower()


def _reserved_concurrency(subject: Subject) -> list[str]:
    if not _is_failover_function(subject):
        return []
    reserved = _number(subject.props.get("reservedConcurrentExecutions"))
    if reserved is None or reserved < 1:
        return [
            "the failover function has no reserved concurrency, so a regional surge of other functions can throttle it: "
            "set reserved_concurrent_executions=1"
        ]
    return []


def _provider_tags(props: Mapping[str, Any]) -> Mapping[str, Any]:
    raw = _get(props, "defaultTags")
    # The engine hands provider inputs over as JSON strings.
    default_tags = _document(raw) if isinstance(raw, str) else raw
    tags = _get(default_tags, "tags")
    if isinstance(tags, str):
        tags = _document(tags)
    return tags if isinstance(tags, Mapping) else {}


def _default_tags(subject: Subject) -> list[str]:
    tags = _provider_tags(subject.props)
    out = []
    missing = [key for key in REQUIRED_DEFAULT_TAGS if not tags.get(key)]
    if missing:
        out.append(f"provider default_tags lack {missing}: build them with components.naming.default_tags()")
    region = subject.props.get("region")
    if tags.get("region") and region and tags.get("region") != region:
        out.append(f"default tag region={tags.get('region')!r} but the provider deploys to {region!r}: set the region tag to the provider's own region")
    return out


# --------------------------------------------------------------------------- stack rules: S3 buckets and their settings
def _settings_of(bucket: Subject, subjects: Sequence[Subject], types: Iterable[str]) -> list[Subject]:
    """Resources of `types` that configure `bucket` (they take the bucket as an input)."""
    wanted = set(types)
    names = {v for v in (bucket.props.get("bucket"), bucket.props.get("id")) if isinstance(v, str) and v}
    return [s for s in subjects if s.type in wanted and (bucket.urn in s.dependencies or s.props.get("bucket") in names)]


def _buckets(subjects: Sequence[Subject]) -> list[Subject]:
    return [s for s in subjects if s.type in S3_BUCKETS]


def _buckets_encrypted(subjects: Sequence[Subject]) -> list[tuple[Subject, str]]:
    out = []
    for bucket in _buckets(subjects):
        rules = _items(_get(bucket.props, "serverSideEncryptionConfiguration", "rule"))  # the deprecated inline form
        for config in _settings_of(bucket, subjects, S3_ENCRYPTION):
            rules += _items(config.props.get("rules"))
        algorithms = [_get(r, "applyServerSideEncryptionByDefault", "sseAlgorithm") for r in rules]
        if not any(a in ("aws:kms", "aws:kms:dsse", "AES256") for a in algorithms):
            out.append(
                (bucket, "no default encryption declared: add aws.s3.BucketServerSideEncryptionConfiguration with sse_algorithm 'aws:kms' and the region's key")
            )
    return out


def _buckets_block_public_access(subjects: Sequence[Subject]) -> list[tuple[Subject, str]]:
    account_blocks = [s for s in subjects if s.type == S3_ACCOUNT_PUBLIC_ACCESS_BLOCK and not _public_access_block_gaps(s.props)]
    if account_blocks:
        return []
    out = []
    for bucket in _buckets(subjects):
        blocks = _settings_of(bucket, subjects, (S3_PUBLIC_ACCESS_BLOCK,))
        if not blocks:
            out.append((bucket, "no public access block: add aws.s3.BucketPublicAccessBlock with all four settings True"))
        for block in blocks:
            out += [(bucket, gap) for gap in _public_access_block_gaps(block.props)]
    return out


def _denies_insecure_transport(document: Mapping[str, Any]) -> bool:
    for statement in statements(document):
        condition = _get(statement, "Condition", "Bool", "aws:SecureTransport")
        if statement.get("Effect") == "Deny" and str(condition).lower() == "false":
            return True
    return False


def _buckets_tls_only(subjects: Sequence[Subject]) -> list[tuple[Subject, str]]:
    out = []
    for bucket in _buckets(subjects):
        documents = [_document(p.props.get("policy")) for p in _settings_of(bucket, subjects, (S3_BUCKET_POLICY,))]
        if not any(d is not None and _denies_insecure_transport(d) for d in documents):
            out.append((bucket, "requests over plain HTTP are not refused: add a bucket policy statement that Denies s3:* when aws:SecureTransport is false"))
    return out


def stack_role(subjects: Sequence[Subject]) -> str | None:
    """primary or secondary, read from the `role` default tag of the stack's AWS providers."""
    for provider in subjects:
        if provider.type == AWS_PROVIDER:
            role = _provider_tags(provider.props).get("role")
            if isinstance(role, str) and role:
                return role
    return None


def _media_versioned_and_replicated(subjects: Sequence[Subject]) -> list[tuple[Subject, str]]:
    """Media buckets are versioned; the secondary, which owns both replication directions, declares both.

    The primary cannot declare replication: the secondary's bucket does not exist
    when the primary runs first (components/media_bucket.py). CrossGuard sees one
    stack at a time, so only the secondary can be held to "replicated both ways".
    """
    out = []
    is_secondary = stack_role(subjects) == "secondary"
    replications = [r for r in subjects if r.type == S3_REPLICATION]
    for bucket in _buckets(subjects):
        if not bucket.within(MEDIA_COMPONENT):
            continue
        statuses = ["Enabled" if _true(_get(bucket.props, "versioning", "enabled")) else None]
        statuses += [_get(v.props, "versioningConfiguration", "status") for v in _settings_of(bucket, subjects, S3_VERSIONING)]
        if "Enabled" not in statuses:
            out.append((bucket, "media bucket is not versioned (replication requires it): add aws.s3.BucketVersioning with status 'Enabled'"))
        if not is_secondary:
            continue
        name = bucket.props.get("bucket")
        outbound = [r for r in replications if name is not None and r.props.get("bucket") == name]
        inbound = [
            r for r in replications
            if any(_get(rule, "destination", "bucket") == f"arn:aws:s3:::{name}" for rule in _items(r.props.get("rules")))
        ]
        if not outbound:
            out.append((bucket, "nothing replicates this bucket back to the primary region: add aws.s3.BucketReplicationConfig(bucket=<this bucket>) with RTC"))
        if not inbound:
            out.append((bucket, "nothing replicates the primary's media into this bucket: add aws.s3.BucketReplicationConfig on the primary's bucket with RTC"))
    return out


# --------------------------------------------------------------------------- the rule set
RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule("aurora-encrypted-at-rest", "Aurora and RDS storage is encrypted with a customer-managed KMS key.",
                 (RDS_GLOBAL_CLUSTER, RDS_CLUSTER, RDS_INSTANCE), _aurora_encrypted),
    ResourceRule("elasticache-encrypted-at-rest", "ElastiCache data is encrypted at rest.",
                 (ELASTICACHE_REPLICATION_GROUP, ELASTICACHE_CLUSTER), _elasticache_encrypted),
    ResourceRule("opensearch-encrypted-at-rest", "OpenSearch indices are encrypted at rest.", (OPENSEARCH_DOMAIN,), _opensearch_encrypted),
    ResourceRule("sns-encrypted-at-rest", "SNS topics are encrypted with a customer-managed KMS key.", (SNS_TOPIC,), _sns_encrypted),
    ResourceRule("ebs-encrypted-at-rest", "Every EBS volume (launch templates, instances, volumes) is encrypted.",
                 (EC2_LAUNCH_TEMPLATE, EC2_INSTANCE, EBS_VOLUME), _ebs_encrypted),
    ResourceRule("secrets-encrypted-with-cmk", "Secrets are encrypted with a customer-managed KMS key.",
                 (SECRETSMANAGER_SECRET, RDS_CLUSTER), _secrets_encrypted),
    ResourceRule("tls-in-transit", "Caches, search, load balancers, CloudFront and MySQL refuse plaintext and TLS < 1.2.",
                 (ELASTICACHE_REPLICATION_GROUP, OPENSEARCH_DOMAIN, LB_LISTENER, CLOUDFRONT_DISTRIBUTION, RDS_CLUSTER_PARAMETER_GROUP, RDS_CLUSTER),
                 _tls_in_transit),
    ResourceRule("nothing-public", "No public databases, caches, search, buckets, IPs, open ports or wildcard principals.",
                 (RDS_CLUSTER_INSTANCE, RDS_INSTANCE, OPENSEARCH_DOMAIN, ELASTICACHE_REPLICATION_GROUP, EC2_SUBNET, EC2_LAUNCH_TEMPLATE,
                  EC2_INSTANCE, EC2_SECURITY_GROUP, EC2_SECURITY_GROUP_RULE, VPC_INGRESS_RULE, *S3_BUCKETS, *S3_BUCKET_ACL,
                  S3_ACCOUNT_PUBLIC_ACCESS_BLOCK, *RESOURCE_POLICIES, IAM_ROLE),
                 _nothing_public),
    ResourceRule("deletion-protection", "Databases and tables have deletion protection on; secrets keep a recovery window.",
                 (RDS_GLOBAL_CLUSTER, RDS_CLUSTER, RDS_INSTANCE, DYNAMODB_TABLE, SECRETSMANAGER_SECRET), _deletion_protection),
    ResourceRule("stateful-resources-protected", "Stateful resources carry the `protect` resource option.", STATEFUL_TYPES, _protected),
    ResourceRule("imdsv2-required", "Instances require IMDSv2 session tokens.", (EC2_LAUNCH_TEMPLATE, EC2_INSTANCE), _imdsv2),
    ResourceRule("iam-no-wildcard-actions", "IAM and resource policies allow named actions only (no `*`, `service:*` or NotAction).",
                 (IAM_ROLE, *IAM_IDENTITY_POLICIES, *IAM_POLICY_ATTACHMENTS, *RESOURCE_POLICIES), _least_privilege),
    ResourceRule("s3-replication-rtc", "S3 replication uses Replication Time Control (15 min) with metrics.",
                 (S3_REPLICATION, *S3_BUCKETS), _replication_rtc),
    ResourceRule("route53-health-check-10s", "Route 53 endpoint health checks probe every 10 seconds.", (ROUTE53_HEALTH_CHECK,), _health_check_interval),
    ResourceRule("failover-function-reserved-concurrency", "The failover function has reserved concurrency.", (LAMBDA_FUNCTION,), _reserved_concurrency),
    ResourceRule("accelerator-fronts-load-balancers",
                 "The optional accelerator fronts the ALBs only, with client IP preservation and explicit weights and regions.",
                 (GA_ENDPOINT_GROUP,), _accelerator_fronts_load_balancers),
    ResourceRule("provider-default-tags", "Every AWS provider stamps the required tags on every resource.", (AWS_PROVIDER,), _default_tags),
)

STACK_RULES: tuple[StackRule, ...] = (
    StackRule("s3-buckets-encrypted", "Every bucket declares default encryption.", S3_BUCKETS, _buckets_encrypted),
    StackRule("s3-buckets-block-public-access", "Every bucket blocks public access (all four settings).", S3_BUCKETS, _buckets_block_public_access),
    StackRule("s3-buckets-tls-only", "Every bucket policy refuses requests without TLS.", S3_BUCKETS, _buckets_tls_only),
    StackRule("media-buckets-versioned-and-replicated", "Media buckets are versioned; the secondary replicates them both ways.",
              S3_BUCKETS, _media_versioned_and_replicated),
)

RULE_IDS: tuple[str, ...] = tuple(r.id for r in RESOURCE_RULES) + tuple(r.id for r in STACK_RULES)


# --------------------------------------------------------------------------- running the rules
class GraphResource(Protocol):
    """What `offline.runner.Resource` offers (kept structural so this module imports nothing of the program)."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    protect: bool
    dependencies: list[str]


def subjects_from_graph(resources: Iterable[GraphResource]) -> list[Subject]:
    """Subjects from an offline run: props are the inputs, as CrossGuard's resource policies see them."""
    return [
        Subject(type=r.type, name=r.name, urn=r.urn, props=r.inputs, protect=r.protect, dependencies=frozenset(r.dependencies))
        for r in resources
    ]


def evaluate(subjects: Sequence[Subject], rule_ids: Iterable[str] | None = None) -> list[Violation]:
    """Every violation of the selected rules (all by default) in one stack."""
    selected = set(RULE_IDS if rule_ids is None else rule_ids)
    unknown = selected - set(RULE_IDS)
    if unknown:
        raise KeyError(f"no such rules: {sorted(unknown)}; known: {list(RULE_IDS)}")
    found: list[Violation] = []
    for rule in RESOURCE_RULES:
        if rule.id in selected:
            found += [Violation(rule.id, s.urn, s.name, m) for s in subjects for m in rule.violations(s)]
    for stack_rule in STACK_RULES:
        if stack_rule.id in selected:
            found += [Violation(stack_rule.id, s.urn, s.name, m) for s, m in stack_rule.violations(subjects)]
    return found


def applicable(rule_id: str, subjects: Iterable[Subject]) -> Iterator[Subject]:
    """The subjects a rule looks at (to tell a pass from a rule that had nothing to check)."""
    types = {r.id: r.types for r in RESOURCE_RULES} | {r.id: r.types for r in STACK_RULES}
    yield from (s for s in subjects if s.type in types[rule_id])
