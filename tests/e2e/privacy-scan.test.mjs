// @ts-check
/** The log scanner itself: it must find what it looks for and not cry wolf at ids and times. */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { findPersonnummer, findSecrets, luhnValid, personnummerForms } from './privacy.mjs';

test('personnummer are found in every written form and only when the check digit fits', () => {
  for (const form of ['19121212-1212', '191212121212', '121212-1212', '121212+1212', '20050505-9824']) {
    assert.equal(findPersonnummer(`booking created citizen=${form} ok`).length, 1, form);
  }
  assert.equal(findPersonnummer('citizen=19121212-1213').length, 0, 'wrong check digit');
  assert.equal(findPersonnummer('coordination 701063-2391').length, 1, 'samordningsnummer, day + 60');
  assert.ok(luhnValid('8112189876'));
});

test('colour codes of a text log do not hide a personnummer', () => {
  const line = '\x1b[2m2026-11-22T14:12:37Z\x1b[0m \x1b[32m INFO\x1b[0m \x1b[3mcitizen\x1b[0m\x1b[2m=\x1b[0m191212121212';
  assert.equal(findPersonnummer(line).length, 1);
});

test('ten bare digits are not taken for a personnummer: random 32-bit ids look like them', () => {
  // A real RTX SSRC from a run: 351126-5062 is a valid date and check digit.
  assert.deepEqual(findPersonnummer('SSRC 3827150639 associated with RTX: 3511265062'), []);
  // The demo numbers are still found in that form, as literals.
  assert.equal(findSecrets('citizen 1212121212', personnummerForms('19121212-1212').map((value) => ({ label: 'pnr', value }))).length, 1);
});

test('ids, timestamps and ports in a log are not taken for personnummer', () => {
  const line = '2025-11-22T13:20:01.123456Z INFO booking_id=6e617276-6172-4f00-8000-00000000b001 '
    + 'room=r-0123456789abcdef listen=127.0.0.1:50000 elapsed_ms=1763812345 nanos=123456789012345';
  assert.deepEqual(findPersonnummer(line), []);
});

test('forms of a personnummer cover 10 and 12 digits with and without separator', () => {
  assert.deepEqual(new Set(personnummerForms('19121212-1212')),
    new Set(['1212121212', '121212-1212', '121212+1212', '191212121212', '19121212-1212']));
});

test('a secret is found whole, as a suffix, or as a JWT signature', () => {
  const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJwLTEyMyJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtMTIzNDU2';
  assert.equal(findSecrets(`token=${jwt}`, [{ label: 't', value: jwt }]).length, 1);
  assert.equal(findSecrets('sig=c2lnbmF0dXJlLWJ5dGVzLWhlcmUtMTIzNDU2', [{ label: 't', value: jwt }]).length, 1);
  assert.equal(findSecrets('nothing here', [{ label: 't', value: jwt }]).length, 0);
});
