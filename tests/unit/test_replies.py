"""What the bot answers to `/bootstrap` commands."""

from __future__ import annotations

from bot.core.changes import summarize_changes
from bot.core.discovery import Landscape
from bot.core.replies import Answer, help_text, plan_text, reply_body, which_landscape


def test_one_reply_quotes_each_command_above_its_answer():
    body = reply_body("walt", [Answer("/bootstrap plan", "plan", True), Answer("/x", "no", False)])
    assert body == "@walt\n\n> /bootstrap plan\n\nplan\n\n> /x\n\nno\n"


def test_help_says_where_the_user_may_act():
    dev, prod = Landscape("dev"), Landscape("prod")
    text = help_text("write", [dev], [prod])
    assert "| `/bootstrap plan` |" in text
    assert "With your role `write` you may act on: `dev`. Not on: `prod`" in text
    assert help_text("read", [], []).endswith("This repository has no landscape yet.")


def test_which_landscape_when_the_place_does_not_say():
    assert "no landscape" in which_landscape([])
    text = which_landscape([Landscape("dev"), Landscape("prod")])
    assert "`dev`, `prod`" in text and "`--landscape=BRANCH`" in text


def test_a_plan_that_changes_nothing_says_so():
    same = summarize_changes({"a": b"1"}, {"a": b"1"}, [], [])
    text = plan_text(same, branch="dev", commit="0123456789abcdef", pull=None)
    assert text == "Re-rendering `dev` at 0123456789ab changes nothing in `dev`."
    more = summarize_changes({}, {"envs/dev/a.yaml": b"a: 1\n"}, [], [])
    text = plan_text(more, branch="dev", commit="0123456789abcdef", pull=4)
    assert text.startswith("Merging #4 (rendered at 0123456789ab) would change `dev`:")
