"""Where a key sits in a YAML file, for error messages that name its line."""

from __future__ import annotations

import os
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


def yaml_line(path: Path, loc: Sequence[str | int]) -> int | None:
    """1-based line of the YAML node at ``loc`` (mapping keys and list indices).

    Returns the line of the deepest part of ``loc`` that exists, or ``None``
    when the file cannot be parsed.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "s.yaml"
    >>> _ = p.write_text("a: 1\\nb:\\n  c: [1, 2]\\n")
    >>> yaml_line(p, ("b", "c")), yaml_line(p, ("b", "missing"))
    (3, 2)
    """
    try:
        node = yaml.compose(Path(path).read_text(encoding="utf-8"))
    except Exception:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if str(k.value) == str(part):
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                return line
        elif (isinstance(node, yaml.SequenceNode) and str(part).isdigit()
              and int(part) < len(node.value)):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            return line
    return line


#: Deepest nesting of lists and mappings a dcplan YAML file may have (the deepest real one
#: has 4); PyYAML builds nested values recursively, so this one is not raisable.
MAX_YAML_DEPTH = 50
#: Default for the most values a YAML file may stand for once its aliases (``*name``) are
#: expanded; the environment variable ``DCPLAN_MAX_YAML_VALUES`` raises it.
MAX_YAML_VALUES = 1_000_000


def max_yaml_values() -> int:
    """The limit on a YAML file's expanded values: ``DCPLAN_MAX_YAML_VALUES`` or
    :data:`MAX_YAML_VALUES`."""
    from grids.tables import InputError

    raw = os.environ.get("DCPLAN_MAX_YAML_VALUES", "").strip()
    if not raw:
        return MAX_YAML_VALUES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"DCPLAN_MAX_YAML_VALUES: expected a whole number >= 1, got {raw!r}")
    return value


class _DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping names the same key twice."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key written twice in one mapping (PyYAML keeps
    the last without a word)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                    seen.setdefault(key, key_node.start_mark.line + 1)
                except TypeError:  # an unhashable key: PyYAML's own error follows
                    continue
                if first is not None:
                    raise _DuplicateKeyError(
                        None, None, f"key '{key}' appears twice (first on line {first}); "
                        "give each key once", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def check_yaml_size(text: str, path: Path) -> None:
    """Refuse, before building any value, a YAML text nested deeper than
    :data:`MAX_YAML_DEPTH` or standing for more values than :func:`max_yaml_values` once
    its aliases are expanded ("billion laughs").

    Reads PyYAML's event stream, which needs neither recursion nor the expanded values:
    an alias adds the size of the node its anchor names.

    Raises
    ------
    InputError
        Naming the file, the line and the limit.
    yaml.YAMLError
        For a syntax error (the caller reports it).
    """
    from grids.tables import InputError

    limit = max_yaml_values()
    sizes: dict[str, int] = {}
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, total before the node)
    total = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.AliasEvent):
            total += sizes.get(event.anchor, 1)
        elif isinstance(event, (yaml.ScalarEvent, yaml.SequenceStartEvent,
                                yaml.MappingStartEvent)):
            total += 1
            if isinstance(event, yaml.ScalarEvent):
                if event.anchor:
                    sizes[event.anchor] = 1
            else:
                open_nodes.append((event.anchor, total - 1))
                if len(open_nodes) > MAX_YAML_DEPTH:
                    raise InputError(f"lists and mappings nested more than {MAX_YAML_DEPTH} "
                                     "deep (a dcplan file needs at most a few levels)",
                                     file=path, line=line)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            anchor, before = open_nodes.pop()
            if anchor:
                sizes[anchor] = total - before
        if total > limit:
            raise InputError(f"the YAML stands for more than {limit:,} values once its "
                             "aliases (*name) are expanded (limit DCPLAN_MAX_YAML_VALUES="
                             f"{limit}; raise it in the environment if this is intended)",
                             file=path, line=line)


def read_yaml_mapping(path: Path, what: str, top: str) -> dict:
    """Safe-load a YAML file whose top level must be a mapping.

    ``what`` names the file in errors ("a scenario YAML"), ``top`` what the
    mapping holds ("scenario keys"). Every failure is an ``InputError`` with
    the file and, for syntax errors, the line: a key written twice, nesting deeper
    than :data:`MAX_YAML_DEPTH` and aliases expanding past :func:`max_yaml_values` are
    refused before any value is built.
    """
    from grids.tables import InputError

    path = Path(path)
    try:
        if not path.is_file():
            raise InputError(f"file not found (expected {what})", file=path)
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", file=path) from None
    except OSError as exc:  # a symlink loop, a folder, no permission
        raise InputError(f"cannot read {what}: {exc.strerror or exc}", file=path) from None
    try:
        check_yaml_size(text, path)
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        if not isinstance(exc, _DuplicateKeyError):
            problem = f"invalid YAML: {problem}"
        raise InputError(problem, file=path, line=(mark.line + 1) if mark else None) from None
    if not isinstance(raw, dict):
        raise InputError(f"expected a mapping of {top} at the top level", file=path)
    return raw


class StrictModel(BaseModel):
    """Base of every YAML schema: unknown keys are errors; values are frozen; every number
    is finite (``.nan`` and ``.inf`` are errors naming the key, not NaN in the LP)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, data: Any) -> Any:
        """``discount_rate: true`` is an error naming the key, not 1.0 (pydantic's lax mode
        takes a bool for a number): a bool given for a number is passed on as its text,
        which no number field accepts."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, value in data.items():
            field = cls.model_fields.get(name) if isinstance(name, str) else None
            if field is not None and _holds_bool(value) and _wants_number(field.annotation):
                out[name] = _bools_as_text(value)
        return out


def _holds_bool(value: Any) -> bool:
    """``value`` is a bool, or a list or mapping with a bool among its values."""
    if isinstance(value, bool):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_bool(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_bool(v) for v in value.values())
    return False


def _bools_as_text(value: Any) -> Any:
    """``value`` with every bool replaced by its YAML text (``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return [_bools_as_text(v) for v in value]
    if isinstance(value, dict):
        return {k: _bools_as_text(v) for k, v in value.items()}
    return value


def _wants_number(annotation: Any) -> bool:
    """The annotation takes numbers and neither bools nor free values (``Any``, a model)."""
    found: set[str] = set()

    def walk(ann: Any) -> None:
        if ann is bool or ann is Any or (isinstance(ann, type) and issubclass(ann, BaseModel)):
            found.add("other")
        elif ann in (int, float):
            found.add("number")
        elif get_origin(ann) in (Union, types.UnionType, list, tuple, dict) or get_args(ann):
            for arg in get_args(ann):
                walk(arg)

    walk(annotation)
    return found == {"number"}


class YearSpan(StrictModel):
    """``{start, end}``: the first and last year simulated, end ≥ start."""

    start: int = Field(ge=1900, le=2300, description="first year (y0)")
    end: int = Field(ge=1900, le=2300, description="last year (yN)")

    @model_validator(mode="after")
    def _order(self) -> YearSpan:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) must be >= start ({self.start})")
        return self


def referenced_file(yaml_path: Path, loc: Sequence[str], value: str) -> Path:
    """The file a YAML key names (``sites: sites.csv``), resolved relative to the YAML file.

    Raises
    ------
    InputError
        Naming the YAML file, the key and its line when the file does not exist or its
        path cannot be followed (a symlink loop, a name too long).
    """
    from grids.tables import InputError

    yaml_path = Path(yaml_path)
    where = {"file": yaml_path, "key": ".".join(loc), "line": yaml_line(yaml_path, loc)}
    try:
        path = (yaml_path.parent / value).resolve()
        found = path.is_file()
    except (OSError, RuntimeError) as exc:  # RuntimeError: Python < 3.13's symlink loop
        why = "a symlink loop" if "loop" in str(exc).lower() else (
            getattr(exc, "strerror", None) or str(exc))
        raise InputError(f"cannot follow the path {value!r}: {why}", **where) from None
    if not found:
        raise InputError(f"file not found: {value}", **where)
    return path
