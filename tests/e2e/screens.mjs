// @ts-check
/**
 * Regenerates the screenshots of every booth kiosk screen and of the follow-up dashboard in
 * docs/screens/: at 1280×800 and 1920×1080, in Swedish and Arabic, by walking the kiosk as its
 * browser test does (kiosk-flow.mjs) and by opening the dashboard over the day its test seeds
 * (follow-up-flow.mjs), against the real `narvaro` binary. See docs/screens/README.md.
 *
 *   cd tests/e2e && npm ci && NARVARO_BIN=…/narvaro node screens.mjs [booth|follow-up]
 *
 * With an argument, only that part is taken again (the kiosk's walks take minutes).
 * The PNGs are documentation: where `pngquant` is installed (Debian: apt-get install pngquant)
 * they are reduced to 256 colours, which keeps them a tenth of the size and still sharp.
 * Names are `booth-<screen>-<lang>-<width>x<height>.png`; the language screen is the same in
 * every language (it is always Swedish first, each language named in itself) and is taken once
 * per size, as `booth-language-<width>x<height>.png`. The dashboard's are
 * `follow-up-<lang>-<width>x<height>.png`, the whole page (it scrolls), Försäkringskassan's analyst
 * with Ljusdal and today chosen.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { collector, devEidSignIn, launchChromium, openPage } from './meeting-flow.mjs';
import { walkKiosk } from './kiosk-flow.mjs';
import { seedFollowUp, swedishToday } from './follow-up-flow.mjs';
import { REPO_ROOT, startServer } from './server.mjs';

const OUT = path.join(REPO_ROOT, 'docs', 'screens');
const VIEWPORTS = [{ width: 1280, height: 800 }, { width: 1920, height: 1080 }];
const LANGS = /** @type {const} */ (['sv', 'ar']);

/** @param {string} file */
function shrink(file) {
  const run = spawnSync('pngquant', ['--force', '--skip-if-larger', '--quality=70-95', '--output', file, file]);
  // 98: the result would have been larger; 99: below the quality floor. Either way the original stays.
  if (run.error || (run.status !== 0 && run.status !== 98 && run.status !== 99)) return false;
  return true;
}

const only = process.argv[2];
if (only !== undefined && only !== 'booth' && only !== 'follow-up') {
  console.error(`usage: node screens.mjs [booth|follow-up] (not ${only})`);
  process.exit(2);
}

fs.mkdirSync(OUT, { recursive: true });
const browser = await launchChromium();
/** @type {string[]} */
const written = [];
try {
  for (const viewport of only === 'follow-up' ? [] : VIEWPORTS) {
    for (const lang of LANGS) {
      // The guide's help, with BankID's screen on the way (the citizen goes back from it), so one
      // walk passes every screen.
      const server = await startServer({ name: `screens-${lang}-${viewport.width}` });
      try {
        await walkKiosk({
          name: `screens-${lang}-${viewport.width}`,
          browser,
          baseUrl: server.baseUrl,
          collected: collector(),
          viewport,
          lang,
          identify: 'guide',
          onScreen: async (page, screen) => {
            if (screen === 'language' && lang !== 'sv') return;
            const size = `${viewport.width}x${viewport.height}`;
            const file = path.join(OUT, screen === 'language' ? `booth-language-${size}.png` : `booth-${screen}-${lang}-${size}.png`);
            // Blinking carets and the BankID code's second-by-second change are not what the
            // picture is about; wait for fonts and layout to settle.
            await page.evaluate(() => document.fonts.ready);
            await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
            written.push(file);
          },
        });
      } finally {
        await server.stop();
      }
    }
  }
  if (only !== 'booth') {
    const server = await startServer({ name: 'screens-follow-up' });
    try {
      await seedFollowUp(server.baseUrl);
      const today = swedishToday();
      for (const viewport of VIEWPORTS) {
        const opened = await openPage(browser, `screens-follow-up-${viewport.width}`, server.baseUrl, collector(), { viewport });
        try {
          const { page } = opened;
          await page.goto('/follow-up');
          await devEidSignIn(page, 'Lena Berg', /\/follow-up$/);
          const ljusdal = await page.locator('#f-centre option', { hasText: 'Ljusdal' }).getAttribute('value');
          for (const lang of LANGS) {
            await page.goto(`/follow-up?from=${today}&to=${today}&centre_id=${ljusdal}&lang=${lang}`);
            await page.locator('#figures').waitFor();
            await page.evaluate(() => document.fonts.ready);
            const file = path.join(OUT, `follow-up-${lang}-${viewport.width}x${viewport.height}.png`);
            await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'hide' });
            written.push(file);
          }
        } finally {
          await opened.context.close();
        }
      }
    } finally {
      await server.stop();
    }
  }
} finally {
  await browser.close();
}
const shrunk = written.filter(shrink).length;
const bytes = written.reduce((sum, f) => sum + fs.statSync(f).size, 0);
console.log(`${written.length} screenshots in ${path.relative(process.cwd(), OUT)} (${Math.round(bytes / 1024)} KiB; ${shrunk} reduced with pngquant)`);
