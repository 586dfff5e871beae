"""Template cases whose expected results come from Go itself (see generate.py).

Each case: name, template, data (JSON, so numbers are float64 as the Go tool sees them),
missingkey mode, and which functions Go had (`builtin`: text/template only; `sprig`: plus
sprig). Only constructs the Python engine is meant to support belong here.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
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


def sprig_functions() -> list[Case]:
    templates = [
        # defaults and flow
        '{{ default "d" "" }}',
        '{{ default "d" "x" }}',
        '{{ default "d" 0 }}',
        '{{ default "d" .Values.missing }}',
        '{{ default "d" .Values.nul }}',
        '{{ .Values.name | default "d" }}',
        '{{ .Values.elist | default "d" }}',
        '{{ default "d" }}',
        '{{ default "d" false }}',
        "{{ default 5 .Values.zero }}",
        '{{ default "d" .Values.emap }}',
        '{{ empty "" }} {{ empty 0 }} {{ empty .Values.list }} {{ empty .Values.emap }} {{ empty .Values.missing }} {{ empty false }} {{ empty .Values.half }}',
        '{{ coalesce "" 0 .Values.missing "x" }}',
        '{{ coalesce "" }}',
        '{{ all 1 "a" true }} {{ all 1 "" }}',
        '{{ any 0 "" nil }} {{ any 0 "a" }}',
        '{{ ternary "y" "n" true }} {{ ternary "y" "n" false }}',
        '{{ ternary "y" "n" 1 }}',
        '{{ fail "boom" }}',
        # strings
        '{{ trim "  a b \n" }}',
        '{{ upper "aBc" }} {{ lower "AbC" }}',
        '{{ trimAll "$" "$$a$$" }}',
        '{{ trimPrefix "a" "aab" }} {{ trimSuffix "b" "abb" }}',
        '{{ contains "b" "abc" }} {{ hasPrefix "a" "abc" }} {{ hasSuffix "c" "abc" }}',
        '{{ replace "a" "x" "banana" }}',
        '{{ replace "" "-" "ab" }}',
        '{{ repeat 3 "ab" }}',
        '{{ "ab" | repeat 2 }}',
        '{{ nospace " a b\tc " }}',
        '{{ plural "one" "many" 1 }} {{ plural "one" "many" 2 }}',
        '{{ indent 2 "a\nb\n" }}',
        '{{ nindent 4 "a\n\nb" }}',
        '{{ indent 0 "x" }}',
        '{{ "x\ny" | indent 3 }}',
        '{{ b64enc "hello wörld" }}',
        '{{ b64dec "aGVsbG8=" }}',
        '{{ b64dec "!!" }}',
        '{{ b32enc "hi" }}',
        '{{ b32dec "NBUQ====" }}',
        '{{ sha1sum "x" }}',
        '{{ sha256sum "x" }}',
        '{{ adler32sum "x" }}',
        '{{ quote "a" }}',
        '{{ quote "a"b" 1 nil .Values.n }}',
        "{{ quote .Values.missing }}",
        "{{ quote }}",
        '{{ squote "a" 1 }}',
        "{{ squote .Values.list }}",
        '{{ cat "a" 1 nil "b" }}',
        "{{ cat }}",
        '{{ trunc 3 "abcdef" }} {{ trunc -2 "abcdef" }} {{ trunc 10 "ab" }}',
        '{{ substr 1 3 "abcdef" }} {{ substr -1 2 "abc" }} {{ substr 1 -1 "abc" }}',
        '{{ substr 4 2 "abcdef" }}',
        '{{ title "hello wide world" }} {{ untitle "Hello" }}',
        '{{ abbrev 5 "hello world" }} {{ abbrev 3 "hello" }}',
        '{{ initials "First Try" }}',
        "{{ toString 1 }} {{ toString 1.5 }} {{ toString nil }} {{ toString .Values.list }} {{ toString true }}",
        "{{ toStrings .Values.list }}",
        '{{ join "," .Values.strs }} {{ join "-" .Values.list }} {{ join "," "x" }}',
        '{{ split "," "a,b,c" }}',
        '{{ (split "," "a,b")._1 }}',
        '{{ splitList "," "a,b,,c" }}',
        '{{ splitn "," 2 "a,b,c" }}',
        "{{ sortAlpha .Values.strs }} {{ sortAlpha .Values.list }}",
        # numbers
        '{{ int "12" }} {{ int 3.9 }} {{ int "x" }} {{ int -3.9 }} {{ int true }} {{ int "0x10" }} {{ int "3.0" }}',
        '{{ int64 "7" }} {{ float64 "1.5" }} {{ float64 3 }} {{ float64 "x" }} {{ atoi "12" }} {{ atoi "1.5" }}',
        "{{ add 1 2 3 }} {{ add1 5 }} {{ sub 5 7 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ div -7 2 }} {{ mod 7 3 }} {{ mod -7 3 }}",
        '{{ add 1.9 "2" .Values.n }}',
        "{{ div 1 0 }}",
        "{{ max 1 5 3 }} {{ min 4 2 8 }} {{ maxf 1.5 2 }} {{ minf 1.5 2 }}",
        "{{ ceil 1.2 }} {{ floor 1.8 }} {{ round 2.555 2 }} {{ round 2.5 0 }} {{ round -2.5 0 }}",
        "{{ addf 1.1 2.2 }} {{ subf 1 0.9 }} {{ mulf 1.1 3 }} {{ divf 1 3 }} {{ add1f 0.1 }}",
        "{{ until 3 }} {{ until -2 }} {{ untilStep 0 10 3 }} {{ untilStep 5 0 -2 }} {{ seq 3 }} {{ seq 2 5 }} {{ seq 5 2 }} {{ seq 0 2 6 }}",
        '{{ toDecimal "0777" }} {{ toDecimal 17 }} {{ toDecimal "9" }}',
        # lists
        '{{ list 1 "a" nil }}',
        "{{ first .Values.strs }} {{ last .Values.strs }} {{ rest .Values.strs }} {{ initial .Values.strs }}",
        "{{ first .Values.elist }}",
        '{{ first "abc" }}',
        "{{ first nil }}",
        "{{ reverse .Values.strs }}",
        '{{ append .Values.strs "d" }} {{ prepend .Values.strs "z" }}',
        '{{ uniq (list 1 1 "a" "a" 2) }}',
        '{{ without .Values.strs "a" "c" }}',
        '{{ has "a" .Values.strs }} {{ has "z" .Values.strs }} {{ has 1 nil }}',
        '{{ compact (list 1 0 "" "a" nil) }}',
        "{{ concat .Values.strs (list 1) }}",
        "{{ chunk 2 .Values.strs }}",
        "{{ slice .Values.strs 1 }} {{ slice .Values.strs 0 2 }} {{ slice .Values.elist }}",
        '{{ slice "abc" 1 }}',
        "{{ mustFirst 3 }}",
        "{{ deepEqual .Values.strs .Values.strs }} {{ deepEqual 1 1.0 }}",
        # dicts
        '{{ dict "a" 1 "b" }}',
        "{{ dict 1 2 }}",
        '{{ $d := dict "a" 1 }}{{ set $d "b" 2 }} {{ unset $d "a" }} {{ $d }}',
        '{{ get .Values.map "a" }} {{ get .Values.map "zz" }}',
        '{{ hasKey .Values.map "a" }} {{ hasKey .Values.map "q" }}',
        "{{ keys .Values.map | sortAlpha }}",
        '{{ values (dict "a" 1) }}',
        '{{ pick .Values.map "a" "b" "q" }}',
        '{{ omit .Values.map "a" "b" }}',
        '{{ pluck "a" (dict "a" 1) (dict "b" 2) (dict "a" 3) }}',
        '{{ dig "inner" "leaf" "d" .Values.nested }}',
        '{{ dig "inner" "nope" "d" .Values.nested }}',
        '{{ dig "nul" "x" "d" .Values }}',
        '{{ dig "name" "x" "d" .Values }}',
        '{{ dig "a" "d" "notamap" }}',
        '{{ dig "a" .Values }}',
        '{{ dig "nul" "d" .Values }}',
        '{{ merge (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "y" 2)) }}',
        '{{ mergeOverwrite (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "x" 5)) }}',
        '{{ merge (dict "a" "") (dict "a" "filled") }}',
        "{{ $c := deepCopy .Values.map }}{{ $c.a }}",
        '{{ get .Values.name "a" }}',
        # JSON
        "{{ toJson .Values.nested }}",
        "{{ toJson .Values.quote }}",
        "{{ toRawJson .Values.quote }}",
        "{{ toPrettyJson .Values.nested }}",
        "{{ toPrettyJson .Values.elist }} {{ toPrettyJson .Values.emap }}",
        "{{ toJson 1.5 }} {{ toJson .Values.big }} {{ toJson .Values.tiny }} {{ toJson nil }}",
        '{{ (fromJson "{"a": [1, 2.5, null]}").a }}',
        '{{ fromJson "nope" }}',
        '{{ mustFromJson "nope" }}',
        # paths, regex, reflection, semver
        '{{ base "a/b/c.txt" }} {{ dir "a/b/c.txt" }} {{ ext "a/b/c.tar.gz" }} {{ clean "a//b/../c/" }} {{ isAbs "/a" }}',
        '{{ base "" }} {{ dir "" }} {{ base "/" }} {{ clean "" }} {{ dir "/a" }} {{ base "a/" }}',
        '{{ regexMatch "^a.c$" "abc" }} {{ regexMatch "b+" "xyz" }}',
        '{{ regexFind "[0-9]+" "ab12cd34" }}',
        '{{ regexFindAll "[0-9]" "a1b2c3" -1 }} {{ regexFindAll "[0-9]" "a1b2c3" 2 }}',
        '{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}',
        '{{ regexReplaceAll "a(?P<x>x*)b" "-axb-" "$x.$1$$" }}',
        '{{ regexReplaceAllLiteral "a(x*)b" "-ab-" "${1}" }}',
        '{{ regexSplit "z+" "pizza" -1 }} {{ regexSplit "z+" "pizza" 1 }}',
        '{{ regexQuoteMeta "1.5*[x]" }}',
        '{{ regexMatch "(" "x" }}',
        '{{ typeOf 1 }} {{ typeOf .Values.n }} {{ typeOf "s" }} {{ typeOf .Values.list }} {{ typeOf .Values.map }} {{ typeOf nil }}',
        '{{ kindOf .Values.n }} {{ kindOf .Values.list }} {{ kindOf .Values.map }} {{ kindOf "s" }} {{ kindIs "map" .Values.map }}',
        '{{ typeOf (add 1 2) }} {{ typeOf (splitList "," "a") }} {{ typeOf (until 2) }} {{ typeIs "string" "x" }}',
        '{{ semverCompare ">=1.2.0" "1.3.0" }} {{ semverCompare "~1.2" "1.3.0" }} {{ semverCompare "^0.2" "0.2.9" }}',
        '{{ (semver "1.2.3-rc.1+b7").Major }} {{ (semver "v1.2.3").Minor }} {{ (semver "1.2.3-rc.1").Prerelease }}',
        '{{ semverCompare ">=x" "1.0.0" }}',
        '{{ semver "nope" }}',
        # URLs
        *[
            f'{{{{ urlParse "{u}" }}}}'
            for u in (
                "https://user:pw@host.example:8443/a/b%20c?q=1&r=2#frag",
                "mailto:a@b.c",
                "/relative/path",
                "http://host",
                "",
            )
        ],
        '{{ urlJoin (dict "scheme" "https" "host" "h.example" "path" "/a b" "query" "x=1" "fragment" "f g") }}',
        '{{ urlJoin (dict "scheme" "mailto" "opaque" "a@b.c") }}',
        '{{ urlJoin (dict "host" "h" "path" "p") }}',
        '{{ urlJoin (dict "scheme" "http" "host" "h" "userinfo" "u:p") }}',
        '{{ urlJoin (dict "scheme" 1) }}',
        # goutils and xstrings text helpers
        *[
            f'{{{{ {fn} "{text}" }}}}'
            for fn in (
                "snakecase",
                "kebabcase",
                "camelcase",
                "swapcase",
                "title",
                "untitle",
                "initials",
                "nospace",
            )
            for text in (
                "HTTPStatusCode",
                "Bld4Floor",
                "fooBar_baz Qux",
                "foo_bar-baz",
                "__x",
                "HTTP2xx",
                "a1b2",
                "Ünïcode Wörds",
                "don't stop",
                " lead  space",
                "x",
                "",
            )
        ],
        *[
            f'{{{{ {fn} {w} "{text}" }}}}'
            for fn in ("wrap", "abbrev")
            for w in (3, 5, 10)
            for text in ("hello world again", "averyveryverylongword and more", "héllo wörld", "")
        ],
        *[
            f'{{{{ wrapWith {w} "<br>" "{text}" }}}}'
            for w in (4, 8)
            for text in ("hello world again", "averyveryverylongword x")
        ],
        *[
            f'{{{{ abbrevboth {left} {right} "{text}" }}}}'
            for left, right in ((0, 5), (5, 10), (10, 7), (3, 6), (20, 10))
            for text in ("1234567890123456789", "abcdefghijklmno", "short")
        ],
    ]
    return [
        case(f"sprig-{i}", t, missingkey="default", funcs="bootstrapper")
        for i, t in enumerate(templates)
    ]


TRICKY_STRINGS = [
    "on",
    "off",
    "y",
    "n",
    "Y",
    "N",
    "yes",
    "No",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "",
    " ",
    "0x1F",
    "0o17",
    "017",
    "0b101",
    "1_000",
    "+1",
    "-1",
    "1.0",
    "1e3",
    ".5",
    "1.",
    ".inf",
    "-.inf",
    ".nan",
    "1:20",
    "-1:20",
    "2024-01-01",
    "2024-1-2",
    "2024-13-01",
    "2024-01-01T10:00:00Z",
    "2024-01-01 10:00:00",
    "<<",
    "=",
    ": ",
    "a: b",
    "a:b",
    "-",
    "- x",
    "-x",
    "--",
    "---",
    "...",
    "#x",
    "a #b",
    "a#b",
    "[x]",
    "{x}",
    "*x",
    "&x",
    "!x",
    "%x",
    "@x",
    "`x",
    "'x'",
    '"x"',
    "|",
    ">",
    "?",
    "? x",
    "x ",
    " x",
    "x\ty",
    "tab\t",
    "multi\nline",
    "multi\nline\n",
    "trailing\n\n",
    " leading\nspace",
    "x\n ",
    "é ünïcödé ☃",
    "\u2028",
    "\u0085",
    "a\\b",
    "1,2",
    "a,b",
    "word " * 25,
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "a " * 50 + "end",
    "long line that is quoted: " + "x " * 40,
    "0" * 30,
    "12345678901234567890",
    "3.14159265358979323846",
    "1e400",
    "0x",
    "+",
    "+.5",
    "-0",
    "00",
    "08",
    "0_8",
]


def to_yaml_cases() -> list[Case]:
    out = [
        case(f"toyaml-str-{i}", "{{ toYaml .s }}", data={"s": text}, funcs="bootstrapper")
        for i, text in enumerate(TRICKY_STRINGS)
    ]
    out += [
        case(
            f"toyaml-key-{i}",
            "{{ toYaml .m }}",
            data={"m": {text: 1, "z": text}},
            funcs="bootstrapper",
        )
        for i, text in enumerate(TRICKY_STRINGS[:60])
    ]
    values = [
        None,
        True,
        7,
        7.5,
        1e6,
        1e21,
        1e-7,
        0.000001,
        -0.0,
        12345678901234567890,
        [],
        {},
        [1, [2, [3]], {"a": []}],
        {"b": {"c": {"d": None}}, "a": [{"x": 1, "y": [None]}]},
        {
            "item10": 1,
            "item9": 2,
            "Item": 3,
            "_x": 4,
            "10": 5,
            "9": 6,
            "a1b": 7,
            "a01b": 8,
            "a001": 9,
            "a1": 10,
            "B": 11,
            "a": 12,
            "ä": 13,
            "z0": 14,
            "z00": 15,
            "z0a": 16,
        },
        {"list": ["a", {"b": "c", "d": ["e"]}], "empty": "", "ml": "a\nb"},
        ["- x", "x - y", {"k": "v\n"}],
    ]
    out += [
        case(f"toyaml-value-{i}", "{{ toYaml .v }}", data={"v": v}, funcs="bootstrapper")
        for i, v in enumerate(values)
    ]
    out += [
        case("toyaml-missing", "{{ toYaml .nope }}", missingkey="default", funcs="bootstrapper"),
        case(
            "toyaml-indent",
            "x:\n{{ toYaml .v | indent 2 }}",
            data={"v": {"a": [1, 2], "b": "c"}},
            funcs="bootstrapper",
        ),
        case(
            "fromyaml-1",
            "{{ (fromYaml .s).a }} {{ (fromYaml .s).b }} {{ (fromYaml .s).c }}",
            data={"s": "a: yes\nb: 017\nc: [1, 2.5]"},
            funcs="bootstrapper",
        ),
        case("fromyaml-2", "{{ fromYaml .s }}", data={"s": "a: [b"}, funcs="bootstrapper"),
        case(
            "fromyaml-3",
            "{{ fromYaml .s | toYaml }}",
            data={"s": "z: 1\na: {b: ~}\n1: x"},
            funcs="bootstrapper",
        ),
    ]
    images = [
        "ghcr.io/a/b:v1.2.3",
        "ghcr.io/a/b",
        "ghcr.io/a/b@sha256:abc",
        "ghcr.io/a/b:v1@sha256:abc",
        "host:5000/img",
        "host:5000/img:v1",
        "",
        "img:",
        "@sha256:x",
    ]
    out += [
        case(
            f"parseimage-{i}",
            "{{ $p := parseImage .r }}{{ $p }} {{ if $p }}{{ $p.image }}|{{ $p.tag }}|{{ $p.digest }}{{ end }}",
            data={"r": ref},
            funcs="bootstrapper",
        )
        for i, ref in enumerate(images)
    ]
    return out


FIXTURES = Path(__file__).parents[1] / "fixtures"

# The template input of bootstrapper.md §4.4 for test case 01, written out (JSON, as Go sees it).
_IMAGES = {
    "sourceController": ("source-controller", "v1.6.2"),
    "kustomizeController": ("kustomize-controller", "v1.6.1"),
    "helmController": ("helm-controller", "v1.3.0"),
    "notificationController": ("notification-controller", "v1.6.0"),
    "imageReflectorController": ("image-reflector-controller", "v0.35.2"),
    "imageAutomationController": ("image-automation-controller", "v0.41.2"),
}
BOOTSTRAPPER_VALUES = {
    "imagePullSecrets": [{"name": "imgpull-a"}, {"name": "imgpull-b"}],
    "openmcpOperator": {
        "version": "v0.2.1",
        "image": "ghcr.io/openmcp-project/images/openmcp-operator",
        "tag": "v0.2.1",
        "digest": "",
        "imagePullSecrets": ["imgpull-a", "imgpull-b"],
        "environment": "dev",
        "config": {"someKey": "someValue"},
    },
    "user": {
        "additionalKey1": "additionalValue1",
        "additionalKey2": "additionalValue2",
        "myMap": {"key1": "value1", "key2": "value2"},
        "funkyVar": "funkyValue",
    },
    "fluxCDEnvPath": "./envs/dev/fluxcd",
    "fluxCDResourcesPath": "../../../resources/fluxcd",
    "openMCPResourcesPath": "../../../resources/openmcp",
    "git": {
        "repoUrl": "https://github.com/example/landscape.git",
        "pushBranch": "incoming",
        "pullBranch": "outgoing",
        "provider": "github",
    },
    "images": {
        key: {"version": tag, "image": f"ghcr.io/fluxcd/{name}", "tag": tag, "digest": ""}
        for key, (name, tag) in _IMAGES.items()
    },
    "userKustomizationPatches": [
        {
            "patch": "- op: replace\n  path: /data/setByUserPatch\n  value: funkyValue",
            "target": {"kind": "ConfigMap", "name": "test-configmap"},
        }
    ],
}


def real_templates() -> list[Case]:
    """Every real template of the reference data, with the Go tool's input and options."""
    folders = [
        FIXTURES / "bootstrapper" / "manage-deployment-repo-01" / "templates",
        FIXTURES / "gitops-templates" / "templates",
        FIXTURES / "bootstrapper" / "deploy-flux-01" / "fluxcd_resource",
    ]
    out = []
    for folder in folders:
        for path in sorted(folder.rglob("*.yaml")):
            if path.name in ("Chart.yaml", "values.yaml"):
                continue
            name = "real-" + str(path.relative_to(FIXTURES)).replace("/", "-")
            for variant, values in (
                ("", BOOTSTRAPPER_VALUES),
                ("-no-secrets", {**BOOTSTRAPPER_VALUES, "imagePullSecrets": []}),
            ):
                out.append(
                    case(
                        name + variant,
                        path.read_text(),
                        data={"Values": values},
                        missingkey="zero",
                        funcs="bootstrapper",
                    )
                )
    patches = FIXTURES / "bootstrapper" / "manage-deployment-repo-01" / "patches" / "patches.yaml"
    out.append(
        case(
            "real-user-patches",
            patches.read_text(),
            data={"Values": {**BOOTSTRAPPER_VALUES, "images": {}}},
            missingkey="zero",
            funcs="bootstrapper",
        )
    )
    for kind in ("clusterProvider", "serviceProvider", "platformService"):
        source = (FIXTURES / "bootstrapper" / "provider-templates" / f"{kind}.yaml").read_text()
        provider_values: list[tuple[str, dict[str, Any]]] = [
            (
                "full",
                {
                    "name": "test",
                    "image": {"location": "ghcr.io/x/y:v1", "imagePullSecrets": ["a", "b"]},
                    "config": {"verbosity": "info", "nested": {"list": [1, "two"]}},
                },
            ),
            (
                "bare",
                {
                    "name": "test",
                    "image": {"location": "ghcr.io/x/y:v1", "imagePullSecrets": None},
                    "config": None,
                },
            ),
            ("missing", {"name": "test", "image": {"location": "ghcr.io/x/y:v1"}}),
        ]
        for variant, values in provider_values:
            out.append(
                case(
                    f"real-provider-{kind}-{variant}",
                    source,
                    data={"values": values},
                    missingkey="error",
                    funcs="bootstrapper",
                )
            )
    return out


def fuzz_found() -> list[Case]:
    """The smallest cases of each class of disagreement the differential fuzzer found
    (`make fuzz`), and their neighbours."""
    templates = [
        # character constants: \\' is a quote, \\" no escape
        "{{'\\''}}", "{{'\\\"'}}", "{{'\"'}}", "{{printf \"%c\" '\\''}}",
        # round's last parameter is ...float64
        '{{round 1 1 "a"}}', "{{round 1.005 2}}", "{{round 2.5 0}}", "{{round -0.4 0}}",
        "{{round 1.5 400}}", "{{round 1.5 -400}}", "{{round 0.25 1 0.3}}",
        "{{hello}}",
        # a negative count is Repeat's panic
        '{{indent -2 "a"}}', '{{nindent -1 "a"}}', '{{indent 0 "a\\nb"}}',
        # net/url's refusals, and what it keeps
        '{{urlParse "\\t\\n"}}', '{{urlParse " pad "}}', '{{urlParse "%%"}}',
        '{{urlParse "a#%41"}}', '{{urlParse " a:b"}}', '{{urlParse "http://h/p%zz"}}',
        '{{urlParse "x\\x7f"}}', '{{urlParse "http://h/a%20b?q=%zz#f"}}',
        # where Go's base64 and base32 decoders stop
        *(f"{{{{{fn} {json.dumps(text)}}}}}" for fn in ("b64dec", "b32dec")
          for text in ("MFRGG===", "YWJj", "YWJ", "YW Jj", "Zm9v\nYmFy", "YQ==", "YQ=", "YQ",
                       "Y", "YQ==x", "MFRGG", "MFRA====", "MFRGGZDF", "ME======", "M=======",
                       "MFRGG=\n==", "")),
        # strconv.ParseFloat through spf13/cast, and math's NaN, infinities and zeros
        '{{float64 "inf"}}', '{{float64 "NaN"}}', '{{float64 "0x10"}}', '{{float64 "0x1p-2"}}',
        '{{float64 "1_000"}}', '{{float64 "1e400"}}', '{{float64 "+nan"}}',
        '{{float64 "Infinity"}}', '{{float64 "-0"}}', '{{float64 ".5"}}',
        '{{maxf "NaN"}}', '{{minf "-Inf"}}', '{{maxf 1 "NaN"}}', "{{minf 0 -0.0}}",
        "{{maxf -0.0 0}}", "{{maxf -0.0 -0.0}}",
        '{{subf "NaN"}}', '{{mulf "-0"}}', '{{addf "inf"}}', '{{add1f "NaN"}}',
        '{{divf 1 "-Inf"}}', "{{mulf -1 0}}", "{{subf 0 0}}",
        "{{floor -0.0}}", "{{ceil -0.5}}", '{{floor (float64 "inf")}}',
        '{{ceil (float64 "NaN")}}', "{{floor 2.5}}", "{{ceil -1.5}}",
        # deepCopy of nothing
        "{{deepCopy .Values.nul}}", "{{deepCopy .Values.missing}}", "{{deepCopy .Values.list}}",
        # a semver prints as its String
        '{{semver "0"}}', '{{list (semver "1.2")}}', '{{semver "v1.2.3-rc.1+b"}}',
        # sprig's int64 results are not ints
        "{{untilStep (sub 1 1) 1 1}}", '{{(int64 1) | plural "a" "b"}}',
        '{{plural "a" "a" (add)}}', '{{repeat (int64 2) "x"}}', '{{repeat (len "ab") "x"}}',
        '{{repeat (int 2) "x"}}', '{{repeat (atoi "2") "x"}}', '{{repeat (max 1 2) "x"}}',
        # unicode's simple case mappings
        '{{lower "İ"}}', '{{upper "ß"}}', '{{upper "ﬃ"}}', '{{camelcase "ß"}}',
        '{{swapcase "İ"}}', '{{untitle "İ"}}', '{{title "ǆa ß"}}', '{{upper "ᾳ"}}',
        '{{snakecase "İA"}}', '{{kebabcase "Aß"}}',
        # toYaml's floats and characters
        "{{toYaml 1e20}}", "{{toYaml 1e21}}", "{{toYaml (list 1e+20 1.5 -0.0 123456789.0)}}",
        '{{toYaml "a\\U0001F600b"}}', '{{toYaml "\\x7f"}}', '{{toYaml "é"}}',
        '{{toYaml (dict "k" "\\u00a0")}}', '{{toYaml "\\u0085"}}', '{{toYaml "\\ufeff"}}',
        # rest and initial of nothing are nil slices
        "{{rest (list)}}", "{{initial (list)}}", "{{toJson (rest (list))}}",
        "{{toJson (initial (list))}}", "{{rest (list 1)}}", "{{toJson (rest (list 1))}}",
        "{{empty (rest (list))}}", "{{len (initial (list))}}",
        # Go's regexp syntax
        '{{regexMatch "\\\\pL" "é"}}', '{{regexMatch "[[:alpha:]]" "a"}}',
        '{{regexMatch "a$" "a\\n"}}', '{{regexFind "\\\\d+" "a12"}}',
        '{{regexReplaceAll "(?i)A" "aA" "x"}}', '{{regexMatch "\\\\p{Greek}" "\\u03b1"}}',
        '{{regexMatch "[" "a"}}', '{{regexMatch "a{2,}" "aaa"}}',
        '{{regexMatch "\\\\Qa.b\\\\E" "a.b"}}', '{{regexFindAll "a|b" "abab" -1}}',
        '{{regexMatch "\\\\z" ""}}', '{{regexSplit "" "abc" -1}}',
        # seq with every count of arguments
        "{{seq 1 2 3 4}}", "{{seq}}", "{{seq 5 1}}", "{{seq 1 0 3}}", "{{seq 1 -1 -3}}",
        "{{seq 3}}", "{{seq 0}}", "{{seq -2}}", "{{seq 2 2 1}}",
        # merge and nil
        '{{merge (dict "a" nil) (dict "a" 1)}}', '{{merge (dict) (dict "a" nil)}}',
        '{{mergeOverwrite (dict "a" 1) (dict "a" nil)}}',
        # %#v
        '{{printf "%#v" 1}}', '{{printf "%#v" "a"}}', '{{printf "%#v" (list 1 "a")}}',
        '{{printf "%#v" (dict "a" 1)}}', '{{printf "%#v" 1.5}}', '{{printf "%#v" nil}}',
        '{{printf "%#v" true}}', '{{printf "%#v" .Values.list}}',
        # fromYaml keys that Python would merge (True == 1)
        '{{fromYaml "1: a\\ntrue: b"}}', '{{toJson (fromYaml "1: a\\ntrue: b")}}',
'{{fromYaml "0: a\\nfalse: b"}}',
        # divf and the decimal's limits
        "{{divf 1e308 1e-308}}", "{{divf 1 3}}", "{{divf 0 0}}", "{{mulf 1e308 1e308}}",
        '{{divf 1 "a"}}', "{{divf 2 (list)}}",
        # chunk's size
        "{{chunk -1 (list 1 2)}}", "{{chunk 0 (list 1 2)}}", "{{chunk 1 (list)}}",
        # negative zero
        "{{-0.0}}", "{{print -0.0}}", "{{toJson -0.0}}", "{{toYaml -0.0}}", "{{mul -1 0}}",
        "{{int -0.0}}", '{{printf "%v" -0.0}}', "{{add1f -1}}", "{{sub 0 0}}",
        '{{float64 "-0" | toString}}',
        # and their neighbours
        '{{fromYaml "~: a"}}', "{{printf \"%#v\" (rest (list))}}",
        '{{printf "%#v" (splitList "," "a,b")}}', '{{printf "%#v" (dict "a" (list nil))}}',
        '{{printf "%#10v" 1}}', '{{printf "%#v" -0.0}}', '{{printf "%#v" 1e21}}',
        '{{printf "%#v" (int64 3)}}', '{{printf "%#v" (dict)}}', '{{printf "%#x" 255}}',
        '{{toYaml (dict "a\\U0001F600" 1)}}', '{{toYaml (list "\\u0080")}}',
        '{{toYaml "a\\u0085b"}}', "{{toYaml 1e19}}", "{{toYaml -1e19}}", "{{toYaml 1.8e19}}",
        '{{toYaml (dict "k" "a\\U0001F600\\nb")}}',
        "{{chunk 2 (list 1 2 3 4 5)}}", "{{chunk -1 (list 1)}}", "{{chunk -1 (list)}}",
        "{{chunk 3 (list)}}", "{{chunk 2 (list 1 2 3 4)}}", "{{chunk -2 (list 1 2 3)}}",
        "{{divf 10 4}}", "{{divf 1e20 3}}", "{{divf 2 3 4}}",
        '{{merge (dict "a" (dict "b" nil)) (dict "a" (dict "b" 1))}}',
        '{{mergeOverwrite (dict "a" (dict "b" 1)) (dict "a" (dict "b" nil))}}',
        # a nil map, and a nil slice of strings
        '{{hasKey nil "a"}}', '{{unset nil "a"}}', '{{set nil "a" 1}}', "{{values nil}}",
        "{{keys nil}}", '{{toJson (pick nil "a")}}', '{{get nil "a"}}', "{{toJson (merge nil)}}",
        '{{toJson (mustRegexFindAll "a" "b" 1)}}', '{{printf "%#v" (regexFindAll "a" "b" -1)}}',
        '{{len (regexFindAll "a" "b" -1)}}', '{{typeOf (regexFindAll "a" "b" -1)}}',
        '{{toPrettyJson (semver "v1.2.3-rc.1+b")}}', '{{toJson (list (semver "1"))}}',
        # net/url's scheme
        '{{urlParse "{a: 1}"}}', '{{urlParse ":x"}}', '{{urlParse "a:b"}}', '{{urlParse "1a:b"}}',
        '{{urlParse "/a:b"}}', '{{urlParse "a/b:c"}}', '{{urlParse "HTTP://H/p"}}',
        '{{urlParse "a+b.c-d:x"}}', '{{urlParse "?a:b"}}',
        # net/url's authority
        '{{urlParse "http://h:x/"}}', '{{urlParse "http://h:8/"}}', '{{urlParse "http://h:/"}}',
        '{{urlParse "http://[::1]:8/p"}}', '{{urlParse "http://[::1/p"}}',
        '{{urlParse "http://[::1]x/"}}', '{{urlParse "http://u p@h/"}}',
        '{{urlParse "http://u:p@h/"}}', '{{urlParse "http://h h/"}}', '{{urlParse "http://h{/"}}',
        '{{urlParse "http://h%41/"}}', '{{urlParse "http://h%zz/"}}', '{{urlParse "//h:9/p"}}',
        '{{urlParse "http://a@b@c/"}}', '{{urlParse "http://u%zz@h/"}}',
        '{{urlParse "https://u@H.example:443/p?q#f"}}', '{{urlParse "http://u!x@h/"}}',
        '{{urlParse "http://u%20x:p%3Aq@h/"}}', '{{urlParse "http://:p@h/"}}',
        '{{urlParse "http://u:@h/"}}', '{{urlParse "http://[fe80::1%25en0]:8/"}}',
        '{{urlParse "http:///p"}}', '{{urlParse "http://h/p?q=1?2"}}', '{{urlParse "mailto:a@b"}}',
        '{{urlParse "http:h"}}', '{{urlParse "//"}}', '{{urlParse "http://"}}', '{{urlParse "a:"}}',
        '{{urlParse "http://h:8:9/"}}', '{{urlParse "file:///etc/x"}}', '{{urlParse "http://h?"}}',
        # seq and untilStep at int64's ends; deepCopy of a semver; cast's ParseInt
        "{{seq -9223372036854775808}}", "{{seq 9223372036854775807}}", "{{seq 0 -3 0}}",
        "{{seq 0 0 0}}", "{{seq 3 -1 3}}", "{{seq 5 -2 1}}", "{{seq 1 2 6}}", "{{seq 2 1}}",
        "{{untilStep 9223372036854775806 9223372036854775807 1}}", "{{untilStep 0 -9 -4}}",
        '{{deepCopy (semver "1")}}', '{{(deepCopy (list (semver "1.2"))) | first}}',
        '{{(deepCopy (semver "1")).Original}}', "{{int64 (println 1)}}", '{{int64 " 1"}}',
        '{{int " 2"}}', '{{int64 "1_0"}}', '{{int64 "0x_1"}}', '{{add 1 "2\\n"}}',
        '{{semver "1-000"}}', '{{semver "1.0.0-0"}}', '{{semver "1.0.0-0a.01"}}',
        '{{semver "1.0.0-rc.01"}}', '{{semverCompare ">1" "1.0.0-01"}}',
        # messages: int64's kind, Go's slice bounds, regexp/syntax, encoding/json
        '{{reverse (add1 1)}}', '{{last (add 1 2)}}', '{{kindOf (int64 1)}}',
        '{{kindIs "int" (add 1)}}', '{{eq (add 1 1) 2}}', '{{lt (add 1 1) 3}}',
        '{{substr -1 5 "abc"}}', '{{substr 2 1 "abc"}}', '{{substr 5 9 "abc"}}',
        '{{substr 1 -3 "abc"}}', '{{substr -1 -1 "abc"}}',
        *(f"{{{{{fn} {json.dumps(rx)} \"a\"}}}}" for fn in ("mustRegexMatch", "regexFind")
          for rx in ("(", "[[:ALPHA:]]", "a**", "x{2,1}", "\\", "(?P<>a)", "[a", "a)", "\\q",
                     "a{1001}", "a\tb(", "`(")),
        *(f"{{{{mustFromJson {json.dumps(text)}}}}}"
          for text in ("%%", "it's", "", "{", '{"a" 1}', '{"a":1 "b"}', "[1 2]", "1 2",
                       '"a\nb"', '"\\q"', "{,}", "é", "[1,]", '{"a":1,}', '"abc', '"',
                       "tru", "nul", "1.x", "-", '"\\u12x4"', "[1}", "01", "1e", "1e+", "-a",
                       "fals", "nulx", "[tru]", '"\\u12"', "1.5.", "2e5x")),
    ]  # fmt: skip
    return [
        case(f"fuzz-{i}", t, missingkey="default", funcs="bootstrapper")
        for i, t in enumerate(templates)
    ]


def all_cases() -> list[Case]:
    groups = [text_and_trimming, literals, fields_and_missing_keys, printing_values, variables,
              control, templates_and_blocks, comparisons, logic, collections, printf_matrix,
              escapers, pipelines_and_errors, sprig_functions, to_yaml_cases,
              real_templates, fuzz_found]  # fmt: skip
    cases = [c for group in groups for c in group()]
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases
