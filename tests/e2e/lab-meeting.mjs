// @ts-check
/**
 * A booked meeting with the booth behind the network lab's link: the server and the SFU in the
 * root namespace, the guide's and the officer's Chromium there too, the booth's Chromium in the
 * lab's booth namespace. The booth page is served from `http://localhost:<port>` inside that
 * namespace (a secure context for `getUserMedia`), forwarded across the lab's link; the SFU
 * advertises the root-side address (the only one the booth can reach) and 127.0.0.1 (the
 * officer's).
 *
 * Also: a fuller `getStats()` reading than the meeting test needs (loss, concealment, NACKs,
 * layers, the selected path), and the privacy scan of the lab server's log, which must not hold
 * the booth's IP address either.
 */
import fs from 'node:fs';
import path from 'node:path';

import {
  bookMeeting, closePages, collector, launchChromium, officerJoins, openPage, scanLog, startMeeting,
} from './meeting-flow.mjs';
import { startImpairProxy } from './impair-proxy.mjs';
import { createLab } from './netlab.mjs';
import { ARTIFACTS, startServer } from './server.mjs';
import { forwardTcp } from './tcp-forward.mjs';

/**
 * @typedef {object} LabMeeting
 * @property {import('./netlab.mjs').Lab} lab
 * @property {import('./server.mjs').Server} server
 * @property {import('./meeting-flow.mjs').Collected} collected
 * @property {import('playwright-core').Page} booth
 * @property {import('playwright-core').Page} officer
 * @property {import('playwright-core').Page} guide
 * @property {number} boothJoinedAt `performance.now()` on the booth page once its peer connection existed
 * @property {number} officerClickedAt `performance.now()` on the officer page just before "Anslut"
 * @property {number} officerClickedWall `Date.now()` in this process just after "Anslut"
 * @property {import('./impair-proxy.mjs').ImpairProxy | null} proxy the delay proxy, when asked for
 * @property {Record<'booth' | 'officer', SignalFrame[]>} signalling every signalling frame each page
 *   sent and received, as the browser saw them on the wire (from the DevTools protocol, so they
 *   do not depend on the client's own bookkeeping)
 * @property {() => Promise<void>} close screenshots, browsers, server, lab; safe to call twice
 */

/**
 * One signalling frame. `message` is the parsed JSON without `sdp`, which is long and of no
 * interest to the tests (a resume token in it is as secret as a join token: never print one).
 * @typedef {object} SignalFrame
 * @property {number} at `Date.now()` in this process when playwright reported it
 * @property {'sent' | 'received' | 'opened' | 'closed'} event `opened`/`closed`: the WebSocket itself
 * @property {number} socket which of the page's WebSockets, counting from 1
 * @property {string} type the message's `type`, or '' for `opened`/`closed`
 * @property {Record<string, unknown>} message
 */

/**
 * Records the signalling WebSockets of a page from now on.
 * @param {import('playwright-core').Page} page
 * @returns {SignalFrame[]}
 */
function recordSignalling(page) {
  /** @type {SignalFrame[]} */
  const frames = [];
  let sockets = 0;
  page.on('websocket', (ws) => {
    if (!new URL(ws.url()).pathname.endsWith('/signal')) return;
    const socket = ++sockets;
    frames.push({ at: Date.now(), event: 'opened', socket, type: '', message: {} });
    /** @param {'sent' | 'received'} event @param {{payload: string | Buffer}} frame */
    const note = (event, frame) => {
      /** @type {Record<string, unknown>} */
      let message = {};
      try {
        message = JSON.parse(String(frame.payload));
      } catch {
        // not JSON: the type stays ''
      }
      delete message.sdp;
      frames.push({ at: Date.now(), event, socket, type: typeof message.type === 'string' ? message.type : '', message });
    };
    ws.on('framesent', (f) => note('sent', f));
    ws.on('framereceived', (f) => note('received', f));
    ws.on('close', () => frames.push({ at: Date.now(), event: 'closed', socket, type: '', message: {} }));
  });
  return frames;
}

/**
 * Sets up the lab, the server and three pages, and runs the meeting up to the officer's "Anslut".
 * Whatever was set up is torn down again if a step fails.
 * @param {{
 *   name: string,
 *   beforeBoothLoads?: (lab: import('./netlab.mjs').Lab) => void,
 *   delay?: {upstream?: import('./impair-proxy.mjs').Impairment, downstream?: import('./impair-proxy.mjs').Impairment},
 * }} options `name` prefixes the artifacts; `beforeBoothLoads` impairs the link before the booth
 *   page loads; `delay` puts the booth's media through `impair-proxy.mjs` (placed as its comment
 *   explains: the SFU on 127.0.0.1, the proxy on the SFU's port at the lab's root-side address)
 * @returns {Promise<LabMeeting>}
 */
export async function startLabMeeting({ name, beforeBoothLoads, delay }) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  /** @type {(() => Promise<unknown> | unknown)[]} */
  const undo = [];
  let closed = false;
  async function close() {
    if (closed) return;
    closed = true;
    for (const step of undo.reverse()) {
      try { await step(); } catch (e) { console.error(`${name}: cleanup: ${e instanceof Error ? e.message : e}`); }
    }
  }
  try {
    const lab = createLab();
    undo.push(() => lab.teardown());
    const server = await startServer({
      name: `${name}-server`,
      // The veth's root side first: the only address the booth can reach; 127.0.0.1 for the officer.
      env: {
        NARVARO_MEDIA__PUBLIC_IPS: `${lab.rootIp},127.0.0.1`,
        ...(delay ? { NARVARO_MEDIA__BIND_IP: '127.0.0.1' } : {}),
      },
    });
    undo.push(() => server.stop());
    const proxy = delay
      ? await startImpairProxy({
        listen: { host: lab.rootIp, port: server.udpPort },
        target: { host: '127.0.0.1', port: server.udpPort },
        upstream: delay.upstream,
        downstream: delay.downstream,
        // The officer could reach this address too; turned away, it meets the SFU directly.
        allowFrom: (address) => address === lab.boothIp,
      })
      : null;
    if (proxy) undo.push(() => proxy.close());
    // The server listens on 127.0.0.1; the booth reaches it at rootIp:<same port>, and inside its
    // namespace at 127.0.0.1:<same port>, so its pages have the same origin as everyone else's.
    const relay = await forwardTcp({ listenHost: lab.rootIp, listenPort: server.httpPort, targetHost: '127.0.0.1', targetPort: server.httpPort });
    undo.push(() => relay.close());
    await lab.forwardLocalhost({ port: server.httpPort, targetPort: server.httpPort });
    beforeBoothLoads?.(lab);

    const rootBrowser = await launchChromium();
    undo.push(() => rootBrowser.close());
    const boothBrowser = await launchChromium(lab.chromium);
    undo.push(() => boothBrowser.close());

    const collected = collector();
    const guide = await openPage(rootBrowser, `${name}-guide`, server.baseUrl, collected);
    const booth = await openPage(boothBrowser, `${name}-booth`, server.baseUrl, collected);
    const officer = await openPage(rootBrowser, `${name}-officer`, server.baseUrl, collected);
    undo.push(() => closePages([guide, booth, officer], collected));
    const signalling = { booth: recordSignalling(booth.page), officer: recordSignalling(officer.page) };
    undo.push(async () => {
      for (const [who, p] of Object.entries({ guide, booth, officer })) {
        await p.page.screenshot({ path: path.join(ARTIFACTS, `${name}-${who}-end.png`) }).catch(() => {});
      }
    });

    const row = await bookMeeting(guide.page, booth.page);
    const boothJoinedAt = await startMeeting(row, booth.page);
    await recordConnectionStates(booth.page);
    const officerClickedAt = await officerJoins(officer.page);
    const officerClickedWall = Date.now();
    return {
      lab,
      server,
      collected,
      booth: booth.page,
      officer: officer.page,
      guide: guide.page,
      boothJoinedAt,
      officerClickedAt,
      officerClickedWall,
      proxy,
      signalling,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Stops the server (so its log is complete) and searches the log: no personnummer, join token,
 * session cookie, resume token, nor any IP address the booth had.
 * @param {LabMeeting} meeting
 */
export async function scanLabLog(meeting) {
  await meeting.server.stop();
  const resumeTokens = [...meeting.signalling.booth, ...meeting.signalling.officer]
    .map((f) => f.message.resume_token)
    .filter((t) => typeof t === 'string' && t.length > 0);
  return scanLog(meeting.server.logPath, meeting.collected, [
    ...[meeting.lab.boothIp, ...meeting.lab.formerBoothIps].map((value) => ({ label: "the booth's IP address", value })),
    ...[...new Set(resumeTokens)].map((value, i) => ({ label: `resume token #${i + 1}`, value: String(value) })),
  ]);
}

/**
 * @typedef {object} PathInfo
 * @property {string} localProtocol
 * @property {string} localType
 * @property {string} remoteProtocol
 * @property {string} remoteAddress
 * @property {number} remotePort
 * @property {string | null} tcpType
 * @property {number | null} rttMs
 * @property {number | null} availableOutgoingKbps
 */

/**
 * @typedef {object} LinkStats
 * @property {number} at `performance.now()` of the page when read
 * @property {RTCPeerConnectionState} connectionState
 * @property {RTCIceConnectionState} iceConnectionState
 * @property {PathInfo | null} path the selected candidate pair
 * @property {number} tiles
 * @property {{packetsReceived: number, packetsLost: number, concealedSamples: number, silentConcealedSamples: number, totalSamplesReceived: number, concealmentEvents: number}} inAudio
 * @property {{packetsReceived: number, packetsLost: number, nackCount: number, pliCount: number, framesDecoded: number, keyFramesDecoded: number, framesDropped: number, freezeCount: number, frameHeight: number | null, framesPerSecond: number | null, retransmittedPacketsReceived: number}} inVideo
 * @property {{packetsSent: number, nackCount: number, retransmittedPacketsSent: number}} outAudio
 * @property {{rid: string | null, frameHeight: number | null, framesPerSecond: number | null, framesEncoded: number, packetsSent: number, nackCount: number, retransmittedPacketsSent: number, qualityLimitationReason: string | null, targetBitrate: number | null}[]} outVideo
 *   one entry per encoding (simulcast layer)
 * @property {{rid: string | null, active: boolean, scaleResolutionDownBy: number | null, maxBitrate: number | null}[]} encodings
 *   the video sender's parameters
 * @property {number | null} captureHeight the camera track's height
 * @property {{packetsLost: number, fractionLost: number | null} | null} remoteInAudio what the SFU reports of the audio it got
 */

/**
 * Reads the page's meeting connection: received and sent media, the path, the layers.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<LinkStats | null>}
 */
export function linkStats(page) {
  return page.evaluate(async () => {
    /** @type {any} */
    const meeting = /** @type {any} */ (window).narvaroMeeting;
    /** @type {RTCPeerConnection | null} */
    const pc = meeting?.pc ?? null;
    if (!pc) return null;
    const report = await pc.getStats();
    /** @type {any[]} */
    const all = [];
    report.forEach((s) => all.push(s));
    const byId = new Map(all.map((s) => [s.id, s]));
    /** @param {string} type @param {string} kind */
    const of = (type, kind) => all.filter((s) => s.type === type && s.kind === kind);
    /** @param {any[]} list @param {string} key */
    const sum = (list, key) => list.reduce((n, s) => n + (s[key] ?? 0), 0);

    const inAudio = of('inbound-rtp', 'audio');
    // With one other participant there is one received video; after a renegotiation an old one
    // may linger, so the one that received the most is the one on screen.
    const inVideo = of('inbound-rtp', 'video').sort((a, b) => (b.packetsReceived ?? 0) - (a.packetsReceived ?? 0));
    const video = inVideo[0] ?? {};
    const remoteInAudio = of('remote-inbound-rtp', 'audio')[0];

    let pair = all.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    pair = pair ? byId.get(pair.selectedCandidatePairId) : all.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
    const local = pair ? byId.get(pair.localCandidateId) : null;
    const remote = pair ? byId.get(pair.remoteCandidateId) : null;

    const sender = pc.getSenders().find((s) => s.track?.kind === 'video');
    const encodings = sender ? sender.getParameters().encodings ?? [] : [];
    const track = meeting.localStream?.getVideoTracks?.()[0];

    return {
      at: performance.now(),
      connectionState: pc.connectionState,
      iceConnectionState: pc.iceConnectionState,
      path: pair && local && remote ? {
        localProtocol: local.protocol,
        localType: local.candidateType,
        remoteProtocol: remote.protocol,
        remoteAddress: remote.address ?? remote.ip,
        remotePort: remote.port,
        tcpType: local.tcpType ?? null,
        rttMs: pair.currentRoundTripTime != null ? pair.currentRoundTripTime * 1000 : null,
        availableOutgoingKbps: pair.availableOutgoingBitrate != null ? pair.availableOutgoingBitrate / 1000 : null,
      } : null,
      tiles: document.querySelectorAll('#remote-tiles .tile').length,
      inAudio: {
        packetsReceived: sum(inAudio, 'packetsReceived'),
        packetsLost: sum(inAudio, 'packetsLost'),
        concealedSamples: sum(inAudio, 'concealedSamples'),
        silentConcealedSamples: sum(inAudio, 'silentConcealedSamples'),
        totalSamplesReceived: sum(inAudio, 'totalSamplesReceived'),
        concealmentEvents: sum(inAudio, 'concealmentEvents'),
      },
      inVideo: {
        packetsReceived: video.packetsReceived ?? 0,
        packetsLost: video.packetsLost ?? 0,
        nackCount: video.nackCount ?? 0,
        pliCount: video.pliCount ?? 0,
        framesDecoded: video.framesDecoded ?? 0,
        keyFramesDecoded: video.keyFramesDecoded ?? 0,
        framesDropped: video.framesDropped ?? 0,
        freezeCount: video.freezeCount ?? 0,
        frameHeight: video.frameHeight ?? null,
        framesPerSecond: video.framesPerSecond ?? null,
        retransmittedPacketsReceived: video.retransmittedPacketsReceived ?? 0,
      },
      outAudio: {
        packetsSent: sum(of('outbound-rtp', 'audio'), 'packetsSent'),
        nackCount: sum(of('outbound-rtp', 'audio'), 'nackCount'),
        retransmittedPacketsSent: sum(of('outbound-rtp', 'audio'), 'retransmittedPacketsSent'),
      },
      outVideo: of('outbound-rtp', 'video').map((s) => ({
        rid: s.rid ?? null,
        frameHeight: s.frameHeight ?? null,
        framesPerSecond: s.framesPerSecond ?? null,
        framesEncoded: s.framesEncoded ?? 0,
        packetsSent: s.packetsSent ?? 0,
        nackCount: s.nackCount ?? 0,
        retransmittedPacketsSent: s.retransmittedPacketsSent ?? 0,
        qualityLimitationReason: s.qualityLimitationReason ?? null,
        targetBitrate: s.targetBitrate ?? null,
      })),
      encodings: encodings.map((e) => ({
        rid: e.rid ?? null,
        active: e.active ?? true,
        scaleResolutionDownBy: e.scaleResolutionDownBy ?? null,
        maxBitrate: e.maxBitrate ?? null,
      })),
      captureHeight: track?.getSettings().height ?? null,
      remoteInAudio: remoteInAudio ? { packetsLost: remoteInAudio.packetsLost ?? 0, fractionLost: remoteInAudio.fractionLost ?? null } : null,
    };
  });
}

/**
 * From now on, keeps every change of the page's connection and ICE state with its time, in the
 * page (`connectionLog` reads it). The state at the moment of the call is the first entry.
 * @param {import('playwright-core').Page} page
 */
export function recordConnectionStates(page) {
  return page.evaluate(() => {
    /** @type {any} */
    const w = window;
    const pc = /** @type {RTCPeerConnection} */ (w.narvaroMeeting.pc);
    /** @type {{connection: string, ice: string, at: number}[]} */
    const log = [];
    const note = () => log.push({ connection: pc.connectionState, ice: pc.iceConnectionState, at: performance.now() });
    note();
    pc.addEventListener('connectionstatechange', note);
    pc.addEventListener('iceconnectionstatechange', note);
    w.labConnectionLog = log;
  });
}

/**
 * The states `recordConnectionStates` kept, with `at` made relative to the meeting's join
 * (`narvaroMeeting.timings.joinedAt`, on the page's clock).
 * @param {import('playwright-core').Page} page
 * @returns {Promise<{connection: string, ice: string, ms: number}[]>}
 */
export function connectionLog(page) {
  return page.evaluate(() => {
    /** @type {any} */
    const w = window;
    const joinedAt = w.narvaroMeeting?.timings?.joinedAt ?? 0;
    return (w.labConnectionLog ?? []).map((/** @type {{connection: string, ice: string, at: number}} */ e) => (
      { connection: e.connection, ice: e.ice, ms: Math.round(e.at - joinedAt) }));
  });
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Longer than the lab's tbf queue (200 ms) plus the path. */
const AUDIO_TRANSIT_MS = 300;

/**
 * Audio packets `sender` has sent, and what `receiver` has received of them a transit time later:
 * a packet sent before the first reading has arrived by the second, so comparing two such
 * snapshots counts the same packets on both sides (queued packets would otherwise count as lost).
 * @param {import('playwright-core').Page} sender
 * @param {import('playwright-core').Page} receiver
 */
export async function audioSnapshot(sender, receiver) {
  const sent = await linkStats(sender);
  await sleep(AUDIO_TRANSIT_MS);
  const got = await linkStats(receiver);
  if (!sent || !got) throw new Error('both peer connections must exist');
  return {
    sent: sent.outAudio.packetsSent,
    received: got.inAudio.packetsReceived,
    lost: got.inAudio.packetsLost,
    concealed: got.inAudio.concealedSamples,
    samples: got.inAudio.totalSamplesReceived,
  };
}

/** A ratio as a percentage with two decimals, or n/a. @param {number} part @param {number} whole */
export function percent(part, whole) {
  return whole > 0 ? `${((100 * part) / whole).toFixed(2)} %` : 'n/a';
}
