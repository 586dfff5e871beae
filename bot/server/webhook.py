"""Accepting a GitHub webhook delivery: signature, headers, body, duplicates. No I/O.

`accept_delivery` turns the raw request into a gidgethub `Event` or a `Rejection` that carries
the HTTP status to answer with. Only `X-Hub-Signature-256` counts (HMAC-SHA256 of the raw body,
compared in constant time); the SHA-1 header GitHub still sends is ignored. `RecentDeliveries`
remembers delivery ids so a redelivered or replayed delivery is acknowledged but not run twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from gidgethub.sansio import Event

from bot.core.failures import Failure
from bot.core.names import repository_key

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
SIGNATURE_HEADER = "X-Hub-Signature-256"


class Rejection(Failure):
    """A delivery refused before any work: `status` is the HTTP answer, `reason` says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signature(body: bytes, secret: str) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _header(headers: Mapping[str, str], name: str, *, status: int = 400) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    value = lowered.get(name.lower(), "").strip()
    if not value:
        raise Rejection(status, f"missing {name} header")
    return value


def accept_delivery(headers: Mapping[str, str], body: bytes, *, secret: str) -> Event:
    """The delivery as an Event, or a Rejection (401 bad signature, 400 malformed, 413 large)."""
    if len(body) > MAX_BODY_BYTES:
        raise Rejection(413, "payload too large")
    sent = _header(headers, SIGNATURE_HEADER, status=401)
    if not hmac.compare_digest(sent.encode(), signature(body, secret).encode()):
        raise Rejection(401, "signature does not match")
    event = _header(headers, "X-GitHub-Event")
    delivery_id = _header(headers, "X-GitHub-Delivery")
    content_type = _header(headers, "Content-Type").split(";")[0].strip()
    if content_type != "application/json":
        raise Rejection(400, f"content type {content_type!r}; configure the webhook for JSON")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise Rejection(400, "body is not JSON") from None
    except RecursionError:
        raise Rejection(400, "body nests too deep") from None
    if not isinstance(data, dict):
        raise Rejection(400, "body is not a JSON object")
    problem = shape_problem(data)
    if problem:
        raise Rejection(400, f"payload does not have GitHub's shape: {problem}")
    return Event(data, event=event, delivery_id=delivery_id)


#: the parts of a payload the handlers read, and the JSON type each must have
_OBJECTS = ("installation", "repository", "sender", "pull_request", "issue", "comment")


def shape_problem(data: dict[str, Any]) -> str:
    """What makes a payload unusable for the handlers ("" when nothing does): signed by GitHub
    means sent by GitHub, but a bug or a leaked secret must end in a 400, not a traceback."""
    for key in _OBJECTS:
        if key in data and data[key] is not None and not isinstance(data[key], dict):
            return f"`{key}` is not an object"
    installation = data.get("installation") or {}
    if "id" in installation and not isinstance(installation["id"], int):
        return "`installation.id` is not a number"
    repository = data.get("repository") or {}
    name = repository.get("full_name")
    if name is not None and not (isinstance(name, str) and name.count("/") == 1):
        return "`repository.full_name` is not OWNER/NAME"
    return ""


class RecentDeliveries:
    """The last `capacity` delivery ids seen (GitHub redelivers with the same id)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, delivery_id: str) -> bool:
        """True, and remembered, if this id is new; False for a repeat."""
        if delivery_id in self._seen:
            self._seen.move_to_end(delivery_id)
            return False
        self._seen[delivery_id] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True

    def forget(self, delivery_id: str) -> None:
        """Let a delivery that could not be queued run when GitHub redelivers it."""
        self._seen.pop(delivery_id, None)


def serialisation_key(event: Event) -> str:
    """Work for one repository runs one at a time (a landscape lives in one repository);
    events without a repository are serialised per installation."""
    data = event.data
    repository = data.get("repository") or {}
    if isinstance(repository, dict) and repository.get("full_name"):
        return repository_key(repository["full_name"])
    installation = data.get("installation") or {}
    if isinstance(installation, dict) and installation.get("id") is not None:
        return f"installation:{installation['id']}"
    return "global"
