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

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bot.core import gostrconv
from bot.core.bot_section import BotSection, read_bot_section
from bot.core.yamlv2 import Mark, YamlError, YamlList, YamlMap, decode_first_document

CONFIG_PATH = ".bootstrap/config.yaml"
DEFAULT_FLUXCD_TEMPLATE_PATH = "gitops-templates/fluxcd"
DEFAULT_OPENMCP_TEMPLATE_PATH = "gitops-templates/openmcp"
DEFAULT_PROVIDER = "generic"

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding about a config file, located in it."""

    severity: Severity
    message: str
    file: str
    mark: Mark
    #: a check openmcp-bootstrapper does not make (or makes only later, after cloning)
    bot_only: bool = False

    def __str__(self) -> str:
        return f"{self.file}:{self.mark.line}:{self.mark.column}: {self.severity}: {self.message}"


def _by_position(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.mark.line, p.mark.column))


class ConfigError(ValueError):
    """The config cannot be used; `errors` holds every problem found, `warnings` the rest.

    `phase` says where the Go tool would have stopped: "read" (it could not decode the file) or
    "validate" (it decoded the file and `Validate` failed).
    """

    def __init__(
        self, errors: list[Problem], warnings: list[Problem], phase: Literal["read", "validate"]
    ) -> None:
        self.errors = _by_position(errors)
        self.warnings = _by_position(warnings)
        self.phase = phase
        self._go_errors = [p.message for p in errors if not p.bot_only]
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

    @property
    def repository(self) -> str:
        """The OCM repository: everything before the first `//`, as the Go tool splits it."""
        return self.location.split("//", 1)[0]


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


@dataclass(frozen=True)
class Providers:
    cluster_providers: tuple[Provider, ...] = ()
    service_providers: tuple[Provider, ...] = ()
    platform_services: tuple[Provider, ...] = ()


@dataclass(frozen=True)
class ExternalSecrets:
    repository_secret_ref: str | None = None
    image_pull_secrets: tuple[str, ...] = ()


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


# --- the Go struct the file is decoded into ---------------------------------------------------


@dataclass(frozen=True)
class _Struct:
    go_type: str  # as reflect prints it, for encoding/json's messages
    fields: Mapping[
        str, Any
    ]  # JSON name -> "string" | "[]string" | "map" | "raw" | _Struct | _List


@dataclass(frozen=True)
class _List:
    item: _Struct


_LOCAL_OBJECT_REFERENCE = _Struct("meta.LocalObjectReference", {"name": "string"})
_PROVIDER = _Struct("config.Provider", {"name": "string", "config": "raw"})
_SCHEMA = _Struct(
    "config.BootstrapperConfig",
    {
        "component": _Struct(
            "config.Component",
            {
                "location": "string",
                "openmcpOperatorTemplateResourcePath": "string",
                "fluxcdTemplateResourcePath": "string",
            },
        ),
        "repository": _Struct(
            "config.DeploymentRepository",
            {"url": "string", "pushBranch": "string", "pullBranch": "string", "provider": "string"},
        ),
        "providers": _Struct(
            "config.Providers",
            {
                "clusterProviders": _List(_PROVIDER),
                "serviceProviders": _List(_PROVIDER),
                "platformServices": _List(_PROVIDER),
            },
        ),
        "imagePullSecrets": "[]string",
        "openmcpOperator": _Struct("config.OpenMCPOperator", {"config": "raw"}),
        "environment": "string",
        "templateInput": "map",
        "externalSecrets": _Struct(
            "config.ExternalSecrets",
            {
                "repositorySecretRef": _LOCAL_OBJECT_REFERENCE,
                "imagePullSecrets": _List(_LOCAL_OBJECT_REFERENCE),
            },
        ),
    },
)
_GO_TYPE_NAMES = {"string": "string", "[]string": "[]string", "map": "map[string]interface {}"}
_ABSENT = object()


def _json_kind(value: Any) -> str:
    if isinstance(value, YamlMap):
        return "object"
    if isinstance(value, YamlList):
        return "array"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "string"


def _go_type(kind: Any) -> str:
    if isinstance(kind, _Struct):
        return kind.go_type
    if isinstance(kind, _List):
        return "[]" + kind.item.go_type
    return _GO_TYPE_NAMES[kind]


@dataclass
class _Decoder:
    """sigs.k8s.io/yaml's YAML-to-JSON conversion and encoding/json's decode, in one walk."""

    file: str
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    #: where each Go field path ("providers.clusterProviders[0].name") was written
    marks: dict[str, Mark] = field(default_factory=dict)

    def error(self, message: str, mark: Mark, *, bot_only: bool = False) -> None:
        self.errors.append(Problem("error", message, self.file, mark, bot_only))

    def warn(self, message: str, mark: Mark) -> None:
        self.warnings.append(Problem("warning", message, self.file, mark))

    # JSON-able conversion of free-form values (sigs.k8s.io/yaml convertToJSONableObject).

    def jsonable(self, value: Any, mark: Mark) -> Any:
        if isinstance(value, YamlMap):
            out: dict[str, Any] = {}
            for key, item, key_mark, value_mark, _ in value.items():
                out[self.json_key(key, key_mark)] = self.jsonable(item, value_mark)
            return out
        if isinstance(value, YamlList):
            return [self.jsonable(v, m) for v, m in zip(value.items, value.marks, strict=True)]
        if isinstance(value, float) and (value != value or value in (float("inf"), -float("inf"))):
            # json.Marshal refuses these, so the Go tool cannot read the file at all.
            self.error(
                "error converting YAML to JSON: json: unsupported value: "
                + gostrconv.format_float(value),
                mark,
            )
        return value

    def json_key(self, key: Any, mark: Mark) -> str:
        if isinstance(key, bool):
            return "true" if key else "false"
        if isinstance(key, int):
            return str(key)
        if isinstance(key, float):
            text = gostrconv.format_float(key, "g", 32)
            return {"+Inf": ".inf", "-Inf": "-.inf", "NaN": ".nan"}.get(text, text)
        if key is None:
            self.error("error converting YAML to JSON: unsupported map key of type: <nil>", mark)
            return ""
        return str(key)

    # Decoding into the Go struct.

    def decode_struct(self, value: Any, schema: _Struct, path: str, mark: Mark) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if value is None:
            return out
        if not isinstance(value, YamlMap):
            self.type_error(value, schema, path, mark, struct_name=None)
            return out
        for dup_key, dup_mark in value.duplicates:
            self.warn(
                f"{self.join(path, self.json_key(dup_key, dup_mark))}: written more than once; "
                "the last one is used",
                dup_mark,
            )
        # encoding/json sees the keys sorted bytewise (json.Marshal sorts map keys) and lets a
        # later key overwrite an earlier one that matched the same field.
        entries = []
        for key, item, key_mark, value_mark, text in value.items():
            entries.append((self.json_key(key, key_mark), item, key_mark, value_mark, text))
        entries.sort(key=lambda e: e[0].encode())
        for name, item, key_mark, value_mark, text in entries:
            field_name = self.match_field(name, schema)
            child = self.join(path, field_name or name)
            if field_name is None:
                self.unknown_key(name, schema, child, key_mark)
                self.jsonable(item, value_mark)  # still marshalled to JSON by the Go tool
                continue
            if field_name != name:
                self.warn(
                    f"{child}: written as {name!r}; openmcp-bootstrapper matches field names "
                    "without regard to case, but other tools do not",
                    key_mark,
                )
            self.marks[child] = value_mark
            kind = schema.fields[field_name]
            decoded = self.decode_field(item, kind, child, value_mark, text, schema)
            if decoded is not _ABSENT:
                out[field_name] = decoded
        return out

    def decode_field(
        self, item: Any, kind: Any, path: str, mark: Mark, text: str | None, parent: _Struct
    ) -> Any:
        if kind == "raw":
            # json.RawMessage keeps anything, even null (as the text "null").
            return self.jsonable(item, mark)
        if item is None:
            return _ABSENT  # null leaves a Go field at its zero value
        if kind == "string":
            if isinstance(item, YamlMap | YamlList):
                self.type_error(item, kind, path, mark, struct_name=parent.go_type)
                return _ABSENT
            return self.coerce_string(item, path, mark, text)
        if kind == "[]string":
            if not isinstance(item, YamlList):
                self.type_error(item, kind, path, mark, struct_name=parent.go_type)
                return _ABSENT
            strings = []
            for i, (v, m, t) in enumerate(zip(item.items, item.marks, item.texts, strict=True)):
                if isinstance(v, YamlMap | YamlList):
                    self.type_error(v, "string", path, m, struct_name=parent.go_type)
                elif v is None:
                    strings.append("")
                else:
                    strings.append(self.coerce_string(v, f"{path}[{i}]", m, t))
            return strings
        if kind == "map":
            if not isinstance(item, YamlMap):
                self.type_error(item, kind, path, mark, struct_name=parent.go_type)
                return _ABSENT
            return _json_numbers(self.jsonable(item, mark))
        if isinstance(kind, _Struct):
            if not isinstance(item, YamlMap):
                self.type_error(item, kind, path, mark, struct_name=parent.go_type)
                return _ABSENT
            return self.decode_struct(item, kind, path, mark)
        assert isinstance(kind, _List)
        if not isinstance(item, YamlList):
            self.type_error(item, kind, path, mark, struct_name=parent.go_type)
            return _ABSENT
        out = []
        for i, (v, m) in enumerate(zip(item.items, item.marks, strict=True)):
            self.marks[f"{path}[{i}]"] = m
            if v is not None and not isinstance(v, YamlMap):
                self.type_error(v, kind.item, path, m, struct_name=parent.go_type)
                continue
            out.append(self.decode_struct(v, kind.item, f"{path}[{i}]", m))
        return out

    def coerce_string(self, value: Any, path: str, mark: Mark, text: str | None) -> str:
        if isinstance(value, str):
            return value
        # sigs.k8s.io/yaml turns a number or boolean aimed at a string field into text.
        if isinstance(value, bool):
            result = "true" if value else "false"
        elif isinstance(value, int):
            result = str(value)
        else:
            result = gostrconv.format_float(value, "g", 32)
        if text != result:
            written = text if text is not None else result
            self.warn(
                f"{path}: {written} is read as the string {gostrconv.quote(result)} "
                "(YAML 1.1, as openmcp-bootstrapper reads it); quote the value if you meant "
                f"{gostrconv.quote(written)}",
                mark,
            )
        return result

    def match_field(self, name: str, schema: _Struct) -> str | None:
        if name in schema.fields:
            return name
        folded = name.casefold()
        return next((f for f in schema.fields if f.casefold() == folded), None)

    def unknown_key(self, name: str, schema: _Struct, path: str, mark: Mark) -> None:
        if schema is _SCHEMA and name == "bot":
            return
        hint = difflib.get_close_matches(name, list(schema.fields), n=1, cutoff=0.6)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        self.warn(f"{path}: unknown field, ignored by openmcp-bootstrapper{suggestion}", mark)

    def type_error(
        self, value: Any, kind: Any, path: str, mark: Mark, *, struct_name: str | None
    ) -> None:
        json_path = ".".join(p.split("[")[0] for p in path.split("."))
        if struct_name is None:
            target = f"Go value of type {_go_type(kind)}"
        else:
            target = f"Go struct field {struct_name.split('.')[-1]}.{json_path} of type "
            target += _go_type(kind)
        self.error(f"json: cannot unmarshal {_json_kind(value)} into {target}", mark)

    @staticmethod
    def join(path: str, name: str) -> str:
        return f"{path}.{name}" if path else name


def _json_numbers(value: Any) -> Any:
    """What a Go map[string]interface{} holds after the JSON round trip: every number a float."""
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_numbers(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


# --- SetDefaults and Validate -------------------------------------------------------------------


def _required(path: str, detail: str) -> str:
    return f"{path}: Required value: {detail}"


def _invalid(path: str, raw: str, detail: str) -> str:
    return f"{path}: Invalid value: {gostrconv.quote(raw)}: {detail}"


@dataclass
class _Validator:
    decoder: _Decoder
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
        if raw is None or raw is _ABSENT:
            return None
        if isinstance(raw, dict):
            parsed: Mapping[str, Any] = _json_numbers(raw)
            return parsed
        try:
            text = gostrconv.json_marshal(raw)
        except gostrconv.UnsupportedJSONValue:
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
                entry.get("config", _ABSENT), f"{path}.config", f"{noun} config is not valid yaml"
            )
            entries.append(Provider(name, config))
        lists[key] = tuple(entries)
    return Providers(
        lists["clusterProviders"], lists["serviceProviders"], lists["platformServices"]
    )


def _build(v: _Validator, raw: Mapping[str, Any]) -> BootstrapConfig:
    component = raw.get("component", {})
    repository = raw.get("repository", {})
    # SetDefaults, in the Go tool's order.
    push_branch = _string(repository, "pushBranch")
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
                _string(raw["externalSecrets"]["repositorySecretRef"], "name")
                if "repositorySecretRef" in raw.get("externalSecrets", {})
                else None
            ),
            image_pull_secrets=tuple(
                _string(ref, "name")
                for ref in raw.get("externalSecrets", {}).get("imagePullSecrets", ())
            ),
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
    refuse the file, or when bootstrap-bot could not use it.
    """
    decoder = _Decoder(file)
    try:
        document = decode_first_document(text)
    except YamlError as err:
        problem = Problem("error", f"error converting YAML to JSON: {err.message}", file, err.mark)
        raise ConfigError([problem], [], "read") from None
    top = document.mark if isinstance(document, YamlMap | YamlList) else Mark(1, 1)
    raw = decoder.decode_struct(document, _SCHEMA, "", top)
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
    return LoadedConfig(config=config, warnings=_by_position(decoder.warnings))


def resolved_document(config: BootstrapConfig) -> dict[str, Any]:
    """The config with defaults applied, in the Go tool's key names (for people to read)."""

    def providers(entries: tuple[Provider, ...]) -> list[dict[str, Any]]:
        return [
            {"name": p.name, **({"config": dict(p.config)} if p.config is not None else {})}
            for p in entries
        ]

    upgrade = config.bot.upgrade
    return {
        "component": {
            "location": config.component.location,
            "openmcpOperatorTemplateResourcePath": (
                config.component.openmcp_operator_template_resource_path
            ),
            "fluxcdTemplateResourcePath": config.component.fluxcd_template_resource_path,
        },
        "repository": {
            "url": config.repository.url,
            "pushBranch": config.repository.push_branch,
            "pullBranch": config.repository.pull_branch,
            "provider": config.repository.provider,
        },
        "environment": config.environment,
        "imagePullSecrets": list(config.image_pull_secrets),
        "providers": {
            "clusterProviders": providers(config.providers.cluster_providers),
            "serviceProviders": providers(config.providers.service_providers),
            "platformServices": providers(config.providers.platform_services),
        },
        "openmcpOperator": {"config": config.openmcp_operator_config},
        "templateInput": config.template_input,
        "externalSecrets": {
            "repositorySecretRef": config.external_secrets.repository_secret_ref,
            "imagePullSecrets": list(config.external_secrets.image_pull_secrets),
        },
        "bot": {
            "cluster": config.bot.cluster,
            "upgrade": {
                "enabled": upgrade.enabled,
                "constraint": upgrade.constraint.text if upgrade.constraint else None,
                "allowPrereleases": upgrade.allow_prereleases,
                "ignoredVersions": [str(v) for v in upgrade.ignored_versions],
            },
        },
    }
