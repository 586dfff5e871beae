"""End to end: `/bootstrap` commands in comments, through the real webhook server."""

from __future__ import annotations

import re

import pytest

from tests.integration.flows.test_flow_pull_request import propose
from tests.integration.landscape_bot import REPO, LandscapeBot, head_of

pytestmark = pytest.mark.peers


def reactions(bot: LandscapeBot, comment_id: int) -> list[str]:
    return [r.content for r in bot.fake.state.reactions if r.comment_id == comment_id]


def reply_to(bot: LandscapeBot, number: int, comment_id: int) -> str:
    (reply,) = [c for c in bot.bot_comments(number) if f"reply-to-{comment_id}" in c.body]
    return reply.body


@pytest.fixture
def people(landscape_bot: LandscapeBot) -> LandscapeBot:
    roles = landscape_bot.repository.roles
    roles.update(rita="read", walt="write")
    return landscape_bot


async def test_plan_is_denied_to_a_reader_and_answered_for_a_writer(people: LandscapeBot):
    bot = people
    pull, user_commit = propose(bot, "enable-provider", bot.config, title="Enable the provider")

    asked = bot.fake.add_comment(REPO, pull.number, "Could we see?\n/bootstrap plan", user="rita")
    await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=True))
    assert reactions(bot, asked.id) == ["eyes", "confused"]
    denied = reply_to(bot, pull.number, asked.id)
    assert "@rita" in denied and "> /bootstrap plan" in denied
    assert "needs the `write` role on this repository; you have `read`" in denied

    planned = bot.fake.add_comment(REPO, pull.number, "/bootstrap plan", user="walt")
    event = bot.comment_event(planned, on_pull=True)
    await bot.deliver("issue_comment", event)
    assert reactions(bot, planned.id) == ["eyes", "rocket"]
    plan = reply_to(bot, pull.number, planned.id)
    assert f"Merging #{pull.number}" in plan and "would change `main`" in plan
    assert "resources/openmcp/service-providers/test.yaml" in plan
    # A plan only looks: nothing is pushed, no check run is written.
    assert str(head_of(bot.repository.bare, "enable-provider").id) == user_commit
    assert not [r for r in bot.fake.state.check_runs.values() if r.head_sha == user_commit]

    # GitHub redelivering the comment edits the same reply instead of adding one.
    replies = len(bot.bot_comments(pull.number))
    await bot.deliver("issue_comment", event)
    assert len(bot.bot_comments(pull.number)) == replies
    assert reactions(bot, planned.id) == ["eyes", "rocket"]


async def test_an_unknown_command_gets_the_usage(people: LandscapeBot):
    bot = people
    number = bot.fake.state.next_issue_number(REPO)
    bogus = bot.fake.add_comment(REPO, number, "/bootstrap bogus", user="walt")
    await bot.deliver("issue_comment", bot.comment_event(bogus, on_pull=False))
    reply = reply_to(bot, number, bogus.id)
    assert "`bogus` is not a `/bootstrap` command" in reply
    assert "| `/bootstrap plan` |" in reply
    assert reactions(bot, bogus.id) == ["eyes", "confused"]


async def test_help_and_status_in_an_issue(people: LandscapeBot):
    bot = people
    number = bot.fake.state.next_issue_number(REPO)
    asked = bot.fake.add_comment(REPO, number, "/bootstrap help", user="rita")
    await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=False))
    help_reply = reply_to(bot, number, asked.id)
    assert "With your role `read` you may not act on any landscape here." in help_reply
    assert "Not on: `main`" in help_reply
    assert reactions(bot, asked.id) == ["eyes", "rocket"]

    status = bot.fake.add_comment(REPO, number, "/bootstrap status", user="walt")
    await bot.deliver("issue_comment", bot.comment_event(status, on_pull=False))
    reply = reply_to(bot, number, status.id)
    main = str(head_of(bot.repository.bare, "main").id)
    assert f"| landscape branch | `main` at {main[:12]} |" in reply
    assert "| openMCP release | `v0.0.1` of `github.com/openmcp-project/openmcp` |" in reply
    assert reactions(bot, status.id) == ["eyes", "rocket"]


async def test_comments_by_bots_and_without_commands_are_ignored(people: LandscapeBot):
    bot = people
    number = bot.fake.state.next_issue_number(REPO)
    chatter = bot.fake.add_comment(REPO, number, "LGTM", user="walt")
    await bot.deliver("issue_comment", bot.comment_event(chatter, on_pull=False))
    from_bot = bot.fake.add_comment(REPO, number, "/bootstrap render", user="other-bot[bot]")
    from_bot.user_type = "Bot"
    await bot.deliver("issue_comment", bot.comment_event(from_bot, on_pull=False))
    assert bot.bot_comments(number) == []
    assert bot.fake.state.reactions == []


async def test_several_commands_in_one_comment_get_one_reply(people: LandscapeBot):
    bot = people
    pull, user_commit = propose(bot, "enable-provider", bot.config, title="Enable the provider")
    body = "/bootstrap render\nand then\n/bootstrap apply\n"
    asked = bot.fake.add_comment(REPO, pull.number, body, user="walt")
    await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=True))

    head = head_of(bot.repository.bare, "enable-provider")
    assert head.message == "Re-render manifests"
    assert [str(p) for p in head.parent_ids] == [user_commit]
    reply = reply_to(bot, pull.number, asked.id)
    assert f"Rendered {user_commit[:12]} and committed the result as {str(head.id)[:12]}" in reply
    assert reply.index("> /bootstrap render") < reply.index("> /bootstrap apply")
    assert "`main` names no cluster: set `bot.cluster` in `.bootstrap/config.yaml`" in reply
    assert reactions(bot, asked.id) == ["eyes", "confused"]  # one of them did not succeed
    # Beside the reply: the render's own check run and sticky summary.
    assert len(bot.bot_comments(pull.number)) == 2


async def test_an_error_is_answered_with_an_id_the_logs_carry(people: LandscapeBot, caplog):
    bot = people
    number = bot.fake.state.next_issue_number(REPO)
    bot.fake.fail_next("GET", r"/git/ref/heads/main$", 403, message="Resource not accessible")
    asked = bot.fake.add_comment(REPO, number, "/bootstrap status", user="walt")
    await bot.deliver("issue_comment", bot.comment_event(asked, on_pull=False))
    reply = reply_to(bot, number, asked.id)
    match = re.search(r"failed on this command: this is a bug \(error `([0-9a-f]{12})`\)", reply)
    assert match is not None, reply
    assert any(match.group(1) in r.getMessage() for r in caplog.records)
    assert reactions(bot, asked.id) == ["eyes", "confused"]
