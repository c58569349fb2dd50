"""The store's write-through cache, in two tiers bounded by bytes.

- **Decoded**: documents as the services see them (dicts), least recently used first out. A decoded
  document takes about ``PY_OVERHEAD`` times its BSON size (measured on desa chunks: 10.4 KB of BSON, 53 KB
  of Python objects), and that is what it is charged.
- **Packed**: what a document evicted from the first tier leaves behind, its stored form (``_id``, ``_v``
  and the compressed blob, about 2 KB for a desa chunk). A hit costs a decompression and a decode (about
  0.25 ms for an 8 KB chunk) instead of a round trip to the database and its decoding there.

So a process keeps its whole working set at a fraction of the memory the decoded documents would take.
A version never goes back: a late ``put`` of an older version (a bulk write that remembers its documents
after its last chunk, while a single write of one of them landed meanwhile) is ignored.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from .packing import BLOB, unpack_sized

__all__ = ["PY_OVERHEAD", "DocCache"]

PY_OVERHEAD = 5
_ENTRY = 200  # bytes of bookkeeping per packed entry (its key, tuple and dict)

Doc = dict[str, Any]


class DocCache:
    def __init__(self, decoded_mb: float, packed_mb: float) -> None:
        self.decoded_budget = int(decoded_mb * 2**20)
        self.packed_budget = int(packed_mb * 2**20)
        self._decoded: OrderedDict[str, tuple[Doc, int, Mapping[str, Any] | None]] = OrderedDict()
        self._packed: OrderedDict[str, tuple[Mapping[str, Any], int]] = OrderedDict()
        self.decoded_bytes = 0
        self.packed_bytes = 0
        # lookups by outcome, since the start (exported as ``siaga_store_cache_lookups_total``)
        self.hits_decoded = 0
        self.hits_packed = 0
        self.misses = 0

    def __contains__(self, doc_id: object) -> bool:
        """Whether a copy of the document is held (not counted as a lookup)."""
        return doc_id in self._decoded or doc_id in self._packed

    def get(self, doc_id: str) -> Doc | None:
        entry = self._decoded.get(doc_id)
        if entry is not None:
            self._decoded.move_to_end(doc_id)
            self.hits_decoded += 1
            return entry[0]
        packed = self._packed.get(doc_id)
        if packed is None:
            self.misses += 1
            return None
        self.hits_packed += 1
        doc, size = unpack_sized(packed[0])
        self.put(doc, size, packed[0])
        return doc

    def put(self, doc: Doc, size: int, stored: Mapping[str, Any] | None = None) -> None:
        """Cache ``doc`` (``size``: its BSON length; ``stored``: its stored form, kept when it is evicted)."""
        doc_id = doc["_id"]
        if self._held_version(doc_id) > doc.get("_v", 0):
            return
        self.drop(doc_id)
        charge = max(size, 64) * PY_OVERHEAD
        if charge > self.decoded_budget:
            self._keep_packed(doc_id, stored)
            return
        self._decoded[doc_id] = (doc, charge, stored)
        self.decoded_bytes += charge
        while self.decoded_bytes > self.decoded_budget:
            evicted_id, (_, evicted, evicted_stored) = self._decoded.popitem(last=False)
            self.decoded_bytes -= evicted
            self._keep_packed(evicted_id, evicted_stored)

    def drop(self, doc_id: str) -> None:
        entry = self._decoded.pop(doc_id, None)
        if entry is not None:
            self.decoded_bytes -= entry[1]
        packed = self._packed.pop(doc_id, None)
        if packed is not None:
            self.packed_bytes -= packed[1]

    def _held_version(self, doc_id: str) -> int:
        entry = self._decoded.get(doc_id)
        if entry is not None:
            return int(entry[0].get("_v", 0))
        packed = self._packed.get(doc_id)
        return int(packed[0].get("_v", 0)) if packed is not None else -1

    def _keep_packed(self, doc_id: str, stored: Mapping[str, Any] | None) -> None:
        if stored is None or self.packed_budget <= 0:
            return
        blob = stored.get(BLOB)
        charge = (len(blob) if isinstance(blob, bytes | bytearray) else 1024) + _ENTRY
        if charge > self.packed_budget:
            return
        self._packed[doc_id] = (stored, charge)
        self.packed_bytes += charge
        while self.packed_bytes > self.packed_budget:
            _, (_, evicted) = self._packed.popitem(last=False)
            self.packed_bytes -= evicted
