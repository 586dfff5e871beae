"""Which branches of a GitHub repository are landscapes, read from its default branch."""

from __future__ import annotations

from bot.adapters.github.models import Repository
from bot.adapters.github.port import GitHubPort
from bot.core.config import CONFIG_PATH
from bot.core.discovery import DISCOVERY_PATH, Discovery, discover


async def discover_landscapes(
    gh: GitHubPort,
    full_name: str,
    *,
    repository: Repository | None = None,
    default_head: str | None = None,
) -> tuple[Repository, Discovery]:
    """The repository and its landscapes (`.github/bootstrap-bot.yml`, else the default
    branch's `.bootstrap/config.yaml`), read at `default_head` when the caller knows the
    default branch's commit (a read at a commit is answered from the cache)."""
    if repository is None:
        repository = await gh.repository(full_name)
    branch = repository.default_branch
    ref = default_head or branch
    listed = await gh.read_file(full_name, DISCOVERY_PATH, ref)
    has_config = listed is None and await gh.read_file(full_name, CONFIG_PATH, ref) is not None
    return repository, discover(branch, listed, has_config)
