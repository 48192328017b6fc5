// @ts-check
/**
 * A small UDP impairment proxy: delay, jitter and loss per direction, for a kernel without
 * `netem`. It accepts datagrams on one address and forwards them to a target; each client address
 * gets its own upstream socket, so the target's replies find their way back to the right client.
 *
 * Delay and jitter follow netem's meaning: each datagram waits `delayMs` ± a uniform random
 * `jitterMs` (never less than zero), so at least `delayMs - jitterMs`. Unless `reorder` is set, a
 * datagram never overtakes an earlier one of its flow and direction (it waits for it), as on one
 * path through queues. `lossPercent` drops that share at random.
 *
 * With the SFU. The SFU is ICE-lite: it answers each check from whatever address it came from and
 * sends media back there, so the proxy needs no knowledge of ICE; it only has to stand where the
 * SFU's advertised candidate is and pass the datagrams on. The SFU's candidates all share its UDP
 * port, so bind the SFU to loopback and let the proxy hold the same port on the address the booth
 * reaches, advertising both addresses:
 *
 *     NARVARO_MEDIA__BIND_IP=127.0.0.1
 *     NARVARO_MEDIA__UDP_PORT=<p>
 *     NARVARO_MEDIA__PUBLIC_IPS=10.77.<n>.1,127.0.0.1     # lab.rootIp first: the booth's path
 *     startImpairProxy({listen: {host: lab.rootIp, port: p}, target: {host: '127.0.0.1', port: p},
 *       upstream: {delayMs: 100, jitterMs: 20}, downstream: {delayMs: 100, jitterMs: 20},
 *       allowFrom: (address) => address === lab.boothIp})
 *
 * The booth (in the lab's namespace) can only reach `lab.rootIp`, so its checks and media go
 * through the proxy and reach the SFU from 127.0.0.1:<upstream port>, an address on its candidate
 * 127.0.0.1 (the SFU only answers checks sent to one of its own candidates). The officer in the
 * root namespace could reach both candidates; `allowFrom` turns its checks to the proxy away, so
 * it meets the SFU directly and only the booth's link is impaired. Delay on the booth's link
 * shows in the booth's round-trip time and as one-way delay of its media at the officer. The
 * booth's selected local candidate reads `prflx`: the SFU saw the proxy's upstream address.
 * `startLabMeeting({delay})` in `lab-meeting.mjs` sets all this up (measured: 100 ± 10 ms each
 * way gave the booth a 216 ms round trip, the officer 2 ms).
 *
 * As a program:
 *
 *     node impair-proxy.mjs --listen 10.77.1.1:50000 --target 127.0.0.1:50000 \
 *       --up delay=100,jitter=20,loss=1 --down delay=100,jitter=20 [--allow-from 10.77.1.6]
 */
import dgram from 'node:dgram';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * @typedef {object} Impairment
 * @property {number} [delayMs] added to every datagram; default 0
 * @property {number} [jitterMs] plus or minus a uniform random amount on top of the delay; default 0
 * @property {number} [lossPercent] 0–100; default 0
 * @property {boolean} [reorder] let a datagram overtake earlier ones when jitter says so; default false
 */

/** @typedef {{host: string, port: number}} Endpoint */

/**
 * @typedef {object} DirectionCounts
 * @property {number} received
 * @property {number} dropped by the loss setting
 * @property {number} forwarded
 */

/**
 * @typedef {object} ImpairProxy
 * @property {Endpoint} address where it listens (the port is the real one when 0 was asked)
 * @property {(direction: 'upstream' | 'downstream', impairment: Impairment) => void} setImpairment
 *   applies to datagrams arriving from now on
 * @property {() => {upstream: DirectionCounts, downstream: DirectionCounts, refused: number, flows: number}} counts
 * @property {() => Promise<void>} close
 */

/**
 * A queue of datagrams due at given times, drained by one timer. The timer re-checks the clock
 * when it fires, so a datagram never leaves before its time even if the timer fires early.
 */
class DelayLine {
  /** @param {(data: Buffer) => void} deliver */
  constructor(deliver) {
    this.deliver = deliver;
    /** @type {{due: number, data: Buffer}[]} */
    this.queue = [];
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.lastDue = 0;
    this.closed = false;
  }

  /**
   * @param {Buffer} data
   * @param {number} waitMs
   * @param {boolean} reorder
   */
  push(data, waitMs, reorder) {
    const now = performance.now();
    let due = now + waitMs;
    if (!reorder) due = Math.max(due, this.lastDue);
    this.lastDue = Math.max(this.lastDue, due);
    if (due <= now && this.queue.length === 0) {
      this.deliver(data);
      return;
    }
    // Usually appended at the end; with reordering, inserted in due order.
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1].due > due) i--;
    this.queue.splice(i, 0, { due, data });
    this.schedule();
  }

  schedule() {
    if (this.timer || this.closed || this.queue.length === 0) return;
    const wait = Math.max(0, this.queue[0].due - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = performance.now();
      while (this.queue.length && this.queue[0].due <= now) {
        this.deliver(/** @type {{data: Buffer}} */ (this.queue.shift()).data);
      }
      this.schedule();
    }, Math.ceil(wait));
  }

  close() {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.queue = [];
  }
}

/**
 * @param {{
 *   listen: Endpoint,
 *   target: Endpoint,
 *   upstream?: Impairment,
 *   downstream?: Impairment,
 *   upstreamBindHost?: string,
 *   allowFrom?: (address: string, port: number) => boolean,
 *   idleTimeoutMs?: number,
 *   random?: () => number,
 * }} options `upstream`: client → target; `downstream`: target → client. `upstreamBindHost`: the
 *   address upstream sockets bind to (default: any). `allowFrom`: clients to serve (default all);
 *   others' datagrams are dropped and counted as refused. A flow idle for `idleTimeoutMs`
 *   (default 60 s) is closed. `random` (default Math.random) decides loss and jitter.
 * @returns {Promise<ImpairProxy>}
 */
export async function startImpairProxy(options) {
  const random = options.random ?? Math.random;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  /** @type {{upstream: Impairment, downstream: Impairment}} */
  const impairment = { upstream: { ...options.upstream }, downstream: { ...options.downstream } };
  const counts = {
    upstream: { received: 0, dropped: 0, forwarded: 0 },
    downstream: { received: 0, dropped: 0, forwarded: 0 },
    refused: 0,
  };
  /**
   * One client's flow: its upstream socket and a delay line each way.
   * @typedef {{socket: dgram.Socket, up: DelayLine, down: DelayLine, lastSeen: number, ready: Promise<void>}} Flow
   */
  /** @type {Map<string, Flow>} */
  const flows = new Map();

  const listener = dgram.createSocket('udp4');
  await new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.bind(options.listen.port, options.listen.host, () => resolve(undefined));
  });
  listener.on('error', () => { /* ICMP errors from clients that went away: nothing to do */ });

  /**
   * How long this datagram waits, or null to drop it.
   * @param {Impairment} imp
   */
  function fate(imp) {
    if ((imp.lossPercent ?? 0) > 0 && random() * 100 < /** @type {number} */ (imp.lossPercent)) return null;
    const jitter = imp.jitterMs ?? 0;
    return Math.max(0, (imp.delayMs ?? 0) + (jitter > 0 ? (random() * 2 - 1) * jitter : 0));
  }

  /**
   * @param {string} address
   * @param {number} port
   * @returns {Flow}
   */
  function flowFor(address, port) {
    const key = `${address}:${port}`;
    let flow = flows.get(key);
    if (flow) return flow;
    const socket = dgram.createSocket('udp4');
    const up = new DelayLine((data) => {
      counts.upstream.forwarded += 1;
      socket.send(data, options.target.port, options.target.host);
    });
    const down = new DelayLine((data) => {
      counts.downstream.forwarded += 1;
      listener.send(data, port, address);
    });
    socket.on('error', () => { /* the target is not listening (yet): datagrams are lost, as on a network */ });
    socket.on('message', (data, from) => {
      if (from.port !== options.target.port) return;
      const current = flows.get(key);
      if (current) current.lastSeen = performance.now();
      counts.downstream.received += 1;
      const wait = fate(impairment.downstream);
      if (wait === null) counts.downstream.dropped += 1;
      else down.push(data, wait, impairment.downstream.reorder ?? false);
    });
    const ready = new Promise((resolve) => socket.bind(0, options.upstreamBindHost, () => resolve(undefined)));
    flow = { socket, up, down, lastSeen: performance.now(), ready: ready.then(() => {}) };
    flows.set(key, flow);
    return flow;
  }

  listener.on('message', (data, from) => {
    if (options.allowFrom && !options.allowFrom(from.address, from.port)) {
      counts.refused += 1;
      return;
    }
    const flow = flowFor(from.address, from.port);
    flow.lastSeen = performance.now();
    counts.upstream.received += 1;
    const wait = fate(impairment.upstream);
    if (wait === null) {
      counts.upstream.dropped += 1;
      return;
    }
    const reorder = impairment.upstream.reorder ?? false;
    // The first datagram of a flow waits for its socket; later ones go straight into the line.
    flow.ready.then(() => flow.up.push(data, wait, reorder));
  });

  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const [key, flow] of flows) {
      if (now - flow.lastSeen < idleTimeoutMs) continue;
      flow.up.close();
      flow.down.close();
      flow.socket.close();
      flows.delete(key);
    }
  }, Math.min(idleTimeoutMs, 5000));
  sweeper.unref();

  const bound = listener.address();
  return {
    address: { host: bound.address, port: bound.port },
    setImpairment(direction, imp) {
      impairment[direction] = { ...imp };
    },
    counts: () => ({
      upstream: { ...counts.upstream },
      downstream: { ...counts.downstream },
      refused: counts.refused,
      flows: flows.size,
    }),
    async close() {
      clearInterval(sweeper);
      for (const flow of flows.values()) {
        flow.up.close();
        flow.down.close();
        flow.socket.close();
      }
      flows.clear();
      await new Promise((resolve) => listener.close(() => resolve(undefined)));
    },
  };
}

/**
 * `delay=100,jitter=20,loss=1,reorder` → an impairment.
 * @param {string | undefined} text
 * @returns {Impairment}
 */
export function parseImpairment(text) {
  /** @type {Impairment} */
  const imp = {};
  for (const part of (text ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const [key, value] = part.split('=');
    const n = Number(value);
    if (key === 'reorder') imp.reorder = value === undefined || value === 'true';
    else if (!Number.isFinite(n) || n < 0) throw new Error(`not a number in ${part}`);
    else if (key === 'delay') imp.delayMs = n;
    else if (key === 'jitter') imp.jitterMs = n;
    else if (key === 'loss') imp.lossPercent = n;
    else throw new Error(`unknown impairment ${key}: use delay, jitter, loss, reorder`);
  }
  return imp;
}

/** @param {string} text host:port */
function endpoint(text) {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  if (i < 1 || !Number.isInteger(port)) throw new Error(`not host:port: ${text}`);
  return { host: text.slice(0, i), port };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string' },
      target: { type: 'string' },
      up: { type: 'string' },
      down: { type: 'string' },
      'allow-from': { type: 'string', multiple: true },
    },
  });
  if (!values.listen || !values.target) {
    console.error('usage: node impair-proxy.mjs --listen host:port --target host:port [--up delay=ms,jitter=ms,loss=%] [--down ...] [--allow-from address ...]');
    process.exit(2);
  }
  const allowed = values['allow-from'];
  const proxy = await startImpairProxy({
    listen: endpoint(values.listen),
    target: endpoint(values.target),
    upstream: parseImpairment(values.up),
    downstream: parseImpairment(values.down),
    allowFrom: allowed ? (address) => allowed.includes(address) : undefined,
  });
  console.log(`listening ${proxy.address.host}:${proxy.address.port}`);
  process.on('SIGTERM', () => proxy.close().then(() => process.exit(0)));
}
