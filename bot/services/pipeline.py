"""Render a landscape branch: read its inputs, fetch the OCM content, render, check with kustomize.

This is the one place where the pure renderer meets the outside (the OCM repository and the
kustomize binary). It takes the branch as a file set and returns the new file set, so the CLI
(a directory) and the GitHub App (a git tree) share it:

1. read `.bootstrap/config.yaml`, the extra manifests and the kustomization patches;
2. resolve the root component version's graph and fetch the directory resources it needs;
3. render (again, with version lists, if a template lists component versions);
4. replace the owned directories (`envs/<env>/`, `resources/`) with the rendering;
5. build `envs/<env>` and `envs/<env>/fluxcd` with kustomize: a render that does not build is a
   failure, reported before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from bot.adapters.kustomize import KustomizeError, build_files
from bot.core.changes import ChangeSummary, summarize_changes
from bot.core.config import (
    CONFIG_PATH,
    MAX_CONFIG_BYTES,
    BootstrapConfig,
    ConfigError,
    load_bootstrap_config,
)
from bot.core.eso import EsoError, eso_objects, wants_eso
from bot.core.failures import Failure, Temporary
from bot.core.fileset import FileSet, beyond_limits
from bot.core.problems import Problem
from bot.core.render import (
    NeedsVersionLists,
    RenderError,
    Rendering,
    directories_needed,
    landscape_sources,
    render_landscape,
)
from bot.core.suggest import not_there
from bot.golang.yamlv2 import YamlError, utf8_text
from bot.kit.jobs import in_thread
from bot.ocm.graph import ComponentGraph
from bot.ocm.location import LocationError, Repository, parse_location
from bot.ocm.reader import ComponentError, ComponentReader
from bot.ocm.store import NotFound

Stage = Literal["config", "ocm", "render", "kustomize"]
Objects = dict[str, list[dict[str, Any]]]


class LandscapeError(Failure):
    """The landscape cannot be rendered. `stage` says which step refused, `problems` where."""

    def __init__(
        self,
        stage: Stage,
        problems: list[Problem],
        *,
        warnings: list[Problem] | None = None,
        go_message: str | None = None,
    ) -> None:
        self.stage = stage
        self.problems = problems
        self.warnings = warnings or []
        #: for a config openmcp-bootstrapper would refuse too: its own error text
        self.go_message = go_message
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class LandscapeRender:
    config: BootstrapConfig
    rendering: Rendering
    #: the whole branch after the render: untouched files plus the owned directories
    tree: FileSet
    #: kustomize's objects of `envs/<env>` and `envs/<env>/fluxcd`
    objects: Objects
    #: the release rendered: the root component version and everything it references
    graph: ComponentGraph
    warnings: tuple[Problem, ...] = ()
    #: the External Secrets Operator's objects (none when the landscape wants no ESO)
    eso: tuple[dict[str, Any], ...] = ()

    @property
    def all_objects(self) -> list[dict[str, Any]]:
        return _all(self.objects)


def kustomize_directories(config: BootstrapConfig) -> list[str]:
    env = config.environment
    return [f"envs/{env}", f"envs/{env}/fluxcd"]


def read_config(
    tree: FileSet, config_path: str = CONFIG_PATH, config_text: str | None = None
) -> tuple[BootstrapConfig, list[Problem]]:
    """The config at `config_path` in `tree` (or `config_text`, reported as `config_path`)."""
    if config_text is None:
        if config_path not in tree:
            raise LandscapeError("config", [Problem("no bootstrap config here", config_path)])
        if len(tree[config_path]) > MAX_CONFIG_BYTES:  # refused before it is even decoded
            said = f"the config is {len(tree[config_path]):,} bytes; at most {MAX_CONFIG_BYTES:,}"
            raise LandscapeError("config", [Problem(said + " are read", config_path)])
        try:
            config_text = utf8_text(tree[config_path])
        except YamlError as err:
            problem = Problem(err.message, config_path, err.mark.line, err.mark.column)
            raise LandscapeError("config", [problem]) from None
    try:
        loaded = load_bootstrap_config(config_text, file=config_path)
    except ConfigError as err:
        raise LandscapeError(
            "config",
            list(err.errors),
            warnings=list(err.warnings),
            go_message=err.go_message,
        ) from None
    return loaded.config, loaded.warnings


def fetch_graph(
    config: BootstrapConfig, reader: ComponentReader, component: str, version: str
) -> tuple[ComponentGraph, dict[tuple[str, str, str], FileSet]]:
    """The graph and the directory resources the render needs (missing optional ones left out)."""
    graph = reader.resolve(component, version)
    directories = {}
    try:
        needed = directories_needed(config, graph)
    except RenderError as err:
        raise LandscapeError("ocm", err.problems) from None
    for wanted in needed:
        cv = graph.get(wanted.component, wanted.version)
        if cv.resource(wanted.resource) is None and not wanted.required:
            continue
        directories[wanted.key] = FileSet(reader.read_directory(cv, wanted.resource))
    return graph, directories


def render_tree(
    tree: FileSet,
    open_reader: Callable[[Repository], ComponentReader],
    *,
    config_path: str = CONFIG_PATH,
    config_text: str | None = None,
) -> LandscapeRender:
    """The branch `tree` re-rendered; raises LandscapeError, having changed nothing.

    The config is `config_path` in the tree, or `config_text` (reported as `config_path`);
    the extra manifests and patches always come from the tree's `.bootstrap/`.
    """
    config, warnings = read_config(tree, config_path, config_text)
    sources = landscape_sources(tree)
    found: tuple[str, str, ComponentReader] | None = None
    try:
        component, version, reader = found = _release(config, open_reader)
        graph, directories = fetch_graph(config, reader, component, version)
        version_lists: dict[str, list[str]] = {}
        for _attempt in range(2):
            try:
                rendering = render_landscape(
                    config,
                    graph,
                    directories,
                    sources.extra_manifests,
                    sources.patches,
                    version_lists=version_lists,
                )
                break
            except NeedsVersionLists as needs:
                version_lists.update({c: reader.list_versions(c) for c in needs.components})
        else:  # pragma: no cover - the second attempt has every list the first one asked for
            raise LandscapeError("render", [Problem("version lists kept changing")])
    except RenderError as err:
        raise LandscapeError("render", err.problems) from None
    except LandscapeError:
        raise
    except (ComponentError, NotFound) as err:  # the release's component or version is not there
        missing = (_what_is_there(found[2], *found[:2]) if found else None) or str(err)
        raise LandscapeError("ocm", [_at_location(config, config_path, missing)]) from None
    except Failure as err:  # the release: its location, components or content
        raise LandscapeError("ocm", [_at_location(config, config_path, err)]) from None
    new_tree = tree.without(rendering.owned) | rendering.files
    too_large = beyond_limits(new_tree)
    if too_large is not None:  # it could be neither pushed nor read back
        raise LandscapeError("render", [Problem(f"the rendered branch: {too_large}")])
    try:
        objects = build_files(rendering.files, kustomize_directories(config))
    except KustomizeError as err:
        raise LandscapeError("kustomize", [Problem(str(err))]) from None
    # checked with the render: a release that cannot give ESO fails the PR, not the deploy
    eso = tuple(landscape_eso(config, graph, config_path=config_path))
    return LandscapeRender(config, rendering, new_tree, objects, graph, tuple(warnings), eso)


def _release(
    config: BootstrapConfig, open_reader: Callable[[Repository], ComponentReader]
) -> tuple[str, str, ComponentReader]:
    """The root component and version a config names, and a reader for their repository."""
    location = parse_location(config.component.location)
    if not location.version:
        raise LocationError(f"component.location has no version: {config.component.location}")
    return location.component, location.version, open_reader(location.repository)


def release_graph(
    config: BootstrapConfig,
    open_reader: Callable[[Repository], ComponentReader],
    *,
    config_path: str = CONFIG_PATH,
) -> ComponentGraph:
    """The openMCP release a config names: the root component version and all it references
    (without rendering; from the disk cache when it was read before)."""
    try:
        component, version, reader = _release(config, open_reader)
        return reader.resolve(component, version)
    except Failure as err:
        raise LandscapeError("ocm", [_at_location(config, config_path, err)]) from None


def landscape_eso(
    config: BootstrapConfig, graph: ComponentGraph, *, config_path: str = CONFIG_PATH
) -> list[dict[str, Any]]:
    """The External Secrets Operator objects of a landscape (none when it wants no ESO); what
    the release lacks for them is told at `component.location`."""
    if not wants_eso(config):
        return []
    try:
        return eso_objects(config, graph)
    except EsoError as err:
        raise LandscapeError("ocm", [_at_location(config, config_path, err)]) from None


def _what_is_there(reader: ComponentReader, component: str, version: str) -> str | None:
    """What the repository holds instead of the release a config names: the component's
    versions (newest first), or its components when the component itself is not there; None
    when both are there (something the release references is missing) or nothing can be
    listed (a registry that keeps its catalog to itself)."""
    try:
        versions = reader.list_versions(component)
    except (Failure, Temporary):
        versions = None
    if versions is not None:
        if version in versions:
            return None
        return not_there("version", version, f"`{component}`", versions[::-1])
    try:
        components = reader.list_components()
    except (Failure, Temporary):
        return None
    return not_there("component", component, reader.location, components)


def _at_location(config: BootstrapConfig, config_path: str, err: Failure | str) -> Problem:
    """What the release named by `component.location` refused, told where it is written."""
    return Problem.at("error", str(err), config_path, config.component.location_mark)


def current_objects(tree: FileSet, config: BootstrapConfig) -> tuple[Objects | None, str]:
    """kustomize's objects of the branch as it is, or None and why, when it does not build."""
    env = config.environment
    if f"envs/{env}/kustomization.yaml" not in tree:
        return {}, ""
    owned = {p: d for p, d in tree.items() if p.startswith((f"envs/{env}/", "resources/"))}
    try:
        return build_files(owned, kustomize_directories(config)), ""
    except KustomizeError as err:
        return None, str(err)


def _all(objects: Objects) -> list[dict[str, Any]]:
    return [obj for directory in objects.values() for obj in directory]


def change_summary(
    old_tree: FileSet,
    result: LandscapeRender,
    *,
    objects_before: tuple[Objects | None, str] | None = None,
) -> ChangeSummary:
    """What `result` changes against the branch as it was: files, and objects after kustomize
    (`objects_before`: the branch's objects, when the caller built them already)."""
    if old_tree == result.tree:
        before: Objects | None = result.objects  # same files, same objects: no second build
        why = ""
    elif objects_before is not None:
        before, why = objects_before
    else:
        before, why = current_objects(old_tree, result.config)
    return summarize_changes(
        old_tree,
        result.tree,
        _all(before) if before is not None else None,
        _all(result.objects),
        objects_unknown=why,
    )


async def summarise(
    old_tree: FileSet,
    result: LandscapeRender,
    *,
    objects_before: tuple[Objects | None, str] | None = None,
) -> ChangeSummary:
    """`change_summary` off the event loop (it may run kustomize on the old tree)."""
    return await in_thread(partial(change_summary, objects_before=objects_before), old_tree, result)
