"""Django's Redis cache, holding one redis.Redis client per server instead of building one per operation.

Django's RedisCacheClient.get_client() returns a new ``redis.Redis(connection_pool=pool)`` for every get, add
or set; redis-py's constructor copies its table of ~170 response callbacks each time, about 0.15 ms, and an API
request made four cache calls (token, last-used mark, throttle read and write). A redis.Redis is thread-safe
(each command takes a connection from the pool), so one per server does the same work.
"""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def count_hit(self, key: str, previous_key: str, timeout: int) -> tuple[int, int]:
        """Count one hit under `key` (kept `timeout` seconds) and read `previous_key`: one round trip."""
        _, hits, previous = self._pipelined(None, key, previous_key, timeout)
        return hits, previous

    def get_and_count_hit(self, get_key: str, key: str, previous_key: str, timeout: int) -> tuple[object, int, int]:
        """`get(get_key)` and `count_hit(key, previous_key, timeout)` together: still one round trip."""
        return self._pipelined(get_key, key, previous_key, timeout)

    def _pipelined(self, get_key, key, previous_key, timeout):
        key, previous_key = self.make_and_validate_key(key), self.make_and_validate_key(previous_key)
        pipeline = self._cache.get_client(key, write=True).pipeline(transaction=False)
        if get_key is not None:
            pipeline.get(self.make_and_validate_key(get_key))
        pipeline.incr(key)
        pipeline.expire(key, timeout)
        pipeline.get(previous_key)
        *value, hits, _, previous = pipeline.execute()
        value = value[0] if value else None
        return (None if value is None else self._cache._serializer.loads(value)), hits, int(previous or 0)
