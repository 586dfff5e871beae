"""Which branches of a repository are landscapes. Pure.

`.github/bootstrap-bot.yml` on the default branch lists them:

    landscapes:
      - branch: incoming                  # the branch Flux syncs (the config's pushBranch)
        config: .bootstrap/config.yaml    # optional; this is the default

Without that file, a repository whose default branch has `.bootstrap/config.yaml` is one
landscape on its default branch. Mistakes in the file are reported with file:line:column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import yaml

from bot.core.config import CONFIG_PATH
from bot.core.fileset import PathError, normalize
from bot.core.problems import did_you_mean
from bot.golang.yamlv2 import DepthLimited, YamlError

DISCOVERY_PATH = ".github/bootstrap-bot.yml"
#: landscapes one repository may list, and the size of the file listing them
MAX_LANDSCAPES = 500
MAX_DISCOVERY_CHARS = 256 * 1024
_ENTRY_FIELDS = ("branch", "config")
# git check-ref-format's rules, in short: no spaces, ~^:?*[\, "..", "@{", or a leading "-".
_BAD_BRANCH = re.compile(r"[\s~^:?*\[\\]|\.\.|@\{|^-|^/|/$|\.lock$|^$")


Report = Callable[[str, "yaml.Node | yaml.Mark"], None]


@dataclass(frozen=True)
class Landscape:
    branch: str
    config_path: str = CONFIG_PATH


@dataclass(frozen=True)
class DiscoveryProblem:
    message: str
    line: int
    column: int
    file: str = DISCOVERY_PATH

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: error: {self.message}"


@dataclass(frozen=True)
class Discovery:
    landscapes: tuple[Landscape, ...]
    problems: tuple[DiscoveryProblem, ...] = ()
    #: whether the landscapes come from the discovery file (rather than the default branch)
    listed: bool = False

    def on(self, branch: str) -> Landscape | None:
        """The landscape on `branch`, if it is one."""
        return next((la for la in self.landscapes if la.branch == branch), None)


def discover(default_branch: str, discovery_file: bytes | None, has_config: bool) -> Discovery:
    """The landscapes, from the discovery file if there is one, else from the default branch."""
    if discovery_file is not None:
        read = read_discovery(discovery_file.decode("utf-8", errors="replace"))
        return replace(read, listed=True)
    return Discovery((Landscape(default_branch),) if has_config else ())


class _Loader(DepthLimited, yaml.SafeLoader):
    """PyYAML's safe loader, refusing nesting without end (its composer recurses)."""


def read_discovery(text: str) -> Discovery:
    problems: list[DiscoveryProblem] = []

    def report(message: str, node: yaml.Node | yaml.Mark) -> None:
        mark = node.start_mark if isinstance(node, yaml.Node) else node
        problems.append(DiscoveryProblem(message, mark.line + 1, mark.column + 1))

    if len(text) > MAX_DISCOVERY_CHARS:
        said = f"is {len(text):,} characters; at most {MAX_DISCOVERY_CHARS:,} are read"
        return Discovery((), (DiscoveryProblem(said, 1, 1),))
    try:
        root = yaml.compose(text, Loader=_Loader)
    except YamlError as err:
        return Discovery((), (DiscoveryProblem(err.message, err.mark.line, err.mark.column),))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return Discovery((), (DiscoveryProblem(f"not valid YAML: {err.problem}", line, column),))
    if root is None or not isinstance(root, yaml.MappingNode):
        return Discovery((), (DiscoveryProblem("must be a mapping with `landscapes:`", 1, 1),))
    fields = {key.value: (key, value) for key, value in root.value}
    for key, _ in root.value:
        if key.value != "landscapes":
            report(f"{key.value}: unknown field{did_you_mean(key.value, ['landscapes'])}", key)
    if "landscapes" not in fields:
        report("landscapes: required", root)
        return Discovery((), tuple(problems))
    entries = fields["landscapes"][1]
    if not isinstance(entries, yaml.SequenceNode):
        report("landscapes: must be a list of {branch, config}", entries)
        return Discovery((), tuple(problems))
    landscapes: list[Landscape] = []
    for index, entry in enumerate(entries.value):
        if index == MAX_LANDSCAPES:
            report(f"landscapes: at most {MAX_LANDSCAPES} are read; the rest are left out", entry)
            break
        found = _landscape(entry, f"landscapes[{index}]", report)
        if found is None:
            continue
        if any(existing.branch == found.branch for existing in landscapes):
            report(f"landscapes[{index}].branch: {found.branch} is listed twice", entry)
            continue
        landscapes.append(found)
    return Discovery(tuple(landscapes), tuple(problems))


def _landscape(node: yaml.Node, where: str, report: Report) -> Landscape | None:
    if not isinstance(node, yaml.MappingNode):
        report(f"{where}: must be a mapping with branch (and config)", node)
        return None
    values: dict[str, yaml.Node] = {}
    for key, value in node.value:
        if key.value not in _ENTRY_FIELDS:
            report(
                f"{where}.{key.value}: unknown field{did_you_mean(key.value, _ENTRY_FIELDS)}", key
            )
            continue
        values[key.value] = value
    branch_node = values.get("branch")
    if branch_node is None:
        report(f"{where}.branch: required", node)
        return None
    branch = _string(branch_node)
    if branch is None or _BAD_BRANCH.search(branch):
        report(f"{where}.branch: not a branch name", branch_node)
        return None
    config = CONFIG_PATH
    if "config" in values:
        given = _string(values["config"])
        try:
            config = normalize(given or "")
        except PathError:
            report(f"{where}.config: must be a path inside the repository", values["config"])
            return None
    return Landscape(branch.removeprefix("refs/heads/"), config)


def _string(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str":
        return str(node.value)
    return None
