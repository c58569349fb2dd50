"""Import of KPU distribution plans from CSV/XLSX files (one row per TPS, or per TPS and item), and a
generator of a realistic national plan file for load tests."""

from .columns import FileHeader, HeaderError, ParsedRow, RowError
from .reader import XLSX_TYPE, PlanFile, read_plan_file

__all__ = ["XLSX_TYPE", "FileHeader", "HeaderError", "ParsedRow", "PlanFile", "RowError", "read_plan_file"]
