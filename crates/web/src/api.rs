//! The REST API under /api/v1: JSON over the same snapshot and services as
//! the pages, authenticated by a per-user API token (`Authorization: Bearer`)
//! or the browser session, with the same access table and record rules.
//! `/api/openapi.json` is an OpenAPI 3.1 document built from the route list
//! below and the access table, and `/api` is a readable page of the same.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use citykpi_app::AppError;
use citykpi_app::entry::{
    ActualInput, FieldError, MoneyInput, ProgramInput, money_from_input, parse_actual,
    program_from_input, save_actuals_versioned, save_money, save_program, stored_money,
};
use citykpi_domain::Kind;
use citykpi_io::{Format, HeaderLang};
use citykpi_store::StoreError;
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::access::{all_routes, can_edit_money, can_edit_program, can_enter_actual, can_export};
use crate::ctx::{Ctx, default_fy};
use crate::error::{WebError, WebResult};
use crate::extract::{Json, Path};
use crate::layout::{Nav, Page, render};
use crate::pages::data::import_as;
use crate::session::SessionUser;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/status", get(status))
        .route("/api/v1/kpis", get(kpis))
        .route("/api/v1/kpis/{code}", get(kpi))
        .route(
            "/api/v1/kpis/{code}/observations",
            get(observations).post(add_observations),
        )
        .route(
            "/api/v1/kpis/{code}/observations/confirm",
            post(confirm_observations),
        )
        .route("/api/v1/programs", get(programs))
        .route("/api/v1/programs/{code}", get(program).put(update_program))
        .route("/api/v1/programs/{code}/money/{fy}", put(update_money))
        .route("/api/v1/search", get(search))
        .route("/api/v1/evidence", get(evidence))
        .route("/api/v1/export/{kind}", get(export))
        .route(
            "/api/v1/import/{kind}",
            // Data files are larger than any form: the configured upload limit applies instead.
            post(import).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/public/plans", get(public_plans))
}

/// Documentation of each API route: (method, path, summary ja, summary en, request body schema).
pub const API_DOCS: &[(&str, &str, &str, &str, Option<&str>)] = &[
    (
        "GET",
        "/api/v1/status",
        "年度のKPIの状況と計画ごとの集計",
        "KPI status and plan roll-ups for a fiscal year (?fy=)",
        None,
    ),
    (
        "GET",
        "/api/v1/kpis",
        "KPI一覧（状況つき）",
        "All KPIs with their status (?fy=)",
        None,
    ),
    (
        "GET",
        "/api/v1/kpis/{code}",
        "KPIの定義・状況・実績値",
        "A KPI's definition, status and values",
        None,
    ),
    (
        "GET",
        "/api/v1/kpis/{code}/observations",
        "KPIの実績値",
        "A KPI's observations",
        None,
    ),
    (
        "POST",
        "/api/v1/kpis/{code}/observations",
        "実績値の登録（1件または配列）",
        "Record actuals (one or an array)",
        Some("ActualInput"),
    ),
    (
        "POST",
        "/api/v1/kpis/{code}/observations/confirm",
        "実績値の確認（公開の承認。1件または配列。自分の入力は確認できません）",
        "Confirm actuals for publication (one or an array; not one's own entries)",
        Some("ConfirmInput"),
    ),
    (
        "GET",
        "/api/v1/programs",
        "事務事業一覧",
        "All programs",
        None,
    ),
    (
        "GET",
        "/api/v1/programs/{code}",
        "事務事業（版・事業費・指標・KPI寄与つき）",
        "A program with version, money, indicators and KPI links",
        None,
    ),
    (
        "PUT",
        "/api/v1/programs/{code}",
        "事務事業の更新（版の確認つき）",
        "Update a program (with version check)",
        Some("ProgramUpdate"),
    ),
    (
        "PUT",
        "/api/v1/programs/{code}/money/{fy}",
        "事業費の登録（版の確認つき）",
        "Record a year's money (with version check)",
        Some("MoneyInput"),
    ),
    (
        "GET",
        "/api/v1/evidence",
        "事業→KPIの寄与に記録された根拠（?kpi=&program=）",
        "Evidence recorded on program–KPI links (?kpi=&program=)",
        None,
    ),
    (
        "GET",
        "/api/v1/search",
        "KPI・事務事業の検索（?q=）",
        "Search KPIs and programs (?q=)",
        None,
    ),
    (
        "GET",
        "/api/v1/export/{kind}",
        "表のダウンロード（?format=csv|xlsx|json）",
        "Download a table (?format=csv|xlsx|json)",
        None,
    ),
    (
        "POST",
        "/api/v1/import/{kind}",
        "ファイルの取り込み（本文にファイル、?file_name=&dry_run=1）",
        "Import a file (body = file bytes; ?file_name=&dry_run=1)",
        Some("File"),
    ),
    (
        "GET",
        "/api/v1/audit",
        "監査ログ（?limit=&offset=）",
        "Audit log (?limit=&offset=)",
        None,
    ),
    (
        "GET",
        "/api/v1/public/plans",
        "公開されている計画とKPIの状況",
        "Published plans and KPI status",
        None,
    ),
];

fn user(ctx: &Ctx) -> WebResult<&SessionUser> {
    ctx.user().ok_or(WebError::Unauthorized)
}

/// 422 with every field problem.
fn field_errors(errors: Vec<FieldError>) -> Response {
    let body = json!({ "error": {
        "status": 422,
        "message": "入力内容を確認してください / please check the input",
        "fields": errors,
    }});
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

async fn status(State(state): State<AppState>, ctx: Ctx) -> WebResult<Json<Value>> {
    let snap = state.snapshot().await?;
    Ok(Json(
        serde_json::to_value(&*snap.status(ctx.fy)).unwrap_or_default(),
    ))
}

async fn kpis(State(state): State<AppState>, ctx: Ctx) -> WebResult<Json<Value>> {
    let snap = state.snapshot().await?;
    let report = snap.status(ctx.fy);
    Ok(Json(json!({ "fy": ctx.fy, "kpis": report.kpis })))
}

async fn kpi(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Json<Value>> {
    let snap = state.snapshot().await?;
    let kpi = snap.kpi(&code).ok_or(WebError::NotFound)?;
    let report = snap.status(ctx.fy);
    let row = report.kpis.iter().find(|r| r.code == code);
    let obs: Vec<_> = snap
        .obs_by_kpi
        .get(&code)
        .map(|v| v.iter().map(|i| &snap.ds.observations[*i]).collect())
        .unwrap_or_default();
    Ok(Json(
        json!({ "kpi": kpi, "status": row, "observations": obs }),
    ))
}

async fn observations(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> WebResult<Json<Value>> {
    let snap = state.snapshot().await?;
    snap.kpi(&code).ok_or(WebError::NotFound)?;
    let obs: Vec<_> = snap
        .obs_by_kpi
        .get(&code)
        .map(|v| v.iter().map(|i| &snap.ds.observations[*i]).collect())
        .unwrap_or_default();
    // The version of each stored value: what a save or a confirmation names.
    let versions: serde_json::Map<String, Value> = state
        .store()
        .observation_versions(&code, &snap.area)
        .await?
        .into_iter()
        .map(|(p, v)| (p.to_string(), json!(v)))
        .collect();
    Ok(Json(
        json!({ "kpi_code": code, "area_code": snap.area, "observations": obs, "versions": versions }),
    ))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<ActualInput>),
    One(ActualInput),
}

async fn add_observations(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Json(body): Json<OneOrMany>,
) -> WebResult<Response> {
    let u = user(&ctx)?;
    let snap = state.snapshot().await?;
    let kpi = snap.kpi(&code).ok_or(WebError::NotFound)?;
    if !can_enter_actual(u, &snap.kpi_departments(kpi)) {
        return Err(WebError::Forbidden);
    }
    let inputs = match body {
        OneOrMany::Many(v) => v,
        OneOrMany::One(i) => vec![i],
    };
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for (n, i) in inputs.iter().enumerate() {
        match parse_actual(&code, &snap.area, i, &u.login) {
            Ok(o) => parsed.push((o, i.version)),
            Err(es) => errors.extend(es.into_iter().map(|e| FieldError {
                field: format!("{n}.{}", e.field),
                message: e.message,
            })),
        }
    }
    if !errors.is_empty() {
        return Ok(field_errors(errors));
    }
    let saved = save_actuals_versioned(state.store(), &parsed, &u.login).await?;
    state
        .data_changed_by(crate::cache::Change::Observations(vec![code.clone()]))
        .await;
    let changes: Vec<String> = saved
        .iter()
        .map(|s| format!("{:?}", s.change).to_lowercase())
        .collect();
    let versions: Vec<i64> = saved.iter().map(|s| s.version).collect();
    Ok((
        StatusCode::OK,
        Json(json!({ "saved": parsed.len(), "changes": changes, "versions": versions })),
    )
        .into_response())
}

#[derive(Deserialize)]
struct ConfirmInput {
    period: String,
    version: i64,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrManyConfirm {
    Many(Vec<ConfirmInput>),
    One(ConfirmInput),
}

/// Confirms values of a KPI (each at the version the caller read), all or none.
async fn confirm_observations(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Json(body): Json<OneOrManyConfirm>,
) -> WebResult<Response> {
    let u = user(&ctx)?;
    let snap = state.snapshot().await?;
    snap.kpi(&code).ok_or(WebError::NotFound)?;
    let inputs = match body {
        OneOrManyConfirm::Many(v) => v,
        OneOrManyConfirm::One(i) => vec![i],
    };
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (n, i) in inputs.iter().enumerate() {
        match citykpi_domain::observation::Period::parse(&i.period) {
            Ok(period) => items.push(citykpi_store::ConfirmItem {
                kpi_code: code.clone(),
                period,
                area_code: snap.area.clone(),
                version: i.version,
            }),
            Err(e) => errors.push(FieldError {
                field: format!("{n}.period"),
                message: e.to_string(),
            }),
        }
    }
    if !errors.is_empty() {
        return Ok(field_errors(errors));
    }
    let who = crate::pages::entry::confirmer_of(&state, u).await?;
    let changes = citykpi_app::confirm::confirm(state.store(), &who, &items).await?;
    state.data_changed();
    let changes: Vec<String> = changes
        .iter()
        .map(|c| format!("{c:?}").to_lowercase())
        .collect();
    Ok((
        StatusCode::OK,
        Json(json!({ "confirmed": items.len(), "changes": changes })),
    )
        .into_response())
}

async fn programs(State(state): State<AppState>) -> WebResult<Json<Value>> {
    let snap = state.snapshot().await?;
    Ok(Json(json!({ "programs": snap.ds.programs })))
}

async fn program(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> WebResult<Json<Value>> {
    let (program, version) = state
        .store()
        .program_with_version(&code)
        .await?
        .ok_or(WebError::NotFound)?;
    let snap = state.snapshot().await?;
    let pick = |m: &std::collections::HashMap<String, Vec<usize>>| {
        m.get(&code).cloned().unwrap_or_default()
    };
    let money: Vec<_> = pick(&snap.money_by_program)
        .into_iter()
        .map(|i| &snap.ds.money[i])
        .collect();
    let indicators: Vec<_> = pick(&snap.indicators_by_program)
        .into_iter()
        .map(|i| &snap.ds.indicators[i])
        .collect();
    let links: Vec<_> = pick(&snap.links_by_program)
        .into_iter()
        .map(|i| &snap.ds.links[i])
        .collect();
    let full_cost: Vec<Value> = money
        .iter()
        .map(|m| json!({ "fy": m.fy, "full_cost": m.full_cost(), "unit_cost": m.unit_cost() }))
        .collect();
    // Each year's revision, sent back with a money update (see `update_money`).
    let money_versions: serde_json::Map<String, Value> = money
        .iter()
        .map(|m| (m.fy.year().to_string(), json!(m.revision())))
        .collect();
    Ok(Json(json!({
        "program": program, "version": version, "money": money, "money_versions": money_versions, "costs": full_cost,
        "indicators": indicators, "links": links,
    })))
}

#[derive(Deserialize)]
struct ProgramUpdate {
    version: i64,
    #[serde(flatten)]
    fields: ProgramInput,
}

async fn update_program(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Json(body): Json<ProgramUpdate>,
) -> WebResult<Response> {
    let u = user(&ctx)?;
    let (stored, _) = state
        .store()
        .program_with_version(&code)
        .await?
        .ok_or(WebError::NotFound)?;
    let snap = state.snapshot().await?;
    if !can_edit_program(
        u,
        snap.department_of_section(&stored.section_code)
            .unwrap_or(""),
    ) {
        return Err(WebError::Forbidden);
    }
    let program = match program_from_input(&stored, &body.fields) {
        Ok(p) => p,
        Err(e) => return Ok(field_errors(e)),
    };
    match save_program(state.store(), &program, body.version, &u.login).await {
        Ok(saved) => {
            state.data_changed();
            Ok(Json(json!({ "version": saved.version, "program": program })).into_response())
        }
        Err(e @ AppError::Store(StoreError::Conflict { .. })) => Err(e.into()),
        Err(e) => Err(e.into()),
    }
}

/// A year's money with the revision it was read at (`money_versions`).
#[derive(Deserialize)]
struct MoneyUpdate {
    version: i64,
    #[serde(flatten)]
    fields: MoneyInput,
}

async fn update_money(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((code, fy)): Path<(String, String)>,
    Json(update): Json<MoneyUpdate>,
) -> WebResult<Response> {
    let mut body = update.fields;
    let u = user(&ctx)?;
    let snap = state.snapshot().await?;
    let p = snap.program(&code).ok_or(WebError::NotFound)?;
    if !can_edit_money(u, snap.program_department(p)) {
        return Err(WebError::Forbidden);
    }
    body.fy = fy;
    let existing = stored_money(state.store(), &code, &body.fy).await?;
    let money = match money_from_input(&code, existing.as_ref(), &body) {
        Ok(m) => m,
        Err(e) => return Ok(field_errors(e)),
    };
    let change = save_money(state.store(), &money, update.version, &u.login).await?;
    let (program, fy) = (code.clone(), money.fy);
    state
        .data_changed_by(crate::cache::Change::Money { program, fy })
        .await;
    Ok(
        Json(json!({ "change": format!("{change:?}").to_lowercase(), "money": money }))
            .into_response(),
    )
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search(
    State(state): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> WebResult<Json<Value>> {
    let snap = state.snapshot().await?;
    let Some(hits) = crate::pages::lists::TextHits::find(&state, &q.q).await? else {
        return Ok(Json(json!({ "kpis": [], "programs": [] })));
    };
    let kpis: Vec<Value> = hits
        .kpis
        .iter()
        .filter_map(|c| snap.kpi(c))
        .map(|k| json!({ "code": k.code, "name_ja": k.name_ja, "name_en": k.name_en }))
        .collect();
    let programs: Vec<Value> = hits
        .programs
        .iter()
        .filter_map(|c| snap.program(c))
        .map(|p| json!({ "code": p.code, "name_ja": p.name_ja, "name_en": p.name_en }))
        .collect();
    Ok(Json(json!({ "kpis": kpis, "programs": programs })))
}

#[derive(Deserialize)]
struct EvidenceQuery {
    #[serde(default)]
    kpi: Option<String>,
    #[serde(default)]
    program: Option<String>,
}

async fn evidence(
    State(state): State<AppState>,
    Query(q): Query<EvidenceQuery>,
) -> WebResult<Json<Value>> {
    let kpi = q.kpi.as_deref().filter(|s| !s.is_empty());
    let program = q.program.as_deref().filter(|s| !s.is_empty());
    let rows = state.store().link_evidence(kpi, program).await?;
    Ok(Json(json!({ "evidence": rows })))
}

#[derive(Deserialize)]
struct ExportQuery {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(kind): Path<String>,
    Query(q): Query<ExportQuery>,
) -> WebResult<Response> {
    let kind = Kind::parse(&kind).ok_or(WebError::NotFound)?;
    if !can_export(user(&ctx)?, kind) {
        return Err(WebError::Forbidden);
    }
    let format = match q.format.as_deref() {
        None | Some("csv") => Format::Csv,
        Some("xlsx") => Format::Xlsx,
        Some("json") => Format::Json,
        Some(f) => {
            return Err(WebError::BadRequest(format!(
                "形式「{f}」は使えません / unknown format \"{f}\""
            )));
        }
    };
    let lang = if q.lang.as_deref() == Some("en") {
        HeaderLang::En
    } else {
        HeaderLang::Ja
    };
    let bytes = citykpi_app::data::export_kind(state.store(), kind, format, lang).await?;
    let mut resp = bytes.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.mime_type()),
    );
    Ok(resp)
}

#[derive(Deserialize)]
struct ImportQuery {
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    dry_run: Option<String>,
}

async fn import(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(kind): Path<String>,
    Query(q): Query<ImportQuery>,
    body: axum::body::Body,
) -> WebResult<Response> {
    let u = user(&ctx)?.clone();
    let kind = Kind::parse(&kind).ok_or(WebError::NotFound)?;
    let name = q
        .file_name
        .unwrap_or_else(|| format!("{}.csv", kind.as_str()));
    let dry_run = q
        .dry_run
        .as_deref()
        .is_some_and(|v| v == "1" || v == "true");
    // The body limit is the configured upload limit, stated when exceeded.
    let body = axum::body::to_bytes(body, crate::limits::upload_limit_bytes())
        .await
        .map_err(|_| crate::limits::upload_too_large())?;
    let upload = crate::pages::data::Upload::from_bytes(name, &body)?;
    drop(body);
    match import_as(&state, &u, &upload, Some(kind), dry_run).await? {
        Ok(r) => Ok(Json(json!({
            "file": r.file, "kind": r.kind, "rows_read": r.rows_read, "dry_run": dry_run,
            "warnings": r.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
            "applied": r.applied,
        }))
        .into_response()),
        Err(AppError::Import(citykpi_io::ImportError::Invalid(report))) => {
            let problems: Vec<Value> = report
                .problems
                .iter()
                .map(|p| json!({ "row": p.row, "column": p.column, "value": p.value, "reason": p.reason }))
                .collect();
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "error": { "status": 422, "message": report.to_string().lines().next().unwrap_or_default(), "problems": problems, "omitted": report.omitted } })),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct Paging {
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    offset: Option<i64>,
}

async fn audit(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Paging>,
) -> WebResult<Json<Value>> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let offset = p.offset.unwrap_or(0).max(0);
    let role = ctx
        .user()
        .map(|u| u.role)
        .unwrap_or(citykpi_domain::org::Role::Viewer);
    let scope = citykpi_app::audit::AuditScope::of(role).ok_or(WebError::Forbidden)?;
    let query = crate::pages::admin::audit_query_of(ctx.query.as_deref());
    let entries = citykpi_app::audit::entries(state.store(), scope, &query, limit, offset).await?;
    Ok(Json(
        json!({ "entries": entries, "limit": limit, "offset": offset }),
    ))
}

async fn public_plans(State(state): State<AppState>, ctx: Ctx) -> WebResult<Json<Value>> {
    let snap = state.public_snapshot().await?;
    let fy = if ctx.fy_explicit {
        ctx.fy
    } else {
        default_fy()
    };
    Ok(Json(
        serde_json::to_value(&*snap.public_status(fy)).unwrap_or_default(),
    ))
}

// ----- OpenAPI -----

fn roles_of(method: &str, path: &str) -> Vec<&'static str> {
    use crate::access::Access;
    match all_routes()
        .find(|r| r.method == method && r.path == path)
        .map(|r| r.access)
    {
        Some(Access::Public) => vec!["public"],
        Some(Access::Login) => citykpi_domain::org::Role::ALL
            .iter()
            .map(|r| r.as_str())
            .collect(),
        Some(Access::Roles(rs)) => rs.iter().map(|r| r.as_str()).collect(),
        Some(Access::Signed(_)) => vec!["signature"],
        None => vec![],
    }
}

fn schema_components() -> Value {
    let strings = |names: &[&str]| -> Value {
        let props: serde_json::Map<String, Value> = names
            .iter()
            .map(|n| (n.to_string(), json!({ "type": "string" })))
            .collect();
        json!({ "type": "object", "properties": props })
    };
    let mut program_update = strings(&[
        "name_ja",
        "name_en",
        "purpose",
        "target_group",
        "intent",
        "means",
        "delivery",
        "legal_basis",
        "start_fy",
        "end_fy",
        "mandatory",
        "published",
    ]);
    program_update["properties"]["version"] = json!({ "type": "integer", "description": "編集開始時の版 / the version read before editing" });
    program_update["required"] = json!(["version"]);
    let mut money_update = strings(&[
        "budget_initial",
        "budget_revised",
        "settled",
        "staff_fte",
        "staff_unit_cost",
        "output_quantity",
    ]);
    money_update["properties"]["version"] = json!({ "type": "integer", "description": "読んだ事業費の版（GET /api/v1/programs/{code} の money_versions、未登録は0） / the revision of the figures read (money_versions of GET /api/v1/programs/{code}; 0 when none)" });
    money_update["required"] = json!(["version"]);
    let mut actual_input = strings(&["period", "value", "status", "source", "note"]);
    actual_input["properties"]["version"] = json!({ "type": "integer", "description": "読んだ時点の版（新規は0）。指定すると、他の人が先に保存していれば409 / the version read (0 = new); given, a stale save answers 409" });
    json!({
        "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "description": "アカウント画面で発行したAPIトークン / an API token issued on the account page" } },
        "schemas": {
            "ActualInput": actual_input,
            "ConfirmInput": {
                "type": "object",
                "properties": {
                    "period": { "type": "string" },
                    "version": { "type": "integer", "description": "確認する値の版（GETの versions） / the version of the value read (`versions` of the GET)" }
                },
                "required": ["period", "version"]
            },
            "Notice": {
                "type": "object",
                "description": "期限のある作業（段階ごと） / work due in a running cycle, one stage",
                "required": ["fy", "stage", "stage_number", "label_ja", "label_en", "count", "deadline", "overdue"],
                "properties": {
                    "fy": { "type": "integer", "description": "評価対象年度 / the evaluated fiscal year" },
                    "stage": { "type": "string" },
                    "stage_number": { "type": "integer" },
                    "label_ja": { "type": "string" },
                    "label_en": { "type": "string" },
                    "count": { "type": "integer", "minimum": 0 },
                    "deadline": { "type": ["string", "null"], "format": "date" },
                    "overdue": { "type": "boolean" }
                }
            },
            "ProgramUpdate": program_update,
            "MoneyInput": money_update,
            "Error": { "type": "object", "properties": { "error": { "type": "object", "properties": {
                "status": { "type": "integer" }, "message": { "type": "string" },
                "fields": { "type": "array", "items": { "type": "object", "properties": { "field": { "type": "string" }, "message": { "type": "string" } } } }
            } } } }
        }
    })
}

/// The schema of a route's 200 answer: an object, except for the routes
/// that answer with a list.
fn response_schema(method: &str, path: &str) -> Value {
    match (method, path) {
        ("GET", "/api/v1/notices") => {
            json!({ "type": "array", "items": { "$ref": "#/components/schemas/Notice" } })
        }
        _ => json!({ "type": "object" }),
    }
}

/// What an operation answers 200 with: JSON, or for the exports the file
/// in the format asked for (`?format=csv|xlsx|json`, CSV when not given).
fn response_content(method: &str, path: &str) -> Value {
    if method == "GET" && path.contains("/export/") {
        let file = json!({ "schema": { "type": "string" } });
        let mut content = serde_json::Map::new();
        for format in [Format::Csv, Format::Xlsx] {
            let mime = format.mime_type();
            let bare = mime.split(';').next().unwrap_or(mime).trim();
            content.insert(bare.to_string(), file.clone());
        }
        content.insert("application/json".into(), json!({ "schema": {} }));
        return Value::Object(content);
    }
    json!({ "application/json": { "schema": response_schema(method, path) } })
}

type ApiDoc = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

/// Every documented operation: the core's and those the areas document
/// beside their routes. The docs page and `openapi.json` both list these.
fn all_api_docs() -> impl Iterator<Item = &'static ApiDoc> {
    API_DOCS
        .iter()
        .chain(crate::pages::partners::API_DOCS)
        .chain(crate::pages::partners::intake::API_DOCS)
        .chain(crate::pages::partners::menu_public::API_DOCS)
        .chain(crate::pages::partners::outreach::API_DOCS)
        .chain(crate::pages::partners::registry::API_DOCS)
        .chain(crate::pages::cycle::API_DOCS)
        .chain(crate::pages::whatif::API_DOCS)
        .chain(crate::pages::evidence::API_DOCS)
}

/// The OpenAPI 3.1 document of /api/v1.
pub fn openapi_document() -> Value {
    let mut paths = serde_json::Map::new();
    // The partnership area documents its own routes beside them.
    for (method, path, ja, en, body) in all_api_docs() {
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let roles = roles_of(method, path);
        let mut op = json!({
            "summary": en,
            "description": format!("{ja} / {en}"),
            "parameters": params,
            "x-roles": roles,
            "responses": {
                "200": { "description": "OK", "content": response_content(method, path) },
                "400": { "description": "要求の誤り / bad request", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                "401": { "description": "ログインまたはトークンが必要 / login or token required", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                "403": { "description": "権限なし / forbidden", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                "404": { "description": "見つかりません / not found" },
                "409": { "description": "版の競合 / version conflict" },
                "413": { "description": "大きすぎる本文 / body too large", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                "415": { "description": "本文の形式が違う / unsupported body type", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                "422": { "description": "入力エラー / invalid input", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
            }
        });
        if roles != ["public"] {
            op["security"] = json!([{ "bearer": [] }]);
        }
        match body {
            Some("File") => {
                op["requestBody"] = json!({ "required": true, "content": { "application/octet-stream": { "schema": { "type": "string", "contentMediaType": "application/octet-stream" } } } });
            }
            Some(schema) => {
                // A schema of one operation is written inline beside its route.
                let schema = match serde_json::from_str::<Value>(schema) {
                    Ok(inline) if schema.starts_with('{') => inline,
                    _ => json!({ "$ref": format!("#/components/schemas/{schema}") }),
                };
                op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": schema } } });
            }
            None => {}
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[method.to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "citykpi API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "KPIによる市政運営のためのAPI / API of citykpi, steering a city by KPIs"
        },
        "servers": [{ "url": "/" }],
        "paths": paths,
        "components": schema_components(),
    })
}

pub async fn openapi() -> Response {
    let mut resp = Json(openapi_document()).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    resp
}

/// The readable API page: every endpoint with the roles that may use it.
pub async fn docs_page(ctx: Ctx) -> Response {
    let t = ctx.t;
    let body = html! {
        h1 { (t.api_title) }
        p { (t.api_intro) ": " a href="/api/openapi.json" { "/api/openapi.json" } }
        p { (t.api_token_hint) " " a href="/account" { (t.nav_account) } }
        pre { "curl -H 'Authorization: Bearer TOKEN' SERVER/api/v1/kpis?fy=2024" }
        div.table-wrap {
            table {
                thead { tr {
                    th scope="col" { (t.api_method) }
                    th scope="col" { (t.api_path) }
                    th scope="col" { (t.api_summary) }
                    th scope="col" { (t.api_roles) }
                } }
                tbody {
                    @for (method, path, ja, en, _) in all_api_docs() {
                        tr {
                            td { code { (method) } }
                            td { code { (path) } }
                            td { @if ctx.lang == crate::i18n::Lang::Ja { (ja) } @else { (en) } }
                            td { (roles_of(method, path).join(", ")) }
                        }
                    }
                }
            }
        }
    };
    render(
        &ctx,
        Page {
            title: t.api_title,
            nav: Nav::Api,
            body,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Schemathesis skipped the bodies of three operations whose schema
    /// was written inline but put in a `$ref`; every reference resolves now.
    #[test]
    fn every_reference_resolves_and_exports_declare_their_files() {
        fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        out.push(r);
                    }
                    m.values().for_each(|x| refs(x, out));
                }
                Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
                _ => {}
            }
        }
        let doc = openapi_document();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 100, "{}", found.len());
        for r in found {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "unresolved {r}"
            );
        }
        let decision = &doc["paths"]["/api/v1/partners/members/{id}/decision"]["post"];
        let body = &decision["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(body["required"], json!(["decision"]));
        let export = &doc["paths"]["/api/v1/partners/export/members"]["get"];
        let content = &export["responses"]["200"]["content"];
        assert!(content["text/csv"].is_object(), "{content}");
        assert!(content["application/json"].is_object(), "{content}");
    }

    #[test]
    fn every_api_route_is_documented_and_in_the_access_table() {
        let doc = openapi_document();
        assert_eq!(doc["openapi"], "3.1.0");
        for r in all_routes().filter(|r| r.path.starts_with("/api/v1/")) {
            let op = &doc["paths"][r.path][r.method.to_ascii_lowercase()];
            assert!(op.is_object(), "{} {} is not documented", r.method, r.path);
        }
        for (m, p, ..) in API_DOCS {
            assert!(!roles_of(m, p).is_empty(), "{m} {p} has no access rule");
        }
        assert_eq!(
            doc["paths"]["/api/v1/audit"]["get"]["x-roles"],
            json!(["admin", "strategy_office"])
        );
    }
}
