"""Static facts about a feature group's code, read from its source text — never imported (that would need Spark).

* ``defines_compute``: the code has the ``compute(source, as_of=None)`` entry point the batch job calls.
* ``feature_hashes``: one hash per declared feature. The *shared* code (the module with docstrings and every
  ``<expr>.alias("<feature>")`` of a declared feature taken out) is hashed together with that feature's own
  expression. Adding a feature to ``agg(...)`` therefore changes no other feature's hash, while changing
  the shared window logic or one feature's expression does — exactly the changes that alter its meaning.
  A feature whose expression is not found this way is hashed with the whole module (the conservative choice).
* ``output_types``: the type of a feature's expression where it is certain from the code alone (an explicit
  ``.cast("long")`` or an aggregate such as ``count``/``avg``); unknown types are checked after a job run.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

#: Spark SQL type names (simpleString / cast targets) -> the feature types of the YAML
SPARK_TYPE_KINDS = {
    "tinyint": "int64", "byte": "int64", "smallint": "int64", "short": "int64", "int": "int64",
    "integer": "int64", "bigint": "int64", "long": "int64",
    "float": "float64", "real": "float64", "double": "float64",
    "boolean": "bool", "bool": "bool", "string": "string", "varchar": "string",
}  # fmt: skip
#: aggregate functions whose result type does not depend on their input
_AGGREGATE_TYPES = {
    "count": "int64", "count_distinct": "int64", "countDistinct": "int64", "approx_count_distinct": "int64",
    "avg": "float64", "mean": "float64", "stddev": "float64", "stddev_samp": "float64", "stddev_pop": "float64",
    "variance": "float64", "var_samp": "float64", "var_pop": "float64",
}  # fmt: skip


@dataclass(frozen=True)
class CodeFacts:
    defines_compute: bool
    feature_hashes: dict[str, str]
    output_types: dict[str, str]


SQL_SUFFIX = ".sql"


def analyse(code_name: str, source: str, feature_names: Sequence[str]) -> CodeFacts:
    """Facts of a group's code by its kind: a Python module or one SQL query (``.sql``)."""
    if code_name.endswith(SQL_SUFFIX):
        return analyse_sql(source, feature_names)
    return analyse_code(source, feature_names)


def analyse_sql(source: str, feature_names: Sequence[str]) -> CodeFacts:
    """A SQL group is one query: every feature's hash covers the whole (normalised) query — any edit of it changes
    what every feature means, so a new name is required (conservative); its output types are checked after a run.
    Raises SyntaxError when it is not one SELECT."""
    text = _normalised_sql(source)
    if not text.lower().startswith(("select", "with")) or ";" in text.rstrip(";"):
        raise SyntaxError("a SQL feature group is one SELECT (or WITH ... SELECT) query over the view 'source'")
    return CodeFacts(True, {name: _sha256(text, name) for name in feature_names}, {})


def _normalised_sql(source: str) -> str:
    lines = [line.split("--", 1)[0] for line in source.splitlines()]
    return " ".join(" ".join(lines).split()).strip()


def spark_type_kind(spark_type: str) -> str | None:
    """``"bigint"`` -> ``"int64"``, ``"decimal(10,2)"`` -> ``"float64"``; None for types no feature can have."""
    base = spark_type.strip().lower().split("(")[0]
    return "float64" if base == "decimal" else SPARK_TYPE_KINDS.get(base)


def analyse_code(source: str, feature_names: Sequence[str]) -> CodeFacts:
    """Raises SyntaxError when the code does not parse."""
    tree = ast.parse(source)
    expressions = _feature_expressions(tree, set(feature_names))
    skeleton = _dump(_skeleton(ast.parse(source), set(expressions)))
    hashes = {
        name: _sha256(skeleton, _dump(expressions[name]) if name in expressions else "") for name in feature_names
    }
    types = {name: kind for name, expr in expressions.items() if (kind := _static_type(expr)) is not None}
    return CodeFacts(_defines_compute(tree), hashes, types)


def _defines_compute(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.FunctionDef) and node.name == "compute" for node in tree.body)


def _alias_target(node: ast.AST, names: set[str]) -> str | None:
    """The feature name if ``node`` is ``<expr>.alias("<declared feature>")``."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "alias"):
        return None
    if len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and node.args[0].value in names:
        return str(node.args[0].value)
    return None


def _feature_expressions(tree: ast.Module, names: set[str]) -> dict[str, ast.expr]:
    found: dict[str, ast.expr] = {}
    for node in ast.walk(tree):
        name = _alias_target(node, names)
        if name is not None and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            found.setdefault(name, node.func.value)
    return found


class _TakeOutFeatures(ast.NodeTransformer):
    """Drops feature alias expressions from argument lists; elsewhere leaves a neutral placeholder."""

    def __init__(self, names: set[str]) -> None:
        self._names = names

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                kept = [self.visit(item) for item in value if _alias_target(item, self._names) is None]
                setattr(node, field, [item for item in kept if item is not None])
            elif isinstance(value, ast.AST):
                replaced = ast.Constant(None) if _alias_target(value, self._names) else self.visit(value)
                setattr(node, field, replaced)
        return node


def _skeleton(tree: ast.Module, names: set[str]) -> ast.AST:
    scopes = ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    for node in ast.walk(tree):
        if isinstance(node, scopes) and _has_docstring(node):
            node.body = node.body[1:] or [ast.Pass()]
    return _TakeOutFeatures(names).visit(tree)


def _has_docstring(node: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> bool:
    first = node.body[0] if node.body else None
    return isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)


def _static_type(expr: ast.expr) -> str | None:
    if not isinstance(expr, ast.Call):
        return None
    func = expr.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name in {"cast", "astype"} and expr.args and isinstance(expr.args[0], ast.Constant):
        return spark_type_kind(str(expr.args[0].value))
    return _AGGREGATE_TYPES.get(name)


def _dump(node: ast.AST) -> str:
    return ast.dump(node, annotate_fields=False, include_attributes=False)


def _sha256(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()
