// @ts-check
/**
 * The booth kiosk, end to end, in Chromium against the real `narvaro` binary (kiosk-flow.mjs):
 * a citizen walks the whole path by touch alone (no mouse click, no key) on a 1280×800 and a
 * 1920×1080 touch screen, in Arabic (right to left), once identified by the guide at the counter
 * after "I have no BankID" (the help call reaching the guide through booking's API), once with
 * BankID's QR code and the simulator's phone; and once in Swedish. On every screen axe-core finds
 * no serious or critical WCAG 2.1 AA violation. The survey and the suggestion are in the centre's
 * follow-up figures. After "Done" the kiosk holds no trace of the citizen: no name, agency, time
 * or service in the document, empty storages, only the kiosk's own cookies, no media stream.
 *
 * Each walk has its own server, so each starts from an empty booth. A last test leaves a kiosk
 * untouched in Arabic and moves its clock on: it starts over in Swedish by itself.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { closePages, collector, launchChromium, scanLog } from './meeting-flow.mjs';
import { WORDS, axeViolations, openKiosk, walkKiosk } from './kiosk-flow.mjs';
import { ARTIFACTS, startServer } from './server.mjs';

/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/** What the previous citizen's meeting put on screen, none of which may outlive the reset. */
const TRACES = ['Anna Lindqvist', 'Försäkringskassan', 'Föräldrapenning', 'Tolvan', 'Tolvansson', 'Maria Svensson'];

const WALKS = /** @type {const} */ ([
  { lang: 'ar', viewport: { width: 1280, height: 800 }, identify: 'guide' },
  { lang: 'ar', viewport: { width: 1920, height: 1080 }, identify: 'bankid' },
  { lang: 'sv', viewport: { width: 1280, height: 800 }, identify: 'guide' },
]);

for (const walk of WALKS) {
  const label = `${walk.lang} ${walk.viewport.width}x${walk.viewport.height} ${walk.identify}`;
  test(`a citizen walks the booth by touch alone (${label}), accessible on every screen, and leaves no trace`, { timeout: 240_000 }, async () => {
    const name = `kiosk-${walk.lang}-${walk.viewport.width}-${walk.identify}`;
    const server = await startServer({ name: `${name}-server` });
    const collected = collector();
    /** @type {string[]} */
    const screens = [];
    /** @type {{screen: string, violations: Awaited<ReturnType<typeof axeViolations>>}[]} */
    const inaccessible = [];
    try {
      const result = await walkKiosk({
        name,
        browser,
        baseUrl: server.baseUrl,
        collected,
        viewport: walk.viewport,
        lang: walk.lang,
        identify: walk.identify,
        onScreen: async (page, screen) => {
          screens.push(screen);
          const violations = await axeViolations(page);
          if (violations.length) inaccessible.push({ screen, violations });
          await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${screen}.png`) });
        },
      });

      const expected = walk.identify === 'bankid'
        ? ['language', 'idle', 'identify', 'bankid', 'waiting', 'meeting', 'end', 'end-feedback']
        : ['language', 'idle', 'identify', 'bankid', 'guide-told', 'waiting', 'meeting', 'end', 'end-feedback'];
      assert.deepEqual(screens, expected, 'the walk saw every screen');
      assert.deepEqual(inaccessible, [], 'axe-core: no serious or critical WCAG 2.1 AA violation');

      // Touch alone: every press on the kiosk a touch, and not one key.
      assert.ok(result.inputs.length >= 10, `the citizen pressed the screen (${result.inputs.length} presses)`);
      assert.deepEqual([...new Set(result.inputs)], ['pointer:touch'], 'only touch input on the kiosk');

      // Media both ways, and the citizen's camera and microphone off when the meeting ended.
      assert.ok((result.media.officer?.framesDecoded ?? 0) >= 30, 'the officer saw the citizen');
      assert.ok(result.tracksStopped, 'the camera and microphone were stopped at the end');

      // The survey and the suggestion were stored: the centre's figures count them.
      const f = result.figures;
      assert.equal(f.meetings, 1, JSON.stringify(f));
      assert.equal(f.survey_answers, 1, JSON.stringify(f));
      assert.equal(f.mean_satisfaction, 4, JSON.stringify(f));
      assert.equal(f.share_got_help, 1, JSON.stringify(f));
      assert.equal(f.suggestions, 1, JSON.stringify(f));

      // After the reset: the language screen in Swedish, and nothing of the citizen.
      const a = result.after;
      assert.deepEqual({ lang: a.lang, dir: a.dir }, { lang: 'sv', dir: 'ltr' }, 'back in Swedish');
      for (const trace of [...TRACES, result.time]) {
        assert.ok(!a.text.includes(trace), `"${trace}" is still on the kiosk`);
      }
      assert.equal(a.sessionStorage, 0, 'sessionStorage is empty');
      assert.equal(a.localStorage, 0, 'localStorage is empty');
      assert.equal(a.mediaWithStream, 0, 'no media element holds a stream');
      assert.equal(a.meeting, false, 'no meeting object is left');
      // The kiosk's own credential and its CSRF token; nothing of the citizen's (no session, no
      // BankID order binding).
      assert.deepEqual(a.cookies, ['narvaro_csrf', 'narvaro_device'], 'only the kiosk\'s cookies');
      assert.deepEqual(collected.pageProblems, [], 'no script errors or CSP violations on any page');
    } finally {
      await server.stop();
    }
    const { leaks, numbers } = scanLog(server.logPath, collected);
    assert.deepEqual(leaks, [], 'no token or cookie secret in the server log');
    assert.deepEqual(numbers, [], 'no personnummer in the server log');
  });
}

test('a kiosk left alone starts over by itself, in Swedish', { timeout: 120_000 }, async () => {
  const server = await startServer({ name: 'kiosk-idle-server' });
  const collected = collector();
  const kiosk = await openKiosk(browser, 'kiosk-idle', server.baseUrl, collected, { width: 1280, height: 800 });
  try {
    const page = kiosk.page;
    // The page's clock, not the test's: two minutes pass in an instant.
    await kiosk.context.clock.install();
    await page.goto('/');
    const href = await page.getByRole('link', { name: /Mötesrum 1/ }).getAttribute('href');
    await page.goto(`${href}`);
    await page.getByRole('button', { name: /utan kod \(utvecklingsläge\)/ }).tap();
    await page.getByRole('link', { name: WORDS.ar.language }).tap();
    await page.locator('#idle-status', { hasText: WORDS.ar.idleNone }).waitFor({ timeout: 10_000 });
    await kiosk.context.clock.fastForward('01:59');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'ar', 'not yet');
    await kiosk.context.clock.fastForward('00:02');
    await page.waitForURL((url) => url.search === '', { timeout: 10_000 });
    await page.locator('#language:not([hidden])').waitFor({ timeout: 10_000 });
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'sv');
    assert.deepEqual(collected.pageProblems, []);
  } finally {
    await closePages([kiosk], collected);
    await server.stop();
  }
});
