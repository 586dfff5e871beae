"""Decoding a YAML document into openmcp-bootstrapper's config struct, as Go does it.

sigs.k8s.io/yaml first converts the YAML to JSON, guided by the target struct: keys become
strings, and a number or boolean aimed at a string field becomes text (`FormatFloat(f, 'g', -1,
32)` for floats). encoding/json then decodes that JSON into the struct: field names match
exactly or else case-insensitively, unknown keys are ignored, null leaves a field at its zero
value, and a wrong shape is an `UnmarshalTypeError`. Both steps happen here in one walk, which
also records where every field was written and what deserves a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bot.core.problems import Problem, did_you_mean
from bot.golang import strconv
from bot.golang.strconv import json_numbers
from bot.golang.yamlv2 import Mark, YamlList, YamlMap


@dataclass(frozen=True)
class StructSchema:
    go_type: str  # as reflect prints it, for encoding/json's messages
    #: JSON name -> "string" | "[]string" | "bool" | "*bool" | "int64" | "map" | "raw"
    #: | "map[string]string" | "map[string]bool" | StructSchema | ListSchema
    fields: Mapping[str, Any]
    #: fields whose json tag lacks `omitempty` (encoded even when empty)
    always: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ListSchema:
    item: StructSchema


LOCAL_OBJECT_REFERENCE = StructSchema("meta.LocalObjectReference", {"name": "string"})
PROVIDER = StructSchema("config.Provider", {"name": "string", "config": "raw"})
BOOTSTRAPPER_CONFIG = StructSchema(
    "config.BootstrapperConfig",
    {
        "component": StructSchema(
            "config.Component",
            {
                "location": "string",
                "openmcpOperatorTemplateResourcePath": "string",
                "fluxcdTemplateResourcePath": "string",
            },
        ),
        "repository": StructSchema(
            "config.DeploymentRepository",
            {"url": "string", "pushBranch": "string", "pullBranch": "string", "provider": "string"},
        ),
        "providers": StructSchema(
            "config.Providers",
            {
                "clusterProviders": ListSchema(PROVIDER),
                "serviceProviders": ListSchema(PROVIDER),
                "platformServices": ListSchema(PROVIDER),
            },
        ),
        "imagePullSecrets": "[]string",
        "openmcpOperator": StructSchema("config.OpenMCPOperator", {"config": "raw"}),
        "environment": "string",
        "templateInput": "map",
        "externalSecrets": StructSchema(
            "config.ExternalSecrets",
            {
                "repositorySecretRef": LOCAL_OBJECT_REFERENCE,
                "imagePullSecrets": ListSchema(LOCAL_OBJECT_REFERENCE),
            },
        ),
    },
)
_GO_TYPE_NAMES = {
    "string": "string",
    "[]string": "[]string",
    "bool": "bool",
    "*bool": "*bool",
    "int64": "int64",
    "map": "map[string]interface {}",
    "map[string]string": "map[string]string",
    "map[string]bool": "map[string]bool",
}
ABSENT = object()


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
    if isinstance(kind, StructSchema):
        return kind.go_type
    if isinstance(kind, ListSchema):
        return "[]" + kind.item.go_type
    return _GO_TYPE_NAMES[kind]


#: a problem's detail that starts so is the Go tool's own wording of it
GO_SAYS = "openmcp-bootstrapper: "
#: how a value of each JSON kind, and each Go type, reads in a sentence
_KIND_WORDS = {"object": "a map", "array": "a list", "bool": "true or false",
               "number": "a number", "string": "a string"}  # fmt: skip
_TYPE_WORDS = {
    "string": "a string",
    "[]string": "a list of strings",
    "bool": "true or false",
    "*bool": "true or false",
    "int64": "a whole number",
    "map": "a map",
    "map[string]string": "a map of strings",
    "map[string]bool": "a map of true or false",
}


def _expected(kind: Any) -> str:
    """What a Go type wants, in an operator's words: `a map with url, pushBranch, …`."""
    if isinstance(kind, StructSchema):
        names = list(kind.fields)
        more = ", …" if len(names) > 4 else ""
        return f"a map with {', '.join(names[:4])}{more}"
    if isinstance(kind, ListSchema):
        return f"a list of maps with {', '.join(list(kind.item.fields)[:4])}"
    return _TYPE_WORDS.get(str(kind), str(kind))


@dataclass
class GoDecoder:
    """sigs.k8s.io/yaml's YAML-to-JSON conversion and encoding/json's decode, in one walk."""

    file: str
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    #: where each Go field path ("providers.clusterProviders[0].name") was written
    marks: dict[str, Mark] = field(default_factory=dict)

    def error(self, message: str, mark: Mark, *, bot_only: bool = False, detail: str = "") -> None:
        problem = Problem.at("error", message, self.file, mark, bot_only=bot_only)
        self.errors.append(replace(problem, detail=detail) if detail else problem)

    def warn(self, message: str, mark: Mark) -> None:
        self.warnings.append(Problem.at("warning", message, self.file, mark))

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
                + strconv.format_float(value),
                mark,
            )
        return value

    def json_key(self, key: Any, mark: Mark) -> str:
        if isinstance(key, bool):
            return "true" if key else "false"
        if isinstance(key, int):
            return str(key)
        if isinstance(key, float):
            text = strconv.format_float(key, "g", 32)
            return {"+Inf": ".inf", "-Inf": "-.inf", "NaN": ".nan"}.get(text, text)
        if key is None:
            self.error("error converting YAML to JSON: unsupported map key of type: <nil>", mark)
            return ""
        return str(key)

    # Decoding into the Go struct.

    def decode_struct(
        self, value: Any, schema: StructSchema, path: str, mark: Mark
    ) -> dict[str, Any]:
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
            if decoded is not ABSENT:
                out[field_name] = decoded
        return out

    def decode_field(
        self, item: Any, kind: Any, path: str, mark: Mark, text: str | None, parent: StructSchema
    ) -> Any:
        if kind == "raw":
            # json.RawMessage keeps anything, even null (as the text "null").
            return self.jsonable(item, mark)
        if item is None:
            return ABSENT  # null leaves a Go field at its zero value
        if kind == "string":
            if isinstance(item, YamlMap | YamlList):
                self.type_error(item, kind, path, mark, struct_name=parent.go_type)
                return ABSENT
            return self.coerce_string(item, path, mark, text)
        if kind == "[]string":
            if not isinstance(item, YamlList):
                self.type_error(item, kind, path, mark, struct_name=parent.go_type)
                return ABSENT
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
                return ABSENT
            return json_numbers(self.jsonable(item, mark))
        if kind in ("bool", "*bool", "int64"):
            return self.decode_scalar(item, kind, path, mark, parent)
        if kind in ("map[string]string", "map[string]bool"):
            if not isinstance(item, YamlMap):
                self.type_error(item, kind, path, mark, struct_name=parent.go_type)
                return ABSENT
            element = kind.removeprefix("map[string]")
            out_map: dict[str, Any] = {}
            for key, v, key_mark, value_mark, text in item.items():
                name = self.json_key(key, key_mark)
                if element == "string" and v is not None and not isinstance(v, YamlMap | YamlList):
                    out_map[name] = self.coerce_string(v, f"{path}.{name}", value_mark, text)
                elif element == "bool" and (v is None or isinstance(v, bool)):
                    out_map[name] = bool(v)
                else:
                    self.type_error(v, element, path, value_mark, struct_name=parent.go_type)
            return out_map
        if isinstance(kind, StructSchema):
            if not isinstance(item, YamlMap):
                self.type_error(item, kind, path, mark, struct_name=parent.go_type)
                return ABSENT
            return self.decode_struct(item, kind, path, mark)
        assert isinstance(kind, ListSchema)
        if not isinstance(item, YamlList):
            self.type_error(item, kind, path, mark, struct_name=parent.go_type)
            return ABSENT
        out = []
        for i, (v, m) in enumerate(zip(item.items, item.marks, strict=True)):
            self.marks[f"{path}[{i}]"] = m
            if v is not None and not isinstance(v, YamlMap):
                self.type_error(v, kind.item, path, m, struct_name=parent.go_type)
                continue
            out.append(self.decode_struct(v, kind.item, f"{path}[{i}]", m))
        return out

    def decode_scalar(
        self, item: Any, kind: str, path: str, mark: Mark, parent: StructSchema
    ) -> Any:
        if kind in ("bool", "*bool") and isinstance(item, bool):
            return item
        if kind == "int64" and isinstance(item, int) and not isinstance(item, bool):
            return item
        self.type_error(item, kind, path, mark, struct_name=parent.go_type)
        return ABSENT

    def coerce_string(self, value: Any, path: str, mark: Mark, text: str | None) -> str:
        if isinstance(value, str):
            return value
        # sigs.k8s.io/yaml turns a number or boolean aimed at a string field into text.
        if isinstance(value, bool):
            result = "true" if value else "false"
        elif isinstance(value, int):
            result = str(value)
        else:
            result = strconv.format_float(value, "g", 32)
        if text != result:
            written = text if text is not None else result
            self.warn(
                f"{path}: {written} is read as the string {strconv.quote(result)} "
                "(YAML 1.1, as openmcp-bootstrapper reads it); quote the value if you meant "
                f"{strconv.quote(written)}",
                mark,
            )
        return result

    def match_field(self, name: str, schema: StructSchema) -> str | None:
        if name in schema.fields:
            return name
        folded = name.casefold()
        return next((f for f in schema.fields if f.casefold() == folded), None)

    def unknown_key(self, name: str, schema: StructSchema, path: str, mark: Mark) -> None:
        if schema is BOOTSTRAPPER_CONFIG and name == "bot":
            return
        hint = did_you_mean(name, schema.fields)
        self.warn(f"{path}: unknown field, ignored by openmcp-bootstrapper{hint}", mark)

    def type_error(
        self, value: Any, kind: Any, path: str, mark: Mark, *, struct_name: str | None
    ) -> None:
        json_path = ".".join(p.split("[")[0] for p in path.split("."))
        if struct_name is None:
            target = f"Go value of type {_go_type(kind)}"
        else:
            target = f"Go struct field {struct_name.split('.')[-1]}.{json_path} of type "
            target += _go_type(kind)
        where = path or "the config"
        said = f"{where}: expected {_expected(kind)}, got {_KIND_WORDS[_json_kind(value)]}"
        go = f"json: cannot unmarshal {_json_kind(value)} into {target}"
        self.error(said, mark, detail=GO_SAYS + go)

    @staticmethod
    def join(path: str, name: str) -> str:
        return f"{path}.{name}" if path else name
