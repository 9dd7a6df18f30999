//! E-mail notices of due work, optional and off by default: when
//! an administrator has configured and enabled the city's SMTP server, the
//! same notices the dashboard shows (`CycleYear::notices`) are mailed to the
//! users who owe the work — department editors for their department's
//! sections, the strategy office, finance — at most once per user, cycle year
//! and stage (`notice_mails`). Every send is in the audit log; a recipient
//! the server refuses is reported and the others are still sent.
//!
//! The settings live in the database (the admin page writes them) and each
//! one not set there can come from the environment (`CITYKPI_SMTP_HOST` …),
//! for a server configured by its operators. The password is stored for the
//! SMTP login and never shown or logged.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::Duration;

use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::{FieldError, Owed, Stage};
use citykpi_domain::org::Role;
use citykpi_store::{AuditRecord, Store};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;

use crate::AppError;
use crate::cycle::{CycleServiceError, CycleYear, Notice, NoticeScope};

/// Settings keys of the SMTP server.
pub mod keys {
    pub const ENABLED: &str = "smtp_enabled";
    pub const HOST: &str = "smtp_host";
    pub const PORT: &str = "smtp_port";
    pub const TLS: &str = "smtp_tls";
    pub const FROM: &str = "smtp_from";
    pub const USER: &str = "smtp_user";
    pub const PASSWORD: &str = "smtp_password";
    pub const ALL: [&str; 7] = [ENABLED, HOST, PORT, TLS, FROM, USER, PASSWORD];
}

/// The environment variable that stands in for a setting the database does
/// not have (`smtp_host` → `CITYKPI_SMTP_HOST`).
pub fn env_name(key: &str) -> String {
    format!("CITYKPI_{}", key.to_ascii_uppercase())
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain SMTP (a relay inside the city's network).
    None,
    /// Plain connection upgraded with STARTTLS (refused if the server cannot).
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

impl TlsMode {
    pub const ALL: [TlsMode; 3] = [TlsMode::None, TlsMode::Starttls, TlsMode::Tls];

    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::None => "none",
            TlsMode::Starttls => "starttls",
            TlsMode::Tls => "tls",
        }
    }
    pub fn parse(s: &str) -> Option<TlsMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "" => Some(TlsMode::None),
            "starttls" => Some(TlsMode::Starttls),
            "tls" | "smtps" => Some(TlsMode::Tls),
            _ => None,
        }
    }
    /// The usual port: 25, 587 (submission) or 465 (submissions).
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::None => 25,
            TlsMode::Starttls => 587,
            TlsMode::Tls => 465,
        }
    }
}

/// A password that never shows in `Debug` output or JSON.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// The SMTP server's settings in force.
#[derive(Debug, Clone, Serialize)]
pub struct SmtpSettings {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// The sender, e.g. `citykpi <kpi@city.example.lg.jp>`.
    pub from: String,
    pub user: String,
    #[serde(skip)]
    password: Secret,
    /// A password is stored (it is never shown back).
    pub password_set: bool,
    /// The settings taken from the environment rather than the database.
    pub from_env: Vec<&'static str>,
}

/// What the notice services fail with.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Cycle(#[from] CycleServiceError),
    /// Settings that cannot be used, each with its field.
    #[error("{}", .0.iter().map(|e| format!("{}: {} / {}", e.field, e.ja, e.en)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error(
        "メール通知は無効です（管理画面の「メール通知の設定」で有効にしてください） / e-mail notices are off (turn them on in the admin page's mail settings)"
    )]
    Disabled,
    #[error(
        "{}の進行管理サイクルは始まっていないか締め切られています。通知する作業はありません / the cycle of {} is not running: there is no work to notify",
        fy.label_ja(), fy.label_en()
    )]
    NotRunning { fy: FiscalYear },
    #[error("SMTPサーバーに接続できません / cannot set up the SMTP connection: {0}")]
    Transport(String),
}

impl From<citykpi_store::StoreError> for NotifyError {
    fn from(e: citykpi_store::StoreError) -> Self {
        NotifyError::App(AppError::Store(e))
    }
}

impl NotifyError {
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            NotifyError::Invalid(v) => v,
            _ => &[],
        }
    }
}

pub type NotifyResult<T> = Result<T, NotifyError>;

fn invalid(field: &str, ja: impl Into<String>, en: impl Into<String>) -> FieldError {
    FieldError::new(field, ja, en)
}

fn parse_port(field: &str, raw: &str, tls: TlsMode) -> Result<u16, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(tls.default_port());
    }
    match raw.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
        _ => Err(invalid(
            field,
            format!("ポート番号「{raw}」は1〜65535の整数で入力してください"),
            format!("the port \"{raw}\" must be a whole number from 1 to 65535"),
        )),
    }
}

fn check_host(field: &str, host: &str, required: bool) -> Option<FieldError> {
    if host.is_empty() {
        return required.then(|| {
            invalid(
                field,
                "メール通知を有効にするにはSMTPサーバー名が必要です",
                "the SMTP server's host name is needed to turn notices on",
            )
        });
    }
    let ok = host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'));
    (!ok).then(|| {
        invalid(
            field,
            format!("SMTPサーバー名「{host}」には英数字・ピリオド・ハイフンだけが使えます"),
            format!("the SMTP host \"{host}\" may contain only letters, digits, dots and hyphens"),
        )
    })
}

fn check_from(field: &str, from: &str, required: bool) -> Option<FieldError> {
    if from.is_empty() {
        return required.then(|| {
            invalid(
                field,
                "メール通知を有効にするには送信元アドレスが必要です",
                "a sender address is needed to turn notices on",
            )
        });
    }
    from.parse::<Mailbox>().err().map(|_| {
        invalid(
            field,
            format!(
                "送信元「{from}」はメールアドレスとして読めません（例: kpi@city.example.lg.jp）"
            ),
            format!("the sender \"{from}\" is not an e-mail address (e.g. kpi@city.example.lg.jp)"),
        )
    })
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

fn truthy(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

impl SmtpSettings {
    /// The settings from stored values (`stored`) with the environment
    /// (`env`) standing in for each one not stored. Values from the
    /// environment are checked here, naming the variable.
    pub fn resolve(
        stored: &HashMap<String, String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> NotifyResult<SmtpSettings> {
        let mut from_env = Vec::new();
        let mut get = |key: &'static str| -> (String, String) {
            match stored.get(key) {
                Some(v) => (v.clone(), key.to_string()),
                None => match env(&env_name(key)).filter(|v| !v.trim().is_empty()) {
                    Some(v) => {
                        from_env.push(key);
                        (v, env_name(key))
                    }
                    None => (String::new(), key.to_string()),
                },
            }
        };
        let (enabled, _) = get(keys::ENABLED);
        let (host, host_field) = get(keys::HOST);
        let (port, port_field) = get(keys::PORT);
        let (tls, tls_field) = get(keys::TLS);
        let (from, from_field) = get(keys::FROM);
        let (user, _) = get(keys::USER);
        let (password, _) = get(keys::PASSWORD);
        let enabled = truthy(&enabled);
        let mut errors = Vec::new();
        let tls = TlsMode::parse(&tls).unwrap_or_else(|| {
            errors.push(invalid(
                &tls_field,
                format!("暗号化「{tls}」は none / starttls / tls のいずれかです"),
                format!("the TLS mode \"{tls}\" must be none, starttls or tls"),
            ));
            TlsMode::None
        });
        let port = parse_port(&port_field, &port, tls).unwrap_or_else(|e| {
            errors.push(e);
            tls.default_port()
        });
        let host = host.trim().to_string();
        let from = from.trim().to_string();
        errors.extend(check_host(&host_field, &host, enabled));
        errors.extend(check_from(&from_field, &from, enabled));
        if !errors.is_empty() {
            return Err(NotifyError::Invalid(errors));
        }
        Ok(SmtpSettings {
            enabled,
            host,
            port,
            tls,
            from,
            user: user.trim().to_string(),
            password_set: !password.is_empty(),
            password: Secret(password),
            from_env,
        })
    }

    /// The settings in force: the database's, the environment for the rest.
    pub async fn load(store: &Store) -> NotifyResult<SmtpSettings> {
        let mut stored = HashMap::new();
        for key in keys::ALL {
            if let Some(v) = store.get_setting(key).await? {
                stored.insert(key.to_string(), v);
            }
        }
        SmtpSettings::resolve(&stored, |name| std::env::var(name).ok())
    }

    fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "enabled": self.enabled,
            "host": self.host,
            "port": self.port,
            "tls": self.tls.as_str(),
            "from": self.from,
            "user": self.user,
            "password_set": self.password_set,
        })
    }

    /// The connection to the server these settings describe.
    fn transport(&self) -> NotifyResult<AsyncSmtpTransport<Tokio1Executor>> {
        let builder = match self.tls {
            TlsMode::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host),
            TlsMode::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&self.host)
                .map_err(|e| NotifyError::Transport(e.to_string()))?,
            TlsMode::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&self.host)
                .map_err(|e| NotifyError::Transport(e.to_string()))?,
        };
        let mut builder = builder
            .port(self.port)
            .timeout(Some(Duration::from_secs(30)));
        if !self.user.is_empty() {
            builder =
                builder.credentials(Credentials::new(self.user.clone(), self.password.0.clone()));
        }
        Ok(builder.build())
    }
}

/// The admin form's values (text as typed).
#[derive(Debug, Clone, Default)]
pub struct SmtpForm {
    pub enabled: bool,
    pub host: String,
    pub port: String,
    pub tls: String,
    pub from: String,
    pub user: String,
    /// A new password; empty keeps the stored one.
    pub password: String,
    /// Remove the stored password.
    pub clear_password: bool,
}

/// Checks and stores the SMTP settings with one audit row (the password
/// only as "set"), in one transaction. Every refused field is named.
pub async fn save_smtp_settings(
    store: &Store,
    actor: &str,
    form: &SmtpForm,
) -> NotifyResult<SmtpSettings> {
    let before = SmtpSettings::load(store).await.ok();
    let stored_password = store.get_setting(keys::PASSWORD).await?.unwrap_or_default();
    let mut errors = Vec::new();
    let tls = TlsMode::parse(&form.tls).unwrap_or_else(|| {
        errors.push(invalid(
            "tls",
            "暗号化は「なし」「STARTTLS」「TLS」から選んでください",
            "choose the TLS mode: none, STARTTLS or TLS",
        ));
        TlsMode::None
    });
    let port = parse_port("port", &form.port, tls).unwrap_or_else(|e| {
        errors.push(e);
        tls.default_port()
    });
    let host = form.host.trim();
    let from = form.from.trim();
    let user = form.user.trim();
    errors.extend(check_host("host", host, form.enabled));
    errors.extend(check_from("from", from, form.enabled));
    if user.len() > 256 || has_control(user) {
        errors.push(invalid(
            "user",
            "ユーザー名は256文字以内で、制御文字は使えません",
            "the user name must be at most 256 characters without control characters",
        ));
    }
    if form.password.len() > 1024 || has_control(&form.password) {
        errors.push(invalid(
            "password",
            "パスワードは1024文字以内で、制御文字は使えません",
            "the password must be at most 1024 characters without control characters",
        ));
    }
    let password = if form.clear_password {
        String::new()
    } else if form.password.is_empty() {
        stored_password
    } else {
        form.password.clone()
    };
    if form.enabled && !user.is_empty() && password.is_empty() {
        errors.push(invalid(
            "password",
            "ユーザー名を指定したときはパスワードも必要です",
            "a password is needed with a user name",
        ));
    }
    if !errors.is_empty() {
        return Err(NotifyError::Invalid(errors));
    }
    let enabled = if form.enabled { "1" } else { "0" };
    let port_text = port.to_string();
    let password_change = if form.clear_password {
        "cleared"
    } else if form.password.is_empty() {
        "unchanged"
    } else {
        "set"
    };
    let after = serde_json::json!({
        "enabled": form.enabled,
        "host": host,
        "port": port,
        "tls": tls.as_str(),
        "from": from,
        "user": user,
        "password": password_change,
    });
    let values: Vec<(&str, Option<&str>)> = vec![
        (keys::ENABLED, Some(enabled)),
        (keys::HOST, Some(host)),
        (keys::PORT, Some(port_text.as_str())),
        (keys::TLS, Some(tls.as_str())),
        (keys::FROM, Some(from)),
        (keys::USER, Some(user)),
        (
            keys::PASSWORD,
            (!password.is_empty()).then_some(password.as_str()),
        ),
    ];
    store
        .set_settings(
            &values,
            &AuditRecord {
                actor,
                action: "update",
                entity: "smtp_settings",
                key: "smtp",
                before: before.map(|b| b.audit_json()),
                after: Some(after),
            },
        )
        .await?;
    SmtpSettings::load(store).await
}

// ----- mailing the notices -----

/// What happened to one recipient's mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// Would be sent (a dry run).
    Planned,
    Sent,
    Failed {
        error: String,
    },
}

/// One recipient's mail: the notices not mailed to them before.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub notices: Vec<Notice>,
    pub subject: String,
    #[serde(skip)]
    pub body: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The result of a notification run.
#[derive(Debug, Clone, Serialize)]
pub struct NotifyReport {
    pub fy: FiscalYear,
    pub dry_run: bool,
    /// Mail is turned on in the settings.
    pub enabled: bool,
    pub deliveries: Vec<Delivery>,
    /// Users who owe work but have no e-mail address.
    pub without_email: Vec<String>,
    /// Users whose due work was all mailed before (once per stage).
    pub already_sent: Vec<String>,
}

impl NotifyReport {
    pub fn sent(&self) -> usize {
        self.deliveries
            .iter()
            .filter(|d| d.outcome == Outcome::Sent)
            .count()
    }
    pub fn failed(&self) -> usize {
        self.deliveries
            .iter()
            .filter(|d| matches!(d.outcome, Outcome::Failed { .. }))
            .count()
    }
}

/// The owed items behind a notice for `scope` (the notice's stage was
/// already chosen for the scope; this lists what is in it).
fn items_of<'a>(year: &'a CycleYear, scope: NoticeScope<'_>, stage: Stage) -> Vec<&'a Owed> {
    year.status
        .owed
        .iter()
        .filter(|o| o.stage == stage)
        .filter(|o| match scope {
            NoticeScope::Department(d) => o.department_code.as_deref() == Some(d),
            NoticeScope::StrategyOffice | NoticeScope::Finance => o.section_code.is_none(),
        })
        .collect()
}

/// At most this many owed items are listed per stage in a mail.
const ITEMS_PER_STAGE: usize = 30;

fn subject(fy: FiscalYear, count: usize) -> String {
    format!(
        "【citykpi】{}の進行管理: 期限のある作業 {count}件 / Work due in the {} cycle",
        fy.label_ja(),
        fy.label_en()
    )
}

fn body(
    fy: FiscalYear,
    name: &str,
    notices: &[Notice],
    year: &CycleYear,
    scope: NoticeScope<'_>,
) -> String {
    let mut ja = format!(
        "{name} 様\n\n{}の進行管理サイクルで、ご担当の作業に未了のものがあります。\ncitykpi の「進行管理サイクル」の画面でご確認ください。\n",
        fy.label_ja()
    );
    let mut en = format!(
        "Dear {name},\n\nWork you answer for is due in the management cycle of {}.\nPlease see the cycle's page in citykpi.\n",
        fy.label_en()
    );
    for n in notices {
        let deadline_ja = match (n.deadline, n.overdue) {
            (Some(d), true) => format!("、締切 {d}（期限切れ）"),
            (Some(d), false) => format!("、締切 {d}"),
            (None, _) => String::new(),
        };
        let deadline_en = match (n.deadline, n.overdue) {
            (Some(d), true) => format!(", deadline {d} (overdue)"),
            (Some(d), false) => format!(", deadline {d}"),
            (None, _) => String::new(),
        };
        ja.push_str(&format!(
            "\n■ 第{}段階 {}: {}件{deadline_ja}\n",
            n.stage_number, n.label_ja, n.count
        ));
        en.push_str(&format!(
            "\n* Stage {} {}: {} item(s){deadline_en}\n",
            n.stage_number, n.label_en, n.count
        ));
        let items = items_of(year, scope, n.stage);
        for o in items.iter().take(ITEMS_PER_STAGE) {
            ja.push_str(&format!("  ・{}\n", o.item.describe_ja()));
            en.push_str(&format!("  - {}\n", o.item.describe_en()));
        }
        if items.len() > ITEMS_PER_STAGE {
            let more = items.len() - ITEMS_PER_STAGE;
            ja.push_str(&format!("  ・ほか {more}件\n"));
            en.push_str(&format!("  - and {more} more\n"));
        }
    }
    format!(
        "{ja}\n--------------------------------\n\n{en}\n--\nこのメールは citykpi が自動で送信しています。 / This mail was sent by citykpi.\n"
    )
}

fn message(from: &Mailbox, to: Mailbox, subject: &str, body: String) -> Result<Message, String> {
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .header(ContentTransferEncoding::Base64)
                .body(body),
        )
        .map_err(|e| e.to_string())
}

/// Mails the due-work notices of the cycle of `fy` to the users who owe the
/// work and have not had a mail for that stage yet. With `dry_run` nothing
/// is sent or recorded: the report says who would get what (also while mail
/// is off). Without `dry_run`, mail must be enabled.
pub async fn notify(
    store: &Store,
    actor: &str,
    fy: FiscalYear,
    dry_run: bool,
) -> NotifyResult<NotifyReport> {
    let settings = SmtpSettings::load(store).await?;
    if !dry_run && !settings.enabled {
        return Err(NotifyError::Disabled);
    }
    let year = CycleYear::load(store, fy).await?;
    if !year.status.started || year.status.state == "closed" {
        return Err(NotifyError::NotRunning { fy });
    }
    let today = crate::cycle::today();
    let users = store.users().await?;
    let sections = store.sections().await?;
    let dept_of: HashMap<&str, &str> = sections
        .iter()
        .map(|s| (s.code.as_str(), s.department_code.as_str()))
        .collect();
    let sent: HashSet<(String, String)> = store
        .notice_mails(fy)
        .await?
        .into_iter()
        .map(|s| (s.login, s.stage))
        .collect();
    let mut report = NotifyReport {
        fy,
        dry_run,
        enabled: settings.enabled,
        deliveries: Vec::new(),
        without_email: Vec::new(),
        already_sent: Vec::new(),
    };
    let mut planned: Vec<(Delivery, Mailbox)> = Vec::new();
    for u in users.iter().filter(|u| u.active) {
        let scope = match u.role {
            Role::DepartmentEditor => match dept_of.get(u.section_code.as_str()) {
                Some(d) if !d.is_empty() => NoticeScope::Department(d),
                _ => continue,
            },
            Role::StrategyOffice => NoticeScope::StrategyOffice,
            Role::Finance => NoticeScope::Finance,
            // Administrators run the system and viewers owe nothing.
            Role::Admin | Role::Viewer | Role::Executive => continue,
        };
        let notices: Vec<Notice> = year
            .notices(scope, today)
            .into_iter()
            .filter(|n| !sent.contains(&(u.login.clone(), n.stage.as_str().to_string())))
            .collect();
        if notices.is_empty() {
            if !year.notices(scope, today).is_empty() {
                report.already_sent.push(u.login.clone());
            }
            continue;
        }
        let email = u.email.as_deref().map(str::trim).unwrap_or("");
        let Ok(mailbox) = format!("{} <{email}>", u.display_name.replace(['<', '>', '"'], ""))
            .parse::<Mailbox>()
            .or_else(|_| email.parse::<Mailbox>())
        else {
            report.without_email.push(u.login.clone());
            continue;
        };
        let count = notices.iter().map(|n| n.count).sum();
        let delivery = Delivery {
            login: u.login.clone(),
            display_name: u.display_name.clone(),
            email: email.to_string(),
            subject: subject(fy, count),
            body: body(fy, &u.display_name, &notices, &year, scope),
            notices,
            outcome: Outcome::Planned,
        };
        planned.push((delivery, mailbox));
    }
    if dry_run {
        report.deliveries = planned.into_iter().map(|(d, _)| d).collect();
        return Ok(report);
    }
    let from = settings.from.parse::<Mailbox>().map_err(|_| {
        NotifyError::Invalid(vec![invalid(
            "from",
            "送信元アドレスが読めません",
            "the sender address cannot be read",
        )])
    })?;
    let transport = settings.transport()?;
    for (mut d, to) in planned {
        let stages: Vec<&str> = d.notices.iter().map(|n| n.stage.as_str()).collect();
        let result = match message(&from, to, &d.subject, d.body.clone()) {
            Ok(m) => transport.send(m).await.map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        let details = serde_json::json!({
            "fy": fy.year(),
            "stages": stages,
            "email": d.email,
            "subject": d.subject,
        });
        d.outcome = match result {
            Ok(_) => {
                match store
                    .record_notice_mail(actor, fy, &stages, &d.login, &d.email, details)
                    .await
                {
                    Ok(()) => Outcome::Sent,
                    Err(e) => Outcome::Failed {
                        error: format!(
                            "送信しましたが記録できませんでした / sent but not recorded: {e}"
                        ),
                    },
                }
            }
            Err(error) => {
                tracing::warn!(login = %d.login, %error, "notice mail refused");
                let mut details = details;
                details["error"] = serde_json::Value::String(error.clone());
                // The failure is logged too; a failing log does not stop the others.
                let _ = store
                    .record_audit(&AuditRecord {
                        actor,
                        action: "notice_mail_failed",
                        entity: "user",
                        key: &d.login,
                        before: None,
                        after: Some(details),
                    })
                    .await;
                Outcome::Failed { error }
            }
        };
        report.deliveries.push(d);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn off_by_default() {
        let s = SmtpSettings::resolve(&HashMap::new(), |_| None).unwrap();
        assert!(!s.enabled);
        assert_eq!(s.tls, TlsMode::None);
        assert_eq!(s.port, 25);
    }

    #[test]
    fn environment_fills_what_the_database_lacks() {
        let db = stored(&[(keys::HOST, "mail.city.example.jp")]);
        let s = SmtpSettings::resolve(&db, |name| match name {
            "CITYKPI_SMTP_HOST" => Some("ignored.example.jp".into()),
            "CITYKPI_SMTP_TLS" => Some("starttls".into()),
            "CITYKPI_SMTP_ENABLED" => Some("1".into()),
            "CITYKPI_SMTP_FROM" => Some("kpi@city.example.jp".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.host, "mail.city.example.jp");
        assert_eq!(s.tls, TlsMode::Starttls);
        assert_eq!(s.port, 587);
        assert!(s.enabled);
        assert!(s.from_env.contains(&keys::TLS));
        assert!(!s.from_env.contains(&keys::HOST));
    }

    #[test]
    fn bad_environment_names_the_variable() {
        let err = SmtpSettings::resolve(&HashMap::new(), |name| {
            (name == "CITYKPI_SMTP_PORT").then(|| "70000".to_string())
        })
        .unwrap_err();
        assert_eq!(err.field_errors()[0].field, "CITYKPI_SMTP_PORT");
    }

    #[test]
    fn password_is_not_in_debug_or_json() {
        let db = stored(&[(keys::PASSWORD, "hunter2"), (keys::USER, "kpi")]);
        let s = SmtpSettings::resolve(&db, |_| None).unwrap();
        assert!(s.password_set);
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!serde_json::to_string(&s).unwrap().contains("hunter2"));
    }
}
