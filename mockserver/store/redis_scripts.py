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

from mockserver.clock import EARLIEST, LATEST
from mockserver.store import DRAW_DIGITS, MAX_COUNT

#: what a step run after its deadline replies (an error reply starting so)
LATE = "LATE"
#: what a step finding what the mock never writes replies (an error reply starting so),
#: having written nothing: a counter below 0 or not a whole number, a rate window not a
#: window number and a count
UNWRITTEN = "UNWRITTEN"
_LATE_FUNCTION = """
local function late(deadline)
  local now = redis.call('TIME')
  return tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > tonumber(deadline)
end
local function refused_late()
  return redis.error_reply('LATE run after the mock had given up on it: nothing written')
end
"""

# KEYS the table, its counters; ARGV the id, the record (without its counted field), the
# counted field ('' for none) and its value, the deadline. Returns {the record, the counted
# value}
PUT_NEW = _LATE_FUNCTION + """
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
# Records are JSON made by orjson. cjson reads them exactly, but writes numbers with 14
# significant digits (a balance of 10**14 would come back 1e+14, a float), so a record
# changed here that holds such a number is written back by _ENCODE: whole numbers in full.
# Any other (every record below 10**14) is written by cjson, which costs a third as much.
_ENCODE_FUNCTION = """
local function encode(record)
  local exact = true
  for _, value in pairs(record) do
    if type(value) == 'number' and math.abs(value) >= 1e14 then exact = false end
  end
  if exact then return cjson.encode(record) end
  local parts = {}
  for name, value in pairs(record) do
    local shown
    if type(value) == 'number' and value == math.floor(value) and math.abs(value) < 2^53 then
      shown = string.format('%.0f', value)
    else
      shown = cjson.encode(value)
    end
    parts[#parts + 1] = cjson.encode(name) .. ':' .. shown
  end
  return '{' .. table.concat(parts, ',') .. '}'
end
"""
# A counted field's value (see the layout) as the mock writes it: digits alone, from 0 to
# MAX_COUNT (past it, a double no longer counts exactly). Anything else something else wrote
# is the reply UNWRITTEN, from a step that has written nothing yet.
_COUNT_FUNCTION = f"""
local MAX_COUNT = {MAX_COUNT}
""" + """
local function unwritten_count(field, id, raw)
  return redis.error_reply(string.format('UNWRITTEN the %s of %s is %.60s, not a whole number '
                                         .. 'from 0 to %.0f', field, id, tostring(raw),
                                         MAX_COUNT))
end
-- the counter of id's field: its value (false: none), or an error reply
local function counted(counters, id, field)
  local raw = redis.call('HGET', counters, id .. ' ' .. field)
  if not raw then return false end
  if not string.match(raw, '^%d+$') or tonumber(raw) > MAX_COUNT then
    return unwritten_count(field, id, raw)
  end
  return tonumber(raw)
end
"""
# What a charge takes from (read first, so a step checks it before it writes anything, its
# rate window too): the counted field's value, and the record whose JSON still holds it
# (nil: its counter holds it), or false (no record: taken by a reset meanwhile, and no
# ``fresh``, the record as JSON with the field in it, to make it again from), or an error
# reply. A record with no counter was taken by a reset meanwhile, or was written by a mock
# that kept the field in the JSON: either way its JSON is written without the field, and
# the counter made, when the charge takes from it.
_CHARGE_FUNCTION = _ENCODE_FUNCTION + _COUNT_FUNCTION + """
local function chargeable(hash, id, field, fresh)
  local held = counted('mockserver:c:' .. string.sub(hash, 14), id, field)
  if held then return held end
  local stored = redis.call('HGET', hash, id)
  if not stored and fresh == '' then return false end
  local record = cjson.decode(stored or fresh)
  held = record[field]
  if type(held) ~= 'number' or held < 0 or held > MAX_COUNT or held % 1 ~= 0 then
    return unwritten_count(field, id, held)
  end
  record[field] = nil
  return held, record
end
-- take amount from what chargeable read (held, record) if it holds that much: the value
-- after, or false, changing nothing
local function charge(hash, id, field, amount, held, record)
  if held < amount then return false end
  local after = held - amount
  if record then redis.call('HSET', hash, id, encode(record)) end
  redis.call('HSET', 'mockserver:c:' .. string.sub(hash, 14), id .. ' ' .. field,
             string.format('%.0f', after))
  return after
end
"""
CHARGE = _LATE_FUNCTION + _CHARGE_FUNCTION + """
if late(ARGV[5]) then return refused_late() end
local held, record = chargeable(KEYS[1], ARGV[1], ARGV[2], ARGV[4])
if type(held) ~= 'number' then return held end  -- no record, or an error reply
return charge(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), held, record)
"""
# what a change a process may have cached does last: name the epoch anew (the new name the
# script's last argument), so a request that began from the old one is run again
_CHANGED = """
redis.call('SET', 'mockserver:epoch', ARGV[#ARGV])
"""
# KEYS the table, its counters; ARGV the id, the changes and the record if there is none
# (JSON, without the counted field), the counted field ('' for none), its new value ('':
# unchanged) and its value if there is no record, the new epoch. Returns {the record, the
# counted value}
UPDATE = _ENCODE_FUNCTION + _CHANGED + """
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
# one use of name's window (a whole number as text): what remains, or -1 (refused). A new
# window number starts the count again. With ``late``, an older one counts in the newer
# window stored (see FINISH), not as a new start that would forget the newer one's count.
# A window held as the mock never writes it (not '<number> <count>', digits both: something
# else wrote it) is an error reply UNWRITTEN, counting nothing, as an SQLite file's is the
# 503, not a window started afresh over it.
_ADMIT_FUNCTION = """
local function admit(windows, name, window, limit, late)
  local used = 0
  local stored = redis.call('HGET', windows, name)
  if stored then
    local start, count = string.match(stored, '^(%d+) (%d+)$')
    if not start then
      return redis.error_reply(string.format('UNWRITTEN the rate window of %s is %.60s, not a '
                                             .. 'window number and a count', name, stored))
    end
    if start == window then
      used = tonumber(count)
    elseif late and tonumber(start) > tonumber(window) then
      window, used = start, tonumber(count)
    end
  end
  if used >= limit then return -1 end
  -- '%d': a count from 10^14 on would be written as '1e+14' by '..'
  redis.call('HSET', windows, name, string.format('%s %d', window, used + 1))
  return limit - used - 1
end
"""
ADMIT = _ADMIT_FUNCTION + """
return admit(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]))
"""
# The clock's fields are written by the mock alone, as decimals; anything else (an outside
# write) is not a clock, read as one not started, which the mock starts again. The same test
# as redis_common.read_clock's, so the script and the process agree on what to start again.
_CLOCK_FUNCTION = """
local function decimal(text)
  return text and (string.match(text, '^%-?%d+%.?%d*$')
                   or string.match(text, '^%-?%d+%.?%d*[eE][%+%-]?%d+$')) ~= nil
end
local function clock_instant(clock_key, wall)
  if redis.call('TYPE', clock_key).ok ~= 'hash' then return nil, {false, false} end
  local clock = redis.call('HMGET', clock_key, 'frozen_at', 'offset')
  if not decimal(clock[2]) then return nil, clock end
  local now
  if clock[1] and clock[1] ~= '' then
    if not decimal(clock[1]) then return nil, clock end
    now = tonumber(clock[1])
  else
    now = wall + tonumber(clock[2])
  end
  if now >= EARLIEST and now < LATEST then return now, clock end
  return nil, clock
end
""".replace("EARLIEST", repr(EARLIEST)).replace("LATEST", repr(LATEST))
# Store.open_request: KEYS clock, keys table, windows, armed table, epoch, the keys'
# counters; ARGV kid, fresh JSON (without its balance) or '', limited '1'/'0', now or '',
# wall, window seconds, a new epoch, the fresh balance, the deadline. Returns {now as text,
# the key's JSON or false, created 0/1, remaining (-1 refused, -2 not limited), armed count, the
# epoch (named anew after a reset), the clock's frozen instant ('' if running) and offset,
# the key's balance (false: none kept apart)}, or false when the clock is not started. What
# the mock did not write (the balance's counter, the window: see _COUNT_FUNCTION and admit;
# a limited record's limit or balance of another type) is an error reply before anything is
# written: the request's window is not counted, a key never seen not made.
OPEN = _LATE_FUNCTION + _COUNT_FUNCTION + _ADMIT_FUNCTION + _CLOCK_FUNCTION + """
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
CONSUME = _LATE_FUNCTION + """
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
DELETE = _CHANGED + """
redis.call('HDEL', KEYS[2], ARGV[1] .. ' fired', ARGV[1] .. ' remaining', ARGV[1] .. ' matched',
           ARGV[1] .. ' balance')
return redis.call('HDEL', KEYS[1], ARGV[1])
"""
APPEND = """
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
"""
# a clock that is not one (see _CLOCK_FUNCTION) is left for the next reading to start again
ADVANCE = _CHANGED + _CLOCK_FUNCTION + """
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


# a tally's names ARGV[from..to] (see Store.tally) in the table named ARGV[name]: counts,
# firsts and marks are hashes, each mark's first ids since it the hash '<since><mark>'. A
# name's first id is set when its count becomes 1 (they are cleared together).
_TALLY_FUNCTION = """
local function tally(name, first, from, to)
  local counts, firsts = 'mockserver:n:' .. ARGV[name], 'mockserver:f:' .. ARGV[name]
  local marked = redis.call('HKEYS', 'mockserver:m:' .. ARGV[name])
  local since = 'mockserver:s:' .. ARGV[name] .. ':'
  for i = from, to do
    if redis.call('HINCRBY', counts, ARGV[i], '1') == 1 then
      redis.call('HSET', firsts, ARGV[i], first)
    end
    for _, mark in ipairs(marked) do redis.call('HSETNX', since .. mark, ARGV[i], first) end
  end
end
"""
# Store.tally: ARGV the table, the id, names...
TALLY = _TALLY_FUNCTION + """
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
# Redis call, so there are few (the rate windows' hash is named here, as _CHANGED names the
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
FINISH = _LATE_FUNCTION + _CHARGE_FUNCTION + _TALLY_FUNCTION + _ADMIT_FUNCTION + """
local writes = 10
if ARGV[10] == 'w' then writes = 14 end
local function unpushed()
  local i = writes
  while i <= #ARGV do
    if ARGV[i] == 'p' then
      redis.call('LPOP', ARGV[i + 1])
      i = i + 3
    else
      i = i + 4 + tonumber(ARGV[i + 3])
    end
  end
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
    tally(i + 1, ARGV[i + 2], i + 4, i + 3 + names)
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
