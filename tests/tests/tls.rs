//! HTTPS on the one HTTP listener (`server.tls`), for a booth kiosk on another machine of the LAN:
//! the development certificate is made once, kept and served; a client that trusts exactly that
//! certificate reaches the pages, the API (with the client's address still known) and the
//! signalling WebSocket over `wss://`; cookies say `Secure`; a plain-HTTP client gets nothing and
//! harms nobody; production and broken files are refused before anything listens.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HOST, SET_COOKIE};
use hyper::{HeaderMap, Method, Request};
use hyper_util::rt::TokioIo;
use narvaro::{Environment, StartError, TlsMode};
use narvaro_tests::app::TestApp;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use signalling::ids::RoomId;
use signalling::protocol::{ClientMessage, ServerMessage};
use signalling::token::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::Message;

/// Bounds every wait on the server, so a hang fails the test instead of stalling it.
const WAIT: Duration = Duration::from_secs(10);

/// The app serving HTTPS with a self-signed certificate kept in `dir`.
async fn https_app(dir: &Path) -> TestApp {
    let dir = dir.to_owned();
    TestApp::start_with(move |c| {
        c.server.tls = TlsMode::SelfSigned;
        c.server.tls_dir = dir;
    })
    .await
}

/// A TLS client trusting exactly the certificate in `cert_file`, and nothing else: no system
/// roots, verification on.
fn trusting(cert_file: &Path) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(cert_file).expect("the certificate file reads") {
        roots.add(cert.expect("a PEM certificate")).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TlsConnector::from(Arc::new(config))
}

async fn tls_connect(
    tls: &TlsConnector,
    addr: SocketAddr,
    name: &str,
) -> std::io::Result<TlsStream<TcpStream>> {
    let server_name = ServerName::try_from(name.to_owned()).expect("a valid server name");
    let tcp = TcpStream::connect(addr).await?;
    tokio::time::timeout(WAIT, tls.connect(server_name, tcp))
        .await
        .map_err(|_| std::io::Error::other("TLS handshake timed out"))?
}

/// One HTTPS request on a fresh connection to `addr` as `name`: status, headers, body.
async fn https(
    tls: &TlsConnector,
    addr: SocketAddr,
    name: &str,
    method: Method,
    path: &str,
    json: Option<&str>,
) -> (u16, HeaderMap, String) {
    let stream = tls_connect(tls, addr, name)
        .await
        .unwrap_or_else(|e| panic!("TLS to {name}: {e}"));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, format!("{name}:{}", addr.port()));
    if json.is_some() {
        request = request.header(CONTENT_TYPE, "application/json");
    }
    let body = Full::new(Bytes::from(json.unwrap_or_default().to_owned()));
    let response = tokio::time::timeout(WAIT, sender.send_request(request.body(body).unwrap()))
        .await
        .expect("an answer in time")
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

async fn healthz(tls: &TlsConnector, addr: SocketAddr, name: &str) -> (u16, String) {
    let (status, _, body) = https(tls, addr, name, Method::GET, "/healthz", None).await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_self_signed_certificate_serves_https_for_localhost_and_127_0_0_1() {
    let dir = tempfile::tempdir().unwrap();
    let app = https_app(dir.path()).await;
    let tls = trusting(&dir.path().join("cert.pem"));

    for name in ["localhost", "127.0.0.1"] {
        assert_eq!(
            healthz(&tls, app.http_addr(), name).await,
            (200, r#"{"status":"ok"}"#.to_owned()),
            "as {name}"
        );
    }
    // Verification is really on: the certificate is not for any other name.
    let other = tls_connect(&tls, app.http_addr(), "narvaro.example").await;
    assert!(other.is_err(), "a name the certificate does not cover");
    // A client trusting only the usual roots does not accept it either.
    let untrusting = {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    };
    assert!(
        tls_connect(&untrusting, app.http_addr(), "localhost")
            .await
            .is_err()
    );
    // The server is still serving after both refused handshakes.
    assert_eq!(healthz(&tls, app.http_addr(), "localhost").await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_certificate_is_kept_and_reused_at_the_next_start_with_its_key_private() {
    let dir = tempfile::tempdir().unwrap();
    let cert_file = dir.path().join("cert.pem");
    let key_file = dir.path().join("key.pem");

    let first = https_app(dir.path()).await;
    let fingerprint = first
        .running()
        .tls_fingerprint()
        .expect("serving TLS")
        .to_owned();
    assert_eq!(fingerprint.len(), 32 * 3 - 1, "{fingerprint}");
    let cert_pem = std::fs::read(&cert_file).unwrap();
    let key_pem = std::fs::read(&key_file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "key file mode {mode:o}");
    }
    drop(first);

    let second = https_app(dir.path()).await;
    assert_eq!(
        second.running().tls_fingerprint(),
        Some(fingerprint.as_str())
    );
    assert_eq!(std::fs::read(&cert_file).unwrap(), cert_pem);
    assert_eq!(std::fs::read(&key_file).unwrap(), key_pem);
    // A booth that trusted the first start's certificate reaches the second start.
    let tls = trusting(&cert_file);
    assert_eq!(healthz(&tls, second.http_addr(), "localhost").await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_name_in_tls_names_makes_a_new_certificate_that_covers_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = https_app(dir.path()).await;
    let old = first.running().tls_fingerprint().unwrap().to_owned();
    drop(first);

    let tls_dir = dir.path().to_owned();
    let second = TestApp::start_with(move |c| {
        c.server.tls = TlsMode::SelfSigned;
        c.server.tls_dir = tls_dir;
        c.server.tls_names = vec!["narvaro.lan".into(), "192.0.2.7".into()];
    })
    .await;
    assert_ne!(second.running().tls_fingerprint(), Some(old.as_str()));
    let tls = trusting(&dir.path().join("cert.pem"));
    // The server is reached on 127.0.0.1 whatever name the client checks.
    for name in ["narvaro.lan", "192.0.2.7", "localhost"] {
        assert_eq!(
            healthz(&tls, second.http_addr(), name).await.0,
            200,
            "as {name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn files_mode_serves_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let made = https_app(dir.path()).await;
    let fingerprint = made.running().tls_fingerprint().unwrap().to_owned();
    drop(made);

    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let app = TestApp::start_with(move |c| {
        c.server.tls = TlsMode::Files;
        c.server.tls_cert = Some(cert);
        c.server.tls_key = Some(key);
    })
    .await;
    assert_eq!(app.running().tls_fingerprint(), Some(fingerprint.as_str()));
    let tls = trusting(&dir.path().join("cert.pem"));
    assert_eq!(healthz(&tls, app.http_addr(), "127.0.0.1").await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn cookies_set_over_tls_are_secure_and_the_client_address_still_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let app = https_app(dir.path()).await;
    let tls = trusting(&dir.path().join("cert.pem"));

    let login = format!(r#"{{"person_id":"{}"}}"#, booking::demo::GUIDE);
    let (status, headers, body) = https(
        &tls,
        app.http_addr(),
        "localhost",
        Method::POST,
        "/api/v1/dev-eid/login",
        Some(&login),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let session = set_cookie(&headers, "narvaro_session");
    assert!(session.contains("; Secure"), "{session}");

    // BankID is told the client's address (endUserIp): `start` answers only when the server
    // passed the TCP peer's address through the TLS listener.
    let (status, headers, body) = https(
        &tls,
        app.http_addr(),
        "localhost",
        Method::POST,
        "/api/v1/bankid/start",
        Some("{}"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let binding = set_cookie(&headers, "narvaro_bankid");
    assert!(binding.contains("; Secure"), "{binding}");
}

fn set_cookie(headers: &HeaderMap, name: &str) -> String {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {headers:?}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn cookies_over_plain_http_are_secure_only_when_public_url_is_https() {
    let plain = TestApp::start().await;
    assert!(!plain.booking().secure_cookies());

    let proxied = TestApp::start_with(|c| {
        c.booking.public_url = "https://narvaro.example".into();
    })
    .await;
    assert!(proxied.booking().secure_cookies());
}

#[tokio::test(flavor = "multi_thread")]
async fn signalling_works_over_wss() {
    let dir = tempfile::tempdir().unwrap();
    let app = https_app(dir.path()).await;
    let tls = trusting(&dir.path().join("cert.pem"));
    let room = RoomId::from("bk-tls");

    let stream = tls_connect(&tls, app.http_addr(), "localhost")
        .await
        .unwrap();
    let url = format!("wss://localhost:{}/signal", app.http_addr().port());
    let (mut ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::client_async(url, stream))
        .await
        .expect("the upgrade in time")
        .expect("the WebSocket upgrade over TLS");
    let join = ClientMessage::Join {
        room_id: room.clone(),
        token: app.join_token(&room, Role::Citizen),
    };
    ws.send(Message::text(serde_json::to_string(&join).unwrap()))
        .await
        .unwrap();
    let answer = loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("an answer in time")
            .expect("the connection stays open")
            .unwrap();
        if let Message::Text(text) = frame {
            break serde_json::from_str::<ServerMessage>(&text).unwrap();
        }
    };
    match answer {
        ServerMessage::Joined { room_id, role, .. } => {
            assert_eq!(room_id, room);
            assert_eq!(role, Role::Citizen);
        }
        other => panic!("expected joined, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_to_the_tls_port_gets_no_http_answer_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let app = https_app(dir.path()).await;

    let mut tcp = TcpStream::connect(app.http_addr()).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    // The server closes the connection (after a TLS alert at most): the read ends.
    let read = tokio::time::timeout(WAIT, tcp.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection");
    let _ = read; // A reset instead of a close is as good.
    assert!(
        !answer.starts_with(b"HTTP/"),
        "an HTTP answer on the TLS port: {:?}",
        String::from_utf8_lossy(&answer)
    );

    let tls = trusting(&dir.path().join("cert.pem"));
    assert_eq!(healthz(&tls, app.http_addr(), "localhost").await.0, 200);
}

/// A configuration that would start, apart from what a test changes.
fn config_in(dir: &Path) -> narvaro::Config {
    let mut config = narvaro::Config::default();
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.media.udp_port = 0;
    config.media.tcp_port = 0;
    config.booking.database_url = format!("sqlite://{}/narvaro.db?mode=rwc", dir.display());
    config
}

#[tokio::test(flavor = "multi_thread")]
async fn production_refuses_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_in(dir.path());
    config.env = Environment::Production;
    config.server.tls = TlsMode::SelfSigned;
    config.server.tls_dir = dir.path().join("tls");
    match narvaro::start(config).await {
        Err(StartError::Config(e)) => assert!(e.to_string().contains("self_signed"), "{e}"),
        Err(other) => panic!("expected a configuration error, got {other}"),
        Ok(_) => panic!("production started with a self-signed certificate"),
    }
    assert!(!dir.path().join("tls").exists(), "no certificate was made");
}

#[tokio::test(flavor = "multi_thread")]
async fn files_mode_with_a_missing_file_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&key, "not a key").unwrap();
    let mut config = config_in(dir.path());
    config.server.tls = TlsMode::Files;
    config.server.tls_cert = Some(missing.clone());
    config.server.tls_key = Some(key);
    let err = match narvaro::start(config).await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("started without its certificate file"),
    };
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("certificate"), "{err}");
}
