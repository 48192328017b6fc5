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

import {
  ASSISTED_ID, bookMeeting, closePages, collector, launchChromium, localSdp, officerJoins, openPage, scanLog,
  startMeeting, waitForMedia,
} from './meeting-flow.mjs';
import { ARTIFACTS, startServer } from './server.mjs';

const MEDIA_DEADLINE_MS = 15_000;
const MIN_FRAMES_DECODED = 60;
const MIN_AUDIO_PACKETS = 100;

/** @type {import('./server.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** Join tokens, session cookies and page problems, for the log scan and the last check. */
const collected = collector();
let meetingRan = false;

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer({ name: 'server' });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('guide books and starts a meeting; booth and officer meet through the SFU', { timeout: 180_000 }, async () => {
  const guide = await openPage(browser, 'guide', server.baseUrl, collected);
  const booth = await openPage(browser, 'booth', server.baseUrl, collected);
  const officer = await openPage(browser, 'officer', server.baseUrl, collected);
  const pages = { guide: guide.page, booth: booth.page, officer: officer.page };
  try {
    // The guide books; the booth identifies the citizen and waits; the guide starts the
    // meeting and the booth joins by itself; the officer joins from the agenda.
    const row = await bookMeeting(guide.page, booth.page);
    await startMeeting(row, booth.page);
    const clickedAt = await officerJoins(officer.page);

    // Media both ways, through the SFU.
    const { last, officerFirstFramePolledAt: firstFramePolledAt, elapsedMs } = await waitForMedia(
      { booth: booth.page, officer: officer.page },
      { deadlineMs: MEDIA_DEADLINE_MS, minFrames: MIN_FRAMES_DECODED, minAudioPackets: MIN_AUDIO_PACKETS },
    );

    // Each side is told its own connection quality, in words.
    for (const page of [booth.page, officer.page]) {
      await page.locator('.self-view .connection-quality[role="status"]', { hasText: /^Anslutning: (bra|godtagbar|dålig)$/ })
        .waitFor({ timeout: 10_000 });
    }
    for (const [name, page] of Object.entries(pages)) {
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
    }
    for (const name of /** @type {const} */ (['booth', 'officer'])) {
      fs.writeFileSync(path.join(ARTIFACTS, `${name}-sdp.json`), JSON.stringify(await localSdp(pages[name]), null, 2));
    }
    console.log(`media stats after ${elapsedMs} ms:`, JSON.stringify(last, null, 2));

    for (const name of ['booth', 'officer']) {
      const s = last[/** @type {'booth' | 'officer'} */ (name)];
      assert.ok(s, `${name}: a peer connection exists`);
      assert.ok(s.framesDecoded >= MIN_FRAMES_DECODED, `${name}: framesDecoded ${s.framesDecoded} >= ${MIN_FRAMES_DECODED} (status: ${s.status})`);
      assert.ok(s.audioPacketsReceived >= MIN_AUDIO_PACKETS, `${name}: audio packetsReceived ${s.audioPacketsReceived} >= ${MIN_AUDIO_PACKETS}`);
      assert.ok(s.remote, `${name}: a selected candidate pair`);
      assert.equal(s.remote.port, server.udpPort, `${name}: remote candidate is the SFU's UDP port (${JSON.stringify(s.remote)})`);
      assert.equal(s.tiles, 1, `${name}: one tile for the other participant`);
    }

    const officerFrame = last.officer?.firstRemoteFrameAt ?? null;
    const viaCallback = officerFrame !== null ? (officerFrame - clickedAt).toFixed(0) : 'n/a';
    const viaStats = firstFramePolledAt !== null ? (firstFramePolledAt - clickedAt).toFixed(0) : 'n/a';
    console.log(`figure: "Anslut" click -> officer's first remote video frame: ${viaCallback} ms (requestVideoFrameCallback), ${viaStats} ms (getStats poll)`);

    // The officer's tile names the citizen by role label; the booth's names the officer. Each
    // says how that participant was identified: the citizen by the guide's check of an ID
    // document, the officer by their sign-in.
    await booth.page.locator('#remote-tiles figcaption', { hasText: 'Anna Lindqvist' }).waitFor({ timeout: 5000 });
    await officer.page.locator('#remote-tiles figcaption .tile-identified', { hasText: `Identifierad: ${ASSISTED_ID.label}` })
      .waitFor({ timeout: 5000 });
    await booth.page.locator('#remote-tiles figcaption .tile-identified', { hasText: /^Identifierad: / }).waitFor({ timeout: 5000 });

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
    assert.deepEqual(collected.pageProblems, [], 'no script errors or policy violations on any page');
    meetingRan = true;
  } finally {
    for (const [name, page] of Object.entries(pages)) {
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}-end.png`) }).catch(() => {});
    }
    await closePages([guide, booth, officer], collected);
  }
});

test('the server log holds no personnummer, join token, session cookie or kiosk credential', async (t) => {
  // Stop first, so everything the server wrote is in the file.
  await server.stop();
  const { log, leaks, numbers } = scanLog(server.logPath, collected);
  assert.ok(log.trim().split('\n').length >= 5, `the server wrote a log (${log.length} bytes) to search`);
  if (!meetingRan) t.diagnostic('the meeting test failed; searching what it left');
  assert.ok(collected.cookies.length >= 3, `collected the browsers' secret cookies (${collected.cookies.length})`);
  assert.ok(collected.tokens.length >= 2, `collected the join tokens (${collected.tokens.length})`);
  assert.deepEqual(leaks, [], `secrets in ${server.logPath}`);
  assert.deepEqual(numbers, [], `personal identity numbers in ${server.logPath}`);
});
