//! BankID identification of citizens, as an [`IdentityProvider`] under `/api/v1/bankid`.
//!
//! The booth (or the citizen's own browser) starts an order; the server keeps the order's
//! `qrStartSecret` and draws the animated QR code each second ([`qr`]); the browser collects every
//! two seconds and shows BankID's recommended message for each state ([`messages`]); when the
//! order completes, the citizen is signed in on that browser with [`IdMethod::BankId`] and the
//! signature and OCSP response are kept as evidence.
//!
//! An order belongs to the browser that started it: `start` sets a cookie holding a random
//! secret and the order row keeps only its SHA-256, so no other browser can see the QR code,
//! collect the order or cancel it, whether it knows the `orderRef` or not. Started at a booth
//! whose next meeting names a citizen, the order requires that citizen's personnummer, so nobody
//! else can identify in their place, and the app says which agency the meeting is with.
//!
//! BankID is reached through [`rp::RpClient`] over mutual TLS. The development profile runs
//! [`simulator`] on a loopback port and talks to it through the same client; production refuses
//! the simulator.

pub mod messages;
pub mod qr;
pub mod rp;
pub mod simulator;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::{ApiError, IdentityJson, json_body};
use crate::config::Environment;
use crate::identity::{IdMethod, IdentityProvider, Subject};
use crate::ids::{BoothId, CitizenId};
use crate::store::{BankIdOrderRecord, IdentificationEvidence, StaffAccess, StoreError};
use crate::{Booking, BookingConfig, BookingError, Clock, Personnummer};
use messages::UserMessage;
use rp::{AuthRequest, Requirement, RpClient, RpCredentials, RpError, Status};

/// The cookie binding an order to the browser that started it.
pub const BINDING_COOKIE: &str = "narvaro_bankid";
/// Clears [`BINDING_COOKIE`] once its order is over.
const CLEAR_BINDING_COOKIE: &str =
    "narvaro_bankid=; HttpOnly; SameSite=Strict; Path=/api/v1/bankid; Max-Age=0";
/// BankID asks relying parties to collect every two seconds.
pub const COLLECT_EVERY_MS: u64 = 2_000;
/// The value of `bankid_url` that selects the built-in simulator.
pub const SIMULATOR: &str = "simulator";
/// How far ahead a booth looks for the meeting an identification is for.
const BOOTH_LOOKAHEAD_SECS: i64 = 2 * 3600;
/// Orders older than this are gone at BankID too; their rows are purged.
pub const ORDER_ROW_LIFETIME_SECS: i64 = simulator::ORDER_LIFETIME_SECS + 60;

/// BankID as configured: a client of the RP API, and the simulator behind it in development.
pub struct BankId {
    inner: Arc<BankIdInner>,
}

struct BankIdInner {
    client: RpClient,
    simulator: Option<simulator::Simulator>,
    simulator_task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for BankIdInner {
    fn drop(&mut self) {
        if let Some(task) = &self.simulator_task {
            task.abort();
        }
    }
}

impl BankId {
    /// BankID from configuration: `None` when it is not offered (production without
    /// `bankid_url`).
    pub async fn from_config(
        config: &BookingConfig,
        env: Environment,
        clock: Arc<dyn Clock>,
    ) -> Result<Option<BankId>, BookingError> {
        let use_simulator = match config.bankid_url.as_deref() {
            None => env == Environment::Development,
            Some(SIMULATOR) => true,
            Some(_) => false,
        };
        if use_simulator && env == Environment::Production {
            return Err(BookingError::BankIdSimulatorInProduction);
        }
        let (client, simulator, simulator_task) = if use_simulator {
            let pki = simulator::SimulatorPki::generate()
                .map_err(|e| BookingError::Config(format!("BankID simulator certificates: {e}")))?;
            let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
                .await
                .map_err(|source| BookingError::Io {
                    path: "BankID simulator port".into(),
                    source,
                })?;
            let port = listener
                .local_addr()
                .map_err(|source| BookingError::Io {
                    path: "BankID simulator port".into(),
                    source,
                })?
                .port();
            let sim = simulator::Simulator::new(clock);
            let task = simulator::serve_tls(&sim, listener, &pki).map_err(BookingError::Config)?;
            let client = RpClient::new(
                &format!("https://127.0.0.1:{port}/rp/v6.0"),
                RpCredentials {
                    client_cert_pem: pki.client_cert_pem.as_bytes(),
                    client_key_pem: pki.client_key_pem.as_bytes(),
                    ca_cert_pem: pki.ca_cert_pem.as_bytes(),
                },
            )
            .map_err(BookingError::Config)?;
            tracing::warn!("BankID is the built-in simulator: for development and tests only");
            (client, Some(sim), Some(task))
        } else if let Some(url) = &config.bankid_url {
            let read =
                |what: &str, path: &Option<std::path::PathBuf>| -> Result<Vec<u8>, BookingError> {
                    let path = path.as_deref().ok_or_else(|| {
                        BookingError::Config(format!("bankid_url is set, so {what} must be too"))
                    })?;
                    std::fs::read(path).map_err(|source| BookingError::Io {
                        path: path.into(),
                        source,
                    })
                };
            let cert = read("bankid_client_cert", &config.bankid_client_cert)?;
            let key = read("bankid_client_key", &config.bankid_client_key)?;
            let ca = read("bankid_ca_cert", &config.bankid_ca_cert)?;
            let client = RpClient::new(
                url,
                RpCredentials {
                    client_cert_pem: &cert,
                    client_key_pem: &key,
                    ca_cert_pem: &ca,
                },
            )
            .map_err(BookingError::Config)?;
            (client, None, None)
        } else {
            return Ok(None);
        };
        Ok(Some(BankId {
            inner: Arc::new(BankIdInner {
                client,
                simulator,
                simulator_task,
            }),
        }))
    }

    /// The simulator behind this client, in development.
    pub fn simulator(&self) -> Option<&simulator::Simulator> {
        self.inner.simulator.as_ref()
    }

    /// A second handle on the same client (the provider list and the router each hold one).
    pub(crate) fn share(&self) -> BankId {
        BankId {
            inner: self.inner.clone(),
        }
    }
}

impl IdentityProvider for BankId {
    fn name(&self) -> &str {
        "bankid"
    }

    fn method(&self) -> IdMethod {
        IdMethod::BankId
    }

    fn allowed_in(&self, env: Environment) -> bool {
        env == Environment::Development || self.inner.simulator.is_none()
    }

    fn documented_routes(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &[
            (
                "post",
                "/start",
                "Start a BankID identification on this browser (QR code)",
            ),
            (
                "get",
                "/qr",
                "The order's QR code now, as SVG; it changes every second",
            ),
            (
                "post",
                "/collect",
                "The order's state and BankID's message for it; signs in when complete",
            ),
            ("post", "/cancel", "Cancel the order"),
        ]
    }

    fn routes(&self, booking: Booking) -> Router {
        Router::new()
            .route("/start", post(start))
            .route("/qr", get(qr_code))
            .route("/collect", post(collect))
            .route("/cancel", post(cancel))
            .with_state(Ctx {
                booking,
                bankid: self.inner.clone(),
            })
    }
}

#[derive(Clone)]
struct Ctx {
    booking: Booking,
    bankid: Arc<BankIdInner>,
}

fn binding_from(headers: &HeaderMap) -> Option<String> {
    crate::secrets::cookie(headers, BINDING_COOKIE).map(crate::secrets::sha256_hex)
}

fn order_not_found() -> ApiError {
    // The same answer for an unknown order and for someone else's: no oracle for orderRefs.
    ApiError::not_found(
        "bankid_order_not_found",
        "no BankID order of this browser has that orderRef",
    )
}

/// The order, if this browser started it.
async fn bound_order(
    ctx: &Ctx,
    headers: &HeaderMap,
    order_ref: &str,
) -> Result<BankIdOrderRecord, ApiError> {
    let binding = binding_from(headers).ok_or_else(order_not_found)?;
    let order = ctx
        .booking
        .store()
        .bankid_order(order_ref)
        .await?
        .ok_or_else(order_not_found)?;
    if order.binding_hash != binding {
        tracing::warn!("BankID order asked for by a browser that did not start it");
        return Err(order_not_found());
    }
    Ok(order)
}

fn bankid_unavailable(e: RpError) -> ApiError {
    tracing::warn!(error = %e, "BankID call failed");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "bankid_unavailable",
        messages::RFA5.en,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartIn {
    /// The booth this browser is: the identification is then for its next meeting.
    #[serde(default)]
    booth_id: Option<BoothId>,
}

#[derive(Serialize)]
struct MeetingJson {
    agency: String,
    service: String,
    starts_at: String,
}

#[derive(Serialize)]
struct StartOut {
    order_ref: String,
    /// For starting the app on the same device (`bankid:///?autostarttoken=…`); a booth shows the
    /// QR code instead.
    auto_start_token: String,
    qr_url: String,
    collect_every_ms: u64,
    message: UserMessage,
    meeting: Option<MeetingJson>,
}

async fn start(
    State(ctx): State<Ctx>,
    peer: Result<ConnectInfo<SocketAddr>, axum::extract::rejection::ExtensionRejection>,
    headers: HeaderMap,
    body: Result<Json<StartIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    let StartIn { booth_id } = json_body(body)?;
    let end_user_ip = crate::limits::client_ip(
        ctx.booking.client_ip_header(),
        &headers,
        peer.ok().map(|c| c.0),
    )?;
    let booking = &ctx.booking;
    let now = booking.clock().now();
    // On an enrolled kiosk the order is for its booth's next meeting and identifies the citizen
    // for that booking; the kiosk itself is never signed in as them.
    let device = crate::booth_devices::device_of(booking, &headers).await?;
    let booth_id = match (&device, booth_id) {
        (Some(d), Some(asked)) if asked != d.booth_id => {
            return Err(ApiError::forbidden(
                "not_this_booth",
                "this kiosk is another booth",
            ));
        }
        (Some(d), _) => Some(d.booth_id),
        (None, asked) => asked,
    };

    let mut text = String::from("# Närvaro\n\nIdentifiering på servicekontoret.");
    let mut requirement = None;
    let mut meeting = None;
    let (mut booking_id, mut required_citizen) = (None, None);
    if let Some(booth) = booth_id {
        if booking.store().booth_centre(booth).await?.is_none() {
            return Err(ApiError::not_found("unknown_booth", "no such booth"));
        }
        if let Some((citizen, ahead)) = booking
            .store()
            .booth_booking_ahead(booth, now, now + BOOTH_LOOKAHEAD_SECS)
            .await?
        {
            let local = crate::schedule::LocalTime::of(ahead.starts_at);
            text = format!(
                "# Närvaro\n\nIdentifiering inför ditt möte med {} ({}) klockan {:02}:{:02}.",
                ahead.agency_name,
                ahead.service_name,
                local.minute / 60,
                local.minute % 60
            );
            let access = StaffAccess {
                actor: Subject::Citizen(citizen),
                reason: "BankID order for the citizen's meeting at the booth".into(),
                at: now,
            };
            if let Some(pnr) = booking
                .store()
                .citizen_personnummer(citizen, &access)
                .await?
            {
                requirement = Some(Requirement {
                    personal_number: Some(pnr.expose().to_owned()),
                    pin_code: None,
                });
            }
            meeting = Some(MeetingJson {
                agency: ahead.agency_name,
                service: ahead.service_name,
                starts_at: crate::api::rfc3339(ahead.starts_at),
            });
            booking_id = Some(ahead.id);
            required_citizen = Some(citizen);
        }
    }
    if device.is_some() && booking_id.is_none() {
        return Err(ApiError::conflict(
            "no_booking_at_booth",
            "this booth has no meeting to identify for right now",
        ));
    }
    let request = AuthRequest {
        end_user_ip: end_user_ip.to_string(),
        requirement,
        user_visible_data: Some(STANDARD.encode(text.as_bytes())),
        user_visible_data_format: Some("simpleMarkdownV1"),
    };
    let order = match ctx.bankid.client.auth(&request).await {
        Ok(o) => o,
        Err(RpError::Refused { code, .. }) if code == "alreadyInProgress" => {
            let m = messages::error(&code);
            return Err(ApiError::conflict("bankid_already_in_progress", m.en));
        }
        Err(e) => return Err(bankid_unavailable(e)),
    };
    let secret = crate::secrets::random_secret()
        .map_err(|_| ApiError::internal(std::io::Error::other("random source failed")))?;
    let qr_start_secret_enc = booking
        .data_key()
        .encrypt(order.qr_start_secret.as_bytes(), order.order_ref.as_bytes())
        .map_err(ApiError::internal)?;
    booking
        .store()
        .insert_bankid_order(&BankIdOrderRecord {
            order_ref: order.order_ref.clone(),
            binding_hash: crate::secrets::sha256_hex(&secret),
            qr_start_token: order.qr_start_token.clone(),
            qr_start_secret_enc,
            started_at: now,
            booking_id,
            required_citizen_id: required_citizen,
            booth_device_id: device.as_ref().map(|d| d.id),
        })
        .await?;
    tracing::info!(for_booking = booking_id.is_some(), "BankID order started");
    let secure = if booking.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{BINDING_COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/api/v1/bankid; Max-Age=600{secure}"
    );
    let out = StartOut {
        qr_url: format!("/api/v1/bankid/qr?order_ref={}", order.order_ref),
        order_ref: order.order_ref,
        auto_start_token: order.auto_start_token,
        collect_every_ms: COLLECT_EVERY_MS,
        message: messages::pending("outstandingTransaction"),
        meeting,
    };
    let mut res = (StatusCode::CREATED, Json(out)).into_response();
    // base64url and fixed ASCII attributes only: always a valid header value.
    res.headers_mut().append(
        axum::http::header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("cookie is ASCII"),
    );
    Ok(res)
}

#[derive(Deserialize)]
struct OrderRefIn {
    order_ref: String,
}

async fn qr_code(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    query: Result<Query<OrderRefIn>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(OrderRefIn { order_ref }) = query.map_err(|_| order_not_found())?;
    let order = bound_order(&ctx, &headers, &order_ref).await?;
    let secret = ctx
        .booking
        .data_key()
        .decrypt(&order.qr_start_secret_enc, order.order_ref.as_bytes())
        .map_err(ApiError::internal)?;
    let secret = String::from_utf8(secret)
        .map_err(|_| ApiError::internal(std::io::Error::other("qr secret")))?;
    let seconds = (ctx.booking.clock().now() - order.started_at).max(0) as u64;
    let svg = qr::svg(&qr::content(&order.qr_start_token, &secret, seconds));
    Ok(([(CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

#[derive(Serialize)]
struct CollectOut {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint_code: Option<String>,
    message: UserMessage,
    /// Whether the QR code should still be shown: only until the app has picked the order up.
    show_qr: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<IdentityJson>,
}

async fn collect(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    body: Result<Json<OrderRefIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    let OrderRefIn { order_ref } = json_body(body)?;
    let order = bound_order(&ctx, &headers, &order_ref).await?;
    let store = ctx.booking.store();
    let answer = match ctx.bankid.client.collect(&order.order_ref).await {
        Ok(a) => a,
        Err(RpError::Refused { code, .. }) if code == "invalidParameters" => {
            // BankID no longer knows the order (too old): it is over.
            store.delete_bankid_order(&order.order_ref).await?;
            return Ok(order_over(Json(failed_out(None, messages::RFA22))));
        }
        Err(e) => return Err(bankid_unavailable(e)),
    };
    match answer.status {
        Status::Pending => {
            let hint = answer.hint_code.unwrap_or_default();
            Ok(Json(CollectOut {
                status: "pending",
                message: messages::pending(&hint),
                show_qr: hint == "outstandingTransaction",
                hint_code: Some(hint),
                identity: None,
            })
            .into_response())
        }
        Status::Failed => {
            store.delete_bankid_order(&order.order_ref).await?;
            let hint = answer.hint_code.unwrap_or_default();
            tracing::info!(hint_code = %hint, "BankID order failed");
            Ok(order_over(Json(failed_out(
                Some(hint.clone()),
                messages::failed(&hint),
            ))))
        }
        Status::Complete => {
            let Some(data) = answer.completion_data else {
                return Err(bankid_unavailable(RpError::Transport(
                    "complete without completionData".into(),
                )));
            };
            complete(&ctx, &order, data).await
        }
    }
}

/// The answer to the last call of an order (failed, cancelled): the browser's binding cookie
/// goes with it, so a booth kiosk keeps nothing of the citizen's order for its next citizen.
fn order_over(answer: impl IntoResponse) -> Response {
    let mut res = answer.into_response();
    res.headers_mut().append(
        axum::http::header::SET_COOKIE,
        HeaderValue::from_static(CLEAR_BINDING_COOKIE),
    );
    res
}

fn failed_out(hint_code: Option<String>, message: UserMessage) -> CollectOut {
    CollectOut {
        status: "failed",
        hint_code,
        message,
        show_qr: false,
        identity: None,
    }
}

async fn complete(
    ctx: &Ctx,
    order: &BankIdOrderRecord,
    data: rp::CompletionData,
) -> Result<Response, ApiError> {
    let booking = &ctx.booking;
    let store = booking.store();
    let now = booking.clock().now();
    let Ok(personnummer) = Personnummer::parse(&data.user.personal_number) else {
        tracing::error!("BankID completed with a personal number that does not validate");
        store.delete_bankid_order(&order.order_ref).await?;
        return Ok(order_over(Json(failed_out(None, messages::RFA22))));
    };
    let (citizen, _) = store
        .ensure_citizen(CitizenId::new(), &personnummer, &data.user.name, now)
        .await?;
    if order.required_citizen_id.is_some_and(|c| c != citizen) {
        // BankID enforces the requirement; this is the second lock on the door.
        tracing::error!("BankID completed for someone other than the booking's citizen");
        store.delete_bankid_order(&order.order_ref).await?;
        return Err(ApiError::forbidden(
            "bankid_wrong_person",
            "this identification is for the booked citizen",
        ));
    }
    let id = uuid::Uuid::new_v4();
    let signature = STANDARD
        .decode(&data.signature)
        .unwrap_or_else(|_| data.signature.clone().into_bytes());
    let evidence = IdentificationEvidence {
        id,
        at: now,
        method: IdMethod::BankId,
        citizen_id: citizen,
        booking_id: order.booking_id,
        order_ref: order.order_ref.clone(),
        signature_enc: booking
            .data_key()
            .encrypt(&signature, id.as_bytes())
            .map_err(ApiError::internal)?,
        ocsp_response: data.ocsp_response,
    };
    match store.complete_bankid_order(&evidence).await {
        Ok(()) => {}
        // Collected twice at once: the other request signed the browser in.
        Err(StoreError::NotFound(_)) => return Err(order_not_found()),
        Err(e) => return Err(e.into()),
    }
    if let (Some(_), Some(booking_id)) = (order.booth_device_id, order.booking_id) {
        let identification = crate::store::BookingIdentification {
            method: IdMethod::BankId,
            at: now,
            guide: None,
            document_type: None,
            document_last4: None,
        };
        store
            .identify_for_booking(booking_id, &identification, Subject::Citizen(citizen))
            .await?;
        tracing::info!("citizen identified with BankID at the booth");
        let mut res = Json(CollectOut {
            status: "complete",
            hint_code: None,
            message: messages::RFA9,
            show_qr: false,
            identity: None,
        })
        .into_response();
        res.headers_mut().append(
            axum::http::header::SET_COOKIE,
            HeaderValue::from_static(CLEAR_BINDING_COOKIE),
        );
        return Ok(res);
    }
    let (identity, cookie) = booking
        .sessions()
        .sign_in(Subject::Citizen(citizen), IdMethod::BankId)
        .await?;
    tracing::info!(
        for_booking = order.booking_id.is_some(),
        "citizen identified with BankID"
    );
    let mut res = Json(CollectOut {
        status: "complete",
        hint_code: None,
        message: messages::RFA9,
        show_qr: false,
        identity: Some((&identity).into()),
    })
    .into_response();
    cookie.apply(res.headers_mut());
    res.headers_mut().append(
        axum::http::header::SET_COOKIE,
        HeaderValue::from_static(CLEAR_BINDING_COOKIE),
    );
    Ok(res)
}

async fn cancel(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    body: Result<Json<OrderRefIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    let OrderRefIn { order_ref } = json_body(body)?;
    let order = bound_order(&ctx, &headers, &order_ref).await?;
    match ctx.bankid.client.cancel(&order.order_ref).await {
        // Already over at BankID: nothing left to cancel there.
        Ok(()) | Err(RpError::Refused { .. }) => {}
        Err(e) => return Err(bankid_unavailable(e)),
    }
    ctx.booking
        .store()
        .delete_bankid_order(&order.order_ref)
        .await?;
    Ok(order_over(Json(
        json!({"status": "cancelled", "message": messages::RFA6}),
    )))
}
