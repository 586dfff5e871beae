"""The worst case of each kind of hostile input, against a normal render of the reference
landscape measured in the same run.

The baseline is `render_tree` of the reference landscape from a real registry (warm cache, both
kustomize builds included). Each case is what a pull request author, or a registry a config
names, can send at its worst: it must be refused (a case that renders is a failure of this
benchmark), and the time until the refusal and the peak memory of Python's allocations
(tracemalloc; kustomize runs in its own process and is not counted) are printed as ratios of
the baseline's. Peers that are merely slow are bounded by time, not measured here: their
refusal takes as long as their timeout by design (README, "Security").
"""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pygit2
import yaml

from bench.measure import best_time, peak_memory
from bot.adapters.gitrepo import GitRepository
from bot.core.commands import parse_comment
from bot.core.discovery import read_discovery
from bot.core.failures import Failure
from bot.ocm import open_reader, open_store
from bot.ocm.builder import build as build_components
from bot.ocm.layout import CONFIG, MANIFEST
from bot.ocm.location import Repository, parse_repository
from bot.ocm.reader import ComponentReader
from bot.server.webhook import accept_delivery
from bot.services.pipeline import render_tree
from tests.peers.github.payloads import delivery_headers
from tests.peers.net import LOOPBACK, free_port
from tests.peers.registry import run_registry
from tests.reference_case import CASE, ROOT_COMPONENT, config_text, landscape_tree

TARGETS = {"time": 3.0, "memory": 1.5}
SECRET = "bench-secret"
Case = Callable[[], object]


# --- what a pull request author writes ------------------------------------------------------


def config_case(text: str | bytes, location: str) -> Callable[[Callable[..., Any]], Case]:
    """A landscape whose config is `text` (`{location}` filled in)."""
    if isinstance(text, str):
        text = text.replace("{location}", location).encode()
    tree = landscape_tree("") | {".bootstrap/config.yaml": text}
    return lambda reader: partial(render_tree, tree, reader)


def extra_manifest_case(template: str, location: str) -> Callable[[Callable[..., Any]], Case]:
    """The reference landscape with one extra manifest (extra manifests are templates)."""
    tree = landscape_tree(config_text(location))
    tree |= {".bootstrap/extra-manifests/hostile.yaml": template.encode()}
    return lambda reader: partial(render_tree, tree, reader)


def laughs(levels: int) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * 9)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def author_cases(location: str) -> dict[str, Callable[[Callable[..., Any]], Case]]:
    config = config_text("{location}")
    return {
        "config nested 100,000 deep": config_case(
            config + "x: " + "[" * 100_000 + "]" * 100_000 + "\n", location
        ),
        "config: billion laughs (9^30)": config_case(laughs(30) + config, location),
        "config 1 MiB past its limit": config_case(config + "#" * (1 << 20) + "\n", location),
        "config in UTF-16": config_case(
            config.replace("{location}", location).encode("utf-16"), location
        ),
        "template: repeat 1e9": extra_manifest_case('x: {{ repeat 1000000000 "x" }}\n', location),
        "template: 1e8 loop steps": extra_manifest_case(
            "{{ range until 10000 }}{{ range until 10000 }}{{ end }}{{ end }}x: 1\n", location
        ),
        "template: output without end": extra_manifest_case(
            '{{ range until 10000 }}{{ repeat 100000 "x" }}{{ end }}\n', location
        ),
        "template: regex (a+)+$ on 100 kB": extra_manifest_case(
            '{{ if regexMatch "(a+)+$" (printf "%s!" (repeat 100000 "a")) }}{{ fail "x" }}'
            '{{ end }}{{ fail "matched nothing, as Go" }}\n',
            location,
        ),
        "template: fromJson 100,000 deep": extra_manifest_case(
            '{{ mustFromJson (printf "%s%s" (repeat 100000 "[") (repeat 100000 "]")) }}\n',
            location,
        ),
    }


# --- what a registry a config names serves --------------------------------------------------


class _Hostile(http.server.ThreadingHTTPServer):
    daemon_threads = True
    mode = "endless"


class _Answer(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Hostile

    def do_GET(self) -> None:
        if self.path == "/v2/":
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", MANIFEST)
        if self.server.mode == "endless blob" and "/manifests/" in self.path:
            body = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST, "layers": [],
                               "config": {"mediaType": CONFIG, "digest": "sha256:" + "0" * 64,
                                          "size": 1}}).encode()  # fmt: skip
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.server.mode == "lying":
            self.send_header("Content-Length", str(10 << 30))
            self.end_headers()
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b" " * 65536
        with contextlib.suppress(OSError):
            for _ in range(2048):  # 128 MiB unless cut off
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def hostile_registry() -> Iterator[_Hostile]:
    server = _Hostile((LOOPBACK, free_port()), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def deep_chain(registry_host: str, folder: Path, depth: int) -> str:
    """A release whose references go `depth` deep, built into the real registry."""
    components = [
        {"name": f"acme.io/c{i}", "version": "v1.0.0", "provider": {"name": "acme"},
         "componentReferences": [{"name": f"r{i + 1}", "componentName": f"acme.io/c{i + 1}",
                                  "version": "v1.0.0"}] if i < depth else []}
        for i in range(depth + 1)
    ]  # fmt: skip
    constructor = folder / "deep-constructor.yaml"
    constructor.write_text(yaml.safe_dump({"components": components}))
    build_components(constructor, open_store(parse_repository(f"http://{registry_host}/deep")),
                     prefix="deep")  # fmt: skip
    return f"{registry_host}/deep"


def gzip_bomb(registry_host: str, folder: Path) -> str:
    """The reference release with its fluxcd templates replaced by a tar of zeros that expands
    past the directory limit (a few hundred kB on the wire)."""
    case = folder / "bomb-case"
    if not case.exists():
        shutil.copytree(CASE, case)
        spec = yaml.safe_load((case / "component-constructor.yaml").read_text())
        bomb = case / "bomb"
        bomb.mkdir()
        (bomb / "zeros.yaml").write_bytes(bytes(80 << 20))
        for component in spec["components"]:
            for resource in component.get("resources") or []:
                if resource["name"] == "fluxcd" and "input" in resource:
                    resource["input"].update(path="./bomb", compress=True)
        (case / "component-constructor.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    store = open_store(parse_repository(f"http://{registry_host}/bomb"))
    build_components(case / "component-constructor.yaml", store, prefix="bomb")
    return f"{registry_host}/bomb"


# --- what reaches the server and git --------------------------------------------------------


def signed_deep_body() -> Case:
    body = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    headers = delivery_headers("push", body, SECRET)
    return partial(accept_delivery, headers, body, secret=SECRET)


def huge_file_branch(folder: Path) -> Case:
    """A branch with a 32 MiB file (GitHub takes up to 100 MB), read from the bot's cache."""
    bare = folder / "huge.git"
    repo = pygit2.init_repository(str(bare), bare=True)
    blob = repo.create_blob(bytes(32 << 20))
    builder = repo.TreeBuilder()
    builder.insert("huge.bin", blob, pygit2.enums.FileMode.BLOB)
    signature = pygit2.Signature("a", "a@example.com")
    commit = repo.create_commit("refs/heads/main", signature, signature, "m", builder.write(), [])
    cache = GitRepository(bare, "https://example.invalid/unused.git")
    return partial(cache.read_tree, str(commit))


def discovery_cases() -> dict[str, Case]:
    entries = "".join(f"  - branch: b{i}\n" for i in range(20_000))
    return {
        "discovery nested 100,000 deep": partial(
            read_discovery, "landscapes:\n  - " + "[" * 100_000 + "\n"
        ),
        "discovery with 20,000 landscapes": partial(read_discovery, "landscapes:\n" + entries),
    }


def thousand_commands() -> Case:
    body = "\n".join(f"/bootstrap render {'x' * 500}" for _ in range(1000))
    return partial(parse_comment, body, author_type="User")


# --- measuring ------------------------------------------------------------------------------


def refusing(name: str, run: Case) -> Case:
    """`run`, which must refuse (raise a Failure or say so in its result)."""

    def check() -> object:
        try:
            result = run()
        except Failure:
            return None
        problems = getattr(result, "problems", None)
        if problems or isinstance(result, list):
            return result  # discovery and comments report what they left out
        raise AssertionError(f"{name}: was not refused")

    return check


def main() -> int:
    failed = 0
    with (
        tempfile.TemporaryDirectory() as tmp,
        run_registry(Path(tmp) / "registry") as registry,
        hostile_registry() as hostile,
    ):
        folder = Path(tmp)
        store = open_store(parse_repository(f"http://{registry.host}/ref"))
        build_components(CASE / "component-constructor.yaml", store, prefix="ref")
        location = f"{registry.host}/ref//{ROOT_COMPONENT}:v0.0.1"
        cache = folder / "cache"

        def reader(repository: Repository) -> ComponentReader:
            return open_reader(repository, plain_http_loopback=True, cache_dir=cache)

        normal_tree = landscape_tree(config_text(location))
        render_tree(normal_tree, reader)  # warm the cache
        base_time = best_time(lambda: render_tree(normal_tree, reader), 3)
        base_memory = peak_memory(lambda: render_tree(normal_tree, reader))
        print(f"baseline: the reference landscape renders in {base_time * 1000:.0f} ms, "
              f"{base_memory / 1024:.0f} KiB at its peak")  # fmt: skip

        cases: dict[str, Case] = {
            name: make(reader) for name, make in author_cases(location).items()
        }
        chain = deep_chain(registry.host, folder, 33)
        cases["release 33 references deep"] = partial(
            render_tree, landscape_tree(config_text(f"{chain}//acme.io/c0:v1.0.0")), reader
        )
        bomb = gzip_bomb(registry.host, folder)
        cases["directory resource: gzip bomb"] = partial(
            render_tree, landscape_tree(config_text(f"{bomb}//{ROOT_COMPONENT}:v0.0.1")),
            partial(open_reader, plain_http_loopback=True, cache_dir=None),
        )  # fmt: skip
        hostile_location = f"{LOOPBACK}:{hostile.server_address[1]}/evil//{ROOT_COMPONENT}:v1"
        hostile_tree = landscape_tree(config_text(hostile_location))
        for mode, title in (
            ("endless", "manifest without end"),
            ("endless blob", "blob without end"),
            ("lying", "manifest said 10 GiB"),
        ):

            def served(mode: str = mode) -> object:
                hostile.mode = mode
                return render_tree(hostile_tree, partial(open_reader, plain_http_loopback=True,
                                                         cache_dir=None))  # fmt: skip

            cases[f"registry: {title}"] = served
        cases["signed delivery nested 100,000 deep"] = signed_deep_body()
        cases["branch with a 32 MiB file"] = huge_file_branch(folder)
        cases |= discovery_cases()
        cases["comment with 1,000 commands"] = thousand_commands()

        print(f"  {'worst case':38} {'time':>9} {'ratio':>6} {'memory':>10} {'ratio':>6}")
        for name, run in cases.items():
            check = refusing(name, run)
            check()
            spent = best_time(check, 3)
            peak = peak_memory(check)
            ratios = {"time": spent / base_time, "memory": peak / base_memory}
            over = [k for k, v in ratios.items() if v > TARGETS[k]]
            failed |= bool(over)
            verdict = "ok" if not over else "OVER TARGET (" + ", ".join(over) + ")"
            print(f"  {name:38} {spent * 1000:7.0f}ms {ratios['time']:6.2f} "
                  f"{peak / 1024:8.0f}KiB {ratios['memory']:6.2f}  {verdict}")  # fmt: skip
        print(f"  targets: time <= {TARGETS['time']:g}x, memory <= {TARGETS['memory']:g}x")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
