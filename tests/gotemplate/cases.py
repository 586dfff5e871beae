"""Template cases whose expected results come from Go itself (see generate.py).

Each case: name, template, data (JSON, so numbers are float64 as the Go tool sees them),
missingkey mode, and which functions Go had (`builtin`: text/template only; `sprig`: plus
sprig). Only constructs the Python engine is meant to support belong here.
"""

from __future__ import annotations

import itertools
from typing import Any

Case = dict[str, Any]

DATA = {
    "Values": {
        "name": "demo",
        "n": 7,
        "zero": 0,
        "big": 1000000,
        "mid": 123456,
        "huge": 1e21,
        "half": 0.5,
        "tiny": 0.00001,
        "neg": -2.5,
        "t": True,
        "f": False,
        "nul": None,
        "empty": "",
        "list": [1, "two", None, True, 2.5],
        "strs": ["b", "a", "c"],
        "elist": [],
        "map": {"b": 2, "a": 1, "B": 3, "_x": 0, "item10": 10, "item9": 9},
        "emap": {},
        "nested": {"inner": {"leaf": "L", "list": [{"k": "v0"}, {"k": "v1"}]}},
        "quote": 'say "hi"\n\ttab <b>&',
        "unicode": "héllo wörld ☃",
    }
}


def case(name: str, template: str, *, data: Any = DATA, missingkey: str = "error",
         funcs: str = "builtin") -> Case:  # fmt: skip
    return {"name": name, "template": template, "data": data, "missingkey": missingkey,
            "funcs": funcs}  # fmt: skip


def text_and_trimming() -> list[Case]:
    templates = [
        "plain text",
        "",
        "a{{/* comment */}}b",
        "a {{- /* c */ -}} b",
        "a  {{- 1 -}}  b",
        "a\n\n{{- 1}}\n\nb",
        "{{1 -}}\n\n  b",
        "{{- 1 -}}",
        "x{{-  1 }}",
        "x {{-1}}",
        "{{ 1 }}{{/* multi\nline */}}{{ 2 }}",
        'a\t{{- "s" -}}\t\nb',
        "{{`raw\nstring`}}",
        '{{ "esc\\t\\n\\\\\\"\\u00e9\\x41\\101" }}',
        "line1\nline2\n{{ 3 }}\n",
        "{{- /* only a comment */ -}}",
        "{{ 1 }} {{ 2 }}",
        "{{/* a */}}{{/* b */}}",
        "{{\n.Values.name\n}}",
        '{{ printf\n"%s-%d"\n"a"\n3\n}}',
    ]
    return [case(f"text-{i}", t) for i, t in enumerate(templates)]


def literals() -> list[Case]:
    templates = [
        "{{ 0 }}",
        "{{ 7 }}",
        "{{ -7 }}",
        "{{ +7 }}",
        "{{ 7.0 }}",
        "{{ 7.5 }}",
        "{{ 1e6 }}",
        "{{ 1e21 }}",
        "{{ 1.5e-7 }}",
        "{{ 0x1F }}",
        "{{ 0X1f }}",
        "{{ 0o17 }}",
        "{{ 017 }}",
        "{{ 0b101 }}",
        "{{ 1_000 }}",
        "{{ 0x_1F }}",
        "{{ 'a' }}",
        "{{ '\\n' }}",
        "{{ '☃' }}",
        "{{ true }}",
        "{{ false }}",
        '{{ "" }}',
        "{{ `` }}",
        "{{ 1.0e3 }}",
        "{{ .5 }}",
        "{{ 123456789 }}",
        "{{ 9223372036854775807 }}",
        "{{ 3. }}",
        "{{ 0x1p4 }}",
        "{{ 1__0 }}",
        "{{ 08 }}",
        "{{ 1e }}",
        "{{ 0x }}",
        "{{ 'ab' }}",
        "{{ '' }}",
        "{{ 9223372036854775808 }}",
        "{{ 18446744073709551616 }}",
        "{{ nil }}",
    ]
    return [case(f"literal-{i}", t) for i, t in enumerate(templates)]


def fields_and_missing_keys() -> list[Case]:
    expressions = [
        ".Values.name",
        ".Values.missing",
        ".Values.missing.deeper",
        ".Values.nul",
        ".Values.nul.x",
        ".Values.name.x",
        ".Values.n.x",
        ".Values.nested.inner.leaf",
        ".Values.nested.inner.nope",
        ".Values.list.x",
        ".Values.map.a",
        ".Values.map.zz",
        ".",
        "$",
        "$.Values.name",
        ".Values",
        ".Missing.x",
        ".Values.emap.x",
    ]
    out = []
    for (i, expr), mode in itertools.product(enumerate(expressions), ("default", "zero", "error")):
        out.append(case(f"field-{mode}-{i}", "{{ " + expr + " }}", missingkey=mode))
        out.append(case(f"field-if-{mode}-{i}", "{{ if " + expr + " }}T{{ else }}F{{ end }}",
                        missingkey=mode))  # fmt: skip
    out.append(case("field-nil-data", "{{ .x }}", data=None, missingkey="default"))
    out.append(case("field-nil-data-error", "{{ .x }}", data=None, missingkey="error"))
    out.append(case("field-on-list-data", "{{ .x }}", data=[1], missingkey="default"))
    return out


def printing_values() -> list[Case]:
    names = ["n", "zero", "big", "mid", "huge", "half", "tiny", "neg", "t", "f", "nul", "empty",
             "list", "strs", "elist", "map", "emap", "nested", "quote", "unicode"]  # fmt: skip
    out = [case(f"print-{name}", "{{ .Values." + name + " }}") for name in names]
    numbers = [0, 1, -1, 7, 1e6, 123456, 1234567, 999999, 0.5, 1e-5, 1e-4, 0.0001234, 1e21,
               1e20, 3.141592653589793, -0.0, 2.5e-10, 12345678901234567890, 0.1 + 0.2,
               100, 1e100, 5e-324]  # fmt: skip
    for i, number in enumerate(numbers):
        out.append(case(f"print-number-{i}", "{{ .x }}", data={"x": number}))
        out.append(case(f"print-number-in-list-{i}", "{{ .x }}", data={"x": [number]}))
    return out


def variables() -> list[Case]:
    templates = [
        "{{ $x := 1 }}{{ $x }}",
        "{{ $x := .Values.name }}{{ $x }}-{{ $ }}",
        "{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}",
        "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}",
        "{{ $x := 1 }}{{ range .Values.strs }}{{ $x = . }}{{ end }}{{ $x }}",
        "{{ $y }}",
        "{{ $x = 1 }}",
        "{{ $x := 1 }}{{ $x := 2 }}{{ $x }}",
        "{{ with $x := .Values.name }}{{ $x }}{{ end }}",
        "{{ with $x := .Values.name }}{{ end }}{{ $x }}",
        "{{ $m := .Values.map }}{{ $m.a }}",
        "{{ $m := .Values.map }}{{ $m.zz }}",
        "{{ $x := 3 }}{{ $x 1 }}",
        "{{ $.Values.name }}",
        "{{ $x, $y := 1 }}",
        "{{ $n := .Values.nul }}{{ $n }}",
        "{{ $n := .Values.nul }}{{ $n.x }}",
        "{{ $x := .Values.missing }}{{ $x.y }}",
    ]
    out = [case(f"var-{i}", t) for i, t in enumerate(templates)]
    out.append(case("var-missing-default", "{{ $x := .Values.missing }}{{ $x.y }}",
                    missingkey="default"))  # fmt: skip
    return out


def control() -> list[Case]:
    templates = [
        "{{ if .Values.t }}T{{ end }}",
        "{{ if .Values.f }}T{{ else }}F{{ end }}",
        "{{ if .Values.f }}1{{ else if .Values.zero }}2{{ else if .Values.n }}3{{ else }}4{{ end }}",
        "{{ if .Values.elist }}L{{ else }}empty{{ end }}",
        "{{ if .Values.emap }}M{{ end }}x",
        "{{ if .Values.empty }}S{{ end }}x",
        "{{ if .Values.nul }}N{{ end }}x",
        "{{ if .Values.half }}H{{ end }}",
        "{{ if .Values.list }}L{{ end }}",
        "{{ with .Values.name }}{{ . }}{{ end }}",
        "{{ with .Values.empty }}x{{ else }}none{{ end }}",
        "{{ with .Values.nested.inner }}{{ .leaf }}{{ end }}",
        "{{ range .Values.strs }}[{{ . }}]{{ end }}",
        "{{ range $i, $v := .Values.strs }}{{ $i }}={{ $v }};{{ end }}",
        "{{ range $k, $v := .Values.map }}{{ $k }}={{ $v }};{{ end }}",
        "{{ range $v := .Values.map }}{{ $v }},{{ end }}",
        "{{ range .Values.elist }}x{{ else }}empty{{ end }}",
        "{{ range .Values.emap }}x{{ else }}empty{{ end }}",
        "{{ range .Values.nul }}x{{ else }}none{{ end }}",
        "{{ range .Values.name }}x{{ end }}",
        "{{ range .Values.n }}x{{ end }}",
        "{{ range .Values.list }}{{ . }}|{{ end }}",
        '{{ range .Values.strs }}{{ if eq . "a" }}{{ break }}{{ end }}{{ . }}{{ end }}',
        '{{ range .Values.strs }}{{ if eq . "a" }}{{ continue }}{{ end }}{{ . }}{{ end }}',
        "{{ range .Values.nested.inner.list }}{{ .k }}{{ end }}",
        "{{ range $i, $e := .Values.nested.inner.list }}{{ $i }}{{ $e.k }}{{ end }}",
        "{{ range $x := .Values.strs }}{{ end }}{{ $x }}",
        "{{ if }}x{{ end }}",
        "{{ if 1 }}x{{ else }}y{{ else }}z{{ end }}",
        "{{ range $a, $b, $c := .Values.strs }}{{ end }}",
        "{{ else }}",
        "{{ end }}",
        "{{ if 1 }}",
        "{{ range .Values.strs }}{{ . }}",
        "{{ break }}",
        "{{ continue }}",
        "{{ with 0 }}x{{ else if 1 }}y{{ end }}",
        "{{ range $i, $v := .Values.map }}{{ $i }}{{ end }}",
        "{{ range .Values.strs }}{{ range $.Values.strs }}{{ . }}{{ end }};{{ end }}",
        "{{ if and .Values.t .Values.n }}yes{{ end }}",
        "{{ range $i, $v := .Values.strs }}{{ if $i }},{{ end }}{{ $v }}{{ end }}",
    ]
    return [case(f"control-{i}", t) for i, t in enumerate(templates)]


def templates_and_blocks() -> list[Case]:
    templates = [
        '{{ define "a" }}A{{ . }}{{ end }}{{ template "a" 1 }}',
        '{{ define "a" }}A{{ end }}{{ template "a" }}',
        '{{ template "nope" }}',
        '{{ block "b" .Values.name }}[{{ . }}]{{ end }}',
        '{{ define "a" }}{{ $ }}{{ end }}{{ template "a" .Values.n }}',
        '{{ define "a" }}1{{ end }}{{ define "a" }}2{{ end }}{{ template "a" }}',
        '{{ define "a" }}{{ $x }}{{ end }}',
        '{{ $x := 1 }}{{ define "a" }}{{ end }}{{ $x }}',
        '{{ define "rec" }}{{ if . }}{{ template "rec" slice . 1 }}{{ len . }}{{ end }}{{ end }}'
        '{{ template "rec" .Values.strs }}',
        '{{ define "x" }}X{{ end }}{{ template "x" }}{{ template "x" }}',
        "{{ define }}{{ end }}",
        '{{ template "a" 1 2 }}',
        '{{ define "a" }}',
        '{{ define "missingkey" }}{{ .nope }}{{ end }}{{ template "missingkey" .Values }}',
    ]
    return [case(f"template-{i}", t) for i, t in enumerate(templates)]


def comparisons() -> list[Case]:
    operands = ["1", "2", "1.0", "2.5", '"a"', '"b"', "true", "false", "nil", ".Values.n",
                ".Values.missing", ".Values.list", "'a'"]  # fmt: skip
    out = []
    for op in ("eq", "ne", "lt", "le", "gt", "ge"):
        for (i, a), (j, b) in itertools.product(enumerate(operands), repeat=2):
            if (i + j) % 2 and op not in ("eq", "lt"):
                continue  # keep the matrix smaller for the derived operators
            out.append(case(f"cmp-{op}-{i}-{j}", "{{ " + f"{op} {a} {b}" + " }}",
                            missingkey="default"))  # fmt: skip
    out += [
        case("cmp-eq-multi", '{{ eq "b" "a" "b" }}'),
        case("cmp-eq-none", "{{ eq 1 }}"),
        case("cmp-eq-float-data", "{{ eq .Values.n 7.0 }}"),
        case("cmp-eq-map", "{{ eq .Values.map .Values.map }}"),
        case("cmp-lt-strings", '{{ lt "abc" "abd" }} {{ lt "B" "a" }} {{ lt "é" "z" }}'),
    ]
    return out


def logic() -> list[Case]:
    templates = [
        "{{ and 1 2 }}",
        "{{ and 1 0 2 }}",
        "{{ and }}",
        '{{ or 0 "" 3 }}',
        '{{ or 0 "" }}',
        "{{ and .Values.t .Values.name }}",
        "{{ or .Values.missing .Values.name }}",
        "{{ and .Values.nul 1 }}",
        "{{ not 0 }}",
        "{{ not .Values.name }}",
        "{{ not }}",
        "{{ not 1 2 }}",
        "{{ and 0 (index .Values.strs 10) }}",
        "{{ or 1 (index .Values.strs 10) }}",
        "{{ 1 | and 2 }}",
        '{{ 0 | or "" }}',
        "{{ .Values.elist | and 1 }}",
        "{{ not .Values.missing }}",
        "{{ and .Values.missing 1 }}",
    ]
    return [case(f"logic-{i}", t, missingkey="default") for i, t in enumerate(templates)]


def collections() -> list[Case]:
    templates = [
        "{{ len .Values.strs }}",
        "{{ len .Values.map }}",
        '{{ len "héllo" }}',
        "{{ len 3 }}",
        "{{ len .Values.nul }}",
        "{{ len .Values.missing }}",
        "{{ len nil }}",
        "{{ index .Values.strs 0 }}",
        "{{ index .Values.strs 3 }}",
        "{{ index .Values.strs 9 }}",
        "{{ index .Values.strs -1 }}",
        '{{ index .Values.map "a" }}',
        '{{ index .Values.map "zz" }}',
        "{{ index .Values.map 1 }}",
        '{{ index .Values.nested "inner" "list" 1 "k" }}',
        '{{ index "abc" 1 }}',
        "{{ index .Values.strs 1.0 }}",
        "{{ index .Values.strs }}",
        "{{ index nil 1 }}",
        "{{ index .Values.n 1 }}",
        "{{ index .Values.strs nil }}",
        '{{ slice "hello" 1 3 }}',
        '{{ slice "hello" 2 }}',
        '{{ slice "hello" }}',
        "{{ slice .Values.strs 1 }}",
        "{{ slice .Values.strs 1 2 3 }}",
        '{{ slice "abc" 1 2 3 }}',
        '{{ slice "abc" 2 1 }}',
        '{{ slice "abc" 1 9 }}',
        "{{ slice .Values.n 1 }}",
        "{{ slice .Values.strs 0 1 2 3 }}",
        "{{ index .Values.list 2 }}",
        "{{ (index .Values.nested.inner.list 0).k }}",
        "{{ len (index .Values.nested.inner.list 0) }}",
    ]
    return [case(f"coll-{i}", t, missingkey="default") for i, t in enumerate(templates)]


def printf_matrix() -> list[Case]:
    verbs = ["%v", "%d", "%s", "%q", "%x", "%X", "%o", "%b", "%f", "%.2f", "%e", "%g", "%t",
             "%c", "%U", "%T", "%5d", "%-5d|", "%05d", "%+d", "%8.3f", "%-8s|", "%08.3f", "%#x",
             "%5.1s|", "%.3g", "%+v", "% d", "%#o", "%x"]  # fmt: skip
    values = ["0", "65", "-7", "7.5", ".Values.n", '"str"', "true", "nil", ".Values.strs",
              ".Values.map", ".Values.neg", ".Values.big"]  # fmt: skip
    out = []
    for (i, verb), (j, value) in itertools.product(enumerate(verbs), enumerate(values)):
        out.append(case(f"printf-{i}-{j}", "{{ printf " + f'"{verb}" {value}' + " }}"))
    extra = [
        '{{ printf "%d %d" 1 }}',
        '{{ printf "%d" 1 2 }}',
        '{{ printf "%%" }}',
        '{{ printf "%" }}',
        '{{ printf "%[2]d %[1]d" 1 2 }}',
        '{{ printf "%*d|" 5 3 }}',
        '{{ printf "%.*f" 2 3.14159 }}',
        '{{ printf "%-*d|" 4 7 }}',
        '{{ printf "%[3]d" 1 }}',
        '{{ printf "%!" }}',
        "{{ printf 3 }}",
        '{{ printf "%s" .Values.list }}',
        '{{ printf "%d" .Values.strs }}',
        '{{ printf "%z" 1 }}',
        '{{ printf "%v %v" .Values.nul .Values.missing }}',
        '{{ printf "%6.2f%%" 12.3456 }}',
        '{{ print "a" 1 2 "b" nil true }}',
        '{{ println "a" 1 2 }}',
        "{{ print }}",
        "{{ println }}",
        "{{ print .Values.missing }}",
        '{{ printf "%q" .Values.unicode }}',
        '{{ printf "%+q" "é" }}',
        '{{ printf "%#q" "raw" }}',
        '{{ printf "%x" "hi" }}',
        '{{ printf "% x" "hi" }}',
        '{{ printf "%08b" 5 }}',
        '{{ printf "%10.4e" 12345.678 }}',
        '{{ printf "%G" 1e21 }}',
        '{{ printf "%E" 0.000123 }}',
        '{{ printf "%.0f" 2.5 }}',
        '{{ printf "%.0f" 3.5 }}',
    ]
    out += [case(f"printf-extra-{i}", t, missingkey="default") for i, t in enumerate(extra)]
    return out


def escapers() -> list[Case]:
    args = ['"<a href=\'x\'>&\\"</a>"', ".Values.quote", ".Values.unicode", "1 2", '"a" 1',
            "nil", ".Values.strs", '"a b&c=d/é?"', '"\\x00\\u2028="']  # fmt: skip
    out = []
    for fn in ("html", "js", "urlquery"):
        for i, arg in enumerate(args):
            out.append(case(f"esc-{fn}-{i}", "{{ " + f"{fn} {arg}" + " }}", missingkey="default"))
            out.append(case(f"esc-pipe-{fn}-{i}", "{{ " + f"{arg} | {fn}" + " }}",
                            missingkey="default"))  # fmt: skip
    return out


def pipelines_and_errors() -> list[Case]:
    templates = [
        '{{ "x" | printf "%s-%s" "a" }}',
        "{{ .Values.strs | len }}",
        "{{ (len .Values.strs) }}",
        '{{ (index .Values.nested "inner").leaf }}',
        "{{ (.Values.nested).inner.leaf }}",
        "{{ .Values.name | 3 }}",
        "{{ 3 | .Values.name }}",
        "{{ nope }}",
        "{{ .Values.name 1 }}",
        "{{ len }}",
        "{{ index }}",
        "{{ printf }}",
        "{{ call .Values.name }}",
        "{{ call nil }}",
        "{{ (1).x }}",
        '{{ "a".x }}',
        "{{ nil.x }}",
        "{{ (nil).x }}",
        "{{ .Values.name | not }}",
        "{{ | len }}",
        "{{ len | }}",
        "{{ (len .Values.strs }}",
        "{{ len .Values.strs) }}",
        "{{ .Values..name }}",
        "{{ .Values.name",
        "{{ 1 2 }}",
        "{{ .Values.name .Values.n }}",
        "{{ $ := 1 }}",
        "{{ with }}{{ end }}",
        "{{ ( ) }}",
        '{{ "unterminated }}',
        "{{ 'x }}",
        "{{ `raw }}",
        "{{ /* bad comment }}",
        "{{/* ok */ 1 }}",
        "{{ 1 /* no */ }}",
        "{{ @ }}",
        "{{ .Values.na-me }}",
        "{{ 1.2.3 }}",
        "{{ 0x1G }}",
        "{{ 1i }}",
        "{{ 1+2i }}",
        '{{ printf "%v" 1+2i }}',
        "{{ -.Values.n }}",
        "{{ .Values.name }}{{",
        "}}{{ 1 }}",
        "{{ if 1 }}{{ else if }}{{ end }}",
        "{{ template 1 }}",
        '{{ define "a" }}{{ end }}{{ template "a" | len }}',
        '{{ index .Values.strs 1 | printf "%s!" }}',
        '{{ .Values.map | len | printf "%d" }}',
        '{{ .Values.n | printf "%v" }}',
        '{{ .Values.missing | printf "%v" }}',
        "{{ .Values.missing | len }}",
        "{{ not .Values.missing | not }}",
    ]
    return [case(f"pipe-{i}", t, missingkey="default") for i, t in enumerate(templates)]


def all_cases() -> list[Case]:
    groups = [text_and_trimming, literals, fields_and_missing_keys, printing_values, variables,
              control, templates_and_blocks, comparisons, logic, collections, printf_matrix,
              escapers, pipelines_and_errors]  # fmt: skip
    cases = [c for group in groups for c in group()]
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases
