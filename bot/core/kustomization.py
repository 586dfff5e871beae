"""The round trip of `resources/openmcp/kustomization.yaml` (bootstrapper.md §4.9). Pure.

The Go tool reads the rendered file with sigs.k8s.io/yaml into kustomize's `types.Kustomization`
(non-strict: unknown keys vanish, field names match case-insensitively, scalars aimed at string
fields become strings), appends the resources it generated, and writes it back with
sigs.k8s.io/yaml: every field is `omitempty`, keys are sorted the yaml.v2 way, comments and the
leading `---` are gone. The struct's well-known parts are modelled field by field; the rarely
used ones (replacements, vars, helm, sortOptions, inventory) pass through as they were written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.config_decode import GoDecoder, ListSchema, StructSchema
from bot.core.failures import Failure
from bot.core.problems import Problem
from bot.golang import sigsyaml
from bot.golang.yamlv2 import Mark, YamlError, YamlList, YamlMap, decode_first_document

_GVK = {"group": "string", "version": "string", "kind": "string"}
_SELECTOR = StructSchema(
    "types.Selector",
    {
        **_GVK,
        "name": "string",
        "namespace": "string",
        "annotationSelector": "string",
        "labelSelector": "string",
    },
)
_PATCH = StructSchema(
    "types.Patch",
    {"path": "string", "patch": "string", "target": _SELECTOR, "options": "map[string]bool"},
)
_IMAGE = StructSchema(
    "types.Image",
    {
        "name": "string",
        "newName": "string",
        "tagSuffix": "string",
        "newTag": "string",
        "digest": "string",
    },
)
_FIELD_SPEC = StructSchema("types.FieldSpec", {**_GVK, "path": "string", "create": "bool"})
_LABEL = StructSchema(
    "types.Label",
    {
        "pairs": "map[string]string",
        "includeSelectors": "bool",
        "includeTemplates": "bool",
        "includeVolumeClaimTemplates": "bool",
        "fields": ListSchema(_FIELD_SPEC),
    },
)
_OBJECT_META = StructSchema(
    "types.ObjectMeta",
    {
        "name": "string",
        "namespace": "string",
        "labels": "map[string]string",
        "annotations": "map[string]string",
    },
)
_GENERATOR_OPTIONS = StructSchema(
    "types.GeneratorOptions",
    {
        "labels": "map[string]string",
        "annotations": "map[string]string",
        "disableNameSuffixHash": "bool",
        "immutable": "bool",
    },
)
_GENERATOR_ARGS = {
    "namespace": "string",
    "name": "string",
    "immutable": "*bool",
    "behavior": "string",
    "literals": "[]string",
    "files": "[]string",
    "envs": "[]string",
    "ageIdentities": "[]string",
    "env": "string",
    "options": _GENERATOR_OPTIONS,
}
_REPLICA = StructSchema("types.Replica", {"name": "string", "count": "int64"}, frozenset({"count"}))
KUSTOMIZATION = StructSchema(
    "types.Kustomization",
    {
        "apiVersion": "string",
        "kind": "string",
        "metadata": _OBJECT_META,
        "openapi": "map[string]string",
        "namePrefix": "string",
        "nameSuffix": "string",
        "namespace": "string",
        "commonLabels": "map[string]string",
        "labels": ListSchema(_LABEL),
        "commonAnnotations": "map[string]string",
        "patchesStrategicMerge": "[]string",
        "patchesJson6902": ListSchema(_PATCH),
        "patches": ListSchema(_PATCH),
        "images": ListSchema(_IMAGE),
        "imageTags": ListSchema(_IMAGE),
        "replacements": "raw",
        "replicas": ListSchema(_REPLICA),
        "vars": "raw",
        "sortOptions": "raw",
        "resources": "[]string",
        "components": "[]string",
        "crds": "[]string",
        "bases": "[]string",
        "configMapGenerator": ListSchema(StructSchema("types.ConfigMapArgs", _GENERATOR_ARGS)),
        "secretGenerator": ListSchema(
            StructSchema("types.SecretArgs", {**_GENERATOR_ARGS, "type": "string"})
        ),
        "helmGlobals": "raw",
        "helmCharts": "raw",
        "helmChartInflationGenerator": "raw",
        "generatorOptions": _GENERATOR_OPTIONS,
        "configurations": "[]string",
        "generators": "[]string",
        "transformers": "[]string",
        "validators": "[]string",
        "inventory": "raw",
        "buildMetadata": "[]string",
    },
)


class KustomizationError(Failure, ValueError):
    """The rendered kustomization cannot be read into kustomize's struct; `problems` says where."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _is_empty(value: Any) -> bool:
    return value is None or value is False or value == 0 or value in ("", [], {})


def _encode(value: dict[str, Any], schema: StructSchema) -> dict[str, Any]:
    """encoding/json's Marshal of the decoded struct: `omitempty` drops zero values, but a
    pointer to a struct (a present mapping) is kept even when empty, as is a `*bool` false."""
    out: dict[str, Any] = {}
    for name, item in value.items():
        kind = schema.fields[name]
        if isinstance(kind, StructSchema):
            out[name] = _encode(item, kind)
        elif isinstance(kind, ListSchema):
            if item:
                out[name] = [_encode(entry, kind.item) for entry in item]
        elif kind == "*bool" or name in schema.always or not _is_empty(item):
            out[name] = item
    for name in schema.always:
        out.setdefault(name, 0)
    return out


def rewrite_resources(
    text: str, resources: Sequence[str], *, file: str
) -> tuple[str, list[Problem]]:
    """The file with `resources` appended, re-serialised as the Go tool writes it.

    Returns the new text and warnings (keys kustomize's struct does not know, which the Go tool
    drops silently). Raises KustomizationError where Go's decode would fail.
    """
    decoder = GoDecoder(file)
    try:
        document = decode_first_document(text)
    except YamlError as err:
        problem = Problem.at(
            "error", f"error converting YAML to JSON: {err.message}", file, err.mark
        )
        raise KustomizationError([problem]) from None
    top = document.mark if isinstance(document, YamlMap | YamlList) else Mark(1, 1)
    decoded = decoder.decode_struct(document, KUSTOMIZATION, "", top)
    if decoder.errors:
        raise KustomizationError(decoder.errors)
    decoded["resources"] = [*decoded.get("resources", []), *resources]
    return sigsyaml.marshal(_encode(decoded, KUSTOMIZATION)), decoder.warnings
