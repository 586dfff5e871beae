"""Decode YAML the way go-yaml v2 does, keeping where every value came from.

The bootstrapper reads its config with sigs.k8s.io/yaml, which decodes with yaml.v2: YAML 1.1
scalars (`yes`, `on`, `y` are booleans; `0x1F`, `017`, `1_000` are integers; timestamps stay
strings), the first document only, and `<<` merge keys with yaml.v2's precedence. PyYAML supplies
the syntax (its scanner and parser are a port of the same libyaml code); the scalar resolution
here is a port of yaml.v2's `resolve.go`, because PyYAML's YAML 1.1 resolver differs (it reads
`y`/`n` as strings and `1:20` as an integer).

Mappings are returned as `YamlMap` (ordered key/value pairs) because YAML keys may be `1` and
`true` at once, which a Python dict would merge.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from bot.core.failures import Failure

TAG_PREFIX = "tag:yaml.org,2002:"
_PLAIN = "!bootstrap-bot/plain"  # marks untagged plain scalars, which yaml.v2 resolves itself


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column in the source text."""

    line: int
    column: int

    @classmethod
    def of(cls, node: Node) -> Mark:
        return cls(node.start_mark.line + 1, node.start_mark.column + 1)


class YamlError(Failure, ValueError):
    """A document yaml.v2 would refuse to decode, with where it went wrong."""

    def __init__(self, message: str, mark: Mark) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


@dataclass
class YamlMap:
    """A decoded mapping: pairs in source order, with the position of each key and value."""

    pairs: list[tuple[Any, Any]] = field(default_factory=list)
    key_marks: list[Mark] = field(default_factory=list)
    value_marks: list[Mark] = field(default_factory=list)
    #: the source text of scalar values (None for collections), to explain YAML 1.1 surprises
    value_texts: list[str | None] = field(default_factory=list)
    #: keys written twice in this mapping and where the later one stands (the later one wins)
    duplicates: list[tuple[Any, Mark]] = field(default_factory=list)
    mark: Mark = Mark(1, 1)

    def set(self, key: Any, value: Any, marks: tuple[Mark, Mark], text: str | None) -> bool:
        """Set like yaml.v2's SetMapIndex: a repeated key replaces the earlier value in place.

        Returns False when the key was already there.
        """
        entry = (key, value)
        for i, (existing, _) in enumerate(self.pairs):
            if type(existing) is type(key) and existing == key:
                self.pairs[i] = entry
                (self.key_marks[i], self.value_marks[i]), self.value_texts[i] = marks, text
                return False
        self.pairs.append(entry)
        self.key_marks.append(marks[0])
        self.value_marks.append(marks[1])
        self.value_texts.append(text)
        return True

    def items(self) -> Iterator[tuple[Any, Any, Mark, Mark, str | None]]:
        yield from zip(
            (k for k, _ in self.pairs),
            (v for _, v in self.pairs),
            self.key_marks,
            self.value_marks,
            self.value_texts,
            strict=True,
        )


@dataclass
class YamlList:
    """A decoded sequence with the position of each item."""

    items: list[Any] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    texts: list[str | None] = field(default_factory=list)
    mark: Mark = Mark(1, 1)


class _Resolver(BaseResolver):
    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode and implicit[0]:
            return _PLAIN
        tag: str = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        return tag


#: how deep collections may nest. yaml.v2 has no limit; Python's composer and decoder recurse,
#: so a hostile 100,000-level document would crash them instead of being refused. Kubernetes
#: objects (CRD schemas included) stay far below this.
MAX_DEPTH = 128


class DepthLimited(Composer):
    """A composer that refuses collections nested deeper than MAX_DEPTH (a YamlError at the
    line where it goes deeper), for any PyYAML loader."""

    depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                start = self.peek_event().start_mark  # type: ignore[attr-defined]
                where = Mark(start.line + 1, start.column + 1)
                raise YamlError(
                    f"yaml: line {where.line}: nested deeper than {MAX_DEPTH} levels", where
                )
            node: Node | None = super().compose_node(parent, index)
            return node
        finally:
            self.depth -= 1


class _Loader(Reader, Scanner, Parser, DepthLimited, _Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Resolver.__init__(self)


# --- yaml.v2 resolve.go -------------------------------------------------------------------------

_RESOLVE_MAP: dict[str, tuple[str, Any]] = {}
for _value, _tag, _words in (
    (True, "bool", "y Y yes Yes YES true True TRUE on On ON"),
    (False, "bool", "n N no No NO false False FALSE off Off OFF"),
    (None, "null", "~ null Null NULL"),
    (math.nan, "float", ".nan .NaN .NAN"),
    (math.inf, "float", ".inf .Inf .INF +.inf +.Inf +.INF"),
    (-math.inf, "float", "-.inf -.Inf -.INF"),
):
    for _word in _words.split():
        _RESOLVE_MAP[_word] = (_tag, _value)
_RESOLVE_MAP[""] = ("null", None)

_HINTS = {c: "M" for c in "yYnNtTfFoO~"} | {c: "D" for c in "0123456789"}
_HINTS |= {"+": "S", "-": "S", ".": "."}
_YAML_STYLE_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_FLOAT = re.compile(
    r"^[-+]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|inf|infinity|nan)$",
    re.IGNORECASE,
)
_INT64 = (-(2**63), 2**63 - 1)


def _go_parse_int(text: str, *, unsigned: bool = False) -> int | None:
    """strconv.ParseInt/ParseUint with base 0 (0x, 0o, 0b prefixes; a leading 0 means octal)."""
    sign = 1
    body = text
    if body[:1] in "+-":
        if unsigned:
            return None
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    base = 10
    lowered = body.lower()
    if lowered.startswith(("0x", "0o", "0b")):
        base = {"x": 16, "o": 8, "b": 2}[lowered[1]]
        body = body[2:]
    elif len(body) > 1 and body[0] == "0":
        base = 8
        body = body[1:]
    if not body or not all(c.isascii() and c.isalnum() for c in body):
        return None
    try:
        value = sign * int(body, base)
    except ValueError:
        return None
    low, high = (0, 2**64 - 1) if unsigned else _INT64
    return value if low <= value <= high else None


def _go_parse_float(text: str) -> float | None:
    if not _GO_FLOAT.match(text):
        return None
    value = float(text)
    # ParseFloat reports a range error (and yaml.v2 then keeps the string) on overflow.
    return None if math.isinf(value) and "inf" not in text.lower() else value


def resolve_plain(text: str) -> tuple[str, Any]:
    """yaml.v2 `resolve("", text)` for an untagged plain scalar: (short tag, value)."""
    hint = _HINTS.get(text[:1], "") if text else "M"
    if not hint:
        return "str", text
    if text in _RESOLVE_MAP:
        return _RESOLVE_MAP[text]
    if hint == ".":
        value = _go_parse_float(text)
        return ("float", value) if value is not None else ("str", text)
    if hint in "DS":
        # A timestamp (2024-01-02) fails every number parse below and stays a string, which
        # is also what yaml.v2 hands to interface{} for timestamps.
        plain = text.replace("_", "")
        for unsigned in (False, True):
            integer = _go_parse_int(plain, unsigned=unsigned)
            if integer is not None:
                return "int", integer
        if _YAML_STYLE_FLOAT.match(plain):
            value = _go_parse_float(plain)
            if value is not None:
                return "float", value
        for prefix, sign in (("0b", 1), ("-0b", -1)):
            if plain.startswith(prefix) and plain[len(prefix) :]:
                digits = plain[len(prefix) :]
                if set(digits) <= {"0", "1"}:
                    return "int", sign * int(digits, 2)
    return "str", text


def _resolve_tagged(tag: str, text: str, mark: Mark) -> Any:
    short = tag[len(TAG_PREFIX) :] if tag.startswith(TAG_PREFIX) else tag
    if short == "binary":
        return base64.b64decode(text).decode("utf-8", "replace")
    if short == "str" or not tag.startswith(TAG_PREFIX):
        return text  # yaml.v2 keeps unknown tags' values as plain strings
    if short == "timestamp":
        return text
    value: Any
    rtag, value = resolve_plain(text) if text else ("null", None)
    if short == "float" and rtag == "int":
        return float(value)  # yaml.v2 widens an explicit !!float integer
    if rtag == short:
        return value
    raise YamlError(f"yaml: cannot decode !!{rtag} `{text}` as a !!{short}", mark)


# --- decoding -----------------------------------------------------------------------------------


#: values reached through aliases that bootstrap-bot decodes at most; yaml.v2's ratio allows
#: about 400,000, which costs tens of MB here (a real config expands a few hundred)
MAX_ALIASED = 10_000


def allowed_alias_ratio(decodes: int) -> float:
    """yaml.v2's `allowedAliasRatio`: the share of decodes that may come from expanding aliases,
    99% up to 400,000 decodes, falling to 10% at 4,000,000 (a billion laughs stops early)."""
    low, high = 400_000, 4_000_000
    if decodes <= low:
        return 0.99
    if decodes >= high:
        return 0.10
    return 0.99 - 0.89 * (decodes - low) / (high - low)


class _Decoder:
    def __init__(self) -> None:
        self.count = 0
        #: nodes decoded once already: PyYAML resolves an alias to its anchor's node, and an
        #: alias can only follow its anchor, so a node seen before is reached through an alias
        self.seen: set[int] = set()
        self.aliased = 0
        self.active: set[int] = set()
        self.merging = 0

    def decode(self, node: Node) -> Any:
        self.count += 1
        if id(node) in self.seen:
            self.aliased += 1
        else:
            self.seen.add(id(node))
        if self.aliased > MAX_ALIASED or (
            self.aliased > 100
            and self.count > 1000
            and self.aliased / self.count > allowed_alias_ratio(self.count)
        ):
            raise YamlError("yaml: document contains excessive aliasing", Mark.of(node))
        if id(node) in self.active:
            raise YamlError("yaml: anchor refers to itself", Mark.of(node))
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return YamlList(
                    [self.decode(n) for n in node.value],
                    [Mark.of(n) for n in node.value],
                    [n.value if isinstance(n, ScalarNode) else None for n in node.value],
                    Mark.of(node),
                )
            assert isinstance(node, MappingNode)
            out = YamlMap(mark=Mark.of(node))
            self.fill_mapping(node, out)
            return out
        finally:
            self.active.discard(id(node))

    def scalar(self, node: ScalarNode) -> Any:
        if node.tag == _PLAIN:
            return resolve_plain(node.value)[1]
        return _resolve_tagged(node.tag, node.value, Mark.of(node))

    def fill_mapping(self, node: MappingNode, out: YamlMap) -> None:
        for key_node, value_node in node.value:
            # yaml.v2's isMerge: an untagged (or !!merge) plain `<<`, whatever resolve says.
            if (
                isinstance(key_node, ScalarNode)
                and key_node.tag in (_PLAIN, TAG_PREFIX + "merge")
                and key_node.value == "<<"
            ):
                self.merge(value_node, out)
                continue
            key = self.decode(key_node)
            if isinstance(key, YamlMap | YamlList):
                raise YamlError("yaml: invalid map key: a mapping or sequence", Mark.of(key_node))
            text = value_node.value if isinstance(value_node, ScalarNode) else None
            marks = (Mark.of(key_node), Mark.of(value_node))
            if not out.set(key, self.decode(value_node), marks, text) and not self.merging:
                out.duplicates.append((key, marks[0]))

    def merge(self, node: Node, out: YamlMap) -> None:
        # yaml.v2 merges later sources first, so that earlier ones win, and lets merged keys
        # replace keys written before the `<<` (yaml.v3 changed that; the bootstrapper uses v2).
        sources = list(reversed(node.value)) if isinstance(node, SequenceNode) else [node]
        self.merging += 1
        try:
            for source in sources:
                if not isinstance(source, MappingNode):
                    raise YamlError(
                        "yaml: map merge requires map or sequence of maps as the value",
                        Mark.of(source),
                    )
                self.fill_mapping(source, out)
        finally:
            self.merging -= 1


def utf8_text(data: bytes) -> str:
    """A YAML file's text. UTF-8 only (with or without a byte order mark): a file in another
    encoding is refused where its first byte that is not UTF-8 stands."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlError("yaml: the file is UTF-16; save it as UTF-8", Mark(1, 1))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        before = data[: err.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise YamlError(
            f"yaml: line {line}: invalid UTF-8 at column {column}; save the file as UTF-8",
            Mark(line, column),
        ) from None


def decode_first_document(text: str) -> Any:
    """Decode the first YAML document of `text` as yaml.v2 would; None for an empty document."""
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # the reader refuses control characters right away
        node = _first_node(loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
        problem = err.problem or err.context or "invalid YAML"
        raise YamlError(f"yaml: line {where.line}: {problem}", where) from None
    except yaml.YAMLError as err:  # reader errors: invalid characters or encoding
        raise YamlError(f"yaml: {err}", Mark(1, 1)) from None
    finally:
        if loader is not None:
            loader.dispose()
    return None if node is None else _Decoder().decode(node)


def _first_node(loader: _Loader) -> Node | None:
    loader.get_event()  # type: ignore[no-untyped-call]  # StreamStart
    if loader.check_event(yaml.StreamEndEvent):
        return None
    node: Node | None = loader.compose_document()
    return node


def to_plain(value: Any) -> Any:
    """The value without positions: YamlMap becomes a dict, YamlList a list."""
    if isinstance(value, YamlMap):
        return {k: to_plain(v) for k, v in value.pairs}
    if isinstance(value, YamlList):
        return [to_plain(v) for v in value.items]
    return value
