"""The small expiring cache of oms/core/ttl_cache.py."""
from oms.core.ttl_cache import TTLCache


def test_ttl_cache_entries_expire_and_can_be_dropped():
    now = [100.0]
    cache = TTLCache(2.0, max_items=2, clock=lambda: now[0])
    cache.put("a", 1)
    assert cache.get("a") == 1
    now[0] += 2.5
    assert cache.get("a") is None
    cache.put("a", 1)
    cache.discard("a")
    assert cache.get("a") is None
    cache.put("a", 1), cache.put("b", 2), cache.put("c", 3)   # full: starts over, keeps the newest
    assert cache.get("c") == 3 and cache.get("a") is None
