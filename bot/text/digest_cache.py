"""A small per-process memory of work done on texts, kept under a digest of each text.

Replies are mostly screens that many people get, so work on a text (where to cut it, where
its bidi marks go) is worth remembering; but a reply can hold a person's answer, so the
text itself is never kept: only a BLAKE2b digest of it, and whatever positions the caller
stores. Least recently used entries go first. Thread-safe (gunicorn runs threads).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any


class DigestCache:
    """At most `size` values, each under the digest of (salt, text)."""

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict[bytes, Any] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(text: str, salt: bytes = b"") -> bytes:
        """The digest a text is known by (a salt tells apart work done with other settings)."""
        return hashlib.blake2b(salt + text.encode(), digest_size=16).digest()

    def get(self, key: bytes) -> Any | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: bytes, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> list[tuple[bytes, Any]]:
        """A snapshot, for tests that check nothing but digests and positions is kept."""
        with self._lock:
            return list(self._entries.items())
