//! Shared by the integration tests: a fresh database per test (a temporary SQLite file always; a
//! uniquely named PostgreSQL schema when `NARVARO_TEST_DATABASE_URL` is set), and request helpers
//! that drive the router with `oneshot`, no server.
#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use booking::demo as demo_ids;
use booking::{Booking, BookingConfig, Environment, ManualClock};
use serde_json::Value;
use sqlx::Connection;
use tower::ServiceExt;

pub const PG_URL_VAR: &str = "NARVARO_TEST_DATABASE_URL";

/// A database for one test; dropped (PostgreSQL schema) or left in the temp dir (SQLite).
pub struct TestDb {
    pub config: BookingConfig,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!(
            "narvaro-booking-test-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let config = BookingConfig {
            database_url: format!("sqlite://{}/narvaro.db?mode=rwc", dir.display()),
            ..Default::default()
        };
        TestDb { config, pg: None }
    }

    /// `None` when no PostgreSQL URL is configured.
    pub async fn postgres() -> Option<TestDb> {
        let Ok(url) = std::env::var(PG_URL_VAR) else {
            eprintln!("{PG_URL_VAR} not set: skipping the PostgreSQL run");
            return None;
        };
        let schema = format!("narvaro_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&url)
            .await
            .expect("connect to test PostgreSQL");
        // The migration creates btree_gist in `public` if missing; tests migrating many schemas
        // at once would race to create it, so it is made here first. A concurrent creation
        // failing this one is fine: the extension is there either way.
        let _ = sqlx::query("CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public")
            .execute(&mut conn)
            .await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let config = BookingConfig {
            database_url: format!("{url}{sep}options[search_path]={schema}"),
            data_key: Some(booking::crypto::DataKey::generate_secret().unwrap()),
            ..Default::default()
        };
        Some(TestDb {
            config,
            pg: Some((url, schema)),
        })
    }

    pub async fn drop(self) {
        if let Some((url, schema)) = self.pg {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
}

/// 2026-06-15 08:00 UTC, 10:00 in Sweden.
pub const T0: i64 = 1_781_510_400;

pub async fn open(db: &TestDb) -> (Booking, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let booking = Booking::open_with_clock(&db.config, Environment::Development, clock.clone())
        .await
        .unwrap();
    (booking, clock)
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

pub async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    cookie: Option<&str>,
    body: Option<Value>,
) -> Answer {
    call_raw(app, method, uri, cookie, body.map(|b| b.to_string())).await
}

/// As [`call`] with the body as given, JSON or not.
pub async fn call_raw(
    app: &Router,
    method: Method,
    uri: &str,
    cookie: Option<&str>,
    body: Option<String>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
        // As the web client does: the credential's CSRF token in its header (tests of the
        // refusal build their requests themselves).
        let mut cookies = axum::http::HeaderMap::new();
        cookies.insert(header::COOKIE, c.parse().unwrap());
        if let Some(credential) = booking::csrf::credential(&cookies) {
            req = req.header(
                booking::csrf::CSRF_HEADER,
                booking::csrf::token_for(credential),
            );
        }
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b)),
        None => req.body(Body::empty()),
    }
    .unwrap();
    send(app, req).await
}

/// Sends a request as built and reads the answer.
pub async fn send(app: &Router, req: Request<Body>) -> Answer {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        text,
    }
}

pub async fn get(app: &Router, uri: &str, cookie: Option<&str>) -> Answer {
    call(app, Method::GET, uri, cookie, None).await
}

pub async fn post(app: &Router, uri: &str, cookie: Option<&str>, body: Option<Value>) -> Answer {
    call(app, Method::POST, uri, cookie, body).await
}

pub async fn put(app: &Router, uri: &str, cookie: Option<&str>, body: Option<Value>) -> Answer {
    call(app, Method::PUT, uri, cookie, body).await
}

pub async fn delete(app: &Router, uri: &str, cookie: Option<&str>) -> Answer {
    call(app, Method::DELETE, uri, cookie, None).await
}

/// A valid personnummer no demo citizen has: born 1980-01-01, serial `n` (0–999).
pub fn personnummer(n: u32) -> String {
    booking::Personnummer::from_parts("19800101", n as u16)
        .unwrap()
        .expose()
        .to_owned()
}

/// Signs in through the development e-ID; returns the `Cookie` header value.
pub async fn login(app: &Router, person: impl ToString) -> String {
    let a = post(
        app,
        "/api/v1/dev-eid/login",
        None,
        Some(serde_json::json!({ "person_id": person.to_string() })),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["development_only"], true);
    let set = a.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}

/// The demo guide books demo citizen 1 with officer Anna for 30 minutes in booth 1, starting
/// `offset_secs` after [`T0`]; returns the booking id.
pub async fn book_citizen_1(app: &Router, offset_secs: i64) -> String {
    let guide = login(app, demo_ids::GUIDE).await;
    let a = post(
        app,
        "/api/v1/bookings",
        Some(&guide),
        Some(serde_json::json!({
            "service_id": demo_ids::SERVICE_FORALDRAPENNING, "officer_id": demo_ids::OFFICER_ANNA,
            "booth_id": demo_ids::BOOTH_1, "starts_at": at(offset_secs), "duration_minutes": 30,
            "citizen_personnummer": demo_ids::CITIZEN_1_PERSONNUMMER,
        })),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body["booking_id"].as_str().unwrap().to_owned()
}

/// RFC 3339 for `T0 + offset` seconds.
pub fn at(offset_secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(T0 + offset_secs)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Runs one async test body against SQLite, and against PostgreSQL when configured.
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let db = $crate::common::TestDb::sqlite().await;
                super::$name(&db).await;
                db.drop().await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(db) = $crate::common::TestDb::postgres().await {
                    super::$name(&db).await;
                    db.drop().await;
                }
            }
        }
    };
}
