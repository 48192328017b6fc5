// @ts-check
/**
 * Must-show of the network lab: the signalling WebSocket cut mid-meeting. Media does not stop,
 * and the client resumes within 3 s (a product requirement, so this deadline is asserted).
 *
 * Mid-meeting, the lab's TCP forwarder that carries the booth's pages and WebSocket across the
 * link (`tcp-forward.mjs`, inside the booth's namespace) resets every connection it carries, and
 * keeps accepting new ones. The media path (UDP) is untouched. Two cuts, one after the other in
 * the same meeting:
 *
 * 1. both ways, as a flaky link breaks a connection: the server sees its end close too;
 * 2. towards the booth only, as a NAT that forgot its mapping does: the server's end stays open
 *    and silent, so the booth's `resume` arrives while the server still holds the old connection.
 *
 * After each:
 *
 * - media does not stop: the booth's and the officer's video frames decoded and audio packets
 *   received keep rising on the same peer connection; a counter that does not rise for
 *   `MEDIA_STOPPED_MS` counts as media stopped (sampled every 100 ms in the pages);
 * - the booth's client reconnects and resumes within 3 s of the cut: its `timings.resumes` says so,
 *   and on the wire its new WebSocket's first message is `resume` with the latest token it was
 *   given, and the server answers `resumed` for the same participant;
 * - the participant is the same: the same `participant_id`, the officer receives no
 *   `participant_left` or `participant_joined` and keeps the booth's tile;
 * - the resumed session works: the booth toggles its microphone and the officer's tile follows
 *   ("mikrofon av").
 *
 * Needs root; skips otherwise.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { waitForMedia } from './meeting-flow.mjs';
import { labUnavailable } from './netlab.mjs';
import { scanLabLog, sleep, startLabMeeting } from './lab-meeting.mjs';
import { clientState, longestStall, markClient, rate, readTimeline, startTimeline } from './media-timeline.mjs';

const skip = labUnavailable() ?? false;
const RESUME_DEADLINE_MS = 3_000;
/** A counter that does not rise for this long means media stopped (a freeze anyone notices). */
const MEDIA_STOPPED_MS = 1_000;
/** Media watched before the cut and after the resume. */
const BEFORE_MS = 2_000;
const AFTER_MS = 3_000;
/** The longest the test waits for a resume, to print what happens if it is late. */
const WATCH_MS = 15_000;

/** @type {import('./lab-meeting.mjs').LabMeeting | undefined} */
let meeting;
after(() => meeting?.close());

/** Sets up the meeting once media flows both ways, and starts the pages' timelines. */
async function meetingWithMedia() {
  if (meeting) return meeting;
  meeting = await startLabMeeting({ name: 'netlab-resume' });
  const { booth, officer } = meeting;
  const media = await waitForMedia({ booth, officer }, { deadlineMs: 20_000, minFrames: 60, minAudioPackets: 100 });
  assert.ok(media.last.booth && media.last.booth.framesDecoded >= 60 && media.last.officer && media.last.officer.framesDecoded >= 60,
    `media flows both ways first: ${JSON.stringify(media.last)}`);
  await Promise.all([startTimeline(booth), startTimeline(officer)]);
  return meeting;
}

/**
 * Cuts the booth's connections, waits for the resume, checks it, and returns what is wrong.
 * @param {import('./lab-meeting.mjs').LabMeeting} m
 * @param {'both' | 'client'} side
 * @returns {Promise<string[]>}
 */
async function cutAndResume(m, side) {
  const { lab, booth, officer, signalling } = m;
  const label = side === 'both' ? 'cut both ways' : "cut at the booth's side only";
  // The credential to resume with: the latest the booth was given, by `joined` or `resumed`.
  const given = signalling.booth.filter((f) => f.event === 'received' && (f.type === 'joined' || f.type === 'resumed'));
  const roomId = signalling.booth.find((f) => f.event === 'received' && f.type === 'joined')?.message.room_id;
  const token = given.at(-1)?.message.resume_token;
  assert.ok(typeof token === 'string' && token.length > 0, `\`${given.at(-1)?.type ?? 'joined'}\` carries a resume_token (PROTOCOL.md: resume)`);
  const before = await clientState(booth);
  assert.ok(before.participantId, "the booth's participant id");
  await Promise.all([markClient(booth), markClient(officer)]);
  await sleep(BEFORE_MS);

  // The cut: on the booth page's clock just before it, and on this process's.
  const cutAt = await booth.evaluate(() => performance.timeOrigin + performance.now());
  const cutWall = Date.now();
  const cut = await lab.resetForwarded(side);
  assert.ok(cut >= 1, `the forwarder cut the booth's connections (${cut})`);

  // Wait for the resume, then watch media a while longer.
  let state = await clientState(booth);
  /** @type {{closedAt: number, resumedAt: number | null} | undefined} */
  let resume;
  while (Date.now() - cutWall < WATCH_MS) {
    state = await clientState(booth);
    resume = state.resumes?.find((r) => r.closedAt >= cutAt);
    if (resume?.resumedAt != null) break;
    await sleep(100);
  }
  await sleep(AFTER_MS);
  const afterResume = await clientState(booth);
  const officerAfter = await clientState(officer);
  const end = Date.now();

  // The resumed session still carries messages: the booth's microphone toggle reaches the officer.
  const muting = await booth.getByRole('button', { name: 'Stäng av mikrofonen' }).count() > 0;
  const toggleWall = Date.now();
  /** @type {string | null} */
  const toggleRefused = await booth.getByRole('button', { name: muting ? 'Stäng av mikrofonen' : 'Slå på mikrofonen' })
    .click({ timeout: 5_000 })
    .then(() => null, (e) => (e instanceof Error ? e.message.split('\n')[0] : String(e)));
  const caption = officer.locator('#remote-tiles .tile figcaption');
  const captionFollowed = toggleRefused === null && await (muting
    ? caption.filter({ hasText: 'mikrofon av' }).waitFor({ timeout: 10_000 })
    : caption.filter({ hasNotText: 'mikrofon av' }).waitFor({ timeout: 10_000 })).then(() => true, () => false);
  const toggleMs = Date.now() - toggleWall;

  const [boothTimeline, officerTimeline] = await Promise.all([readTimeline(booth), readTimeline(officer)]);
  const from = cutAt - BEFORE_MS;
  const to = resume?.resumedAt != null ? resume.resumedAt + AFTER_MS : Math.min(end, cutWall + WATCH_MS);
  const stalls = {
    'booth video': longestStall(boothTimeline, 'frames', from, to),
    'booth audio': longestStall(boothTimeline, 'audio', from, to),
    'officer video': longestStall(officerTimeline, 'frames', from, to),
    'officer audio': longestStall(officerTimeline, 'audio', from, to),
  };
  const pcs = new Set([...boothTimeline, ...officerTimeline].filter((s) => s.t >= from && s.t <= to).map((s) => s.pc));

  // What the wire shows: the booth's sockets after the cut, the officer's messages about others.
  const boothAfterCut = signalling.booth.filter((f) => f.at >= cutWall);
  const opened = boothAfterCut.find((f) => f.event === 'opened');
  const newSocket = opened?.socket ?? null;
  const firstSent = boothAfterCut.find((f) => f.socket === newSocket && f.event === 'sent');
  const resumed = boothAfterCut.find((f) => f.socket === newSocket && f.event === 'received' && f.type === 'resumed');
  const refused = boothAfterCut.find((f) => f.event === 'received' && f.type === 'error');
  const officerPresence = signalling.officer.filter((f) => f.at >= cutWall && f.event === 'received'
    && (f.type === 'participant_left' || f.type === 'participant_joined'));
  const officerUpdate = signalling.officer.find((f) => f.at >= toggleWall && f.event === 'received' && f.type === 'participant_updated'
    && /** @type {{audio_muted?: boolean} | undefined} */ (f.message.participant)?.audio_muted === muting);

  const closedMs = resume ? resume.closedAt - cutAt : null;
  const resumeMs = resume?.resumedAt != null ? resume.resumedAt - cutAt : null;
  console.log(`figure: WebSocket ${label} (${cut} connection(s) reset): the booth saw the close after ${closedMs?.toFixed(0) ?? '?'} ms,`
    + ` resumed ${resumeMs !== null ? `${resumeMs.toFixed(0)} ms after the cut` : `not within ${WATCH_MS / 1000} s`}`
    + ` (on the wire: new socket ${opened ? `opened after ${opened.at - cutWall} ms` : 'never'},`
    + ` \`resumed\` after ${resumed ? `${resumed.at - cutWall} ms` : '-'}${refused ? `, error ${refused.message.code} after ${refused.at - cutWall} ms` : ''});`
    + ` resumes recorded (ms from the cut): ${JSON.stringify(afterResume.resumes?.filter((r) => r.closedAt >= cutAt).map((r) => ({ closedAt: Math.round(r.closedAt - cutAt), resumedAt: r.resumedAt !== null ? Math.round(r.resumedAt - cutAt) : null })) ?? null)}`);
  console.log(`figure: ${label}: media across it, longest time without a rise: ${Object.entries(stalls).map(([k, s]) => `${k} ${s.ms.toFixed(0)} ms`).join(', ')};`
    + ` rates after the cut: booth ${rate(boothTimeline, 'frames', cutAt, to)?.toFixed(1) ?? '?'} fps, ${rate(boothTimeline, 'audio', cutAt, to)?.toFixed(1) ?? '?'} audio pkt/s,`
    + ` officer ${rate(officerTimeline, 'frames', cutAt, to)?.toFixed(1) ?? '?'} fps, ${rate(officerTimeline, 'audio', cutAt, to)?.toFixed(1) ?? '?'} audio pkt/s`);
  console.log(`figure: ${label}: ${muting ? 'mute' : 'unmute'} after the resume ${toggleRefused !== null ? 'could not be pressed' : `reached the officer's tile after ${toggleMs} ms (${captionFollowed ? 'shown' : 'not shown'})`};`
    + ` booth status "${afterResume.status}"${afterResume.statusIsError ? ' (error)' : ''}`);

  /** @type {string[]} */
  const problems = [];
  if (resumeMs === null) {
    const recorded = state.resumes?.filter((r) => r.closedAt >= cutAt).map((r) => `closed ${Math.round(r.closedAt - cutAt)} ms, resumed ${r.resumedAt === null ? 'never' : `${Math.round(r.resumedAt - cutAt)} ms`}`);
    problems.push(`resume: the booth's client recorded no resume within ${WATCH_MS / 1000} s of the cut (timings.resumes after it: ${recorded ? recorded.join('; ') || 'none' : 'not kept'})${refused ? `; the server refused: ${JSON.stringify(refused.message)}` : ''}`);
  } else if (resumeMs > RESUME_DEADLINE_MS) {
    problems.push(`resume: ${resumeMs.toFixed(0)} ms after the cut; must be within ${RESUME_DEADLINE_MS / 1000} s`);
  }
  if (firstSent?.type !== 'resume') {
    problems.push(`resume: the first message on the booth's new WebSocket was ${firstSent ? `\`${firstSent.type}\`` : 'never sent'}, not \`resume\``);
  } else if (firstSent.message.resume_token !== token || firstSent.message.room_id !== roomId) {
    problems.push('resume: `resume` did not carry the room and the latest resume token the booth was given');
  }
  if (!resumed) {
    problems.push(`resume: the server sent no \`resumed\` on the new WebSocket${refused ? ` but error ${refused.message.code} "${refused.message.message}"` : ''}`);
  } else if (resumed.message.participant_id !== before.participantId) {
    problems.push(`resume: \`resumed\` names participant ${resumed.message.participant_id}, not ${before.participantId}`);
  }
  if (afterResume.participantId !== before.participantId) {
    problems.push(`participant: the booth is ${afterResume.participantId} after the resume, ${before.participantId} before`);
  }
  if (afterResume.wsIsMarked || afterResume.wsState !== 1) {
    problems.push(`client: meeting.ws is ${afterResume.wsIsMarked ? 'still the cut socket' : 'a new socket'} in readyState ${afterResume.wsState}; must be a new, open one`);
  }
  if (afterResume.statusIsError) problems.push(`client: the booth page shows an error: "${afterResume.status}"`);
  if (officerPresence.length) {
    problems.push(`participant: the officer received ${officerPresence.map((f) => f.type).join(', ')} after the cut`);
  }
  if (!officerAfter.tileIsMarked || !afterResume.tileIsMarked) {
    problems.push(`tiles: ${!officerAfter.tileIsMarked ? "the officer's tile of the booth" : "the booth's tile of the officer"} was replaced or removed`);
  }
  for (const [what, s] of Object.entries(stalls)) {
    if (s.ms >= MEDIA_STOPPED_MS) {
      problems.push(`media: ${what} did not rise for ${s.ms.toFixed(0)} ms (${Math.round(s.from - cutAt)} to ${Math.round(s.to - cutAt)} ms from the cut${s.ended ? '' : ', and not again'})`);
    }
  }
  if (pcs.size > 1) problems.push(`media: a new peer connection replaced the old one (${pcs.size} seen)`);
  if (toggleRefused !== null) {
    problems.push(`after the resume: the booth's microphone button could not be pressed: ${toggleRefused}`);
  } else if (!officerUpdate || !captionFollowed) {
    problems.push(`after the resume: the booth's ${muting ? 'mute' : 'unmute'} ${officerUpdate ? `reached the officer as participant_updated but the tile's caption did not follow` : 'did not reach the officer (no participant_updated)'}`);
  }
  return problems;
}

test('signalling WebSocket cut both ways mid-meeting: media does not stop and the booth resumes within 3 s as the same participant', { skip, timeout: 240_000 }, async () => {
  const problems = await cutAndResume(await meetingWithMedia(), 'both');
  assert.deepEqual(problems, [], 'a WebSocket cut both ways is resumed within 3 s without interrupting media');
});

test("signalling WebSocket cut at the booth's side only (the server's end stays open): the booth still resumes within 3 s", { skip, timeout: 240_000 }, async () => {
  const problems = await cutAndResume(await meetingWithMedia(), 'client');
  assert.deepEqual(problems, [], 'a WebSocket the server still holds open is resumed within 3 s without interrupting media');
});

test('the lab server log holds no personnummer, join or resume token, session cookie or booth address', { skip }, async () => {
  assert.ok(meeting, 'the meeting ran');
  await meeting.close();
  assert.ok(meeting.collected.tokens.length >= 2 && meeting.collected.cookies.length >= 3,
    `collected the join tokens (${meeting.collected.tokens.length}) and session cookies (${meeting.collected.cookies.length}) to search for`);
  const { leaks, numbers } = await scanLabLog(meeting);
  assert.deepEqual(leaks, [], `secrets in ${meeting.server.logPath}`);
  assert.deepEqual(numbers, [], `personal identity numbers in ${meeting.server.logPath}`);
});
