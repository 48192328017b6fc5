// @ts-check
/**
 * The follow-up dashboard's data and walk, shared by its browser test (follow-up.test.mjs) and
 * the screenshot command (screens.mjs).
 *
 * `seedFollowUp` makes a known day at the demo centre through booking's real HTTP API, each
 * person signed in through the development e-ID as the pages do: Försäkringskassan's meeting held
 * (resolved, satisfaction 4, got help) and a no-show, Skatteverket's meeting held (follow-up,
 * satisfaction 2, no help), a complaint about the waiting time (Försäkringskassan) and a
 * suggestion about accessibility (the centre), and a second centre, Hudiksvall, with nothing held
 * yet. `EXPECTED` is what that makes, counted by hand here: not read from the product.
 *
 * The words the walk looks for are written here in Swedish and Arabic, not read from the
 * product's Fluent files.
 */
import assert from 'node:assert/strict';

/**
 * A signed-in person's calls to booking's API, from Node, with the session and CSRF cookies the
 * development e-ID set, and the CSRF header as the pages send it.
 * @typedef {(method: string, path: string, body?: unknown) => Promise<{status: number, body: any}>} Api
 */

/**
 * @param {string} baseUrl
 * @param {string} displayName a demo person's name, as the development e-ID lists them
 * @param {string[]} [secrets] where the session's cookie values go, for the log scan
 * @returns {Promise<Api>}
 */
export async function signedIn(baseUrl, displayName, secrets) {
  const people = await (await fetch(`${baseUrl}/api/v1/dev-eid/people`)).json();
  const person = /** @type {{person_id: string, display_name: string}[]} */ (people).find((p) => p.display_name === displayName);
  assert.ok(person, `the development e-ID lists ${displayName}`);
  const res = await fetch(`${baseUrl}/api/v1/dev-eid/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ person_id: person.person_id }),
  });
  assert.equal(res.status, 200, `${displayName} signs in`);
  const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]);
  secrets?.push(...cookies.map((c) => c.slice(c.indexOf('=') + 1)));
  const csrf = cookies.find((c) => c.startsWith('narvaro_csrf='))?.slice('narvaro_csrf='.length) ?? '';
  return async (method, path, body) => {
    /** @type {Record<string, string>} */
    const headers = { Cookie: cookies.join('; '), 'X-CSRF-Token': csrf, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let parsed = null;
    try { parsed = JSON.parse(text); } catch { parsed = text; }
    return { status: r.status, body: parsed };
  };
}

/**
 * @param {Api} api
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 */
async function ok(api, method, path, body) {
  const a = await api(method, path, body);
  assert.ok(a.status >= 200 && a.status < 300, `${method} ${path}: ${a.status} ${JSON.stringify(a.body)}`);
  return a.body;
}

/** Today in Sweden, `YYYY-MM-DD`: what the dashboard's period is. */
export function swedishToday() {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

/**
 * Försäkringskassan's figures at Ljusdal today (what Lena, its analyst, sees with Ljusdal
 * chosen), by the seed below: two bookings, one held, one no-show; the held one resolved,
 * answered 4 with help; one complaint about the waiting time. The centre's suggestion names no
 * agency, so it is not Försäkringskassan's.
 */
export const EXPECTED = {
  meetings: ['2', '1', '1', '0'],
  outcomes: ['1', '0', '0', '1'],
  answers: ['0', '0', '0', '1', '0'],
  satisfaction: ['1', '4', '1'],
  feedback: ['1', '0', '0'],
};

/**
 * Seeds the day described above.
 * @param {string} baseUrl
 * @param {string[]} [secrets] where the sessions' cookie values go, for the log scan
 * @returns {Promise<{hudiksvall: string}>} the second centre's id
 */
export async function seedFollowUp(baseUrl, secrets) {
  const maria = await signedIn(baseUrl, 'Maria Svensson', secrets);
  const directory = await ok(maria, 'GET', '/api/v1/directory');
  /** @param {any[]} list @param {string} name */
  const id = (list, name) => {
    const found = list.find((x) => x.name === name || x.display_name === name);
    assert.ok(found, `the directory has ${name}`);
    return found.id;
  };
  const hudiksvall = await ok(maria, 'POST', '/api/v1/centres', {
    kommun: 'Hudiksvall', name: 'Servicekontor Hudiksvall', address: 'Storgatan 1',
    opening_hours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, from: '09:00', until: '16:00' })),
  });
  const now = Date.now();
  const at = (/** @type {number} */ minutes) => new Date(now + minutes * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const book = async (/** @type {string} */ service, /** @type {string} */ officer, /** @type {string} */ booth, /** @type {number} */ minutes, /** @type {string} */ personnummer) => {
    const b = await ok(maria, 'POST', '/api/v1/bookings', {
      service_id: id(directory.services, service), officer_id: id(directory.officers, officer),
      booth_id: id(directory.booths, booth), starts_at: at(minutes), duration_minutes: 20,
      citizen_personnummer: personnummer,
    });
    return /** @type {string} */ (b.booking_id);
  };
  const pnr = ['19121212-1212', '18900315-9812', '20050505-9824'];
  const fkHeld = await book('Föräldrapenning', 'Anna Lindqvist', 'Mötesrum 1', 1, pnr[0]);
  const skvHeld = await book('Deklaration', 'Sara Nilsson', 'Mötesrum 2', 1, pnr[1]);
  const fkAbsent = await book('Sjukpenning', 'Björn Eriksson', 'Mötesrum 1', 30, pnr[2]);

  const anna = await signedIn(baseUrl, 'Anna Lindqvist', secrets);
  const sara = await signedIn(baseUrl, 'Sara Nilsson', secrets);
  for (const [booking, officer, outcome] of /** @type {const} */ ([[fkHeld, anna, 'resolved'], [skvHeld, sara, 'follow_up']])) {
    await ok(maria, 'POST', `/api/v1/bookings/${booking}/check-in`);
    await ok(maria, 'POST', `/api/v1/bookings/${booking}/start`);
    await ok(officer, 'POST', `/api/v1/bookings/${booking}/end`, { outcome });
  }
  await ok(maria, 'POST', `/api/v1/bookings/${fkAbsent}/no-show`);

  const tolvan = await signedIn(baseUrl, 'Tolvan Tolvansson', secrets);
  const astrid = await signedIn(baseUrl, 'Astrid Provsson', secrets);
  await ok(tolvan, 'POST', `/api/v1/bookings/${fkHeld}/survey`, { satisfaction: 4, got_help: true });
  await ok(astrid, 'POST', `/api/v1/bookings/${skvHeld}/survey`, { satisfaction: 2, got_help: false });
  const ljusdal = id(directory.centres, 'Statligt servicekontor Ljusdal');
  const fk = id(directory.agencies, 'Försäkringskassan');
  await ok(tolvan, 'POST', '/api/v1/feedback', { centre_id: ljusdal, agency_id: fk, booking_id: fkHeld, kind: 'complaint', category: 'waiting_time' });
  await ok(maria, 'POST', '/api/v1/feedback', { centre_id: ljusdal, kind: 'suggestion', category: 'accessibility' });
  return { hudiksvall: /** @type {string} */ (hudiksvall.id) };
}

/**
 * The `<data value>`s of one of the dashboard's tables, in order.
 * @param {import('playwright-core').Page} page
 * @param {string} tableId
 * @returns {Promise<string[]>}
 */
export function tableValues(page, tableId) {
  return page.locator(`#${tableId} data`).evaluateAll((els) => els.map((e) => e.getAttribute('value') ?? ''));
}

/** The words of the dashboard, per language, as a person reads them. */
export const DASHBOARD_WORDS = {
  sv: { heading: 'Uppföljning', from: 'Från och med', to: 'Till och med', centre: 'Servicekontor', show: 'Visa', csv: 'Ladda ner som CSV', language: 'Språk', noQuality: 'Inga uppgifter om samtalskvalitet' },
  ar: { heading: 'المتابعة', from: 'من', to: 'حتى', centre: 'مكتب الخدمة', show: 'عرض', csv: 'تنزيل بصيغة CSV', language: 'اللغة', noQuality: 'لا توجد بيانات عن جودة الاتصال' },
};

/**
 * Presses Tab until the element with `id` has focus (at most 30 presses).
 * @param {import('playwright-core').Page} page
 * @param {string} id
 */
export async function tabTo(page, id) {
  for (let i = 0; i < 30; i++) {
    if (await page.evaluate(() => document.activeElement?.id ?? '') === id) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached #${id}`);
}

/**
 * Chooses `label` in the focused `<select>` with the arrow keys alone.
 * @param {import('playwright-core').Page} page
 * @param {string} id
 * @param {string} label
 */
export async function arrowToOption(page, id, label) {
  const select = page.locator(`#${id}`);
  const labels = await select.locator('option').allTextContents();
  const want = labels.indexOf(label);
  assert.ok(want >= 0, `#${id} offers ${label}: ${labels}`);
  await page.keyboard.press('Home');
  for (let i = 0; i < want; i++) await page.keyboard.press('ArrowDown');
  assert.equal(await select.evaluate((s) => /** @type {HTMLSelectElement} */ (s).selectedOptions[0]?.textContent), label);
}

/**
 * Replaces the focused date field's text with the keyboard, as a person types it.
 * @param {import('playwright-core').Page} page
 * @param {string} id
 * @param {string} date `YYYY-MM-DD`
 */
export async function typeDate(page, id, date) {
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(date);
  assert.equal(await page.locator(`#${id}`).inputValue(), date, `#${id} holds the typed date`);
}
