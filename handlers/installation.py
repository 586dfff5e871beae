"""The App installed on repositories: find their landscapes and catch them up.

On `installation.created` and `installation_repositories.added`, each repository's landscapes
are refreshed (`bot.flows.repository`) in a job of its own, queued behind that repository's
other work.
"""

from __future__ import annotations

from typing import Any

from gidgethub import routing
from gidgethub.sansio import Event

from bot.flows.checks import checks_completed
from bot.flows.repository import refresh_repository
from bot.kit.logs import bound, new_correlation_id
from bot.services.context import BotContext

router = routing.Router()


@router.register("installation", action="created")
@router.register("installation", action="new_permissions_accepted")
async def installed(event: Event, context: BotContext) -> None:
    _refresh_each(event, context, event.data.get("repositories") or [])


@router.register("installation_repositories", action="added")
async def repositories_added(event: Event, context: BotContext) -> None:
    _refresh_each(event, context, event.data.get("repositories_added") or [])


def _refresh_each(event: Event, context: BotContext, repositories: list[dict[str, Any]]) -> None:
    gh = context.installation(event.data)
    for repository in repositories:
        full_name = repository["full_name"]

        async def refresh(full_name: str = full_name) -> None:
            with bound(repository=full_name, correlation=new_correlation_id()):
                async with checks_completed(context.schedule):
                    await refresh_repository(context, gh, full_name)

        context.submit(full_name, refresh, name=f"refresh {full_name}")
