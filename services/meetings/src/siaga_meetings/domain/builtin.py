"""The report templates Siaga ships: KPU's twice-weekly pandemic report (seed 001) and the Desk Pilkada
stage-monitoring report (seed 004). Health figures are aggregated counts only: no template asks for names."""

from __future__ import annotations

from siaga_schemas.common import Institution

from .templates import ItemType, ReportTemplate, TemplateItem

__all__ = ["BUILTIN_TEMPLATES", "DESK_PILKADA_TEMPLATE", "KPU_COVID_TEMPLATE"]

_I, _N, _B, _C, _T, _TR, _D = (
    ItemType.INT,
    ItemType.NUMBER,
    ItemType.BOOL,
    ItemType.CHOICE,
    ItemType.TEXT,
    ItemType.TREND,
    ItemType.DATE,
)


def _item(key: str, label: str, type_: ItemType, section: str, **kw: object) -> TemplateItem:
    return TemplateItem.model_validate({"key": key, "label": label, "type": type_, "section": section, **kw})


KPU_COVID_TEMPLATE = ReportTemplate(
    template_id="tpl-kpu-covid-2020",
    title="Laporan KPU kab/kota: tahapan dan kondisi Covid-19 (vidcon Selasa dan Jumat)",
    description="What KPU Jawa Timur asks every kab/kota to report before the twice-weekly vidcon.",
    institution=Institution.KPU,
    items=[
        _item(
            "voter_education", "Kegiatan sosialisasi dan pendidikan pemilih", _T, "sosdiklih", required=True
        ),
        _item("voter_education_activities", "Number of outreach activities held", _I, "sosdiklih"),
        _item(
            "election_launching",
            "Launching pemilihan",
            _C,
            "tahapan",
            choices=["held", "planned", "postponed", "not_applicable"],
        ),
        _item("observer_registrations", "Lembaga pemantau registered", _I, "tahapan"),
        _item("survey_poll_registrations", "Survey and poll institutions registered", _I, "tahapan"),
        _item("quick_count_registrations", "Quick-count institutions registered", _I, "tahapan"),
        _item(
            "working_arrangement",
            "Mekanisme kerja",
            _C,
            "mekanisme_kerja",
            choices=["normal", "duty_rota", "work_from_home"],
            required=True,
        ),
        _item("working_arrangement_note", "Mekanisme kerja, details", _T, "mekanisme_kerja"),
        _item("duty_rota_from", "Duty rota from", _D, "mekanisme_kerja"),
        _item("duty_rota_to", "Duty rota to", _D, "mekanisme_kerja"),
        _item("staff_odp", "KPU staff with ODP status (count)", _I, "keluarga_besar_kpu", required=True),
        _item("staff_pdp", "KPU staff with PDP status (count)", _I, "keluarga_besar_kpu", required=True),
        _item(
            "staff_confirmed", "KPU staff confirmed positive (count)", _I, "keluarga_besar_kpu", required=True
        ),
        _item("family_odp", "Staff family members with ODP status (count)", _I, "keluarga_besar_kpu"),
        _item("family_pdp", "Staff family members with PDP status (count)", _I, "keluarga_besar_kpu"),
        _item(
            "family_confirmed", "Staff family members confirmed positive (count)", _I, "keluarga_besar_kpu"
        ),
        _item(
            "local_status_decree",
            "Local status by decree of the regent/mayor or BPBD",
            _C,
            "status_daerah",
            choices=["none", "siaga_darurat", "tanggap_darurat", "klb", "psbb"],
        ),
        _item("local_status_decree_ref", "Decree reference", _T, "status_daerah", max_length=200),
        _item("local_odp", "ODP in the kab/kota", _I, "sebaran_covid", required=True),
        _item("local_pdp", "PDP in the kab/kota", _I, "sebaran_covid", required=True),
        _item("local_confirmed", "Confirmed cases in the kab/kota", _I, "sebaran_covid", required=True),
        _item("local_figures_as_of", "Figures as of", _D, "sebaran_covid"),
        _item("local_trend", "Trend since the last report", _TR, "sebaran_covid", required=True),
    ],
)

DESK_PILKADA_TEMPLATE = ReportTemplate(
    template_id="tpl-desk-pilkada-2024",
    title="Laporan Desk Pilkada: monitoring tahapan",
    description="Stage monitoring by the local government's Desk Pilkada (seed 004).",
    institution=Institution.DESK_PILKADA,
    items=[
        _item("nphd_signed", "NPHD grant agreements signed with KPU and Bawaslu", _B, "nphd", required=True),
        _item("nphd_disbursed_pct", "Share of NPHD grants disbursed (percent)", _N, "nphd"),
        _item("asn_seconded_ppk", "ASN seconded to PPK secretariats", _I, "asn"),
        _item("asn_seconded_pps", "ASN seconded to PPS secretariats", _I, "asn"),
        _item("asn_seconded_panwascam", "ASN seconded to Panwaslu Kecamatan", _I, "asn"),
        _item("premises_ppk_provided", "PPK and Panwaslu Kecamatan premises provided", _I, "sarana"),
        _item("premises_pps_provided", "PPS premises provided in desa/kelurahan", _I, "sarana"),
        _item("candidate_health_checks", "Candidate health checks facilitated", _I, "kesehatan"),
        _item("ktp_17_issued", "KTP issued to residents turning 17 before election day", _I, "adminduk"),
        _item("participation_outreach_sessions", "Voter participation outreach sessions", _I, "partisipasi"),
        _item("remote_villages_logistics_helped", "Remote villages helped with logistics", _I, "logistik"),
        _item("asn_neutrality_circular", "ASN neutrality circular issued", _B, "netralitas"),
        _item("asn_neutrality_cases", "ASN neutrality cases found (count)", _I, "netralitas"),
        _item("stage_issues", "Problems found at the current stage", _T, "monitoring"),
        _item("stage_trend", "Overall situation since the last report", _TR, "monitoring"),
    ],
)

BUILTIN_TEMPLATES = (KPU_COVID_TEMPLATE, DESK_PILKADA_TEMPLATE)
