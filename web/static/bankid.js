// @ts-check
/**
 * BankID at the booth: starts an order for this kiosk's next meeting, shows the animated QR code
 * (the server draws a new one every second; the secret never reaches this page), collects every
 * two seconds and shows BankID's own message for each state, in Swedish and English. When the
 * order completes the server has recorded the identification on the booking (the kiosk itself is
 * signed in as nobody), and the kiosk moves on to the waiting room.
 */
import { ApiError, api, byId, timeOfDay } from './api.js';
import { pageLang, t } from './i18n.js';

/**
 * @typedef {{code: string, sv: string, en: string}} UserMessage
 * @typedef {{order_ref: string, qr_url: string, collect_every_ms: number, message: UserMessage,
 *   meeting: {agency: string, service: string, starts_at: string} | null}} Started
 * @typedef {{status: 'pending' | 'failed' | 'complete', hint_code?: string, message: UserMessage,
 *   show_qr: boolean}} Collected
 */

const QR_EVERY_MS = 1000;
/** What to say when BankID cannot be reached: its RFA5. */
const UNREACHABLE = { code: 'RFA5', sv: 'Något gick fel. Försök igen.', en: 'Something went wrong. Please try again.' };

/** BankID's recommended messages by RFA code, in the page's language. */
const RFA = /** @type {Record<string, () => string>} */ ({
  RFA1: () => t('bankid-rfa1'),
  RFA3: () => t('bankid-rfa3'),
  RFA4: () => t('bankid-rfa4'),
  RFA5: () => t('bankid-rfa5'),
  RFA6: () => t('bankid-rfa6'),
  RFA8: () => t('bankid-rfa8'),
  RFA9: () => t('bankid-rfa9'),
  RFA15B: () => t('bankid-rfa15b'),
  RFA16: () => t('bankid-rfa16'),
  RFA17B: () => t('bankid-rfa17b'),
  RFA21: () => t('bankid-rfa21'),
  RFA22: () => t('bankid-rfa22'),
  RFA23: () => t('bankid-rfa23'),
});

const panel = byId('bankid', HTMLElement);
const qr = byId('bankid-qr', HTMLImageElement);
const retry = byId('bankid-retry', HTMLButtonElement);

/** @type {{orderRef: string, qrTimer: number, collectTimer: number, frame: number} | null} */
let order = null;
/** What the kiosk does around BankID: hide its other panels, go back, move on. */
let hooks = { show: () => {}, back: () => {}, identified: () => {} };

/**
 * Shows BankID's message; a code BankID added after this client was written shows in booking's
 * Swedish (or, on any other page, its English).
 * @param {UserMessage} m
 */
function say(m) {
  byId('bankid-message', HTMLElement).textContent = RFA[m.code]?.() ?? (pageLang() === 'sv' ? m.sv : m.en);
  panel.dataset.rfa = m.code;
}

function stopTimers() {
  if (!order) return;
  clearInterval(order.qrTimer);
  clearTimeout(order.collectTimer);
}

/** @param {boolean} visible */
function showQr(visible) {
  qr.hidden = !visible;
}

async function start() {
  stopTimers();
  order = null;
  hooks.show();
  panel.hidden = false;
  retry.hidden = true;
  byId('bankid-heading', HTMLElement).focus();
  /** @type {Started} */
  let started;
  try {
    started = await api('/api/v1/bankid/start', { method: 'POST', body: {} });
  } catch (e) {
    say(e instanceof ApiError && e.code === 'bankid_already_in_progress'
      ? { code: 'RFA4', sv: '', en: e.message }
      : UNREACHABLE);
    retry.hidden = false;
    return;
  }
  say(started.message);
  const meeting = byId('bankid-meeting', HTMLElement);
  meeting.hidden = !started.meeting;
  if (started.meeting) {
    meeting.textContent = t('bankid-meeting', { agency: started.meeting.agency, time: timeOfDay(started.meeting.starts_at) });
  }
  const current = { orderRef: started.order_ref, qrTimer: 0, collectTimer: 0, frame: 0 };
  order = current;
  const refreshQr = () => {
    // A new URL each second, so no cache can show an old code.
    current.frame += 1;
    qr.src = `${started.qr_url}&frame=${current.frame}`;
  };
  refreshQr();
  showQr(true);
  current.qrTimer = window.setInterval(refreshQr, QR_EVERY_MS);
  const collect = async () => {
    if (order !== current) return;
    /** @type {Collected} */
    let c;
    try {
      c = await api('/api/v1/bankid/collect', { method: 'POST', body: { order_ref: current.orderRef } });
    } catch {
      // A lost answer is not a lost order: keep collecting, say so meanwhile.
      say(UNREACHABLE);
      current.collectTimer = window.setTimeout(collect, started.collect_every_ms);
      return;
    }
    if (order !== current) return;
    say(c.message);
    if (c.status === 'complete') {
      stopTimers();
      order = null;
      panel.hidden = true;
      hooks.identified();
      return;
    }
    if (c.status === 'failed') {
      stopTimers();
      showQr(false);
      retry.hidden = false;
      order = null;
      return;
    }
    if (!c.show_qr) {
      // The app has the order: the code has done its job.
      clearInterval(current.qrTimer);
      showQr(false);
    }
    current.collectTimer = window.setTimeout(collect, started.collect_every_ms);
  };
  current.collectTimer = window.setTimeout(collect, started.collect_every_ms);
}

async function cancel() {
  const current = order;
  stopTimers();
  order = null;
  panel.hidden = true;
  hooks.back();
  if (current) {
    try {
      await api('/api/v1/bankid/cancel', { method: 'POST', body: { order_ref: current.orderRef } });
    } catch {
      // Gone already, or unreachable: BankID ends it on its own within minutes.
    }
  }
}

/** Whether a BankID order is on screen (the kiosk then leaves its panels alone). */
export function bankIdActive() {
  return !panel.hidden;
}

/**
 * Ends an order still on screen (the kiosk resets for the next citizen): BankID forgets it and
 * booking clears its cookie, so nothing of this citizen's order stays on the kiosk.
 */
export async function cancelBankId() {
  if (order || !panel.hidden) await cancel();
}

/**
 * Wires the BankID panel to the kiosk.
 * @param {{show: () => void, back: () => void, identified: () => void}} kiosk
 */
export function initBankId(kiosk) {
  hooks = kiosk;
  byId('bankid-start', HTMLButtonElement).addEventListener('click', () => void start());
  retry.addEventListener('click', () => void start());
  byId('bankid-cancel', HTMLButtonElement).addEventListener('click', () => void cancel());
}
