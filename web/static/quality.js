// @ts-check
/**
 * Connection quality and the active speaker in the meeting view: a small indicator of this
 * participant's own connection, from the server's `quality` messages, and a mark on the tile of
 * whoever has the floor, from `active_speaker` (signalling/PROTOCOL.md). meeting.js calls the two
 * functions here from its message handler.
 *
 * Neither relies on colour alone: the indicator says the level in words, the speaker's tile gets
 * the word "Talar" as well as a frame. Only a change of level is announced to a screen reader;
 * who speaks is not (the listener hears it, and an announcement would talk over them).
 *
 * The level and the word are in the page's language (i18n.js); the figures in the tooltip stay
 * Swedish: they are for the guide or support who helps at the booth, not for the citizen.
 */
import { t } from './i18n.js';

/** @typedef {'good' | 'fair' | 'poor'} QualityLevel */

/**
 * This client's connection as the SFU measures it (the fields of `quality`). A figure is `null`
 * until measured.
 * @typedef {object} QualityReport
 * @property {number | null} rtt_ms round trip between this client and the SFU
 * @property {number | null} loss_up share of what this client sends that is lost, 0 to 1
 * @property {number | null} loss_down share of what it receives that is lost, 0 to 1
 * @property {number | null} jitter_ms audio jitter, the worse direction
 * @property {number} bitrate_up_kbps
 * @property {number} bitrate_down_kbps
 * @property {QualityLevel} level poor: loss over 5 %, round trip over 400 ms, jitter over 50 ms
 *   or a video paused for the link; fair: loss over 2 %, round trip over 250 ms or jitter over
 *   30 ms; good otherwise
 */

/** The indicator's words for each level. */
const LEVEL_TEXT = /** @type {Record<QualityLevel, () => string>} */ ({
  good: () => t('quality-good'),
  fair: () => t('quality-fair'),
  poor: () => t('quality-poor'),
});

/**
 * Shows the connection quality at the top of the self-view, made on the first report. The
 * figures go in its tooltip, for whoever helps at the booth.
 * @param {HTMLVideoElement} localVideo the self-view's video
 * @param {QualityReport} report
 */
export function showQuality(localVideo, report) {
  const selfView = localVideo.parentElement;
  if (!selfView) return;
  const found = selfView.querySelector(':scope > .connection-quality');
  const indicator = found instanceof HTMLElement ? found : document.createElement('p');
  if (!found) {
    indicator.className = 'connection-quality';
    indicator.setAttribute('role', 'status');
    selfView.append(indicator);
  }
  if (indicator.dataset.level !== report.level) {
    indicator.dataset.level = report.level;
    indicator.textContent = LEVEL_TEXT[report.level]?.() ?? report.level;
  }
  indicator.title = figures(report);
}

/**
 * The measured figures in Swedish, e.g. "Fördröjning 40 ms · förlust 0,5 % upp, 0 % ned · …".
 * @param {QualityReport} report
 * @returns {string}
 */
export function figures(report) {
  /** @param {number | null} share */
  const percent = (share) => (share === null
    ? '–'
    : `${(share * 100).toLocaleString('sv-SE', { maximumFractionDigits: 1 })} %`);
  /** @param {number | null} ms */
  const millis = (ms) => (ms === null ? '–' : `${ms} ms`);
  return [
    `Fördröjning ${millis(report.rtt_ms)}`,
    `förlust ${percent(report.loss_up)} upp, ${percent(report.loss_down)} ned`,
    `jitter ${millis(report.jitter_ms)}`,
    `${report.bitrate_up_kbps} kbit/s upp, ${report.bitrate_down_kbps} kbit/s ned`,
  ].join(' · ');
}

/** Who has the floor on each stage, for tiles that appear later. */
const floorOf = /** @type {WeakMap<HTMLElement, {speaker: string | null}>} */ (new WeakMap());

/**
 * Marks the tile of the participant who has the floor (the self-view when it is this client) and
 * unmarks the rest. A tile made later for that participant is marked when it appears.
 * @param {HTMLElement} stage holds the others' tiles, each a `figure` with `data-participant-id`
 * @param {HTMLVideoElement} localVideo the self-view's video
 * @param {string | null} speaker the participant with the floor; `null`: nobody
 * @param {string | null} self this client's participant id
 */
export function showSpeaker(stage, localVideo, speaker, self) {
  let floor = floorOf.get(stage);
  if (!floor) {
    const watched = { speaker };
    new MutationObserver(() => markTiles(stage, watched.speaker)).observe(stage, { childList: true });
    floorOf.set(stage, watched);
    floor = watched;
  }
  floor.speaker = speaker;
  markTiles(stage, speaker);
  const selfView = localVideo.parentElement;
  if (selfView) mark(selfView, speaker !== null && speaker === self);
}

/**
 * @param {HTMLElement} stage
 * @param {string | null} speaker
 */
function markTiles(stage, speaker) {
  for (const tile of stage.querySelectorAll('figure[data-participant-id]')) {
    if (tile instanceof HTMLElement) mark(tile, tile.dataset.participantId === speaker);
  }
}

/**
 * A frame and the word "Talar" on a speaking tile. The word sits in its own element, kept (empty)
 * when nobody speaks and outside the stage's live region, so the change is not announced.
 * @param {HTMLElement} figure
 * @param {boolean} speaking
 */
function mark(figure, speaking) {
  figure.classList.toggle('speaking', speaking);
  let badge = figure.querySelector(':scope > .speaking-badge');
  if (!badge && !speaking) return;
  if (!badge) {
    badge = document.createElement('span');
    badge.className = 'speaking-badge';
    badge.setAttribute('aria-live', 'off');
    figure.append(badge);
  }
  badge.textContent = speaking ? t('meeting-speaking') : '';
}
