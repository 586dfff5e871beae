"""A pass-through proxy in front of the real registry, for what distribution 2.8 does not do.

- `page`: tag lists are answered `page` tags at a time, sorted, with a `Link: <…>; rel="next"`
  header, as GHCR does;
- `requests` lists every request that reached it (method and path), so tests and benchmarks
  count what a client really sent;
- `failing`: while set, every request is answered 503, as a registry in an outage;
- `delay`: seconds every answer waits, as a slow registry's;
- `chaos`: random faults drawn per request (`tests.peers.chaos`): a 500 or 503, a stall past
  the client's read timeout, a body cut short, a connection dropped unanswered.

Every other request is forwarded to the registry unchanged.
"""

from __future__ import annotations

import http.client
import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlparse

from tests.peers.chaos import Chaos, drop, refuse
from tests.peers.net import LOOPBACK, free_port

CHAOS_KINDS = ("500", "503", "stall", "truncated", "reset")
STALL_SECONDS = 3.0


@dataclass
class RegistryProxy:
    host: str = ""  # "127.0.0.1:PORT"
    requests: list[tuple[str, str]] = field(default_factory=list)
    failing: bool = False
    delay: float = 0.0
    chaos: Chaos | None = None


@contextmanager
def run_registry_proxy(upstream: str, *, page: int | None = None) -> Iterator[RegistryProxy]:
    """Serve on a free loopback port in front of `upstream` (host:port)."""
    up_host, _, up_port = upstream.partition(":")
    proxy = RegistryProxy()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _forward(self) -> tuple[int, list[tuple[str, str]], bytes]:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            connection = http.client.HTTPConnection(up_host, int(up_port), timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                connection.request(self.command, self.path.split("?")[0] + (
                    "" if "/tags/list" in self.path else ("?" + self.path.split("?", 1)[1]
                                                          if "?" in self.path else "")),
                    body=body, headers=headers)  # fmt: skip
                response = connection.getresponse()
                return response.status, response.getheaders(), response.read()
            finally:
                connection.close()

        def _handle(self) -> None:
            proxy.requests.append((self.command, self.path))
            fault = None if proxy.chaos is None else proxy.chaos.draw("registry", CHAOS_KINDS)
            if proxy.failing or fault in ("500", "503"):
                refuse(self, 500 if fault == "500" else 503)
                return
            if fault == "reset":
                drop(self)
                return
            if fault == "stall":
                time.sleep(STALL_SECONDS)
            time.sleep(proxy.delay)
            status, headers, body = self._forward()
            url = urlparse(self.path)
            if page is not None and url.path.endswith("/tags/list") and status == 200:
                tags = sorted(json.loads(body).get("tags") or [])
                last = parse_qs(url.query).get("last", [""])[0]
                rest = [t for t in tags if t > last] if last else tags
                chunk = rest[:page]
                body = json.dumps({"name": url.path[4:-10], "tags": chunk}).encode()
                headers = [("Content-Type", "application/json")]
                if len(rest) > page:
                    query = urlencode({"n": page, "last": chunk[-1]})
                    headers.append(("Link", f'<{url.path}?{query}>; rel="next"'))
            self.send_response(status)
            for key, value in headers:
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                # a truncated body says its whole length and stops half way
                self.wfile.write(body[: len(body) // 2] if fault == "truncated" else body)
            if fault == "truncated":
                self.close_connection = True

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = _handle

    server = http.server.ThreadingHTTPServer((LOOPBACK, free_port()), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="registry-proxy", daemon=True)
    thread.start()
    proxy.host = f"{LOOPBACK}:{server.server_address[1]}"
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
