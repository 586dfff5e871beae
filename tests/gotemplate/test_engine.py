"""Engine behaviour the Go oracle cannot show: the bootstrapper's file rules, limits, safety."""

from __future__ import annotations

import pytest

from bot.gotemplate import GoStruct, Limits, TemplateError, render, render_bootstrapper_file


def test_public_api_defaults_to_missingkey_error():
    with pytest.raises(TemplateError, match='map has no entry for key "nope"'):
        render("{{ .nope }}", {})


def test_unknown_missingkey_mode_is_refused():
    with pytest.raises(TemplateError, match="unrecognized option"):
        render("x", {}, missingkey="sometimes")


def test_python_attributes_are_never_reachable():
    for expr in (".name.__class__", ".name.upper", ".list.append", ".map.keys", ".__dict__"):
        with pytest.raises(TemplateError, match=r"can't evaluate field|no entry for key"):
            render("{{ " + expr + " }}", {"name": "x", "list": [], "map": {}})


def test_numbers_in_data_are_float64_like_the_go_tool_sees_them():
    assert render('{{ .n }} {{ printf "%T" .n }}', {"n": 3}) == "3 float64"
    with pytest.raises(TemplateError, match="incompatible types for comparison"):
        render("{{ eq .n 3 }}", {"n": 3})


def test_go_structs_expose_declared_fields_and_methods_only():
    class Version(GoStruct):
        go_type = "demo.Version"
        go_fields = {"Name": "name"}  # noqa: RUF012
        go_methods = {"Upper": "upper"}  # noqa: RUF012

        def __init__(self) -> None:
            self.name = "v1"
            self.secret = "hidden"

        def upper(self) -> str:
            return self.name.upper()

    data = {"v": Version()}
    assert render("{{ .v.Name }} {{ .v.Upper }}", data) == "v1 V1"
    with pytest.raises(TemplateError, match=r"can't evaluate field secret in type \*demo\.Version"):
        render("{{ .v.secret }}", data)


def test_caller_functions_take_precedence_and_errors_are_reported_like_go():
    def boom(value):
        raise ValueError(f"cannot handle {value}")

    assert render('{{ upper "x" }}', {}, funcs={"upper": lambda s: s + "!"}) == "x!"
    with pytest.raises(TemplateError) as info:
        render("{{ boom 1 }}", {}, funcs={"boom": boom})
    assert str(info.value) == (
        'template: template:1:3: executing "template" at <boom 1>: '
        "error calling boom: cannot handle 1"
    )


@pytest.mark.parametrize("name", ["now", "env", "randAlpha", "uuidv4", "genCA", "date"])
def test_non_deterministic_functions_parse_but_refuse_to_run(name):
    with pytest.raises(TemplateError, match=f"{name} is not supported by bootstrap-bot"):
        render("{{ " + name + " }}", {})


def test_error_excerpt_points_at_the_failure():
    source = "line one\nline two {{ .a.b.c }}\nline three"
    with pytest.raises(TemplateError) as info:
        render(source, {"a": None}, missingkey="zero")
    # Go positions a field chain at its second field; the Go tool marks that column.
    assert str(info.value).startswith("template: template:2:14: executing")
    assert info.value.excerpt == (
        "1:    line one\n"
        "2:    line two {{ .a.b.c }}\n"
        "                    \u02c6≈≈≈≈≈≈≈\n"
        "3:    line three\n"
    )
    assert info.value.detail == f"{info.value}\ntemplate source:\n{info.value.excerpt}"


# --- the bootstrapper's file rules ---------------------------------------------------------------


def test_bootstrap_header_sets_delimiters_and_trims():
    source = (
        '#?bootstrap {"template": {"delims": {"start": "[[", "end": "]]"}}}\n'
        "a: [[ .Values.x ]]\n#?bootstrap ignored line\nb: {{ not a template }}\n\n"
    )
    assert render_bootstrapper_file(source, {"Values": {"x": 1}}, name="f") == (
        "a: 1\nb: {{ not a template }}"
    )


def test_bootstrap_header_with_empty_delimiters_falls_back_to_braces():
    source = '#?bootstrap {"template": {"delims": {"start": "", "end": ""}}}\n{{ .Values.x }}\n'
    assert render_bootstrapper_file(source, {"Values": {"x": "y"}}, name="f") == "y"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("#?bootstrap\nx", "invalid template delimiter configuration"),
        ("#?bootstrap {nope\nx", "cannot parse detected template delimiter configuration"),
    ],
)
def test_bad_bootstrap_headers(header, message):
    with pytest.raises(TemplateError, match=message):
        render_bootstrapper_file(header, {}, name="f")


def test_header_only_counts_at_the_very_start():
    source = ' #?bootstrap {"template": {"delims": {"start": "[[", "end": "]]"}}}\n{{ 1 }}'
    assert render_bootstrapper_file(source, {}, name="f").endswith("\n1")


def test_no_value_anywhere_in_the_output_fails_with_every_position():
    source = "a: {{ .Values.missing }}\nb: ok\nc: <no value> and {{ .Values.nul }}\n"
    with pytest.raises(TemplateError) as info:
        render_bootstrapper_file(source, {"Values": {"nul": "plain value"}}, name="t.yaml")
    # The Go tool's text: first hit per line, 0-based column, a snippet after each.
    assert str(info.value) == (
        'template "t.yaml" contains fields with "no value":\n'
        "\nline 1:3\n"
        "1:    a: <no value>\n"
        "         \u02c6≈≈≈≈≈≈≈\n"
        "2:    b: ok\n"
        "3:    c: <no value> and plain value\n"
        "4:    \n"
        "\nline 3:3\n"
        "1:    a: <no value>\n"
        "2:    b: ok\n"
        "3:    c: <no value> and plain value\n"
        "         \u02c6≈≈≈≈≈≈≈\n"
        "4:    \n"
    )
    assert "template input" not in str(info.value)  # the Go tool dumps it, secrets and all


def test_zero_mode_still_fails_on_a_field_of_a_missing_key():
    with pytest.raises(TemplateError, match=r"nil pointer evaluating interface \{\}\.x"):
        render_bootstrapper_file("{{ .Values.missing.x }}", {"Values": {}}, name="t")


# --- limits against hostile templates -----------------------------------------------------------


def test_endless_template_recursion_stops_at_the_depth_limit():
    source = '{{ define "loop" }}{{ template "loop" . }}{{ end }}{{ template "loop" . }}'
    with pytest.raises(TemplateError, match=r"exceeded maximum template depth \(50\)"):
        render(source, {}, limits=Limits(max_depth=50))


def test_output_size_is_bounded():
    source = "{{ range until 1000 }}0123456789{{ end }}"
    with pytest.raises(TemplateError, match="template output exceeds 5000 characters"):
        render(source, {}, limits=Limits(max_output=5000))


def test_run_time_is_bounded_by_a_step_budget():
    source = "{{ range until 10000 }}{{ range until 10000 }}{{ end }}{{ end }}"
    with pytest.raises(TemplateError, match="template run exceeded 10000 steps"):
        render(source, {}, limits=Limits(max_steps=10_000))


def test_huge_repeat_is_bounded_by_output_size():
    with pytest.raises(TemplateError, match="template output exceeds"):
        render('{{ repeat 100000 "x" }}', {}, limits=Limits(max_output=1000))


def test_default_limits_allow_real_work():
    assert len(render("{{ range until 2000 }}{{ . }}{{ end }}", {})) > 6000


@pytest.mark.parametrize(
    "source",
    [
        "{{" + "(" * 3000 + "1" + ")" * 3000 + "}}",
        "{{ if 1 }}" * 3000 + "x" + "{{ end }}" * 3000,
    ],
)
def test_pathological_nesting_is_a_template_error(source):
    with pytest.raises(TemplateError, match="nesting too deep"):
        render(source, {})


def test_raw_json_leaves_a_literal_escape_sequence_alone():
    data = {"s": "a<b \\u003c"}
    assert render("{{ toRawJson .s }}", data) == '"a<b \\\\u003c"'
    assert render("{{ toJson .s }}", data) == '"a\\u003cb \\\\u003c"'
