"""The differential fuzzer's own parts, without Go (`make fuzz` runs it against Go): its
draws are reproducible, a seeded slice of them neither crashes nor hangs the engine, and the
minimiser cuts a disagreement down to its cause."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.gotemplate.builtins import BUILTINS
from bot.gotemplate.sprig import FUNCS
from tests.gotemplate.fuzz.__main__ import Drawn, draw, minimise
from tests.gotemplate.fuzz.compare import DISAGREEMENTS, run_python, verdict
from tests.gotemplate.fuzz.grammar import EXCLUDED, Action, Block, Call, Lit, Seq, Text
from tests.gotemplate.fuzz.oracle import Oracle, Result

FUNCTIONS = sorted({*FUNCS, *BUILTINS})


def test_a_case_is_drawn_the_same_from_its_seed_and_index():
    for index in range(50):
        first, again = draw(FUNCTIONS, 7, index), draw(FUNCTIONS, 7, index)
        assert first.case() == again.case()
    assert draw(FUNCTIONS, 7, 1).case() != draw(FUNCTIONS, 7, 2).case()


def test_no_excluded_function_is_drawn():
    drawn = [draw(FUNCTIONS, 3, i).tree.text() for i in range(300)]
    assert not any(f"{{{{{name} " in text or f"({name} " in text
                   for text in drawn for name in EXCLUDED)  # fmt: skip


def test_a_seeded_slice_neither_crashes_nor_hangs_the_engine():
    results = [run_python(draw(FUNCTIONS, 11, i).case()) for i in range(400)]
    crashed = [r.crash for r in results if r.crash is not None]
    assert crashed == []
    assert not any(r.hung for r in results)
    assert sum(r.output is not None for r in results) > 40  # not all of them fail early


class _UpperDiffers(Oracle):
    """An oracle that agrees with the Python engine except on what `upper` renders."""

    def __init__(self) -> None:
        pass

    def run(self, cases: list[dict[str, Any]]) -> list[Result]:
        out = []
        for case in cases:
            py = run_python(case)
            output = py.output
            if output is not None and "upper" in case["template"]:
                output += "!"
            out.append(Result(output, py.error))
        return out


def test_the_minimiser_cuts_a_disagreement_down_to_its_cause(tmp_path: Path):
    tree = Seq((
        Text("x "),
        Block("if", Lit("true"), Seq((Action(Lit("1")), Text("y")))),
        Action(Call("upper", (Call("trim", (Lit('" b "'),), paren=True),)), trim=(True, False)),
        Action(Call("print", (Lit('"c"'), Lit("2")))),
    ))  # fmt: skip
    drawn = Drawn("0:0", tree, {"a": 1.0, "b": "x"}, "error")
    oracle = _UpperDiffers()
    [go] = oracle.run([drawn.case()])
    kind = verdict(go, run_python(drawn.case()))
    assert kind == "outputs differ" and kind in DISAGREEMENTS
    small, go, py = minimise(oracle, drawn, kind)
    assert small.tree.text() == '{{upper "a"}}'
    assert small.data == {}
    assert go.output == "A!" and py.output == "A"
