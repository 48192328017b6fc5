// @ts-check
/**
 * The network lab itself, without browsers: the booth namespace reaches the server's side of the
 * veth and nothing else, each impairment does what it says and goes away when cleared, and
 * teardown leaves no namespace or interface behind. Needs root; skips otherwise.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { after, before, test } from 'node:test';

import { createLab, labUnavailable } from './netlab.mjs';
import { freeTcpPort } from './server.mjs';

const skip = labUnavailable() ?? false;

/** Sends `count` UDP datagrams of `size` bytes from inside the namespace, in bursts of `burst`. */
const SENDER = `
const [host, port, count, size, burst] = process.argv.slice(1).map((v, i) => i === 0 ? v : Number(v));
const s = require('node:dgram').createSocket('udp4');
let sent = 0;
function next() {
  for (let i = 0; i < burst && sent < count; i++) s.send(Buffer.alloc(size, sent++ % 256), port, host);
  if (sent < count) setTimeout(next, 5); else setTimeout(() => s.close(), 200);
}
next();
`;

/** Connects from inside the namespace, sends a line, prints what comes back. */
const TCP_CLIENT = `
const [host, port] = process.argv.slice(1);
const c = require('node:net').connect({ host, port: Number(port) }, () => c.write('ping\\n'));
c.setEncoding('utf8');
const timer = setTimeout(() => { console.error('no answer'); process.exit(1); }, 5000);
c.on('data', (d) => { process.stdout.write(d); c.end(); clearTimeout(timer); });
c.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

/** @type {import('./netlab.mjs').Lab} */
let lab;
/** @type {dgram.Socket} */
let udp;
let udpPort = 0;
let received = 0;
/** @type {net.Server} */
let echo;
let localPort = 0;

before(async () => {
  if (skip) return;
  lab = createLab();
  udp = dgram.createSocket('udp4');
  udp.on('message', () => { received += 1; });
  await new Promise((resolve) => udp.bind(0, lab.rootIp, () => resolve(undefined)));
  udpPort = udp.address().port;
  echo = net.createServer((s) => s.pipe(s));
  await new Promise((resolve) => echo.listen(0, '127.0.0.1', () => resolve(undefined)));
  const echoPort = /** @type {net.AddressInfo} */ (echo.address()).port;
  // The lab's pattern: root side relays rootIp -> 127.0.0.1, the namespace forwards localhost -> rootIp.
  const relay = net.createServer((c) => c.pipe(net.connect(echoPort, '127.0.0.1')).pipe(c));
  await new Promise((resolve) => relay.listen(echoPort, lab.rootIp, () => resolve(undefined)));
  echo.on('close', () => relay.close());
  localPort = /** @type {number} */ (await freeTcpPort());
  await lab.forwardLocalhost({ port: localPort, targetPort: echoPort });
});

after(() => {
  lab?.teardown();
  udp?.close();
  echo?.close();
});

/**
 * Sends datagrams from the namespace to the root side and returns how many arrived.
 * @param {number} count
 * @param {{size?: number, burst?: number}} [options]
 */
async function sendUdp(count, { size = 100, burst = 20 } = {}) {
  received = 0;
  await lab.execAsync(process.execPath, ['-e', SENDER, lab.rootIp, String(udpPort), String(count), String(size), String(burst)]);
  // The last datagrams may still be in a queue; the sender already waited 200 ms after them.
  await new Promise((r) => setTimeout(r, 300));
  return received;
}

test('the booth namespace reaches the server side through the link namespace, and localhost is forwarded there', { skip }, async () => {
  assert.equal(await sendUdp(50), 50, 'every datagram arrives on a clean link');
  assert.equal(await lab.execAsync(process.execPath, ['-e', TCP_CLIENT, '127.0.0.1', String(localPort)]), 'ping\n');
  const routes = lab.exec('ip', ['-4', 'route', 'show']);
  assert.doesNotMatch(routes, /default/, 'no default route: the booth reaches only the veth peer');
});

test('blocked UDP drops every datagram both ways while TCP still passes; unblocking restores it', { skip }, async () => {
  lab.blockUdp();
  try {
    assert.equal(await sendUdp(30), 0, 'no datagram arrives');
    assert.ok(lab.dropCounts().blockedUdp.up >= 30, `nftables counted the drops (${lab.dropCounts().blockedUdp.up})`);
    // Towards the booth: nothing listens there, so only the rule's counter can tell.
    const before = lab.dropCounts().blockedUdp.down;
    for (let i = 0; i < 10; i++) udp.send(Buffer.alloc(10), 9, lab.boothIp);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(lab.dropCounts().blockedUdp.down - before, 10, 'datagrams towards the booth are dropped too');
    assert.equal(await lab.execAsync(process.execPath, ['-e', TCP_CLIENT, '127.0.0.1', String(localPort)]), 'ping\n', 'TCP passes');
  } finally {
    lab.unblockUdp();
  }
  assert.equal(await sendUdp(30), 30);
});

test('random loss drops about the configured share of packets, and nothing once cleared', { skip }, async () => {
  const sent = 2000;
  lab.addLoss({ percent: 10, direction: 'up', udpOnly: true });
  let got = 0;
  let dropped = 0;
  try {
    got = await sendUdp(sent);
    dropped = lab.dropCounts().loss.up;
  } finally {
    lab.clearLoss();
  }
  console.log(`figure: 10 % loss rule: ${dropped} of ${sent} datagrams dropped, ${got} arrived`);
  assert.equal(got + dropped, sent, 'every datagram either arrived or was dropped by the rule');
  // Binomial(2000, 0.1): mean 200, standard deviation 13.4; these bounds are beyond 7 sigma.
  assert.ok(dropped > 100 && dropped < 300, `dropped ${dropped} of ${sent}, expected about 200`);
  assert.equal(await sendUdp(100), 100);
});

test('a rate cap on the uplink queues and then drops what exceeds it; clearing it removes the qdisc', { skip }, async () => {
  lab.capRate({ rate: '250kbit', direction: 'up' });
  let got = 0;
  let droppedByTbf = 0;
  try {
    assert.match(lab.qdiscStats().up, /tbf .*rate 250Kbit/);
    // 300 datagrams of 1200 bytes in one burst is 2.9 Mbit: far beyond a 6 kB queue.
    got = await sendUdp(300, { size: 1200, burst: 300 });
    droppedByTbf = Number(/dropped (\d+)/.exec(lab.qdiscStats().up)?.[1] ?? 0);
  } finally {
    lab.clearRate('up');
  }
  console.log(`figure: 300 × 1200 B at once into 250 kbit/s: ${got} arrived, tbf dropped ${droppedByTbf}`);
  assert.ok(droppedByTbf > 0 && got < 300, `tbf dropped ${droppedByTbf}, ${got} arrived`);
  assert.doesNotMatch(lab.qdiscStats().up, /tbf/);
  assert.equal(await sendUdp(300, { size: 1200, burst: 20 }), 300);
});

test('teardown removes the namespaces and the veths', { skip }, () => {
  const { ns, linkNs, rootIf } = lab;
  lab.teardown();
  const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  assert.doesNotMatch(left, new RegExp(ns));
  assert.doesNotMatch(left, new RegExp(linkNs));
  assert.throws(() => execFileSync('ip', ['link', 'show', rootIf], { stdio: 'ignore' }));
});
