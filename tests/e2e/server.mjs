// @ts-check
/**
 * Starts the built `narvaro` binary for a browser test: free ports, a fresh data directory,
 * configuration by environment variables (and, for what they cannot say, such as the list of
 * OpenID providers, a TOML file passed with `--config`), stdout and stderr into one log file.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(E2E_DIR, '..', '..');
export const ARTIFACTS = path.join(E2E_DIR, 'artifacts');

/** The binary: `NARVARO_BIN`, else the release build in `CARGO_TARGET_DIR` (or `target/`). */
export function narvaroBinary() {
  if (process.env.NARVARO_BIN) return path.resolve(process.env.NARVARO_BIN);
  const targetDir = process.env.CARGO_TARGET_DIR
    ? path.resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR)
    : path.join(REPO_ROOT, 'target');
  return path.join(targetDir, 'release', 'narvaro');
}

/** A TCP port nobody listens on right now. */
export function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A UDP port nobody has bound right now. */
export function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/**
 * @typedef {object} Server
 * @property {string} baseUrl e.g. http://localhost:41234
 * @property {number} httpPort
 * @property {number} udpPort the SFU's media port
 * @property {string} logPath
 * @property {string} dataDir
 * @property {() => Promise<number | null>} stop SIGTERM, then SIGKILL after 5 s; resolves with the exit code
 */

/**
 * @typedef {object} ServerOptions
 * @property {string} [name] the log is artifacts/<name>.log
 * @property {Record<string, string>} [env] more (or other) environment variables
 * @property {number} [httpPort] the HTTP port, when the test needs to know it before the server
 *   starts (an OpenID provider registers the redirect URI); default: a free one
 * @property {string} [configToml] written to the data directory and passed as `--config`
 */

/**
 * @param {ServerOptions} [options]
 * @returns {Promise<Server>}
 */
export async function startServer(options = {}) {
  const binary = narvaroBinary();
  if (!fs.existsSync(binary)) {
    throw new Error(`${binary} does not exist: build it with \`cargo build --release\` or set NARVARO_BIN`);
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const name = options.name ?? 'server';
  const logPath = path.join(ARTIFACTS, `${name}.log`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'narvaro-e2e-'));
  const httpPort = options.httpPort ?? /** @type {number} */ (await freeTcpPort());
  const udpPort = /** @type {number} */ (await freeUdpPort());

  const env = {
    ...process.env,
    RUST_LOG: process.env.RUST_LOG ?? 'debug',
    NARVARO_SERVER__LISTEN: `127.0.0.1:${httpPort}`,
    NARVARO_MEDIA__UDP_PORT: String(udpPort),
    // ICE-TCP stays on, on a free port: the browser is offered both and must pick UDP.
    NARVARO_MEDIA__TCP_PORT: '0',
    NARVARO_MEDIA__PUBLIC_IPS: '127.0.0.1',
    NARVARO_BOOKING__DATABASE_URL: `sqlite://${dataDir}/narvaro.db?mode=rwc`,
    ...options.env,
  };
  /** @type {string[]} */
  const args = [];
  if (options.configToml !== undefined) {
    const configPath = path.join(dataDir, 'narvaro.toml');
    fs.writeFileSync(configPath, options.configToml);
    args.push('--config', configPath);
  }
  const log = fs.openSync(logPath, 'w');
  const child = spawn(binary, args, { cwd: dataDir, env, stdio: ['ignore', log, log] });
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  let running = true;
  exited.then(() => { running = false; });

  const baseUrl = `http://localhost:${httpPort}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!running) {
      fs.closeSync(log);
      throw new Error(`narvaro exited before it was healthy; see ${logPath}:\n${tail(logPath)}`);
    }
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      fs.closeSync(log);
      throw new Error(`narvaro did not answer /healthz within 60 s; see ${logPath}:\n${tail(logPath)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    baseUrl,
    httpPort,
    udpPort,
    logPath,
    dataDir,
    async stop() {
      if (running) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      try { fs.closeSync(log); } catch { /* already closed */ }
      fs.rmSync(dataDir, { recursive: true, force: true });
      return exited;
    },
  };
}

/**
 * The last lines of a file, for error messages.
 * @param {string} file
 * @param {number} [lines]
 */
export function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
