"""A real varnishd for the tests: the binary (Debian's `varnish`, installed by `make varnish-tools`), `-C`
compilation, and a running instance with the project's VCL in front of a stub Magento backend whose deep
check (health_check.php) answers 200 or, like a standby's or an outage's, 500."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from components.varnish import MAIN_LISTENER, PROBE_URL, PURGE_LISTENER, varnishd_arguments


def varnishd() -> str:
    """The varnishd binary. A missing one fails the test (a skipped compile test would prove nothing)."""
    found = shutil.which("varnishd") or next((p for p in ("/usr/sbin/varnishd", "/usr/local/sbin/varnishd") if os.access(p, os.X_OK)), None)
    if found is None:
        pytest.fail("varnishd not found: run `make varnish-tools` (installs Debian's varnish package), or `make test`, which does")
    return found


@dataclass(frozen=True)
class Compiled:
    ok: bool
    message: str


def compile_vcl(vcl: str, directory: Path) -> Compiled:
    """`varnishd -C -f <absolute path>`: exit 0 and no 'VCL compilation failed' means the VCL compiles."""
    path = (directory / "test.vcl").resolve()
    path.write_text(vcl)
    # -j none: read the file as whoever runs the tests (as root, varnishd would read it as its jail user).
    result = subprocess.run([varnishd(), "-C", "-j", "none", "-f", str(path)], capture_output=True, text=True, check=False, timeout=120)  # noqa: S603
    failed = result.returncode != 0 or "VCL compilation failed" in result.stderr
    # On success the C code goes to stderr; on failure only the compiler's message does.
    return Compiled(ok=not failed, message=result.stderr if failed else "")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class StubMagento:
    """Magento's answers as Varnish sees them: cacheable tagged and untagged pages, the health checks."""

    deep_check_status: int = 200
    """What health_check.php answers: 500 is Magento's answer when its database or a cache is unreachable."""
    hits: Counter[str] = field(default_factory=Counter)
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    def start(self) -> None:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub.hits[self.path] += 1
                headers = {"Content-Type": "text/html; charset=UTF-8", "Cache-Control": "public, max-age=86400"}
                if self.path.startswith("/tagged/"):
                    headers["X-Magento-Tags"] = "store,cms_b,cat_p_" + self.path.rsplit("/", 1)[-1]
                body = f"{self.path} #{stub.hits[self.path]}".encode()
                self.send_response(stub.deep_check_status if self.path == PROBE_URL else 200)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@dataclass
class RunningVarnish:
    main_port: int
    purge_port: int
    process: subprocess.Popen[str]
    backend: StubMagento

    def request(self, method: str, path: str, *, port: int | None = None, source: str = "127.0.0.1",
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", port or self.main_port, timeout=10, source_address=(source, 0))
        try:
            conn.request(method, path, headers={"X-Forwarded-Proto": "https", **(headers or {})})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
        finally:
            conn.close()

    def purge(self, pattern: str, *, port: int | None = None, source: str = "127.0.0.1") -> int:
        return self.request("PURGE", "/", port=port or self.purge_port, source=source, headers={"X-Magento-Tags-Pattern": pattern})[0]


@contextmanager
def running_varnish(vcl_for_backend_port: object, workdir: Path, *, deep_check_status: int = 200) -> Iterator[RunningVarnish]:
    """varnishd with the project's own command line (components/varnish.varnishd_arguments), on loopback ports.

    `vcl_for_backend_port(port) -> str` renders the VCL for the stub backend's port. Yields once Varnish's probe
    has judged the stub: with a healthy deep check, once a page comes through; with a failing one, once a probe
    has reached the stub and Varnish answers."""
    backend = StubMagento(deep_check_status=deep_check_status)
    backend.start()
    vcl = workdir / "running.vcl"
    vcl.write_text(vcl_for_backend_port(backend.port))  # type: ignore[operator]
    main, purge = free_port(), free_port()
    args = varnishd_arguments(vcl_path=str(vcl.resolve()), malloc="64m", main=f"127.0.0.1:{main}", purge=f"127.0.0.1:{purge}")
    assert args[2:6] == ["-a", f"{MAIN_LISTENER}=127.0.0.1:{main},HTTP", "-a", f"{PURGE_LISTENER}=127.0.0.1:{purge},HTTP"]
    # -j none: no privilege separation (runs as whoever runs the tests); -n: a private working directory.
    command = [varnishd(), *args[1:], "-j", "none", "-n", str((workdir / "varnishd").resolve())]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # noqa: S603
    running = RunningVarnish(main, purge, process, backend)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"varnishd exited {process.returncode}: {process.stdout.read() if process.stdout else ''}")
            try:
                if deep_check_status == 200:  # a page comes through: the probe has seen the backend healthy
                    if running.request("GET", PROBE_URL)[0] == 200:
                        break
                elif backend.hits[PROBE_URL] and running.request("GET", "/")[0]:  # probed, and Varnish answers
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"varnishd did not judge the backend (deep check {deep_check_status}) within 30 s")
            time.sleep(0.2)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        backend.stop()
