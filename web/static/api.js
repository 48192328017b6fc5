// @ts-check
/**
 * Calls to booking's HTTP API (`/api/v1/...`) from the pages, and the few formatting helpers the
 * pages share. Same origin only; the session cookie goes along by default.
 */

/** An API answer that was not 2xx, with booking's machine-readable code when it gave one. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * The CSRF token booking keeps in the `narvaro_csrf` cookie: a hash of this browser's credential
 * that only pages of this origin can read. Read at every call, since a sign-in changes it.
 * @returns {string}
 */
function csrfToken() {
  const entry = document.cookie.split('; ').find((c) => c.startsWith('narvaro_csrf='));
  return entry ? entry.slice('narvaro_csrf='.length) : '';
}

/**
 * One request with the current CSRF token.
 * @param {string} path
 * @param {string} method
 * @param {unknown} body
 * @returns {Promise<Response>}
 */
function send(path, method, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json', 'X-CSRF-Token': csrfToken() };
  /** @type {RequestInit} */
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return fetch(path, init);
}

/**
 * Fetches JSON from booking's API. A 401 (no session, or it expired) reloads the page, so the
 * server's sign-in guard sends the person to the e-ID page: one place decides about sign-in.
 * @template T
 * @param {string} path
 * @param {{method?: string, body?: unknown, reloadOn401?: boolean}} [options]
 * @returns {Promise<T>}
 */
export async function api(path, options = {}) {
  const method = options.method ?? 'GET';
  let response = await send(path, method, options.body);
  if (response.status === 403 && response.headers.get('Content-Type')?.includes('json')) {
    // A refused CSRF token (the cookie was lost or belongs to an earlier sign-in): the refusal
    // brought the right one, so try once more.
    const refusal = await response.clone().json().catch(() => null);
    if (refusal?.error?.code === 'csrf_token_invalid') response = await send(path, method, options.body);
  }
  if (response.status === 401 && options.reloadOn401 !== false) {
    window.location.reload();
    // The page is going away; never settle, so callers do not show a transient error.
    return new Promise(() => {});
  }
  const text = await response.text();
  /** @type {any} */
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = data && typeof data === 'object' && data.error ? data.error : {};
    throw new ApiError(
      response.status,
      typeof error.code === 'string' ? error.code : String(response.status),
      typeof error.message === 'string' ? error.message : `HTTP ${response.status}`,
    );
  }
  return /** @type {T} */ (data);
}

/** Swedish names of booking states. */
const STATE_LABELS = /** @type {Record<string, string>} */ ({
  booked: 'Bokad',
  checked_in: 'Incheckad',
  started: 'Pågår',
  ended: 'Avslutad',
  completed: 'Avslutad',
  cancelled: 'Avbokad',
  no_show: 'Uteblev',
});

/**
 * @param {string} state
 * @returns {string}
 */
export function stateLabel(state) {
  return STATE_LABELS[state] ?? state;
}

/**
 * "14:30" in Swedish time format, in the device's time zone.
 * @param {string} rfc3339
 * @returns {string}
 */
export function timeOfDay(rfc3339) {
  const date = new Date(rfc3339);
  if (Number.isNaN(date.getTime())) return rfc3339;
  return date.toLocaleTimeString('sv-SE', { hour: '2-digit', minute: '2-digit' });
}

/**
 * Whether an RFC 3339 time falls on today's date in the device's time zone.
 * @param {string} rfc3339
 * @param {Date} [now]
 * @returns {boolean}
 */
export function isToday(rfc3339, now = new Date()) {
  const date = new Date(rfc3339);
  return date.getFullYear() === now.getFullYear()
    && date.getMonth() === now.getMonth()
    && date.getDate() === now.getDate();
}

/**
 * Makes an element with text; never parses HTML, so names from the API cannot inject markup.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [text]
 * @param {string} [className]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, text, className) {
  const element = document.createElement(tag);
  if (text !== undefined) element.textContent = text;
  if (className) element.className = className;
  return element;
}

/**
 * The element with this id, or an error naming it: templates and scripts must agree.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`);
  return element;
}
