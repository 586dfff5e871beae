"""Executing parsed templates with Go's text/template semantics (text/template/exec.go).

Errors are raised as `ExecError` carrying Go's message: `template: NAME:LINE:COL: executing
"NAME" at <NODE>: ...`. Limits keep hostile templates in check without a clock: a budget of
evaluation steps, a maximum template call depth and a maximum output size.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from bot.core.failures import Failure
from bot.golang.strconv import NilMap, NilSlice, quote
from bot.gotemplate import nodes as n
from bot.gotemplate.functions import ANY, VALUE, Func, FuncError
from bot.gotemplate.values import (
    NO_VALUE,
    GoStruct,
    Int64,
    StringMap,
    printable,
    sorted_items,
    truth,
    type_name,
)

MAX_DEPTH = 1000
#: characters and evaluation steps one execution may use; executions that share a `Budget` use
#: them together. A real landscape's templates take under a thousand steps and 1 MB of output;
#: a million steps take about a second and a half.
MAX_OUTPUT = 3 * 1024 * 1024
MAX_STEPS = 2_000_000


class ExecError(Failure):
    """A template that failed while executing; the message is Go's."""

    def __init__(self, message: str, pos: int | None = None) -> None:
        super().__init__(message)
        self.pos = pos


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


_MISSING = object()  # "no final value" in a pipeline (Go's missingVal)


#: how many actions that printed `<no value>` an execution remembers
MAX_NO_VALUE_SITES = 10


@dataclass
class Budget:
    """What executions have used so far: one execution's and the templates it calls, or every
    file of a render when they share it."""

    steps: int = 0
    output: int = 0


@dataclass
class Limits:
    max_depth: int = MAX_DEPTH
    max_output: int = MAX_OUTPUT
    max_steps: int = MAX_STEPS
    #: shared by every execution under these limits; None: each execution has its own
    budget: Budget | None = None

    @classmethod
    def shared(cls) -> Limits:
        """Limits that every execution under them spends together (one render's files)."""
        return cls(budget=Budget())


@dataclass
class Template:
    """A set of parsed templates sharing one source, and how to execute them."""

    parse_name: str
    text: str
    trees: dict[str, n.ListNode]
    funcs: Mapping[str, Func]
    missingkey: str = "default"  # "default" | "invalid" | "zero" | "error"
    limits: Limits = field(default_factory=Limits)
    #: the first actions that printed `<no value>`: (line:column in the source, the action)
    no_values: list[tuple[str, str]] = field(default_factory=list)


class _State:
    def __init__(self, template: Template, name: str, out: list[str], budget: Budget) -> None:
        self.template = template
        self.name = name
        self.out = out
        self.budget = budget
        self.vars: list[tuple[str, Any]] = []
        self.node: n.Node | None = None
        self.depth = 0
        self.dot_boxed = False  # dot is a range element (interface{}-typed in Go)

    # --- errors ------------------------------------------------------------------------------

    def at(self, node: n.Node) -> None:
        self.node = node
        self.budget.steps += 1
        if self.budget.steps > self.template.limits.max_steps:
            self.errorf(f"template run exceeded {self.template.limits.max_steps} steps")

    def errorf(self, message: str) -> NoReturn:
        if self.node is None:
            raise ExecError(f"template: {self.name}: {message}")
        location = self.location(self.node.pos)
        context = str(self.node)
        raise ExecError(
            f"template: {location}: executing {quote(self.name)} at <{context}>: {message}",
            self.node.pos,
        )

    def location(self, pos: int) -> str:
        text = self.template.text[:pos]
        line_start = text.rfind("\n") + 1
        column = len(text[line_start:].encode()) if line_start else len(text.encode())
        return f"{self.template.parse_name}:{text.count(chr(10)) + 1}:{column}"

    # --- variables ---------------------------------------------------------------------------

    def push(self, name: str, value: Any) -> None:
        self.vars.append((name, value))

    def mark(self) -> int:
        return len(self.vars)

    def pop(self, mark: int) -> None:
        del self.vars[mark:]

    def set_var(self, name: str, value: Any) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        self.errorf(f"undefined variable: {name}")

    def set_top_var(self, depth: int, value: Any) -> None:
        name = self.vars[len(self.vars) - depth][0]
        self.vars[len(self.vars) - depth] = (name, value)

    def var_value(self, name: str) -> Any:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                return self.vars[i][1]
        self.errorf(f"undefined variable: {name}")

    # --- walking -----------------------------------------------------------------------------

    def write(self, text: str) -> None:
        self.budget.output += len(text)
        if self.budget.output > self.template.limits.max_output:
            self.errorf(f"template output exceeds {self.template.limits.max_output} characters")
        self.out.append(text)

    def walk(self, dot: Any, node: n.Node) -> None:
        self.at(node)
        if isinstance(node, n.ActionNode):
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.at(node)
                text = self.printable(value)
                if "<no value>" in text and len(self.template.no_values) < MAX_NO_VALUE_SITES:
                    self.template.no_values.append((self.location(node.pos), str(node)))
                self.write(text)
        elif isinstance(node, n.ListNode):
            for child in node.nodes:
                self.walk(dot, child)
        elif isinstance(node, n.TextNode):
            self.write(node.text)
        elif isinstance(node, n.IfNode | n.WithNode):
            self.walk_if_or_with(dot, node)
        elif isinstance(node, n.RangeNode):
            self.walk_range(dot, node)
        elif isinstance(node, n.TemplateNode):
            self.walk_template(dot, node)
        elif isinstance(node, n.BreakNode):
            raise _Break
        elif isinstance(node, n.ContinueNode):
            raise _Continue
        elif not isinstance(node, n.CommentNode):
            self.errorf(f"unknown node: {node}")

    def printable(self, value: Any) -> str:
        if callable(value) and not isinstance(value, GoStruct | dict | list):
            self.errorf(f"can't print {self.node} of type {type_name(value)}")
        return printable(value)

    def walk_if_or_with(self, dot: Any, node: n.BranchNode) -> None:
        mark = self.mark()
        try:
            value = self.eval_pipeline(dot, node.pipe)
            try:
                is_true = truth(value)
            except TypeError:
                self.errorf(f"if/with can't use {value!r}")
            if is_true and isinstance(node, n.WithNode):
                saved, self.dot_boxed = self.dot_boxed, False
                try:
                    self.walk(value, node.list)
                finally:
                    self.dot_boxed = saved
            elif is_true:
                self.walk(dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            self.pop(mark)

    def walk_range(self, dot: Any, node: n.RangeNode) -> None:
        self.at(node)
        outer = self.mark()
        try:
            value = self.eval_pipeline(dot, node.pipe)
            mark = self.mark()
            # the pairs are made one at a time: a range over 100,000 items holds none of them
            pairs: Iterable[tuple[Any, Any]]
            if isinstance(value, list | tuple):
                pairs, empty = enumerate(value), not value
            elif isinstance(value, dict):
                pairs, empty = sorted_items(value), not value
            elif isinstance(value, int) and not isinstance(value, bool):
                if len(node.pipe.decl) > 1:
                    self.errorf(f"can't use {value} to iterate over more than one variable")
                pairs, empty = ((i, i) for i in range(value)), value <= 0
            elif value is NO_VALUE or value is None:
                pairs, empty = (), True
            else:
                self.errorf(f"range can't iterate over {printable(value)}")
            try:
                for index, element in pairs:
                    self.one_iteration(node, mark, index, element)
            except _Break:
                self.pop(mark)
                return
            if empty and node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            self.pop(outer)

    def one_iteration(self, node: n.RangeNode, mark: int, index: Any, element: Any) -> None:
        decl = node.pipe.decl
        if decl:
            if node.pipe.is_assign:
                self.set_var(decl[0].ident[0], index if len(decl) > 1 else element)
            else:
                self.set_top_var(1, element)
        if len(decl) > 1:
            if node.pipe.is_assign:
                self.set_var(decl[1].ident[0], element)
            else:
                self.set_top_var(2, index)
        saved, self.dot_boxed = self.dot_boxed, True
        try:
            self.walk(element, node.list)
        except _Continue:
            pass
        finally:
            self.dot_boxed = saved
            self.pop(mark)

    def walk_template(self, dot: Any, node: n.TemplateNode) -> None:
        self.at(node)
        tree = self.template.trees.get(node.name)
        if tree is None:
            self.errorf(f"template {quote(node.name)} not defined")
        if self.depth >= self.template.limits.max_depth:
            self.errorf(f"exceeded maximum template depth ({self.template.limits.max_depth})")
        value = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else NO_VALUE
        state = _State(self.template, node.name, self.out, self.budget)
        state.depth = self.depth + 1
        state.vars = [("$", value)]
        state.walk(value, tree)

    # --- evaluation --------------------------------------------------------------------------

    def eval_pipeline(self, dot: Any, pipe: n.PipeNode) -> Any:
        self.at(pipe)
        value: Any = _MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
            if value is None:
                value = NO_VALUE  # Go digs a nil interface{} down to an invalid value
        for variable in pipe.decl:
            if pipe.is_assign:
                self.set_var(variable.ident[0], value)
            else:
                self.push(variable.ident[0], value)
        return value

    def eval_command(self, dot: Any, cmd: n.CommandNode, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, n.FieldNode):
            self.at(first)
            return self.eval_field_chain(dot, dot, first, first.ident, cmd.args, final)
        if isinstance(first, n.ChainNode):
            return self.eval_chain(dot, first, cmd.args, final)
        if isinstance(first, n.IdentifierNode):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, n.PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, n.VariableNode):
            return self.eval_variable(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, n.BoolNode):
            return first.value
        if isinstance(first, n.DotNode):
            return dot
        if isinstance(first, n.NilNode):
            self.errorf("nil is not a command")
        if isinstance(first, n.NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, n.StringNode):
            return first.text
        self.errorf(f"can't evaluate command {quote(str(first))}")

    def not_a_function(self, args: list[n.Node], final: Any) -> None:
        if len(args) > 1 or final is not _MISSING:
            self.errorf(f"can't give argument to non-function {args[0]}")

    def ideal_constant(self, number: n.NumberNode) -> Any:
        self.at(number)
        text = number.text
        is_hex_int = text[:2].lower() == "0x" and "p" not in text.lower()
        if number.is_complex:
            return number.complex_value
        if (
            number.is_float
            and not is_hex_int
            and not text.startswith("'")
            and any(c in text for c in ".eEpP")
        ):
            return number.float_value
        if number.is_int:
            return number.int_value
        if number.is_uint:
            self.errorf(f"{text} overflows int")
        return NO_VALUE

    def eval_variable(self, dot: Any, var: n.VariableNode, args: list[n.Node], final: Any) -> Any:
        self.at(var)
        value = self.var_value(var.ident[0])
        if len(var.ident) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, var, var.ident[1:], args, final)

    def eval_chain(self, dot: Any, chain: n.ChainNode, args: list[n.Node], final: Any) -> Any:
        self.at(chain)
        if isinstance(chain.node, n.NilNode):
            self.errorf(f"indirection through explicit nil in {chain}")
        value = self.eval_arg(dot, None, chain.node)
        return self.eval_field_chain(dot, value, chain, chain.fields, args, final)

    def eval_field_chain(
        self,
        dot: Any,
        receiver: Any,
        node: n.Node,
        idents: list[str],
        args: list[n.Node] | None,
        final: Any,
    ) -> Any:
        boxed = receiver is dot and self.dot_boxed
        for ident in idents[:-1]:
            receiver = self.eval_field(dot, ident, node, None, _MISSING, receiver, boxed)
            boxed = True
        return self.eval_field(dot, idents[-1], node, args, final, receiver, boxed)

    def eval_field(
        self,
        dot: Any,
        name: str,
        node: n.Node,
        args: list[n.Node] | None,
        final: Any,
        receiver: Any,
        boxed: bool = False,
    ) -> Any:
        """One field step. `boxed`: the receiver was read out of a map or list, so Go sees it
        as interface{} (which shows in "can't evaluate field" errors)."""
        if receiver is NO_VALUE:
            if self.template.missingkey == "error":
                self.errorf(f"nil data; no entry for key {quote(name)}")
            return NO_VALUE
        if receiver is None:
            self.errorf(f"nil pointer evaluating interface {{}}.{name}")
        has_args = (args is not None and len(args) > 1) or final is not _MISSING
        if isinstance(receiver, GoStruct):
            method = receiver.go_method(name)
            if method is not None:
                return self.call(dot, Func(method, (), ANY), name, node, args, final)
            found, value = receiver.go_field(name)
            if found:
                if has_args:
                    self.errorf(f"{name} has arguments but cannot be invoked as function")
                return value
            self.errorf(f"can't evaluate field {name} in type {self.type_of(receiver, boxed)}")
        if isinstance(receiver, dict):
            if has_args:
                self.errorf(f"{name} is not a method but has arguments")
            if name in receiver:
                return receiver[name]
            if self.template.missingkey == "error":
                self.errorf(f"map has no entry for key {quote(name)}")
            if isinstance(receiver, StringMap) and self.template.missingkey == "zero":
                return ""
            return None if self.template.missingkey == "zero" else NO_VALUE
        self.errorf(f"can't evaluate field {name} in type {self.type_of(receiver, boxed)}")

    @staticmethod
    def type_of(value: Any, boxed: bool) -> str:
        return "interface {}" if boxed and not isinstance(value, GoStruct) else type_name(value)

    def eval_function(
        self, dot: Any, ident: n.IdentifierNode, cmd: n.Node, args: list[n.Node], final: Any
    ) -> Any:
        self.at(ident)
        func = self.template.funcs.get(ident.ident)
        if func is None:
            self.errorf(f"{quote(ident.ident)} is not a defined function")
        return self.call(dot, func, ident.ident, cmd, args, final)

    def call(
        self, dot: Any, func: Func, name: str, node: n.Node, args: list[n.Node] | None, final: Any
    ) -> Any:
        arg_nodes = args[1:] if args else []
        count = len(arg_nodes) + (0 if final is _MISSING else 1)
        fixed = len(func.params)
        if func.variadic is not None:
            if count < fixed:
                self.errorf(
                    f"wrong number of args for {name}: want at least {fixed} got {len(arg_nodes)}"
                )
        elif count != fixed:
            self.errorf(f"wrong number of args for {name}: want {fixed} got {count}")
        if func.builtin and name in ("and", "or"):
            return self.and_or(dot, name, arg_nodes, final)
        values: list[Any] = []
        for i, arg in enumerate(arg_nodes):
            param = func.params[i] if i < fixed else func.variadic
            values.append(self.eval_arg(dot, param, arg))
        if final is not _MISSING:
            index = count - 1
            param = func.params[index] if index < fixed else func.variadic
            values.append(self.validate_type(final, param))
        try:
            result = func.impl(*values)
        except (ExecError, _Break, _Continue):
            raise
        except FuncError as err:
            self.at(node)
            self.errorf(f"error calling {name}: {err}")
        except RecursionError:
            self.at(node)
            self.errorf(f"error calling {name}: recursion too deep")
        except Exception as err:  # a Go function that panics: text/template recovers it too
            self.at(node)
            self.errorf(f"error calling {name}: {err}")
        return result

    def and_or(self, dot: Any, name: str, arg_nodes: list[n.Node], final: Any) -> Any:
        value: Any = NO_VALUE
        for arg in arg_nodes:
            value = self.eval_arg(dot, VALUE, arg)
            if _truth_or_false(value) == (name == "or"):
                return value
        if final is not _MISSING:
            value = final
        return value

    # --- arguments ---------------------------------------------------------------------------

    def eval_arg(self, dot: Any, param: str | None, arg: n.Node) -> Any:
        self.at(arg)
        if isinstance(arg, n.DotNode):
            return self.validate_type(dot, param)
        if isinstance(arg, n.NilNode):
            if param == VALUE:
                return NO_VALUE  # the zero reflect.Value
            if param in (None, ANY) or _can_be_nil(param):
                return _zero_of(param)
            self.errorf(f"cannot assign nil to {param}")
        if isinstance(arg, n.FieldNode):
            value = self.eval_field_chain(dot, dot, arg, arg.ident, [arg], _MISSING)
            return self.validate_type(value, param)
        if isinstance(arg, n.VariableNode):
            return self.validate_type(self.eval_variable(dot, arg, [], _MISSING), param)
        if isinstance(arg, n.PipeNode):
            return self.validate_type(self.eval_pipeline(dot, arg), param)
        if isinstance(arg, n.IdentifierNode):
            return self.validate_type(self.eval_function(dot, arg, arg, [arg], _MISSING), param)
        if isinstance(arg, n.ChainNode):
            return self.validate_type(self.eval_chain(dot, arg, [], _MISSING), param)
        if param == "bool":
            if isinstance(arg, n.BoolNode):
                return arg.value
            self.errorf(f"expected bool; found {arg}")
        if param == "string":
            if isinstance(arg, n.StringNode):
                return arg.text
            self.errorf(f"expected string; found {arg}")
        if param in ("int", "int64"):
            if isinstance(arg, n.NumberNode) and arg.is_int:
                return arg.int_value
            self.errorf(f"expected integer; found {arg}")
        if param == "float64":
            if isinstance(arg, n.NumberNode) and arg.is_float:
                return arg.float_value
            self.errorf(f"expected float; found {arg}")
        if param in (None, ANY, VALUE):
            if isinstance(arg, n.BoolNode):
                return arg.value
            if isinstance(arg, n.NumberNode):
                return self.ideal_constant(arg)
            if isinstance(arg, n.StringNode):
                return arg.text
        self.errorf(f"can't handle {arg} for arg of type {param}")

    def validate_type(self, value: Any, param: str | None) -> Any:
        if param == VALUE:
            return value
        if value is NO_VALUE:
            if param is None:
                return NO_VALUE
            if param == ANY or _can_be_nil(param):
                return _zero_of(param)
            self.errorf(f"invalid value; expected {param}")
        if param in (None, ANY):
            return value
        if value is None:
            self.errorf(f"wrong type for value; expected {param}; got interface {{}}")
        if _assignable(value, param):
            return value
        self.errorf(f"wrong type for value; expected {param}; got {type_name(value)}")

    def execute(self, data: Any, tree: n.ListNode) -> None:
        data = NO_VALUE if data is None else data  # reflect.ValueOf(nil) is invalid
        self.vars = [("$", data)]
        self.walk(data, tree)


def _truth_or_false(value: Any) -> bool:
    try:
        return truth(value)
    except TypeError:
        return False


def _can_be_nil(param: str | None) -> bool:
    return param is not None and param.startswith(("[]", "map[", "*", "func", "interface"))


def _zero_of(param: str | None) -> Any:
    if param is None or param in (ANY, VALUE) or param.startswith(("*", "func", "interface")):
        return None
    if param.startswith("[]"):
        return NilSlice()
    return NilMap()


def _assignable(value: Any, param: str) -> bool:
    if param == "string":
        return isinstance(value, str)
    if param == "int":  # sprig's arithmetic returns int64, which Go does not pass as int
        return isinstance(value, int) and not isinstance(value, bool | Int64)
    if param == "int64":
        return isinstance(value, int) and not isinstance(value, bool)
    if param == "float64":
        return isinstance(value, float)
    if param == "bool":
        return isinstance(value, bool)
    if param == "[]interface {}":
        return isinstance(value, list | tuple)
    if param == "[]string":
        return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
    if param == "map[string]interface {}":
        return isinstance(value, dict) and not isinstance(value, StringMap)
    if param == "map[string]string":
        return isinstance(value, StringMap)
    return type_name(value) == param


def execute(template: Template, name: str, data: Any) -> str:
    tree = template.trees.get(name)
    if tree is None:
        raise ExecError(f"template: {name}: {quote(name)} is an incomplete or empty template")
    out: list[str] = []
    state = _State(template, name, out, template.limits.budget or Budget())
    state.execute(data, tree)
    return "".join(out)
