/**
 * The Lua scripts of the Redis message store. Each runs atomically on the slot of its keys (all of
 * one log, see keys.ts), which is what makes dedup-and-append and clamp-and-ack race-free between
 * gateway nodes, in one round trip each. Called by EVAL until one ran on the connection, then by
 * EVALSHA (see redis-store.ts `run`).
 *
 * Stream entries have the fields, in this order: s serverId, t timestampMs, b counted bytes,
 * f fromUser, d fromDevice, c clientMsgId, e ephemeral ('1'/'0'), p payload, and v fromService only
 * when it is non-empty (server-originated messages; older entries never have it). `trim` reads `t`
 * and `b` by position (4th and 6th element of the field list) to avoid building a table per entry.
 */
import { createHash } from 'node:crypto';

/**
 * Integers from strings without Lua's tonumber(): in Redis that is libc strtod, which on the VMs this
 * was measured on took 100-500 µs per call whenever Redis had been idle for a few milliseconds (perf:
 * 14-69 % of Redis CPU in strtod at 1,000 appends/s, EVAL 200 µs per append instead of 40; see
 * bench/RESULTS.md). Every number these scripts read is a decimal integer, optionally negative.
 */
const INT = `
local function int(s)
  local n, i, neg = 0, 1, false
  if string.byte(s, 1) == 45 then neg, i = true, 2 end
  for j = i, #s do n = n * 10 + string.byte(s, j) - 48 end
  if neg then return -n end
  return n
end
`;

/**
 * Drops, oldest first, entries beyond `maxlen` and entries older than `now - ret` (ret 0 = no age
 * limit). Bounded work per call (at most 1 + 15*32 entries); a backlog past that is trimmed by the
 * next call. Returns removed count and removed bytes, for the node's approximate stats.
 */
const TRIM = `${INT}
local function trim(key, now, maxlen, ret)
  local excess = redis.call('XLEN', key) - maxlen
  local removed, bytes, last = 0, 0, nil
  local from, n = '-', 1
  for _ = 1, 16 do
    local batch = redis.call('XRANGE', key, from, '+', 'COUNT', n)
    local stop = #batch < n
    for _, e in ipairs(batch) do
      local f = e[2]
      if removed < excess or (ret > 0 and int(f[4]) <= now - ret) then
        removed = removed + 1
        bytes = bytes + int(f[6])
        last = e[1]
      else
        stop = true
        break
      end
    end
    if stop or last == nil then break end
    from, n = '(' .. last, 32
  end
  if last ~= nil then
    local s = int(string.match(last, '^(%d+)'))
    redis.call('XTRIM', key, 'MINID', string.format('%d-0', s + 1))
  end
  return removed, bytes
end
`;

/**
 * Start of the seq clock: 2024-01-01T00:00:00Z in Unix seconds. A counter the append script creates
 * starts at the microseconds since then by the Redis server's clock (TIME), which stays below 2^53
 * (exact in a double, in Lua and in JavaScript) until the year 2309.
 */
export const SEQ_EPOCH_S = 1_704_067_200;

/**
 * The floor of a new counter: microseconds since SEQ_EPOCH_S by Redis's own clock. Every seq a log
 * ever handed out is at most the floor of the moment it was handed out: a log starts at its floor
 * and then grows by one per append, and one Redis (one slot) runs far fewer than one append per
 * microsecond. So a counter Redis forgot and a later append created again starts above every seq the
 * forgotten one gave out (docs/cluster.md, "Sequence numbers").
 */
const CLOCK_FLOOR = `
local function clockFloor()
  local t = redis.call('TIME')
  return (int(t[1]) - ${SEQ_EPOCH_S}) * 1000000 + int(t[2])
end
`;

/** Keys and arguments of one append in an APPEND_SCRIPT call, and the arguments before the first. */
export const APPEND_KEYS = 5;
export const APPEND_ARGS = 9;
export const APPEND_HEAD = 5;

/**
 * Any number of appends, each to one log, run one after another in the order given: the appends of
 * one event-loop turn that share a slot (append-batcher.ts), in one call.
 *
 * ARGV[1..5], for the whole call: number of appends n, dedupWindow (-1 = forever), maxlen,
 * retention (0 = forever), floor (a seq every append must exceed, '0' = none: set by the node after
 * Redis changed under it). Append i (0-based) has KEYS[5i+1 .. 5i+5] = log, seq, dedup hash, previous
 * dedup hash, presence hash (each of the last three is the log key again when absent: every key of a
 * call must be on its slot) and ARGV[9i+6 .. 9i+14] = now, serverId, bytes, fromUser, fromDevice,
 * clientMsgId, flags, payload, fromService ('' = none: the field is left out). flags is three
 * characters '0'/'1': ephemeral, dedup, read the presence hash.
 *
 * Dedup (layout 2): one hash per log, field `<byte length of sender>:<sender><clientMsgId>` (sender =
 * fromUser, or fromUser NUL fromService for a server-originated message), value "ts|seq|serverId",
 * and field `@` = when the hash was started (node clock, ms; followed by `^` when a previous hash was
 * kept, so a hash without one costs no second look-up). Once the hash is a window old it becomes
 * the previous hash (RENAME, replacing the one before, whose entries are all older than the window)
 * and a new one starts, with a TTL of two windows: a message is looked up in both, and an entry lives
 * at least a window (by the nodes' clocks) and at most two. So a message costs one hash field,
 * not a key with its own expiry; a window of "forever" keeps one hash without TTL.
 *
 * Returns one reply per append, in order: {0, seq, removed, removedBytes, HGETALL of the presence
 * hash (empty without one; 0 when the read failed: Lua does not undo the writes before an error, so a
 * failing read must not turn a stored message into an error the client retries forever), created (1
 * when this append created the counter)} for a stored message (the serverId and timestamp are the
 * ones the node sent); {1, seq, HGETALL as above, timestampMs, serverId} for a duplicate inside the
 * window, which returns the first append's ids and writes nothing but the same dedup value again (see
 * the comment there); {-1, error text} when that append failed (the others still ran: each is as
 * independent as its own call would be).
 */
export const APPEND_SCRIPT = `${TRIM}${CLOCK_FLOOR}
local TRIM_EVERY = 16
local n = int(ARGV[1])
local win = int(ARGV[2])
local maxlen = int(ARGV[3])
local ret = int(ARGV[4])
local floor0 = int(ARGV[5])
-- The log's TTL is renewed only once it fell below retention, to retention plus a quarter: one
-- PEXPIRE per log per quarter retention instead of one per append; an idle log lives 1-1.25x retention.
local ttl = ret + math.floor(ret / 4)
local function hash(hk)
  if not hk then return {} end
  local ok, h = pcall(redis.call, 'HGETALL', hk)
  if ok then return h end
  return 0
end
local function append(k, a)
local log, seqKey = KEYS[k + 1], KEYS[k + 2]
local now = int(ARGV[a + 1])
local flags = ARGV[a + 7]
local dk, dk0, hk, field, gen, where = nil, nil, nil, nil, nil, nil
if string.byte(flags, 3) == 49 then hk = KEYS[k + 5] end
if string.byte(flags, 2) == 49 then
  dk, dk0 = KEYS[k + 3], KEYS[k + 4]
  local sender = ARGV[a + 4]
  if ARGV[a + 9] ~= '' then sender = sender .. '\\0' .. ARGV[a + 9] end
  field = #sender .. ':' .. sender .. ARGV[a + 6]
  local d
  if win < 0 then
    d = redis.call('HGET', dk, field)
    where = dk
  else
    -- '@' is first in the hash, so found at once even while Redis keeps it as a listpack (scanned);
    -- it ends in '^' when the hash has a previous one (it was started by a rotation).
    local r = redis.call('HMGET', dk, '@', field)
    gen, d, where = r[1], r[2], dk
    local prev = false
    if gen then
      prev = string.byte(gen, -1) == 94
      if prev then gen = int(string.sub(gen, 1, -2)) else gen = int(gen) end
    end
    if not d and prev and now - gen < win then
      d = redis.call('HGET', dk0, field)
      where = dk0
    end
  end
  if d then
    local ts, seq, sid = string.match(d, '^(%d+)|(%d+)|(.*)$')
    if ts and (win < 0 or int(ts) > now - win) then
      -- Rewritten as it is: a write puts this reply after the first append in the replication
      -- stream, so a WAIT that follows it covers the stored message too (ack-after-replica).
      redis.call('HSET', where, field, d)
      return {1, int(seq), hash(hk), int(ts), sid}
    end
  end
end
local seq = redis.call('INCR', seqKey)
local floor, created = floor0, 0
if seq == 1 then
  created = 1
  local c = clockFloor()
  if c > floor then floor = c end
end
if seq <= floor then
  seq = floor + 1
  redis.call('SET', seqKey, string.format('%d', seq))
end
local id = string.format('%d-0', seq)
local e = '0'
if string.byte(flags, 1) == 49 then e = '1' end
if ARGV[a + 9] == '' then
  redis.call('XADD', log, id, 's', ARGV[a + 2], 't', ARGV[a + 1], 'b', ARGV[a + 3], 'f', ARGV[a + 4],
    'd', ARGV[a + 5], 'c', ARGV[a + 6], 'e', e, 'p', ARGV[a + 8])
else
  redis.call('XADD', log, id, 's', ARGV[a + 2], 't', ARGV[a + 1], 'b', ARGV[a + 3], 'f', ARGV[a + 4],
    'd', ARGV[a + 5], 'c', ARGV[a + 6], 'e', e, 'p', ARGV[a + 8], 'v', ARGV[a + 9])
end
if dk then
  local v = ARGV[a + 1] .. '|' .. string.format('%d', seq) .. '|' .. ARGV[a + 2]
  if win < 0 then
    redis.call('HSET', dk, field, v)
  elseif gen and now - gen < win then
    redis.call('HSET', dk, field, v)
  else
    -- No hash yet (or it expired), or it is a window old: what the previous one holds is older than
    -- a window by now, what this one holds is needed for one more window at most.
    if gen then
      redis.call('UNLINK', dk0)
      redis.call('RENAME', dk, dk0)
      redis.call('HSET', dk, '@', ARGV[a + 1] .. '^', field, v)
    else
      redis.call('HSET', dk, '@', ARGV[a + 1], field, v)
    end
    redis.call('PEXPIRE', dk, 2 * win)
  end
end
local removed, bytes = 0, 0
-- Trimming (by length and age) runs every TRIM_EVERY-th seq, so a log holds at most that many
-- entries over its cap. Reads trim by length and age before returning anything, so what is skipped
-- here only delays freeing memory.
if seq % TRIM_EVERY == 1 then removed, bytes = trim(log, now, maxlen, ret) end
-- The newest entry is past retention once ret has gone by without appends: let Redis free the
-- whole stream then. The seq counter stays (seqs are not reused).
if ret > 0 and redis.call('PTTL', log) < ret then redis.call('PEXPIRE', log, ttl) end
return {0, seq, removed, bytes, hash(hk), created}
end
local out = {}
for i = 0, n - 1 do
  local ok, r = pcall(append, i * ${APPEND_KEYS}, ${APPEND_HEAD} + i * ${APPEND_ARGS})
  if ok then
    out[i + 1] = r
  else
    -- A failing redis.call raises a table {err = text}; a Lua runtime error raises a string.
    if type(r) == 'table' and r.err then r = r.err end
    out[i + 1] = {-1, tostring(r)}
  end
end
return out
`;

/**
 * KEYS: log. ARGV: now, maxlen, retention, start id, count. Trims first so a read never returns
 * what retention has dropped. Returns {removed, removedBytes, XRANGE entries}.
 */
export const READ_SCRIPT = `${TRIM}
local removed, bytes = trim(KEYS[1], int(ARGV[1]), int(ARGV[2]), int(ARGV[3]))
return {removed, bytes, redis.call('XRANGE', KEYS[1], ARGV[4], '+', 'COUNT', ARGV[5])}
`;

/**
 * KEYS: cursors, seq. ARGV: deviceId, seq (integer >= 1). Cumulative: clamps to the last assigned
 * seq and never moves a cursor back. Returns the cursor after the call.
 */
export const ACK_SCRIPT = `${INT}
local last = int(redis.call('GET', KEYS[2]) or '0')
local target = math.min(int(ARGV[2]), last)
local cur = int(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if target > cur then
  redis.call('HSET', KEYS[1], ARGV[1], string.format('%d', target))
  return target
end
return cur
`;

/**
 * KEYS: log. ARGV: seqs. Returns how many of those seqs have no entry in the log: the audit of what a
 * node appended recently, after Redis may have lost data (recent-appends.ts).
 */
export const MISSING_SCRIPT = `
local missing = 0
for i = 1, #ARGV do
  local id = ARGV[i] .. '-0'
  if #redis.call('XRANGE', KEYS[1], id, id) == 0 then missing = missing + 1 end
end
return missing
`;

/** A script as EVAL takes it, and its SHA1 for EVALSHA. */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

/**
 * EVAL sends the script text and Redis hashes it on every call (until EVALSHA takes over), so comment
 * lines, indentation and blank lines are dropped once here (none of the scripts has `--` in a string).
 */
function script(text: string): Script {
  const lines = text.split('\n').map((l) => l.trim());
  const source = lines.filter((l) => l !== '' && !l.startsWith('--')).join('\n');
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

export const SCRIPTS = {
  append: script(APPEND_SCRIPT),
  read: script(READ_SCRIPT),
  ack: script(ACK_SCRIPT),
  missing: script(MISSING_SCRIPT),
} as const;
