// @ts-check
/**
 * The meeting view shared by the booth and the officer's page (templates/meeting.html): shows the
 * section, joins through meeting.js, and wires the mute, camera, sound and leave buttons. Words
 * come from the page's messages (i18n.js), so the booth shows them in the citizen's language.
 */
import { byId } from './api.js';
import { t } from './i18n.js';
import { joinMeeting } from './meeting.js';

/**
 * What booking's `POST /api/v1/bookings/{id}/join` answers.
 * @typedef {object} JoinGrant
 * @property {string} room_id
 * @property {string} token
 * @property {string} signalling_url
 * @property {string} expires_at
 * @property {string} display_name
 * @property {string} role
 */

/**
 * @param {JoinGrant} grant
 * @param {{onLeft?: (why: 'left' | 'ended') => void, onFailed?: (text: string) => void,
 *   closeWhenEnded?: boolean}} [hooks] `closeWhenEnded`: when the meeting is ended for everyone
 *   (the officer ended it), close the view at once rather than offer "Stäng" (the booth moves on
 *   to its end screen by itself)
 * @returns {Promise<import('./meeting.js').Meeting>}
 */
export async function enterMeeting(grant, hooks = {}) {
  const section = byId('meeting', HTMLElement);
  const status = byId('meeting-status', HTMLElement);
  const audioButton = byId('toggle-audio', HTMLButtonElement);
  const videoButton = byId('toggle-video', HTMLButtonElement);
  const playButton = byId('play-audio', HTMLButtonElement);
  const leaveButton = byId('leave', HTMLButtonElement);
  const stage = byId('remote-tiles', HTMLElement);

  section.hidden = false;
  document.body.classList.add('in-meeting');
  status.textContent = '';
  status.classList.remove('error');
  setPressed(audioButton, false, t('meeting-mic-off'), t('meeting-mic-on'));
  setPressed(videoButton, false, t('meeting-camera-off'), t('meeting-camera-on'));
  playButton.hidden = true;
  for (const b of [audioButton, videoButton, leaveButton]) b.disabled = false;
  leaveButton.textContent = t('meeting-leave');

  /** @type {import('./meeting.js').Meeting | null} */
  let meeting = null;
  let finished = false;
  /** The server ended the meeting for everyone (not this participant leaving). */
  let ended = false;
  /** @param {'left' | 'ended'} why */
  const finish = (why) => {
    if (finished) return;
    finished = true;
    section.hidden = true;
    document.body.classList.remove('in-meeting');
    audioButton.onclick = videoButton.onclick = playButton.onclick = leaveButton.onclick = null;
    hooks.onLeft?.(why);
  };

  try {
    meeting = await joinMeeting({
      roomId: grant.room_id,
      token: grant.token,
      signallingUrl: grant.signalling_url,
      localVideo: byId('local-video', HTMLVideoElement),
      remoteContainer: stage,
      // An officer's desk has the uplink for three qualities from a 720p camera; a booth sends
      // two from 360p, so a poor municipal link still carries its lowest.
      ...(grant.role === 'officer'
        ? { simulcastLayers: 3, constraints: { audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 } } } }
        : { simulcastLayers: 2 }),
      onState: (state) => {
        status.textContent = state.text;
        status.classList.toggle('error', state.phase === 'failed');
        if (state.phase === 'failed' || state.phase === 'ended') {
          for (const b of [audioButton, videoButton]) b.disabled = true;
          leaveButton.textContent = t('meeting-close');
        }
        if (state.phase === 'failed') hooks.onFailed?.(state.text);
        if (state.phase === 'ended') ended = true;
        if (state.phase === 'ended' && hooks.closeWhenEnded) finish('ended');
      },
      onAutoplayBlocked: (blocked) => { playButton.hidden = !blocked; },
    });
  } catch (e) {
    // joinMeeting has already put the reason in the status line; let the person close the view.
    leaveButton.textContent = t('meeting-close');
    leaveButton.onclick = () => finish('left');
    throw e;
  }

  const m = meeting;
  audioButton.onclick = () => {
    const muted = !m.muted.audio;
    m.setMuted('audio', muted);
    setPressed(audioButton, muted, t('meeting-mic-off'), t('meeting-mic-on'));
  };
  videoButton.onclick = () => {
    const muted = !m.muted.video;
    m.setMuted('video', muted);
    setPressed(videoButton, muted, t('meeting-camera-off'), t('meeting-camera-on'));
  };
  playButton.onclick = () => { m.playRemoteAudio().catch(() => {}); };
  leaveButton.onclick = async () => {
    leaveButton.disabled = true;
    await m.leave();
    leaveButton.disabled = false;
    leaveButton.textContent = t('meeting-leave');
    finish(ended ? 'ended' : 'left');
  };
  return m;
}

/**
 * A toggle button: `aria-pressed` says whether the source is off; the text says what a press does.
 * @param {HTMLButtonElement} button
 * @param {boolean} muted
 * @param {string} whenOn text while the source is on
 * @param {string} whenOff text while the source is off
 */
function setPressed(button, muted, whenOn, whenOff) {
  button.setAttribute('aria-pressed', String(muted));
  button.textContent = muted ? whenOff : whenOn;
}
