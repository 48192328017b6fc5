// @ts-check
/**
 * BankID at the booth, in Chromium against the real `narvaro` binary and its BankID simulator
 * (the development profile's, reached over mutual TLS):
 *
 * 1. the guide books demo citizen 1 in booth 1; booth 1's kiosk is enrolled, offers BankID and
 *    shows a QR code;
 * 2. the QR code is read off the screen (a screenshot decoded with jsQR, as a phone camera would):
 *    it has BankID's form, changes every second, and the simulator's phone accepts it, which it
 *    does only for a code made with the order's secret in the current second;
 * 3. every hintCode of the RP API, put on the order by the simulator, shows BankID's recommended
 *    message (checked against the texts below, written from BankID's list, not from the server);
 * 4. the phone scans the live code and the citizen approves: the booth moves into the waiting room
 *    for the booked meeting, the booking identified with BankID (the guide's console says so) and
 *    the kiosk signed in as nobody.
 *
 * The server log is then searched for the personnummer, the session cookies, the QR codes and
 * the orders' QR secrets (asked of the simulator, as BankID's side).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  bookBooth1, closePages, collector, demoPersonnummer, enrolBooth, launchChromium, openPage, scanLog,
} from './meeting-flow.mjs';
import { readQr } from './kiosk-flow.mjs';
import { ARTIFACTS, startServer } from './server.mjs';

/** BankID's recommended messages (RFA), Swedish, for a relying party showing a QR code. */
const EXPECTED = {
  pending: {
    outstandingTransaction: 'Starta BankID-appen.',
    noClient: 'Starta BankID-appen.',
    started: 'Söker efter BankID. Säkerställ att du har ett giltigt BankID på den här enheten.',
    userMrtd: 'Fotografera och läs av din ID-handling med BankID-appen.',
    userCallConfirm: 'En identifiering eller underskrift pågår.',
    userSign: 'Skriv in din säkerhetskod i BankID-appen och välj Identifiera eller Skriv under.',
  },
  failed: {
    expiredTransaction: 'BankID-appen svarar inte. Kontrollera att den är startad och att du har internetanslutning. Försök sedan igen.',
    certificateErr: 'Ditt BankID är för gammalt eller spärrat. Använd ett annat BankID eller skaffa ett nytt hos din bank.',
    userCancel: 'Åtgärden avbröts.',
    cancelled: 'Åtgärden avbröts. Försök igen.',
    startFailed: 'Misslyckades att läsa av QR-koden. Starta BankID-appen och läs av QR-koden.',
    userDeclinedCall: 'Något gick fel. Försök igen.',
    notSupportedByUserApp: 'Något gick fel. Försök igen.',
    transactionRiskBlocked: 'Något gick fel. Försök igen.',
  },
};

/** @type {import('./server.mjs').Server} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
const collected = collector();

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer({ name: 'bankid-server' });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * What the citizen's phone does, through the simulator's phone API.
 * @param {string} what
 * @param {object} body
 */
async function phone(what, body) {
  const res = await fetch(`${server.baseUrl}/dev/bankid-phone/${what}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * @param {import('playwright-core').Page} booth
 * @param {string} text
 */
async function shows(booth, text) {
  await booth.locator('#bankid-message', { hasText: text }).waitFor({ timeout: 10_000 });
  assert.equal(await booth.locator('#bankid-message').textContent(), text);
}

test('the booth identifies a citizen with BankID through a live QR code', { timeout: 180_000 }, async () => {
  const guide = await openPage(browser, 'bankid-guide', server.baseUrl, collected);
  const booth = await openPage(browser, 'bankid-booth', server.baseUrl, collected);
  /** @type {string[]} */
  const qrContents = [];
  /** @type {string[]} */
  const qrSecrets = [];
  try {
    const { row, boothHref } = await bookBooth1(guide.page);
    const page = booth.page;
    await enrolBooth(page, boothHref);
    await page.getByRole('button', { name: 'Identifiera dig med BankID' }).click();
    await page.locator('#bankid-meeting', { hasText: 'Försäkringskassan' }).waitFor();
    await shows(page, EXPECTED.pending.outstandingTransaction);

    // The code on the screen changes every second and only the live one scans.
    const first = await readQr(page);
    await page.waitForTimeout(1_500);
    const second = await readQr(page);
    qrContents.push(first.content, second.content);
    assert.equal(second.token, first.token, 'the same order');
    assert.ok(second.seconds > first.seconds, `the code moves on: ${first.seconds} then ${second.seconds}`);
    assert.notEqual(second.content, first.content);
    // Each code is HMAC-SHA256(qrStartSecret, seconds), computed here from the secret BankID's
    // side holds; the secret itself is on no page.
    const orderSecret = await phone('order-secret', { qr_start_token: first.token });
    assert.equal(orderSecret.status, 200, JSON.stringify(orderSecret.body));
    const secret = orderSecret.body.qr_start_secret;
    qrSecrets.push(secret);
    for (const code of [first, second]) {
      const expected = crypto.createHmac('sha256', secret).update(String(code.seconds)).digest('hex');
      assert.equal(code.content, `bankid.${first.token}.${code.seconds}.${expected}`);
    }
    assert.ok(!(await page.content()).includes(secret), 'the QR secret is not on the booth page');
    await page.screenshot({ path: path.join(ARTIFACTS, 'bankid-booth-qr.png') });
    await page.waitForTimeout(4_000);
    const stale = await phone('scan', { qr: first.content });
    assert.equal(stale.body.error?.code, 'stale_qr', 'a code from seconds ago is refused');

    // Every pending hintCode's message, on this order.
    for (const [hint, text] of Object.entries(EXPECTED.pending)) {
      const set = await phone('hint', { qr_start_token: first.token, status: 'pending', hint_code: hint });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      await shows(page, text);
    }
    // Every failed one: the first on this order, each next one on a new order (a failed order is
    // over; "Försök igen" starts the next).
    let token = first.token;
    for (const [hint, text] of Object.entries(EXPECTED.failed)) {
      if (hint !== Object.keys(EXPECTED.failed)[0]) {
        await page.getByRole('button', { name: 'Försök igen' }).click();
        const order = await readQr(page);
        qrContents.push(order.content);
        token = order.token;
      }
      const set = await phone('hint', { qr_start_token: token, status: 'failed', hint_code: hint });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      await shows(page, text);
      await page.getByRole('button', { name: 'Försök igen' }).waitFor();
      assert.equal(await page.locator('#bankid-qr').isHidden(), true, `no QR code after ${hint}`);
    }

    // The citizen scans the live code and approves with their security code.
    await page.getByRole('button', { name: 'Försök igen' }).click();
    const live = await readQr(page);
    qrContents.push(live.content);
    qrSecrets.push((await phone('order-secret', { qr_start_token: live.token })).body.qr_start_secret);
    const scan = await phone('scan', { qr: live.content });
    assert.equal(scan.status, 200, `the live code scans: ${JSON.stringify(scan.body)}`);
    await shows(page, EXPECTED.pending.userSign);
    await page.locator('#bankid-qr').waitFor({ state: 'hidden' });
    const approve = await phone('identify', {
      qr_start_token: live.token, personal_number: demoPersonnummer()[0], given_name: 'Tolvan', surname: 'Tolvansson',
    });
    assert.equal(approve.status, 200, JSON.stringify(approve.body));
    await page.getByRole('heading', { name: /Väntar på ditt möte/ }).waitFor({ timeout: 15_000 });
    await page.locator('#next-officer', { hasText: 'Anna Lindqvist' }).waitFor({ timeout: 10_000 });
    await page.locator('#next-identified', { hasText: 'Du är identifierad med BankID.' }).waitFor();
    // The identification is the booking's: the guide sees it, and the kiosk holds no session.
    await row.locator('td.identified', { hasText: 'BankID' }).waitFor({ timeout: 10_000 });
    const cookies = (await booth.context.cookies()).map((c) => c.name);
    assert.ok(!cookies.includes('narvaro_session'), `the kiosk holds no session: ${cookies}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'bankid-booth-identified.png') });
  } finally {
    await closePages([guide, booth], collected);
  }
  assert.deepEqual(collected.pageProblems, [], 'pages ran under their CSP without errors');

  await server.stop();
  const { leaks, numbers } = scanLog(server.logPath, collected, [
    ...qrContents.map((value, i) => ({ label: `QR code #${i + 1}`, value })),
    ...qrSecrets.map((value, i) => ({ label: `QR secret #${i + 1}`, value })),
  ]);
  assert.deepEqual(leaks, [], 'no personnummer, session cookie, QR code or QR secret in the server log');
  assert.deepEqual(numbers, [], 'no personnummer-shaped number in the server log');
});
