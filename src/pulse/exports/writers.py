"""Writing an export: streamed CSV, typed Excel, and a PDF snapshot (WeasyPrint).

CSV cells that a spreadsheet would run as a formula (starting with = + - @, tab or carriage
return) get a leading apostrophe (OWASP "CSV injection"); Excel cells the same.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, get_args
from zoneinfo import ZoneInfo

from pulse.exports.sources import Export, Row
from pulse.metrics.catalog import Column, Unit

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMERIC_UNITS = frozenset(get_args(Unit))  # every metric unit is a number
EXCEL_FORMATS = {
    "money": "#,##0.00",
    "money_per_month": "#,##0.00",
    "percent": "0.0",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm:ss",
}


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet could take for a formula, made inert with a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def plain_number(value: Any) -> Any:
    """Whole floats as integers and decimals as floats (300.0 → 300), like the JSON API."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return neutralise(plain_number(value))


def csv_chunks(export: Export) -> Iterator[bytes]:
    """The export as UTF-8 CSV, one piece per row chunk: a million-row export never sits in
    memory, and the first bytes leave before the last rows are read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.label for c in export.columns])
    for chunk in export.chunks:
        writer.writerows([_csv_cell(v) for v in row] for row in chunk)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    tail = buffer.getvalue()
    if tail:
        yield tail.encode()


# -- Excel ---------------------------------------------------------------------------------------


def _parse_instant(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(str(value))


def excel_value(value: Any, unit: str, tz: str) -> Any:
    """A typed cell: dates and instants as Excel dates (in the reporting time zone, which Excel
    cannot store), numbers as numbers, text neutralised."""
    if value is None:
        return None
    if unit == "date":
        parsed = _parse_instant(value)
        return parsed.date() if parsed else None
    if unit == "datetime":
        moment = _parse_instant(value)
        if moment is not None and moment.tzinfo is not None:
            moment = moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
        return moment
    if unit in NUMERIC_UNITS and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return neutralise(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    return neutralise(plain_number(value))


def write_xlsx(exports: Iterable[Export], out: IO[bytes] | Path, tz: str = "UTC") -> None:
    """One sheet per export, written row by row (openpyxl write-only mode)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    for export in exports:
        sheet = book.create_sheet(_sheet_name(export.label))
        header = []
        for column in export.columns:
            cell = WriteOnlyCell(sheet, value=column.label)
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for chunk in export.chunks:
            for row in chunk:
                sheet.append(_excel_row(sheet, export.columns, row, tz))
    book.save(out)


def _excel_row(sheet: Any, columns: Sequence[Column], row: Row, tz: str) -> list[Any]:
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for column, value in zip(columns, row, strict=True):
        cell = WriteOnlyCell(sheet, value=excel_value(value, column.unit, tz))
        if column.unit in EXCEL_FORMATS:
            cell.number_format = EXCEL_FORMATS[column.unit]
        cells.append(cell)
    return cells


def _sheet_name(label: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in label)
    return cleaned[:31] or "Sheet"
