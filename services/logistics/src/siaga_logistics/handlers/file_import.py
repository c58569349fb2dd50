"""Importing a distribution plan file (CSV or XLSX) of any size, with bounded memory.

Phase 1 reads the file as a stream (``importing.read_plan_file``), in a worker thread so the service keeps
serving, and spills each accepted row to a temporary SQLite file indexed by kab/kota, because a file need
not be sorted and the rows of one kab/kota are planned together. Phase 2 imports one kab/kota at a time
(``plan_import.import_kab``): memory holds at most the largest kab/kota's rows (8,329 TPS nationally),
never the file. Rejected rows, with line, column and reason, are kept in the same SQLite file and listed
in the report, however many there are.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from siaga_runtime import Clock

from ..domain.plan_docs import row_from_compact, row_to_compact
from ..importing import FileHeader, ParsedRow, RowError, read_plan_file
from .common import Stores
from .plan_import import STORED_ROW, import_kab

__all__ = ["ImportProgress", "ImportReport", "RejectedRow", "import_file"]


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int
    column: str
    reason: str
    value: str | None = None


@dataclass(slots=True)
class ImportProgress:
    """Where an import is: ``phase`` is ``membaca`` (reading the file) or ``menyimpan`` (writing plans)."""

    phase: str
    rows_read: int = 0
    rows_rejected: int = 0
    bytes_read: int = 0
    size_bytes: int = 0
    kab_done: int = 0
    kab_total: int = 0
    elapsed_s: float = 0.0
    rows_per_s: float = 0.0
    eta_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(slots=True)
class ImportReport:
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    plans_created: int = 0
    plans_revised: int = 0
    plans_unchanged: int = 0
    tps_added: int = 0
    legs_planned: int = 0
    legs_replanned: int = 0
    legs_cancelled: int = 0
    documents_written: int = 0
    seconds: float = 0.0
    rows_per_s: float = 0.0
    plans: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)  # the first ones (all are counted and streamed)

    def summary(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if k not in ("rejected", "plans")}


Progress = Callable[[ImportProgress], Awaitable[None] | None]


class _Spill:
    """Rows by kab/kota and rejections, in a temporary SQLite file (deleted on close)."""

    def __init__(self, directory: str | None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="siaga-import-", dir=directory)
        self.db = sqlite3.connect(Path(self._dir.name) / "spill.sqlite", check_same_thread=False)
        self.db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE rows (kab TEXT, line INTEGER, row TEXT);"
            "CREATE TABLE rejected (line INTEGER, col TEXT, reason TEXT, value TEXT);"
        )

    def add_rows(self, rows: list[tuple[str, int, str]]) -> None:
        self.db.executemany("INSERT INTO rows VALUES (?, ?, ?)", rows)

    def add_rejected(self, rows: list[RejectedRow]) -> None:
        self.db.executemany(
            "INSERT INTO rejected VALUES (?, ?, ?, ?)", [(r.line, r.column, r.reason, r.value) for r in rows]
        )

    def finish_reading(self) -> None:
        self.db.execute("CREATE INDEX by_kab ON rows (kab, line)")
        self.db.commit()

    def kabs(self) -> list[str]:
        return [k for (k,) in self.db.execute("SELECT DISTINCT kab FROM rows ORDER BY kab")]

    def rows_of(self, kab: str) -> Iterator[tuple[int, str]]:
        yield from self.db.execute("SELECT line, row FROM rows WHERE kab = ? ORDER BY line", (kab,))

    def rejected(self) -> Iterator[RejectedRow]:
        for line, col, reason, value in self.db.execute("SELECT * FROM rejected ORDER BY line, rowid"):
            yield RejectedRow(line, col, reason, value)

    def close(self) -> None:
        self.db.close()
        self._dir.cleanup()


def _encode(row: Any) -> str:
    return json.dumps(row_to_compact(row), default=lambda v: v.isoformat())


def _decode(text: str) -> Any:
    return row_from_compact(json.loads(text))


def _read(
    path: Path,
    spill: _Spill,
    default_contests: tuple[str, ...] | None,
    may_write: Callable[[str], bool],
    report: Callable[[ImportProgress], None],
) -> tuple[FileHeader, int, int]:
    """Phase 1 (in a worker thread): rows read, and how many were rejected already."""
    read = rejected = 0
    started = time.monotonic()
    with read_plan_file(path, default_contests=default_contests) as plan_file:
        header = plan_file.header
        rows: list[tuple[str, int, str]] = []
        bad: list[RejectedRow] = []
        for item in plan_file:
            read += 1
            if isinstance(item, RowError):
                bad.append(RejectedRow(item.line, item.column, item.reason, item.value))
            elif isinstance(item, ParsedRow):
                if not may_write(item.row.desa):
                    bad.append(
                        RejectedRow(
                            item.line,
                            header.column_name("desa"),
                            f"{item.row.desa} di luar wilayah yang boleh Anda impor",
                            item.row.desa,
                        )
                    )
                else:
                    rows.append((item.row.kab_kota, item.line, _encode(item.row)))
            if len(rows) >= 5000 or len(bad) >= 1000:
                spill.add_rows(rows)
                spill.add_rejected(bad)
                rejected += len(bad)
                rows, bad = [], []
                elapsed = time.monotonic() - started
                size = plan_file.size_bytes
                done = plan_file.bytes_read
                rate = read / elapsed if elapsed > 0 else 0.0
                eta = (size - done) / (done / elapsed) if done and elapsed > 0 else None
                report(
                    ImportProgress(
                        "membaca",
                        read,
                        rejected,
                        done,
                        size,
                        elapsed_s=round(elapsed, 1),
                        rows_per_s=round(rate),
                        eta_s=round(eta, 1) if eta is not None else None,
                    )
                )
        spill.add_rows(rows)
        spill.add_rejected(bad)
        rejected += len(bad)
    spill.finish_reading()
    return header, read, rejected


async def import_file(
    stores: Stores,
    clock: Clock,
    path: Path,
    *,
    election_id: str,
    voting_day: date,
    default_contests: tuple[str, ...] | None = None,
    distribution_start: datetime | None = None,
    may_write: Callable[[str], bool] = lambda _: True,
    progress: Progress | None = None,
    rejected: Callable[[RejectedRow], Awaitable[None]] | None = None,
    keep_rejected: int = 1000,
    spill_dir: str | None = None,
    room: Callable[[], Awaitable[None]] | None = None,
) -> ImportReport:
    """Import a plan file: every accepted row goes in, every rejected row goes to ``rejected`` (in line
    order, at the end, streamed from disk) and the first ``keep_rejected`` into the report too.

    ``room`` is awaited after each kab/kota (the outbox relay's ``room``): the next one is written once the
    events of those before are mostly published, so the events waiting in memory stay bounded too."""
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    spill = _Spill(spill_dir)
    out = ImportReport()

    async def tell(p: ImportProgress) -> None:
        if progress is not None:
            result = progress(p)
            if result is not None:
                await result

    def from_thread(p: ImportProgress) -> None:
        if progress is not None:
            asyncio.run_coroutine_threadsafe(tell(p), loop)

    try:
        header, out.rows_read, early = await asyncio.to_thread(
            _read, path, spill, default_contests, may_write, from_thread
        )
        out.rows_rejected = early
        kabs = spill.kabs()
        for n, kab in enumerate(kabs):
            lines, rows = [], []
            for line, text in spill.rows_of(kab):
                lines.append(line)
                rows.append(_decode(text))
            result = await import_kab(
                stores,
                clock,
                election_id=election_id,
                voting_day=voting_day,
                kab=kab,
                rows=rows,
                distribution_start=distribution_start,
            )
            problems = [
                RejectedRow(
                    lines[p.index] if p.index != STORED_ROW else 0, header.column_name(p.column), p.message
                )
                for p in result.problems
            ]
            spill.add_rejected(problems)
            if room is not None:
                await room()
            out.rows_rejected += len(problems)
            out.rows_accepted += len(result.accepted)
            out.plans_created += result.created
            out.plans_revised += not result.created and not result.unchanged
            out.plans_unchanged += result.unchanged
            out.tps_added += result.tps_added
            out.legs_planned += result.legs_planned
            out.legs_replanned += result.legs_replanned
            out.legs_cancelled += result.legs_cancelled
            out.documents_written += result.docs_written
            out.plans.append(
                {
                    "plan_id": result.plan_id,
                    "region": kab,
                    "created": result.created,
                    "unchanged": result.unchanged,
                    "rows": len(rows),
                    "accepted": len(result.accepted),
                }
            )
            elapsed = time.monotonic() - started
            done_rows = out.rows_accepted + out.rows_rejected
            rate = done_rows / elapsed if elapsed else 0.0
            await tell(
                ImportProgress(
                    "menyimpan",
                    out.rows_read,
                    out.rows_rejected,
                    kab_done=n + 1,
                    kab_total=len(kabs),
                    elapsed_s=round(elapsed, 1),
                    rows_per_s=round(rate),
                    eta_s=round((out.rows_read - done_rows) / rate, 1) if rate else None,
                )
            )
        for n, row in enumerate(spill.rejected()):
            if n < keep_rejected:
                out.rejected.append(row)
            if rejected is not None:
                await rejected(row)
    finally:
        await asyncio.to_thread(spill.close)
    out.seconds = round(time.monotonic() - started, 2)
    out.rows_per_s = round(out.rows_read / out.seconds) if out.seconds else 0.0
    return out
