//! The WebSocket endpoint: one task per client connection, turning protocol messages into SFU
//! commands and SFU events back into protocol messages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use sfu::{PeerEvent, PeerHandle, Sfu, SfuError};
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::ids::{ParticipantId, RoomId};
use crate::protocol::{
    ClientMessage, ErrorCode, MAX_MESSAGE_BYTES, MediaKind, PROTOCOL_VERSION, ParticipantInfo,
    ServerMessage,
};
use crate::token::{JoinClaims, JoinTokenVerifier};

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
}

impl Signalling {
    pub fn new(verifier: JoinTokenVerifier, sfu: Sfu) -> Self {
        Self {
            verifier: Arc::new(verifier),
            sfu,
            presence: Arc::default(),
        }
    }

    /// `GET /signal`: the WebSocket endpoint.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/signal", get(upgrade))
            .with_state(self.clone())
    }
}

async fn upgrade(State(state): State<Signalling>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| serve_connection(state, socket))
}

/// What the writer half of a connection sends.
enum Outgoing {
    Message(ServerMessage),
    /// Close with this code (the numbered error code for fatal errors, 1000 for a normal leave).
    Close(u16, &'static str),
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
}

async fn serve_connection(state: Signalling, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (out, mut outbox) = mpsc::unbounded_channel::<Outgoing>();
    let writer = tokio::spawn(async move {
        while let Some(next) = outbox.recv().await {
            let result = match next {
                Outgoing::Message(m) => sink.send(Message::Text(Utf8Bytes::from(m.encode()))).await,
                Outgoing::Close(code, reason) => {
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
            let peer_event = async {
                match joined.as_mut() {
                    Some(j) => j.peer.next_event().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                frame = stream.next() => {
                    let text = match frame {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Binary(_))) => {
                            send(&out, ServerMessage::error(ErrorCode::MalformedMessage, "binary frames are not part of the protocol", false));
                            continue;
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Close(_))) | None => break,
                        Some(Err(e)) => {
                            tracing::debug!(error = %e, "websocket error");
                            break;
                        }
                    };
                    match handle_text(&state, &out, &mut joined, text.as_str()).await {
                        Flow::Continue => {}
                        Flow::Close(code, reason) => {
                            let _ = out.send(Outgoing::Close(code, reason));
                            break;
                        }
                    }
                }
                event = peer_event => match event {
                    Some(PeerEvent::Offer(sdp)) => send(&out, ServerMessage::Offer { sdp }),
                    Some(PeerEvent::Connected) => tracing::info!("media connected"),
                    Some(PeerEvent::VideoPaused { publisher, paused }) => {
                        tracing::info!(publisher_id = %publisher, paused, "video paused for bandwidth");
                        send(&out, ServerMessage::VideoPaused { participant_id: publisher, paused });
                    }
                    Some(PeerEvent::Closed) | None => {
                        tracing::info!("media connection lost");
                        send(&out, ServerMessage::error(ErrorCode::Internal, "media connection lost", true));
                        let _ = out.send(Outgoing::Close(ErrorCode::Internal.number(), "media connection lost"));
                        break;
                    }
                },
                _ = &mut join_deadline, if awaiting_join => {
                    send(&out, ServerMessage::error(ErrorCode::NotJoined, "no join within 10 seconds", true));
                    let _ = out.send(Outgoing::Close(ErrorCode::NotJoined.number(), "join timeout"));
                    break;
                }
            }
        }
        if let Some(j) = joined.take() {
            state.presence.leave(&j.room, &j.participant);
            tracing::info!("left");
            // Dropping the peer handle takes the participant out of the SFU room.
            drop(j.peer);
        }
    }
    .instrument(span)
    .await;
    drop(out);
    let _ = writer.await;
}

enum Flow {
    Continue,
    Close(u16, &'static str),
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
        ClientMessage::Join { .. } => send(
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
        ClientMessage::Answer { sdp } => {
            if let Err(e) = j.peer.answer(sdp).await {
                send(out, sfu_error(&e, false).1);
            }
        }
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
    let claims: JoinClaims = match state.verifier.verify(token, &room, unix_now()) {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(code = e.code().number(), reason = %e, "join refused");
            send(out, ServerMessage::error(e.code(), e.to_string(), true));
            return Err(e.code());
        }
    };
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
        audio_muted: false,
        video_muted: false,
    };
    let others = state.presence.enter(&room, me, out.clone());
    send(
        out,
        ServerMessage::Joined {
            protocol_version: PROTOCOL_VERSION,
            room_id: room.clone(),
            participant_id: participant.clone(),
            role: claims.role,
            participants: others,
        },
    );
    tracing::info!(role = ?claims.role, "joined");
    Ok(Joined {
        room,
        participant,
        peer,
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
