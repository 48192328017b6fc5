// @ts-check
/**
 * A timeline of a page's received media, sampled inside the page: every 100 ms the meeting's
 * `getStats()` counters (video frames decoded, audio packets received), its connection and ICE
 * state, its selected path and the signalling WebSocket's state, stamped with the epoch time of
 * the reading. Sampling in the page keeps the timeline regular while the test process is busy
 * (changing the network, waiting on a command), and epoch times put the booth's and the
 * officer's pages on one clock.
 *
 * The analysis helpers find when media stopped and came back: a counter that stops rising is a
 * stall, and the longest stall around an event is the outage that event caused.
 */

/**
 * @typedef {object} Sample
 * @property {number} t epoch milliseconds (`performance.timeOrigin + performance.now()`) when read
 * @property {number} pc which peer connection this was (0 for the first the page had): counters
 *   start again on a new one
 * @property {number} frames inbound video `framesDecoded`, summed
 * @property {number} audio inbound audio `packetsReceived`, summed
 * @property {string} connection `connectionState`
 * @property {string} ice `iceConnectionState`
 * @property {string | null} localAddress the selected candidate pair's local address
 * @property {string | null} remoteAddress its remote address
 * @property {number | null} ws the meeting's WebSocket `readyState` (`meeting.ws`, the current one)
 */

/** @typedef {'frames' | 'audio'} Counter */

/**
 * Starts sampling the page's meeting (`window.narvaroMeeting`) every `intervalMs`.
 * @param {import('playwright-core').Page} page
 * @param {number} [intervalMs]
 */
export function startTimeline(page, intervalMs = 100) {
  return page.evaluate((interval) => {
    /** @type {any} */
    const w = window;
    /** @type {Sample[]} */
    const samples = [];
    /** @type {RTCPeerConnection[]} */
    const pcs = [];
    w.labTimeline = samples;
    let busy = false;
    w.labTimelineTimer = setInterval(async () => {
      const meeting = w.narvaroMeeting;
      /** @type {RTCPeerConnection | null} */
      const pc = meeting?.pc ?? null;
      if (!pc || busy) return;
      busy = true;
      try {
        if (!pcs.includes(pc)) pcs.push(pc);
        const report = await pc.getStats();
        /** @type {Map<string, any>} */
        const byId = new Map();
        report.forEach((s) => byId.set(s.id, s));
        let frames = 0;
        let audio = 0;
        /** @type {any} */
        let pair = null;
        for (const s of byId.values()) {
          if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
          if (s.type === 'inbound-rtp' && s.kind === 'audio') audio += s.packetsReceived ?? 0;
          if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
        }
        const local = pair ? byId.get(pair.localCandidateId) : null;
        const remote = pair ? byId.get(pair.remoteCandidateId) : null;
        /** @type {WebSocket | undefined} */
        const ws = meeting.ws;
        samples.push({
          t: performance.timeOrigin + performance.now(),
          pc: pcs.indexOf(pc),
          frames,
          audio,
          connection: pc.connectionState,
          ice: pc.iceConnectionState,
          localAddress: local ? local.address ?? local.ip ?? null : null,
          remoteAddress: remote ? remote.address ?? remote.ip ?? null : null,
          ws: ws ? ws.readyState : null,
        });
      } catch {
        // a closed peer connection has no stats: the gap in the timeline shows it
      } finally {
        busy = false;
      }
    }, interval);
  }, intervalMs);
}

/**
 * The samples so far.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<Sample[]>}
 */
export function readTimeline(page) {
  return page.evaluate(() => /** @type {any} */ (window).labTimeline ?? []);
}

/**
 * A time on the page's `performance.now()` clock (as `meeting.timings` keeps them) as epoch
 * milliseconds, the timeline's clock.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<number>} `performance.timeOrigin`
 */
export function timeOrigin(page) {
  return page.evaluate(() => performance.timeOrigin);
}

/**
 * @typedef {object} Stall
 * @property {number} from the last reading at which the counter had risen, epoch ms
 * @property {number} to the first reading at which it rose again (or the window's end), epoch ms
 * @property {number} ms `to - from`
 * @property {boolean} ended false when the counter had not risen again by the window's end
 */

/**
 * The longest time `counter` did not rise within [from, to], from reading to reading. A new peer
 * connection restarts the counters: its first reading counts as a rise only if it is above zero.
 * With no reading at all in the window the whole window is a stall.
 * @param {Sample[]} samples
 * @param {Counter} counter
 * @param {number} from epoch ms
 * @param {number} to epoch ms
 * @returns {Stall}
 */
export function longestStall(samples, counter, from, to) {
  const inWindow = samples.filter((s) => s.t >= from && s.t <= to);
  /** @type {Stall} */
  let worst = { from, to: from, ms: 0, ended: true };
  let lastRise = from;
  /** @type {Sample | null} */
  let previous = samples.filter((s) => s.t < from).at(-1) ?? null;
  for (const s of inWindow) {
    const rose = previous === null || s.pc !== previous.pc ? s[counter] > 0 : s[counter] > previous[counter];
    if (rose) {
      if (s.t - lastRise > worst.ms) worst = { from: lastRise, to: s.t, ms: s.t - lastRise, ended: true };
      lastRise = s.t;
    }
    previous = s;
  }
  if (to - lastRise > worst.ms) worst = { from: lastRise, to, ms: to - lastRise, ended: false };
  return worst;
}

/**
 * The counter's rate in readings of the window, per second, for printing.
 * @param {Sample[]} samples
 * @param {Counter} counter
 * @param {number} from epoch ms
 * @param {number} to epoch ms
 */
export function rate(samples, counter, from, to) {
  const inWindow = samples.filter((s) => s.t >= from && s.t <= to);
  const first = inWindow[0];
  const last = inWindow.at(-1);
  // A new peer connection, or stats that went away, leave no rate to tell.
  if (!first || !last || last.t === first.t || first.pc !== last.pc || last[counter] < first[counter]) return null;
  return ((last[counter] - first[counter]) * 1000) / (last.t - first.t);
}

/**
 * Changes of connection/ICE state, selected path and WebSocket state in the timeline, relative to
 * `zero`, for printing.
 * @param {Sample[]} samples
 * @param {number} zero epoch ms
 */
export function describeChanges(samples, zero) {
  /** @type {string[]} */
  const out = [];
  let last = '';
  for (const s of samples) {
    const key = `pc${s.pc} ${s.connection}/${s.ice} ${s.localAddress ?? '-'}→${s.remoteAddress ?? '-'} ws${s.ws ?? '-'}`;
    if (key !== last) out.push(`${Math.round(s.t - zero)} ms: ${key}`);
    last = key;
  }
  return out.join('; ');
}

/**
 * @typedef {object} ClientState
 * @property {string | null} participantId
 * @property {{closedAt: number, resumedAt: number | null}[] | null} resumes epoch ms; null when the
 *   client keeps no `timings.resumes`
 * @property {{startedAt: number, connectedAt: number | null, reason: string | null}[] | null} iceRestarts
 *   epoch ms, and what the client gave as the reason; null when it keeps no `timings.iceRestarts`
 * @property {number | null} wsState the current WebSocket's `readyState`
 * @property {boolean} wsIsMarked whether `meeting.ws` is still the one `markClient` marked
 * @property {string | null} localUfrag `a=ice-ufrag` of the local description
 * @property {string | null} remoteUfrag and of the remote one (the SFU's)
 * @property {string} status the meeting's status line
 * @property {boolean} statusIsError
 * @property {string[]} captions the remote tiles' captions
 * @property {boolean} tileIsMarked whether the (first) remote tile is still the one `markClient` marked
 */

/**
 * Marks the page's current WebSocket and its (first) remote tile, so `clientState` can tell
 * whether they were replaced.
 * @param {import('playwright-core').Page} page
 */
export function markClient(page) {
  return page.evaluate(() => {
    /** @type {any} */
    const w = window;
    w.labMarkedWs = w.narvaroMeeting?.ws ?? null;
    w.labMarkedTile = document.querySelector('#remote-tiles .tile');
  });
}

/**
 * The meeting client's own account of itself, with its times as epoch ms.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<ClientState>}
 */
export function clientState(page) {
  return page.evaluate(() => {
    /** @type {any} */
    const w = window;
    const m = w.narvaroMeeting;
    const origin = performance.timeOrigin;
    /** @param {number | null | undefined} t */
    const epoch = (t) => (typeof t === 'number' ? origin + t : null);
    /** @param {string | undefined} sdp */
    const ufrag = (sdp) => /a=ice-ufrag:(\S+)/.exec(sdp ?? '')?.[1] ?? null;
    const timings = m?.timings ?? {};
    const status = document.getElementById('meeting-status');
    return {
      participantId: m?.participantId ?? null,
      resumes: Array.isArray(timings.resumes)
        ? timings.resumes.map((/** @type {any} */ r) => ({ closedAt: /** @type {number} */ (epoch(r.closedAt)), resumedAt: epoch(r.resumedAt) }))
        : null,
      iceRestarts: Array.isArray(timings.iceRestarts)
        ? timings.iceRestarts.map((/** @type {any} */ r) => ({
          startedAt: /** @type {number} */ (epoch(r.startedAt)),
          connectedAt: epoch(r.connectedAt),
          reason: typeof r.reason === 'string' ? r.reason : null,
        }))
        : null,
      wsState: m?.ws ? m.ws.readyState : null,
      wsIsMarked: Boolean(m?.ws) && m.ws === w.labMarkedWs,
      localUfrag: ufrag(m?.pc?.localDescription?.sdp),
      remoteUfrag: ufrag(m?.pc?.remoteDescription?.sdp),
      status: status?.textContent?.trim() ?? '',
      statusIsError: Boolean(status?.classList.contains('error')),
      captions: [...document.querySelectorAll('#remote-tiles .tile figcaption')].map((c) => c.textContent ?? ''),
      tileIsMarked: Boolean(w.labMarkedTile) && document.querySelector('#remote-tiles .tile') === w.labMarkedTile,
    };
  });
}
