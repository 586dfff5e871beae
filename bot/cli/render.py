"""`bootstrap-bot render`: re-render a landscape directory, or check that it is up to date.

    render [--repo DIR] [--config PATH] [--check] [--diff]

The landscape in DIR (default `.`) is rendered from its `.bootstrap/` inputs and checked with
kustomize; then the change summary is printed and, unless `--check`, the owned directories
(`envs/<env>/`, `resources/`) are brought to the rendered content: new and changed files
written, files the render no longer produces removed. Any error leaves DIR untouched.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TextIO

from bot.cli.exits import EXIT_OK, EXIT_REFUSED
from bot.cli.ocm import add_repository_options, reader_for
from bot.core.changes import summary_text, unified_diff
from bot.core.config import CONFIG_PATH
from bot.core.failures import Failure, Temporary
from bot.core.fileset import FileSet, PathError, normalize
from bot.core.problems import Problem
from bot.ocm.credentials import CredentialsError
from bot.ocm.location import Repository
from bot.ocm.reader import ComponentReader
from bot.services.pipeline import LandscapeError, change_summary, render_tree

SKIPPED_DIRECTORIES = {".git"}


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
    )
    render.add_argument(
        "--repo",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="the landscape checkout (default: .)",
    )
    render.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="the bootstrap config (default: DIR/.bootstrap/config.yaml)",
    )
    render.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when DIR is not up to date"
    )
    render.add_argument("--diff", action="store_true", help="also print a unified diff")
    add_repository_options(render)
    render.set_defaults(handler=run)


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


def _config(args: argparse.Namespace, root: Path) -> tuple[str, str | None, Path]:
    """The config's name in the tree (or as given), its text if outside the tree, its dir."""
    if args.config is None:
        return CONFIG_PATH, None, root / CONFIG_PATH
    path: Path = args.config
    try:
        return normalize(path.resolve().relative_to(root.resolve()).as_posix()), None, path
    except (ValueError, PathError):
        return str(path), path.read_text(encoding="utf-8"), path


def _open_reader(
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


def _report(exc: LandscapeError, root: Path, outside: str | None, err: TextIO) -> None:
    for problem in [*exc.problems, *exc.warnings]:
        err.write(f"{_shown(problem, root, outside)}\n")
        if problem.detail:
            err.write("".join(f"    {line}\n" for line in problem.detail.splitlines()))
    if exc.stage == "config":
        count = len(exc.problems)
        err.write(f"bootstrap-bot: the config has {count} error{'s' if count != 1 else ''}\n")
    if exc.go_message:
        err.write(f"openmcp-bootstrapper would say: {exc.go_message}\n")
    err.write(f"bootstrap-bot render: nothing written; {root} is unchanged\n")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    root: Path = args.repo
    if not root.is_dir():
        err.write(f"bootstrap-bot render: {root} is not a directory\n")
        return EXIT_REFUSED
    config_text = None
    try:
        config_path, config_text, config_file = _config(args, root)
        tree = read_tree(root)
        result = render_tree(
            tree,
            partial(_open_reader, args, config_file.parent),
            config_path=config_path,
            config_text=config_text,
        )
    except LandscapeError as exc:
        _report(exc, root, str(args.config) if config_text is not None else None, err)
        return EXIT_REFUSED
    except (OSError, CredentialsError) as exc:
        err.write(f"bootstrap-bot render: {exc}; {root} is unchanged\n")
        return EXIT_REFUSED
    except Temporary as exc:
        err.write(f"bootstrap-bot render: {exc}; try again later; {root} is unchanged\n")
        return EXIT_REFUSED
    for warning in result.warnings:
        err.write(f"{_shown(warning, root, config_path if config_text is not None else None)}\n")
    for note in result.rendering.notes:
        err.write(f"note: {note}\n")
    summary = change_summary(tree, result)
    out.write(summary_text(summary))
    if args.diff:
        out.write(unified_diff(tree, result.tree))
    if args.check:
        return EXIT_REFUSED if summary.files_differ else EXIT_OK
    try:
        write_changes(root, tree, result.tree)
    except OutsideTheRepository as exc:
        err.write(f"bootstrap-bot render: {exc}; nothing written, {root} is unchanged\n")
        return EXIT_REFUSED
    return EXIT_OK
