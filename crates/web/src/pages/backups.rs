//! Backups for the administrators: what the schedule is, the backups in its
//! folder (time, size, rows, schema), a backup taken now and a backup checked
//! whole against its checksum. Restoring stays with the CLI (`citykpi
//! restore`): it needs an empty database and the server stopped in front of
//! it, which a page of the running server cannot give.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use citykpi_app::backup::{self, BackupFile, Manifest, Schedule};
use citykpi_domain::jst;
use maud::{Markup, html};
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{Ctx, query_param};
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::layout::{Nav, Page, render};

fn tr(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Ja => ja,
        Lang::En => en,
    }
}

/// Megabytes with one decimal, as people read file sizes.
fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// What a check of one file found, shown above the list.
enum Outcome {
    Taken(String, Manifest),
    Verified(String, Manifest),
    Refused(String),
}

async fn view(
    state: &AppState,
    ctx: &Ctx,
    outcome: Option<Outcome>,
    status: StatusCode,
) -> WebResult<Response> {
    let lang = ctx.lang;
    let schedule = state.config().backup.clone();
    let files = match &schedule {
        Some(s) => {
            let dir = s.dir.clone();
            tokio::task::spawn_blocking(move || backup::list(&dir))
                .await
                .map_err(|e| WebError::BadRequest(e.to_string()))?
                .map_err(|e| WebError::App(citykpi_app::AppError::invalid("dir", e.to_string())))?
        }
        None => Vec::new(),
    };
    let title = tr(lang, "バックアップ", "Backups");
    let body = html! {
        h1 { (title) }
        p.lead { (tr(lang,
            "データベース全体を、稼働中のまま一貫した内容で保存します（表ごとの件数とチェックサム付き）。復元は空のデータベースに対して `citykpi restore ファイル` で行います。",
            "The whole database, saved consistently while the server runs (row counts and checksums per table). Restore into an empty database with `citykpi restore FILE`."))
        }
        @match &outcome {
            Some(Outcome::Taken(name, m)) => div.notice.success role="status" {
                (tr(lang, "バックアップを作成しました", "Backup taken")) ": " (name)
                " (" (m.total_rows()) " " (tr(lang, "行", "rows")) ", " (megabytes(m.body_bytes)) ")"
            },
            Some(Outcome::Verified(name, m)) => div.notice.success role="status" {
                (tr(lang, "検証しました：チェックサムが一致し、ファイルは完全です", "Verified: the checksum matches, the file is whole")) " — " (name)
                " (" (m.total_rows()) " " (tr(lang, "行", "rows")) ", SHA-256 " (m.body_sha256.get(..16).unwrap_or(&m.body_sha256)) "…)"
            },
            Some(Outcome::Refused(reason)) => div.error-summary role="alert" tabindex="-1" {
                h2 { (ctx.t.error_summary) }
                p { (reason) }
            },
            None => {}
        }
        h2 { (tr(lang, "定期バックアップの設定", "Schedule")) }
        (schedule_table(lang, schedule.as_ref()))
        @if let Some(s) = &schedule {
            form method="post" action="/admin/backups" {
                input type="hidden" name="csrf" value=(ctx.csrf());
                button type="submit" { (tr(lang, "今すぐバックアップを作成", "Take a backup now")) }
                " " span.muted { (s.dir.display()) }
            }
            h2 { (tr(lang, "保存されているバックアップ", "Backups in the folder")) " (" (files.len()) ")" }
            @if files.is_empty() {
                p.muted { (tr(lang, "まだありません。", "None yet.")) }
            } @else {
                (file_table(ctx, &files))
            }
        }
    };
    let mut resp = render(
        ctx,
        Page {
            title,
            nav: Nav::Users,
            body,
        },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

fn schedule_table(lang: Lang, schedule: Option<&Schedule>) -> Markup {
    match schedule {
        None => html! {
            p { (tr(lang,
                "定期バックアップは設定されていません。保存先のフォルダを環境変数 CITYKPI_BACKUP_DIR に設定してサーバーを起動すると、CITYKPI_BACKUP_EVERY_HOURS 時間ごと（既定 24）に作成し、新しい CITYKPI_BACKUP_KEEP 個（既定 7）を残します。複数のサーバーでは各回を1台だけが作成します。",
                "No scheduled backups: start the server with the folder in CITYKPI_BACKUP_DIR to take one every CITYKPI_BACKUP_EVERY_HOURS hours (default 24) and keep the newest CITYKPI_BACKUP_KEEP (default 7). With several servers each turn is taken by one of them."))
            }
        },
        Some(s) => html! {
            table.kv {
                tr { th scope="row" { (tr(lang, "保存先", "Folder")) } td { code { (s.dir.display()) } } }
                tr { th scope="row" { (tr(lang, "間隔", "Every")) } td { (format!("{:.1}", s.every.as_secs_f64() / 3600.0)) " " (tr(lang, "時間", "hours")) } }
                tr { th scope="row" { (tr(lang, "保存数", "Kept")) } td { (s.keep) } }
            }
        },
    }
}

fn file_table(ctx: &Ctx, files: &[BackupFile]) -> Markup {
    let lang = ctx.lang;
    html! {
        div.table-wrap { table {
            thead { tr {
                th scope="col" { (tr(lang, "作成日時（日本時間）", "Taken (Japan time)")) }
                th scope="col" { (tr(lang, "ファイル", "File")) }
                th scope="col" .num { (tr(lang, "大きさ", "Size")) }
                th scope="col" .num { (tr(lang, "行数", "Rows")) }
                th scope="col" { (tr(lang, "スキーマ版", "Schema")) }
                th scope="col" { (tr(lang, "検証", "Check")) }
            } }
            tbody {
                @for f in files {
                    tr {
                        @match &f.manifest {
                            Ok(m) => {
                                td { (jst::display(&m.created_at)) }
                                td { code { (f.name) } }
                                td.num { (megabytes(f.bytes)) }
                                td.num { (m.total_rows()) }
                                td { (m.schema_version) " (" (m.backend) ", citykpi " (m.citykpi_version) ")" }
                            }
                            Err(reason) => {
                                td { "—" }
                                td { code { (f.name) } }
                                td.num { (megabytes(f.bytes)) }
                                td colspan="2" { strong { (tr(lang, "読めません", "Unreadable")) } ": " (reason) }
                            }
                        }
                        td {
                            form method="post" action="/admin/backups/verify" {
                                input type="hidden" name="csrf" value=(ctx.csrf());
                                input type="hidden" name="name" value=(f.name);
                                button type="submit" { (tr(lang, "チェックサムを検証", "Verify checksum")) }
                            }
                        }
                    }
                }
            }
        } }
    }
}

/// `GET /admin/backups` (`?taken=NAME` after a backup was taken: its
/// notice, read back from the file's manifest).
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let taken = query_param(ctx.query.as_deref(), "taken");
    let outcome = match (taken, state.config().backup.as_ref()) {
        (Some(name), Some(schedule)) if backup::is_backup_name(&name) => {
            backup::read_manifest(&schedule.dir.join(&name))
                .ok()
                .map(|m| Outcome::Taken(name, m))
        }
        _ => None,
    };
    view(&state, &ctx, outcome, StatusCode::OK).await
}

/// `POST /admin/backups`: a backup now, into the schedule's folder.
pub async fn take(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let actor = ctx.user().ok_or(WebError::Unauthorized)?.login.clone();
    let Some(schedule) = state.config().backup.clone() else {
        let reason = tr(
            ctx.lang,
            "保存先のフォルダ（CITYKPI_BACKUP_DIR）が設定されていません",
            "No backup folder is set (CITYKPI_BACKUP_DIR)",
        );
        return view(
            &state,
            &ctx,
            Some(Outcome::Refused(reason.to_string())),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match backup::take_now(state.store(), &schedule, &actor).await {
        Ok((file, _manifest, _removed)) => {
            // The audit row is a change the other pages' read model follows.
            state.data_changed();
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut to = form_urlencoded::Serializer::new(String::new());
            to.append_pair("taken", &name);
            Ok(Redirect::to(&format!("/admin/backups?{}", to.finish())).into_response())
        }
        Err(e) => {
            view(
                &state,
                &ctx,
                Some(Outcome::Refused(e.to_string())),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    name: String,
}

/// `POST /admin/backups/verify`: reads the whole file and compares it with
/// its manifest's length and checksum.
pub async fn verify(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<VerifyForm>,
) -> WebResult<Response> {
    let Some(schedule) = state.config().backup.clone() else {
        return Err(WebError::NotFound);
    };
    let name = form.name.clone();
    let checked = tokio::task::spawn_blocking(move || backup::verify_named(&schedule, &name))
        .await
        .map_err(|e| WebError::BadRequest(e.to_string()))?;
    match checked {
        Ok(m) => {
            view(
                &state,
                &ctx,
                Some(Outcome::Verified(form.name, m)),
                StatusCode::OK,
            )
            .await
        }
        Err(citykpi_app::AppError::NotFound(n)) => {
            let reason = format!(
                "{}: {n}",
                tr(ctx.lang, "そのファイルはありません", "No such file")
            );
            view(
                &state,
                &ctx,
                Some(Outcome::Refused(reason)),
                StatusCode::NOT_FOUND,
            )
            .await
        }
        Err(e) => {
            view(
                &state,
                &ctx,
                Some(Outcome::Refused(e.to_string())),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
    .map(IntoResponse::into_response)
}
