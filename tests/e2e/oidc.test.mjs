// @ts-check
/**
 * OpenID Connect sign-in in Chromium against the real `narvaro` binary and a real OpenID
 * provider (`oidc-provider`, started in this process by ./oidc-provider.mjs), registered with it
 * as an agency's single sign-on and as Freja eID:
 *
 * 1. the guide books demo citizen 1 with officer Anna in booth 1, and the booth identifies the
 *    citizen and waits (development e-ID, as in the meeting test);
 * 2. the officer opens her agenda, is offered "Logga in med Försäkringskassan", signs in on the
 *    provider's own login form and comes back to the agenda signed in with `staff_login`; the
 *    guide starts the meeting and the officer presses "Anslut" and receives the booth's media;
 * 3. a citizen on the start page chooses "Logga in med Freja eID", signs in at the provider as
 *    demo citizen 1 and is back on the start page, signed in with `freja_eid`;
 * 4. the officer's provider answers are held back and delivered by the test, as by someone in
 *    between: with a tampered `state`, a wrong `iss`, for an authorization request whose `nonce`
 *    was changed, and the genuine answer twice. Each refusal brings her back to the sign-in page,
 *    which says why (with booking's code); only the genuine answer, once, signs her in.
 *
 * The server log is then searched for personnummer, session and binding cookies, the codes and
 * states of the provider's answers and the client secret.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  bookMeeting, closePages, collector, launchChromium, openPage, scanLog, startMeeting, waitForMedia,
} from './meeting-flow.mjs';
import { LOA3, PASSWORD, startOidcProvider } from './oidc-provider.mjs';
import { ARTIFACTS, REPO_ROOT, freeTcpPort, startServer } from './server.mjs';

const CLIENT_ID = 'narvaro';
const CLIENT_SECRET = `e2e-${Math.random().toString(36).slice(2)}-secret`;

/** @type {import('./server.mjs').Server} */
let server;
/** @type {import('./oidc-provider.mjs').RunningProvider} */
let provider;
/** @type {import('playwright-core').Browser} */
let browser;
const collected = collector();
/** What the browsers carried that is the login's: codes, states, binding cookies. */
/** @type {{label: string, value: string}[]} */
const loginSecrets = [];

/** Försäkringskassan's id in booking's demo data, so the two cannot drift apart. */
function demoAgencyFk() {
  const source = fs.readFileSync(path.join(REPO_ROOT, 'booking', 'src', 'demo.rs'), 'utf8');
  const m = /AGENCY_FORSAKRINGSKASSAN: AgencyId =\s*AgencyId::from_u128\(0x([0-9a-f_]+)\)/.exec(source);
  assert.ok(m, 'booking/src/demo.rs names Försäkringskassan');
  const hex = m[1].replace(/_/g, '').padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const httpPort = /** @type {number} */ (await freeTcpPort());
  const publicUrl = `http://localhost:${httpPort}`;
  provider = await startOidcProvider({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [`${publicUrl}/api/v1/fk/callback`, `${publicUrl}/api/v1/freja/callback`],
  });
  const configToml = `
[booking]
public_url = "${publicUrl}"

[[booking.oidc_providers]]
name = "fk"
display_name = "Försäkringskassan"
issuer = "${provider.issuer}"
client_id = "${CLIENT_ID}"
client_secret = "${CLIENT_SECRET}"
purpose = "officer"
agency_id = "${demoAgencyFk()}"

[[booking.oidc_providers]]
name = "freja"
display_name = "Freja eID"
issuer = "${provider.issuer}"
client_id = "${CLIENT_ID}"
client_secret = "${CLIENT_SECRET}"
purpose = "citizen"
acr_values = ["${LOA3}"]
`;
  server = await startServer({ name: 'oidc-server', httpPort, configToml });
  assert.equal(server.baseUrl, publicUrl);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await provider?.stop();
});

/**
 * Notes the binding cookie of each login and the code and state of each answer, for the log scan.
 * @param {import('playwright-core').Page} page
 */
function watchLogin(page) {
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.endsWith('/callback')) {
      for (const name of ['code', 'state']) {
        const value = url.searchParams.get(name);
        if (value) loginSecrets.push({ label: `${name} #${loginSecrets.length + 1}`, value });
      }
    }
  });
  page.on('response', async (response) => {
    if (!new URL(response.url()).pathname.endsWith('/login')) return;
    const setCookie = (await response.allHeaders())['set-cookie'] ?? '';
    const m = /narvaro_oidc=([^;]+)/.exec(setCookie);
    if (m) loginSecrets.push({ label: `binding cookie #${loginSecrets.length + 1}`, value: m[1] });
  });
}

/**
 * Fills in the provider's login form.
 * @param {import('playwright-core').Page} page
 * @param {string} login
 */
async function signInAtProvider(page, login) {
  await page.getByRole('heading', { name: 'Logga in hos testleverantören' }).waitFor({ timeout: 15_000 });
  assert.ok(page.url().startsWith(provider.issuer), `the provider's own page: ${page.url()}`);
  await page.getByLabel('Användarnamn').fill(login);
  await page.getByLabel('Lösenord').fill(PASSWORD);
  await page.getByRole('button', { name: 'Logga in', exact: true }).click();
}

/** @param {import('playwright-core').Page} page */
function session(page) {
  return page.evaluate(async () => (await fetch('/api/v1/session')).json());
}

test('an officer signs in through her agency\'s OpenID provider and joins the meeting', { timeout: 180_000 }, async () => {
  const guide = await openPage(browser, 'oidc-guide', server.baseUrl, collected);
  const booth = await openPage(browser, 'oidc-booth', server.baseUrl, collected);
  const officer = await openPage(browser, 'oidc-officer', server.baseUrl, collected);
  watchLogin(officer.page);
  try {
    const row = await bookMeeting(guide.page, booth.page);

    const page = officer.page;
    await page.goto('/officer');
    await page.waitForURL(/\/sign-in\?kind=officer/);
    await page.getByRole('link', { name: 'Logga in med Försäkringskassan' }).click();
    await signInAtProvider(page, 'anna');
    await page.waitForURL(`${server.baseUrl}/officer`, { timeout: 15_000 });
    await page.locator('.signed-in', { hasText: 'Anna Lindqvist' }).waitFor();
    const who = await session(page);
    assert.equal(who.kind, 'officer');
    assert.equal(who.display_name, 'Anna Lindqvist');
    assert.equal(who.method, 'staff_login');
    await page.screenshot({ path: path.join(ARTIFACTS, 'oidc-officer-agenda.png') });

    await startMeeting(row, booth.page);
    const join = page.getByRole('button', { name: /Anslut/ });
    await join.waitFor({ timeout: 15_000 });
    await join.click();
    const { last } = await waitForMedia(
      { booth: booth.page, officer: page },
      { deadlineMs: 20_000, minFrames: 10, minAudioPackets: 20 },
    );
    assert.ok((last.officer?.framesDecoded ?? 0) > 0, `the officer sees the booth: ${JSON.stringify(last.officer)}`);
    assert.ok((last.officer?.audioPacketsReceived ?? 0) > 0, 'the officer hears the booth');
  } finally {
    await closePages([guide, booth, officer], collected);
  }
});

test('a citizen signs in with Freja eID from the start page', { timeout: 120_000 }, async () => {
  const citizen = await openPage(browser, 'oidc-citizen', server.baseUrl, collected);
  watchLogin(citizen.page);
  try {
    const page = citizen.page;
    await page.goto('/');
    await page.getByRole('link', { name: 'Logga in med Freja eID' }).click();
    await signInAtProvider(page, 'tolvan');
    await page.waitForURL(`${server.baseUrl}/`, { timeout: 15_000 });
    await page.locator('.signed-in', { hasText: 'Tolvan Tolvansson' }).waitFor();
    const who = await session(page);
    assert.equal(who.kind, 'citizen');
    assert.equal(who.display_name, 'Tolvan Tolvansson');
    assert.equal(who.method, 'freja_eid');
    await page.screenshot({ path: path.join(ARTIFACTS, 'oidc-citizen-signed-in.png') });
  } finally {
    await closePages([citizen], collected);
  }
});

/**
 * The officer's login, in a fresh browser, up to the provider's answer, which is held back from
 * Närvaro: returns the callback URL as the provider made it, so the test can deliver it altered
 * or twice, as someone in between could. `alterRequest` changes the authorization request on its
 * way to the provider. (A browser follows redirects without letting a test stop them, so the
 * redirects after the login form are followed by the test, with the browser's cookies.)
 * @param {import('playwright-core').Page} page
 * @param {(url: string) => string} [alterRequest]
 * @returns {Promise<string>}
 */
async function officerAnswer(page, alterRequest = (u) => u) {
  await page.goto('/sign-in?kind=officer&return_to=%2Fofficer');
  const href = await page.getByRole('link', { name: 'Logga in med Försäkringskassan' }).getAttribute('href');
  const login = await page.request.get(new URL(href ?? '', server.baseUrl).toString(), { maxRedirects: 0 });
  const request = login.headers().location;
  assert.ok(request?.startsWith(`${provider.issuer}/auth?`), `Närvaro sends the browser to the provider: ${login.status()} ${request}`);
  /** @type {(url: string) => void} */
  let hold = () => {};
  /** @type {Promise<string>} */
  const held = new Promise((resolve) => { hold = resolve; });
  await page.route(
    (u) => u.origin === provider.issuer && u.pathname.startsWith('/interaction/') && u.pathname.endsWith('/login'),
    async (route) => {
      let res = await route.fetch({ maxRedirects: 0 });
      let location = res.headers().location;
      while (location && !new URL(location, provider.issuer).toString().startsWith(server.baseUrl)) {
        res = await page.request.get(new URL(location, provider.issuer).toString(), { maxRedirects: 0 });
        location = res.headers().location;
      }
      hold(location ? new URL(location, provider.issuer).toString() : `no answer: ${res.status()}`);
      await route.fulfill({ status: 200, contentType: 'text/plain; charset=utf-8', body: 'The test holds the answer back.' });
    },
  );
  await page.goto(alterRequest(request));
  await signInAtProvider(page, 'anna');
  const answer = await held;
  await page.unrouteAll();
  assert.ok(answer.startsWith(`${server.baseUrl}/api/v1/fk/callback?`), answer);
  return answer;
}

/**
 * @param {string} url
 * @param {string} name
 * @param {string} value
 */
function withParam(url, name, value) {
  const u = new URL(url);
  u.searchParams.set(name, value);
  return u.toString();
}

/**
 * Delivers an answer and expects the sign-in page back, saying why with booking's code.
 * @param {import('playwright-core').Page} page
 * @param {string} answer
 * @param {string} code
 */
async function refusedWith(page, answer, code) {
  await page.goto(answer);
  await page.waitForURL(`${server.baseUrl}/sign-in?kind=officer&refused=${code}`, { timeout: 15_000 });
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent() ?? '', new RegExp(`felkod ${code}`));
}

test('a tampered state, a replayed code, a wrong iss and a wrong nonce are each refused in the browser', { timeout: 180_000 }, async () => {
  /** @type {Awaited<ReturnType<typeof openPage>>[]} */
  const browsers = [];
  // Each attempt in a browser of its own, which the provider does not know yet.
  const fresh = async () => {
    const attempt = await openPage(browser, `oidc-refusal-${browsers.length + 1}`, server.baseUrl, collected);
    watchLogin(attempt.page);
    browsers.push(attempt);
    return attempt.page;
  };
  try {
    let page = await fresh();
    let answer = await officerAnswer(page);
    await refusedWith(page, withParam(answer, 'state', `${new URL(answer).searchParams.get('state')}x`), 'oidc_state_mismatch');
    assert.equal((await session(page)).error?.code, 'not_signed_in', 'the refusal signed nobody in');

    page = await fresh();
    answer = await officerAnswer(page);
    await refusedWith(page, withParam(answer, 'iss', 'https://idp.attacker.example'), 'oidc_wrong_issuer');
    assert.equal((await session(page)).error?.code, 'not_signed_in', 'the refusal signed nobody in');

    page = await fresh();
    answer = await officerAnswer(page, (request) => withParam(request, 'nonce', 'a-nonce-of-someone-else'));
    await refusedWith(page, answer, 'oidc_nonce_mismatch');
    await page.screenshot({ path: path.join(ARTIFACTS, 'oidc-refused.png') });
    assert.equal((await session(page)).error?.code, 'not_signed_in', 'the refusal signed nobody in');

    // The genuine answer signs in once; the same answer again is refused.
    page = await fresh();
    answer = await officerAnswer(page);
    await page.goto(answer);
    await page.waitForURL(`${server.baseUrl}/officer`, { timeout: 15_000 });
    assert.equal((await session(page)).method, 'staff_login');
    await refusedWith(page, answer, 'oidc_login_not_found');
  } finally {
    await closePages(browsers, collected);
  }
});

test('the server log holds no personnummer, cookie, code, state or client secret', async () => {
  assert.deepEqual(collected.pageProblems, [], 'pages ran under their CSP without errors');
  assert.ok(loginSecrets.some((s) => s.label.startsWith('code')), 'the codes were seen');
  await server.stop();
  const { log, leaks, numbers } = scanLog(server.logPath, collected, [
    ...loginSecrets,
    { label: 'client secret', value: CLIENT_SECRET },
  ]);
  assert.deepEqual(leaks, [], 'nothing of the logins in the server log');
  assert.deepEqual(numbers, [], 'no personnummer-shaped number in the server log');
  assert.match(log, /signed in through OpenID Connect/, 'the log says what happened');
});
