"""`/bootstrap` commands in issue and pull request comments. Pure.

A comment may hold several commands, one per line; each line starting with `/bootstrap` becomes
a `Command` or a `Reply` (a usage error, with a "did you mean"). Lines in code blocks and quoted
lines (`> /bootstrap …`, how GitHub quotes a reply) are not commands, so quoting an earlier
command does not run it again. Comments written by bots, the bot itself included, are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

from bot.core.problems import did_you_mean
from bot.golang.semver import InvalidVersion, Version

PREFIX = "/bootstrap"
Name = Literal["help", "render", "plan", "upgrade", "ignore", "apply", "status"]

#: name -> (argument shown in the usage, what it does)
COMMANDS: dict[str, tuple[str, str]] = {
    "help": ("", "list the commands and the landscapes you may act on"),
    "render": ("", "re-render the manifests from the bootstrap config"),
    "plan": ("", "show what merging would change in the landscape"),
    "upgrade": ("[VERSION]", "propose the newest allowed openMCP release, or VERSION"),
    "ignore": ("[VERSION]", "stop proposing VERSION (default: the one proposed here)"),
    "apply": ("[--rotate-key]", "apply the landscape to its cluster now"),
    "status": ("", "show the landscape's versions and what the cluster runs"),
}
_OPTIONS = {"apply": {"--rotate-key"}}
LANDSCAPE_OPTION = "--landscape="
_FENCE = re.compile(r"^\s*(```|~~~)")
#: commands run from one comment; the rest are answered once (a reply stays within GitHub's
#: 65,536 characters however long the comment)
MAX_COMMANDS = 10
#: how much of a command line the reply quotes
MAX_QUOTED = 200


@dataclass(frozen=True)
class Command:
    name: Name
    version: Version | None = None
    options: frozenset[str] = frozenset()
    line: str = ""
    #: `--landscape=BRANCH`: which landscape, where the comment's place does not say
    landscape: str | None = None


@dataclass(frozen=True)
class Reply:
    """A line that looked like a command but is not one; `text` tells the user why."""

    text: str
    line: str = ""


Parsed = Command | Reply


def usage() -> str:
    """The command table, as Markdown."""
    rows = [
        f"| `{PREFIX} {name}{' ' + argument if argument else ''}` | {purpose} |"
        for name, (argument, purpose) in COMMANDS.items()
    ]
    return (
        "| command | what it does |\n|---|---|\n"
        + "\n".join(rows)
        + f"\n\nIn a pull request the commands act on the landscape it targets; elsewhere, in a "
        f"repository with several landscapes, add `{LANDSCAPE_OPTION}BRANCH`."
    )


def _command_lines(body: str) -> list[str]:
    lines = []
    in_fence = False
    for raw in body.splitlines():
        if _FENCE.match(raw):
            in_fence = not in_fence
            continue
        line = raw.strip()
        if in_fence or line.startswith(">"):
            continue
        words = line.split()
        if words and words[0].lower() == PREFIX:
            lines.append(line)
    return lines


def parse_comment(body: str, *, author_type: str) -> list[Parsed]:
    """The commands in a comment, in order; [] when there are none or a bot wrote it. Past
    `MAX_COMMANDS`, one `Reply` says how many were left out."""
    if author_type.lower() == "bot":
        return []
    lines = _command_lines(body)
    parsed = [_parse_line(_quoted(line)) for line in lines[:MAX_COMMANDS]]
    left = len(lines) - MAX_COMMANDS
    if left > 0:
        parsed.append(Reply(too_many_commands(left), f"… and {left} more `{PREFIX}` lines"))
    return parsed


def too_many_commands(left: int) -> str:
    return (
        f"A comment runs at most {MAX_COMMANDS} commands; the other {left} were not run. "
        f"Write them in another comment."
    )


def _quoted(line: str) -> str:
    return line if len(line) <= MAX_QUOTED else line[:MAX_QUOTED] + "…"


def _parse_line(line: str) -> Parsed:
    words = line.split()[1:]
    if not words:
        return Reply(f"`{PREFIX}` needs a command.\n\n{usage()}", line)
    name, arguments = words[0].lower(), words[1:]
    if name not in COMMANDS:
        hint = did_you_mean(name, COMMANDS)
        return Reply(f"`{name}` is not a `{PREFIX}` command{hint}\n\n{usage()}", line)
    landscape = None
    for argument in [a for a in arguments if a.startswith(LANDSCAPE_OPTION)]:
        landscape = argument.removeprefix(LANDSCAPE_OPTION)
        arguments.remove(argument)
        if not landscape or landscape != landscape.strip("/"):
            return Reply(f"`{argument}` names no branch.", line)
    allowed = _OPTIONS.get(name, set())
    options = frozenset(a for a in arguments if a in allowed)
    rest = [a for a in arguments if a not in allowed]
    takes_version = COMMANDS[name][0] == "[VERSION]"
    if len(rest) > (1 if takes_version else 0):
        return Reply(f"`{PREFIX} {name}` {_expects(name)}, not `{' '.join(rest)}`.", line)
    version = None
    if rest:
        try:
            version = Version.parse(rest[0])
        except InvalidVersion:
            return Reply(f"`{rest[0]}` is not a version (expected e.g. `v0.20.1`).", line)
    return Command(cast(Name, name), version, options, line, landscape)


def _expects(name: str) -> str:
    argument = COMMANDS[name][0]
    return f"takes {argument}" if argument else "takes no arguments"
