"""What a Magento web instance is told at boot, as pure data: SSM parameter set, user data, sizing.

Everything here is pure and table-tested. The instance learns its configuration
from one SSM Parameter Store path (non-secret values) and Secrets Manager
(secret values); user data only knows *where* to look, never a secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import Template

from .contracts import ACTIVE_PARAMETER
from .varnish import VarnishPlan, full_page_cache_config, json_for_shell, render_user_data_setup

# Magento selects Redis databases by number; cluster mode would break that,
# which is why the cache runs with cluster mode disabled.
# https://experienceleague.adobe.com/en/docs/commerce-operations/configuration-guide/cache/redis/redis-pg-cache
REDIS_DATABASES = {"cache": 0, "page_cache": 1, "session": 2}

# The target group's cheap liveness probe: a static file user data writes once
# env.php has been rendered. nginx serves it without PHP, so a sick database or
# cache never makes the ALB replace the whole fleet. Magento's deep check
# (`pub/health_check.php`: database + cache) is what Route 53 probes instead.
LIVENESS_PATH = "/magento-dr-liveness.txt"
# The web target group's health check of LIVENESS_PATH: a new instance takes traffic after HEALTHY_THRESHOLD
# passing checks INTERVAL apart (components/regional_frontend.py; components/rto.py counts them).
WEB_TARGET_HEALTH_INTERVAL_SECONDS = 15
WEB_TARGET_HEALTHY_THRESHOLD = 2
DEEP_HEALTH_PATH = "/health_check.php"

# Where nginx and PHP find the Magento code base: a symlink to the release the region's version
# parameter names (RELEASES_ROOT/<version>), or the AMI's own code before the first release.
MAGENTO_ROOT = "/var/www/magento"
# The per-instance certificate nginx serves the load balancer (user data creates it; the ALB does not validate it).
TLS_DIR = "/etc/pki/tls/magento-dr"
RELEASES_ROOT = "/var/www/releases"

# Release pointers under the stack's SSM prefix (declared by components/release.py): the region's
# artifact bucket and the name of the region's version parameter.
RELEASE_BUCKET_PARAMETER = "release/bucket"
RELEASE_VERSION_POINTER = "release/version-parameter"
# Fetches, verifies (sha256 object metadata, deployed_version.txt) and unpacks one release;
# `--stage` stops before switching MAGENTO_ROOT (the setup:upgrade document uses that).
FETCH_RELEASE_COMMAND = "/usr/local/sbin/magento-dr-fetch-release"
# The version parameter's value before the first release: keep the AMI's code.
NO_RELEASE = "none"
# What a release version may look like (it becomes an S3 key and a directory name).
RELEASE_VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
# The artifact's user-defined S3 metadata holding its sha256 (replication copies metadata).
RELEASE_CHECKSUM_METADATA = "sha256"


def release_artifact_key(version: str) -> str:
    """Where a release lives in the region's artifact bucket."""
    if not re.match(RELEASE_VERSION_PATTERN, version) or version == NO_RELEASE:
        raise ValueError(f"release version {version!r} must match {RELEASE_VERSION_PATTERN} and not be {NO_RELEASE!r}")
    return f"releases/{version}.tar.zst"

# Run Command target script: re-reads the `active` parameter and starts or
# stops cron and queue consumers accordingly. The failover function runs it.
APPLY_ROLE_COMMAND = "/usr/local/sbin/magento-dr-apply-role"

# Tag on every web instance, so Run Command can target one stack's fleet.
INSTANCE_TAG_KEY = "magento-dr:stack"

# Graviton instance families carry a "g" after the generation digit (m7g, c7gn, r8g).
_GRAVITON_FAMILY = re.compile(r"^[a-z]+\d+g[a-z]*$")


def ami_architecture(instance_type: str) -> str:
    """`arm64` for Graviton instance types, else `x86_64` (the AMI must match the CPU)."""
    family = instance_type.split(".", 1)[0]
    return "arm64" if _GRAVITON_FAMILY.match(family) else "x86_64"


def amazon_linux_ami_parameter(instance_type: str) -> str:
    """The public SSM parameter that names the current Amazon Linux 2023 AMI for this CPU.

    https://docs.aws.amazon.com/linux/al2023/ug/ec2.html#launch-from-ec2-console
    """
    return f"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{ami_architecture(instance_type)}"


@dataclass(frozen=True)
class Capacity:
    min_size: int
    desired_capacity: int
    max_size: int

    def as_dict(self) -> dict[str, int]:
        return {"min_size": self.min_size, "desired_capacity": self.desired_capacity, "max_size": self.max_size}


def initial_capacity(*, is_primary: bool, min_size: int, desired_capacity: int, max_size: int, standby_capacity: int) -> Capacity:
    """What the Auto Scaling group starts with: production in the primary, warm standby in the secondary."""
    if is_primary:
        return Capacity(min_size, desired_capacity, max_size)
    return Capacity(standby_capacity, standby_capacity, max_size)


@dataclass(frozen=True)
class RuntimeValues:
    """The per-region facts Magento needs, resolved to plain strings."""

    stack: str
    region: str
    is_active: bool
    shop_hostname: str
    db_host: str
    db_reader_host: str
    db_port: str
    db_name: str
    db_secret_arn: str
    cache_host: str
    cache_port: str
    cache_secret_arn: str
    search_host: str
    search_secret_arn: str
    media_bucket: str
    media_region: str
    media_url: str
    crypt_key_secret_arn: str


# Every parameter name (relative to the stack's SSM prefix); static, so each is its own resource.
RUNTIME_PARAMETER_NAMES = (
    ACTIVE_PARAMETER,
    "region",
    "web/base-url",
    "web/media-url",
    "db/host",
    "db/reader-host",
    "db/port",
    "db/name",
    "db/secret-arn",
    "cache/host",
    "cache/port",
    "cache/tls",
    "cache/db/cache",
    "cache/db/page-cache",
    "cache/db/session",
    "cache/auth-secret-arn",
    "search/engine",
    "search/host",
    "search/port",
    "search/secret-arn",
    "media/bucket",
    "media/region",
    "crypt/key-secret-arn",
)


def runtime_parameters(values: RuntimeValues) -> dict[str, str]:
    """The SSM parameters (relative to the stack's prefix) one region's instances read at boot.

    The database host is the *global* writer endpoint, so both regions always
    write to whichever cluster holds the writer. Cache, search and media are the
    region's own. Secrets appear only as Secrets Manager ARNs.
    """
    if values.is_active not in (True, False):
        raise ValueError("is_active must be a bool")
    base_url = f"https://{values.shop_hostname}/"
    media_url = values.media_url if values.media_url.endswith("/") else values.media_url + "/"
    return {
        ACTIVE_PARAMETER: "true" if values.is_active else "false",
        "region": values.region,
        "web/base-url": base_url,
        "web/media-url": media_url,
        "db/host": values.db_host,
        "db/reader-host": values.db_reader_host,
        "db/port": values.db_port,
        "db/name": values.db_name,
        "db/secret-arn": values.db_secret_arn,
        "cache/host": values.cache_host,
        "cache/port": values.cache_port,
        "cache/tls": "true",
        "cache/db/cache": str(REDIS_DATABASES["cache"]),
        "cache/db/page-cache": str(REDIS_DATABASES["page_cache"]),
        "cache/db/session": str(REDIS_DATABASES["session"]),
        "cache/auth-secret-arn": values.cache_secret_arn,
        "search/engine": "opensearch",
        "search/host": values.search_host,
        "search/port": "443",
        "search/secret-arn": values.search_secret_arn,
        "media/bucket": values.media_bucket,
        "media/region": values.media_region,
        "crypt/key-secret-arn": values.crypt_key_secret_arn,
    }


# ---------------------------------------------------------------- release fetch
# Written by user data; run at boot (switch) and by the setup:upgrade document (--stage).
_FETCH_RELEASE = Template(r"""#!/bin/bash
# magento-dr: fetch, verify and unpack one Magento release from this region's artifact bucket.
# Usage: $fetch_command [--stage] [VERSION]   (default VERSION: the region's version parameter)
set -euo pipefail
export AWS_DEFAULT_REGION=$region
PREFIX=$ssm_prefix
MODE=switch
if [ "$${1:-}" = "--stage" ]; then MODE=stage; shift; fi
VERSION=$${1:-}
if [ -z "$$VERSION" ]; then
  VERSION_PARAMETER=$$(aws ssm get-parameter --name "$$PREFIX/$version_pointer" --query Parameter.Value --output text)
  VERSION=$$(aws ssm get-parameter --name "$$VERSION_PARAMETER" --query Parameter.Value --output text)
fi
if [ "$$VERSION" = "$no_release" ]; then
  echo "magento-dr: no release published yet; keeping the code in $magento_root" >&2
  exit 0
fi
if [[ ! "$$VERSION" =~ $version_pattern ]]; then
  echo "magento-dr: refusing release version '$$VERSION'" >&2
  exit 1
fi
BUCKET=$$(aws ssm get-parameter --name "$$PREFIX/$bucket_pointer" --query Parameter.Value --output text)
DIR=$releases_root/$$VERSION
if [ ! -f "$$DIR/.magento-dr-verified" ]; then
  WORK=$$(mktemp -d)
  trap 'rm -rf "$$WORK"' EXIT
  aws s3api get-object --bucket "$$BUCKET" --key "releases/$$VERSION.tar.zst" "$$WORK/release.tar.zst" > "$$WORK/object.json"
  EXPECTED=$$(jq -r '.Metadata["$checksum_metadata"] // empty' "$$WORK/object.json")
  ACTUAL=$$(sha256sum "$$WORK/release.tar.zst" | cut -d' ' -f1)
  if [ -z "$$EXPECTED" ] || [ "$$EXPECTED" != "$$ACTUAL" ]; then
    echo "magento-dr: release $$VERSION checksum mismatch (metadata '$$EXPECTED', file $$ACTUAL)" >&2
    exit 1
  fi
  rm -rf "$$DIR.partial" && mkdir -p "$$DIR.partial"
  tar --zstd -xf "$$WORK/release.tar.zst" -C "$$DIR.partial"
  # Both regions must serve the same static content: the build sets it to the release version.
  DEPLOYED=$$(tr -d '[:space:]' < "$$DIR.partial/pub/static/deployed_version.txt")
  if [ "$$DEPLOYED" != "$$VERSION" ]; then
    echo "magento-dr: pub/static/deployed_version.txt is '$$DEPLOYED', expected $$VERSION" >&2
    exit 1
  fi
  chown -R root:nginx "$$DIR.partial" && chmod -R g+rX,o-rwx "$$DIR.partial"
  mkdir -p "$$DIR.partial/var" && chown -R nginx:nginx "$$DIR.partial/var"
  touch "$$DIR.partial/.magento-dr-verified"
  mv -T "$$DIR.partial" "$$DIR"
fi
if [ "$$MODE" = switch ]; then
  if [ -d "$magento_root" ] && [ ! -L "$magento_root" ]; then mv -T "$magento_root" "$releases_root/ami"; fi
  ln -sfn "$$DIR" "$magento_root.next" && mv -T "$magento_root.next" "$magento_root"
fi
echo "$$DIR"
""")


def render_fetch_release(*, region: str, ssm_prefix: str) -> str:
    """The release fetch script for one stack (pure; embedded in user data)."""
    return _FETCH_RELEASE.substitute(
        region=region,
        ssm_prefix=ssm_prefix,
        fetch_command=FETCH_RELEASE_COMMAND,
        version_pointer=RELEASE_VERSION_POINTER,
        bucket_pointer=RELEASE_BUCKET_PARAMETER,
        no_release=NO_RELEASE,
        version_pattern=RELEASE_VERSION_PATTERN,
        checksum_metadata=RELEASE_CHECKSUM_METADATA,
        releases_root=RELEASES_ROOT,
        magento_root=MAGENTO_ROOT,
    )


# ---------------------------------------------------------------- user data
# A bash script with $-placeholders filled by `render_user_data`. Everything it
# needs at run time it reads from SSM and Secrets Manager through the instance
# profile; the rendered text holds no secret and is safe to review in a diff.
_USER_DATA = Template(r"""#!/bin/bash
# magento-dr web instance bootstrap (stack $stack, region $region).
# Reads its configuration from SSM $ssm_prefix and Secrets Manager; holds no secrets.
set -euo pipefail
umask 077
export AWS_DEFAULT_REGION=$region
PREFIX=$ssm_prefix
MAGENTO_ROOT=$magento_root
CONF_DIR=/etc/magento-dr
mkdir -p "$$CONF_DIR"

# 1. Configuration: every parameter under the stack's path, as one JSON document.
aws ssm get-parameters-by-path --path "$$PREFIX" --recursive \
  --query 'Parameters[].{k:Name,v:Value}' --output json > "$$CONF_DIR/parameters.json"
param() { jq -r --arg k "$$PREFIX/$$1" '.[] | select(.k == $$k) | .v' "$$CONF_DIR/parameters.json"; }
secret() { aws secretsmanager get-secret-value --secret-id "$$(param "$$1")" --query SecretString --output text; }

# 1b. Code: the release the region's version parameter names (verified), before env.php lands in it.
mkdir -p $releases_root
cat > $fetch_command <<'FETCH'
$fetch_release
FETCH
chmod 0755 $fetch_command
if [ -n "$$(param $version_pointer)" ]; then
  $fetch_command
fi

# 2. Secrets, written to root-only files and handed to PHP on stdin, never on a command line.
SECRETS=$$(mktemp -d)
secret db/secret-arn > "$$SECRETS/db"
secret cache/auth-secret-arn > "$$SECRETS/cache_auth"
secret search/secret-arn > "$$SECRETS/search"
secret crypt/key-secret-arn > "$$SECRETS/crypt_key"
jq -n \
  --slurpfile params "$$CONF_DIR/parameters.json" --arg prefix "$$PREFIX/" \
  --slurpfile db "$$SECRETS/db" --slurpfile search "$$SECRETS/search" \
  --rawfile cache_auth "$$SECRETS/cache_auth" --rawfile crypt_key "$$SECRETS/crypt_key" \
  --argjson full_page_cache '$full_page_cache_json' \
  '{params: ($$params[0] | map({key: (.k | ltrimstr($$prefix)), value: .v}) | from_entries),
    db: $$db[0], search: $$search[0],
    cache_auth: ($$cache_auth | rtrimstr("\n")), crypt_key: ($$crypt_key | rtrimstr("\n")),
    full_page_cache: $$full_page_cache}' \
  > "$$CONF_DIR/runtime.json"
shred -u "$$SECRETS"/* && rmdir "$$SECRETS"

# 3. Render app/etc/env.php: the AMI's env.base.php (admin path, cache types, mode)
#    overlaid with this region's values; PHP's var_export does the quoting.
cat > "$$CONF_DIR/render-env.php" <<'PHP'
$render_env_php
PHP
if [ ! -s /etc/pki/tls/certs/rds-global-bundle.pem ]; then  # normally baked into the AMI
  curl -fsS -o /etc/pki/tls/certs/rds-global-bundle.pem https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
  chmod 0644 /etc/pki/tls/certs/rds-global-bundle.pem  # a public CA bundle; PHP-FPM's workers must read it (umask 077 above)
fi
php -d display_errors=stderr "$$CONF_DIR/render-env.php" "$$MAGENTO_ROOT/app/etc/env.base.php" \
  < "$$CONF_DIR/runtime.json" > "$$MAGENTO_ROOT/app/etc/env.php.new"
chown root:nginx "$$MAGENTO_ROOT/app/etc/env.php.new" && chmod 0640 "$$MAGENTO_ROOT/app/etc/env.php.new"
mv "$$MAGENTO_ROOT/app/etc/env.php.new" "$$MAGENTO_ROOT/app/etc/env.php"
shred -u "$$CONF_DIR/runtime.json"

# 4. TLS between the load balancer and nginx: a per-instance certificate (the ALB does not validate it).
TLS_DIR=$tls_dir
mkdir -p "$$TLS_DIR"
if [ ! -s "$$TLS_DIR/cert.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
    -subj "/CN=$shop_hostname" -keyout "$$TLS_DIR/key.pem" -out "$$TLS_DIR/cert.pem"
fi$full_page_cache_setup
systemctl restart php-fpm nginx

# 5. Cron and queue consumers run only in the active region; the failover function re-runs this.
cat > $apply_role_command <<'ROLE'
#!/bin/bash
set -euo pipefail
ACTIVE=$$(aws ssm get-parameter --name "$ssm_prefix/$active_parameter" --query Parameter.Value --output text)
cd $magento_root
if [ "$$ACTIVE" = "true" ]; then
  sudo -u nginx php bin/magento cron:install --force
else
  sudo -u nginx php bin/magento cron:remove
  pkill -u nginx -f 'bin/magento queue:consumers:start' || true
fi
echo "magento-dr: active=$$ACTIVE"
ROLE
chmod 0755 $apply_role_command
$apply_role_command$before_liveness

# 6. Only now is the instance alive for the load balancer.
echo ok > "$$MAGENTO_ROOT/pub$liveness_path"
""")


# Turns the runtime document (stdin) into app/etc/env.php (stdout). Kept as
# plain PHP so a reviewer reads exactly what lands on the instance.
_RENDER_ENV_PHP = r"""<?php
// magento-dr: render app/etc/env.php from the runtime document on stdin.
$in = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
$p = $in['params'];
$base = (isset($argv[1]) && is_file($argv[1])) ? include $argv[1] : [];
$redis = 'tls://' . $p['cache/host'];
$cache = function (string $db) use ($p, $in, $redis): array {
    return ['server' => $redis, 'port' => $p['cache/port'], 'database' => $p[$db],
            'password' => $in['cache_auth'], 'compress_data' => '1'];
};
$env = [
    'crypt' => ['key' => $in['crypt_key']],
    'db' => ['table_prefix' => '', 'connection' => ['default' => [
        'host' => $p['db/host'] . ':' . $p['db/port'],
        'dbname' => $p['db/name'],
        'username' => $in['db']['username'],
        'password' => $in['db']['password'],
        'model' => 'mysql4', 'engine' => 'innodb', 'initStatements' => 'SET NAMES utf8mb4;', 'active' => '1',
        'driver_options' => [PDO::MYSQL_ATTR_SSL_CA => '/etc/pki/tls/certs/rds-global-bundle.pem',
                             PDO::MYSQL_ATTR_SSL_VERIFY_SERVER_CERT => true],
    ]]],
    'resource' => ['default_setup' => ['connection' => 'default']],
    'session' => ['save' => 'redis', 'redis' => [
        'host' => $redis, 'port' => $p['cache/port'], 'password' => $in['cache_auth'],
        'database' => $p['cache/db/session'], 'timeout' => '2.5', 'disable_locking' => '0',
    ]],
    'cache' => ['frontend' => [
        'default' => ['id_prefix' => 'mdr_', 'backend' => 'Magento\\Framework\\Cache\\Backend\\Redis',
                      'backend_options' => $cache('cache/db/cache')],
        'page_cache' => ['id_prefix' => 'mdr_', 'backend' => 'Magento\\Framework\\Cache\\Backend\\Redis',
                         'backend_options' => $cache('cache/db/page-cache')],
    ]],
    // Media in the region's own bucket; credentials come from the instance profile.
    'remote_storage' => ['driver' => 'aws-s3', 'config' => ['bucket' => $p['media/bucket'], 'region' => $p['media/region']]],
    // Cron starts the queue consumers; the crontab itself exists only in the active region (step 5).
    'cron_consumers_runner' => ['cron_run' => true],
    'system' => ['default' => [
        'web' => [
            'secure' => ['base_url' => $p['web/base-url'], 'base_link_url' => $p['web/base-url'],
                         'base_media_url' => $p['web/media-url'], 'use_in_frontend' => '1', 'use_in_adminhtml' => '1'],
            'unsecure' => ['base_url' => $p['web/base-url'], 'base_link_url' => $p['web/base-url'],
                           'base_media_url' => $p['web/media-url']],
        ],
        'catalog' => ['search' => [
            'engine' => $p['search/engine'],
            'opensearch_server_hostname' => 'https://' . $p['search/host'],
            'opensearch_server_port' => $p['search/port'],
            'opensearch_enable_auth' => '1',
            'opensearch_username' => $in['search']['username'],
            'opensearch_password' => $in['search']['password'],
        ]],
        // Which full-page cache (1 built-in: the page_cache frontend above; 2 Varnish) and, for Varnish,
        // what the Admin's "Export VCL" uses: magento-dr:web.fullPageCache, components/varnish.py.
        'system' => ['full_page_cache' => $in['full_page_cache']],
    ]],
];
echo "<?php\nreturn " . var_export(array_replace_recursive($base, $env), true) . ";\n";
"""


def render_user_data(
    *, stack: str, region: str, ssm_prefix: str, shop_hostname: str, full_page_cache: str = "redis", varnish: VarnishPlan | None = None
) -> str:
    """The instance bootstrap script for one stack (pure; no secrets, only where to find them).

    `full_page_cache` varnish (with its `varnish` plan) adds Varnish in front of Magento (components/varnish.py).
    """
    for label, value in (("stack", stack), ("region", region), ("ssm_prefix", ssm_prefix), ("shop_hostname", shop_hostname)):
        if not re.match(r"^[A-Za-z0-9./_-]+$", value):
            raise ValueError(f"render_user_data: {label} {value!r} contains characters that are unsafe in a shell script")
    setup, before_liveness = "", ""
    if full_page_cache == "varnish":
        if varnish is None:
            raise ValueError("render_user_data: full_page_cache varnish needs its VarnishPlan")
        setup, before_liveness = render_user_data_setup(
            varnish,
            stack=stack,
            region=region,
            ssm_prefix=ssm_prefix,
            active_parameter=ACTIVE_PARAMETER,
            tag_key=INSTANCE_TAG_KEY,
            magento_root=MAGENTO_ROOT,
            tls_dir=TLS_DIR,
            liveness_path=LIVENESS_PATH,
        )
    return _USER_DATA.substitute(
        full_page_cache_json=json_for_shell(full_page_cache_config(full_page_cache, varnish)),
        full_page_cache_setup=setup.rstrip("\n"),
        before_liveness=before_liveness.rstrip("\n"),
        stack=stack,
        region=region,
        ssm_prefix=ssm_prefix,
        shop_hostname=shop_hostname,
        magento_root=MAGENTO_ROOT,
        apply_role_command=APPLY_ROLE_COMMAND,
        active_parameter=ACTIVE_PARAMETER,
        liveness_path=LIVENESS_PATH,
        render_env_php=_RENDER_ENV_PHP.strip(),
        releases_root=RELEASES_ROOT,
        tls_dir=TLS_DIR,
        fetch_command=FETCH_RELEASE_COMMAND,
        version_pointer=RELEASE_VERSION_POINTER,
        fetch_release=render_fetch_release(region=region, ssm_prefix=ssm_prefix).strip(),
    )
