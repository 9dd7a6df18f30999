//! Login sessions and API tokens.
//!
//! Sessions live in the database (`web_sessions`), so every server process
//! on one database knows them: a user signed in on one server is signed in
//! on all, and a logout, a password change or a deactivation ends the
//! session on all. The cookie holds only a random 256-bit id; the table
//! keeps its SHA-256 digest, so a copy of the database hands out no
//! session. The CSRF token is per session and stored with it.
//!
//! Each process keeps the sessions it has seen for `check_every` (two
//! seconds unless configured) before it reads the row again: a page view
//! costs no database round trip, and a session ended on another server is
//! refused here within that interval. The last request is written back at
//! most once a minute per session, which is all the idle timeout needs.
//! API tokens are random 256-bit values; the database keeps their SHA-256
//! digests (`Store::set_api_token`), and a token is found by its digest.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use citykpi_domain::org::Role;
use citykpi_store::Store;
use rand::RngCore;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "citykpi_session";
/// Name of the cookie carrying the CSRF token of a visitor who is not logged in
/// (only the login form needs it). The form carries the same token, and the
/// check compares the two (double submit): no server keeps state for it, so
/// the form can come from one server and the login go to another.
pub const PRE_SESSION_COOKIE: &str = "citykpi_presession";
/// A session ends after this long without a request.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(8 * 3600);
/// A session ends this long after the login, however busy it is: a stolen
/// session cookie cannot be kept alive by using it.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::from_secs(12 * 3600);
/// How long a process trusts a session it has read before reading it again.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);
/// The last request of a session is written back at most this often.
const TOUCH_EVERY: i64 = 60;
/// Past this many cached sessions, those due for a new read are dropped.
const MAX_CACHED: usize = 10_000;

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
    /// The cookie's value (kept in memory only, to set the cookie).
    pub id: String,
    digest: String,
    /// Who signed in; the access check reloads the user on every request.
    pub login: String,
    pub csrf: String,
    /// Unix seconds of the login.
    created_at: i64,
    /// Unix seconds of the last request this process saw or read.
    last_seen_at: AtomicI64,
}

struct Cached {
    session: Arc<Session>,
    read_at: Instant,
}

/// The sessions: the database's rows, with what this process read lately.
pub struct Sessions {
    check_every: Duration,
    cache: RwLock<HashMap<String, Cached>>,
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

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Past the idle timeout since the last request, or past the absolute
/// lifetime since the login.
pub fn expired(created_at: i64, last_seen_at: i64, now: i64) -> bool {
    now.saturating_sub(last_seen_at) > IDLE_TIMEOUT.as_secs() as i64
        || now.saturating_sub(created_at) > ABSOLUTE_TIMEOUT.as_secs() as i64
}

impl Sessions {
    pub fn new(check_every: Duration) -> Sessions {
        Sessions {
            check_every,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// Starts a session for `login`, stored before its cookie is handed out.
    pub async fn create(&self, store: &Store, login: &str) -> citykpi_store::Result<Arc<Session>> {
        let id = random_token();
        let digest = token_digest(&id);
        let csrf = random_token();
        let now = unix_now();
        store.create_session(&digest, login, &csrf, now).await?;
        let session = Arc::new(Session {
            id,
            digest,
            login: login.to_string(),
            csrf,
            created_at: now,
            last_seen_at: AtomicI64::new(now),
        });
        self.remember(session.clone());
        Ok(session)
    }

    /// The live session with cookie value `id`. A session this process read
    /// less than `check_every` ago is taken from memory; otherwise the row
    /// is read again, so a session ended elsewhere is refused.
    pub async fn get(
        &self,
        store: &Store,
        id: &str,
    ) -> citykpi_store::Result<Option<Arc<Session>>> {
        if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let digest = token_digest(id);
        let now = unix_now();
        if let Some(session) = self.fresh(&digest) {
            let last = session.last_seen_at.load(Ordering::Relaxed);
            if !expired(session.created_at, last, now) {
                session.last_seen_at.fetch_max(now, Ordering::Relaxed);
                return Ok(Some(session));
            }
        }
        let Some(row) = store.session(&digest).await? else {
            self.forget(&digest);
            return Ok(None);
        };
        let seen_here = self
            .cached(&digest)
            .map_or(0, |s| s.last_seen_at.load(Ordering::Relaxed));
        let last = row.last_seen_at.max(seen_here);
        if expired(row.created_at, last, now) {
            store.delete_session(&digest).await?;
            self.forget(&digest);
            return Ok(None);
        }
        if now - row.last_seen_at >= TOUCH_EVERY {
            store.touch_session(&digest, now).await?;
        }
        let session = Arc::new(Session {
            id: id.to_string(),
            digest,
            login: row.login,
            csrf: row.csrf,
            created_at: row.created_at,
            last_seen_at: AtomicI64::new(now),
        });
        self.remember(session.clone());
        Ok(Some(session))
    }

    /// Ends one session (logout), on every server.
    pub async fn remove(&self, store: &Store, session: &Session) -> citykpi_store::Result<()> {
        self.forget(&session.digest);
        store.delete_session(&session.digest).await?;
        Ok(())
    }

    /// Forgets this process's copies of `login`'s sessions, after the store
    /// deleted their rows (password change, deactivation, logout everywhere).
    pub fn forget_user(&self, login: &str) {
        if let Ok(mut map) = self.cache.write() {
            map.retain(|_, c| c.session.login != login);
        }
    }

    fn fresh(&self, digest: &str) -> Option<Arc<Session>> {
        let map = self.cache.read().ok()?;
        let c = map.get(digest)?;
        (c.read_at.elapsed() < self.check_every).then(|| c.session.clone())
    }

    fn cached(&self, digest: &str) -> Option<Arc<Session>> {
        let map = self.cache.read().ok()?;
        map.get(digest).map(|c| c.session.clone())
    }

    fn remember(&self, session: Arc<Session>) {
        if self.check_every.is_zero() {
            return;
        }
        if let Ok(mut map) = self.cache.write() {
            if map.len() >= MAX_CACHED {
                // Entries due for a new read are worth nothing more than a miss.
                let every = self.check_every;
                map.retain(|_, c| c.read_at.elapsed() < every);
            }
            map.insert(
                session.digest.clone(),
                Cached {
                    session,
                    read_at: Instant::now(),
                },
            );
        }
    }

    fn forget(&self, digest: &str) {
        if let Ok(mut map) = self.cache.write() {
            map.remove(digest);
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

    #[test]
    fn expiry_and_digests() {
        let start = 1_800_000_000;
        let h = 3600;
        // Idle for 8 hours, or 12 hours after the login even when busy.
        assert!(!expired(start, start, start + 7 * h));
        assert!(expired(start, start, start + 8 * h + 1));
        for hour in 1..=11 {
            let seen = start + hour * h;
            assert!(!expired(start, seen, seen + 60), "hour {hour}");
        }
        assert!(expired(start, start + 12 * h, start + 12 * h + 1));
        assert_eq!(random_token().len(), 64);
        assert_ne!(random_token(), random_token());
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
