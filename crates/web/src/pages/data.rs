//! Downloads of every table (CSV / XLSX) and upload-to-import, through
//! `citykpi_app::data` (the same importer and exporter as the CLI).

use crate::extract::Path;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use citykpi_app::AppError;
use citykpi_app::data::{ImportResult, export_kind, import_bytes};
use citykpi_domain::Kind;
use citykpi_io::{Format, HeaderLang, ImportError};
use maud::{Markup, html};

use crate::AppState;
use crate::access::{can_export, can_import};
use crate::ctx::{Ctx, query_param};
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::layout::{Nav, Page, render};

pub fn kind_label(lang: Lang, k: Kind) -> &'static str {
    let t = lang.text();
    match k {
        Kind::Org => t.kind_org,
        Kind::Users => t.kind_users,
        Kind::Plans => t.kind_plans,
        Kind::Kpis => t.kind_kpis,
        Kind::Observations => t.kind_observations,
        Kind::Programs => t.kind_programs,
        Kind::Links => t.kind_links,
        Kind::Indicators => t.kind_indicators,
        Kind::Money => t.kind_money,
    }
}

/// The outcome of an upload, shown above the forms.
enum Outcome {
    Done(Box<ImportResult>, bool),
    Failed(AppError),
}

fn outcome_view(lang: Lang, outcome: &Outcome) -> Markup {
    let t = lang.text();
    match outcome {
        Outcome::Done(r, dry_run) => html! {
            div.notice.success role="status" {
                p { strong { @if *dry_run { (t.import_checked) } @else { (t.import_done) } } " " (r.file) }
                p { (t.rows_read) ": " (r.rows_read) }
                @if let Some(a) = &r.applied {
                    p { (t.inserted) ": " (a.inserted()) " ・ " (t.updated) ": " (a.updated()) " ・ " (t.unchanged) ": " (a.unchanged()) }
                }
                @if !r.warnings.is_empty() {
                    p { (t.warnings) }
                    ul { @for w in &r.warnings { li { (w) } } }
                }
            }
        },
        Outcome::Failed(AppError::Import(ImportError::Invalid(report))) => html! {
            div.error-summary role="alert" tabindex="-1" {
                h2 { (t.import_failed) }
                p { (report.file) ": " (t.results_count.replace("{n}", &report.total().to_string())) }
                div.table-wrap {
                    table {
                        thead { tr { th scope="col" { "行 / row" } th scope="col" { "列 / column" } th scope="col" { "値 / value" } th scope="col" { "内容 / reason" } } }
                        tbody {
                            @for p in &report.problems {
                                tr {
                                    td { (p.row.map(|r| r.to_string()).unwrap_or_default()) }
                                    td { (p.column.clone().unwrap_or_default()) }
                                    td { (p.value.clone().unwrap_or_default()) }
                                    td { (p.reason) }
                                }
                            }
                        }
                    }
                }
                @if report.omitted > 0 { p { "… " (report.omitted) } }
            }
        },
        Outcome::Failed(e) => html! {
            div.error-summary role="alert" tabindex="-1" {
                h2 { (t.import_failed) }
                p { (e) }
            }
        },
    }
}

fn page_view(ctx: &Ctx, outcome: Option<&Outcome>) -> WebResult<Response> {
    let t = ctx.t;
    let lang = ctx.lang;
    let user = ctx.user().ok_or(WebError::Unauthorized)?;
    let importable: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| can_import(user, *k))
        .collect();
    let body = html! {
        h1 { (t.data_title) }
        @if let Some(o) = outcome { (outcome_view(lang, o)) }
        h2 { (t.download) }
        p { (t.download_hint) }
        div.table-wrap {
            table {
                thead { tr { th scope="col" { (t.table_kind) } th scope="col" { "CSV" } th scope="col" { "Excel" } } }
                tbody {
                    @for k in Kind::ALL.into_iter().filter(|k| can_export(user, *k)) {
                        tr {
                            th scope="row" { (kind_label(lang, k)) }
                            td { a href={ "/data/export/" (k.as_str()) "?format=csv" } download { (t.download) " (CSV)" } }
                            td { a href={ "/data/export/" (k.as_str()) "?format=xlsx" } download { (t.download) " (XLSX)" } }
                        }
                    }
                }
            }
        }
        @if !importable.is_empty() {
            h2 { (t.upload) }
            p { (t.upload_hint) }
            form.stack method="post" action="/data/import" enctype="multipart/form-data" {
                // First field: the access check reads the token from it.
                input type="hidden" name="csrf" value=(ctx.csrf());
                div {
                    label for="file" { (t.file) }
                    input type="file" id="file" name="file" accept=".csv,.xlsx,.json,.txt,.tsv" required;
                }
                div {
                    label for="kind" { (t.table_kind) }
                    select id="kind" name="kind" {
                        @if importable.len() == Kind::ALL.len() { option value="" { "自動判定 / detect" } }
                        @for k in &importable { option value=(k.as_str()) { (kind_label(lang, *k)) } }
                    }
                }
                div { label { input type="checkbox" name="dry_run" value="1"; " " (t.dry_run) } }
                div { button type="submit" { (t.import_button) } }
            }
        }
    };
    Ok(render(
        ctx,
        Page {
            title: t.data_title,
            nav: Nav::Data,
            body,
        },
    ))
}

pub async fn page(ctx: Ctx) -> WebResult<Response> {
    page_view(&ctx, None)
}

pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(kind): Path<String>,
) -> WebResult<Response> {
    let kind = Kind::parse(&kind).ok_or(WebError::NotFound)?;
    let user = ctx.user().ok_or(WebError::Unauthorized)?;
    if !can_export(user, kind) {
        return Err(WebError::Forbidden);
    }
    let format = match query_param(ctx.query.as_deref(), "format").as_deref() {
        Some("xlsx") => Format::Xlsx,
        Some("json") => Format::Json,
        None | Some("csv") => Format::Csv,
        Some(other) => {
            return Err(WebError::BadRequest(format!(
                "形式「{other}」は使えません / unknown format \"{other}\""
            )));
        }
    };
    let lang = if ctx.lang == Lang::En {
        HeaderLang::En
    } else {
        HeaderLang::Ja
    };
    let bytes = export_kind(state.store(), kind, format, lang).await?;
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.mime_type()),
    );
    let disposition = format!(
        "attachment; filename=\"citykpi-{}.{}\"",
        kind.as_str(),
        format.extension()
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// Reads the upload form: the file's name and bytes, the kind, dry run.
/// An uploaded file, written to a temporary file as it arrives (a large
/// statistics file is never held in memory twice); removed when dropped.
pub struct Upload {
    pub name: String,
    pub file: tempfile::NamedTempFile,
}

impl Upload {
    /// Writes `bytes` (a body already read) to a temporary file.
    pub fn from_bytes(name: String, bytes: &[u8]) -> WebResult<Upload> {
        use std::io::Write;
        let mut file = temp_file()?;
        file.write_all(bytes).map_err(store_failed)?;
        Ok(Upload { name, file })
    }
    async fn bytes(&self) -> WebResult<Vec<u8>> {
        tokio::fs::read(self.file.path())
            .await
            .map_err(store_failed)
    }
}

fn temp_file() -> WebResult<tempfile::NamedTempFile> {
    tempfile::NamedTempFile::new().map_err(store_failed)
}

fn store_failed(e: std::io::Error) -> WebError {
    WebError::App(AppError::invalid(
        "file",
        format!("アップロードを一時保存できません / cannot keep the upload: {e}"),
    ))
}

/// Reads the upload form, streaming the file to a temporary file and
/// counting: over the configured limit the upload is refused (413) with the
/// limit named. The rest of the body is read and dropped, so the browser
/// gets the page instead of a reset connection.
pub async fn read_upload(mut multipart: Multipart) -> WebResult<(Upload, Option<Kind>, bool)> {
    use tokio::io::AsyncWriteExt;
    let limit = crate::limits::upload_limit_bytes();
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        WebError::BadRequest(format!(
            "アップロードを読めません / cannot read the upload: {e}"
        ))
    };
    let mut file = None;
    let mut kind = None;
    let mut dry_run = false;
    let mut too_large = false;
    let mut total = 0usize;
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("file") if !too_large => {
                let name = field.file_name().unwrap_or("upload.csv").to_string();
                let tmp = temp_file()?;
                let mut out = tokio::fs::File::from_std(tmp.reopen().map_err(store_failed)?);
                while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                    total += chunk.len();
                    if total > limit {
                        too_large = true;
                        break;
                    }
                    out.write_all(&chunk).await.map_err(store_failed)?;
                }
                out.flush().await.map_err(store_failed)?;
                if !too_large && total > 0 {
                    file = Some(Upload { name, file: tmp });
                }
            }
            Some("kind") => {
                let v = field.text().await.unwrap_or_default();
                kind = Kind::parse(&v);
            }
            Some("dry_run") => dry_run = true,
            _ => {}
        }
        if too_large {
            break;
        }
    }
    if too_large {
        // Read what is left (up to twice the limit) without keeping it.
        let mut drained = 0usize;
        while drained <= limit.saturating_mul(2) {
            match multipart.next_field().await {
                Ok(Some(mut f)) => {
                    while let Ok(Some(c)) = f.chunk().await {
                        drained += c.len();
                    }
                }
                _ => break,
            }
        }
        return Err(crate::limits::upload_too_large());
    }
    let upload = file
        .ok_or_else(|| WebError::BadRequest("ファイルを選んでください / choose a file".into()))?;
    Ok((upload, kind, dry_run))
}

/// Imports with the permission of `user`: when the kind is detected from the
/// file, the file is checked first and the detected kind is authorised before
/// anything is written.
pub async fn import_as(
    state: &AppState,
    user: &crate::session::SessionUser,
    upload: &Upload,
    kind: Option<Kind>,
    dry_run: bool,
) -> Result<Result<ImportResult, AppError>, WebError> {
    if let Some(k) = kind
        && !can_import(user, k)
    {
        return Err(WebError::Forbidden);
    }
    let name = upload.name.as_str();
    let checked = import_bytes(
        state.store(),
        name,
        upload.bytes().await?,
        kind,
        true,
        &user.login,
    )
    .await;
    let checked = match checked {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    // A JSON dataset may hold several kinds: only who may import all of them may import it.
    let allowed = match checked.kind {
        Some(k) => can_import(user, k),
        None => Kind::ALL.iter().all(|k| can_import(user, *k)),
    };
    if !allowed {
        return Err(WebError::Forbidden);
    }
    if dry_run {
        return Ok(Ok(checked));
    }
    let done = import_bytes(
        state.store(),
        name,
        upload.bytes().await?,
        checked.kind,
        false,
        &user.login,
    )
    .await;
    if done.is_ok() {
        state.data_changed();
    }
    Ok(done)
}

pub async fn import(
    State(state): State<AppState>,
    ctx: Ctx,
    multipart: Multipart,
) -> WebResult<Response> {
    let user = ctx.user().ok_or(WebError::Unauthorized)?.clone();
    let (upload, kind, dry_run) = read_upload(multipart).await?;
    let outcome = match import_as(&state, &user, &upload, kind, dry_run).await? {
        Ok(r) => Outcome::Done(Box::new(r), dry_run),
        Err(e @ (AppError::Import(_) | AppError::Invalid { .. } | AppError::Store(_))) => {
            Outcome::Failed(e)
        }
        Err(e) => return Err(e.into()),
    };
    let status = if matches!(outcome, Outcome::Failed(_)) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut resp = page_view(&ctx, Some(&outcome))?;
    *resp.status_mut() = status;
    Ok(resp)
}
