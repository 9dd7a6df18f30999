//! Form and JSON bodies, read as axum's `Form` and `Json` read them, but a
//! body the handler's type cannot take (a field sent twice, a missing field,
//! a number that is not one, malformed JSON, the wrong content type) is
//! refused through the one error mapping: a bilingual message, Japanese
//! first, naming the field — an HTML page for pages, JSON under `/api` —
//! instead of axum's English plain text.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use citykpi_app::AppError;
use serde::de::DeserializeOwned;

use crate::error::WebError;

/// A URL-encoded form (the query string of a GET).
#[derive(Debug, Clone, Copy, Default)]
pub struct Form<T>(pub T);

/// A JSON body; as a response, the value as JSON (axum's `Json`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

/// A part of the address (`/kpis/{code}`): one that cannot be what the
/// route takes (an id that is not a number) names nothing there is, so the
/// answer is the bilingual 404, not axum's English plain-text 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WebError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|_| WebError::NotFound)
    }
}

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, WebError> {
        if matches!(*req.method(), Method::GET | Method::HEAD) {
            let query = req.uri().query().unwrap_or("");
            return parse_form(query.as_bytes()).map(Form);
        }
        if !content_type_is(req.headers(), |ct| {
            ct.starts_with("application/x-www-form-urlencoded")
        }) {
            return Err(WebError::UnsupportedMediaType(
                "フォーム（application/x-www-form-urlencoded）で送ってください / send a form (application/x-www-form-urlencoded)".into(),
            ));
        }
        let bytes = body_bytes(req, state).await?;
        parse_form(&bytes).map(Form)
    }
}

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, WebError> {
        if !content_type_is(req.headers(), |ct| {
            ct.starts_with("application/json") || ct.contains("+json")
        }) {
            return Err(WebError::UnsupportedMediaType(
                "JSON（Content-Type: application/json）で送ってください / send JSON (Content-Type: application/json)".into(),
            ));
        }
        let bytes = body_bytes(req, state).await?;
        parse_json(&bytes).map(Json)
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn content_type_is(headers: &HeaderMap, accept: impl Fn(&str) -> bool) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| accept(&ct.to_ascii_lowercase()))
}

async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, WebError> {
    Bytes::from_request(req, state).await.map_err(|r| {
        if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            WebError::TooLarge("本文が大きすぎます / the request body is too large".to_string())
        } else {
            WebError::BadRequest("本文を読めません / the request body could not be read".into())
        }
    })
}

/// A form body as `T`, or the refusal naming the field.
pub(crate) fn parse_form<T: DeserializeOwned>(body: &[u8]) -> Result<T, WebError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(body));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        refusal(&path, &e.into_inner().to_string(), "フォーム", "form")
    })
}

/// A JSON body as `T`, or the refusal naming the field (its path in the
/// document) or the line and column where it stops being JSON.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, WebError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            refusal(&path, &inner.to_string(), "JSON", "JSON")
        } else {
            not_json(&inner)
        }
    })?;
    de.end().map_err(|e| not_json(&e))?;
    Ok(value)
}

fn not_json(e: &serde_json::Error) -> WebError {
    let (line, column) = (e.line(), e.column());
    WebError::App(AppError::invalid(
        "body",
        format!(
            "JSONとして読めません（{line}行 {column}列） / the body is not valid JSON (line {line}, column {column}): {e}"
        ),
    ))
}

/// The field a serde message names: the path where it failed, or for a
/// problem of the whole record (a field sent twice, one missing) the name
/// serde quotes in backquotes.
fn refusal(path: &str, message: &str, what_ja: &str, what_en: &str) -> WebError {
    let quoted = message
        .split('`')
        .nth(1)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let at_root = path.is_empty() || path == ".";
    let (field, reason) = if message.starts_with("duplicate field") {
        let f = quoted.unwrap_or_else(|| path.to_string());
        let r = format!("項目「{f}」が2回送られました / the field \"{f}\" was sent twice");
        (f, r)
    } else if message.starts_with("missing field") {
        let f = match (at_root, quoted) {
            (true, Some(q)) => q,
            (false, Some(q)) => format!("{path}.{q}"),
            (_, None) => path.to_string(),
        };
        let r = format!("項目「{f}」がありません / the field \"{f}\" is missing");
        (f, r)
    } else if at_root {
        let r = format!(
            "{what_ja}の形が違います（{message}） / the {what_en} does not have the expected shape: {message}"
        );
        ("body".to_string(), r)
    } else {
        let f = path.to_string();
        let r = format!(
            "項目「{f}」の値を読めません（{message}） / the value of the field \"{f}\" cannot be read: {message}"
        );
        (f, r)
    };
    WebError::App(AppError::invalid(field, reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Actual {
        period: String,
        value: Option<f64>,
        #[serde(default)]
        version: i64,
    }

    fn message(e: WebError) -> String {
        e.to_string()
    }

    #[test]
    fn a_field_sent_twice_is_named() {
        let e = parse_form::<Actual>(b"period=2024&value=1&value=2").unwrap_err();
        assert_eq!(
            message(e),
            "value: 項目「value」が2回送られました / the field \"value\" was sent twice"
        );
    }

    #[test]
    fn a_missing_field_and_a_bad_number_are_named() {
        let e = parse_form::<Actual>(b"value=1").unwrap_err();
        assert!(message(e).starts_with("period: 項目「period」がありません"));
        let e = parse_form::<Actual>(b"period=2024&version=x").unwrap_err();
        let m = message(e);
        assert!(
            m.starts_with("version: 項目「version」の値を読めません"),
            "{m}"
        );
        let e = parse_json::<Vec<Actual>>(br#"[{"period":"2024","version":"x"}]"#).unwrap_err();
        let m = message(e);
        assert!(m.starts_with("[0].version: 項目「[0].version」"), "{m}");
    }

    #[test]
    fn json_that_is_not_json_names_line_and_column() {
        let e = parse_json::<Actual>(b"{\n \"period\": ").unwrap_err();
        let m = message(e);
        assert!(m.starts_with("body: JSONとして読めません（2行"), "{m}");
        let e = parse_json::<Actual>(b"{\"period\":\"1\"} x").unwrap_err();
        assert!(message(e).starts_with("body: JSONとして読めません"));
        let e = parse_json::<Actual>(b"\"text\"").unwrap_err();
        assert!(message(e).starts_with("body: JSONの形が違います"));
        let ok = parse_json::<Actual>(br#"{"period":"2024","value":3}"#).unwrap();
        assert_eq!(ok.value, Some(3.0));
    }
}
