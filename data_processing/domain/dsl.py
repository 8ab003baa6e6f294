"""The row-level transformation DSL: parse, check, serialise (JSON) and evaluate over numpy columns.

``log(@restaurant_stats:avg_prep_minutes_7d + 1)`` or the same as a JSON tree. Evaluation is elementwise
over whole columns, so the training job (1M rows) and the runtime service (1 row) run the same code and
get the same numbers. Missing values are NaN: arithmetic, ``log``, ``clip`` and ``bucketize`` keep them
missing; ``fill_missing`` replaces them; ``one_hot`` gives all zeros. Errors name the offending piece.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from data_processing.domain.features import FeatureRef
from strata_kernel.errors import ConfigurationError

Column = npt.NDArray[Any]
Scalar = float | str


class InvalidExpression(ConfigurationError):
    """A DSL expression that cannot be parsed, checked or evaluated."""

    code = "invalid_expression"


@dataclass(frozen=True)
class Ref:
    ref: FeatureRef


@dataclass(frozen=True)
class Const:
    value: float


@dataclass(frozen=True)
class Values:
    """A literal list: bucket boundaries or one-hot categories."""

    items: tuple[Scalar, ...]


@dataclass(frozen=True)
class Op:
    op: str  # + - * / neg
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Call:
    fn: str
    args: tuple[Node, ...]


Node = Ref | Const | Values | Op | Call

#: function -> kinds of its arguments ("x" any numeric expression, "const" a number, "values" a list)
FUNCTIONS: dict[str, tuple[str, ...]] = {
    "log": ("x",),
    "clip": ("x", "const", "const"),
    "bucketize": ("x", "values"),
    "fill_missing": ("x", "const"),
    "one_hot": ("x", "values"),
}
OPERATORS = ("+", "-", "*", "/", "neg")

# ---------------------------------------------------------------- parsing (string form)

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)|(?P<ref>@[A-Za-z0-9_]*:?[A-Za-z0-9_]*)"
    r"|(?P<name>[A-Za-z_]\w*)|(?P<str>\"[^\"]*\"|'[^']*')|(?P<punct>[-+*/(),\[\]]))"
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position, text = [], 0, text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise InvalidExpression(f"expression {text!r}: unexpected {text[position:].strip()[:10]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    def fail(self, why: str) -> InvalidExpression:
        return InvalidExpression(f"expression {self.text!r}: {why}")

    def peek(self) -> str | None:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.index >= len(self.tokens):
            raise self.fail(f"ends early{f', expected {expected!r}' if expected else ''}")
        token = self.tokens[self.index]
        if expected is not None and token[1] != expected:
            raise self.fail(f"expected {expected!r}, found {token[1]!r}")
        self.index += 1
        return token

    def expression(self) -> Node:
        node = self.term()
        while self.peek() in ("+", "-"):
            node = Op(self.take()[1], (node, self.term()))
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek() in ("*", "/"):
            node = Op(self.take()[1], (node, self.unary()))
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            operand = self.unary()
            return Const(-operand.value) if isinstance(operand, Const) else Op("neg", (operand,))
        return self.atom()

    def atom(self) -> Node:
        kind, text = self.take()
        if kind == "num":
            return Const(float(text))
        if kind == "ref":
            return Ref(_parse_ref(text))
        if text == "(":
            node = self.expression()
            self.take(")")
            return node
        if text == "[":
            return self.values()
        if kind == "name":
            return self.call(text)
        raise self.fail(f"unexpected {text!r}")

    def values(self) -> Values:
        items: list[Scalar] = []
        while self.peek() != "]":
            kind, text = self.take()
            negative = text == "-"
            if negative:
                kind, text = self.take()
            if kind == "num":
                items.append(-float(text) if negative else float(text))
            elif kind == "str" and not negative:
                items.append(text[1:-1])
            else:
                raise self.fail(f"a list holds numbers or quoted strings, not {text!r}")
            if self.peek() != "]":
                self.take(",")
        self.take("]")
        return Values(tuple(items))

    def call(self, name: str) -> Call:
        if name not in FUNCTIONS:
            raise self.fail(f"unknown function {name!r} (known: {', '.join(sorted(FUNCTIONS))})")
        self.take("(")
        args: list[Node] = []
        while self.peek() != ")":
            args.append(self.expression())
            if self.peek() != ")":
                self.take(",")
        self.take(")")
        return _checked_call(name, tuple(args), self.text)


def parse(text: str) -> Node:
    """Parse the string form; raises InvalidExpression naming the expression and what is wrong."""
    parser = _Parser(text)
    if not parser.tokens:
        raise InvalidExpression("expression is empty")
    node = parser.expression()
    if parser.index != len(parser.tokens):
        raise parser.fail(f"unexpected {parser.peek()!r}")
    _check_one_hot_outermost(node, text, outermost=True)
    return node


def _parse_ref(text: str) -> FeatureRef:
    try:
        return FeatureRef.parse(text)
    except ValueError as exc:
        raise InvalidExpression(str(exc)) from None


def _checked_call(name: str, args: tuple[Node, ...], where: str) -> Call:
    kinds = FUNCTIONS[name]
    if len(args) != len(kinds):
        raise InvalidExpression(f"expression {where!r}: {name}() takes {len(kinds)} argument(s), got {len(args)}")
    for position, (kind, arg) in enumerate(zip(kinds, args, strict=True), start=1):
        ok = {"x": not isinstance(arg, Values), "const": isinstance(arg, Const), "values": isinstance(arg, Values)}
        if not ok[kind]:
            wanted = {"x": "an expression", "const": "a number", "values": "a list like [1, 2]"}[kind]
            raise InvalidExpression(f"expression {where!r}: argument {position} of {name}() must be {wanted}")
    if name == "bucketize":
        bounds = args[1].items if isinstance(args[1], Values) else ()
        if not bounds or any(isinstance(b, str) for b in bounds) or list(bounds) != sorted(bounds):
            raise InvalidExpression(f"expression {where!r}: bucketize() boundaries must be ascending numbers")
    if name == "one_hot" and isinstance(args[1], Values) and len(set(args[1].items)) != len(args[1].items):
        raise InvalidExpression(f"expression {where!r}: one_hot() values must be distinct")
    return Call(name, args)


def _check_one_hot_outermost(node: Node, where: str, *, outermost: bool) -> None:
    """one_hot makes several columns, so nothing can be applied to its result."""
    if isinstance(node, Call) and node.fn == "one_hot" and not outermost:
        raise InvalidExpression(f"expression {where!r}: one_hot() must be the outermost function")
    for child in node.args if isinstance(node, Op | Call) else ():
        _check_one_hot_outermost(child, where, outermost=False)


# ---------------------------------------------------------------- JSON tree form


def to_json(node: Node) -> dict[str, Any]:
    """``{"ref"}``, ``{"const"}``, ``{"values"}``, ``{"op", "args"}`` or ``{"fn", "args"}``."""
    if isinstance(node, Ref):
        return {"ref": node.ref.expression}
    if isinstance(node, Const):
        return {"const": node.value}
    if isinstance(node, Values):
        return {"values": list(node.items)}
    if isinstance(node, Op):
        return {"op": node.op, "args": [to_json(a) for a in node.args]}
    return {"fn": node.fn, "args": [to_json(a) for a in node.args]}


def from_json(tree: Any, where: str = "expression") -> Node:
    """The inverse of ``to_json``, with the same checks as ``parse``."""
    node = _node_from_json(tree, where)
    _check_one_hot_outermost(node, where, outermost=True)
    return node


def _node_from_json(tree: Any, where: str) -> Node:
    if not isinstance(tree, Mapping):
        raise InvalidExpression(f"{where}: a node must be an object, not {tree!r}")
    if "ref" in tree:
        return Ref(_parse_ref(str(tree["ref"])))
    if "const" in tree and isinstance(tree["const"], int | float) and not isinstance(tree["const"], bool):
        return Const(float(tree["const"]))
    if "values" in tree and isinstance(tree["values"], list):
        return Values(tuple(v if isinstance(v, str) else float(v) for v in tree["values"]))
    args = tree.get("args")
    if not isinstance(args, list):
        raise InvalidExpression(f"{where}: unknown node {dict(tree)!r}")
    children = tuple(_node_from_json(a, f"{where}.args.{i}") for i, a in enumerate(args))
    if "op" in tree:
        arity = 1 if tree["op"] == "neg" else 2
        if tree["op"] not in OPERATORS or len(children) != arity:
            raise InvalidExpression(f"{where}: operator {tree['op']!r} with {len(children)} argument(s)")
        return Op(str(tree["op"]), children)
    name = str(tree.get("fn"))
    if name not in FUNCTIONS:
        raise InvalidExpression(f"{where}: unknown function {name!r} (known: {', '.join(sorted(FUNCTIONS))})")
    return _checked_call(name, children, where)


def refs(node: Node) -> tuple[FeatureRef, ...]:
    """Every feature the expression reads, first-seen order, no duplicates."""
    found: dict[FeatureRef, None] = {}
    if isinstance(node, Ref):
        found[node.ref] = None
    for child in node.args if isinstance(node, Op | Call) else ():
        found.update(dict.fromkeys(refs(child)))
    return tuple(found)


# ---------------------------------------------------------------- evaluation


def evaluate(node: Node, columns: Mapping[str, Column]) -> Column:
    """One float64 column (NaN = missing); ``columns`` maps ``group__feature`` to equal-length arrays."""
    if isinstance(node, Ref):
        return as_float(_column(node, columns), node.ref.expression)
    if isinstance(node, Const):
        return np.full(_length(columns), node.value)
    if isinstance(node, Op):
        return _OPERATIONS[node.op](*(evaluate(a, columns) for a in node.args))
    if isinstance(node, Call) and node.fn != "one_hot":
        return _apply(node, evaluate(node.args[0], columns))
    raise InvalidExpression("one_hot() gives several columns: evaluate it with evaluate_columns()")


def evaluate_columns(name: str, node: Node, columns: Mapping[str, Column]) -> dict[str, Column]:
    """The output column(s) of derived feature ``name``: one, or one per category for ``one_hot``."""
    if isinstance(node, Call) and node.fn == "one_hot":
        source = node.args[0]
        raw = _column(source, columns) if isinstance(source, Ref) else evaluate(source, columns)
        categories = node.args[1].items if isinstance(node.args[1], Values) else ()
        return {col: _equals(raw, value) for col, value in zip(output_names(name, node), categories, strict=True)}
    return {name: evaluate(node, columns)}


def output_names(name: str, node: Node) -> tuple[str, ...]:
    """Column names a derived feature produces (``name`` or ``name_<category>`` per one-hot category)."""
    if isinstance(node, Call) and node.fn == "one_hot" and isinstance(node.args[1], Values):
        slugs = [re.sub(r"[^0-9A-Za-z]+", "_", _label(v)).strip("_") or "blank" for v in node.args[1].items]
        if len(set(slugs)) != len(slugs):
            raise InvalidExpression(f"{name}: one_hot() values give clashing column names {slugs}")
        return tuple(f"{name}_{slug}" for slug in slugs)
    return (name,)


def as_float(values: Column, what: str = "column") -> Column:
    """float64 with None -> NaN; a text column is a clear error, not a silent NaN."""
    array = np.asarray(values)
    if array.dtype.kind in "fiub":
        return array.astype(np.float64, copy=False)
    try:
        return np.array([np.nan if v is None else v for v in array.tolist()], dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidExpression(f"{what} is not numeric: arithmetic needs numbers") from None


def _column(node: Node, columns: Mapping[str, Column]) -> Column:
    assert isinstance(node, Ref)
    try:
        return columns[node.ref.column]
    except KeyError:
        raise InvalidExpression(f"unknown feature {node.ref.expression}: it is not among the inputs") from None


def _length(columns: Mapping[str, Column]) -> int:
    return len(next(iter(columns.values()))) if columns else 1


def _label(value: Scalar) -> str:
    return value if isinstance(value, str) else f"{value:g}"


def _equals(raw: Column, value: Scalar) -> Column:
    array = np.asarray(raw)
    if isinstance(value, str):
        return np.array([v == value for v in array.tolist()], dtype=np.float64)
    return (as_float(array) == value).astype(np.float64)  # NaN == v is False: missing -> all zeros


def _divide(a: Column, b: Column) -> Column:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, np.nan, a / np.where(b == 0, 1.0, b))


def _log(x: Column) -> Column:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.nan)


def _bucketize(x: Column, bounds: tuple[Scalar, ...]) -> Column:
    """Index of the bucket: 0 below the first boundary, len(bounds) at or above the last."""
    index = np.searchsorted(np.asarray(bounds, dtype=np.float64), x, side="right").astype(np.float64)
    return np.where(np.isnan(x), np.nan, index)


def _apply(node: Call, x: Column) -> Column:
    extra = node.args[1:]
    if node.fn == "log":
        return _log(x)
    if node.fn == "clip":
        lo, hi = (a.value if isinstance(a, Const) else 0.0 for a in extra)
        return np.clip(x, lo, hi)  # NaN stays NaN
    if node.fn == "fill_missing":
        fill = extra[0].value if isinstance(extra[0], Const) else 0.0
        return np.where(np.isnan(x), fill, x)
    return _bucketize(x, extra[0].items if isinstance(extra[0], Values) else ())


_OPERATIONS: dict[str, Callable[..., Column]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": _divide,
    "neg": np.negative,
}
