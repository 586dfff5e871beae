"""`bootstrap-bot ocm …`: inspect and build OCM component versions (registry or CTF).

    ocm list REPOSITORY [-o FORMAT]             the components a CTF archive or registry holds
    ocm versions LOCATION [-o FORMAT]           one version per line, oldest first
    ocm get LOCATION [--recursive] [-o FORMAT]  the descriptor(s), YAML or JSON (no version:
                                                the newest)
    ocm download LOCATION RESOURCE DIR          extract a directory resource
    ocm build CONSTRUCTOR --to REPOSITORY       write a component-constructor file's versions

Errors name the location and what is missing, and never show credentials.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import yaml

from bot.cli.exits import EXIT_OK, EXIT_REFUSED
from bot.cli.progress import ObservedStore, Progress
from bot.core.failures import Failure, Temporary
from bot.ocm import open_reader, open_store
from bot.ocm.builder import build
from bot.ocm.credentials import CredentialStore
from bot.ocm.ctf import CTFStore, is_archive_file, writable_archive
from bot.ocm.location import LocationError, Repository, parse_location, parse_repository
from bot.ocm.reader import ComponentReader, describe
from bot.ocm.skopeo import SkopeoCopier
from bot.ocm.store import WritableStore
from bot.ocm.transfer import transfer


def add_repository_options(parser: argparse.ArgumentParser) -> None:
    """How to reach OCM repositories: credentials, a content cache, plain HTTP on loopback."""
    parser.add_argument("--docker-config", type=Path, help="docker config.json with auths")
    parser.add_argument("--ocm-config", type=Path, help="OCM config with credentials")
    parser.add_argument("--cache-dir", type=Path, help="keep downloaded content here, by digest")
    parser.add_argument(
        "--plain-http-loopback",
        action="store_true",
        help="talk plain HTTP to registries on loopback addresses",
    )


def add_commands(ocm: argparse.ArgumentParser) -> None:
    commands = ocm.add_subparsers(dest="ocm_command", metavar="OCM_COMMAND")
    commands.required = True
    root = "examples/openmcp.ctf.tgz//github.com/openmcp-project/openmcp"

    listing = _subcommand(
        commands,
        "list",
        _list,
        "list the components of a CTF archive or an OCI registry",
        ["ocm list examples/openmcp.ctf.tgz"],
    )
    listing.add_argument("repository", metavar="REPOSITORY", help="a CTF path or registry[/prefix]")
    listing.add_argument(
        "-o", "--output", choices=("text", "json"), default="text", help="one per line, or JSON"
    )

    versions = _subcommand(
        commands,
        "versions",
        _versions,
        "list a component's versions, oldest first",
        [f"ocm versions {root}"],
    )
    versions.add_argument("location", metavar="LOCATION", help="REPOSITORY//COMPONENT")
    versions.add_argument(
        "-o", "--output", choices=("text", "json"), default="text", help="one per line, or JSON"
    )

    get = _subcommand(
        commands,
        "get",
        _get,
        "print a component version's descriptor (no version: the newest)",
        [f"ocm get {root}", "ocm get REGISTRY//COMPONENT:v0.0.1 --recursive -o json"],
    )
    get.add_argument("location", metavar="LOCATION", help="REPOSITORY//COMPONENT[:VERSION]")
    get.add_argument("--recursive", action="store_true", help="also every referenced version")
    get.add_argument(
        "-o", "--output", choices=("yaml", "json"), default="yaml", help="the descriptors' format"
    )

    download = _subcommand(
        commands,
        "download",
        _download,
        "extract a directory resource",
        [f"ocm download {root} gitops-templates/templates templates/"],
    )
    download.add_argument("location", metavar="LOCATION", help="REPOSITORY//COMPONENT:VERSION")
    download.add_argument(
        "resource", metavar="RESOURCE", help="resource name, or REF/…/RESOURCE through references"
    )
    download.add_argument(
        "directory", metavar="DIR", type=Path, help="where to extract it (made if missing)"
    )

    builder = _subcommand(
        commands,
        "build",
        _build,
        "write component versions from a constructor",
        ["ocm build component-constructor.yaml --to build/ctf"],
    )
    builder.add_argument(
        "constructor", metavar="CONSTRUCTOR", type=Path, help="an OCM component-constructor file"
    )
    builder.add_argument("--to", required=True, metavar="REPOSITORY", help="registry or CTF dir")

    transfer = _subcommand(
        commands,
        "transfer",
        _transfer,
        "copy component versions, and what they reference, into another repository",
        [
            f"ocm transfer {root}:v0.0.1 registry.example.com/mirror/openmcp",
            "ocm transfer ghcr.io/openmcp-project/components//github.com/openmcp-project/openmcp:"
            "v1.0.17 build/mirror --no-copy-resources --dry-run",
        ],
    )
    transfer.add_argument(
        "source",
        metavar="SOURCE",
        help="REPOSITORY//COMPONENT[:VERSION] (no version: all of them), or a whole REPOSITORY",
    )
    transfer.add_argument(
        "target",
        metavar="TARGET",
        help="registry[/prefix], or a CTF path (a directory; .tar, .tgz: an archive file), "
        "created if missing",
    )
    transfer.add_argument(
        "--recursive",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also every version they reference (default, as openmcp-bootstrapper does)",
    )
    transfer.add_argument(
        "--copy-resources",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="copy OCI artifacts (images, charts) by value and point their access at the copy "
        "(default, as openmcp-bootstrapper does); local blobs are always copied",
    )
    transfer.add_argument(
        "--dry-run", action="store_true", help="say what would be copied; write nothing"
    )


def _subcommand(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    name: str,
    handler: Callable[[argparse.Namespace, TextIO], int],
    summary: str,
    examples: list[str],
) -> argparse.ArgumentParser:
    """One `ocm` command: its help ends with examples, and it reaches repositories."""
    said = "example" if len(examples) == 1 else "examples"
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        epilog=f"{said}:\n" + "".join(f"  bootstrap-bot {e}\n" for e in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_repository_options(parser)
    parser.set_defaults(ocm_handler=handler, command_parser=parser)
    return parser


def _credentials(args: argparse.Namespace) -> CredentialStore:
    docker = args.docker_config.read_text() if args.docker_config else None
    ocm = args.ocm_config.read_text() if args.ocm_config else None
    return CredentialStore.from_texts(docker, ocm)


def reader_for(args: argparse.Namespace, repository: Repository) -> ComponentReader:
    """A reader for `repository` with the command line's repository options; its reads are
    shown as the command's progress (`main` sets `args.progress`)."""
    progress: Progress | None = getattr(args, "progress", None)
    return open_reader(
        repository,
        credentials=_credentials(args),
        plain_http_loopback=args.plain_http_loopback,
        cache_dir=args.cache_dir,
        observed=None if progress is None else partial(ObservedStore, progress=progress),
    )


def _reader(args: argparse.Namespace, *, need_version: bool) -> tuple[ComponentReader, Any]:
    location = parse_location(args.location)
    if need_version and not location.version:
        raise LocationError(f"{args.location}: give a version (COMPONENT:VERSION)")
    return reader_for(args, location.repository), location


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        with Progress.on(err, quiet=False) as args.progress:
            code: int = args.ocm_handler(args, out)
    except (Failure, Temporary, OSError) as exc:
        err.write(f"bootstrap-bot ocm: {exc}\n")
        return EXIT_REFUSED
    return code


def _lines(values: list[str], output: str, out: TextIO) -> int:
    out.write(json.dumps(values) + "\n" if output == "json" else "".join(f"{v}\n" for v in values))
    return EXIT_OK


def _list(args: argparse.Namespace, out: TextIO) -> int:
    repository = parse_repository(args.repository)
    return _lines(reader_for(args, repository).list_components(), args.output, out)


def _versions(args: argparse.Namespace, out: TextIO) -> int:
    reader, location = _reader(args, need_version=False)
    return _lines(reader.list_versions(location.component), args.output, out)


def _get(args: argparse.Namespace, out: TextIO) -> int:
    reader, location = _reader(args, need_version=False)
    version = location.version
    if not version:  # the newest, as `ocm versions` lists them (oldest first)
        listed = reader.list_versions(location.component)
        if not listed:
            raise LocationError(f"{args.location}: the component has no versions")
        version = listed[-1]
    if args.recursive:
        graph = reader.resolve(location.component, version)
        descriptors = [describe(cv) for cv in graph.versions.values()]
    else:
        descriptors = [describe(reader.get(location.component, version))]
    if args.output == "json":
        value = descriptors if args.recursive else descriptors[0]
        out.write(json.dumps(value, indent=2) + "\n")
    else:
        out.write(yaml.safe_dump_all(descriptors, sort_keys=False))
    return EXIT_OK


def _download(args: argparse.Namespace, out: TextIO) -> int:
    reader, location = _reader(args, need_version=True)
    if "/" in args.resource:
        graph = reader.resolve(location.component, location.version)
        cv, resource = graph.resource_at(args.resource)
        name = resource.name
    else:
        cv, name = reader.get(location.component, location.version), args.resource
    for path in reader.download_directory(cv, name, args.directory):
        out.write(f"{path}\n")
    return EXIT_OK


def _transfer(args: argparse.Namespace, out: TextIO) -> int:
    if "//" in args.source:
        location = parse_location(args.source)
        reader = reader_for(args, location.repository)
        versions = (
            [location.version] if location.version else reader.list_versions(location.component)
        )
        wanted = [(location.component, v) for v in versions]
    else:
        reader = reader_for(args, parse_repository(args.source))
        wanted = [(c, v) for c in reader.list_components() for v in reader.list_versions(c)]
    target_repository = parse_repository(args.target)
    with _writable(args, target_repository, dry_run=args.dry_run) as target:
        return _transfer_into(args, reader, wanted, target, target_repository, out)


@contextmanager
def _writable(
    args: argparse.Namespace, repository: Repository, *, dry_run: bool
) -> Iterator[WritableStore]:
    """The store written to; for a dry run into an archive not there yet, an empty one; a tar
    or tgz archive is written through a directory."""
    if dry_run and repository.kind == "ctf" and not Path(repository.path).exists():
        with tempfile.TemporaryDirectory(prefix="bootstrap-bot-dry-run-") as scratch:
            yield CTFStore(Path(scratch) / "ctf", create=True)
        return
    if not dry_run and repository.kind == "ctf" and is_archive_file(Path(repository.path)):
        with writable_archive(Path(repository.path)) as archive:
            yield archive
        return
    yield open_store(
        repository,
        credentials=_credentials(args),
        plain_http_loopback=args.plain_http_loopback,
        create=not dry_run,
    )


def _transfer_into(
    args: argparse.Namespace,
    reader: ComponentReader,
    wanted: list[tuple[str, str]],
    target: WritableStore,
    target_repository: Repository,
    out: TextIO,
) -> int:
    plain = args.plain_http_loopback

    def plain_http(host: str) -> bool:
        return plain and parse_repository(host).is_loopback

    progress: Progress | None = getattr(args, "progress", None)

    def say(line: str) -> None:
        if progress is not None:
            progress.idle()
        out.write(line + "\n")
        out.flush()

    def copying(line: str) -> None:
        if progress is not None:
            progress.reading(line, verb="copying")

    report = transfer(
        reader,
        wanted,
        target,
        target_repository,
        recursive=args.recursive,
        copy_resources=args.copy_resources,
        copier=SkopeoCopier(_credentials(args), plain_http=plain_http, on_line=copying),
        dry_run=args.dry_run,
        say=say,
    )
    if not report.errors:
        out.write(
            f"{report.blobs} blobs ({report.bytes:,} bytes) and {report.artifacts} OCI artifacts "
            f"{'would be ' if args.dry_run else ''}copied; {report.skipped} versions present\n"
        )
    return EXIT_REFUSED if report.errors else EXIT_OK


def _build(args: argparse.Namespace, out: TextIO) -> int:
    repository = parse_repository(args.to)
    with _writable(args, repository, dry_run=False) as store:
        for built in build(args.constructor, store, prefix=repository.prefix):
            out.write(f"{built.component}:{built.version} {built.digest}\n")
    return EXIT_OK
