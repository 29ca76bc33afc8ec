"""Reading contract files: YAML → validated ``SourceContract``, with errors that name file and field.

A bad file must never take the other sources down (a Dagster code location whose definitions
raise loses every asset and sensor), so ``load_contracts`` returns the good contracts and the
errors side by side and lets the caller decide how loud to be.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from lakehouse.contracts.evolution import classify
from lakehouse.contracts.model import SourceContract

CONTRACT_SUFFIXES = (".yaml", ".yml")


# libyaml's parser where PyYAML was built with it: the pure-Python one took ~40 ms a contract,
# most of a 100-source code location's load (construction and resolution stay PyYAML's own).
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ContractLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """YAML without implicit dates: ``2026-13-01`` must reach validation as text, where it gets an
    error naming the field, instead of crashing PyYAML's date constructor. A key given twice in
    one mapping is an error: PyYAML would keep the last one, silently ignoring the other."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"the key {key!r} is given twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_ContractLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a contract file: where (a field path) and what was expected."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ContractError(Exception):
    """A contract file that cannot be used, with every problem found in it."""

    def __init__(self, path: Path | str, problems: Iterable[Problem]):
        self.path = Path(path)
        self.problems = list(problems)
        super().__init__(self.describe())

    def describe(self) -> str:
        lines = [f"{self.path}: invalid source contract"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class LoadedContract:
    contract: SourceContract
    path: Path
    # Content hash: the contract's version (the assets' code_version, Delta commit metadata).
    version: str


@dataclass(frozen=True)
class Refusal:
    """A contract file on disk that is a breaking change of its accepted version: the accepted
    version is loaded instead, and this says why."""

    path: Path
    name: str
    reasons: list[str]
    accepted_version: str

    def describe(self) -> str:
        return (
            f"{self.path}: breaking change refused, the accepted version {self.accepted_version} "
            "keeps running: " + "; ".join(self.reasons)
        )


@dataclass
class ContractSet:
    contracts: dict[str, LoadedContract] = field(default_factory=dict)
    errors: list[ContractError] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    def __iter__(self):
        return iter(self.contracts.values())

    def __len__(self) -> int:
        return len(self.contracts)


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in ("files", "postgres", "http") and text.endswith("extract"):
            continue  # the discriminated union's tag adds nothing for the reader
        else:
            text += f".{part}" if text else str(part)
    return text


def _problems_from_validation(error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field (not part of the contract schema)"
        elif item["type"] == "missing":
            message = "required field is missing"
        elif "input" in item and item["type"] not in ("value_error", "assertion_error"):
            message = f"{message} (got {item['input']!r})"
        problems.append(Problem(_location(item["loc"]), message))
    return problems


def parse_contract(text: str, path: Path | str = "<string>") -> SourceContract:
    """Validate one contract's YAML text; raise ``ContractError`` naming the file and fields."""
    path = Path(path)
    try:
        raw = yaml.load(text, Loader=_ContractLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise ContractError(path, [Problem(where, f"invalid YAML: {reason}")]) from None
    if not isinstance(raw, dict):
        raise ContractError(
            path, [Problem("", f"expected a mapping of contract fields, got {type(raw).__name__}")]
        )
    try:
        contract = SourceContract.model_validate(raw)
    except ValidationError as exc:
        raise ContractError(path, _problems_from_validation(exc)) from None
    if path.suffix in CONTRACT_SUFFIXES and path.stem != contract.name:
        raise ContractError(
            path, [Problem("name", f"{contract.name!r} must match the file name {path.stem!r}")]
        )
    return contract


def load_contract(path: Path | str) -> LoadedContract:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContractError(path, [Problem("", f"cannot read file: {exc.strerror}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ContractError(path, [Problem("", "file is not UTF-8 text")]) from None
    contract = parse_contract(text, path)
    return LoadedContract(contract, path, hashlib.sha256(data).hexdigest()[:16])


def contract_files(directory: Path | str) -> list[Path]:
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix in CONTRACT_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )


_SAMPLE_DAY = "2000-01-01"


def _literal_example(pattern: str) -> str:
    """A path the glob ``pattern`` matches (``*`` and ``?`` as ``x``, a class as its first member)."""
    text = re.sub(r"\[!?([^\]])[^\]]*\]", r"\1", pattern)
    return text.replace("*", "x").replace("?", "x")


@functools.lru_cache(maxsize=4096)
def _sample_path(template: str) -> tuple[str, str]:
    """The template with a sample day, normalised, and a literal path it matches."""
    path = posixpath.normpath(template.replace("{date}", _SAMPLE_DAY))
    return path, _literal_example(path)


def paths_overlap(first: str, second: str) -> bool:
    """Whether two ``extract.path`` templates can match the same file (the same template, or one
    whose example path the other's glob matches). Close enough to catch a copied contract or a
    narrower pattern inside a wider one; globs that merely intersect may slip through."""
    (a, example_a), (b, example_b) = _sample_path(first), _sample_path(second)
    return a == b or fnmatch.fnmatchcase(example_a, b) or fnmatch.fnmatchcase(example_b, a)


def _top_folder(template: str) -> str | None:
    """The path's first segment when it is literal (two paths whose literal first segments differ
    cannot overlap), or None when it is a glob that may match any folder."""
    first = _sample_path(template)[0].split("/", 1)[0]
    return None if any(c in first for c in "*?[") else first


def _shared_path_problem(contract: SourceContract, path: Path, other: LoadedContract) -> Problem | None:
    if not paths_overlap(contract.extract.path, other.contract.extract.path):
        return None
    if contract.extract.shared_path and other.contract.extract.shared_path:
        return None
    return Problem(
        "extract.path",
        f"{contract.extract.path!r} reads the same landing files as {other.path.name} "
        f"(extract.path {other.contract.extract.path!r}): both sources would load every file. If that is "
        "deliberate, set extract.shared_path: true in both contracts",
    )


def _accepted(accepted: Path | None, name: str) -> LoadedContract | None:
    """The accepted version of ``name``, if the lake keeps one (and it still reads)."""
    if accepted is None:
        return None
    path = accepted / f"{name}.yaml"
    if not path.is_file():
        return None
    try:
        return load_contract(path)
    except ContractError:
        return None


def _choose(path: Path, accepted: Path | None, result: ContractSet) -> LoadedContract | None:
    """The file on disk, unless it is invalid or a breaking change of an accepted version: then
    that version (the error or refusal recorded either way)."""
    kept = _accepted(accepted, path.stem)
    try:
        loaded = load_contract(path)
    except ContractError as exc:
        result.errors.append(exc)
        return kept
    if kept is None or kept.version == loaded.version:
        return loaded
    evolution = classify(kept.contract, loaded.contract)
    if evolution.accepted:
        return loaded
    result.refused.append(Refusal(path, path.stem, evolution.breaking, kept.version))
    return kept


def load_contracts(directory: Path | str, accepted: Path | None = None) -> ContractSet:
    """Every contract under ``directory``; bad files become errors, never exceptions. With
    ``accepted`` (the lake's accepted versions, ``contracts/accepted.py``), a file that is invalid
    or a breaking change of its accepted version loads as that version."""
    result = ContractSet()
    entities: dict[str, Path] = {}
    by_folder: dict[str | None, list[LoadedContract]] = defaultdict(list)
    for path in contract_files(directory):
        loaded = _choose(path, accepted, result)
        if loaded is None:
            continue
        contract = loaded.contract
        clash = entities.get(contract.entity_name)
        if clash is not None:
            result.errors.append(
                ContractError(
                    path,
                    [
                        Problem(
                            "entity",
                            f"silver entity {contract.entity_name!r} is already produced by {clash.name}",
                        )
                    ],
                )
            )
            continue
        # Only contracts that may share a top folder are compared: a folder per source, the usual
        # layout, keeps this linear in the number of contracts instead of quadratic.
        top = _top_folder(contract.extract.path)
        candidates = list(result.contracts.values()) if top is None else [*by_folder[top], *by_folder[None]]
        shared = next(
            (p for other in candidates if (p := _shared_path_problem(contract, path, other))),
            None,
        )
        if shared is not None:
            result.errors.append(ContractError(path, [shared]))
            continue
        entities[contract.entity_name] = path
        result.contracts[contract.name] = loaded
        by_folder[top].append(loaded)
    return result
