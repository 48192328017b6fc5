// @ts-check
/**
 * A meeting, end to end, in Chromium against the real `narvaro` binary:
 *
 * 1. the service guide signs in with the development e-ID, books a meeting for demo citizen 1 with
 *    demo officer Anna in booth 1 through the form;
 * 2. the booth kiosk identifies citizen 1 and waits; the guide presses "Starta mötet"; the booth
 *    joins by itself;
 * 3. the officer signs in and presses "Anslut" on the agenda;
 * 4. both pages must decode the other's video and receive their audio, over a candidate pair whose
 *    remote end is the SFU's UDP port (media went through the SFU, not browser to browser).
 *
 * Then the server is stopped and its log is searched for personal identity numbers and for every
 * join token and session cookie the browsers held: none may be there.
 *
 * Figures (time from "Anslut" to the officer's first remote frame) are printed, not asserted.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { findPersonnummer, findSecrets, personnummerForms } from './privacy.mjs';
import { ARTIFACTS, REPO_ROOT, startServer } from './server.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const MEDIA_DEADLINE_MS = 15_000;
const MIN_FRAMES_DECODED = 60;
const MIN_AUDIO_PACKETS = 100;

/** The demo's test personnummer, read from booking's demo data so the two cannot drift apart. */
function demoPersonnummer() {
  const source = fs.readFileSync(path.join(REPO_ROOT, 'booking', 'src', 'demo.rs'), 'utf8');
  const numbers = [...source.matchAll(/PERSONNUMMER: &str = "([0-9+-]+)"/g)].map((m) => m[1]);
  assert.ok(numbers.length > 0, 'booking/src/demo.rs names demo personnummer');
  return numbers;
}

/** @type {import('./server.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** Join tokens the browsers were given. */
const tokens = /** @type {string[]} */ ([]);
/** Session cookie values the browsers held. */
const cookies = /** @type {string[]} */ ([]);
/** Script errors and CSP violations on any page: the pages must run under their own policy. */
const pageProblems = /** @type {string[]} */ ([]);
let meetingRan = false;

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer({ name: 'server' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
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
    ],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * A fresh browser context (own cookies) with its page's console and errors logged to artifacts,
 * and join tokens from booking's answers collected.
 * @param {string} name
 */
async function openPage(name) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'sv-SE',
    permissions: ['camera', 'microphone'],
    baseURL: server.baseUrl,
  });
  const page = await context.newPage();
  const consoleLog = fs.createWriteStream(path.join(ARTIFACTS, `${name}-console.log`));
  page.on('console', (m) => {
    consoleLog.write(`[${m.type()}] ${m.text()}\n`);
    if (/Content Security Policy|Permissions-Policy/.test(m.text())) pageProblems.push(`${name}: ${m.text()}`);
  });
  page.on('pageerror', (e) => {
    consoleLog.write(`[pageerror] ${e.stack ?? e.message}\n`);
    pageProblems.push(`${name}: ${e.message}`);
  });
  page.on('response', async (response) => {
    if (/\/api\/v1\/bookings\/[^/]+\/join$/.test(new URL(response.url()).pathname) && response.ok()) {
      try {
        const body = await response.json();
        if (typeof body.token === 'string') tokens.push(body.token);
      } catch {
        // the page navigated away before the body was read
      }
    }
  });
  return { context, page, consoleLog };
}

/**
 * Signs in on the development e-ID page the browser was sent to, as the named person.
 * @param {import('playwright-core').Page} page
 * @param {string} name display name of a demo person
 * @param {RegExp} backTo where the e-ID page should return to
 */
async function devEidSignIn(page, name, backTo) {
  await page.waitForURL(/\/dev-eid\?/);
  await page.getByText('Endast för utveckling').waitFor();
  await page.getByRole('button', { name: new RegExp(name) }).click();
  await page.waitForURL(backTo);
}

/**
 * What `getStats()` of the page's meeting says about received media and the selected path.
 * @param {import('playwright-core').Page} page
 */
function mediaStats(page) {
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
      tiles: document.querySelectorAll('#remote-tiles .tile').length,
      status: document.getElementById('meeting-status')?.textContent ?? '',
    };
  });
}

/** @param {import('playwright-core').Page} page */
async function localSdp(page) {
  return page.evaluate(() => {
    /** @type {any} */
    const m = /** @type {any} */ (window).narvaroMeeting;
    return { local: m?.pc?.localDescription?.sdp ?? null, remote: m?.pc?.remoteDescription?.sdp ?? null };
  });
}

test('guide books and starts a meeting; booth and officer meet through the SFU', { timeout: 180_000 }, async () => {
  const guide = await openPage('guide');
  const booth = await openPage('booth');
  const officer = await openPage('officer');
  const pages = { guide: guide.page, booth: booth.page, officer: officer.page };
  try {
    // Booth 1's kiosk address, from the start page's links.
    await guide.page.goto('/');
    const boothHref = await guide.page.getByRole('link', { name: /Mötesrum 1/ }).getAttribute('href');
    assert.ok(boothHref?.startsWith('/booth/'), `start page links booth 1: ${boothHref}`);

    // The guide signs in and books.
    await guide.page.goto('/guide');
    await devEidSignIn(guide.page, 'Maria Svensson', /\/guide$/);
    await guide.page.getByLabel('Ärende', { exact: true }).selectOption({ label: 'Föräldrapenning' });
    await guide.page.getByLabel('Handläggare', { exact: true }).selectOption({ label: 'Anna Lindqvist' });
    await guide.page.getByLabel('Mötesrum', { exact: true }).selectOption({ label: 'Mötesrum 1' });
    assert.notEqual(await guide.page.getByLabel('Tid', { exact: true }).inputValue(), '', 'time defaults to now');
    await guide.page.getByLabel('Medborgarens personnummer').fill(demoPersonnummer()[0]);
    await guide.page.getByRole('button', { name: 'Boka mötet' }).click();
    const row = guide.page.locator('#bookings-body tr', { hasText: 'Mötesrum 1' });
    await row.getByRole('button', { name: /Starta mötet/ }).waitFor({ timeout: 10_000 });

    // The booth identifies the citizen and waits for the meeting.
    await booth.page.goto(/** @type {string} */ (boothHref));
    await booth.page.getByRole('link', { name: 'Identifiera dig' }).click();
    await devEidSignIn(booth.page, 'Tolvan Tolvansson', /\/booth\//);
    await booth.page.getByRole('heading', { name: /Väntar på ditt möte/ }).waitFor();
    await booth.page.locator('#next-officer', { hasText: 'Anna Lindqvist' }).waitFor({ timeout: 10_000 });

    // The guide starts it; the booth joins by itself.
    await row.getByRole('button', { name: /Starta mötet/ }).click();
    await row.locator('td.state', { hasText: 'Pågår' }).waitFor({ timeout: 10_000 });
    await booth.page.locator('#meeting:not([hidden])').waitFor({ timeout: 15_000 });
    await booth.page.waitForFunction(() => Boolean(/** @type {any} */ (window).narvaroMeeting?.pc), null, { timeout: 15_000 });

    // The officer signs in and joins from the agenda.
    await officer.page.goto('/officer');
    await devEidSignIn(officer.page, 'Anna Lindqvist', /\/officer$/);
    const join = officer.page.getByRole('button', { name: /Anslut/ });
    await join.waitFor({ timeout: 15_000 });
    const clickedAt = await officer.page.evaluate(() => performance.now());
    await join.click();

    // Media both ways, through the SFU.
    const deadline = Date.now() + MEDIA_DEADLINE_MS;
    /** @type {Record<string, any>} */
    let last = {};
    /** @type {number | null} */
    let firstFramePolledAt = null;
    for (;;) {
      last = { booth: await mediaStats(booth.page), officer: await mediaStats(officer.page) };
      if (firstFramePolledAt === null && (last.officer?.framesDecoded ?? 0) > 0) {
        firstFramePolledAt = await officer.page.evaluate(() => performance.now());
      }
      const done = ['booth', 'officer'].every((k) => last[k]
        && last[k].framesDecoded >= MIN_FRAMES_DECODED
        && last[k].audioPacketsReceived >= MIN_AUDIO_PACKETS
        && last[k].remote);
      if (done || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, firstFramePolledAt === null ? 100 : 500));
    }

    for (const [name, page] of Object.entries(pages)) {
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
    }
    for (const name of /** @type {const} */ (['booth', 'officer'])) {
      fs.writeFileSync(path.join(ARTIFACTS, `${name}-sdp.json`), JSON.stringify(await localSdp(pages[name]), null, 2));
    }
    console.log(`media stats after ${MEDIA_DEADLINE_MS - Math.max(0, deadline - Date.now())} ms:`, JSON.stringify(last, null, 2));

    for (const name of ['booth', 'officer']) {
      const s = last[name];
      assert.ok(s, `${name}: a peer connection exists`);
      assert.ok(s.framesDecoded >= MIN_FRAMES_DECODED, `${name}: framesDecoded ${s.framesDecoded} >= ${MIN_FRAMES_DECODED} (status: ${s.status})`);
      assert.ok(s.audioPacketsReceived >= MIN_AUDIO_PACKETS, `${name}: audio packetsReceived ${s.audioPacketsReceived} >= ${MIN_AUDIO_PACKETS}`);
      assert.ok(s.remote, `${name}: a selected candidate pair`);
      assert.equal(s.remote.port, server.udpPort, `${name}: remote candidate is the SFU's UDP port (${JSON.stringify(s.remote)})`);
      assert.equal(s.tiles, 1, `${name}: one tile for the other participant`);
    }

    const officerFrame = last.officer.firstRemoteFrameAt;
    const viaCallback = officerFrame !== null ? (officerFrame - clickedAt).toFixed(0) : 'n/a';
    const viaStats = firstFramePolledAt !== null ? (firstFramePolledAt - clickedAt).toFixed(0) : 'n/a';
    console.log(`figure: "Anslut" click -> officer's first remote video frame: ${viaCallback} ms (requestVideoFrameCallback), ${viaStats} ms (getStats poll)`);

    // The officer's tile names the citizen by role label; the booth's names the officer.
    await booth.page.locator('#remote-tiles figcaption', { hasText: 'Anna Lindqvist' }).waitFor({ timeout: 5000 });

    // The citizen mutes the microphone: the officer's tile says so.
    await booth.page.getByRole('button', { name: 'Stäng av mikrofonen' }).click();
    await booth.page.getByRole('button', { name: 'Slå på mikrofonen' }).waitFor();
    assert.equal(await booth.page.evaluate(() => /** @type {any} */ (window).narvaroMeeting.localStream.getAudioTracks()[0].enabled), false);
    await officer.page.locator('#remote-tiles figcaption', { hasText: 'mikrofon av' }).waitFor({ timeout: 5000 });
    await booth.page.getByRole('button', { name: 'Slå på mikrofonen' }).click();
    await officer.page.locator('#remote-tiles figcaption', { hasText: 'mikrofon av' }).waitFor({ state: 'detached', timeout: 5000 });

    // The officer leaves: back to the agenda, and the booth's tile of the officer goes away.
    await officer.page.getByRole('button', { name: 'Lämna mötet' }).click();
    await officer.page.locator('#agenda-view:not([hidden])').waitFor({ timeout: 5000 });
    await booth.page.waitForFunction(() => document.querySelectorAll('#remote-tiles .tile').length === 0, null, { timeout: 10_000 });
    assert.deepEqual(pageProblems, [], 'no script errors or policy violations on any page');
    meetingRan = true;
  } finally {
    for (const { context } of [guide, booth, officer]) {
      for (const c of await context.cookies()) if (c.name === 'narvaro_session') cookies.push(c.value);
    }
    for (const [name, page] of Object.entries(pages)) {
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}-end.png`) }).catch(() => {});
    }
    for (const { context, consoleLog } of [guide, booth, officer]) {
      await context.close();
      consoleLog.end();
    }
  }
});

test('the server log holds no personnummer, join token or session cookie', async (t) => {
  // Stop first, so everything the server wrote is in the file.
  await server.stop();
  const log = fs.readFileSync(server.logPath, 'utf8');
  assert.ok(log.trim().split('\n').length >= 5, `the server wrote a log (${log.length} bytes) to search`);
  if (!meetingRan) t.diagnostic('the meeting test failed; searching what it left');
  assert.ok(cookies.length >= 3, `collected the browsers' session cookies (${cookies.length})`);
  assert.ok(tokens.length >= 2, `collected the join tokens (${tokens.length})`);

  /** @type {{label: string, value: string}[]} */
  const secrets = [
    ...demoPersonnummer().flatMap((p) => personnummerForms(p).map((f) => ({ label: `demo personnummer ${f}`, value: f }))),
    ...tokens.map((value, i) => ({ label: `join token #${i + 1}`, value })),
    ...cookies.map((value, i) => ({ label: `session cookie #${i + 1}`, value })),
  ];
  const leaks = findSecrets(log, secrets);
  assert.deepEqual(leaks, [], `secrets in ${server.logPath}`);
  const numbers = findPersonnummer(log);
  assert.deepEqual(numbers, [], `personal identity numbers in ${server.logPath}`);
});
