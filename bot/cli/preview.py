"""`bootstrap-bot preview`: what the App would post about a landscape, offline.

    preview [--repo DIR] [--config PATH] [--branch BRANCH] --out DIR

The upgrade the bot would propose (the newest release the landscape's `bot.upgrade` policy
allows), rendered as the bot renders it: the pull request's body, the `bootstrap-bot/render`
check run on its commit and the summary comment, each as Markdown and as the HTML GitHub
would show, in DIR. Nothing is pushed; GitHub is not asked.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path
from typing import TextIO

from bot.adapters.markdown import html_page
from bot.cli.exits import EXIT_OK, EXIT_REFUSED
from bot.cli.ocm import add_repository_options
from bot.cli.progress import Progress
from bot.cli.render import (
    add_landscape_options,
    config_source,
    read_tree,
    reader_near_config,
    report_refusal,
)
from bot.core.failures import Failure, Temporary
from bot.core.fileset import FileSet
from bot.services.pipeline import LandscapeError, read_config
from bot.services.preview import preview_upgrade

EXAMPLES = """\
example:
  bootstrap-bot preview --repo build/demo/landscape --out build/demo/app
"""


def add_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    preview = commands.add_parser(
        "preview",
        help="write what the App would post about a landscape's next upgrade, offline",
        description=__doc__.split("\n\n", 2)[2] if __doc__ else None,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_landscape_options(preview)
    preview.add_argument(
        "--branch",
        help="the landscape branch the bot would act on (default: repository.pushBranch)",
    )
    preview.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="where to write the texts (.md and .html each); made if missing",
    )
    add_repository_options(preview)
    preview.set_defaults(handler=run, command_parser=preview)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    root: Path = args.repo
    try:
        config_path, config_text, config_file = config_source(args, root)
        tree = read_tree(root)
        if config_text is not None:
            tree = tree | {config_path: config_text.encode()}
        branch = args.branch or _push_branch(tree, config_path)
        with Progress.on(err, quiet=False) as args.progress:
            preview = preview_upgrade(
                tree,
                partial(reader_near_config, args, config_file.parent),
                branch=branch,
                config_path=config_path,
            )
    except LandscapeError as exc:
        report_refusal(exc, root, None, err, verbose=False)
        return EXIT_REFUSED
    except (Failure, Temporary, OSError) as exc:
        err.write(f"bootstrap-bot preview: {exc}\n")
        return EXIT_REFUSED
    if preview is None:
        out.write("No newer release is allowed: the bot would propose no upgrade.\n")
        return EXIT_OK
    target: Path = args.out
    target.mkdir(parents=True, exist_ok=True)
    texts = {
        "upgrade-pr-body": (f"opened “{preview.title}”", preview.body),
        "render-check": (
            "bootstrap-bot/render",
            f"## {preview.check.title}\n\n{preview.check.summary}",
        ),
        "pr-comment": ("commented", preview.comment),
    }
    out.write(f"{preview.title}: {preview.before} → {preview.after}\n")
    out.write(f"  {preview.check.title}\n")
    for name, (caption, markdown) in texts.items():
        (target / f"{name}.md").write_text(markdown)
        (target / f"{name}.html").write_text(html_page(caption, markdown))
        out.write(f"  {target / name}.md (and .html)\n")
    return EXIT_OK


def _push_branch(tree: FileSet, config_path: str) -> str:
    config, _ = read_config(tree, config_path)
    return config.repository.push_branch
