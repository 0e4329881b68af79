"""Per-host resource reservations, shared by every worker process on a host through Redis.

Each host has `VIRTOOL_PROC` cores and `VIRTOOL_MEM` GB. A job reserves its size's `proc`/`mem` (clamped to the
host's limits, so a large job can always run somewhere) before it starts, and releases them when it ends. One Lua
script decides atomically:

- the sum of the reservations on a host never exceeds its limits;
- waiting jobs are served in the order they were created (strict FIFO per host), so a large job waiting for room
  is never overtaken by a stream of small ones;
- a reservation or a waiter whose process stopped refreshing it (a worker killed with SIGKILL) expires after
  `VIRTOOL_JOB_STALE_SECONDS`, so a crash can never leak capacity.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import cast

import redis
from django.conf import settings

_ACQUIRE = """
-- KEYS: reservations (hash job -> "proc mem seen"), waiters (zset job -> created), waiter_seen (hash job -> seen)
-- ARGV: job, proc, mem, limit_proc, limit_mem, created, now, stale
local job, proc, mem = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local limit_proc, limit_mem = tonumber(ARGV[4]), tonumber(ARGV[5])
local created, now, stale = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])

if redis.call('HEXISTS', KEYS[1], job) == 1 then return 1 end

-- Forget waiters and reservations nobody has refreshed lately: their worker is gone.
for _, other in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local seen = tonumber(redis.call('HGET', KEYS[3], other) or '0')
  if other ~= job and now - seen > stale then
    redis.call('ZREM', KEYS[2], other)
    redis.call('HDEL', KEYS[3], other)
  end
end
local used_proc, used_mem = 0, 0
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local p, m, seen = string.match(entries[i + 1], '(%S+) (%S+) (%S+)')
  if now - tonumber(seen) > stale then
    redis.call('HDEL', KEYS[1], entries[i])
  else
    used_proc = used_proc + tonumber(p)
    used_mem = used_mem + tonumber(m)
  end
end

redis.call('ZADD', KEYS[2], 'NX', created, job)
redis.call('HSET', KEYS[3], job, now)
local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if head ~= job then return 0 end
if used_proc + proc > limit_proc or used_mem + mem > limit_mem then return 0 end

redis.call('HSET', KEYS[1], job, proc .. ' ' .. mem .. ' ' .. now)
redis.call('ZREM', KEYS[2], job)
redis.call('HDEL', KEYS[3], job)
return 1
"""

_REFRESH = """
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value then
  local p, m = string.match(value, '(%S+) (%S+)')
  redis.call('HSET', KEYS[1], ARGV[1], p .. ' ' .. m .. ' ' .. ARGV[2])
  return 1
end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
end
return 0
"""


def host_name() -> str:
    """The name reservations are kept under: VIRTOOL_WORKER_HOST, else the machine's host name."""
    return settings.VIRTOOL_WORKER_HOST or socket.gethostname()


@dataclass(frozen=True)
class Request:
    """What a job asks for on this host."""

    proc: int
    mem: int


class HostResources:
    """The reservations of one host."""

    def __init__(self, host: str | None = None, client: redis.Redis | None = None) -> None:
        self.host = host or host_name()
        self.redis = client or redis.Redis.from_url(settings.REDIS_URL)
        prefix = f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}:resources:{self.host}"
        self.keys = [f"{prefix}:reservations", f"{prefix}:waiters", f"{prefix}:waiter-seen"]
        self._acquire = self.redis.register_script(_ACQUIRE)
        self._refresh = self.redis.register_script(_REFRESH)

    @property
    def limits(self) -> Request:
        """This host's limits."""
        return Request(settings.VIRTOOL_PROC, settings.VIRTOOL_MEM)

    def request_for(self, size: str) -> Request:
        """The reservation of a job of `size` on this host, clamped to the host's limits."""
        from jobs.constants import JobSize

        if size == JobSize.LARGE:
            proc, mem = settings.VIRTOOL_LG_PROC, settings.VIRTOOL_LG_MEM
        else:
            proc, mem = settings.VIRTOOL_SM_PROC, settings.VIRTOOL_SM_MEM
        return Request(max(1, min(proc, self.limits.proc)), max(1, min(mem, self.limits.mem)))

    def try_acquire(self, job_id: str, request: Request, created: float) -> bool:
        """Reserve now if it fits and no job created earlier is waiting on this host; else join the queue."""
        limits = self.limits
        args = [
            job_id,
            request.proc,
            request.mem,
            limits.proc,
            limits.mem,
            created,
            time.time(),
            settings.VIRTOOL_JOB_STALE_SECONDS,
        ]
        return bool(self._acquire(keys=self.keys, args=args))

    def refresh(self, job_id: str) -> None:
        """Tell other workers this job's process is alive (its reservation or its place in the queue)."""
        self._refresh(keys=self.keys, args=[job_id, time.time()])

    def release(self, job_id: str) -> None:
        """Give back a job's reservation (or its place in the queue)."""
        pipe = self.redis.pipeline()
        pipe.hdel(self.keys[0], job_id)
        pipe.zrem(self.keys[1], job_id)
        pipe.hdel(self.keys[2], job_id)
        pipe.execute()

    def reserved(self) -> dict[str, Request]:
        """Current reservations by job id."""
        out = {}
        # The client is made without decode_responses, so Redis answers bytes (redis-py's hints allow str too).
        reservations = cast("dict[bytes, bytes]", self.redis.hgetall(self.keys[0]))
        for job_id, value in reservations.items():
            proc, mem, _ = value.decode().split()
            out[job_id.decode()] = Request(int(proc), int(mem))
        return out
