//! Who has the floor: the room's dominant speaker, from the audio level a publisher's browser puts
//! in every Opus packet (RFC 6464: dBov from 0, loudest, to -127, digital silence, and a voice
//! activity flag).
//!
//! Each audio track keeps a [`SpeechMeter`]: two running averages with a time constant of about a
//! second, one of how loud the voice is and one of how much of the time there is voice. Someone
//! is *speaking* when there was voice for at least half of the recent past, so a cough, a door or
//! a laugh (loud, but short) never counts. [`DominantSpeaker`] then hands the floor over with
//! hysteresis: to someone speaking while the holder is not, or clearly louder than the holder, and
//! only once that has held for a moment. Silence leaves the floor where it is (the person who
//! spoke last is who a meeting looks at); it is lost only when its holder leaves, mutes (their
//! packets carry digital silence) or stops sending audio.

use std::time::{Duration, Instant};

use crate::ids::ParticipantId;

/// Time constant of both running averages: long enough to ride over the pauses between words,
/// short enough that a turn in the conversation shows within about a second.
const SMOOTHING: Duration = Duration::from_secs(1);

/// What one audio packet stands for when packets come regularly: an Opus frame.
const FRAME: Duration = Duration::from_millis(20);

/// A packet at or above this level (dBov) with voice activity is voice. Speech after a browser's
/// automatic gain control sits around -20 to -35 dBov; room noise after its noise suppression
/// well below -50.
const VOICE_DBOV: i8 = -50;

/// Loudness is measured in dB above this level, so that 0 is silence and louder is more.
const FLOOR_DBOV: i8 = -70;

/// Someone is speaking when the share of recent time with voice is at least this.
const SPEAKING_ACTIVITY: f32 = 0.5;

/// RFC 6464's value for digital silence: what a browser sends for a muted microphone.
const DIGITAL_SILENCE_DBOV: i8 = -127;

/// A track that has sent only digital silence (muted), or nothing at all, for this long cannot
/// hold the floor.
const GONE_AFTER: Duration = Duration::from_secs(1);

/// How much louder than the holder, who is still speaking, someone must be to take the floor.
const CLEARLY_LOUDER: f32 = 1.5;

/// How long someone must keep qualifying before the floor passes to them.
pub const TAKEOVER_HOLD: Duration = Duration::from_millis(400);

/// The speech on one audio track, from the levels its packets carry.
#[derive(Debug, Clone, Default)]
pub struct SpeechMeter {
    /// Running average of loudness in dB above [`FLOOR_DBOV`] (0 while there is no voice).
    loudness: f32,
    /// Running average of 1 for voice, 0 for none: the share of recent time with voice.
    activity: f32,
    last_packet: Option<Instant>,
    /// The last packet that was not digital silence.
    last_sound: Option<Instant>,
}

/// A track's speech as the floor choice sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Speech {
    /// Voice for at least half of the recent past.
    pub speaking: bool,
    /// Running average of loudness, comparable between tracks.
    pub loudness: f32,
    /// Sending sound: not muted, not gone.
    pub present: bool,
}

impl SpeechMeter {
    /// One audio packet's level (dBov, 0 to -127) and voice activity flag, as it arrives. A
    /// sender that leaves the flag out is taken to mean voice whenever the level says so.
    pub fn record(&mut self, level_dbov: i8, voice_activity: Option<bool>, now: Instant) {
        let elapsed = self
            .last_packet
            .map_or(FRAME, |at| now.saturating_duration_since(at));
        // The time since the previous packet decays what was there; the packet itself stands for
        // one frame of it, so a packet after a gap does not count for the whole gap.
        let keep = decay(elapsed);
        let weight = 1.0 - decay(elapsed.min(FRAME));
        let voice = voice_activity != Some(false) && level_dbov >= VOICE_DBOV;
        let loudness = if voice {
            f32::from(level_dbov.saturating_sub(FLOOR_DBOV))
        } else {
            0.0
        };
        self.loudness = self.loudness * keep + loudness * weight;
        self.activity = self.activity * keep + if voice { weight } else { 0.0 };
        self.last_packet = Some(now);
        if level_dbov > DIGITAL_SILENCE_DBOV {
            self.last_sound = Some(now);
        }
    }

    /// The speech as of `now`: the time since the last packet counts as silence.
    pub fn speech(&self, now: Instant) -> Speech {
        let keep = self
            .last_packet
            .map_or(0.0, |at| decay(now.saturating_duration_since(at)));
        Speech {
            speaking: self.activity * keep >= SPEAKING_ACTIVITY,
            loudness: self.loudness * keep,
            present: self
                .last_sound
                .is_some_and(|at| now.saturating_duration_since(at) < GONE_AFTER),
        }
    }
}

/// How much of a running average is left after `elapsed`.
fn decay(elapsed: Duration) -> f32 {
    (-elapsed.as_secs_f32() / SMOOTHING.as_secs_f32()).exp()
}

/// Who holds the floor, and who is about to take it.
#[derive(Debug, Clone, Default)]
pub struct DominantSpeaker {
    holder: Option<ParticipantId>,
    /// Someone who qualifies to take the floor, and since when without a break.
    challenger: Option<(ParticipantId, Instant)>,
}

impl DominantSpeaker {
    pub fn holder(&self) -> Option<&ParticipantId> {
        self.holder.as_ref()
    }

    /// Re-decides the floor from every participant's speech (one entry per participant that
    /// publishes audio with levels). Returns true when the holder changed.
    pub fn update(&mut self, speech: &[(ParticipantId, Speech)], now: Instant) -> bool {
        let speech_of = |who: &ParticipantId| speech.iter().find(|(p, _)| p == who).map(|s| s.1);
        let mut changed = false;
        let holder = self.holder.as_ref().and_then(speech_of);
        if self.holder.is_some() && !holder.is_some_and(|s| s.present) {
            // Left, muted or stopped sending: nobody speaks for them now.
            self.holder = None;
            changed = true;
        }
        let holder = holder.filter(|s| s.present);
        let contender = speech
            .iter()
            .filter(|(p, s)| s.speaking && s.present && Some(p) != self.holder.as_ref())
            .max_by(|a, b| a.1.loudness.total_cmp(&b.1.loudness))
            .filter(|(_, s)| match holder {
                Some(h) if h.speaking => s.loudness >= h.loudness * CLEARLY_LOUDER,
                _ => true,
            })
            .map(|(p, _)| p);
        match (contender, &self.challenger) {
            (None, _) => self.challenger = None,
            (Some(p), Some((c, since))) if p == c => {
                if now.saturating_duration_since(*since) >= TAKEOVER_HOLD {
                    self.holder = Some(p.clone());
                    self.challenger = None;
                    changed = true;
                }
            }
            (Some(p), _) => self.challenger = Some((p.clone(), now)),
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds 20 ms packets at `level` (with voice activity when it is voice) for `duration`.
    fn talk(meter: &mut SpeechMeter, level: i8, from: Instant, duration: Duration) -> Instant {
        let mut now = from;
        while now < from + duration {
            now += FRAME;
            meter.record(level, Some(level >= VOICE_DBOV), now);
        }
        now
    }

    #[test]
    fn steady_speech_is_speaking_and_louder_speech_is_louder() {
        let t0 = Instant::now();
        let (mut loud, mut quiet) = (SpeechMeter::default(), SpeechMeter::default());
        let end = talk(&mut loud, -20, t0, Duration::from_secs(3));
        talk(&mut quiet, -40, t0, Duration::from_secs(3));
        let (loud, quiet) = (loud.speech(end), quiet.speech(end));
        assert!(loud.speaking && quiet.speaking && loud.present);
        assert!(
            loud.loudness > quiet.loudness * CLEARLY_LOUDER,
            "{loud:?} {quiet:?}"
        );
    }

    #[test]
    fn a_short_loud_noise_is_not_speaking() {
        let t0 = Instant::now();
        let mut meter = SpeechMeter::default();
        let end = talk(&mut meter, -90, t0, Duration::from_secs(2));
        let end = talk(&mut meter, -5, end, Duration::from_millis(300));
        for after in [0, 100, 300, 600] {
            let speech = meter.speech(end + Duration::from_millis(after));
            assert!(!speech.speaking, "{after} ms after the noise: {speech:?}");
        }
    }

    #[test]
    fn a_packet_after_a_gap_does_not_count_for_the_gap() {
        let t0 = Instant::now();
        let mut meter = SpeechMeter::default();
        meter.record(-20, Some(true), t0);
        meter.record(-20, Some(true), t0 + Duration::from_secs(5));
        assert!(!meter.speech(t0 + Duration::from_secs(5)).speaking);
    }

    #[test]
    fn digital_silence_is_absence() {
        let t0 = Instant::now();
        let mut meter = SpeechMeter::default();
        let end = talk(&mut meter, -30, t0, Duration::from_secs(2));
        assert!(meter.speech(end).present);
        let end = talk(&mut meter, DIGITAL_SILENCE_DBOV, end, GONE_AFTER);
        assert!(!meter.speech(end).present);
    }

    fn speech(speaking: bool, loudness: f32) -> Speech {
        Speech {
            speaking,
            loudness,
            present: true,
        }
    }

    #[test]
    fn the_floor_passes_only_after_the_hold() {
        let (a, b) = (ParticipantId::from("a"), ParticipantId::from("b"));
        let t0 = Instant::now();
        let mut floor = DominantSpeaker::default();
        let talking_a = [
            (a.clone(), speech(true, 40.0)),
            (b.clone(), speech(false, 0.0)),
        ];
        assert!(!floor.update(&talking_a, t0));
        assert!(!floor.update(&talking_a, t0 + TAKEOVER_HOLD / 2));
        assert!(floor.update(&talking_a, t0 + TAKEOVER_HOLD));
        assert_eq!(floor.holder(), Some(&a));

        // Both talk: b must be clearly louder, and stay so for the whole hold.
        let t1 = t0 + Duration::from_secs(5);
        let close = [
            (a.clone(), speech(true, 40.0)),
            (b.clone(), speech(true, 50.0)),
        ];
        assert!(!floor.update(&close, t1));
        assert!(!floor.update(&close, t1 + TAKEOVER_HOLD));
        let louder = [
            (a.clone(), speech(true, 30.0)),
            (b.clone(), speech(true, 50.0)),
        ];
        assert!(!floor.update(&louder, t1 + TAKEOVER_HOLD));
        assert!(
            !floor.update(&close, t1 + TAKEOVER_HOLD * 2),
            "the lead broke off"
        );
        assert!(!floor.update(&louder, t1 + TAKEOVER_HOLD * 3));
        assert!(floor.update(&louder, t1 + TAKEOVER_HOLD * 4));
        assert_eq!(floor.holder(), Some(&b));
    }

    #[test]
    fn silence_keeps_the_floor_and_leaving_loses_it() {
        let (a, b) = (ParticipantId::from("a"), ParticipantId::from("b"));
        let t0 = Instant::now();
        let mut floor = DominantSpeaker::default();
        floor.update(&[(a.clone(), speech(true, 40.0))], t0);
        floor.update(&[(a.clone(), speech(true, 40.0))], t0 + TAKEOVER_HOLD);
        let silent = [
            (a.clone(), speech(false, 0.0)),
            (b.clone(), speech(false, 0.0)),
        ];
        assert!(!floor.update(&silent, t0 + Duration::from_secs(30)));
        assert_eq!(floor.holder(), Some(&a));
        assert!(floor.update(&[(b, speech(false, 0.0))], t0 + Duration::from_secs(31)));
        assert_eq!(floor.holder(), None);
    }
}
