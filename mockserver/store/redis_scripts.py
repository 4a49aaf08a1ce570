"""The Lua scripts of the Redis store. Redis runs a script alone, so each is one atomic
ledger step for every process sharing the store; each is sent once (EVALSHA after).

Layout, all under the ``mockserver:`` prefix: ``t:<table>`` a hash of JSON records,
``c:<table>`` their counters, each a whole number of its own: those :meth:`Store.consume`
moves ('<id> fired', '<id> remaining', '<id> matched') and a key's balance ('<kid> balance',
taken from by a charge: RedisStore.COUNTED; not in the key's JSON record),
``windows`` the rate windows ('<window> <used>'), ``clock`` the clock's fields as text,
``epoch`` a name that changes with every reset and every change a process may have cached
(a key or an armed scenario set, the clock moved: see RedisStore.open_request_async),
``n:<table>`` / ``f:<table>`` a tally's counts and first ids, ``s:<table>:<mark>`` its
first ids since a mark and ``m:<table>`` the marks' counts (JSON), ``log:<log>`` a log.

A step a request makes (every script but the admin API's) takes a deadline: the wall-clock
instant in milliseconds by which it must run (see redis_async.DEADLINE). Run later, by a
Redis that stalled past the moment the mock gave up on it and answered 503, it changes
nothing and replies the error :data:`LATE` (``TIME`` is Redis's own clock: a script that
reads it may write since Redis 5, which replicates a script's writes, not the script).
"""

from mockserver.store import DRAW_DIGITS
from mockserver.store.redis_lua import (  # noqa: F401  LATE, UNWRITTEN: read as lua.*
    ADMIT_FUNCTION,
    CHANGED,
    CHARGE_FUNCTION,
    CLOCK_FUNCTION,
    COUNT_FUNCTION,
    ENCODE_FUNCTION,
    LATE,
    LATE_FUNCTION,
    TALLY_FUNCTION,
    UNWRITTEN,
)

# KEYS the table, its counters; ARGV the id, the record (without its counted field), the
# counted field ('' for none) and its value, the deadline. Returns {the record, the counted
# value}
PUT_NEW = LATE_FUNCTION + """
if late(ARGV[5]) then return refused_late() end
local counter = ARGV[1] .. ' ' .. ARGV[3]
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored then
  if ARGV[3] == '' then return {stored} end
  return {stored, redis.call('HGET', KEYS[2], counter)}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], counter, ARGV[4]) end
return {ARGV[2], ARGV[4]}
"""
CHARGE = LATE_FUNCTION + CHARGE_FUNCTION + """
if late(ARGV[5]) then return refused_late() end
local held, record = chargeable(KEYS[1], ARGV[1], ARGV[2], ARGV[4])
if type(held) ~= 'number' then return held end  -- no record, or an error reply
return charge(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), held, record)
"""
# KEYS the table, its counters; ARGV the id, the changes and the record if there is none
# (JSON, without the counted field), the counted field ('' for none), its new value ('':
# unchanged) and its value if there is no record, the new epoch. Returns {the record, the
# counted value}
UPDATE = ENCODE_FUNCTION + CHANGED + """
local stored = redis.call('HGET', KEYS[1], ARGV[1])
local record = cjson.decode(stored or ARGV[3])
for name, value in pairs(cjson.decode(ARGV[2])) do record[name] = value end
if ARGV[4] == '' then
  stored = encode(record)
  redis.call('HSET', KEYS[1], ARGV[1], stored)
  return {stored}
end
local counter = ARGV[1] .. ' ' .. ARGV[4]
local count = ARGV[5]
if count == '' then count = redis.call('HGET', KEYS[2], counter) end
if not count then  -- none yet: a new record's, or one an older mock kept in the JSON
  count = ARGV[6]
  if record[ARGV[4]] then count = string.format('%.0f', record[ARGV[4]]) end
end
record[ARGV[4]] = nil
stored = encode(record)
redis.call('HSET', KEYS[1], ARGV[1], stored)
redis.call('HSET', KEYS[2], counter, count)
return {stored, count}
"""
ADMIT = ADMIT_FUNCTION + """
return admit(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]))
"""
# Store.open_request: KEYS clock, keys table, windows, armed table, epoch, the keys'
# counters; ARGV kid, fresh JSON (without its balance) or '', limited '1'/'0', now or '',
# wall, window seconds, a new epoch, the fresh balance, the deadline. Returns {now as text,
# the key's JSON or false, created 0/1, remaining (-1 refused, -2 not limited), armed count, the
# epoch (named anew after a reset), the clock's frozen instant ('' if running) and offset,
# the key's balance (false: none kept apart)}, or false when the clock is not started. What
# the mock did not write (the balance's counter, the window: see COUNT_FUNCTION and admit;
# a limited record's limit or balance of another type) is an error reply before anything is
# written: the request's window is not counted, a key never seen not made.
OPEN = LATE_FUNCTION + COUNT_FUNCTION + ADMIT_FUNCTION + CLOCK_FUNCTION + """
if late(ARGV[9]) then return refused_late() end
local shown, clock = clock_instant(KEYS[1], tonumber(ARGV[5]))
local now = tonumber(ARGV[4]) or shown
if not now then return false end
local stored, created = redis.call('HGET', KEYS[2], ARGV[1]), 0
local balance = false
if stored then
  balance = counted(KEYS[6], ARGV[1], 'balance')
  if type(balance) == 'table' then return balance end
elseif ARGV[2] ~= '' then
  stored, created, balance = ARGV[2], 1, ARGV[8]
end
local remaining = -2
if stored and ARGV[3] == '1' then
  local key = cjson.decode(stored)
  if key.status == 'active' and key.rate_limit > 0 then
    if key.rate_limit % 1 ~= 0 or key.rate_limit > MAX_COUNT then
      return unwritten_count('rate_limit', ARGV[1], key.rate_limit)
    end
    local kept = key.balance  -- in the JSON: a record an older mock wrote, no counter
    if not balance and (type(kept) ~= 'number' or kept < 0 or kept % 1 ~= 0
                        or kept > MAX_COUNT) then
      return unwritten_count('balance', ARGV[1], kept)
    end
    local window = string.format('%d', math.floor(now / tonumber(ARGV[6])))
    remaining = admit(KEYS[3], ARGV[1], window, key.rate_limit)
    if type(remaining) == 'table' then return remaining end
  end
end
if created == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('HSET', KEYS[6], ARGV[1] .. ' balance', ARGV[8])
end
local epoch = redis.call('GET', KEYS[5])
if not epoch then
  epoch = ARGV[7]
  redis.call('SET', KEYS[5], epoch)
end
return {string.format('%.17g', now), stored, created, remaining, redis.call('HLEN', KEYS[4]),
        epoch, clock[1] or '', clock[2] or '', balance}
"""
# counters: '<id> remaining' (absent: no end), '<id> fired' and '<id> matched'; ARGV the id,
# the deadline, the probability ('': fires whenever it matches) and the draw's salt. An
# entry with a probability counts the match first, and fires only if the draw for that
# count (store.draw: the first hex digits of a SHA-1, as a fraction) is below it, so every
# process draws the same for the n-th match. Returns {fired, remaining (-1: no end), the
# entry's JSON}, or false: gone, or its draw failed (only 'matched' counted)
CONSUME = LATE_FUNCTION + """
if late(ARGV[2]) then return refused_late() end
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if not stored then return false end
if ARGV[3] ~= '' then
  local matched = redis.call('HINCRBY', KEYS[2], ARGV[1] .. ' matched', 1)
  local digest = redis.sha1hex(ARGV[4] .. ':' .. ARGV[1] .. ':' .. string.format('%d', matched))
  if tonumber(string.sub(digest, 1, DIGITS), 16) / 16 ^ DIGITS >= tonumber(ARGV[3]) then
    return false
  end
end
local fired = redis.call('HINCRBY', KEYS[2], ARGV[1] .. ' fired', 1)
local remaining = redis.call('HGET', KEYS[2], ARGV[1] .. ' remaining')
if not remaining then return {fired, -1, stored} end
remaining = redis.call('HINCRBY', KEYS[2], ARGV[1] .. ' remaining', -1)
if remaining <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1] .. ' fired', ARGV[1] .. ' remaining',
             ARGV[1] .. ' matched')
end
return {fired, remaining, stored}
""".replace("DIGITS", str(DRAW_DIGITS))
DELETE = CHANGED + """
redis.call('HDEL', KEYS[2], ARGV[1] .. ' fired', ARGV[1] .. ' remaining', ARGV[1] .. ' matched',
           ARGV[1] .. ' balance')
return redis.call('HDEL', KEYS[1], ARGV[1])
"""
APPEND = """
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
"""
# a clock that is not one (see CLOCK_FUNCTION) is left for the next reading to start again
ADVANCE = CHANGED + CLOCK_FUNCTION + """
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return end
local field = 'offset'
if redis.call('HGET', KEYS[1], 'frozen_at') ~= '' then field = 'frozen_at' end
if decimal(redis.call('HGET', KEYS[1], field)) then
  redis.call('HINCRBYFLOAT', KEYS[1], field, ARGV[1])
end
"""
CLEAR = """
local keys = redis.call('KEYS', ARGV[1])
for i = 1, #keys, 500 do redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys))) end
return #keys
"""


# Store.tally: ARGV the table, the id, names...
TALLY = TALLY_FUNCTION + """
tally(1, ARGV[2], 3, #ARGV)
"""
# A request's last step (Store.finish_async): the value its charge takes from, if any, read
# (one the mock did not write replies UNWRITTEN, nothing counted or written), its rate
# window counted, if it was left to this step, then its charge, and then, if the credits
# were taken, its writes, so a request that is charged is journalled and counted in the same
# step. A log's value is not passed to the script: Redis hashes every byte of a script's
# argument, which for a 2 KB journal line costs more than the rest of the step, so it is
# pushed by a plain LPUSH just before the script, in the same MULTI, and the script keeps it
# (trimming the log) or pops it again. Each argument costs the step about as much as a short
# Redis call, so there are few (the rate windows' hash is named here, as CHANGED names the
# epoch). KEYS: the epoch. ARGV: the epoch the request began from, when it began from what
# this process had read before ('' if not: then it is not checked); the charge's hash, id
# ('' for no charge), field, amount; as the writes assume the field's value after is below
# ARGV[6] exactly when ARGV[7] is '1', those two; the record if there is none ('': there
# is); the deadline (run later, it takes back the values pushed and replies LATE); then, if
# its window is to be counted, 'w' and its name, number and limit (nothing at all if not:
# every argument costs); then the writes, each a letter and its arguments:
#   'p' log, its last index: a value pushed on the log just before: kept, the log trimmed
#   't' table, first id, n, then n names: a tally
# Returns {the charged field's value after or false (no charge: ''), 1 if the writes were
# made else 0, 1 if the epoch moved (nothing done) else 0, what the window has left (-1:
# spent, nothing done; -2: none counted)}: no writes are made when the charge is refused, or
# when its value after is not as they assume. A window's number is the request's instant as
# it began, a few milliseconds before: a request that began in the window before the one
# another process counted meanwhile counts in the newer one (admit's ``late``), so no window
# ever admits more than its limit.
FINISH = LATE_FUNCTION + CHARGE_FUNCTION + TALLY_FUNCTION + ADMIT_FUNCTION + """
local writes = 10
if ARGV[10] == 'w' then writes = 14 end
local function unpushed()
  local i = writes
  while i <= #ARGV do
    if ARGV[i] == 'p' then
      -- not a list: something else wrote it, and the value was never pushed
      if redis.call('TYPE', ARGV[i + 1]).ok == 'list' then redis.call('LPOP', ARGV[i + 1]) end
      i = i + 3
    else
      i = i + 4 + tonumber(ARGV[i + 3])
    end
  end
end
-- what the writes would fail on, found before anything is written (nil: nothing): a log
-- that is no list, a tally's hash or count something else wrote (TALLY_FUNCTION)
local marks_of = {}  -- each tally's marks, read by writes_problem
local function writes_problem()
  local i = writes
  while i <= #ARGV do
    if ARGV[i] == 'p' then
      local kind = redis.call('TYPE', ARGV[i + 1]).ok
      if kind ~= 'list' then return ARGV[i + 1] .. ' is a ' .. kind end
      i = i + 3
    else
      local names = tonumber(ARGV[i + 3])
      local problem, marked = tally_problem(i + 1, i + 4, i + 3 + names)
      if problem then return problem end
      marks_of[i] = marked
      i = i + 4 + names
    end
  end
  return nil
end
if late(ARGV[9]) then
  unpushed()
  return refused_late()
end
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  unpushed()
  return {'', 0, 1, -2}
end
-- what the charge takes from, read first: a balance the mock did not write is refused
-- before the window is counted, as the window the mock did not write is before anything
local held, record
if ARGV[3] ~= '' then
  held, record = chargeable(ARGV[2], ARGV[3], ARGV[4], ARGV[8])
  if type(held) == 'table' then  -- an error reply: what the mock did not write
    unpushed()
    return held
  end
end
-- so a write that would fail after the charge is refused before it, nothing written
local problem = writes_problem()
if problem then
  unpushed()
  return redis.error_reply('UNWRITTEN ' .. problem .. ', not what the mock writes there')
end
local left = -2
if writes == 14 then
  left = admit('mockserver:windows', ARGV[11], ARGV[12], tonumber(ARGV[13]), true)
  if type(left) == 'table' then
    unpushed()
    return left
  end
  if left < 0 then
    unpushed()
    return {false, 0, 0, -1}
  end
end
local after = ''
if ARGV[3] ~= '' then
  after = held and charge(ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), held, record)
  if not after then
    unpushed()
    return {false, 0, 0, left}
  end
  if (after < tonumber(ARGV[6])) ~= (ARGV[7] == '1') then
    unpushed()
    return {after, 0, 0, left}
  end
end
local i = writes
while i <= #ARGV do
  if ARGV[i] == 'p' then
    redis.call('LTRIM', ARGV[i + 1], '0', ARGV[i + 2])
    i = i + 3
  else
    local names = tonumber(ARGV[i + 3])
    tally(i + 1, ARGV[i + 2], i + 4, i + 3 + names, marks_of[i])
    i = i + 4 + names
  end
end
return {after, 1, 0, left}
"""
# Store.mark_tally: KEYS counts, marks; ARGV the mark, its since-hash. Returns the counts
MARK_TALLY = """
local counts = redis.call('HGETALL', KEYS[1])
local snapshot = {}
for i = 1, #counts, 2 do snapshot[counts[i]] = tonumber(counts[i + 1]) end
local kept = '{}'
if #counts > 0 then kept = cjson.encode(snapshot) end
redis.call('HSET', KEYS[2], ARGV[1], kept)
redis.call('DEL', ARGV[2])
return kept
"""
