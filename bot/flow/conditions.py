"""The small condition language of `branch` nodes.

Staff write conditions as text, for example::

    eu_citizen == yes and not (support_received == yes)
    country in visa_free_countries
    age >= 18
    callback_time is set

The left side of a comparison is always a variable; the right side is a value (a bare word,
a quoted text or a number), or after `in` a list name from `_config.yaml` or `[a, b, c]`.
Parsing happens once, at load time; evaluating is a pure function of the variables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>-?\d+(?:\.\d+)?(?![\w]))
      | (?P<str>"[^"]*"|'[^']*')
      | (?P<op>==|!=|<=|>=|=>|=<|=|<|>|\(|\)|\[|\]|,)
      | (?P<word>[^\s()\[\],=!<>"']+)
    )""",
    re.VERBOSE,
)

OPERATORS = ("==", "=", "!=", "<", "<=", ">", ">=")


class ConditionError(ValueError):
    """A condition that cannot be parsed; `offset` is the 0-based column inside the text."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Compare:
    var: str
    op: str
    value: str


@dataclass(frozen=True)
class InList:
    var: str
    list_name: str | None
    values: tuple[str, ...]
    negate: bool


@dataclass(frozen=True)
class IsSet:
    var: str
    negate: bool


@dataclass(frozen=True)
class Not:
    expr: object


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" or "or"
    parts: tuple


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ConditionError(f"cannot read {text[pos:].strip()[:10]!r}", pos)
        kind = m.lastgroup or "word"
        value = m.group(kind)
        out.append((kind, value, m.start(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, value: str | None = None) -> bool:
        if self.i >= len(self.toks):
            return False
        return value is None or self.toks[self.i][1].lower() == value

    def take(self) -> tuple[str, str, int]:
        if self.i >= len(self.toks):
            raise ConditionError("the condition ends too early", len(self.text))
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        _kind, got, pos = self.take()
        if got.lower() != value:
            raise ConditionError(f'expected "{value}" but found "{got}"', pos)

    def parse(self):
        expr = self.parse_or()
        if self.i < len(self.toks):
            _, got, pos = self.toks[self.i]
            raise ConditionError(f'unexpected "{got}" (join conditions with "and" or "or")', pos)
        return expr

    def parse_or(self):
        parts = [self.parse_and()]
        while self.peek("or"):
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def parse_and(self):
        parts = [self.parse_not()]
        while self.peek("and"):
            self.take()
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def parse_not(self):
        if self.peek("not"):
            self.take()
            return Not(self.parse_not())
        if self.peek("("):
            self.take()
            expr = self.parse_or()
            self.expect(")")
            return expr
        return self.parse_atom()

    def value(self) -> str:
        kind, got, pos = self.take()
        if kind == "str":
            return got[1:-1]
        if kind in ("num", "word"):
            return got
        raise ConditionError(f'expected a value but found "{got}"', pos)

    def parse_atom(self):
        kind, var, pos = self.take()
        if kind != "word" or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", var):
            raise ConditionError(f'expected a variable name but found "{var}"', pos)
        if self.peek("is"):
            self.take()
            negate = self.peek("not")
            if negate:
                self.take()
            self.expect("set")
            return IsSet(var, negate)
        negate = self.peek("not")
        if negate:
            self.take()
            if not self.peek("in"):
                raise ConditionError('"not" after a variable must be followed by "in"', pos)
        if self.peek("in"):
            self.take()
            if self.peek("["):
                self.take()
                values = [self.value()]
                while self.peek(","):
                    self.take()
                    values.append(self.value())
                self.expect("]")
                return InList(var, None, tuple(values), negate)
            kind, name, npos = self.take()
            if kind != "word":
                raise ConditionError(f'expected a list name after "in" but found "{name}"', npos)
            return InList(var, name, (), negate)
        if self.i >= len(self.toks):
            raise ConditionError(
                f'"{var}" needs a comparison, e.g. "{var} == yes" or "{var} is set"', pos
            )
        _, op, opos = self.take()
        if op in ("=>", "=<"):
            raise ConditionError(f'unknown comparison "{op}" (did you mean "{op[::-1]}"?)', opos)
        if op not in OPERATORS:
            raise ConditionError(
                f'unknown comparison "{op}" (use one of: {", ".join(OPERATORS)}, in, is set)', opos
            )
        return Compare(var, "==" if op == "=" else op, self.value())


def parse(text: str):
    """Parse a condition; raises ConditionError with the offset of the problem."""
    if not text or not text.strip():
        raise ConditionError("the condition is empty", 0)
    return _Parser(text).parse()


def variables(expr) -> set[str]:
    """Every variable a condition reads."""
    if isinstance(expr, Compare | InList | IsSet):
        return {expr.var}
    if isinstance(expr, Not):
        return variables(expr.expr)
    if isinstance(expr, BoolOp):
        return set().union(*(variables(p) for p in expr.parts))
    return set()


def list_names(expr) -> set[str]:
    """Every named list a condition refers to."""
    if isinstance(expr, InList):
        return {expr.list_name} if expr.list_name else set()
    if isinstance(expr, Not):
        return list_names(expr.expr)
    if isinstance(expr, BoolOp):
        return set().union(*(list_names(p) for p in expr.parts))
    return set()


def _num(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _norm(value) -> str:
    return str(value).strip().casefold()


def evaluate(expr, variables: Mapping[str, object], lists: Mapping[str, tuple[str, ...]]) -> bool:
    """True when the condition holds; an unset variable makes comparisons false."""
    if isinstance(expr, BoolOp):
        results = (evaluate(p, variables, lists) for p in expr.parts)
        return all(results) if expr.op == "and" else any(results)
    if isinstance(expr, Not):
        return not evaluate(expr.expr, variables, lists)
    if isinstance(expr, IsSet):
        present = variables.get(expr.var) not in (None, "")
        return present != expr.negate
    current = variables.get(expr.var)
    if isinstance(expr, InList):
        pool = lists.get(expr.list_name, ()) if expr.list_name else expr.values
        found = current is not None and _norm(current) in {_norm(v) for v in pool}
        return found != expr.negate
    if current is None:
        return expr.op == "!="
    left, right = _num(current), _num(expr.value)
    if left is None or right is None:
        left, right = _norm(current), _norm(expr.value)
        if expr.op not in ("==", "!="):
            return False
    return {
        "==": left == right,
        "!=": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[expr.op]
