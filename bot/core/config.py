"""The bootstrap config (`.bootstrap/config.yaml`), read exactly as openmcp-bootstrapper reads it.

The Go tool decodes the file with sigs.k8s.io/yaml into its `BootstrapperConfig` struct:
YAML 1.1 via yaml.v2, then a JSON round trip into the struct with `encoding/json`. That means:
field names match case-insensitively, unknown keys are ignored, a YAML number or boolean given
where a string is expected becomes that string (`environment: no` is "false"), free-form maps
carry float64 numbers, and a wrong shape (a map where a string belongs) is a decode error.
Then `SetDefaults` and `Validate` run, and validation collects every error with k8s field paths.

This module reproduces all of that and adds what the Go tool lacks: each problem carries the
file, line and column it refers to; unknown keys, duplicate keys and silently coerced scalars are
reported as warnings; and the `bot:` section, which the Go tool ignores, is validated strictly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bot.core.bot_section import BotSection, read_bot_section
from bot.core.config_decode import ABSENT, BOOTSTRAPPER_CONFIG, GO_SAYS, GoDecoder
from bot.core.failures import Failure
from bot.core.problems import Problem, by_position
from bot.golang import strconv
from bot.golang.strconv import json_numbers
from bot.golang.yamlv2 import Mark, YamlError, YamlList, YamlMap, decode_first_document

CONFIG_PATH = ".bootstrap/config.yaml"
#: a bootstrap config is a few kB; reading one costs about 40 times its size in memory
MAX_CONFIG_BYTES = 256 * 1024
DEFAULT_FLUXCD_TEMPLATE_PATH = "gitops-templates/fluxcd"
DEFAULT_OPENMCP_TEMPLATE_PATH = "gitops-templates/openmcp"
DEFAULT_PROVIDER = "generic"


class ConfigError(Failure, ValueError):
    """The config cannot be used; `errors` holds every problem found, `warnings` the rest.

    `phase` says where the Go tool would have stopped: "read" (it could not decode the file) or
    "validate" (it decoded the file and `Validate` failed).
    """

    def __init__(
        self, errors: list[Problem], warnings: list[Problem], phase: Literal["read", "validate"]
    ) -> None:
        self.errors = by_position(errors)
        self.warnings = by_position(warnings)
        self.phase = phase
        self._go_errors = [
            p.detail.removeprefix(GO_SAYS) if p.detail.startswith(GO_SAYS) else p.message
            for p in errors
            if not p.bot_only
        ]
        super().__init__("\n".join(str(p) for p in self.errors))

    @property
    def go_message(self) -> str | None:
        """The error openmcp-bootstrapper prints for this file, or None if it would accept it.

        YAML syntax errors are worded by PyYAML, not yaml.v2, so only their shape matches.
        """
        if not self._go_errors:
            return None
        if self.phase == "read":
            first = self._go_errors[0]
            if not first.startswith("error converting YAML to JSON"):
                first = f"error unmarshaling JSON: {first}"
            return f"failed to read config file: {first}"
        # k8s field.ErrorList.ToAggregate: duplicates dropped, several errors in brackets.
        unique = list(dict.fromkeys(self._go_errors))
        joined = ", ".join(unique)
        return f"invalid config file: {joined if len(unique) == 1 else f'[{joined}]'}"


# --- the config model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    location: str
    openmcp_operator_template_resource_path: str
    fluxcd_template_resource_path: str
    #: where `location` was written: what the release's repository refuses is told there
    location_mark: Mark = field(default=Mark(1, 1), compare=False)

    @property
    def repository(self) -> str:
        """The OCM repository: everything before the first `//`, as the Go tool splits it, except
        that a `scheme://` in front is skipped (the Go tool cannot read such a location)."""
        start = 0
        if "::" in self.location.split("//", 1)[0]:
            start = self.location.index("::") + 2
        for scheme in ("http://", "https://", "oci://"):
            if self.location.startswith(scheme, start):
                start += len(scheme)
                break
        return self.location[:start] + self.location[start:].split("//", 1)[0]


@dataclass(frozen=True)
class Repository:
    url: str
    push_branch: str
    pull_branch: str
    provider: str


@dataclass(frozen=True)
class Provider:
    name: str
    #: the parsed `config` map (float numbers), None when absent or null
    config: Mapping[str, Any] | None
    #: where its name is written in the config
    mark: Mark = field(default=Mark(1, 1), compare=False)


@dataclass(frozen=True)
class Providers:
    cluster_providers: tuple[Provider, ...] = ()
    service_providers: tuple[Provider, ...] = ()
    platform_services: tuple[Provider, ...] = ()


@dataclass(frozen=True)
class ExternalSecrets:
    repository_secret_ref: str | None = None
    image_pull_secrets: tuple[str, ...] = ()
    #: whether the config has an `externalSecrets` section (the landscape wants ESO)
    present: bool = False


@dataclass(frozen=True)
class BootstrapConfig:
    """The config after the Go tool's `SetDefaults`, as the templates will see it."""

    component: Component
    repository: Repository
    environment: str
    image_pull_secrets: tuple[str, ...]
    providers: Providers
    #: the parsed `openmcpOperator.config` map; None only when written as null
    openmcp_operator_config: Mapping[str, Any] | None
    #: `templateInput`, JSON-typed (float numbers); None when absent
    template_input: Mapping[str, Any] | None
    external_secrets: ExternalSecrets
    bot: BotSection


@dataclass(frozen=True)
class LoadedConfig:
    config: BootstrapConfig
    warnings: list[Problem]


# --- SetDefaults and Validate -------------------------------------------------------------------


def _required(path: str, detail: str) -> str:
    return f"{path}: Required value: {detail}"


def _invalid(path: str, raw: str, detail: str) -> str:
    return f"{path}: Invalid value: {strconv.quote(raw)}: {detail}"


@dataclass
class _Validator:
    decoder: GoDecoder
    top: Mark

    def where(self, path: str) -> Mark:
        """Where a field was written, else where its closest written parent was, else the top."""
        while path:
            if path in self.decoder.marks:
                return self.decoder.marks[path]
            path = path.rpartition(".")[0]
        return self.top

    def require(self, value: str, path: str, detail: str, *, bot_only: bool = False) -> None:
        if not value:
            self.decoder.error(_required(path, detail), self.where(path), bot_only=bot_only)

    def parse_map(self, raw: Any, path: str, detail: str) -> Mapping[str, Any] | None:
        """`yaml.Unmarshal(rawJSON, &map)`: an object or null is fine, anything else is not."""
        if raw is None or raw is ABSENT:
            return None
        if isinstance(raw, dict):
            parsed: Mapping[str, Any] = json_numbers(raw)
            return parsed
        try:
            text = strconv.json_marshal(raw)
        except strconv.UnsupportedJSONValue:
            return None  # already reported while converting the file
        self.decoder.error(_invalid(path, text, detail), self.where(path))
        return None


def _string(values: Mapping[str, Any], key: str) -> str:
    value = values.get(key, "")
    return value if isinstance(value, str) else ""


def _providers(v: _Validator, raw: Mapping[str, Any]) -> Providers:
    lists: dict[str, tuple[Provider, ...]] = {}
    for key, noun in (
        ("clusterProviders", "cluster provider"),
        ("serviceProviders", "service provider"),
        ("platformServices", "platform service"),
    ):
        entries = []
        for i, entry in enumerate(raw.get(key, [])):
            path = f"providers.{key}[{i}]"
            name = _string(entry, "name")
            v.require(name, f"{path}.name", f"{noun} name is required")
            config = v.parse_map(
                entry.get("config", ABSENT), f"{path}.config", f"{noun} config is not valid yaml"
            )
            entries.append(Provider(name, config, v.where(f"{path}.name")))
        lists[key] = tuple(entries)
    return Providers(
        lists["clusterProviders"], lists["serviceProviders"], lists["platformServices"]
    )


def _build(v: _Validator, raw: Mapping[str, Any]) -> BootstrapConfig:
    component = raw.get("component", {})
    repository = raw.get("repository", {})
    # SetDefaults, in the Go tool's order.
    push_branch = _string(repository, "pushBranch")
    eso = raw.get("externalSecrets") or {}
    built = BootstrapConfig(
        component=Component(
            location=_string(component, "location"),
            openmcp_operator_template_resource_path=(
                _string(component, "openmcpOperatorTemplateResourcePath")
                or DEFAULT_OPENMCP_TEMPLATE_PATH
            ),
            fluxcd_template_resource_path=(
                _string(component, "fluxcdTemplateResourcePath") or DEFAULT_FLUXCD_TEMPLATE_PATH
            ),
            location_mark=v.where("component.location"),
        ),
        repository=Repository(
            url=_string(repository, "url"),
            push_branch=push_branch,
            pull_branch=_string(repository, "pullBranch") or push_branch,
            provider=_string(repository, "provider") or DEFAULT_PROVIDER,
        ),
        environment=_string(raw, "environment"),
        image_pull_secrets=tuple(raw.get("imagePullSecrets", ())),
        providers=Providers(),
        openmcp_operator_config=None,
        template_input=raw.get("templateInput"),
        external_secrets=ExternalSecrets(
            repository_secret_ref=(
                _string(eso["repositorySecretRef"], "name")
                if isinstance(eso.get("repositorySecretRef"), Mapping)
                else None
            ),
            image_pull_secrets=tuple(
                _string(ref, "name") for ref in eso.get("imagePullSecrets") or ()
            ),
            present=isinstance(raw.get("externalSecrets"), Mapping),
        ),
        bot=BotSection(),
    )
    # Validate, in the Go tool's order and with its messages.
    v.require(built.environment, "environment", "environment is required")
    v.require(built.component.location, "component.location", "component location is required")
    v.require(built.repository.url, "repository.url", "repository url is required")
    v.require(
        built.repository.pull_branch, "repository.pullBranch", "repository pull branch is required"
    )
    operator = raw.get("openmcpOperator", {})
    operator_config = None
    if "config" not in operator:
        v.require("", "openmcpOperator.config", "openmcp operator config is required")
    else:
        operator_config = v.parse_map(
            operator["config"],
            "openmcpOperator.config",
            "openmcp operator config is not valid yaml",
        )
        if operator["config"] is None:
            v.decoder.warn(
                "openmcpOperator.config: is null; openmcp-bootstrapper accepts that, but the "
                "templates then get no operator config",
                v.where("openmcpOperator.config"),
            )
    providers = _providers(v, raw.get("providers", {}))
    # Checks the Go tool makes only later, after cloning and downloading, or not at all.
    location = built.component.location
    if location and "//" not in location:
        v.decoder.error(
            "component.location: invalid component location format, expected "
            f"'<repo>//<component>:<version>': {location}",
            v.where("component.location"),
            bot_only=True,
        )
    v.require(
        built.repository.push_branch,
        "repository.pushBranch",
        "repository push branch is required (bootstrap-bot keeps the landscape in it)",
        bot_only=True,
    )
    return replace(built, providers=providers, openmcp_operator_config=operator_config)


# --- entry point --------------------------------------------------------------------------------


def load_bootstrap_config(text: str, *, file: str = CONFIG_PATH) -> LoadedConfig:
    """Read a bootstrap config as openmcp-bootstrapper does, then SetDefaults and Validate.

    Raises ConfigError listing every error (each located in `file`) when the Go tool would
    refuse the file, or when bootstrap-bot could not use it (one over MAX_CONFIG_BYTES
    characters is not read at all).
    """
    if len(text) > MAX_CONFIG_BYTES:
        said = f"the config is {len(text):,} characters; at most {MAX_CONFIG_BYTES:,} are read"
        raise ConfigError([Problem(said, file, bot_only=True)], [], "read")
    decoder = GoDecoder(file)
    try:
        document = decode_first_document(text)
    except YamlError as err:
        problem = Problem.at(
            "error", f"error converting YAML to JSON: {err.message}", file, err.mark
        )
        raise ConfigError([problem], [], "read") from None
    top = document.mark if isinstance(document, YamlMap | YamlList) else Mark(1, 1)
    raw = decoder.decode_struct(document, BOOTSTRAPPER_CONFIG, "", top)
    if decoder.errors:
        # The Go tool stops at a read error; so do we, reporting all of them.
        raise ConfigError(decoder.errors, decoder.warnings, "read")
    config = _build(_Validator(decoder, top), raw)
    if isinstance(document, YamlMap):
        for key, item, _, value_mark, _ in document.items():
            if key == "bot":

                def report(message: str, mark: Mark) -> None:
                    decoder.error(message, mark, bot_only=True)

                config = replace(config, bot=read_bot_section(item, value_mark, report))
    if decoder.errors:
        raise ConfigError(decoder.errors, decoder.warnings, "validate")
    return LoadedConfig(config=config, warnings=by_position(decoder.warnings))


def read_bot_settings(text: str) -> BotSection | None:
    """Only the `bot:` section of a config (defaults when it has none); None when the file is
    not YAML, too large or the section has errors, so callers can fail closed."""
    if len(text) > MAX_CONFIG_BYTES:
        return None
    try:
        document = decode_first_document(text)
    except YamlError:
        return None
    if not isinstance(document, YamlMap):
        return BotSection()
    problems: list[str] = []
    section = BotSection()
    for key, item, _, value_mark, _ in document.items():
        if key == "bot":
            section = read_bot_section(
                item, value_mark, lambda message, _: problems.append(message)
            )
    return None if problems else section
