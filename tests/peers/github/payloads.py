"""GitHub's example webhook payloads (`@octokit/webhooks-examples`), checked against GitHub's
payload schemas (`@octokit/webhooks-schemas`), and signed as GitHub signs deliveries.

Tests that adapt an example (another repository, installation or action) validate the result,
so the bot is only ever fed payloads GitHub could really send.
"""

from __future__ import annotations

import copy
import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from bot.server.webhook import signature
from tests.peers.github.extract_webhook_schemas import definition_of

FIXTURES = Path(__file__).parents[2] / "fixtures" / "webhooks"


@cache
def examples() -> dict[str, list[dict[str, Any]]]:
    loaded: dict[str, list[dict[str, Any]]] = json.loads(
        (FIXTURES / "examples.json").read_text(encoding="utf-8")
    )
    return loaded


@cache
def _schemas() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / "schemas.json").read_text(encoding="utf-8"))
    return loaded


@cache
def _validator(event: str) -> jsonschema.Draft7Validator:
    schemas = _schemas()
    root = {"$ref": f"#/definitions/{definition_of(event, schemas['definitions'])}", **schemas}
    return jsonschema.Draft7Validator(root)


def payload_problems(event: str, payload: dict[str, Any]) -> list[str]:
    """Where the payload breaks the event's schema (checked against the schema of its action)."""
    schemas = _schemas()
    action = payload.get("action")
    name = f"{event}${action}" if action is not None else None
    if name is not None and name in schemas["definitions"]:
        validator = jsonschema.Draft7Validator({"$ref": f"#/definitions/{name}", **schemas})
    else:
        validator = _validator(event)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message[:200]}"
        for error in validator.iter_errors(payload)
    ]


def example(event: str, action: str | None = None) -> dict[str, Any]:
    """A fresh copy of the first example of the event (and action) that the schema accepts;
    some of the older examples lack fields GitHub sends today."""
    for payload in examples()[event]:
        if action is not None and payload.get("action") != action:
            continue
        if not payload_problems(event, payload):
            return copy.deepcopy(payload)
    raise LookupError(f"no valid {event} example" + (f" for {action}" if action else ""))


def signed(
    event: str, payload: dict[str, Any], secret: str, *, delivery: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a delivery, after checking the payload against the schema."""
    problems = payload_problems(event, payload)
    assert not problems, f"not a payload GitHub could send as {event}: {problems}"
    body = json.dumps(payload).encode()
    return body, delivery_headers(event, body, secret, delivery=delivery)


def delivery_headers(
    event: str, body: bytes, secret: str, *, delivery: str | None = None
) -> dict[str, str]:
    """The headers GitHub sends with a delivery, signature included."""
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "1",
        "X-Hub-Signature-256": signature(body, secret),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
    }
