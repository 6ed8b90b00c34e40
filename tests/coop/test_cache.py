"""coop.cache.RedisCache: Django's Redis cache with one client per server, not one per call."""

import os
import threading

import pytest
from django.conf import settings

from coop.cache import RedisCache


def test_the_cache_builds_one_redis_client_per_server_and_reuses_it():
    cache = RedisCache("redis://127.0.0.1:6379/15", {})  # building a client opens no connection
    client = cache._cache.get_client("k")
    assert cache._cache.get_client("other") is client
    assert cache._cache.get_client("k", write=True) is client


def test_reads_go_to_the_replicas_and_writes_to_the_first_server():
    cache = RedisCache("redis://127.0.0.1:6379/14;redis://127.0.0.1:6379/15", {})
    writer = cache._cache.get_client(write=True)
    reader = cache._cache.get_client()
    assert writer.connection_pool.connection_kwargs["db"] == 14
    assert reader.connection_pool.connection_kwargs["db"] == 15
    assert cache._cache.get_client() is reader and cache._cache.get_client(write=True) is writer


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")
def test_the_shared_client_serves_parallel_threads_on_real_redis():
    assert settings.CACHES["default"]["BACKEND"] == "coop.cache.RedisCache"
    cache = RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "coop-test-cache"})
    cache.delete_many([f"k{i}" for i in range(8)])
    errors = []

    def work(i):
        try:
            for n in range(50):
                cache.set(f"k{i}", n)
                assert cache.get(f"k{i}") == n
            assert cache.add(f"k{i}", "again") is False
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert cache.get_many([f"k{i}" for i in range(8)]) == {f"k{i}": 49 for i in range(8)}
    cache.delete_many([f"k{i}" for i in range(8)])


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")
def test_a_read_and_a_counted_hit_in_one_round_trip_answer_what_get_and_count_hit_do():
    cache = RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "coop-test-pipeline"})
    cache.delete_many(["token", "hits:2", "hits:1"])
    cache.set("token", {"name": "kept", "n": 1})
    cache.set("hits:1", 4)
    assert cache.get_and_count_hit("token", "hits:2", "hits:1", 120) == ({"name": "kept", "n": 1}, 1, 4)
    assert cache.get_and_count_hit("missing", "hits:2", "hits:1", 120) == (None, 2, 4)
    assert cache.count_hit("hits:2", "hits:1", 120) == (3, 4)
    assert 0 < cache._cache.get_client().ttl(cache.make_and_validate_key("hits:2")) <= 120
    cache.delete_many(["token", "hits:2", "hits:1"])
