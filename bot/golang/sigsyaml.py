"""sigs.k8s.io/yaml's Marshal: a JSON round trip, then yaml.v2's encoder.

The bootstrapper's `toYaml` and its kustomization rewrite both produce YAML this way, and the
bytes must match. The value first goes through encoding/json (so numbers become JSON numbers and
every map key a string), is read back by yaml.v2 (integral numbers become ints), and is emitted
by yaml.v2: keys in its "natural" order, a string double-quoted whenever it would read back as
something else, multi-line strings as literal blocks, long lines folded at 80 columns.

PyYAML's emitter is a port of the same libyaml emitter yaml.v2 ports, so it does the layout;
the decisions yaml.v2 makes differently from PyYAML (key order, which strings to quote, float
text) are made here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import yaml
from yaml.emitter import Emitter
from yaml.events import MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver
from yaml.serializer import Serializer

from bot.core.failures import Failure
from bot.golang.strconv import NilMap, NilSlice, format_float, json_marshal
from bot.golang.yamlv2 import resolve_plain

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_BASE60_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_TIMESTAMP = re.compile(
    r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
    r"(?:(?P<sep>[Tt ])(?P<H>[0-9]{1,2}):(?P<M>[0-9]{1,2}):(?P<S>[0-9]{1,2})(?:\.[0-9]+)?"
    r"(?P<tz>Z|[-+][0-9]{2}:[0-9]{2})?)?$"
)
_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
_BREAKS = "\n\x85\u2028\u2029"
#: characters encoding/json leaves as they are that yaml.v2's reader does not take
_UNREADABLE = re.compile("[\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
#: characters PyYAML's emitter writes as they are that yaml.v2's escapes (so it double-quotes)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class MarshalError(Failure, ValueError):
    """A value encoding/json refuses (NaN, infinities, unsupported types)."""


# --- the JSON round trip -----------------------------------------------------------------------


def json_round_trip(value: Any, convert: Callable[[Any], Any] | None = None) -> Any:
    """What yaml.v2 reads back from json.Marshal(value): ints where the JSON has no fraction."""
    if convert is not None:
        value = convert(value)
    if isinstance(value, str):
        if _UNREADABLE.search(value):
            # encoding/json writes these as they are, and yaml.v2's reader refuses them
            raise MarshalError("yaml: control characters are not allowed")
        return _fold_nel(value)
    if value is None or isinstance(value, bool | NilSlice | NilMap):
        return None if isinstance(value, NilSlice | NilMap) else value
    if isinstance(value, int | float):
        try:
            text = json_marshal(value)
        except ValueError as err:
            raise MarshalError(str(err)) from None
        if re.fullmatch(r"-?[0-9]+", text) and -(2**63) <= int(text) < 2**64:
            return int(text)  # yaml.v2 reads an int, or a uint; past both, a float
        return float(text)
    if isinstance(value, dict):
        return {json_round_trip(str(k)): json_round_trip(v, convert) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_round_trip(v, convert) for v in value]
    raise MarshalError(f"json: unsupported type: {type(value).__name__}")


def _fold_nel(text: str) -> str:
    """yaml.v2 reads JSON strings as double-quoted YAML, where a raw U+0085 is a line break
    and folds like one (json.Marshal escapes every other break)."""
    if "\x85" not in text:
        return text

    def fold(match: re.Match[str]) -> str:
        count = match.group(1).count("\x85")
        return " " if count == 1 else "\n" * (count - 1)

    return re.sub(r"[ \t]*((?:\x85[ \t]*)+)", fold, text)


# --- yaml.v2's decisions -----------------------------------------------------------------------


def _is_letter(ch: str) -> bool:
    return ch.isalpha()


def _key_less(a: str, b: str) -> bool:
    """yaml.v2 sorter.go keyList.Less for two string keys."""
    ar, br = list(a), list(b)
    for i in range(min(len(ar), len(br))):
        if ar[i] == br[i]:
            continue
        al, bl = _is_letter(ar[i]), _is_letter(br[i])
        if al and bl:
            return ar[i] < br[i]
        if al or bl:
            return bl
        an = bn = 0
        if ar[i] == "0" or br[i] == "0":
            j = i - 1
            while j >= 0 and ar[j].isdigit():
                if ar[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(ar) and ar[ai].isdigit():
            an = an * 10 + int(ar[ai])
            ai += 1
        bi = i
        while bi < len(br) and br[bi].isdigit():
            bn = bn * 10 + int(br[bi])
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return ar[i] < br[i]
    return len(ar) < len(br)


def _compare_keys(a: str, b: str) -> int:
    return -1 if _key_less(a, b) else (1 if _key_less(b, a) else 0)


sort_key = functools.cmp_to_key(_compare_keys)


def _is_timestamp(text: str) -> bool:
    """yaml.v2 parseTimestamp: one of its four layouts, with valid field ranges."""
    match = _TIMESTAMP.match(text)
    if not match:
        return False
    month, day = int(match["m"]), int(match["d"])
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS[month - 1]:
        return False
    year = int(match["y"])
    if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return False
    if match["H"] is not None:
        if int(match["H"]) > 23 or int(match["M"]) > 59 or int(match["S"]) > 59:
            return False
        if match["sep"] == " " and match["tz"] is not None:
            return False  # the space-separated layout has no zone
    return True


def needs_quotes(text: str) -> bool:
    """Whether yaml.v2 double-quotes a string: plain, it would read back as something else."""
    tag, _ = resolve_plain(text)
    if tag != "str" or _is_timestamp(text):
        return True
    return (
        bool(text) and text[0] in "+-0123456789" and ":" in text and bool(_BASE60_FLOAT.match(text))
    )


def float_text(value: float, bitsize: int = 64) -> str:
    """yaml.v2's text of a float (sigs.k8s.io/yaml formats a map key's at 32 bits)."""
    text = format_float(value, "g", bitsize)
    return {"+Inf": ".inf", "-Inf": "-.inf", "NaN": ".nan"}.get(text, text)


# --- emitting ----------------------------------------------------------------------------------


class _Dumper(Emitter, Serializer, BaseResolver):
    """libyaml's emitter with no implicit resolvers: every scalar carries the str tag, so the
    style set on each node alone decides how it is written."""

    def __init__(self, stream: Any, **_options: Any) -> None:
        # yaml.serialize passes its own defaults; yaml.v2's settings are fixed.
        Emitter.__init__(self, stream, width=80, allow_unicode=True, line_break="\n")
        Serializer.__init__(self, explicit_start=False, explicit_end=False)
        BaseResolver.__init__(self)

    def check_simple_key(self) -> bool:
        """libyaml's rule: an implicit key may be empty, and is simple up to 128 bytes."""
        event = self.event
        if isinstance(event, ScalarEvent):
            if self.analysis is None:
                self.analysis = self.analyze_scalar(event.value)
            return not self.analysis.multiline and len(self.analysis.scalar.encode()) <= 128
        if isinstance(event, SequenceStartEvent):
            return bool(self.check_empty_sequence())
        if isinstance(event, MappingStartEvent):
            return bool(self.check_empty_mapping())
        return False

    def write_single_quoted(self, text: str, split: bool = True) -> None:
        """PyYAML's single-quoted writer, changed where libyaml differs: indentation after
        line breaks is written only when more text follows them."""
        self.write_indicator("'", True)
        spaces = breaks = False
        start = end = 0
        while end <= len(text):
            ch = text[end] if end < len(text) else None
            if spaces:
                if ch is None or ch != " ":
                    if (start + 1 == end and self.column > self.best_width and split
                            and start != 0 and end != len(text)):  # fmt: skip
                        self.write_indent()
                    else:
                        self.column += end - start
                        self.stream.write(text[start:end])
                    start = end
            elif breaks:
                if ch is None or ch not in _BREAKS:
                    if text[start] == "\n":
                        self.write_line_break()
                    for br in text[start:end]:
                        self.write_line_break() if br == "\n" else self.write_line_break(br)
                    if ch is not None:
                        self.write_indent()
                    start = end
            elif (ch is None or ch in " " + _BREAKS or ch == "'") and start < end:
                self.column += end - start
                self.stream.write(text[start:end])
                start = end
            if ch == "'":
                self.column += 2
                self.stream.write("''")
                start = end + 1
            if ch is not None:
                spaces = ch == " "
                breaks = ch in _BREAKS
            end += 1
        self.write_indicator("'", False)


def _node(value: Any) -> Node:
    if isinstance(value, dict):
        pairs = [(_node(k), _node(value[k])) for k in sorted(value, key=sort_key)]
        return MappingNode(_MAP, pairs, flow_style=not pairs)
    if isinstance(value, list):
        return SequenceNode(_SEQ, [_node(v) for v in value], flow_style=not value)
    if value is None:
        return ScalarNode(_STR, "null")
    if isinstance(value, bool):
        return ScalarNode(_STR, "true" if value else "false")
    if isinstance(value, int):
        return ScalarNode(_STR, str(value))
    if isinstance(value, float):
        return ScalarNode(_STR, float_text(value))
    if _ASTRAL.search(value):
        return ScalarNode(_STR, value, style='"')
    if "\n" in value:
        return ScalarNode(_STR, value, style="|")
    return ScalarNode(_STR, value, style='"' if needs_quotes(value) else None)


def emit(value: Any) -> str:
    """yaml.v2's Marshal of a value already shaped by json_round_trip."""
    text: str = yaml.serialize(_node(value), Dumper=_Dumper)
    # PyYAML ends an open-ended root scalar with "...", which yaml.v2 does not write.
    return text[: -len("...\n")] if text.endswith("\n...\n") else text


def marshal(value: Any, convert: Callable[[Any], Any] | None = None) -> str:
    """sigs.k8s.io/yaml.Marshal; `convert` turns values JSON does not know into ones it does."""
    return emit(json_round_trip(value, convert))
