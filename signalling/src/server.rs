//! The WebSocket endpoint: one task per client connection, turning protocol messages into SFU
//! commands and SFU events back into protocol messages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use sfu::{PeerEvent, PeerHandle, Sfu, SfuError};
use tokio::sync::{mpsc, oneshot, watch};
use tracing::Instrument;

use crate::SignallingConfig;
use crate::ids::{ParticipantId, RoomId};
use crate::protocol::{
    ClientMessage, EndReason, ErrorCode, MAX_MESSAGE_BYTES, MESSAGE_BURST, MESSAGE_RATE_PER_SEC,
    MediaKind, PROTOCOL_VERSION, ParticipantInfo, ServerMessage,
};
use crate::token::{JoinClaims, JoinTokenVerifier};

/// After the server closes a connection, how long it reads on for the client's close.
const CLOSE_DRAIN: Duration = Duration::from_secs(2);

/// A connection that has not joined within this time is closed: it holds a socket and a task.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Frames above this are refused by the WebSocket layer itself (the connection closes). Between
/// [`MAX_MESSAGE_BYTES`] and this, the client gets error 4002 and the connection stays usable.
const MAX_FRAME_BYTES: usize = 4 * MAX_MESSAGE_BYTES;

/// Shared state of the signalling service.
#[derive(Clone)]
pub struct Signalling {
    verifier: Arc<JoinTokenVerifier>,
    sfu: Sfu,
    presence: Arc<Presence>,
    sessions: Arc<Sessions>,
    ends: MeetingEnds,
    /// How long a dropped participant waits for `resume` (a booth on a flaky municipal link loses
    /// its WebSocket far more often than its media).
    resume_grace: Duration,
    /// Other origins whose pages may open the WebSocket (besides the server's own).
    allowed_origins: Arc<Vec<String>>,
}

impl Signalling {
    pub fn new(config: &SignallingConfig, verifier: JoinTokenVerifier, sfu: Sfu) -> Self {
        Self {
            resume_grace: Duration::from_secs(config.resume_grace_secs),
            allowed_origins: Arc::new(
                config
                    .allowed_origins
                    .iter()
                    .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
                    .collect(),
            ),
            verifier: Arc::new(verifier),
            sfu,
            presence: Arc::default(),
            sessions: Arc::default(),
            ends: MeetingEnds::default(),
        }
    }

    /// The handle through which the control plane ends meetings (a booking cancelled or ended
    /// while its meeting is live).
    pub fn meeting_ends(&self) -> MeetingEnds {
        self.ends.clone()
    }

    /// `GET /signal`: the WebSocket endpoint.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/signal", get(upgrade))
            .with_state(self.clone())
    }
}

async fn upgrade(
    State(state): State<Signalling>,
    headers: axum::http::HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&headers, &state.allowed_origins) {
        tracing::warn!("WebSocket from another origin refused");
        return (
            axum::http::StatusCode::FORBIDDEN,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            r#"{"error":{"code":"origin_not_allowed","message":"pages of another origin may not open signalling"}}"#,
        )
            .into_response();
    }
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| serve_connection(state, socket))
}

/// Whether a WebSocket upgrade may proceed: no `Origin` (not a browser), the server's own origin
/// (the `Origin`'s host and port are the request's `Host`), or a configured one.
fn origin_allowed(headers: &axum::http::HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(axum::http::header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.to_ascii_lowercase();
    if allowed.contains(&origin) {
        return true;
    }
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase);
    matches!((authority, host), (Some(a), Some(h)) if a == h)
}

/// A token bucket over one connection's incoming messages.
struct MessageBudget {
    tokens: f64,
    at: tokio::time::Instant,
}

impl MessageBudget {
    fn new() -> Self {
        MessageBudget {
            tokens: MESSAGE_BURST,
            at: tokio::time::Instant::now(),
        }
    }

    /// Takes one message; false when the connection has sent more than it may.
    fn take(&mut self) -> bool {
        let now = tokio::time::Instant::now();
        let refill = (now - self.at).as_secs_f64() * MESSAGE_RATE_PER_SEC;
        self.tokens = (self.tokens + refill).min(MESSAGE_BURST);
        self.at = now;
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

/// Meetings the control plane has ended. Everyone in one is told (`meeting_ended`) and taken
/// out, a dropped participant waiting to resume included, and nobody joins or resumes it again.
#[derive(Clone, Default)]
pub struct MeetingEnds {
    rooms: Arc<Mutex<HashMap<RoomId, RoomEnd>>>,
}

struct RoomEnd {
    signal: watch::Sender<Option<EndReason>>,
    ended_at: Option<std::time::Instant>,
}

/// An ended meeting is remembered this long, to refuse join tokens issued before it ended (they
/// live two minutes at most) and resumes within the grace period.
const ENDED_REMEMBERED: Duration = Duration::from_secs(600);

impl MeetingEnds {
    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<RoomId, RoomEnd>> {
        // Every update is a single insert, remove or send: consistent after a panic.
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ends the meeting in `room` for everyone in it. Ending it again changes nothing.
    pub fn end(&self, room: &RoomId, reason: EndReason) {
        let now = std::time::Instant::now();
        let mut rooms = self.rooms();
        rooms.retain(|_, end| {
            end.ended_at.map_or(end.signal.receiver_count() > 0, |at| {
                now - at < ENDED_REMEMBERED
            })
        });
        let end = rooms.entry(room.clone()).or_insert_with(|| RoomEnd {
            signal: watch::channel(None).0,
            ended_at: None,
        });
        if end.ended_at.is_none() {
            end.ended_at = Some(now);
            end.signal.send_replace(Some(reason));
            tracing::info!(room_id = %room, ?reason, "meeting ended");
        }
    }

    /// Why the meeting in `room` ended, if it has.
    fn ended(&self, room: &RoomId) -> Option<EndReason> {
        self.rooms().get(room).and_then(|end| *end.signal.borrow())
    }

    /// Tells a participant of `room` when its meeting ends.
    fn watch(&self, room: &RoomId) -> watch::Receiver<Option<EndReason>> {
        self.rooms()
            .entry(room.clone())
            .or_insert_with(|| RoomEnd {
                signal: watch::channel(None).0,
                ended_at: None,
            })
            .signal
            .subscribe()
    }
}

/// Waits until the meeting ends; why.
async fn meeting_end(ended: &mut watch::Receiver<Option<EndReason>>) -> EndReason {
    loop {
        if let Some(reason) = *ended.borrow_and_update() {
            return reason;
        }
        if ended.changed().await.is_err() {
            // The sender lives in `MeetingEnds` as long as anyone watches: never reached, but a
            // meeting nobody can end any more simply goes on.
            std::future::pending::<()>().await;
        }
    }
}

/// What the writer half of a connection sends.
enum Outgoing {
    Message(ServerMessage),
    /// A last message (the fatal error, `meeting_ended`), then the close with this code (the
    /// numbered error code for fatal errors, 1000 for a normal leave): one entry, so nothing another
    /// task queues for this client (a participant leaving, say) comes between the two.
    Close(Option<ServerMessage>, u16, &'static str),
}

type Outbox = mpsc::UnboundedSender<Outgoing>;

fn send(out: &Outbox, message: ServerMessage) {
    // The writer only stops when the socket is gone, and then nobody is listening anyway.
    let _ = out.send(Outgoing::Message(message));
}

struct Joined {
    room: RoomId,
    participant: ParticipantId,
    peer: PeerHandle,
    /// What `resume` must present to carry this session on over a new connection.
    resume_token: String,
    /// The SFU's last offer, until the client answers: a client that resumes may have missed it.
    unanswered_offer: Option<String>,
    /// Where a `resume` on another connection asks for this session.
    claims: Option<oneshot::Receiver<Claim>>,
    /// Says when the control plane ends the meeting.
    ended: watch::Receiver<Option<EndReason>>,
}

/// A `resume` asking for a session: send it the session and the SFU events it has not seen.
type Claim = oneshot::Sender<(Joined, Vec<PeerEvent>)>;

/// What a connection's session wants from it next.
enum SessionSignal {
    Peer(Option<PeerEvent>),
    /// Another connection resumes this session (`None`: the claim went away).
    Claimed(Option<Claim>),
    /// The control plane ended the meeting.
    Ended(EndReason),
}

fn new_resume_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// How a connection ended, for what happens to its participant.
enum Ending {
    /// `leave`, a fatal error, or media gone: the participant is out.
    Leave,
    /// The socket dropped: the participant waits for `resume`.
    Dropped,
    /// Another connection resumed the session (the client's network changed before this socket
    /// noticed): nothing to do here.
    HandedOver,
}

async fn serve_connection(state: Signalling, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (out, mut outbox) = mpsc::unbounded_channel::<Outgoing>();
    let writer = tokio::spawn(async move {
        while let Some(next) = outbox.recv().await {
            let result = match next {
                Outgoing::Message(m) => sink.send(Message::Text(Utf8Bytes::from(m.encode()))).await,
                Outgoing::Close(last, code, reason) => {
                    if let Some(m) = last {
                        let _ = sink.send(Message::Text(Utf8Bytes::from(m.encode()))).await;
                    }
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code,
                            reason: reason.into(),
                        })))
                        .await;
                    break;
                }
            };
            if result.is_err() {
                break;
            }
        }
    });

    let mut joined: Option<Joined> = None;
    let mut ending = Ending::Dropped;
    let mut budget = MessageBudget::new();
    let join_deadline = tokio::time::sleep(JOIN_TIMEOUT);
    tokio::pin!(join_deadline);
    let span = tracing::info_span!(
        "signalling",
        room_id = tracing::field::Empty,
        participant_id = tracing::field::Empty
    );

    async {
        loop {
            let awaiting_join = joined.is_none();
            let from_session = async {
                match joined.as_mut() {
                    Some(j) => {
                        let claims = async {
                            match j.claims.as_mut() {
                                Some(rx) => rx.await.ok(),
                                None => std::future::pending().await,
                            }
                        };
                        tokio::select! {
                            event = j.peer.next_event() => SessionSignal::Peer(event),
                            claim = claims => SessionSignal::Claimed(claim),
                            reason = meeting_end(&mut j.ended) => SessionSignal::Ended(reason),
                        }
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                frame = stream.next() => {
                    // Every frame counts, binary and pings too: a flood is a flood.
                    if matches!(frame, Some(Ok(_))) && !budget.take() {
                        tracing::warn!("connection closed for sending too many messages");
                        ending = Ending::Leave;
                        let error = ServerMessage::error(ErrorCode::TooManyMessages, "too many messages: the connection is closed", true);
                        let _ = out.send(Outgoing::Close(Some(error), ErrorCode::TooManyMessages.number(), "too many messages"));
                        break;
                    }
                    let text = match frame {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Binary(_))) => {
                            send(&out, ServerMessage::error(ErrorCode::MalformedMessage, "binary frames are not part of the protocol", false));
                            continue;
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        // A close without `leave` is a drop too: a browser tab that crashed or a
                        // proxy that gave up says goodbye just the same.
                        Some(Ok(Message::Close(_))) | None => break,
                        Some(Err(e)) => {
                            tracing::debug!(error = %e, "websocket error");
                            break;
                        }
                    };

                    match handle_text(&state, &out, &mut joined, text.as_str()).await {
                        Flow::Continue => {}
                        Flow::Close(code, reason) => {
                            ending = Ending::Leave;
                            let _ = out.send(Outgoing::Close(None, code, reason));
                            break;
                        }
                    }
                }
                signal = from_session => match signal {
                    SessionSignal::Claimed(Some(claim)) => {
                        if let Some(mut j) = joined.take() {
                            j.claims = None;
                            tracing::info!("session resumed on another connection");
                            if let Err((mut j, _)) = claim.send((j, Vec::new())) {
                                // The resuming connection vanished in between: keep the session.
                                j.claims = Some(state.sessions.register(&j.resume_token, &j.room));
                                joined = Some(j);
                                continue;
                            }
                        }
                        ending = Ending::HandedOver;
                        let _ = out.send(Outgoing::Close(None, 1000, "resumed on another connection"));
                        break;
                    }
                    SessionSignal::Claimed(None) => {
                        if let Some(j) = joined.as_mut() {
                            j.claims = None;
                        }
                    }
                    SessionSignal::Ended(reason) => {
                        ending = Ending::Leave;
                        let _ = out.send(Outgoing::Close(Some(ServerMessage::MeetingEnded { reason }), 1000, "meeting ended"));
                        break;
                    }
                    SessionSignal::Peer(Some(PeerEvent::Closed) | None) => {
                        tracing::info!("media connection lost");
                        ending = Ending::Leave;
                        let error = ServerMessage::error(ErrorCode::Internal, "media connection lost", true);
                        let _ = out.send(Outgoing::Close(Some(error), ErrorCode::Internal.number(), "media connection lost"));
                        break;
                    }
                    SessionSignal::Peer(Some(event)) => {
                        if let Some(j) = joined.as_mut() {
                            relay_peer_event(j, &out, event);
                        }
                    }
                },
                _ = &mut join_deadline, if awaiting_join => {
                    let error = ServerMessage::error(ErrorCode::NotJoined, "no join within 10 seconds", true);
                    let _ = out.send(Outgoing::Close(Some(error), ErrorCode::NotJoined.number(), "join timeout"));
                    break;
                }
            }
        }
        if let Some(j) = joined.take() {
            match ending {
                Ending::Leave => {
                    state.sessions.forget(&j.resume_token);
                    state.presence.leave(&j.room, &j.participant);
                    tracing::info!("left");
                    // Dropping the peer handle takes the participant out of the SFU room.
                    drop(j.peer);
                }
                Ending::Dropped => {
                    tracing::info!("connection dropped; media goes on while the client resumes");
                    tokio::spawn(park(state.clone(), j).instrument(tracing::Span::current()));
                }
                // `joined` is empty after a handover; nothing reaches here.
                Ending::HandedOver => {}
            }
        }
    }
    .instrument(span)
    .await;
    drop(out);
    let _ = writer.await;
    // A client still sending when the server closed (a flood, say) would otherwise meet a reset
    // that can destroy the error and close frames just sent: read and drop what it sends until it
    // closes too, for a moment at most. A connection that closed or dropped ends here at once.
    let _ = tokio::time::timeout(CLOSE_DRAIN, async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
}

enum Flow {
    Continue,
    Close(u16, &'static str),
}

/// Passes an SFU event on to the client.
fn relay_peer_event(j: &mut Joined, out: &Outbox, event: PeerEvent) {
    match event {
        PeerEvent::Offer(sdp) => {
            j.unanswered_offer = Some(sdp.clone());
            send(out, ServerMessage::Offer { sdp });
        }
        PeerEvent::Connected => tracing::info!("media connected"),
        PeerEvent::Candidate(candidate) => {
            tracing::info!("offering the TCP fallback");
            send(out, ServerMessage::Candidate { candidate });
        }
        PeerEvent::VideoPaused { publisher, paused } => {
            tracing::info!(publisher_id = %publisher, paused, "video paused for bandwidth");
            send(
                out,
                ServerMessage::VideoPaused {
                    participant_id: publisher,
                    paused,
                },
            );
        }
        PeerEvent::ActiveSpeaker(participant_id) => {
            send(out, ServerMessage::ActiveSpeaker { participant_id })
        }
        PeerEvent::Quality(quality) => send(out, ServerMessage::quality(&quality)),
        // Handled by the caller: it ends the connection.
        PeerEvent::Closed => {}
    }
}

/// Every joined session, by its current resume credential, so that a `resume` on a new
/// connection can claim it: from the connection that still holds it (whose socket has not yet
/// noticed the client is gone) or from the task keeping it after a drop.
#[derive(Default)]
struct Sessions {
    by_credential: Mutex<HashMap<String, SessionEntry>>,
}

struct SessionEntry {
    room: RoomId,
    claim: oneshot::Sender<Claim>,
}

impl Sessions {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionEntry>> {
        // Every update is a single insert or remove: the map is consistent after a panic.
        self.by_credential.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes a session claimable with `credential`; the holder listens on the receiver.
    fn register(&self, credential: &str, room: &RoomId) -> oneshot::Receiver<Claim> {
        let (claim, claims) = oneshot::channel();
        self.map().insert(
            credential.to_owned(),
            SessionEntry {
                room: room.clone(),
                claim,
            },
        );
        claims
    }

    fn forget(&self, credential: &str) {
        self.map().remove(credential);
    }
}

/// Keeps a dropped participant in the room for the resume grace period, collecting its SFU
/// events, until a connection resumes it, its media dies, or the grace period ends (then it
/// leaves).
async fn park(state: Signalling, mut j: Joined) {
    let Some(mut claims) = j.claims.take() else {
        state.presence.leave(&j.room, &j.participant);
        return;
    };
    let mut meanwhile = Vec::new();
    let grace = tokio::time::sleep(state.resume_grace);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            handover = &mut claims => {
                if let Ok(reply) = handover
                    && let Err((j, _)) = reply.send((j, meanwhile))
                {
                    // The resuming connection vanished in between: nobody has the session.
                    state.presence.leave(&j.room, &j.participant);
                }
                return;
            }
            event = j.peer.next_event() => match event {
                Some(PeerEvent::Closed) | None => break,
                Some(event) => meanwhile.push(event),
            },
            _ = meeting_end(&mut j.ended) => break,
            _ = &mut grace => break,
        }
    }
    state.sessions.forget(&j.resume_token);
    state.presence.leave(&j.room, &j.participant);
    tracing::info!("left: not resumed");
}

/// `resume`: takes over a session, dropped or (when the old socket has not noticed yet) still
/// held by another connection. `None` when the credential does not name one.
async fn resume(state: &Signalling, out: &Outbox, room: &RoomId, token: &str) -> Option<Joined> {
    let entry = state.sessions.map().remove(token)?;
    if &entry.room != room {
        // Put it back: a wrong room is the client's mistake, not a reason to end the session.
        state.sessions.map().insert(token.to_owned(), entry);
        return None;
    }
    let (reply, handed) = oneshot::channel();
    entry.claim.send(reply).ok()?;
    let (mut j, meanwhile) = handed.await.ok()?;
    let span = tracing::Span::current();
    span.record("room_id", tracing::field::display(&j.room));
    span.record("participant_id", tracing::field::display(&j.participant));
    j.resume_token = new_resume_token();
    j.claims = Some(state.sessions.register(&j.resume_token, &j.room));
    let participants = state
        .presence
        .reattach(&j.room, &j.participant, out.clone());
    send(
        out,
        ServerMessage::Resumed {
            participant_id: j.participant.clone(),
            participants,
            resume_token: j.resume_token.clone(),
        },
    );
    // An offer the client may not have seen goes again; then whatever came meanwhile.
    let mut offered_again = false;
    if let Some(sdp) = j.unanswered_offer.clone()
        && !meanwhile.iter().any(|e| matches!(e, PeerEvent::Offer(_)))
    {
        send(out, ServerMessage::Offer { sdp });
        offered_again = true;
    }
    for event in meanwhile {
        relay_peer_event(&mut j, out, event);
    }
    tracing::info!(offered_again, "resumed");
    Some(j)
}

async fn handle_text(
    state: &Signalling,
    out: &Outbox,
    joined: &mut Option<Joined>,
    text: &str,
) -> Flow {
    let message = match ClientMessage::decode(text) {
        Ok(m) => m,
        Err(e) => {
            send(out, ServerMessage::error(e.code(), e.to_string(), false));
            return Flow::Continue;
        }
    };
    let Some(j) = joined.as_mut() else {
        return match message {
            ClientMessage::Join { room_id, token } => match join(state, out, room_id, &token).await
            {
                Ok(j) => {
                    *joined = Some(j);
                    Flow::Continue
                }
                Err(code) => Flow::Close(code.number(), "join refused"),
            },
            ClientMessage::Resume { room_id, .. } if state.ends.ended(&room_id).is_some() => {
                let code = ErrorCode::MeetingEnded;
                tracing::info!(
                    code = code.number(),
                    "resume refused: the meeting has ended"
                );
                send(
                    out,
                    ServerMessage::error(code, "the meeting has ended", true),
                );
                Flow::Close(code.number(), "meeting ended")
            }
            ClientMessage::Resume {
                room_id,
                resume_token,
            } => match resume(state, out, &room_id, &resume_token).await {
                Some(j) => {
                    *joined = Some(j);
                    Flow::Continue
                }
                None => {
                    tracing::info!(code = ErrorCode::ResumeRefused.number(), "resume refused");
                    send(
                        out,
                        ServerMessage::error(
                            ErrorCode::ResumeRefused,
                            "nothing to resume with this credential; join again",
                            true,
                        ),
                    );
                    Flow::Close(ErrorCode::ResumeRefused.number(), "resume refused")
                }
            },
            _ => {
                send(
                    out,
                    ServerMessage::error(ErrorCode::NotJoined, "send join first", false),
                );
                Flow::Continue
            }
        };
    };
    match message {
        ClientMessage::Join { .. } | ClientMessage::Resume { .. } => send(
            out,
            ServerMessage::error(
                ErrorCode::AlreadyJoined,
                "this connection has joined already",
                false,
            ),
        ),
        ClientMessage::Offer { sdp } => match j.peer.offer(sdp).await {
            Ok(sdp) => send(out, ServerMessage::Answer { sdp }),
            Err(e) => send(out, sfu_error(&e, false).1),
        },
        ClientMessage::Answer { sdp } => match j.peer.answer(sdp).await {
            Ok(()) => j.unanswered_offer = None,
            Err(e) => send(out, sfu_error(&e, false).1),
        },
        ClientMessage::Candidate { candidate } => {
            if let Err(e) = j.peer.candidate(candidate) {
                send(out, sfu_error(&e, false).1);
            }
        }
        ClientMessage::Mute { kind, muted } => {
            state
                .presence
                .set_muted(&j.room, &j.participant, kind, muted)
        }
        ClientMessage::VideoSize { mid, height, .. } => {
            if let Err(e) = j.peer.video_size(mid, height) {
                send(out, sfu_error(&e, false).1);
            }
        }
        ClientMessage::Leave => {
            send(out, ServerMessage::Left);
            return Flow::Close(1000, "left");
        }
        ClientMessage::Ping => send(out, ServerMessage::Pong),
    }
    Flow::Continue
}

/// The protocol error for an SFU failure. Internal details go to the log, not to the client.
fn sfu_error(e: &SfuError, fatal: bool) -> (ErrorCode, ServerMessage) {
    let code = match e {
        SfuError::InvalidSdp(_) | SfuError::InvalidCandidate => ErrorCode::InvalidSdp,
        SfuError::NegotiationInProgress | SfuError::NoOfferPending => ErrorCode::InvalidState,
        SfuError::RoomFull => ErrorCode::RoomFull,
        _ => ErrorCode::Internal,
    };
    let message = if code == ErrorCode::Internal {
        tracing::error!(error = %e, "SFU request failed");
        "internal error".to_owned()
    } else {
        e.to_string()
    };
    (code, ServerMessage::error(code, message, fatal))
}

fn unix_now() -> i64 {
    // A clock before 1970 is a broken machine; treat it as the epoch and let tokens fail.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn join(
    state: &Signalling,
    out: &Outbox,
    room: RoomId,
    token: &str,
) -> Result<Joined, ErrorCode> {
    let verdict = state
        .verifier
        .verify_looking_again(token, &room, unix_now())
        .await;
    let claims: JoinClaims = match verdict {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(code = e.code().number(), reason = %e, "join refused");
            send(out, ServerMessage::error(e.code(), e.to_string(), true));
            return Err(e.code());
        }
    };
    if state.ends.ended(&room).is_some() {
        let code = ErrorCode::MeetingEnded;
        tracing::info!(code = code.number(), "join refused: the meeting has ended");
        send(
            out,
            ServerMessage::error(code, "the meeting has ended", true),
        );
        return Err(code);
    }
    let participant = ParticipantId(format!("p-{}", uuid::Uuid::new_v4().simple()));
    let span = tracing::Span::current();
    span.record("room_id", tracing::field::display(&room));
    span.record("participant_id", tracing::field::display(&participant));

    let peer = match state.sfu.join(room.clone(), participant.clone()).await {
        Ok(p) => p,
        Err(e) => {
            let (code, message) = sfu_error(&e, true);
            send(out, message);
            return Err(code);
        }
    };
    let me = ParticipantInfo {
        participant_id: participant.clone(),
        role: claims.role,
        display_name: claims.name,
        identified: claims.identified,
        audio_muted: false,
        video_muted: false,
    };
    let others = state.presence.enter(&room, me, out.clone());
    let resume_token = new_resume_token();
    send(
        out,
        ServerMessage::Joined {
            protocol_version: PROTOCOL_VERSION,
            room_id: room.clone(),
            participant_id: participant.clone(),
            role: claims.role,
            participants: others,
            resume_token: resume_token.clone(),
        },
    );
    tracing::info!(role = ?claims.role, "joined");
    let claims = Some(state.sessions.register(&resume_token, &room));
    let ended = state.ends.watch(&room);
    Ok(Joined {
        room,
        participant,
        peer,
        resume_token,
        unanswered_offer: None,
        claims,
        ended,
    })
}

/// Who is in which room, for `participant_joined` / `_updated` / `_left`. Touched on joins, mutes
/// and leaves only — never per media packet.
#[derive(Default)]
struct Presence {
    rooms: Mutex<HashMap<RoomId, Vec<(ParticipantInfo, Outbox)>>>,
}

impl Presence {
    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<RoomId, Vec<(ParticipantInfo, Outbox)>>> {
        // The map stays consistent even if a holder panicked: every update is a single insert or
        // remove.
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a participant; returns the others and tells them.
    fn enter(&self, room: &RoomId, me: ParticipantInfo, outbox: Outbox) -> Vec<ParticipantInfo> {
        let mut rooms = self.rooms();
        let members = rooms.entry(room.clone()).or_default();
        let others: Vec<ParticipantInfo> = members.iter().map(|(info, _)| info.clone()).collect();
        for (_, other) in members.iter() {
            send(
                other,
                ServerMessage::ParticipantJoined {
                    participant: me.clone(),
                },
            );
        }
        members.push((me, outbox));
        others
    }

    /// A resumed participant's messages go to its new connection. Returns the others.
    fn reattach(
        &self,
        room: &RoomId,
        participant: &ParticipantId,
        outbox: Outbox,
    ) -> Vec<ParticipantInfo> {
        let mut rooms = self.rooms();
        let Some(members) = rooms.get_mut(room) else {
            return Vec::new();
        };
        let mut others = Vec::new();
        for (info, out) in members.iter_mut() {
            if &info.participant_id == participant {
                *out = outbox.clone();
            } else {
                others.push(info.clone());
            }
        }
        others
    }

    fn set_muted(&self, room: &RoomId, participant: &ParticipantId, kind: MediaKind, muted: bool) {
        let mut rooms = self.rooms();
        let Some(members) = rooms.get_mut(room) else {
            return;
        };
        let Some((info, _)) = members
            .iter_mut()
            .find(|(i, _)| &i.participant_id == participant)
        else {
            return;
        };
        match kind {
            MediaKind::Audio => info.audio_muted = muted,
            MediaKind::Video => info.video_muted = muted,
        }
        let info = info.clone();
        for (_, other) in members
            .iter()
            .filter(|(i, _)| &i.participant_id != participant)
        {
            send(
                other,
                ServerMessage::ParticipantUpdated {
                    participant: info.clone(),
                },
            );
        }
    }

    fn leave(&self, room: &RoomId, participant: &ParticipantId) {
        let mut rooms = self.rooms();
        let Some(members) = rooms.get_mut(room) else {
            return;
        };
        members.retain(|(i, _)| &i.participant_id != participant);
        for (_, other) in members.iter() {
            send(
                other,
                ServerMessage::ParticipantLeft {
                    participant_id: participant.clone(),
                },
            );
        }
        if members.is_empty() {
            rooms.remove(room);
        }
    }
}
