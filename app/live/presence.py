"""Who is on a contract's pages and what they are editing. Not a lock: nobody is ever blocked.

An entry lives as long as its stream (refreshed at each keepalive) or its editor's heartbeat;
it expires on its own when a tab dies without saying goodbye."""

from __future__ import annotations

import json
import threading
import time

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

    def editors_of(self, contract_id: int, item_key: str, *, except_user: int | None = None):
        return [p for p in self.present(contract_id)
                if item_key in p["editing"] and p["user_id"] != except_user]  # fmt: skip
