"""`bootstrap-bot render`: re-render a landscape directory, or check that it is up to date.

    render [--repo DIR] [--config PATH] [--check | --dry-run] [--diff] [--output json] [-v|-q]

The landscape in DIR (default `.`) is rendered from its `.bootstrap/` inputs and checked with
kustomize; then the change summary is printed and, unless `--check`, `--dry-run` or `--diff`
(previews, which never write), the owned directories (`envs/<env>/`, `resources/`) are brought
to the rendered content: new and changed files written, files the render no longer produces
removed. Any error leaves DIR untouched.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from bot.cli.exits import EXIT_OK, EXIT_REFUSED
from bot.cli.ocm import add_repository_options, reader_for
from bot.cli.progress import Progress
from bot.core.changes import ChangeSummary, ObjectChange, summary_text, unified_diff
from bot.core.config import CONFIG_PATH
from bot.core.failures import Failure, Temporary
from bot.core.fileset import FileSet, PathError, normalize
from bot.core.problems import Problem
from bot.ocm.credentials import CredentialsError
from bot.ocm.location import Repository
from bot.ocm.reader import ComponentReader
from bot.services.pipeline import LandscapeError, change_summary, read_config, render_tree

SKIPPED_DIRECTORIES = {".git"}
#: the most diff lines printed unless asked for more (a fresh landscape's diff is all of it)
MAX_DIFF_LINES = 1000
EXAMPLES = """\
examples:
  bootstrap-bot render                         render ., write envs/<env>/ and resources/
  bootstrap-bot render --repo ../landscape --dry-run --diff
                                               show what would change, write nothing
  bootstrap-bot render --check                 exit 1 when . is not up to date (for CI)
  bootstrap-bot render --check --output json   the same, as JSON for a script
"""


def add_landscape_options(parser: argparse.ArgumentParser) -> None:
    """--repo and --config: where the landscape and its bootstrap config are."""
    parser.add_argument(
        "--repo",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="the landscape checkout (default: .)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="the bootstrap config (default: DIR/.bootstrap/config.yaml)",
    )


def add_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    render = commands.add_parser(
        "render",
        help="render a landscape's manifests from its bootstrap config",
        description=(
            "Render the landscape in DIR from DIR/.bootstrap/config.yaml, its extra manifests "
            "and kustomization patches, exactly as openmcp-bootstrapper manage-deployment-repo "
            "would; check the result with kustomize; print what changes and write it. Relative "
            "CTF paths in component.location are taken from the config file's directory."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_landscape_options(render)
    previews = render.add_mutually_exclusive_group()
    previews.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when DIR is not up to date"
    )
    previews.add_argument(
        "--dry-run", action="store_true", help="print what would change; write nothing; exit 0"
    )
    render.add_argument(
        "--diff",
        action="store_true",
        help=f"print a unified diff and write nothing (at most {MAX_DIFF_LINES} lines; "
        "--diff-lines sets another limit, 0 none)",
    )
    render.add_argument(
        "--diff-lines", type=int, default=MAX_DIFF_LINES, metavar="N", help=argparse.SUPPRESS
    )
    render.add_argument(
        "--output",
        choices=("text", "json"),
        default="text",
        help="json: one object with the result, for scripts (default: text)",
    )
    loudness = render.add_mutually_exclusive_group()
    loudness.add_argument(
        "-v", "--verbose", action="store_true", help="also print the render's notes"
    )
    loudness.add_argument(
        "-q", "--quiet", action="store_true", help="print only problems (the exit code tells)"
    )
    add_repository_options(render)
    render.set_defaults(handler=run, command_parser=render)


def read_tree(root: Path) -> FileSet:
    """A directory's regular files (not `.git`, not symlinks), by relative POSIX path."""
    files = {}
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRECTORIES)
        for name in names:
            path = Path(directory, name)
            if path.is_file() and not path.is_symlink():
                files[path.relative_to(root).as_posix()] = path.read_bytes()
    return FileSet(files)


class OutsideTheRepository(Failure):
    """A path the render would write or remove goes through a symlink (or out of the repo)."""


def _inside(root: Path, path: str) -> None:
    """Refuse `path` unless writing it stays inside `root`: no symlink on the way, the file
    itself included (a repository may hold links; the render never writes through one)."""
    current = root
    for part in Path(path).parts:
        current = current / part
        if current.is_symlink():
            raise OutsideTheRepository(
                f"{current.relative_to(root).as_posix()} is a symlink; bootstrap-bot render "
                f"never writes through one (replace it with a directory or a file)"
            )
    if not current.resolve().is_relative_to(root.resolve()):
        raise OutsideTheRepository(f"{path} is outside {root}")


def write_changes(root: Path, old: FileSet, new: FileSet) -> None:
    """Bring `root` from `old` to `new`: write what differs, remove what is gone, then remove
    directories that became empty. Each file is replaced atomically. Every path is checked
    before anything is written, so a refusal changes nothing."""
    changed = [p for p in new if old.get(p) != new[p]] + [p for p in old if p not in new]
    for path in changed:
        _inside(root, path)
    for path in new:
        if old.get(path) != new[path]:
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            scratch = target.with_name(f".{target.name}.bootstrap-bot-tmp")
            scratch.write_bytes(new[path])
            scratch.replace(target)
    for path in old:
        if path not in new:
            (root / path).unlink()
            parent = (root / path).parent
            while parent != root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent


def config_source(args: argparse.Namespace, root: Path) -> tuple[str, str | None, Path]:
    """The config's name in the tree (or as given), its text if outside the tree, its dir."""
    if args.config is None:
        return CONFIG_PATH, None, root / CONFIG_PATH
    path: Path = args.config
    try:
        return normalize(path.resolve().relative_to(root.resolve()).as_posix()), None, path
    except (ValueError, PathError):
        return str(path), path.read_text(encoding="utf-8"), path


def reader_near_config(
    args: argparse.Namespace, config_dir: Path, repository: Repository
) -> ComponentReader:
    if repository.kind == "ctf" and not Path(repository.path).expanduser().is_absolute():
        repository = Repository("ctf", path=str(config_dir / repository.path))
    return reader_for(args, repository)


def _shown(problem: Problem, root: Path, outside: str | None) -> Problem:
    """The problem with its file as the user reaches it from here (DIR/…), not from DIR."""
    if not problem.file or problem.file == outside:
        return problem
    return replace(problem, file=os.path.normpath(os.path.join(root, problem.file)))


def report_refusal(
    exc: LandscapeError,
    root: Path,
    outside: str | None,
    err: TextIO,
    *,
    verbose: bool,
    unchanged: bool = True,
) -> None:
    """Every problem at its place; with `unchanged`, that the directory was left as it was."""
    for problem in [*exc.problems, *exc.warnings]:
        err.write(f"{_shown(problem, root, outside)}\n")
        if problem.detail:
            err.write("".join(f"    {line}\n" for line in problem.detail.splitlines()))
    if exc.stage == "config":
        count = len(exc.problems)
        err.write(f"bootstrap-bot: the config has {count} error{'s' if count != 1 else ''}\n")
    if exc.go_message and verbose:  # each problem's detail has Go's words already
        err.write(f"openmcp-bootstrapper would say: {exc.go_message}\n")
    if unchanged:
        err.write(f"bootstrap-bot render: nothing written; {root} is unchanged\n")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    root: Path = args.repo
    if not root.is_dir():
        err.write(f"bootstrap-bot render: {root} is not a directory\n")
        return EXIT_REFUSED
    config_text = None
    try:
        config_path, config_text, config_file = config_source(args, root)
        tree = read_tree(root)
        with Progress.on(err, quiet=args.quiet) as args.progress:
            result = render_tree(
                tree,
                partial(reader_near_config, args, config_file.parent),
                config_path=config_path,
                config_text=config_text,
            )
    except LandscapeError as exc:
        outside = str(args.config) if config_text is not None else None
        report_refusal(exc, root, outside, err, verbose=args.verbose)
        if args.output == "json":
            out.write(json.dumps(failure_json(exc)) + "\n")
        return EXIT_REFUSED
    except (OSError, CredentialsError) as exc:
        err.write(f"bootstrap-bot render: {exc}; {root} is unchanged\n")
        return EXIT_REFUSED
    except Temporary as exc:  # told at the location that names the registry
        where = _location_of_release(tree, config_path, config_text)
        if where is not None:
            place = _shown(where, root, config_path if config_text is not None else None)
            err.write(f"{place.file}:{place.line}:{place.column}: error: {exc}\n")
        err.write(
            f"bootstrap-bot render: the release cannot be read now; try again later; "
            f"{root} is unchanged\n"
        )
        return EXIT_REFUSED
    for warning in result.warnings:
        err.write(f"{_shown(warning, root, config_path if config_text is not None else None)}\n")
    if args.verbose:
        for note in result.rendering.notes:
            err.write(f"note: {note}\n")
    summary = change_summary(tree, result)
    writes = not (args.check or args.dry_run or args.diff)
    if args.output == "json":
        out.write(json.dumps(summary_json(summary, written=writes and summary.files_differ)))
        out.write("\n")
    elif not args.quiet:
        out.write(summary_text(summary))
        if args.diff:
            out.write(_cut(unified_diff(tree, result.tree), args.diff_lines))
    if not writes:
        if args.check and summary.files_differ:
            again = "bootstrap-bot render" + ("" if root == Path(".") else f" --repo {root}")
            err.write(
                f"bootstrap-bot render: {root} is not up to date: run `{again}` and commit "
                f"the result\n"
            )
            return EXIT_REFUSED
        return EXIT_OK
    try:
        write_changes(root, tree, result.tree)
    except OutsideTheRepository as exc:
        err.write(f"bootstrap-bot render: {exc}; nothing written, {root} is unchanged\n")
        return EXIT_REFUSED
    return EXIT_OK


def _cut(diff: str, limit: int) -> str:
    lines = diff.splitlines(keepends=True)
    if limit <= 0 or len(lines) <= limit:
        return diff
    more = len(lines) - limit
    return "".join(lines[:limit]) + f"… {more} more diff lines (--diff-lines 0 prints all)\n"


def summary_json(summary: ChangeSummary, *, written: bool) -> dict[str, Any]:
    """The change summary as `--output json` prints it."""

    def objects(changes: tuple[ObjectChange, ...]) -> list[dict[str, Any]]:
        return [
            {
                "apiVersion": c.key.api_version,
                "kind": c.key.kind,
                "namespace": c.key.namespace,
                "name": c.key.name,
                **({"fields": list(c.fields)} if c.fields else {}),
            }
            for c in changes
        ]

    return {
        "upToDate": not summary.files_differ,
        "written": written,
        "files": {
            "added": list(summary.files_added),
            "changed": list(summary.files_changed),
            "removed": list(summary.files_removed),
        },
        "objects": {
            "added": objects(summary.objects_added),
            "changed": objects(summary.objects_changed),
            "removed": objects(summary.objects_removed),
            "unknownBefore": summary.objects_unknown,
        },
        "destructive": [str(k) for k in summary.destructive],
    }


def failure_json(failed: LandscapeError) -> dict[str, Any]:
    """A refused render as `--output json` prints it: the stage and each located problem."""

    def located(problem: Problem) -> dict[str, Any]:
        return {
            "file": problem.file,
            "line": problem.line,
            "column": problem.column,
            "severity": problem.severity,
            "message": problem.message,
        }

    return {
        "upToDate": None,
        "written": False,
        "stage": failed.stage,
        "problems": [located(p) for p in failed.problems],
        "warnings": [located(p) for p in failed.warnings],
    }


def _location_of_release(
    tree: FileSet, config_path: str, config_text: str | None
) -> Problem | None:
    """Where the config names the release (`component.location`), as a place to report at."""
    try:
        config, _ = read_config(tree, config_path, config_text)
    except LandscapeError:
        return None
    mark = config.component.location_mark
    return Problem("", config_path, mark.line, mark.column)
