"""The kinds of problem every service answers with: status, title and what to do, in Indonesian and English
(served at ``GET /problems/{kind}``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KINDS", "ProblemKind"]


@dataclass(frozen=True)
class ProblemKind:
    status: int
    title: str
    description: str
    title_en: str
    description_en: str


KINDS: dict[str, ProblemKind] = {
    "bad-request": ProblemKind(
        400,
        "Permintaan salah",
        "Isi permintaan tidak dapat dibaca. Periksa format permintaan lalu kirim ulang.",
        "Bad request",
        "The request could not be read. Check its format and send it again.",
    ),
    "unauthenticated": ProblemKind(
        401,
        "Belum terautentikasi",
        "Token tidak ada atau tidak dikenal. Kirim header 'Authorization: Bearer <token>' dengan token yang "
        "diterbitkan untuk instansi Anda.",
        "Not authenticated",
        "The bearer token is missing or unknown. Send 'Authorization: Bearer <token>' with the token issued "
        "to your institution.",
    ),
    "forbidden": ProblemKind(
        403,
        "Akses ditolak",
        "Token Anda sah, tetapi peran atau wilayahnya tidak mencakup tindakan ini. Operator bertindak di "
        "wilayahnya sendiri, penyelenggara (organiser) di wilayahnya dan di bawahnya, pembaca hanya membaca.",
        "Forbidden",
        "Your token is valid, but its role or region does not cover this action. Operators act within their "
        "own region, organisers within theirs and below, readers only read.",
    ),
    "not-found": ProblemKind(
        404,
        "Tidak ditemukan",
        "Data yang diminta tidak ada, atau tidak dapat Anda lihat. Periksa kode dan pengenal di alamat.",
        "Not found",
        "What you asked for does not exist, or you may not see it. Check the codes and ids in the path.",
    ),
    "method-not-allowed": ProblemKind(
        405,
        "Metode tidak diizinkan",
        "Alamat ini tidak menerima metode HTTP tersebut. Lihat dokumen OpenAPI layanan (/openapi.json).",
        "Method not allowed",
        "This path does not accept that HTTP method. See the service's OpenAPI document (/openapi.json).",
    ),
    "conflict": ProblemKind(
        409,
        "Konflik",
        "Permintaan bertentangan dengan keadaan data saat ini (sudah ada, sudah selesai, sudah dibatalkan). "
        "Baca keadaan terbaru sebelum mencoba lagi.",
        "Conflict",
        "The request contradicts the current state (already exists, already done, already cancelled). Read "
        "the current state before trying again.",
    ),
    "payload-too-large": ProblemKind(
        413,
        "Muatan terlalu besar",
        "Isi permintaan melebihi batas ukuran layanan.",
        "Payload too large",
        "The request body is over the service's size limit.",
    ),
    "unsupported-media-type": ProblemKind(
        415,
        "Jenis konten tidak didukung",
        "Header Content-Type tidak sesuai dengan yang diterima alamat ini.",
        "Unsupported media type",
        "The Content-Type is not one this path accepts.",
    ),
    "validation": ProblemKind(
        422,
        "Permintaan tidak valid",
        "Satu atau lebih isian tidak memenuhi aturan. Daftar 'errors' menyebut setiap isian yang salah "
        "beserta alasannya; perbaiki lalu kirim ulang.",
        "Invalid request",
        "One or more inputs break a rule. 'errors' names every failing input and why; correct them and send "
        "the request again.",
    ),
    "unavailable": ProblemKind(
        503,
        "Layanan belum siap",
        "Layanan sementara tidak dapat melayani (Kafka atau basis data belum terjangkau). Coba lagi nanti.",
        "Service unavailable",
        "The service cannot serve right now (Kafka or the database is unreachable). Try again later.",
    ),
}
