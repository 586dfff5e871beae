"""Which branches of a GitHub repository are landscapes, read from its default branch."""

from __future__ import annotations

from bot.adapters.github.models import Repository
from bot.adapters.github.port import GitHubPort
from bot.core.config import CONFIG_PATH
from bot.core.discovery import DISCOVERY_PATH, Discovery, discover


async def discover_landscapes(gh: GitHubPort, full_name: str) -> tuple[Repository, Discovery]:
    """The repository and its landscapes (`.github/bootstrap-bot.yml`, else the default
    branch's `.bootstrap/config.yaml`)."""
    repository = await gh.repository(full_name)
    branch = repository.default_branch
    listed = await gh.read_file(full_name, DISCOVERY_PATH, branch)
    has_config = listed is None and await gh.read_file(full_name, CONFIG_PATH, branch) is not None
    return repository, discover(branch, listed, has_config)
