"""The webhook server with GitHub's own example payloads, signed as GitHub signs them."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from gidgethub import routing
from gidgethub.sansio import Event

from bot.kit.jobs import JobQueue
from bot.server import http
from bot.server.http import QUEUE, create_app
from bot.server.webhook import MAX_BODY_BYTES
from tests.peers.github.payloads import delivery_headers
from tests.peers.net import LOOPBACK, free_port

SECRET = "webhook-secret-for-tests"
EXAMPLES: dict[str, list[dict[str, Any]]] = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "webhooks" / "examples.json").read_text()
)
REPLAYED = [
    (event, i) for event, payloads in sorted(EXAMPLES.items()) for i in range(len(payloads))
]


class Recorder:
    """A router that records every event it is given, for every example event type."""

    def __init__(self) -> None:
        self.router = routing.Router()
        self.seen: list[tuple[str, str]] = []
        for event in EXAMPLES:
            self.router.add(self.record, event)

    async def record(self, event: Event, context: Any) -> None:
        self.seen.append((event.event, event.delivery_id))


def headers(
    event: str, body: bytes, *, delivery: str | None = None, **extra: str
) -> dict[str, str]:
    return {**delivery_headers(event, body, SECRET, delivery=delivery), **extra}


@pytest.fixture
async def server(aiohttp_client):
    recorder = Recorder()
    app = create_app(webhook_secret=SECRET, router=recorder.router)
    client = await aiohttp_client(app)
    yield client, recorder, app
    await app[QUEUE].drain(5)


async def settle(app) -> None:
    await app[QUEUE].drain(5)


@pytest.mark.parametrize(("event", "index"), REPLAYED, ids=[f"{e}-{i}" for e, i in REPLAYED])
async def test_an_example_delivery_is_acknowledged_and_dispatched_once(server, event, index):
    client, recorder, app = server
    body = json.dumps(EXAMPLES[event][index]).encode()
    sent = headers(event, body)
    response = await client.post("/webhook", data=body, headers=sent)
    assert response.status == 202
    again = await client.post("/webhook", data=body, headers=sent)
    assert again.status == 202 and "duplicate" in await again.text()
    await settle(app)
    assert recorder.seen == [(event, sent["X-GitHub-Delivery"])]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, 401),
        ({"X-Hub-Signature-256": ""}, 401),
        ({"X-GitHub-Event": ""}, 400),
        ({"X-GitHub-Delivery": ""}, 400),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 400),
    ],
)
async def test_bad_deliveries_are_refused_and_nothing_runs(server, change, status):
    client, recorder, app = server
    body = json.dumps(EXAMPLES["push"][0]).encode()
    sent = {k: v for k, v in {**headers("push", body), **change}.items() if v}
    response = await client.post("/webhook", data=body, headers=sent)
    assert response.status == status
    await settle(app)
    assert recorder.seen == []


async def test_a_body_that_is_not_json_is_refused(server):
    client, recorder, app = server
    body = b"{not json"
    response = await client.post("/webhook", data=body, headers=headers("push", body))
    assert response.status == 400 and "not JSON" in await response.text()
    await settle(app)
    assert recorder.seen == []


@pytest.mark.parametrize(
    ("payload", "said"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "body nests too deep"),
        (b'{"action": "opened", "installation": "x"}', "`installation` is not an object"),
        (b'{"installation": {"id": "1"}}', "`installation.id` is not a number"),
        (b'{"repository": {"full_name": ["a"]}}', "`repository.full_name` is not OWNER/NAME"),
    ],
)
async def test_a_signed_body_without_githubs_shape_is_a_400_not_a_traceback(
    server, payload, said, caplog
):
    client, recorder, app = server
    response = await client.post("/webhook", data=payload, headers=headers("push", payload))
    assert response.status == 400 and said in await response.text()
    await settle(app)
    assert recorder.seen == []
    assert not [r for r in caplog.records if r.exc_info]


async def test_an_oversized_body_is_refused(server):
    client, recorder, app = server
    body = b'{"pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = await client.post("/webhook", data=io.BytesIO(body), headers=headers("push", body))
    assert response.status == 413
    await settle(app)
    assert recorder.seen == []


async def test_an_unknown_event_type_is_acknowledged_and_ignored(server):
    client, recorder, app = server
    body = json.dumps({"action": "created", "sponsorship": {}}).encode()
    response = await client.post("/webhook", data=body, headers=headers("sponsorship", body))
    assert response.status == 202 and "no handler" in await response.text()
    await settle(app)
    assert recorder.seen == []


async def test_a_failing_handler_does_not_stop_the_others(aiohttp_client):
    router = routing.Router()
    ran = []

    @router.register("push")
    async def a_fails(event: Event, context: Any) -> None:
        raise RuntimeError("boom")

    @router.register("push")
    async def b_runs(event: Event, context: Any) -> None:
        ran.append(context)

    app = create_app(webhook_secret=SECRET, router=router, context="ctx")
    client = await aiohttp_client(app)
    body = json.dumps(EXAMPLES["push"][0]).encode()
    assert (await client.post("/webhook", data=body, headers=headers("push", body))).status == 202
    await settle(app)
    assert ran == ["ctx"]
    metrics = await (await client.get("/metrics")).text()
    assert 'bootstrap_bot_handler_runs_total{handler="' in metrics and 'outcome="error"' in metrics


async def test_a_full_queue_answers_503_and_the_delivery_can_come_again(aiohttp_client):
    recorder = Recorder()
    release, started = asyncio.Event(), asyncio.Event()

    async def slow(event: Event, context: Any) -> None:
        started.set()
        await release.wait()

    router = routing.Router(recorder.router)
    router.add(slow, "push")
    app = create_app(webhook_secret=SECRET, router=router, queue=JobQueue(max_jobs=1))
    client = await aiohttp_client(app)
    first, second = (json.dumps(p).encode() for p in EXAMPLES["push"][:2])
    assert (await client.post("/webhook", data=first, headers=headers("push", first))).status == 202
    await started.wait()  # a running job is never joined by a push to its branch
    sent = headers("push", second)
    busy = await client.post("/webhook", data=second, headers=sent)
    assert busy.status == 503 and "queue full" in await busy.text()
    release.set()
    await settle(app)
    app[QUEUE].draining = False
    assert (await client.post("/webhook", data=second, headers=sent)).status == 202
    await settle(app)
    assert [d for _, d in recorder.seen][-1] == sent["X-GitHub-Delivery"]


def _push_to(ref: str, before: str, after: str, paths: list[str]) -> bytes:
    payload = json.loads(json.dumps(EXAMPLES["push"][4]))
    commit = {**payload["commits"][0], "id": after, "added": paths, "modified": [], "removed": []}
    payload.update(ref=ref, before=before, after=after, commits=[commit], head_commit=commit)
    return json.dumps(payload).encode()


async def test_pushes_queued_behind_a_running_job_for_their_branch_run_as_one(aiohttp_client):
    ran: list[dict[str, Any]] = []
    release, started = asyncio.Event(), asyncio.Event()
    router = routing.Router()

    @router.register("push")
    async def record(event: Event, context: Any) -> None:
        ran.append(event.data)
        started.set()
        await release.wait()

    app = create_app(webhook_secret=SECRET, router=router)
    client = await aiohttp_client(app)

    async def post(body: bytes) -> str:
        response = await client.post("/webhook", data=body, headers=headers("push", body))
        assert response.status == 202
        return str(await response.text())

    heads = [f"{n:040x}" for n in range(12)]
    assert await post(_push_to("refs/heads/main", heads[0], heads[1], ["a"])) == "accepted\n"
    await started.wait()  # the first job runs: the next pushes queue behind it
    said = [
        await post(_push_to("refs/heads/main", heads[n], heads[n + 1], [f"p{n}"]))
        for n in range(1, 10)
    ]
    other = await post(_push_to("refs/heads/other", heads[0], heads[11], ["o"]))
    assert said[0] == "accepted\n" and other == "accepted\n"
    assert set(said[1:]) == {"joined the queued push to this branch\n"}
    release.set()
    await settle(app)

    first, joined, elsewhere = ran
    assert (first["before"], first["after"]) == (heads[0], heads[1])
    assert elsewhere["ref"] == "refs/heads/other"
    # the nine queued pushes to main as one: from the first one's before to the last's after
    assert (joined["before"], joined["after"], joined["forced"]) == (heads[1], heads[10], False)
    assert [c["added"] for c in joined["commits"]] == [[f"p{n}"] for n in range(1, 10)]
    metrics = await (await client.get("/metrics")).text()
    assert 'event="push",outcome="coalesced"} 8.0' in metrics


async def test_a_push_while_shutting_down_joins_no_queued_job(aiohttp_client):
    release, started = asyncio.Event(), asyncio.Event()
    router = routing.Router()

    @router.register("push")
    async def slow(event: Event, context: Any) -> None:
        started.set()
        await release.wait()

    app = create_app(webhook_secret=SECRET, router=router)
    client = await aiohttp_client(app)
    heads = [f"{n:040x}" for n in range(4)]
    for n in range(2):  # one running, one queued behind it
        body = _push_to("refs/heads/main", heads[n], heads[n + 1], ["a"])
        assert (
            await client.post("/webhook", data=body, headers=headers("push", body))
        ).status == 202
        await started.wait()
    app[QUEUE].draining = True
    body = _push_to("refs/heads/main", heads[2], heads[3], ["a"])
    late = await client.post("/webhook", data=body, headers=headers("push", body))
    assert late.status == 503  # GitHub shows it failed, rather than a job that may never run
    release.set()
    await settle(app)


async def test_health_readiness_and_metrics(server):
    client, _, app = server
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200
    body = json.dumps(EXAMPLES["ping"][0]).encode()
    await client.post("/webhook", data=body, headers=headers("ping", body))
    metrics = await (await client.get("/metrics")).text()
    assert 'bootstrap_bot_webhook_deliveries_total{event="ping",outcome="accepted"} 1.0' in metrics
    assert "bootstrap_bot_queue_depth" in metrics
    await app[QUEUE].drain(5)
    assert (await client.get("/readyz")).status == 503
    refused = await client.post("/webhook", data=body, headers=headers("ping", body))
    assert refused.status == 503 and "shutting down" in await refused.text()


async def test_what_an_unsigned_request_claims_never_becomes_a_label(server):
    client, recorder, _ = server
    body = json.dumps(EXAMPLES["push"][0]).encode()
    for n in range(50):
        sent = {**headers("push", body), "X-GitHub-Event": f"made-up-{n}-" + "x" * 200}
        sent["X-Hub-Signature-256"] = "sha256=" + "0" * 64
        assert (await client.post("/webhook", data=body, headers=sent)).status == 401
    metrics = await (await client.get("/metrics")).text()
    assert "made-up" not in metrics
    line = 'bootstrap_bot_webhook_deliveries_total{event="unverified",outcome="rejected_401"} 50.0'
    assert line in metrics
    assert recorder.seen == []


def test_the_server_needs_a_webhook_secret():
    with pytest.raises(ValueError, match="webhook secret is required"):
        create_app(webhook_secret="", router=routing.Router())


@pytest.fixture
async def served(monkeypatch):
    """The app behind the runner `run_server` uses, on a free loopback port."""
    monkeypatch.setattr(http, "HEADER_SECONDS", 0.3)
    monkeypatch.setattr(http, "BODY_SECONDS", 0.3)
    monkeypatch.setattr(http, "LINGER_SECONDS", 0.3)
    recorder = Recorder()
    app = create_app(webhook_secret=SECRET, router=recorder.router)
    runner = http.app_runner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, LOOPBACK, port).start()
    yield port
    await runner.cleanup()


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """What the server sends before it hangs up (the read would wait for ever otherwise)."""
    return await asyncio.wait_for(reader.read(), timeout=10)


async def test_a_connection_that_does_not_finish_its_headers_is_dropped(served):
    reader, writer = await asyncio.open_connection(LOOPBACK, served)
    writer.write(b"POST /webhook HTTP/1.1\r\nHost: bot\r\nX-GitHub-Event: pu")
    await writer.drain()
    assert await closed_by_server(reader) == b""  # hung up, nothing answered
    writer.close()
    async with ClientSession() as session, session.get(f"http://{LOOPBACK}:{served}/healthz") as r:
        assert r.status == 200  # and still serving


async def test_a_body_that_trickles_is_refused_with_408(served):
    reader, writer = await asyncio.open_connection(LOOPBACK, served)
    writer.write(b"POST /webhook HTTP/1.1\r\nHost: bot\r\nContent-Length: 1000\r\n\r\n{")
    await writer.drain()
    answer = await closed_by_server(reader)
    assert answer.startswith(b"HTTP/1.1 408 ") and answer.endswith(b"body too slow\n")
    writer.close()
