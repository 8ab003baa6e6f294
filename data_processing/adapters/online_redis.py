"""Redis online store: one hash per loaded version, a pointer hash per group flipped by one atomic script.

Layout under a key prefix (default ``strata:fs``):

- ``<prefix>:<group>:current`` — the pointer: a hash ``{version, data, previous, rows, loaded_at,
  newest_feature_time}``. ``data`` names the hash serving now, ``previous`` the one it replaced.
- ``<prefix>:<group>:data:<load id>`` — one hash per bulk load: field = entity id, value = the JSON row
  (feature values + ISO ``feature_time``; JSON keeps int/float/str/bool/None apart on the way back).

Why one hash per version rather than one key per entity: garbage-collecting a version is ONE ``UNLINK``
(freed off the main thread) instead of a SCAN over millions of keys, and a crashed load leaves a single
orphan that expires by itself (the hash carries a TTL until the flip persists it). The cost: a version
lives on one Redis node — shard a Redis Cluster deployment by group, or split the hash into buckets.

Why a load id rather than ``v<N>`` in the data key: two loaders of the same group write distinct hashes,
and the flip is a compare-and-set script, so a load either becomes version current+1 whole or fails —
never a mix. A load id is drawn from ``INCR``; the version number stays ``current + 1`` as the contract
wants (a failed load does not burn a version).

Reads are one Lua script (``EVALSHA``): it reads each group's pointer and then that version's row(s), so
a multi-group lookup is ONE round trip and atomic with respect to flips.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import redis

from data_processing.domain.online import OnlineRow, OnlineVersion
from data_processing.errors import OnlineStoreLoadFailed
from data_processing.ports import OnlineStore
from strata_kernel.errors import Unavailable

DEFAULT_PREFIX = "strata:fs"
_CHUNK = 2_000  # rows per pipelined HSET
_READ_CHUNK = 1_000  # entity ids per read-script call
_ORPHAN_TTL_SECONDS = 24 * 3600  # an unfinished load's hash disappears by itself

# KEYS = pointer hashes of the groups; ARGV = entity ids. Returns, per group, a list of rows (or false).
_READ_SCRIPT = """
local out = {}
for i = 1, #KEYS do
  local data = redis.call('HGET', KEYS[i], 'data')
  if data then
    out[i] = redis.call('HMGET', data, unpack(ARGV))
  else
    out[i] = false
  end
end
return out
"""

# KEYS = {pointer, new data hash}; ARGV = {expected current version, rows, loaded_at, newest_feature_time}.
# Flips only if nobody else flipped meanwhile; unlinks the version before the previous one.
_FLIP_SCRIPT = """
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then
  return -1
end
local previous = redis.call('HGET', KEYS[1], 'previous')
if previous then
  redis.call('UNLINK', previous)
end
local serving = redis.call('HGET', KEYS[1], 'data')
redis.call('PERSIST', KEYS[2])
redis.call('HSET', KEYS[1], 'version', current + 1, 'data', KEYS[2], 'rows', ARGV[2],
           'loaded_at', ARGV[3], 'newest_feature_time', ARGV[4])
if serving then
  redis.call('HSET', KEYS[1], 'previous', serving)
end
return current + 1
"""


# KEYS = {pointer, data hash to create if the group has none}; ARGV = {newest feature time, now, entity, row, ...}.
# Streaming upsert into the serving version, all rows at once (a script runs atomically).
_PUT_SCRIPT = """
local data = redis.call('HGET', KEYS[1], 'data')
if not data then
  data = KEYS[2]
  redis.call('HSET', KEYS[1], 'version', 1, 'data', data, 'newest_feature_time', '')
end
for i = 3, #ARGV, 2 do
  redis.call('HSET', data, ARGV[i], ARGV[i + 1])
end
local newest = redis.call('HGET', KEYS[1], 'newest_feature_time') or ''
if ARGV[1] > newest then
  newest = ARGV[1]
end
redis.call('HSET', KEYS[1], 'rows', redis.call('HLEN', data), 'loaded_at', ARGV[2], 'newest_feature_time', newest)
return 1
"""


class RedisOnlineStore(OnlineStore):
    def __init__(self, client: redis.Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._prefix = prefix
        self._read = client.register_script(_READ_SCRIPT)
        self._flip = client.register_script(_FLIP_SCRIPT)
        self._put = client.register_script(_PUT_SCRIPT)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> RedisOnlineStore:
        """``redis://host:port/db`` (redis-py URL syntax); connects lazily on the first command."""
        return cls(redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0), prefix=prefix)

    # -- reads (hot path) -------------------------------------------------------------------------
    def get(self, group: str, entity_id: str) -> dict[str, Any] | None:
        return self.get_many([group], entity_id)[group]

    def get_many(self, groups: Sequence[str], entity_id: str) -> dict[str, dict[str, Any] | None]:
        per_group = self._read_rows(groups, [entity_id])
        return {group: rows[0] for group, rows in zip(groups, per_group, strict=True)}

    def get_many_entities(
        self, groups: Sequence[str], entity_ids: Sequence[str]
    ) -> dict[str, dict[str, dict[str, Any] | None]]:
        if not entity_ids:
            return {}
        per_group = self._read_rows(groups, entity_ids)
        return {
            entity_id: {group: rows[i] for group, rows in zip(groups, per_group, strict=True)}
            for i, entity_id in enumerate(entity_ids)
        }

    def _read_rows(self, groups: Sequence[str], entity_ids: Sequence[str]) -> list[list[dict[str, Any] | None]]:
        """Per group, the rows of ``entity_ids`` in order; one round trip (Lua's unpack() caps a call's args)."""
        if not groups:
            return []
        keys = [self._pointer(g) for g in groups]
        chunks = [list(entity_ids[i : i + _READ_CHUNK]) for i in range(0, len(entity_ids), _READ_CHUNK)]
        try:
            if len(chunks) == 1:
                replies = [self._read(keys=keys, args=chunks[0])]
            else:
                pipeline = self._client.pipeline(transaction=False)
                for chunk in chunks:
                    self._read(keys=keys, args=chunk, client=pipeline)
                replies = pipeline.execute()
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc
        per_group: list[list[dict[str, Any] | None]] = [[] for _ in groups]
        for reply, chunk in zip(replies, chunks, strict=True):
            for rows, group_reply in zip(per_group, reply, strict=True):
                rows.extend([_decode(raw) for raw in group_reply] if group_reply else [None] * len(chunk))
        return per_group

    def current_version(self, group: str) -> OnlineVersion | None:
        try:
            pointer = self._client.hgetall(self._pointer(group))
        except redis.RedisError as exc:
            raise _unavailable(exc) from exc
        if not pointer:
            return None
        fields = {_text(key): _text(value) for key, value in pointer.items()}
        newest = fields.get("newest_feature_time")
        return OnlineVersion(
            group,
            int(fields["version"]),
            int(fields["rows"]),
            datetime.fromisoformat(fields["loaded_at"]),
            datetime.fromisoformat(newest) if newest else None,
        )

    # -- bulk load --------------------------------------------------------------------------------
    def load_version(self, group: str, rows: Iterable[OnlineRow]) -> int:
        _check_group_name(group)
        data_key = ""
        try:
            expected = self._serving_version(group)
            data_key = f"{self._prefix}:{group}:data:{self._client.incr(f'{self._prefix}:{group}:load_ids')}"
            count, newest = self._write_rows(data_key, rows)
            flipped = self._flip(
                keys=[self._pointer(group), data_key],
                args=[expected, count, datetime.now().isoformat(), newest.isoformat() if newest else ""],
            )
        except Exception as exc:
            self._discard(data_key)
            raise OnlineStoreLoadFailed(f"online load of {group} failed, previous version kept: {exc}") from exc
        if int(flipped) < 0:
            self._discard(data_key)
            raise OnlineStoreLoadFailed(f"online load of {group} lost a race with another load; it serves instead")
        return int(flipped)

    def put_rows(self, group: str, rows: Iterable[OnlineRow]) -> None:
        """Streaming upsert into the serving version: one script, so all rows become visible together."""
        _check_group_name(group)
        batch = list(rows)
        if not batch:
            return
        # ISO strings of naive datetimes order like the datetimes: the script keeps the max as text
        newest = max(row.feature_time for row in batch).isoformat()
        args: list[str] = [newest, datetime.now().isoformat()]
        for row in batch:
            args += [row.entity_id, _encode(row)]
        try:
            self._put(keys=[self._pointer(group), f"{self._prefix}:{group}:data:stream"], args=args)
        except redis.RedisError as exc:
            raise OnlineStoreLoadFailed(f"online upsert into {group} failed, nothing written: {exc}") from exc

    def _serving_version(self, group: str) -> int:
        version = self._client.hget(self._pointer(group), "version")
        return int(version) if version is not None else 0

    def _write_rows(self, data_key: str, rows: Iterable[OnlineRow]) -> tuple[int, datetime | None]:
        """Pipelined HSETs in chunks; the hash expires unless the flip persists it."""
        count, newest = 0, None
        for chunk in _chunks(rows, _CHUNK):
            pipeline = self._client.pipeline(transaction=False)
            pipeline.hset(data_key, mapping={row.entity_id: _encode(row) for row in chunk})
            pipeline.expire(data_key, _ORPHAN_TTL_SECONDS)
            pipeline.execute()
            count += len(chunk)
            chunk_newest = max(row.feature_time for row in chunk)
            newest = chunk_newest if newest is None or chunk_newest > newest else newest
        return count, newest

    def _discard(self, data_key: str) -> None:
        if not data_key:
            return
        with contextlib.suppress(redis.RedisError):  # else it expires by itself (_ORPHAN_TTL_SECONDS)
            self._client.unlink(data_key)

    def _pointer(self, group: str) -> str:
        return f"{self._prefix}:{group}:current"

    def close(self) -> None:
        self._client.close()


def _encode(row: OnlineRow) -> str:
    return json.dumps({**row.values, "feature_time": row.feature_time.isoformat()}, separators=(",", ":"))


def _text(value: bytes | str) -> str:
    """Works with clients built with or without ``decode_responses``."""
    return value.decode() if isinstance(value, bytes) else value


def _decode(raw: bytes | str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    record: dict[str, Any] = json.loads(raw)
    record["feature_time"] = _parse_time(record["feature_time"])
    return record


#: rows of one load share a handful of feature times; datetimes are immutable, so sharing them is safe
_parse_time = functools.lru_cache(maxsize=4096)(datetime.fromisoformat)


def _chunks(rows: Iterable[OnlineRow], size: int) -> Iterator[list[OnlineRow]]:
    chunk: list[OnlineRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _unavailable(exc: redis.RedisError) -> Unavailable:
    return Unavailable(f"online store (redis) unavailable: {exc}", code="online_store_unavailable")


def _check_group_name(group: str) -> None:
    if not group or not group.replace("_", "a").isalnum():
        raise ValueError(f"feature group name {group!r} must be letters, digits and underscores")
