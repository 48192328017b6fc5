//! HTTPS on the one HTTP listener (`server.tls`), so that a booth kiosk on another machine of the
//! LAN is a secure context and may use its camera: browsers allow `getUserMedia` only on
//! `https://` and `http://localhost`.
//!
//! Two sources of certificate: PEM files (`files`, production), or one made here (`self_signed`,
//! development and pilots) for `localhost`, `127.0.0.1`, `::1`, this machine's hostname,
//! `<hostname>.local` and `server.tls_names`. The self-signed one is kept in `server.tls_dir` and
//! reused at the next start, so a booth that accepted it once keeps working; it is made anew only
//! when it no longer covers those names or is about to expire. Its SHA-256 fingerprint is logged
//! at start, for the guide to compare with what the booth's browser shows before accepting it.
//!
//! Handshakes run in their own tasks ([`TlsListener`]), so a slow or broken client delays nobody
//! and a failed handshake is only a debug line.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::{ServerConfig, TlsMode};

/// The self-signed certificate's lifetime: Apple's platforms refuse TLS server certificates
/// valid for more than 825 days, whatever the user accepts.
const SELF_SIGNED_VALIDITY: Duration = Duration::from_secs(825 * 86_400);
/// A self-signed certificate closer than this to its end is replaced at start, rather than
/// expiring under a running booth.
const RENEW_BEFORE: Duration = Duration::from_secs(30 * 86_400);
/// Longest a client may take over its handshake before the connection is dropped: one that
/// connects and says nothing must not hold a socket for ever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("TLS certificate file {0}: no PEM certificate in it")]
    NoCertificate(PathBuf),
    #[error("TLS key file {path}: no PEM private key in it ({reason})")]
    NoKey { path: PathBuf, reason: String },
    #[error("writing the development certificate to {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Config(&'static str),
    #[error("server.tls_names: {0:?} is neither a DNS name nor an IP address")]
    Name(String),
    #[error("making the development certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The listener's TLS: the rustls configuration and what to tell people about its certificate.
pub(crate) struct Tls {
    pub config: Arc<rustls::ServerConfig>,
    /// SHA-256 of the leaf certificate, uppercase hex in colon-separated pairs, as browsers show
    /// it.
    pub fingerprint: String,
}

/// The TLS of `server`, or `None` when it serves plain HTTP. Reads (or makes) the certificate.
pub(crate) fn load(server: &ServerConfig) -> Result<Option<Tls>, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let (certs, key) = match server.tls {
        TlsMode::Off => return Ok(None),
        TlsMode::Files => {
            // Both are set: `ServerConfig::validate` says so before start.
            let (Some(cert), Some(key)) = (&server.tls_cert, &server.tls_key) else {
                return Err(TlsError::Config(
                    "server.tls = \"files\" needs server.tls_cert and server.tls_key",
                ));
            };
            (read_certs(cert)?, read_key(key)?)
        }
        TlsMode::SelfSigned => self_signed(&server.tls_dir, &server.tls_names, &provider)?,
    };
    // Never empty: `read_certs` refuses a file without one, and `self_signed` makes one.
    let fingerprint = fingerprint(&certs[0]);
    let config = server_config(provider, certs, key)?;
    match server.tls {
        TlsMode::SelfSigned => tracing::info!(
            sha256 = %fingerprint,
            dir = %server.tls_dir.display(),
            "HTTPS with a self-signed development certificate: compare this fingerprint with the \
             one the booth's browser shows before accepting it"
        ),
        _ => tracing::info!(sha256 = %fingerprint, "HTTPS"),
    }
    Ok(Some(Tls {
        config,
        fingerprint,
    }))
}

fn server_config(
    provider: Arc<CryptoProvider>,
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        // Also checks that the key is the certificate's.
        .with_single_cert(certs, key)?;
    // HTTP/1.1 only: axum is built without HTTP/2 here, and the signalling WebSocket is an
    // HTTP/1.1 upgrade.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn fingerprint(cert: &CertificateDer<'_>) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, cert.as_ref());
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_file("certificate file", path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| TlsError::NoCertificate(path.to_owned()))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(path.to_owned()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read_file("key file", path)?;
    // The error says what is wrong with the PEM framing, never the key's bytes.
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| TlsError::NoKey {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// The names the development certificate must cover.
fn wanted_names(extra: &[String]) -> Result<Vec<String>, TlsError> {
    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    // The hostname is a convenience: a machine whose name is not a DNS name (or is unreadable)
    // still gets a certificate for its addresses and the configured names.
    if let Some(host) = hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .map(|h| h.to_ascii_lowercase())
        .filter(|h| matches!(ServerName::try_from(h.as_str()), Ok(ServerName::DnsName(_))))
    {
        if !host.contains('.') {
            // What mDNS (Avahi, macOS) answers for on the LAN.
            names.push(format!("{host}.local"));
        }
        names.push(host);
    }
    for name in extra {
        let name = name.trim().to_ascii_lowercase();
        if ServerName::try_from(name.as_str()).is_err() {
            return Err(TlsError::Name(name));
        }
        names.push(name);
    }
    let mut unique = Vec::with_capacity(names.len());
    for name in names {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    Ok(unique)
}

/// The development certificate and key in `dir`: the ones kept there when they still do, else
/// new ones, written there.
fn self_signed(
    dir: &Path,
    extra_names: &[String],
    provider: &Arc<CryptoProvider>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let names = wanted_names(extra_names)?;
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    if cert_path.exists() || key_path.exists() {
        match reusable(&cert_path, &key_path, &names, provider) {
            Ok(pair) => return Ok(pair),
            // Booths that accepted the old certificate must accept the new one: say why.
            Err(reason) => tracing::warn!(
                dir = %dir.display(),
                reason = %reason,
                "making a new self-signed certificate; booths must accept it again"
            ),
        }
    }
    let key_pair = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Närvaro development certificate");
    let now = time::OffsetDateTime::now_utc();
    // A day back: a booth whose clock is a little behind must not see it as not yet valid.
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + SELF_SIGNED_VALIDITY;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&key_pair)?;

    std::fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.to_owned(),
        source,
    })?;
    // The key first: a certificate on disk without its key would be replaced anyway, but this
    // order never leaves a new certificate next to an old key.
    write_replacing(&key_path, key_pair.serialize_pem().as_bytes(), true)?;
    write_replacing(&cert_path, cert.pem().as_bytes(), false)?;
    let key = PrivateKeyDer::try_from(key_pair.serialize_der()).map_err(|e| TlsError::NoKey {
        path: key_path,
        reason: e.to_owned(),
    })?;
    Ok((vec![cert.der().clone()], key))
}

/// The kept pair, if a client trusting the certificate would accept it for every name in a month,
/// and the key is the certificate's. Otherwise why not.
fn reusable(
    cert_path: &Path,
    key_path: &Path,
    names: &[String],
    provider: &Arc<CryptoProvider>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let certs = read_certs(cert_path).map_err(|e| e.to_string())?;
    let key = read_key(key_path).map_err(|e| e.to_string())?;
    server_config(provider.clone(), certs.clone(), key.clone_key())
        .map_err(|e| format!("the key is not the certificate's ({e})"))?;
    // `read_certs` returned at least one.
    let mut roots = RootCertStore::empty();
    roots.add(certs[0].clone()).map_err(|e| e.to_string())?;
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let soon = UnixTime::since_unix_epoch(
        (SystemTime::now() + RENEW_BEFORE)
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default(),
    );
    for name in names {
        // Every name passed `wanted_names`' check.
        let Ok(server_name) = ServerName::try_from(name.as_str()) else {
            continue;
        };
        // Only the kind of failure: rustls' message lists the names, and with them addresses.
        verifier
            .verify_server_cert(&certs[0], &[], &server_name, &[], soon)
            .map_err(|e| {
                use rustls::CertificateError as E;
                match e {
                    rustls::Error::InvalidCertificate(E::Expired | E::ExpiredContext { .. }) => {
                        "it expires within a month"
                    }
                    rustls::Error::InvalidCertificate(
                        E::NotValidForName | E::NotValidForNameContext { .. },
                    ) => "it does not cover every name (the hostname or server.tls_names changed)",
                    _ => "a browser would not accept it",
                }
            })?;
    }
    Ok((certs, key))
}

/// Writes `path` through a new file renamed over it; `private`: readable by this user only.
fn write_replacing(path: &Path, contents: &[u8], private: bool) -> Result<(), TlsError> {
    use std::io::Write;
    let err = |source| TlsError::Write {
        path: path.to_owned(),
        source,
    };
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".new");
    let temporary = PathBuf::from(temporary);
    match std::fs::remove_file(&temporary) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(err(e)),
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(&temporary).map_err(err)?;
    file.write_all(contents).map_err(err)?;
    file.sync_all().map_err(err)?;
    std::fs::rename(&temporary, path).map_err(err)
}

/// A listener whose connections have completed their TLS handshake. The handshakes run in tasks
/// of their own; axum sees only finished ones. Dropping it (axum does at shutdown) closes the
/// TCP listener.
pub(crate) struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> io::Result<TlsListener> {
        let local_addr = tcp.local_addr()?;
        let (ready_tx, ready) = mpsc::channel(64);
        tokio::spawn(accept_loop(tcp, TlsAcceptor::from(config), ready_tx));
        Ok(TlsListener { ready, local_addr })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop ends only when this receiver is gone, or when the TCP listener
            // fails for good (logged there); then nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let accepted = tokio::select! {
            _ = ready.closed() => return,
            accepted = tcp.accept() => accepted,
        };
        let (stream, addr) = match accepted {
            Ok(connection) => connection,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of file descriptors, most likely: wait for some to be closed, as axum does
                // for a plain listener.
                tracing::error!(error = %e, "accepting an HTTPS connection");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        // Small writes (WebSocket signalling) should not wait for Nagle.
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    // Fails only once the server is shutting down; the connection goes with it.
                    let _ = ready.send((tls, addr)).await;
                }
                // Plain HTTP to this port, an untrusting browser, a scanner: theirs to fix, and
                // no address in the log.
                Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
        });
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_names_always_cover_loopback_and_refuse_nonsense() {
        let names = wanted_names(&["Kiosk-Host.lan".into(), "192.168.1.20".into()]).unwrap();
        for name in [
            "localhost",
            "127.0.0.1",
            "::1",
            "kiosk-host.lan",
            "192.168.1.20",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
        assert!(matches!(
            wanted_names(&["not a name".into()]),
            Err(TlsError::Name(_))
        ));
    }

    #[test]
    fn fingerprint_is_colon_separated_uppercase_hex_of_sha256() {
        let fp = fingerprint(&CertificateDer::from(b"abc".to_vec()));
        assert_eq!(
            fp,
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }
}
