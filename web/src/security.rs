//! Response headers that make the browser enforce what the pages promise: no inline code, nothing
//! from other origins, no framing, no referrer leaking a booth or booking id.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{self, HeaderName};
use axum::middleware::Next;
use axum::response::Response;

/// Everything comes from this origin. `media-src blob:` is for `MediaStream`s shown in `<video>`;
/// `img-src data:` for small inline icons. No `'unsafe-inline'` anywhere: templates and scripts
/// use classes and the `hidden` attribute, never `style=` or `onclick=`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     media-src 'self' blob:; connect-src 'self'; style-src 'self'; script-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Camera and microphone for the meeting pages of this origin; everything else that could be
/// abused by a compromised dependency is off.
pub const PERMISSIONS_POLICY: &str = "camera=(self), microphone=(self), display-capture=(self), \
     fullscreen=(self), geolocation=(), payment=(), usb=(), serial=()";

/// Middleware: sets the security headers on every response that passes through it, unless a
/// handler already chose a value.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("permissions-policy"),
            PERMISSIONS_POLICY,
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}
