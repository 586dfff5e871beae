"""What every handler is given after the event: the operator's settings and the GitHub App.

Handlers find the installation that sent a delivery here and get its REST client and the
cache repository for a GitHub repository; nothing else is shared between deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.github import GitHubApp, InstallationClient
from bot.gitrepo import GitRepository
from bot.settings import Settings


class NotFromAnInstallation(ValueError):
    """A delivery without an installation (the App's own hooks, such as `ping`)."""


@dataclass
class BotContext:
    settings: Settings
    github: GitHubApp

    def installation(self, payload: dict[str, Any]) -> InstallationClient:
        """The REST client of the installation a webhook payload came from."""
        installation = payload.get("installation") or {}
        if "id" not in installation:
            raise NotFromAnInstallation("the delivery names no installation")
        return self.github.installation(int(installation["id"]))

    def git(self, full_name: str, clone_url: str) -> GitRepository:
        """The cache repository for a GitHub repository."""
        return GitRepository.in_cache(self.settings.cache_dir, full_name, clone_url)
