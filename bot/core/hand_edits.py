"""Generated files a pull request edits by hand. Pure.

The bot owns the directories the render writes (`envs/<env>/`, `resources/`): whatever a
person changes there by hand, the next render puts back. A pull request that does so is told
where, and what to change instead; the bot never commits over such an edit (that would undo
someone's work without a word), and merging it would apply the edit until a re-render
reverts it.

An edit is a path under the owned directories that a commit of someone other than the bot
changed, that differs from the base (merging changes it), and that differs from the render
(the bot would change it back).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from bot.core.config import CONFIG_PATH

EXTRA_OUTPUT = "resources/openmcp/extra/"
EXTRA_MANIFESTS = ".bootstrap/extra-manifests/"
PATCHES = ".bootstrap/kustomization-patches.yaml"


@dataclass(frozen=True)
class HandEdit:
    path: str
    #: the first line where the file differs from the render (1 for a file added or removed)
    line: int
    #: what the pull request should change instead
    instead: str


def hand_edits(
    head: Mapping[str, bytes],
    base: Mapping[str, bytes],
    rendered: Mapping[str, bytes],
    *,
    touched: Collection[str] | None,
    owned: Sequence[str],
    config_path: str = CONFIG_PATH,
) -> tuple[HandEdit, ...]:
    """The generated files `head` edits by hand (see above); `touched` holds the paths other
    people's commits changed, None when that is unknown (every path counts then)."""
    prefixes = tuple(f"{d.rstrip('/')}/" for d in owned)
    edits = []
    for path in sorted(set(head) | set(rendered), key=str.encode):
        if not path.startswith(prefixes) or (touched is not None and path not in touched):
            continue
        mine, theirs, generated = head.get(path), base.get(path), rendered.get(path)
        if mine in (theirs, generated):
            continue
        line = first_differing_line(mine, generated)
        edits.append(HandEdit(path, line, instead(path, config_path)))
    return tuple(edits)


def first_differing_line(edited: bytes | None, generated: bytes | None) -> int:
    if edited is None or generated is None:
        return 1
    mine, theirs = edited.split(b"\n"), generated.split(b"\n")
    for number, (a, b) in enumerate(zip(mine, theirs, strict=False), start=1):
        if a != b:
            return number
    return min(len(mine), len(theirs) + 1)  # one is the other cut short: where it ends


def instead(path: str, config_path: str) -> str:
    """Where the change belongs: the extra manifest a file was copied from, or the config and
    the patches every other generated file is rendered from."""
    if path.startswith(EXTRA_OUTPUT):
        return f"`{EXTRA_MANIFESTS}{path.removeprefix(EXTRA_OUTPUT)}`"
    return f"`{config_path}` (or patch the file in `{PATCHES}`)"
