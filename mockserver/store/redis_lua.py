"""The Lua functions the Redis store's scripts (redis_scripts) are made of, and the error
replies they share. Each is text put before a script's own, so a script stays one atomic
step with no call between scripts."""

from mockserver.clock import EARLIEST, LATEST
from mockserver.store import MAX_COUNT

#: what a step run after its deadline replies (an error reply starting so)
LATE = "LATE"
#: what a step finding what the mock never writes replies (an error reply starting so),
#: having written nothing: a counter below 0 or not a whole number, a rate window not a
#: window number and a count
UNWRITTEN = "UNWRITTEN"
LATE_FUNCTION = """
local function late(deadline)
  local now = redis.call('TIME')
  return tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > tonumber(deadline)
end
local function refused_late()
  return redis.error_reply('LATE run after the mock had given up on it: nothing written')
end
"""
# Records are JSON made by orjson. cjson reads them exactly, but writes numbers with 14
# significant digits (a balance of 10**14 would come back 1e+14, a float), so a record
# changed here that holds such a number is written back by _ENCODE: whole numbers in full.
# Any other (every record below 10**14) is written by cjson, which costs a third as much.
ENCODE_FUNCTION = """
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
COUNT_FUNCTION = f"""
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
CHARGE_FUNCTION = ENCODE_FUNCTION + COUNT_FUNCTION + """
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
# what a change a process may have cached does last: name the epoch anew (the new name the
# script's last argument), so a request that began from the old one is run again
CHANGED = """
redis.call('SET', 'mockserver:epoch', ARGV[#ARGV])
"""
# one use of name's window (a whole number as text): what remains, or -1 (refused). A new
# window number starts the count again. With ``late``, an older one counts in the newer
# window stored (see FINISH), not as a new start that would forget the newer one's count.
# A window held as the mock never writes it (not '<number> <count>', digits both: something
# else wrote it) is an error reply UNWRITTEN, counting nothing, as an SQLite file's is the
# 503, not a window started afresh over it.
ADMIT_FUNCTION = """
local function admit(windows, name, window, limit, late)
  local used = 0
  local stored = redis.call('HGET', windows, name)
  if stored then
    local start, count = string.match(stored, '^(%d+) (%d+)$')
    if not start or tonumber(count) > WINDOW_MOST then  -- past it, never a count the mock wrote
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
""".replace("WINDOW_MOST", str(MAX_COUNT))  # a limit is at most that
# The clock's fields are written by the mock alone, as decimals; anything else (an outside
# write) is not a clock, read as one not started, which the mock starts again. The same test
# as redis_common.read_clock's, so the script and the process agree on what to start again.
CLOCK_FUNCTION = """
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
# a tally's names ARGV[from..to] (see Store.tally) in the table named ARGV[name]: counts,
# firsts and marks are hashes, each mark's first ids since it the hash '<since><mark>'. A
# name's first id is set when its count becomes 1 (they are cleared together).
TALLY_FUNCTION = """
-- what tally(name, ..., from, to) would fail on, found before anything is written: nil,
-- and the tally's marks (for tally, which would read them again), or what something else
-- wrote: a hash of the tally's of another type, or a count of its names that is no whole
-- number up to MAX_COUNT (COUNT_FUNCTION). Three calls, two of them needed anyway.
local function tally_problem(name, from, to)
  local counts, marks = 'mockserver:n:' .. ARGV[name], 'mockserver:m:' .. ARGV[name]
  local marked = redis.pcall('HKEYS', marks)
  if marked.err then return marks .. ' is no hash' end
  local found = redis.pcall('HMGET', counts, unpack(ARGV, from, to))
  if found.err then return counts .. ' is no hash' end
  for i = 1, to - from + 1 do
    local count = found[i]
    if count and (not string.match(count, '^%d+$') or tonumber(count) > MAX_COUNT) then
      return string.format('the count of %s in %s is %.60s', ARGV[from + i - 1], counts, count)
    end
  end
  local hashes = {'mockserver:f:' .. ARGV[name]}
  for _, mark in ipairs(marked) do
    hashes[#hashes + 1] = 'mockserver:s:' .. ARGV[name] .. ':' .. mark
  end
  for _, hash in ipairs(hashes) do
    local kind = redis.call('TYPE', hash).ok
    if kind ~= 'hash' and kind ~= 'none' then return hash .. ' is a ' .. kind end
  end
  return nil, marked
end
-- ``marked``: the tally's marks, if read already (tally_problem)
local function tally(name, first, from, to, marked)
  local counts, firsts = 'mockserver:n:' .. ARGV[name], 'mockserver:f:' .. ARGV[name]
  marked = marked or redis.call('HKEYS', 'mockserver:m:' .. ARGV[name])
  local since = 'mockserver:s:' .. ARGV[name] .. ':'
  for i = from, to do
    if redis.call('HINCRBY', counts, ARGV[i], '1') == 1 then
      redis.call('HSET', firsts, ARGV[i], first)
    end
    for _, mark in ipairs(marked) do redis.call('HSETNX', since .. mark, ARGV[i], first) end
  end
end
"""
