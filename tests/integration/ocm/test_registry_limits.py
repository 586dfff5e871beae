"""A registry that lies about sizes, sends too much, trickles or stalls is cut off: the answer
is bounded in bytes and in time, and the failure says which."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from bot.ocm import registry
from bot.ocm.registry import RegistryStore
from bot.ocm.store import StoreError, StoreUnavailable
from tests.peers.net import LOOPBACK, free_port

pytestmark = pytest.mark.peers
Answer = Callable[[http.server.BaseHTTPRequestHandler], None]


@pytest.fixture
def serve() -> Iterator[Callable[[Answer], str]]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(answer: Answer) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path == "/v2/":
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                answer(self)

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer((LOOPBACK, free_port()), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"{LOOPBACK}:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def blob_of(host: str) -> bytes:
    return RegistryStore(host, plain_http=True).get_blob("a/b", "sha256:" + "0" * 64)


def test_an_answer_that_says_it_is_too_large_is_not_read(serve):
    def huge(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(10 * registry.MAX_RESPONSE_BYTES))
        handler.end_headers()
        handler.wfile.write(b"x" * 1024)

    said = f"the answer has {10 * registry.MAX_RESPONSE_BYTES} bytes"
    with pytest.raises(StoreError, match=said):
        blob_of(serve(huge))


def test_an_answer_that_grows_past_the_limit_is_cut_off(serve, monkeypatch):
    monkeypatch.setattr(registry, "MAX_RESPONSE_BYTES", 256 * 1024)

    def endless(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(100):
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass  # the bot hung up, as it should

    with pytest.raises(StoreError, match="larger than 262144 bytes"):
        blob_of(serve(endless))


def test_a_trickling_answer_is_given_up_after_the_total_time(serve, monkeypatch):
    monkeypatch.setattr(registry, "TOTAL_SECONDS", 0.5)

    def trickle(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        try:
            for _ in range(100):
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass

    with pytest.raises(StoreUnavailable, match=r"took longer than [01] s"):
        blob_of(serve(trickle))


def test_a_stalled_answer_times_out_as_a_temporary_failure(serve, monkeypatch):
    monkeypatch.setattr(registry, "TIMEOUT", (1.0, 0.3))
    release = threading.Event()

    def stall(handler: http.server.BaseHTTPRequestHandler) -> None:
        release.wait(5)

    try:
        with pytest.raises(StoreUnavailable):
            blob_of(serve(stall))
    finally:
        release.set()


def test_a_manifest_is_held_to_its_own_smaller_limit(serve):
    size = registry.MAX_MANIFEST_BYTES + 1

    def large(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        with contextlib.suppress(OSError):
            handler.wfile.write(b"x" * size)

    host = serve(large)
    store = RegistryStore(host, plain_http=True)
    with pytest.raises(StoreError, match=f"the answer has {size} bytes; at most {size - 1}"):
        store.get_manifest("a/b", "v1")
    digest = "sha256:" + hashlib.sha256(b"x" * size).hexdigest()
    assert len(store.get_blob("a/b", digest)) == size  # a blob of that size is read


def test_a_blob_that_is_not_its_digest_is_refused_while_it_comes(serve):
    def other(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "5")
        handler.end_headers()
        handler.wfile.write(b"other")

    with pytest.raises(StoreError, match=r"is not the blob sha256:0+ \(its digest differs\)"):
        blob_of(serve(other))


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (503, b"", StoreUnavailable),  # failing on its side
        (200, b'{"tags": ["v0.0.1", ', StoreUnavailable),  # a body broken off
        (400, b"", StoreError),  # refusing the request: tried once
    ],
)
def test_a_tag_list_is_tried_again_while_the_registry_fails(serve, monkeypatch, status, body, kind):
    monkeypatch.setattr(registry, "READ_BACKOFF_SECONDS", 0.0)
    asked = []

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        asked.append(handler.path)
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    with pytest.raises(kind) as raised:
        RegistryStore(serve(answer), plain_http=True).list_tags("a/b")
    assert type(raised.value) is kind
    assert len(asked) == (registry.READ_ATTEMPTS if kind is StoreUnavailable else 1)
