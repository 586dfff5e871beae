"""`/bootstrap` command replies on the in-memory GitHub (payloads from GitHub's own examples)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.names import comment_marker, reply_marker
from bot.flows.commands import run_comment_commands
from bot.ocm.reader import ComponentReader
from bot.ocm.store import StoreUnavailable
from tests.flows.conftest import REPO, Landscapes
from tests.peers.github.memory import MemoryGitHub
from tests.peers.github.payloads import example


def comment_payload(
    gh: MemoryGitHub, body: str, *, number: int = 7, user: str = "walt"
) -> dict[str, Any]:
    comment = gh.add_comment(REPO, number, body, user=user)
    payload = example("issue_comment", "created")
    payload["comment"].update(id=comment.id, body=body)
    payload["comment"]["user"].update(login=user, type="User")
    payload["issue"]["number"] = number
    payload["issue"].pop("pull_request", None)
    payload["repository"]["full_name"] = REPO
    return payload


def reply(gh: MemoryGitHub, payload: dict[str, Any]) -> str:
    hidden = comment_marker(reply_marker(payload["comment"]["id"]))
    (found,) = [
        c
        for c in gh.comments_on(REPO, payload["issue"]["number"])
        if c.comment.body.startswith(hidden)
    ]
    return found.comment.body


async def test_help_and_status_are_answered_in_one_reply(landscapes: Landscapes):
    gh = landscapes.gh
    gh.permissions["walt"] = "write"
    payload = comment_payload(gh, "/bootstrap help\n/bootstrap status")

    answers = await run_comment_commands(landscapes.context, gh, payload)

    assert [a.ok for a in answers] == [True, True]
    text = reply(gh, payload)
    assert text.index("> /bootstrap help") < text.index("> /bootstrap status")
    assert "With your role `write` you may act on: `main`." in text
    assert "| openMCP release | `v0.0.1` of `github.com/openmcp-project/openmcp` |" in text
    assert "| cluster | none named in `bot.cluster` |" in text
    # main holds the inputs only: rendered, it is stale
    assert "| rendered manifests | ⚠️ stale: the bootstrap config renders other manifests |" in text
    assert "| last apply | not applied yet |" in text
    assert gh.reactions[payload["comment"]["id"]] == ["eyes", "rocket"]

    # a redelivery edits the one reply
    await run_comment_commands(landscapes.context, gh, payload)
    assert len(gh.comments_on(REPO, 7)) == 2  # the command and the one reply


async def test_a_reader_is_refused_and_nothing_changes(landscapes: Landscapes):
    gh = landscapes.gh
    payload = comment_payload(gh, "/bootstrap upgrade", user="rita")

    (answer,) = await run_comment_commands(landscapes.context, gh, payload)

    assert not answer.ok
    assert answer.text == (
        "`/bootstrap upgrade` on `main` needs the `write` role on this repository; you have `read`."
    )
    assert gh.pulls.get(REPO, []) == []
    assert gh.reactions[payload["comment"]["id"]] == ["eyes", "confused"]


async def test_upgrade_proposes_the_release_asked_for(landscapes: Landscapes):
    gh = landscapes.gh
    gh.permissions["walt"] = "admin"
    payload = comment_payload(gh, "/bootstrap upgrade v0.0.2")

    (answer,) = await run_comment_commands(landscapes.context, gh, payload)

    (pull,) = gh.pulls[REPO]
    assert answer.ok and answer.text == f"Proposed `v0.0.2` for `main` in {pull.html_url}."


async def test_a_peer_outage_is_not_called_a_bug(landscapes: Landscapes):
    from bot.adapters.github.retry import GitHubUnavailable

    gh = landscapes.gh
    gh.permissions["walt"] = "write"
    payload = comment_payload(gh, "/bootstrap status")
    gh.faults["read_ref"] = GitHubUnavailable("GitHub answered 502")

    (answer,) = await run_comment_commands(landscapes.context, gh, payload)

    assert not answer.ok
    assert answer.text == (
        "bootstrap-bot could not finish this now: GitHub answered 502. Try again in a few minutes."
    )


async def test_status_with_the_registry_out_tells_the_rest(
    landscapes: Landscapes, monkeypatch: pytest.MonkeyPatch
):
    gh = landscapes.gh
    gh.permissions["walt"] = "write"
    payload = comment_payload(gh, "/bootstrap status")

    def out(repository: object) -> ComponentReader:
        raise StoreUnavailable("registry.test answered 503")

    monkeypatch.setattr(landscapes.context, "open_reader", out)
    (answer,) = await run_comment_commands(landscapes.context, gh, payload)

    assert answer.ok
    said = "| rendered manifests | unknown now: registry.test answered 503 (try again later) |"
    assert said in answer.text and "| openMCP release | `v0.0.1` of " in answer.text
