"""Checking custom objects against the OpenAPI v3 schema of their CRD version.

What kube-apiserver does for structural schemas, minus CEL rules (`x-kubernetes-validations`)
and formats: unknown fields are pruned (and reported, so strict field validation can refuse
them) unless `x-kubernetes-preserve-unknown-fields` says otherwise; then types, required
fields, enums, patterns and bounds are checked with jsonschema. `metadata` is the server's.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

import jsonschema

from tests.peers.kubernetes.fields import Path


@dataclass(frozen=True)
class Cause:
    reason: str  # FieldValueRequired, FieldValueInvalid, FieldValueNotSupported
    field: str
    message: str


def prune(obj: Any, schema: dict[str, Any], path: Path = ()) -> tuple[Any, list[Path]]:
    """`obj` without the fields `schema` does not declare, and where they were. At the root,
    `apiVersion`, `kind` and `metadata` are kept as they are: the API server reads metadata as
    ObjectMeta whatever a CRD's schema says of it (usually just `type: object`)."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return obj, []
    if isinstance(obj, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        out: dict[str, Any] = {}
        unknown: list[Path] = []
        for key, value in obj.items():
            below: list[Path]
            if not path and key in ("apiVersion", "kind", "metadata"):
                out[key], below = value, []
            elif properties is not None and key in properties:
                out[key], below = prune(value, properties[key], (*path, key))
            elif isinstance(additional, dict):
                out[key], below = prune(value, additional, (*path, key))
            elif properties is None and additional is None and schema.get("type") != "object":
                out[key], below = value, []
            else:
                unknown.append((*path, key))
                continue
            unknown += below
        return out, unknown
    if isinstance(obj, list) and isinstance(schema.get("items"), dict):
        pruned = [prune(item, schema["items"], path) for item in obj]
        return [p for p, _ in pruned], [u for _, below in pruned for u in below]
    return obj, []


def _json_schema(schema: Any) -> Any:
    """The OpenAPI schema as JSON Schema: `nullable` allows null, Kubernetes extensions go."""
    if isinstance(schema, list):
        return [_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _json_schema(v) for k, v in schema.items() if not k.startswith("x-kubernetes-")}
    out.pop("format", None)
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    return out


def _field(path: Any) -> str:
    parts = []
    for part in path:
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(parts).lstrip(".")


def _enum(error: jsonschema.ValidationError) -> list[Any]:
    allowed = error.validator_value
    return list(allowed) if isinstance(allowed, list) else []


def _cause(error: jsonschema.ValidationError) -> Cause:
    where = _field(error.absolute_path)
    value = error.instance
    if error.validator == "required":
        missing = re.match(r"'([^']+)' is a required property", error.message)
        name = missing.group(1) if missing else "?"
        return Cause("FieldValueRequired", f"{where}.{name}".lstrip("."), "Required value")
    if error.validator == "enum":
        allowed = ", ".join(json.dumps(v) for v in _enum(error))
        message = f"Unsupported value: {json.dumps(value)}: supported values: {allowed}"
        return Cause("FieldValueNotSupported", where, message)
    if error.validator == "type":
        message = (
            f'Invalid value: "{type(value).__name__}": {where} in body must be of type '
            f"{error.validator_value}: {json.dumps(value)}"
        )
        return Cause("FieldValueInvalid", where, message)
    if error.validator == "pattern":
        pattern = error.validator_value
        message = f"Invalid value: {json.dumps(value)}: {where} in body should match '{pattern}'"
        return Cause("FieldValueInvalid", where, message)
    return Cause("FieldValueInvalid", where, f"Invalid value: {json.dumps(value)}: {error.message}")


def validate(obj: dict[str, Any], schema: dict[str, Any]) -> list[Cause]:
    body = {k: v for k, v in obj.items() if k != "metadata"}
    checked = copy.deepcopy(schema)
    checked.get("properties", {}).pop("metadata", None)
    validator = jsonschema.Draft7Validator(_json_schema(checked))
    errors = sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path])
    return [_cause(e) for e in errors]
