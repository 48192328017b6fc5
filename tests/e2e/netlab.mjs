// @ts-check
/**
 * The network lab: puts one participant (the booth) behind a link the test can impair, with what
 * this kernel has (no `netem`). Three network namespaces joined by two veth pairs:
 *
 *   root namespace              link namespace (nv-link-<pid>)          booth namespace (nv-booth-<pid>)
 *   server, SFU, officer        forwards, and impairs:                  booth's Chromium,
 *   10.77.<n>.1 ═══ veth ═══ 10.77.<n>.2    10.77.<n>.5 ═══ veth ═══ 10.77.<n>.6  TCP forwarder on 127.0.0.1
 *     nvr<pid>          nvlr<pid> egress = uplink     nvlb<pid> egress = downlink       nvb<pid>
 *                       (tc tbf rate caps on each egress; nftables on forward: loss, UDP blocked)
 *
 * The impairments sit in the middle, as in a real access network, and never on an endpoint: a
 * datagram dropped by nftables in the sender's own output path fails its `sendmsg` with EPERM,
 * which the sender sees and works around (measured: 10 % "loss" in the booth's output cost its
 * audio 1 % at the officer, against 10 % from the middle), and a qdisc on the sender's own
 * interface pushes back on its socket. Neither happens when a modem or a firewall drops a packet.
 *
 * The booth's namespace has a route to the root side's /30 only: it reaches the server's
 * 10.77.<n>.1 and nothing else, so every byte it exchanges with the server, signalling and media
 * alike, crosses the impaired link. Delay and jitter come from the UDP proxy in
 * `impair-proxy.mjs` instead.
 *
 * Needs root (namespaces, `tc`, `nft`); `labUnavailable()` says why not, for tests to skip.
 * `teardown()` removes the namespaces, the veths and the processes started in the booth's
 * namespace; it also runs on process exit and SIGINT/SIGTERM, so a failing or interrupted test
 * leaves nothing behind; a run killed outright leaves namespaces that the next run removes (their
 * pid is dead).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TCP_FORWARD = path.join(HERE, 'tcp-forward.mjs');
const NFT_TABLE = { loss: 'nv_loss', block: 'nv_block_udp' };

/** @typedef {'up' | 'down' | 'both'} Direction `up`: booth → server; `down`: server → booth */

/**
 * @param {string} name
 * @returns {string | null}
 */
function which(name) {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Why the lab cannot run here, or null when it can. Tests skip with this text.
 * @returns {string | null}
 */
export function labUnavailable() {
  if (process.platform !== 'linux') return 'the network lab needs Linux (network namespaces)';
  if (process.getuid?.() !== 0) {
    return 'the network lab needs root (network namespaces, tc, nftables); CI runs it as root: sudo tests/e2e/run.sh';
  }
  const missing = ['ip', 'tc', 'nft'].filter((tool) => !which(tool));
  if (missing.length) {
    return `the network lab needs ${missing.join(', ')}: apt-get install iproute2 nftables (tests/run.sh does so as root)`;
  }
  return null;
}

/**
 * Runs a command, throwing with its stderr on failure.
 * @param {string} file
 * @param {string[]} args
 * @param {string} [input] stdin
 */
function run(file, args, input) {
  try {
    return execFileSync(file, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = /** @type {{stderr?: string, message: string}} */ (e);
    throw new Error(`${file} ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
  }
}

/** @param {string} file @param {string[]} args */
function runQuietly(file, args) {
  try {
    execFileSync(file, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** @param {number} pid */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return /** @type {NodeJS.ErrnoException} */ (e).code === 'EPERM';
  }
}

/** Removes namespaces and veths a killed run left behind (its pid is gone). */
function removeStale() {
  const names = run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
  for (const ns of names) {
    const m = /^nv-(?:booth|link)-(\d+)$/.exec(ns);
    if (!m || alive(Number(m[1]))) continue;
    runQuietly('ip', ['link', 'del', `nvr${m[1]}`]);
    runQuietly('ip', ['netns', 'del', ns]);
  }
}

/**
 * A 10.77.<n>.0/24 no interface or route of the root namespace uses yet: the lab's two /30s at
 * .0 and .4, and the booth's later subnets (`changeBoothAddress`) above them.
 */
function freeSubnet() {
  const used = run('ip', ['-4', '-o', 'addr', 'show']) + run('ip', ['-4', 'route', 'show']).replace(/^/gm, ' ');
  for (let i = 0; i < 254; i++) {
    const n = ((process.pid + i) % 254) + 1;
    if (!used.includes(` 10.77.${n}.`)) return n;
  }
  throw new Error('no free 10.77.<n>.0/30 for the lab');
}

/**
 * @typedef {object} RateCap
 * @property {string} rate e.g. `250kbit`
 * @property {string} [burst] token bucket size; default `16kbit` (see `capRate`)
 * @property {string} [latency] longest a packet may wait in the queue; default `200ms`
 */

/** @typedef {{up: number, down: number, total: number}} Drops */

/**
 * @typedef {object} Lab
 * @property {string} ns the booth's namespace
 * @property {string} linkNs the namespace between root and booth, where the impairments are
 * @property {string} rootIf the root namespace's end of the link
 * @property {string} boothIf the booth's end of the link
 * @property {string} rootIp the server's address as the booth sees it
 * @property {string} boothIp the booth's address now (no NAT: the server sees it too)
 * @property {string[]} formerBoothIps addresses the booth had before `changeBoothAddress`
 * @property {(cap: RateCap & {direction: Direction}) => void} capRate
 * @property {(direction: Direction) => void} clearRate
 * @property {(options: {percent: number, direction: Direction, udpOnly?: boolean}) => void} addLoss
 * @property {() => void} clearLoss
 * @property {() => void} blockUdp drops every UDP datagram on the booth's link, both ways, silently
 *   (as a firewall does); TCP passes
 * @property {() => void} unblockUdp
 * @property {() => {loss: Drops, blockedUdp: Drops}} dropCounts packets nftables dropped so far
 *   (since the impairment was last set)
 * @property {() => Record<'up' | 'down', string>} qdiscStats `tc -s qdisc` of each direction
 * @property {(options: {port: number, targetPort: number}) => Promise<void>} forwardLocalhost
 *   accepts on 127.0.0.1:`port` inside the namespace and forwards to `rootIp`:`targetPort`
 * @property {(side?: 'both' | 'client') => Promise<number>} resetForwarded cuts every connection
 *   the `forwardLocalhost` forwarders carry (the booth's pages and signalling WebSocket) with a TCP
 *   RST; they keep accepting new ones. `both` (the default) resets the server's side too, as a
 *   flaky link does; `client` only the booth's, leaving the server's side open and silent, as a
 *   NAT that forgot its mapping does (`tcp-forward.mjs`). Resolves with how many were cut.
 * @property {() => {from: string, to: string}} changeBoothAddress moves the booth to a new address
 *   in a new subnet, as a mobile handover does: see its comment
 * @property {string} chromium an executable that runs Chromium inside the namespace (for
 *   playwright's `executablePath`)
 * @property {(file: string, args: string[]) => string} exec runs a command inside the namespace
 * @property {(file: string, args: string[]) => Promise<string>} execAsync the same without blocking
 *   this process's event loop (which may be serving the other end)
 * @property {() => void} teardown
 */

/**
 * Creates the namespaces and the veths, addresses them, routes the booth's /30 through the link
 * namespace and brings everything up.
 * @param {{chromiumBin?: string}} [options] Chromium defaults to `CHROMIUM_BIN` or /usr/bin/chromium
 * @returns {Lab}
 */
export function createLab(options = {}) {
  const reason = labUnavailable();
  if (reason) throw new Error(reason);
  removeStale();
  const ns = `nv-booth-${process.pid}`;
  const linkNs = `nv-link-${process.pid}`;
  const rootIf = `nvr${process.pid}`;
  const linkUpIf = `nvlr${process.pid}`;
  const linkDownIf = `nvlb${process.pid}`;
  const boothIf = `nvb${process.pid}`;
  const n = freeSubnet();
  const rootIp = `10.77.${n}.1`;
  const linkRootIp = `10.77.${n}.2`;
  const linkBoothIp = `10.77.${n}.5`;
  const ip = /** @type {string} */ (which('ip'));
  const chromiumBin = options.chromiumBin ?? process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `nv-lab-${process.pid}-`));
  /** @type {import('node:child_process').ChildProcess[]} */
  const children = [];
  /** The `forwardLocalhost` forwarders, each with a queue of waiters for its `reset <n>` lines. */
  /** @type {{child: import('node:child_process').ChildProcess, onReset: ((n: number) => void)[]}[]} */
  const forwarders = [];
  /** The booth's subnets so far: `10.77.<n>.<4 × (k + 1)>/30`, the booth at `.+2`, the link at `.+1`. */
  let boothSubnet = 0;
  let boothIp = `10.77.${n}.6`;
  /** @type {string[]} */
  const formerBoothIps = [];
  /** @type {Set<'up' | 'down'>} */
  const capped = new Set();
  /** @type {Set<string>} */
  const tables = new Set();
  let tornDown = false;

  /** @param {string} file @param {string[]} args */
  const inNs = (file, args) => run('ip', ['netns', 'exec', ns, file, ...args]);
  /** @param {string} file @param {string[]} args @param {string} [input] */
  const inLink = (file, args, input) => run('ip', ['netns', 'exec', linkNs, file, ...args], input);

  function teardown() {
    if (tornDown) return;
    tornDown = true;
    process.off('exit', teardown);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const child of children) {
      if (child.exitCode === null && child.pid) {
        try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    }
    // Whatever still runs in the booth's namespace was started by this lab (the browser and its
    // helpers).
    let pids = '';
    try { pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }); } catch { /* no namespace */ }
    for (const pid of pids.split('\n').map(Number).filter((p) => p > 0)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    // Deleting the root side removes its pair and the route through it; the namespaces take the
    // other pair, the qdiscs and the nftables tables along.
    runQuietly('ip', ['link', 'del', rootIf]);
    runQuietly('ip', ['netns', 'del', ns]);
    runQuietly('ip', ['netns', 'del', linkNs]);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  /** @param {NodeJS.Signals} signal */
  function onSignal(signal) {
    teardown();
    process.kill(process.pid, signal);
  }
  process.on('exit', teardown);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    run('ip', ['netns', 'add', linkNs]);
    run('ip', ['netns', 'add', ns]);
    run('ip', ['link', 'add', rootIf, 'type', 'veth', 'peer', 'name', linkUpIf, 'netns', linkNs]);
    run('ip', ['link', 'add', boothIf, 'netns', ns, 'type', 'veth', 'peer', 'name', linkDownIf, 'netns', linkNs]);
    run('ip', ['addr', 'add', `${rootIp}/30`, 'dev', rootIf]);
    run('ip', ['link', 'set', rootIf, 'up']);
    run('ip', ['route', 'add', `10.77.${n}.4/30`, 'via', linkRootIp, 'dev', rootIf]);
    inLink('ip', ['addr', 'add', `${linkRootIp}/30`, 'dev', linkUpIf]);
    inLink('ip', ['addr', 'add', `${linkBoothIp}/30`, 'dev', linkDownIf]);
    for (const dev of [linkUpIf, linkDownIf, 'lo']) inLink('ip', ['link', 'set', dev, 'up']);
    inLink('sh', ['-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    inNs('ip', ['addr', 'add', `${boothIp}/30`, 'dev', boothIf]);
    inNs('ip', ['link', 'set', boothIf, 'up']);
    inNs('ip', ['link', 'set', 'lo', 'up']);
    inNs('ip', ['route', 'add', `10.77.${n}.0/30`, 'via', linkBoothIp, 'dev', boothIf]);
  } catch (e) {
    teardown();
    throw e;
  }

  const chromium = path.join(tmp, 'chromium-in-netns');
  // playwright talks to the browser over inherited pipes (fd 3 and 4), which `ip netns exec`
  // keeps: it execs the command in place.
  fs.writeFileSync(chromium, `#!/bin/sh\nexec ${ip} netns exec ${ns} ${chromiumBin} "$@"\n`, { mode: 0o755 });

  /**
   * @param {Direction} direction
   * @returns {('up' | 'down')[]}
   */
  const sides = (direction) => (direction === 'both' ? ['up', 'down'] : [direction]);

  /**
   * One table in the link namespace with a forward chain per direction.
   * @param {string} table
   * @param {string} rule what to drop, after the direction's interface match
   * @param {('up' | 'down')[]} which
   */
  function nftTable(table, rule, which) {
    if (tables.has(table)) inLink('nft', ['delete', 'table', 'inet', table]);
    const chains = [];
    // Up: forwarded from the booth's side; down: forwarded from the root side.
    if (which.includes('up')) chains.push(`chain up { type filter hook forward priority -10; policy accept; iifname "${linkDownIf}" ${rule} counter drop; }`);
    if (which.includes('down')) chains.push(`chain down { type filter hook forward priority -10; policy accept; iifname "${linkUpIf}" ${rule} counter drop; }`);
    inLink('nft', ['-f', '-'], `table inet ${table} {\n${chains.join('\n')}\n}\n`);
    tables.add(table);
  }

  /** @param {string} table */
  function dropTable(table) {
    if (!tables.has(table)) return;
    inLink('nft', ['delete', 'table', 'inet', table]);
    tables.delete(table);
  }

  /** @param {string} table */
  function dropped(table) {
    /** @type {Drops} */
    const drops = { up: 0, down: 0, total: 0 };
    if (!tables.has(table)) return drops;
    const text = inLink('nft', ['list', 'table', 'inet', table]);
    for (const m of text.matchAll(/chain (up|down) \{[^}]*counter packets (\d+)/g)) {
      drops[/** @type {'up' | 'down'} */ (m[1])] = Number(m[2]);
      drops.total += Number(m[2]);
    }
    return drops;
  }

  /** @param {'up' | 'down'} side */
  const egressOf = (side) => (side === 'up' ? linkUpIf : linkDownIf);

  return {
    ns,
    linkNs,
    rootIf,
    boothIf,
    rootIp,
    get boothIp() { return boothIp; },
    formerBoothIps,
    chromium,
    /**
     * A token bucket on the link namespace's egress for that direction. `burst` must hold one
     * full-size frame (1514 bytes, about 12 kbit) or such packets never pass; much more would let
     * bursts through at line rate, which a slow access link does not. `latency` bounds the queue (rate × latency, about
     * 6 kB at 250 kbit/s and 200 ms): a modest buffer like a DSL or mobile uplink's, so congestion
     * shows first as delay, which the browser's bandwidth estimator reacts to, then as loss.
     */
    capRate({ rate, burst = '16kbit', latency = '200ms', direction }) {
      for (const side of sides(direction)) {
        inLink('tc', ['qdisc', 'replace', 'dev', egressOf(side), 'root', 'tbf', 'rate', rate, 'burst', burst, 'latency', latency]);
        capped.add(side);
      }
    },
    clearRate(direction) {
      for (const side of sides(direction)) {
        if (!capped.has(side)) continue;
        inLink('tc', ['qdisc', 'del', 'dev', egressOf(side), 'root']);
        capped.delete(side);
      }
    },
    addLoss({ percent, direction, udpOnly = false }) {
      if (!(percent >= 0 && percent <= 100)) throw new Error(`loss percent out of range: ${percent}`);
      // numgen yields 0..99 uniformly per packet: `< percent` drops that share of them.
      nftTable(NFT_TABLE.loss, `${udpOnly ? 'meta l4proto udp ' : ''}numgen random mod 100 < ${Math.round(percent)}`, sides(direction));
    },
    clearLoss: () => dropTable(NFT_TABLE.loss),
    blockUdp: () => nftTable(NFT_TABLE.block, 'meta l4proto udp', ['up', 'down']),
    unblockUdp: () => dropTable(NFT_TABLE.block),
    dropCounts: () => ({ loss: dropped(NFT_TABLE.loss), blockedUdp: dropped(NFT_TABLE.block) }),
    qdiscStats: () => ({
      up: inLink('tc', ['-s', 'qdisc', 'show', 'dev', linkUpIf]).trim(),
      down: inLink('tc', ['-s', 'qdisc', 'show', 'dev', linkDownIf]).trim(),
    }),
    async forwardLocalhost({ port, targetPort }) {
      const child = spawn(ip, ['netns', 'exec', ns, process.execPath, TCP_FORWARD, '127.0.0.1', String(port), rootIp, String(targetPort)], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.push(child);
      /** @type {(typeof forwarders)[number]} */
      const forwarder = { child, onReset: [] };
      let stderr = '';
      child.stderr?.on('data', (d) => { stderr += d; });
      await new Promise((resolve, reject) => {
        let stdout = '';
        child.stdout?.on('data', (d) => {
          stdout += d;
          let nl;
          while ((nl = stdout.indexOf('\n')) >= 0) {
            const line = stdout.slice(0, nl);
            stdout = stdout.slice(nl + 1);
            if (line.startsWith('listening')) resolve(undefined);
            const reset = /^reset (\d+)$/.exec(line);
            if (reset) forwarder.onReset.shift()?.(Number(reset[1]));
          }
        });
        child.once('exit', (code) => reject(new Error(`forwarder in ${ns} exited (${code}): ${stderr.trim()}`)));
      });
      forwarders.push(forwarder);
    },
    async resetForwarded(side = 'both') {
      const counts = await Promise.all(forwarders.map(({ child, onReset }) => new Promise((resolve, reject) => {
        if (child.exitCode !== null || !child.stdin) {
          reject(new Error(`the forwarder in ${ns} has exited`));
          return;
        }
        onReset.push(resolve);
        child.stdin.write(`reset ${side}\n`);
      })));
      return counts.reduce((a, b) => a + b, 0);
    },
    /**
     * Moves the booth to the next /30 of the lab's /24, as a mobile handover or a switch from one
     * uplink to another does. The new cell is made ready first (the link namespace's address on
     * the new subnet, the root side's route back to it), then the booth changes over in one
     * `ip -batch`: the new address, the route through the new gateway with the new source, the
     * old address removed. Sockets bound to the old address are left to fail as they would (UDP
     * sends fail, TCP stalls); `resetForwarded` models a phone that closes its TCP connections
     * when its address goes (Android's netd destroys them).
     */
    changeBoothAddress() {
      const next = boothSubnet + 1;
      const base = 4 * (next + 1);
      if (base + 3 > 255) throw new Error('the lab has no further subnet for the booth');
      const gateway = `10.77.${n}.${base + 1}`;
      const to = `10.77.${n}.${base + 2}`;
      const from = boothIp;
      inLink('ip', ['addr', 'add', `${gateway}/30`, 'dev', linkDownIf]);
      run('ip', ['route', 'add', `10.77.${n}.${base}/30`, 'via', linkRootIp, 'dev', rootIf]);
      run('ip', ['netns', 'exec', ns, 'ip', '-batch', '-'], [
        `addr add ${to}/30 dev ${boothIf}`,
        `route replace 10.77.${n}.0/30 via ${gateway} dev ${boothIf} src ${to}`,
        `addr del ${from}/30 dev ${boothIf}`,
      ].join('\n') + '\n');
      boothSubnet = next;
      boothIp = to;
      formerBoothIps.push(from);
      return { from, to };
    },
    exec: inNs,
    execAsync(file, args) {
      return new Promise((resolve, reject) => {
        execFile(ip, ['netns', 'exec', ns, file, ...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
          if (error) reject(new Error(`in ${ns}: ${file} ${args.join(' ')}: ${stderr.trim() || error.message}`));
          else resolve(stdout);
        });
      });
    },
    teardown,
  };
}
