"""Extract the payload schemas of the events the bot handles from `@octokit/webhooks-schemas`.

Run once against the unpacked npm package (not needed in CI):

    npm pack @octokit/webhooks-schemas@7.6.1 && tar xzf octokit-webhooks-schemas-7.6.1.tgz
    python -m tests.peers.github.extract_webhook_schemas package/schema.json

It writes `tests/fixtures/webhooks/schemas.json`: each event's schema and every definition it
refers to, unchanged.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

EVENTS = (
    "check_run",
    "check_suite",
    "installation",
    "installation_repositories",
    "issue_comment",
    "ping",
    "pull_request",
    "push",
)
SUBSET = Path(__file__).parents[2] / "fixtures" / "webhooks" / "schemas.json"


def _references(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _references(value)
        return found
    if isinstance(node, list):
        return set().union(*(_references(item) for item in node)) if node else set()
    return set()


def definition_of(event: str, definitions: dict[str, Any]) -> str:
    """The definition naming an event's payloads (events without actions are `<event>$event`)."""
    return f"{event}_event" if f"{event}_event" in definitions else f"{event}$event"


def extract(schema: dict[str, Any]) -> dict[str, Any]:
    definitions = schema["definitions"]
    wanted = {definition_of(event, definitions) for event in EVENTS}
    todo = list(wanted)
    while todo:
        for name in _references(definitions[todo.pop()]):
            if name not in wanted:
                wanted.add(name)
                todo.append(name)
    return {
        "$schema": schema["$schema"],
        "definitions": {name: definitions[name] for name in sorted(wanted)},
    }


if __name__ == "__main__":
    schema = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    text = json.dumps(extract(schema), indent=1, sort_keys=True, ensure_ascii=False)
    SUBSET.write_text(text + "\n", encoding="utf-8")
    print(f"{SUBSET}: {SUBSET.stat().st_size} bytes")
