"""The Lua scripts of the Redis store. Redis runs a script alone, so each is one atomic
ledger step for every process sharing the store; each is sent once (EVALSHA after).

Layout, all under the ``mockserver:`` prefix: ``t:<table>`` a hash of JSON records,
``c:<table>`` the counters :meth:`Store.consume` moves ('<id> fired', '<id> remaining'),
``windows`` the rate windows ('<window> <used>'), ``clock`` the clock's fields as text,
``epoch`` a name that changes with every reset (so processes know their cache stale),
``n:<table>`` / ``f:<table>`` a tally's counts and first ids, ``s:<table>:<mark>`` its
first ids since a mark and ``m:<table>`` the marks' counts (JSON).
"""

PUT_NEW = """
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored then return stored end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return ARGV[2]
"""
# Records are JSON made by orjson. cjson reads them exactly, but writes numbers with 14
# significant digits (a balance of 10**14 would come back 1e+14, a float), so a record
# changed here is written back by _ENCODE: whole numbers in full.
_ENCODE_FUNCTION = """
local function encode(record)
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
# take ARGV amount from a record's field if it holds that much: the record after, or false
_CHARGE_FUNCTION = _ENCODE_FUNCTION + """
local function charge(hash, id, field, amount, fresh)
  local record = cjson.decode(redis.call('HGET', hash, id) or fresh)
  if record[field] < amount then return false end
  record[field] = record[field] - amount
  local stored = encode(record)
  redis.call('HSET', hash, id, stored)
  return stored, record[field]
end
"""
CHARGE = _CHARGE_FUNCTION + """
return charge(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4])
"""
UPDATE = _ENCODE_FUNCTION + """
local record = cjson.decode(redis.call('HGET', KEYS[1], ARGV[1]) or ARGV[3])
for name, value in pairs(cjson.decode(ARGV[2])) do record[name] = value end
local stored = encode(record)
redis.call('HSET', KEYS[1], ARGV[1], stored)
return stored
"""
# one use of ARGV[1]'s window (a whole number as text): what remains, or -1 (refused)
_ADMIT_FUNCTION = """
local function admit(windows, name, window, limit)
  local used = 0
  local stored = redis.call('HGET', windows, name)
  if stored then
    local start, count = string.match(stored, '^(%S+) (%d+)$')
    if start == window then used = tonumber(count) end
  end
  if used >= limit then return -1 end
  redis.call('HSET', windows, name, window .. ' ' .. (used + 1))
  return limit - used - 1
end
"""
ADMIT = _ADMIT_FUNCTION + """
return admit(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]))
"""
# Store.open_request: KEYS clock, keys table, windows, armed table, epoch; ARGV kid, fresh
# JSON or '', limited '1'/'0', now or '', wall, window seconds, a new epoch. Returns {now as
# text, the key's JSON or false, created 0/1, remaining (-1 refused, -2 not limited), armed
# count, the epoch (named anew after a reset)}, or false when the clock is not started
OPEN = _ADMIT_FUNCTION + """
local now = tonumber(ARGV[4])
if not now then
  local clock = redis.call('HMGET', KEYS[1], 'frozen_at', 'offset')
  if not clock[2] then return false end
  now = tonumber(clock[1]) or tonumber(ARGV[5]) + tonumber(clock[2])
end
local stored, created = redis.call('HGET', KEYS[2], ARGV[1]), 0
if not stored and ARGV[2] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  stored, created = ARGV[2], 1
end
local remaining = -2
if stored and ARGV[3] == '1' then
  local key = cjson.decode(stored)
  if key.status == 'active' and key.rate_limit > 0 then
    local window = string.format('%d', math.floor(now / tonumber(ARGV[6])))
    remaining = admit(KEYS[3], ARGV[1], window, key.rate_limit)
  end
end
local epoch = redis.call('GET', KEYS[5])
if not epoch then
  epoch = ARGV[7]
  redis.call('SET', KEYS[5], epoch)
end
return {string.format('%.17g', now), stored, created, remaining, redis.call('HLEN', KEYS[4]),
        epoch}
"""
# counters: '<id> remaining' (absent: no end) and '<id> fired'; returns {fired, remaining}
CONSUME = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end
local fired = redis.call('HINCRBY', KEYS[2], ARGV[1] .. ' fired', 1)
local remaining = redis.call('HGET', KEYS[2], ARGV[1] .. ' remaining')
if not remaining then return {fired, -1} end
remaining = redis.call('HINCRBY', KEYS[2], ARGV[1] .. ' remaining', -1)
if remaining <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1] .. ' fired', ARGV[1] .. ' remaining')
end
return {fired, remaining}
"""
DELETE = """
redis.call('HDEL', KEYS[2], ARGV[1] .. ' fired', ARGV[1] .. ' remaining')
return redis.call('HDEL', KEYS[1], ARGV[1])
"""
APPEND = """
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
"""
ADVANCE = """
local field = 'offset'
if redis.call('HGET', KEYS[1], 'frozen_at') ~= '' then field = 'frozen_at' end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBYFLOAT', KEYS[1], field, ARGV[1]) end
"""
CLEAR = """
local keys = redis.call('KEYS', ARGV[1])
for i = 1, #keys, 500 do redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys))) end
return #keys
"""


# a tally's names ARGV[from..to] (see Store.tally): counts, firsts and marks are hashes,
# each mark's first ids since it the hash '<since><mark>'
_TALLY_FUNCTION = """
local function tally(counts, firsts, marks, since, first, from, to)
  local marked = redis.call('HKEYS', marks)
  for i = from, to do
    redis.call('HINCRBY', counts, ARGV[i], 1)
    redis.call('HSETNX', firsts, ARGV[i], first)
    for _, mark in ipairs(marked) do redis.call('HSETNX', since .. mark, ARGV[i], first) end
  end
end
"""
# Store.tally: KEYS counts, firsts, marks; ARGV the id, the since-hashes' prefix, names...
TALLY = _TALLY_FUNCTION + """
tally(KEYS[1], KEYS[2], KEYS[3], ARGV[2], ARGV[1], 3, #ARGV)
"""
# A request's last step (Store.finish_async): its charge, if any, and then, if the credits
# were taken, its writes, so a request that is charged is journalled and counted in the
# same step. ARGV: the charge's hash, id, field, amount ('' for no charge), fresh JSON,
# and, as its writes assume the field's value after is below ARGV[6] exactly when ARGV[7]
# is '1', those two; then the writes, each a letter and its arguments:
#   'a' log, limit, value: append to a bounded log
#   't' counts, firsts, marks, since, first id, n, then n names: a tally
# Returns {the record after or false (no charge: ''), 1 if the writes were made, else 0}:
# none are when the charge is refused, or when its value after is not as they assume.
FINISH = _CHARGE_FUNCTION + _TALLY_FUNCTION + """
local stored = ''
if ARGV[4] ~= '' then
  local after
  stored, after = charge(ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5])
  if not stored then return {false, 0} end
  if (after < tonumber(ARGV[6])) ~= (ARGV[7] == '1') then return {stored, 0} end
end
local i = 8
while i <= #ARGV do
  if ARGV[i] == 'a' then
    redis.call('LPUSH', ARGV[i + 1], ARGV[i + 3])
    redis.call('LTRIM', ARGV[i + 1], 0, tonumber(ARGV[i + 2]) - 1)
    i = i + 4
  else
    local names = tonumber(ARGV[i + 6])
    tally(ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], i + 7, i + 6 + names)
    i = i + 7 + names
  end
end
return {stored, 1}
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
