"""Streaming reading of a plan file (CSV or XLSX): rows are parsed as they are read, so a national file of
820,161 TPS goes through in bounded memory.

CSV is read as bytes and decoded line by line, so that a line that is not UTF-8 is one ``RowError`` rather
than the end of the import; the delimiter (``,`` or ``;``) is whichever the header line uses more, outside
quotes. XLSX is the first worksheet, opened read-only (openpyxl streams its XML).
"""

from __future__ import annotations

import codecs
import csv
import os
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from . import values as v
from .columns import FileHeader, HeaderError, ParsedRow, RowError
from .longformat import LongMerger, try_key
from .rows import build_row, read_cells

__all__ = ["XLSX_TYPE", "PlanFile", "read_plan_file"]

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"  # its media type

_Row = tuple[int, Sequence[object]] | RowError


class _Source(Protocol):
    lines_read: int
    size_bytes: int

    @property
    def bytes_read(self) -> int: ...
    def rows(self) -> Iterator[_Row]: ...
    def close(self) -> None: ...


def _delimiter(line: str) -> str:
    counts = {",": 0, ";": 0}
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    return ";" if counts[";"] > counts[","] else ","


class _CsvSource:
    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")
        self.size_bytes = os.fstat(self._file.fileno()).st_size
        self.bytes_read = 0
        self.lines_read = 0
        self._fed = 0  # the last physical line handed to the csv reader
        self._bad: list[int] = []  # lines of the current record that were not UTF-8

    def _lines(self) -> Iterator[str]:
        for raw in self._file:
            self.lines_read += 1
            self.bytes_read += len(raw)
            if self.lines_read == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                self._bad.append(self.lines_read)
                text = raw.decode("utf-8", "replace")
            self._fed = self.lines_read
            yield text

    def rows(self) -> Iterator[_Row]:
        lines = self._lines()
        first = next((ln for ln in lines if ln.strip()), None)
        if first is None:
            return
        header_line = self._fed

        def feed() -> Iterator[str]:
            self._fed = header_line
            yield first
            yield from lines

        self._fed = header_line - 1
        reader = csv.reader(feed(), delimiter=_delimiter(first))
        while True:
            start = self._fed + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield RowError(start, "", f"baris tidak dapat dibaca sebagai CSV ({exc})")
                if self._fed < start:
                    return
                continue
            if self._bad:
                self._bad.clear()
                yield RowError(start, "", "baris memuat teks yang bukan UTF-8; simpan file sebagai CSV UTF-8")
                continue
            yield start, cells

    def close(self) -> None:
        self._file.close()


class _XlsxSource:
    def __init__(self, path: Path) -> None:
        self.size_bytes = path.stat().st_size
        self.lines_read = 0
        try:
            self._book: Any = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise HeaderError(f'"{path.name}" bukan file XLSX yang dapat dibaca ({exc})') from exc
        sheet = self._book.worksheets[0]
        self._max_row: int | None = sheet.max_row
        self._sheet = sheet

    @property
    def bytes_read(self) -> int:
        """An estimate: the share of the sheet's rows read, when the sheet says how many it has."""
        if not self._max_row:
            return 0
        return min(self.size_bytes, self.size_bytes * self.lines_read // self._max_row)

    def rows(self) -> Iterator[_Row]:
        for line, cells in enumerate(self._sheet.iter_rows(values_only=True), start=1):
            self.lines_read = line
            yield line, cells

    def close(self) -> None:
        self._book.close()


class PlanFile:
    """An open plan file; iterate (once) for ``ParsedRow | RowError`` in file order. A context manager."""

    def __init__(self, path: Path, source: _Source, default_contests: tuple[str, ...] | None) -> None:
        self.path = path
        self._source = source
        self._rows = source.rows()
        self._started = False
        try:
            for item in self._rows:
                if isinstance(item, RowError):
                    raise HeaderError(f"baris header tidak dapat dibaca: {item.reason}")
                line, cells = item
                if not all(v.is_empty(c) for c in cells):
                    self.header_line = line
                    self.header = FileHeader(cells, default_contests=default_contests)
                    break
            else:
                raise HeaderError(f'file "{path.name}" kosong: tidak ada baris header')
        except BaseException:
            source.close()
            raise

    @property
    def lines_read(self) -> int:
        return self._source.lines_read

    @property
    def size_bytes(self) -> int:
        return self._source.size_bytes

    @property
    def bytes_read(self) -> int:
        return self._source.bytes_read

    def __enter__(self) -> PlanFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._source.close()

    def __iter__(self) -> Iterator[ParsedRow | RowError]:
        if self._started:
            raise RuntimeError("PlanFile hanya dapat dibaca sekali")
        self._started = True
        header = self.header
        merger = LongMerger(header) if header.long else None
        for item in self._rows:
            if isinstance(item, RowError):
                if merger is None:
                    yield item
                else:
                    yield from merger.feed(item, None)
                continue
            line, cells = item
            parsed = read_cells(header, cells, line)
            if parsed is None:
                continue
            if merger is None:
                yield parsed if isinstance(parsed, RowError) else build_row(header, parsed)
            else:
                key = try_key(header, cells) if isinstance(parsed, RowError) else parsed.key
                yield from merger.feed(parsed, key)
        if merger is not None:
            yield from merger.close()


def read_plan_file(path: Path, *, default_contests: tuple[str, ...] | None = None) -> PlanFile:
    """Open ``path`` (``.csv`` or ``.xlsx``) and read its header; raises ``HeaderError`` when the file cannot
    be imported at all. ``default_contests`` stand in for a missing or empty ``pemilihan``."""
    path = Path(path)
    if default_contests is not None:
        default_contests = v.parse_contests(";".join(default_contests))
    suffix = path.suffix.lower()
    source: _Source
    if suffix == ".csv":
        source = _CsvSource(path)
    elif suffix == ".xlsx":
        source = _XlsxSource(path)
    else:
        raise HeaderError(
            f'jenis file "{path.suffix or path.name}" tidak didukung; gunakan .csv atau .xlsx', path.suffix
        )
    return PlanFile(path, source, default_contests)
