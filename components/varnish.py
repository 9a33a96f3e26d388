"""Varnish as Magento's full-page cache on every web instance (`magento-dr:web.fullPageCache: varnish`), as pure data.

The VCL, varnishd's unit, nginx's TLS server in front of it and Magento's server behind it,
Magento's settings for Varnish, and the two scripts that keep it correct across scaling and
failover: `magento-dr-varnish-sync` (every instance's purge list names every Varnish of the
region; a region that is not active keeps its cache empty) and `magento-dr-varnish-ban-all`
(the post-failover document empties every Varnish of the region). Why one Varnish per
instance, and what it costs: docs/frontend.md, "Full-page cache". Tested in
tests/components/test_varnish.py, where the VCL is compiled by the real `varnishd -C` and run.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from string import Template

# ---------------------------------------------------------------- Magento's settings
# `system/full_page_cache/caching_application`: 1 = built-in (its storage is env.php's `page_cache`
# cache frontend, Redis/Valkey here), 2 = Varnish. Magento\PageCache\Model\Config::BUILT_IN / ::VARNISH
# (app/code/Magento/PageCache/Model/Config.php); Adobe, "Configure Commerce to use Varnish"
# (https://experienceleague.adobe.com/en/docs/commerce-operations/configuration-guide/cache/varnish/configure-varnish-commerce).
FULL_PAGE_CACHES = ("redis", "varnish")
CACHING_APPLICATION = {"redis": "1", "varnish": "2"}
# Magento's default grace period (seconds a stale object may be served while the backend is healthy):
# "The default value is 300 seconds" (configure-varnish-commerce, above; also `varnish:vcl:generate --grace-period`).
GRACE_PERIOD_SECONDS = 300
# The header the load balancer sets and Magento reads to know the shopper used HTTPS: Magento's default
# `web/secure/offloader_header` (Magento\Framework\App\Request\Http::XML_PATH_OFFLOADER_HEADER), and the
# header an ALB adds (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html).
SSL_OFFLOADED_HEADER = "X-Forwarded-Proto"
# Marketing query parameters Magento 2.4.8's VCL strips so that they share one cached page (the 2.4.8 list,
# magento/magento2 PR #39188, "AC-10738" in the 2.4.8 fixed issues; 2.4.7's is a subset, so 2.4.7 gains a few).
MARKETING_PARAMETERS = (
    "gad_source", "gbraid", "wbraid", "_gl", "dclid", "gclsrc", "srsltid", "msclkid", "gclid", "cx", "_kx", "ie",
    "cof", "siteurl", "zanpid", "origin", "fbclid", "mc_[a-z]+", "utm_[a-z]+", "_bta_[a-z]+",
)  # fmt: skip

# ---------------------------------------------------------------- where things listen
# nginx's TLS server (the load balancer's target, 443) hands every request to Varnish on loopback; Varnish's
# backend is Magento's nginx server, on loopback too. Adobe: "Varnish typically listens on the public HTTP
# port and forwards requests to nginx on a non-default backend port such as 8080"; Varnish has no TLS, hence
# nginx in front ("Known issues: Varnish does not support SSL", .../cache/varnish/config-varnish).
VARNISH_HOST = "127.0.0.1"
VARNISH_PORT = 6081
BACKEND_HOST = "127.0.0.1"  # Adobe recommends an IP rather than `localhost` when Varnish and nginx share a host
BACKEND_PORT = 8080
# Purges arrive on a listener of their own, which the load balancer cannot reach (security groups admit the
# web instances' own group only): behind an ALB every shopper's TCP peer is an address inside the VPC (and,
# through nginx's TLS server, 127.0.0.1), so an address ACL alone would let the internet purge.
PURGE_PORT = 6091
MAIN_LISTENER = "main"
PURGE_LISTENER = "purge"
# Magento's backend probe (varnish7.vcl): its health_check.php answers 500 when the database or a cache
# backend is unreachable. With the docroot at pub/ the URL has no /pub.
PROBE_URL = "/health_check.php"
# The backend the load balancer's liveness file goes through: the same Magento nginx server, without a probe.
# Only the liveness rule uses it: a backend named `default` "will be used unless another backend is explicitly
# set" (vcl-backend(7), https://varnish-cache.org/docs/7.1/reference/vcl-backend.html). That a backend without a
# probe is never marked sick no page states in so many words (unverified); tests/components/test_varnish.py shows
# it with varnishd. The VCL must declare no `probe default`, which would apply to it (vcl-probe(7)).
LIVENESS_BACKEND = "liveness"

# ---------------------------------------------------------------- on the instance
VCL_PATH = "/etc/varnish/magento-dr.vcl"
VARNISHD = "/usr/sbin/varnishd"  # where both the varnishcache RPMs and Debian's package install it
VARNISH_UNIT = "magento-dr-varnish.service"
VARNISH_ENV_FILE = "/etc/magento-dr/varnish.env"
SYNC_COMMAND = "/usr/local/sbin/magento-dr-varnish-sync"
SYNC_SERVICE = "magento-dr-varnish-sync.service"
SYNC_TIMER = "magento-dr-varnish-sync.timer"
BAN_ALL_COMMAND = "/usr/local/sbin/magento-dr-varnish-ban-all"
HOSTS_FILE = "/etc/magento-dr/varnish-hosts"
SET_CACHE_HOSTS_PHP = "/etc/magento-dr/set-cache-hosts.php"
NGINX_SITE = "/etc/nginx/conf.d/magento.conf"
# Every instance re-reads the region's instances this often; a new instance takes traffic only once every
# peer has had PEER_REFRESH_SECONDS + PEER_REFRESH_MARGIN_SECONDS to see it (user data waits for that uptime).
PEER_REFRESH_SECONDS = 60
PEER_REFRESH_MARGIN_SECONDS = 15
# Cache storage: a share of the instance's memory, sized at boot from /proc/meminfo. `malloc` storage lives in
# the varnishd process, so a (re)started Varnish is empty: what "new instances start empty" rests on.
# Varnish shares the instance with PHP-FPM: below 5 % it holds too little to help, above 50 % it starves PHP.
DEFAULT_MEMORY_PERCENT = 25
MEMORY_PERCENT_RANGE = (5, 50)
# Adobe KB "Troubleshooting 503 error caused by necessity to change default Varnish settings": Magento's
# X-Magento-Tags header outgrows Varnish's 8 KB default on large categories ("65536 bytes should work if your
# largest category has 3,000 products"); http_resp_size must hold it plus the other headers (65536 + 32768).
# workspace_backend's default is already the KB's 98304 (Varnish 7.1 `varnishd -x parameter`); raised so the
# larger response headers still leave room for VCL work.
VARNISHD_PARAMETERS = (("http_resp_hdr_len", 65536), ("http_resp_size", 98304), ("workspace_backend", 131072))
# What Magento sends for a full flush (`cache:flush`, `cache:clean` with no type or `full_page`):
# PurgeCache::sendPurgeRequest('.*') through FlushAllCacheObserver (magento/magento2 CacheInvalidate module).
FLUSH_ALL_PATTERN = ".*"


class VarnishPlanError(ValueError):
    """A Varnish setting that cannot work; the message says what to change."""


@dataclass(frozen=True)
class BackendProbe:
    """Varnish's probe of Magento's deep check: Magento's varnish7.vcl values by default (MAGENTO_PROBE).

    Varnish keeps the last probes in a shift register: the backend is healthy while at least `threshold` of the
    last `window` were good. `.initial` (left at its default, threshold - 1) fills that many good entries only
    "when the VCL is loaded"; a probe failing for longer than `window` probes has shifted them out (vcl-probe(7),
    "The backend health shift register": https://varnish-cache.org/docs/7.1/reference/vcl-probe.html).
    """

    interval_seconds: int = 5
    timeout_seconds: int = 2
    window: int = 10
    threshold: int = 5

    def __post_init__(self) -> None:
        # Varnish's register holds 64 probes; a threshold above the window could never be met.
        if not 1 <= self.threshold <= self.window <= 64 or self.interval_seconds < 1 or self.timeout_seconds < 1:
            raise VarnishPlanError(f"BackendProbe: threshold {self.threshold} must be within 1..window {self.window} (<= 64), "
                                   "interval and timeout at least 1 s")

    @property
    def healthy_after_seconds(self) -> int:
        """Worst case from the deep check turning green, after failing for a whole window (a standby until its
        promotion), to Varnish passing pages: the next probe up to one interval later, then threshold - 1 more."""
        return self.threshold * self.interval_seconds


MAGENTO_PROBE = BackendProbe()


@dataclass(frozen=True)
class VarnishPlan:
    """What one region's Varnish needs: who may purge, whose forwarded addresses to trust, how much memory."""

    private_subnet_cidrs: tuple[str, ...]
    """The web instances' subnets: the only networks (with loopback) whose PURGE counts."""
    vpc_cidr: str
    """The VPC: the load balancer's nodes, whose X-Forwarded-For nginx trusts."""
    memory_percent: int = DEFAULT_MEMORY_PERCENT

    def __post_init__(self) -> None:
        if not self.private_subnet_cidrs:
            raise VarnishPlanError("VarnishPlan.private_subnet_cidrs: name the web instances' subnets (the purge ACL)")
        vpc = _network(self.vpc_cidr, "VarnishPlan.vpc_cidr")
        for cidr in self.private_subnet_cidrs:
            if not _network(cidr, "VarnishPlan.private_subnet_cidrs").subnet_of(vpc):
                raise VarnishPlanError(f"VarnishPlan.private_subnet_cidrs: {cidr} lies outside the VPC {self.vpc_cidr}")
        low, high = MEMORY_PERCENT_RANGE
        if not low <= self.memory_percent <= high:
            raise VarnishPlanError(f"magento-dr:web.varnishMemoryPercent {self.memory_percent} must be between {low} and {high}")

    @property
    def purge_acl(self) -> tuple[str, ...]:
        """The VCL's `acl purge`: loopback (the instance's own sync and ban scripts) and the web subnets."""
        return ("127.0.0.1", *(str(_network(c, "VarnishPlan.private_subnet_cidrs")) for c in self.private_subnet_cidrs))


def _network(cidr: str, label: str) -> ipaddress.IPv4Network:
    # Varnish refuses a CIDR with host bits set ("Non-zero bits in masked part"), so only canonical ones pass.
    try:
        return ipaddress.IPv4Network(cidr, strict=True)
    except ValueError as exc:
        raise VarnishPlanError(f"{label}: {cidr!r} is not a canonical IPv4 CIDR ({exc})") from None


# ---------------------------------------------------------------- Magento configuration (env.php)
def full_page_cache_config(full_page_cache: str, plan: VarnishPlan | None = None) -> dict[str, object]:
    """env.php `system/default/system/full_page_cache`: which cache Magento uses, and for Varnish the values
    its Admin shows and its "Export VCL" button uses (the running VCL is render_vcl's, with the same values).

    Set in both modes, so a Varnish setting left in the database cannot make a Redis region send purges
    (without `http_cache_hosts`, Magento would send them to the shop's own URL).
    """
    if full_page_cache not in FULL_PAGE_CACHES:
        raise VarnishPlanError(f"magento-dr:web.fullPageCache {full_page_cache!r}: use one of {', '.join(FULL_PAGE_CACHES)}")
    config: dict[str, object] = {"caching_application": CACHING_APPLICATION[full_page_cache]}
    if full_page_cache == "varnish":
        if plan is None:
            raise VarnishPlanError("full_page_cache_config: varnish needs a VarnishPlan")
        config["varnish"] = {
            "access_list": ",".join(plan.purge_acl),
            "backend_host": BACKEND_HOST,
            "backend_port": str(BACKEND_PORT),
            "grace_period": str(GRACE_PERIOD_SECONDS),
        }
    return config


def http_cache_hosts(addresses: Sequence[str]) -> list[dict[str, str]]:
    """env.php `http_cache_hosts`: every Varnish Magento purges (what set-cache-hosts.php writes on the instance)."""
    return [{"host": str(ipaddress.IPv4Address(a)), "port": str(PURGE_PORT)} for a in sorted(set(addresses), key=ipaddress.IPv4Address)]


# ---------------------------------------------------------------- the VCL
# Magento's own varnish7.vcl (app/code/Magento/PageCache/etc/varnish7.vcl, 2.4.8), re-expressed: the same
# probe, purge handling, pass rules, hash, backend-response and grace rules. Each departure is marked
# "magento-dr:" in the text and listed in docs/frontend.md. {{name}} tokens are filled by render_vcl.
_VCL = r"""# magento-dr: Varnish VCL for Magento 2.4.7 / 2.4.8, rendered by components/varnish.py (render_vcl).
# It does what Magento's own varnish7.vcl does (`bin/magento varnish:vcl:generate --export-version=7`);
# every departure is marked "magento-dr:" and listed in docs/frontend.md.
# magento-dr: VCL 4.1 (Magento's says 4.0) for local.socket, which tells the purge listener apart.
vcl 4.1;

import std;

backend default {
    .host = "{{backend_host}}";
    .port = "{{backend_port}}";
    .first_byte_timeout = 600s;
    # Magento's probe: health_check.php answers 500 when the database or a cache backend is down.
    .probe = {
        .url = "{{probe_url}}";
        .timeout = {{probe_timeout}}s;
        .interval = {{probe_interval}}s;
        .window = {{probe_window}};
        .threshold = {{probe_threshold}};
    }
}

# magento-dr: the same Magento server without a probe, for the load balancer's liveness file only.
# Through `default`, a failing deep check (a standby's, by design; any database or cache outage)
# would fail the liveness file too, and the Auto Scaling group would replace every instance.
backend {{liveness_backend}} {
    .host = "{{backend_host}}";
    .port = "{{backend_port}}";
}

# Who may purge: this host and the web instances' subnets.
acl purge {
{{acl}}
}

sub vcl_recv {
    if (req.restarts > 0) {
        set req.hash_always_miss = true;
    }

    if (req.method == "PURGE") {
        # magento-dr: PURGE counts only on the purge listener, which only the web instances reach.
        # Behind the load balancer (and nginx's TLS server) every shopper arrives from inside the VPC
        # or from loopback, so the address list alone would let the internet purge.
        if (local.socket != "{{purge_listener}}" || client.ip !~ purge) {
            return (synth(405, "Method not allowed"));
        }
        if (!req.http.X-Magento-Tags-Pattern && !req.http.X-Pool) {
            return (synth(400, "X-Magento-Tags-Pattern or X-Pool header required"));
        }
        if (req.http.X-Magento-Tags-Pattern == "{{flush_all}}") {
            # magento-dr: a full flush (cache:flush, the failover's ban) empties the whole cache, pages
            # without X-Magento-Tags included; Magento's tag ban would leave those.
            ban("obj.status != 0");
        } elsif (req.http.X-Magento-Tags-Pattern) {
            ban("obj.http.X-Magento-Tags ~ " + req.http.X-Magento-Tags-Pattern);
        }
        if (req.http.X-Pool) {
            ban("obj.http.X-Pool ~ " + req.http.X-Pool);
        }
        return (synth(200, "Purged"));
    }
    if (local.socket == "{{purge_listener}}") {
        # magento-dr: the purge listener serves no pages.
        return (synth(405, "Method not allowed"));
    }

    # Methods outside RFC 2616's set (CONNECT, ...) go straight through.
    if (req.method != "GET" && req.method != "HEAD" && req.method != "PUT" && req.method != "POST"
        && req.method != "TRACE" && req.method != "OPTIONS" && req.method != "DELETE") {
        return (pipe);
    }
    # Only GET and HEAD are cached.
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # Customer, cart and checkout pages are personal.
    if (req.url ~ "/customer" || req.url ~ "/checkout") {
        return (pass);
    }
    # Health checks always reach the backend: Magento's deep check, and (magento-dr) the load
    # balancer's liveness file, so neither is ever answered from the cache.
    if (req.url ~ "^/(pub/)?(health_check.php)$") {
        return (pass);
    }
    if (req.url == "{{liveness_path}}") {
        # magento-dr: alive means nginx and Varnish on this instance answer, whatever the deep probe says.
        set req.backend_hint = {{liveness_backend}};
        return (pass);
    }

    set req.http.grace = "none";
    # An absolute URL keeps only what follows the scheme.
    set req.url = regsub(req.url, "^http[s]?://", "");
    std.collect(req.http.Cookie);

    # Marketing parameters do not change the page: without them, one object serves every campaign.
    if (req.url ~ "(\?|&)({{marketing}})=") {
        set req.url = regsuball(req.url, "({{marketing}})=[-_A-z0-9+()%.]+&?", "");
        set req.url = regsub(req.url, "[?|&]+$", "");
    }

    # Static files and media are not cached here.
    if (req.url ~ "^/(pub/)?(media|static)/") {
        return (pass);
    }
    # Signed-in GraphQL requests without a cache id are personal.
    if (req.url ~ "/graphql" && !req.http.X-Magento-Cache-Id && req.http.Authorization ~ "^Bearer") {
        return (pass);
    }
    return (hash);
}

sub vcl_hash {
    # The shopper's context (customer group, currency, store) from Magento's X-Magento-Vary cookie.
    if ((req.url !~ "/graphql" || !req.http.X-Magento-Cache-Id) && req.http.cookie ~ "X-Magento-Vary=") {
        hash_data(regsub(req.http.cookie, "^.*?X-Magento-Vary=([^;]+);*.*$", "\1"));
    }
    # Pages seen over HTTP and HTTPS differ; the load balancer says which one the shopper used.
    if (req.http.{{ssl_header}}) {
        hash_data(req.http.{{ssl_header}});
    }
    if (req.url ~ "/graphql") {
        call process_graphql_headers;
    }
}

sub process_graphql_headers {
    if (req.http.X-Magento-Cache-Id) {
        hash_data(req.http.X-Magento-Cache-Id);
        # A client that stops sending its token stops seeing results cached for signed-in users.
        if (req.http.Authorization ~ "^Bearer") {
            hash_data("Authorized");
        }
    }
    if (req.http.Store) {
        hash_data(req.http.Store);
    }
    if (req.http.Content-Currency) {
        hash_data(req.http.Content-Currency);
    }
}

sub vcl_backend_response {
    # Stale objects are kept 3 days for a sick backend (vcl_hit decides who gets them).
    set beresp.grace = 3d;

    if (beresp.http.content-type ~ "text") {
        set beresp.do_esi = true;
    }
    if (bereq.url ~ "\.js$" || beresp.http.content-type ~ "text") {
        set beresp.do_gzip = true;
    }
    if (beresp.http.X-Magento-Debug) {
        set beresp.http.X-Magento-Cache-Control = beresp.http.Cache-Control;
    }

    # Only 200 and 404 responses that are not private are cached.
    if ((beresp.status != 200 && beresp.status != 404) || beresp.http.Cache-Control ~ "private") {
        set beresp.uncacheable = true;
        set beresp.ttl = 86400s;
        return (deliver);
    }

    if (beresp.ttl > 0s && (bereq.method == "GET" || bereq.method == "HEAD")) {
        # A cached page sets no cookie; a response that sets an X-Magento-Vary the request did not
        # carry is not cached under the request's key.
        std.collect(beresp.http.set-cookie);
        if ((bereq.url !~ "/graphql" || !bereq.http.X-Magento-Cache-Id)
            && bereq.http.cookie !~ "X-Magento-Vary="
            && beresp.http.set-cookie ~ "X-Magento-Vary=") {
            set beresp.ttl = 0s;
            set beresp.uncacheable = true;
        }
        unset beresp.http.set-cookie;
    }

    # What may not be cached is remembered as such for 2 minutes.
    if (beresp.ttl <= 0s
        || beresp.http.Surrogate-control ~ "no-store"
        || (!beresp.http.Surrogate-Control && beresp.http.Cache-Control ~ "no-cache|no-store")
        || beresp.http.Vary == "*") {
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;
    }

    # A GraphQL response for another cache id is not cached under this request's key.
    if (bereq.url ~ "/graphql" && bereq.http.X-Magento-Cache-Id
        && bereq.http.X-Magento-Cache-Id != beresp.http.X-Magento-Cache-Id) {
        set beresp.ttl = 0s;
        set beresp.uncacheable = true;
    }
    return (deliver);
}

sub vcl_deliver {
    if (obj.uncacheable) {
        set resp.http.X-Magento-Cache-Debug = "UNCACHEABLE";
    } else if (obj.hits) {
        set resp.http.X-Magento-Cache-Debug = "HIT";
        set resp.http.Grace = req.http.grace;
    } else {
        set resp.http.X-Magento-Cache-Debug = "MISS";
    }

    # Browsers do not cache pages (Varnish does); static files keep their own headers.
    if (resp.http.Cache-Control !~ "private" && req.url !~ "^/(pub/)?(media|static)/") {
        set resp.http.Pragma = "no-cache";
        set resp.http.Expires = "-1";
        set resp.http.Cache-Control = "no-store, no-cache, must-revalidate, max-age=0";
    }

    if (!resp.http.X-Magento-Debug) {
        unset resp.http.Age;
    }
    unset resp.http.X-Magento-Debug;
    unset resp.http.X-Magento-Tags;
    unset resp.http.X-Powered-By;
    unset resp.http.Server;
    unset resp.http.X-Varnish;
    unset resp.http.Via;
    unset resp.http.Link;
}

sub vcl_hit {
    if (obj.ttl >= 0s) {
        return (deliver);
    }
    if (std.healthy(req.backend_hint)) {
        # A healthy backend: a stale object only within the grace period, else fetch it again.
        if (obj.ttl + {{grace}}s > 0s) {
            set req.http.grace = "normal (healthy server)";
            return (deliver);
        }
        return (restart);
    }
    # A sick backend: whatever is cached, however old (up to beresp.grace).
    set req.http.grace = "unlimited (unhealthy server)";
    return (deliver);
}
"""

_TOKEN = re.compile(r"\{\{([a-z_]+)\}\}")


def render_vcl(
    plan: VarnishPlan,
    *,
    liveness_path: str,
    backend_host: str = BACKEND_HOST,
    backend_port: int = BACKEND_PORT,
    grace_period_seconds: int = GRACE_PERIOD_SECONDS,
    probe: BackendProbe = MAGENTO_PROBE,
) -> str:
    """The VCL every web instance of a region loads (pure; the tests compile and run it with varnishd)."""
    if not re.match(r"^/[A-Za-z0-9._/-]+$", liveness_path):
        raise VarnishPlanError(f"render_vcl: liveness path {liveness_path!r} must be a plain absolute path")
    if grace_period_seconds < 0:
        raise VarnishPlanError(f"render_vcl: grace period {grace_period_seconds} must be >= 0 (Magento's rule)")
    ipaddress.IPv4Address(backend_host)  # an address: a name would be resolved once, when the VCL is compiled
    values = {
        "backend_host": backend_host,
        "backend_port": str(backend_port),
        "probe_url": PROBE_URL,
        "probe_timeout": str(probe.timeout_seconds),
        "probe_interval": str(probe.interval_seconds),
        "probe_window": str(probe.window),
        "probe_threshold": str(probe.threshold),
        # Magento writes each entry quoted, one per line; a quoted CIDR is a network in Varnish's ACL syntax.
        "acl": "\n".join(f'    "{entry}";' for entry in plan.purge_acl),
        "purge_listener": PURGE_LISTENER,
        "flush_all": FLUSH_ALL_PATTERN,
        "liveness_path": liveness_path,
        "liveness_backend": LIVENESS_BACKEND,
        "marketing": "|".join(MARKETING_PARAMETERS),
        "ssl_header": SSL_OFFLOADED_HEADER.replace("_", "-"),
        "grace": str(grace_period_seconds),
    }
    used = set(_TOKEN.findall(_VCL))
    if used != set(values):
        raise AssertionError(f"render_vcl: template tokens {sorted(used)} differ from the values {sorted(values)}")
    return _TOKEN.sub(lambda m: values[m.group(1)], _VCL)


# ---------------------------------------------------------------- varnishd
def varnishd_arguments(*, vcl_path: str = VCL_PATH, malloc: str = "${VARNISH_MALLOC_MB}m",
                       main: str = f"{VARNISH_HOST}:{VARNISH_PORT}", purge: str = f":{PURGE_PORT}") -> list[str]:
    """varnishd's command line: the loopback listener nginx's TLS server uses, the purge listener, the VCL,
    memory storage (empty at every start) and Adobe's header sizes. `-F`: systemd supervises it."""
    args = [VARNISHD, "-F", "-a", f"{MAIN_LISTENER}={main},HTTP", "-a", f"{PURGE_LISTENER}={purge},HTTP", "-f", vcl_path, "-s", f"malloc,{malloc}"]
    for name, value in VARNISHD_PARAMETERS:
        args += ["-p", f"{name}={value}"]
    return args


def render_varnish_unit() -> str:
    """The systemd unit that runs Varnish (our own, so the package's unit and defaults play no part)."""
    return "\n".join(
        [
            "[Unit]",
            "Description=Varnish full-page cache for Magento (magento-dr)",
            "After=network-online.target",
            "Wants=network-online.target",
            "",
            "[Service]",
            "Type=simple",
            f"EnvironmentFile={VARNISH_ENV_FILE}",
            "ExecStart=" + " ".join(varnishd_arguments()),
            "LimitNOFILE=131072",
            "LimitMEMLOCK=85983232",
            "Restart=on-failure",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
        ]
    )


def render_sync_units() -> tuple[str, str]:
    """The sync service and its timer: every PEER_REFRESH_SECONDS, to the second (AccuracySec), from boot."""
    service = "\n".join(
        ["[Unit]", "Description=magento-dr: Magento purges every Varnish of the region; a standby keeps its cache empty", "",
         "[Service]", "Type=oneshot", f"ExecStart={SYNC_COMMAND}"]
    )  # fmt: skip
    timer = "\n".join(
        ["[Unit]", f"Description=Run {SYNC_COMMAND} every {PEER_REFRESH_SECONDS}s", "",
         "[Timer]", "OnBootSec=30s", f"OnUnitActiveSec={PEER_REFRESH_SECONDS}s", "AccuracySec=1s", "",
         "[Install]", "WantedBy=timers.target"]
    )  # fmt: skip
    return service, timer


# ---------------------------------------------------------------- nginx
_NGINX = Template(r"""# magento-dr (web.fullPageCache: varnish): TLS from the load balancer -> Varnish -> Magento.
# Written by user data; replaces the AMI's Magento site (kept as magento.conf.ami).
server {
    listen 443 ssl;
    server_name _;
    ssl_certificate     $tls_dir/cert.pem;
    ssl_certificate_key $tls_dir/key.pem;
    # Purges never come through the load balancer (Varnish refuses them on this path as well).
    if ($$request_method = PURGE) {
        return 405;
    }
    location / {
        proxy_pass http://$varnish;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $$host;
        proxy_set_header X-Forwarded-For $$proxy_add_x_forwarded_for;
        proxy_set_header $ssl_header $$http_$ssl_header_var;
        # Varnish waits up to 600 s for Magento's first byte (Magento's VCL).
        proxy_read_timeout 600s;
        proxy_buffer_size 128k;
        proxy_buffers 4 256k;
        proxy_busy_buffers_size 256k;
    }
}

# Magento itself, for Varnish only (loopback).
server {
    listen $backend;
    server_name _;
    # The shopper's address for Magento: the load balancer appended it to X-Forwarded-For, then nginx's
    # TLS server added the load balancer's node and Varnish this host.
    set_real_ip_from 127.0.0.1;
    set_real_ip_from $vpc_cidr;
    real_ip_header X-Forwarded-For;
    real_ip_recursive on;
    set $$MAGE_ROOT $magento_root;
    include $magento_root/nginx.conf.sample;
}
""")


def render_nginx_site(plan: VarnishPlan, *, magento_root: str, tls_dir: str) -> str:
    """nginx's Magento site with Varnish in the middle (pure): TLS on 443 -> Varnish -> Magento on loopback."""
    return _NGINX.substitute(
        tls_dir=tls_dir,
        varnish=f"{VARNISH_HOST}:{VARNISH_PORT}",
        backend=f"{BACKEND_HOST}:{BACKEND_PORT}",
        vpc_cidr=plan.vpc_cidr,
        magento_root=magento_root,
        ssl_header=SSL_OFFLOADED_HEADER,
        ssl_header_var=SSL_OFFLOADED_HEADER.lower().replace("-", "_"),
    )


# ---------------------------------------------------------------- scripts on the instance
_SET_CACHE_HOSTS_PHP = r"""<?php
// magento-dr: set app/etc/env.php `http_cache_hosts` to the host:port lines on stdin, atomically.
umask(0027);
$path = $argv[1];
$env = include $path;
$hosts = [];
foreach (preg_split('/\s+/', trim(stream_get_contents(STDIN)), -1, PREG_SPLIT_NO_EMPTY) as $line) {
    [$host, $port] = explode(':', $line, 2);
    $hosts[] = ['host' => $host, 'port' => $port];
}
if ($hosts === []) {
    fwrite(STDERR, "magento-dr: no Varnish host given; env.php left as it was\n");
    exit(1);
}
$env['http_cache_hosts'] = $hosts;
$next = $path . '.hosts';
file_put_contents($next, "<?php\nreturn " . var_export($env, true) . ";\n");
chgrp($next, 'nginx');
chmod($next, 0640);
rename($next, $path);
"""

_SYNC = Template(r"""#!/bin/bash
# magento-dr: Magento purges every Varnish of this region (env.php http_cache_hosts = every pending or
# running instance of stack $stack), and a region that is not active keeps its Varnish empty, so that
# nothing cached before a failover is served after it. Run every ${refresh}s (${timer}), at boot and
# by the post-failover document.
set -euo pipefail
export AWS_DEFAULT_REGION=$region
HOSTS_FILE=$hosts_file
exec 9>/run/magento-dr-varnish-sync.lock
flock 9
TOKEN=$$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')
SELF=$$(curl -fsS -H "X-aws-ec2-metadata-token: $$TOKEN" http://169.254.169.254/latest/meta-data/local-ipv4)
if PEERS=$$(aws ec2 describe-instances \
    --filters "Name=tag:$tag_key,Values=$stack" "Name=instance-state-name,Values=pending,running" \
    --query 'Reservations[].Instances[].PrivateIpAddress' --output text); then
  LIST=$$(printf '%s\n' "$$SELF" $$PEERS | grep -E '^[0-9]+(\.[0-9]+){3}$$' | sort -u -t. -k1,1n -k2,2n -k3,3n -k4,4n | sed 's/$$/:$purge_port/')
elif [ -s "$$HOSTS_FILE" ]; then
  echo "magento-dr: DescribeInstances failed; Magento keeps purging the Varnish caches it knew" >&2
  LIST=$$(cat "$$HOSTS_FILE")
else
  echo "magento-dr: DescribeInstances failed; Magento purges this instance's Varnish only until the next run" >&2
  LIST="$$SELF:$purge_port"
fi
if [ "$$LIST" != "$$(cat "$$HOSTS_FILE" 2>/dev/null || true)" ]; then
  printf '%s\n' "$$LIST" > "$$HOSTS_FILE.new"
  php $set_cache_hosts_php $magento_root/app/etc/env.php < "$$HOSTS_FILE.new"
  mv "$$HOSTS_FILE.new" "$$HOSTS_FILE"
  systemctl try-reload-or-restart php-fpm
  echo "magento-dr: Magento purges $$(wc -l < "$$HOSTS_FILE") Varnish cache(s): $$(tr '\n' ' ' < "$$HOSTS_FILE")"
fi
ACTIVE=$$(aws ssm get-parameter --name "$ssm_prefix/$active_parameter" --query Parameter.Value --output text)
if [ "$$ACTIVE" != "true" ]; then
  curl -fsS -o /dev/null -X PURGE -H 'X-Magento-Tags-Pattern: $flush_all' "http://127.0.0.1:$purge_port/"
fi
""")

_BAN_ALL = Template(r"""#!/bin/bash
# magento-dr: empty every Varnish of this region (the post-failover document runs it last, after
# $sync_command refreshed the list). Exits 1, naming them, when a Varnish that answers did not confirm:
# the failover's run_commands step then fails, is reported and retried.
set -uo pipefail
HOSTS_FILE=$${MAGENTO_DR_VARNISH_HOSTS:-$hosts_file}
if [ ! -s "$$HOSTS_FILE" ]; then
  echo "magento-dr: no Varnish host in $$HOSTS_FILE (run $sync_command)" >&2
  exit 1
fi
FAILED=""
BANNED=0
while read -r HOST; do
  [ -n "$$HOST" ] || continue
  CODE=$$(curl -sS -o /dev/null -w '%{http_code}' --connect-timeout 3 --max-time 10 \
    -X PURGE -H 'X-Magento-Tags-Pattern: $flush_all' "http://$$HOST/" 2>/dev/null < /dev/null)
  RC=$$?
  if [ "$$RC" -eq 0 ] && [ "$$CODE" = 200 ]; then
    echo "magento-dr: banned every object in $$HOST"
    BANNED=$$((BANNED + 1))
  elif [ "$$RC" -eq 7 ]; then
    # Nothing listens (refused): Varnish not started yet, or the instance is gone. Either way it holds
    # no cache: Varnish keeps its cache in memory and starts empty.
    echo "magento-dr: nothing listens on $$HOST: it holds no cache"
  else
    FAILED="$$FAILED $$HOST(http $$CODE, curl exit $$RC)"
  fi
done < "$$HOSTS_FILE"
if [ -n "$$FAILED" ]; then
  echo "magento-dr: the ban did not reach:$$FAILED" >&2
  exit 1
fi
echo "magento-dr: $$BANNED Varnish cache(s) emptied"
""")


def render_sync_script(*, stack: str, region: str, ssm_prefix: str, active_parameter: str, tag_key: str, magento_root: str) -> str:
    """`magento-dr-varnish-sync` for one stack (pure)."""
    return _SYNC.substitute(
        stack=stack,
        region=region,
        ssm_prefix=ssm_prefix,
        active_parameter=active_parameter,
        tag_key=tag_key,
        magento_root=magento_root,
        hosts_file=HOSTS_FILE,
        purge_port=PURGE_PORT,
        refresh=PEER_REFRESH_SECONDS,
        timer=SYNC_TIMER,
        set_cache_hosts_php=SET_CACHE_HOSTS_PHP,
        flush_all=FLUSH_ALL_PATTERN,
    )


def render_ban_all_script() -> str:
    """`magento-dr-varnish-ban-all` (pure; the tests run it against real varnishd processes)."""
    return _BAN_ALL.substitute(hosts_file=HOSTS_FILE, sync_command=SYNC_COMMAND, flush_all=FLUSH_ALL_PATTERN)


# ---------------------------------------------------------------- after a failover
# Run as root by the post-failover document (components/failover_automation.py), around Magento's commands:
# first the purge list is made complete (every instance of the region, the scale-up's new ones included), so
# `cache:flush` purges them all; last, every Varnish is emptied and each one confirms, so nothing cached
# before the failover — or while the search index was rebuilt — is served afterwards.
# `sudo`: the document's shell runs as root (SSM Agent's user); sudo keeps the scripts root either way.
SYNC_AS_ROOT = f"sudo {SYNC_COMMAND}"
BAN_ALL_AS_ROOT = f"sudo {BAN_ALL_COMMAND}"
POST_FAILOVER_BEFORE = (SYNC_AS_ROOT,)
POST_FAILOVER_AFTER = (BAN_ALL_AS_ROOT,)


# ---------------------------------------------------------------- user data
_SETUP = Template(r"""
# 4b. Varnish in front of Magento (web.fullPageCache: varnish; docs/frontend.md "Full-page cache").
if [ ! -x $varnishd ]; then
  echo "magento-dr: $varnishd is missing; web.fullPageCache varnish needs Varnish 7 on the AMI (docs/frontend.md)" >&2
  exit 1
fi
install -d -m 0755 /etc/varnish
cat > $vcl_path <<'VCL'
$vcl
VCL
chmod 0644 $vcl_path  # varnishd reads it as its unprivileged user (umask 077 above)
# The installed varnishd must compile it: a version that cannot stops the boot here, with its message.
if ! $varnishd -C -f $vcl_path > /dev/null 2> "$$CONF_DIR/vcl-compile.log"; then
  cat "$$CONF_DIR/vcl-compile.log" >&2
  exit 1
fi
# Cache storage: $memory_percent % of this instance's memory.
MALLOC_MB=$$(awk -v pct=$memory_percent '/^MemTotal:/ { printf "%d", $$2 * pct / 100 / 1024 }' "$${MEMINFO:-/proc/meminfo}")
echo "VARNISH_MALLOC_MB=$$MALLOC_MB" > $env_file
cat > /etc/systemd/system/$unit <<'UNIT'
$varnish_unit
UNIT
cat > /etc/systemd/system/$sync_service <<'UNIT'
$sync_unit
UNIT
cat > /etc/systemd/system/$sync_timer <<'UNIT'
$sync_timer_unit
UNIT
cat > $set_cache_hosts_php <<'PHP'
$set_cache_hosts
PHP
cat > $sync_command <<'SYNC'
$sync
SYNC
cat > $ban_all_command <<'BAN'
$ban_all
BAN
chmod 0755 $sync_command $ban_all_command
if [ -f $nginx_site ] && ! grep -q '^# magento-dr' $nginx_site; then mv $nginx_site $nginx_site.ami; fi
cat > $nginx_site <<'NGINX'
$nginx
NGINX
chmod 0644 $nginx_site
nginx -t
systemctl daemon-reload
# The package's own unit (its default VCL on :6081) must not hold the port.
systemctl disable --now varnish.service 2> /dev/null || true
systemctl enable $unit
systemctl restart $unit
for _ in $$(seq 1 60); do  # listening once the VCL is loaded (any answer will do)
  if curl -s -o /dev/null "http://127.0.0.1:$purge_port/"; then break; fi
  sleep 1
done
$sync_command
systemctl enable --now $sync_timer
""")

_WAIT_FOR_PEERS = Template(r"""
# 5b. Every peer re-reads the region's instances every ${refresh}s: take traffic only once each has seen
#     this one, so that no purge a peer sends misses this instance's Varnish.
while [ "$$(cut -d. -f1 /proc/uptime)" -lt $wait ]; do sleep 5; done
""")


def render_user_data_setup(plan: VarnishPlan, *, stack: str, region: str, ssm_prefix: str, active_parameter: str, tag_key: str,
                           magento_root: str, tls_dir: str, liveness_path: str) -> tuple[str, str]:
    """The user data sections Varnish adds (pure): the setup after env.php, and the wait before the liveness file."""
    sync_service, sync_timer = render_sync_units()
    setup = _SETUP.substitute(
        varnishd=VARNISHD,
        vcl_path=VCL_PATH,
        vcl=render_vcl(plan, liveness_path=liveness_path).rstrip("\n"),
        memory_percent=plan.memory_percent,
        env_file=VARNISH_ENV_FILE,
        unit=VARNISH_UNIT,
        varnish_unit=render_varnish_unit(),
        sync_service=SYNC_SERVICE,
        sync_unit=sync_service,
        sync_timer=SYNC_TIMER,
        sync_timer_unit=sync_timer,
        set_cache_hosts_php=SET_CACHE_HOSTS_PHP,
        set_cache_hosts=_SET_CACHE_HOSTS_PHP.strip(),
        sync_command=SYNC_COMMAND,
        sync=render_sync_script(stack=stack, region=region, ssm_prefix=ssm_prefix, active_parameter=active_parameter,
                                tag_key=tag_key, magento_root=magento_root).strip(),
        ban_all_command=BAN_ALL_COMMAND,
        ban_all=render_ban_all_script().strip(),
        purge_port=PURGE_PORT,
        nginx_site=NGINX_SITE,
        nginx=render_nginx_site(plan, magento_root=magento_root, tls_dir=tls_dir).strip(),
    )
    wait = _WAIT_FOR_PEERS.substitute(refresh=PEER_REFRESH_SECONDS, wait=PEER_REFRESH_SECONDS + PEER_REFRESH_MARGIN_SECONDS)
    return setup, wait


def json_for_shell(value: object) -> str:
    """JSON to put between single quotes in a shell script (no quote inside can end them)."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    if "'" in text:
        raise VarnishPlanError(f"json_for_shell: {text!r} contains a single quote")
    return text
