"""One registry of input-table schemas, and the reader that enforces it.

Every input table (regions, prices, sites, chips, …) is declared once as a
:class:`TableSchema`: its columns with kind, unit, default and description.
The loader, the validation and the schema documentation all follow from that
declaration (Calliope's "one source of truth").

Errors name the file, the row and the column and say what was expected::

    sites.csv row 4 (line 5), column max_mw: expected a number >= 0, got '-5'

Row numbers count data rows from 1; for CSV files the physical line number
(header = line 1) is given as well so a spreadsheet user finds the cell.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Columns any table may carry for provenance; kept, never used by the model.
METADATA_COLUMNS = ("source", "notes")

#: Largest magnitude of any number in an input table (a column may set a smaller maximum):
#: far above any real MW, USD or H100e figure, and small enough that no product of the
#: model's arithmetic overflows to inf (1e308 USD/MWh × 8760 h is inf).
MAX_MAGNITUDE = 1e15

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
#: Line breaks (as ``str.splitlines`` sees them) escaped so a message stays one line.
_ONE_LINE = {ord(c): repr(c)[1:-1] for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}


class InputError(ValueError):
    """Bad user input: a one-line, self-explaining message.

    Parameters
    ----------
    message : str
        What was expected and what was found.
    file : str or Path, optional
        The file at fault.
    row : int, optional
        1-based data row (not counting the header).
    column : str, optional
        The column or key at fault.
    line : int, optional
        Physical line number in a text file, when known.
    key : str, optional
        Dotted key path in a YAML file (instead of a column).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.key = key
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where: list[str] = [Path(self.file).name if self.file else ""]
        if self.row is not None:
            where.append(f"row {self.row}" + (f" (line {self.line})" if self.line else ""))
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.column:
            where.append(f"column {self.column}")
        if self.key:
            where.append(f"key {self.key}")
        head = ", ".join(where[1:])
        if where and where[0] and head:
            sep = " " if head.startswith(("row", "line")) else ", "
            head = f"{where[0]}{sep}{head}"
        elif where:
            head = where[0] or head
        text = f"{head}: {self.message}" if head else self.message
        return text.translate(_ONE_LINE)  # a key or value may hold a line break


@dataclass(frozen=True)
class Column:
    """One column of an input table.

    ``kind`` is one of ``"str"``, ``"float"``, ``"int"``, ``"bool"``.
    ``minimum``/``maximum`` bound numeric values (inclusive unless
    ``exclusive_minimum``).  An optional column left blank takes ``default``.
    """

    name: str
    kind: str
    unit: str
    description: str
    required: bool = True
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False

    def expectation(self) -> str:
        what = {
            "str": "a non-empty text",
            "float": "a number",
            "int": "a whole number",
            "bool": "true or false",
        }[self.kind]
        if self.minimum is not None:
            what += f" {'>' if self.exclusive_minimum else '>='} {self.minimum:g}"
        if self.maximum is not None:
            what += f" <= {self.maximum:g}"
        return what


@dataclass(frozen=True)
class TableSchema:
    """A named table: its columns and the key column(s) that must be unique."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def markdown(self) -> str:
        """The schema as a Markdown table (used by the docs)."""
        lines = [
            f"**{self.name}** — {self.description}",
            "",
            "| column | type | unit | required | default | description |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for c in self.columns:
            default = "" if c.required else ("blank" if c.default is None else str(c.default))
            lines.append(
                f"| `{c.name}` | {c.kind} | {c.unit} | {'yes' if c.required else 'no'} "
                f"| {default} | {c.description} |"
            )
        return "\n".join(lines)


def read_table(path: str | Path, schema: TableSchema) -> pd.DataFrame:
    """Read a CSV or Parquet file and validate it against ``schema``.

    Returns a DataFrame with exactly the schema's columns (plus any
    metadata columns present), typed: floats as ``float64`` (blank optional
    values as NaN), ints as ``int64`` (or ``float64`` with NaN when an
    optional int column has blanks), bools as ``bool``, text as ``object``.

    Raises
    ------
    InputError
        For a missing or unreadable file, a missing or unknown column, a
        value of the wrong kind or out of range, or a duplicated key.
    """
    path = Path(path)
    try:
        found = path.is_file()
    except OSError as exc:  # a name too long, no permission on a parent folder
        raise InputError(f"cannot read {schema.name} table: {exc.strerror or exc}",
                         file=path) from None
    if not found:
        raise InputError(f"file not found (expected a {schema.name} table)", file=path)
    suffix = path.suffix.lower()
    lines: list[int] | None = None
    try:
        if suffix == ".csv":
            header, lines = csv_layout(path)
            seen: set[str] = set()
            for name in header:
                if name in seen and name:  # pandas would rename the second to 'name.1'
                    raise InputError("column appears twice", file=path, column=name)
                seen.add(name)
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
            _check_nul(path, raw, header, lines)
            if lines is not None and len(lines) != len(raw):
                lines = None  # the two readers disagree on the rows: name rows only
        elif suffix in (".parquet", ".pq"):
            raw = pd.read_parquet(path)
        else:
            raise InputError(
                f"unsupported table format '{suffix}' (expected .csv or .parquet)", file=path
            )
    except InputError:
        raise
    except Exception as exc:  # pandas/pyarrow parser errors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read {schema.name} table: {first}", file=path) from None
    return validate_frame(raw, schema, path, lines=lines)


def _check_nul(path: Path, raw: pd.DataFrame, header: list[str],
               lines: list[int] | None) -> None:
    """Some pandas versions cut a CSV cell at a NUL byte (two ids would become one):
    find a NUL with Python's ``csv`` module and name its row and column."""
    if b"\x00" not in path.read_bytes():
        return
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for r, record in enumerate(r for r in csv.reader(fh) if r):
            for c, cell in enumerate(record):
                if "\x00" in cell:
                    name = header[c] if c < len(header) else f"column {c + 1}"
                    if r == 0:
                        raise InputError("a NUL character in the header", file=path,
                                         column=name)
                    raise InputError(
                        "expected text without control characters (such as NUL, tab or "
                        f"escape; found U+0000), got {cell!r}", file=path, row=r,
                        column=name, line=None if lines is None or r - 1 >= len(lines)
                        else lines[r - 1])


def csv_layout(path: str | Path) -> tuple[list[str], list[int] | None]:
    """The header (names stripped) of a CSV file and the physical line each data row
    starts on (1-based; a quoted value may span lines; blank lines are skipped as pandas
    skips them). ``None`` for the lines when Python's ``csv`` module cannot read the file
    (pandas then reports the problem).
    """
    header: list[str] = []
    starts: list[int] = []
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            reader = csv.reader(fh)
            line = 1
            for i, record in enumerate(reader):
                if i == 0:
                    header = [c.strip() for c in record]
                elif record:
                    starts.append(line)
                line = reader.line_num + 1
    except csv.Error:
        return header, None
    return header, starts


def validate_frame(
    raw: pd.DataFrame,
    schema: TableSchema,
    path: str | Path,
    *,
    lines: list[int] | None = None,
) -> pd.DataFrame:
    """Validate an already-read frame (see :func:`read_table`).

    ``lines`` holds the physical line of each row of a text file, for messages; the
    validated frame keeps it in ``attrs["lines"]`` for :func:`row_error`.
    """
    raw = raw.rename(columns=lambda c: str(c).strip())
    allowed = set(schema.names) | set(METADATA_COLUMNS)
    for name in raw.columns:
        if name not in allowed:
            raise InputError(
                f"unknown column (expected only: {', '.join(schema.names)})",
                file=path,
                column=name,
            )
    for col in schema.columns:
        if col.required and col.name not in raw.columns:
            raise InputError("required column is missing", file=path, column=col.name)
    if raw.columns.duplicated().any():
        dup = raw.columns[raw.columns.duplicated()][0]
        raise InputError("column appears twice", file=path, column=dup)
    if len(raw) == 0:
        raise InputError(f"the {schema.name} table has no rows", file=path)

    out = pd.DataFrame(index=pd.RangeIndex(len(raw)))
    for col in schema.columns:
        values = raw[col.name] if col.name in raw.columns else pd.Series([None] * len(raw))
        out[col.name] = _parse_column(values.reset_index(drop=True), col, path, lines)
    for meta in METADATA_COLUMNS:
        if meta in raw.columns:
            out[meta] = raw[meta].astype(object).reset_index(drop=True)

    if schema.key:
        dup = out.duplicated(list(schema.key), keep="first")
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            keyval = ", ".join(str(out.at[i, k]) for k in schema.key)
            raise InputError(
                f"duplicate {'/'.join(schema.key)} '{keyval}' (each must appear once)",
                file=path,
                row=i + 1,
                column=schema.key[-1],
                line=None if lines is None else lines[i],
            )
    if lines is not None:
        out.attrs["lines"] = list(lines)
    return out


def _is_blank(v: Any) -> bool:
    """None, NaN, Parquet's ``<NA>`` and ``NaT``, or text of only spaces."""
    if isinstance(v, str):
        return v.strip() == ""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, (float, np.floating)) and bool(np.isnan(v))


def _is_cell(v: Any) -> bool:
    """One value (not a list, mapping, array or bytes from a nested Parquet column)."""
    return not isinstance(v, (list, tuple, dict, set, np.ndarray, bytes, bytearray))


def _control_character(text: str) -> str | None:
    """The first control character (Unicode category Cc: NUL, tab, escape, …) in ``text``."""
    for ch in text:
        if unicodedata.category(ch) == "Cc":
            return ch
    return None


def _parse_column(
    values: pd.Series, col: Column, path: str | Path, lines: list[int] | None
) -> pd.Series:
    def fail(i: int, got: Any, what: str | None = None) -> InputError:
        if not _is_cell(got):
            shown = "a list of values"
        elif _is_blank(got):
            shown = "blank"
        else:
            if hasattr(got, "item"):  # numpy scalar from Parquet
                got = got.item()
            shown = repr(got.strip() if isinstance(got, str) else got)
        return InputError(
            f"expected {what or col.expectation()}, got {shown}",
            file=path,
            row=i + 1,
            column=col.name,
            line=None if lines is None else lines[i],
        )

    for i, v in enumerate(values):
        if not _is_cell(v):
            raise fail(i, v, f"one value per cell ({col.expectation()})")
    blank = np.array([_is_blank(v) for v in values], dtype=bool)
    if col.required and blank.any():
        i = int(np.flatnonzero(blank)[0])
        raise fail(i, values.iloc[i])

    if col.kind == "str":
        parsed = [None if b else str(v).strip() for v, b in zip(values, blank)]
        for i, text in enumerate(parsed):
            if text is not None and _control_character(text) is not None:
                # netCDF and most tools cut text at NUL: two ids would become one
                raise fail(i, text, "text without control characters (such as NUL, tab or "
                           f"escape; found U+{ord(_control_character(text)):04X})")
        if not col.required and col.default is not None:
            parsed = [col.default if p is None else p for p in parsed]
        return pd.Series(parsed, dtype=object)

    if col.kind == "bool":
        parsed = []
        for i, (v, b) in enumerate(zip(values, blank)):
            if b:
                parsed.append(bool(col.default) if col.default is not None else False)
            elif isinstance(v, (bool, np.bool_)):
                parsed.append(bool(v))
            elif str(v).strip().lower() in _TRUE:
                parsed.append(True)
            elif str(v).strip().lower() in _FALSE:
                parsed.append(False)
            else:
                raise fail(i, v)
        return pd.Series(parsed, dtype=bool)

    # numeric
    flags = [i for i, v in enumerate(values) if isinstance(v, (bool, np.bool_))]
    if flags:  # a Parquet bool column is not 1.0 and 0.0
        raise fail(flags[0], values.iloc[flags[0]])
    as_text = values.map(lambda v: v.strip() if isinstance(v, str) else (
        np.nan if _is_blank(v) else v))
    nums = pd.to_numeric(as_text.where(~blank, None), errors="coerce").astype(float)
    bad = (~blank) & (nums.isna().to_numpy() | ~np.isfinite(nums.fillna(0).to_numpy()))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise fail(i, values.iloc[i])
    arr = nums.to_numpy(dtype=float)
    if col.kind == "int":
        frac = (~blank) & (np.abs(arr - np.round(arr)) > 1e-9)
        if frac.any():
            i = int(np.flatnonzero(frac)[0])
            raise fail(i, values.iloc[i])
    huge = (~blank) & (np.abs(arr) > MAX_MAGNITUDE)
    if huge.any():
        i = int(np.flatnonzero(huge)[0])
        raise fail(i, values.iloc[i], f"{col.expectation()} and at most {MAX_MAGNITUDE:.0e} "
                   "in magnitude")
    if col.minimum is not None:
        low = (~blank) & ((arr <= col.minimum) if col.exclusive_minimum else (arr < col.minimum))
        if low.any():
            i = int(np.flatnonzero(low)[0])
            raise fail(i, values.iloc[i])
    if col.maximum is not None:
        high = (~blank) & (arr > col.maximum)
        if high.any():
            i = int(np.flatnonzero(high)[0])
            raise fail(i, values.iloc[i])
    if blank.any() and col.default is not None:
        arr = np.where(blank, float(col.default), arr)
        blank = np.zeros_like(blank)
    if col.kind == "int" and not blank.any():
        return pd.Series(np.round(arr).astype(np.int64))
    return pd.Series(arr, dtype=float)


def row_error(
    df: pd.DataFrame,
    i: int,
    column: str,
    message: str,
    path: str | Path,
    *,
    csv: bool | None = None,
) -> InputError:
    """An :class:`InputError` for data row ``i`` (0-based) of a validated table.

    The line is the row's physical line when the table came from :func:`read_table`
    (``df.attrs["lines"]``), else ``i + 2`` for a CSV file (one line per row).
    """
    is_csv = Path(path).suffix.lower() == ".csv" if csv is None else csv
    lines = df.attrs.get("lines")
    if lines is not None and 0 <= i < len(lines):
        line: int | None = int(lines[i])
    else:
        line = i + 2 if is_csv else None
    return InputError(message, file=path, row=i + 1, column=column, line=line)


def check_references(
    df: pd.DataFrame,
    column: str,
    known: Iterable[str],
    what: str,
    path: str | Path,
) -> None:
    """Raise on the first value of ``df[column]`` that is not in ``known``."""
    known = set(known)
    for i, v in enumerate(df[column]):
        if v is not None and v not in known:
            shown = ", ".join(sorted(known)[:12]) + (", …" if len(known) > 12 else "")
            raise row_error(df, i, column, f"unknown {what} '{v}' (known: {shown})", path)


def check_choice(
    df: pd.DataFrame,
    column: str,
    choices: Iterable[str],
    path: str | Path,
) -> None:
    """Raise on the first value of ``df[column]`` that is not one of ``choices``.

    Examples
    --------
    >>> df = pd.DataFrame({"basis": ["forecast", "guess"]})
    >>> try:
    ...     check_choice(df, "basis", ("forecast", "assumption"), "t.csv")
    ... except InputError as exc:
    ...     print(exc)
    t.csv row 2 (line 3), column basis: expected one of forecast, assumption, got 'guess'
    """
    choices = tuple(choices)
    for i, v in enumerate(df[column]):
        if v is not None and v not in choices:
            raise row_error(df, i, column, f"expected one of {', '.join(choices)}, got '{v}'",
                            path)
