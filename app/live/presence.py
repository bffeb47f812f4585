"""Who is on a contract's pages and what they are editing. Not a lock: nobody is ever blocked.

An entry lives as long as its stream (refreshed at each keepalive) or its editor's heartbeat;
it expires on its own when a tab dies without saying goodbye."""

from __future__ import annotations

import json
import logging
import threading
import time

log = logging.getLogger("progres.live")
TTL = 30.0  # seconds without a refresh before an entry is gone


class MemoryHashes:
    """The three Redis hash commands the store needs, in one process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, str]] = {}

    def hset(self, key, field, value):
        with self._lock:
            self._data.setdefault(key, {})[field] = value

    def hdel(self, key, field):
        with self._lock:
            self._data.get(key, {}).pop(field, None)

    def hgetall(self, key):
        with self._lock:
            return dict(self._data.get(key, {}))


class ResilientHashes:
    """Redis hashes shared by every process, or this process's own while Redis is unreachable
    (presence and the stream cap then count one process only; nothing fails). After a
    failure Redis is tried again RETRY_AFTER seconds later, not at every call."""

    RETRY_AFTER = 5.0

    def __init__(self, client):
        self._redis, self._local = client, MemoryHashes()
        self._retry_at = 0.0

    def _call(self, command: str, *args):
        import redis

        if time.monotonic() >= self._retry_at:
            try:
                result = getattr(self._redis, command)(*args)
            except redis.RedisError:
                if self._retry_at == 0.0:
                    log.warning("live.presence_redis_lost: presence kept in this process")
                self._retry_at = time.monotonic() + self.RETRY_AFTER
            else:
                if self._retry_at:
                    log.warning("live.presence_redis_back")
                    self._retry_at = 0.0
                return result
        return getattr(self._local, command)(*args)

    def hset(self, key, field, value):
        return self._call("hset", key, field, value)

    def hdel(self, key, field):
        return self._call("hdel", key, field)

    def hgetall(self, key):
        return self._call("hgetall", key)


class PresenceStore:
    def __init__(self, hashes):
        self._hashes = hashes  # MemoryHashes, or a redis.Redis client (shared by processes)

    @staticmethod
    def _key(contract_id: int) -> str:
        return f"progres:presence:{contract_id}"

    def touch(self, contract_id: int, entry_id: str, *, user_id: int, name: str, side: str,
              editing: str | None = None) -> None:  # fmt: skip
        value = json.dumps({"user_id": user_id, "name": name, "side": side, "editing": editing,
                            "at": time.time()})  # fmt: skip
        self._hashes.hset(self._key(contract_id), entry_id, value)

    def leave(self, contract_id: int, entry_id: str) -> None:
        self._hashes.hdel(self._key(contract_id), entry_id)

    def present(self, contract_id: int) -> list[dict]:
        """One line per person: their side and the items they are editing now."""
        now, people = time.time(), {}
        for entry_id, raw in self._hashes.hgetall(self._key(contract_id)).items():
            entry = json.loads(raw)
            if now - entry["at"] > TTL:
                self._hashes.hdel(self._key(contract_id), entry_id)
                continue
            person = people.setdefault(entry["user_id"], {**entry, "editing": set()})
            if entry["editing"]:
                person["editing"].add(entry["editing"])
        return sorted(people.values(), key=lambda p: (p["side"], p["name"]))

    # --- open streams per person (LIVE_MAX_STREAMS_PER_USER, across processes) ---

    @staticmethod
    def _streams_key(user_id: int) -> str:
        return f"progres:streams:{user_id}"

    def open_stream(self, user_id: int, entry_id: str, cap: int, ttl: float) -> bool:
        """Count the person's stream in, or refuse it (False) when `cap` are already open in
        any process. Counted in first, then compared: two opened at once may both be refused,
        never both let through. An entry not refreshed for `ttl` seconds (a killed process's)
        no longer counts."""
        key, now = self._streams_key(user_id), time.time()
        self._hashes.hset(key, entry_id, str(now))
        opened = 0
        for other, at in self._hashes.hgetall(key).items():
            if now - float(at) > ttl:
                self._hashes.hdel(key, other)
            else:
                opened += 1
        if opened > cap:
            self._hashes.hdel(key, entry_id)
            return False
        return True

    def touch_stream(self, user_id: int, entry_id: str) -> None:
        self._hashes.hset(self._streams_key(user_id), entry_id, str(time.time()))

    def close_stream(self, user_id: int, entry_id: str) -> None:
        self._hashes.hdel(self._streams_key(user_id), entry_id)

    def editors_of(self, contract_id: int, item_key: str, *, except_user: int | None = None):
        return [p for p in self.present(contract_id)
                if item_key in p["editing"] and p["user_id"] != except_user]  # fmt: skip
