"""What the App would post about a landscape, worked out offline: the upgrade it would
propose, with the pull request's body and its render check run, from the landscape directory
and the releases its config names. Nothing is pushed and GitHub is not asked.

1. the landscape as it is: its config, current release and rendered objects;
2. the newest release its upgrade policy allows (none: nothing to propose);
3. the version bump as the bot makes it (a text edit of `component.location`), rendered;
4. what the release changes and what merging changes: the body and the check run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core.changes import ChangeSummary
from bot.core.config_edit import set_component_version
from bot.core.fileset import FileSet
from bot.core.impact import upgrade_impact
from bot.core.names import upgrade_branch
from bot.core.reports import Merging, RenderReport, render_comment, render_succeeded
from bot.core.upgrade_pr import UpgradeRecord, inputs_digest, upgrade_body, upgrade_title
from bot.core.upgrades import select_upgrade
from bot.ocm.location import Repository, parse_location
from bot.ocm.reader import ComponentReader
from bot.services.pipeline import (
    change_summary,
    current_objects,
    read_config,
    release_graph,
    render_tree,
)

#: what the render owns, whatever the environment (as the upgrade flow digests it)
OWNED = ("envs", "resources")
OpenReader = Callable[[Repository], ComponentReader]


@dataclass(frozen=True)
class UpgradePreview:
    before: str
    after: str
    title: str
    body: str
    #: the render check run on the upgrade commit, and the summary comment saying the same
    check: RenderReport
    comment: str
    summary: ChangeSummary


def preview_upgrade(
    tree: FileSet, open_reader: OpenReader, *, branch: str, config_path: str
) -> UpgradePreview | None:
    """The upgrade the bot would propose for the landscape `tree` (the branch `branch`)."""
    # 1.
    config, _ = read_config(tree, config_path)
    location = parse_location(config.component.location)
    current = location.version or ""  # the render refused a location without one
    # 2.
    versions = open_reader(location.repository).list_versions(location.component)
    chosen = select_upgrade(current, versions, config.bot.upgrade)
    if chosen is None:
        return None
    version = str(chosen)
    # 3.
    edited = set_component_version(tree[config_path].decode("utf-8"), version)
    after = render_tree(tree | {config_path: edited.encode()}, open_reader, config_path=config_path)
    # 4.
    objects_before = current_objects(tree, config)
    before_objects = [o for d in (objects_before[0] or {}).values() for o in d]
    graph = release_graph(config, open_reader, config_path=config_path)
    impact = upgrade_impact(graph, after.graph, before_objects, after.all_objects)
    summary = change_summary(tree, after, objects_before=objects_before)
    digest = inputs_digest(tree, config_path=config_path, version=version, owned=OWNED)
    record = UpgradeRecord(branch, current, version, digest)
    environment = config.environment
    body = upgrade_body(
        record, environment=environment, impact=impact, summary=summary, warnings=after.warnings
    )
    check = render_succeeded(
        summary, after.warnings, "up-to-date", merging=Merging(branch, summary)
    )
    comment = render_comment(check, branch=upgrade_branch(branch), commit="(not pushed)")
    title = upgrade_title(environment, version)
    return UpgradePreview(current, version, title, body, check, comment, summary)
