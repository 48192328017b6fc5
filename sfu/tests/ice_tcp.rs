//! Passive ICE-TCP through the real SFU: its media task, UDP socket and TCP listener, with str0m
//! clients on real loopback sockets. The booth's client has only a TCP path to the SFU, as behind
//! a firewall that blocks UDP; the officer's has only UDP. Each must receive the other's audio.
//!
//! The clients frame TCP themselves (RFC 4571: a 16-bit big-endian length, then the packet), apart
//! from the SFU's own framing code, so the test checks the wire format and not one implementation
//! against itself.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use sfu::{ParticipantId, PeerEvent, PeerHandle, RoomId, Sfu, SfuConfig, SfuMetrics};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::{Protocol, Receive, TcpType};
use str0m::rtp::RtpWrite;
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;

/// Safety net only: on loopback the packets counted below take about two seconds.
const MEDIA_TIMEOUT: Duration = Duration::from_secs(30);

/// Audio packets each client must receive from the other.
const PACKETS: usize = 50;

const AUDIO_INTERVAL: Duration = Duration::from_millis(20);

fn loopback_config(ice_tcp: bool) -> SfuConfig {
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    SfuConfig {
        udp_port: 0,
        tcp_port: 0,
        ice_tcp,
        bind_ip: loopback,
        public_ips: vec![loopback],
        ..SfuConfig::default()
    }
}

/// The SFU's candidates in an SDP answer.
fn candidates(sdp: &str) -> Vec<Candidate> {
    sdp.lines()
        .filter_map(|line| line.trim().strip_prefix("a="))
        .filter(|attr| attr.starts_with("candidate:"))
        .map(|attr| Candidate::from_sdp_string(attr).expect("a candidate str0m can read"))
        .collect()
}

/// The TCP candidate the SFU trickles to a client whose UDP has not connected (it never will
/// here: these clients have no UDP).
async fn trickled_tcp_candidate(handle: &mut PeerHandle) -> Candidate {
    let wait = async {
        loop {
            match handle.next_event().await {
                Some(PeerEvent::Candidate(c)) => {
                    let c = Candidate::from_sdp_string(&c).expect("a candidate str0m can read");
                    assert_eq!(c.proto(), Protocol::Tcp);
                    return c;
                }
                Some(_) => continue,
                None => panic!("the SFU stopped"),
            }
        }
    };
    // A safety net, not a timing assertion: the fallback comes after about a second.
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("the SFU offers its TCP candidate when UDP does not connect")
}

/// How a client reaches the SFU: its only path.
enum Path {
    Tcp(OwnedWriteHalf),
    Udp(Arc<UdpSocket>),
}

/// A participant's client: a str0m peer (full ICE, controlling) on one real socket.
struct Client {
    name: &'static str,
    rtc: Rtc,
    handle: PeerHandle,
    proto: Protocol,
    path: Path,
    local: SocketAddr,
    server: SocketAddr,
    /// Packets from the SFU, read by a task of their own so no read is ever cut in half.
    packets: mpsc::Receiver<Vec<u8>>,
    audio: Mid,
    /// The SFU's answer to this client's offer.
    answer: String,
    /// The TCP candidate the SFU trickled later.
    trickled: Option<Candidate>,
}

impl Client {
    /// Joins, offers to send audio, and connects to the SFU's candidate of `proto`, the one
    /// transport this client has.
    async fn join(sfu: &Sfu, room: &RoomId, name: &'static str, proto: Protocol) -> Client {
        let mut handle = sfu
            .join(room.clone(), ParticipantId::from(name))
            .await
            .unwrap();
        let mut rtc = Rtc::builder()
            .set_rtp_mode(true)
            .clear_codecs()
            .enable_opus(true, false)
            .build(Instant::now());
        let mut api = rtc.sdp_api();
        let audio = api.add_media(
            MediaKind::Audio,
            Direction::SendOnly,
            Some(name.into()),
            None,
            None,
        );
        let (offer, pending) = api.apply().expect("an offer");
        let answer = handle.offer(offer.to_sdp_string()).await.unwrap();
        rtc.sdp_api()
            .accept_answer(pending, SdpAnswer::from_sdp_string(&answer).unwrap())
            .unwrap();
        // The answer carries UDP only; TCP follows when UDP has not connected.
        let trickled = match proto {
            Protocol::Tcp => Some(trickled_tcp_candidate(&mut handle).await),
            _ => None,
        };
        let server = match &trickled {
            Some(c) => c.addr(),
            None => candidates(&answer)
                .into_iter()
                .find(|c| c.proto() == proto)
                .unwrap_or_else(|| panic!("the SFU offers a {proto} candidate:\n{answer}"))
                .addr(),
        };

        let (packets_sender, packets) = mpsc::channel(256);
        let (path, local, candidate) = match proto {
            Protocol::Tcp => {
                let stream = TcpStream::connect(server).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let local = stream.local_addr().unwrap();
                let (reader, writer) = stream.into_split();
                tokio::spawn(async move {
                    let mut reader = reader;
                    // Ends when the SFU closes the connection or the test is over.
                    while let Ok(packet) = read_frame(&mut reader).await {
                        if packets_sender.send(packet).await.is_err() {
                            break;
                        }
                    }
                });
                // An active candidate: this side opens the connection (RFC 6544).
                let candidate = Candidate::builder()
                    .tcp()
                    .host(local)
                    .tcptype(TcpType::Active)
                    .build()
                    .unwrap();
                (Path::Tcp(writer), local, candidate)
            }
            _ => {
                let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
                let local = socket.local_addr().unwrap();
                let receiving = socket.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 2048];
                    while let Ok((n, _)) = receiving.recv_from(&mut buf).await {
                        if packets_sender.send(buf[..n].to_vec()).await.is_err() {
                            break;
                        }
                    }
                });
                (
                    Path::Udp(socket),
                    local,
                    Candidate::host(local, "udp").unwrap(),
                )
            }
        };
        // Trickled after the answer, as a browser does once it has gathered.
        rtc.add_local_candidate(candidate);
        Client {
            name,
            rtc,
            handle,
            proto,
            path,
            local,
            server,
            packets,
            audio,
            answer,
            trickled,
        }
    }

    async fn send(&mut self, packet: &[u8]) {
        match &mut self.path {
            Path::Tcp(writer) => {
                let len = u16::try_from(packet.len()).expect("a packet fits a frame");
                let mut frame = len.to_be_bytes().to_vec();
                frame.extend_from_slice(packet);
                writer.write_all(&frame).await.unwrap();
            }
            Path::Udp(socket) => {
                socket.send_to(packet, self.server).await.unwrap();
            }
        }
    }

    /// Runs the client: ICE, DTLS, answering the SFU's offers, sending 20 ms Opus packets that
    /// start with its name once connected, counting packets that start with `from`. Reports on
    /// `reached` once `PACKETS` have arrived, and keeps going so the other client gets its share.
    async fn run(mut self, from: &'static str, reached: mpsc::Sender<&'static str>) {
        let mut connected = false;
        let mut next_audio = Instant::now();
        let mut sequence = 0u64;
        let mut received = 0;
        loop {
            let timeout = loop {
                match self.rtc.poll_output().unwrap() {
                    Output::Transmit(t) => {
                        assert_eq!(t.proto, self.proto, "{}: one path only", self.name);
                        self.send(&t.contents).await;
                    }
                    Output::Timeout(t) => break t,
                    Output::Event(Event::Connected) => {
                        connected = true;
                        next_audio = Instant::now();
                    }
                    Output::Event(Event::RtpPacket(p))
                        if p.payload.starts_with(from.as_bytes()) =>
                    {
                        received += 1;
                        if received == PACKETS {
                            reached.send(self.name).await.unwrap();
                        }
                    }
                    Output::Event(_) => {}
                }
            };
            let wake = if connected {
                timeout.min(next_audio)
            } else {
                timeout
            };
            tokio::select! {
                Some(packet) = self.packets.recv() => {
                    let receive = Receive::new(self.proto, self.server, self.local, &packet)
                        .expect("the SFU sends only packets str0m reads");
                    self.rtc.handle_input(Input::Receive(Instant::now(), receive)).unwrap();
                }
                Some(event) = self.handle.next_event() => {
                    if let PeerEvent::Offer(sdp) = event {
                        let offer = SdpOffer::from_sdp_string(&sdp).unwrap();
                        let answer = self.rtc.sdp_api().accept_offer(offer).unwrap();
                        self.handle.answer(answer.to_sdp_string()).await.unwrap();
                    }
                }
                _ = tokio::time::sleep_until(wake.into()) => {
                    let now = Instant::now();
                    if connected && now >= next_audio {
                        self.send_audio(sequence, now);
                        sequence += 1;
                        next_audio += AUDIO_INTERVAL;
                    }
                    self.rtc.handle_input(Input::Timeout(now)).unwrap();
                }
            }
        }
    }

    fn send_audio(&mut self, sequence: u64, now: Instant) {
        let pt = self
            .rtc
            .codec_config()
            .find(|p| p.spec().codec == Codec::Opus)
            .expect("Opus negotiated")
            .pt();
        let mut payload = self.name.as_bytes().to_vec();
        payload.resize(80, 0xfc);
        let mut api = self.rtc.direct_api();
        let tx = api
            .stream_tx_by_mid(self.audio, None)
            .expect("negotiated send stream");
        tx.write_rtp(RtpWrite::new(
            pt,
            sequence.into(),
            (sequence * 960) as u32,
            now,
            payload,
        ));
    }
}

async fn read_frame(reader: &mut (impl AsyncReadExt + Unpin)) -> io::Result<Vec<u8>> {
    let len = reader.read_u16().await?;
    let mut packet = vec![0u8; usize::from(len)];
    reader.read_exact(&mut packet).await?;
    Ok(packet)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booth_with_only_tcp_and_an_officer_with_only_udp_receive_each_others_audio() {
    let metrics = Arc::new(SfuMetrics::default());
    let sfu = Sfu::start(&loopback_config(true), metrics.clone())
        .await
        .unwrap();
    let room = RoomId::from("room-tcp");
    let booth = Client::join(&sfu, &room, "booth", Protocol::Tcp).await;
    let officer = Client::join(&sfu, &room, "officer", Protocol::Udp).await;

    // Browsers must prefer UDP: the answer offers only UDP; the TCP candidate, trickled when UDP
    // did not connect, is passive and ranks below every UDP one.
    let offered = candidates(&booth.answer);
    assert!(
        offered.iter().all(|c| c.proto() == Protocol::Udp),
        "{}",
        booth.answer
    );
    let udp = &offered[0];
    let tcp = booth.trickled.clone().expect("a trickled TCP candidate");
    assert_eq!(tcp.tcptype(), Some(TcpType::Passive));
    assert!(tcp.prio() < udp.prio(), "{}", booth.answer);

    let (reached_sender, mut reached) = mpsc::channel(2);
    let clients = [
        tokio::spawn(booth.run("officer", reached_sender.clone())),
        tokio::spawn(officer.run("booth", reached_sender)),
    ];
    let mut done = Vec::new();
    tokio::time::timeout(MEDIA_TIMEOUT, async {
        while done.len() < 2 {
            done.push(reached.recv().await.unwrap());
        }
    })
    .await
    .unwrap_or_else(|_| panic!("only {done:?} received {PACKETS} packets"));

    // The booth's half of the meeting went over the one TCP connection, both ways.
    assert_eq!(metrics.tcp_connections.load(Relaxed), 1);
    assert_eq!(metrics.tcp_connections_accepted.load(Relaxed), 1);
    assert!(metrics.tcp_frames_received.load(Relaxed) >= PACKETS as u64);
    assert!(metrics.tcp_frames_sent.load(Relaxed) >= PACKETS as u64);
    assert_eq!(metrics.tcp_frames_unroutable.load(Relaxed), 0);
    for client in clients {
        client.abort();
    }
}

/// Connects to the SFU's TCP candidate as a stranger would: someone must have joined for the SFU
/// to say where it is.
async fn connect_as_stranger(sfu: &Sfu) -> (TcpStream, PeerHandle) {
    let mut handle = sfu
        .join(RoomId::from("room-1"), ParticipantId::from("booth"))
        .await
        .unwrap();
    let mut rtc = Rtc::builder().build(Instant::now());
    let mut api = rtc.sdp_api();
    api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, _) = api.apply().unwrap();
    handle.offer(offer.to_sdp_string()).await.unwrap();
    let tcp = trickled_tcp_candidate(&mut handle).await;
    (TcpStream::connect(tcp.addr()).await.unwrap(), handle)
}

/// Waits for the SFU to close the connection; a reset counts as closed too.
async fn closed_by_sfu(stream: &mut TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    let closing = stream.read_to_end(&mut rest);
    let _ = tokio::time::timeout(MEDIA_TIMEOUT, closing)
        .await
        .expect("the SFU closes the connection");
    rest
}

#[tokio::test]
async fn a_tcp_connection_whose_first_packet_is_no_ice_check_is_closed() {
    // Version 2, so it looks like RTP; the SFU refuses anything but STUN before ICE.
    let mut rtp = vec![0x80, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7];
    rtp.resize(100, 0);
    // A STUN binding request header with no credentials: no peer's ICE takes it.
    let mut stun = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
    stun.resize(20, 9);
    for packet in [rtp, stun] {
        let metrics = Arc::new(SfuMetrics::default());
        let sfu = Sfu::start(&loopback_config(true), metrics.clone())
            .await
            .unwrap();
        let (mut stream, _handle) = connect_as_stranger(&sfu).await;
        let mut frame = (packet.len() as u16).to_be_bytes().to_vec();
        frame.extend_from_slice(&packet);
        stream.write_all(&frame).await.unwrap();

        let sent_back = closed_by_sfu(&mut stream).await;
        assert!(sent_back.is_empty(), "nothing is sent to a stranger");
        assert_eq!(metrics.tcp_connections.load(Relaxed), 0);
        assert_eq!(metrics.tcp_frames_unroutable.load(Relaxed), 1);
    }
}

#[tokio::test]
async fn a_tcp_connection_with_an_oversized_frame_is_closed() {
    let metrics = Arc::new(SfuMetrics::default());
    let sfu = Sfu::start(&loopback_config(true), metrics.clone())
        .await
        .unwrap();
    let (mut stream, _handle) = connect_as_stranger(&sfu).await;
    stream.write_all(&u16::MAX.to_be_bytes()).await.unwrap();
    stream.write_all(&[0u8; 4096]).await.unwrap();

    closed_by_sfu(&mut stream).await;
    assert_eq!(metrics.tcp_frames_received.load(Relaxed), 0);
}

#[tokio::test]
async fn with_ice_tcp_off_the_sfu_offers_udp_only_and_no_tcp_fallback() {
    let sfu = Sfu::start(&loopback_config(false), Arc::default())
        .await
        .unwrap();
    let mut handle = sfu
        .join(RoomId::from("room-1"), ParticipantId::from("booth"))
        .await
        .unwrap();
    let mut rtc = Rtc::builder().build(Instant::now());
    let mut api = rtc.sdp_api();
    api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let (offer, _) = api.apply().unwrap();
    let answer = handle.offer(offer.to_sdp_string()).await.unwrap();
    let protos: Vec<Protocol> = candidates(&answer).iter().map(Candidate::proto).collect();
    assert_eq!(protos, [Protocol::Udp], "{answer}");
    // Well past the fallback delay, with UDP never connected: still no TCP candidate.
    let later = tokio::time::timeout(3 * sfu::room::TCP_FALLBACK_DELAY, async {
        loop {
            if let Some(PeerEvent::Candidate(c)) = handle.next_event().await {
                return c;
            }
        }
    })
    .await;
    assert!(later.is_err(), "a TCP candidate was offered: {later:?}");
}
