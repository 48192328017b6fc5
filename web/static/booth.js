// @ts-check
/**
 * The booth kiosk, once a citizen has identified: shows the next meeting of this booth, polls
 * every 2 s, and joins on its own as soon as the meeting is started, so the citizen never has to
 * find a button. After the meeting it offers to go back in, but never rejoins by itself.
 */
import { ApiError, api, byId, timeOfDay } from './api.js';
import { enterMeeting } from './meeting-view.js';

/**
 * @typedef {{booking_id: string, state: string, starts_at: string, officer_name: string, agency_name: string, service: string}} NextMeeting
 */

const POLL_MS = 2000;
/** Bookings this kiosk has left; kept for the tab's life so a reload does not pull the citizen back in. */
const LEFT_KEY = 'narvaro.booth.left';

const boothId = byId('main', HTMLElement).dataset.boothId ?? '';
const waiting = byId('waiting', HTMLElement);
const heading = byId('waiting-heading', HTMLElement);
const ended = byId('ended', HTMLElement);
const status = byId('booth-status', HTMLElement);
const details = byId('next-meeting', HTMLElement);
const rejoin = byId('rejoin', HTMLButtonElement);

/** @type {NextMeeting | null} */
let current = null;
let joining = false;

/** @returns {Set<string>} */
function leftBookings() {
  try {
    return new Set(JSON.parse(sessionStorage.getItem(LEFT_KEY) ?? '[]'));
  } catch {
    return new Set();
  }
}

/** @param {string} bookingId */
function rememberLeft(bookingId) {
  const left = leftBookings();
  left.add(bookingId);
  sessionStorage.setItem(LEFT_KEY, JSON.stringify([...left]));
}

/** @param {NextMeeting | null} next */
function show(next) {
  current = next;
  heading.textContent = next ? 'Väntar på ditt möte…' : 'Inget möte just nu';
  if (!next) {
    details.hidden = true;
    status.textContent = 'Inget möte är bokat i det här rummet just nu. Fråga servicevägledaren vid disken.';
    return;
  }
  byId('next-officer', HTMLElement).textContent = next.officer_name;
  byId('next-agency', HTMLElement).textContent = next.agency_name;
  byId('next-service', HTMLElement).textContent = next.service;
  byId('next-time', HTMLElement).textContent = timeOfDay(next.starts_at);
  details.hidden = false;
  status.textContent = next.state === 'started'
    ? 'Mötet börjar. Ansluter…'
    : 'Din handläggare ansluter snart. Du behöver inte göra något.';
}

async function poll() {
  if (joining) return;
  try {
    /** @type {NextMeeting} */
    const next = await api(`/api/v1/booths/${encodeURIComponent(boothId)}/next`);
    show(next);
    if (next.state === 'started' && !leftBookings().has(next.booking_id)) await join(next);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) show(null);
    else status.textContent = 'Kontakten med servern är bruten. Försöker igen…';
  }
}

/** @param {NextMeeting} next */
async function join(next) {
  joining = true;
  try {
    const grant = await api(`/api/v1/bookings/${encodeURIComponent(next.booking_id)}/join`, { method: 'POST' });
    waiting.hidden = true;
    ended.hidden = true;
    await enterMeeting(grant, {
      onLeft: () => {
        rememberLeft(next.booking_id);
        joining = false;
        ended.hidden = false;
        byId('ended-heading', HTMLElement).focus();
      },
    });
  } catch (e) {
    waiting.hidden = false;
    joining = false;
    status.textContent = `Det gick inte att ansluta till mötet. ${e instanceof Error ? e.message : ''} Försöker igen…`;
  }
}

/** Ends the citizen's session on this kiosk, so the next person starts from "Identifiera dig". */
async function signOut() {
  try {
    await api('/api/v1/session/logout', { method: 'POST', reloadOn401: false });
  } finally {
    sessionStorage.removeItem(LEFT_KEY);
    window.location.reload();
  }
}

byId('done', HTMLButtonElement).addEventListener('click', signOut);
byId('sign-out', HTMLButtonElement).addEventListener('click', signOut);

rejoin.addEventListener('click', () => {
  if (!current) return;
  const left = leftBookings();
  left.delete(current.booking_id);
  sessionStorage.setItem(LEFT_KEY, JSON.stringify([...left]));
  ended.hidden = true;
  waiting.hidden = false;
  poll();
});

await poll();
setInterval(poll, POLL_MS);
