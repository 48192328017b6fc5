// @ts-check
/**
 * Must-show of the network lab: 10 % random loss on the booth's link, both ways. Concealed audio
 * samples stay under 5 % (from getStats) and video keeps decoding with retransmission at work
 * (nackCount > 0, framesDecoded rising), for what the officer receives from the booth and what the
 * booth receives from the officer.
 *
 * The meeting is set up on a clean link; once media flows, nftables in the lab's link namespace
 * drops 10 % of the packets crossing it either way (media and signalling alike, as a bad link
 * would), for 20 s of measurement. The figures are printed for the documentation, then asserted.
 * Needs root; skips otherwise.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { waitForMedia } from './meeting-flow.mjs';
import { labUnavailable } from './netlab.mjs';
import { linkStats, percent, scanLabLog, sleep, startLabMeeting } from './lab-meeting.mjs';

const skip = labUnavailable() ?? false;
const LOSS_PERCENT = 10;
const WINDOW_MS = 20_000;
const SLICE_MS = 5_000;
const MAX_CONCEALED = 0.05;

/** @type {import('./lab-meeting.mjs').LabMeeting | undefined} */
let meeting;
after(() => meeting?.close());

test(`10 % random loss on the booth link: audio concealment under 5 %, video decodes with NACKs`, { skip, timeout: 240_000 }, async () => {
  meeting = await startLabMeeting({ name: 'netlab-loss' });
  const { lab, booth, officer } = meeting;
  const media = await waitForMedia({ booth, officer }, { deadlineMs: 20_000, minFrames: 60, minAudioPackets: 100 });
  assert.ok(media.last.booth && media.last.booth.framesDecoded >= 60 && media.last.officer && media.last.officer.framesDecoded >= 60,
    `media flows both ways on the clean link first: ${JSON.stringify(media.last)}`);

  lab.addLoss({ percent: LOSS_PERCENT, direction: 'both' });
  /** @type {Record<'booth' | 'officer', import('./lab-meeting.mjs').LinkStats[]>} */
  const samples = { booth: [], officer: [] };
  for (let t = 0; t <= WINDOW_MS; t += SLICE_MS) {
    if (t > 0) await sleep(SLICE_MS);
    for (const who of /** @type {const} */ (['booth', 'officer'])) {
      const s = await linkStats(meeting[who]);
      assert.ok(s, `${who}: a peer connection`);
      samples[who].push(s);
    }
  }
  const dropped = lab.dropCounts().loss;
  lab.clearLoss();

  /** @type {string[]} */
  const problems = [];
  console.log(`figure: ${LOSS_PERCENT} % random loss both ways on the booth link for ${WINDOW_MS / 1000} s; nftables dropped ${dropped.up} packets from the booth, ${dropped.down} to it`);
  for (const [who, from] of /** @type {const} */ ([['officer', 'booth'], ['booth', 'officer']])) {
    const list = samples[who];
    const first = list[0];
    const last = list[list.length - 1];
    const concealed = last.inAudio.concealedSamples - first.inAudio.concealedSamples;
    const silent = last.inAudio.silentConcealedSamples - first.inAudio.silentConcealedSamples;
    const total = last.inAudio.totalSamplesReceived - first.inAudio.totalSamplesReceived;
    const audioLost = last.inAudio.packetsLost - first.inAudio.packetsLost;
    const audioReceived = last.inAudio.packetsReceived - first.inAudio.packetsReceived;
    const nacks = last.inVideo.nackCount - first.inVideo.nackCount;
    const videoLost = last.inVideo.packetsLost - first.inVideo.packetsLost;
    const videoReceived = last.inVideo.packetsReceived - first.inVideo.packetsReceived;
    const rtx = last.inVideo.retransmittedPacketsReceived - first.inVideo.retransmittedPacketsReceived;
    const decodedPerSlice = list.slice(1).map((s, i) => s.inVideo.framesDecoded - list[i].inVideo.framesDecoded);
    const freezes = last.inVideo.freezeCount - first.inVideo.freezeCount;
    const fromFirst = samples[from][0];
    const fromLast = samples[from][samples[from].length - 1];
    const audioSent = fromLast.outAudio.packetsSent - fromFirst.outAudio.packetsSent;
    const audioRtx = fromLast.outAudio.retransmittedPacketsSent - fromFirst.outAudio.retransmittedPacketsSent;
    const senderNacks = samples[from][samples[from].length - 1].outVideo.reduce((n, e) => n + e.nackCount, 0)
      - samples[from][0].outVideo.reduce((n, e) => n + e.nackCount, 0);
    console.log(`figure: ${who} receiving the ${from}'s media:`
      + ` audio concealed ${percent(concealed, total)} of ${total} samples (${percent(silent, total)} silent),`
      + ` audio packets lost ${audioLost} of ${audioLost + audioReceived} (${percent(audioLost, audioLost + audioReceived)}),`
      + ` ${audioReceived} received of ${audioSent} the ${from} sent (${audioRtx} retransmitted;`
      + ` loss the SFU reports to the ${from} ${fromLast.remoteInAudio?.fractionLost != null ? percent(fromLast.remoteInAudio.fractionLost, 1) : 'n/a'});`
      + ` video packets lost ${videoLost} of ${videoLost + videoReceived}, NACKs sent ${nacks}, retransmissions received ${rtx},`
      + ` NACKs the ${from} got from the SFU ${senderNacks};`
      + ` frames decoded per ${SLICE_MS / 1000} s: ${decodedPerSlice.join(', ')}; freezes ${freezes};`
      + ` ${last.inVideo.frameHeight}p at ${last.inVideo.framesPerSecond ?? '?'} fps; rtt ${last.path?.rttMs?.toFixed(0) ?? '?'} ms`);

    if (!(total > 0 && concealed / total < MAX_CONCEALED)) {
      problems.push(`${who}: concealed audio ${percent(concealed, total)} of ${total} samples, must stay under ${MAX_CONCEALED * 100} %`);
    }
    if (!(nacks > 0)) problems.push(`${who}: no NACK sent for the ${from}'s video (nackCount ${first.inVideo.nackCount} -> ${last.inVideo.nackCount})`);
    if (!decodedPerSlice.every((n) => n > 0)) {
      problems.push(`${who}: video stopped decoding in some ${SLICE_MS / 1000} s slice (frames decoded per slice: ${decodedPerSlice.join(', ')})`);
    }
    if (last.connectionState !== 'connected') problems.push(`${who}: connection ${last.connectionState}`);
  }
  assert.deepEqual(problems, [], 'the must-show holds under 10 % loss');
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
