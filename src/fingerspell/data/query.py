"""A small query language over a dataset's metadata, compiled to parameterised SQL.

Examples::

    label == "A"
    instances > 1
    label in ("M", "N") and signer == "hand2"
    width < 100
    not split == "test"
    source contains "A0_" or (split == null and boxes >= 1)

Grammar (keywords are case-insensitive)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" expr ")" | comparison
    comparison := FIELD OP value
                | FIELD ["not"] "in" "(" value ("," value)* ")"
                | FIELD ["not"] ("contains" | "startswith") STRING
    OP         := "==" | "=" | "!=" | "<" | "<=" | ">" | ">="
    value      := STRING | NUMBER | "null"

The text is tokenised and parsed by hand here -- never `eval`'d -- and every literal becomes a
`?` placeholder, so a query can only ever read the `samples` table through the WHERE fragment
this module writes. Comparisons are two-valued: a missing value (NULL, e.g. a sample with no
split yet) makes a comparison false rather than unknown, so `not split == "test"` includes the
samples that have no split.
"""
from __future__ import annotations

import contextlib
import difflib
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fingerspell.errors import QuerySyntaxError

# user-facing field name -> (column, kind). Aliases map to the same column.
FIELDS: dict[str, tuple[str, str]] = {
    "id": ("id", "number"),
    "label": ("label", "text"),
    "letter": ("label", "text"),
    "original_label": ("original_label", "text"),
    "split": ("split", "text"),
    "original_split": ("original_split", "text"),
    "signer": ("signer", "text"),
    "group": ("signer", "text"),
    "width": ("width", "number"),
    "height": ("height", "number"),
    "instances": ("instances", "number"),
    "boxes": ("instances", "number"),
    "source": ("source", "text"),
    "row": ("row", "number"),
    "hash": ("hash", "text"),
    "phash": ("phash", "text"),
}
# Labels, splits and signers compare without regard to case: no dataset has two classes that
# differ only by case, and `label == "a"` on Massey (stored upper-case) should still work.
NOCASE_COLUMNS = {"label", "original_label", "split", "original_split", "signer"}
KEYWORDS = {"and", "or", "not", "in", "contains", "startswith", "null"}
COMPARISONS = {"==": "IS", "=": "IS", "!=": "IS NOT", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# Limits that keep a query inside what Python's recursion and SQLite's parser (a 100-entry
# stack, expression trees at most 1000 deep, at most 999 `?` in old builds) accept, far
# above anything a person types; past them the query is refused with one line.
MAX_DEPTH = 24  # nested parentheses and `not`s
MAX_COMPARISONS = 200
MAX_VALUES = 900  # `?` placeholders in all
MAX_QUERY_LENGTH = 20_000
INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class Token:
    kind: str  # name, string, number, op, lparen, rparen, comma, end
    text: str
    column: int  # 1-based position in the expression
    value: Any = None


_NUMBER = re.compile(r"-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def tokenize(expr: str) -> list[Token]:
    """Split `expr` into tokens. Raises QuerySyntaxError at the first character that fits no token."""
    tokens: list[Token] = []
    i, n = 0, len(expr)
    while i < n:
        ch = expr[i]
        col = i + 1
        if ch.isspace():
            i += 1
            continue
        if ch in "'\"":
            j, chars = i + 1, []
            while j < n and expr[j] != ch:
                if expr[j] == "\\" and j + 1 < n:  # \" and \\ inside a string
                    j += 1
                chars.append(expr[j])
                j += 1
            if j >= n:
                raise QuerySyntaxError(f"unterminated string starting at column {col}")
            tokens.append(Token("string", expr[i : j + 1], col, "".join(chars)))
            i = j + 1
            continue
        m = _NUMBER.match(expr, i)
        if m and (ch != "-" or not tokens or tokens[-1].kind in ("op", "lparen", "comma")):
            text = m.group(0)
            if any(c in text for c in ".eE"):
                value = float(text)
                if value != value or value in (float("inf"), float("-inf")):
                    raise QuerySyntaxError(f"number {text[:30]} at column {col} is out of range")
            else:
                value = int(text)
                if not INT64[0] <= value <= INT64[1]:
                    raise QuerySyntaxError(f"number {text[:30]}{'...' if len(text) > 30 else ''} at column {col} "
                                           "is out of range (whole numbers are 64-bit)")
            tokens.append(Token("number", text, col, value))
            i = m.end()
            continue
        m = _NAME.match(expr, i)
        if m:
            tokens.append(Token("name", m.group(0), col))
            i = m.end()
            continue
        two = expr[i : i + 2]
        if two in ("==", "!=", "<=", ">="):
            tokens.append(Token("op", two, col))
            i += 2
            continue
        if ch in "<>=":
            tokens.append(Token("op", ch, col))
            i += 1
            continue
        simple = {"(": "lparen", ")": "rparen", ",": "comma"}
        if ch in simple:
            tokens.append(Token(simple[ch], ch, col))
            i += 1
            continue
        raise QuerySyntaxError(f"unexpected character {ch!r} at column {col}")
    tokens.append(Token("end", "", n + 1))
    return tokens


class _Parser:
    """Recursive descent over the token list, emitting SQL text and parameters."""

    def __init__(self, expr: str):
        self.expr = expr
        self.tokens = tokenize(expr)
        self.pos = 0
        self.params: list[Any] = []
        self.depth = 0
        self.comparisons = 0

    # ---- token helpers ---------------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def is_keyword(self, word: str) -> bool:
        tok = self.peek()
        return tok.kind == "name" and tok.text.lower() == word

    def fail(self, what: str, tok: Token | None = None) -> QuerySyntaxError:
        tok = tok or self.peek()
        found = "end of query" if tok.kind == "end" else repr(tok.text if len(tok.text) <= 40 else tok.text[:37] + "...")
        return QuerySyntaxError(f"expected {what} at column {tok.column}, found {found}")

    def add_param(self, value: Any) -> None:
        if len(self.params) >= MAX_VALUES:
            raise QuerySyntaxError(f"query has more than {MAX_VALUES} values")
        self.params.append(value)

    # ---- grammar ------------------------------------------------------------------------------
    def parse(self) -> str:
        if self.peek().kind == "end":
            raise QuerySyntaxError("empty query; example: label == \"A\"")
        sql = self.or_expr()
        if self.peek().kind != "end":
            raise self.fail("'and', 'or' or the end of the query")
        return sql

    def or_expr(self) -> str:
        parts = [self.and_expr()]
        while self.is_keyword("or"):
            self.next()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def and_expr(self) -> str:
        parts = [self.not_expr()]
        while self.is_keyword("and"):
            self.next()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def nest(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(f"query nests deeper than {MAX_DEPTH} parentheses / 'not's (column {tok.column})")

    def not_expr(self) -> str:
        if self.is_keyword("not"):
            self.nest(self.next())
            inner = self.not_expr()
            self.depth -= 1
            return f"(NOT {inner})"
        if self.peek().kind == "lparen":
            self.nest(self.next())
            inner = self.or_expr()
            if self.peek().kind != "rparen":
                raise self.fail("')'")
            self.next()
            self.depth -= 1
            return inner
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise QuerySyntaxError(f"query has more than {MAX_COMPARISONS} comparisons (column {self.peek().column}); "
                                   "use 'in (...)' for a list of values")
        return self.comparison()

    def field(self) -> tuple[str, str, str]:
        tok = self.next()
        if tok.kind != "name" or tok.text.lower() in KEYWORDS:
            raise self.fail("a field name (" + ", ".join(FIELDS) + ")", tok)
        name = tok.text.lower()
        if name not in FIELDS:
            close = difflib.get_close_matches(name, list(FIELDS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise QuerySyntaxError(
                f"unknown field {tok.text!r} at column {tok.column}{hint}; fields: {', '.join(FIELDS)}"
            )
        column, kind = FIELDS[name]
        return name, column, kind

    def value(self, name: str, kind: str, allow_null: bool) -> Any:
        tok = self.next()
        if tok.kind == "name" and tok.text.lower() == "null":
            if not allow_null:
                raise QuerySyntaxError(f"null is only allowed with == and != (column {tok.column})")
            return None
        if tok.kind == "string":
            if kind == "number":
                raise QuerySyntaxError(f"field {name!r} is a number; got the string {tok.text} at column {tok.column}")
            return tok.value
        if tok.kind == "number":
            # A digit class such as Massey's "5" may be written without quotes.
            return tok.value if kind == "number" else tok.text
        raise self.fail("a value (a quoted string, a number or null)", tok)

    def placeholder(self, value: Any, column: str) -> str:
        self.add_param(value)
        return "? COLLATE NOCASE" if column in NOCASE_COLUMNS and isinstance(value, str) else "?"

    def comparison(self) -> str:
        name, column, kind = self.field()
        negate = False
        if self.is_keyword("not"):
            self.next()
            negate = True
            if not (self.is_keyword("in") or self.is_keyword("contains") or self.is_keyword("startswith")):
                raise self.fail("'in', 'contains' or 'startswith' after 'not'")
        tok = self.peek()
        if tok.kind == "op":
            self.next()
            value = self.value(name, kind, allow_null=tok.text in ("==", "=", "!="))
            op = COMPARISONS[tok.text]
            if op in ("IS", "IS NOT"):
                # IS / IS NOT are SQLite's null-safe equality: always 0 or 1, never NULL.
                return f"({column} {op} {self.placeholder(value, column)})"
            return f"({column} IS NOT NULL AND {column} {op} {self.placeholder(value, column)})"
        if self.is_keyword("in"):
            self.next()
            if self.peek().kind != "lparen":
                raise self.fail("'(' after 'in'")
            self.next()
            holders = [self.placeholder(self.value(name, kind, allow_null=False), column)]
            while self.peek().kind == "comma":
                self.next()
                holders.append(self.placeholder(self.value(name, kind, allow_null=False), column))
            if self.peek().kind != "rparen":
                raise self.fail("',' or ')' in the list after 'in'")
            self.next()
            sql = f"({column} IS NOT NULL AND {column} IN ({', '.join(holders)}))"
            return f"(NOT {sql})" if negate else sql
        if self.is_keyword("contains") or self.is_keyword("startswith"):
            word = self.next().text.lower()
            if kind != "text":
                raise QuerySyntaxError(f"{word!r} needs a text field; {name!r} is a number (column {tok.column})")
            lit = self.next()
            if lit.kind != "string":
                raise self.fail(f"a quoted string after {word!r}", lit)
            if column in NOCASE_COLUMNS:
                col_sql, value = f"lower({column})", lit.value.lower()
            else:
                col_sql, value = column, lit.value
            # instr/substr instead of LIKE: no wildcard characters to escape in user text.
            if word == "contains":
                self.add_param(value)
                test = f"instr({col_sql}, ?) > 0"
            else:
                self.add_param(value)
                self.add_param(value)
                test = f"substr({col_sql}, 1, length(?)) = ?"
            sql = f"({column} IS NOT NULL AND {test})"
            return f"(NOT {sql})" if negate else sql
        raise self.fail("a comparison (==, !=, <, <=, >, >=, in, contains, startswith)")


def compile_query(expr: str) -> tuple[str, list[Any]]:
    """Compile a query expression to a SQL WHERE fragment with `?` placeholders and its params.

    Raises QuerySyntaxError (with the column) for unknown fields, bad syntax or type mismatches.
    """
    if not isinstance(expr, str):
        raise QuerySyntaxError("a query must be a string, e.g. label == \"A\"")
    if len(expr) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(f"query is {len(expr)} characters long (at most {MAX_QUERY_LENGTH})")
    try:
        expr.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise QuerySyntaxError(f"query is not valid text at column {exc.start + 1}") from None
    parser = _Parser(expr)
    sql = parser.parse()
    return sql, parser.params


def query(dataset: Any, expr: str, limit: int | None = None) -> list:
    """The dataset's samples (fixes applied, removed ones skipped) matching `expr`, in id order.

    Raises QuerySyntaxError for a bad expression.
    """
    sql, params = compile_query(expr)
    out: list = []
    if limit is not None and limit <= 0:
        return out
    with _sqlite_errors(expr):
        for sample in dataset.samples(where=sql, params=params):
            out.append(sample)
            if limit is not None and len(out) >= limit:
                break
    return out


def count(dataset: Any, expr: str) -> int:
    """How many samples match `expr` (removed samples not counted)."""
    sql, params = compile_query(expr)
    with _sqlite_errors(expr):
        return int(dataset.db.execute(f"SELECT COUNT(*) FROM samples WHERE removed = 0 AND ({sql})", params).fetchone()[0])


@contextlib.contextmanager
def _sqlite_errors(expr: str) -> Iterator[None]:
    """A query the limits above let through but SQLite still refuses: one line, not a traceback."""
    try:
        yield
    except (sqlite3.OperationalError, OverflowError) as exc:
        raise QuerySyntaxError(f"query is too complex for the index ({exc})") from None
