// @ts-check
/**
 * The development e-ID: each listed demo person is a button; choosing one signs in as them
 * through booking's dev e-ID API and returns to the page that asked.
 */
import { api, byId } from './api.js';

const main = byId('main', HTMLElement);
const returnTo = safeReturnTo(main.dataset.returnTo ?? '/');
const status = byId('people-status', HTMLElement);

/**
 * The server has validated `return_to`; check again so this page never becomes an open redirect
 * even if the two drift apart.
 * @param {string} path
 * @returns {string}
 */
export function safeReturnTo(path) {
  return /^\/(?![/\\])[^\\\s]*$/.test(path) ? path : '/';
}

/** @param {HTMLButtonElement} button */
async function signIn(button) {
  const personId = button.dataset.personId ?? '';
  const name = button.dataset.displayName ?? '';
  for (const b of document.querySelectorAll('button.person')) if (b instanceof HTMLButtonElement) b.disabled = true;
  status.classList.remove('error');
  status.textContent = `Loggar in som ${name}…`;
  try {
    await api('/api/v1/dev-eid/login', { method: 'POST', body: { person_id: personId }, reloadOn401: false });
    window.location.assign(returnTo);
  } catch (e) {
    status.textContent = `Inloggningen misslyckades: ${e instanceof Error ? e.message : String(e)}`;
    status.classList.add('error');
    for (const b of document.querySelectorAll('button.person')) if (b instanceof HTMLButtonElement) b.disabled = false;
  }
}

for (const button of document.querySelectorAll('button.person[data-person-id]')) {
  if (button instanceof HTMLButtonElement) button.addEventListener('click', () => signIn(button));
}
