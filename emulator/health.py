"""Loopback stand-in for each region's shop health endpoint (``/health_check.php``).

``HealthEndpoints().url(region)`` gives ``http://127.0.0.1:<port>/<region>/health_check.php``.
A dark region drops the connection without a response (the client sees a
connection reset, like an unreachable region); :meth:`set_healthy` makes a
reachable region answer 503.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .state import STATE


class HealthEndpoints:
    def __init__(self) -> None:
        self._unhealthy: set[str] = set()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = [p for p in self.path.split("/") if p]
                region = parts[0] if parts else ""
                if STATE.is_dark(region):
                    if STATE.dark_costs_timeout:
                        STATE.advance(STATE.dark_http_seconds)  # the prober waited out its timeout
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                code = 503 if region in owner._unhealthy else 200
                body = b"OK" if code == 200 else b"FAIL"
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # shutdown() waits for serve_forever's next poll: 50 ms, not the default half second, per drill.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, region: str) -> str:
        return f"http://127.0.0.1:{self.port}/{region}/health_check.php"

    def set_healthy(self, region: str, healthy: bool = True) -> None:
        if healthy:
            self._unhealthy.discard(region)
        else:
            self._unhealthy.add(region)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
