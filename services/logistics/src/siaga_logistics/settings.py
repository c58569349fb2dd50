"""Settings of the logistics service (environment variables, no prefix)."""

from __future__ import annotations

from pydantic import Field
from siaga_runtime import RuntimeSettings

__all__ = ["LogisticsSettings"]


class LogisticsSettings(RuntimeSettings):
    service_name: str = Field(
        "logistics", description="Service name, used in logs, metrics and event sources."
    )
    mongodb_database: str = Field("siaga_logistics", description="Database owned by the logistics service.")
    http_port: int = 8102
    delay_sweep_interval_s: float = Field(30.0, gt=0, description="How often overdue ETAs are swept.")
    risk_sweep_interval_s: float = Field(300.0, gt=0, description="How often readiness is compared to plan.")
    shipment_cache_docs: int = Field(
        20_000,
        ge=0,
        description="Shipment documents (chunks of a desa, kecamatan legs) kept in the write cache.",
    )
    import_spill_dir: str | None = Field(
        None, description="Directory for the temporary files of an import (default: the system's)."
    )
    delay_critical_slack_h: float = Field(
        48.0,
        gt=0,
        description="A delayed shipment with less than this many hours left to its deadline is critical "
        "(none left: will miss H-1; more: warning).",
    )
