// @ts-check
/**
 * The UDP impairment proxy against an echo server on loopback: datagrams arrive and come back to
 * the client that sent them, in order, each held at least the configured delay each way; loss and
 * client refusal do what they say. Timing is only ever checked as a lower bound.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';

import { parseImpairment, startImpairProxy } from './impair-proxy.mjs';

/** @type {dgram.Socket} */
let echo;
let echoPort = 0;
/** Source ports the echo server has seen. */
const echoSources = new Set();

before(async () => {
  echo = dgram.createSocket('udp4');
  echo.on('message', (data, from) => {
    echoSources.add(from.port);
    echo.send(data, from.port, from.address);
  });
  await new Promise((resolve) => echo.bind(0, '127.0.0.1', () => resolve(undefined)));
  echoPort = echo.address().port;
});

after(() => echo.close());

/** @param {Parameters<typeof startImpairProxy>[0]['upstream']} [upstream] @param {Parameters<typeof startImpairProxy>[0]['downstream']} [downstream] @param {Partial<Parameters<typeof startImpairProxy>[0]>} [extra] */
function proxy(upstream = {}, downstream = {}, extra = {}) {
  return startImpairProxy({
    listen: { host: '127.0.0.1', port: 0 },
    target: { host: '127.0.0.1', port: echoPort },
    upstream,
    downstream,
    ...extra,
  });
}

/**
 * A client that sends numbered datagrams through the proxy and records what comes back.
 * @param {{host: string, port: number}} to
 */
async function client(to) {
  const socket = dgram.createSocket('udp4');
  /** @type {{seq: number, rttMs: number}[]} */
  const replies = [];
  /** @type {Map<number, number>} */
  const sentAt = new Map();
  socket.on('message', (data) => {
    const seq = data.readUInt32BE(0);
    replies.push({ seq, rttMs: performance.now() - /** @type {number} */ (sentAt.get(seq)) });
  });
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(undefined)));
  return {
    replies,
    /**
     * Sends `count` datagrams `intervalMs` apart, then waits until `expected` replies came or
     * `settleMs` passed without a new one.
     * @param {number} count
     * @param {{intervalMs?: number, expected?: number, settleMs?: number, first?: number}} [o]
     */
    async send(count, { intervalMs = 2, expected = count, settleMs = 1000, first = 0 } = {}) {
      for (let i = first; i < first + count; i++) {
        const data = Buffer.alloc(64);
        data.writeUInt32BE(i, 0);
        sentAt.set(i, performance.now());
        socket.send(data, to.port, to.host);
        if (intervalMs) await new Promise((r) => setTimeout(r, intervalMs));
      }
      let seen = -1;
      while (replies.length < expected && replies.length !== seen) {
        seen = replies.length;
        await new Promise((r) => setTimeout(r, settleMs));
      }
    },
    close: () => socket.close(),
  };
}

test('datagrams pass both ways and come back in order, each held at least the configured delay each way', async () => {
  const p = await proxy({ delayMs: 40 }, { delayMs: 25 });
  const c = await client(p.address);
  try {
    await c.send(100);
    assert.deepEqual(c.replies.map((r) => r.seq), [...Array(100).keys()], 'all arrived, in order');
    const least = Math.min(...c.replies.map((r) => r.rttMs));
    console.log(`figure: round trip through the proxy with 40 + 25 ms configured: least ${least.toFixed(1)} ms`);
    assert.ok(least >= 65, `every round trip took at least 65 ms (least ${least.toFixed(1)} ms)`);
    assert.deepEqual(p.counts().upstream, { received: 100, dropped: 0, forwarded: 100 });
    assert.deepEqual(p.counts().downstream, { received: 100, dropped: 0, forwarded: 100 });
  } finally {
    c.close();
    await p.close();
  }
});

test('with jitter and without reordering, a flow stays in order and no datagram leaves before delay minus jitter', async () => {
  const p = await proxy({ delayMs: 30, jitterMs: 20 }, {});
  const c = await client(p.address);
  try {
    await c.send(200, { intervalMs: 1 });
    assert.deepEqual(c.replies.map((r) => r.seq), [...Array(200).keys()]);
    // 30 ± 20 ms: a datagram that draws the least and has no earlier one still queued leaves
    // after 10 ms; keeping order only ever makes one wait longer.
    assert.ok(Math.min(...c.replies.map((r) => r.rttMs)) >= 10);
  } finally {
    c.close();
    await p.close();
  }
});

test('with jitter and reordering allowed, datagrams can overtake each other', async () => {
  // Alternating draws: even datagrams get +jitter, odd ones -jitter, so each odd one overtakes.
  let draw = 0;
  const p = await proxy({ delayMs: 30, jitterMs: 25, reorder: true }, {}, { random: () => (draw++ % 2 === 0 ? 1 : 0) });
  const c = await client(p.address);
  try {
    await c.send(20, { intervalMs: 1 });
    const order = c.replies.map((r) => r.seq);
    assert.equal(order.length, 20);
    assert.notDeepEqual(order, [...Array(20).keys()], 'some datagram overtook an earlier one');
  } finally {
    c.close();
    await p.close();
  }
});

test('each client gets its own upstream socket and only its own replies', async () => {
  const p = await proxy({ delayMs: 5 }, { delayMs: 5 });
  const a = await client(p.address);
  const b = await client(p.address);
  echoSources.clear();
  try {
    await Promise.all([a.send(30), b.send(30, { first: 1000 })]);
    assert.deepEqual(a.replies.map((r) => r.seq), [...Array(30).keys()]);
    assert.deepEqual(b.replies.map((r) => r.seq), [...Array(30).keys()].map((i) => i + 1000));
    assert.equal(echoSources.size, 2, 'the target saw two source ports');
    assert.equal(p.counts().flows, 2);
  } finally {
    a.close();
    b.close();
    await p.close();
  }
});

test('loss drops the configured share, decided per datagram, in the configured direction only', async () => {
  // Every fourth draw is below 25 %: exactly a quarter of the upstream datagrams are lost.
  let draw = 0;
  const p = await proxy({ lossPercent: 25 }, {}, { random: () => (draw++ % 4 === 0 ? 0.1 : 0.9) });
  const c = await client(p.address);
  try {
    await c.send(100, { expected: 75, settleMs: 300 });
    assert.equal(c.replies.length, 75);
    assert.equal(p.counts().upstream.dropped, 25);
    assert.equal(p.counts().downstream.dropped, 0);
    p.setImpairment('upstream', { lossPercent: 100 });
    await c.send(10, { first: 100, expected: 85, settleMs: 300 });
    assert.equal(c.replies.length, 75, 'nothing passes at 100 %');
  } finally {
    c.close();
    await p.close();
  }
});

test('clients outside allowFrom are refused', async () => {
  const p = await proxy({}, {}, { allowFrom: (address) => address === '10.0.0.1' });
  const c = await client(p.address);
  try {
    await c.send(5, { settleMs: 200 });
    assert.equal(c.replies.length, 0);
    assert.equal(p.counts().refused, 5);
    assert.equal(p.counts().flows, 0);
  } finally {
    c.close();
    await p.close();
  }
});

test('impairments are written as delay=,jitter=,loss=', () => {
  assert.deepEqual(parseImpairment('delay=100,jitter=20,loss=1.5'), { delayMs: 100, jitterMs: 20, lossPercent: 1.5 });
  assert.deepEqual(parseImpairment('reorder'), { reorder: true });
  assert.deepEqual(parseImpairment(undefined), {});
  assert.throws(() => parseImpairment('latency=5'), /unknown impairment/);
});
