"""GitHub's REST contract, from the committed subset of its official OpenAPI description.

The fake checks every request against it (known path and method, declared query parameters,
request body schema) and every answer it gives (response schema for that status), so neither
the bot nor the fake can drift from what api.github.com accepts and returns.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema

SUBSET = Path(__file__).parents[2] / "fixtures" / "github" / "openapi-subset.json"

# Parameters whose values GitHub lets contain slashes (file paths, refs like heads/main).
_SLASHED = {"path", "ref"}


class ContractViolation(Exception):
    """A request (or an answer of the fake) that GitHub's description does not allow."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _openapi_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0 marks null with `nullable: true`; JSON Schema spells it as a type."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _openapi_to_jsonschema(value) for key, value in node.items()}
    if converted.pop("nullable", False) is True:
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
        if isinstance(converted.get("type"), str):
            converted["type"] = [converted["type"], "null"]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    spec: dict[str, Any]
    pattern: re.Pattern[str]

    @property
    def operation_id(self) -> str:
        return str(self.spec["operationId"])

    def parameters(self, where: str) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in self.spec.get("parameters", []) if p["in"] == where}

    def request_schema(self) -> dict[str, Any] | None:
        body = self.spec.get("requestBody")
        if body is None:
            return None
        schema: dict[str, Any] = body["content"]["application/json"]["schema"]
        return schema

    def response(self, status: int) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.spec["responses"].get(str(status))
        return found

    def example(self, status: int) -> Any:
        """GitHub's own example answer for `status`, a fresh copy to patch with state."""
        content = (self.response(status) or {}).get("content", {}).get("application/json", {})
        examples = content.get("examples") or {}
        if not examples:
            return None
        key = (self.operation_id, status)
        text = _EXAMPLES.get(key)
        if text is None:
            text = _EXAMPLES[key] = json.dumps(next(iter(examples.values()))["value"])
        return json.loads(text)  # several times faster than a deep copy of the example


#: each example answer as JSON, by operation and status (one contract is loaded per process)
_EXAMPLES: dict[tuple[str, int], str] = {}


class Contract:
    """The operations of the subset, matched by method and path."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.operations: list[Operation] = []
        for template, methods in document["paths"].items():
            regex = re.sub(
                r"\\\{(\w+)\\\}",
                lambda m: f"(?P<{m[1]}>.+)" if m[1] in _SLASHED else f"(?P<{m[1]}>[^/]+)",
                re.escape(template),
            )
            for method, spec in methods.items():
                converted = _openapi_to_jsonschema(spec)
                pattern = re.compile(f"^{regex}$")
                self.operations.append(Operation(method.upper(), template, converted, pattern))
        # Literal segments win over parameters: /git/ref/{ref} is not /pulls/{pull_number}.
        self.operations.sort(key=lambda op: -len(op.template.replace("{", "").split("/")))

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        """The operation for a request; 404 for an unknown path, 405 for a wrong method."""
        path_matches = []
        for operation in self.operations:
            found = operation.pattern.match(path)
            if found:
                path_matches.append(operation)
                if operation.method == method:
                    return operation, found.groupdict()
        if path_matches:
            raise ContractViolation(405, f"{method} {path}: method not in GitHub's API")
        raise ContractViolation(404, f"{method} {path}: no such operation in GitHub's API")

    def check_request(self, operation: Operation, query: dict[str, str], body: bytes) -> Any:
        """The decoded JSON body, after checking query parameters and body against the spec."""
        declared = operation.parameters("query")
        for name, value in query.items():
            if name not in declared:
                raise ContractViolation(
                    422, f"{operation.operation_id}: unknown query parameter {name!r}"
                )
            _validate(
                _query_value(value, declared[name]["schema"]),
                declared[name]["schema"],
                f"{operation.operation_id}: query parameter {name}",
            )
        for name, parameter in declared.items():
            if parameter.get("required") and name not in query:
                raise ContractViolation(422, f"{operation.operation_id}: {name} is required")
        schema = operation.request_schema()
        if schema is None:
            if body.strip():
                raise ContractViolation(
                    400, f"{operation.operation_id}: takes no request body, got {len(body)} bytes"
                )
            return None
        try:
            data = json.loads(body) if body.strip() else None
        except ValueError:
            raise ContractViolation(400, "Problems parsing JSON") from None
        if data is None:
            if operation.spec["requestBody"].get("required"):
                raise ContractViolation(400, f"{operation.operation_id}: a JSON body is required")
            return None
        _validate(data, schema, f"{operation.operation_id}: request body")
        return data

    def check_response(
        self, operation: Operation, status: int, data: Any, text: str | None = None
    ) -> None:
        """Fail loudly when the fake itself answers outside the spec (a bug in the fake).
        `text`, the answer as JSON, spares checking an answer already found valid."""
        response = operation.response(status)
        if response is None:
            raise AssertionError(f"{operation.operation_id}: GitHub never answers {status}")
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is None or data is None:
            return
        seen = None
        if text is not None:
            seen = (id(schema), hashlib.blake2b(text.encode(), digest_size=16).digest())
            if seen in _VALID_ANSWERS:
                return
        try:
            _validate(data, schema, f"{operation.operation_id}: {status} answer")
        except ContractViolation as violation:
            raise AssertionError(violation.message) from None
        if seen is not None:
            if len(_VALID_ANSWERS) >= MAX_VALID_ANSWERS:
                _VALID_ANSWERS.clear()
            _VALID_ANSWERS.add(seen)


#: answers found valid, by schema and a digest of their JSON: a resync asks the same
#: questions every round, and checking the same answer again was most of the fake's work
_VALID_ANSWERS: set[tuple[int, bytes]] = set()
MAX_VALID_ANSWERS = 100_000


def _query_value(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "boolean":
            return {"true": True, "false": False}[value]
    except (ValueError, KeyError):
        return value  # left as a string, so validation reports it
    return value


def _validate(instance: Any, schema: dict[str, Any], what: str) -> None:
    checks = _checks(schema)
    if checks.compiled is not None:
        try:
            checks.compiled(instance)
            return
        except fastjsonschema.JsonSchemaValueException:
            pass  # jsonschema says what is wrong, in the words the tests know
    error = jsonschema.exceptions.best_match(checks.validator.iter_errors(instance))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise ContractViolation(422, f"{what}: {where}: {error.message}")


@dataclass(frozen=True)
class _Checks:
    """One schema's validators: jsonschema's, which explains a failure, and the same schema
    compiled to Python, which decides ten times faster (the fake checks every answer, and that
    check was most of its CPU in a round of a thousand landscapes)."""

    schema: dict[str, Any]
    validator: jsonschema.Draft4Validator
    compiled: Callable[[Any], Any] | None


_CHECKS: dict[int, _Checks] = {}


def _checks(schema: dict[str, Any]) -> _Checks:
    # Keyed by identity: the schemas live as long as the contract, and hashing them is slow.
    known = _CHECKS.get(id(schema))
    if known is None or known.schema is not schema:
        try:
            # Formats unchecked, as jsonschema's validator without a format checker does.
            compiled = fastjsonschema.compile(schema, use_formats=False)
        except fastjsonschema.JsonSchemaDefinitionException:
            compiled = None
        known = _CHECKS[id(schema)] = _Checks(schema, jsonschema.Draft4Validator(schema), compiled)
    return known


@cache
def load_contract() -> Contract:
    return Contract(json.loads(SUBSET.read_text(encoding="utf-8")))
