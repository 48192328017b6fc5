// @ts-check
/**
 * The service guide's console: today's bookings with their state and how each citizen was
 * identified, the check of a citizen's ID document (assisted identification, under the guide's
 * own name), a form to book a meeting on a citizen's behalf, "Starta mötet" to open a booked
 * meeting so the booth and officer can join, one-time codes to enrol the booths' kiosks, and the
 * booths' open help calls ("call the guide", or a citizen without BankID who needs their ID
 * document checked), each answered with "Jag går dit".
 */
import { ApiError, api, byId, el, isToday, stateLabel, timeOfDay } from './api.js';

/**
 * @typedef {{id: string, name: string}} Named
 * @typedef {{agencies: Named[], services: (Named & {agency_id: string})[], centres: Named[],
 *   booths: (Named & {centre_id: string})[], officers: {id: string, display_name: string, agency_id: string}[]}} Directory
 * @typedef {{booking_id: string, room_id: string, state: string, starts_at: string, duration_minutes: number,
 *   service: string, agency: string, officer: {id: string, name: string}, booth: {id: string, name: string},
 *   citizen_name: string | null, identified: {method: string, label: string} | null}} BookingRow
 */

/** States in which the guide may start the meeting. */
const STARTABLE = new Set(['booked', 'checked_in']);
/** States in which the citizen can be identified for the meeting. */
const IDENTIFIABLE = new Set(['booked', 'checked_in', 'started']);
const REFRESH_MS = 5000;

/** What a help call asks of the guide, by its reason code. */
const HELP_REASONS = /** @type {Record<string, string>} */ ({
  identification: 'Medborgaren har inget BankID: kontrollera ID-handlingen vid disken',
  meeting: 'Hjälp behövs i mötet',
  other: 'Hjälp behövs',
});

const status = byId('guide-status', HTMLElement);
const form = byId('booking-form', HTMLFormElement);
const serviceSelect = byId('service', HTMLSelectElement);
const officerSelect = byId('officer', HTMLSelectElement);
const boothSelect = byId('booth', HTMLSelectElement);
const startsAt = byId('starts-at', HTMLInputElement);
const duration = byId('duration', HTMLSelectElement);
const personnummer = byId('personnummer', HTMLInputElement);
const citizenName = byId('citizen-name', HTMLInputElement);
const formError = byId('form-error', HTMLElement);
const tbody = byId('bookings-body', HTMLTableSectionElement);
const empty = byId('bookings-empty', HTMLElement);

/** @type {Directory} */
let directory = { agencies: [], services: [], centres: [], booths: [], officers: [] };
let lastRendered = '';

/**
 * "2025-03-01T14:05" for a datetime-local input, in local time.
 * @param {Date} date
 * @returns {string}
 */
export function localInputValue(date) {
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * @param {HTMLSelectElement} select
 * @param {{value: string, label: string, group?: string}[]} options
 */
function fill(select, options) {
  const previous = select.value;
  select.replaceChildren();
  /** @type {Map<string, HTMLOptGroupElement>} */
  const groups = new Map();
  for (const o of options) {
    const option = el('option', o.label);
    option.value = o.value;
    if (o.group) {
      let group = groups.get(o.group);
      if (!group) {
        group = el('optgroup');
        group.label = o.group;
        groups.set(o.group, group);
        select.append(group);
      }
      group.append(option);
    } else {
      select.append(option);
    }
  }
  if (options.some((o) => o.value === previous)) select.value = previous;
}

function fillOfficers() {
  const service = directory.services.find((s) => s.id === serviceSelect.value);
  const officers = directory.officers.filter((o) => !service || o.agency_id === service.agency_id);
  fill(officerSelect, officers.map((o) => ({ value: o.id, label: o.display_name })));
}

async function loadDirectory() {
  directory = await api('/api/v1/directory');
  const agencies = new Map(directory.agencies.map((a) => [a.id, a.name]));
  const centres = new Map(directory.centres.map((c) => [c.id, c.name]));
  fill(serviceSelect, directory.services.map((s) => ({
    value: s.id,
    label: s.name,
    group: agencies.get(s.agency_id),
  })));
  fillOfficers();
  fill(boothSelect, directory.booths.map((b) => ({
    value: b.id,
    label: b.name,
    group: centres.get(b.centre_id),
  })));
}

/** @param {BookingRow[]} bookings */
function renderBookings(bookings) {
  const today = bookings
    .filter((b) => isToday(b.starts_at) || b.state === 'started')
    .sort((a, b) => a.starts_at.localeCompare(b.starts_at));
  const key = JSON.stringify(today);
  if (key === lastRendered) return;
  lastRendered = key;

  const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.bookingId : undefined;
  tbody.replaceChildren(...today.map((b) => {
    const row = el('tr');
    row.dataset.bookingId = b.booking_id;
    row.dataset.state = b.state;
    row.append(
      el('td', timeOfDay(b.starts_at)),
      el('td', `${b.service} (${b.agency})`),
      el('td', b.officer.name),
      el('td', b.booth.name),
      el('td', b.citizen_name ?? '–'),
      identificationCell(b),
      el('td', stateLabel(b.state), `state state-${b.state}`),
    );
    const action = el('td');
    if (STARTABLE.has(b.state)) {
      const button = el('button', 'Starta mötet', 'start-meeting');
      button.type = 'button';
      button.dataset.bookingId = b.booking_id;
      button.setAttribute('aria-label', `Starta mötet ${timeOfDay(b.starts_at)} i ${b.booth.name}`);
      button.addEventListener('click', () => startMeeting(b, button));
      action.append(button);
    }
    row.append(action);
    return row;
  }));
  empty.hidden = today.length > 0;
  if (focused) {
    const again = tbody.querySelector(`button[data-booking-id="${CSS.escape(focused)}"]`);
    if (again instanceof HTMLElement) again.focus();
  }
}

/**
 * How the citizen was identified, or the button to check their ID document.
 * @param {BookingRow} b
 */
function identificationCell(b) {
  const cell = el('td', '', 'identified');
  if (b.identified) {
    cell.textContent = b.identified.label;
  } else if (IDENTIFIABLE.has(b.state)) {
    const button = el('button', 'Kontrollera ID-handling', 'identify');
    button.type = 'button';
    button.dataset.bookingId = b.booking_id;
    button.setAttribute('aria-label', `Kontrollera ID-handling för ${b.citizen_name ?? 'medborgaren'}, ${timeOfDay(b.starts_at)} i ${b.booth.name}`);
    button.addEventListener('click', () => openIdentify(b));
    cell.append(button);
  } else {
    cell.textContent = '–';
  }
  return cell;
}

const identifyDialog = byId('identify-dialog', HTMLDialogElement);
const identifyForm = byId('identify-form', HTMLFormElement);
const identifyError = byId('identify-error', HTMLElement);
/** @type {BookingRow | null} */
let identifying = null;

/** @param {BookingRow} b */
function openIdentify(b) {
  identifying = b;
  identifyForm.reset();
  identifyError.textContent = '';
  byId('identify-for', HTMLElement).textContent =
    `${b.citizen_name ?? 'Medborgaren'} · ${b.service} (${b.agency}) · ${timeOfDay(b.starts_at)} i ${b.booth.name}`;
  identifyDialog.showModal();
  byId('document-type', HTMLSelectElement).focus();
}

identifyForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!identifying) return;
  const last4 = byId('document-last4', HTMLInputElement);
  if (!/^[0-9A-Za-z]{4}$/.test(last4.value.trim())) {
    identifyError.textContent = 'Skriv de fyra sista tecknen (bokstäver eller siffror) i handlingens nummer.';
    last4.focus();
    return;
  }
  try {
    await api(`/api/v1/bookings/${encodeURIComponent(identifying.booking_id)}/identify`, {
      method: 'POST',
      body: { document_type: byId('document-type', HTMLSelectElement).value, document_last4: last4.value.trim() },
    });
    showStatus(`${identifying.citizen_name ?? 'Medborgaren'} är identifierad för mötet i ${identifying.booth.name}.`, false);
    identifyDialog.close();
    identifying = null;
    await refresh();
  } catch (e) {
    identifyError.textContent = `Identifieringen kunde inte sparas: ${message(e)}`;
  }
});

byId('identify-cancel', HTMLButtonElement).addEventListener('click', () => {
  identifying = null;
  identifyDialog.close();
});

/** The centre's booths, each with a button for a kiosk enrolment code. */
function renderKiosks() {
  const list = byId('kiosk-list', HTMLElement);
  list.replaceChildren(...directory.booths.map((booth) => {
    const item = el('li');
    const button = el('button', `Skapa registreringskod för ${booth.name}`, 'enrolment-code');
    button.type = 'button';
    const code = el('code', '', 'kiosk-code');
    button.addEventListener('click', async () => {
      try {
        /** @type {{code: string, expires_at: string}} */
        const made = await api(`/api/v1/booths/${encodeURIComponent(booth.id)}/enrolment-code`, { method: 'POST' });
        code.textContent = made.code;
        byId('kiosk-status', HTMLElement).textContent =
          `Skriv koden på datorn i ${booth.name} före klockan ${timeOfDay(made.expires_at)}.`;
      } catch (e) {
        byId('kiosk-status', HTMLElement).textContent = e instanceof ApiError && e.status === 403
          ? 'Bara servicekontorets administratör kan registrera mötesrummens datorer.'
          : `Koden kunde inte skapas: ${message(e)}`;
      }
    });
    item.append(button, ' ', code);
    return item;
  }));
}

/**
 * @typedef {{id: string, booth_id: string, booth_name: string, reason: string, called_at: string}} HelpCall
 */

/** The calls on screen, so a refresh that finds the same ones leaves the buttons alone. */
let lastHelpCalls = '';

async function refreshHelpCalls() {
  /** @type {HelpCall[]} */
  const calls = await api('/api/v1/help-calls');
  const key = JSON.stringify(calls.map((c) => c.id));
  if (key === lastHelpCalls) return;
  lastHelpCalls = key;
  const list = byId('help-list', HTMLUListElement);
  byId('help-calls', HTMLElement).hidden = calls.length === 0;
  list.replaceChildren(...calls.map((call) => {
    const item = el('li', undefined, 'help-call');
    item.dataset.helpCallId = call.id;
    const what = el('span', `${call.booth_name}: ${HELP_REASONS[call.reason] ?? HELP_REASONS.other} (${timeOfDay(call.called_at)})`);
    const go = el('button', 'Jag går dit', 'primary');
    go.type = 'button';
    go.setAttribute('aria-label', `Jag går dit: ${call.booth_name}`);
    go.addEventListener('click', async () => {
      go.disabled = true;
      try {
        await api(`/api/v1/help-calls/${encodeURIComponent(call.id)}/answer`, { method: 'POST' });
      } catch (e) {
        // Another guide was quicker (409): the list is refreshed either way.
        if (!(e instanceof ApiError && e.status === 409)) status.textContent = `Kunde inte svara: ${e instanceof Error ? e.message : String(e)}`;
      }
      await refreshHelpCalls();
    });
    item.append(what, ' ', go);
    return item;
  }));
}

async function refresh() {
  refreshHelpCalls().catch((e) => console.error('help calls', e));
  try {
    renderBookings(await api('/api/v1/bookings'));
  } catch (e) {
    showStatus(`Bokningarna kunde inte hämtas: ${message(e)}`, true);
  }
}

/**
 * @param {BookingRow} booking
 * @param {HTMLButtonElement} button
 */
async function startMeeting(booking, button) {
  button.disabled = true;
  try {
    await api(`/api/v1/bookings/${encodeURIComponent(booking.booking_id)}/start`, { method: 'POST' });
    showStatus(`Mötet i ${booking.booth.name} är startat.`, false);
  } catch (e) {
    showStatus(`Mötet kunde inte startas: ${message(e)}`, true);
    button.disabled = false;
  }
  await refresh();
}

/**
 * @param {string} text
 * @param {boolean} isError
 */
function showStatus(text, isError) {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

/** @param {unknown} e */
function message(e) {
  return e instanceof Error ? e.message : String(e);
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  formError.textContent = '';
  const when = new Date(startsAt.value);
  if (!startsAt.value || Number.isNaN(when.getTime())) {
    formError.textContent = 'Ange en giltig tid.';
    startsAt.focus();
    return;
  }
  if (!personnummer.value.trim()) {
    formError.textContent = 'Ange medborgarens personnummer.';
    personnummer.focus();
    return;
  }
  const submit = form.querySelector('button[type="submit"]');
  if (submit instanceof HTMLButtonElement) submit.disabled = true;
  try {
    await api('/api/v1/bookings', {
      method: 'POST',
      body: {
        service_id: serviceSelect.value,
        officer_id: officerSelect.value,
        booth_id: boothSelect.value,
        starts_at: when.toISOString(),
        duration_minutes: Number(duration.value),
        citizen_personnummer: personnummer.value.trim(),
        // Booking keeps the name it already has for a citizen booked before.
        ...(citizenName.value.trim() ? { citizen_name: citizenName.value.trim() } : {}),
      },
    });
    showStatus('Mötet är bokat.', false);
    personnummer.value = '';
    citizenName.value = '';
    await refresh();
  } catch (e) {
    formError.textContent = e instanceof ApiError && e.status === 409
      ? `Tiden är upptagen: ${e.message}`
      : `Mötet kunde inte bokas: ${message(e)}`;
  } finally {
    if (submit instanceof HTMLButtonElement) submit.disabled = false;
  }
});

serviceSelect.addEventListener('change', fillOfficers);
startsAt.value = localInputValue(new Date());

try {
  await loadDirectory();
  renderKiosks();
} catch (e) {
  showStatus(`Katalogen kunde inte hämtas: ${message(e)}`, true);
}
await refresh();
setInterval(refresh, REFRESH_MS);
