"""Template functions a pull request can make build gigabytes are refused before they allocate
anything; printf's widths and precisions follow Go's own bound."""

from __future__ import annotations

import re
import tracemalloc

import pytest

from bot.gotemplate import TemplateError, render
from bot.gotemplate.functions import MAX_BUILT_CHARS, MAX_BUILT_ITEMS

HOSTILE = [
    ('{{ repeat 1000000000 "x" }}', "repeat would build 1000000000 characters"),
    ('{{ repeat 2000 (repeat 1000 "x") }}', "repeat would build 2000000 characters"),
    ('{{ indent 1000000000 "a\\nb" }}', "indent would build 2000000003 characters"),
    ('{{ nindent 2000000 "x" }}', "indent would build 2000001 characters"),
    ('{{ replace "" (repeat 2000 "y") (repeat 2000 "x") }}', "replace would build"),
    ('{{ replace "x" (repeat 10000 "y") (repeat 1000 "x") }}', "replace would build"),
    ("{{ until 1000000000 }}", "untilStep would build 1000000000 items"),
    ("{{ untilStep 0 1000000000 1 }}", "untilStep would build 1000000000 items"),
    ("{{ seq 1000000000 }}", "seq would build 1000000000 items"),
    ("{{ seq 1 2 1000000000 }}", "seq would build 500000000 items"),
]


@pytest.mark.parametrize(("source", "said"), HOSTILE)
def test_a_huge_result_is_refused_before_it_is_built(source, said):
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError, match=said):
            render(source, {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MAX_BUILT_CHARS  # nothing near the size asked for was allocated


def test_results_up_to_the_limits_are_built_as_go_builds_them():
    assert render(f'{{{{ repeat {MAX_BUILT_CHARS} "x" }}}}', {}) == "x" * MAX_BUILT_CHARS
    assert render(f"{{{{ len (until {MAX_BUILT_ITEMS}) }}}}", {}) == str(MAX_BUILT_ITEMS)
    assert render('{{ indent 2 "a\\nb" }}', {}) == "  a\n  b"
    assert render('{{ replace "" "-" "ab" }}', {}) == "-a-b-"
    assert render("{{ seq 3 }}|{{ seq 3 1 }}|{{ seq 1 2 6 }}", {}) == "1 2 3|3 2 1|1 3 5"


def test_printf_widths_past_go_s_bound_are_no_verb():
    # fmt's parsenum gives up once the number passed 1e6 before its next digit
    assert render('{{ printf "%100000000d|" 1 }}', {}) == "%!(NOVERB)%!(EXTRA int=1)"
    assert render('{{ printf "%.100000000f|" 1.5 }}', {}) == "%!(NOVERB)%!(EXTRA float64=1.5)"
    assert len(render('{{ printf "%1000001d" 1 }}', {})) == 1_000_001
    assert render('{{ printf "%*d" 1000001 7 }}', {}) == "%!(BADWIDTH)7"


def test_regexes_run_on_go_s_engine():
    # RE2's `$` is the end of the text, as in Go; Python's `re` also matches before a last "\n"
    assert render('{{ regexMatch "a$" "a\\n" }}', {}) == "false"
    # an empty match right after the previous one is none, as in Go's FindAll and ReplaceAll
    assert render('{{ regexFindAll "a*" "baaa" -1 | toJson }}', {}) == '["","aaa"]'
    assert render('{{ regexReplaceAll "a*" "baaa" "-" }}', {}) == "-b-"
    assert render('{{ regexReplaceAll "(?P<x>b)" "abc" "[${x}]" }}', {}) == "a[b]c"
    assert render('{{ regexMatch "a\\\\z" "a" }}', {}) == "true"
    # what Go's regexp refuses is refused
    with pytest.raises(TemplateError, match="error parsing regexp"):
        render('{{ regexFind "(?<=a)b" "ab" }}', {})


def test_a_pattern_that_backtracks_for_ever_in_python_is_linear_here():
    text = "a" * 20_000 + "b"
    assert render('{{ regexMatch "(a+)+$" .text }}', {"text": text}) == "false"
    assert render('{{ regexReplaceAll "(x+x+)+y" .text "z" | len }}', {"text": "x" * 5000}) == (
        "5000"
    )


@pytest.mark.parametrize(
    ("text", "said", "lenient"),
    [
        ("NaN", "invalid character 'N' looking for beginning of value", "null"),
        ('{"a": Infinity}', "invalid character 'I' looking for beginning of value", "null"),
        ("[-Infinity]", "invalid character 'I' in numeric literal", "null"),
        # Go leaves the number null and decodes the rest
        ("[1e999, 2]", "cannot unmarshal number 1e999 into Go value of type float64", "[null,2]"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 128 levels", "null"),
    ],
)
def test_from_json_refuses_what_encoding_json_refuses_and_nesting_without_end(text, said, lenient):
    with pytest.raises(TemplateError, match=re.escape(said)):
        render("{{ mustFromJson .text }}", {"text": text})
    assert render("{{ fromJson .text | toJson }}", {"text": text}) == lenient


def test_from_json_reads_nested_documents_and_brackets_in_strings():
    text = '{"a": [1, {"b": "[[[[{{"}], "c": "\\"]"}'
    assert render("{{ fromJson .text | toJson }}", {"text": text}) == (
        '{"a":[1,{"b":"[[[[{{"}],"c":"\\"]"}'
    )
    deep = "[" * 128 + "]" * 128
    assert render("{{ mustFromJson .text | toJson }}", {"text": deep}) == deep
