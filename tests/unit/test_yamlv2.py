"""Scalars resolve as yaml.v2's resolve.go does, not as PyYAML's YAML 1.1 resolver."""

from __future__ import annotations

import math

import pytest

from bot.golang.yamlv2 import (
    YamlError,
    YamlList,
    YamlMap,
    decode_first_document,
    resolve_plain,
    to_plain,
)


@pytest.mark.parametrize(
    ("text", "tag", "value"),
    [
        ("y", "bool", True),
        ("Yes", "bool", True),
        ("ON", "bool", True),
        ("n", "bool", False),
        ("Off", "bool", False),
        ("FALSE", "bool", False),
        ("", "null", None),
        ("~", "null", None),
        ("Null", "null", None),
        ("nULL", "str", "nULL"),
        ("yES", "str", "yES"),
        ("12", "int", 12),
        ("-12", "int", -12),
        ("+12", "int", 12),
        ("0x1f", "int", 31),
        ("0o17", "int", 15),
        ("017", "int", 15),
        ("0b101", "int", 5),
        ("-0b101", "int", -5),
        ("1_000", "int", 1000),
        ("9223372036854775807", "int", 2**63 - 1),
        ("18446744073709551615", "int", 2**64 - 1),
        ("18446744073709551616", "float", 2.0**64),
        ("08", "float", 8.0),
        ("1.5", "float", 1.5),
        ("1.", "float", 1.0),
        (".5", "float", 0.5),
        ("-.5e3", "float", -500.0),
        ("1e400", "str", "1e400"),
        ("1:20", "str", "1:20"),
        ("2024-01-02", "str", "2024-01-02"),
        ("<<", "str", "<<"),
        ("=", "str", "="),
        ("0x", "str", "0x"),
        ("1.2.3", "str", "1.2.3"),
        ("v1", "str", "v1"),
        (".", "str", "."),
    ],
)
def test_resolve_plain_like_yaml_v2(text, tag, value):
    assert resolve_plain(text) == (tag, value)


def test_special_floats():
    assert math.isnan(resolve_plain(".NaN")[1])
    assert resolve_plain("-.Inf") == ("float", -math.inf)


def test_positions_are_one_based_and_kept_for_keys_and_values():
    doc = decode_first_document("a:\n  - x\n  - {b: 1}\n")
    assert isinstance(doc, YamlMap)
    (key, value, key_mark, value_mark, text) = next(doc.items())
    assert (key, key_mark.line, key_mark.column) == ("a", 1, 1)
    assert isinstance(value, YamlList) and (value_mark.line, value_mark.column) == (2, 3)
    assert [(m.line, m.column) for m in value.marks] == [(2, 5), (3, 5)]
    assert text is None and value.texts == ["x", None]


def test_keys_one_and_true_stay_apart():
    doc = decode_first_document("1: a\ntrue: b\n")
    assert isinstance(doc, YamlMap) and doc.pairs == [(1, "a"), (True, "b")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!int abc\n", "yaml: cannot decode !!str `abc` as a !!int"),
        ("a: &x [*x]\n", "yaml: "),
        ("a: {b: 1\n", "yaml: line "),
        ("? [a]\n: b\n", "yaml: invalid map key"),
        ("a: b\n  c: d\n", "yaml: line 2: mapping values are not allowed here"),
    ],
)
def test_invalid_documents_raise_located_errors(text, message):
    with pytest.raises(YamlError) as info:
        decode_first_document(text)
    assert info.value.message.startswith(message)
    assert info.value.mark.line >= 1


def test_explicit_tags():
    assert to_plain(
        decode_first_document("a: !!str yes\nb: !!bool on\nc: !!float 2\nd: !x 5\n")
    ) == {"a": "yes", "b": True, "c": 2.0, "d": "5"}


def test_nesting_past_the_limit_is_refused_where_it_happens_not_crashed_on():
    from bot.golang.yamlv2 import MAX_DEPTH

    assert decode_first_document("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)) is not None
    for text in (
        "a: " + "[" * 100_000 + "]" * 100_000,
        "".join(" " * i + "k:\n" for i in range(3000)),
    ):
        with pytest.raises(YamlError, match=f"nested deeper than {MAX_DEPTH} levels") as refused:
            decode_first_document(text)
        assert refused.value.mark.line >= 1
