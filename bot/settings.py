"""Operator settings: what only the people running bootstrap-bot decide, never a repository.

Sources, strongest first: `BOOTSTRAP_BOT_*` environment variables (nested fields with `__`, e.g.
`BOOTSTRAP_BOT_REGISTRY__DOCKER_CONFIG`), then the YAML file named by
`BOOTSTRAP_BOT_SETTINGS_FILE`, then defaults. The file is where clusters, registry credentials
and the poll interval usually live:

    app_id: 123456
    private_key_file: /etc/bootstrap-bot/app.pem
    registry:
      docker_config: /etc/bootstrap-bot/docker-config.json
    clusters:
      dev:
        kubeconfig: /etc/bootstrap-bot/kubeconfig-dev
        repositories: [example-org/landscape-dev]
        branches: [incoming]
        git: {type: basic, username: bot, password_file: /etc/bootstrap-bot/git-password}
        ready_timeout: 600    # seconds Flux gets to report the merged commit Ready
    poll_interval: 600        # seconds, or "PT10M"
    resync: true              # catch up every landscape every poll_interval (and at start)

Secrets are `SecretStr` and never printed; errors name the variable or file:line:col and what is
wrong, never the value.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.core.failures import Failure

ENV_PREFIX = "BOOTSTRAP_BOT_"
SETTINGS_FILE_VARIABLE = ENV_PREFIX + "SETTINGS_FILE"
_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")
_REDACTED = "<redacted>"


def _fingerprint(pem: str) -> str:
    """SHA256 of the public key, as GitHub shows it; ValueError (never quoting it) if unusable."""
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("the private key is not an unencrypted PEM private key") from None
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


class SettingsError(Failure, ValueError):
    """Settings that cannot be used; the message lists each problem and where it came from."""


class MirrorSettings(BaseModel):
    """A transfer the bot may make: releases from `from` copied into `to` (registry/prefix)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(alias="from", min_length=1)
    target: str = Field(alias="to", min_length=1)


class RegistrySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: docker `config.json` with registry credentials (`auths`)
    docker_config: Path | None = None
    #: OCM config file (`.ocmconfig`) with credentials
    ocm_config: Path | None = None
    #: allow plain HTTP to loopback registries even when a location does not say `http://`
    #: (and connections to loopback addresses at all: a local mirror, the tests)
    plain_http_loopback: bool = False
    #: the registries a landscape may name (glob patterns, `host` or `host:port`); empty: any
    allowed: list[str] = Field(default_factory=list)
    #: registries that may resolve to private addresses (inside the operator's network); every
    #: other registry must resolve to public addresses only
    private: list[str] = Field(default_factory=list)
    #: the mirrors a landscape may name in `bot.mirror` (the only registries the bot writes to)
    mirrors: list[MirrorSettings] = Field(default_factory=list)

    def mirror(self, source: str, target: str) -> MirrorSettings | None:
        """The mirror from `source` to `target`, when the operator lists it."""
        wanted = (source.strip().rstrip("/"), target.strip().rstrip("/"))
        return next(
            (m for m in self.mirrors if (m.source.rstrip("/"), m.target.rstrip("/")) == wanted),
            None,
        )


_GIT_NEEDS = {
    "secret": (),
    "basic": ("username", "password_file"),
    "bearer": ("token_file",),
    "ssh": ("identity_file", "known_hosts_file"),
    "deploy-key": ("known_hosts_file",),
}


class GitCredentials(BaseModel):
    """Where the cluster's `flux-system/git` Secret, Flux's git credentials, comes from:

    - `secret`: it exists already; the bot only checks it has the keys Flux needs;
    - `basic` (`username`, `password_file`), `bearer` (`token_file`), `ssh` (`identity_file`,
      `known_hosts_file`): the bot writes it from these files, read at every apply;
    - `deploy-key`: the bot creates a read-only deploy key on the repository and writes its
      private half (with `known_hosts_file`); `/bootstrap apply --rotate-key` replaces it.

    `ca_file` adds `ca.crt` to any of the written ones.
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["secret", "basic", "bearer", "ssh", "deploy-key"] = "secret"
    username: str | None = None
    password_file: Path | None = None
    token_file: Path | None = None
    identity_file: Path | None = None
    known_hosts_file: Path | None = None
    ca_file: Path | None = None

    @model_validator(mode="after")
    def _complete(self) -> GitCredentials:
        missing = [name for name in _GIT_NEEDS[self.type] if getattr(self, name) is None]
        if missing:
            raise ValueError(f"type {self.type} needs {', '.join(missing)}")
        for name in ("password_file", "token_file", "identity_file", "known_hosts_file", "ca_file"):
            path = getattr(self, name)
            if path is not None and not os.access(path, os.R_OK):
                raise ValueError(f"{name}: cannot read {path}")
        return self

    def secret_data(self) -> dict[str, bytes]:
        """The Secret's keys as Flux's source-controller reads them (not `token`, which the Go
        tool writes for bearer tokens and Flux ignores). Empty for `secret` and `deploy-key`."""
        data: dict[str, bytes] = {}
        if self.type == "basic" and self.username and self.password_file:
            data = {"username": self.username.encode(), "password": _secret(self.password_file)}
        elif self.type == "bearer" and self.token_file:
            data = {"bearerToken": _secret(self.token_file)}
        elif self.type == "ssh" and self.identity_file and self.known_hosts_file:
            data = {
                "identity": self.identity_file.read_bytes(),
                "known_hosts": self.known_hosts_file.read_bytes(),
            }
        if self.ca_file is not None and self.type != "secret":
            data["ca.crt"] = self.ca_file.read_bytes()
        return data


def _secret(path: Path) -> bytes:
    # Secret files written with `echo` end in a newline that is not part of the secret.
    return path.read_bytes().rstrip(b"\r\n")


class ClusterSettings(BaseModel):
    """A cluster landscapes may name in `bot.cluster`, and which of them may."""

    model_config = ConfigDict(extra="forbid")

    kubeconfig: Path
    git: GitCredentials = Field(default_factory=GitCredentials)
    #: how long to wait for Flux to report the applied commit Ready
    ready_timeout: timedelta = timedelta(minutes=10)
    #: `owner/repo` names allowed to target this cluster
    repositories: list[str] = Field(min_length=1)
    #: landscape branches allowed to target it (shell patterns such as `release-*`)
    branches: list[str] = Field(min_length=1)

    @field_validator("repositories")
    @classmethod
    def _owner_repo(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _REPOSITORY.match(name):
                raise ValueError(f"{name!r} is not an owner/repo name")
        return value

    def may_target(self, repository: str, branch: str) -> bool:
        """Whether a landscape in `repository` on `branch` may be applied to this cluster."""
        allowed_repo = repository.casefold() in {r.casefold() for r in self.repositories}
        return allowed_repo and any(fnmatchcase(branch, p) for p in self.branches)


class LeaderElection(BaseModel):
    """Which replicas run the resync loop (webhook work runs on every replica); with `shards`
    above 1 they share it, each holding some of the shard Leases:

    - `auto`: the holder of a `coordination.k8s.io` Lease when running in a Kubernetes cluster,
      else this process alone;
    - `lease`: always a Lease (`kubeconfig` names the cluster when not running in it);
    - `off`: this process alone (a single replica).
    """

    model_config = ConfigDict(extra="forbid")

    mode: Literal["auto", "lease", "off"] = "auto"
    #: default: the pod's namespace (POD_NAMESPACE, or its service account's)
    namespace: str | None = None
    name: str = "bootstrap-bot"
    #: how long a holder that stopped renewing keeps the Lease
    duration: timedelta = Field(default=timedelta(seconds=15), ge=timedelta(seconds=3))
    kubeconfig: Path | None = None
    #: the resync split into this many Leases, shared by the replicas (1: the leader alone)
    shards: int = Field(default=64, ge=1, le=256)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
    )

    app_id: int | None = Field(default=None, gt=0)
    private_key: SecretStr | None = None
    private_key_file: Path | None = None
    webhook_secret: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    listen: str = "0.0.0.0:8080"
    cache_dir: Path = Field(
        default_factory=lambda: (
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bootstrap-bot"
        )
    )
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    clusters: dict[str, ClusterSettings] = Field(default_factory=dict)
    poll_interval: timedelta = timedelta(minutes=10)
    #: whether this process runs the resync loop (every `poll_interval`, and at start)
    resync: bool = True
    #: a resync round refreshes only repositories whose heads or releases moved; each
    #: repository is refreshed in full anyway once in this many rounds (144: daily at 600 s)
    full_resync_every: int = Field(default=144, ge=1)
    leader_election: LeaderElection = Field(default_factory=LeaderElection)
    #: pull requests from forks: `render` (within the limits, never pushed to, never dry-run
    #: against a cluster) or `ignore` (no check run, no comment; commands say why)
    fork_pull_requests: Literal["render", "ignore"] = "render"
    #: the longest one job (a delivery's handler, a repository's resync) may run; past it the
    #: job is stopped and its check runs fail saying so
    job_timeout: timedelta = timedelta(minutes=30)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    #: `json`: one object per line with the delivery, repository and landscape; `text`: plain
    log_format: Literal["json", "text"] = "json"

    @field_validator("github_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
            raise ValueError("must be an http(s) URL such as https://api.github.com")
        return value.rstrip("/")

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be HOST:PORT, e.g. 0.0.0.0:8080")
        return value

    @field_validator("poll_interval", "job_timeout", mode="before")
    @classmethod
    def _seconds_from_text(cls, value: Any) -> Any:
        # Environment variables are text: "600" means seconds there too, as 600 does in YAML.
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        return value

    @field_validator("poll_interval")
    @classmethod
    def _not_too_often(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=30):
            raise ValueError("must be at least 30 seconds")
        return value

    @field_validator("private_key")
    @classmethod
    def _usable_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        pem = value.get_secret_value()
        if "\n" not in pem:
            # Container platforms often pass a PEM key on one line with literal "\n".
            pem = pem.replace("\\n", "\n")
        _fingerprint(pem)
        return SecretStr(pem)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_without_newline(cls, value: SecretStr | None) -> SecretStr | None:
        # A Secret made from a file written with `echo` or `jq -r` ends in a newline that
        # GitHub never signs with; every delivery would then be refused.
        if value is None:
            return None
        return SecretStr(value.get_secret_value().rstrip("\r\n"))

    @field_validator("private_key_file")
    @classmethod
    def _usable_key_file(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                pem = value.read_text(encoding="utf-8")
            except OSError as exc:
                raise ValueError(f"cannot read it: {exc.strerror}") from None
            _fingerprint(pem)
        return value

    @model_validator(mode="after")
    def _one_private_key(self) -> Settings:
        if self.private_key is not None and self.private_key_file is not None:
            raise ValueError("set either private_key or private_key_file, not both")
        return self

    @model_validator(mode="after")
    def _jobs_outlast_deploys(self) -> Settings:
        # A deploy job waits up to the cluster's ready_timeout for Flux; it must be let finish.
        for name, cluster in self.clusters.items():
            if cluster.ready_timeout + timedelta(minutes=5) > self.job_timeout:
                raise ValueError(
                    f"job_timeout ({self.job_timeout}) must be at least 5 minutes longer than "
                    f"clusters.{name}.ready_timeout ({cluster.ready_timeout})"
                )
        return self

    def startup_problems(self) -> list[str]:
        """What keeps `serve` from starting with these settings, all at once: what it needs
        and is not set, and the files named that cannot be read (checked again when used)."""
        problems = []
        if self.webhook_secret is None:
            problems.append(
                "webhook_secret (BOOTSTRAP_BOT_WEBHOOK_SECRET): not set; unsigned deliveries "
                "are never accepted"
            )
        if self.app_id is None:
            problems.append("app_id (BOOTSTRAP_BOT_APP_ID): not set")
        if self.private_key is None and self.private_key_file is None:
            problems.append(
                "private_key (BOOTSTRAP_BOT_PRIVATE_KEY or BOOTSTRAP_BOT_PRIVATE_KEY_FILE): not set"
            )
        files: list[tuple[str, Path | None]] = [
            ("registry.docker_config", self.registry.docker_config),
            ("registry.ocm_config", self.registry.ocm_config),
            ("leader_election.kubeconfig", self.leader_election.kubeconfig),
        ]
        for name, cluster in self.clusters.items():
            files.append((f"clusters.{name}.kubeconfig", cluster.kubeconfig))
            for field in ("password_file", "token_file", "identity_file", "known_hosts_file",
                          "ca_file"):  # fmt: skip
                files.append((f"clusters.{name}.git.{field}", getattr(cluster.git, field)))
        for name, path in files:
            if path is not None and not path.is_file():
                problems.append(f"{name}: {path} is not a file this process can read")
        return problems

    @property
    def listen_host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def listen_port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    def private_key_pem(self) -> str | None:
        """The App's private key, from the value or the file; None when neither is set."""
        if self.private_key is not None:
            return self.private_key.get_secret_value()
        if self.private_key_file is not None:
            return self.private_key_file.read_text(encoding="utf-8")
        return None

    def private_key_fingerprint(self) -> str | None:
        """GitHub's SHA256 fingerprint of the App key, safe to log: it identifies the key only."""
        pem = self.private_key_pem()
        return None if pem is None else _fingerprint(pem)

    def redacted(self) -> dict[str, Any]:
        """The settings for people to read: secrets replaced, the key shown by fingerprint."""
        data = self.model_dump(mode="json")
        for name in ("private_key", "webhook_secret"):
            data[name] = _REDACTED if data[name] is not None else None
        data["private_key_fingerprint"] = self.private_key_fingerprint()
        data["poll_interval"] = f"{int(self.poll_interval.total_seconds())}s"
        return data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        file_data = _SETTINGS_FILE_DATA.get() or {}
        return (init_settings, env_settings, InitSettingsSource(settings_cls, file_data))


# load_settings reads (and can locate errors in) the file itself, then hands its data over here.
_SETTINGS_FILE_DATA: ContextVar[dict[str, Any] | None] = ContextVar(
    "settings_file_data", default=None
)


def _read_settings_file(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(
            f"{SETTINGS_FILE_VARIABLE}: cannot read {path}: {exc.strerror}"
        ) from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise SettingsError(f"{where}: {exc.problem}") from None
    finally:
        loader.dispose()
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}:1:1: the settings file must be a mapping")
    return data, node


def _locate(node: yaml.Node | None, loc: tuple[str | int, ...]) -> tuple[int, int] | None:
    """Line and column of the deepest part of `loc` written in the settings file."""
    found = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((kv for kv in node.value if kv[0].value == str(part)), None)
            if match is None:
                break
            node = match[1]
            found = (match[0].start_mark.line + 1, match[0].start_mark.column + 1)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            found = (node.start_mark.line + 1, node.start_mark.column + 1)
        else:
            break
    return found


def _describe_error(
    error: Mapping[str, Any], environ: Mapping[str, str], path: Path | None, node: yaml.Node | None
) -> tuple[tuple[int, int], str]:
    """The problem in words, and a sort key: file problems in file order, after the others."""
    loc = tuple(error["loc"])
    dotted = ".".join(str(p) for p in loc) or "settings"
    message = str(error["msg"]).removeprefix("Value error, ")
    if loc:
        variable = ENV_PREFIX + "__".join(str(p) for p in loc).upper()
        top_variable = ENV_PREFIX + str(loc[0]).upper()
        for name in (variable, top_variable):
            if name in environ:
                return (0, 0), f"{name}: {message}"
    if path is not None:
        where = _locate(node, loc)
        if where is not None or error["type"] == "missing":
            line, column = where or (1, 1)
            return (line, column), f"{path}:{line}:{column}: {dotted}: {message}"
    return (0, 0), f"{dotted}: {message}" if loc else message


def load_settings() -> Settings:
    """Settings from the environment and the settings file; SettingsError lists all problems."""
    file_value = os.environ.get(SETTINGS_FILE_VARIABLE)
    path = Path(file_value) if file_value else None
    data, node = _read_settings_file(path) if path else ({}, None)
    token = _SETTINGS_FILE_DATA.set(data)
    try:
        return Settings()
    except ValidationError as exc:
        described = [
            _describe_error(e, os.environ, path, node)
            for e in exc.errors(include_input=False, include_url=False)
        ]
        problems = [text for _, text in sorted(described, key=lambda d: d[0])]
        raise SettingsError("invalid settings:\n  " + "\n  ".join(problems)) from None
    finally:
        _SETTINGS_FILE_DATA.reset(token)
