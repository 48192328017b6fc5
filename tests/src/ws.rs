//! A minimal client of the signalling protocol: typed messages over one WebSocket, every wait
//! bounded by a timeout. Enough for tests that never touch WebRTC (token and message rejections),
//! and the transport under [`crate::peer::TestPeer`].

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use signalling::ids::{ParticipantId, RoomId};
use signalling::protocol::{ClientMessage, ErrorCode, ParticipantInfo, ServerMessage};
use signalling::token::Role;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for one server message before calling it lost.
pub const RECV_TIMEOUT: Duration = Duration::from_secs(10);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("connection closed by the server ({0:?})")]
    Closed(Option<CloseFrame>),
    #[error("no message within {0:?}")]
    Timeout(Duration),
    #[error("server sent a frame that is not a ServerMessage ({error}): {text}")]
    Undecodable { text: String, error: String },
    #[error("unexpected message: {0:?}")]
    Unexpected(Box<ServerMessage>),
    #[error("server refused: {code:?} ({message}), fatal: {fatal}")]
    Refused {
        code: ErrorCode,
        message: String,
        fatal: bool,
    },
}

pub type Result<T, E = SignalError> = std::result::Result<T, E>;

/// What `joined` said.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    pub protocol_version: u32,
    pub room_id: RoomId,
    pub participant_id: ParticipantId,
    pub role: Role,
    pub participants: Vec<ParticipantInfo>,
    pub resume_token: String,
}

/// What `resumed` said.
#[derive(Debug, Clone, PartialEq)]
pub struct Resumed {
    pub participant_id: ParticipantId,
    pub participants: Vec<ParticipantInfo>,
    pub resume_token: String,
}

/// A server message other than the one awaited: a refusal when it is an `error`.
fn refusal(message: ServerMessage) -> SignalError {
    match message {
        ServerMessage::Error {
            code,
            message,
            fatal,
        } => SignalError::Refused {
            code,
            message,
            fatal,
        },
        other => SignalError::Unexpected(Box::new(other)),
    }
}

/// The `ws://…/signal` URL of an app listening on `http_addr`.
pub fn signal_url(http_addr: SocketAddr) -> String {
    format!("ws://{http_addr}/signal")
}

/// One signalling connection.
pub struct SignalClient {
    ws: Ws,
    timeout: Duration,
}

impl SignalClient {
    pub async fn connect(http_addr: SocketAddr) -> Result<Self> {
        let (ws, _response) = tokio_tungstenite::connect_async(signal_url(http_addr)).await?;
        Ok(Self {
            ws,
            timeout: RECV_TIMEOUT,
        })
    }

    pub async fn send(&mut self, msg: &ClientMessage) -> Result<()> {
        // Plain data enums always serialize.
        let text = serde_json::to_string(msg).expect("client messages serialize");
        self.send_text(text).await
    }

    /// Sends any text frame, valid or not.
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<()> {
        self.ws.send(Message::text(text.into())).await?;
        Ok(())
    }

    /// The next server message; WebSocket pings and pongs are skipped, a close is an error.
    pub async fn recv(&mut self) -> Result<ServerMessage> {
        let timeout = self.timeout;
        tokio::time::timeout(timeout, self.recv_unbounded())
            .await
            .map_err(|_| SignalError::Timeout(timeout))?
    }

    /// As [`Self::recv`] without a timeout, for a task that owns the connection.
    pub async fn recv_unbounded(&mut self) -> Result<ServerMessage> {
        loop {
            match self.ws.next().await {
                None => return Err(SignalError::Closed(None)),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(text.as_str()).map_err(|e| {
                        SignalError::Undecodable {
                            text: text.as_str().to_owned(),
                            error: e.to_string(),
                        }
                    });
                }
                Some(Ok(Message::Close(frame))) => return Err(SignalError::Closed(frame)),
                Some(Ok(Message::Binary(bytes))) => {
                    return Err(SignalError::Undecodable {
                        text: format!("<{} binary bytes>", bytes.len()),
                        error: "binary frame".into(),
                    });
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next message that `pick` accepts; the ones before it are returned too, in order.
    pub async fn recv_until<T>(
        &mut self,
        mut pick: impl FnMut(&ServerMessage) -> Option<T>,
    ) -> Result<(T, Vec<ServerMessage>)> {
        let mut skipped = Vec::new();
        loop {
            let msg = self.recv().await?;
            if let Some(found) = pick(&msg) {
                return Ok((found, skipped));
            }
            skipped.push(msg);
        }
    }

    /// Sends `join` and waits for `joined`; a refusal comes back as [`SignalError::Refused`].
    pub async fn join(&mut self, room_id: &RoomId, token: &str) -> Result<Joined> {
        self.send(&ClientMessage::Join {
            room_id: room_id.clone(),
            token: token.to_owned(),
        })
        .await?;
        match self.recv().await? {
            ServerMessage::Joined {
                protocol_version,
                room_id,
                participant_id,
                role,
                participants,
                resume_token,
            } => Ok(Joined {
                protocol_version,
                room_id,
                participant_id,
                role,
                participants,
                resume_token,
            }),
            other => Err(refusal(other)),
        }
    }

    /// Sends `resume` and waits for `resumed`; a refusal comes back as [`SignalError::Refused`].
    pub async fn resume(&mut self, room_id: &RoomId, resume_token: &str) -> Result<Resumed> {
        self.send(&ClientMessage::Resume {
            room_id: room_id.clone(),
            resume_token: resume_token.to_owned(),
        })
        .await?;
        match self.recv().await? {
            ServerMessage::Resumed {
                participant_id,
                participants,
                resume_token,
            } => Ok(Resumed {
                participant_id,
                participants,
                resume_token,
            }),
            other => Err(refusal(other)),
        }
    }

    /// Waits for an `error` (skipping room events such as `participant_joined`), returning its
    /// code and whether the server called it fatal.
    pub async fn expect_error(&mut self) -> Result<(ErrorCode, bool)> {
        let (found, _) = self
            .recv_until(|m| match m {
                ServerMessage::Error { code, fatal, .. } => Some((*code, *fatal)),
                _ => None,
            })
            .await?;
        Ok(found)
    }

    /// Sends `ping` and waits for `pong` (skipping room events).
    pub async fn ping(&mut self) -> Result<()> {
        self.send(&ClientMessage::Ping).await?;
        let (_, skipped) = self
            .recv_until(|m| matches!(m, ServerMessage::Pong).then_some(()))
            .await?;
        if let Some(err @ ServerMessage::Error { .. }) = skipped
            .into_iter()
            .find(|m| matches!(m, ServerMessage::Error { .. }))
        {
            return Err(SignalError::Unexpected(Box::new(err)));
        }
        Ok(())
    }

    /// Waits until the server closes the connection; fails if it sends anything but a close.
    pub async fn expect_closed(&mut self) -> Result<Option<CloseFrame>> {
        match self.recv().await {
            Err(SignalError::Closed(frame)) => Ok(frame),
            // A reset after the server dropped the socket is a close too.
            Err(SignalError::Ws(_)) => Ok(None),
            Err(e) => Err(e),
            Ok(msg) => Err(SignalError::Unexpected(Box::new(msg))),
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
