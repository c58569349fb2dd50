"""How an aggregate document is stored: ``{_id, _v, b}``, the state and metadata packed in one BSON value.

FerretDB 1.x stores a document as JSON and decodes and re-encodes all of it on every read and write, at a
cost of about 15 µs per stored value on top of about 0.5 ms per operation, while a long string or binary
value costs little more than a short one (measured by ``bench/ferretdb_shapes.py``: a guarded replace of a
document with 15 nested lines, 60 values, ran at 700/s; the same lines packed in one binary value at
1,400/s; 150 lines: 123/s against 569/s). So the store keeps only three top-level values, ``_id``, ``_v``
(the version that guards writes; the FerretDB front reads it from SQLite) and ``b``, the BSON encoding of
everything else. MongoDB stores the same documents the same way, so the code is one for both servers.

A blob over ``COMPRESS_ABOVE`` bytes is stored compressed with Zstandard (level 1, binary subtype
``ZSTD_SUBTYPE``): state and outbox entries are repetitive JSON-like text, and FerretDB's cost follows the
stored bytes (``bench/ferretdb_shapes.py``). Measured on 300 desa chunks after a distribution (13.7 KB of
BSON each): Zstandard 24 µs to 2.1 KB, zlib level 1 85 µs to 2.3 KB, on every write. Blobs written with
zlib (``ZLIB_SUBTYPE``) by earlier versions are still read.

Packing is invisible to the services: the store hands them plain dicts (state fields beside ``_id``,
``_v`` and the reserved metadata ``_wm``, ``_keys``, ``_outbox``, ``_w``), exactly as BSON decodes them,
datetimes aware in UTC. Nothing in Siaga queries inside a packed document: every read is by ``_id``, and
the few listings read whole (small) collections through ``AggregateStore.scan``.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Mapping
from typing import Any

import bson
import zstandard
from bson import Binary
from bson.codec_options import CodecOptions

__all__ = [
    "BLOB",
    "COMPRESS_ABOVE",
    "ZLIB_SUBTYPE",
    "is_packed",
    "pack",
    "pack_sized",
    "unpack",
    "unpack_sized",
]

BLOB = "b"
COMPRESS_ABOVE = 1024
ZLIB_SUBTYPE = 0x80  # the first user-defined BSON binary subtype (read only)
ZSTD_SUBTYPE = 0x81
_LOCAL = threading.local()  # a Zstandard context is reused, but not across threads


def _zstd() -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    pair: tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor] | None = getattr(_LOCAL, "pair", None)
    if pair is None:
        pair = _LOCAL.pair = (zstandard.ZstdCompressor(level=1), zstandard.ZstdDecompressor())
    return pair


_TOP = ("_id", "_v")
# Aware datetimes in UTC (bson's own UTC tzinfo: naming datetime.UTC instead doubles the decoding time,
# 457 against 234 µs for an 8 KB chunk, as every value is then converted).
_OPTIONS: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True)


def pack(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of a document: ``_id`` and ``_v`` in the open, the rest in one BSON value."""
    return pack_sized(doc)[0]


def pack_sized(doc: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """``pack``, and the length of the BSON before compression (what a cache charges for the document)."""
    rest = {k: v for k, v in doc.items() if k not in _TOP}
    raw = bson.encode(rest)
    blob = Binary(_zstd()[0].compress(raw), ZSTD_SUBTYPE) if len(raw) > COMPRESS_ABOVE else Binary(raw)
    return {"_id": doc["_id"], "_v": doc["_v"], BLOB: blob}, len(raw)


def unpack(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The document a service sees; a document stored unpacked (written by hand) is returned as it is."""
    return unpack_sized(stored)[0]


def unpack_sized(stored: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """``unpack``, and the length of the packed BSON before compression (0 for an unpacked document)."""
    blob = stored.get(BLOB)
    if not isinstance(blob, bytes | bytearray):
        return dict(stored), 0
    subtype = getattr(blob, "subtype", 0)
    if subtype == ZSTD_SUBTYPE:
        raw = _zstd()[1].decompress(blob)
    elif subtype == ZLIB_SUBTYPE:
        raw = zlib.decompress(blob)
    else:
        raw = bytes(blob)
    out: dict[str, Any] = bson.decode(raw, codec_options=_OPTIONS)
    out["_id"] = stored["_id"]
    out["_v"] = stored.get("_v", 0)
    return out, len(raw)


def is_packed(stored: Mapping[str, Any]) -> bool:
    return isinstance(stored.get(BLOB), bytes | bytearray)
