"""Go text/template's parser (text/template/parse/parse.go), producing the trees of `nodes`.

One `parse()` call yields every template the source defines: the main one under `name` and one
per `{{define}}`/`{{block}}`. Errors are Go's: `template: NAME:LINE: message`.
"""

from __future__ import annotations

from collections.abc import Callable, Container

from bot.core.failures import Failure
from bot.golang.strconv import quote
from bot.gotemplate import nodes as n
from bot.gotemplate.lexer import Item, Lexer, T


class ParseError(Failure):
    """A template Go would refuse to parse; the message is Go's."""


class _Tree:
    def __init__(
        self,
        name: str,
        parse_name: str,
        items: list[Item],
        index: int,
        funcs: Container[str],
        trees: dict[str, n.ListNode],
        text: str,
    ) -> None:
        self.name = name
        self.parse_name = parse_name
        self.items = items
        self.i = index
        self.funcs = funcs
        self.trees = trees
        self.text = text
        self.vars = ["$"]
        self.range_depth = 0
        self.action_line = 0
        self.last: Item = items[index] if index < len(items) else items[-1]
        self.root = n.ListNode(0)

    # --- tokens ------------------------------------------------------------------------------

    def next(self) -> Item:
        item = self.items[self.i] if self.i < len(self.items) else self.items[-1]
        self.i += 1
        self.last = item
        return item

    def backup(self, count: int = 1) -> None:
        self.i -= count

    def peek(self) -> Item:
        return self.items[self.i] if self.i < len(self.items) else self.items[-1]

    def next_non_space(self) -> Item:
        while True:
            item = self.next()
            if item.typ != T.SPACE:
                return item

    def peek_non_space(self) -> Item:
        item = self.next_non_space()
        self.backup()
        return item

    def errorf(self, message: str) -> ParseError:
        return ParseError(f"template: {self.parse_name}:{self.last.line}: {message}")

    def expect(self, expected: T, context: str) -> Item:
        token = self.next_non_space()
        if token.typ != expected:
            raise self.unexpected(token, context)
        return token

    def unexpected(self, token: Item, context: str) -> ParseError:
        if token.typ == T.ERROR:
            extra = ""
            if self.action_line and self.action_line != token.line:
                extra = f" in action started at {self.parse_name}:{self.action_line}"
                if token.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            return self.errorf(f"{token}{extra}")
        return self.errorf(f"unexpected {token} in {context}")

    # --- structure ---------------------------------------------------------------------------

    def parse(self) -> None:
        while self.peek().typ != T.EOF:
            if self.peek().typ == T.LEFT_DELIM:
                delim_index = self.i
                self.next()
                if self.next_non_space().typ == T.DEFINE:
                    self.parse_definition()
                    continue
                self.i = delim_index
            node = self.text_or_action()
            if isinstance(node, n.EndNode | n.ElseNode):
                raise self.errorf(f"unexpected {node}")
            self.root.nodes.append(node)
        self.add(self.name, self.root)

    def add(self, name: str, root: n.ListNode) -> None:
        existing = self.trees.get(name)
        if existing is None or _is_empty(existing):
            self.trees[name] = root
        elif not _is_empty(root):
            raise self.errorf(f"template: multiple definition of template {quote(name)}")

    def sub_tree(self, name: str) -> _Tree:
        sub = _Tree(name, self.parse_name, self.items, self.i, self.funcs, self.trees, self.text)
        return sub

    def parse_definition(self) -> None:
        context = "define clause"
        token = self.next_non_space()
        if token.typ not in (T.STRING, T.RAW_STRING):
            raise self.unexpected(token, context)
        name = _unquote(token.val, self)
        self.expect(T.RIGHT_DELIM, context)
        sub = self.sub_tree(name)
        sub.root, end = sub.item_list()
        if not isinstance(end, n.EndNode):
            raise sub.errorf(f"unexpected {end} in {context}")
        self.i = sub.i
        self.add(name, sub.root)

    def item_list(self) -> tuple[n.ListNode, n.Node]:
        node_list = n.ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ != T.EOF:
            node = self.text_or_action()
            if isinstance(node, n.EndNode | n.ElseNode):
                return node_list, node
            node_list.nodes.append(node)
        raise self.errorf("unexpected EOF")

    def text_or_action(self) -> n.Node:
        token = self.next_non_space()
        if token.typ == T.TEXT:
            return n.TextNode(token.pos, token.val)
        if token.typ == T.LEFT_DELIM:
            self.action_line = token.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        if token.typ == T.COMMENT:
            return n.CommentNode(token.pos, token.val)
        raise self.unexpected(token, "input")

    def action(self) -> n.Node:
        token = self.next_non_space()
        control: dict[T, Callable[[], n.Node]] = {
            T.BLOCK: self.block_control,
            T.BREAK: lambda: self.break_or_continue(token, "break"),
            T.CONTINUE: lambda: self.break_or_continue(token, "continue"),
            T.ELSE: self.else_control,
            T.END: self.end_control,
            T.IF: lambda: self.branch(n.IfNode, "if", allow_else_if=True),
            T.RANGE: lambda: self.branch(n.RangeNode, "range"),
            T.TEMPLATE: self.template_control,
            T.WITH: lambda: self.branch(n.WithNode, "with", allow_else_if=True),
        }
        if token.typ in control:
            return control[token.typ]()
        self.backup()
        token = self.peek()
        return n.ActionNode(token.pos, token.line, self.pipeline("command", T.RIGHT_DELIM))

    def break_or_continue(self, keyword: Item, word: str) -> n.Node:
        token = self.next_non_space()
        if token.typ != T.RIGHT_DELIM:
            raise self.unexpected(token, "{{" + word + "}}")
        if self.range_depth == 0:
            raise self.errorf("{{" + word + "}} outside {{range}}")
        node_type = n.BreakNode if word == "break" else n.ContinueNode
        return node_type(keyword.pos, keyword.line)

    def branch(
        self, node_type: type[n.BranchNode], context: str, *, allow_else_if: bool = False
    ) -> n.Node:
        saved_vars = len(self.vars)
        try:
            pipe = self.pipeline(context, T.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            body, end = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list = None
            if isinstance(end, n.ElseNode):
                # "{{else if x}}" (and since Go 1.23 "{{else with x}}") nests a branch that
                # shares the outer {{end}}.
                follow = self.peek().typ
                if allow_else_if and follow == (T.IF if context == "if" else T.WITH):
                    self.next()
                    else_list = n.ListNode(end.pos)
                    else_list.nodes.append(self.branch(node_type, context, allow_else_if=True))
                else:
                    else_list, end = self.item_list()
                    if not isinstance(end, n.EndNode):
                        raise self.errorf(f"expected end; found {end}")
            return node_type(pipe.pos, pipe.line, pipe, body, else_list)
        finally:
            del self.vars[saved_vars:]

    def else_control(self) -> n.Node:
        peek = self.peek_non_space()
        if peek.typ in (T.IF, T.WITH):
            return n.ElseNode(peek.pos, peek.line)
        token = self.expect(T.RIGHT_DELIM, "else")
        return n.ElseNode(token.pos, token.line)

    def end_control(self) -> n.Node:
        return n.EndNode(self.expect(T.RIGHT_DELIM, "end").pos)

    def block_control(self) -> n.Node:
        context = "block clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = self.pipeline(context, T.RIGHT_DELIM)
        sub = self.sub_tree(name)
        sub.root, end = sub.item_list()
        if not isinstance(end, n.EndNode):
            raise self.errorf(f"unexpected {end} in {context}")
        self.i = sub.i
        self.add(name, sub.root)
        return n.TemplateNode(token.pos, token.line, name, pipe)

    def template_control(self) -> n.Node:
        context = "template clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = None
        if self.next_non_space().typ != T.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, T.RIGHT_DELIM)
        return n.TemplateNode(token.pos, token.line, name, pipe)

    def template_name(self, token: Item, context: str) -> str:
        if token.typ in (T.STRING, T.RAW_STRING):
            return _unquote(token.val, self)
        raise self.unexpected(token, context)

    # --- pipelines ---------------------------------------------------------------------------

    def pipeline(self, context: str, end: T) -> n.PipeNode:
        token = self.peek_non_space()
        pipe = n.PipeNode(token.pos, token.line)
        self.declarations(pipe, context)
        while True:
            token = self.next_non_space()
            if token.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if token.typ in _OPERAND_START:
                self.backup()
                pipe.cmds.append(self.command())
            else:
                raise self.unexpected(token, context)

    def declarations(self, pipe: n.PipeNode, context: str) -> None:
        """`$x :=`, `$x =` and range's `$i, $v :=`; anything else is put back untouched."""
        while True:
            variable = self.peek_non_space()
            if variable.typ != T.VARIABLE:
                return
            mark = self.i
            self.next()
            following = self.peek_non_space()
            if following.typ in (T.ASSIGN, T.DECLARE):
                pipe.is_assign = following.typ == T.ASSIGN
                self.next_non_space()
                pipe.decl.append(n.VariableNode(variable.pos, [variable.val]))
                self.vars.append(variable.val)
                return
            if following.typ == T.CHAR and following.val == ",":
                self.next_non_space()
                pipe.decl.append(n.VariableNode(variable.pos, [variable.val]))
                self.vars.append(variable.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (T.VARIABLE, T.RIGHT_DELIM, T.RIGHT_PAREN):
                        continue
                    raise self.errorf("range can only initialize variables")
                raise self.errorf(f"too many declarations in {context}")
            self.i = mark
            return

    def check_pipeline(self, pipe: n.PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.errorf(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], n.BoolNode | n.DotNode | n.NilNode | n.NumberNode):
                raise self.errorf(f"non executable command in pipeline stage {i + 2}")
            if isinstance(cmd.args[0], n.StringNode):
                raise self.errorf(f"non executable command in pipeline stage {i + 2}")

    def command(self) -> n.CommandNode:
        cmd = n.CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            token = self.next()
            if token.typ == T.SPACE:
                continue
            if token.typ in (T.RIGHT_DELIM, T.RIGHT_PAREN):
                self.backup()
            elif token.typ != T.PIPE:
                raise self.unexpected(token, "operand")
            break
        if not cmd.args:
            raise self.errorf("empty command")
        return cmd

    def operand(self) -> n.Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == T.FIELD:
            chain = n.ChainNode(self.peek().pos, node)
            while self.peek().typ == T.FIELD:
                chain.fields.append(self.next().val[1:])
            if isinstance(node, n.FieldNode):
                return n.FieldNode(chain.pos, node.ident + chain.fields)
            if isinstance(node, n.VariableNode):
                return n.VariableNode(chain.pos, node.ident + chain.fields)
            if isinstance(node, n.BoolNode | n.StringNode | n.NumberNode | n.NilNode | n.DotNode):
                from bot.golang.strconv import quote

                raise self.errorf(f"unexpected . after term {quote(str(node))}")
            return chain
        return node

    def term(self) -> n.Node | None:
        token = self.next_non_space()
        typ = token.typ
        if typ == T.IDENTIFIER:
            if token.val not in self.funcs:
                raise self.errorf(f'function "{token.val}" not defined')
            return n.IdentifierNode(token.pos, token.val)
        if typ == T.DOT:
            return n.DotNode(token.pos)
        if typ == T.NIL:
            return n.NilNode(token.pos)
        if typ == T.VARIABLE:
            return self.use_var(token)
        if typ == T.FIELD:
            return n.FieldNode(token.pos, [token.val[1:]])
        if typ == T.BOOL:
            return n.BoolNode(token.pos, token.val == "true")
        if typ in (T.CHAR_CONSTANT, T.COMPLEX, T.NUMBER):
            return _number(token, self)
        if typ == T.LEFT_PAREN:
            return self.pipeline("parenthesized pipeline", T.RIGHT_PAREN)
        if typ in (T.STRING, T.RAW_STRING):
            return n.StringNode(token.pos, token.val, _unquote(token.val, self))
        self.backup()
        return None

    def use_var(self, token: Item) -> n.Node:
        ident = token.val.split(".")
        if ident[0] not in self.vars:
            raise self.errorf(f'undefined variable "{ident[0]}"')
        return n.VariableNode(token.pos, ident)


_OPERAND_START = {
    T.BOOL, T.CHAR_CONSTANT, T.COMPLEX, T.DOT, T.FIELD, T.IDENTIFIER, T.NUMBER, T.NIL,
    T.RAW_STRING, T.STRING, T.VARIABLE, T.LEFT_PAREN,
}  # fmt: skip


def _is_empty(node: n.Node) -> bool:
    """parse.IsEmptyTree: only whitespace text, comments and empty lists."""
    if isinstance(node, n.ListNode):
        return all(_is_empty(child) for child in node.nodes)
    if isinstance(node, n.TextNode):
        return not node.text.strip()
    return isinstance(node, n.CommentNode)


def _unquote(quoted: str, tree: _Tree) -> str:
    if quoted.startswith("`"):
        return quoted[1:-1].replace("\r", "")
    try:
        return go_unquote(quoted)
    except ValueError as err:
        raise tree.errorf(str(err)) from None


def go_unquote(quoted: str) -> str:
    """strconv.Unquote for a double-quoted Go string literal."""
    body = quoted[1:-1]
    out: list[str] = []
    i = 0
    simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
              "\\": "\\", '"': '"'}  # fmt: skip
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        esc = body[i + 1] if i + 1 < len(body) else ""
        if esc in simple:
            out.append(simple[esc])
            i += 2
        elif esc in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[esc]
            digits = body[i + 2 : i + 2 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise ValueError("invalid syntax")
            code = int(digits, 16)
            if esc == "x":
                out.append(chr(code))
            else:
                if code > 0x10FFFF or 0xD800 <= code < 0xE000:
                    raise ValueError("invalid syntax")
                out.append(chr(code))
            i += 2 + width
        elif esc in "01234567" and esc:
            digits = body[i + 1 : i + 4]
            if len(digits) != 3 or not all(c in "01234567" for c in digits) or int(digits, 8) > 255:
                raise ValueError("invalid syntax")
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            raise ValueError("invalid syntax")
    return "".join(out)


def _number(token: Item, tree: _Tree) -> n.NumberNode:
    text = token.val
    node = n.NumberNode(token.pos, text)
    if token.typ == T.CHAR_CONSTANT:
        # strconv.UnquoteChar reads one (possibly escaped) character; the rest must be "'".
        body = text[1:]
        if body.startswith("'"):
            raise tree.errorf("invalid syntax")
        width = 1
        if body.startswith("\\"):
            esc = body[1:2]
            width = {"x": 4, "u": 6, "U": 10}.get(esc, 4 if esc in "01234567" else 2)
        try:
            # In a character constant `\'` is a quote and `\"` is no escape (UnquoteChar with
            # quote '\'').
            if body[:width] == "\\'":
                value = "'"
            elif body[:width] == '\\"':
                raise ValueError("invalid syntax")
            elif body[:width] == '"':
                value = '"'
            else:
                value = go_unquote('"' + body[:width] + '"')
        except ValueError:
            raise tree.errorf("invalid syntax") from None
        if body[width:] != "'":
            raise tree.errorf(f"malformed character constant: {text}")
        code = ord(value)
        node.is_int = node.is_uint = node.is_float = True
        node.int_value, node.float_value = code, float(code)
        return node
    if token.typ == T.COMPLEX:
        try:
            node.complex_value = complex(text.replace("_", "").replace("i", "j"))
        except ValueError:
            raise tree.errorf(f"illegal number syntax: {text}") from None
        node.is_complex = True
        _simplify_complex(node)
        return node
    if text.endswith("i"):
        try:
            imag = float(_go_float_text(text[:-1]))
        except ValueError:
            raise tree.errorf(f'illegal number syntax: "{text}"') from None
        node.is_complex, node.complex_value = True, complex(0, imag)
        _simplify_complex(node)
        return node
    integer = _go_int(text)
    if integer is not None:
        in_int64 = -(2**63) <= integer < 2**63
        in_uint64 = 0 <= integer < 2**64
        if in_int64 or in_uint64:
            node.is_int, node.is_uint = in_int64, in_uint64
            node.int_value, node.is_float, node.float_value = integer, True, float(integer)
            return node
    try:
        number = float(_go_float_text(text))
    except ValueError:
        raise tree.errorf(f'illegal number syntax: "{text}"') from None
    if not any(c in text for c in ".eEpP"):
        raise tree.errorf(f'integer overflow: "{text}"')
    node.is_float, node.float_value = True, number
    if number.is_integer() and -(2**63) <= number < 2**63:
        node.is_int, node.int_value = True, int(number)
    if number.is_integer() and 0 <= number < 2**64:
        node.is_uint, node.int_value = True, int(number)
    return node


def _simplify_complex(node: n.NumberNode) -> None:
    if node.complex_value.imag == 0:
        value = node.complex_value.real
        node.is_float, node.float_value = True, value
        if value.is_integer():
            node.is_int = -(2**63) <= value < 2**63
            node.is_uint = 0 <= value < 2**64
            node.int_value = int(value)


def _go_int(text: str) -> int | None:
    """strconv.ParseInt/ParseUint with base 0, underscores allowed only with a base prefix."""
    body = text.lstrip("+-")
    sign = -1 if text.startswith("-") else 1
    if text[:1] in "+-" and text[1:2] in "+-":
        return None
    lowered = body.lower()
    base = 10
    if lowered.startswith(("0x", "0o", "0b")):
        base, body = {"x": 16, "o": 8, "b": 2}[lowered[1]], body[2:]
        body = body.removeprefix("_")
    elif len(body) > 1 and body[0] == "0":
        base, body = 8, body[1:].removeprefix("_")
    elif "_" in body:
        return (
            None
            if body.startswith("_") or body.endswith("_") or "__" in body
            else _go_int(text.replace("_", ""))
        )
    if not body or body.startswith("_") or body.endswith("_") or "__" in body:
        return None
    if not body.replace("_", "").isalnum() or not body.isascii():  # int() would skip spaces
        return None
    try:
        return sign * int(body.replace("_", ""), base)
    except ValueError:
        return None


def _go_float_text(text: str) -> str:
    """Go float literal text to something Python's float() reads (hex floats included)."""
    digits = text.lstrip("+-")
    if "_" in text and (
        "__" in digits
        or digits.startswith("_")
        or digits.endswith("_")
        or any(f"{a}_" in digits.lower() or f"_{a}" in digits.lower() for a in ".ep")
    ):
        raise ValueError(text)
    body = text.replace("_", "")
    lowered = body.lower().lstrip("+-")
    if lowered.startswith("0x"):
        return str(float.fromhex(body))
    if lowered in ("inf", "infinity", "nan") or not body:
        raise ValueError(text)
    return body


def parse(
    name: str, text: str, funcs: Container[str], left: str = "{{", right: str = "}}"
) -> dict[str, n.ListNode]:
    """All templates defined by `text`, the main one under `name`."""
    lexer = Lexer(name, text, left, right)
    items = lexer.run()
    trees: dict[str, n.ListNode] = {}
    tree = _Tree(name, name, items, 0, funcs, trees, text)
    tree.parse()
    return trees
