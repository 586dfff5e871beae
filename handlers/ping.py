"""GitHub's `ping`, sent when the App's webhook is created or edited: log that it arrived."""

from __future__ import annotations

import logging
from typing import Any

from gidgethub import routing
from gidgethub.sansio import Event

log = logging.getLogger(__name__)
router = routing.Router()


@router.register("ping")
async def log_ping(event: Event, context: Any) -> None:
    hook = event.data.get("hook") or {}
    log.info(
        "webhook ping %s for hook %s: %s",
        event.delivery_id,
        hook.get("id"),
        event.data.get("zen", ""),
    )
