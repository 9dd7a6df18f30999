//! The cycle's reports as downloads, made by the same services as
//! `citykpi report …`: the evaluation sheets (a department editor gets its own
//! department's), the compiled budget (finance, the strategy office, admins),
//! and the open data of published records for anyone, from the public portal.

use crate::extract::Path;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use citykpi_app::reports::{self, ReportServiceError};
use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::Cycle;
use maud::html;

use super::{parse_fy, user};
use crate::AppState;
use crate::ctx::{Ctx, query_param};
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::layout::{Nav, Page, render};
use citykpi_domain::org::Role::*;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn attachment(bytes: Vec<u8>, mime: &'static str, file_name: &str) -> Response {
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// A workbook whose one worksheet says why the report has nothing yet
/// (Japanese first, English second): the buttons are on the cycle's pages
/// for every year, also one whose cycle has not started.
fn notice(ja: &str, en: &str) -> WebResult<Vec<u8>> {
    citykpi_reports::notice_xlsx("説明", ja, en)
        .map_err(|e| WebError::from(ReportServiceError::Render(e)))
}

/// `/cycle/{fy}/reports/evaluations.xlsx[?department=CODE]`
pub async fn evaluations_xlsx(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    let department = if u.role == DepartmentEditor {
        Some(u.department_code.clone())
    } else {
        query_param(ctx.query.as_deref(), "department").filter(|d| !d.trim().is_empty())
    };
    let bytes = match reports::evaluation_sheets_xlsx(state.store(), fy, department.as_deref())
        .await
    {
        Ok((_, bytes)) => bytes,
        Err(ReportServiceError::NoSheets { fy } | ReportServiceError::NoPrograms { fy }) => notice(
            &format!(
                "{}の進行管理サイクルはまだ始まっていないため、評価シートはありません。サイクルが始まると、このファイルに事業ごとの評価シートが入ります。",
                fy.label_ja()
            ),
            &format!(
                "The cycle of {} has not started yet, so there is no evaluation sheet. Once it starts, this file holds one sheet per program.",
                fy.label_en()
            ),
        )?,
        Err(e) => return Err(e.into()),
    };
    let name = match &department {
        Some(d) => format!("evaluation-sheets-{}-{d}.xlsx", fy.year()),
        None => format!("evaluation-sheets-{}.xlsx", fy.year()),
    };
    Ok(attachment(bytes, XLSX, &name))
}

/// `/cycle/{fy}/reports/budget.xlsx`: the budget this cycle builds.
pub async fn budget_xlsx(
    State(state): State<AppState>,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let budget_fy = Cycle::new(fy).budget_fy();
    let bytes = match reports::budget_xlsx(state.store(), budget_fy).await {
        Ok((_, bytes)) => bytes,
        Err(ReportServiceError::NoBudget { budget_fy }) => notice(
            &format!(
                "{}の予算要求も要求上限もまだありません。{}の予算は{}の進行管理サイクルで編成します。",
                budget_fy.label_ja(),
                budget_fy.label_ja(),
                fy.label_ja()
            ),
            &format!(
                "There is no budget request and no ceiling for {} yet. Its budget is built by the cycle of {}.",
                budget_fy.label_en(),
                fy.label_en()
            ),
        )?,
        Err(e) => return Err(e.into()),
    };
    Ok(attachment(
        bytes,
        XLSX,
        &format!("budget-{}.xlsx", budget_fy.year()),
    ))
}

/// The year whose open data the portal offers by default: the last one ended.
fn open_data_year(ctx: &Ctx) -> FiscalYear {
    query_param(ctx.query.as_deref(), "fy")
        .and_then(|y| FiscalYear::parse(&y).ok())
        .unwrap_or_else(citykpi_app::clock::last_closed_fiscal_year)
}

/// `/public/open-data`: the files of the open data, listed from their schema
/// (the files themselves are made when one is downloaded).
pub async fn open_data_page(ctx: Ctx) -> WebResult<Response> {
    let fy = open_data_year(&ctx);
    let schema = reports::open_data_schema();
    let lang = ctx.lang;
    let (title, lead, dataset_h, files_h) = match lang {
        Lang::Ja => (
            "オープンデータ",
            "公開しているKPIの進捗、事務事業評価（確認済みのもの）、事業別の予算・決算を、CSVとJSONで自由にお使いいただけます。列の意味は datapackage.json（Frictionless Data Package）に記載しています。",
            "データ",
            "ファイル",
        ),
        Lang::En => (
            "Open data",
            "The published KPIs' progress, the accepted program evaluations and each program's budget and settlement, as CSV and JSON for anyone to reuse. The columns are described in datapackage.json (a Frictionless Data Package).",
            "Dataset",
            "Files",
        ),
    };
    let y = fy.year();
    let body = html! {
        h1 { (title) " — " (lang.fy(fy)) }
        p.lead { (lead) }
        div.table-wrap { table {
            thead { tr { th scope="col" { (dataset_h) } th scope="col" { (files_h) } } }
            tbody {
                @for ds in &schema.datasets {
                    tr {
                        td { (ds.title_ja) br; span.muted { (ds.description_ja) } }
                        td {
                            a href={ "/public/open-data/" (y) "/" (ds.name) ".csv" } { (ds.name) ".csv" } " ・ "
                            a href={ "/public/open-data/" (y) "/" (ds.name) ".json" } { (ds.name) ".json" }
                        }
                    }
                }
                tr {
                    td { "datapackage.json" }
                    td { a href={ "/public/open-data/" (y) "/datapackage.json" } { "datapackage.json" } }
                }
            }
        } }
    };
    Ok(render(
        &ctx,
        Page {
            title,
            nav: Nav::Public,
            body,
        },
    ))
}

/// `/public/open-data/{fy}/{file}`: one file of the open data.
pub async fn open_data_file(
    State(state): State<AppState>,
    Path((fy, file)): Path<(String, String)>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let (_, files) = reports::open_data(state.store(), fy)
        .await
        .map_err(WebError::from)?;
    let (name, bytes) = files
        .into_iter()
        .find(|(name, _)| *name == file)
        .ok_or(WebError::NotFound)?;
    let mime = if name.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else {
        "application/json"
    };
    Ok(attachment(bytes, mime, &name))
}
