"""Django's Redis cache backend, keeping one redis.Redis client per connection pool (issue 17).

Django's RedisCacheClient makes a new redis.Redis for every cache call, and redis-py builds its
table of response callbacks for each one: about 0.4 ms of CPU per call, half of what serving a
cached archive page cost (docs/performance.md). A redis.Redis is safe to share between threads
(each command takes a connection from the pool), so one per pool is kept instead; the pools,
options, serializer and key handling are Django's own.
"""

import threading

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._lock = threading.Lock()

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            with self._lock:
                client = self._clients.get(index)
                if client is None:
                    client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
