// @ts-check
/**
 * Enrolling this device as a booth's kiosk: with the one-time code a centre admin made for the
 * booth, or in development with one press. Either way booking sets the kiosk's credential in an
 * HttpOnly cookie, and the page reloads as the kiosk.
 */
import { ApiError, api, byId } from './api.js';

const form = byId('enrol-form', HTMLFormElement);
const error = byId('enrol-error', HTMLElement);
const boothId = byId('main', HTMLElement).dataset.boothId ?? '';

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.textContent = '';
  const code = byId('enrol-code', HTMLInputElement).value;
  try {
    /** @type {{booth_id: string}} */
    const enrolled = await api('/api/v1/booth-device/enrol', { method: 'POST', body: { code }, reloadOn401: false });
    if (enrolled.booth_id !== boothId) {
      window.location.assign(`/booth/${encodeURIComponent(enrolled.booth_id)}`);
      return;
    }
    window.location.reload();
  } catch (e) {
    error.textContent = e instanceof ApiError && e.code === 'invalid_enrolment_code'
      ? 'Koden gäller inte. Den kan ha använts redan eller vara för gammal. Be om en ny kod.'
      : 'Det gick inte att registrera datorn. Försök igen.';
  }
});

const dev = document.getElementById('enrol-dev');
dev?.addEventListener('click', async () => {
  await api('/api/v1/dev-eid/enrol-booth', { method: 'POST', body: { booth_id: boothId } });
  window.location.reload();
});
