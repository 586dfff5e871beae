"""The bot's own Kubernetes manifests (`deploy/`) as kustomize builds them, and objects checked
against the schema kubernetes_asyncio's models carry: every field known and of its type, every
required field present (the models' own validation)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from kubernetes_asyncio.client import models

from bot.adapters.kustomize import kubectl

ROOT = Path(__file__).parents[2]

_PRIMITIVES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "datetime": (str,),
    "date": (str,),
}


def built(directory: str) -> list[dict[str, Any]]:
    """`kubectl kustomize` of a directory of the project (such as `deploy/base`)."""
    out = subprocess.run(
        [kubectl(), "kustomize", directory], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [o for o in yaml.safe_load_all(out) if o]


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind]
    assert isinstance(found, dict)
    return found


def model_name(api_version: str, kind: str) -> str:
    """`apps/v1`, `Deployment` -> `V1Deployment`."""
    version = api_version.rpartition("/")[2]
    return version[:1].upper() + version[1:] + kind


def object_problems(obj: dict[str, Any]) -> list[str]:
    """What is wrong with a built-in object, each as `Kind/name: field.path: problem`."""
    kind, name = obj.get("kind", "?"), obj.get("metadata", {}).get("name", "?")
    type_name = model_name(str(obj.get("apiVersion", "")), str(kind))
    if not hasattr(models, type_name):
        return [f"{kind}/{name}: no model {type_name} for apiVersion {obj.get('apiVersion')}"]
    return [f"{kind}/{name}: {p}" for p in problems(obj, type_name, "")]


def problems(value: Any, type_name: str, path: str) -> list[str]:
    where = path or "(object)"
    if type_name == "object":  # IntOrString, Quantity, free-form
        return []
    if type_name.startswith("list["):
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {type(value).__name__}"]
        inner = type_name[5:-1]
        return [p for i, item in enumerate(value) for p in problems(item, inner, f"{path}[{i}]")]
    if type_name.startswith("dict("):
        matched = re.fullmatch(r"dict\(str, (.+)\)", type_name)
        assert matched, type_name
        if not isinstance(value, dict):
            return [f"{where}: expected a map, got {type(value).__name__}"]
        return [p for k, v in value.items() for p in problems(v, matched[1], f"{path}.{k}")]
    if type_name in _PRIMITIVES:
        wanted = _PRIMITIVES[type_name]
        if isinstance(value, bool) and bool not in wanted:
            return [f"{where}: expected {type_name}, got a boolean"]
        if not isinstance(value, wanted):
            return [f"{where}: expected {type_name}, got {type(value).__name__}"]
        return []
    model = getattr(models, type_name)
    if not isinstance(value, dict):
        return [f"{where}: expected {type_name}, got {type(value).__name__}"]
    attributes = {json_name: attr for attr, json_name in model.attribute_map.items()}
    found: list[str] = []
    arguments: dict[str, Any] = {}
    for key, item in value.items():
        attr = attributes.get(key)
        if attr is None:
            found.append(f"{path + '.' if path else ''}{key}: unknown field of {type_name}")
            continue
        found += problems(item, model.openapi_types[attr], f"{path + '.' if path else ''}{key}")
        arguments[attr] = item
    try:
        model(**arguments)  # the model's own checks: required fields, allowed values
    except ValueError as err:
        found.append(f"{where}: {err}")
    return found
