"""The great-expectations expectations a contract's ``quality:`` list may name, and their arguments.

Contracts name expectations exactly as great-expectations does (``column_values_to_be_between``),
with the same arguments, so a rule means what its great-expectations documentation says. The
registry here only knows argument names and types, so that a typo fails when the contract loads
(with the file and rule named), without importing great_expectations.

Row-level expectations also become per-row predicates in silver (``dq_flags``): the row is kept
and flagged, never dropped. Null values pass every row-level rule except the null checks, as in
great-expectations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# A predicate builder receives the quoted column and the rule's arguments (already validated)
# and a literal renderer for the column's type; it returns SQL that is TRUE when the row passes.
PredicateBuilder = Callable[[str, Mapping[str, Any], Callable[[Any], str]], str]


@dataclass(frozen=True)
class ExpectationSpec:
    name: str
    required: Mapping[str, type | tuple[type, ...]]
    optional: Mapping[str, type | tuple[type, ...]] = field(default_factory=dict)
    needs_column: bool = True
    row_predicate: PredicateBuilder | None = None
    # Whether the rule is meaningful on a tokenised PII column (a token only keeps identity).
    allowed_on_pii: bool = False

    @property
    def row_level(self) -> bool:
        return self.row_predicate is not None


def _between(col: str, args: Mapping[str, Any], lit: Callable[[Any], str]) -> str:
    parts = []
    if args.get("min_value") is not None:
        op = ">" if args.get("strict_min") else ">="
        parts.append(f"{col} {op} {lit(args['min_value'])}")
    if args.get("max_value") is not None:
        op = "<" if args.get("strict_max") else "<="
        parts.append(f"{col} {op} {lit(args['max_value'])}")
    return f"({col} IS NULL OR ({' AND '.join(parts)}))"


def _lengths_between(col: str, args: Mapping[str, Any], lit: Callable[[Any], str]) -> str:
    parts = []
    if args.get("min_value") is not None:
        parts.append(f"length({col}) >= {int(args['min_value'])}")
    if args.get("max_value") is not None:
        parts.append(f"length({col}) <= {int(args['max_value'])}")
    return f"({col} IS NULL OR ({' AND '.join(parts)}))"


def _in_set(col: str, args: Mapping[str, Any], lit: Callable[[Any], str]) -> str:
    values = ", ".join(lit(v) for v in args["value_set"])
    return f"({col} IS NULL OR {col} IN ({values}))"


def _not_in_set(col: str, args: Mapping[str, Any], lit: Callable[[Any], str]) -> str:
    values = ", ".join(lit(v) for v in args["value_set"])
    return f"({col} IS NULL OR {col} NOT IN ({values}))"


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _regex(col: str, args: Mapping[str, Any], lit: Callable[[Any], str]) -> str:
    return f"({col} IS NULL OR regexp_matches({col}, {_sql_string(args['regex'])}))"


def _not_regex(col: str, args: Mapping[str, Any], lit: Callable[[Any], str]) -> str:
    return f"({col} IS NULL OR NOT regexp_matches({col}, {_sql_string(args['regex'])}))"


_NUMBER = (int, float)
_BOUND = (int, float, str)  # str for dates and timestamps

EXPECTATIONS: dict[str, ExpectationSpec] = {
    spec.name: spec
    for spec in [
        ExpectationSpec(
            "column_values_to_not_be_null",
            {},
            {"mostly": _NUMBER},
            row_predicate=lambda c, a, lit: f"({c} IS NOT NULL)",
            allowed_on_pii=True,
        ),
        ExpectationSpec(
            "column_values_to_be_null",
            {},
            {"mostly": _NUMBER},
            row_predicate=lambda c, a, lit: f"({c} IS NULL)",
            allowed_on_pii=True,
        ),
        ExpectationSpec(
            "column_values_to_be_between",
            {},
            {
                "min_value": _BOUND,
                "max_value": _BOUND,
                "strict_min": bool,
                "strict_max": bool,
                "mostly": _NUMBER,
            },
            row_predicate=_between,
        ),
        ExpectationSpec(
            "column_value_lengths_to_be_between",
            {},
            {"min_value": int, "max_value": int, "mostly": _NUMBER},
            row_predicate=_lengths_between,
        ),
        ExpectationSpec(
            "column_values_to_be_in_set", {"value_set": list}, {"mostly": _NUMBER}, row_predicate=_in_set
        ),
        ExpectationSpec(
            "column_values_to_not_be_in_set",
            {"value_set": list},
            {"mostly": _NUMBER},
            row_predicate=_not_in_set,
        ),
        ExpectationSpec(
            "column_values_to_match_regex", {"regex": str}, {"mostly": _NUMBER}, row_predicate=_regex
        ),
        ExpectationSpec(
            "column_values_to_not_match_regex", {"regex": str}, {"mostly": _NUMBER}, row_predicate=_not_regex
        ),
        ExpectationSpec("column_values_to_be_unique", {}, {"mostly": _NUMBER}, allowed_on_pii=True),
        ExpectationSpec("compound_columns_to_be_unique", {"column_list": list}, {}, needs_column=False),
        ExpectationSpec(
            "table_row_count_to_be_between", {}, {"min_value": int, "max_value": int}, needs_column=False
        ),
    ]
}

# Keys of a quality rule that belong to the platform, not to the expectation's arguments.
RULE_KEYS = frozenset({"expect", "column", "severity", "name", "description", "max_flagged_pct"})


def check_arguments(spec: ExpectationSpec, args: Mapping[str, Any]) -> list[str]:
    """Problems with a rule's arguments, each naming the argument; empty when they are right."""
    problems = []
    allowed = {**spec.required, **spec.optional}
    for name in spec.required:
        if name not in args:
            problems.append(f"missing argument {name!r}")
    for name, value in args.items():
        if name not in allowed:
            problems.append(f"unknown argument {name!r} (allowed: {', '.join(sorted(allowed)) or 'none'})")
        elif not isinstance(value, allowed[name]) or (isinstance(value, bool) and allowed[name] is not bool):
            expected = allowed[name]
            names = (expected,) if isinstance(expected, type) else expected
            problems.append(
                f"argument {name!r} must be {' or '.join(t.__name__ for t in names)}, "
                f"got {type(value).__name__}"
            )
    if spec.name in (
        "column_values_to_be_between",
        "column_value_lengths_to_be_between",
        "table_row_count_to_be_between",
    ) and not (args.get("min_value") is not None or args.get("max_value") is not None):
        problems.append("needs at least one of 'min_value' or 'max_value'")
    mostly = args.get("mostly")
    if isinstance(mostly, _NUMBER) and not 0 <= mostly <= 1:
        problems.append("argument 'mostly' must be between 0 and 1")
    low, high = args.get("min_value"), args.get("max_value")
    if type(low) is type(high) and isinstance(low, _BOUND) and low > high:  # type: ignore[operator]  # ISO strings sort in time
        problems.append(f"min_value {low!r} is above max_value {high!r}: no value could pass")
    if isinstance(args.get("value_set"), list) and not args["value_set"]:
        problems.append("argument 'value_set' is empty")
    column_list = args.get("column_list")
    if isinstance(column_list, list) and len(set(map(str, column_list))) < 2:
        problems.append("argument 'column_list' needs at least two different columns")
    if isinstance(args.get("regex"), str) and (unsupported := re2_unsupported(args["regex"])):
        problems.append(f"regex {args['regex']!r} uses {unsupported}, which DuckDB's RE2 engine lacks")
    return problems


# Perl constructs Python's ``re`` accepts but RE2 (DuckDB's regexp_matches, which sets dq_flags)
# does not: a rule must mean the same to great-expectations and to the flags.
_RE2_UNSUPPORTED = [
    (re.compile(r"\(\?[=!]"), "a lookahead"),
    (re.compile(r"\(\?<[=!]"), "a lookbehind"),
    (re.compile(r"\(\?>"), "an atomic group"),
    (re.compile(r"\(\?\("), "a conditional"),
    (re.compile(r"[*+?}]\+"), "a possessive quantifier"),
]


def re2_unsupported(pattern: str) -> str | None:
    """The first construct of ``pattern`` that RE2 cannot run, or None."""
    if any(escaped in "123456789" for escaped in re.findall(r"\\(.)", pattern)):
        return "a backreference"
    literal = re.sub(r"\\.", "_", pattern)  # escaped characters start no construct
    return next((what for sign, what in _RE2_UNSUPPORTED if sign.search(literal)), None)
