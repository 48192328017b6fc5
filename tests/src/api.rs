//! A client of the booking HTTP API with its own cookie jar, and the story that turns demo people
//! into a started meeting with join tokens: the guide books and starts, the officer and the
//! citizen each sign in with the development e-ID and ask to join.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde_json::{Value, json};
use signalling::ids::RoomId;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The session cookie booking sets at sign-in.
const SESSION_COOKIE: &str = "narvaro_session";
/// The cookie booking keeps the session's CSRF token in, and the header it wants it back in.
const CSRF_COOKIE: &str = "narvaro_csrf";
const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("http: {0}")]
    Http(String),
    #[error("{method} {path}: status {status}: {body}")]
    Status {
        method: Method,
        path: String,
        status: u16,
        body: String,
    },
}

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// One browser's worth of API client: one cookie jar.
#[derive(Clone)]
pub struct ApiClient {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
    session: Option<String>,
    csrf_token: Option<String>,
}

impl ApiClient {
    pub fn new(http_addr: SocketAddr) -> Self {
        Self {
            base: format!("http://{http_addr}"),
            client: Client::builder(TokioExecutor::new()).build_http(),
            session: None,
            csrf_token: None,
        }
    }

    /// Sends a request; returns status and JSON body (`null` when empty or not JSON).
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value)> {
        let (status, bytes) = self.exchange(method, path, body).await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// `GET path`; returns status and body as text (e.g. `/metrics`).
    pub async fn get_text(&mut self, path: &str) -> Result<(u16, String)> {
        let (status, bytes) = self.exchange(Method::GET, path, None).await?;
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    async fn exchange(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Bytes)> {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(session) = &self.session {
            req = req.header(COOKIE, format!("{SESSION_COOKIE}={session}"));
        }
        // As the web client does: the token booking handed out in its cookie, as a header.
        if let Some(token) = &self.csrf_token {
            req = req.header(CSRF_HEADER, token);
        }
        let body = match body {
            Some(v) => {
                req = req.header(CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(v.to_string()))
            }
            None => Full::new(Bytes::new()),
        };
        let req = req.body(body).map_err(|e| ApiError::Http(e.to_string()))?;
        let res = self
            .client
            .request(req)
            .await
            .map_err(|e| ApiError::Http(e.to_string()))?;
        let status = res.status().as_u16();
        for value in res.headers().get_all(SET_COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            if let Some(rest) = value.strip_prefix(&format!("{SESSION_COOKIE}=")) {
                let secret = rest.split(';').next().unwrap_or_default();
                self.session = (!secret.is_empty()).then(|| secret.to_owned());
            }
            if let Some(rest) = value.strip_prefix(&format!("{CSRF_COOKIE}=")) {
                let token = rest.split(';').next().unwrap_or_default();
                self.csrf_token = (!token.is_empty()).then(|| token.to_owned());
            }
        }
        let bytes = res
            .into_body()
            .collect()
            .await
            .map_err(|e| ApiError::Http(e.to_string()))?
            .to_bytes();
        Ok((status, bytes))
    }

    /// The session cookie's secret this client holds, if signed in (for tests that offer it where
    /// it does not belong).
    pub fn session_secret(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// As [`Self::request`], failing unless the status is 2xx.
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value> {
        let (status, value) = self.request(method.clone(), path, body).await?;
        if !(200..300).contains(&status) {
            return Err(ApiError::Status {
                method,
                path: path.to_owned(),
                status,
                body: value.to_string(),
            });
        }
        Ok(value)
    }

    /// Signs in as a demo person with the development e-ID.
    pub async fn sign_in(&mut self, person_id: impl Serialize) -> Result<Value> {
        self.call(
            Method::POST,
            "/api/v1/dev-eid/login",
            Some(&json!({ "person_id": person_id })),
        )
        .await
    }

    /// `POST /api/v1/bookings/{id}/join`: a fresh join token for this client's person.
    pub async fn join_token(&mut self, booking_id: &str) -> Result<JoinGrant> {
        let v = self
            .call(
                Method::POST,
                &format!("/api/v1/bookings/{booking_id}/join"),
                None,
            )
            .await?;
        let field = |name: &str| v[name].as_str().map(str::to_owned);
        match (field("room_id"), field("token")) {
            (Some(room_id), Some(token)) => Ok(JoinGrant {
                room_id: RoomId(room_id),
                token,
                body: v,
            }),
            _ => Err(ApiError::Http(format!(
                "join answer without room_id and token: {v}"
            ))),
        }
    }
}

/// What `join` hands out.
#[derive(Debug, Clone)]
pub struct JoinGrant {
    pub room_id: RoomId,
    pub token: String,
    /// The whole answer (role, display name, signalling URL, expiry).
    pub body: Value,
}

/// A started meeting of the demo officer Anna and citizen Tolvan at booth 1, and both signed in.
pub struct Meeting {
    pub booking_id: String,
    pub room_id: RoomId,
    pub officer: ApiClient,
    pub citizen: ApiClient,
}

impl Meeting {
    /// The guide books a meeting starting now and starts it; officer and citizen sign in.
    pub async fn book_and_start(http_addr: SocketAddr) -> Result<Meeting> {
        use booking::demo;
        let mut guide = ApiClient::new(http_addr);
        guide.sign_in(demo::GUIDE).await?;
        let starts_at = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .map_err(|e| ApiError::Http(e.to_string()))?;
        let created = guide
            .call(
                Method::POST,
                "/api/v1/bookings",
                Some(&json!({
                    "service_id": demo::SERVICE_FORALDRAPENNING,
                    "officer_id": demo::OFFICER_ANNA,
                    "booth_id": demo::BOOTH_1,
                    "starts_at": starts_at,
                    "duration_minutes": 30,
                    "citizen_personnummer": demo::CITIZEN_1_PERSONNUMMER,
                })),
            )
            .await?;
        let booking_id = created["booking_id"]
            .as_str()
            .ok_or_else(|| ApiError::Http(format!("booking without booking_id: {created}")))?
            .to_owned();
        let started = guide
            .call(
                Method::POST,
                &format!("/api/v1/bookings/{booking_id}/start"),
                None,
            )
            .await?;
        let room_id = RoomId(
            started["room_id"]
                .as_str()
                .ok_or_else(|| ApiError::Http(format!("start answer without room_id: {started}")))?
                .to_owned(),
        );
        let mut officer = ApiClient::new(http_addr);
        officer.sign_in(demo::OFFICER_ANNA).await?;
        let mut citizen = ApiClient::new(http_addr);
        citizen.sign_in(demo::CITIZEN_1).await?;
        Ok(Meeting {
            booking_id,
            room_id,
            officer,
            citizen,
        })
    }

    pub async fn officer_token(&mut self) -> Result<JoinGrant> {
        self.officer.join_token(&self.booking_id).await
    }

    pub async fn citizen_token(&mut self) -> Result<JoinGrant> {
        self.citizen.join_token(&self.booking_id).await
    }
}
