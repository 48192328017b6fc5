// @ts-check
/**
 * The follow-up dashboard, end to end, in Chromium against the real `narvaro` binary: a day of
 * meetings is seeded through booking's API (follow-up-flow.mjs); Försäkringskassan's analyst signs
 * in through the development e-ID, opens `/follow-up`, chooses the period and the centre with the
 * keyboard alone (Tab, typing, arrow keys, Enter; not one pointer event), sees the figures the
 * seed makes, and downloads the CSV by keyboard. axe-core finds no serious or critical WCAG 2.1 AA
 * violation on the dashboard in Swedish and in Arabic (which the analyst switches to with the
 * keyboard too; the page is then `lang="ar" dir="rtl"`). Skatteverket's analyst is refused
 * Försäkringskassan's figures with the API's stable code, and sees only Skatteverket's own. The
 * server's log holds no personnummer or secret afterwards.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { closePages, collector, devEidSignIn, launchChromium, openPage, scanLog } from './meeting-flow.mjs';
import { axeViolations } from './kiosk-flow.mjs';
import { DASHBOARD_WORDS, EXPECTED, arrowToOption, seedFollowUp, signedIn, swedishToday, tabTo, tableValues, typeDate } from './follow-up-flow.mjs';
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

test('an analyst filters the follow-up by keyboard alone, sees the seeded figures, downloads the CSV; the page is accessible in Swedish and Arabic; another agency is refused', { timeout: 180_000 }, async () => {
  const server = await startServer({ name: 'follow-up-server' });
  const collected = collector();
  /** @type {import('./meeting-flow.mjs').OpenPage[]} */
  const pages = [];
  try {
    await seedFollowUp(server.baseUrl, collected.cookies);
    const today = swedishToday();

    const opened = await openPage(browser, 'follow-up-analyst', server.baseUrl, collected, { acceptDownloads: true });
    pages.push(opened);
    const { page, context } = opened;
    /** @type {string[]} */
    const pointers = [];
    await context.exposeFunction('narvaroTestPointer', (/** @type {string} */ what) => { pointers.push(what); });
    await context.addInitScript(() => {
      const report = /** @type {(what: string) => void} */ (/** @type {any} */ (window).narvaroTestPointer);
      for (const type of ['pointerdown', 'mousedown', 'click']) {
        document.addEventListener(type, (e) => { if (/** @type {PointerEvent} */ (e).pointerType !== '' && e.isTrusted) report(type); }, true);
      }
    });

    // Not signed in: the dashboard sends the analyst to the development e-ID, which lists analysts.
    await page.goto('/follow-up');
    await page.waitForURL(/\/dev-eid\?kind=analyst/);
    await devEidSignIn(page, 'Lena Berg', /\/follow-up$/);
    const sv = DASHBOARD_WORDS.sv;
    await page.getByRole('heading', { level: 1, name: sv.heading }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'sv');
    assert.equal(await page.locator('html').getAttribute('dir'), 'ltr');
    const pointersBefore = pointers.length;

    // Keyboard alone from here: the period (today) and the centre.
    await tabTo(page, 'f-from');
    await typeDate(page, 'f-from', today);
    await page.keyboard.press('Tab');
    await typeDate(page, 'f-to', today);
    await page.keyboard.press('Tab');
    await arrowToOption(page, 'f-centre', 'Statligt servicekontor Ljusdal');
    await tabTo(page, 'f-show');
    await Promise.all([page.waitForURL(/centre_id=/), page.keyboard.press('Enter')]);
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('from'), today);
    assert.equal(url.searchParams.get('to'), today);
    await page.locator('#figures').waitFor();

    // The figures the seed makes, as booking computed them (`<data value>`), and as words.
    assert.deepEqual(await tableValues(page, 't-meetings'), EXPECTED.meetings, 'bookings, held, no-shows, cancelled');
    assert.deepEqual(await tableValues(page, 't-outcomes'), EXPECTED.outcomes, 'resolved, follow-up, referred, share resolved');
    assert.deepEqual(await tableValues(page, 't-answers'), EXPECTED.answers, 'answers 1–5');
    assert.deepEqual(await tableValues(page, 't-satisfaction'), EXPECTED.satisfaction, 'answers, mean, share helped');
    assert.deepEqual(await tableValues(page, 't-feedback'), EXPECTED.feedback, 'complaints, suggestions, praise');
    assert.equal((await tableValues(page, 't-waits'))[0], '1', 'one measured wait');
    await page.getByText(sv.noQuality).waitFor();
    const charts = page.locator('svg.chart[role="img"]');
    assert.equal(await charts.count(), 3, 'three charts drawn on the server');
    for (const chart of await charts.all()) {
      assert.ok((await chart.locator('title').textContent())?.trim(), 'each chart has a title');
      assert.ok((await chart.locator('desc').textContent())?.includes(':'), 'and a text alternative with its numbers');
    }
    assert.equal(await page.locator('script').count(), 0, 'the dashboard runs no script');

    // The CSV, by keyboard: the link, Enter.
    await tabTo(page, 'csv-link');
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    const csvPath = path.join(ARTIFACTS, 'follow-up.csv');
    await download.saveAs(csvPath);
    const csv = fs.readFileSync(csvPath, 'utf8');
    const lines = csv.split('\r\n').filter(Boolean);
    const head = lines[0].split(',');
    assert.deepEqual(head.slice(0, 10), ['period_from', 'period_until', 'centre_id', 'centre', 'agency_id', 'agency', 'service_id', 'service', 'bookings', 'meetings']);
    /** @type {Record<string, Record<string, string>>} */
    const byService = {};
    for (const line of lines.slice(1)) {
      const cells = line.split(',');
      byService[cells[head.indexOf('service')]] = Object.fromEntries(head.map((h, i) => [h, cells[i]]));
    }
    assert.deepEqual(Object.keys(byService).sort(), ['Föräldrapenning', 'Sjukpenning'], 'one row per service with bookings, Försäkringskassan only');
    assert.equal(byService['Föräldrapenning'].meetings, '1');
    assert.equal(byService['Föräldrapenning'].satisfaction_4, '1');
    assert.equal(byService['Föräldrapenning'].complaints, '1');
    assert.equal(byService['Sjukpenning'].no_shows, '1');
    assert.equal(byService['Sjukpenning'].period_from, today);
    assert.equal(pointers.length, pointersBefore, `no pointer during the keyboard walk: ${pointers.slice(pointersBefore)}`);

    // Accessible in Swedish, then in Arabic, chosen with the keyboard.
    assert.deepEqual(await axeViolations(page), [], 'axe-core, Swedish');
    await page.screenshot({ path: path.join(ARTIFACTS, 'follow-up-sv.png'), fullPage: true });
    await tabTo(page, 'f-lang');
    await arrowToOption(page, 'f-lang', 'العربية');
    await tabTo(page, 'f-show');
    await Promise.all([page.waitForURL(/lang=ar/), page.keyboard.press('Enter')]);
    const ar = DASHBOARD_WORDS.ar;
    await page.getByRole('heading', { level: 1, name: ar.heading }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'ar');
    assert.equal(await page.locator('html').getAttribute('dir'), 'rtl');
    assert.deepEqual(await tableValues(page, 't-meetings'), EXPECTED.meetings, 'the same figures in Arabic');
    await page.getByText(ar.noQuality).waitFor();
    assert.deepEqual(await axeViolations(page), [], 'axe-core, Arabic');
    await page.screenshot({ path: path.join(ARTIFACTS, 'follow-up-ar.png'), fullPage: true });
    assert.equal(pointers.length, pointersBefore, 'still not one pointer event');

    // Scope: Skatteverket's analyst asks for Försäkringskassan's figures and is refused.
    const omar = await signedIn(server.baseUrl, 'Omar Said', collected.cookies);
    const fk = (await (await signedIn(server.baseUrl, 'Maria Svensson'))('GET', '/api/v1/directory')).body.agencies
      .find((/** @type {{name: string}} */ a) => a.name === 'Försäkringskassan').id;
    for (const route of ['/api/v1/follow-up', '/api/v1/follow-up.csv']) {
      const refused = await omar('GET', `${route}?from=${today}&to=${today}&agency_id=${fk}`);
      assert.equal(refused.status, 403, route);
      assert.equal(refused.body.error.code, 'outside_your_scope', route);
    }
    const own = await omar('GET', `/api/v1/follow-up?from=${today}&to=${today}`);
    assert.equal(own.status, 200);
    assert.equal(own.body.bookings, 1, "Skatteverket's own day: one booking");
    assert.equal(own.body.mean_satisfaction, 2);
    assert.deepEqual(collected.pageProblems, [], 'no CSP violation or page error');
  } finally {
    await closePages(pages, collected);
    await server.stop();
  }
  // The seed booked citizens by personnummer and every step had a session: none of it in the log.
  const { leaks, numbers } = scanLog(server.logPath, collected);
  assert.deepEqual(leaks, [], 'no token or cookie secret in the server log');
  assert.deepEqual(numbers, [], 'no personnummer in the server log');
});
