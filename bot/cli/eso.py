"""`bootstrap-bot eso`: the External Secrets Operator objects the bot applies for a landscape.

    eso [--repo DIR] [--config PATH] [-o yaml|json]

The OCIRepository of the ESO chart and the HelmRelease installing it, built from the release
the config names as the bot builds them after Flux is Ready, for review and for users of the
command line. A landscape wants ESO when its config has `externalSecrets` (or `bot.eso: true`);
for one that does not, nothing is printed and that is said.
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from typing import TextIO

import yaml

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
from bot.services.pipeline import LandscapeError, landscape_eso, read_config, release_graph

EXAMPLES = """\
examples:
  bootstrap-bot eso --repo landscape            # as YAML documents, ready for kubectl
  bootstrap-bot eso --repo landscape -o json    # as one JSON list
"""


def add_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    eso = commands.add_parser(
        "eso",
        help="print the External Secrets Operator objects the bot applies for a landscape",
        description=__doc__.split("\n\n", 2)[2] if __doc__ else None,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_landscape_options(eso)
    eso.add_argument(
        "-o", "--output", choices=("yaml", "json"), default="yaml", help="the objects' format"
    )
    add_repository_options(eso)
    eso.set_defaults(handler=run, command_parser=eso)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    root = args.repo
    try:
        config_path, config_text, config_file = config_source(args, root)
        tree = read_tree(root)
        config, _ = read_config(tree, config_path, config_text)
        opened = partial(reader_near_config, args, config_file.parent)
        with Progress.on(err, quiet=False) as args.progress:
            graph = release_graph(config, opened, config_path=config_path)
        objects = landscape_eso(config, graph, config_path=config_path)
    except LandscapeError as exc:
        report_refusal(exc, root, None, err, verbose=False, unchanged=False)
        return EXIT_REFUSED
    except (Failure, Temporary, OSError) as exc:
        err.write(f"bootstrap-bot eso: {exc}\n")
        return EXIT_REFUSED
    if not objects:
        err.write(
            "bootstrap-bot eso: this landscape wants no External Secrets Operator (its config "
            "has no `externalSecrets`, or `bot.eso: false`)\n"
        )
    elif args.output == "json":
        out.write(json.dumps(objects, indent=2) + "\n")
    else:
        out.write(yaml.safe_dump_all(objects, sort_keys=False))
    return EXIT_OK
