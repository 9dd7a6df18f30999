//! Text limits at the edge: every form post and JSON body is checked field
//! by field against the domain's limits (`citykpi_domain::limits`) before a
//! handler sees it, so no page or API call can store a text that breaks an
//! export or a page later. File imports are checked by `citykpi-io` cell by
//! cell instead (they name row and column).

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use citykpi_app::AppError;
use citykpi_domain::limits;
use serde_json::Value;

use crate::WebError;

/// The most a checked body may be; larger ones are left to the route's own
/// body limit (which refuses them).
const CHECKED_BODY: usize = 16 * 1024 * 1024;

/// Form fields that are lists of rows (a paste from Excel), checked row by
/// row by their service, not as one text.
const ROW_LISTS: &[&str] = &["bulk"];

/// Routes whose body is a data file or a document of records, checked by
/// their importer with row and field named.
fn is_import(path: &str) -> bool {
    path == "/data/import" || path.starts_with("/api/v1/import/") || path.ends_with("/ngsi")
}

/// The first field over its limit in a form body.
fn form_too_long(body: &[u8]) -> Option<(String, limits::TooLong)> {
    form_urlencoded::parse(body).find_map(|(k, v)| {
        if ROW_LISTS.contains(&&*k) {
            return None;
        }
        limits::check(&k, &v).err().map(|e| (k.into_owned(), e))
    })
}

/// The first string over its field's limit in a JSON document, by path.
fn json_too_long(v: &Value, path: &str) -> Option<(String, limits::TooLong)> {
    match v {
        Value::String(s) => limits::check(path, s).err().map(|e| (path.to_string(), e)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| json_too_long(x, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            json_too_long(x, &p)
        }),
        _ => None,
    }
}

fn refuse(field: &str, e: &limits::TooLong) -> Response {
    WebError::App(AppError::invalid(
        field,
        format!("「{field}」は{} / \"{field}\" is {}", e.ja(), e.en()),
    ))
    .into_response()
}

pub(crate) async fn text_limits(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH)
        || is_import(req.uri().path())
    {
        return next.run(req).await;
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    let json = content_type.starts_with("application/json") || content_type.contains("+json");
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if !(form || json) || declared.is_some_and(|n| n > CHECKED_BODY) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, CHECKED_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return WebError::BadRequest(
                "本文を読めません / the request body could not be read".into(),
            )
            .into_response();
        }
    };
    let long = if form {
        form_too_long(&bytes)
    } else {
        // Malformed JSON is the handler's to refuse, with its own message.
        serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| json_too_long(&v, ""))
    };
    if let Some((field, e)) = long {
        return refuse(&field, &e);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

// ----- uploads -----

/// The setting that sets the largest upload (a data file on `/data/import`
/// or `/api/v1/import/{kind}`), in MB.
pub const UPLOAD_LIMIT_ENV: &str = "CITYKPI_UPLOAD_LIMIT_MB";
/// 200 MB: a CP932 CSV of a million observation rows is 40–60 MB, what the
/// CLI imports; the web and the API take the same.
pub const DEFAULT_UPLOAD_MB: u64 = 200;

/// The upload limit in MB, read from the environment at each upload (so a
/// changed setting needs no restart of the route table).
pub(crate) fn upload_limit_mb() -> u64 {
    std::env::var(UPLOAD_LIMIT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|mb| *mb > 0)
        .unwrap_or(DEFAULT_UPLOAD_MB)
}

pub(crate) fn upload_limit_bytes() -> usize {
    usize::try_from(upload_limit_mb().saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
}

/// The refusal of an upload over the limit, stating the limit.
pub(crate) fn upload_too_large() -> WebError {
    let mb = upload_limit_mb();
    WebError::TooLarge(format!(
        "ファイルが大きすぎます（上限 {mb} MB。管理者は {UPLOAD_LIMIT_ENV} で変更できます） / the file is too large (the limit is {mb} MB; an administrator sets it with {UPLOAD_LIMIT_ENV})"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_long_field() {
        let note = "a".repeat(limits::TEXT_MAX + 1);
        let body = format!("csrf=x&name_ja=ok&note={note}");
        let (f, e) = form_too_long(body.as_bytes()).unwrap();
        assert_eq!((f.as_str(), e.max), ("note", limits::TEXT_MAX));
        let bulk = format!("bulk={note}");
        assert!(form_too_long(bulk.as_bytes()).is_none());
        let v = serde_json::json!({"program": {"name_ja": "x".repeat(201)}});
        let (f, e) = json_too_long(&v, "").unwrap();
        assert_eq!((f.as_str(), e.max), ("program.name_ja", limits::NAME_MAX));
        let v = serde_json::json!([{"note": "n"}, {"note": note}]);
        assert_eq!(json_too_long(&v, "").unwrap().0, "[1].note");
    }
}
