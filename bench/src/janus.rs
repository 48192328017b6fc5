//! Janus VideoRoom under test: Debian's `janus` started on loopback with a configuration written
//! to a temporary directory (the VideoRoom plugin and the HTTP transport only, ICE on `lo`), and
//! driven through its HTTP API as its JavaScript client would: a session per participant, kept
//! alive and long-polled for events; a publisher handle that joins and configures with an offer;
//! a subscriber handle that joins the other publishers' feeds and starts with an answer.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::Method;
use narvaro_tests::api::{ApiClient, ApiError};
use narvaro_tests::media::{MediaProfile, TrackLog};
use narvaro_tests::rtc_peer::{MediaPeer, PeerError, PeerOptions};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::load::Received;
use crate::process::spawn_pinned;

/// Janus's VideoRoom plugin, by its package name.
const VIDEOROOM: &str = "janus.plugin.videoroom";
/// How long one Janus request may take before the benchmark gives up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum JanusError {
    #[error("janus is not installed (no `janus` on PATH; `apt-get install janus`)")]
    NotInstalled,
    #[error("no IPv4 address other than loopback for Janus's media")]
    NoMediaAddress,
    #[error("cannot start janus: {0}")]
    Spawn(std::io::Error),
    #[error("janus did not answer within {0:?} (its log: {1})")]
    NotReady(Duration, String),
    #[error("temporary directory or port: {0}")]
    Io(#[from] std::io::Error),
    #[error("HTTP: {0}")]
    Api(#[from] ApiError),
    #[error("janus refused {request}: {reply}")]
    Refused { request: String, reply: String },
    #[error("no answer from janus to {0} within {REPLY_TIMEOUT:?}")]
    Timeout(String),
    #[error("webrtc: {0}")]
    Peer(#[from] PeerError),
}

type Result<T, E = JanusError> = std::result::Result<T, E>;

/// The `janus` executable on PATH, if installed.
pub fn installed() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("janus"))
        .find(|candidate| candidate.is_file())
}

fn transaction() -> String {
    format!("t{:016x}", rand::random::<u64>())
}

/// Janus's configuration: only what the benchmark uses is loaded, ICE is limited to `media_ip`
/// and logs stay at warnings.
fn write_config(
    dir: &std::path::Path,
    http_port: u16,
    media_ip: Ipv4Addr,
) -> std::io::Result<PathBuf> {
    const LIB: &str = "/usr/lib/x86_64-linux-gnu/janus";
    let main = format!(
        r#"general: {{
	configs_folder = "{dir}"
	plugins_folder = "{LIB}/plugins"
	transports_folder = "{LIB}/transports"
	events_folder = "{LIB}/events"
	loggers_folder = "{LIB}/loggers"
	debug_level = 3
	session_timeout = 60
}}
media: {{
	rtp_port_range = "20000-40000"
}}
nat: {{
	ice_enforce_list = "{media_ip}"
}}
plugins: {{
	disable = "libjanus_audiobridge.so,libjanus_echotest.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_nosip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so,libjanus_duktape.so,libjanus_lua.so"
}}
transports: {{
	disable = "libjanus_websockets.so,libjanus_pfunix.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_rabbitmq.so"
}}
events: {{
	broadcast = false
}}
loggers: {{
	disable = "libjanus_jsonlog.so"
}}
"#,
        dir = dir.display(),
    );
    let http = format!(
        r#"general: {{
	json = "compact"
	base_path = "/janus"
	http = true
	port = {http_port}
	interface = "lo"
	https = false
}}
admin: {{
	admin_http = false
}}
"#
    );
    // Rooms are created over the API by the benchmark; none is preconfigured.
    let videoroom = "general: {\n}\n";
    std::fs::write(dir.join("janus.transport.http.jcfg"), http)?;
    std::fs::write(dir.join("janus.plugin.videoroom.jcfg"), videoroom)?;
    let path = dir.join("janus.jcfg");
    std::fs::write(&path, main)?;
    Ok(path)
}

/// This machine's first IPv4 address that is up and not loopback. Janus gathers no loopback
/// candidates, so its media and its peers use this address; the kernel still delivers locally,
/// through the same loopback device as Närvaro's 127.0.0.1.
pub fn local_media_ip() -> Option<Ipv4Addr> {
    let mut found = None;
    // SAFETY: getifaddrs hands us a list we only read and then free with freeifaddrs.
    unsafe {
        let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
        if libc::getifaddrs(&mut list) != 0 {
            return None;
        }
        let mut entry = list;
        while !entry.is_null() {
            let ifa = &*entry;
            let up = ifa.ifa_flags & libc::IFF_UP as libc::c_uint != 0;
            let loopback = ifa.ifa_flags & libc::IFF_LOOPBACK as libc::c_uint != 0;
            if up
                && !loopback
                && !ifa.ifa_addr.is_null()
                && (*ifa.ifa_addr).sa_family as libc::c_int == libc::AF_INET
            {
                let addr = &*(ifa.ifa_addr as *const libc::sockaddr_in);
                found = Some(Ipv4Addr::from(u32::from_be(addr.sin_addr.s_addr)));
                break;
            }
            entry = ifa.ifa_next;
        }
        libc::freeifaddrs(list);
    }
    found
}

/// A running Janus. Dropping it kills the process and removes its directory.
pub struct JanusServer {
    media_ip: Ipv4Addr,
    child: Child,
    http_addr: SocketAddr,
    admin: Option<(Session, Handle)>,
    next_room: u64,
    dir: tempfile::TempDir,
}

impl JanusServer {
    pub async fn start(cpus: &[usize]) -> Result<JanusServer> {
        let binary = installed().ok_or(JanusError::NotInstalled)?;
        let dir = tempfile::tempdir()?;
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let media_ip = local_media_ip().ok_or(JanusError::NoMediaAddress)?;
        let config = write_config(dir.path(), port, media_ip)?;
        let log = std::fs::File::create(dir.path().join("janus.log"))?;
        let mut command = Command::new(binary);
        command
            .arg("--config")
            .arg(&config)
            .arg("--configs-folder")
            .arg(dir.path())
            .arg("--disable-colors")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let child = spawn_pinned(&mut command, cpus).map_err(JanusError::Spawn)?;
        let mut server = JanusServer {
            media_ip,
            child,
            http_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            admin: None,
            next_room: 1000,
            dir,
        };
        server.wait_ready(Duration::from_secs(20)).await?;
        let session = Session::create(server.http_addr).await?;
        let handle = session.attach().await?;
        server.admin = Some((session, handle));
        Ok(server)
    }

    async fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut probe = ApiClient::new(self.http_addr);
        loop {
            if let Ok((200, reply)) = probe
                .request(
                    Method::POST,
                    "/janus",
                    Some(&json!({"janus": "info", "transaction": transaction()})),
                )
                .await
                && reply["plugins"].get(VIDEOROOM).is_some()
            {
                return Ok(());
            }
            let exited = matches!(self.child.try_wait(), Ok(Some(_)));
            if exited || Instant::now() > deadline {
                return Err(JanusError::NotReady(timeout, self.log()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("janus.log")).unwrap_or_default()
    }

    async fn peer(&self, label: &str) -> Result<MediaPeer> {
        Ok(MediaPeer::bound_to(label, PeerOptions::default(), IpAddr::V4(self.media_ip)).await?)
    }

    /// Creates a room for `participants`, joins each as a publisher with its own session, then
    /// subscribes each to the others' feeds, and starts everyone publishing `profile`.
    pub async fn open_room(
        &mut self,
        label: &str,
        participants: usize,
        profile: MediaProfile,
        received: &Arc<Received>,
    ) -> Result<JanusRoom> {
        let room = self.next_room;
        self.next_room += 1;
        let (_, admin) = self
            .admin
            .as_ref()
            .ok_or_else(|| JanusError::Timeout("admin session".into()))?;
        admin
            .request(json!({
                "request": "create",
                "room": room,
                "publishers": participants,
                // No bitrate cap and no periodic key frame requests: the same load as Närvaro's.
                "bitrate": 0,
                "fir_freq": 0,
                "audiocodec": "opus",
                "videocodec": "vp8",
                "notify_joining": false,
            }))
            .await?;

        let mut members = Vec::with_capacity(participants);
        for i in 0..participants {
            let name = format!("{label}-p{i}");
            let session = Session::create(self.http_addr).await?;
            let publisher = session.attach().await?;
            let mut pc = self.peer(&name).await?;
            pc.add_local_tracks(&name).await?;
            let offer = pc.create_offer().await?;
            let (data, jsep) = publisher
                .request_with_event(
                    json!({
                        "request": "joinandconfigure",
                        "room": room,
                        "ptype": "publisher",
                        "display": name,
                        "audio": true,
                        "video": true,
                    }),
                    Some(json!({"type": "offer", "sdp": offer})),
                )
                .await?;
            let feed = data["id"].as_u64().ok_or_else(|| JanusError::Refused {
                request: "joinandconfigure".into(),
                reply: data.to_string(),
            })?;
            let answer = jsep_sdp(&jsep, "joinandconfigure")?;
            pc.apply_answer(&answer).await?;
            publisher.trickle_completed().await?;
            pc.wait_connected().await?;
            members.push(JanusMember {
                publisher_pc: pc,
                feed,
                subscriber: None,
                _publisher: publisher,
                session,
            });
        }

        let feeds: Vec<u64> = members.iter().map(|m| m.feed).collect();
        for (i, member) in members.iter_mut().enumerate() {
            let streams: Vec<Value> = feeds
                .iter()
                .filter(|&&f| f != member.feed)
                .map(|f| json!({"feed": f}))
                .collect();
            let subscriber = member.session.attach().await?;
            // Janus lists a feed only once its publisher's media is up ("No such feed", 428,
            // until then): a connected publisher can still be a moment early.
            let mut attempts = 0;
            let (_, jsep) = loop {
                let joined = subscriber
                    .request_with_event(
                        json!({
                            "request": "join",
                            "room": room,
                            "ptype": "subscriber",
                            "streams": streams,
                        }),
                        None,
                    )
                    .await;
                match joined {
                    Err(JanusError::Refused { reply, .. })
                        if reply.contains("\"error_code\":428") && attempts < 50 =>
                    {
                        attempts += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    other => break other?,
                }
            };
            let offer = jsep_sdp(&jsep, "subscriber join")?;
            let pc = MediaPeer::bound_to(
                &format!("{label}-p{i}-sub"),
                PeerOptions::default(),
                IpAddr::V4(self.media_ip),
            )
            .await?;
            pc.set_packet_observer(received.observer())?;
            let answer = pc.answer(&offer).await?;
            subscriber
                .request_with_event(
                    json!({"request": "start"}),
                    Some(json!({"type": "answer", "sdp": answer})),
                )
                .await?;
            subscriber.trickle_completed().await?;
            pc.wait_connected().await?;
            member.subscriber = Some((subscriber, pc));
        }
        for member in &members {
            member.publisher_pc.start_publishing_with(profile).await?;
        }
        Ok(JanusRoom { members })
    }
}

impl Drop for JanusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn jsep_sdp(jsep: &Option<Value>, request: &str) -> Result<String> {
    jsep.as_ref()
        .and_then(|j| j["sdp"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| JanusError::Refused {
            request: request.to_owned(),
            reply: "no SDP in the reply".into(),
        })
}

/// One participant in Janus: a session with a publisher handle and peer connection, and a
/// subscriber handle and peer connection receiving the others.
struct JanusMember {
    publisher_pc: MediaPeer,
    feed: u64,
    subscriber: Option<(Handle, MediaPeer)>,
    _publisher: Handle,
    session: Session,
}

/// A room's participants, kept alive while the room is measured.
pub struct JanusRoom {
    members: Vec<JanusMember>,
}

impl JanusRoom {
    pub fn logs(&self) -> Vec<TrackLog> {
        self.members
            .iter()
            .filter_map(|m| m.subscriber.as_ref())
            .flat_map(|(_, pc)| pc.received())
            .collect()
    }

    pub async fn srtp_profile(&self) -> Option<String> {
        self.members.first()?.publisher_pc.srtp_profile().await
    }
}

type EventRoutes = Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<Value>>>>;

/// A Janus session: long-polled for events, which go to the handle that sent them, and kept
/// alive. Dropping it stops both tasks and destroys the session.
pub struct Session {
    api: ApiClient,
    id: u64,
    routes: EventRoutes,
    tasks: Vec<JoinHandle<()>>,
}

impl Session {
    async fn create(http_addr: SocketAddr) -> Result<Session> {
        let mut api = ApiClient::new(http_addr);
        let reply = api
            .call(
                Method::POST,
                "/janus",
                Some(&json!({"janus": "create", "transaction": transaction()})),
            )
            .await?;
        let id = reply["data"]["id"]
            .as_u64()
            .ok_or_else(|| JanusError::Refused {
                request: "create".into(),
                reply: reply.to_string(),
            })?;
        let routes: EventRoutes = Arc::default();
        let poll = tokio::spawn(long_poll(api.clone(), id, Arc::clone(&routes)));
        let keepalive = tokio::spawn(keep_alive(api.clone(), id));
        Ok(Session {
            api,
            id,
            routes,
            tasks: vec![poll, keepalive],
        })
    }

    /// Attaches a new VideoRoom handle to this session.
    async fn attach(&self) -> Result<Handle> {
        let mut api = self.api.clone();
        let reply = api
            .call(
                Method::POST,
                &format!("/janus/{}", self.id),
                Some(
                    &json!({"janus": "attach", "plugin": VIDEOROOM, "transaction": transaction()}),
                ),
            )
            .await?;
        let id = reply["data"]["id"]
            .as_u64()
            .ok_or_else(|| JanusError::Refused {
                request: "attach".into(),
                reply: reply.to_string(),
            })?;
        let (tx, rx) = mpsc::unbounded_channel();
        self.routes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, tx);
        Ok(Handle {
            api,
            path: format!("/janus/{}/{id}", self.id),
            events: tokio::sync::Mutex::new(rx),
        })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        let mut api = self.api.clone();
        let path = format!("/janus/{}", self.id);
        // Best effort: Janus also drops the session by itself once keepalives stop.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = api
                    .request(
                        Method::POST,
                        &path,
                        Some(&json!({"janus": "destroy", "transaction": transaction()})),
                    )
                    .await;
            });
        }
    }
}

/// Janus answers a long poll with one event, or an array of up to `maxev`, or a keepalive after
/// 30 s of nothing. Events name their handle in `sender`.
async fn long_poll(mut api: ApiClient, session: u64, routes: EventRoutes) {
    let path = format!("/janus/{session}?maxev=10");
    loop {
        let reply = match api.request(Method::GET, &path, None).await {
            Ok((200, reply)) => reply,
            Ok(_) | Err(_) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let events = match reply {
            Value::Array(events) => events,
            event => vec![event],
        };
        for event in events {
            let Some(sender) = event["sender"].as_u64() else {
                continue;
            };
            let routes = routes.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(route) = routes.get(&sender) {
                let _ = route.send(event);
            }
        }
    }
}

async fn keep_alive(mut api: ApiClient, session: u64) {
    let path = format!("/janus/{session}");
    let mut tick = tokio::time::interval(Duration::from_secs(20));
    loop {
        tick.tick().await;
        let _ = api
            .request(
                Method::POST,
                &path,
                Some(&json!({"janus": "keepalive", "transaction": transaction()})),
            )
            .await;
    }
}

/// One VideoRoom handle.
struct Handle {
    api: ApiClient,
    path: String,
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<Value>>,
}

impl Handle {
    /// A synchronous plugin request (e.g. `create`): the answer is in the HTTP reply.
    async fn request(&self, body: Value) -> Result<Value> {
        let name = body["request"].as_str().unwrap_or("?").to_owned();
        let mut api = self.api.clone();
        let reply = api
            .call(
                Method::POST,
                &self.path,
                Some(&json!({"janus": "message", "transaction": transaction(), "body": body})),
            )
            .await?;
        let data = reply["plugindata"]["data"].clone();
        if reply["janus"] != "success" || data.get("error").is_some() {
            return Err(JanusError::Refused {
                request: name,
                reply: reply.to_string(),
            });
        }
        Ok(data)
    }

    /// An asynchronous plugin request: Janus acknowledges, and the answer (with any JSEP) comes
    /// as an event carrying the same transaction.
    async fn request_with_event(
        &self,
        body: Value,
        jsep: Option<Value>,
    ) -> Result<(Value, Option<Value>)> {
        let name = body["request"].as_str().unwrap_or("?").to_owned();
        let tx = transaction();
        let mut message = json!({"janus": "message", "transaction": tx, "body": body});
        if let Some(jsep) = jsep {
            message["jsep"] = jsep;
        }
        let mut api = self.api.clone();
        let reply = api.call(Method::POST, &self.path, Some(&message)).await?;
        if reply["janus"] != "ack" && reply["janus"] != "success" {
            return Err(JanusError::Refused {
                request: name,
                reply: reply.to_string(),
            });
        }
        let mut events = self.events.lock().await;
        let deadline = tokio::time::Instant::now() + REPLY_TIMEOUT;
        loop {
            let event = tokio::time::timeout_at(deadline, events.recv())
                .await
                .map_err(|_| JanusError::Timeout(name.clone()))?
                .ok_or_else(|| JanusError::Timeout(name.clone()))?;
            if event["transaction"] != tx.as_str() {
                continue;
            }
            let data = event["plugindata"]["data"].clone();
            if data.get("error").is_some() {
                return Err(JanusError::Refused {
                    request: name,
                    reply: event.to_string(),
                });
            }
            return Ok((data, event.get("jsep").cloned()));
        }
    }

    /// Tells Janus our candidates are all in the SDP already (non-trickle, as gathered).
    async fn trickle_completed(&self) -> Result<()> {
        let mut api = self.api.clone();
        api.call(
            Method::POST,
            &self.path,
            Some(&json!({"janus": "trickle", "transaction": transaction(), "candidate": {"completed": true}})),
        )
        .await?;
        Ok(())
    }
}
