"""`ocm transfer` between two registries: its time against a plain copy of the same bytes, and
what a re-run asks of the target.

Two Debian registries on 127.0.0.1, the target behind a proxy that counts requests. The release
is one component version with a 16 MiB local blob and a two-architecture image of 4 layers of
8 MiB each (random bytes, so nothing compresses or deduplicates). The baseline copies exactly
those blobs and manifests, GET then PUT each, with the same registry client, into a fresh
repository: the least any transfer has to do. The transfer adds the descriptors, the reference
walk and skopeo's start.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import tempfile
from collections import Counter
from pathlib import Path

import yaml

from bench.measure import best_time, report
from bot.cli.main import main as cli
from bot.ocm import open_store
from bot.ocm.location import parse_repository
from bot.ocm.registry import RegistryStore
from tests.peers.registry import run_registry
from tests.peers.registry_proxy import run_registry_proxy

LAYER_BYTES = 8 * 1024 * 1024
LAYERS = 4
LOCAL_BYTES = 16 * 1024 * 1024
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
# throughput at least 0.8 of a plain copy: time at most 1.25 of it
TARGETS = {"time": 1.25}


def upstream_release(folder: Path, host: str) -> tuple[str, list[tuple[str, str, bytes]]]:
    """The release in the source registry; its location and every (repository, kind, bytes)
    a copy has to move."""
    store = open_store(parse_repository(f"http://{host}/up"))
    moved: list[tuple[str, str, bytes]] = []
    manifests = []
    for arch in ("amd64", "arm64"):
        layers = []
        for _ in range(LAYERS // 2):
            data = os.urandom(LAYER_BYTES)
            digest = store.put_blob("up/images/app", data, "application/octet-stream")
            layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                           "digest": digest, "size": len(data)})  # fmt: skip
            moved.append(("images/app", "blob", data))
        config = json.dumps({"architecture": arch, "os": "linux"}).encode()
        config_digest = store.put_blob("up/images/app", config, "application/octet-stream")
        moved.append(("images/app", "blob", config))
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST,
                "layers": layers,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": config_digest,
                    "size": len(config),
                },
            }
        ).encode()
        digest = store.put_manifest("up/images/app", f"v1-{arch}", manifest, MANIFEST)
        moved.append(("images/app", "manifest", manifest))
        manifests.append({"mediaType": MANIFEST, "digest": digest, "size": len(manifest),
                          "platform": {"architecture": arch, "os": "linux"}})  # fmt: skip
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}).encode()
    store.put_manifest("up/images/app", "v1", index, INDEX)
    moved.append(("images/app", "index", index))
    local = os.urandom(LOCAL_BYTES)
    (folder / "blob.bin").write_bytes(local)
    moved.append(("component-descriptors/acme.io/app", "blob", local))
    constructor = folder / "constructor.yaml"
    constructor.write_text(yaml.safe_dump({"components": [{
        "name": "acme.io/app", "version": "v1.0.0", "provider": {"name": "acme"},
        "resources": [
            {"name": "app", "version": "v1", "type": "ociImage",
             "access": {"type": "ociArtifact", "imageReference": f"{host}/up/images/app:v1"}},
            {"name": "data", "type": "blob", "input": {"type": "file", "path": "blob.bin"}},
        ],
    }]}))  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli(["ocm", "build", str(constructor), "--to", f"http://{host}/up"]) == 0
    return f"http://{host}/up//acme.io/app:v1.0.0", moved


def plain_copy(host: str, moved: list[tuple[str, str, bytes]]) -> None:
    """The same bytes into a fresh repository, as a copy with no OCM in it would move them."""
    target = RegistryStore(host, plain_http=True)
    prefix = f"plain-{secrets.token_hex(4)}"
    for repository, kind, data in moved:
        if kind == "blob":
            target.put_blob(f"{prefix}/{repository}", data, "application/octet-stream")
        else:
            media = INDEX if kind == "index" else MANIFEST
            target.put_manifest(f"{prefix}/{repository}", secrets.token_hex(4), data, media)


def transfer(location: str, target: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        code = cli(["ocm", "transfer", location, target, "--plain-http-loopback"])
    assert code == 0


def main() -> int:
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        with (
            run_registry(folder / "a") as source,
            run_registry(folder / "b") as target,
            run_registry_proxy(target.host) as proxy,
        ):
            location, moved = upstream_release(folder, source.host)
            total = sum(len(data) for _, _, data in moved)
            base = best_time(lambda: plain_copy(target.host, moved), repeat=3)
            measured = best_time(
                lambda: transfer(location, f"{proxy.host}/mirror-{secrets.token_hex(4)}"),
                repeat=3,
            )
            mirror = f"{proxy.host}/mirror-{secrets.token_hex(4)}"
            transfer(location, mirror)
            proxy.requests.clear()
            transfer(location, mirror)
            again = Counter(method for method, _ in proxy.requests)
    failed = report(
        f"ocm transfer of {total / 2**20:.0f} MiB (an image index, 4 layers, a local blob), "
        "against a plain copy of the same bytes",
        {"time": (measured, base)},
        TARGETS,
    )
    print(f"  throughput {total / measured / 2**20:.0f} MiB/s vs {total / base / 2**20:.0f} MiB/s")
    kinds = ", ".join(f"{method} {n}" for method, n in sorted(again.items()))
    print(f"  a re-run asks the target {sum(again.values())} requests ({kinds}); copies nothing")
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
