"""Every name the bot leaves on GitHub, defined once: check runs, its own branches and the
hidden markers that let it find its comments (and records) again after a restart.

These are part of the bot's contract with its own past: a renamed marker would make the bot
open a second comment beside the first, so change one only together with a migration.
"""

from __future__ import annotations

# -- check runs ---------------------------------------------------------------------------------
RENDER_CHECK = "bootstrap-bot/render"
DISCOVERY_CHECK = "bootstrap-bot/discovery"
DRY_RUN_CHECK = "bootstrap-bot/dry-run"
DEPLOY_CHECK = "bootstrap-bot/deploy"
#: on a landscape branch with `bot.mirror`: the last copy of a release into the mirror
MIRROR_CHECK = "bootstrap-bot/mirror"
#: the buttons on the bot's check runs (`check_run` `requested_action` identifiers), each
#: redoing the step of one check run
RERENDER_ACTION = "rerender"
APPLY_ACTION = "apply"
ACTION_CHECKS = {RERENDER_ACTION: RENDER_CHECK, APPLY_ACTION: DEPLOY_CHECK}

# -- branches -----------------------------------------------------------------------------------
#: every branch the bot creates starts with this
BOT_BRANCHES = "bootstrap-bot/"
RENDER_BRANCH_PREFIX = BOT_BRANCHES + "render/"
UPGRADE_BRANCH_PREFIX = BOT_BRANCHES + "upgrade/"
#: the namespace of the refs the bot stages a push in (never a branch)
STAGING_REFS = "refs/bootstrap-bot/push/"


def render_branch(landscape_branch: str) -> str:
    """The bot's branch proposing the re-render of a stale landscape branch."""
    return RENDER_BRANCH_PREFIX + landscape_branch


def upgrade_branch(landscape_branch: str) -> str:
    """The bot's branch proposing a newer release for a landscape branch."""
    return UPGRADE_BRANCH_PREFIX + landscape_branch


# -- comment markers ----------------------------------------------------------------------------
SUMMARY_MARKER = "render-summary"
RENDER_WITHDRAWN_MARKER = "render-withdrawn"
RENDER_TAKEN_OVER_MARKER = "render-branch-taken-over"
UPGRADE_TAKEN_OVER_MARKER = "upgrade-taken-over"
UPGRADE_WITHDRAWN_MARKER = "upgrade-withdrawn"
UPGRADE_DECLINED_MARKER = "upgrade-declined"
#: a waiting check run's plan: `<!-- bootstrap-bot:retry ATTEMPT WHEN -->` (`bot.core.retries`)
RETRY_MARKER = "retry"
#: the upgrade pull request's record in its body: `<!-- bootstrap-bot:upgrade {json} -->`
UPGRADE_RECORD_MARKER = "upgrade"


def reply_marker(comment_id: int) -> str:
    """The marker of the bot's one reply to a `/bootstrap` comment."""
    return f"reply-to-{comment_id}"


def deploy_marker(commit: str) -> str:
    """The marker of the bot's one deploy report for a commit on a pull request."""
    return f"deploy-{commit}"


def rerun_marker(sha: str) -> str:
    """The marker of the bot's answer to a Re-run it refused on a pull request's commit."""
    return f"rerun-refused-{sha[:12]}"


def comment_marker(marker: str) -> str:
    """The hidden first line that identifies one sticky bot comment."""
    return f"<!-- bootstrap-bot:{marker} -->"


# -- job queue ----------------------------------------------------------------------------------
def repository_key(full_name: str) -> str:
    """The job queue key of a repository: its jobs run one at a time, in order."""
    return f"repo:{full_name.lower()}"
