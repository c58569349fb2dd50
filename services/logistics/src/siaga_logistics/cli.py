"""``python -m siaga_logistics``: the service, and the tools KPU uses with it.

- ``python -m siaga_logistics`` (or ``serve``): run the logistics service.
- ``python -m siaga_logistics import FILE --election ID --voting-day YYYY-MM-DD``: import a distribution
  plan file (CSV or XLSX) through the service's authenticated upload (``POST /plans/import``), with live
  progress (rows per second, ETA), every rejected row written to a CSV report, and a final summary. The
  token comes from ``SIAGA_TOKEN`` (never a command-line argument, which other users of the machine can
  read); its scope decides which rows are accepted (KPU RI: all; a kab/kota: its own).
- ``python -m siaga_logistics generate-national --out FILE``: the national plan file from the official
  region list (83,762 desa/kelurahan, 820,161 TPS).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .importing.reader import XLSX_TYPE

__all__ = ["main"]

CHUNK = 1024 * 1024


def _serve() -> int:
    from siaga_runtime.serve import serve

    from .app import build_app
    from .settings import LogisticsSettings

    serve(build_app, LogisticsSettings())
    return 0


def _chunks(path: Path, sent: list[int]) -> Iterator[bytes]:
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            sent[0] += len(block)
            yield block


def _import(args: argparse.Namespace) -> int:  # noqa: C901 - the CLI's options, progress and summary in one place
    import httpx
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    token = os.environ.get("SIAGA_TOKEN")
    if not token:
        console.print(
            "[red]SIAGA_TOKEN tidak diisi[/red]: token API Anda (lihat README, bagian impor rencana)."
        )
        return 2
    path = Path(args.file)
    if not path.is_file():
        console.print(f"[red]{path}: berkas tidak ada[/red]")
        return 2
    params: dict[str, str] = {"election_id": args.election, "voting_day": args.voting_day}
    if args.contests:
        params["contests"] = args.contests
    if args.distribution_start:
        params["distribution_start"] = args.distribution_start
    ctype = XLSX_TYPE if path.suffix.lower() == ".xlsx" else "text/csv"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": ctype, "Accept": "application/x-ndjson"}
    rejected_path = Path(args.rejected_out)
    summary: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    sent = [0]
    size = path.stat().st_size
    with (
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        ) as bar,
        rejected_path.open("w", newline="", encoding="utf-8") as out,
        httpx.Client(timeout=httpx.Timeout(30.0, read=None)) as client,
    ):
        writer = csv.writer(out)
        writer.writerow(["baris", "kolom", "alasan", "nilai"])
        upload = bar.add_task("Mengunggah", total=size, detail="")
        work = bar.add_task("Mengimpor", total=None, detail="", visible=False)
        with client.stream(
            "POST",
            f"{args.url.rstrip('/')}/plans/import",
            params=params,
            headers=headers,
            content=_chunks(path, sent),
        ) as response:
            bar.update(upload, completed=size)
            if response.status_code != 200:
                body = response.read().decode(errors="replace")[:2000]
                console.print(f"[red]Ditolak ({response.status_code})[/red]: {body}")
                return 1
            for line in response.iter_lines():
                if not line:
                    continue
                item = json.loads(line)
                if "progress" in item:
                    p = item["progress"]
                    bar.update(
                        work,
                        visible=True,
                        description="Membaca" if p["phase"] == "membaca" else "Menyimpan",
                        total=p["size_bytes"] or None if p["phase"] == "membaca" else p["kab_total"],
                        completed=p["bytes_read"] if p["phase"] == "membaca" else p["kab_done"],
                        detail=f"{p['rows_read']:,} baris · {p['rows_per_s']:,.0f} baris/dtk · "
                        f"{p['rows_rejected']:,} ditolak",
                    )
                elif "rejected" in item:
                    r = item["rejected"]
                    writer.writerow([r["line"], r["column"], r["reason"], r["value"] or ""])
                elif "summary" in item:
                    summary = item["summary"]
                elif "error" in item:
                    error = item["error"]
    if error is not None:
        console.print(f"[red]Berkas tidak dapat dibaca[/red]: {error['message']}")
        return 1
    if summary is None:
        console.print("[red]Sambungan terputus sebelum impor selesai[/red]")
        return 1
    _print_summary(console, summary, rejected_path)
    if args.json:
        print(json.dumps(summary))
    return 0


def _print_summary(console: Any, s: dict[str, Any], rejected_path: Path) -> None:
    from rich.table import Table

    table = Table(title="Ringkasan impor rencana distribusi", show_header=False)
    rows = [
        ("Baris dibaca", s["rows_read"]),
        ("Baris diterima", s["rows_accepted"]),
        ("Baris ditolak", s["rows_rejected"]),
        (
            "Rencana baru / diperbarui / tetap",
            f"{s['plans_created']} / {s['plans_revised']} / {s['plans_unchanged']}",
        ),
        ("TPS baru", s["tps_added"]),
        ("Pengiriman direncanakan / direncanakan ulang", f"{s['legs_planned']} / {s['legs_replanned']}"),
        ("Waktu", f"{s['seconds']:.1f} dtk ({s['rows_per_s']:,.0f} baris/dtk)"),
    ]
    for k, v in rows:
        table.add_row(k, f"{v:,}" if isinstance(v, int) else str(v))
    console.print(table)
    if s["rows_rejected"]:
        console.print(f"Setiap baris yang ditolak, dengan kolom dan alasannya: [bold]{rejected_path}[/bold]")


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    if not args_in or args_in[0] == "serve":
        return _serve()
    if args_in[0] == "generate-national":
        from .importing.national import main as national

        return national(args_in[1:])
    p = argparse.ArgumentParser(prog="python -m siaga_logistics", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import a distribution plan file (CSV or XLSX)")
    imp.add_argument(
        "file", help="the plan file: one row per TPS, or per TPS and item (README: Impor rencana)"
    )
    imp.add_argument("--election", required=True, help="election id, e.g. pilkada2024")
    imp.add_argument("--voting-day", required=True, help="voting day, YYYY-MM-DD")
    imp.add_argument(
        "--contests", help="contests for rows without a 'pemilihan' column, e.g. gubernur;bupati"
    )
    imp.add_argument("--distribution-start", help="distribution start for rows without 'mulai_distribusi'")
    imp.add_argument("--url", default=os.environ.get("SIAGA_LOGISTICS_URL", "http://127.0.0.1:8102"))
    imp.add_argument("--rejected-out", default="baris-ditolak.csv", help="where to write every rejected row")
    imp.add_argument("--json", action="store_true", help="also print the summary as JSON on stdout")
    args = p.parse_args(args_in)
    return _import(args)
