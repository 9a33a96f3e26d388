"""RegionalFrontend: one region's Magento web tier and its front door, declared the same way by both stacks.

Compute (launch template, Auto Scaling group, instance profile), the public ALB
with its certificate and access logs, the security-group rules of the web tier,
and — as child components — the session cache, the search domain and the
region's half of the Route 53 failover pair. The instances learn everything
from one SSM path and Secrets Manager (see `magento_runtime`).
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from .config import CacheSettings, DnsSettings, SearchSettings, WebSettings
from .contracts import ACTIVE_PARAMETER, ssm_prefix
from .frontend_policies import (
    InstanceGrants,
    alb_log_bucket_policy,
    assume_role_policy,
    frontend_key_policy,
    instance_role_policy,
)
from .magento_runtime import (
    APPLY_ROLE_COMMAND,
    INSTANCE_TAG_KEY,
    LIVENESS_PATH,
    RUNTIME_PARAMETER_NAMES,
    WEB_TARGET_HEALTH_INTERVAL_SECONDS,
    WEB_TARGET_HEALTHY_THRESHOLD,
    RuntimeValues,
    amazon_linux_ami_parameter,
    initial_capacity,
    render_user_data,
    runtime_parameters,
)
from .naming import physical_name, regional_hostname
from .search_domain import SearchDomain, SearchDomainArgs
from .session_cache import SessionCache, SessionCacheArgs
from .subnets import plan_subnets
from .traffic import HealthCheckPlan, ShopTraffic, ShopTrafficArgs
from .varnish import PURGE_PORT, VarnishPlan

# TLS 1.3 and 1.2 (restricted ciphers, post-quantum key exchange): what the console picks today.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
ALB_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
# Time for user data (env.php, certificate, cron) before the ALB's verdict counts.
HEALTH_CHECK_GRACE_SECONDS = 300
# Target tracking keeps average CPU here; the failover raises min/desired on promotion.
CPU_TARGET_PERCENT = 60.0
ALB_LOG_RETENTION_DAYS = 90
ROOT_VOLUME_GB = 30
INTERNET = "0.0.0.0/0"


@dataclass(frozen=True)
class DatabaseEndpoints:
    """What the GlobalDatabase component hands the web tier."""

    writer_endpoint: pulumi.Input[str]
    """The Aurora *global* writer endpoint: always resolves to whichever cluster holds the writer."""
    reader_endpoint: pulumi.Input[str]
    credentials_secret_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    port: pulumi.Input[int]


@dataclass(frozen=True)
class MediaStorage:
    """What the ReplicatedMediaBucket component hands the web tier (this region's bucket)."""

    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    bucket_region: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    media_url: pulumi.Input[str]


@dataclass(frozen=True)
class PrimaryFrontendValues:
    """What the secondary reads from the primary stack's exports (the values both regions must share)."""

    crypt_key: pulumi.Input[str]
    cache_auth_token: pulumi.Input[str]
    cache_global_datastore_id: pulumi.Input[str]


@dataclass(frozen=True)
class RegionalFrontendArgs:
    stack: str
    region: str
    peer_region: str
    """The other region of the pair; the secondary's record watches the primary's deep check there."""
    is_primary: bool
    dns: DnsSettings
    hosted_zone_id: pulumi.Input[str]
    """The existing public zone of `dns.zone_name` (looked up once by the stack program)."""
    web: WebSettings
    cache: CacheSettings
    search: SearchSettings
    health_check_interval_seconds: int
    health_check_failure_threshold: int
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    peer_cidr: str
    public_subnet_ids: Sequence[pulumi.Input[str]]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    data_subnet_ids: Sequence[pulumi.Input[str]]
    alb_security_group_id: pulumi.Input[str]
    app_security_group_id: pulumi.Input[str]
    database: DatabaseEndpoints
    media: MediaStorage
    notification_topic_arn: pulumi.Input[str]
    primary_values: PrimaryFrontendValues | None = None
    """Secondary only."""
    db_name: str = "magento"
    protect: bool = True
    accelerator_dns_name: pulumi.Input[str] | None = None
    """With `failover.globalAccelerator`: the shop's failover record aliases the accelerator (components/traffic.py)."""

    def __post_init__(self) -> None:
        if self.peer_region == self.region:
            raise ValueError("RegionalFrontendArgs.peer_region must differ from region (magento-dr:peer.region)")
        if self.is_primary and self.primary_values is not None:
            raise ValueError("RegionalFrontendArgs.primary_values is for the secondary; the primary generates the shared values")
        if not self.is_primary and self.primary_values is None:
            raise ValueError("RegionalFrontendArgs.primary_values is required in the secondary (read them from the primary stack)")
        for label, subnets in (("public", self.public_subnet_ids), ("private", self.private_subnet_ids), ("data", self.data_subnet_ids)):
            if len(subnets) < 2:
                raise ValueError(f"RegionalFrontendArgs.{label}_subnet_ids: the web tier needs subnets in at least two AZs")
        # Validate the pure plans now, before any resource is declared.
        HealthCheckPlan(regional_hostname(self.dns.shop_hostname, self.region), self.health_check_interval_seconds, self.health_check_failure_threshold)
        self.user_data()

    def varnish_plan(self) -> VarnishPlan | None:
        """With `web.fullPageCache: varnish`: who may purge (the web instances' subnets), how much memory."""
        if self.web.full_page_cache != "varnish":
            return None
        subnets = plan_subnets(self.vpc_cidr, len(self.private_subnet_ids))  # the network's own layout
        return VarnishPlan(tuple(s.private for s in subnets), self.vpc_cidr, self.web.varnish_memory_percent)

    def user_data(self) -> str:
        return render_user_data(
            stack=self.stack,
            region=self.region,
            ssm_prefix=ssm_prefix(self.stack),
            shop_hostname=self.dns.shop_hostname,
            full_page_cache=self.web.full_page_cache,
            varnish=self.varnish_plan(),
        )


class RegionalFrontend(pulumi.ComponentResource):
    """The web tier of one region: ALB, Auto Scaling group, cache, search, runtime config and DNS."""

    asg_name: pulumi.Output[str]
    """Name of the web Auto Scaling group (the failover scales it)."""
    asg_arn: pulumi.Output[str]
    """ARN of the web Auto Scaling group."""
    production_capacity: dict[str, int]
    """min/desired/max the failover scales this region to when it takes over."""
    instance_tag_key: str
    """Tag key on every web instance (Run Command target)."""
    instance_tag_value: str
    """Tag value on every web instance: the stack name."""
    instance_role_name: pulumi.Output[str]
    """The web instances' IAM role (the release component attaches its read grant to it)."""
    apply_role_command: str
    """Script on each instance that re-reads `active` and starts/stops cron (run it via Run Command)."""
    ssm_prefix: str
    """SSM path holding this region's Magento runtime configuration."""
    active_parameter_name: str
    """Full name of the `active` parameter ("true" only where cron and consumers run)."""
    alb_arn: pulumi.Output[str]
    """ARN of the public load balancer (the accelerator's endpoint for this region)."""
    https_listener_arn: pulumi.Output[str]
    """The HTTPS listener (the writer gate's rule goes there)."""
    alb_dns_name: pulumi.Output[str]
    """DNS name of the public load balancer."""
    alb_zone_id: pulumi.Output[str]
    """Canonical hosted zone id of the load balancer (alias target)."""
    alb_arn_suffix: pulumi.Output[str]
    """ARN suffix of the load balancer (CloudWatch dimension)."""
    target_group_arn_suffix: pulumi.Output[str]
    """ARN suffix of the web target group (CloudWatch dimension)."""
    regional_hostname: str
    """This region's own hostname, e.g. us-east-1.shop.example.com."""
    health_check_ids: dict[str, pulumi.Output[str]]
    """Route 53 health checks: https, writer, calculated."""
    cache_replication_group_id: pulumi.Output[str]
    """This region's cache replication group."""
    cache_global_datastore_id: pulumi.Output[str]
    """The ElastiCache Global Datastore both regions share."""
    search_endpoint: pulumi.Output[str]
    """This region's OpenSearch endpoint."""
    search_domain_arn: pulumi.Output[str]
    """This region's OpenSearch domain ARN (the failover reindexes into it)."""
    crypt_key: pulumi.Output[str]
    """Magento's crypt key (secret), shared by both regions."""
    cache_auth_token: pulumi.Output[str]
    """AUTH token of the Global Datastore (secret), shared by both regions."""
    full_page_cache: str
    """Magento's full-page cache in this region: redis (built-in, in the cache) or varnish (on each instance)."""

    def __init__(self, name: str, args: RegionalFrontendArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("magento-dr:index:RegionalFrontend", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region, stack = args.region, args.stack
        prefix = ssm_prefix(stack)
        own_hostname = regional_hostname(args.dns.shop_hostname, region)
        caller = aws.get_caller_identity_output(opts=invoke)

        # ------------------------------------------------------------ key and shared secrets
        key = aws.kms.Key(
            f"{name}-key",
            description=f"{name}: web tier secrets, EBS volumes, cache and search at rest",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=caller.account_id.apply(frontend_key_policy),
            opts=stateful,
        )
        aws.kms.Alias(f"{name}-key", name=f"alias/{physical_name(stack, region, 'frontend')}", target_key_id=key.key_id, opts=child)

        if args.primary_values is None:
            # Generated once, in the primary; the secondary copies them from the primary's exports,
            # because sessions (AUTH token) and encrypted data (crypt key) must read the same in both regions.
            crypt_key: pulumi.Input[str] = random.RandomPassword(f"{name}-crypt-key", length=32, special=False, opts=stateful).result
            # ElastiCache AUTH tokens: 16-128 printable characters; alphanumerics avoid the forbidden ones.
            cache_auth: pulumi.Input[str] = random.RandomPassword(f"{name}-cache-auth", length=64, special=False, opts=stateful).result
        else:
            crypt_key = args.primary_values.crypt_key
            cache_auth = args.primary_values.cache_auth_token
        crypt_secret = self._secret(
            name, "crypt-key", "Magento crypt key (env.php crypt/key), same in both regions", crypt_key, key, stack, region, args.protect
        )
        cache_secret = self._secret(
            name, "cache-auth", "AUTH token of the Magento cache/session Global Datastore", cache_auth, key, stack, region, args.protect
        )

        # ------------------------------------------------------------ security groups
        # Only the load balancer is open to the internet; instances accept only the load balancer.
        for port in (80, 443):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-alb-in-{port}",
                security_group_id=args.alb_security_group_id,
                cidr_ipv4=INTERNET,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description="Shoppers (80 only redirects to 443)",
                opts=child,
            )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-to-app",
            security_group_id=args.alb_security_group_id,
            referenced_security_group_id=args.app_security_group_id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="HTTPS to the web instances",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-app-from-alb",
            security_group_id=args.app_security_group_id,
            referenced_security_group_id=args.alb_security_group_id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="HTTPS from the load balancer only",
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-app-to-https",
            security_group_id=args.app_security_group_id,
            cidr_ipv4=INTERNET,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="AWS APIs, OpenSearch, payment and shipping providers",
            opts=child,
        )
        # The global writer may sit in the peer region (after a failover, or always for
        # the secondary's instances), so MySQL goes to both VPCs' ranges.
        for label, cidr in (("own", args.vpc_cidr), ("peer", args.peer_cidr)):
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-app-to-mysql-{label}",
                security_group_id=args.app_security_group_id,
                cidr_ipv4=cidr,
                ip_protocol="tcp",
                from_port=3306,
                to_port=3306,
                description=f"Aurora global writer ({label} VPC)",
                opts=child,
            )
        if args.web.full_page_cache == "varnish":
            # Magento on any web instance purges every instance's Varnish on its purge listener; nothing
            # else reaches that port (the load balancer's path ends at 443, components/varnish.py).
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-app-purge-in",
                security_group_id=args.app_security_group_id,
                referenced_security_group_id=args.app_security_group_id,
                ip_protocol="tcp",
                from_port=PURGE_PORT,
                to_port=PURGE_PORT,
                description="Varnish purges, from the web instances only",
                opts=child,
            )
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-app-purge-out",
                security_group_id=args.app_security_group_id,
                referenced_security_group_id=args.app_security_group_id,
                ip_protocol="tcp",
                from_port=PURGE_PORT,
                to_port=PURGE_PORT,
                description="Varnish purges to the other web instances",
                opts=child,
            )

        # ------------------------------------------------------------ cache and search
        cache = SessionCache(
            f"{name}-cache",
            SessionCacheArgs(
                stack=stack,
                region=region,
                is_primary=args.is_primary,
                engine=args.cache.engine,
                engine_version=args.cache.engine_version,
                node_type=args.cache.node_type,
                replicas=args.cache.replicas,
                vpc_id=args.vpc_id,
                subnet_ids=args.data_subnet_ids,
                app_security_group_id=args.app_security_group_id,
                kms_key_arn=key.arn,
                auth_token=cache_auth,
                notification_topic_arn=args.notification_topic_arn,
                global_datastore_id=None if args.primary_values is None else args.primary_values.cache_global_datastore_id,
                protect=args.protect,
            ),
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-app-to-cache",
            security_group_id=args.app_security_group_id,
            referenced_security_group_id=cache.security_group_id,
            ip_protocol="tcp",
            from_port=cache.port,
            to_port=cache.port,
            description="Valkey/Redis: cache, page cache, sessions",
            opts=child,
        )
        search = SearchDomain(
            f"{name}-search",
            SearchDomainArgs(
                stack=stack,
                region=region,
                engine_version=args.search.engine_version,
                instance_type=args.search.instance_type,
                instance_count=args.search.instance_count,
                volume_size_gb=args.search.volume_size_gb,
                vpc_id=args.vpc_id,
                subnet_ids=args.data_subnet_ids,
                app_security_group_id=args.app_security_group_id,
                kms_key_arn=key.arn,
                protect=args.protect,
            ),
            opts=child,
        )

        # ------------------------------------------------------------ certificate
        cert = aws.acm.Certificate(
            f"{name}-cert",
            domain_name=args.dns.shop_hostname,
            # The regional name lets Route 53 and the peer's failover function probe this region over HTTPS.
            subject_alternative_names=[own_hostname],
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            opts=child,
        )
        # ACM gives the same validation CNAME for a name in every region of an account,
        # so the shop hostname's record is owned by the primary stack alone; each stack
        # owns the record of its regional hostname.
        owned_names = [args.dns.shop_hostname, own_hostname] if args.is_primary else [own_hostname]
        validation_fqdns = []
        for i, domain in enumerate([args.dns.shop_hostname, own_hostname]):
            option = cert.domain_validation_options.apply(functools.partial(_validation_option, domain))
            if domain in owned_names:
                aws.route53.Record(
                    f"{name}-cert-validation-{i}",
                    zone_id=args.hosted_zone_id,
                    name=option.resource_record_name,
                    type=option.resource_record_type,
                    records=[option.resource_record_value],
                    ttl=300,
                    opts=child,
                )
            validation_fqdns.append(option.resource_record_name)
        validated = aws.acm.CertificateValidation(
            f"{name}-cert", certificate_arn=cert.arn, validation_record_fqdns=validation_fqdns, opts=child
        )

        # ------------------------------------------------------------ load balancer
        logs = aws.s3.Bucket(
            f"{name}-alb-logs",
            bucket=caller.account_id.apply(lambda account: physical_name(stack, region, f"alb-logs-{account}")),
            force_destroy=False,
            opts=stateful,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-alb-logs",
            bucket=logs.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-alb-logs",
            bucket=logs.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        # ALB access logs support only SSE-S3 on the destination bucket.
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-alb-logs",
            bucket=logs.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-alb-logs",
            bucket=logs.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=ALB_LOG_RETENTION_DAYS),
                )
            ],
            opts=child,
        )
        elb_account = aws.elb.get_service_account_output(opts=invoke)
        logs_policy = aws.s3.BucketPolicy(
            f"{name}-alb-logs",
            bucket=logs.id,
            policy=pulumi.Output.all(logs.arn, caller.account_id, elb_account.arn).apply(lambda v: alb_log_bucket_policy(v[0], v[1], v[2])),
            opts=child,
        )

        alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=physical_name(stack, region, "web", max_length=32),
            load_balancer_type="application",
            internal=False,
            ip_address_type="ipv4",
            security_groups=[args.alb_security_group_id],
            subnets=list(args.public_subnet_ids),
            drop_invalid_header_fields=True,
            desync_mitigation_mode="strictest",
            enable_deletion_protection=True,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=logs.id, enabled=True),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs_policy]),
        )
        target_group = aws.lb.TargetGroup(
            f"{name}-web",
            name=physical_name(stack, region, "web", max_length=32),
            vpc_id=args.vpc_id,
            target_type="instance",
            protocol="HTTPS",  # nginx terminates TLS again with a per-instance certificate
            port=443,
            deregistration_delay=30,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                protocol="HTTPS",
                path=LIVENESS_PATH,
                matcher="200",
                interval=WEB_TARGET_HEALTH_INTERVAL_SECONDS,
                timeout=5,
                healthy_threshold=WEB_TARGET_HEALTHY_THRESHOLD,
                unhealthy_threshold=3,
            ),
            opts=child,
        )
        https_listener = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=alb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=ALB_TLS_POLICY,
            certificate_arn=validated.certificate_arn,
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)],
            opts=child,
        )
        aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=alb.arn,
            port=80,
            protocol="HTTP",
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(protocol="HTTPS", port="443", status_code="HTTP_301"),
                )
            ],
            opts=child,
        )

        # ------------------------------------------------------------ runtime configuration
        runtime = pulumi.Output.all(
            args.database.writer_endpoint,
            args.database.reader_endpoint,
            args.database.port,
            args.database.credentials_secret_arn,
            cache.primary_endpoint_address,
            cache_secret.arn,
            search.endpoint,
            search.credentials_secret_arn,
            args.media.bucket_name,
            args.media.bucket_region,
            args.media.media_url,
            crypt_secret.arn,
        ).apply(
            lambda v: runtime_parameters(
                RuntimeValues(
                    stack=stack,
                    region=region,
                    is_active=args.is_primary,
                    shop_hostname=args.dns.shop_hostname,
                    db_host=v[0],
                    db_reader_host=v[1],
                    db_port=str(v[2]),
                    db_name=args.db_name,
                    db_secret_arn=v[3],
                    cache_host=v[4],
                    cache_port=str(cache.port),
                    cache_secret_arn=v[5],
                    search_host=v[6],
                    search_secret_arn=v[7],
                    media_bucket=v[8],
                    media_region=v[9],
                    media_url=v[10],
                    crypt_key_secret_arn=v[11],
                )
            )
        )
        # The parameter *names* are static (they do not depend on outputs), so every
        # parameter is a plain resource in the graph; only the values are outputs.
        parameters = []
        for relative in RUNTIME_PARAMETER_NAMES:
            options = child
            if relative == ACTIVE_PARAMETER:
                # The failover function flips `active` at run time; `pulumi up` must never flip it back.
                options = pulumi.ResourceOptions(parent=self, ignore_changes=["insecureValue"])
            parameters.append(
                aws.ssm.Parameter(
                    f"{name}-param-{relative.replace('/', '-')}",
                    name=f"{prefix}/{relative}",
                    type="String",
                    # Nothing here is secret (secrets are ARNs), so previews show the values for review.
                    insecure_value=runtime.apply(functools.partial(_pick, relative)),
                    description=f"Magento runtime configuration for {stack} ({region})",
                    opts=options,
                )
            )

        # ------------------------------------------------------------ instance profile
        role = aws.iam.Role(f"{name}-instance", assume_role_policy=assume_role_policy("ec2.amazonaws.com"), opts=child)
        aws.iam.RolePolicy(
            f"{name}-instance",
            role=role.id,
            policy=pulumi.Output.all(
                caller.account_id,
                args.database.credentials_secret_arn,
                cache_secret.arn,
                search.credentials_secret_arn,
                crypt_secret.arn,
                args.database.kms_key_arn,
                key.arn,
                args.media.bucket_arn,
                args.media.kms_key_arn,
            ).apply(
                lambda v: instance_role_policy(
                    InstanceGrants(
                        region=region,
                        account_id=v[0],
                        ssm_prefix=prefix,
                        secret_arns=(v[1], v[2], v[3], v[4]),
                        secret_key_arns=(v[5], v[6]),
                        media_bucket_arn=v[7],
                        media_key_arn=v[8],
                        discover_peers=args.web.full_page_cache == "varnish",
                    )
                )
            ),
            opts=child,
        )
        profile = aws.iam.InstanceProfile(f"{name}-instance", role=role.name, opts=child)

        # ------------------------------------------------------------ compute
        if args.web.ami_id:
            image_id: pulumi.Input[str] = args.web.ami_id
        else:
            image_id = aws.ssm.get_parameter_output(name=amazon_linux_ami_parameter(args.web.instance_type), opts=invoke).value
        user_data = args.user_data()
        instance_tags = {INSTANCE_TAG_KEY: stack, "Name": f"{stack}-magento-web"}
        template = aws.ec2.LaunchTemplate(
            f"{name}-web",
            image_id=image_id,
            instance_type=args.web.instance_type,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            vpc_security_group_ids=[args.app_security_group_id],
            # IMDSv2 only; hop limit 1 because nothing on the instance runs in a container
            # that would need the extra hop, and 1 keeps forwarded requests from reaching IMDS.
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=ROOT_VOLUME_GB, volume_type="gp3", encrypted="true", kms_key_id=key.arn, delete_on_termination="true"
                    ),
                )
            ],
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            user_data=base64.b64encode(user_data.encode()).decode(),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type="instance", tags=instance_tags),
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type="volume", tags=instance_tags),
            ],
            update_default_version=True,
            # Instances read their parameters at boot: they must exist first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=parameters),
        )
        capacity = initial_capacity(
            is_primary=args.is_primary,
            min_size=args.web.min_size,
            desired_capacity=args.web.desired_capacity,
            max_size=args.web.max_size,
            standby_capacity=args.web.standby_capacity,
        )
        # Target tracking owns desired capacity. In the secondary the failover also owns the
        # floor (it raises min/desired on promotion), so a later `pulumi up` must not shrink an
        # active standby back to warm-standby size.
        ignored = ["desiredCapacity"] if args.is_primary else ["desiredCapacity", "minSize"]
        group = aws.autoscaling.Group(
            f"{name}-web",
            name=physical_name(stack, region, "web", max_length=255),
            vpc_zone_identifiers=list(args.private_subnet_ids),
            min_size=capacity.min_size,
            desired_capacity=capacity.desired_capacity,
            max_size=capacity.max_size,
            health_check_type="ELB",
            health_check_grace_period=HEALTH_CHECK_GRACE_SECONDS,
            default_instance_warmup=HEALTH_CHECK_GRACE_SECONDS,
            target_group_arns=[target_group.arn],
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(id=template.id, version=template.latest_version.apply(str)),
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(min_healthy_percentage=90, auto_rollback=True),
            ),
            enabled_metrics=[
                aws.autoscaling.Metric.GROUP_DESIRED_CAPACITY,
                aws.autoscaling.Metric.GROUP_IN_SERVICE_INSTANCES,
                aws.autoscaling.Metric.GROUP_MIN_SIZE,
                aws.autoscaling.Metric.GROUP_MAX_SIZE,
            ],
            tags=[aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=True) for k, v in instance_tags.items()],
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=ignored),
        )
        aws.autoscaling.Policy(
            f"{name}-cpu",
            autoscaling_group_name=group.name,
            policy_type="TargetTrackingScaling",
            target_tracking_configuration=aws.autoscaling.PolicyTargetTrackingConfigurationArgs(
                predefined_metric_specification=aws.autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ASGAverageCPUUtilization"
                ),
                target_value=CPU_TARGET_PERCENT,
            ),
            opts=child,
        )

        # ------------------------------------------------------------ traffic
        traffic = ShopTraffic(
            f"{name}-traffic",
            ShopTrafficArgs(
                stack=stack,
                region=region,
                is_primary=args.is_primary,
                zone_id=args.hosted_zone_id,
                shop_hostname=args.dns.shop_hostname,
                regional_hostname=own_hostname,
                alb_dns_name=alb.dns_name,
                alb_zone_id=alb.zone_id,
                health_check=HealthCheckPlan(own_hostname, args.health_check_interval_seconds, args.health_check_failure_threshold),
                # The secondary may take traffic as soon as Route 53 sees the primary fail.
                peer_regional_hostname=None if args.is_primary else regional_hostname(args.dns.shop_hostname, args.peer_region),
                accelerator_dns_name=args.accelerator_dns_name,
            ),
            opts=child,
        )

        production = initial_capacity(
            is_primary=True,
            min_size=args.web.min_size,
            desired_capacity=args.web.desired_capacity,
            max_size=args.web.max_size,
            standby_capacity=args.web.standby_capacity,
        )
        self.asg_name = group.name
        self.asg_arn = group.arn
        self.production_capacity = production.as_dict()
        self.instance_tag_key = INSTANCE_TAG_KEY
        self.instance_tag_value = stack
        self.instance_role_name = role.name
        self.apply_role_command = APPLY_ROLE_COMMAND
        self.ssm_prefix = prefix
        self.active_parameter_name = f"{prefix}/{ACTIVE_PARAMETER}"
        self.alb_arn = alb.arn
        self.https_listener_arn = https_listener.arn
        self.alb_dns_name = alb.dns_name
        self.alb_zone_id = alb.zone_id
        self.alb_arn_suffix = alb.arn_suffix
        self.target_group_arn_suffix = target_group.arn_suffix
        self.regional_hostname = own_hostname
        self.health_check_ids = traffic.health_check_ids
        self.cache_replication_group_id = cache.replication_group_id
        self.cache_global_datastore_id = cache.global_datastore_id
        self.search_endpoint = search.endpoint
        self.search_domain_arn = search.domain_arn
        self.crypt_key = pulumi.Output.secret(crypt_key)
        self.cache_auth_token = pulumi.Output.secret(cache_auth)
        self.full_page_cache = args.web.full_page_cache
        self.register_outputs(
            {
                "asg_name": self.asg_name,
                "asg_arn": self.asg_arn,
                "alb_dns_name": self.alb_dns_name,
                "alb_arn_suffix": self.alb_arn_suffix,
                "target_group_arn_suffix": self.target_group_arn_suffix,
                "health_check_ids": self.health_check_ids,
                "cache_replication_group_id": self.cache_replication_group_id,
                "cache_global_datastore_id": self.cache_global_datastore_id,
                "search_endpoint": self.search_endpoint,
            }
        )

    def _secret(
        self, name: str, part: str, description: str, value: pulumi.Input[str], key: aws.kms.Key, stack: str, region: str, protect: bool
    ) -> aws.secretsmanager.Secret:
        secret = aws.secretsmanager.Secret(
            f"{name}-{part}",
            name=f"{physical_name(stack, region, 'frontend')}/{part}",
            description=description,
            kms_key_id=key.arn,
            recovery_window_in_days=7,
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-{part}",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(value),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return secret


def _validation_option(
    domain: str, options: Sequence[aws.acm.outputs.CertificateDomainValidationOption]
) -> aws.acm.outputs.CertificateDomainValidationOption:
    """The DNS validation challenge ACM issued for one name of the certificate."""
    return next(o for o in options if o.domain_name == domain)


def _pick(key: str, parameters: dict[str, str]) -> str:
    return parameters[key]
