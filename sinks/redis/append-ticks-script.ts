/**
 * The Lua script the `redis` sink runs (EVAL) to append ticks of one
 * instrument to its stream: one `XADD key MAXLEN ~ N * avro VALUE` per tick,
 * in order, inside Redis.
 *
 * Why a script: ioredis builds, sends and answers each command with a
 * promise and a RESP encoding of its own, about 12 µs of Node CPU a command
 * here; an XADD per tick capped the sink near 60 k ticks/s with Node at
 * 80 % CPU and redis-server at 15 %. One script call per instrument and
 * batch (at most 500 ticks) moves that loop into the server, about 3 µs an
 * entry, so Node builds a handful of commands per batch instead of
 * hundreds. The values travel as one argument, each behind its length, so
 * ioredis handles one Buffer per call, not one per tick (a string per
 * argument to frame it, and a copy). The entries are exactly those the
 * XADDs would make; the script only saves round trips and client work.
 * Redis runs a script atomically, so the entries of one call are all
 * written when it answers; if an XADD fails (a key of the wrong type) the
 * call answers with that error and the entries before it stay written.
 *
 * `KEYS[1]`: the stream. `ARGV[1]`: the approximate most entries
 * (`MAXLEN ~`). `ARGV[2]`: the values, one entry each, each as a 4-byte
 * little-endian length and that many bytes (the Avro single-object encoding
 * of the tick, {@link TickStreamEncoder}). Returns how many entries it added.
 *
 * @example
 * ```ts
 * console.log(appendTicksScript.includes("redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', 'avro', string.sub(values, at + 4, at + 3 + size))"));
 * // Logs: true
 * ```
 */
export const appendTicksScript = [
  'local key, maxlen, values = KEYS[1], ARGV[1], ARGV[2]',
  'local at, added = 1, 0',
  'while at + 3 <= #values do',
  '  local b1, b2, b3, b4 = string.byte(values, at, at + 3)',
  '  local size = b1 + b2 * 256 + b3 * 65536 + b4 * 16777216',
  "  redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', 'avro', string.sub(values, at + 4, at + 3 + size))",
  '  at = at + 4 + size',
  '  added = added + 1',
  'end',
  'return added',
].join('\n');
