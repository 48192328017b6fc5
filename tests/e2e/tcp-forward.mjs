// @ts-check
/**
 * A plain TCP forwarder: accepts on one address and pipes each connection to a target, both ways,
 * byte for byte (HTTP and WebSocket alike). The network lab uses two: one inside the booth's
 * namespace, so the booth page is served from `http://localhost` (a secure context, which
 * `getUserMedia` needs) while its bytes cross the impaired link, and one in the root namespace,
 * because the test server listens on 127.0.0.1 only.
 *
 * As a program (what the lab starts with `ip netns exec`):
 *
 *     node tcp-forward.mjs <listen-host> <listen-port> <target-host> <target-port>
 *
 * prints one line `listening <host>:<port>` once it accepts, and runs until killed. It reads
 * commands on stdin, one a line: `reset both` or `reset client` (see `reset`), each answered with
 * a line `reset <n>`, the number of connections cut.
 */
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * @typedef {object} Forwarder
 * @property {string} host the address it accepts on
 * @property {number} port
 * @property {() => Promise<void>} close stops accepting and cuts every open connection
 * @property {(options?: {side?: 'both' | 'client'}) => number} reset cuts every open connection
 *   with a TCP RST and keeps accepting new ones; returns how many it cut. `both` (the default)
 *   resets the target's side too, as a flaky link that breaks the connection both ways does;
 *   `client` resets only the accepted side and leaves the target's side open but silent, as a NAT
 *   that forgot its mapping does: the far end learns nothing until it gives up on its own.
 */

/**
 * @param {{listenHost: string, listenPort: number, targetHost: string, targetPort: number}} options
 *   `listenPort` 0 picks a free port
 * @returns {Promise<Forwarder>}
 */
export function forwardTcp({ listenHost, listenPort, targetHost, targetPort }) {
  /** @type {Set<net.Socket>} */
  const sockets = new Set();
  /** Each open accepted connection and its connection to the target. */
  /** @type {Map<net.Socket, net.Socket>} */
  const pairs = new Map();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: targetHost, port: targetPort });
    pairs.set(client, upstream);
    client.on('close', () => pairs.delete(client));
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => sockets.delete(s));
    }
    // A reset on one side must reset the other, or a browser waits on a half-dead connection.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  /** @param {net.Socket} socket */
  const reset = (socket) => {
    try {
      socket.resetAndDestroy();
    } catch {
      socket.destroy(); // not connected (any more): nothing to reset
    }
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, listenHost, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : listenPort;
      resolve({
        host: listenHost,
        port,
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((done) => server.close(() => done()));
        },
        reset({ side = 'both' } = {}) {
          // A copy: connections leave the map as they close.
          const cut = [...pairs];
          for (const [client, upstream] of cut) {
            pairs.delete(client);
            if (side === 'client') {
              // Abandoned, not closed: the target's end stays open and hears nothing more.
              client.unpipe(upstream);
              upstream.unpipe(client);
              for (const s of [client, upstream]) {
                s.removeAllListeners('error');
                s.on('error', () => {});
              }
              upstream.pause();
            } else {
              reset(upstream);
            }
            reset(client);
          }
          return cut.length;
        },
      });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [listenHost, listenPort, targetHost, targetPort] = process.argv.slice(2);
  if (!targetPort) {
    console.error('usage: node tcp-forward.mjs <listen-host> <listen-port> <target-host> <target-port>');
    process.exit(2);
  }
  const forwarder = await forwardTcp({
    listenHost,
    listenPort: Number(listenPort),
    targetHost,
    targetPort: Number(targetPort),
  });
  console.log(`listening ${forwarder.host}:${forwarder.port}`);
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    const m = /^reset (both|client)$/.exec(line.trim());
    if (m) console.log(`reset ${forwarder.reset({ side: /** @type {'both' | 'client'} */ (m[1]) })}`);
    else console.error(`unknown command: ${line}`);
  });
  process.on('SIGTERM', () => forwarder.close().then(() => process.exit(0)));
}
