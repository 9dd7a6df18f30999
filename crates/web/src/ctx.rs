//! What every page handler needs to know about the request: the language, the
//! fiscal year shown, who is logged in, and the CSRF token for its forms.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use citykpi_domain::FiscalYear;

use crate::AppState;
use crate::i18n::{Lang, Text};
use crate::session::{SESSION_COOKIE, Session, SessionUser, cookie};

/// The user a request acts for, set by the access check: from the session
/// cookie (pages) or from an API token (no session, no CSRF token).
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: SessionUser,
    pub session: Option<Arc<Session>>,
}

pub struct Ctx {
    pub lang: Lang,
    pub t: &'static Text,
    pub principal: Option<Principal>,
    pub fy: FiscalYear,
    /// Whether `fy` was chosen in the query (links then keep it).
    pub fy_explicit: bool,
    pub path: String,
    pub query: Option<String>,
}

/// A query parameter's decoded value.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The language: `?lang=` first, then the `lang` cookie, then Japanese.
pub fn lang_of(headers: &HeaderMap, query: Option<&str>) -> Lang {
    query_param(query, "lang")
        .and_then(|l| Lang::parse(&l))
        .or_else(|| cookie(headers, "lang").and_then(Lang::parse))
        .unwrap_or(Lang::Ja)
}

/// The session named by the request's cookie, if it is alive.
pub async fn session_of(
    state: &AppState,
    headers: &HeaderMap,
) -> crate::error::WebResult<Option<Arc<Session>>> {
    match cookie(headers, SESSION_COOKIE) {
        Some(id) => Ok(state.sessions().get(state.store(), id).await?),
        None => Ok(None),
    }
}

/// The fiscal year shown when none is chosen: the last one that has ended,
/// which is the one the yearly cycle evaluates.
pub fn default_fy() -> FiscalYear {
    citykpi_app::clock::last_closed_fiscal_year()
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().map(str::to_string);
        let lang = lang_of(&parts.headers, query.as_deref());
        let chosen = query_param(query.as_deref(), "fy").and_then(|s| FiscalYear::parse(&s).ok());
        Ok(Ctx {
            lang,
            t: lang.text(),
            principal: parts.extensions.get::<Principal>().cloned(),
            fy: chosen.unwrap_or_else(default_fy),
            fy_explicit: chosen.is_some(),
            path: parts.uri.path().to_string(),
            query,
        })
    }
}

impl Ctx {
    pub fn user(&self) -> Option<&SessionUser> {
        self.principal.as_ref().map(|p| &p.user)
    }
    /// The CSRF token for forms of this page ("" without a session).
    pub fn csrf(&self) -> &str {
        self.principal
            .as_ref()
            .and_then(|p| p.session.as_ref())
            .map(|s| s.csrf.as_str())
            .unwrap_or("")
    }
    /// `?fy=2024` to append to links when a year was chosen, else "".
    pub fn fy_query(&self) -> String {
        if self.fy_explicit {
            format!("?fy={}", self.fy.year())
        } else {
            String::new()
        }
    }
    /// This page's address with `lang` set to the other language.
    pub fn other_lang_url(&self) -> String {
        let mut pairs: Vec<(String, String)> = self
            .query
            .as_deref()
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .filter(|(k, _)| k != "lang")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        pairs.push(("lang".into(), self.lang.other().code().into()));
        let q = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{}?{q}", self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_choice() {
        let mut h = HeaderMap::new();
        assert_eq!(lang_of(&h, None), Lang::Ja);
        h.insert(axum::http::header::COOKIE, "lang=en".parse().unwrap());
        assert_eq!(lang_of(&h, None), Lang::En);
        assert_eq!(lang_of(&h, Some("lang=ja")), Lang::Ja);
        assert_eq!(lang_of(&h, Some("lang=xx")), Lang::En);
        assert_eq!(
            query_param(Some("a=1&q=%E5%B8%82"), "q").as_deref(),
            Some("市")
        );
    }
}
