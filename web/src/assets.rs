//! Static assets, embedded in the binary so a deployment is one file and what the CSP allows
//! (`'self'`) is exactly what was built.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $content_type:literal) => {
        Asset {
            path: $path,
            content_type: $content_type,
            body: include_bytes!(concat!("../static/", $path)),
        }
    };
}

/// Every file under `static/`. A test checks that the folder and this list agree.
const ASSETS: &[Asset] = &[
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("api.js", "text/javascript; charset=utf-8"),
    asset!("i18n.js", "text/javascript; charset=utf-8"),
    asset!("meeting.js", "text/javascript; charset=utf-8"),
    asset!("meeting-view.js", "text/javascript; charset=utf-8"),
    asset!("quality.js", "text/javascript; charset=utf-8"),
    asset!("dev-eid.js", "text/javascript; charset=utf-8"),
    asset!("guide.js", "text/javascript; charset=utf-8"),
    asset!("officer.js", "text/javascript; charset=utf-8"),
    asset!("booth.js", "text/javascript; charset=utf-8"),
    asset!("bankid.js", "text/javascript; charset=utf-8"),
    asset!("booth-enrol.js", "text/javascript; charset=utf-8"),
];

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

pub(crate) async fn serve(Path(path): Path<String>) -> Response {
    match find(&path) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                // Revalidate every time: assets are not content-hashed, and a booth kiosk that
                // kept yesterday's meeting client after an upgrade would be hard to diagnose.
                (header::CACHE_CONTROL, "no-cache"),
            ],
            asset.body,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Hittades inte",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JS: &str = "text/javascript; charset=utf-8";

    #[test]
    fn every_file_in_static_is_embedded_and_nothing_else() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("static/ exists")
            .map(|e| {
                e.expect("readable entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn scripts_are_served_as_javascript() {
        for asset in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            assert_eq!(asset.content_type, JS, "{}", asset.path);
        }
    }

    #[test]
    fn unknown_and_traversing_paths_are_not_found() {
        assert!(find("../src/lib.rs").is_none());
        assert!(find("").is_none());
        assert!(find("meeting.js").is_some());
    }
}
