"""Go's text forms, checked against what Go itself prints for the same values."""

from __future__ import annotations

import math

import pytest

from bot.golang.strconv import UnsupportedJSONValue, format_float, json_marshal, quote


@pytest.mark.parametrize(
    ("value", "bits", "go"),
    [
        (7.0, 64, "7"),
        (1e6, 64, "1e+06"),
        (1234567.0, 64, "1.234567e+06"),
        (123456.0, 64, "123456"),
        (0.0001, 64, "0.0001"),
        (0.00001, 64, "1e-05"),
        (1e-6, 64, "1e-06"),
        (1.5, 64, "1.5"),
        (-2.5, 64, "-2.5"),
        (0.1, 64, "0.1"),
        (100.0, 64, "100"),
        (1e21, 64, "1e+21"),
        (0.0, 64, "0"),
        (-0.0, 64, "-0"),
        (math.inf, 64, "+Inf"),
        (-math.inf, 64, "-Inf"),
        (math.nan, 64, "NaN"),
        (1.1, 32, "1.1"),
        (0.1, 32, "0.1"),
        (16777217.0, 32, "1.6777216e+07"),
        (3.4028235e38, 32, "3.4028235e+38"),
        (1.0 / 3, 32, "0.33333334"),
        (1.0 / 3, 64, "0.3333333333333333"),
    ],
)
def test_format_float_g_shortest(value, bits, go):
    assert format_float(value, "g", bits) == go


@pytest.mark.parametrize(
    ("value", "go"),
    [
        (1e-7, "1e-7"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-6, "0.000001"),
        (123456789.0, "123456789"),
        (1.5, "1.5"),
        (-0.25, "-0.25"),
        (3, "3"),
        (True, "true"),
        (None, "null"),
        ("a<b>&c", '"a\\u003cb\\u003e\\u0026c"'),
        ("tab\there\n", '"tab\\there\\n"'),
        ("\x01", '"\\u0001"'),
        ("\u2028", '"\\u2028"'),
        ("é", '"é"'),
        ({"b": 1, "B": 2, "a": [1, "x", None]}, '{"B":2,"a":[1,"x",null],"b":1}'),
    ],
)
def test_json_marshal_matches_encoding_json(value, go):
    assert json_marshal(value) == go


def test_json_marshal_refuses_nan_and_infinities_like_go():
    with pytest.raises(UnsupportedJSONValue, match=r"json: unsupported value: NaN"):
        json_marshal([math.nan])
    with pytest.raises(UnsupportedJSONValue, match=r"json: unsupported value: \+Inf"):
        json_marshal({"a": math.inf})


@pytest.mark.parametrize(
    ("text", "go"),
    [
        ("plain", '"plain"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("a\nb\tc\r", '"a\\nb\\tc\\r"'),
        ("\a\b\f\v", '"\\a\\b\\f\\v"'),
        ("\x00\x7f", '"\\x00\\x7f"'),
        ("é☃😀", '"é☃😀"'),
        ("\u00a0", '"\\u00a0"'),
        ("\u200b", '"\\u200b"'),
        ("\U000e0001", '"\\U000e0001"'),
    ],
)
def test_quote_matches_strconv_quote(text, go):
    assert quote(text) == go
