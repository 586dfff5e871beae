"""openmcp-bootstrapper's manage-deployment-repo test case 01, as inputs for bootstrap-bot.

The component graph comes from `component-constructor.yaml`, either in memory (for the pure
renderer) or built into a real repository by the tests that need one. `expected_tree` is the
Go tool's output after the placeholder substitution its own test makes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from bot.core.fileset import FileSet
from bot.ocm.graph import ComponentGraph
from bot.ocm.model import parse_descriptor

CASE = Path(__file__).parent / "fixtures" / "bootstrapper" / "manage-deployment-repo-01"
EXPECTED = CASE / "expected-repo"
ROOT_COMPONENT = "github.com/openmcp-project/openmcp"
ROOT_VERSION = "v0.0.1"
ORIGIN = "https://git.example/org/landscape.git"


def directory(path: Path) -> FileSet:
    return FileSet(
        (p.relative_to(path).as_posix(), p.read_bytes()) for p in path.rglob("*") if p.is_file()
    )


def constructor_graph(
    repository: str, constructor: Path = CASE / "component-constructor.yaml"
) -> tuple[ComponentGraph, dict[tuple[str, str, str], FileSet]]:
    """The graph of a component-constructor file, and its `dir` inputs as directory resources."""
    components: list[dict[str, Any]] = yaml.safe_load(constructor.read_text())["components"]
    versions = {}
    directories = {}
    for spec in components:
        resources = []
        for resource in spec.get("resources") or []:
            entry = {k: v for k, v in resource.items() if k != "input"}
            if "input" in resource:
                entry["access"] = {
                    "type": "localBlob",
                    "localReference": "sha256:0",
                    "mediaType": "application/x-tar",
                }
                key = (spec["name"], spec["version"], resource["name"])
                directories[key] = directory(constructor.parent / resource["input"]["path"])
            resources.append(entry)
        descriptor = {
            "meta": {"schemaVersion": "v2"},
            "component": {
                **{k: v for k, v in spec.items() if k != "resources"},
                "resources": resources,
            },
        }
        cv = parse_descriptor(json.dumps(descriptor), repository=repository)
        versions[cv.key] = cv
    root = components[0]  # the constructor lists the root first
    return ComponentGraph(versions[(root["name"], root["version"])], versions), directories


def release_constructor(
    target: Path,
    *,
    root_version: str,
    bump: dict[str, str] | None = None,
    images: dict[tuple[str, str], str] | None = None,
    directories: dict[tuple[str, str], Path] | None = None,
    root_resources: list[dict[str, Any]] | None = None,
) -> Path:
    """A copy of the reference constructor for another release of the root: `bump` gives
    referenced components (by name) new versions, `images` sets image references and
    `directories` the `dir` inputs of (component, resource); other `dir` inputs still point at
    the reference case. `root_resources` are added to the root's resources."""
    data: dict[str, Any] = yaml.safe_load((CASE / "component-constructor.yaml").read_text())
    bump, images, directories = bump or {}, images or {}, directories or {}
    for spec in data["components"]:
        if spec["name"] == ROOT_COMPONENT:
            spec["version"] = root_version
            spec["resources"] = [*(spec.get("resources") or []), *(root_resources or [])]
            for reference in spec.get("componentReferences") or []:
                reference["version"] = bump.get(reference["componentName"], reference["version"])
        elif spec["name"] in bump:
            spec["version"] = bump[spec["name"]]
        for resource in spec.get("resources") or []:
            if "input" in resource:
                replaced = directories.get((spec["name"], resource["name"]))
                path = replaced or CASE / resource["input"]["path"]
                resource["input"]["path"] = str(path.resolve())
            reference = images.get((spec["name"], resource["name"]))
            if reference is not None:
                resource["access"]["imageReference"] = reference
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def eso_resources(version: str) -> list[dict[str, Any]]:
    """The External Secrets Operator's chart and image, as the Go tool's deploy-eso test
    release (`deploy-eso-01`) has them at `version` (v1.0.0, v2.0.0)."""
    digest = "sha256:" + "abcdef1234567890" * 4
    tag = f"external-secrets-{version}"
    return [
        {
            "name": "external-secrets-operator-chart",
            "version": version,
            "type": "helmChart",
            "access": {
                "type": "ociArtifact",
                "imageReference": f"ghcr.io/charts/external-secrets-operator:{tag}@{digest}",
            },
        },
        {
            "name": "external-secrets-operator-image",
            "version": version,
            "type": "ociImage",
            "access": {
                "type": "ociArtifact",
                "imageReference": f"ghcr.io/images/external-secrets-operator:{tag}@{digest}",
            },
        },
    ]


def config_text(location: str, origin: str = ORIGIN) -> str:
    """The test case's config, with its component location and origin filled in."""
    text = (CASE.parent / "bootstrapper-config.yaml").read_text()
    return text.replace("<CTF>//github.com/openmcp-project/openmcp", location).replace(
        "<ORIGIN>", origin
    )


def landscape_tree(config: str, *, extras: bool = True, patches: bool = True) -> FileSet:
    """A landscape branch holding the test case's inputs (and the origin's dummy.txt)."""
    files = {".bootstrap/config.yaml": config.encode(), "dummy.txt": b"This is a dummy file."}
    if patches:
        patches_file = CASE / "patches" / "patches.yaml"
        files[".bootstrap/kustomization-patches.yaml"] = patches_file.read_bytes()
    if extras:
        for path, data in directory(CASE / "extra-manifests").items():
            files[f".bootstrap/extra-manifests/{path}"] = data
    return FileSet(files)


def expected_tree(ocm_repository: str, origin: str = ORIGIN) -> dict[str, bytes]:
    """expected-repo with `{{OCM_REPO_URL}}` and `{{GIT_REPO_URL}}` put back."""
    return {
        path: data.replace(b"{{OCM_REPO_URL}}", ocm_repository.encode()).replace(
            b"{{GIT_REPO_URL}}", origin.encode()
        )
        for path, data in directory(EXPECTED).items()
    }
