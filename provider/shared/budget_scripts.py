"""The Lua scripts that keep the replicas' budgets in Redis; each runs atomically on the server.

They are the rules of ``provider/binance/governor.py`` (request weight per IP) and
``provider/binance/order_limits.py`` (orders per account) written a second time, for state that
several processes change at once. Differences, each for a reason:

- weight: a used-weight header never *lowers* the shared count within a window (answers from several
  replicas arrive out of order, so an older header must not undo newer reservations); the in-flight
  weight is the replicas' total and is forgotten when a window rolls (a replica that dies mid-call
  cannot leak it for longer);
- a limit one replica learned (exchangeInfo, or a -1003 message) is stored and wins over the
  caller's own, so every replica lowers its budget together;
- orders: each new order takes a slot (``r:<label>``) before it is sent, so two replicas cannot both
  send the order that crosses the limit; the count checked is the larger of the slots taken and the
  last count the exchange reported in the window (``c:<label>``).

Numbers go in and out as strings (Redis would truncate a Lua number reply to an integer).
"""

from __future__ import annotations

__all__ = ["ORDER_EVENT", "ORDER_RELEASE", "ORDER_RESERVE", "REPLICAS", "WEIGHT_EVENT", "WEIGHT_RESERVE"]

#: KEYS[1] weight hash. ARGV: weight, now, priority (1/0), limit, interval_s, headroom, priority_share.
#: -> {"ok", used, limit} | {"wait", delay_s, used} | {"banned", until} | {"never", limit, interval_s}
WEIGHT_RESERVE = """
local k = KEYS[1]
local weight, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local prio = ARGV[3] == '1'
local limit, ivl = tonumber(ARGV[4]), tonumber(ARGV[5])
local headroom, pshare = tonumber(ARGV[6]), tonumber(ARGV[7])
local s = redis.call('HMGET', k, 'w', 'used', 'infl', 'blk', 'ban', 'lim', 'ivl')
if tonumber(s[6]) and tonumber(s[7]) then limit, ivl = tonumber(s[6]), tonumber(s[7]) end
local ban = tonumber(s[5]) or 0
if now < ban then return {'banned', tostring(ban)} end
if weight > limit then return {'never', tostring(limit), tostring(ivl)} end
local used, infl = tonumber(s[2]) or 0, tonumber(s[3]) or 0
local blk = tonumber(s[4]) or 0
if now < blk then return {'wait', tostring(blk - now), tostring(used)} end
local window = math.floor(now / ivl)
if tonumber(s[1]) ~= window then used, infl = 0, 0 end
local budget = math.max(1, math.floor(limit * (1 - headroom)))
local allowed = budget
if not prio then allowed = math.max(1, budget - math.floor(budget * pshare)) end
local fits = used + weight <= allowed
if not fits and weight > allowed then fits = (used == 0 and infl == 0) end
if not fits then return {'wait', tostring((window + 1) * ivl - now), tostring(used)} end
used, infl = used + weight, infl + weight
redis.call('HSET', k, 'w', window, 'used', used, 'infl', infl)
redis.call('EXPIRE', k, math.max(3600, math.ceil(ban - now) + 60))
return {'ok', tostring(used), tostring(limit)}
"""

#: KEYS[1] weight hash. ARGV[1] the event, then its values (now is always ARGV[2]):
#: observe: now, weight, header (-1 = none), sent_at, interval_s
#: seed: now, used, interval_s   (what a replica knew when it started sharing: raises the window's count)
#: release: now, weight
#: rate_limited: now, until, limit ('' = unchanged), interval_s, used_floor
#: banned: now, until
#: limit: now, limit, interval_s   (exchangeInfo: the rules are the truth again)
#: -> {used, blocked_until, banned_until}
WEIGHT_EVENT = """
local k, ev, now = KEYS[1], ARGV[1], tonumber(ARGV[2])
local s = redis.call('HMGET', k, 'w', 'used', 'infl', 'blk', 'ban', 'lim', 'ivl')
local used, infl = tonumber(s[2]) or 0, tonumber(s[3]) or 0
local blk, ban = tonumber(s[4]) or 0, tonumber(s[5]) or 0
local w = tonumber(s[1])
local function roll(ivl)
  local window = math.floor(now / ivl)
  if w ~= window then w, used, infl = window, 0, 0 end
end
if ev == 'observe' then
  local weight, header, sent, ivl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
  if tonumber(s[7]) then ivl = tonumber(s[7]) end
  roll(ivl)
  infl = math.max(0, infl - weight)
  if header >= 0 and math.floor(sent / ivl) == w then used = math.max(used, header + infl) end
elseif ev == 'seed' then
  local ivl = tonumber(ARGV[4])
  if tonumber(s[7]) then ivl = tonumber(s[7]) end
  roll(ivl)
  used = math.max(used, tonumber(ARGV[3]))
elseif ev == 'release' then
  infl = math.max(0, infl - tonumber(ARGV[3]))
elseif ev == 'rate_limited' then
  local ivl = tonumber(ARGV[5])
  if ARGV[4] ~= '' then redis.call('HSET', k, 'lim', ARGV[4], 'ivl', ivl) end
  roll(ivl)
  blk = math.max(blk, tonumber(ARGV[3]))
  used = math.max(used, tonumber(ARGV[6]))
elseif ev == 'banned' then
  ban = math.max(ban, tonumber(ARGV[3]))
elseif ev == 'limit' then
  if tonumber(s[7]) and tonumber(s[7]) ~= tonumber(ARGV[4]) then w, used, infl = -1, 0, 0 end
  redis.call('HSET', k, 'lim', ARGV[3], 'ivl', ARGV[4])
end
redis.call('HSET', k, 'w', w or -1, 'used', used, 'infl', infl, 'blk', blk, 'ban', ban)
redis.call('EXPIRE', k, math.max(3600, math.ceil(ban - now) + 60))
return {tostring(used), tostring(blk), tostring(ban)}
"""

#: KEYS[1] orders hash (one account). ARGV: now, then per limit: label, interval_s, limit.
#: -> {"ok", label, count, ...} (counts before this order's slot) | {"held", until, reason}
#:    | {"full", label, count, limit, wait_s}
ORDER_RESERVE = """
local k, now = KEYS[1], tonumber(ARGV[1])
local held = tonumber(redis.call('HGET', k, 'held')) or 0
if now < held then return {'held', tostring(held), redis.call('HGET', k, 'reason') or ''} end
local out, slots = {'ok'}, {}
for i = 2, #ARGV, 3 do
  local label, ivl, limit = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local window = math.floor(now / ivl)
  local count = 0
  for _, f in ipairs({'c:', 'r:'}) do
    local v = redis.call('HGET', k, f .. label)
    if v then
      local vw, vc = string.match(v, '^(-?%d+):(%d+)$')
      if tonumber(vw) == window then count = math.max(count, tonumber(vc)) end
    end
  end
  if count >= limit then
    return {'full', label, tostring(count), tostring(limit), tostring((window + 1) * ivl - now)}
  end
  local r = redis.call('HGET', k, 'r:' .. label)
  local rn = 0
  if r then
    local rw, rc = string.match(r, '^(-?%d+):(%d+)$')
    if tonumber(rw) == window then rn = tonumber(rc) end
  end
  slots[#slots + 1] = {'r:' .. label, window .. ':' .. (math.max(rn, count) + 1)}
  out[#out + 1] = label
  out[#out + 1] = tostring(count)
end
for _, s in ipairs(slots) do redis.call('HSET', k, s[1], s[2]) end
redis.call('EXPIRE', k, 90000)
return out
"""

#: KEYS[1] orders hash. ARGV: now, then per limit: label, interval_s. Gives back a slot taken in the current
#: windows by a call that then sent nothing (a duplicate refused, a lookup). -> 1
ORDER_RELEASE = """
local k, now = KEYS[1], tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local label, ivl = ARGV[i], tonumber(ARGV[i + 1])
  local window = math.floor(now / ivl)
  local r = redis.call('HGET', k, 'r:' .. label)
  if r then
    local rw, rc = string.match(r, '^(-?%d+):(%d+)$')
    if tonumber(rw) == window and tonumber(rc) > 0 then
      redis.call('HSET', k, 'r:' .. label, window .. ':' .. (tonumber(rc) - 1))
    end
  end
end
return 1
"""

#: KEYS[1] orders hash. ARGV: "observe", now, then label, interval_s, count ... | "rejected", now, until, reason
ORDER_EVENT = """
local k, ev, now = KEYS[1], ARGV[1], tonumber(ARGV[2])
if ev == 'observe' then
  for i = 3, #ARGV, 3 do
    local label, ivl, count = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
    local window = math.floor(now / ivl)
    local v = redis.call('HGET', k, 'c:' .. label)
    if v then
      local vw, vc = string.match(v, '^(-?%d+):(%d+)$')
      if tonumber(vw) == window then count = math.max(count, tonumber(vc)) end
    end
    redis.call('HSET', k, 'c:' .. label, window .. ':' .. count)
  end
elseif ev == 'rejected' then
  local held = tonumber(redis.call('HGET', k, 'held')) or 0
  if tonumber(ARGV[3]) > held then redis.call('HSET', k, 'held', ARGV[3], 'reason', ARGV[4]) end
end
redis.call('EXPIRE', k, 90000)
return 1
"""

#: A Lua function prepended to scripts: ``epoch(key, now_ms)`` -> when this Redis's data began, in the
#: server-clock ms of the replica that first saw it (``provider/shared/ledger.py`` rule 6). The key holds
#: ``<run_id>:<ms>``; a missing key (Redis restarted empty, FLUSHALL) or another run_id (a restart that
#: reloaded a persisted file, a promoted replica: both may have lost the last writes) starts a new epoch now.
EPOCH_FN = """
local function epoch(key, now_ms)
  local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') or '?'
  local cur = redis.call('GET', key)
  if cur then
    local r, ms = string.match(cur, '^(%w+):(%-?%d+)$')
    if r == run then return tonumber(ms) end
  end
  redis.call('SET', key, run .. ':' .. now_ms)
  return tonumber(now_ms)
end
"""

#: KEYS[1] replicas sorted set (member: replica id, score: alive until, Redis's clock in ms, so the
#: replicas' own clocks do not matter), KEYS[2] the epoch. ARGV: replica id, ttl_ms, server-clock now_ms
#: -> replicas alive (this one included). Every beat starts the epoch of a Redis that lost its data, so
#: the orders it holds back are those of the first seconds after the loss only.
REPLICAS = EPOCH_FN + """
epoch(KEYS[2], ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 4)
return redis.call('ZCARD', KEYS[1])
"""
