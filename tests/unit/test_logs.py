"""Structured logs: JSON lines carrying the delivery, repository and landscape of the work."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
from gidgethub.routing import Router
from gidgethub.sansio import Event
from prometheus_client import CollectorRegistry

from bot.kit.jobs import JobQueue
from bot.kit.logs import JsonFormatter, bind, bound, configure_logging, fields
from bot.server.http import Metrics, dispatch


@pytest.fixture
def logged() -> Iterator[Callable[[], list[dict[str, object]]]]:
    """What the root logger wrote so far, as JSON objects."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    before = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(before)


def test_bound_fields_reach_every_record_inside_and_none_outside():
    with bound(delivery="d-1", repository="org/repo", installation=None):
        bind(landscape="main")
        assert fields() == {"delivery": "d-1", "repository": "org/repo", "landscape": "main"}
    assert fields() == {}


async def test_a_delivery_s_handlers_log_what_they_work_on(logged):
    router = Router()

    @router.register("push")
    async def handler(event: Event, context: object) -> None:
        bind(landscape="main")
        logging.getLogger("bot.flows.example").info("rendered %s", "abc")
        raise RuntimeError("boom")

    payload = {"installation": {"id": 7}, "repository": {"full_name": "org/landscape"}}
    event = Event(payload, event="push", delivery_id="delivery-42")
    await dispatch(router, event, None, Metrics(JobQueue(), CollectorRegistry()))
    logging.getLogger("after").info("outside")

    rendered, failed, outside = logged()
    for record in (rendered, failed):
        assert record["delivery"] == "delivery-42" and record["event"] == "push"
        assert record["installation"] == "7" and record["repository"] == "org/landscape"
        assert record["landscape"] == "main" and len(str(record["correlation"])) == 12
    assert rendered["message"] == "rendered abc" and rendered["level"] == "info"
    assert failed["level"] == "error" and "RuntimeError: boom" in str(failed["exception"])
    assert "delivery" not in outside


def test_configure_logging_writes_json_or_text(capsys):
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("warning", "json")
        with bound(repository="org/repo"):
            logging.getLogger("x").warning("careful")
            logging.getLogger("x").info("not shown")
        (line,) = capsys.readouterr().err.splitlines()
        assert json.loads(line)["repository"] == "org/repo"
        configure_logging("info", "text")
        with bound(repository="org/repo"):
            logging.getLogger("x").info("plain")
        assert capsys.readouterr().err.rstrip().endswith("x: plain [repository=org/repo]")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
