//! The e-mail notices on the web, on SQLite and PostgreSQL: the
//! administrator's SMTP form checks each field and never shows the password
//! back, only administrators reach it, and the strategy office's button
//! mails the due work through the configured server (a small SMTP server on
//! 127.0.0.1 inside the test, standing for the city's), reporting each
//! recipient. The SMTP conversation itself is tested in the app crate.

mod common;

use std::sync::{Arc, Mutex};

use citykpi_domain::org::Role;
use citykpi_store::Backend;
use common::spawn;
use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// An SMTP server that accepts everything and keeps the recipients.
async fn sink() -> (Arc<Mutex<Vec<String>>>, u16) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let rcpts = Arc::new(Mutex::new(Vec::new()));
    let kept = rcpts.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                let mut line = String::new();
                let mut in_data = false;
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let reply: &[u8] = if in_data {
                        if line != ".\r\n" {
                            continue;
                        }
                        in_data = false;
                        b"250 queued\r\n"
                    } else {
                        let upper = line.to_ascii_uppercase();
                        if upper.starts_with("EHLO") {
                            b"250-sink\r\n250 8BITMIME\r\n"
                        } else if upper.starts_with("RCPT TO:") {
                            let addr = line[8..].trim().trim_matches(['<', '>']).to_string();
                            kept.lock().unwrap().push(addr);
                            b"250 OK\r\n"
                        } else if upper.starts_with("DATA") {
                            in_data = true;
                            b"354 go ahead\r\n"
                        } else if upper.starts_with("QUIT") {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            b"250 OK\r\n"
                        }
                    };
                    if w.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (rcpts, port)
}

async fn mail_settings_and_button(backend: Backend) {
    let app = spawn(backend).await;
    let fy = app
        .store
        .cycles()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.state.as_str() != "closed")
        .expect("a running demo cycle")
        .fy
        .year();
    let admin = app.login(&app.user_with(Role::Admin).await.login).await;
    let office = app
        .login(&app.user_with(Role::StrategyOffice).await.login)
        .await;
    let viewer = app.login(&app.user_with(Role::Viewer).await.login).await;

    // Only administrators see the settings; off by default.
    assert_eq!(
        viewer.get("/admin/mail").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        office.get("/admin/mail").await.status,
        StatusCode::FORBIDDEN
    );
    let page = admin.get("/admin/mail").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("メール通知の設定"));
    assert!(
        !page
            .body
            .contains("id=\"enabled\" name=\"enabled\" value=\"1\" checked")
    );

    // Each bad field is named next to it, in Japanese (and English on the switch).
    let bad = admin
        .post_form(
            "/admin/mail",
            &[
                ("enabled", "1"),
                ("host", "mail server"),
                ("port", "abc"),
                ("tls", "none"),
                ("from", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"host-error\""), "{}", bad.body);
    assert!(bad.body.contains("id=\"port-error\""));
    assert!(bad.body.contains("id=\"from-error\""));
    assert!(bad.body.contains("1〜65535"));
    assert_eq!(app.store.get_setting("smtp_host").await.unwrap(), None);
    // Without the CSRF token nothing is saved.
    let forged = admin
        .post_raw_form("/admin/mail", &[("enabled", "1"), ("host", "x")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // The button's page before mail is on: who would be mailed, no button.
    let preview = office.get(&format!("/cycle/{fy}/notify")).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("メール通知は無効です"));
    assert!(preview.body.contains("送信予定"));
    assert!(
        !preview
            .body
            .contains(&format!("action=\"/cycle/{fy}/notify\""))
    );
    assert_eq!(
        viewer.get(&format!("/cycle/{fy}/notify")).await.status,
        StatusCode::FORBIDDEN
    );

    // On, with a password that is stored and never shown back.
    let (rcpts, port) = sink().await;
    let port = port.to_string();
    let saved = admin
        .post_form(
            "/admin/mail",
            &[
                ("enabled", "1"),
                ("host", "127.0.0.1"),
                ("port", &port),
                ("tls", "none"),
                ("from", "kpi@city.example.jp"),
                ("user", ""),
                ("password", "pw-never-shown"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = admin.get("/admin/mail?saved=1").await;
    assert!(page.body.contains("保存しました"));
    assert!(!page.body.contains("pw-never-shown"));
    assert!(page.body.contains("保存されています（表示しません）"));
    let audit = admin.get("/admin/audit").await;
    assert!(audit.body.contains("smtp_settings"));
    assert!(!audit.body.contains("pw-never-shown"));

    // The strategy office's button sends and reports every recipient.
    let preview = office.get(&format!("/cycle/{fy}/notify")).await;
    assert!(
        preview
            .body
            .contains(&format!("action=\"/cycle/{fy}/notify\""))
    );
    let planned = preview.body.matches("<tr data-login=").count();
    assert!(planned > 0);
    let sent = office.post_form(&format!("/cycle/{fy}/notify"), &[]).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert!(sent.body.contains("id=\"notify-summary\""));
    assert_eq!(
        sent.body
            .matches("class=\"status status-achieved\"")
            .count(),
        planned,
        "every recipient sent"
    );
    assert_eq!(rcpts.lock().unwrap().len(), planned);
    // Mailed once: the page has nobody new to notify.
    let after = office.get(&format!("/cycle/{fy}/notify")).await;
    assert!(after.body.contains("新たに通知する相手はいません"));
}

both!(mail, mail_settings_and_button);
