// @ts-check
/**
 * The steps of a booked meeting through the pages, shared by the meeting test and the network-lab
 * tests: launching Chromium with fake media, pages that log their console and collect join
 * tokens, the development e-ID, the guide's booking, the booth joining by itself, the officer's
 * "Anslut", reading `getStats()`, and the privacy scan of the server log.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { findPersonnummer, findSecrets, personnummerForms } from './privacy.mjs';
import { ARTIFACTS, REPO_ROOT } from './server.mjs';

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** Headless Chromium with fake camera and microphone; playwright adds a fresh --user-data-dir. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  // A booth kiosk is configured to play sound without a click; so is this test's browser.
  '--autoplay-policy=no-user-gesture-required',
];

/**
 * @param {string} [executablePath] Chromium, or a wrapper that runs it elsewhere (the lab's namespace)
 */
export function launchChromium(executablePath = CHROMIUM) {
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

/**
 * What the pages give away that must not reach the server log, and what went wrong on them.
 * @typedef {object} Collected
 * @property {string[]} tokens join tokens the browsers were given
 * @property {string[]} cookies the secrets in the browsers' cookies: sessions, kiosk credentials,
 *   BankID order bindings
 * @property {string[]} pageProblems script errors and CSP violations: pages must run under their own policy
 */

/** @returns {Collected} */
export function collector() {
  return { tokens: [], cookies: [], pageProblems: [] };
}

/**
 * @typedef {object} OpenPage
 * @property {import('playwright-core').BrowserContext} context
 * @property {import('playwright-core').Page} page
 * @property {fs.WriteStream} consoleLog
 */

/**
 * A fresh browser context (own cookies) with its page's console and errors logged to artifacts,
 * and join tokens from booking's answers collected.
 * @param {import('playwright-core').Browser} browser
 * @param {string} name artifacts are `<name>-console.log` and so on
 * @param {string} baseUrl
 * @param {Collected} collected
 * @param {import('playwright-core').BrowserContextOptions} [contextOptions] e.g. another
 *   viewport, or `hasTouch` for a kiosk's touch screen
 * @returns {Promise<OpenPage>}
 */
export async function openPage(browser, name, baseUrl, collected, contextOptions = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'sv-SE',
    permissions: ['camera', 'microphone'],
    baseURL: baseUrl,
    ...contextOptions,
  });
  const page = await context.newPage();
  const consoleLog = fs.createWriteStream(path.join(ARTIFACTS, `${name}-console.log`));
  page.on('console', (m) => {
    consoleLog.write(`[${m.type()}] ${m.text()}\n`);
    if (/Content Security Policy|Permissions-Policy/.test(m.text())) collected.pageProblems.push(`${name}: ${m.text()}`);
  });
  page.on('pageerror', (e) => {
    consoleLog.write(`[pageerror] ${e.stack ?? e.message}\n`);
    collected.pageProblems.push(`${name}: ${e.message}`);
  });
  page.on('response', async (response) => {
    if (/\/api\/v1\/bookings\/[^/]+\/join$/.test(new URL(response.url()).pathname) && response.ok()) {
      try {
        const body = await response.json();
        if (typeof body.token === 'string') collected.tokens.push(body.token);
      } catch {
        // the page navigated away before the body was read
      }
    }
  });
  return { context, page, consoleLog };
}

/** Cookies whose values are bearer secrets or tokens (the CSRF token), none of which may reach a log. */
const SECRET_COOKIES = new Set(['narvaro_session', 'narvaro_device', 'narvaro_bankid', 'narvaro_csrf']);

/**
 * Keeps the secret cookies of the contexts (for the log scan), then closes them.
 * @param {OpenPage[]} pages
 * @param {Collected} collected
 */
export async function closePages(pages, collected) {
  for (const { context, consoleLog } of pages) {
    try {
      for (const c of await context.cookies()) if (SECRET_COOKIES.has(c.name)) collected.cookies.push(c.value);
      await context.close();
    } catch {
      // the browser is already gone
    }
    consoleLog.end();
  }
}

/**
 * Signs in on the development e-ID page the browser was sent to, as the named person.
 * @param {import('playwright-core').Page} page
 * @param {string} name display name of a demo person
 * @param {RegExp} backTo where the e-ID page should return to
 */
export async function devEidSignIn(page, name, backTo) {
  await page.waitForURL(/\/dev-eid\?/);
  await page.getByText('Endast för utveckling').waitFor();
  await page.getByRole('button', { name: new RegExp(name) }).click();
  await page.waitForURL(backTo);
}

/** The demo's test personnummer, read from booking's demo data so the two cannot drift apart. */
export function demoPersonnummer() {
  const source = fs.readFileSync(path.join(REPO_ROOT, 'booking', 'src', 'demo.rs'), 'utf8');
  const numbers = [...source.matchAll(/PERSONNUMMER: &str = "([0-9+-]+)"/g)].map((m) => m[1]);
  assert.ok(numbers.length > 0, 'booking/src/demo.rs names demo personnummer');
  return numbers;
}

/**
 * The guide signs in and books demo citizen 1 with officer Anna in booth 1, starting now.
 * @param {import('playwright-core').Page} guide
 * @returns {Promise<{row: import('playwright-core').Locator, boothHref: string}>} the booking's
 *   row on the guide console, and booth 1's kiosk address
 */
export async function bookBooth1(guide) {
  // Booth 1's kiosk address, from the start page's links.
  await guide.goto('/');
  const boothHref = await guide.getByRole('link', { name: /Mötesrum 1/ }).getAttribute('href');
  assert.ok(boothHref?.startsWith('/booth/'), `start page links booth 1: ${boothHref}`);

  await guide.goto('/guide');
  await devEidSignIn(guide, 'Maria Svensson', /\/guide$/);
  await guide.getByLabel('Ärende', { exact: true }).selectOption({ label: 'Föräldrapenning' });
  await guide.getByLabel('Handläggare', { exact: true }).selectOption({ label: 'Anna Lindqvist' });
  await guide.getByLabel('Mötesrum', { exact: true }).selectOption({ label: 'Mötesrum 1' });
  assert.notEqual(await guide.getByLabel('Tid', { exact: true }).inputValue(), '', 'time defaults to now');
  await guide.getByLabel('Medborgarens personnummer').fill(demoPersonnummer()[0]);
  await guide.getByRole('button', { name: 'Boka mötet' }).click();
  const row = guide.locator('#bookings-body tr', { hasText: 'Mötesrum 1' });
  await row.getByRole('button', { name: /Starta mötet/ }).waitFor({ timeout: 10_000 });
  return { row, boothHref: /** @type {string} */ (boothHref) };
}

/** What the guide records of the ID document in [`bookMeeting`], and how the others then see it. */
export const ASSISTED_ID = {
  type: 'Pass',
  last4: '1234',
  label: 'ID-handling (pass, nr …1234) kontrollerad av Maria Svensson',
};

/** What the booth says once the guide has checked the citizen's ID document. */
export const ASSISTED_ID_ON_BOOTH = 'Du är identifierad. Servicevägledaren har kontrollerat din ID-handling.';

/**
 * Makes the page booth 1's kiosk, enrolled without a code (the development profile's button),
 * and chooses Swedish on its language screen.
 * @param {import('playwright-core').Page} booth
 * @param {string} boothHref
 */
export async function enrolBooth(booth, boothHref) {
  await booth.goto(boothHref);
  await booth.getByRole('button', { name: /utan kod \(utvecklingsläge\)/ }).click();
  await booth.getByRole('link', { name: 'Svenska' }).click();
  await booth.waitForURL(/\?lang=sv$/);
  await booth.locator('#welcome:not([hidden]), #waiting:not([hidden]), #idle:not([hidden])').first().waitFor({ timeout: 10_000 });
}

/**
 * The guide books demo citizen 1 in booth 1 ([`bookBooth1`]); booth 1's kiosk is enrolled; the
 * guide checks the citizen's ID document (assisted identification); the kiosk shows the waiting
 * room.
 * @param {import('playwright-core').Page} guide
 * @param {import('playwright-core').Page} booth
 * @returns {Promise<import('playwright-core').Locator>} the booking's row on the guide console
 */
export async function bookMeeting(guide, booth) {
  const { row, boothHref } = await bookBooth1(guide);
  await enrolBooth(booth, boothHref);
  await booth.locator('#welcome-meeting', { hasText: 'Försäkringskassan' }).waitFor({ timeout: 10_000 });
  await row.getByRole('button', { name: /Kontrollera ID-handling/ }).click();
  const dialog = guide.getByRole('dialog', { name: 'Kontrollera ID-handling' });
  await dialog.getByLabel('Typ av ID-handling').selectOption({ label: ASSISTED_ID.type });
  await dialog.getByLabel('De fyra sista tecknen').fill(ASSISTED_ID.last4);
  await dialog.getByRole('button', { name: 'Spara identifieringen' }).click();
  await row.locator('td.identified', { hasText: ASSISTED_ID.label }).waitFor({ timeout: 10_000 });
  await booth.getByRole('heading', { name: /Väntar på ditt möte/ }).waitFor({ timeout: 10_000 });
  await booth.locator('#next-officer', { hasText: 'Anna Lindqvist' }).waitFor({ timeout: 10_000 });
  await booth.locator('#next-identified', { hasText: ASSISTED_ID_ON_BOOTH }).waitFor();
  return row;
}

/**
 * The guide starts the meeting; the booth joins by itself.
 * @param {import('playwright-core').Locator} row the booking's row on the guide console
 * @param {import('playwright-core').Page} booth
 * @returns {Promise<number>} `performance.now()` on the booth page when its peer connection existed
 */
export async function startMeeting(row, booth) {
  await row.getByRole('button', { name: /Starta mötet/ }).click();
  await row.locator('td.state', { hasText: 'Pågår' }).waitFor({ timeout: 10_000 });
  await booth.locator('#meeting:not([hidden])').waitFor({ timeout: 15_000 });
  await booth.waitForFunction(() => Boolean(/** @type {any} */ (window).narvaroMeeting?.pc), null, { timeout: 15_000 });
  return booth.evaluate(() => performance.now());
}

/**
 * The officer signs in, sees on the agenda how the citizen was identified, and presses "Anslut".
 * @param {import('playwright-core').Page} officer
 * @returns {Promise<number>} `performance.now()` on the officer's page just before the click
 */
export async function officerJoins(officer) {
  await officer.goto('/officer');
  await devEidSignIn(officer, 'Anna Lindqvist', /\/officer$/);
  const join = officer.getByRole('button', { name: /Anslut/ });
  await join.waitFor({ timeout: 15_000 });
  // The agenda says how the citizen was identified (the guide's check in [`bookMeeting`]).
  await officer.locator('#agenda td.identified', { hasText: ASSISTED_ID.label }).waitFor({ timeout: 10_000 });
  const clickedAt = await officer.evaluate(() => performance.now());
  await join.click();
  return clickedAt;
}

/**
 * @typedef {object} CandidateInfo
 * @property {string} address
 * @property {number} port
 * @property {string} protocol
 * @property {string} type
 */

/**
 * @typedef {object} MediaStats
 * @property {number} framesDecoded
 * @property {number} audioPacketsReceived
 * @property {RTCPeerConnectionState} connectionState
 * @property {CandidateInfo | null} remote
 * @property {CandidateInfo | null} local
 * @property {number | null} firstRemoteFrameAt
 * @property {number} tiles
 * @property {string} status
 */

/**
 * What `getStats()` of the page's meeting says about received media and the selected path.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<MediaStats | null>}
 */
export function mediaStats(page) {
  return page.evaluate(async () => {
    /** @type {any} */
    const meeting = /** @type {any} */ (window).narvaroMeeting;
    /** @type {RTCPeerConnection | null} */
    const pc = meeting?.pc ?? null;
    if (!pc) return null;
    const report = await pc.getStats();
    /** @type {Map<string, any>} */
    const byId = new Map();
    report.forEach((s) => byId.set(s.id, s));
    let framesDecoded = 0;
    let audioPacketsReceived = 0;
    /** @type {any} */
    let pair = null;
    for (const s of byId.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded += s.framesDecoded ?? 0;
      if (s.type === 'inbound-rtp' && s.kind === 'audio') audioPacketsReceived += s.packetsReceived ?? 0;
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
    }
    if (!pair) {
      for (const s of byId.values()) {
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
      }
    }
    const remote = pair ? byId.get(pair.remoteCandidateId) : undefined;
    const local = pair ? byId.get(pair.localCandidateId) : undefined;
    return {
      framesDecoded,
      audioPacketsReceived,
      connectionState: pc.connectionState,
      remote: remote ? { address: remote.address ?? remote.ip, port: remote.port, protocol: remote.protocol, type: remote.candidateType } : null,
      local: local ? { address: local.address ?? local.ip, port: local.port, protocol: local.protocol, type: local.candidateType } : null,
      firstRemoteFrameAt: meeting.timings?.firstRemoteFrameAt ?? null,
      iceRestarts: meeting.timings?.iceRestarts ?? [],
      tiles: document.querySelectorAll('#remote-tiles .tile').length,
      status: document.getElementById('meeting-status')?.textContent ?? '',
    };
  });
}

/**
 * Polls both pages' stats until each has decoded `minFrames` video frames and received
 * `minAudioPackets` audio packets over a selected pair, or until `deadlineMs` passed.
 * @param {{booth: import('playwright-core').Page, officer: import('playwright-core').Page}} pages
 * @param {{deadlineMs: number, minFrames: number, minAudioPackets: number}} limits
 * @returns {Promise<{last: Record<'booth' | 'officer', MediaStats | null>, officerFirstFramePolledAt: number | null, elapsedMs: number}>}
 */
export async function waitForMedia(pages, { deadlineMs, minFrames, minAudioPackets }) {
  const started = Date.now();
  /** @type {Record<'booth' | 'officer', MediaStats | null>} */
  let last = { booth: null, officer: null };
  /** @type {number | null} */
  let officerFirstFramePolledAt = null;
  for (;;) {
    last = { booth: await mediaStats(pages.booth), officer: await mediaStats(pages.officer) };
    if (officerFirstFramePolledAt === null && (last.officer?.framesDecoded ?? 0) > 0) {
      officerFirstFramePolledAt = await pages.officer.evaluate(() => performance.now());
    }
    const done = Object.values(last).every((s) => s
      && s.framesDecoded >= minFrames
      && s.audioPacketsReceived >= minAudioPackets
      && s.remote);
    if (done || Date.now() - started > deadlineMs) break;
    await new Promise((r) => setTimeout(r, officerFirstFramePolledAt === null ? 100 : 500));
  }
  return { last, officerFirstFramePolledAt, elapsedMs: Date.now() - started };
}

/** @param {import('playwright-core').Page} page */
export async function localSdp(page) {
  return page.evaluate(() => {
    /** @type {any} */
    const m = /** @type {any} */ (window).narvaroMeeting;
    return { local: m?.pc?.localDescription?.sdp ?? null, remote: m?.pc?.remoteDescription?.sdp ?? null };
  });
}

/**
 * Searches a (stopped) server's log for the demo personnummer in every form, any Luhn-valid
 * personal identity number, the join tokens and session cookies collected, and any other literal
 * given (such as a client's IP address).
 * @param {string} logPath
 * @param {Collected} collected
 * @param {{label: string, value: string}[]} [extra]
 */
export function scanLog(logPath, collected, extra = []) {
  const log = fs.readFileSync(logPath, 'utf8');
  /** @type {{label: string, value: string}[]} */
  const secrets = [
    ...demoPersonnummer().flatMap((p) => personnummerForms(p).map((f) => ({ label: `demo personnummer ${f}`, value: f }))),
    ...collected.tokens.map((value, i) => ({ label: `join token #${i + 1}`, value })),
    ...collected.cookies.map((value, i) => ({ label: `secret cookie #${i + 1}`, value })),
    ...extra,
  ];
  return { log, leaks: findSecrets(log, secrets), numbers: findPersonnummer(log) };
}
