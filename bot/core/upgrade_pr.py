"""The upgrade pull request's texts and the record it carries. Pure.

GitHub is the bot's only state, so each upgrade PR body ends with a hidden record (landscape,
from, to, input digest, the versions people declined, whether a command pinned the version).
The newest upgrade PR of a landscape, open or closed, says what was declined so far: a PR
closed unmerged declines its version unless the bot withdrew it itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.core.changes import ChangeSummary, destructive_caution, summary_markdown
from bot.core.dry_run import DryRunReport
from bot.core.impact import Impact, impact_markdown, root_change
from bot.core.names import UPGRADE_RECORD_MARKER, comment_marker
from bot.core.problems import Problem
from bot.core.upgrades import parse_versions

_RECORD = re.compile(r"<!-- bootstrap-bot:" + UPGRADE_RECORD_MARKER + r" (\{.*?\}) -->")
#: GitHub refuses bodies above 65536 characters
MAX_BODY = 60_000


@dataclass(frozen=True)
class UpgradeRecord:
    landscape: str
    before: str
    after: str
    #: digest of what the upgrade commit was built from (`inputs_digest`)
    inputs: str
    #: versions people declined (closed unmerged, `/bootstrap ignore`), oldest first
    declined: tuple[str, ...] = ()
    #: asked for by `/bootstrap upgrade VERSION`: the poll keeps this version
    pinned: bool = False
    downgrade: bool = False
    #: closed by the bot because it was no longer needed (not declined)
    withdrawn: bool = False

    def marker(self) -> str:
        data = {
            "landscape": self.landscape,
            "from": self.before,
            "to": self.after,
            "inputs": self.inputs,
            "declined": list(self.declined),
            "pinned": self.pinned,
            "downgrade": self.downgrade,
            "withdrawn": self.withdrawn,
        }
        return comment_marker(f"{UPGRADE_RECORD_MARKER} {json.dumps(data, sort_keys=True)}")

    def declining(self, version: str) -> UpgradeRecord:
        """The record with `version` declined as well."""
        if version in self.declined:
            return self
        return replace(self, declined=(*self.declined, version))


def read_record(body: str) -> UpgradeRecord | None:
    """The record in a PR body; None when there is none or it is damaged (edited by hand)."""
    found = _RECORD.findall(body or "")
    if not found:
        return None
    try:
        data = json.loads(found[-1])
        record = UpgradeRecord(
            landscape=str(data["landscape"]),
            before=str(data["from"]),
            after=str(data["to"]),
            inputs=str(data["inputs"]),
            declined=tuple(str(v) for v in data.get("declined") or ()),
            pinned=bool(data.get("pinned", False)),
            downgrade=bool(data.get("downgrade", False)),
            withdrawn=bool(data.get("withdrawn", False)),
        )
    except (ValueError, KeyError, TypeError):
        return None
    return record


def with_record(body: str, record: UpgradeRecord) -> str:
    """`body` carrying `record` instead of the one it had."""
    kept = _RECORD.sub("", body or "").rstrip()
    return f"{kept}\n\n{record.marker()}\n"


@dataclass(frozen=True)
class PastUpgrade:
    """One upgrade pull request of a landscape, as the decision needs it."""

    number: int
    state: str  # open | closed
    merged: bool
    record: UpgradeRecord | None


@dataclass(frozen=True)
class UpgradeHistory:
    """What the upgrade PRs of a landscape say, newest first."""

    pulls: Sequence[PastUpgrade] = field(default_factory=tuple)

    @property
    def newest(self) -> PastUpgrade | None:
        return self.pulls[0] if self.pulls else None

    @property
    def declined(self) -> tuple[str, ...]:
        """The versions declined so far: the newest record's, plus its own version when it
        was closed unmerged by someone (a lost webhook changes nothing)."""
        newest = self.newest
        if newest is None or newest.record is None:
            return ()
        record = newest.record
        closed_unmerged = newest.state == "closed" and not newest.merged
        if closed_unmerged and not record.withdrawn:
            record = record.declining(record.after)
        return record.declined


def declined_text(declined: Iterable[str]) -> str:
    """How `/bootstrap status` shows declined versions."""
    versions = parse_versions(declined)
    if not versions:
        return "none"
    return f"`{versions[-1]}` and older (declined: {', '.join(f'`{v}`' for v in versions)})"


def inputs_digest(
    files: Mapping[str, bytes], *, config_path: str, version: str, owned: Iterable[str]
) -> str:
    """A digest of what an upgrade commit is built from: the landscape's inputs (`.bootstrap/`
    and the config), the files the render owns, and the version. Anything else may change
    on the landscape branch without rebuilding the upgrade."""
    prefixes = (".bootstrap/", *(f"{d.rstrip('/')}/" for d in owned))
    digest = hashlib.sha256(f"version\0{version}\0config\0{config_path}\0".encode())
    for path in sorted(files):
        if path == config_path or path.startswith(prefixes):
            digest.update(f"{path}\0{len(files[path])}\0".encode())
            digest.update(files[path])
    return "sha256:" + digest.hexdigest()


def upgrade_title(environment: str, version: str, *, downgrade: bool = False) -> str:
    """The pull request's title, and its commit's message."""
    verb = "Downgrade" if downgrade else "Upgrade"
    return f"{verb} openMCP {environment} to {version}"


def upgrade_body(
    record: UpgradeRecord,
    *,
    environment: str,
    impact: Impact,
    summary: ChangeSummary,
    warnings: Sequence[Problem] = (),
    dry_run: DryRunReport | None = None,
    mirrored: str = "",
) -> str:
    """The verdict first (from → to, destructive changes, the dry run, what was copied into
    the mirror), then the tables, then the commands; the record last."""
    verb = "Downgrades" if record.downgrade else "Upgrades"
    # with a mirror the location's repository changes too: it is the copy that is rendered
    edited = (
        "`component.location` (the release in the mirror)"
        if mirrored
        else ("the version in `component.location`")
    )
    parts = [
        f"**{verb} `{record.landscape}`: {root_change(impact)}** (openMCP `{environment}`): "
        f"{edited} and the manifests rendered from it, in one commit.",
        destructive_caution(summary),
    ]
    if record.downgrade:
        parts.append(
            f"> [!WARNING]\n> `{record.after}` is older than `{record.before}`: a downgrade, "
            f"asked for with `/bootstrap upgrade {record.after}`."
        )
    if dry_run is not None:
        parts.append(dry_run.verdict())
    parts.append(mirrored)
    parts += [
        "### What the release changes",
        impact_markdown(impact),
        f"### What merging changes in `{record.landscape}`",
        summary_markdown(summary, caution=False),
    ]
    if warnings:
        lines = "\n".join(f"- {w}" for w in warnings)
        parts.append(f"**Warnings**\n\n{lines}")
    parts.append(_upgrade_commands(record))
    body = "\n\n".join(p.strip() for p in parts if p)
    if len(body) > MAX_BODY:
        body = body[:MAX_BODY] + "\n\n… (cut: the full change summary is in the check run)"
    return f"{body}\n\n{record.marker()}\n"


def _upgrade_commands(record: UpgradeRecord) -> str:
    version = record.after
    if record.pinned:
        keeps = (
            f"`{version}` was asked for, so newer releases do not replace it here; "
            "`/bootstrap upgrade` proposes the newest allowed one instead."
        )
    else:
        keeps = (
            f"A newer release updates this pull request; closing it unmerged declines "
            f"`{version}` (`/bootstrap upgrade {version}` undoes that)."
        )
    return (
        f"**Commands:** `/bootstrap plan` (what merging changes, dry run again) · "
        f"`/bootstrap ignore {version}` · `/bootstrap upgrade VERSION` · `/bootstrap help`. "
        f"{keeps}"
    )


def declined_note(version: str, *, branch_kept: bool) -> str:
    """The comment on an upgrade PR closed unmerged."""
    text = (
        f"Closed without merging: `{version}` is declined, so the bot proposes only releases "
        f"newer than it. `/bootstrap upgrade {version}` undoes this."
    )
    if branch_kept:
        text += (
            "\n\nThe branch holds commits someone else pushed, so it was kept; delete it to "
            "let the bot propose the next release."
        )
    return text


def undeclined(declined: Sequence[str], version: str) -> tuple[str, ...]:
    """`declined` without `version` (however the registry spells it)."""
    wanted = parse_versions([version])
    return tuple(v for v in declined if not wanted or parse_versions([v]) != wanted)
