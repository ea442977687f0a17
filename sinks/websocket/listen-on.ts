import type { AddressInfo, Server } from 'node:net';
import { ConfigError } from '../../errors/errors.js';

/**
 * Starts `server` listening on `host:port` (0 picks a free port) and
 * resolves with the port taken and the server's `http://host:port` (an IPv6
 * host in brackets); a port another process holds rejects with a
 * ConfigError that says what to change.
 */
export async function listenOn(server: Server, host: string, port: number): Promise<{ port: number; url: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError('websocket sink', [`port ${port} on ${host} is in use; choose another 'port' (0 picks a free one)`], {
              cause: error,
            })
          : error,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const taken = (server.address() as AddressInfo).port;
  return { port: taken, url: `http://${host.includes(':') ? `[${host}]` : host}:${taken}` };
}
