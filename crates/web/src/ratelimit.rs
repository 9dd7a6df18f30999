//! Login rate limit, in memory: failed attempts are counted per (client IP,
//! login name) and per client IP within a window; past the limit every attempt
//! is refused until the window has passed, whether the password is right or not.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per (IP, login) within the window.
pub const MAX_FAILURES_PER_LOGIN: u32 = 5;
/// Failed attempts allowed per IP (all logins) within the window.
pub const MAX_FAILURES_PER_IP: u32 = 50;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

fn keys(ip: &str, login: &str) -> [String; 2] {
    [
        format!("{ip}\u{0}{}", login.trim().to_lowercase()),
        format!("{ip}\u{0}*"),
    ]
}

impl LoginLimiter {
    /// Whether another attempt is allowed now.
    pub fn allowed(&self, ip: &str, login: &str) -> bool {
        let Ok(mut map) = self.failures.lock() else {
            return false;
        };
        let now = Instant::now();
        map.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        let [per_login, per_ip] = keys(ip, login);
        map.get(&per_login)
            .is_none_or(|(n, _)| *n < MAX_FAILURES_PER_LOGIN)
            && map
                .get(&per_ip)
                .is_none_or(|(n, _)| *n < MAX_FAILURES_PER_IP)
    }

    pub fn record_failure(&self, ip: &str, login: &str) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        let now = Instant::now();
        for k in keys(ip, login) {
            let e = map.entry(k).or_insert((0, now));
            e.0 += 1;
        }
    }

    /// A successful login clears that login's count (not the IP's).
    pub fn record_success(&self, ip: &str, login: &str) {
        if let Ok(mut map) = self.failures.lock() {
            let [per_login, _] = keys(ip, login);
            map.remove(&per_login);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_login_and_ip() {
        let l = LoginLimiter::default();
        for _ in 0..MAX_FAILURES_PER_LOGIN {
            assert!(l.allowed("1.2.3.4", "Alice"));
            l.record_failure("1.2.3.4", "alice");
        }
        assert!(
            !l.allowed("1.2.3.4", "ALICE "),
            "case and spaces do not reset the count"
        );
        assert!(l.allowed("1.2.3.4", "bob"));
        assert!(l.allowed("5.6.7.8", "alice"));
        for i in 0..MAX_FAILURES_PER_IP {
            l.record_failure("9.9.9.9", &format!("user{i}"));
        }
        assert!(!l.allowed("9.9.9.9", "someone-new"));
    }
}
