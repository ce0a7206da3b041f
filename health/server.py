"""``GET /healthz`` and ``GET /metrics`` over plain http.server, from a daemon thread.

Meant for 127.0.0.1 (a local Prometheus, a load balancer's check through a proxy): it serves
no personal data, only collector names, states and counts, and takes no input but the path.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from pengaduan.health.metrics import make_registry
from pengaduan.health.snapshot import read_snapshot
from pengaduan.settings import Settings
from pengaduan.store.db import Store

log = logging.getLogger("pengaduan.health")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def healthz(
    store: Store, settings: Settings, now: datetime, watching_since: datetime
) -> tuple[int, dict[str, Any]]:
    """The status code and JSON body of /healthz."""
    try:
        with store.transaction() as conn:
            snap = read_snapshot(conn, settings, now, watching_since)
    except Exception as exc:
        log.warning("healthz: the store could not be read (%s)", type(exc).__name__)
        return 503, {"status": "unhealthy", "store": "unreachable", "unhealthy": []}
    unhealthy = [v.as_json() for v in snap.verdicts if not v.healthy]
    body = {
        "status": "ok" if not unhealthy else "unhealthy",
        "store": "ok",
        "checked_at": now.isoformat(),
        "collectors": {v.collector: v.state for v in snap.verdicts},
        "unhealthy": unhealthy,
    }
    return (200 if not unhealthy else 503), body


class HealthServer:
    """The endpoint; ``start()`` serves from a daemon thread, ``stop()`` ends it."""

    def __init__(
        self, store: Store, settings: Settings, host: str, port: int,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.watching_since = clock()
        self.registry = make_registry(store, settings, clock, self.watching_since)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    code, body = healthz(server.store, server.settings, server.clock(),
                                         server.watching_since)
                    self._send(code, "application/json", json.dumps(body).encode())
                elif path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(server.registry))
                else:
                    self._send(404, "text/plain; charset=utf-8", b"not found: /healthz, /metrics\n")

            def _send(self, code: int, content_type: str, data: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # a scrape every 15 s is not news; errors are logged where they happen

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, name="pengaduan-health", daemon=True
        )
        self.thread.start()
        log.info("health endpoint on http://%s:%d/healthz and /metrics", *self.address)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)
