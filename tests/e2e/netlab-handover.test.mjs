// @ts-check
/**
 * The network lab's two disruptions, without browsers: `resetForwarded` cuts the connections the
 * booth's forwarder carries with a TCP RST and the forwarder keeps accepting; `changeBoothAddress`
 * moves the booth to a new address that the server side sees and can answer, and the old address
 * is gone. Needs root; skips otherwise.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';

import { createLab, labUnavailable } from './netlab.mjs';
import { freeTcpPort } from './server.mjs';

const skip = labUnavailable() ?? false;

/**
 * Inside the namespace: connects, checks the echo, says so on stdout, then prints how the
 * connection ended (`ECONNRESET` for a reset) and whether a new connection echoes again.
 */
const CUT_CLIENT = `
const net = require('node:net');
const [port] = process.argv.slice(1).map(Number);
const c = net.connect({ host: '127.0.0.1', port }, () => c.write('one\\n'));
c.once('data', () => console.log('echoed'));
c.on('error', (e) => console.log(e.code));
c.on('close', () => {
  const again = net.connect({ host: '127.0.0.1', port }, () => again.write('two\\n'));
  again.once('data', (d) => { console.log('again ' + String(d).trim()); again.end(); clearTimeout(timer); });
  again.on('error', (e) => { console.log('again ' + e.code); clearTimeout(timer); });
});
const timer = setTimeout(() => { console.log('timeout'); process.exit(1); }, 10000);
`;

/** Inside the namespace: connects to the server side directly and prints what comes back. */
const DIRECT_CLIENT = `
const [host, port] = process.argv.slice(1);
const c = require('node:net').connect({ host, port: Number(port) }, () => c.write('hello\\n'));
c.setEncoding('utf8');
const timer = setTimeout(() => { console.error('no answer'); process.exit(1); }, 5000);
c.on('data', (d) => { process.stdout.write(d); c.end(); clearTimeout(timer); });
c.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

/** The /30 an address is in. @param {string} address */
function subnet30(address) {
  const parts = address.split('.').map(Number);
  parts[3] &= ~3;
  return parts.join('.');
}

/** @type {import('./netlab.mjs').Lab} */
let lab;
/** @type {net.Server} */
let echo;
let echoPort = 0;
let localPort = 0;
/** Each connection the echo server accepted: where from, and whether it has closed. */
/** @type {{address: string, closed: boolean}[]} */
const peers = [];
/** The echo server's sockets: a connection left half-open on purpose must not keep the test
 * process alive after it. */
/** @type {net.Socket[]} */
const sockets = [];

before(async () => {
  if (skip) return;
  lab = createLab();
  // Echoes each line with the address it came from.
  echo = net.createServer((s) => {
    const peer = { address: s.remoteAddress ?? '', closed: false };
    peers.push(peer);
    sockets.push(s);
    s.on('close', () => { peer.closed = true; });
    s.setEncoding('utf8');
    s.on('data', (d) => s.write(`${String(d).trim()} from ${s.remoteAddress}\n`));
    s.on('error', () => {});
  });
  await new Promise((resolve) => echo.listen(0, lab.rootIp, () => resolve(undefined)));
  echoPort = /** @type {net.AddressInfo} */ (echo.address()).port;
  localPort = /** @type {number} */ (await freeTcpPort());
  await lab.forwardLocalhost({ port: localPort, targetPort: echoPort });
});

after(() => {
  lab?.teardown();
  for (const s of sockets) s.destroy();
  echo?.close();
});

/**
 * Opens a forwarded connection from the booth, cuts it once it has echoed, and returns what the
 * client printed, how many connections were cut, and whether the server's end closed.
 * @param {'both' | 'client'} side
 */
async function cutOne(side) {
  const first = peers.length;
  const client = lab.execAsync(process.execPath, ['-e', CUT_CLIENT, String(localPort)]);
  const started = Date.now();
  while (peers.length === first && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
  const cut = await lab.resetForwarded(side);
  const out = (await client).trim().split('\n');
  await new Promise((r) => setTimeout(r, 300));
  return { out, cut, serverClosed: peers[first]?.closed };
}

test('resetForwarded cuts the forwarded connections with a reset both ways, and new ones pass again', { skip }, async () => {
  const { out, cut, serverClosed } = await cutOne('both');
  assert.equal(cut, 1, 'one connection was cut');
  assert.deepEqual(out, ['echoed', 'ECONNRESET', `again two from ${lab.boothIp}`]);
  assert.equal(serverClosed, true, "the server's end closed too");
});

test("resetForwarded('client') resets the booth's end only: the server's end stays open", { skip }, async () => {
  const { out, cut, serverClosed } = await cutOne('client');
  assert.equal(cut, 1, 'one connection was cut (the second one of the last test had closed)');
  assert.deepEqual(out, ['echoed', 'ECONNRESET', `again two from ${lab.boothIp}`]);
  assert.equal(serverClosed, false, "the server's end is still open");
});

test('changeBoothAddress moves the booth to a new subnet: the server sees and answers the new address, the old one is gone', { skip }, async () => {
  const old = lab.boothIp;
  assert.equal(await lab.execAsync(process.execPath, ['-e', DIRECT_CLIENT, lab.rootIp, String(echoPort)]), `hello from ${old}\n`);
  const { from, to } = lab.changeBoothAddress();
  assert.equal(from, old);
  assert.equal(lab.boothIp, to);
  assert.deepEqual(lab.formerBoothIps, [old]);
  assert.notEqual(subnet30(to), subnet30(old), 'a new /30');
  const addresses = lab.exec('ip', ['-4', '-o', 'addr', 'show', 'dev', lab.boothIf]);
  assert.match(addresses, new RegExp(`inet ${to.replaceAll('.', '\\.')}/30`));
  assert.doesNotMatch(addresses, new RegExp(`inet ${old.replaceAll('.', '\\.')}/`), 'the old address is gone');
  // Directly and through the forwarder: both leave from the new address and get an answer.
  assert.equal(await lab.execAsync(process.execPath, ['-e', DIRECT_CLIENT, lab.rootIp, String(echoPort)]), `hello from ${to}\n`);
  assert.equal(await lab.execAsync(process.execPath, ['-e', DIRECT_CLIENT, '127.0.0.1', String(localPort)]), `hello from ${to}\n`);
  // A second move works the same way.
  const second = lab.changeBoothAddress();
  assert.equal(second.from, to);
  assert.equal(await lab.execAsync(process.execPath, ['-e', DIRECT_CLIENT, lab.rootIp, String(echoPort)]), `hello from ${second.to}\n`);
});
