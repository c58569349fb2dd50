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
    delay_sweep_interval_s: float = Field(
        2.0,
        gt=0,
        description="How often the due delay timers are swept (a sweep with none due reads 2 documents).",
    )
    risk_sweep_interval_s: float = Field(300.0, gt=0, description="How often readiness is compared to plan.")
    shipment_cache_mb: float = Field(
        160.0,
        ge=0,
        description="Memory for the decoded shipment documents (chunks of a desa, kecamatan legs) in the "
        "write cache, in MB: about 2,300 desa chunks (at 0.1 of the nation, 64 MB cost the same CPU per "
        "scan; the rest are served from the packed tier).",
    )
    shipment_packed_cache_mb: float = Field(
        256.0,
        ge=0,
        description="Memory for the stored (compressed) form of the shipment documents evicted from the "
        "decoded cache, in MB: about 110,000 desa chunks as imported; with the whole nation's legs dispatched "
        "and delivered, 7% of the lookups missed it (bench/results/national.md).",
    )
    timer_bucket_s: float = Field(
        5.0,
        gt=0,
        description="Resolution of the delay timers: an ETA is noticed within this after it passed.",
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
