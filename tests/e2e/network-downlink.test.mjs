// @ts-check
/**
 * Must-show of the network lab: simulcast switching. The resolution a subscriber receives follows
 * its available bandwidth down and back up.
 *
 * The officer publishes three simulcast layers (720p, 360p, 180p). On a clean link the booth
 * receives the top one. Then only the booth's downlink (server → booth) is capped at 300 kbit/s
 * (`tc tbf` in the lab's link namespace; the uplink stays clean): the officer's video at the booth
 * must go down to the lowest layer or pause (the SFU then says `video_paused` and the tile shows
 * "Videon är pausad – dålig anslutning"), and stay there while the cap lasts, while the officer's
 * audio keeps ≥ 98 % of its packets. Once the cap is lifted the booth must get the top layer again.
 *
 * The heights the booth receives are printed with their times, and how long each switch took.
 * No product deadline exists for the switches, so none is asserted: each is watched for at most
 * `WATCH_MS` (a bound on the test, not a requirement) and the figure is printed. As in
 * `network-cap.test.mjs`, the first `SETTLE_MS` of the cap are printed, not judged: a link that
 * suddenly slows loses packets before any sender can react, here the SFU, whose estimate must
 * fall first. Audio and the layer are judged in the `HOLD_MS` after them; the audio figure of the
 * whole cap is printed too. Needs root; skips otherwise.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { waitForMedia } from './meeting-flow.mjs';
import { labUnavailable } from './netlab.mjs';
import { audioSnapshot, linkStats, percent, scanLabLog, sleep, startLabMeeting } from './lab-meeting.mjs';

const skip = labUnavailable() ?? false;
const RATE = '300kbit';
/** The longest the test watches for each switch; a bound on the test, not a product deadline. */
const WATCH_MS = 30_000;
/** The first part of the cap, while the SFU's estimate falls: printed, not judged. */
const SETTLE_MS = 5_000;
/** How long the cap is held after the settling, with audio counted and the layer watched. */
const HOLD_MS = 20_000;
/**
 * Audio delivered to the booth while its downlink is capped. Lower than the 99 % the issue asks
 * of the booth's uplink (network-cap.test.mjs): on a downlink this tight the SFU's probes for a
 * better layer (docs/media.md, "trial") may cost some audio (measured 99.0–101.0 % in nine runs
 * since trials stop at the first loss).
 */
const MIN_AUDIO_DELIVERED = 0.98;
const SAMPLE_MS = 500;
const PAUSED_TEXT = 'Videon är pausad';

/** @type {import('./lab-meeting.mjs').LabMeeting | undefined} */
let meeting;
after(() => meeting?.close());

/**
 * @typedef {object} Reading
 * @property {number} ms since the step began (cap or lift), on this process's clock
 * @property {number | null} height the officer's video as the booth receives it
 * @property {number} decoded frames decoded since the previous reading
 * @property {number} audioLost the officer's audio packets the booth counts lost since then
 * @property {number} videoPackets the officer's video packets received since then
 * @property {number} nacks NACKs the booth sent since then
 * @property {number} plis keyframe requests (PLI) the booth sent since then
 * @property {number} keyframes keyframes decoded since then
 * @property {number} resent retransmitted video packets received since then
 * @property {number | null} rttMs the booth's round trip to the SFU now
 * @property {boolean} paused the booth's tile shows the SFU's pause notice
 * @property {string} connection the booth's connection state
 * @property {number} tiles
 */

/**
 * @typedef {{frames: number, lost: number, packets: number, nacks: number, plis: number, keyframes: number, resent: number}} Totals
 * the booth's counters at a reading
 */

/**
 * The booth's counters in a reading of its link.
 * @param {import('./lab-meeting.mjs').LinkStats} s
 * @returns {Totals}
 */
function totalsOf(s) {
  return {
    frames: s.inVideo.framesDecoded,
    lost: s.inAudio.packetsLost,
    packets: s.inVideo.packetsReceived,
    nacks: s.inVideo.nackCount,
    plis: s.inVideo.pliCount,
    keyframes: s.inVideo.keyFramesDecoded,
    resent: s.inVideo.retransmittedPacketsReceived,
  };
}

/**
 * What the booth receives of the officer's video now.
 * @param {import('playwright-core').Page} booth
 * @param {number} startedAt `Date.now()` of the step
 * @param {Totals} before the counters at the previous reading; updated to these
 * @returns {Promise<Reading>}
 */
async function read(booth, startedAt, before) {
  const s = await linkStats(booth);
  assert.ok(s, "the booth's peer connection exists");
  const notice = await booth.locator('#remote-tiles .tile .tile-notice').first().textContent().catch(() => '');
  const now = totalsOf(s);
  const since = {
    decoded: now.frames - before.frames,
    audioLost: now.lost - before.lost,
    videoPackets: now.packets - before.packets,
    nacks: now.nacks - before.nacks,
    plis: now.plis - before.plis,
    keyframes: now.keyframes - before.keyframes,
    resent: now.resent - before.resent,
  };
  Object.assign(before, now);
  return {
    ms: Date.now() - startedAt,
    height: s.inVideo.frameHeight,
    ...since,
    rttMs: s.path?.rttMs ?? null,
    paused: (notice ?? '').includes(PAUSED_TEXT),
    connection: s.connectionState,
    tiles: s.tiles,
  };
}

/**
 * What the officer's encoder makes of its layers, e.g. `f:720p@20 h:360p@20 q:180p@20`: a busy
 * machine's CPU, or the officer's own send-side estimate, can turn the top one off, and then no
 * SFU can forward it.
 * @param {import('playwright-core').Page} officer
 */
async function officerSends(officer) {
  return (await linkStats(officer))?.outVideo
    .map((v) => `${v.rid}:${v.frameHeight ?? '-'}p@${v.framesPerSecond ?? 0}${v.qualityLimitationReason && v.qualityLimitationReason !== 'none' ? ` (${v.qualityLimitationReason}-limited)` : ''}`)
    .sort().join(' ');
}

/**
 * The readings as runs of the same state: `<from>–<to> s <height>p|paused (<frames decoded>
 * frames[, <n> audio packets lost])`.
 * @param {Reading[]} readings
 */
function describe(readings) {
  /** @type {{from: number, to: number, state: string, decoded: number, audioLost: number}[]} */
  const runs = [];
  for (const r of readings) {
    const state = r.paused ? 'paused' : `${r.height ?? '-'}p`;
    const last = runs.at(-1);
    if (last && last.state === state) {
      last.to = r.ms;
      last.decoded += r.decoded;
      last.audioLost += r.audioLost;
    } else {
      runs.push({ from: r.ms, to: r.ms, state, decoded: r.decoded, audioLost: r.audioLost });
    }
  }
  const s = (/** @type {number} */ ms) => (ms / 1000).toFixed(1);
  return runs.map((r) => `${s(r.from)}${r.to > r.from ? `–${s(r.to)}` : ''} s ${r.state} (${r.decoded} frames${r.audioLost ? `, ${r.audioLost} audio packets lost` : ''})`).join(', ');
}

test('booth downlink capped at 300 kbit/s: the officer\'s video goes down to 180p or pauses, audio kept, 720p again once lifted', { skip, timeout: 300_000 }, async () => {
  meeting = await startLabMeeting({ name: 'netlab-downlink' });
  const { lab, booth, officer, signalling } = meeting;
  const media = await waitForMedia({ booth, officer }, { deadlineMs: 20_000, minFrames: 60, minAudioPackets: 100 });
  assert.ok(media.last.booth && media.last.booth.framesDecoded >= 60, `media flows on the clean link first: ${JSON.stringify(media.last)}`);

  // The officer's layers, from its camera and its sender's encodings.
  const officerStart = await linkStats(officer);
  const top = officerStart?.captureHeight ?? null;
  assert.ok(top, "the officer's camera height");
  const encodings = officerStart?.encodings ?? [];
  assert.equal(encodings.length, 3, `the officer sends three simulcast layers: ${JSON.stringify(encodings)}`);
  const lowest = Math.round(top / Math.max(...encodings.map((e) => e.scaleResolutionDownBy ?? 1)));

  // On the clean link the booth climbs to the top layer.
  const climbStarted = Date.now();
  /** @type {Reading[]} */
  const climb = [];
  const booth0 = await linkStats(booth);
  assert.ok(booth0, "the booth's peer connection exists");
  const totals = totalsOf(booth0);
  for (;;) {
    const r = await read(booth, climbStarted, totals);
    climb.push(r);
    if (r.height === top || r.ms > WATCH_MS) break;
    await sleep(SAMPLE_MS);
  }
  const sending = await officerSends(officer);
  console.log(`figure: clean link: the booth receives the officer's video at ${describe(climb)}; officer sends ${sending}`);
  assert.equal(climb.at(-1)?.height, top, `on a clean link the booth receives the officer's top layer (${top}p); the officer sends ${sending}`);

  // Cap the downlink only.
  lab.capRate({ rate: RATE, direction: 'down' });
  const cappedAt = Date.now();
  const capAudio = await audioSnapshot(meeting.officer, meeting.booth);
  /** @type {Reading[]} */
  const down = [];
  /** @type {number | null} */
  let downMs = null;
  /** @type {Reading | null} */
  let downReading = null;
  for (;;) {
    const r = await read(booth, cappedAt, totals);
    down.push(r);
    if (downMs === null && (r.paused || (r.height !== null && r.height <= lowest && r.decoded > 0))) {
      downMs = r.ms;
      downReading = r;
    }
    if (r.ms >= SETTLE_MS && (downMs !== null || r.ms > WATCH_MS)) break;
    await sleep(SAMPLE_MS);
  }
  // Held: audio counted, the layer watched.
  const settledMs = Date.now() - cappedAt;
  const holdAudio = await audioSnapshot(meeting.officer, meeting.booth);
  const holdStarted = down.length;
  for (;;) {
    await sleep(SAMPLE_MS);
    const r = await read(booth, cappedAt, totals);
    down.push(r);
    if (downMs === null && (r.paused || (r.height !== null && r.height <= lowest && r.decoded > 0))) {
      downMs = r.ms;
      downReading = r;
    }
    if (r.ms >= (down[holdStarted - 1]?.ms ?? 0) + HOLD_MS) break;
  }
  const endAudio = await audioSnapshot(meeting.officer, meeting.booth);
  const cappedMs = Date.now() - cappedAt;
  const boothStats = await linkStats(booth);
  const qdisc = lab.qdiscStats();
  const pausedFrames = signalling.booth.filter((f) => f.type === 'video_paused' && f.at >= cappedAt).map((f) => `${f.message.paused}@${((f.at - cappedAt) / 1000).toFixed(1)}s`);

  /** @type {string[]} */
  const problems = [];
  const settleSent = holdAudio.sent - capAudio.sent;
  const settleReceived = holdAudio.received - capAudio.received;
  const heldSent = endAudio.sent - holdAudio.sent;
  const heldReceived = endAudio.received - holdAudio.received;
  const sent = endAudio.sent - capAudio.sent;
  const received = endAudio.received - capAudio.received;
  const droppedDown = /dropped (\d+)/.exec(qdisc.down)?.[1] ?? '?';
  console.log(`figure: ${RATE} on the booth's downlink: officer's video at the booth ${describe(down)}`);
  console.log(`figure: ${RATE} downlink: down to ${lowest}p or paused after ${downMs !== null ? `${downMs} ms (${downReading?.paused ? 'paused' : `${downReading?.height}p`})` : `more than ${WATCH_MS / 1000} s`};`
    + ` video_paused messages to the booth: ${pausedFrames.join(', ') || 'none'}`);
  // The first part can read over 100 %: audio queued behind video when the cap began arrives in it.
  console.log(`figure: ${RATE} downlink, whole cap (${(cappedMs / 1000).toFixed(0)} s): officer's audio delivered to the booth ${percent(received, sent)} (${received} of ${sent});`
    + ` first ${(settledMs / 1000).toFixed(1)} s ${percent(settleReceived, settleSent)} (${settleReceived} of ${settleSent}),`
    + ` next ${HOLD_MS / 1000} s ${percent(heldReceived, heldSent)} (${heldReceived} of ${heldSent})`);
  console.log(`figure: ${RATE} downlink: ${endAudio.lost - capAudio.lost} audio packets lost by sequence number,`
    + ` concealed ${percent(endAudio.concealed - capAudio.concealed, endAudio.samples - capAudio.samples)} of the samples;`
    + ` tbf dropped ${droppedDown} packets to the booth; booth rtt ${boothStats?.path?.rttMs?.toFixed(0) ?? '?'} ms`);

  if (!(heldSent > 0 && heldReceived / heldSent >= MIN_AUDIO_DELIVERED)) {
    problems.push(`audio: in the ${HOLD_MS / 1000} s after the first ${(settledMs / 1000).toFixed(1)} s of the cap the booth received ${percent(heldReceived, heldSent)} of the officer's audio packets (${heldReceived} of ${heldSent}); must be ≥ ${MIN_AUDIO_DELIVERED * 100} %`);
  }
  if (downMs === null) {
    problems.push(`video: the booth's received video neither went down to ${lowest}p nor paused within ${WATCH_MS / 1000} s: ${describe(down)}`);
  }
  // While the cap holds, the video stays low or paused: a layer above the lowest would overrun
  // the link. A stall without the pause notice is a freeze nobody explains to the citizen; one
  // reading (half a second) without a decoded frame is let pass: on a link this tight with a
  // 200 ms queue a lost packet of a frame takes a NACK round trip behind the queue, or a
  // keyframe (several kB, a quarter of a second at 300 kbit/s), to mend. Two in a row, a second
  // or more, fail.
  const held = down.slice(holdStarted);
  const tooHigh = held.filter((r) => !r.paused && !(r.height !== null && r.height <= lowest));
  if (tooHigh.length) {
    problems.push(`video: while capped, ${tooHigh.length} of ${held.length} readings neither at ≤ ${lowest}p nor paused: ${describe(tooHigh)}`);
  }
  // Just after a pause ends, the first frame waits for a keyframe: that reading may show none.
  const stalled = held.map((r, i) => !r.paused && r.decoded === 0 && !(held[i - 1] ?? down[holdStarted - 1])?.paused);
  const longStalls = held.filter((_, i) => stalled[i] && stalled[i - 1]);
  console.log(`figure: ${RATE} downlink: ${stalled.filter(Boolean).length} of ${held.length} half-second readings while capped without a decoded frame, ${longStalls.length} of them following another`);
  const count = (/** @type {'nacks' | 'plis' | 'keyframes' | 'resent'} */ k) => held.reduce((n, r) => n + r[k], 0);
  console.log(`figure: ${RATE} downlink, held part: the booth sent ${count('nacks')} NACKs and ${count('plis')} PLIs, received ${count('resent')} retransmitted video packets and decoded ${count('keyframes')} keyframes`);
  if (longStalls.length) {
    problems.push(`video: while capped, the booth's video froze for a second or more without the pause notice: ${describe(longStalls)}`);
    // What the booth's receiver did around the freeze, for whoever looks into it.
    const first = held.indexOf(longStalls[0]) - 2;
    const last = held.indexOf(/** @type {Reading} */ (longStalls.at(-1))) + 3;
    console.log(`figure: ${RATE} downlink: around the freeze (s: video packets received, NACKs, PLIs sent, keyframes decoded, packets resent, frames decoded, booth rtt ms): `
      + held.slice(Math.max(0, first), last).map((r) => `${(r.ms / 1000).toFixed(1)}: ${r.videoPackets} pkts ${r.nacks} nack ${r.plis} pli ${r.keyframes} kf ${r.resent} rtx ${r.decoded} fr ${r.rttMs?.toFixed(0) ?? '-'} ms`).join('; '));
  }
  const broken = down.find((r) => r.connection !== 'connected' || r.tiles !== 1);
  if (broken) problems.push(`meeting: the booth's connection ${broken.connection} with ${broken.tiles} tiles at ${broken.ms} ms into the cap`);

  // Lift the cap: the booth climbs back to the top layer.
  lab.clearRate('down');
  const liftedAt = Date.now();
  /** @type {Reading[]} */
  const up = [];
  for (;;) {
    const r = await read(booth, liftedAt, totals);
    up.push(r);
    if ((r.height === top && r.decoded > 0 && !r.paused) || r.ms > WATCH_MS) break;
    await sleep(SAMPLE_MS / 2);
  }
  const upMs = up.at(-1)?.height === top ? up.at(-1)?.ms ?? null : null;
  const sendingAfter = await officerSends(officer);
  console.log(`figure: cap lifted: officer's video at the booth ${describe(up)}; ${top}p again after ${upMs !== null ? `${upMs} ms` : `more than ${WATCH_MS / 1000} s`}; officer sends ${sendingAfter}`);
  if (upMs === null) problems.push(`recovery: the booth did not receive ${top}p again within ${WATCH_MS / 1000} s of lifting the cap: ${describe(up)}; the officer sends ${sendingAfter}`);

  assert.deepEqual(problems, [], 'the booth\'s received resolution follows its downlink down and back up');
});

test('the lab server log holds no personnummer, join token, session cookie or booth address', { skip }, async () => {
  assert.ok(meeting, 'the meeting ran');
  await meeting.close();
  assert.ok(meeting.collected.tokens.length >= 2 && meeting.collected.cookies.length >= 3,
    `collected the join tokens (${meeting.collected.tokens.length}) and session cookies (${meeting.collected.cookies.length}) to search for`);
  const { leaks, numbers } = await scanLabLog(meeting);
  assert.deepEqual(leaks, [], `secrets in ${meeting.server.logPath}`);
  assert.deepEqual(numbers, [], `personal identity numbers in ${meeting.server.logPath}`);
});
