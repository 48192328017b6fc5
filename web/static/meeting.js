// @ts-check
/**
 * The Närvaro meeting client: joins one room of a media node with a join token, publishes the
 * camera and microphone, and shows one video tile per other participant.
 *
 * It speaks signalling's protocol (signalling/PROTOCOL.md): JSON text frames tagged by `type` over
 * one WebSocket. The SFU is ICE-lite and answers the client's offer for what it publishes; for what
 * the client receives, the SFU makes the offers and the client answers. Negotiations never overlap:
 * they run one after another on a queue.
 *
 * No framework, no build step: the page imports this module as it is.
 */
import { t } from './i18n.js';
import { showQuality, showSpeaker } from './quality.js';

/** @typedef {'citizen' | 'officer' | 'guide' | 'interpreter'} Role */
/** @typedef {'audio' | 'video'} MediaKind */

/**
 * One participant as the others see it (never a personnummer).
 * @typedef {object} ParticipantInfo
 * @property {string} participant_id
 * @property {Role} role
 * @property {string} display_name
 * @property {string} [identified] how booking identified them, in words ("BankID", …)
 * @property {boolean} audio_muted
 * @property {boolean} video_muted
 */

/**
 * A dropped signalling connection and when the session resumed on a new one.
 * @typedef {{closedAt: number, resumedAt: number | null}} Reconnection
 */

/**
 * An ICE restart (a new network path) and when media was connected again.
 * @typedef {{startedAt: number, connectedAt: number | null, reason: string}} IceRestart
 */

/**
 * A participant's place on screen.
 * @typedef {object} Tile
 * @property {HTMLElement} figure
 * @property {HTMLVideoElement} video
 * @property {HTMLElement} caption
 * @property {HTMLElement} notice shows why video is paused
 * @property {string | null} videoMid the receiving transceiver's mid for this participant's video
 * @property {string | null} reportedSize the size last sent in `video_size`
 */

/**
 * What the server sends.
 * @typedef {{type: 'joined', protocol_version: number, room_id: string, participant_id: string, role: Role, participants: ParticipantInfo[], resume_token: string}
 *   | {type: 'answer', sdp: string}
 *   | {type: 'offer', sdp: string}
 *   | {type: 'candidate', candidate: string}
 *   | {type: 'participant_joined', participant: ParticipantInfo}
 *   | {type: 'participant_updated', participant: ParticipantInfo}
 *   | {type: 'participant_left', participant_id: string}
 *   | {type: 'resumed', participant_id: string, participants: ParticipantInfo[], resume_token: string}
 *   | {type: 'video_paused', participant_id: string, paused: boolean}
 *   | {type: 'active_speaker', participant_id: string | null}
 *   | ({type: 'quality'} & import('./quality.js').QualityReport)
 *   | {type: 'pong'}
 *   | {type: 'left'}
 *   | {type: 'meeting_ended', reason: 'cancelled' | 'ended'}
 *   | {type: 'error', code: number, message: string, fatal: boolean}} ServerMessage
 */

/**
 * What the client sends.
 * @typedef {{type: 'join', room_id: string, token: string}
 *   | {type: 'resume', room_id: string, resume_token: string}
 *   | {type: 'offer', sdp: string}
 *   | {type: 'answer', sdp: string}
 *   | {type: 'candidate', candidate: string}
 *   | {type: 'mute', kind: MediaKind, muted: boolean}
 *   | {type: 'video_size', mid: string, width: number, height: number}
 *   | {type: 'leave'}
 *   | {type: 'ping'}} ClientMessage
 */

/**
 * Where the meeting is, for the page to show. `text` is for people, in the page's language.
 * @typedef {object} MeetingState
 * @property {'media' | 'connecting' | 'joined' | 'connected' | 'interrupted' | 'left' | 'ended' | 'failed'} phase
 * @property {string} text
 * @property {{code: number, message: string} | undefined} [error]
 */

/**
 * @typedef {object} JoinOptions
 * @property {string} roomId the room, as booking's join answer names it
 * @property {string} token the single-use join token from booking
 * @property {string} signallingUrl absolute `ws(s)://` URL or a path on this origin, e.g. `/signal`
 * @property {HTMLVideoElement} localVideo where the self-view goes (kept muted)
 * @property {HTMLElement} remoteContainer where participant tiles go
 * @property {(state: MeetingState) => void} [onState] called on every change of phase
 * @property {(participants: ParticipantInfo[]) => void} [onParticipants] called when the list changes
 * @property {(blocked: boolean) => void} [onAutoplayBlocked] remote audio needs a click to start
 * @property {MediaStreamConstraints} [constraints] defaults to audio and 640x360 video
 * @property {number} [simulcastLayers] how many qualities to send the camera in (1 to 3);
 *   defaults to 3 for an officer and 2 for everyone else (a booth's uplink is the poor one)
 */

/**
 * A joined meeting. Also exposed as `window.narvaroMeeting` for diagnostics and tests.
 * @typedef {object} Meeting
 * @property {RTCPeerConnection | null} pc created when the server says `joined`
 * @property {WebSocket} ws the signalling connection of the moment (a new one after a resume)
 * @property {MediaStream} localStream
 * @property {string | null} participantId this join's pseudonymous id
 * @property {Role | null} role this participant's role, from `joined`
 * @property {Map<string, ParticipantInfo>} participants the others, by participant id
 * @property {{audio: boolean, video: boolean}} muted
 * @property {{startedAt: number, joinedAt: number | null, firstRemoteFrameAt: number | null, resumes: Reconnection[], iceRestarts: IceRestart[]}} timings
 *   milliseconds on the `performance.now()` clock
 *   `performance.now()` values
 * @property {(kind: MediaKind, muted: boolean) => void} setMuted
 * @property {() => Promise<void>} playRemoteAudio retry playback after autoplay was blocked
 * @property {() => Promise<void>} leave
 */

/** Texts for the numbered signalling errors (signalling/src/protocol.rs), in the page's language. */
const ERROR_TEXTS = /** @type {Record<number, () => string>} */ ({
  4000: () => t('signalling-4000'),
  4001: () => t('signalling-4001'),
  4002: () => t('signalling-4002'),
  4003: () => t('signalling-4003'),
  4004: () => t('signalling-4004'),
  4005: () => t('signalling-4005'),
  4006: () => t('signalling-4006'),
  4010: () => t('signalling-4010'),
  4011: () => t('signalling-4011'),
  4012: () => t('signalling-4012'),
  4013: () => t('signalling-4013'),
  4014: () => t('signalling-4014'),
  4015: () => t('signalling-4015'),
  4016: () => t('signalling-4016'),
  4017: () => t('signalling-4017'),
  4090: () => t('signalling-4090'),
  4091: () => t('signalling-4091'),
  5000: () => t('signalling-5000'),
});

/** Seconds between keep-alive pings; proxies close idle WebSockets after a minute or so. */
const PING_INTERVAL_MS = 20_000;

/**
 * When to try resuming after the signalling connection drops (milliseconds after the drop, then
 * after each failed try). The server keeps the session 30 s; these tries fit inside that.
 */
const RESUME_DELAYS_MS = [0, 250, 500, 1000, 2000, 3000, 5000, 5000, 5000, 5000];

/** An ICE restart still unfinished after this long may be followed by another. */
const ICE_RESTART_RETRY_MS = 5000;

/**
 * Turns `/signal` into `ws://host/signal` (or `wss:` on https); leaves absolute URLs alone except
 * for mapping http(s) to ws(s).
 * @param {string} url
 * @param {Location | URL} [base]
 * @returns {string}
 */
export function resolveSignallingUrl(url, base = window.location) {
  const resolved = new URL(url, base.href);
  if (resolved.protocol === 'http:') resolved.protocol = 'ws:';
  else if (resolved.protocol === 'https:') resolved.protocol = 'wss:';
  return resolved.href;
}

/**
 * A text for a signalling error, with its number so support can look it up.
 * @param {{code: number, message: string}} error
 * @returns {string}
 */
export function errorText(error) {
  const text = ERROR_TEXTS[error.code]?.() ?? error.message;
  return t('meeting-error', { text, code: error.code });
}

/**
 * The camera's simulcast encodings, lowest quality first (the order the SFU relies on). Each
 * subscriber gets the one its link and its screen can take; a poor uplink drops the top ones.
 * @param {number} layers 1 to 3
 * @returns {RTCRtpEncodingParameters[]}
 */
export function simulcastEncodings(layers) {
  if (layers >= 3) {
    return [
      { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
      { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
      { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
    ];
  }
  if (layers === 2) {
    return [
      { rid: 'q', scaleResolutionDownBy: 2, maxBitrate: 200_000 },
      { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 900_000 },
    ];
  }
  return [{ maxBitrate: 900_000 }];
}

/**
 * Joins a meeting. Resolves once the camera and microphone are on and the WebSocket is open; the
 * rest (joined, media flowing, others arriving) is reported through `onState`.
 * @param {JoinOptions} options
 * @returns {Promise<Meeting>}
 */
export async function joinMeeting(options) {
  const { roomId, token, localVideo, remoteContainer } = options;
  const onState = options.onState ?? (() => {});
  const startedAt = performance.now();

  onState({ phase: 'media', text: t('meeting-starting-media') });
  /** @type {MediaStream} */
  let localStream;
  try {
    localStream = await navigator.mediaDevices.getUserMedia(
      options.constraints ?? { audio: true, video: { width: 640, height: 360 } },
    );
  } catch (e) {
    const text = e instanceof DOMException && e.name === 'NotAllowedError'
      ? t('meeting-media-denied')
      : t('meeting-media-failed');
    onState({ phase: 'failed', text });
    throw e;
  }
  localVideo.muted = true;
  localVideo.srcObject = localStream;

  onState({ phase: 'connecting', text: t('meeting-connecting') });
  const signallingUrl = resolveSignallingUrl(options.signallingUrl);

  /** Tiles by participant id: the figure, its video element, and the mid its video arrives on. */
  /** @type {Map<string, Tile>} */
  const tiles = new Map();
  /** Reports how big each remote video is shown, so the SFU sends no more than that needs. */
  const sizeObserver = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const tile = [...tiles.values()].find((t) => t.video === entry.target);
      if (tile) reportVideoSize(tile);
    }
  });
  /** @type {Promise<void>} */
  let negotiation = Promise.resolve();
  /** Resolves the offer in flight with the server's answer, or null when the server refused it. */
  /** @type {((sdp: string | null) => void) | null} */
  let awaitingAnswer = null;
  /** Our offer in flight, sent again after a resume (the answer may have been lost with the socket). */
  /** @type {string | null} */
  let offerInFlight = null;
  let closedByUs = false;
  /** A fatal error the server sent; the close that follows must not hide it. */
  let fatalError = false;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let pingTimer;
  /** The credential for resuming this session on a new connection; from `joined`, then `resumed`. */
  /** @type {string | null} */
  let resumeToken = null;
  /** The drop being recovered from, and how many tries it has taken. */
  /** @type {Reconnection | null} */
  let reconnecting = null;
  let resumeTries = 0;

  /** @type {Meeting} */
  const meeting = {
    pc: null,
    get ws() { return ws; },
    localStream,
    participantId: null,
    role: null,
    participants: new Map(),
    muted: { audio: false, video: false },
    timings: { startedAt, joinedAt: null, firstRemoteFrameAt: null, resumes: [], iceRestarts: [] },
    setMuted,
    playRemoteAudio,
    leave,
  };
  /** @type {any} */ (window).narvaroMeeting = meeting;

  /** @type {WebSocket} */
  let ws = openSocket(() => ({ type: 'join', room_id: roomId, token }));

  /** @param {ClientMessage} message */
  function send(message) {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  /**
   * A signalling connection that says `first()` once open.
   * @param {() => ClientMessage} first
   * @returns {WebSocket}
   */
  function openSocket(first) {
    const socket = new WebSocket(signallingUrl);
    socket.addEventListener('open', () => {
      socket.send(JSON.stringify(first()));
      clearInterval(pingTimer);
      pingTimer = setInterval(() => send({ type: 'ping' }), PING_INTERVAL_MS);
    });
    socket.addEventListener('message', (event) => {
      if (socket !== ws || typeof event.data !== 'string') return;
      /** @type {ServerMessage} */
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        console.warn('signalling sent a frame that is not JSON');
        return;
      }
      handle(message);
    });
    socket.addEventListener('close', (event) => {
      if (socket === ws) socketClosed(event);
    });
    return socket;
  }

  /**
   * The signalling connection is gone. Unless we left or the server ended the session, the
   * meeting goes on (media does not need the socket) and the session resumes on a new one.
   * @param {CloseEvent} event
   */
  function socketClosed(event) {
    clearInterval(pingTimer);
    if (closedByUs) return;
    if (fatalError || resumeToken === null) {
      if (!fatalError) report({ phase: 'failed', text: t('meeting-dropped', { code: event.code }) });
      teardown();
      return;
    }
    if (!reconnecting) {
      reconnecting = { closedAt: performance.now(), resumedAt: null };
      meeting.timings.resumes.push(reconnecting);
      resumeTries = 0;
      report({ phase: 'interrupted', text: t('meeting-reconnecting') });
    }
    const delay = RESUME_DELAYS_MS[resumeTries];
    resumeTries += 1;
    if (delay === undefined) {
      report({ phase: 'failed', text: t('meeting-reconnect-failed') });
      teardown();
      return;
    }
    setTimeout(() => {
      if (closedByUs) return;
      ws = openSocket(() => ({ type: 'resume', room_id: roomId, resume_token: resumeToken ?? '' }));
    }, delay);
  }

  /** @param {MeetingState} state */
  function report(state) {
    onState(state);
  }

  function participantsChanged() {
    options.onParticipants?.([...meeting.participants.values()]);
    for (const [id, tile] of tiles) labelTile(tile, meeting.participants.get(id));
  }

  /**
   * Tells the SFU the size the tile's video is shown at, in device pixels (0 x 0 when hidden),
   * when it has changed.
   * @param {Tile} tile
   */
  function reportVideoSize(tile) {
    if (!tile.videoMid) return;
    const scale = window.devicePixelRatio || 1;
    const shown = tile.video.isConnected && !document.hidden;
    const width = shown ? Math.round(tile.video.clientWidth * scale) : 0;
    const height = shown ? Math.round(tile.video.clientHeight * scale) : 0;
    const key = `${width}x${height}`;
    if (tile.reportedSize === key) return;
    tile.reportedSize = key;
    send({ type: 'video_size', mid: tile.videoMid, width, height });
  }

  /**
   * @param {Tile} tile
   * @param {ParticipantInfo | undefined} info
   */
  function labelTile(tile, info) {
    const name = info?.display_name ?? t('meeting-participant');
    const notes = [];
    if (info?.audio_muted) notes.push(t('meeting-mic-is-off'));
    if (info?.video_muted) notes.push(t('meeting-camera-is-off'));
    if (tile.figure.classList.contains('video-paused')) notes.push(t('meeting-video-paused-note'));
    const line = document.createElement('span');
    line.className = 'tile-name';
    line.textContent = notes.length ? `${name} (${notes.join(', ')})` : name;
    tile.caption.replaceChildren(line);
    if (info?.identified) {
      // Every participant sees how each other one was identified.
      const how = document.createElement('span');
      how.className = 'tile-identified';
      how.textContent = t('meeting-identified', { how: info.identified });
      tile.caption.append(how);
    }
    tile.video.setAttribute('aria-label', t('meeting-video-of', { name }));
    tile.figure.dataset.role = info?.role ?? '';
    tile.figure.classList.toggle('video-muted', Boolean(info?.video_muted));
  }

  /**
   * The tile of a participant, made on their first track.
   * @param {string} participantId
   * @param {MediaStream} stream
   */
  function tileFor(participantId, stream) {
    let tile = tiles.get(participantId);
    if (!tile) {
      const figure = document.createElement('figure');
      figure.className = 'tile';
      figure.dataset.participantId = participantId;
      const video = document.createElement('video');
      video.autoplay = true;
      video.playsInline = true;
      const caption = document.createElement('figcaption');
      const notice = document.createElement('p');
      notice.className = 'tile-notice';
      notice.setAttribute('role', 'status');
      figure.append(video, notice, caption);
      remoteContainer.append(figure);
      tile = { figure, video, caption, notice, videoMid: null, reportedSize: null };
      tiles.set(participantId, tile);
      labelTile(tile, meeting.participants.get(participantId));
      watchFirstFrame(video);
      sizeObserver.observe(video);
    }
    if (tile.video.srcObject !== stream) tile.video.srcObject = stream;
    // Chromium may refuse unmuted playback without a user gesture; the page then offers a button.
    tile.video.play().then(
      () => options.onAutoplayBlocked?.(false),
      (e) => {
        if (e instanceof DOMException && e.name === 'NotAllowedError') options.onAutoplayBlocked?.(true);
      },
    );
    return tile;
  }

  /** @param {HTMLVideoElement} video */
  function watchFirstFrame(video) {
    const mark = () => {
      if (meeting.timings.firstRemoteFrameAt === null) meeting.timings.firstRemoteFrameAt = performance.now();
    };
    // Older engines lack requestVideoFrameCallback; the first loaded frame is close enough there.
    const media = /** @type {HTMLMediaElement} */ (video);
    if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(mark);
    else media.addEventListener('loadeddata', mark, { once: true });
  }

  /** @param {string} participantId */
  function removeTile(participantId) {
    const tile = tiles.get(participantId);
    if (!tile) return;
    sizeObserver.unobserve(tile.video);
    tile.video.srcObject = null;
    tile.figure.remove();
    tiles.delete(participantId);
  }

  /**
   * Runs one negotiation after the ones before it. A failed step is reported and does not stop
   * the queue.
   * @param {() => Promise<void>} step
   */
  function enqueue(step) {
    negotiation = negotiation.then(step).catch((e) => {
      console.error('negotiation failed', e);
      report({ phase: 'failed', text: t('meeting-negotiation-failed') });
    });
  }

  /**
   * Offers what we send (and, after `restartIce`, new ICE credentials). If the server refuses
   * because its own offer crossed ours, ours is rolled back and made again after the server's.
   * @param {RTCPeerConnection} pc
   */
  function publish(pc) {
    enqueue(async () => {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      /** @type {Promise<string | null>} */
      const answer = new Promise((resolve) => { awaitingAnswer = resolve; });
      offerInFlight = offer.sdp ?? '';
      send({ type: 'offer', sdp: offerInFlight });
      const sdp = await answer;
      offerInFlight = null;
      if (sdp === null) {
        await pc.setLocalDescription({ type: 'rollback' });
        publish(pc);
        return;
      }
      await pc.setRemoteDescription({ type: 'answer', sdp });
    });
  }

  /**
   * Looks for a new network path: new ICE credentials in a new offer. The SFU keeps the
   * participant (and everything it sends) while the client does this.
   * @param {string} reason
   */
  function restartIce(reason) {
    const pc = meeting.pc;
    if (!pc || closedByUs || pc.signalingState === 'closed') return;
    const last = meeting.timings.iceRestarts.at(-1);
    if (last && last.connectedAt === null && performance.now() - last.startedAt < ICE_RESTART_RETRY_MS) return;
    /** @type {IceRestart} */
    const restart = { startedAt: performance.now(), connectedAt: null, reason };
    meeting.timings.iceRestarts.push(restart);
    // ICE may stay "connected" throughout (the old path still half works); the new path shows
    // as a change of the selected candidate pair.
    const ice = pc.getSenders().find((s) => s.transport)?.transport?.iceTransport;
    ice?.addEventListener('selectedcandidatepairchange', () => {
      if (restart.connectedAt === null) restart.connectedAt = performance.now();
    }, { once: true });
    pc.restartIce();
    publish(pc);
  }

  /** @param {ParticipantInfo[]} others */
  function createPeerConnection(others) {
    const pc = new RTCPeerConnection({ iceServers: [] });
    meeting.pc = pc;
    for (const p of others) meeting.participants.set(p.participant_id, p);
    participantsChanged();

    const layers = options.simulcastLayers ?? (meeting.role === 'officer' ? 3 : 2);
    for (const track of localStream.getTracks()) {
      pc.addTransceiver(track, {
        direction: 'sendonly',
        streams: [localStream],
        ...(track.kind === 'video' ? { sendEncodings: simulcastEncodings(layers) } : {}),
      });
    }
    pc.onicecandidate = (event) => {
      // `null` ends gathering and an empty string is the end-of-candidates marker: neither is a
      // candidate the SFU can use.
      if (event.candidate && event.candidate.candidate) {
        send({ type: 'candidate', candidate: event.candidate.candidate });
      }
    };
    pc.ontrack = (event) => {
      // The SFU labels each forwarded track's stream with the publisher's participant id.
      const stream = event.streams[0];
      if (!stream) return;
      const tile = tileFor(stream.id, stream);
      if (event.track.kind === 'video' && event.transceiver.mid) {
        tile.videoMid = event.transceiver.mid;
        tile.reportedSize = null;
        reportVideoSize(tile);
      }
      event.track.addEventListener('ended', () => {
        if (stream.getTracks().every((t) => t.readyState === 'ended')) removeTile(stream.id);
      });
    };
    pc.oniceconnectionstatechange = () => {
      switch (pc.iceConnectionState) {
        case 'connected':
        case 'completed': {
          const last = meeting.timings.iceRestarts.at(-1);
          if (last && last.connectedAt === null) last.connectedAt = performance.now();
          break;
        }
        case 'disconnected':
        case 'failed':
          restartIce(`ice ${pc.iceConnectionState}`);
          break;
      }
    };
    pc.onconnectionstatechange = () => {
      switch (pc.connectionState) {
        case 'connected':
          if (!reconnecting) report({ phase: 'connected', text: t('meeting-connected') });
          break;
        case 'disconnected':
        case 'failed':
          // Not the end: an ICE restart is under way; the server gives up on us if it fails.
          if (!closedByUs) report({ phase: 'interrupted', text: t('meeting-interrupted') });
          break;
      }
    };
    publish(pc);
    return pc;
  }

  /** @param {ServerMessage} message */
  function handle(message) {
    switch (message.type) {
      case 'joined':
        meeting.participantId = message.participant_id;
        meeting.role = message.role;
        resumeToken = message.resume_token;
        meeting.timings.joinedAt = performance.now();
        report({ phase: 'joined', text: t('meeting-joined') });
        createPeerConnection(message.participants);
        break;
      case 'resumed': {
        resumeToken = message.resume_token;
        if (reconnecting) reconnecting.resumedAt = performance.now();
        reconnecting = null;
        resumeTries = 0;
        // The room as it is now: whoever left while we were away is gone.
        meeting.participants.clear();
        for (const p of message.participants) meeting.participants.set(p.participant_id, p);
        for (const id of [...tiles.keys()]) if (!meeting.participants.has(id)) removeTile(id);
        participantsChanged();
        // The answer to an offer sent before the drop may have been lost with the socket.
        if (offerInFlight !== null) send({ type: 'offer', sdp: offerInFlight });
        if (meeting.muted.audio) send({ type: 'mute', kind: 'audio', muted: true });
        if (meeting.muted.video) send({ type: 'mute', kind: 'video', muted: true });
        // A socket that dropped on its own often means the network changed: look for a new
        // media path at once rather than wait for ICE to notice the old one is gone.
        restartIce('signalling reconnected');
        const connected = meeting.pc?.connectionState === 'connected';
        report(connected
          ? { phase: 'connected', text: t('meeting-connected') }
          : { phase: 'interrupted', text: t('meeting-interrupted') });
        break;
      }
      case 'answer':
        if (awaitingAnswer) {
          const resolve = awaitingAnswer;
          awaitingAnswer = null;
          resolve(message.sdp);
        } else {
          console.warn('answer without an offer in flight');
        }
        break;
      case 'offer': {
        const pc = meeting.pc;
        if (!pc) return;
        const sdp = message.sdp;
        enqueue(async () => {
          await pc.setRemoteDescription({ type: 'offer', sdp });
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          send({ type: 'answer', sdp: answer.sdp ?? '' });
        });
        break;
      }
      case 'candidate': {
        // The SFU's TCP fallback, sent when UDP has not connected: everything is bundled on
        // m-line 0.
        const pc = meeting.pc;
        if (!pc) break;
        const candidate = message.candidate;
        enqueue(() => pc.addIceCandidate({ candidate, sdpMLineIndex: 0 }));
        break;
      }
      case 'participant_joined':
      case 'participant_updated':
        meeting.participants.set(message.participant.participant_id, message.participant);
        participantsChanged();
        break;
      case 'video_paused': {
        const tile = tiles.get(message.participant_id);
        if (!tile) break;
        tile.figure.classList.toggle('video-paused', message.paused);
        tile.notice.textContent = message.paused ? t('meeting-video-paused') : '';
        labelTile(tile, meeting.participants.get(message.participant_id));
        break;
      }
      case 'participant_left':
        meeting.participants.delete(message.participant_id);
        removeTile(message.participant_id);
        participantsChanged();
        break;
      case 'error':
        if (message.fatal) fatalError = true;
        if (!message.fatal && message.code === 4005 && awaitingAnswer) {
          // Our offer crossed the server's: ours is withdrawn and made again after it.
          const resolve = awaitingAnswer;
          awaitingAnswer = null;
          resolve(null);
          break;
        }
        report({ phase: message.fatal ? 'failed' : 'interrupted', text: errorText(message), error: message });
        break;
      case 'active_speaker':
        showSpeaker(remoteContainer, localVideo, message.participant_id, meeting.participantId);
        break;
      case 'quality':
        showQuality(localVideo, message);
        break;
      case 'meeting_ended':
        // The server closes the connection next: not a drop to resume from.
        closedByUs = true;
        teardown();
        report({ phase: 'ended', text: message.reason === 'cancelled' ? t('meeting-cancelled') : t('meeting-ended') });
        break;
      case 'pong':
      case 'left':
        break;
    }
  }

  // A hidden page shows no video: the SFU can stop sending it until the page is back.
  function reportAllSizes() {
    for (const tile of tiles.values()) reportVideoSize(tile);
  }
  document.addEventListener('visibilitychange', reportAllSizes);
  // A new network (Wi-Fi to 4G, a new address): look for a path on it at once rather than wait
  // for ICE to notice the old one is gone.
  const onNetworkChange = () => restartIce('network change');
  window.addEventListener('online', onNetworkChange);
  /** @type {any} */ (navigator).connection?.addEventListener?.('change', onNetworkChange);

  await new Promise((resolve, reject) => {
    let opened = false;
    ws.addEventListener('open', () => { opened = true; resolve(undefined); }, { once: true });
    ws.addEventListener('error', () => {
      if (opened) return; // the close event that follows reports it
      closedByUs = true;
      report({ phase: 'failed', text: t('meeting-unreachable') });
      teardown();
      reject(new Error('signalling connection failed'));
    }, { once: true });
  });

  /**
   * @param {MediaKind} kind
   * @param {boolean} muted
   */
  function setMuted(kind, muted) {
    const tracks = kind === 'audio' ? localStream.getAudioTracks() : localStream.getVideoTracks();
    for (const track of tracks) track.enabled = !muted;
    meeting.muted[kind] = muted;
    send({ type: 'mute', kind, muted });
  }

  async function playRemoteAudio() {
    await Promise.all([...tiles.values()].map((t) => t.video.play()));
    options.onAutoplayBlocked?.(false);
  }

  function teardown() {
    clearInterval(pingTimer);
    sizeObserver.disconnect();
    document.removeEventListener('visibilitychange', reportAllSizes);
    window.removeEventListener('online', onNetworkChange);
    /** @type {any} */ (navigator).connection?.removeEventListener?.('change', onNetworkChange);
    meeting.pc?.close();
    for (const track of localStream.getTracks()) track.stop();
    localVideo.srcObject = null;
    for (const id of [...tiles.keys()]) removeTile(id);
  }

  async function leave() {
    if (closedByUs) return;
    closedByUs = true;
    if (ws.readyState === WebSocket.OPEN) {
      // Wait briefly for `left` so the others see us go at once rather than after a timeout.
      const left = new Promise((resolve) => {
        ws.addEventListener('message', (e) => {
          try {
            if (typeof e.data === 'string' && JSON.parse(e.data).type === 'left') resolve(undefined);
          } catch { /* not ours to judge here */ }
        });
        ws.addEventListener('close', () => resolve(undefined), { once: true });
        setTimeout(resolve, 1000);
      });
      send({ type: 'leave' });
      await left;
    }
    ws.close(1000);
    teardown();
    report({ phase: 'left', text: t('meeting-left') });
  }

  return meeting;
}
