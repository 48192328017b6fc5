// @ts-check
/**
 * The case officer's agenda: own bookings with their state; "Anslut" on a started meeting opens
 * the meeting view in the same page.
 */
import { api, byId, el, stateLabel, timeOfDay } from './api.js';
import { enterMeeting } from './meeting-view.js';

/**
 * @typedef {{booking_id: string, room_id: string, state: string, starts_at: string, duration_minutes: number,
 *   service: string, agency: string, officer: {id: string, name: string}, booth: {id: string, name: string},
 *   citizen_name: string | null, identified: {method: string, label: string} | null}} BookingRow
 */

const REFRESH_MS = 3000;

const agendaView = byId('agenda-view', HTMLElement);
const status = byId('officer-status', HTMLElement);
const tbody = byId('agenda-body', HTMLTableSectionElement);
const empty = byId('agenda-empty', HTMLElement);
let lastRendered = '';
let inMeeting = false;

/** @param {BookingRow[]} bookings */
function render(bookings) {
  const sorted = [...bookings].sort((a, b) => a.starts_at.localeCompare(b.starts_at));
  const key = JSON.stringify(sorted);
  if (key === lastRendered) return;
  lastRendered = key;
  const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.bookingId : undefined;
  tbody.replaceChildren(...sorted.map((b) => {
    const row = el('tr');
    row.dataset.bookingId = b.booking_id;
    row.dataset.state = b.state;
    row.append(
      el('td', timeOfDay(b.starts_at)),
      el('td', `${b.service} (${b.agency})`),
      el('td', b.booth.name),
      el('td', b.citizen_name ?? '–'),
      // How the citizen was identified: the officer decides what they may discuss on that basis.
      el('td', b.identified ? b.identified.label : 'Inte identifierad ännu', 'identified'),
      el('td', stateLabel(b.state), `state state-${b.state}`),
    );
    const action = el('td');
    if (b.state === 'started') {
      const button = el('button', 'Anslut', 'join-meeting primary');
      button.type = 'button';
      button.dataset.bookingId = b.booking_id;
      button.setAttribute('aria-label', `Anslut till mötet ${timeOfDay(b.starts_at)}, ${b.service}`);
      button.addEventListener('click', () => join(b, button));
      action.append(button);
    }
    row.append(action);
    return row;
  }));
  empty.hidden = sorted.length > 0;
  if (focused) {
    const again = tbody.querySelector(`button[data-booking-id="${CSS.escape(focused)}"]`);
    if (again instanceof HTMLElement) again.focus();
  }
}

async function refresh() {
  if (inMeeting) return;
  try {
    render(await api('/api/v1/bookings'));
  } catch (e) {
    showStatus(`Agendan kunde inte hämtas: ${e instanceof Error ? e.message : String(e)}`, true);
  }
}

/**
 * @param {BookingRow} booking
 * @param {HTMLButtonElement} button
 */
async function join(booking, button) {
  button.disabled = true;
  showStatus('Ansluter…', false);
  try {
    const grant = await api(`/api/v1/bookings/${encodeURIComponent(booking.booking_id)}/join`, { method: 'POST' });
    inMeeting = true;
    agendaView.hidden = true;
    await enterMeeting(grant, {
      onLeft: () => {
        inMeeting = false;
        agendaView.hidden = false;
        lastRendered = '';
        showStatus('Du har lämnat mötet.', false);
        refresh();
      },
    });
    showStatus('', false);
  } catch (e) {
    if (!inMeeting) showStatus(`Kunde inte ansluta: ${e instanceof Error ? e.message : String(e)}`, true);
    button.disabled = false;
  }
}

/**
 * @param {string} text
 * @param {boolean} isError
 */
function showStatus(text, isError) {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

await refresh();
setInterval(refresh, REFRESH_MS);
