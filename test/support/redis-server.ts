import { startRedisServer as start, type RedisServer, type RedisServerOptions } from '../../bench/start-redis-server.js';

export type { RedisServer, RedisServerOptions };

/** Servers started through this module and not yet closed. */
const started = new Set<RedisServer>();

/** Generous enough for `apt-get install redis-server` on a fresh machine; pass it to `beforeAll`. */
export const REDIS_INSTALL_TIMEOUT_MS = 20 * 60_000;

/**
 * Starts a real `redis-server` on a free port of 127.0.0.1 (installed with
 * apt-get when missing; the implementation is shared with the benchmarks in
 * `bench/start-redis-server.ts`). Stop every server with
 * {@link closeRedisServers} in `afterAll`, which runs on failure too.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const server = await start(options);
  started.add(server);
  return server;
}

/** Closes every server this test file started; for afterAll. */
export async function closeRedisServers(): Promise<void> {
  const servers = [...started];
  started.clear();
  await Promise.all(servers.map((s) => s.close()));
}
