//! A simulator of BankID's Relying Party API v6.0, written from BankID's public specification,
//! for tests and the development profile. Production refuses it (see [`super::BankIdMode`]).
//!
//! Two faces:
//! - **the RP API** (`/rp/v6.0/auth`, `/collect`, `/cancel`), served over mutual TLS exactly like
//!   BankID's: the client must present a certificate from the simulator's CA, and the server's
//!   certificate chains only to that CA, so Närvaro's real client code path is what talks to it;
//! - **the phone** (`/scan`, `/identify`, `/cancel`, `/hint`), plain JSON, mounted by the
//!   development profile under `/dev/bankid-phone`: what the citizen's BankID app would do. A scan
//!   is accepted only if the QR code's `qrAuthCode` is the HMAC of a second within one of the
//!   order's current age under its `qrStartSecret`, so a test that scans what the booth screen
//!   shows proves the screen shows a live code.
//!
//! Orders follow the specification's states: `pending` (`outstandingTransaction` until scanned,
//! then `userSign`), and `complete` or `failed` (`startFailed` when nobody scans within 30 s,
//! `userCancel`, `cancelled`, `expiredTransaction`, …). A finished order can be collected for a
//! few minutes, then is forgotten (`invalidParameters`), as BankID's are.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pki_types::pem::PemObject;
use pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig, pki_types};

use super::qr;
use super::rp::{AuthResponse, CollectResponse, CompletionData, Device, Status, User};
use crate::Personnummer;
use crate::clock::Clock;

/// An order whose QR code nobody scans fails with `startFailed` after this long, as BankID's do
/// (about 30 s, observed by relying parties; the specification gives no figure).
pub const SCAN_WINDOW_SECS: i64 = 30;
/// A scanned order nobody completes fails with `expiredTransaction` after this long.
pub const ORDER_LIFETIME_SECS: i64 = 180;
/// A completed order answers `/collect` for 3 minutes, a failed one for 5, as BankID's do.
const COMPLETE_KEPT_SECS: i64 = 180;
const FAILED_KEPT_SECS: i64 = 300;
/// A scanned QR code may be this many seconds older or newer than the order's age: the phone's
/// camera and the network take a moment.
const QR_TOLERANCE_SECS: i64 = 2;

/// The simulated BankID service. Cheap to clone.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Mutex<Orders>>,
    clock: Arc<dyn Clock>,
}

#[derive(Default)]
struct Orders {
    by_ref: HashMap<String, SimOrder>,
}

struct SimOrder {
    qr_start_token: String,
    qr_start_secret: String,
    created_at: i64,
    required_personnummer: Option<String>,
    user_visible_data: Option<String>,
    state: SimState,
}

enum SimState {
    Pending {
        hint_code: String,
    },
    Failed {
        hint_code: String,
        at: i64,
    },
    Complete {
        user: (String, String, String),
        at: i64,
    },
}

fn random_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Simulator {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Simulator {
            inner: Arc::default(),
            clock,
        }
    }

    fn orders(&self) -> std::sync::MutexGuard<'_, Orders> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Expires orders past their lifetime and forgets old finished ones.
    fn sweep(orders: &mut Orders, now: i64) {
        for order in orders.by_ref.values_mut() {
            let SimState::Pending { hint_code } = &order.state else {
                continue;
            };
            let age = now - order.created_at;
            let expired = if hint_code == "outstandingTransaction" {
                (age >= SCAN_WINDOW_SECS).then_some("startFailed")
            } else {
                (age >= ORDER_LIFETIME_SECS).then_some("expiredTransaction")
            };
            if let Some(hint_code) = expired {
                order.state = SimState::Failed {
                    hint_code: hint_code.into(),
                    at: now,
                };
            }
        }
        orders.by_ref.retain(|_, o| match &o.state {
            SimState::Pending { .. } => true,
            SimState::Failed { at, .. } => now - at < FAILED_KEPT_SECS,
            SimState::Complete { at, .. } => now - at < COMPLETE_KEPT_SECS,
        });
    }

    /// The RP API, to be served over mutual TLS ([`serve_tls`]).
    pub fn rp_router(&self) -> Router {
        Router::new()
            .route("/rp/v6.0/auth", post(rp_auth))
            .route("/rp/v6.0/collect", post(rp_collect))
            .route("/rp/v6.0/cancel", post(rp_cancel))
            .fallback(|| async { rp_error(StatusCode::NOT_FOUND, "notFound", "No such endpoint.") })
            .with_state(self.clone())
    }

    /// What a citizen's phone does, for tests and development.
    pub fn phone_router(&self) -> Router {
        Router::new()
            .route("/scan", post(phone_scan))
            .route("/identify", post(phone_identify))
            .route("/cancel", post(phone_cancel))
            .route("/hint", post(phone_hint))
            .route("/order-secret", post(order_secret))
            .with_state(self.clone())
    }
}

fn rp_error(status: StatusCode, code: &str, details: &str) -> Response {
    (status, Json(json!({"errorCode": code, "details": details}))).into_response()
}

/// The RP API takes JSON only; anything else is `unsupportedMediaType`, bad JSON
/// `invalidParameters`, as BankID answers.
fn rp_body<T>(
    headers: &HeaderMap,
    body: Result<Json<T>, JsonRejection>,
) -> Result<T, Box<Response>> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        // Exactly: BankID refuses even a `; charset=` parameter.
        .is_some_and(|v| v == "application/json");
    if !json {
        return Err(Box::new(rp_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupportedMediaType",
            "Content-Type must be application/json.",
        )));
    }
    body.map(|Json(b)| b).map_err(|_| {
        Box::new(rp_error(
            StatusCode::BAD_REQUEST,
            "invalidParameters",
            "Invalid JSON or parameters.",
        ))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthIn {
    end_user_ip: String,
    #[serde(default)]
    requirement: Option<RequirementIn>,
    #[serde(default)]
    user_visible_data: Option<String>,
    #[serde(default)]
    user_visible_data_format: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequirementIn {
    #[serde(default)]
    personal_number: Option<String>,
}

async fn rp_auth(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: Result<Json<AuthIn>, JsonRejection>,
) -> Response {
    let auth = match rp_body(&headers, body) {
        Ok(a) => a,
        Err(e) => return *e,
    };
    if auth.end_user_ip.parse::<IpAddr>().is_err() {
        return rp_error(
            StatusCode::BAD_REQUEST,
            "invalidParameters",
            "Invalid endUserIp.",
        );
    }
    if let Some(data) = &auth.user_visible_data {
        let decoded = STANDARD
            .decode(data)
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        match decoded {
            Some(text) if !text.is_empty() && text.chars().count() <= 1_500 => {}
            _ => {
                return rp_error(
                    StatusCode::BAD_REQUEST,
                    "invalidParameters",
                    "Invalid userVisibleData.",
                );
            }
        }
    }
    if auth
        .user_visible_data_format
        .as_deref()
        .is_some_and(|f| f != "simpleMarkdownV1")
    {
        return rp_error(
            StatusCode::BAD_REQUEST,
            "invalidParameters",
            "Invalid userVisibleDataFormat.",
        );
    }
    let required = match auth.requirement.and_then(|r| r.personal_number) {
        Some(p) if p.len() == 12 && Personnummer::parse(&p).is_ok() => Some(p),
        Some(_) => {
            return rp_error(
                StatusCode::BAD_REQUEST,
                "invalidParameters",
                "Invalid personalNumber.",
            );
        }
        None => None,
    };
    let now = sim.clock.now();
    let mut orders = sim.orders();
    Simulator::sweep(&mut orders, now);
    if let Some(p) = &required {
        // The specification: a second order for the same person while one is pending cancels the
        // first and is refused.
        let mut clash = false;
        for o in orders.by_ref.values_mut() {
            if o.required_personnummer.as_ref() == Some(p)
                && matches!(o.state, SimState::Pending { .. })
            {
                o.state = SimState::Failed {
                    hint_code: "cancelled".into(),
                    at: now,
                };
                clash = true;
            }
        }
        if clash {
            return rp_error(
                StatusCode::BAD_REQUEST,
                "alreadyInProgress",
                "Order already in progress for personalNumber.",
            );
        }
    }
    let answer = AuthResponse {
        order_ref: random_uuid(),
        auto_start_token: random_uuid(),
        qr_start_token: random_uuid(),
        qr_start_secret: random_uuid(),
    };
    orders.by_ref.insert(
        answer.order_ref.clone(),
        SimOrder {
            qr_start_token: answer.qr_start_token.clone(),
            qr_start_secret: answer.qr_start_secret.clone(),
            created_at: now,
            required_personnummer: required,
            user_visible_data: auth.user_visible_data,
            state: SimState::Pending {
                hint_code: "outstandingTransaction".into(),
            },
        },
    );
    Json(answer).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderRefIn {
    order_ref: String,
}

async fn rp_collect(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: Result<Json<OrderRefIn>, JsonRejection>,
) -> Response {
    let OrderRefIn { order_ref } = match rp_body(&headers, body) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    let mut orders = sim.orders();
    Simulator::sweep(&mut orders, sim.clock.now());
    let Some(order) = orders.by_ref.get(&order_ref) else {
        return rp_error(
            StatusCode::BAD_REQUEST,
            "invalidParameters",
            "No such order.",
        );
    };
    let answer = match &order.state {
        SimState::Pending { hint_code } => CollectResponse {
            order_ref,
            status: Status::Pending,
            hint_code: Some(hint_code.clone()),
            completion_data: None,
        },
        SimState::Failed { hint_code, .. } => CollectResponse {
            order_ref,
            status: Status::Failed,
            hint_code: Some(hint_code.clone()),
            completion_data: None,
        },
        SimState::Complete {
            user: (personal_number, given_name, surname),
            ..
        } => {
            let signature = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Signature xmlns=\"urn:narvaro:bankid-simulator\">\
                 <simulated>true</simulated><orderRef>{order_ref}</orderRef><usrVisibleData>{}</usrVisibleData>\
                 <personalNumber>{personal_number}</personalNumber></Signature>",
                order.user_visible_data.as_deref().unwrap_or("")
            );
            CollectResponse {
                status: Status::Complete,
                hint_code: None,
                completion_data: Some(CompletionData {
                    user: User {
                        personal_number: personal_number.clone(),
                        name: format!("{given_name} {surname}"),
                        given_name: given_name.clone(),
                        surname: surname.clone(),
                    },
                    // A documentation address (RFC 5737): the simulated phone is nowhere.
                    device: Device {
                        ip_address: "192.0.2.1".into(),
                        uhi: Some(random_uuid()),
                    },
                    bank_id_issue_date: Some("2024-01-01".into()),
                    signature: STANDARD.encode(signature),
                    ocsp_response: STANDARD
                        .encode(format!("simulated OCSP response for {order_ref}")),
                }),
                order_ref,
            }
        }
    };
    Json(answer).into_response()
}

async fn rp_cancel(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: Result<Json<OrderRefIn>, JsonRejection>,
) -> Response {
    let OrderRefIn { order_ref } = match rp_body(&headers, body) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    let now = sim.clock.now();
    let mut orders = sim.orders();
    match orders.by_ref.get_mut(&order_ref) {
        Some(order) if matches!(order.state, SimState::Pending { .. }) => {
            order.state = SimState::Failed {
                hint_code: "cancelled".into(),
                at: now,
            };
            Json(json!({})).into_response()
        }
        _ => rp_error(
            StatusCode::BAD_REQUEST,
            "invalidParameters",
            "No such order.",
        ),
    }
}

fn phone_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

fn phone_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, Box<Response>> {
    body.map(|Json(b)| b).map_err(|e| {
        Box::new(phone_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            &e.body_text(),
        ))
    })
}

#[derive(Deserialize)]
struct ScanIn {
    qr: String,
}

/// The phone scans a QR code: valid only if it is live (see the module documentation).
async fn phone_scan(
    State(sim): State<Simulator>,
    body: Result<Json<ScanIn>, JsonRejection>,
) -> Response {
    let ScanIn { qr: content } = match phone_body(body) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    let Some(scanned) = qr::parse(&content) else {
        return phone_error(
            StatusCode::BAD_REQUEST,
            "not_a_bankid_qr",
            "this is not a BankID QR code",
        );
    };
    on_order(&sim, scanned.qr_start_token, |order, now| {
        if !qr::verify(&scanned, &order.qr_start_secret) {
            return phone_error(
                StatusCode::BAD_REQUEST,
                "forged_qr",
                "the QR code was not made with the order's secret",
            );
        }
        let age = now - order.created_at;
        if (scanned.seconds as i64 - age).abs() > QR_TOLERANCE_SECS {
            return phone_error(
                StatusCode::BAD_REQUEST,
                "stale_qr",
                "the QR code is not the current one",
            );
        }
        match &order.state {
            SimState::Pending { hint_code } if hint_code == "outstandingTransaction" => {
                order.state = SimState::Pending {
                    hint_code: "userSign".into(),
                };
                Json(json!({"qr_start_token": order.qr_start_token, "seconds": scanned.seconds}))
                    .into_response()
            }
            _ => phone_error(
                StatusCode::CONFLICT,
                "already_scanned",
                "this order was already scanned or has ended",
            ),
        }
    })
}

#[derive(Deserialize)]
struct IdentifyIn {
    qr_start_token: String,
    personal_number: String,
    given_name: String,
    surname: String,
}

/// The person on the phone enters their security code: the order completes.
async fn phone_identify(
    State(sim): State<Simulator>,
    body: Result<Json<IdentifyIn>, JsonRejection>,
) -> Response {
    let who = match phone_body(body) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    let Ok(personnummer) = Personnummer::parse(&who.personal_number) else {
        return phone_error(
            StatusCode::BAD_REQUEST,
            "invalid_personal_number",
            "not a valid personnummer",
        );
    };
    let personal_number = personnummer.expose().to_owned();
    on_order(&sim, &who.qr_start_token, |order, now| {
        if !matches!(&order.state, SimState::Pending { hint_code } if hint_code == "userSign") {
            return phone_error(
                StatusCode::CONFLICT,
                "not_scanned",
                "scan the order's QR code first",
            );
        }
        if order
            .required_personnummer
            .as_ref()
            .is_some_and(|p| *p != personal_number)
        {
            // BankID's app of someone else cannot take an order made for a named person.
            return phone_error(
                StatusCode::CONFLICT,
                "wrong_person",
                "this order is for someone else",
            );
        }
        order.state = SimState::Complete {
            user: (personal_number, who.given_name, who.surname),
            at: now,
        };
        Json(json!({"status": "complete"})).into_response()
    })
}

#[derive(Deserialize)]
struct TokenIn {
    qr_start_token: String,
}

/// The person presses "Cancel" in the app.
async fn phone_cancel(
    State(sim): State<Simulator>,
    body: Result<Json<TokenIn>, JsonRejection>,
) -> Response {
    let TokenIn { qr_start_token } = match phone_body(body) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    set_state(&sim, &qr_start_token, |now| SimState::Failed {
        hint_code: "userCancel".into(),
        at: now,
    })
}

/// What BankID's side knows of an order: its `qrStartSecret`. Not a phone's doing (a phone never
/// learns it); the browser tests ask for it so they can search every log and page for the secret
/// itself, which must never leave Närvaro's server.
async fn order_secret(
    State(sim): State<Simulator>,
    body: Result<Json<TokenIn>, JsonRejection>,
) -> Response {
    let TokenIn { qr_start_token } = match phone_body(body) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    on_order(&sim, &qr_start_token, |order, _| {
        Json(json!({"qr_start_secret": order.qr_start_secret})).into_response()
    })
}

#[derive(Deserialize)]
struct HintIn {
    qr_start_token: String,
    status: Status,
    hint_code: String,
}

/// Puts a pending order into any pending or failed state of the specification, so each hintCode's
/// message can be shown.
async fn phone_hint(
    State(sim): State<Simulator>,
    body: Result<Json<HintIn>, JsonRejection>,
) -> Response {
    let HintIn {
        qr_start_token,
        status,
        hint_code,
    } = match phone_body(body) {
        Ok(b) => b,
        Err(e) => return *e,
    };
    match status {
        Status::Pending => set_state(&sim, &qr_start_token, |_| SimState::Pending { hint_code }),
        Status::Failed => set_state(&sim, &qr_start_token, |now| SimState::Failed {
            hint_code,
            at: now,
        }),
        Status::Complete => phone_error(
            StatusCode::BAD_REQUEST,
            "use_identify",
            "complete an order with /identify",
        ),
    }
}

/// Runs `f` on the order a phone names by its QR code's token, with the time; expired orders are
/// swept first.
fn on_order(
    sim: &Simulator,
    qr_start_token: &str,
    f: impl FnOnce(&mut SimOrder, i64) -> Response,
) -> Response {
    let now = sim.clock.now();
    let mut orders = sim.orders();
    Simulator::sweep(&mut orders, now);
    match orders
        .by_ref
        .values_mut()
        .find(|o| o.qr_start_token == qr_start_token)
    {
        Some(order) => f(order, now),
        None => phone_error(
            StatusCode::NOT_FOUND,
            "unknown_order",
            "no order has this QR code",
        ),
    }
}

fn set_state(
    sim: &Simulator,
    qr_start_token: &str,
    state: impl FnOnce(i64) -> SimState,
) -> Response {
    on_order(sim, qr_start_token, |order, now| {
        if !matches!(order.state, SimState::Pending { .. }) {
            return phone_error(
                StatusCode::CONFLICT,
                "order_ended",
                "the order has already ended",
            );
        }
        order.state = state(now);
        Json(json!({"ok": true})).into_response()
    })
}

/// A CA, a server certificate for `localhost` and 127.0.0.1 and a relying-party client
/// certificate, all made fresh: what BankID's test environment hands out, for the simulator.
pub struct SimulatorPki {
    pub ca_cert_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

impl SimulatorPki {
    pub fn generate() -> Result<Self, rcgen::Error> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.distinguished_name
            .push(DnType::CommonName, "Närvaro BankID simulator CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key)?;
        let issuer = rcgen::Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate()?;
        let mut server =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        server
            .distinguished_name
            .push(DnType::CommonName, "BankID simulator");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &issuer)?;

        let client_key = KeyPair::generate()?;
        let mut client = CertificateParams::new(Vec::<String>::new())?;
        client
            .distinguished_name
            .push(DnType::CommonName, "Närvaro relying party (simulator)");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client.signed_by(&client_key, &issuer)?;

        Ok(SimulatorPki {
            ca_cert_pem: ca_cert.pem(),
            server_cert_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
        })
    }
}

/// Serves the RP API on `listener` over TLS that requires a client certificate from `pki`'s CA.
/// Runs until the returned task is aborted.
pub fn serve_tls(
    sim: &Simulator,
    listener: TcpListener,
    pki: &SimulatorPki,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pki.ca_cert_pem.as_bytes()) {
        roots
            .add(cert.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let chain = CertificateDer::pem_slice_iter(pki.server_cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let key =
        PrivateKeyDer::from_pem_slice(pki.server_key_pem.as_bytes()).map_err(|e| e.to_string())?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let router = sim.rp_router();
    Ok(tokio::spawn(async move {
        loop {
            let tcp = match listener.accept().await {
                Ok((tcp, _)) => tcp,
                Err(_) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let acceptor = acceptor.clone();
            let router = router.clone();
            tokio::spawn(async move {
                // A client without a certificate from the CA fails here, before any HTTP.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(router);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    }))
}
