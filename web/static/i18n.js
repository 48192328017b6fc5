// @ts-check
/**
 * The page's words for its scripts, in the page's language: the server renders them from its
 * Fluent files (web/i18n/*.ftl) into `<script type="application/json" id="messages">`, a data
 * block the browser never runs, so the CSP needs no exception. Every call is `t('literal-id')`:
 * a test in web/tests reads the scripts for those ids and checks that each exists in every
 * language.
 *
 * A message is text with `{$name}` holes, or a choice on a number by plural category
 * (`Intl.PluralRules` of the page's language picks it). In a right-to-left page each inserted
 * value is wrapped in Unicode isolation marks, as Fluent does on the server, so a Latin name or
 * a clock time keeps its own direction inside an Arabic sentence.
 */

/**
 * @typedef {string | {select: string, variants: Record<string, string>, default: string}} Message
 */

/** @type {Record<string, Message>} */
const messages = (() => {
  const block = document.getElementById('messages');
  if (!block?.textContent) return {};
  try {
    return JSON.parse(block.textContent);
  } catch {
    console.error('the page\'s messages are not JSON');
    return {};
  }
})();

const lang = document.documentElement.lang || 'sv';
const isolate = document.documentElement.dir === 'rtl';

/**
 * The message `id` with `args` filled in. An unknown id shows as itself (and is logged): the
 * tests keep that from happening.
 * @param {string} id
 * @param {Record<string, string | number>} [args]
 * @returns {string}
 */
export function t(id, args = {}) {
  const message = messages[id];
  if (message === undefined) {
    console.error(`no message ${id}`);
    return id;
  }
  let text;
  if (typeof message === 'string') {
    text = message;
  } else {
    const value = args[message.select];
    const key = typeof value === 'number' && message.variants[String(value)] === undefined
      ? new Intl.PluralRules(lang).select(value)
      : String(value);
    text = message.variants[key] ?? message.variants[message.default] ?? '';
  }
  return text.replace(/\{\$([A-Za-z0-9_-]+)\}/g, (hole, name) => {
    const value = args[name];
    if (value === undefined) return hole;
    return isolate ? `\u2068${value}\u2069` : String(value);
  });
}

/** The page's language, as in `<html lang>`. */
export function pageLang() {
  return lang;
}
