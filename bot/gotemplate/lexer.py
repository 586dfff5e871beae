"""Go text/template's lexer (text/template/parse/lex.go), ported state for state.

Items carry their byte-free position as a character offset and a 1-based line, like Go's. The
error texts are Go's, because they end up in messages users compare with the Go tool's.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from bot.golang.strconv import quote

StateFn: TypeAlias = Callable[[], "StateFn | None"]


class T(enum.IntEnum):
    ERROR = 0
    BOOL = 1
    CHAR = 2
    CHAR_CONSTANT = 3
    COMMENT = 4
    COMPLEX = 5
    ASSIGN = 6
    DECLARE = 7
    EOF = 8
    FIELD = 9
    IDENTIFIER = 10
    LEFT_DELIM = 11
    LEFT_PAREN = 12
    NUMBER = 13
    PIPE = 14
    RAW_STRING = 15
    RIGHT_DELIM = 16
    RIGHT_PAREN = 17
    SPACE = 18
    STRING = 19
    TEXT = 20
    VARIABLE = 21
    KEYWORD = 22  # keywords sort after this one
    BLOCK = 23
    BREAK = 24
    CONTINUE = 25
    DOT = 26
    DEFINE = 27
    ELSE = 28
    END = 29
    IF = 30
    NIL = 31
    RANGE = 32
    TEMPLATE = 33
    WITH = 34


KEYWORDS = {
    ".": T.DOT,
    "block": T.BLOCK,
    "break": T.BREAK,
    "continue": T.CONTINUE,
    "define": T.DEFINE,
    "else": T.ELSE,
    "end": T.END,
    "if": T.IF,
    "range": T.RANGE,
    "nil": T.NIL,
    "template": T.TEMPLATE,
    "with": T.WITH,
}

_SPACE = " \t\r\n"
_TRIM = "-"
_TRIM_LEN = 2  # the marker and the space next to it
_LEFT_COMMENT = "/*"
_RIGHT_COMMENT = "*/"


@dataclass(frozen=True)
class Item:
    typ: T
    pos: int
    val: str
    line: int

    def __str__(self) -> str:
        """Item.String() as Go writes it into "unexpected ..." errors."""
        if self.typ == T.EOF:
            return "EOF"
        if self.typ == T.ERROR:
            return self.val
        if self.typ > T.KEYWORD:
            return f"<{self.val}>"
        if len(self.val) > 10:
            # %.10q: quote the first ten runes.
            return quote(self.val[:10]) + "..."
        return quote(self.val)


def _is_alnum(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch.isdigit()


class Lexer:
    """Produces all items of a template at once (Go's goroutine-free lexer of Go 1.20+)."""

    def __init__(
        self,
        name: str,
        text: str,
        left: str = "{{",
        right: str = "}}",
        *,
        break_ok: bool = True,
        continue_ok: bool = True,
    ) -> None:
        self.name = name
        self.input = text
        self.left = left or "{{"
        self.right = right or "}}"
        self.pos = 0
        self.start = 0
        self.paren_depth = 0
        self._newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self.break_ok = break_ok
        self.continue_ok = continue_ok
        self.items: list[Item] = []
        self.inside_action = False

    # --- scanning primitives ---------------------------------------------------------------

    def line_at(self, pos: int) -> int:
        return 1 + bisect.bisect_left(self._newlines, pos)

    def next(self) -> str:
        if self.pos >= len(self.input):
            self.pos += 1  # mirror Go: backup() after EOF must be harmless
            return ""
        ch = self.input[self.pos]
        self.pos += 1
        return ch

    def peek(self) -> str:
        return self.input[self.pos] if self.pos < len(self.input) else ""

    def backup(self) -> None:
        self.pos -= 1

    def emit(self, typ: T) -> None:
        value = self.input[self.start : self.pos]
        self.items.append(Item(typ, self.start, value, self.line_at(self.start)))
        self.start = self.pos

    def ignore(self) -> None:
        self.start = self.pos

    def accept(self, valid: str) -> bool:
        ch = self.next()
        if ch and ch in valid:
            return True
        self.backup()
        return False

    def accept_run(self, valid: str) -> None:
        while True:
            ch = self.next()
            if not ch or ch not in valid:
                break
        self.backup()

    def errorf(self, message: str) -> None:
        self.items.append(Item(T.ERROR, self.start, message, self.line_at(self.start)))
        self.start = len(self.input)
        self.pos = len(self.input)

    # --- driver ------------------------------------------------------------------------------

    def run(self) -> list[Item]:
        state: StateFn | None = self.lex_text
        while state is not None:
            state = state()
            if self.items and self.items[-1].typ in (T.ERROR, T.EOF):
                break
        return self.items

    # --- states ------------------------------------------------------------------------------

    def lex_text(self) -> StateFn | None:
        x = self.input.find(self.left, self.pos)
        if x >= 0:
            if x > self.pos:
                self.pos = x
                text = self.input[self.start : self.pos]
                trim = 0
                if _has_left_trim(self.input[x + len(self.left) :]):
                    trim = len(text) - len(text.rstrip(_SPACE))
                self.pos -= trim
                if self.pos > self.start:  # Go drops a text item that trimming emptied
                    self.emit(T.TEXT)
                self.pos += trim
                self.ignore()
            return self.lex_left_delim
        self.pos = len(self.input)
        if self.pos > self.start:
            self.emit(T.TEXT)
        self.emit(T.EOF)
        return None

    def lex_left_delim(self) -> StateFn | None:
        self.pos += len(self.left)
        trim = _has_left_trim(self.input[self.pos :])
        after = _TRIM_LEN if trim else 0
        if self.input[self.pos + after :].startswith(_LEFT_COMMENT):
            self.pos += after
            self.ignore()
            return self.lex_comment
        self.emit(T.LEFT_DELIM)
        self.pos += after
        self.ignore()
        self.paren_depth = 0
        return self.lex_inside_action

    def lex_comment(self) -> StateFn | None:
        self.pos += len(_LEFT_COMMENT)
        x = self.input.find(_RIGHT_COMMENT, self.pos)
        if x < 0:
            self.errorf("unclosed comment")
            return None
        self.pos = x + len(_RIGHT_COMMENT)
        delim, trim = self.at_right_delim()
        if not delim:
            self.errorf("comment ends before closing delimiter")
            return None
        self.emit(T.COMMENT)
        if trim:
            self.pos += _TRIM_LEN
        self.pos += len(self.right)
        if trim:
            self.pos += _left_trim_length(self.input[self.pos :])
        self.ignore()
        return self.lex_text

    def lex_right_delim(self) -> StateFn | None:
        _, trim = self.at_right_delim()
        if trim:
            self.pos += _TRIM_LEN
            self.ignore()
        self.pos += len(self.right)
        self.emit(T.RIGHT_DELIM)
        if trim:
            self.pos += _left_trim_length(self.input[self.pos :])
            self.ignore()
        return self.lex_text

    def at_right_delim(self) -> tuple[bool, bool]:
        rest = self.input[self.pos :]
        if _has_right_trim(rest) and rest[_TRIM_LEN:].startswith(self.right):
            return True, True
        if rest.startswith(self.right):
            return True, False
        return False, False

    def lex_inside_action(self) -> StateFn | None:
        delim, _ = self.at_right_delim()
        if delim:
            if self.paren_depth == 0:
                return self.lex_right_delim
            self.errorf("unclosed left paren")
            return None
        ch = self.next()
        if ch == "":
            self.errorf("unclosed action")
            return None
        if ch in _SPACE:
            self.backup()
            return self.lex_space
        if ch == "=":
            self.emit(T.ASSIGN)
        elif ch == ":":
            if self.next() != "=":
                self.errorf("expected :=")
                return None
            self.emit(T.DECLARE)
        elif ch == "|":
            self.emit(T.PIPE)
        elif ch == '"':
            return self.lex_quote
        elif ch == "`":
            return self.lex_raw_quote
        elif ch == "$":
            return self.lex_variable
        elif ch == "'":
            return self.lex_char
        elif ch == "." and not ("0" <= self.peek() <= "9" and self.peek() != ""):
            return self.lex_field
        elif ch in "+-." or "0" <= ch <= "9":
            self.backup()
            return self.lex_number
        elif _is_alnum(ch):
            self.backup()
            return self.lex_identifier
        elif ch == "(":
            self.emit(T.LEFT_PAREN)
            self.paren_depth += 1
        elif ch == ")":
            self.emit(T.RIGHT_PAREN)
            self.paren_depth -= 1
            if self.paren_depth < 0:
                self.errorf("unexpected right paren")
                return None
        elif ord(ch) < 0x80 and ch.isprintable():
            self.emit(T.CHAR)
        else:
            self.errorf(f"unrecognized character in action: {_go_rune(ch)}")
            return None
        return self.lex_inside_action

    def lex_space(self) -> StateFn | None:
        spaces = 0
        while True:
            ch = self.peek()
            if not ch or ch not in _SPACE:
                break
            self.next()
            spaces += 1
        # A trim-marked right delimiter starts with a space: leave that space to it.
        rest = self.input[self.pos - 1 :]
        if _has_right_trim(rest) and rest[_TRIM_LEN:].startswith(self.right):
            self.backup()
            if spaces == 1:
                return self.lex_right_delim
        self.emit(T.SPACE)
        return self.lex_inside_action

    def lex_identifier(self) -> StateFn | None:
        while True:
            ch = self.next()
            if ch and _is_alnum(ch):
                continue
            self.backup()
            word = self.input[self.start : self.pos]
            if not self.at_terminator():
                self.errorf(f"bad character {_go_rune(ch)}")
                return None
            keyword = KEYWORDS.get(word)
            if keyword is not None and keyword > T.KEYWORD:
                if (keyword == T.BREAK and not self.break_ok) or (
                    keyword == T.CONTINUE and not self.continue_ok
                ):
                    self.emit(T.IDENTIFIER)
                else:
                    self.emit(keyword)
            elif word[0] == ".":
                self.emit(T.FIELD)
            elif word in ("true", "false"):
                self.emit(T.BOOL)
            else:
                self.emit(T.IDENTIFIER)
            return self.lex_inside_action

    def lex_field(self) -> StateFn | None:
        return self.lex_field_or_variable(T.FIELD)

    def lex_variable(self) -> StateFn | None:
        if self.at_terminator():
            self.emit(T.VARIABLE)
            return self.lex_inside_action
        return self.lex_field_or_variable(T.VARIABLE)

    def lex_field_or_variable(self, typ: T) -> StateFn | None:
        if self.at_terminator():
            self.emit(T.VARIABLE if typ == T.VARIABLE else T.DOT)
            return self.lex_inside_action
        while True:
            ch = self.next()
            if not (ch and _is_alnum(ch)):
                self.backup()
                break
        if not self.at_terminator():
            self.errorf(f"bad character {_go_rune(self.peek())}")
            return None
        self.emit(typ)
        return self.lex_inside_action

    def at_terminator(self) -> bool:
        ch = self.peek()
        if ch == "" or ch in _SPACE or ch in ".,|:()":
            return True
        return self.input.startswith(self.right, self.pos)

    def lex_char(self) -> StateFn | None:
        return self.lex_escaped("'", T.CHAR_CONSTANT, "unterminated character constant")

    def lex_number(self) -> StateFn | None:
        if not self.scan_number():
            self.errorf(f"bad number syntax: {quote(self.input[self.start : self.pos])}")
            return None
        if self.peek() in ("+", "-") and self.peek() != "":
            # A complex number: 1+2i.
            if not self.scan_number() or self.input[self.pos - 1] != "i":
                text = self.input[self.start : self.pos]
                self.errorf(f"bad number syntax: {quote(text)}")
                return None
            self.emit(T.COMPLEX)
        else:
            self.emit(T.NUMBER)
        return self.lex_inside_action

    def scan_number(self) -> bool:
        self.accept("+-")
        digits = "0123456789_"
        if self.accept("0"):
            if self.accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self.accept("oO"):
                digits = "01234567_"
            elif self.accept("bB"):
                digits = "01_"
        self.accept_run(digits)
        if self.accept("."):
            self.accept_run(digits)
        if len(digits) == 10 + 1 and self.accept("eE"):
            self.accept("+-")
            self.accept_run("0123456789_")
        if len(digits) == 16 + 6 + 1 and self.accept("pP"):
            self.accept("+-")
            self.accept_run("0123456789_")
        self.accept("i")
        if self.peek() and _is_alnum(self.peek()):
            self.next()
            return False
        return True

    def lex_quote(self) -> StateFn | None:
        return self.lex_escaped('"', T.STRING, "unterminated quoted string")

    def lex_escaped(self, quote: str, typ: T, unterminated: str) -> StateFn | None:
        """A quoted string or character constant: backslash escapes, no raw newlines."""
        while True:
            ch = self.next()
            if ch == "\\":
                if self.next() not in ("", "\n"):
                    continue
                ch = ""
            if ch in ("", "\n"):
                self.errorf(unterminated)
                return None
            if ch == quote:
                break
        self.emit(typ)
        return self.lex_inside_action

    def lex_raw_quote(self) -> StateFn | None:
        while True:
            ch = self.next()
            if ch == "":
                self.errorf("unterminated raw quoted string")
                return None
            if ch == "`":
                break
        self.emit(T.RAW_STRING)
        return self.lex_inside_action


def _has_left_trim(rest: str) -> bool:
    return len(rest) >= 2 and rest[0] == _TRIM and rest[1] in _SPACE


def _has_right_trim(rest: str) -> bool:
    return len(rest) >= 2 and rest[0] in _SPACE and rest[1] == _TRIM


def _left_trim_length(rest: str) -> int:
    return len(rest) - len(rest.lstrip(_SPACE))


def _go_rune(ch: str) -> str:
    """fmt's %#U: U+0041 'A'."""
    if not ch:
        return "U+FFFFFFFF"  # Go's eof rune (-1) printed with %#U
    code = ord(ch)
    return f"U+{code:04X} '{ch}'" if ch.isprintable() else f"U+{code:04X}"
