"""`/bootstrap` commands in issue and pull request comments (`created` only: editing a comment
never runs it again). The flow is `bot.flows.commands`."""

from __future__ import annotations

from gidgethub import routing
from gidgethub.sansio import Event

from bot.flows.commands import run_comment_commands
from bot.services.context import BotContext

router = routing.Router()


@router.register("issue_comment", action="created")
async def bootstrap_commands(event: Event, context: BotContext) -> None:
    await run_comment_commands(context, context.installation(event.data), event.data)
