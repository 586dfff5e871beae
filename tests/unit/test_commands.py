"""The `/bootstrap` comment parser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.commands import COMMANDS, Command, Reply, parse_comment
from bot.golang.semver import Version


def parse(body: str, author_type: str = "User"):
    return parse_comment(body, author_type=author_type)


def test_a_comment_without_commands_is_ignored():
    assert parse("LGTM, thanks!") == []
    assert parse("see /bootstrap plan in the docs") == []  # not at the start of a line


def test_commands_one_per_line_in_order():
    parsed = parse("Let's see.\n/bootstrap plan\n  /bootstrap upgrade v0.20.1\n/BOOTSTRAP Status")
    assert [p.name for p in parsed if isinstance(p, Command)] == ["plan", "upgrade", "status"]
    assert parsed[1] == Command(
        "upgrade", Version.parse("v0.20.1"), line="/bootstrap upgrade v0.20.1"
    )


def test_bots_are_never_obeyed():
    assert parse("/bootstrap apply", author_type="Bot") == []


def test_quoted_and_fenced_commands_are_not_run_again():
    body = "> /bootstrap apply\n\n```\n/bootstrap apply\n```\nok"
    assert parse(body) == []


def test_options_and_versions():
    (apply,) = parse("/bootstrap apply --rotate-key")
    assert isinstance(apply, Command) and apply.options == {"--rotate-key"}
    (ignore,) = parse("/bootstrap ignore")
    assert ignore == Command("ignore", None, line="/bootstrap ignore")
    (status,) = parse("/bootstrap status --landscape=prod/eu")
    assert isinstance(status, Command) and (status.name, status.landscape) == ("status", "prod/eu")
    (upgrade,) = parse("/bootstrap upgrade --landscape=dev v0.2.0")
    assert isinstance(upgrade, Command)
    assert (upgrade.version, upgrade.landscape) == (Version.parse("v0.2.0"), "dev")


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("/bootstrap bogus", "`bogus` is not a `/bootstrap` command"),
        ("/bootstrap upgrad", "did you mean 'upgrade'?"),
        ("/bootstrap", "`/bootstrap` needs a command"),
        ("/bootstrap plan now", "`/bootstrap plan` takes no arguments, not `now`"),
        ("/bootstrap upgrade 1.0 2.0", "takes [VERSION], not `1.0 2.0`"),
        ("/bootstrap upgrade latest", "`latest` is not a version"),
        ("/bootstrap apply --force", "takes [--rotate-key], not `--force`"),
        ("/bootstrap plan --landscape=", "`--landscape=` names no branch"),
    ],
)
def test_usage_errors_are_replies(line, complaint):
    (reply,) = parse(line)
    assert isinstance(reply, Reply) and complaint in reply.text and reply.line == line


def test_an_unknown_command_reply_lists_the_commands():
    (reply,) = parse("/bootstrap bogus")
    assert isinstance(reply, Reply)
    for name in ("help", "render", "plan", "upgrade", "ignore", "apply", "status"):
        assert f"`/bootstrap {name}" in reply.text


def test_the_readme_lists_every_command():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `/bootstrap"))
    for name in COMMANDS:
        assert re.search(rf"`(/bootstrap )?{name}\b", table), name


def test_a_comment_runs_at_most_ten_commands_and_says_so():
    from bot.core.commands import MAX_COMMANDS, too_many_commands
    from bot.core.replies import Answer, reply_body

    parsed = parse_comment("/bootstrap status\n" * 1000, author_type="User")
    assert len(parsed) == MAX_COMMANDS + 1
    assert all(isinstance(p, Command) for p in parsed[:MAX_COMMANDS])
    last = parsed[-1]
    assert isinstance(last, Reply) and last.text == too_many_commands(990)
    # even if every command failed with the longest usage text, the reply fits in a comment
    long_lines = "\n".join(f"/bootstrap nope{'x' * 5000}" for _ in range(1000))
    answers = [Answer(p.line, p.text, False) for p in parse_comment(long_lines, author_type="User")
               if isinstance(p, Reply)]  # fmt: skip
    assert len(reply_body("walt", answers)) < 65_536
