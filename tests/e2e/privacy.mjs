// @ts-check
/**
 * Finding personal data and secrets in a log: Swedish personal identity numbers (personnummer and
 * samordningsnummer, 10 or 12 digits, with or without separator, Luhn-checked) and given literal
 * secrets (join tokens, session cookies).
 */

/**
 * Removes terminal colour codes. A coloured log puts `ESC[0m` right before each field value, and
 * that `m` would otherwise hide a number from the boundary check of the pattern below.
 * @param {string} text
 */
export function stripAnsi(text) {
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
}

/**
 * The forms one personnummer can be written in: 12 digits, 10 digits, with and without `-`/`+`.
 * @param {string} personnummer e.g. "19121212-1212"
 * @returns {string[]}
 */
export function personnummerForms(personnummer) {
  const digits = personnummer.replace(/\D/g, '');
  const twelve = digits.length === 12 ? digits : null;
  const ten = digits.slice(-10);
  const forms = new Set([ten, `${ten.slice(0, 6)}-${ten.slice(6)}`, `${ten.slice(0, 6)}+${ten.slice(6)}`]);
  if (twelve) {
    forms.add(twelve);
    forms.add(`${twelve.slice(0, 8)}-${twelve.slice(8)}`);
  }
  return [...forms];
}

/**
 * Luhn over the last ten digits, as Skatteverket defines the check digit.
 * @param {string} tenDigits
 */
export function luhnValid(tenDigits) {
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    let d = Number(tenDigits[i]) * (i % 2 === 0 ? 2 : 1);
    if (d > 9) d -= 9;
    sum += d;
  }
  return sum % 10 === 0;
}

const MONTH_DAY = '(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\\d|3[01]|6[1-9]|[78]\\d|9[01])';

/**
 * YYYYMMDD-NNNN, YYYYMMDDNNNN or YYMMDD-NNNN / YYMMDD+NNNN, not inside a longer run of digits or
 * letters; day 61–91 is a samordningsnummer. Ten bare digits (YYMMDDNNNN) are left out on purpose:
 * random 32-bit ids (RTP SSRCs, counters) are ten digits and one in a few hundred passes the date
 * and check-digit tests. The demo numbers are searched for literally in that form as well.
 */
const PERSONNUMMER = new RegExp(
  `(?<![\\dA-Za-z])(?:((?:19|20)\\d{2}${MONTH_DAY})([-+]?)|(\\d{2}${MONTH_DAY})([-+]))(\\d{4})(?![\\dA-Za-z])`,
  'g',
);

/**
 * Every Luhn-valid personal identity number in `text` (see the pattern above for the forms), with
 * its line.
 * @param {string} text
 * @returns {{match: string, line: string}[]}
 */
export function findPersonnummer(text) {
  /** @type {{match: string, line: string}[]} */
  const found = [];
  text = stripAnsi(text);
  for (const m of text.matchAll(PERSONNUMMER)) {
    const date = m[1] ?? m[3];
    const ten = `${date.slice(-6)}${m[5]}`;
    if (!luhnValid(ten)) continue;
    const start = text.lastIndexOf('\n', m.index) + 1;
    const end = text.indexOf('\n', m.index);
    found.push({ match: m[0], line: text.slice(start, end === -1 ? undefined : end) });
  }
  return found;
}

/**
 * Where each secret (or its last 16 characters, in case a log prints a suffix) occurs in `text`.
 * @param {string} text
 * @param {{label: string, value: string}[]} secrets
 * @returns {{label: string, line: string}[]}
 */
export function findSecrets(text, secrets) {
  /** @type {{label: string, line: string}[]} */
  const found = [];
  text = stripAnsi(text);
  for (const { label, value } of secrets) {
    const needles = new Set([value]);
    if (value.length > 24) needles.add(value.slice(-16));
    // A JWT's signature is its last segment; logging only that would still be a leak.
    const parts = value.split('.');
    if (parts.length === 3 && parts[2].length >= 16) needles.add(parts[2]);
    for (const needle of needles) {
      const i = text.indexOf(needle);
      if (i === -1) continue;
      const start = text.lastIndexOf('\n', i) + 1;
      const end = text.indexOf('\n', i);
      found.push({ label, line: text.slice(start, end === -1 ? undefined : end) });
      break;
    }
  }
  return found;
}
