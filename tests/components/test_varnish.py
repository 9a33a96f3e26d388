"""Varnish as the full-page cache (components/varnish.py): the pieces agree with each other, the VCL compiles
with the real `varnishd -C`, and a running varnishd with it caches, refuses purges from the shoppers' path and
from outside the web subnets, empties on a full flush and on the failover's ban, and keeps the load balancer's
liveness file answering while Magento's deep check fails."""

from __future__ import annotations

import ipaddress
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from components.magento_runtime import LIVENESS_PATH, MAGENTO_ROOT, TLS_DIR
from components.subnets import plan_subnets
from components.varnish import (
    BACKEND_HOST,
    BACKEND_PORT,
    FLUSH_ALL_PATTERN,
    GRACE_PERIOD_SECONDS,
    MAGENTO_PROBE,
    PROBE_URL,
    PURGE_PORT,
    VARNISH_HOST,
    VARNISH_PORT,
    BackendProbe,
    VarnishPlan,
    VarnishPlanError,
    full_page_cache_config,
    http_cache_hosts,
    render_ban_all_script,
    render_nginx_site,
    render_sync_script,
    render_user_data_setup,
    render_varnish_unit,
    render_vcl,
    varnishd_arguments,
)
from tests.varnish_harness import RunningVarnish, compile_vcl, free_port, running_varnish

# A module-scoped varnishd: under `make unit` (pytest-xdist --dist loadgroup) these tests share one worker.
pytestmark = pytest.mark.xdist_group("test_varnish")

VPC = "10.10.0.0/16"  # the primary's example network: 3 AZs
LAYOUT = plan_subnets(VPC, 3)
PLAN = VarnishPlan(tuple(s.private for s in LAYOUT), VPC)


def _vcl(plan: VarnishPlan = PLAN, **kwargs: object) -> str:
    return render_vcl(plan, liveness_path=LIVENESS_PATH, **kwargs)  # type: ignore[arg-type]


def _setup() -> str:
    setup, wait = render_user_data_setup(
        PLAN, stack="primary", region="us-east-1", ssm_prefix="/magento-dr/primary", active_parameter="active",
        tag_key="magento-dr:stack", magento_root=MAGENTO_ROOT, tls_dir=TLS_DIR, liveness_path=LIVENESS_PATH,
    )  # fmt: skip
    return setup + wait


# ---------------------------------------------------------------- the plan
@pytest.mark.parametrize(
    ("subnets", "vpc", "percent", "words"),
    [
        (("10.10.65.0/21",), VPC, 25, "not a canonical IPv4 CIDR"),  # Varnish: "Non-zero bits in masked part"
        (("10.30.64.0/21",), VPC, 25, "outside the VPC"),
        ((), VPC, 25, "name the web instances' subnets"),
        (("10.10.64.0/21",), VPC, 4, "between 5 and 50"),
        (("10.10.64.0/21",), VPC, 51, "between 5 and 50"),
    ],
)
def test_plan_refuses_what_varnish_or_the_network_would_not_take(subnets: tuple[str, ...], vpc: str, percent: int, words: str) -> None:
    with pytest.raises(VarnishPlanError, match=words):
        VarnishPlan(subnets, vpc, percent)


def test_only_the_web_subnets_and_loopback_may_purge_never_the_load_balancers() -> None:
    acl = [ipaddress.IPv4Network(entry) for entry in PLAN.purge_acl]
    assert acl[0] == ipaddress.IPv4Network("127.0.0.1/32")
    assert {str(n) for n in acl[1:]} == {s.private for s in LAYOUT}
    # The load balancer's nodes live in the public subnets (and the data tier in its own): none may purge.
    for other in [s.public for s in LAYOUT] + [s.data for s in LAYOUT]:
        assert not any(n.overlaps(ipaddress.IPv4Network(other)) for n in acl), other
    assert re.findall(r'^    "([0-9./]+)";$', _vcl(), re.MULTILINE) == list(PLAN.purge_acl)


# ---------------------------------------------------------------- Magento's settings agree with what runs
def test_redis_keeps_magentos_builtin_cache_and_varnish_switches_to_varnish() -> None:
    assert full_page_cache_config("redis") == {"caching_application": "1"}
    assert full_page_cache_config("varnish", PLAN)["caching_application"] == "2"
    with pytest.raises(VarnishPlanError, match="redis, varnish"):
        full_page_cache_config("memcached")


def test_magentos_varnish_settings_are_the_running_vcls() -> None:
    """What the Admin shows (and exports) is what the instances run: backend, purge list, grace period."""
    varnish = full_page_cache_config("varnish", PLAN)["varnish"]
    vcl = _vcl()
    assert isinstance(varnish, dict)
    assert f'.host = "{varnish["backend_host"]}";' in vcl and f'.port = "{varnish["backend_port"]}";' in vcl
    assert varnish["access_list"].split(",") == re.findall(r'^    "([0-9./]+)";$', vcl, re.MULTILINE)
    assert f"obj.ttl + {varnish['grace_period']}s > 0s" in vcl and varnish["grace_period"] == str(GRACE_PERIOD_SECONDS)


def test_http_cache_hosts_name_every_instance_once_on_the_purge_port() -> None:
    hosts = http_cache_hosts(["10.10.72.9", "10.10.64.20", "10.10.72.9"])
    assert hosts == [{"host": "10.10.64.20", "port": str(PURGE_PORT)}, {"host": "10.10.72.9", "port": str(PURGE_PORT)}]


def test_each_piece_listens_where_the_next_one_looks() -> None:
    nginx = render_nginx_site(PLAN, magento_root=MAGENTO_ROOT, tls_dir=TLS_DIR)
    args = " ".join(varnishd_arguments())
    vcl = _vcl()
    # load balancer -> nginx (TLS, 443) -> Varnish (loopback) -> nginx (Magento, loopback)
    assert re.search(r"listen 443 ssl;", nginx) and f"proxy_pass http://{VARNISH_HOST}:{VARNISH_PORT};" in nginx
    assert f"-a main={VARNISH_HOST}:{VARNISH_PORT},HTTP" in args
    assert f'.host = "{BACKEND_HOST}";' in vcl and f'.port = "{BACKEND_PORT}";' in vcl
    assert f"listen {BACKEND_HOST}:{BACKEND_PORT};" in nginx
    # purges: Magento (http_cache_hosts) and the scripts -> Varnish's purge listener, on every address
    assert f"-a purge=:{PURGE_PORT},HTTP" in args
    sync = render_sync_script(stack="primary", region="us-east-1", ssm_prefix="/magento-dr/primary", active_parameter="active",
                              tag_key="magento-dr:stack", magento_root=MAGENTO_ROOT)  # fmt: skip
    assert f"s/$/:{PURGE_PORT}/" in sync and f"http://127.0.0.1:{PURGE_PORT}/" in sync
    # Magento sees the shopper's address: nginx trusts the load balancer's nodes (VPC) and loopback.
    assert f"set_real_ip_from {VPC};" in nginx and "set_real_ip_from 127.0.0.1;" in nginx and "real_ip_recursive on;" in nginx
    # The shoppers' path never carries a purge to Varnish.
    assert "if ($request_method = PURGE)" in nginx


def test_varnish_keeps_its_cache_in_memory_so_a_new_instance_starts_empty() -> None:
    unit = render_varnish_unit()
    execstart = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert " -F " in execstart and " -s malloc,${VARNISH_MALLOC_MB}m " in execstart
    assert not re.search(r"-s (file|persistent|deprecated_persistent)", execstart)
    # Adobe's sizes for Magento's long X-Magento-Tags headers (the 503 troubleshooting article).
    for parameter in ("http_resp_hdr_len=65536", "http_resp_size=98304", "workspace_backend=131072"):
        assert f"-p {parameter}" in execstart


@pytest.mark.parametrize(("mem_total_kib", "percent", "megabytes"), [(8_000_000, 25, 1953), (16_000_000, 10, 1562), (32_000_000, 50, 15625)])
def test_the_cache_takes_the_configured_share_of_memory(tmp_path: Path, mem_total_kib: int, percent: int, megabytes: int) -> None:
    # The user data's own line, on a made-up /proc/meminfo.
    plan = VarnishPlan(PLAN.private_subnet_cidrs, VPC, percent)
    setup, _ = render_user_data_setup(plan, stack="primary", region="us-east-1", ssm_prefix="/magento-dr/primary", active_parameter="active",
                                      tag_key="magento-dr:stack", magento_root=MAGENTO_ROOT, tls_dir=TLS_DIR, liveness_path=LIVENESS_PATH)  # fmt: skip
    line = next(line for line in setup.splitlines() if line.startswith("MALLOC_MB="))
    (tmp_path / "meminfo").write_text(f"MemTotal:       {mem_total_kib} kB\nMemFree:        1000 kB\n")
    out = subprocess.run(["bash", "-c", f'{line}\necho "$MALLOC_MB"'], env={"MEMINFO": str(tmp_path / "meminfo"), "PATH": "/usr/bin:/bin"},  # noqa: S603,S607
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert int(out.stdout) == megabytes


@pytest.mark.parametrize("script", ["setup", "sync", "ban-all"])
def test_scripts_are_valid_bash(script: str) -> None:
    text = {
        "setup": _setup(),
        "sync": render_sync_script(stack="primary", region="us-east-1", ssm_prefix="/magento-dr/primary", active_parameter="active",
                                   tag_key="magento-dr:stack", magento_root=MAGENTO_ROOT),
        "ban-all": render_ban_all_script(),
    }[script]  # fmt: skip
    result = subprocess.run(["bash", "-n"], input=text, text=True, capture_output=True, check=False)  # noqa: S607
    assert result.returncode == 0, result.stderr


def test_a_region_that_is_not_active_keeps_its_varnish_empty() -> None:
    """A standby's Varnish may hold pages from when it last served (before a failback); its backend is sick
    until it is promoted, and Magento's VCL serves a sick backend's stale pages for up to 3 days."""
    sync = render_sync_script(stack="secondary", region="eu-west-1", ssm_prefix="/magento-dr/secondary", active_parameter="active",
                              tag_key="magento-dr:stack", magento_root=MAGENTO_ROOT)  # fmt: skip
    check = sync.index('aws ssm get-parameter --name "/magento-dr/secondary/active"')
    ban = sync.index(f"-X PURGE -H 'X-Magento-Tags-Pattern: {FLUSH_ALL_PATTERN}' \"http://127.0.0.1:{PURGE_PORT}/\"")
    assert check < sync.index('if [ "$ACTIVE" != "true" ]; then') < ban
    # Peers: this stack's pending and running instances (a pending one learns its peers before it serves).
    assert '"Name=tag:magento-dr:stack,Values=secondary" "Name=instance-state-name,Values=pending,running"' in sync


# ---------------------------------------------------------------- compiled by varnishd
def test_the_vcl_compiles_with_varnishd(tmp_path: Path) -> None:
    compiled = compile_vcl(_vcl(), tmp_path)
    assert compiled.ok, compiled.message


def test_the_compile_check_catches_a_vcl_varnish_refuses(tmp_path: Path) -> None:
    """The check above can fail: a VCL with an ACL entry Varnish rejects does not pass it."""
    broken = _vcl().replace('    "127.0.0.1";', '    "10.10.65.0/21";')
    compiled = compile_vcl(broken, tmp_path)
    assert not compiled.ok and "Non-zero bits in masked part" in compiled.message


# ---------------------------------------------------------------- a running varnishd
@pytest.fixture(scope="module")
def varnish(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningVarnish]:
    # The purge ACL holds 127.0.0.1 (as on an instance); 127.0.0.2 plays an address outside it.
    with running_varnish(lambda port: _vcl(backend_port=port), tmp_path_factory.mktemp("varnishd")) as running:
        yield running


def _debug(varnish: RunningVarnish, path: str) -> str:
    status, headers, _ = varnish.request("GET", path)
    assert status == 200, (path, status)
    return headers.get("x-magento-cache-debug", "")


def test_pages_are_cached_and_health_checks_never_are(varnish: RunningVarnish) -> None:
    assert [_debug(varnish, "/plain/cached"), _debug(varnish, "/plain/cached")] == ["MISS", "HIT"]
    assert varnish.backend.hits["/plain/cached"] == 1
    for path in ("/health_check.php", LIVENESS_PATH):  # Route 53's deep check; the load balancer's liveness file
        before = varnish.backend.hits[path]
        varnish.request("GET", path)
        varnish.request("GET", path)
        assert varnish.backend.hits[path] == before + 2, path
    # Browsers are told not to keep pages; Magento's tags never leave Varnish.
    _, headers, _ = varnish.request("GET", "/tagged/7")
    assert headers["cache-control"] == "no-store, no-cache, must-revalidate, max-age=0" and "x-magento-tags" not in headers


def test_a_purge_through_the_shoppers_path_is_refused(varnish: RunningVarnish) -> None:
    """Shoppers reach Varnish through nginx from 127.0.0.1, an address the ACL admits: the listener decides."""
    _debug(varnish, "/plain/shopper")
    assert varnish.purge(FLUSH_ALL_PATTERN, port=varnish.main_port) == 405
    assert _debug(varnish, "/plain/shopper") == "HIT"


def test_a_purge_from_outside_the_web_subnets_is_refused(varnish: RunningVarnish) -> None:
    _debug(varnish, "/plain/outsider")
    assert varnish.purge(FLUSH_ALL_PATTERN, source="127.0.0.2") == 405
    assert _debug(varnish, "/plain/outsider") == "HIT"


def test_the_purge_listener_serves_no_pages(varnish: RunningVarnish) -> None:
    assert varnish.request("GET", "/plain/cached", port=varnish.purge_port)[0] == 405


def test_magentos_tag_purge_bans_only_the_pages_carrying_the_tag(varnish: RunningVarnish) -> None:
    for path in ("/tagged/1", "/tagged/2", "/plain/tags"):
        _debug(varnish, path)
    # What Magento sends when product 1 changes (InvalidateVarnishObserver's pattern shape).
    assert varnish.purge("((^|,)cat_p_1(,|$))") == 200
    assert [_debug(varnish, p) for p in ("/tagged/1", "/tagged/2", "/plain/tags")] == ["MISS", "HIT", "HIT"]


def test_a_full_flush_empties_the_cache_untagged_pages_included(varnish: RunningVarnish) -> None:
    for path in ("/tagged/3", "/plain/flush"):
        _debug(varnish, path)
    assert varnish.purge(FLUSH_ALL_PATTERN) == 200
    assert [_debug(varnish, p) for p in ("/tagged/3", "/plain/flush")] == ["MISS", "MISS"]


def test_the_failover_ban_empties_every_varnish_and_names_the_ones_it_could_not_reach(varnish: RunningVarnish, tmp_path: Path) -> None:
    script = tmp_path / "ban-all"
    script.write_text(render_ban_all_script())
    hosts = tmp_path / "hosts"

    def ban(*lines: str) -> subprocess.CompletedProcess[str]:
        hosts.write_text("".join(f"{line}\n" for line in lines))
        return subprocess.run(["bash", str(script)], env={"MAGENTO_DR_VARNISH_HOSTS": str(hosts), "PATH": "/usr/bin:/bin"},  # noqa: S603,S607
                              capture_output=True, text=True, check=False, timeout=60)  # fmt: skip

    _debug(varnish, "/plain/failover")
    # A Varnish that answers, and an instance whose Varnish is not up yet (nothing listens: nothing cached).
    closed = f"127.0.0.1:{free_port()}"
    done = ban(f"127.0.0.1:{varnish.purge_port}", closed)
    assert done.returncode == 0, done.stderr
    assert "1 Varnish cache(s) emptied" in done.stdout and f"nothing listens on {closed}" in done.stdout
    assert _debug(varnish, "/plain/failover") == "MISS"
    # A Varnish that answers but refuses (here: the shoppers' listener) fails the step, named.
    _debug(varnish, "/plain/failover")
    refused = ban(f"127.0.0.1:{varnish.main_port}")
    assert refused.returncode == 1 and f"127.0.0.1:{varnish.main_port}(http 405" in refused.stderr
    assert _debug(varnish, "/plain/failover") == "HIT"
    assert ban().returncode == 1  # no host at all: nothing was emptied


# ---------------------------------------------------------------- a failing deep check (a standby; an outage)
def _wait_for(condition: Callable[[], bool], seconds: float) -> float:
    """Poll `condition` until it holds; returns how long that took (fails the test after `seconds`)."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not within {seconds}s")
        time.sleep(0.1)
    return time.monotonic() - start


def test_the_liveness_file_answers_while_the_deep_check_fails_and_pages_do_not(tmp_path: Path) -> None:
    """A standby's deep check fails by design, a primary's through any database or cache outage. Varnish's probe
    then marks Magento sick and answers 503 for every page; the load balancer's liveness file must still answer,
    or the Auto Scaling group (ELB health checks) replaces every instance of the region, again and again."""
    # Magento's probe shape at test speed (its timing is the next tests' subject; this one's is the liveness file).
    probe = BackendProbe(interval_seconds=1, timeout_seconds=1, window=3, threshold=2)
    with running_varnish(lambda port: _vcl(backend_port=port, probe=probe), tmp_path, deep_check_status=500) as running:
        assert running.request("GET", "/plain/sick")[0] == 503
        assert running.request("GET", PROBE_URL)[0] == 503  # Route 53's deep check stays red
        assert running.request("GET", LIVENESS_PATH)[0] == 200
        assert running.backend.hits[LIVENESS_PATH] == 1  # answered by nginx behind Varnish, not by Varnish
        # The deep check turns green (the outage ends; a promotion): pages flow, the liveness file still answers.
        running.backend.deep_check_status = 200
        _wait_for(lambda: running.request("GET", "/plain/healthy")[0] == 200, probe.healthy_after_seconds + 5)
        assert running.request("GET", LIVENESS_PATH)[0] == 200
        # Still a liveness check of this instance: with Magento's nginx server gone, it fails.
        running.backend.stop()
        assert running.request("GET", LIVENESS_PATH)[0] == 503


def test_magentos_probe_and_what_the_rto_budget_counts_for_it() -> None:
    """Magento's varnish7.vcl probe, rendered as is; after `window` failures Varnish needs `threshold` good probes."""
    assert (MAGENTO_PROBE.interval_seconds, MAGENTO_PROBE.timeout_seconds, MAGENTO_PROBE.window, MAGENTO_PROBE.threshold) == (5, 2, 10, 5)
    assert MAGENTO_PROBE.healthy_after_seconds == 25
    probe = re.search(r"\.probe = \{(.*?)\}", _vcl(), re.DOTALL)
    assert probe is not None
    assert [line.strip() for line in probe.group(1).strip().splitlines()] == [
        f'.url = "{PROBE_URL}";', ".timeout = 2s;", ".interval = 5s;", ".window = 10;", ".threshold = 5;",
    ]  # fmt: skip
    # The liveness file's backend has no probe, and no `probe default` gives it one (vcl-probe(7)).
    liveness = re.search(r"^backend liveness \{(.*?)^\}", _vcl(), re.DOTALL | re.MULTILINE)
    assert liveness is not None and ".probe" not in liveness.group(1) and "probe default" not in _vcl()
    with pytest.raises(VarnishPlanError, match="threshold 11"):
        BackendProbe(window=10, threshold=11)


def test_after_a_window_of_failures_varnish_passes_pages_only_after_threshold_good_probes(tmp_path: Path) -> None:
    """What components/rto.py counts after a promotion: a standby's Varnish has seen its deep check fail for hours,
    so `.initial` (good probes assumed when the VCL loads) is long gone; the same rule at test speed (1 s probes, a
    window of 3, threshold 2)."""
    probe = BackendProbe(interval_seconds=1, timeout_seconds=1, window=3, threshold=2)
    with running_varnish(lambda port: _vcl(backend_port=port, probe=probe), tmp_path, deep_check_status=500) as running:
        _wait_for(lambda: running.backend.hits[PROBE_URL] > probe.window, probe.window * probe.interval_seconds + 10)
        running.backend.deep_check_status = 200
        took = _wait_for(lambda: running.request("GET", "/plain/promoted")[0] == 200, probe.healthy_after_seconds + 10)
    # Never before `threshold` good probes (the first may come at once); at worst the first comes one interval late.
    assert (probe.threshold - 1) * probe.interval_seconds <= took <= probe.healthy_after_seconds + 1.5, took
