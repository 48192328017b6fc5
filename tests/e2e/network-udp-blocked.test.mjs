// @ts-check
/**
 * Must-show of the network lab: UDP blocked on the booth's side (as some municipal networks do).
 * The meeting connects over ICE-TCP within 5 s of joining and media flows: the booth's connection
 * is up within 5 s of its join, the booth decodes the officer's video within 5 s of the officer's
 * "Anslut", both over a candidate pair whose candidates are TCP, and the officer receives the
 * booth's media. The 5 s are a product requirement, so they are asserted; the test waits longer
 * to print what happens.
 *
 * nftables in the lab's link namespace drops every UDP datagram on the booth's link, both ways,
 * before the booth page loads; TCP (the pages, the signalling WebSocket) passes. Needs root;
 * skips otherwise.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { labUnavailable } from './netlab.mjs';
import { connectionLog, linkStats, scanLabLog, sleep, startLabMeeting } from './lab-meeting.mjs';

const skip = labUnavailable() ?? false;
const CONNECT_DEADLINE_MS = 5_000;
/** How long to watch before giving up, to print how the connection fails if it does. */
const OBSERVE_MS = 20_000;

/** @type {import('./lab-meeting.mjs').LabMeeting | undefined} */
let meeting;
after(() => meeting?.close());

test('UDP blocked at the booth: the meeting connects over ICE-TCP within 5 s and media flows', { skip, timeout: 240_000 }, async () => {
  meeting = await startLabMeeting({ name: 'netlab-udp-blocked', beforeBoothLoads: (lab) => lab.blockUdp() });
  const { lab, booth, officer, officerClickedWall } = meeting;

  /** @type {import('./lab-meeting.mjs').LinkStats | null} */
  let boothStats = null;
  /** @type {import('./lab-meeting.mjs').LinkStats | null} */
  let officerStats = null;
  /** @type {number | null} */
  let firstFrameMs = null;
  const started = Date.now();
  while (Date.now() - started < OBSERVE_MS) {
    boothStats = await linkStats(booth);
    officerStats = await linkStats(officer);
    // On this process's clock, at the poll that first saw a frame: at most one poll late.
    if (firstFrameMs === null && (boothStats?.inVideo.framesDecoded ?? 0) > 0) firstFrameMs = Date.now() - officerClickedWall;
    if ((boothStats?.inVideo.framesDecoded ?? 0) >= 30 && (officerStats?.inVideo.framesDecoded ?? 0) >= 30) break;
    if (boothStats?.connectionState === 'failed') break;
    await sleep(200);
  }
  // The booth's connection states since its join (recorded in the page from just after it).
  const states = await connectionLog(booth);
  const connected = states.find((e) => e.connection === 'connected');
  const connectMs = connected ? Math.max(0, connected.ms) : null;
  const udpDropped = lab.dropCounts().blockedUdp;
  const boothStatus = await booth.locator('#meeting-status').textContent().catch(() => null);
  console.log(`figure: UDP blocked at the booth (${udpDropped.up} datagrams dropped leaving the booth, ${udpDropped.down} arriving):`
    + ` booth connection/ICE states after joining: ${states.map((e) => `${e.connection}/${e.ice} at ${e.ms} ms`).join(', ')};`
    + ` connected ${connectMs !== null ? `${connectMs.toFixed(0)} ms after joining` : `not within ${OBSERVE_MS / 1000} s`};`
    + ` first officer frame at the booth ${firstFrameMs !== null ? `about ${firstFrameMs.toFixed(0)} ms after "Anslut"` : 'never'};`
    + ` path ${JSON.stringify(boothStats?.path ?? null)}; booth page says "${boothStatus?.trim() ?? ''}"`);

  /** @type {string[]} */
  const problems = [];
  if (connectMs === null || connectMs > CONNECT_DEADLINE_MS) {
    problems.push(`the booth's connection ${connectMs === null ? `did not come up in ${OBSERVE_MS / 1000} s` : `took ${connectMs.toFixed(0)} ms`}; must be within ${CONNECT_DEADLINE_MS / 1000} s of joining`);
  }
  if (firstFrameMs === null || firstFrameMs > CONNECT_DEADLINE_MS) {
    problems.push(`the booth ${firstFrameMs === null ? 'decoded no video of the officer' : `decoded the officer's first frame only after about ${firstFrameMs.toFixed(0)} ms`}; must be within ${CONNECT_DEADLINE_MS / 1000} s`);
  }
  const p = boothStats?.path;
  if (!p || p.localProtocol !== 'tcp' || p.remoteProtocol !== 'tcp') {
    problems.push(`the booth's selected candidate pair is not TCP: ${JSON.stringify(p ?? null)}`);
  }
  if (!((officerStats?.inVideo.framesDecoded ?? 0) > 0 && (officerStats?.inAudio.packetsReceived ?? 0) > 0)) {
    problems.push(`the officer receives none of the booth's media (frames ${officerStats?.inVideo.framesDecoded ?? 0}, audio packets ${officerStats?.inAudio.packetsReceived ?? 0})`);
  }
  assert.deepEqual(problems, [], 'the meeting works over ICE-TCP when UDP is blocked');
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
