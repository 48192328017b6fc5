// @ts-check
/**
 * A real OpenID provider for the tests: an `oidc-provider` instance (the certified Node
 * implementation) with one confidential client, PKCE required, RS256 ID tokens that carry the
 * profile's claims (`conformIdTokenClaims: false`, as the Swedish OIDC profile delivers them), and
 * a login form of its own in place of a real e-ID: username and password, then consent given at
 * once (the accounts are the test's).
 *
 * Accounts (password `demo` for all), their addresses and numbers read from booking's demo data
 * so the two cannot drift apart:
 *
 * | login | who | claims |
 * |---|---|---|
 * | `anna` | officer Anna Lindqvist | her email, verified |
 * | `anna-unverified` | the same address | `email_verified: false` |
 * | `maria` | guide Maria Svensson | her email, verified |
 * | `lena` | Lena Berg, Försäkringskassan's analyst | her email, verified |
 * | `okand` | nobody Närvaro knows | an address at the agency, verified |
 * | `tolvan` | demo citizen 1 (Freja eID) | personalIdentityNumber, names, acr loa3 |
 * | `tolvan-loa2` | the same citizen | acr loa2 |
 *
 * As a program (for the Rust tests):
 *
 *     node oidc-provider.mjs --port 0 --client-id narvaro --client-secret s3cret \
 *       --redirect-uri http://localhost:8080/api/v1/fk/callback [--redirect-uri …]
 *
 * prints its issuer (`http://127.0.0.1:<port>`) on a line of its own once it listens, and runs
 * until stdin closes or it is signalled. As a module: `startOidcProvider(options)`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Two warnings are this harness's choice (Node 20, the in-memory adapter of a test); others show.
// oidc-provider's notices go to stderr, so stdout carries only the issuer line.
const EXPECTED_WARNINGS = [/Unsupported runtime/, /in-memory adapter/];
const warn = console.warn.bind(console);
console.warn = (/** @type {unknown[]} */ ...args) => {
  if (!EXPECTED_WARNINGS.some((re) => re.test(String(args[0])))) warn(...args);
};
console.info = (/** @type {unknown[]} */ ...args) => { process.stderr.write(`${args.join(' ')}\n`); };
const { default: Provider } = await import('oidc-provider');

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const PERSONAL_IDENTITY_NUMBER = 'https://id.oidc.se/claim/personalIdentityNumber';
export const NATURAL_PERSON_NUMBER_SCOPE = 'https://id.oidc.se/scope/naturalPersonNumber';
export const LOA2 = 'http://id.elegnamnden.se/loa/1.0/loa2';
export const LOA3 = 'http://id.elegnamnden.se/loa/1.0/loa3';
export const PASSWORD = 'demo';

/**
 * A `pub const NAME: &str = "…";` of booking/src/demo.rs.
 * @param {string} name
 */
function demoConstant(name) {
  const source = fs.readFileSync(path.join(REPO_ROOT, 'booking', 'src', 'demo.rs'), 'utf8');
  const m = new RegExp(`pub const ${name}: &str = "([^"]+)"`).exec(source);
  if (!m) throw new Error(`booking/src/demo.rs has no ${name}`);
  return m[1];
}

/**
 * @typedef {object} Account
 * @property {Record<string, unknown>} claims
 * @property {string} [acr]
 */

/** @returns {Record<string, Account>} */
export function accounts() {
  const anna = demoConstant('OFFICER_ANNA_EMAIL');
  const citizen = {
    [PERSONAL_IDENTITY_NUMBER]: demoConstant('CITIZEN_1_PERSONNUMMER').replace(/\D/g, ''),
    given_name: 'Tolvan',
    family_name: 'Tolvansson',
    name: 'Tolvan Tolvansson',
  };
  return {
    anna: { claims: { email: anna, email_verified: true, name: 'Anna Lindqvist', given_name: 'Anna', family_name: 'Lindqvist' } },
    'anna-unverified': { claims: { email: anna, email_verified: false, name: 'Anna Lindqvist' } },
    maria: { claims: { email: demoConstant('GUIDE_EMAIL'), email_verified: true, name: 'Maria Svensson' } },
    lena: { claims: { email: demoConstant('OFFICER_LENA_EMAIL'), email_verified: true, name: 'Lena Berg' } },
    okand: { claims: { email: 'okand.person@fk.example', email_verified: true, name: 'Okänd Person' } },
    tolvan: { claims: citizen, acr: LOA3 },
    'tolvan-loa2': { claims: citizen, acr: LOA2 },
  };
}

/**
 * @typedef {object} ProviderOptions
 * @property {number} [port] 0 (the default): any free port
 * @property {string} [host] default 127.0.0.1
 * @property {string} clientId
 * @property {string} clientSecret
 * @property {string[]} redirectUris
 */

/**
 * @typedef {object} RunningProvider
 * @property {string} issuer
 * @property {() => Promise<void>} stop
 */

/**
 * @param {string} text
 */
function html(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * @param {string} uid
 * @param {string} [problem]
 */
function loginPage(uid, problem) {
  return `<!doctype html>
<html lang="sv">
<head><meta charset="utf-8"><title>Logga in – testleverantör</title></head>
<body>
<main>
<h1>Logga in hos testleverantören</h1>
<p>En OpenID-leverantör för Närvaros tester (oidc-provider). Lösenordet är ${PASSWORD} för alla konton.</p>
${problem ? `<p role="alert">${html(problem)}</p>` : ''}
<form method="post" action="/interaction/${html(uid)}/login">
<p><label for="login">Användarnamn</label> <input id="login" name="login" autocomplete="username" required autofocus></p>
<p><label for="password">Lösenord</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Logga in</button></p>
</form>
</main>
</body>
</html>`;
}

/**
 * @param {http.IncomingMessage} req
 * @returns {Promise<URLSearchParams>}
 */
async function formBody(req) {
  /** @type {Buffer[]} */
  const chunks = [];
  for await (const chunk of req) chunks.push(/** @type {Buffer} */ (chunk));
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * @param {ProviderOptions} options
 * @returns {Promise<RunningProvider>}
 */
export async function startOidcProvider(options) {
  const people = accounts();
  /** @type {any} */
  let provider = null;
  /** @type {(req: http.IncomingMessage, res: http.ServerResponse) => void} */
  let callback = () => {};

  /**
   * The login form and consent, in place of devInteractions.
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   */
  async function interaction(req, res) {
    const details = await provider.interactionDetails(req, res);
    const { uid, prompt, params, session } = details;
    if (req.method === 'GET' && prompt.name === 'login') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(loginPage(uid));
      return;
    }
    if (req.method === 'POST' && prompt.name === 'login' && req.url?.endsWith('/login')) {
      const form = await formBody(req);
      const login = form.get('login') ?? '';
      const account = Object.hasOwn(people, login) ? people[login] : undefined;
      if (!account || form.get('password') !== PASSWORD) {
        res.writeHead(401, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(loginPage(uid, 'Fel användarnamn eller lösenord.'));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: login, acr: account.acr } }, { mergeWithLastSubmission: false });
      return;
    }
    if (req.method === 'GET' && prompt.name === 'consent') {
      // The test's own client: consent is given at once.
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`unexpected ${req.method} for prompt ${prompt.name}`);
  }

  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      interaction(req, res).catch((e) => {
        process.stderr.write(`interaction failed: ${e?.stack ?? e}\n`);
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`interaction failed: ${e?.message ?? e}`);
      });
      return;
    }
    callback(req, res);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve(undefined));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const issuer = `http://${host}:${port}`;

  const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  provider = new Provider(issuer, {
    clients: [{
      client_id: options.clientId,
      client_secret: options.clientSecret,
      redirect_uris: options.redirectUris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    scopes: ['openid', 'email', 'profile', NATURAL_PERSON_NUMBER_SCOPE],
    claims: {
      acr: null,
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
      [NATURAL_PERSON_NUMBER_SCOPE]: [PERSONAL_IDENTITY_NUMBER],
    },
    acrValues: [LOA2, LOA3],
    conformIdTokenClaims: false,
    jwks: { keys: [{ ...signingKey, kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    ttl: { AuthorizationCode: 120, IdToken: 300, AccessToken: 300, Interaction: 600, Session: 600, Grant: 600 },
    /** @param {any} _ctx @param {string} sub */
    async findAccount(_ctx, sub) {
      const account = Object.hasOwn(people, sub) ? people[sub] : undefined;
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...account.claims }) };
    },
  });
  provider.on('server_error', (/** @type {any} */ _ctx, /** @type {any} */ error) => {
    process.stderr.write(`oidc-provider server_error: ${error?.stack ?? error}\n`);
  });
  callback = provider.callback();

  return {
    issuer,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {ProviderOptions} */
  const options = { clientId: '', clientSecret: '', redirectUris: [], port: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    switch (flag) {
      case '--port': options.port = Number(value); break;
      case '--host': options.host = value; break;
      case '--client-id': options.clientId = value; break;
      case '--client-secret': options.clientSecret = value; break;
      case '--redirect-uri': options.redirectUris.push(value); break;
      default: throw new Error(`unknown option ${flag}`);
    }
  }
  if (!options.clientId || !options.clientSecret || options.redirectUris.length === 0) {
    throw new Error('--client-id, --client-secret and at least one --redirect-uri are required');
  }
  return options;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const running = await startOidcProvider(parseArgs(process.argv.slice(2)));
  process.stdout.write(`${running.issuer}\n`);
  const stop = () => running.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The parent test holds stdin open; when it goes, so does the provider.
  process.stdin.on('end', stop);
  process.stdin.resume();
}
