//! `TestPeer`: one participant as a browser would be — a signalling connection and a WebRTC peer
//! connection that publishes Opus and VP8 and answers the SFU's offers for others' tracks.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signalling::ids::{ParticipantId, RoomId};
use signalling::protocol::{ClientMessage, ServerMessage};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::media::{Kind, MediaProfile, TrackLog};
use crate::rtc_peer::{MediaPeer, PeerError, PeerOptions};
use crate::ws::{Joined, Resumed, SignalClient, SignalError};

#[derive(Debug, thiserror::Error)]
pub enum TestPeerError {
    #[error("{label}: signalling: {source}")]
    Signal { label: String, source: SignalError },
    #[error("{label}: webrtc: {source}")]
    Peer { label: String, source: PeerError },
    #[error("{label}: {message}")]
    Protocol { label: String, message: String },
}

pub type Result<T, E = TestPeerError> = std::result::Result<T, E>;

/// One SDP or protocol step, kept for failure messages.
#[derive(Debug, Clone)]
pub struct Step {
    /// `"→ offer"`, `"← answer"`, `"← offer"`, `"→ answer"` or `"! <what failed>"`.
    pub what: String,
    pub sdp: String,
}

/// A participant: joined over signalling, publishing and receiving over WebRTC.
pub struct TestPeer {
    label: String,
    joined: Joined,
    /// When the server's `joined` arrived.
    joined_at: Instant,
    http_addr: SocketAddr,
    media: Arc<MediaPeer>,
    /// The signalling connection of the moment: replaced when the peer resumes.
    connection: Mutex<Connection>,
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<ServerMessage>>,
    steps: Arc<Mutex<Vec<Step>>>,
}

struct Connection {
    outgoing: mpsc::UnboundedSender<ClientMessage>,
    /// Server messages for the test; the receiving end is [`TestPeer::events`].
    events: mpsc::UnboundedSender<ServerMessage>,
    task: JoinHandle<()>,
    resume_token: String,
}

impl TestPeer {
    /// Joins `room_id` with `token`, offers send-only Opus and VP8, applies the SFU's answer and
    /// waits until the peer connection is connected. Publishing starts with
    /// [`Self::start_publishing`].
    pub async fn join(
        http_addr: SocketAddr,
        room_id: &RoomId,
        token: &str,
        label: &str,
    ) -> Result<TestPeer> {
        Self::join_with(http_addr, room_id, token, label, PeerOptions::default()).await
    }

    /// As [`Self::join`], numbering codecs as `options` says.
    pub async fn join_with(
        http_addr: SocketAddr,
        room_id: &RoomId,
        token: &str,
        label: &str,
        options: PeerOptions,
    ) -> Result<TestPeer> {
        let signal_err = |source| TestPeerError::Signal {
            label: label.to_owned(),
            source,
        };
        let peer_err = |source| TestPeerError::Peer {
            label: label.to_owned(),
            source,
        };
        let steps = Arc::new(Mutex::new(Vec::new()));
        let record = |what: &str, sdp: &str| {
            steps.lock().unwrap_or_else(|p| p.into_inner()).push(Step {
                what: what.to_owned(),
                sdp: sdp.to_owned(),
            })
        };

        let mut client = SignalClient::connect(http_addr).await.map_err(signal_err)?;
        let joined = client.join(room_id, token).await.map_err(signal_err)?;
        let joined_at = Instant::now();
        tracing::debug!(peer = label, participant_id = %joined.participant_id, "joined");

        let mut media = MediaPeer::with_options(label, options)
            .await
            .map_err(peer_err)?;
        media.add_local_tracks(label).await.map_err(peer_err)?;
        let offer = media.create_offer().await.map_err(peer_err)?;
        record("→ offer", &offer);
        client
            .send(&ClientMessage::Offer { sdp: offer })
            .await
            .map_err(signal_err)?;
        let (answer, early) = client
            .recv_until(|m| match m {
                ServerMessage::Answer { sdp } => Some(Ok(sdp.clone())),
                ServerMessage::Offer { .. } | ServerMessage::Error { .. } => Some(Err(m.clone())),
                _ => None,
            })
            .await
            .map_err(signal_err)?;
        let answer = answer.map_err(|m| TestPeerError::Protocol {
            label: label.to_owned(),
            message: format!("expected the answer to our offer, got {m:?}"),
        })?;
        record("← answer", &answer);
        media.apply_answer(&answer).await.map_err(peer_err)?;

        let media = Arc::new(media);
        let (outgoing, outgoing_rx) = mpsc::unbounded_channel();
        let (events_tx, events) = mpsc::unbounded_channel();
        for msg in early {
            let _ = events_tx.send(msg);
        }
        let task = tokio::spawn(run_signalling(
            label.to_owned(),
            client,
            Arc::clone(&media),
            outgoing_rx,
            events_tx.clone(),
            Arc::clone(&steps),
        ));
        let peer = TestPeer {
            label: label.to_owned(),
            http_addr,
            media,
            connection: Mutex::new(Connection {
                outgoing,
                events: events_tx,
                task,
                resume_token: joined.resume_token.clone(),
            }),
            joined,
            joined_at,
            events: tokio::sync::Mutex::new(events),
            steps,
        };
        peer.media
            .wait_connected()
            .await
            .map_err(|source| TestPeerError::Peer {
                label: format!("{label} (negotiation: {})", peer.diagnostics()),
                source,
            })?;
        Ok(peer)
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn participant_id(&self) -> &ParticipantId {
        &self.joined.participant_id
    }

    pub fn joined(&self) -> &Joined {
        &self.joined
    }

    pub fn media(&self) -> &MediaPeer {
        &self.media
    }

    /// RTP packets received so far from `from`'s audio and from its video.
    pub fn packets_received_from(&self, from: &TestPeer) -> (usize, usize) {
        let logs = self.media.received();
        let count = |kind| {
            logs.iter()
                .filter(|l| l.kind == kind && l.stream_id == from.participant_id().as_str())
                .map(|l| l.len())
                .sum::<usize>()
        };
        (count(Kind::Audio), count(Kind::Video))
    }

    /// When signalling answered `joined`: the first stage of a join after the token.
    pub fn joined_at(&self) -> Instant {
        self.joined_at
    }

    /// As [`Self::start_publishing`], with media shaped by `profile`.
    pub async fn start_publishing_with(&self, profile: MediaProfile) -> Result<()> {
        self.media
            .start_publishing_with(profile)
            .await
            .map_err(|source| TestPeerError::Peer {
                label: self.label.clone(),
                source,
            })
    }

    pub async fn start_publishing(&self) -> Result<()> {
        self.media
            .start_publishing()
            .await
            .map_err(|source| TestPeerError::Peer {
                label: self.label.clone(),
                source,
            })
    }

    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.connection.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The credential the next `resume` must present.
    pub fn resume_token(&self) -> String {
        self.connection().resume_token.clone()
    }

    /// Cuts the signalling connection as a flaky network would: the socket just goes, no `leave`,
    /// no close frame. The media connection is untouched.
    pub fn drop_signalling(&self) {
        self.connection().task.abort();
    }

    /// Opens a new signalling connection and resumes this participant on it.
    pub async fn resume(&self) -> Result<Resumed> {
        let signal_err = |source| TestPeerError::Signal {
            label: self.label.clone(),
            source,
        };
        let mut client = SignalClient::connect(self.http_addr)
            .await
            .map_err(signal_err)?;
        let resumed = client
            .resume(&self.joined.room_id, &self.resume_token())
            .await
            .map_err(signal_err)?;
        let (outgoing, outgoing_rx) = mpsc::unbounded_channel();
        let mut connection = self.connection();
        connection.task.abort();
        connection.task = tokio::spawn(run_signalling(
            self.label.clone(),
            client,
            Arc::clone(&self.media),
            outgoing_rx,
            connection.events.clone(),
            Arc::clone(&self.steps),
        ));
        connection.outgoing = outgoing;
        connection.resume_token = resumed.resume_token.clone();
        Ok(resumed)
    }

    /// Sends a message on the signalling connection.
    pub fn send(&self, msg: ClientMessage) -> Result<()> {
        self.connection()
            .outgoing
            .send(msg)
            .map_err(|_| TestPeerError::Protocol {
                label: self.label.clone(),
                message: "signalling connection has ended".into(),
            })
    }

    /// The next server message that is not part of SDP negotiation (those are handled inside).
    pub async fn next_event(&self, timeout: Duration) -> Result<ServerMessage> {
        let mut events = self.events.lock().await;
        match tokio::time::timeout(timeout, events.recv()).await {
            Ok(Some(msg)) => Ok(msg),
            Ok(None) => Err(self.protocol_error("signalling connection has ended")),
            Err(_) => Err(self.protocol_error(&format!("no server message within {timeout:?}"))),
        }
    }

    /// Waits for the first event `pick` accepts, dropping the ones before it.
    pub async fn wait_for_event<T>(
        &self,
        timeout: Duration,
        mut pick: impl FnMut(&ServerMessage) -> Option<T>,
    ) -> Result<T> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let msg = self.next_event(left).await?;
            if let Some(found) = pick(&msg) {
                return Ok(found);
            }
        }
    }

    /// Sends `ping` and waits for `pong`.
    pub async fn ping(&self, timeout: Duration) -> Result<()> {
        self.send(ClientMessage::Ping)?;
        self.wait_for_event(timeout, |m| matches!(m, ServerMessage::Pong).then_some(()))
            .await
    }

    /// Waits until this peer has received at least `audio` Opus and `video` VP8 packets on tracks
    /// whose stream id is `publisher`; returns those two logs (audio, video).
    pub async fn wait_for_media_from(
        &self,
        publisher: &ParticipantId,
        audio: usize,
        video: usize,
        timeout: Duration,
    ) -> Result<(TrackLog, TrackLog)> {
        let from = |logs: &[TrackLog], kind: Kind| {
            logs.iter()
                .find(|l| l.kind == kind && l.stream_id == publisher.as_str())
                .cloned()
        };
        let logs = self
            .media
            .wait_for_received(timeout, |logs| {
                from(logs, Kind::Audio).is_some_and(|l| l.len() >= audio)
                    && from(logs, Kind::Video).is_some_and(|l| l.len() >= video)
            })
            .await
            .map_err(|source| TestPeerError::Peer {
                label: format!(
                    "{} waiting for {publisher} (negotiation: {})",
                    self.label,
                    self.diagnostics()
                ),
                source,
            })?;
        // The predicate above held for these logs, so both tracks are there.
        Ok((
            from(&logs, Kind::Audio).expect("audio log"),
            from(&logs, Kind::Video).expect("video log"),
        ))
    }

    /// Asserts that a forwarded track arrived whole: no gap in its (rewritten) sequence numbers,
    /// the publisher's timing (timestamp steps, marker bits), and only the payload type this peer
    /// negotiated for it. The SSRC may differ from the publisher's; the SFU rewrites it.
    pub async fn assert_forwarded_cleanly(&self, log: &TrackLog) {
        let gaps = log.gaps();
        assert!(
            gaps.is_empty(),
            "{}: {} from {}: {} packets, gaps {gaps:?}",
            self.label,
            log.kind,
            log.stream_id,
            log.len()
        );
        let timing = log.timing_errors();
        assert!(
            timing.is_empty(),
            "{}: {} from {}: RTP timestamps or marker bits changed in forwarding: {:?}",
            self.label,
            log.kind,
            log.stream_id,
            &timing[..timing.len().min(5)]
        );
        let expected = self
            .media
            .negotiated_receive_payload_type(log)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}; negotiation: {}", self.label, self.diagnostics()));
        assert_eq!(
            log.payload_types(),
            [expected].into(),
            "{}: {} from {}: payload types differ from the negotiated one",
            self.label,
            log.kind,
            log.stream_id
        );
    }

    /// The SDP exchanged so far and anything that failed in the background, for assert messages.
    pub fn diagnostics(&self) -> String {
        let steps = self.steps.lock().unwrap_or_else(|p| p.into_inner());
        steps
            .iter()
            .map(|s| format!("\n--- {} ---\n{}", s.what, s.sdp))
            .collect()
    }

    /// Steps that failed in the background (a server offer we could not answer, a lost connection).
    pub fn failures(&self) -> Vec<String> {
        let steps = self.steps.lock().unwrap_or_else(|p| p.into_inner());
        steps
            .iter()
            .filter(|s| s.what.starts_with('!'))
            .map(|s| format!("{}: {}", s.what, s.sdp))
            .collect()
    }

    /// Sends `leave`, waits for `left` and closes the peer connection.
    pub async fn leave(self) -> Result<()> {
        self.send(ClientMessage::Leave)?;
        self.wait_for_event(crate::ws::RECV_TIMEOUT, |m| {
            matches!(m, ServerMessage::Left).then_some(())
        })
        .await?;
        self.media.close().await;
        Ok(())
    }

    fn protocol_error(&self, message: &str) -> TestPeerError {
        TestPeerError::Protocol {
            label: self.label.clone(),
            message: message.to_owned(),
        }
    }
}

impl Drop for TestPeer {
    fn drop(&mut self) {
        self.connection().task.abort();
    }
}

/// Owns the signalling connection after the first negotiation: answers server offers, sends what
/// the test queues, and hands every other server message to the test.
async fn run_signalling(
    label: String,
    mut client: SignalClient,
    media: Arc<MediaPeer>,
    mut outgoing: mpsc::UnboundedReceiver<ClientMessage>,
    events: mpsc::UnboundedSender<ServerMessage>,
    steps: Arc<Mutex<Vec<Step>>>,
) {
    let record = |what: &str, sdp: &str| {
        steps.lock().unwrap_or_else(|p| p.into_inner()).push(Step {
            what: what.to_owned(),
            sdp: sdp.to_owned(),
        })
    };
    loop {
        tokio::select! {
            incoming = client.recv_unbounded() => match incoming {
                Ok(ServerMessage::Offer { sdp }) => {
                    record("← offer", &sdp);
                    match media.answer(&sdp).await {
                        Ok(answer) => {
                            record("→ answer", &answer);
                            if let Err(e) = client.send(&ClientMessage::Answer { sdp: answer }).await {
                                record("! sending answer", &e.to_string());
                                return;
                            }
                        }
                        Err(e) => {
                            tracing::warn!(peer = %label, "cannot answer the server's offer: {e}");
                            record("! answering server offer", &e.to_string());
                        }
                    }
                }
                Ok(msg) => {
                    if events.send(msg).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::debug!(peer = %label, "signalling ended: {e}");
                    record("! signalling ended", &e.to_string());
                    return;
                }
            },
            msg = outgoing.recv() => {
                let Some(msg) = msg else { return };
                if let Err(e) = client.send(&msg).await {
                    record("! sending", &e.to_string());
                    return;
                }
            }
        }
    }
}

/// The guide books and starts a meeting; its officer and citizen join and publish, and each has
/// received at least 50 audio and 50 video packets of the other's. Panics (with the reason) when
/// any step fails: it is the start of a test, not what the test checks.
pub async fn meeting_of_two(http_addr: SocketAddr) -> (TestPeer, TestPeer, crate::api::Meeting) {
    const MEDIA_TIMEOUT: Duration = Duration::from_secs(30);
    let mut meeting = crate::api::Meeting::book_and_start(http_addr)
        .await
        .expect("book and start a meeting");
    let officer_grant = meeting.officer_token().await.expect("officer's join token");
    let citizen_grant = meeting.citizen_token().await.expect("citizen's join token");
    let officer = TestPeer::join(http_addr, &meeting.room_id, &officer_grant.token, "officer")
        .await
        .expect("officer joins");
    let citizen = TestPeer::join(http_addr, &meeting.room_id, &citizen_grant.token, "citizen")
        .await
        .expect("citizen joins");
    officer.start_publishing().await.expect("officer publishes");
    citizen.start_publishing().await.expect("citizen publishes");
    for (me, publisher) in [(&officer, &citizen), (&citizen, &officer)] {
        me.wait_for_media_from(publisher.participant_id(), 50, 50, MEDIA_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{} receives {}: {e}", me.label(), publisher.label()));
    }
    (officer, citizen, meeting)
}
