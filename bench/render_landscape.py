"""Rendering whole landscapes from a real registry with a warm cache, and where the time goes.

Two landscapes: the reference test case, and the same with 25 cluster providers (each with an
image and a CRD resource). Each render is split into its phases: OCM (resolve the graph and
read the directory resources through the warm disk cache), templating (the pure renderer) and
kustomize (building `envs/<env>` and `envs/<env>/fluxcd`). The baseline is one plain
`kubectl kustomize` of the rendered `envs/<env>/fluxcd`, the least any checked render costs.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bench.measure import best_time, report
from bot.adapters.kustomize import build, build_files
from bot.core.config import load_bootstrap_config
from bot.core.fileset import FileSet
from bot.core.render import landscape_sources, render_landscape
from bot.ocm import open_reader, open_store
from bot.ocm.builder import build as build_components
from bot.ocm.location import parse_location, parse_repository
from bot.services.pipeline import fetch_graph, kustomize_directories
from tests.peers.registry import run_registry
from tests.reference_case import CASE, ROOT_COMPONENT, config_text, landscape_tree

PROVIDERS = 25
TARGETS = {"time": 2.5}  # a whole checked render within 2.5x one bare kustomize build


def many_providers(folder: Path) -> tuple[Path, str]:
    """A copy of the reference constructor with PROVIDERS more cluster providers, and a config
    naming them all."""
    shutil.copytree(CASE, folder / "case")
    crds = folder / "case" / "crds" / "bench"
    crds.mkdir()
    spec: dict[str, Any] = yaml.safe_load((CASE / "component-constructor.yaml").read_text())
    root = spec["components"][0]
    for i in range(PROVIDERS):
        name = f"github.com/openmcp-project/cluster-provider-p{i}"
        (crds / f"p{i}.platform.yaml").write_text(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
            f"  name: things{i}.p{i}.openmcp.cloud\n  labels:\n"
            "    openmcp.cloud/cluster: platform\n"
            f"spec:\n  group: p{i}.openmcp.cloud\n  names: {{kind: Thing, plural: things{i}}}\n"
            "  scope: Cluster\n  versions: []\n"
        )
        root["componentReferences"].append(
            {"name": f"cluster-provider-p{i}", "componentName": name, "version": "v1.0.0"}
        )
        spec["components"].append({
            "name": name, "version": "v1.0.0", "provider": {"name": "bench"},
            "resources": [
                {"name": f"cluster-provider-p{i}-image", "type": "ociImage", "version": "v1.0.0",
                 "access": {"type": "ociArtifact",
                            "imageReference": f"ghcr.io/bench/cluster-provider-p{i}:v1.0.0"}},
                {"name": f"cluster-provider-p{i}-crds", "type": "fileSystem", "version": "v1.0.0",
                 "input": {"type": "dir", "path": "./crds/bench"}},
            ],
        })  # fmt: skip
    constructor = folder / "case" / "component-constructor.yaml"
    constructor.write_text(yaml.safe_dump(spec, sort_keys=False))
    entry = "    - name: p{i}\n      config: {{verbosity: info}}\n"
    extra = "".join(entry.format(i=i) for i in range(PROVIDERS))
    return constructor, extra


def measure(name: str, repository: str, cache: Path, extra_providers: str) -> dict[str, float]:
    text = config_text(f"{repository}//{ROOT_COMPONENT}:v0.0.1").replace(
        "        verbosity: info\n", "        verbosity: info\n" + extra_providers, 1
    )
    tree = landscape_tree(text)
    config = load_bootstrap_config(text).config
    location = parse_location(config.component.location)
    sources = landscape_sources(tree)
    phases: dict[str, float] = {}

    def ocm() -> Any:
        reader = open_reader(location.repository, plain_http_loopback=True, cache_dir=cache)
        return fetch_graph(config, reader, location.component, location.version or "")

    graph, directories = ocm()
    phases["ocm"] = best_time(ocm, 3)

    def templating() -> Any:
        return render_landscape(config, graph, directories, sources.extra_manifests,
                                sources.patches)  # fmt: skip

    rendering = templating()
    phases["templating"] = best_time(templating, 3)
    phases["kustomize"] = best_time(
        lambda: build_files(rendering.files, kustomize_directories(config)), 3
    )
    with tempfile.TemporaryDirectory() as scratch:
        for path, data in rendering.files.items():
            (Path(scratch) / path).parent.mkdir(parents=True, exist_ok=True)
            (Path(scratch) / path).write_bytes(data)
        phases["baseline"] = best_time(lambda: build(Path(scratch) / "envs/dev/fluxcd"), 3)
    total = phases["ocm"] + phases["templating"] + phases["kustomize"]
    files = len(FileSet(rendering.files))
    shares = ", ".join(f"{p} {phases[p] / total:.0%}" for p in ("ocm", "templating", "kustomize"))
    print(f"{name}: {files} files in {total * 1000:.0f} ms; {shares}")  # fmt: skip
    phases["total"] = total
    return phases


def main() -> int:
    failed = 0
    with tempfile.TemporaryDirectory() as tmp, run_registry(Path(tmp) / "registry") as registry:
        folder = Path(tmp)
        for name, (constructor, extra) in {
            "reference landscape": (CASE / "component-constructor.yaml", ""),
            f"landscape with {PROVIDERS + 1} cluster providers": many_providers(folder),
        }.items():
            prefix = "bench-many" if extra else "bench-reference"
            repository = f"{registry.host}/{prefix}"
            build_components(constructor, open_store(parse_repository(f"http://{repository}")),
                             prefix=prefix)  # fmt: skip
            phases = measure(name, repository, folder / f"cache-{prefix}", extra)
            failed |= report(
                "  checked render (warm cache) vs one `kubectl kustomize` of fluxcd:",
                {"time": (phases["total"], phases["baseline"])},
                TARGETS,
            )
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
