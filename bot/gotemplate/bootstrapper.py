"""openmcp-bootstrapper's own template functions and file conventions (bootstrapper.md §4.5).

`toYaml`, `fromYaml` and `parseImage` are always available; the OCM functions are supplied by
the renderer. `render_bootstrapper_file` applies the tool's `#?bootstrap` delimiter header and,
in `missingkey=zero` mode, its check that no `<no value>` reached the output.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.core.failures import Failure
from bot.golang import sigsyaml
from bot.golang.strconv import json_numbers
from bot.golang.yamlv2 import YamlError, YamlList, YamlMap, decode_first_document, to_plain
from bot.gotemplate.functions import ANY, Func, FuncError
from bot.gotemplate.gofmt import go_syntax
from bot.gotemplate.values import NO_VALUE, GoStruct

NO_VALUE_TEXT = "<no value>"
HEADER = "#?bootstrap"


def _json_ready(value: Any) -> Any:
    if value is NO_VALUE:
        return None
    if isinstance(value, GoStruct):
        return _json_ready(value.go_json())
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return value


def to_yaml(value: Any) -> str:
    """sigs.k8s.io/yaml.Marshal with one trailing newline removed; "" on error, like Go."""
    try:
        return sigsyaml.marshal(_json_ready(value)).removesuffix("\n")
    except sigsyaml.MarshalError:
        return ""


def from_yaml(text: str) -> Any:
    """sigs.k8s.io/yaml.Unmarshal into interface{}: YAML 1.1, then JSON types (float numbers)."""
    try:
        document = decode_first_document(text)
    except YamlError as err:
        raise FuncError(f"error converting YAML to JSON: {err.message}") from None
    return json_numbers(_string_keys(document))


def _string_keys(value: Any) -> Any:
    """The decoded document with JSON's keys: strings, made from yaml.v2's keys of any type
    (1 and true stay two keys, as they are in Go)."""
    if isinstance(value, YamlMap):
        for key, item in value.pairs:
            if key is None:
                raise FuncError(
                    "error converting YAML to JSON: Unsupported map key of type: %!s(<nil>), "
                    f"key: <nil>, value: {go_syntax(to_plain(item))}"
                )
        return {_key(k): _string_keys(v) for k, v in value.pairs}
    if isinstance(value, YamlList):
        return [_string_keys(v) for v in value.items]
    return value


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):  # sigs.k8s.io/yaml formats a float key at 32 bits
        return sigsyaml.float_text(key, 32)
    return str(key)


def parse_image(reference: str) -> dict[str, str]:
    """The Go tool's ParseImageVersionAndTag as a map; for an empty reference Go returns a nil
    map, which prints as map[] and is empty, like {}.

    Deliberately unlike Go, a `:` before the last `/` is a registry port, not a tag separator:
    Go reads `host:5000/img` as image `host`, tag `5000/img`; here it is `host:5000/img:latest`.
    """
    if not reference:
        return {}
    image, digest, tag = reference, "", ""
    if "@" in image:
        image, _, digest = image.rpartition("@")
    if ":" in image.rpartition("/")[2]:
        image, _, tag = image.rpartition(":")
    elif not digest:
        tag = "latest"
    return {"image": image, "tag": tag, "digest": digest}


FUNCS: dict[str, Func] = {
    "toYaml": Func(to_yaml, (ANY,)),
    "fromYaml": Func(from_yaml, ("string",)),
    "parseImage": Func(parse_image, ("string",)),
}


class HeaderError(Failure, ValueError):
    """A malformed `#?bootstrap` header; the message is the Go tool's."""


def split_header(source: str) -> tuple[str, tuple[str, str]]:
    """Apply the `#?bootstrap {"template": {"delims": ...}}` header, if the file starts with it.

    Returns the template text and its delimiters. Like the Go tool, the header switches to
    trimming the whole template and drops every line that starts with `#?bootstrap`.
    """
    if not source.startswith(HEADER):
        return source, ("{{", "}}")
    text = source.strip()
    first_line = text.split("\n", 1)[0]
    config_text = first_line[len(HEADER) :].strip()
    if not config_text:
        raise HeaderError("invalid template delimiter configuration")
    try:
        config = json.loads(config_text)
        delims = config["template"]["delims"]
        left, right = str(delims.get("start") or "{{"), str(delims.get("end") or "}}")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise HeaderError("cannot parse detected template delimiter configuration") from None
    kept = [line for line in text.split("\n") if not line.strip().startswith(HEADER)]
    return "\n".join(kept), (left, right)


def no_value_message(name: str, output: str) -> str | None:
    """The Go tool's NoValueError text for rendered output, or None if it has no `<no value>`.

    Like Go: the first hit of each line, 1-based line and 0-based column, with a snippet.
    Unlike Go, the template input is not dumped after it: it may hold secrets.
    """
    if NO_VALUE_TEXT not in output:
        return None
    lines = output.split("\n")
    parts = [f'template "{name}" contains fields with "no value":\n']
    for number, content in enumerate(lines, start=1):
        column = content.find(NO_VALUE_TEXT)
        if column >= 0:
            parts.append(f"\nline {number}:{column}\n")
            parts.append(source_snippet(number, column, lines))
    return "".join(parts)


def source_snippet(line: int, column: int, lines: list[str]) -> str:
    """The Go tool's CreateSourceSnippet: five lines around a 1-based line, and a marker."""
    index = line - 1
    start = max(index - 5, 0)
    index -= start
    window = lines[start:][: index + 6]
    out = []
    for i, text in enumerate(window):
        real = start + i + 1
        prefix = f"{real}:" + " " * max(6 - len(str(real)) - 1, 0)
        out.append(f"{prefix}{text}\n")
        if i == index:
            out.append(" " * (column + len(prefix)) + "\u02c6≈≈≈≈≈≈≈\n")
    return "".join(out)


_LINE_COLUMN = re.compile(r":([0-9]+)(:([0-9]+))?:")


def error_snippet(message: str, source: str) -> str:
    """The Go tool's "template source:" excerpt for a template error message."""
    match = _LINE_COLUMN.search(message)
    if not match:
        return ""
    column = int(match.group(3)) if match.group(3) else 0
    return source_snippet(int(match.group(1)), column, source.split("\n"))


def bootstrapper_funcs() -> dict[str, Func]:
    """The function map the Go tool layers: sprig, then its own functions."""
    from bot.gotemplate.sprig import FUNCS as SPRIG

    return {**SPRIG, **FUNCS}
