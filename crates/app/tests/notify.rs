//! E-mail notices of due work over a real SMTP conversation, on SQLite and
//! PostgreSQL. A small SMTP server on 127.0.0.1 inside the test stands for
//! the city's mail server (an outside system): it records every message and
//! refuses one recipient. Checked: nothing is sent while mail is off; once
//! on, each user who owes work gets one mail with the due items of their own
//! scope; the refused recipient is reported and the others are still sent;
//! a stage is mailed once per user; every send is in the audit log; the
//! settings are checked field by field and the password never shown.

mod common;

use common::Db;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use base64::Engine;
use citykpi_app::cycle::{CycleYear, NoticeScope};
use citykpi_app::notify::{
    NotifyError, Outcome, SmtpForm, SmtpSettings, keys, notify, save_smtp_settings,
};
use citykpi_domain::FiscalYear;
use citykpi_domain::org::Role;
use citykpi_store::Store;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

// ----- the SMTP server standing in for the city's -----

#[derive(Debug, Clone)]
struct Mail {
    rcpts: Vec<String>,
    data: String,
}

#[derive(Clone, Default)]
struct Sink {
    mails: Arc<Mutex<Vec<Mail>>>,
    refused: Arc<Mutex<Vec<String>>>,
}

impl Sink {
    /// Listens on 127.0.0.1 and refuses `refuse` at RCPT TO; returns the port.
    async fn start(refuse: Vec<String>) -> (Sink, u16) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sink = Sink::default();
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let s = s.clone();
                let refuse = refuse.clone();
                tokio::spawn(async move {
                    let _ = s.session(stream, &refuse).await;
                });
            }
        });
        (sink, port)
    }

    async fn session(
        &self,
        stream: tokio::net::TcpStream,
        refuse: &[String],
    ) -> std::io::Result<()> {
        let (r, mut w) = stream.into_split();
        let mut r = BufReader::new(r);
        w.write_all(b"220 sink.test ESMTP\r\n").await?;
        let mut rcpts = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let cmd = line.trim_end().to_string();
            let upper = cmd.to_ascii_uppercase();
            if upper.starts_with("EHLO") {
                w.write_all(b"250-sink.test\r\n250 8BITMIME\r\n").await?;
            } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                w.write_all(b"250 OK\r\n").await?;
            } else if upper.starts_with("MAIL FROM:") {
                rcpts.clear();
                w.write_all(b"250 2.1.0 OK\r\n").await?;
            } else if upper.starts_with("RCPT TO:") {
                let addr = cmd["RCPT TO:".len()..]
                    .trim()
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap_or("")
                    .to_string();
                if refuse.contains(&addr) {
                    self.refused.lock().unwrap().push(addr.clone());
                    w.write_all(
                        format!("550 5.1.1 <{addr}>: Recipient address rejected: User unknown\r\n")
                            .as_bytes(),
                    )
                    .await?;
                } else {
                    rcpts.push(addr);
                    w.write_all(b"250 2.1.5 OK\r\n").await?;
                }
            } else if upper == "DATA" {
                w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                self.mails.lock().unwrap().push(Mail {
                    rcpts: std::mem::take(&mut rcpts),
                    data,
                });
                w.write_all(b"250 2.0.0 OK: queued\r\n").await?;
            } else if upper.starts_with("RSET") {
                rcpts.clear();
                w.write_all(b"250 OK\r\n").await?;
            } else if upper.starts_with("QUIT") {
                w.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            } else {
                w.write_all(b"502 5.5.2 command not recognized\r\n").await?;
            }
        }
    }

    fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

// ----- reading the messages back -----

/// The headers (unfolded) and the decoded body of a message.
fn parse(data: &str) -> (HashMap<String, String>, String) {
    let data = data.replace("\r\n", "\n");
    let (head, body) = data.split_once("\n\n").unwrap_or((&data, ""));
    let mut headers: HashMap<String, String> = HashMap::new();
    let mut last = String::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(v) = headers.get_mut(&last) {
                v.push_str(line.trim_start());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            last = k.trim().to_ascii_lowercase();
            headers.insert(last.clone(), v.trim().to_string());
        }
    }
    let encoding = headers
        .get("content-transfer-encoding")
        .cloned()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let text = if encoding == "base64" {
        let joined: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(joined)
                .expect("base64 body"),
        )
        .expect("UTF-8 body")
    } else {
        body.to_string()
    };
    (headers, text)
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`).
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        if !(after_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        let word = &rest[start + 2..];
        let mut parts = word.splitn(3, '?');
        let (_charset, enc, tail) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let end = tail.find("?=").expect("closed encoded word");
        let payload = &tail[..end];
        let bytes = if enc.eq_ignore_ascii_case("b") {
            base64::engine::general_purpose::STANDARD
                .decode(payload)
                .expect("base64 word")
        } else {
            let mut b = Vec::new();
            let mut chars = payload.bytes();
            while let Some(c) = chars.next() {
                match c {
                    b'_' => b.push(b' '),
                    b'=' => {
                        let h: String =
                            [chars.next().unwrap_or(b'0'), chars.next().unwrap_or(b'0')]
                                .iter()
                                .map(|c| *c as char)
                                .collect();
                        b.push(u8::from_str_radix(&h, 16).unwrap_or(b'?'));
                    }
                    c => b.push(c),
                }
            }
            b
        };
        out.push_str(&String::from_utf8(bytes).expect("UTF-8 word"));
        rest = &tail[end + 2..];
        after_word = true;
    }
    out.push_str(rest);
    out
}

/// The running cycle of the demo city.
async fn running_cycle(store: &Store) -> FiscalYear {
    store
        .cycles()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.state.as_str() != "closed")
        .expect("the demo city has a cycle in progress")
        .fy
}

/// Who owes work in `year` (login → e-mail), computed from the records the
/// way the dashboard's notices are: by role and department.
async fn owing(store: &Store, year: &CycleYear) -> HashMap<String, String> {
    let sections = store.sections().await.unwrap();
    let today = citykpi_app::cycle::today();
    let mut out = HashMap::new();
    for u in store.users().await.unwrap() {
        if !u.active {
            continue;
        }
        let dept = sections
            .iter()
            .find(|s| s.code == u.section_code)
            .map(|s| s.department_code.clone())
            .unwrap_or_default();
        let scope = match u.role {
            Role::DepartmentEditor => NoticeScope::Department(&dept),
            Role::StrategyOffice => NoticeScope::StrategyOffice,
            Role::Finance => NoticeScope::Finance,
            Role::Admin | Role::Viewer | Role::Executive => continue,
        };
        if !year.notices(scope, today).is_empty()
            && let Some(e) = u.email.clone()
        {
            out.insert(u.login.clone(), e);
        }
    }
    out
}

fn form(port: u16, enabled: bool) -> SmtpForm {
    SmtpForm {
        enabled,
        host: "127.0.0.1".into(),
        port: port.to_string(),
        tls: "none".into(),
        from: "citykpi <kpi@city.example.jp>".into(),
        user: String::new(),
        password: String::new(),
        clear_password: false,
    }
}

async fn audit_count(store: &Store, action: &str) -> usize {
    store
        .audit_entries(100_000, 0)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == action)
        .count()
}

async fn notices_by_mail(postgres: bool) {
    let db = Db::open(postgres).await;
    let store = &db.store;
    citykpi_app::demo::build_demo(store, 1, 42, citykpi_app::demo::reference_day())
        .await
        .unwrap();
    let fy = running_cycle(store).await;
    let year = CycleYear::load(store, fy).await.unwrap();
    let expected = owing(store, &year).await;
    assert!(
        expected.len() >= 3,
        "the demo cycle leaves work owed by several users: {expected:?}"
    );
    // One recipient the mail server does not know.
    let refused_login = expected.keys().min().unwrap().clone();
    let refused_email = expected[&refused_login].clone();
    let (sink, port) = Sink::start(vec![refused_email.clone()]).await;

    // Off by default: nothing is sent, the dry run still says who would get what.
    assert!(!SmtpSettings::load(store).await.unwrap().enabled);
    assert!(matches!(
        notify(store, "office", fy, false).await,
        Err(NotifyError::Disabled)
    ));
    let dry = notify(store, "office", fy, true).await.unwrap();
    assert!(dry.dry_run && !dry.enabled);
    let planned: BTreeSet<&str> = dry.deliveries.iter().map(|d| d.login.as_str()).collect();
    let owed: BTreeSet<&str> = expected.keys().map(String::as_str).collect();
    assert_eq!(planned, owed);
    assert!(dry.deliveries.iter().all(|d| d.outcome == Outcome::Planned));
    assert!(sink.mails().is_empty());

    // The administrator's settings, checked by field: nothing stored on a refusal.
    let audits = store.audit_entries(1, 0).await.unwrap()[0].id;
    let bad = SmtpForm {
        enabled: true,
        host: "mail server".into(),
        port: "70000".into(),
        tls: "ssl3".into(),
        from: "not an address".into(),
        ..SmtpForm::default()
    };
    let err = save_smtp_settings(store, "admin", &bad).await.unwrap_err();
    let fields: BTreeSet<&str> = err
        .field_errors()
        .iter()
        .map(|e| e.field.as_str())
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from(["from", "host", "port", "tls"]),
        "{err}"
    );
    assert!(
        err.field_errors()
            .iter()
            .all(|e| !e.ja.is_empty() && !e.en.is_empty())
    );
    assert_eq!(store.get_setting(keys::HOST).await.unwrap(), None);
    assert_eq!(store.audit_entries(1, 0).await.unwrap()[0].id, audits);
    // A password is stored but never logged or shown back.
    let with_password = SmtpForm {
        user: "kpi-mailer".into(),
        password: "s3cret-pw".into(),
        ..form(port, false)
    };
    let saved = save_smtp_settings(store, "admin", &with_password)
        .await
        .unwrap();
    assert!(saved.password_set && !saved.enabled);
    assert!(!serde_json::to_string(&saved).unwrap().contains("s3cret-pw"));
    let log = serde_json::to_string(&store.audit_entries(5, 0).await.unwrap()).unwrap();
    assert!(!log.contains("s3cret-pw"));
    assert!(log.contains("smtp_settings"));
    // Still off: nothing sent.
    assert!(matches!(
        notify(store, "office", fy, false).await,
        Err(NotifyError::Disabled)
    ));
    assert!(sink.mails().is_empty());

    // On (the sink needs no login: no user, password removed).
    let on = SmtpForm {
        clear_password: true,
        ..form(port, true)
    };
    let saved = save_smtp_settings(store, "admin", &on).await.unwrap();
    assert!(saved.enabled && !saved.password_set);
    let report = notify(store, "office", fy, false).await.unwrap();
    assert_eq!(report.failed(), 1, "{report:#?}");
    assert_eq!(report.sent(), expected.len() - 1);
    let failed = report
        .deliveries
        .iter()
        .find(|d| matches!(d.outcome, Outcome::Failed { .. }))
        .unwrap();
    assert_eq!(failed.login, refused_login);
    match &failed.outcome {
        Outcome::Failed { error } => assert!(error.contains("550"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(*sink.refused.lock().unwrap(), vec![refused_email.clone()]);

    // Every other recipient got exactly one mail, addressed to them alone.
    let mails = sink.mails();
    assert_eq!(mails.len(), expected.len() - 1);
    let got: BTreeSet<String> = mails.iter().flat_map(|m| m.rcpts.clone()).collect();
    let want: BTreeSet<String> = expected
        .iter()
        .filter(|(l, _)| **l != refused_login)
        .map(|(_, e)| e.clone())
        .collect();
    assert_eq!(got, want);
    assert!(mails.iter().all(|m| m.rcpts.len() == 1));

    // A department editor's mail: subject, and the due items of their own department.
    let sections = store.sections().await.unwrap();
    let users = store.users().await.unwrap();
    let today = citykpi_app::cycle::today();
    let editor = users
        .iter()
        .filter(|u| u.role == Role::DepartmentEditor && u.login != refused_login)
        .find(|u| expected.contains_key(&u.login))
        .expect("a department editor owes work");
    let dept = sections
        .iter()
        .find(|s| s.code == editor.section_code)
        .unwrap()
        .department_code
        .clone();
    let mail = mails
        .iter()
        .find(|m| m.rcpts[0] == expected[&editor.login])
        .unwrap();
    let (headers, body) = parse(&mail.data);
    let subject = decode_words(&headers["subject"]);
    assert!(subject.contains(&fy.label_ja()), "{subject}");
    assert!(subject.contains("期限のある作業"), "{subject}");
    assert!(subject.contains("Work due"), "{subject}");
    assert!(headers["from"].contains("kpi@city.example.jp"));
    for n in year.notices(NoticeScope::Department(&dept), today) {
        assert!(body.contains(n.label_ja), "{} in {body}", n.label_ja);
        assert!(
            body.contains(&format!("{}: {}件", n.label_ja, n.count)),
            "{body}"
        );
        // The first owed item of the department in that stage is listed, in both languages.
        let item = year
            .status
            .owed
            .iter()
            .find(|o| o.stage == n.stage && o.department_code.as_deref() == Some(dept.as_str()))
            .unwrap();
        assert!(body.contains(&item.item.describe_ja()), "{body}");
        assert!(body.contains(&item.item.describe_en()), "{body}");
    }
    // Nothing of another department.
    if let Some(other) = year
        .status
        .owed
        .iter()
        .find(|o| o.department_code.as_deref().is_some_and(|d| d != dept))
    {
        assert!(!body.contains(&format!("・{}\n", other.item.describe_ja())));
    }

    // Every send is in the audit log, the failure too.
    assert_eq!(audit_count(store, "notice_mail").await, expected.len() - 1);
    assert_eq!(audit_count(store, "notice_mail_failed").await, 1);

    // Once per user and stage: a second run mails only the one that failed.
    let again = notify(store, "office", fy, false).await.unwrap();
    assert_eq!(again.deliveries.len(), 1);
    assert_eq!(again.deliveries[0].login, refused_login);
    assert_eq!(again.sent(), 0);
    assert_eq!(again.already_sent.len(), expected.len() - 1);
    assert_eq!(sink.mails().len(), expected.len() - 1);

    // Off again: nothing more is sent.
    save_smtp_settings(store, "admin", &form(port, false))
        .await
        .unwrap();
    assert!(matches!(
        notify(store, "office", fy, false).await,
        Err(NotifyError::Disabled)
    ));
    assert_eq!(sink.mails().len(), expected.len() - 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_by_mail_sqlite() {
    notices_by_mail(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_by_mail_postgres() {
    notices_by_mail(true).await;
}
