// @ts-check
/**
 * The booth kiosk, an enrolled device, for one citizen at a time:
 *
 * 1. the language screen (the server renders it when the address has no `?lang=`; a language is
 *    a link that reloads the page in it, so every word comes from the server's Fluent files);
 * 2. identify: BankID here, or "I have no BankID", which calls the guide to check an ID document
 *    at the counter;
 * 3. the waiting room: whom the citizen meets, when, and how they were identified;
 * 4. the meeting, joined on its own as soon as the guide starts it (once a language is chosen), so
 *    the citizen never has to find a button;
 * 5. the end: two questions and a way to leave a complaint or suggestion (codes only);
 * 6. the reset, by "Klar" or after a while without a touch: every trace of this citizen is wiped
 *    (media stopped, storage emptied, readable cookies but the kiosk's own dropped) and the page
 *    is replaced by the language screen in Swedish, a new document with nothing of the last.
 *
 * The booth's next meeting is polled every 2 s throughout. "Call the guide" is on screen all the
 * time. The kiosk holds no session of the citizen's: its own device credential (an HttpOnly
 * cookie) is the booth, not the person.
 */
import { ApiError, api, byId, timeOfDay } from './api.js';
import { t } from './i18n.js';
import { enterMeeting } from './meeting-view.js';

/**
 * @typedef {{method: string, label: string}} Identified
 * @typedef {{booking_id: string, state: string, starts_at: string, officer_name: string,
 *   agency_name: string, service: string, identified: Identified | null}} NextMeeting
 * @typedef {{booth_id: string, booth_name: string, centre_id: string, next: NextMeeting | null}} Kiosk
 * @typedef {'identification' | 'meeting' | 'other'} HelpReason
 */

const POLL_MS = 2000;
/** Seconds without a touch after which a screen starts over for the next citizen. */
const RESET_AFTER_S = /** @type {Record<string, number>} */ ({ ended: 90, idle: 120, welcome: 300 });
/** The one cookie scripts can read that belongs to the kiosk, not the citizen: its CSRF token. */
const KIOSK_COOKIES = new Set(['narvaro_csrf']);

const main = byId('main', HTMLElement);
const boothId = main.dataset.boothId ?? '';
/** The language screen is up: no language chosen yet. */
const choosing = main.dataset.choosing === 'true';

const panels = {
  language: byId('language', HTMLElement),
  idle: byId('idle', HTMLElement),
  welcome: byId('welcome', HTMLElement),
  helpSent: byId('help-sent', HTMLElement),
  waiting: byId('waiting', HTMLElement),
  ended: byId('ended', HTMLElement),
};
const status = byId('booth-status', HTMLElement);
const changeLanguage = byId('change-language', HTMLElement);

/** Whether a BankID order is on screen; the kiosk then leaves its panels alone. */
let bankIdActive = () => false;
/** Ends an order still on screen. */
let cancelBankId = async () => {};

/** @type {Kiosk | null} */
let kiosk = null;
/** @type {NextMeeting | null} */
let current = null;
let joining = false;
let inMeeting = false;
/** The booking the citizen has just left or finished: not joined again by itself. */
let leftBooking = '';
/** The booking of the end screen, for its survey. */
let endedBooking = '';
/** @type {number | undefined} */
let resetTimer;

/** @param {keyof typeof panels | null} which */
function showPanel(which) {
  for (const [name, panel] of Object.entries(panels)) panel.hidden = name !== which;
  changeLanguage.hidden = choosing || which === null || which === 'ended';
  armReset(which);
}

/**
 * Starts the countdown to a reset on screens a citizen may walk away from.
 * @param {keyof typeof panels | null} which
 */
function armReset(which) {
  clearTimeout(resetTimer);
  resetTimer = undefined;
  const seconds = which === null ? undefined : RESET_AFTER_S[which];
  // The language screen in Swedish is where a reset lands: nothing to reset there.
  if (seconds === undefined || (choosing && which === 'idle')) return;
  resetTimer = window.setTimeout(() => void reset(), seconds * 1000);
}

// A touch anywhere is someone still there.
for (const kind of ['pointerdown', 'keydown']) {
  document.addEventListener(kind, () => {
    if (resetTimer !== undefined) armReset(visiblePanel());
  }, { passive: true });
}

/** @returns {keyof typeof panels | null} */
function visiblePanel() {
  for (const [name, panel] of Object.entries(panels)) {
    if (!panel.hidden) return /** @type {keyof typeof panels} */ (name);
  }
  return null;
}

/** @param {string} name */
function initials(name) {
  return name.split(/\s+/).filter(Boolean).map((part) => part[0]).slice(0, 2).join('').toUpperCase();
}

/** @param {Identified | null} identified */
function identifiedText(identified) {
  if (!identified) return '';
  switch (identified.method) {
    case 'bank_id': return t('identified-bank-id');
    case 'freja_eid': return t('identified-freja-eid');
    case 'assisted_by_guide': return t('identified-assisted');
    case 'dev_eid': return t('identified-dev-eid');
    default: return t('identified-other');
  }
}

/** @param {NextMeeting} next */
function fillMeeting(next) {
  const time = timeOfDay(next.starts_at);
  byId('welcome-meeting', HTMLElement).textContent = t('identify-meeting', { agency: next.agency_name, time });
  byId('officer-initials', HTMLElement).textContent = initials(next.officer_name);
  byId('next-officer', HTMLElement).textContent = next.officer_name;
  byId('next-agency', HTMLElement).textContent = next.agency_name;
  byId('next-service', HTMLElement).textContent = next.service;
  byId('next-when', HTMLElement).textContent = t('waiting-starts', { time });
  const minutes = Math.ceil((new Date(next.starts_at).getTime() - Date.now()) / 60_000);
  byId('next-wait', HTMLElement).textContent = minutes > 0 ? t('waiting-minutes', { minutes }) : '';
  byId('next-identified', HTMLElement).textContent = identifiedText(next.identified);
}

/** @param {NextMeeting | null} next */
function show(next) {
  current = next;
  if (choosing || inMeeting || bankIdActive() || !panels.ended.hidden) return;
  if (!next) {
    // Each panel is shown once, not at every poll: showing one starts its reset countdown.
    if (panels.helpSent.hidden && panels.idle.hidden) showPanel('idle');
    byId('idle-status', HTMLElement).textContent = t('idle-none');
    return;
  }
  fillMeeting(next);
  if (!next.identified) {
    // Asked for the guide: that screen stays until the guide has identified the citizen.
    if (panels.helpSent.hidden && panels.welcome.hidden) showPanel('welcome');
    return;
  }
  if (panels.waiting.hidden) showPanel('waiting');
  status.textContent = next.state === 'started' ? t('waiting-starting') : t('waiting-soon');
}

async function poll() {
  if (joining || inMeeting) return;
  try {
    kiosk = /** @type {Kiosk} */ (await api('/api/v1/booth-device', { reloadOn401: false }));
    show(kiosk.next);
    const next = kiosk.next;
    // Not from the language screen: the citizen meets their officer in the language they chose,
    // and a reset never carries the kiosk back into a meeting someone left running.
    if (!choosing && next && next.identified && next.state === 'started' && next.booking_id !== leftBooking) {
      await join(next);
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      // No longer enrolled: the page asks for a code.
      window.location.reload();
      return;
    }
    status.textContent = t('booth-offline');
  }
}

/** @param {NextMeeting} next */
async function join(next) {
  joining = true;
  try {
    const grant = await api(`/api/v1/bookings/${encodeURIComponent(next.booking_id)}/join`, { method: 'POST' });
    inMeeting = true;
    showPanel(null);
    await enterMeeting(grant, {
      closeWhenEnded: true,
      onLeft: (why) => {
        leftBooking = next.booking_id;
        endedBooking = next.booking_id;
        inMeeting = false;
        joining = false;
        showEnded(why);
      },
    });
  } catch (e) {
    inMeeting = false;
    joining = false;
    showPanel('waiting');
    status.textContent = t('waiting-join-failed');
    console.error('joining the meeting failed', e);
  }
}

/** @param {'left' | 'ended'} why */
function showEnded(why) {
  showPanel('ended');
  // Back to a meeting that goes on: only when the citizen left it, not when it was ended.
  byId('rejoin', HTMLButtonElement).hidden = why !== 'left';
  byId('ended-heading', HTMLElement).focus();
}

/**
 * Calls the guide to this booth.
 * @param {HelpReason} reason
 * @returns {Promise<boolean>} whether the call went through
 */
async function callGuide(reason) {
  try {
    await api('/api/v1/booth-device/help', { method: 'POST', body: { reason }, reloadOn401: false });
    return true;
  } catch (e) {
    console.error('the help call failed', e);
    return false;
  }
}

byId('call-guide', HTMLButtonElement).addEventListener('click', async () => {
  const helpStatus = byId('help-status', HTMLElement);
  const ok = await callGuide(inMeeting ? 'meeting' : 'other');
  helpStatus.textContent = ok ? t('help-called') : t('help-sent-failed');
});

byId('identify-guide', HTMLButtonElement).addEventListener('click', async () => {
  showPanel('helpSent');
  const text = byId('help-sent-text', HTMLElement);
  text.textContent = '';
  byId('help-sent-heading', HTMLElement).focus();
  const ok = await callGuide('identification');
  text.textContent = ok ? t('help-sent-identification') : t('help-sent-failed');
});

byId('help-back', HTMLButtonElement).addEventListener('click', () => {
  panels.helpSent.hidden = true;
  show(current);
});

// The end screen: the survey, then perhaps feedback, then "Klar".
const survey = byId('survey', HTMLFormElement);
survey.addEventListener('submit', async (event) => {
  event.preventDefault();
  const surveyStatus = byId('survey-status', HTMLElement);
  const satisfaction = survey.querySelector('input[name="satisfaction"]:checked');
  const gotHelp = survey.querySelector('input[name="got_help"]:checked');
  if (!(satisfaction instanceof HTMLInputElement) || !(gotHelp instanceof HTMLInputElement) || !endedBooking) return;
  const send = byId('survey-send', HTMLButtonElement);
  send.disabled = true;
  try {
    await api(`/api/v1/bookings/${encodeURIComponent(endedBooking)}/survey`, {
      method: 'POST',
      body: { satisfaction: Number(satisfaction.value), got_help: gotHelp.value === 'yes' },
      reloadOn401: false,
    });
    surveyStatus.textContent = t('survey-thanks');
    for (const input of survey.querySelectorAll('input')) input.disabled = true;
  } catch (e) {
    send.disabled = false;
    surveyStatus.textContent = t('survey-failed');
    console.error('the survey was not stored', e);
  }
});

const feedback = byId('feedback', HTMLFormElement);
const feedbackOpen = byId('feedback-open', HTMLButtonElement);
feedbackOpen.addEventListener('click', () => {
  feedback.hidden = !feedback.hidden;
  feedbackOpen.setAttribute('aria-expanded', String(!feedback.hidden));
});
feedback.addEventListener('submit', async (event) => {
  event.preventDefault();
  const feedbackStatus = byId('feedback-status', HTMLElement);
  const kind = feedback.querySelector('input[name="kind"]:checked');
  const category = feedback.querySelector('input[name="category"]:checked');
  if (!(kind instanceof HTMLInputElement) || !(category instanceof HTMLInputElement) || !kiosk) return;
  const send = byId('feedback-send', HTMLButtonElement);
  send.disabled = true;
  try {
    await api('/api/v1/feedback', {
      method: 'POST',
      body: {
        centre_id: kiosk.centre_id,
        booking_id: endedBooking || null,
        kind: kind.value,
        category: category.value,
      },
      reloadOn401: false,
    });
    feedbackStatus.textContent = t('feedback-thanks');
    for (const input of feedback.querySelectorAll('input')) input.disabled = true;
  } catch (e) {
    send.disabled = false;
    feedbackStatus.textContent = t('feedback-failed');
    console.error('the feedback was not stored', e);
  }
});

/**
 * Wipes every trace of this citizen and starts over on the language screen, in Swedish. The
 * page is replaced (no history entry to go back to, and `no-store` keeps it out of the
 * back-forward cache), so the next citizen gets a new document; what a new document would not
 * forget by itself is cleared here first.
 */
async function reset() {
  clearTimeout(resetTimer);
  await cancelBankId();
  for (const media of document.querySelectorAll('video, audio')) {
    if (!(media instanceof HTMLMediaElement)) continue;
    if (media.srcObject instanceof MediaStream) for (const track of media.srcObject.getTracks()) track.stop();
    media.srcObject = null;
    media.removeAttribute('src');
  }
  for (const form of [survey, feedback]) form.reset();
  try {
    sessionStorage.clear();
    localStorage.clear();
  } catch {
    // Storage switched off: then nothing is in it either.
  }
  for (const cookie of document.cookie.split('; ')) {
    const name = cookie.split('=')[0];
    if (name && !KIOSK_COOKIES.has(name)) document.cookie = `${name}=; Max-Age=0; Path=/; SameSite=Strict`;
  }
  window.location.replace(`/booth/${encodeURIComponent(boothId)}`);
}

// BankID only where it is offered (its panel is on the page).
if (document.getElementById('bankid')) {
  const bankid = await import('./bankid.js');
  bankIdActive = bankid.bankIdActive;
  cancelBankId = bankid.cancelBankId;
  bankid.initBankId({
    show: () => showPanel(null),
    back: () => {
      panels.welcome.hidden = true;
      show(current);
    },
    identified: () => void poll(),
  });
}

byId('done', HTMLButtonElement).addEventListener('click', () => void reset());

byId('rejoin', HTMLButtonElement).addEventListener('click', () => {
  leftBooking = '';
  panels.ended.hidden = true;
  void poll();
});

if (!choosing) showPanel('idle');
await poll();
setInterval(poll, POLL_MS);
