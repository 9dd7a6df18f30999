//! CSS, JavaScript and the icon, compiled into the binary. Pages link them with
//! a content hash in the query (`/static/app.css?v=…`), so they can be cached
//! for a year; the ETag answers revalidations with 304.

use std::hash::{Hash, Hasher};
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::WebError;

pub struct Asset {
    pub name: &'static str,
    pub bytes: &'static [u8],
    pub content_type: &'static str,
    /// Hex content hash: cache buster and ETag.
    pub hash: String,
}

fn hash_of(bytes: &[u8]) -> String {
    // Not a security boundary: any stable hash of the content will do.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    format!("{:016x}", h.finish())
}

pub static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    [
        (
            "app.css",
            include_bytes!("../assets/app.css").as_slice(),
            "text/css; charset=utf-8",
        ),
        (
            "app.js",
            include_bytes!("../assets/app.js").as_slice(),
            "text/javascript; charset=utf-8",
        ),
        (
            "favicon.svg",
            include_bytes!("../assets/favicon.svg").as_slice(),
            "image/svg+xml",
        ),
    ]
    .into_iter()
    .map(|(name, bytes, content_type)| Asset {
        name,
        bytes,
        content_type,
        hash: hash_of(bytes),
    })
    .collect()
});

/// The versioned URL of an asset, for links in pages.
pub fn url(name: &str) -> String {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => format!("/static/{}?v={}", a.name, a.hash),
        None => format!("/static/{name}"),
    }
}

fn respond(asset: &Asset, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", asset.hash);
    let mut resp = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.bytes).into_response()
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    resp
}

pub async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Result<Response, WebError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == file)
        .ok_or(WebError::NotFound)?;
    Ok(respond(asset, &headers))
}

pub async fn favicon(headers: HeaderMap) -> Result<Response, WebError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == "favicon.svg")
        .ok_or(WebError::NotFound)?;
    Ok(respond(asset, &headers))
}
