//! Sign-in through the city's LDAP directory or Active Directory (issue #21).
//!
//! A sign-in: bind as the service account, find the user by the configured
//! filter under the base DN, collect the user's groups (`memberOf` and a group
//! search), bind as the user with the given password, refuse a disabled
//! account, map the first configured group the user is in to a citykpi role
//! and section, and create or update the local account (which has no local
//! password). Local accounts (with a password) never go to the directory, so
//! an administrator can sign in when the directory is down.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use citykpi_domain::org::{Role, User};
use citykpi_store::{Store, StoreError};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry, ldap_escape};

use crate::accounts::{AccountInput, checked};

/// The directory's settings (`CITYKPI_LDAP_*`).
#[derive(Debug, Clone)]
pub struct DirectoryConfig {
    /// `ldap://host:389`, `ldaps://host:636`.
    pub url: String,
    /// The service account that searches; empty: anonymous search.
    pub bind_dn: String,
    pub bind_password: String,
    pub base_dn: String,
    /// Finds the user; `{login}` is replaced by the escaped login name.
    pub user_filter: String,
    /// Finds the user's groups under the base DN; `{dn}` is the user's DN and
    /// `{login}` the login name (both escaped). Empty: `memberOf` only.
    pub group_filter: String,
    /// Directory group → role and section, the first match wins.
    pub group_map: Vec<GroupRule>,
    /// StartTLS on an `ldap://` connection.
    pub starttls: bool,
    /// PEM file of the CA that signed the directory's certificate (default:
    /// the system's CAs).
    pub ca_file: Option<PathBuf>,
    /// When an account counts as disabled.
    pub disabled: Vec<DisabledRule>,
    /// For connecting and for each whole sign-in.
    pub timeout: Duration,
}

/// One entry of the group map.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRule {
    pub group_dn: String,
    pub role: Role,
    pub section_code: String,
}

/// A rule that marks a directory account as disabled.
#[derive(Debug, Clone, PartialEq)]
pub enum DisabledRule {
    /// The integer attribute has one of these bits set (Active Directory's
    /// `userAccountControl:2`, ACCOUNTDISABLE).
    Bits { attr: String, mask: u64 },
    /// The attribute is present (OpenLDAP's `pwdAccountLockedTime`).
    Present(String),
    /// The user is in this group.
    Group(String),
}

pub const DEFAULT_USER_FILTER: &str = "(&(objectClass=inetOrgPerson)(uid={login}))";
pub const DEFAULT_GROUP_FILTER: &str = "(|(&(objectClass=groupOfNames)(member={dn}))(&(objectClass=groupOfUniqueNames)(uniqueMember={dn}))(&(objectClass=posixGroup)(memberUid={login})))";
pub const DEFAULT_DISABLED: &str = "userAccountControl:2;pwdAccountLockedTime";

/// Why the directory refused a sign-in. The user sees the local sign-in's
/// message for every one of them; the log and the audit name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownUser,
    /// More than one entry matched the filter.
    Ambiguous,
    WrongPassword,
    Disabled,
    /// In none of the mapped groups.
    NoMappedGroup,
    /// The local account was deactivated by an administrator.
    DeactivatedLocally,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::UnknownUser => "unknown_user",
            Refusal::Ambiguous => "ambiguous_user",
            Refusal::WrongPassword => "wrong_password",
            Refusal::Disabled => "disabled",
            Refusal::NoMappedGroup => "no_mapped_group",
            Refusal::DeactivatedLocally => "deactivated_locally",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SignIn {
    /// The local account as stored now.
    Accepted(User),
    Refused(Refusal),
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("{0}")]
    Config(String),
    #[error("ディレクトリ（LDAP）に接続できません / the directory (LDAP) cannot be reached: {0}")]
    Unreachable(String),
    #[error(
        "ディレクトリ（LDAP）がエラーを返しました / the directory (LDAP) answered with an error: {0}"
    )]
    Protocol(String),
    #[error("ディレクトリの割り当てが正しくありません / the directory's group map is wrong: {0}")]
    Mapping(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn config_error(var: &str, ja: &str, en: &str) -> DirectoryError {
    DirectoryError::Config(format!("{var}: {ja} / {en}"))
}

impl DirectoryConfig {
    /// The settings from the process environment; `None` when
    /// `CITYKPI_LDAP_URL` is not set.
    pub fn from_env() -> Result<Option<DirectoryConfig>, DirectoryError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The settings from `var` (an environment). A value that cannot be read
    /// is an error naming the variable, not a silent default.
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<DirectoryConfig>, DirectoryError> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let Some(url) = var("CITYKPI_LDAP_URL") else {
            return Ok(None);
        };
        let url = url.trim().to_string();
        if !(url.starts_with("ldap://") || url.starts_with("ldaps://")) {
            return Err(config_error(
                "CITYKPI_LDAP_URL",
                &format!("「{url}」は ldap:// か ldaps:// のURLではありません"),
                &format!("\"{url}\" is not an ldap:// or ldaps:// URL"),
            ));
        }
        let base_dn = var("CITYKPI_LDAP_BASE_DN").ok_or_else(|| {
            config_error(
                "CITYKPI_LDAP_BASE_DN",
                "検索の起点（例: dc=city,dc=example）を指定してください",
                "set the search base (e.g. dc=city,dc=example)",
            )
        })?;
        let user_filter =
            var("CITYKPI_LDAP_USER_FILTER").unwrap_or_else(|| DEFAULT_USER_FILTER.into());
        if !user_filter.contains("{login}") {
            return Err(config_error(
                "CITYKPI_LDAP_USER_FILTER",
                "フィルタに {login} がありません",
                "the filter has no {login}",
            ));
        }
        let group_map = parse_group_map(&var("CITYKPI_LDAP_GROUP_MAP").unwrap_or_default())?;
        let disabled = parse_disabled(
            &var("CITYKPI_LDAP_DISABLED").unwrap_or_else(|| DEFAULT_DISABLED.into()),
        )?;
        let starttls = match var("CITYKPI_LDAP_STARTTLS").as_deref().map(str::trim) {
            None | Some("0" | "false") => false,
            Some("1" | "true") => true,
            Some(v) => {
                return Err(config_error(
                    "CITYKPI_LDAP_STARTTLS",
                    &format!("「{v}」は 1/true か 0/false ではありません"),
                    &format!("\"{v}\" is not 1/true or 0/false"),
                ));
            }
        };
        if starttls && url.starts_with("ldaps://") {
            return Err(config_error(
                "CITYKPI_LDAP_STARTTLS",
                "ldaps:// では StartTLS は使えません",
                "StartTLS does not apply to ldaps://",
            ));
        }
        let timeout = match var("CITYKPI_LDAP_TIMEOUT_SECONDS") {
            None => Duration::from_secs(10),
            Some(v) => Duration::from_secs(
                v.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|s| (1..=120).contains(s))
                    .ok_or_else(|| {
                        config_error(
                            "CITYKPI_LDAP_TIMEOUT_SECONDS",
                            &format!("「{v}」は1〜120の秒数ではありません"),
                            &format!("\"{v}\" is not a number of seconds from 1 to 120"),
                        )
                    })?,
            ),
        };
        Ok(Some(DirectoryConfig {
            url,
            bind_dn: var("CITYKPI_LDAP_BIND_DN").unwrap_or_default(),
            bind_password: var("CITYKPI_LDAP_BIND_PASSWORD").unwrap_or_default(),
            base_dn,
            user_filter,
            group_filter: var("CITYKPI_LDAP_GROUP_FILTER")
                .unwrap_or_else(|| DEFAULT_GROUP_FILTER.into()),
            group_map,
            starttls,
            ca_file: var("CITYKPI_LDAP_CA_FILE").map(PathBuf::from),
            disabled,
            timeout,
        }))
    }

    /// The TLS mode as shown on the settings page.
    pub fn tls_mode(&self) -> &'static str {
        if self.url.starts_with("ldaps://") {
            "LDAPS"
        } else if self.starttls {
            "StartTLS"
        } else {
            "none"
        }
    }
}

/// `group DN=role:SECTION;…` — the DN itself has `=` in it, so the last `=`
/// separates it from the role.
pub fn parse_group_map(text: &str) -> Result<Vec<GroupRule>, DirectoryError> {
    let bad = |item: &str, ja: &str, en: &str| {
        config_error(
            "CITYKPI_LDAP_GROUP_MAP",
            &format!("「{item}」: {ja}"),
            &format!("\"{item}\": {en}"),
        )
    };
    let mut rules = Vec::new();
    for item in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((dn, target)) = item.rsplit_once('=') else {
            return Err(bad(
                item,
                "「グループDN=権限:課コード」の形ではありません",
                "not \"group DN=role:section code\"",
            ));
        };
        let (role, section) = target.split_once(':').unwrap_or((target, ""));
        let role = Role::parse(role.trim()).ok_or_else(|| {
            bad(
                item,
                &format!("権限「{role}」がありません（admin, strategy_office, finance, department_editor, viewer, executive）"),
                &format!("no role \"{role}\" (admin, strategy_office, finance, department_editor, viewer, executive)"),
            )
        })?;
        let (dn, section) = (dn.trim(), section.trim());
        if dn.is_empty() || section.is_empty() {
            return Err(bad(
                item,
                "グループDNと課コードが必要です",
                "a group DN and a section code are needed",
            ));
        }
        rules.push(GroupRule {
            group_dn: dn.to_string(),
            role,
            section_code: section.to_string(),
        });
    }
    Ok(rules)
}

/// `userAccountControl:2;pwdAccountLockedTime;group:cn=disabled,…`.
pub fn parse_disabled(text: &str) -> Result<Vec<DisabledRule>, DirectoryError> {
    let mut rules = Vec::new();
    for item in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(dn) = item.strip_prefix("group:") {
            rules.push(DisabledRule::Group(dn.trim().to_string()));
        } else if let Some((attr, mask)) = item.split_once(':') {
            let mask = mask
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|m| *m > 0)
                .ok_or_else(|| {
                    config_error(
                        "CITYKPI_LDAP_DISABLED",
                        &format!(
                            "「{item}」: 属性:ビット値（例 userAccountControl:2）ではありません"
                        ),
                        &format!("\"{item}\": not attribute:bits (e.g. userAccountControl:2)"),
                    )
                })?;
            rules.push(DisabledRule::Bits {
                attr: attr.trim().to_string(),
                mask,
            });
        } else {
            rules.push(DisabledRule::Present(item.to_string()));
        }
    }
    Ok(rules)
}

/// A DN compared the way directories do for our purpose: case and the
/// spaces around `,` and `=` do not count.
fn dn_key(dn: &str) -> String {
    dn.split(',')
        .map(|rdn| {
            rdn.split('=')
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("=")
                .to_lowercase()
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn protocol(e: ldap3::LdapError) -> DirectoryError {
    DirectoryError::Protocol(e.to_string())
}

async fn connect(cfg: &DirectoryConfig) -> Result<Ldap, DirectoryError> {
    let mut settings = LdapConnSettings::new()
        .set_conn_timeout(cfg.timeout)
        .set_starttls(cfg.starttls);
    if let Some(path) = &cfg.ca_file {
        settings = settings.set_config(Arc::new(tls_config(path)?));
    }
    let (conn, ldap) = LdapConnAsync::with_settings(settings, &cfg.url)
        .await
        .map_err(|e| DirectoryError::Unreachable(format!("{}: {e}", cfg.url)))?;
    ldap3::drive!(conn);
    Ok(ldap)
}

fn tls_config(path: &std::path::Path) -> Result<rustls::ClientConfig, DirectoryError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let bad = |e: &dyn std::fmt::Display| {
        config_error(
            "CITYKPI_LDAP_CA_FILE",
            &format!("{} を証明書（PEM）として読めません: {e}", path.display()),
            &format!("{} cannot be read as PEM certificates: {e}", path.display()),
        )
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
        roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
    }
    if roots.is_empty() {
        return Err(bad(&"no certificate"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(&e))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// What the directory says about one login, before the local account.
struct Found {
    dn: String,
    entry: SearchEntry,
    groups: Vec<String>,
}

/// LDAP result code 49: invalid credentials.
const INVALID_CREDENTIALS: u32 = 49;

/// The directory part of a sign-in, on one connection.
async fn ask(
    ldap: &mut Ldap,
    cfg: &DirectoryConfig,
    login: &str,
    password: &str,
) -> Result<Result<Found, Refusal>, DirectoryError> {
    if !cfg.bind_dn.is_empty() {
        ldap.simple_bind(&cfg.bind_dn, &cfg.bind_password)
            .await
            .map_err(protocol)?
            .success()
            .map_err(|e| {
                DirectoryError::Protocol(format!("service bind ({}): {e}", cfg.bind_dn))
            })?;
    }
    let filter = cfg.user_filter.replace("{login}", &ldap_escape(login));
    let mut attrs = vec!["cn", "displayName", "mail", "memberOf"];
    for rule in &cfg.disabled {
        match rule {
            DisabledRule::Bits { attr, .. } | DisabledRule::Present(attr) => attrs.push(attr),
            DisabledRule::Group(_) => {}
        }
    }
    let (entries, _) = ldap
        .search(&cfg.base_dn, Scope::Subtree, &filter, attrs)
        .await
        .map_err(protocol)?
        .success()
        .map_err(protocol)?;
    if entries.len() > 1 {
        return Ok(Err(Refusal::Ambiguous));
    }
    let Some(entry) = entries.into_iter().next() else {
        return Ok(Err(Refusal::UnknownUser));
    };
    let entry = SearchEntry::construct(entry);
    let dn = entry.dn.clone();
    let mut groups: Vec<String> = entry.attrs.get("memberOf").cloned().unwrap_or_default();
    if !cfg.group_filter.is_empty() {
        let filter = cfg
            .group_filter
            .replace("{dn}", &ldap_escape(dn.as_str()))
            .replace("{login}", &ldap_escape(login));
        let (found, _) = ldap
            .search(&cfg.base_dn, Scope::Subtree, &filter, vec!["1.1"])
            .await
            .map_err(protocol)?
            .success()
            .map_err(protocol)?;
        groups.extend(found.into_iter().map(|g| SearchEntry::construct(g).dn));
    }
    // The user's own bind proves the password. An empty password would be
    // an unauthenticated bind, which succeeds: never sent.
    if password.is_empty() {
        return Ok(Err(Refusal::WrongPassword));
    }
    let bound = ldap.simple_bind(&dn, password).await.map_err(protocol)?;
    if bound.rc == INVALID_CREDENTIALS {
        return Ok(Err(Refusal::WrongPassword));
    }
    bound.success().map_err(protocol)?;
    Ok(Ok(Found { dn, entry, groups }))
}

fn is_disabled(cfg: &DirectoryConfig, found: &Found) -> bool {
    let groups: Vec<String> = found.groups.iter().map(|g| dn_key(g)).collect();
    cfg.disabled.iter().any(|rule| match rule {
        DisabledRule::Bits { attr, mask } => found
            .entry
            .attrs
            .get(attr.as_str())
            .into_iter()
            .flatten()
            .any(|v| {
                v.trim()
                    .parse::<i64>()
                    .is_ok_and(|n| (n as u64) & mask != 0)
            }),
        DisabledRule::Present(attr) => found
            .entry
            .attrs
            .get(attr.as_str())
            .is_some_and(|v| !v.is_empty()),
        DisabledRule::Group(dn) => groups.contains(&dn_key(dn)),
    })
}

fn first_attr<'a>(entry: &'a SearchEntry, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .filter_map(|n| entry.attrs.get(*n))
        .flatten()
        .map(|v| v.trim())
        .find(|v| !v.is_empty())
}

/// Signs `login` in through the directory and creates or updates the local
/// account (one transaction with its audit row, only when something
/// changed). A login that has a local password is not asked here.
pub async fn sign_in(
    store: &Store,
    cfg: &DirectoryConfig,
    login: &str,
    password: &str,
) -> Result<SignIn, DirectoryError> {
    let login = login.trim();
    if login.is_empty() || login.chars().count() > 64 || password.is_empty() {
        return Ok(SignIn::Refused(Refusal::UnknownUser));
    }
    let asked = tokio::time::timeout(cfg.timeout, async {
        let mut ldap = connect(cfg).await?;
        let answer = ask(&mut ldap, cfg, login, password).await;
        let _ = ldap.unbind().await;
        answer
    })
    .await
    .map_err(|_| DirectoryError::Unreachable(format!("{}: timed out", cfg.url)))??;
    let found = match asked {
        Ok(f) => f,
        Err(r) => return Ok(SignIn::Refused(r)),
    };
    if is_disabled(cfg, &found) {
        return Ok(SignIn::Refused(Refusal::Disabled));
    }
    let groups: Vec<String> = found.groups.iter().map(|g| dn_key(g)).collect();
    let Some(rule) = cfg
        .group_map
        .iter()
        .find(|r| groups.contains(&dn_key(&r.group_dn)))
    else {
        return Ok(SignIn::Refused(Refusal::NoMappedGroup));
    };
    let before = store.user(login).await?;
    if before.as_ref().is_some_and(|u| !u.active) {
        return Ok(SignIn::Refused(Refusal::DeactivatedLocally));
    }
    let name: String = first_attr(&found.entry, &["displayName", "cn"])
        .unwrap_or(login)
        .chars()
        .take(100)
        .collect();
    let input = AccountInput {
        login: login.to_string(),
        display_name: name,
        email: first_attr(&found.entry, &["mail"])
            .unwrap_or_default()
            .to_string(),
        section_code: rule.section_code.clone(),
        role: rule.role.as_str().to_string(),
        active: true,
        password: String::new(),
    };
    let user = checked(store, &input)
        .await
        .map_err(|e| DirectoryError::Mapping(format!("{} ({}): {e}", found.dn, rule.group_dn)))?;
    let changed = before.as_ref().is_none_or(|b| {
        (&b.display_name, &b.email, &b.section_code, b.role)
            != (
                &user.display_name,
                &user.email,
                &user.section_code,
                user.role,
            )
    });
    if changed {
        store
            .save_user(&user, before.is_none(), &format!("ldap:{login}"))
            .await?;
    }
    Ok(SignIn::Accepted(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_map_and_disabled_rules_are_read() {
        let map = parse_group_map(
            "cn=kikaku,ou=groups,dc=city=strategy_office:KIKAKU; cn=admins,ou=groups,dc=city=admin:JOHO",
        )
        .unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map[0].group_dn, "cn=kikaku,ou=groups,dc=city");
        assert_eq!(map[0].role, Role::StrategyOffice);
        assert_eq!(map[0].section_code, "KIKAKU");
        assert_eq!(map[1].role, Role::Admin);
        let e = parse_group_map("cn=x,dc=city=boss:KIKAKU")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("CITYKPI_LDAP_GROUP_MAP") && e.contains("boss"),
            "{e}"
        );
        assert!(parse_group_map("cn=x,dc=city=admin").is_err());
        let d = parse_disabled("userAccountControl:2;pwdAccountLockedTime;group:cn=off,dc=city")
            .unwrap();
        assert_eq!(
            d,
            vec![
                DisabledRule::Bits {
                    attr: "userAccountControl".into(),
                    mask: 2
                },
                DisabledRule::Present("pwdAccountLockedTime".into()),
                DisabledRule::Group("cn=off,dc=city".into()),
            ]
        );
        assert!(parse_disabled("userAccountControl:x").is_err());
        assert_eq!(
            dn_key("CN=Kikaku, OU=Groups,DC=city"),
            "cn=kikaku,ou=groups,dc=city"
        );
    }

    #[test]
    fn settings_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(DirectoryConfig::from_vars(env(&[])).unwrap().is_none());
        let c = DirectoryConfig::from_vars(env(&[
            ("CITYKPI_LDAP_URL", "ldap://dir.city.example"),
            ("CITYKPI_LDAP_BASE_DN", "dc=city,dc=example"),
            ("CITYKPI_LDAP_STARTTLS", "true"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(c.user_filter, DEFAULT_USER_FILTER);
        assert_eq!(c.tls_mode(), "StartTLS");
        assert_eq!(c.disabled.len(), 2);
        for (bad, var) in [
            (&[("CITYKPI_LDAP_URL", "http://x")][..], "CITYKPI_LDAP_URL"),
            (
                &[("CITYKPI_LDAP_URL", "ldap://x")][..],
                "CITYKPI_LDAP_BASE_DN",
            ),
            (
                &[
                    ("CITYKPI_LDAP_URL", "ldap://x"),
                    ("CITYKPI_LDAP_BASE_DN", "dc=x"),
                    ("CITYKPI_LDAP_USER_FILTER", "(uid=admin)"),
                ][..],
                "CITYKPI_LDAP_USER_FILTER",
            ),
            (
                &[
                    ("CITYKPI_LDAP_URL", "ldaps://x"),
                    ("CITYKPI_LDAP_BASE_DN", "dc=x"),
                    ("CITYKPI_LDAP_STARTTLS", "1"),
                ][..],
                "CITYKPI_LDAP_STARTTLS",
            ),
        ] {
            let e = DirectoryConfig::from_vars(env(bad))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(var), "{e}");
        }
    }
}
