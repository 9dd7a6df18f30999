//! Password hashing with argon2id (the `argon2` crate's default algorithm).

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

use crate::AppError;

/// Minimum length of a password set by an administrator or a user.
pub const MIN_PASSWORD_LEN: usize = 10;

/// The most common passwords, lower case, one a line (source and licence:
/// `data/README.md`).
static COMMON: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| {
        include_str!("../data/common-passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    });

/// Why a new password is refused, if it is: shorter than
/// [`MIN_PASSWORD_LEN`], the login name or containing it, one character or a
/// short pattern repeated (`aaaaaaaaaa`, `abababababab`, `0123456789`), or a
/// common password, also with digits or symbols added before or after it
/// (`password12`). The message is bilingual and names the rule.
pub fn check_password(login: &str, password: &str) -> Result<(), AppError> {
    let refuse = |ja: &str, en: &str| Err(AppError::invalid("password", format!("{ja} / {en}")));
    let chars: Vec<char> = password.chars().collect();
    if chars.len() < MIN_PASSWORD_LEN {
        return refuse(
            &format!("パスワードは{MIN_PASSWORD_LEN}文字以上にしてください"),
            &format!("a password needs at least {MIN_PASSWORD_LEN} characters"),
        );
    }
    let lower = password.to_lowercase();
    let login = login.trim().to_lowercase();
    if login.chars().count() >= 3 && (lower.contains(&login) || login.contains(&lower)) {
        return refuse(
            "ログインIDを含むパスワードは使えません",
            "a password may not contain the login name",
        );
    }
    if trivially_repeated(&chars) {
        return refuse(
            "同じ文字や短い並びの繰り返し（aaaa…、abab…、1234…）は使えません",
            "a password may not be one character or a short pattern repeated (aaaa…, abab…, 1234…)",
        );
    }
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    if COMMON.contains(lower.as_str()) || (core.chars().count() >= 4 && COMMON.contains(core)) {
        return refuse(
            "よく使われるパスワード（それに数字や記号を足しただけのものを含む）は使えません",
            "a common password (or one with only digits or symbols added) cannot be used",
        );
    }
    Ok(())
}

/// Fewer than four different characters, a unit repeated, or one run up or
/// down the alphabet or the digits.
fn trivially_repeated(chars: &[char]) -> bool {
    let lower: Vec<char> = chars.iter().flat_map(|c| c.to_lowercase()).collect();
    let mut distinct = lower.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 4 {
        return true;
    }
    let n = lower.len();
    let repeated = (1..=n / 2)
        .filter(|p| n.is_multiple_of(*p))
        .any(|p| lower.chunks(p).all(|c| c == &lower[..p]));
    let step = |d: i64| lower.windows(2).all(|w| w[1] as i64 - w[0] as i64 == d);
    repeated || step(1) || step(-1)
}

/// Checks a new password for `login` against [`check_password`] and hashes it.
pub fn hash_new_password(login: &str, password: &str) -> Result<String, AppError> {
    check_password(login, password)?;
    hash_password(password)
}

pub fn hash_password(password: &str) -> Result<String, AppError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::invalid(
            "password",
            format!(
                "パスワードは{MIN_PASSWORD_LEN}文字以上にしてください / a password needs at least {MIN_PASSWORD_LEN} characters"
            ),
        ));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::invalid("password", e.to_string()))
}

/// True when `password` matches the stored PHC string. A malformed stored hash
/// never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn weak_passwords_are_refused_with_the_reason() {
        let reason = |login: &str, pw: &str| {
            check_password(login, pw)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        // The demo's documented password stays valid.
        assert!(check_password("admin", "citykpi-demo").is_ok());
        assert!(check_password("tanaka", "Kamo-river 2026 spring").is_ok());
        assert!(reason("admin", "short").contains("10"));
        for (login, pw) in [
            ("suzuki.ichiro", "suzuki.ichiro"),
            ("suzuki.ichiro", "SUZUKI.ICHIRO2026"),
            ("admin", "xadminxadminx"),
        ] {
            assert!(reason(login, pw).contains("login name"), "{pw}");
        }
        for pw in [
            "aaaaaaaaaa",
            "abababababab",
            "0123456789",
            "9876543210",
            "abcdefghijk",
            "aabbaabbaabb",
            "zzzzzzzzzz1",
        ] {
            assert!(reason("u1", pw).contains("repeated"), "{pw}");
        }
        for pw in [
            "password12",
            "Password123!",
            "qwertyuiop",
            "qwerty123456",
            "!!sunshine!!",
            "football2024",
        ] {
            assert!(
                reason("u1", pw).contains("common"),
                "{pw}: {}",
                reason("u1", pw)
            );
        }
        assert!(reason("u1", "password12").contains("よく使われる"));
        assert!(COMMON.len() >= 9_000);
        assert!(hash_new_password("u1", "password12").is_err());
        assert!(hash_new_password("u1", "citykpi-demo").is_ok());
    }
}
