"""What the bot answers to `/bootstrap` commands. Pure.

One comment may hold several commands; the bot answers them all in one reply, each under the
quoted command line, and reacts 🚀 when every one succeeded, 😕 otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.changes import ChangeSummary, summary_markdown
from bot.core.commands import LANDSCAPE_OPTION, PREFIX, usage
from bot.core.discovery import Landscape
from bot.core.names import APPLY_ACTION, RENDER_CHECK, RERENDER_ACTION


@dataclass(frozen=True)
class Answer:
    """The answer to one command line; `ok` is False for refusals and failures."""

    line: str
    text: str
    ok: bool


def reply_body(user: str, answers: Sequence[Answer]) -> str:
    parts = [f"@{user}"]
    for answer in answers:
        parts.append(f"> {answer.line}\n\n{answer.text.strip()}")
    return "\n\n".join(parts) + "\n"


def help_text(role: str, allowed: Sequence[Landscape], others: Sequence[Landscape]) -> str:
    def listed(landscapes: Sequence[Landscape]) -> str:
        return ", ".join(f"`{la.branch}`" for la in landscapes)

    if allowed:
        mine = f"With your role `{role}` you may act on: {listed(allowed)}."
    else:
        mine = f"With your role `{role}` you may not act on any landscape here."
    if others:
        mine += f" Not on: {listed(others)} (they need a stronger role)."
    if not allowed and not others:
        mine = "This repository has no landscape yet."
    return f"{usage()}\n\n{mine}"


def not_a_landscape(where: str, landscapes: Sequence[Landscape]) -> str:
    known = ", ".join(f"`{la.branch}`" for la in landscapes) or "none"
    return f"{where} is not a landscape branch (landscapes: {known})."


def which_landscape(landscapes: Sequence[Landscape]) -> str:
    if not landscapes:
        return (
            "This repository has no landscape: add `.bootstrap/config.yaml` to the default "
            "branch, or list landscapes in `.github/bootstrap-bot.yml`."
        )
    known = ", ".join(f"`{la.branch}`" for la in landscapes)
    return (
        f"This repository has several landscapes ({known}): say which with "
        f"`{LANDSCAPE_OPTION}BRANCH`, or comment on a pull request into it."
    )


def denied(name: str, landscape: Landscape, role: str, minimum: str, why: str = "") -> str:
    return (
        f"`{PREFIX} {name}` on `{landscape.branch}` needs the `{minimum}` role on this "
        f"repository{why}; you have `{role}`."
    )


def internal_error(error_id: str) -> str:
    """A command that hit a bug; `error_id` is the correlation id its log lines carry."""
    return (
        f"bootstrap-bot failed on this command: this is a bug (error `{error_id}`); its "
        f"operators find the details in the logs under that id. Try again later."
    )


def peer_unavailable(what: str) -> str:
    """A command that could not finish because a peer (registry, GitHub, git, a cluster) is
    unreachable or failing; nothing is wrong with what was asked."""
    return f"bootstrap-bot could not finish this now: {what}. Try again in a few minutes."


def plan_text(summary: ChangeSummary, *, branch: str, commit: str, pull: int | None) -> str:
    source = (
        f"Merging #{pull} (rendered at {commit[:12]})"
        if pull
        else (f"Re-rendering `{branch}` at {commit[:12]}")
    )
    if not summary.files_differ:
        return f"{source} changes nothing in `{branch}`."
    return f"{source} would change `{branch}`:\n\n{summary_markdown(summary)}"


def status_text(
    *,
    landscape: Landscape,
    commit: str,
    version: str,
    render: str,
    proposal: str | None,
    upgrade: str | None = None,
    declined: str = "none",
    cluster: tuple[tuple[str, str], ...] = (),
) -> str:
    """The landscape's state as a table; `cluster` adds rows about what its cluster runs."""
    rows = [
        ("landscape branch", f"`{landscape.branch}` at {commit[:12]}"),
        ("bootstrap config", f"`{landscape.config_path}`"),
        ("openMCP release", version),
        ("rendered manifests", render),
        ("open re-render proposal", proposal or "none"),
        ("open upgrade proposal", upgrade or "none"),
        ("declined releases", declined),
        *cluster,
    ]
    return "| what | state |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)


# -- the commands' own answers ------------------------------------------------------------------
def branch_missing(branch: str) -> str:
    return f"The branch `{branch}` does not exist."


def ref_missing(ref: str) -> str:
    return f"`{ref}` does not exist."


FORKS_IGNORED = (
    "Pull requests from forks are not rendered here: the bot's operator set "
    "`fork_pull_requests` to `ignore`."
)


def rendered_pull(rendered: str, head: str, committed: bool, title: str) -> str:
    """`/bootstrap render` on a pull request."""
    done = (
        f"Rendered {rendered[:12]} and committed the result as {head[:12]}"
        if committed
        else f"Rendered {rendered[:12]}"
    )
    return (
        f"{done}: **{title}** (details in the `{RENDER_CHECK}` check run and the summary comment)."
    )


def branch_up_to_date(branch: str, commit: str) -> str:
    return f"The manifests of `{branch}` are up to date at {commit[:12]}."


def branch_stale(branch: str, commit: str, proposal: str) -> str:
    return (
        f"The manifests of `{branch}` are stale at {commit[:12]}: the re-render is proposed in "
        f"{proposal}."
    )


def proposal_taken_over(proposal_branch: str) -> str:
    return f"`{proposal_branch}` holds someone else's commits: left alone."


def branch_does_not_render(branch: str, commit: str, summary: str) -> str:
    return f"`{branch}` at {commit[:12]} does not render.\n\n{summary}"


def render_failed_text(title: str, summary: str) -> str:
    return f"{title}.\n\n{summary}"


# -- what an upgrade check found (the reply to `/bootstrap upgrade`, the logs) -------------------
UPGRADES_DISABLED = "Upgrades are disabled (`bot.upgrade.enabled`)."


def config_does_not_load(config_path: str, error: object) -> str:
    return f"`{config_path}` does not load: {error}"


def location_unreadable(error: object) -> str:
    return f"`component.location`: {error}"


def registry_unreadable(error: object) -> str:
    return f"The registry cannot be read now: {error}"


def at_version_already(branch: str, version: str) -> str:
    return f"`{branch}` is at `{version}` already."


def nothing_newer(current: str, declined: Sequence[str]) -> str:
    listed = f" (declined: {', '.join(f'`{v}`' for v in declined)})" if declined else ""
    return f"No allowed release newer than `{current}`{listed}."


def cannot_propose(version: str, branch: str, error: object) -> str:
    return f"`{version}` cannot be proposed for `{branch}`: {error}"


def mirror_failed(version: str, mirror: str, error: object) -> str:
    return (
        f"`{version}` is not proposed: it could not be copied into the mirror `{mirror}` and "
        f"verified there: {error}"
    )


def mirrored(mirror: str, versions: int, artifacts: int, size: int) -> str:
    """The upgrade body's line on the transfer that came before it."""
    if versions == 0:
        return f"**Mirrored:** the release is in `{mirror}` already, and was verified there."
    return (
        f"**Mirrored:** copied into `{mirror}` and verified there: {versions} component "
        f"versions, {artifacts} OCI artifacts, {size / 2**20:.1f} MiB of local blobs."
    )


def mirror_check_texts(version: str | None, mirror: str, error: object | None) -> tuple[str, str]:
    """The mirror check run on the landscape branch: (title, summary) of the last copy of
    `version` (None: the mirror itself was refused, before any release was looked at)."""
    if error is None:
        return (
            f"{version} copied into the mirror and verified",
            f"`{version}` is in `{mirror}`, verified there, and may be proposed.",
        )
    if version is None:
        return "Nothing can be copied into the mirror", f"{error}\n\nNothing is proposed."
    return (
        f"{version} could not be copied into the mirror",
        f"{mirror_failed(version, mirror, error)}\n\nNothing is proposed until the copy "
        f"succeeds. The bot tries again every round; `/bootstrap upgrade {version}` tries now.",
    )


STATUS_NO_MIRROR_COPY = "no copy tried at this commit yet"


def upgrade_withdrawn(why: str) -> str:
    """The comment on an upgrade pull request the bot closes as no longer needed."""
    return f"{why} This upgrade is no longer proposed."


def rerender_withdrawn(branch: str, commit: str) -> str:
    """The comment on a re-render proposal the bot closes: the branch is up to date."""
    return (
        f"The rendered manifests on `{branch}` are up to date at {commit[:12]}, so this "
        f"re-render is no longer needed."
    )


def taken_over(branch: str, commits: Sequence[str], then: str) -> str:
    """The comment on a proposal whose branch holds someone else's commits."""
    shown = ", ".join(c[:12] for c in commits)
    return (
        f"Someone else pushed to `{branch}` ({shown}), so the bot no longer updates it. "
        f"Merge or close this pull request; once it is closed and the branch deleted, {then}."
    )


DEPLOY_KEYS_NEED_ADMINISTRATION = (
    "GitHub refused the deploy key: the App's installation does not grant `administration: "
    "write`, which clusters with `git.type: deploy-key` need. The bot's operators add it on "
    "the App's settings page (or register the App with `bootstrap-bot app-manifest "
    "--deploy-keys`), and the repository's owner accepts it on the installation; or they "
    "give the cluster another `git.type`"
)
THEN_NEWEST_AGAIN = "the bot proposes the newest release again"
THEN_FRESH_RERENDER = "the bot proposes a fresh re-render"


def not_bound(cluster_name: str, full_name: str, branch: str) -> str:
    return (
        f"cluster `{cluster_name}` is not configured for {full_name} branch `{branch}`: the "
        f"bot's operators bind clusters to repositories and branches in its settings "
        f"(`clusters:`), and a landscape may only name one bound to it"
    )


def upgrade_proposed(outcome: str, version: str | None, branch: str, url: str) -> str:
    verb = {"created": "Proposed", "updated": "Updated the proposal of"}.get(outcome, "Proposing")
    return f"{verb} `{version}` for `{branch}` in {url}."


def upgrade_proposed_already(url: str, version: str | None) -> str:
    return f"{url} proposes `{version}` already."


def no_cluster_named(branch: str, config_path: str) -> str:
    return (
        f"`{branch}` names no cluster: set `bot.cluster` in `{config_path}` to one the bot's "
        f"operators configured."
    )


def applied(report: str, *, branch: str, commit: str, pull: int | None) -> str:
    """`/bootstrap apply`: which commit it applied (in a pull request: the landscape branch,
    not the pull request), then the deploy report."""
    said = f"Applied `{branch}` at {commit[:12]}"
    if pull is not None:
        said += (
            f": the landscape branch as it is, not this pull request (#{pull}); merging it "
            f"applies its changes"
        )
    return f"{said}.\n\n{report}"


IGNORE_WHICH = f"Say which release: `{PREFIX} ignore VERSION`."


def nothing_to_ignore_in(branch: str, version: str, config_path: str) -> str:
    return (
        f"No upgrade of `{branch}` was proposed yet, so there is no pull request to record "
        f"this in; list `{version}` under `bot.upgrade.ignoredVersions` in `{config_path}` "
        f"instead."
    )


def ignored(version: str, branch: str, closed: tuple[str, str] | None = None) -> str:
    """`/bootstrap ignore`; `closed`: the open proposal (url, version) it closed."""
    text = (
        f"`{version}` is declined for `{branch}`: the bot proposes only releases newer than "
        f"it. `{PREFIX} upgrade {version}` undoes this."
    )
    if closed is not None:
        text += f" {closed[0]} proposed `{closed[1]}`, so it is closed."
    return text


STATUS_NO_CONFIG = "unknown: no bootstrap config"
STATUS_INVALID_CONFIG = "unknown: the bootstrap config is invalid"
STATUS_RENDERED = "✅ up to date with the bootstrap config"
STATUS_NOT_APPLIED = "not applied yet"


def status_stale(proposal: str | None) -> str:
    said = "⚠️ stale: the bootstrap config renders other manifests"
    return said + (f"; the re-render is proposed in {proposal}" if proposal else "")


def status_render_unknown(outage: str) -> str:
    return f"unknown now: {outage} (try again later)"


def status_unrenderable(title: str) -> str:
    return f"❌ does not render: {title}"


#: how a check run's state reads in `/bootstrap status`
_MARKS = {"success": "✅", "failure": "❌"}


def check_state(status: str, conclusion: str | None, title: str) -> str:
    """A check run as words: a mark and its title ("⏳" while it is not completed)."""
    if status != "completed":
        return f"⏳ {title or status.replace('_', ' ')}"
    return f"{_MARKS.get(conclusion or '', '⚪')} {title}"


def status_release(version: str | None, component: str) -> str:
    return f"`{version or 'none'}` of `{component}`"


#: the buttons on check runs: (label, description), as GitHub allows (20 and 40 characters)
ACTION_TEXTS = {
    RERENDER_ACTION: ("Re-render", "Render this commit again"),
    APPLY_ACTION: ("Apply again", "Apply this commit to its cluster again"),
}


def rerun_denied(check: str, landscape: Landscape, user: str, role: str, minimum: str) -> str:
    """A Re-run or a check run's button pressed by someone the landscape does not allow."""
    return (
        f"@{user}: re-running `{check}` on `{landscape.branch}` needs the `{minimum}` role on "
        f"this repository (`bot.commandPermission`); you have `{role}`."
    )
