//! Login rate limit, counted in the database so that every server on it
//! counts the same attempts: failed attempts per (client IP, login name) and
//! per client IP within a window; past the limit every attempt is refused
//! until the window has passed, whether the password is right or not.
//! A load balancer that sends each attempt to another server does not
//! multiply the limit. The keys are stored as SHA-256 digests, so the table
//! holds no client addresses or login names in the clear.

use std::time::Duration;

use citykpi_store::Store;

use crate::session::{token_digest, unix_now};

/// Failed attempts allowed per (IP, login) within the window.
pub const MAX_FAILURES_PER_LOGIN: u32 = 5;
/// Failed attempts allowed per IP (all logins) within the window.
pub const MAX_FAILURES_PER_IP: u32 = 50;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// The digests of the (IP, login) key and the IP's key.
fn keys(ip: &str, login: &str) -> [String; 2] {
    [
        token_digest(&format!("{ip}\u{0}{}", login.trim().to_lowercase())),
        token_digest(&format!("{ip}\u{0}*")),
    ]
}

fn window_start(now: i64) -> i64 {
    now - WINDOW.as_secs() as i64
}

#[derive(Default)]
pub struct LoginLimiter;

impl LoginLimiter {
    /// Whether another attempt is allowed now.
    pub async fn allowed(
        &self,
        store: &Store,
        ip: &str,
        login: &str,
    ) -> citykpi_store::Result<bool> {
        let [per_login, per_ip] = keys(ip, login);
        let counts = store
            .login_failures(&[&per_login, &per_ip], window_start(unix_now()))
            .await?;
        Ok(counts
            .first()
            .is_none_or(|n| *n < i64::from(MAX_FAILURES_PER_LOGIN))
            && counts
                .get(1)
                .is_none_or(|n| *n < i64::from(MAX_FAILURES_PER_IP)))
    }

    pub async fn record_failure(
        &self,
        store: &Store,
        ip: &str,
        login: &str,
    ) -> citykpi_store::Result<()> {
        let [per_login, per_ip] = keys(ip, login);
        let now = unix_now();
        store
            .record_login_failure(&[&per_login, &per_ip], now, window_start(now))
            .await
    }

    /// A successful login clears that login's count (not the IP's).
    pub async fn record_success(
        &self,
        store: &Store,
        ip: &str,
        login: &str,
    ) -> citykpi_store::Result<()> {
        let [per_login, _] = keys(ip, login);
        store.clear_login_failures(&per_login).await
    }

    /// Deletes counts whose window has passed (the cleanup job).
    pub async fn clean_up(store: &Store) -> citykpi_store::Result<u64> {
        store
            .delete_old_login_failures(window_start(unix_now()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_spaces_and_hide_the_address() {
        assert_eq!(keys("1.2.3.4", "Alice"), keys("1.2.3.4", " ALICE "));
        assert_ne!(keys("1.2.3.4", "alice")[0], keys("1.2.3.4", "bob")[0]);
        assert_eq!(keys("1.2.3.4", "alice")[1], keys("1.2.3.4", "bob")[1]);
        assert_ne!(keys("1.2.3.4", "alice")[1], keys("5.6.7.8", "alice")[1]);
        assert!(!keys("1.2.3.4", "alice")[0].contains("1.2.3.4"));
    }
}
