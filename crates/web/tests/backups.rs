//! Backups for the administrators in the browser: the schedule shown, a
//! backup taken now (audited, the oldest past the kept number removed), a
//! backup checked whole, a damaged one named, a path refused, and nobody
//! else let in; scheduled backups taken by one server per turn when several
//! share the database.

#[macro_use]
mod common;

use std::path::Path;
use std::time::Duration;

use citykpi_app::backup::{Schedule, verify_file};
use citykpi_store::{Backend, Store};
use citykpi_web::{AppState, WebConfig};
use common::{spawn, spawn_with};
use reqwest::StatusCode;
use serde_json::Value;

fn backups_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("citykpi-") && n.ends_with(".backup"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn config_with(dir: &Path, every: Duration, keep: usize) -> WebConfig {
    WebConfig {
        backup: Some(Schedule {
            dir: dir.to_path_buf(),
            every,
            keep,
        }),
        ..WebConfig::default()
    }
}

async fn taken_checked_and_kept(backend: Backend) {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path().join("backups");
    // An hour: no scheduled backup comes during the test.
    let app = spawn_with(backend, config_with(&dir, Duration::from_secs(3600), 2)).await;
    let admin = app.login("admin").await;

    let page = admin.get("/admin/backups").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("定期バックアップの設定"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&dir.display().to_string()));
    assert!(page.body.contains("まだありません"));
    assert!(
        admin
            .get("/admin/users")
            .await
            .body
            .contains("href=\"/admin/backups\""),
        "reached from the users page"
    );

    // Taken now: a redirect to the page naming the file, which is whole.
    let taken = admin.post_form("/admin/backups", &[]).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.body);
    let files = backups_in(&dir);
    assert_eq!(files.len(), 1);
    assert!(taken.location().contains(&files[0]), "{}", taken.location());
    let manifest = verify_file(&dir.join(&files[0])).unwrap();
    assert!(manifest.total_rows() > 10_000, "the whole demo city");
    let shown = admin.get(taken.location()).await;
    assert!(shown.body.contains("バックアップを作成しました"));
    assert!(shown.body.contains(&files[0]));
    assert!(
        shown
            .body
            .contains(&format!("{} 行", manifest.total_rows())),
        "the row count of its manifest"
    );
    // Listed in Japan time: the manifest's UTC instant plus nine hours.
    assert!(
        shown
            .body
            .contains(&citykpi_domain::jst::display(&manifest.created_at))
    );

    // Audited, for the administrators only.
    let audit: Value =
        serde_json::from_str(&admin.get("/api/v1/audit?entity=backup").await.body).unwrap();
    let rows = audit["entries"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{audit}");
    assert_eq!(rows[0]["actor"], "admin");
    assert_eq!(rows[0]["key"], files[0].as_str());

    // Two more: the newest two are kept.
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(
            admin.post_form("/admin/backups", &[]).await.status,
            StatusCode::SEE_OTHER
        );
    }
    let kept = backups_in(&dir);
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(!kept.contains(&files[0]), "the oldest removed: {kept:?}");

    // Checked whole.
    let ok = admin
        .post_form("/admin/backups/verify", &[("name", &kept[0])])
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(ok.body.contains("チェックサムが一致"), "{}", ok.body);

    // One byte changed inside the data: the page still lists it (its
    // manifest reads), the check names the mismatch.
    let damaged = dir.join(&kept[1]);
    let mut bytes = std::fs::read(&damaged).unwrap();
    bytes[100] ^= 0x20;
    std::fs::write(&damaged, bytes).unwrap();
    let bad = admin
        .post_form("/admin/backups/verify", &[("name", &kept[1])])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("チェックサムが一致しません"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains(&kept[1]));

    // A cut file: its row says why it cannot be read.
    let cut = dir.join(&kept[0]);
    let len = std::fs::metadata(&cut).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&cut)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let listing = admin.get("/admin/backups").await;
    assert_eq!(listing.status, StatusCode::OK);
    assert!(listing.body.contains("読めません"), "{}", listing.body);

    // Only names of the folder's backups are taken.
    for name in ["../citykpi.db", "/etc/passwd", "citykpi-../../x.backup"] {
        let r = admin
            .post_form("/admin/backups/verify", &[("name", name)])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(
            r.body.contains("バックアップのファイル名ではありません"),
            "{name}"
        );
    }
    let missing = admin
        .post_form(
            "/admin/backups/verify",
            &[("name", "citykpi-20000101T000000000Z.backup")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Nobody else.
    for login in ["strategy-kikaku", "finance-zaisei", "viewer", "mayor"] {
        let c = app.login(login).await;
        assert_eq!(
            c.get("/admin/backups").await.status,
            StatusCode::FORBIDDEN,
            "{login}"
        );
        assert_eq!(
            c.post_form("/admin/backups", &[]).await.status,
            StatusCode::FORBIDDEN,
            "{login}"
        );
    }
    assert_eq!(backups_in(&dir).len(), 2, "nothing taken by those refused");
}
both!(backup_page, taken_checked_and_kept);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_folder_the_page_says_how() {
    let app = spawn(Backend::Sqlite).await;
    let admin = app.login("admin").await;
    let page = admin.get("/admin/backups").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("CITYKPI_BACKUP_DIR"), "{}", page.body);
    assert!(page.body.contains("設定されていません"));
    let refused = admin.post_form("/admin/backups", &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("CITYKPI_BACKUP_DIR"));
}

/// Two servers on one database, backups every two seconds: each turn is
/// taken by one of them, so the folder holds about one file per turn, not
/// two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_take_each_turn_once() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path().join("backups");
    let every = Duration::from_secs(2);
    let config = || WebConfig {
        cleanup_every: Duration::ZERO,
        ..config_with(&dir, every, 100)
    };
    let app = spawn_with(Backend::Postgres, config()).await;
    let second = Store::open(&app.target).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    tokio::spawn(citykpi_web::serve_on(
        listener,
        AppState::new(second, config()),
    ));
    let watched = Duration::from_secs(9);
    tokio::time::sleep(watched).await;
    let files = backups_in(&dir);
    // 9 s hold at most five slot starts (one more if the first came at once).
    let slots = (watched.as_secs() / every.as_secs()) as usize + 1;
    assert!(files.len() >= 2, "scheduled backups were taken: {files:?}");
    assert!(
        files.len() <= slots,
        "{} backups in {} turns: a turn was taken twice: {files:?}",
        files.len(),
        slots
    );
    for f in &files {
        let m = verify_file(&dir.join(f)).unwrap();
        assert!(m.total_rows() > 10_000);
    }
}
