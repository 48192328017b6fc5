// @ts-check
/**
 * A citizen's walk through the booth kiosk, by touch alone, against the real `narvaro` binary:
 * the language screen, nothing booked yet, the booking's identification screen, BankID's QR code
 * (cancelled, or scanned by the simulator's phone), or "I have no BankID" and the guide's check
 * of an ID document at the counter, the waiting room, the meeting with the officer (a second
 * browser context), the end screen's survey and feedback, and the reset. Shared by the kiosk test
 * (which runs axe-core on each screen and checks what is left after the reset) and the screenshot
 * command (screens.mjs), which photographs each screen.
 *
 * The words the walk taps and waits for are written here, in Swedish and Arabic, not read from
 * the product's Fluent files: the test checks the translations, it does not repeat them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';

import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';

import { ASSISTED_ID, bookBooth1, closePages, demoPersonnummer, devEidSignIn, openPage, waitForMedia } from './meeting-flow.mjs';

const require = createRequire(import.meta.url);
/** axe-core, injected through the DevTools protocol (`page.evaluate`), which the page's CSP does not govern. */
export const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
/** WCAG 2.1 A and AA. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** jsqr is CommonJS with a `default` property: the same function at run time and for tsc. */
const jsQR = jsQRModule.default;

/**
 * What the citizen sees and taps, per language.
 * @typedef {object} Words
 * @property {string} language the language's own name on the first screen
 * @property {string} idleNone
 * @property {string} identifyMeeting start of "your meeting with … at …"
 * @property {string} bankId the BankID button
 * @property {string} rfa1 BankID's "start the app"
 * @property {string} cancel
 * @property {string} noBankId
 * @property {string} goToCounter
 * @property {string} waiting the waiting room's heading
 * @property {string} identifiedByGuide
 * @property {string} identifiedByBankId
 * @property {RegExp} quality the connection indicator
 * @property {string} micOff
 * @property {string} micOn
 * @property {string} helpCalled
 * @property {string} ended
 * @property {string} face4
 * @property {string} yes
 * @property {string} sendAnswers
 * @property {string} thanks
 * @property {string} feedbackOpen
 * @property {string} suggestion
 * @property {string} accessibility
 * @property {string} feedbackSend
 * @property {string} feedbackThanks
 * @property {string} done
 */

/** @type {Record<'sv' | 'ar', Words>} */
export const WORDS = {
  sv: {
    language: 'Svenska',
    idleNone: 'Inget möte är bokat i det här rummet just nu.',
    identifyMeeting: 'Ditt möte med',
    bankId: 'Identifiera dig med BankID',
    rfa1: 'Starta BankID-appen.',
    cancel: 'Avbryt',
    noBankId: 'Jag har inget BankID',
    goToCounter: 'Gå till disken.',
    waiting: 'Väntar på ditt möte',
    identifiedByGuide: 'Servicevägledaren har kontrollerat din ID-handling.',
    identifiedByBankId: 'Du är identifierad med BankID.',
    quality: /^Anslutning: (bra|godtagbar|dålig)$/,
    micOff: 'Stäng av mikrofonen',
    micOn: 'Slå på mikrofonen',
    helpCalled: 'Servicevägledaren kommer snart.',
    ended: 'Mötet är avslutat',
    face4: 'Nöjd',
    yes: 'Ja',
    sendAnswers: 'Skicka svaren',
    thanks: 'Tack för dina svar!',
    feedbackOpen: 'Lämna klagomål eller förslag',
    suggestion: 'Förslag',
    accessibility: 'Tillgänglighet',
    feedbackSend: 'Skicka',
    feedbackThanks: 'Tack! Vi har tagit emot det.',
    done: 'Klar',
  },
  ar: {
    language: 'العربية',
    idleNone: 'لا يوجد موعد محجوز في هذه الغرفة الآن.',
    identifyMeeting: 'موعدك مع',
    bankId: 'أثبت هويتك باستخدام BankID',
    rfa1: 'شغّل تطبيق BankID.',
    cancel: 'إلغاء',
    noBankId: 'ليس لدي BankID',
    goToCounter: 'اذهب إلى مكتب الاستقبال.',
    waiting: 'في انتظار موعدك',
    identifiedByGuide: 'تحقق موظف الخدمة من وثيقة هويتك.',
    identifiedByBankId: 'تم التحقق من هويتك باستخدام BankID.',
    quality: /^الاتصال: (جيد|مقبول|ضعيف)$/,
    micOff: 'أوقف الميكروفون',
    micOn: 'شغّل الميكروفون',
    helpCalled: 'سيأتي موظف الخدمة قريبًا.',
    ended: 'انتهى الاجتماع',
    face4: 'راضٍ',
    yes: 'نعم',
    sendAnswers: 'أرسل الإجابات',
    thanks: 'شكرًا على إجاباتك!',
    feedbackOpen: 'قدّم شكوى أو اقتراحًا',
    suggestion: 'اقتراح',
    accessibility: 'سهولة الوصول',
    feedbackSend: 'أرسل',
    feedbackThanks: 'شكرًا! لقد استلمناه.',
    done: 'تم',
  },
};

/** The kiosk's screens, in the order of the walk. */
export const SCREENS = /** @type {const} */ ([
  'language', 'idle', 'identify', 'bankid', 'guide-told', 'waiting', 'meeting', 'end', 'end-feedback',
]);
/** @typedef {typeof SCREENS[number]} Screen */

/**
 * A kiosk's browser: a touch screen of the given size, recording every pointer and key press
 * so the test can show the citizen used touch alone.
 * @param {import('playwright-core').Browser} browser
 * @param {string} name
 * @param {string} baseUrl
 * @param {import('./meeting-flow.mjs').Collected} collected
 * @param {{width: number, height: number}} viewport
 * @returns {Promise<import('./meeting-flow.mjs').OpenPage & {inputs: string[]}>}
 */
export async function openKiosk(browser, name, baseUrl, collected, viewport) {
  const opened = await openPage(browser, name, baseUrl, collected, { viewport, hasTouch: true });
  /** @type {string[]} */
  const inputs = [];
  await opened.context.exposeFunction('narvaroTestInput', (/** @type {string} */ what) => { inputs.push(what); });
  await opened.context.addInitScript(() => {
    const report = /** @type {(what: string) => void} */ (/** @type {any} */ (window).narvaroTestInput);
    document.addEventListener('pointerdown', (e) => report(`pointer:${e.pointerType}`), true);
    document.addEventListener('keydown', () => report('key'), true);
  });
  return { ...opened, inputs };
}

/**
 * Booking's API from a signed-in page, with the page's CSRF token, as the page's scripts call it.
 * @param {import('playwright-core').Page} page
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<{status: number, body: any}>}
 */
export function apiCall(page, method, path, body) {
  return page.evaluate(async ({ method, path, body }) => {
    const csrf = document.cookie.split('; ').find((c) => c.startsWith('narvaro_csrf='))?.slice('narvaro_csrf='.length) ?? '';
    /** @type {RequestInit} */
    const init = { method, headers: { Accept: 'application/json', 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(path, init);
    const text = await res.text();
    let parsed = null;
    try { parsed = JSON.parse(text); } catch { parsed = text; }
    return { status: res.status, body: parsed };
  }, { method, path, body });
}

/**
 * axe-core's serious and critical WCAG 2.1 AA violations on the page as it is now.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<{id: string, impact: string, help: string, nodes: string[]}[]>}
 */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate((tags) => /** @type {any} */ (window).axe.run(document, {
    runOnly: { type: 'tag', values: tags },
    resultTypes: ['violations'],
  }), AXE_TAGS);
  return /** @type {any[]} */ (result.violations)
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: /** @type {any[]} */ (v.nodes).slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`),
    }));
}

/** BankID's animated QR code: `bankid.<qrStartToken>.<seconds since the order>.<HMAC-SHA256>`. */
const QR_FORM = /^bankid\.([0-9a-f-]{36})\.(\d+)\.([0-9a-f]{64})$/;

/**
 * Reads the QR code off the booth's screen, as a phone would.
 * @param {import('playwright-core').Page} booth
 * @returns {Promise<{content: string, token: string, seconds: number}>}
 */
export async function readQr(booth) {
  const qr = booth.locator('#bankid-qr');
  await qr.waitFor({ state: 'visible', timeout: 10_000 });
  await booth.waitForFunction(() => {
    const img = /** @type {HTMLImageElement | null} */ (document.getElementById('bankid-qr'));
    return Boolean(img?.complete && img.naturalWidth > 0);
  });
  const png = PNG.sync.read(await qr.screenshot());
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  assert.ok(code, 'the booth shows a readable QR code');
  const m = QR_FORM.exec(code.data);
  assert.ok(m, `the QR code has BankID's form: ${code.data}`);
  return { content: code.data, token: m[1], seconds: Number(m[2]) };
}

/**
 * What the citizen's phone does, through the simulator's phone API.
 * @param {string} baseUrl
 * @param {string} what
 * @param {object} body
 */
async function phone(baseUrl, what, body) {
  const res = await fetch(`${baseUrl}/dev/bankid-phone/${what}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * What is left on the kiosk of anyone: the text of the whole document (hidden panels too), the
 * storages, the media elements still holding a stream, and the cookies.
 * @param {import('./meeting-flow.mjs').OpenPage} kiosk
 */
export async function kioskTraces(kiosk) {
  const inPage = await kiosk.page.evaluate(() => ({
    text: document.body.textContent ?? '',
    title: document.title,
    sessionStorage: sessionStorage.length,
    localStorage: localStorage.length,
    mediaWithStream: [...document.querySelectorAll('video, audio')]
      .filter((m) => m instanceof HTMLMediaElement && m.srcObject !== null).length,
    meeting: 'narvaroMeeting' in window,
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
  }));
  const cookies = (await kiosk.context.cookies()).map((c) => c.name).sort();
  return { ...inPage, cookies };
}

/**
 * @typedef {object} WalkOptions
 * @property {string} name prefix of the pages' artifacts
 * @property {import('playwright-core').Browser} browser
 * @property {string} baseUrl
 * @property {import('./meeting-flow.mjs').Collected} collected
 * @property {{width: number, height: number}} viewport
 * @property {'sv' | 'ar'} lang
 * @property {'guide' | 'bankid'} identify
 * @property {(page: import('playwright-core').Page, screen: Screen) => Promise<void>} onScreen
 *   called on each screen once it shows what it should
 */

/**
 * @typedef {object} WalkResult
 * @property {string[]} inputs the citizen's pointer and key presses on the kiosk
 * @property {string} time the meeting's time as the waiting room showed it
 * @property {any} figures the centre's follow-up figures after the survey
 * @property {Awaited<ReturnType<typeof kioskTraces>>} after what the kiosk holds after the reset
 * @property {{booth: import('./meeting-flow.mjs').MediaStats | null, officer: import('./meeting-flow.mjs').MediaStats | null}} media
 * @property {boolean} tracksStopped the citizen's camera and microphone were off before the reset
 */

/**
 * The walk. The guide and the officer use mouse and keyboard at their desks; the citizen only
 * taps.
 * @param {WalkOptions} o
 * @returns {Promise<WalkResult>}
 */
export async function walkKiosk(o) {
  const w = WORDS[o.lang];
  const guide = await openPage(o.browser, `${o.name}-guide`, o.baseUrl, o.collected);
  const kiosk = await openKiosk(o.browser, `${o.name}-booth`, o.baseUrl, o.collected, o.viewport);
  const officer = await openPage(o.browser, `${o.name}-officer`, o.baseUrl, o.collected);
  const booth = kiosk.page;
  try {
    // The centre's admin sets the kiosk up (the development profile's enrolment, by touch too).
    await guide.page.goto('/');
    const boothHref = await guide.page.getByRole('link', { name: /Mötesrum 1/ }).getAttribute('href');
    assert.ok(boothHref, 'the start page links booth 1');
    await booth.goto(boothHref);
    await booth.getByRole('button', { name: /utan kod \(utvecklingsläge\)/ }).tap();
    await booth.locator('#language:not([hidden])').waitFor({ timeout: 10_000 });
    kiosk.inputs.length = 0; // from here on, the citizen

    // 1. The language screen, in Swedish; the citizen taps their language.
    await o.onScreen(booth, 'language');
    await booth.getByRole('link', { name: w.language }).tap();
    await booth.waitForURL(new RegExp(`\\?lang=${o.lang}$`));
    const html = await booth.evaluate(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir }));
    assert.deepEqual(html, { lang: o.lang, dir: o.lang === 'ar' ? 'rtl' : 'ltr' }, '<html lang dir> of the chosen language');
    await booth.locator('#idle-status', { hasText: w.idleNone }).waitFor({ timeout: 10_000 });
    await o.onScreen(booth, 'idle');

    // 2. The guide books the citizen's meeting in this booth; the kiosk asks who they are.
    const { row } = await bookBooth1(guide.page);
    await booth.locator('#welcome-meeting', { hasText: w.identifyMeeting }).waitFor({ timeout: 10_000 });
    await booth.locator('#welcome-meeting', { hasText: 'Försäkringskassan' }).waitFor();
    await o.onScreen(booth, 'identify');

    // 3. BankID's QR code; with the guide's help instead, the citizen goes back from it.
    await booth.getByRole('button', { name: w.bankId }).tap();
    await booth.locator('#bankid-message', { hasText: w.rfa1 }).waitFor({ timeout: 10_000 });
    const qr = await readQr(booth);
    await o.onScreen(booth, 'bankid');
    if (o.identify === 'bankid') {
      const scan = await phone(o.baseUrl, 'scan', { qr: (await readQr(booth)).content });
      assert.equal(scan.status, 200, `the live code scans: ${JSON.stringify(scan.body)}`);
      const approve = await phone(o.baseUrl, 'identify', {
        qr_start_token: qr.token, personal_number: demoPersonnummer()[0], given_name: 'Tolvan', surname: 'Tolvansson',
      });
      assert.equal(approve.status, 200, JSON.stringify(approve.body));
    } else {
      await booth.getByRole('button', { name: w.cancel }).tap();
      await booth.getByRole('button', { name: w.noBankId }).tap();
      await booth.locator('#help-sent-text', { hasText: w.goToCounter }).waitFor({ timeout: 10_000 });
      await o.onScreen(booth, 'guide-told');
      // The guide sees the call, goes, and checks the ID document at the counter.
      const calls = await apiCall(guide.page, 'GET', '/api/v1/help-calls');
      assert.equal(calls.status, 200, JSON.stringify(calls.body));
      assert.equal(calls.body.length, 1, `one open help call: ${JSON.stringify(calls.body)}`);
      assert.equal(calls.body[0].reason, 'identification');
      assert.equal(calls.body[0].booth_name, 'Mötesrum 1');
      // On the console, first on the page; "Jag går dit" answers it.
      const call = guide.page.locator('#help-list li', { hasText: 'Mötesrum 1: Medborgaren har inget BankID' });
      await call.waitFor({ timeout: 10_000 });
      await call.getByRole('button', { name: /Jag går dit/ }).click();
      await call.waitFor({ state: 'detached', timeout: 10_000 });
      assert.deepEqual((await apiCall(guide.page, 'GET', '/api/v1/help-calls')).body, [], 'answered');
      await row.getByRole('button', { name: /Kontrollera ID-handling/ }).click();
      const dialog = guide.page.getByRole('dialog', { name: 'Kontrollera ID-handling' });
      await dialog.getByLabel('Typ av ID-handling').selectOption({ label: ASSISTED_ID.type });
      await dialog.getByLabel('De fyra sista tecknen').fill(ASSISTED_ID.last4);
      await dialog.getByRole('button', { name: 'Spara identifieringen' }).click();
    }

    // 4. The waiting room: whom they meet, when, how they were identified.
    await booth.getByRole('heading', { name: w.waiting }).waitFor({ timeout: 15_000 });
    await booth.locator('#next-officer', { hasText: 'Anna Lindqvist' }).waitFor({ timeout: 10_000 });
    await booth.locator('#next-agency', { hasText: 'Försäkringskassan' }).waitFor();
    assert.equal(await booth.locator('#officer-initials').textContent(), 'AL', 'initials stand in for a photo');
    await booth.locator('#next-identified', {
      hasText: o.identify === 'bankid' ? w.identifiedByBankId : w.identifiedByGuide,
    }).waitFor({ timeout: 10_000 });
    const when = (await booth.locator('#next-when').textContent()) ?? '';
    const time = /\d\d:\d\d/.exec(when)?.[0];
    assert.ok(time, `the waiting room says when: ${when}`);
    await o.onScreen(booth, 'waiting');

    // 5. The guide starts the meeting; the booth joins by itself; the officer joins.
    await row.getByRole('button', { name: /Starta mötet/ }).click();
    await booth.locator('#meeting:not([hidden])').waitFor({ timeout: 15_000 });
    await officer.page.goto('/officer');
    await devEidSignIn(officer.page, 'Anna Lindqvist', /\/officer$/);
    await officer.page.getByRole('button', { name: /Anslut/ }).click();
    const { last: media } = await waitForMedia(
      { booth, officer: officer.page },
      { deadlineMs: 20_000, minFrames: 30, minAudioPackets: 50 },
    );
    for (const side of /** @type {const} */ (['booth', 'officer'])) {
      assert.ok((media[side]?.framesDecoded ?? 0) > 0, `${side} decodes the other's video: ${JSON.stringify(media[side])}`);
    }
    await booth.locator('#remote-tiles figcaption', { hasText: 'Anna Lindqvist' }).waitFor({ timeout: 5000 });
    await booth.locator('.self-view .connection-quality[role="status"]', { hasText: w.quality }).waitFor({ timeout: 10_000 });
    assert.ok(await booth.locator('#call-guide').isVisible(), '"call the guide" is on screen in the meeting');
    assert.equal(await booth.locator('#captions').count(), 1, 'a place is kept for captions');
    await booth.getByRole('button', { name: w.micOff }).tap();
    await booth.getByRole('button', { name: w.micOn }).waitFor();
    assert.equal(await booth.evaluate(() => /** @type {any} */ (window).narvaroMeeting.localStream.getAudioTracks()[0].enabled), false);
    await booth.getByRole('button', { name: w.micOn }).tap();
    await booth.getByRole('button', { name: w.micOff }).waitFor();
    await booth.locator('#call-guide').tap();
    await booth.locator('#help-status', { hasText: w.helpCalled }).waitFor({ timeout: 5000 });
    const inMeetingCalls = await apiCall(guide.page, 'GET', '/api/v1/help-calls');
    assert.deepEqual(inMeetingCalls.body.map((/** @type {any} */ c) => c.reason), ['meeting'], 'the guide is called to the meeting');
    await o.onScreen(booth, 'meeting');

    // 6. The officer ends the meeting with an outcome; the booth shows its end screen.
    const bookingId = await officer.page.locator('#agenda-body tr').first().getAttribute('data-booking-id');
    const ended = await apiCall(officer.page, 'POST', `/api/v1/bookings/${bookingId}/end`, { outcome: 'resolved' });
    assert.equal(ended.status, 200, JSON.stringify(ended.body));
    await booth.getByRole('heading', { name: w.ended }).waitFor({ timeout: 15_000 });
    await booth.locator('#ended:not([hidden])').waitFor();
    const tracksStopped = await booth.evaluate(() => /** @type {any} */ (window).narvaroMeeting.localStream.getTracks()
      .every((/** @type {MediaStreamTrack} */ track) => track.readyState === 'ended'));
    await o.onScreen(booth, 'end');

    // 7. Two questions, by tapping a face and "yes"; then a suggestion about accessibility.
    const face = booth.locator('#survey label.face-4');
    assert.equal(await face.locator('.face-label').textContent(), w.face4, 'the fourth face says its words');
    await face.tap();
    await booth.locator('#survey label.pill', { hasText: w.yes }).tap();
    await booth.getByRole('button', { name: w.sendAnswers }).tap();
    await booth.locator('#survey-status', { hasText: w.thanks }).waitFor({ timeout: 10_000 });
    await booth.getByRole('button', { name: w.feedbackOpen }).tap();
    await booth.locator('#feedback label.pill', { hasText: w.suggestion }).tap();
    await booth.locator('#feedback label.pill', { hasText: w.accessibility }).tap();
    await booth.locator('#feedback-send').tap();
    await booth.locator('#feedback-status', { hasText: w.feedbackThanks }).waitFor({ timeout: 10_000 });
    await o.onScreen(booth, 'end-feedback');

    // The answers are the centre's follow-up figures now (the centre admin's view).
    const day = (/** @type {number} */ offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const figures = await apiCall(guide.page, 'GET', `/api/v1/follow-up?from=${day(-1)}&to=${day(1)}`);
    assert.equal(figures.status, 200, JSON.stringify(figures.body));

    // 8. "Done": the kiosk starts over for the next citizen.
    await booth.getByRole('button', { name: w.done, exact: true }).tap();
    await booth.waitForURL((url) => url.search === '' && url.pathname === boothHref);
    await booth.locator('#language:not([hidden])').waitFor({ timeout: 10_000 });
    // A poll or two, so whatever the new page fetches is on it.
    await booth.waitForTimeout(2500);
    const after = await kioskTraces(kiosk);
    return { inputs: [...kiosk.inputs], time, figures: figures.body, after, media, tracksStopped };
  } finally {
    await closePages([guide, kiosk, officer], o.collected);
  }
}
