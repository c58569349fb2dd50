"""The message catalogue: Indonesian first, English beside it. A missing English text falls back to Indonesian."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["LANGUAGES", "MESSAGES", "pick_language", "translator"]

LANGUAGES = ("id", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "app.title": {"id": "Konsol Siaga", "en": "Siaga console"},
    "nav.readiness": {"id": "Kesiapan logistik", "en": "Logistics readiness"},
    "nav.reports": {"id": "Laporan", "en": "Reports"},
    "nav.rakor": {"id": "Rakor", "en": "Meetings"},
    "nav.alerts": {"id": "Peringatan", "en": "Alerts"},
    "nav.signout": {"id": "Keluar", "en": "Sign out"},
    "nav.language": {"id": "English", "en": "Bahasa Indonesia"},
    "signin.title": {"id": "Masuk", "en": "Sign in"},
    "signin.token": {"id": "Token akses", "en": "Access token"},
    "signin.hint": {
        "id": "Tempel token yang diberikan admin Siaga. Token disimpan hanya di sesi terenkripsi.",
        "en": "Paste the token your Siaga admin gave you. It is kept only in an encrypted session.",
    },
    "signin.submit": {"id": "Masuk", "en": "Sign in"},
    "signin.invalid": {"id": "Token tidak dikenal.", "en": "Unknown token."},
    "signin.expired": {
        "id": "Sesi berakhir, silakan masuk lagi.",
        "en": "Session ended; please sign in again.",
    },
    "who.readonly": {"id": "hanya baca", "en": "read only"},
    "role.operator": {"id": "operator", "en": "operator"},
    "role.organiser": {"id": "penyelenggara", "en": "organiser"},
    "role.reader": {"id": "pembaca", "en": "reader"},
    "role.admin": {"id": "admin nasional", "en": "national admin"},
    "live.on": {"id": "Langsung", "en": "Live"},
    "live.off": {"id": "Terputus, mencoba lagi", "en": "Disconnected, retrying"},
    "as_of": {"id": "Per", "en": "As of"},
    "empty": {"id": "Belum ada data.", "en": "No data yet."},
    "error.service": {
        "id": "Layanan {service} tidak menjawab; data terakhir mungkin belum tampil.",
        "en": "The {service} service did not answer; the latest data may be missing.",
    },
    "error.forbidden": {"id": "Anda tidak berwenang untuk tindakan ini.", "en": "You may not do this."},
    "error.notfound": {"id": "Tidak ditemukan.", "en": "Not found."},
    "error.csrf": {
        "id": "Formulir kedaluwarsa; muat ulang halaman.",
        "en": "The form expired; reload the page.",
    },
    "error.invalid": {"id": "Isian tidak lengkap: {field}.", "en": "Incomplete form: {field}."},
    "ok.acknowledge": {
        "id": "Peringatan dikonfirmasi; eskalasi berhenti.",
        "en": "Acknowledged; escalation stopped.",
    },
    "ok.mute": {
        "id": "Peringatan dikonfirmasi dan dibisukan sampai selesai; eskalasi dan pengingat berhenti.",
        "en": "Acknowledged and muted until resolved; escalation and reminders stopped.",
    },
    "ok.resolve": {"id": "Peringatan diselesaikan.", "en": "Alert resolved."},
    "ok.silence": {"id": "Peringatan dibisukan.", "en": "Alert silenced."},
    # readiness
    "ready.title": {"id": "Kesiapan logistik TPS", "en": "TPS logistics readiness"},
    "ready.election": {"id": "Pemilihan", "en": "Election"},
    "ready.region": {"id": "Wilayah", "en": "Region"},
    "ready.tps": {"id": "TPS siap", "en": "TPS ready"},
    "ready.share": {"id": "Siap", "en": "Ready"},
    "ready.plan": {"id": "Rencana", "en": "Plan"},
    "ready.gap": {"id": "Selisih", "en": "Gap"},
    "ready.behind": {"id": "tertinggal", "en": "behind"},
    "ready.on_track": {"id": "sesuai rencana", "en": "on track"},
    "ready.map": {"id": "Peta petak provinsi", "en": "Province tile map"},
    "ready.map_hint": {
        "id": "Warna: hijau siap, kuning mendekati rencana, merah tertinggal; abu-abu tanpa rencana.",
        "en": "Colour: green ready, amber near plan, red behind; grey no plan.",
    },
    "ready.up": {"id": "Naik satu tingkat", "en": "Up one level"},
    "ready.none": {
        "id": "Belum ada rencana distribusi untuk wilayah ini.",
        "en": "No distribution plan here yet.",
    },
    "ship.title": {"id": "Pengiriman terlambat atau kurang", "en": "Late or short shipments"},
    "ship.leg": {"id": "Rute", "en": "Leg"},
    "ship.mode": {"id": "Moda", "en": "Mode"},
    "ship.eta": {"id": "Perkiraan tiba", "en": "ETA"},
    "ship.slack": {"id": "Sisa waktu ke H-1", "en": "Slack to H-1"},
    "ship.severity": {"id": "Tingkat", "en": "Severity"},
    "ship.short": {"id": "Diterima kurang atau rusak", "en": "Delivered short or damaged"},
    "ship.arrived": {"id": "Diterima", "en": "Received"},
    "cat.short": {"id": "kurang", "en": "short"},
    "cat.damaged": {"id": "rusak", "en": "damaged"},
    "cat.wrong_type": {"id": "salah jenis", "en": "wrong type"},
    "cat.wrong_destination": {"id": "salah tujuan", "en": "wrong destination"},
    "item.ballot": {"id": "surat suara", "en": "ballots"},
    "item.ballot_box": {"id": "kotak suara", "en": "ballot box"},
    "item.voting_booth": {"id": "bilik suara", "en": "voting booth"},
    "item.ink": {"id": "tinta", "en": "ink"},
    "item.seal": {"id": "segel", "en": "seals"},
    "item.marking_tool": {"id": "alat coblos", "en": "marking tool"},
    "item.forms_envelopes": {"id": "formulir dan sampul", "en": "forms and envelopes"},
    "item.tps_kit": {"id": "perlengkapan TPS", "en": "TPS kit"},
    "mode.on_foot": {"id": "jalan kaki", "en": "on foot"},
    "unit.hours": {"id": "jam", "en": "h"},
    "ship.none": {"id": "Tidak ada pengiriman terlambat.", "en": "No late shipments."},
    "mode.land": {"id": "darat", "en": "land"},
    "mode.river": {"id": "sungai", "en": "river"},
    "mode.sea": {"id": "laut", "en": "sea"},
    "mode.air": {"id": "udara", "en": "air"},
    "tps.list": {"id": "TPS", "en": "TPS"},
    "tps.ready": {"id": "siap", "en": "ready"},
    "tps.waiting": {"id": "belum", "en": "not yet"},
    # reports
    "rep.title": {"id": "Laporan berkala", "en": "Periodic reports"},
    "rep.schedule": {"id": "Jadwal", "en": "Schedule"},
    "rep.period": {"id": "Periode", "en": "Period"},
    "rep.due": {"id": "Batas", "en": "Due"},
    "rep.reported": {"id": "Tepat waktu", "en": "On time"},
    "rep.late": {"id": "Terlambat", "en": "Late"},
    "rep.overdue": {"id": "Belum melapor", "en": "Never reported"},
    "rep.pending": {"id": "Belum jatuh tempo", "en": "Not yet due"},
    "rep.not_requested": {"id": "Belum diminta", "en": "Not requested"},
    "rep.submitted_at": {"id": "Dikirim", "en": "Submitted"},
    "rep.versions": {"id": "versi", "en": "versions"},
    "rep.rollup": {
        "id": "Rekap (Anev) dibanding periode sebelumnya",
        "en": "Rollup against the previous period",
    },
    "rep.item": {"id": "Butir", "en": "Item"},
    "rep.now": {"id": "Periode ini", "en": "This period"},
    "rep.prev": {"id": "Sebelumnya", "en": "Previous"},
    "rep.change": {"id": "Perubahan", "en": "Change"},
    "rep.none": {
        "id": "Tidak ada jadwal laporan yang dapat Anda lihat.",
        "en": "No reporting schedule you may read.",
    },
    "rep.of": {"id": "dari", "en": "of"},
    # rakor
    "rakor.title": {"id": "Rapat koordinasi", "en": "Coordination meetings"},
    "rakor.status.scheduled": {"id": "dijadwalkan", "en": "scheduled"},
    "rakor.status.held": {"id": "terlaksana", "en": "held"},
    "rakor.attendance": {"id": "Kehadiran", "en": "Attendance"},
    "rakor.present": {"id": "hadir", "en": "present"},
    "rakor.late": {"id": "terlambat", "en": "late"},
    "rakor.absent": {"id": "tidak hadir", "en": "absent"},
    "rakor.invited": {"id": "diundang", "en": "invited"},
    "rakor.recommendations": {"id": "Rekomendasi", "en": "Recommendations"},
    "rakor.items": {"id": "Tindak lanjut per penanggung jawab", "en": "Action items by owner"},
    "rakor.overdue": {"id": "lewat tenggat", "en": "overdue"},
    "rakor.open": {"id": "terbuka", "en": "open"},
    "rakor.done": {"id": "selesai", "en": "done"},
    "rakor.cancelled": {"id": "dibatalkan", "en": "cancelled"},
    "rakor.due": {"id": "Tenggat", "en": "Due"},
    "rakor.none": {"id": "Belum ada rakor yang dapat Anda lihat.", "en": "No meeting you may read."},
    "rakor.mode.vidcon": {"id": "vidcon", "en": "video call"},
    "rakor.mode.in_person": {"id": "tatap muka", "en": "in person"},
    "rakor.mode.hybrid": {"id": "hibrida", "en": "hybrid"},
    # alerts
    "al.title": {"id": "Peringatan aktif", "en": "Open alerts"},
    "al.group": {"id": "Kelompok", "en": "Group"},
    "al.step": {"id": "Tahap eskalasi", "en": "Escalation step"},
    "al.next": {"id": "Eskalasi berikut", "en": "Next escalation"},
    "al.stopped": {"id": "eskalasi berhenti", "en": "escalation stopped"},
    "al.history": {"id": "Riwayat", "en": "History"},
    "al.deliveries": {"id": "Pengiriman pesan", "en": "Deliveries"},
    "al.ack": {"id": "Konfirmasi", "en": "Acknowledge"},
    "al.mute": {"id": "Konfirmasi & bisukan sampai selesai", "en": "Acknowledge & mute until resolved"},
    "al.resolve": {"id": "Selesaikan", "en": "Resolve"},
    "al.silence": {"id": "Bisukan", "en": "Silence"},
    "al.comment": {"id": "Catatan", "en": "Comment"},
    "al.reason": {"id": "Alasan", "en": "Reason"},
    "al.hours": {"id": "Selama (jam)", "en": "For (hours)"},
    "al.none": {"id": "Tidak ada peringatan aktif.", "en": "No open alerts."},
    "al.silences": {"id": "Pembisuan aktif", "en": "Active silences"},
    "al.until": {"id": "hingga", "en": "until"},
    "al.status.firing": {"id": "menyala", "en": "firing"},
    "al.status.acknowledged": {"id": "dikonfirmasi", "en": "acknowledged"},
    "al.status.resolved": {"id": "selesai", "en": "resolved"},
    "al.by": {"id": "oleh", "en": "by"},
    "al.action.raised": {"id": "muncul", "en": "raised"},
    "al.action.escalated": {"id": "dieskalasi", "en": "escalated"},
    "al.action.acknowledged": {"id": "dikonfirmasi", "en": "acknowledged"},
    "al.action.resolved": {"id": "diselesaikan", "en": "resolved"},
    "al.action.silenced": {"id": "dibisukan", "en": "silenced"},
    "al.action.notified": {"id": "diberitahukan", "en": "notified"},
    "al.recent": {"id": "Baru selesai", "en": "Recently resolved"},
    "al.more": {"id": "{n} peringatan lain dalam kelompok ini", "en": "{n} more alerts in this group"},
    "rcv.kpu-kabkota-logistics": {"id": "Logistik KPU kab/kota", "en": "KPU kab/kota logistics"},
    "rcv.kpu-province": {"id": "KPU provinsi", "en": "KPU province"},
    "rcv.bawaslu-province": {"id": "Bawaslu provinsi", "en": "Bawaslu province"},
    "rcv.province-oversight": {
        "id": "Pengawasan provinsi (KPU dan Bawaslu)",
        "en": "Province oversight (KPU and Bawaslu)",
    },
    "rcv.region-reporters": {"id": "Pelapor wilayah", "en": "Regional reporters"},
    "rcv.action-owners": {"id": "Penanggung jawab tindak lanjut", "en": "Action item owners"},
    "rcv.invitees": {"id": "Undangan rakor", "en": "Meeting invitees"},
    "rcv.national-desk": {"id": "Desk nasional", "en": "National desk"},
    "an.shipment-delayed": {"id": "Pengiriman terlambat", "en": "Shipment late"},
    "an.shipment-discrepancy": {"id": "Selisih barang diterima", "en": "Delivery discrepancy"},
    "an.shipment-discrepancy-found": {"id": "Selisih barang diterima", "en": "Delivery discrepancy"},
    "an.region-at-risk": {"id": "Wilayah berisiko", "en": "Region at risk"},
    "an.report-overdue": {"id": "Laporan belum masuk", "en": "Report overdue"},
    "an.action-item-overdue": {"id": "Tindak lanjut lewat tenggat", "en": "Action item overdue"},
    "an.action-item-assigned": {"id": "Tindak lanjut baru", "en": "Action item assigned"},
    "an.meeting-scheduled": {"id": "Undangan rakor", "en": "Meeting invitation"},
    "sev.critical": {"id": "kritis", "en": "critical"},
    "sev.warning": {"id": "waspada", "en": "warning"},
    "sev.info": {"id": "info", "en": "info"},
    "dl.delivered": {"id": "terkirim", "en": "delivered"},
    "dl.pending": {"id": "menunggu", "en": "pending"},
    "dl.failed": {"id": "gagal", "en": "failed"},
}


def pick_language(*candidates: str | None) -> str:
    """The first supported language among the query, the cookie and the browser's (``Accept-Language``)."""
    for c in candidates:
        if not c:
            continue
        for part in c.split(","):
            code = part.split(";")[0].strip().lower()[:2]
            if code in LANGUAGES:
                return code
    return "id"


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        entry = MESSAGES.get(key)
        if entry is None:  # a value the catalogue does not know (a new action, a label): shown as it is
            return key.rsplit(".", 1)[-1]
        text = entry.get(lang) or entry["id"]
        return text.format(**values) if values else text

    return t
