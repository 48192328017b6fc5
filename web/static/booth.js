// @ts-check
/**
 * The booth kiosk, an enrolled device: polls its booth's next meeting every 2 s and shows one
 * panel at a time: nothing booked; identify (BankID here, or the guide checks an ID document at
 * the desk); waiting for the meeting, with whom and how the citizen was identified; the meeting,
 * joined on its own as soon as the guide starts it, so the citizen never has to find a button;
 * and the end, after which the kiosk forgets the meeting and waits for the next. The kiosk holds
 * no session of the citizen's: nothing of them is left on it.
 */
import { ApiError, api, byId, timeOfDay } from './api.js';
import { enterMeeting } from './meeting-view.js';

/**
 * @typedef {{method: string, label: string}} Identified
 * @typedef {{booking_id: string, state: string, starts_at: string, officer_name: string,
 *   agency_name: string, service: string, identified: Identified | null}} NextMeeting
 * @typedef {{booth_id: string, booth_name: string, next: NextMeeting | null}} Kiosk
 */

const POLL_MS = 2000;

const panels = {
  idle: byId('idle', HTMLElement),
  welcome: byId('welcome', HTMLElement),
  waiting: byId('waiting', HTMLElement),
  ended: byId('ended', HTMLElement),
};
const status = byId('booth-status', HTMLElement);

/** Whether a BankID order is on screen; the kiosk then leaves its panels alone. */
let bankIdActive = () => false;

/** @type {NextMeeting | null} */
let current = null;
let joining = false;
let inMeeting = false;
/** The booking the citizen has just left: not rejoined by itself. Kept in memory only. */
let leftBooking = '';

/** @param {keyof typeof panels | null} which */
function showPanel(which) {
  for (const [name, panel] of Object.entries(panels)) panel.hidden = name !== which;
}

/** @param {NextMeeting} next */
function fillMeeting(next) {
  for (const e of document.querySelectorAll('.js-agency')) e.textContent = next.agency_name;
  for (const e of document.querySelectorAll('.js-time')) e.textContent = timeOfDay(next.starts_at);
  byId('next-officer', HTMLElement).textContent = next.officer_name;
  byId('next-service', HTMLElement).textContent = next.service;
  byId('next-identified', HTMLElement).textContent = next.identified ? `Identifierad: ${next.identified.label}` : '';
}

/** @param {NextMeeting | null} next */
function show(next) {
  current = next;
  if (inMeeting || bankIdActive() || !panels.ended.hidden) return;
  if (!next) {
    showPanel('idle');
    byId('idle-status', HTMLElement).textContent =
      'Inget möte är bokat i det här rummet just nu. Fråga servicevägledaren vid disken.';
    return;
  }
  fillMeeting(next);
  if (!next.identified) {
    showPanel('welcome');
    return;
  }
  showPanel('waiting');
  status.textContent = next.state === 'started'
    ? 'Mötet börjar. Ansluter…'
    : 'Din handläggare ansluter snart. Du behöver inte göra något.';
}

async function poll() {
  if (joining || inMeeting) return;
  try {
    /** @type {Kiosk} */
    const kiosk = await api('/api/v1/booth-device', { reloadOn401: false });
    show(kiosk.next);
    const next = kiosk.next;
    if (next && next.identified && next.state === 'started' && next.booking_id !== leftBooking) await join(next);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      // No longer enrolled: the page asks for a code.
      window.location.reload();
      return;
    }
    status.textContent = 'Kontakten med servern är bruten. Försöker igen…';
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
      onLeft: () => {
        leftBooking = next.booking_id;
        inMeeting = false;
        joining = false;
        showPanel('ended');
        byId('ended-heading', HTMLElement).focus();
      },
    });
  } catch (e) {
    showPanel('waiting');
    joining = false;
    status.textContent = `Det gick inte att ansluta till mötet. ${e instanceof Error ? e.message : ''} Försöker igen…`;
  }
}

// BankID only where it is offered (its panel is on the page).
if (document.getElementById('bankid')) {
  const bankid = await import('./bankid.js');
  bankIdActive = bankid.bankIdActive;
  bankid.initBankId({
    show: () => showPanel(null),
    back: () => show(current),
    identified: () => void poll(),
  });
}

byId('done', HTMLButtonElement).addEventListener('click', () => {
  // The next citizen starts from a clean screen.
  panels.ended.hidden = true;
  current = null;
  show(null);
  void poll();
});

byId('rejoin', HTMLButtonElement).addEventListener('click', () => {
  leftBooking = '';
  panels.ended.hidden = true;
  void poll();
});

await poll();
setInterval(poll, POLL_MS);
