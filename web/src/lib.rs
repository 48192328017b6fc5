//! Web: the pages people use and the browser meeting client.
//!
//! This crate owns what a browser loads as a document or a static asset: the start page, the
//! service guide's console (`/guide`), the case officer's agenda and meeting view (`/officer`), the
//! booth kiosk (`/booth/{booth_id}`: language, identification, waiting room, meeting, survey,
//! and the reset for the next citizen), the follow-up dashboard for analysts and admins
//! (`/follow-up`: filters, tables and bar charts drawn on the server as inline SVG), the choice of how to sign in (`/sign-in`), the development
//! e-ID page (`/dev-eid`), the stylesheet and the small ES modules behind them, among them the
//! meeting client (`static/meeting.js`). Pages are askama templates checked at compile time,
//! Swedish first; every asset is embedded in the binary; every response carries a strict
//! Content-Security-Policy, so no page runs inline script or style and nothing is loaded from a
//! third party.
//!
//! It owns the translations of the citizen's screens too ([`i18n`]): Fluent files for Swedish,
//! English, Arabic, Finnish, Somali and Persian (`i18n/*.ftl`), rendered into the templates and
//! handed to the pages' scripts as a JSON data block, with `<html lang dir>` set for the language.
//! The follow-up dashboard is in all six languages too (`?lang=`); the other staff pages (guide
//! console, officer's agenda) are Swedish only.
//!
//! It does not own any API: bookings, directory, sessions, dev e-ID login and join tokens are
//! booking's HTTP API, which the pages' scripts call (`/api/v1/...`). This crate asks booking
//! directly who is signed in ([`booking::Booking::session_identity`]), so that a page that needs
//! a person redirects to the e-ID page before it renders, and, for the dashboard, for the
//! follow-up figures through [`booking::follow_up`] (the code behind `/api/v1/follow-up`, with
//! its scope check), because its charts are drawn on the server; its CSV download is booking's
//! `/api/v1/follow-up.csv`. Media is not here either: the
//! meeting client speaks signalling's WebSocket protocol and sends media to the SFU.

mod assets;
mod dashboard;
pub mod i18n;
mod pages;
mod security;

use axum::Router;
use axum::routing::get;

pub use security::{CONTENT_SECURITY_POLICY, PERMISSIONS_POLICY, security_headers};

/// The pages and static assets. Carries [`security_headers`] on all of its own responses; the root
/// binary may apply the same middleware to the merged router so API responses and 404s carry it too.
pub fn router(booking: booking::Booking) -> Router {
    Router::new()
        .route("/", get(pages::start))
        .route("/dev-eid", get(pages::dev_eid))
        .route("/sign-in", get(pages::sign_in))
        .route("/guide", get(pages::guide))
        .route("/officer", get(pages::officer))
        .route("/booth/{booth_id}", get(pages::booth))
        .route("/follow-up", get(dashboard::dashboard))
        .route("/static/{*path}", get(assets::serve))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(booking)
}
