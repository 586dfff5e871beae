"""The egress policy where the sockets are opened: against the real registry on loopback, and
a registry that redirects elsewhere."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial

import pytest

from bot.core.config import CONFIG_PATH
from bot.ocm.egress import EgressPolicy, EgressRefused
from bot.ocm.location import Repository
from bot.ocm.registry import RegistryStore
from bot.ocm.store import NotFound
from bot.services.pipeline import LandscapeError, render_tree
from bot.services.registries import open_landscape_reader
from bot.settings import RegistrySettings, Settings
from tests.peers.net import LOOPBACK, free_port
from tests.reference_case import ROOT_COMPONENT, config_text, landscape_tree

pytestmark = pytest.mark.peers


def test_a_loopback_registry_is_reached_only_when_the_operator_allows_it(oci_registry):
    refused = RegistryStore(oci_registry.host, plain_http=True, egress=EgressPolicy())
    with pytest.raises(EgressRefused, match=f"resolves to {LOOPBACK}, which is not a public"):
        refused.list_tags("any/thing")
    allowed = RegistryStore(oci_registry.host, plain_http=True, egress=EgressPolicy(loopback=True))
    with pytest.raises(NotFound, match="repository any/thing not in"):  # reached: it has none
        allowed.list_tags("any/thing")


def test_a_name_that_resolves_to_loopback_is_refused_too(oci_registry):
    port = oci_registry.host.rsplit(":", 1)[1]
    store = RegistryStore(f"localhost:{port}", plain_http=True, egress=EgressPolicy())
    with pytest.raises(EgressRefused, match="registry localhost resolves to"):
        store.list_tags("any/thing")


def test_a_registry_the_operator_does_not_list_is_refused_before_any_request():
    with pytest.raises(EgressRefused, match=r"registry\.allowed"):
        RegistryStore("evil.test", egress=EgressPolicy(allowed=("ghcr.io",)))


class _Server(http.server.ThreadingHTTPServer):
    hits: int = 0


def _serve(answer: int, location: str = "") -> Iterator[_Server]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.server.hits += 1  # type: ignore[attr-defined]
            self.send_response(answer)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = _Server((LOOPBACK, free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def inner() -> Iterator[_Server]:
    yield from _serve(200)


@pytest.fixture
def redirecting(inner: _Server) -> Iterator[_Server]:
    yield from _serve(307, f"http://{LOOPBACK}:{inner.server_address[1]}/v2/")


def test_a_redirect_to_an_address_not_allowed_is_refused(redirecting, inner):
    host = f"{LOOPBACK}:{redirecting.server_address[1]}"
    store = RegistryStore(host, plain_http=True, egress=EgressPolicy(private=(host,)))
    with pytest.raises(EgressRefused, match=f"{LOOPBACK}, which is not a public address"):
        store.list_tags("any/thing")
    assert redirecting.hits == 1 and inner.hits == 0


def test_the_bot_reads_a_landscape_s_registry_under_the_operator_s_policy(oci_registry, tmp_path):
    repository = Repository("oci", host=oci_registry.host, prefix="landscape", plain_http=True)
    settings = Settings(cache_dir=tmp_path, registry=RegistrySettings())
    reader = open_landscape_reader(settings, repository)
    with pytest.raises(EgressRefused, match=r"registry\.private"):
        reader.list_versions(ROOT_COMPONENT)


def test_a_refused_registry_is_told_where_component_location_is_written(tmp_path):
    settings = Settings(cache_dir=tmp_path, registry=RegistrySettings(allowed=["ghcr.io"]))
    text = config_text(f"evil.test/landscape//{ROOT_COMPONENT}:v0.0.1")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "location:" in t)
    column = text.splitlines()[line - 1].index("evil.test") + 1
    with pytest.raises(LandscapeError) as caught:
        render_tree(landscape_tree(text), partial(open_landscape_reader, settings))
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (CONFIG_PATH, line, column)
    assert "registry.allowed" in problem.message
