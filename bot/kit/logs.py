"""Structured logs: one JSON object per line, carrying what the work is about.

A job binds its fields once (`bound(delivery=…, repository=…)`); every record logged inside
it, in any module, carries them. They live in a context variable, so each asyncio task (each
webhook job, each resync job) sees its own.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

#: delivery, installation, repository, landscape, correlation
_FIELDS: ContextVar[dict[str, str]] = ContextVar("log_fields", default={})  # noqa: B039


@contextmanager
def bound(**fields: object) -> Iterator[None]:
    """Add `fields` to every record logged inside the block (None values are left out)."""
    token = _FIELDS.set(
        {**_FIELDS.get(), **{k: str(v) for k, v in fields.items() if v is not None}}
    )
    try:
        yield
    finally:
        _FIELDS.reset(token)


def bind(**fields: object) -> None:
    """Add `fields` for the rest of the enclosing `bound` block (a flow naming its landscape)."""
    _FIELDS.set({**_FIELDS.get(), **{k: str(v) for k, v in fields.items() if v is not None}})


def fields() -> dict[str, str]:
    return dict(_FIELDS.get())


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:12]


def correlation_id() -> str:
    """The id every log line of this job carries (one is bound now when the job has none), for
    the texts that point operators at those lines."""
    current = _FIELDS.get().get("correlation")
    if current is None:
        current = new_correlation_id()
        bind(correlation=current)
    return current


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_FIELDS.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    """The plain format, with the bound fields appended."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = " ".join(f"{k}={v}" for k, v in _FIELDS.get().items())
        return f"{text} [{extra}]" if extra else text


def configure_logging(level: str, form: str) -> None:
    """Log to stderr at `level`, as JSON lines (`json`) or plain text (`text`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if form == "json"
        else _TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
