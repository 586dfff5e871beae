"""Random templates and data for the differential fuzzer, as trees that can be made smaller.

A template is a `Seq` of nodes; every node renders to template text and names the simpler
nodes that could stand in for it (`simpler`), which is all the minimiser needs. The choices
lean towards what breaks engines: every function of Go's table with arguments of the types its
signature wants (and now and then of the wrong ones), and values such as 1e21, -0, 2^53+1,
YAML-special strings and characters outside the basic plane.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.gotemplate.builtins import BUILTINS
from bot.gotemplate.functions import Func
from bot.gotemplate.sprig import FUNCS

#: Functions never generated, each with why: their results depend on the clock, chance, the
#: environment or the network, or on the Go version the oracle was built with.
EXCLUDED = {
    **dict.fromkeys(
        ("now", "date", "dateInZone", "date_in_zone", "dateModify", "date_modify",
         "mustDateModify", "must_date_modify", "ago", "toDate", "mustToDate", "unixEpoch",
         "htmlDate", "htmlDateInZone", "duration", "durationRound"),
        "the clock and the local time zone",
    ),
    **dict.fromkeys(
        ("randAlpha", "randAlphaNum", "randAscii", "randNumeric", "randBytes", "randInt",
         "uuidv4", "shuffle", "genPrivateKey", "genCA", "genCAWithKey", "genSelfSignedCert",
         "genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey", "bcrypt",
         "htpasswd", "encryptAES", "decryptAES", "derivePassword", "buildCustomCert"),
        "chance (random values, salts or keys)",
    ),
    **dict.fromkeys(("env", "expandenv"), "the process environment"),
    "getHostByName": "the network",
    **dict.fromkeys(("keys", "values"), "Go's map order, which is random"),
    "call": "needs a Go function value in the data",
}  # fmt: skip

#: Keys of the random data: YAML- and Go-special ones among plain ones.
KEYS = ["a", "b", "c", "n", "list", "m", "", "1", "true", "null", "~", "yes", "on", "x y",
        "ü", "A", "_a", "a.b"]  # fmt: skip
#: Keys reachable as fields (`.a`): Go's identifiers among the keys.
FIELDS = [k for k in KEYS if k.isidentifier()]

NASTY_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.5, 2.5, 1.005, 3.0, 7.0, 10.0, 100.0, 1e6,
                1e20, 1e21, 1e-7, 123456789.0, 2.0**53 + 1, 2.0**63, -2.0**63, 255.0, 65.0,
                -0.5, 1e100]  # fmt: skip
NASTY_STRINGS = ["", "a", "x", "abc", "Hello World", "hello_world", "a,b,c", "a b  c", " pad ",
                 "1", "-1", "0", "-0", "3.14", "1e21", "0x10", "0o17", "0b101", "1_000", "inf",
                 "-Inf", "NaN", "true", "True", "false", "yes", "no", "on", "off", "y", "n",
                 "null", "~", "", "a\nb", "a\r\nb", "\t", "İ", "ß", "ǅ", "ﬃ", "a\U0001F600b",
                 "\x7f", "\x00", "é", "☃", 'say "hi"', "it's", "<b>&amp;</b>", "a/b?c=d#e",
                 "http://u:p@h:8/p?q=1#f", "1.2.3", "v1.2.3-rc.1+b", ">=1.0.0", "^1.2", "~1.2",
                 "YWJj", "YWJ", "YW Jj", "MFRGG===", "Zm9v\nYmFy", "[a-z]+", "a.c", "\\pL",
                 "[[:alpha:]]", "^a$", "(", "a*", "key: value", "- a\n- b", "{a: 1}",
                 "1: a\ntrue: b", "!!binary aGk=", "'q'", "%d", "%v", "%%", "{{", "}}"]  # fmt: skip
INT_LITERALS = ["0", "1", "-1", "2", "3", "4", "10", "-3", "255", "1000", "0x10", "0o17",
                "0b101", "1_000", "017", "2147483648", "9007199254740993",
                "9223372036854775807", "-9223372036854775808", "1e3"]  # fmt: skip
SMALL_INTS = ["0", "1", "2", "3", "-1", "-2", "4", "5", "10"]
FLOAT_LITERALS = ["0.1", "1.5", "-0.0", "2.5", "1.005", "1e21", "1e-7", "3.0", "0.5", ".5",
                  "1e100", "0x1p-2", "1.0"]  # fmt: skip
STRING_LITERALS = [json.dumps(s, ensure_ascii=False) for s in NASTY_STRINGS] + [
    "`raw`", "`a\\nb`", '"\\u00e9"', '"\\x41"', '"\\U0001F600"', '"\\t\\n"', "``",
]  # fmt: skip
CHAR_LITERALS = ["'a'", "'\\''", "'\\n'", "'é'", "'\\x41'", "'\\u00e9'", "'0'"]


@dataclass(frozen=True)
class Node:
    """A piece of template text and the simpler pieces that could replace it."""

    def text(self) -> str:
        raise NotImplementedError

    def simpler(self) -> Iterator[Node]:
        """Nodes that would do the same job with less (tried by the minimiser, in order)."""
        return iter(())

    def children(self) -> Sequence[Node]:
        return ()

    def with_children(self, kids: Sequence[Node]) -> Node:
        return self


@dataclass(frozen=True)
class Lit(Node):
    source: str

    def text(self) -> str:
        return self.source

    def simpler(self) -> Iterator[Node]:
        if self.source not in ("1", '""', '"a"'):
            yield Lit("1")
            yield Lit('"a"')


@dataclass(frozen=True)
class Field(Node):
    """`.a.b`, `$x.a`, `$` or `.`."""

    source: str

    def text(self) -> str:
        return self.source

    def simpler(self) -> Iterator[Node]:
        if self.source not in (".", "$"):
            yield Field(".")
        yield Lit("1")


@dataclass(frozen=True)
class Call(Node):
    """A function with its arguments, or a pipeline of commands when `pipe` is set."""

    name: str
    args: tuple[Node, ...] = ()
    pipe: bool = False  # `args[0] | name args[1:]`
    paren: bool = False

    def text(self) -> str:
        if self.pipe and self.args:
            inner = f"{self.args[0].text()} | {' '.join([self.name, *_texts(self.args[1:])])}"
        else:
            inner = " ".join([self.name, *_texts(self.args)])
        return f"({inner})" if self.paren else inner

    def simpler(self) -> Iterator[Node]:
        for arg in self.args:
            yield _operand(arg)
        if self.args:
            yield replace(self, args=self.args[:-1])
        if self.pipe:
            yield replace(self, pipe=False)

    def children(self) -> Sequence[Node]:
        return self.args

    def with_children(self, kids: Sequence[Node]) -> Node:
        return replace(self, args=tuple(kids))


def _operand(node: Node) -> Node:
    if isinstance(node, Call) and not node.paren:
        return replace(node, paren=True)
    return node


def _texts(nodes: Sequence[Node]) -> list[str]:
    return [node.text() for node in nodes]


@dataclass(frozen=True)
class Text(Node):
    source: str

    def text(self) -> str:
        return self.source.replace("{{", "{ {")

    def simpler(self) -> Iterator[Node]:
        if self.source:
            yield Text("")


@dataclass(frozen=True)
class Action(Node):
    """`{{ pipeline }}`, with trim markers and a `$x :=` or `$x =` in front."""

    pipeline: Node
    trim: tuple[bool, bool] = (False, False)
    declare: str = ""  # "$x := " or "$x = "

    def text(self) -> str:
        left, right = ("{{- " if self.trim[0] else "{{"), (" -}}" if self.trim[1] else "}}")
        return f"{left}{self.declare}{self.pipeline.text()}{right}"

    def simpler(self) -> Iterator[Node]:
        if self.trim != (False, False):
            yield replace(self, trim=(False, False))
        if self.declare:
            yield replace(self, declare="")

    def children(self) -> Sequence[Node]:
        return (self.pipeline,)

    def with_children(self, kids: Sequence[Node]) -> Node:
        return replace(self, pipeline=kids[0])


@dataclass(frozen=True)
class Block(Node):
    """`{{if}}`, `{{range}}`, `{{with}}` or `{{define}}` with its body and else branch."""

    keyword: str
    pipeline: Node
    body: Seq
    orelse: Seq | None = None
    declare: str = ""  # "$i, $v := " for range, "$v := " for with and if

    def text(self) -> str:
        head = f"{{{{{self.keyword} {self.declare}{self.pipeline.text()}}}}}"
        tail = "" if self.orelse is None else "{{else}}" + self.orelse.text()
        return head + self.body.text() + tail + "{{end}}"

    def simpler(self) -> Iterator[Node]:
        yield self.body
        if self.orelse is not None:
            yield self.orelse
            yield replace(self, orelse=None)
        if self.declare:
            yield replace(self, declare="")

    def children(self) -> Sequence[Node]:
        kids: list[Node] = [self.pipeline, self.body]
        if self.orelse is not None:
            kids.append(self.orelse)
        return kids

    def with_children(self, kids: Sequence[Node]) -> Node:
        body, orelse = kids[1], (kids[2] if len(kids) > 2 else None)
        assert isinstance(body, Seq) and (orelse is None or isinstance(orelse, Seq))
        return replace(self, pipeline=kids[0], body=body, orelse=orelse)


@dataclass(frozen=True)
class Seq(Node):
    items: tuple[Node, ...] = field(default_factory=tuple)

    def text(self) -> str:
        return "".join(_texts(self.items))

    def simpler(self) -> Iterator[Node]:
        for i in range(len(self.items)):
            yield Seq(self.items[:i] + self.items[i + 1 :])

    def children(self) -> Sequence[Node]:
        return self.items

    def with_children(self, kids: Sequence[Node]) -> Node:
        return Seq(tuple(kids))


def smaller(node: Node) -> Iterator[Node]:
    """Every tree one simplification away from `node`, the biggest cuts first."""
    yield from node.simpler()
    kids = node.children()
    for i, kid in enumerate(kids):
        for variant in smaller(kid):
            yield node.with_children([*kids[:i], variant, *kids[i + 1 :]])


def size(node: Node) -> int:
    return 1 + sum(size(kid) for kid in node.children())


def functions_in(node: Node) -> set[str]:
    names = {node.name} if isinstance(node, Call) and node.name[0].isalpha() else set()
    for kid in node.children():
        names |= functions_in(kid)
    return names


# --- generation ------------------------------------------------------------------------------


class Grammar:
    """Draws templates and data from one seeded random source."""

    def __init__(self, rng: random.Random, go_functions: Sequence[str]) -> None:
        self.rng = rng
        self.functions = sorted(f for f in go_functions if f not in EXCLUDED)
        self.signatures: dict[str, Func] = {**FUNCS, **BUILTINS}
        self.variables: list[str] = []

    def template(self) -> Seq:
        self.variables = []
        return self.seq(depth=0, items=self.rng.randint(1, 4))

    def seq(self, depth: int, items: int) -> Seq:
        return Seq(tuple(self.item(depth) for _ in range(items)))

    def item(self, depth: int) -> Node:
        roll = self.rng.random()
        if roll < 0.15:
            return Text(self.rng.choice(["", "x", " ", "\n", "a-b", " \n ", "\t"]))
        if roll < 0.3 and depth < 3:
            return self.block(depth)
        declare = ""
        if self.rng.random() < 0.1:
            name = f"$v{len(self.variables)}"
            declare = f"{name} := "
            self.variables.append(name)
        elif self.variables and self.rng.random() < 0.05:
            declare = f"{self.rng.choice(self.variables)} = "
        trim = (self.rng.random() < 0.1, self.rng.random() < 0.1)
        return Action(self.pipeline(depth), trim, declare)

    def block(self, depth: int) -> Node:
        keyword = self.rng.choice(["if", "if", "range", "range", "with"])
        declare = ""
        if keyword == "range" and self.rng.random() < 0.5:
            declare = "$i, $e := " if self.rng.random() < 0.6 else "$e := "
        elif keyword == "with" and self.rng.random() < 0.3:
            declare = "$w := "
        known = list(self.variables)
        self.variables += [v.strip() for v in declare.replace(":=", "").split(",") if v.strip()]
        body = self.seq(depth + 1, self.rng.randint(1, 3))
        if keyword == "range" and self.rng.random() < 0.1:
            body = Seq((*body.items, Lit(self.rng.choice(["{{break}}", "{{continue}}"]))))
        orelse = self.seq(depth + 1, 1) if self.rng.random() < 0.3 else None
        self.variables = known
        return Block(keyword, self.pipeline(depth), body, orelse, declare)

    def pipeline(self, depth: int) -> Node:
        command = self.command(depth)
        if self.rng.random() < 0.3 and depth < 4:
            name = self.rng.choice(self.functions)
            extra = self.args(name, depth + 1, piped=True)
            return Call(name, (_operand(command), *extra), pipe=True)
        return command

    def command(self, depth: int) -> Node:
        if self.rng.random() < 0.55 and depth < 4:
            name = self.rng.choice(self.functions)
            return Call(name, tuple(self.args(name, depth + 1)))
        return self.operand(depth, "")

    def args(self, name: str, depth: int, *, piped: bool = False) -> list[Node]:
        signature = self.signatures.get(name)
        if signature is None or self.rng.random() < 0.08:  # Go's own, or the wrong count
            count = self.rng.randint(0, 3)
            return [self.operand(depth, "") for _ in range(count)]
        params = list(signature.params)
        if signature.variadic is not None:
            params += [signature.variadic] * self.rng.randint(0, 3)
        if piped and params:
            params = params[:-1]  # the piped value is the last argument
        return [self.operand(depth, kind) for kind in params]

    def operand(self, depth: int, kind: str) -> Node:
        rng = self.rng
        if depth < 4 and rng.random() < 0.2:
            return _operand(self.command(depth + 1))
        if rng.random() < 0.25:
            return Field(self.field())
        wrong = rng.random() < 0.1
        if kind == "string" and not wrong:
            return Lit(rng.choice(STRING_LITERALS))
        if kind in ("int", "int64", "uint", "int32", "uint32") and not wrong:
            return Lit(rng.choice(SMALL_INTS if rng.random() < 0.8 else INT_LITERALS))
        if kind == "float64" and not wrong:
            return Lit(rng.choice(FLOAT_LITERALS + SMALL_INTS))
        if kind == "bool" and not wrong:
            return Lit(rng.choice(["true", "false"]))
        return Lit(rng.choice(self.any_literals()))

    def any_literals(self) -> list[str]:
        return (STRING_LITERALS * 2 + INT_LITERALS + FLOAT_LITERALS + CHAR_LITERALS
                + ["true", "false", "nil"])  # fmt: skip

    def field(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.15:
            return "."
        base = "$" if roll < 0.25 else ""
        if self.variables and rng.random() < 0.3:
            base = rng.choice(self.variables)
        path = "".join("." + rng.choice(FIELDS) for _ in range(rng.randint(1, 2)))
        return (base + path) if base != "$" or path else "$"

    def data(self, depth: int = 0) -> Any:
        rng = self.rng
        roll = rng.random()
        if depth == 0 or (roll < 0.25 and depth < 3):
            count = rng.randint(0, 5 if depth else 8)
            return {rng.choice(KEYS): self.data(depth + 1) for _ in range(count)}
        if roll < 0.4 and depth < 3:
            return [self.data(depth + 1) for _ in range(rng.randint(0, 4))]
        if roll < 0.65:
            return rng.choice(NASTY_STRINGS)
        if roll < 0.9:
            return rng.choice(NASTY_FLOATS)
        return rng.choice([True, False, None])
