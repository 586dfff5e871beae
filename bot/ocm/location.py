"""Component locations: `[type::][http://|https://]host[:port][/prefix]//component[:version]`.

The Go tool splits a location at the first `//`, so a `https://` location breaks it; here the
type and scheme are removed first. A filesystem path before `//` (a directory, `.tar` or `.tgz`)
names a Common Transport Format archive. Pure: deciding needs no disk access.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

from bot.core.failures import Failure

Kind = Literal["oci", "ctf"]

_OCI_TYPES = {"oci", "ociregistry", "ocirepository", "oci/v1", "ociregistry/v1", "ocirepository/v1"}
_CTF_TYPES = {"ctf", "commontransportformat", "commontransportformat/v1", "directory", "tar", "tgz"}
_ARCHIVE_SUFFIXES = (".tar", ".tgz", ".tar.gz")


class LocationError(Failure, ValueError):
    """A location that names no repository or no component."""


@dataclass(frozen=True)
class Repository:
    """Where component versions live: an OCI registry prefix, or a CTF archive."""

    kind: Kind
    host: str = ""  # registry host[:port]
    prefix: str = ""  # repository path prefix in the registry, may be empty
    plain_http: bool = False  # only when the location said http://
    path: str = ""  # CTF directory or archive

    def __str__(self) -> str:
        if self.kind == "ctf":
            return self.path
        scheme = "http://" if self.plain_http else ""
        return f"{scheme}{self.host}/{self.prefix}".rstrip("/")

    @property
    def hostname(self) -> str:
        return self.host.rsplit(":", 1)[0] if not self.host.startswith("[") else self.host

    @property
    def is_loopback(self) -> bool:
        name = self.hostname.strip("[]")
        if name == "localhost":
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    def component_path(self, component: str) -> str:
        """The OCI repository of a component (componentNameMapping urlPath)."""
        return "/".join(p for p in (self.prefix, "component-descriptors", component) if p)


@dataclass(frozen=True)
class Location:
    repository: Repository
    component: str
    version: str | None = None

    def __str__(self) -> str:
        version = f":{self.version}" if self.version else ""
        return f"{self.repository}//{self.component}{version}"

    def with_version(self, version: str) -> Location:
        return Location(self.repository, self.component, version)


def _looks_like_path(text: str) -> bool:
    if text.startswith(("/", ".", "~")) or text.endswith(_ARCHIVE_SUFFIXES):
        return True
    first = text.split("/", 1)[0]
    return not ("." in first or ":" in first or first == "localhost")


def parse_repository(text: str) -> Repository:
    """A repository spec: `[type::][scheme://]host[:port][/prefix]` or a CTF path."""
    kind: Kind | None = None
    if "::" in text:
        type_name, _, text = text.partition("::")
        lowered = type_name.lower()
        if lowered in _OCI_TYPES:
            kind = "oci"
        elif lowered in _CTF_TYPES:
            kind = "ctf"
        else:
            raise LocationError(f"unknown repository type {type_name!r}")
    plain_http = False
    for scheme in ("http://", "https://", "oci://"):
        if text.startswith(scheme):
            if kind == "ctf":
                raise LocationError(f"a CTF archive has no {scheme} scheme")
            kind, plain_http, text = "oci", scheme == "http://", text[len(scheme) :]
            break
    if not text:
        raise LocationError("the repository part is empty")
    if kind is None:
        kind = "ctf" if _looks_like_path(text) else "oci"
    if kind == "ctf":
        return Repository("ctf", path=text)
    host, _, prefix = text.partition("/")
    if not host or " " in text:
        raise LocationError(f"{text!r} is not a registry host[:port][/prefix]")
    return Repository("oci", host=host, prefix=prefix.strip("/"), plain_http=plain_http)


def parse_location(text: str) -> Location:
    """`<repository>//<component>[:<version>]`, as component.location and the CLI take it."""
    text = text.strip()
    rest = text
    type_prefix = ""
    if "::" in rest.split("//", 1)[0]:
        type_prefix, _, rest = rest.partition("::")
        type_prefix += "::"
    scheme = ""
    for candidate in ("http://", "https://", "oci://"):
        if rest.startswith(candidate):
            scheme, rest = candidate, rest[len(candidate) :]
            break
    if "//" not in rest:
        raise LocationError(
            f"invalid component location format, expected '<repo>//<component>:<version>': {text}"
        )
    repo_text, _, component_text = rest.partition("//")
    repository = parse_repository(type_prefix + scheme + repo_text)
    component, _, version = (
        component_text.rpartition(":") if ":" in component_text else (component_text, "", "")
    )
    if not component:
        raise LocationError(f"no component name after '//' in {text!r}")
    return Location(repository, component, version or None)


def image_parts(image: str) -> tuple[str, str, str]:
    """(registry, repository path, tag) of an OCI artifact reference, its digest dropped: the
    Go tool's parseImage with a registry port never taken for a tag, and a name without a
    registry (`nginx:1.27`) Docker Hub's."""
    name = image.rpartition("@")[0] if "@" in image else image
    tag = ""
    if ":" in name.rpartition("/")[2]:
        name, _, tag = name.rpartition(":")
    first, _, path = name.partition("/")
    if not path or ("." not in first and ":" not in first and first != "localhost"):
        return "docker.io", name, tag
    return first, path, tag
