"""The real `bootstrap-bot serve` process killed between acknowledging a delivery and finishing
its work: the restarted process catches up by its resync loop."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

import httpx
import pytest

from bot.core.names import SUMMARY_MARKER, comment_marker
from tests.integration.flows.test_flow_pull_request import propose
from tests.integration.landscape_bot import SECRET, LandscapeBot, head_of
from tests.integration.serve_process import ServeProcess, serve, serve_environment
from tests.peers.github.payloads import signed

pytestmark = pytest.mark.peers


async def until(
    condition: Callable[[], bool], what: str, bot: ServeProcess, seconds: float = 120
) -> None:
    """Wait (letting the fake GitHub in this event loop answer) until `condition()` holds."""
    for _ in range(int(seconds / 0.1)):
        if condition():
            return
        assert bot.process.poll() is None, bot.log.read_text()
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}:\n{bot.log.read_text()}")


#: where the first process is killed: at its first write; after its push, before the summary
#: comment; after the comment, as it completes the check run
KILL_POINTS = {
    "first write": ("POST", r"/check-runs$"),
    "after the push": ("POST", r"/issues/\d+/comments$"),
    "at completion": ("PATCH", r"/check-runs/\d+$"),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
async def test_a_killed_delivery_ends_with_the_rerender_commit_after_a_restart(
    landscape_bot: LandscapeBot, app_key, tmp_path, point: str
):
    bot = landscape_bot
    pull, user_commit = propose(bot, "enable-provider", bot.config, title="Enable the provider")
    settings = dict(
        app_id=app_key.app_id,
        private_pem=app_key.private_pem,
        secret=SECRET,
        github_url=bot.fake.url,
        registry__plain_http_loopback="true",
        poll_interval="3600",
    )
    # The first process handles the delivery up to its first write, and is killed there.
    held = bot.fake.hold_next(*KILL_POINTS[point])
    with serve(
        serve_environment(tmp_path, resync="false", **settings), tmp_path / "1.log"
    ) as first:
        await until(first.healthy, "the first process to listen", first)
        body, headers = signed("pull_request", bot.pull_request_event(pull, "opened"), SECRET)
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{first.base}/webhook", content=body, headers=headers)
        assert response.status_code == 202
        await asyncio.wait_for(held.reached.wait(), 60)
        first.process.kill()
        first.process.wait()
    held.release.set()  # the fake may still do it: a request whose answer was lost
    if point == "first write":
        assert str(head_of(bot.repository.bare, "enable-provider").id) == user_commit

    # GitHub does not redeliver. The restarted process resyncs at start and finishes the work.
    with serve(serve_environment(tmp_path, **settings), tmp_path / "2.log") as second:

        def rerendered() -> bool:
            return head_of(bot.repository.bare, "enable-provider").message == "Re-render manifests"

        def finished() -> bool:
            runs = bot.fake.state.check_runs.values()
            return bool(runs) and all(r.fields["status"] == "completed" for r in runs)

        await until(second.healthy, "the second process to listen", second)
        await until(rerendered, "the re-render commit", second)
        await until(lambda: len(bot.bot_comments(pull.number)) == 1, "the summary", second)
        await until(finished, "every check run completed", second)
        head = head_of(bot.repository.bare, "enable-provider")
        assert [str(p) for p in head.parent_ids] == [user_commit]
        # The resync polled the registry for releases, and /metrics says so.
        polled = 'bootstrap_bot_release_polls_total{outcome="listed"} 1.0'
        async with httpx.AsyncClient() as http:
            for _ in range(600):
                metrics = (await http.get(f"{second.base}/metrics")).text
                if polled in metrics and "bootstrap_bot_queue_depth 0.0" in metrics:
                    break
                await asyncio.sleep(0.1)
        assert polled in metrics
        assert "bootstrap_bot_registry_requests_total{registry=" in metrics
        assert "bootstrap_bot_release_to_pull_request_seconds_count 0.0" in metrics
        second.process.send_signal(signal.SIGTERM)
        assert second.process.wait(timeout=30) == 0, second.log.read_text()
    runs = [r for r in bot.fake.state.check_runs.values() if r.head_sha == user_commit]
    assert [r.fields.get("conclusion") for r in runs][-1] == "success"
    # converged: one re-render commit (above), one summary comment, every run completed
    assert [c.body.splitlines()[0] for c in bot.bot_comments(pull.number)] == [
        comment_marker(SUMMARY_MARKER)
    ]
