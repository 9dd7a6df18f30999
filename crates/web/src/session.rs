//! Login sessions and API tokens.
//!
//! Sessions live in memory: a restart logs everyone out, which for an
//! internal tool is acceptable and keeps session data out of backups. The
//! cookie holds only a random id; the CSRF token is per session.
//! API tokens are random 256-bit values; the database keeps their SHA-256
//! digests (`Store::set_api_token`), and a token is found by its digest.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use citykpi_domain::org::Role;
use rand::RngCore;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "citykpi_session";
/// Name of the cookie carrying the CSRF token of a visitor who is not logged in
/// (only the login form needs it).
pub const PRE_SESSION_COOKIE: &str = "citykpi_presession";
/// A session ends after this long without a request.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(8 * 3600);
/// A session ends this long after the login, however busy it is: a stolen
/// session cookie cannot be kept alive by using it.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::from_secs(12 * 3600);

/// Who is logged in, as the pages and access checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub section_code: String,
    /// The department of the user's section ("" if the section is unknown).
    pub department_code: String,
}

#[derive(Debug)]
pub struct Session {
    pub id: String,
    pub user: SessionUser,
    pub csrf: String,
    created: Instant,
    last_seen: RwLock<Instant>,
}

#[derive(Default)]
pub struct Sessions {
    by_id: RwLock<HashMap<String, Arc<Session>>>,
}

/// 256 random bits as 64 hex characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets without stopping at the first difference.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Sessions {
    pub fn create(&self, user: SessionUser) -> Arc<Session> {
        let session = Arc::new(Session {
            id: random_token(),
            user,
            csrf: random_token(),
            created: Instant::now(),
            last_seen: RwLock::new(Instant::now()),
        });
        if let Ok(mut map) = self.by_id.write() {
            // Drop expired sessions now and then so the map cannot grow without bound.
            if map.len() % 64 == 0 {
                map.retain(|_, s| !s.expired());
            }
            map.insert(session.id.clone(), session.clone());
        }
        session
    }

    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        let session = self.by_id.read().ok()?.get(id).cloned()?;
        if session.expired() {
            self.remove(id);
            return None;
        }
        if let Ok(mut seen) = session.last_seen.write() {
            *seen = Instant::now();
        }
        Some(session)
    }

    pub fn remove(&self, id: &str) {
        if let Ok(mut map) = self.by_id.write() {
            map.remove(id);
        }
    }

    /// Ends every session of a user (after a password change).
    pub fn remove_user(&self, login: &str) {
        if let Ok(mut map) = self.by_id.write() {
            map.retain(|_, s| s.user.login != login);
        }
    }
}

/// SHA-256 of an API token, hex: what the database keeps.
pub fn token_digest(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Session {
    fn expired(&self) -> bool {
        self.expired_at(Instant::now())
    }

    /// Past the idle timeout since the last request, or past the absolute
    /// lifetime since the login.
    fn expired_at(&self, now: Instant) -> bool {
        let idle = self
            .last_seen
            .read()
            .map(|t| now.saturating_duration_since(*t) > IDLE_TIMEOUT)
            .unwrap_or(true);
        idle || now.saturating_duration_since(self.created) > ABSOLUTE_TIMEOUT
    }
}

/// The value of a cookie in a `Cookie` header.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// A `Set-Cookie` value. HttpOnly and SameSite=Lax always; Secure when configured.
pub fn set_cookie(name: &str, value: &str, max_age: Option<u64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> SessionUser {
        SessionUser {
            login: "u".into(),
            display_name: "U".into(),
            role: Role::Viewer,
            section_code: "S".into(),
            department_code: "D".into(),
        }
    }

    #[test]
    fn sessions_and_tokens() {
        let s = Sessions::default();
        let a = s.create(user());
        assert_eq!(a.id.len(), 64);
        assert_ne!(a.id, a.csrf);
        assert!(s.get(&a.id).is_some());
        s.remove_user("u");
        assert!(s.get(&a.id).is_none());
        // Idle for 8 hours, or 12 hours after the login even when busy.
        let b = s.create(user());
        let start = b.created;
        assert!(!b.expired_at(start + Duration::from_secs(7 * 3600)));
        assert!(b.expired_at(start + IDLE_TIMEOUT + Duration::from_secs(1)));
        for hour in 1..=11u64 {
            let at = start + Duration::from_secs(hour * 3600);
            *b.last_seen.write().unwrap() = at;
            assert!(!b.expired_at(at + Duration::from_secs(60)), "hour {hour}");
        }
        *b.last_seen.write().unwrap() = start + Duration::from_secs(12 * 3600);
        assert!(b.expired_at(start + ABSOLUTE_TIMEOUT + Duration::from_secs(1)));
        assert_eq!(
            token_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn cookies() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            "a=1; citykpi_session=abc; lang=en".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "lang"), Some("en"));
        assert_eq!(cookie(&h, "x"), None);
        assert_eq!(
            set_cookie("a", "b", Some(60), true),
            "a=b; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
