"""Re-runs of the bot's check runs: GitHub's Re-run button (`check_run` `rerequested`), a
re-run of every check on a commit (`check_suite` `rerequested`), and the buttons the bot puts
on its runs (`check_run` `requested_action`). The flow is `bot.flows.rerun`.
"""

from __future__ import annotations

from gidgethub import routing
from gidgethub.sansio import Event

from bot.core.names import ACTION_CHECKS
from bot.flows.rerun import rerun_check_suite, rerun_checks
from bot.flows.scope import delivery_scope
from bot.services.context import BotContext

router = routing.Router()


@router.register("check_run", action="rerequested")
async def rerun_check(event: Event, context: BotContext) -> None:
    run = event.data["check_run"]
    if not _ours(run, context):
        return
    await _rerun(event, context, run["head_sha"], [run["name"]])


@router.register("check_run", action="requested_action")
async def check_run_button(event: Event, context: BotContext) -> None:
    run = event.data["check_run"]
    check = ACTION_CHECKS.get((event.data.get("requested_action") or {}).get("identifier", ""))
    if check is None or not _ours(run, context):
        return
    await _rerun(event, context, run["head_sha"], [check])


@router.register("check_suite", action="rerequested")
async def rerun_suite(event: Event, context: BotContext) -> None:
    suite = event.data["check_suite"]
    if not _ours(suite, context):
        return
    scope = await delivery_scope(context, event.data)
    await rerun_check_suite(scope, suite["head_sha"], user=event.data["sender"]["login"])


def _ours(item: dict[str, object], context: BotContext) -> bool:
    app = item.get("app")
    return isinstance(app, dict) and app.get("id") == context.github.app_id


async def _rerun(event: Event, context: BotContext, sha: str, names: list[str]) -> None:
    scope = await delivery_scope(context, event.data)
    await rerun_checks(scope, sha, names, user=event.data["sender"]["login"])
