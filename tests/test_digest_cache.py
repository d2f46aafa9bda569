"""bot.text.digest_cache: least recently used out first; only digests and values are kept."""

from __future__ import annotations

from bot.text.digest_cache import DigestCache


def test_the_least_recently_used_entry_goes_first():
    cache = DigestCache(2)
    a, b, c = (DigestCache.key(t) for t in ("a", "b", "c"))
    cache.put(a, 1)
    cache.put(b, 2)
    assert cache.get(a) == 1  # a is now the most recent
    cache.put(c, 3)
    assert cache.get(b) is None and cache.get(a) == 1 and cache.get(c) == 3
    assert len(cache) == 2


def test_a_salt_tells_apart_work_done_with_other_settings_and_no_text_is_kept():
    text = "You said: +32470000001"
    assert DigestCache.key(text, b"3:3:") != DigestCache.key(text, b"1:3:")
    cache = DigestCache(4)
    cache.put(DigestCache.key(text), ((0, 5),))
    [(key, value)] = cache.items()
    assert isinstance(key, bytes) and len(key) == 16 and b"470000001" not in key
    assert value == ((0, 5),)
