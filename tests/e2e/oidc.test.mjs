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
 *    demo citizen 1 and is back on the start page, signed in with `freja_eid`.
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
