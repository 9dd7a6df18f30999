//! シナリオの仮説 pages: a KPI's causal chain (activity → output → outcome
//! → KPI), its assumptions with their verdicts and evidence, the strategy
//! text, and every earlier version. The strategy office and the department
//! editors of the KPI's owner sections revise it; everyone logged in reads it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use citykpi_app::cycle::{self as service, ScenarioView};
use citykpi_domain::cycle::FieldError;
use citykpi_domain::cycle::scenario::{Assumption, ChainLevel, ChainLink, Scenario, Verdict};
use maud::{Markup, html};
use serde::Deserialize;

use super::{error_for, error_summary, input, page, refusal, user};
use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{WebError, WebResult};
use crate::extract::{Form, Json, Path};
use crate::i18n::Lang;
use crate::layout::field_error;
use crate::session::SessionUser;
use citykpi_domain::org::Role::*;

/// Blank rows the form offers after the filled ones.
const SPARE_ROWS: usize = 3;
/// Rows read back from a form: as many as it can show.
const MAX_FORM_ROWS: usize = citykpi_domain::cycle::scenario::MAX_ITEMS + SPARE_ROWS;

struct ScenarioText {
    title: &'static str,
    strategy: &'static str,
    chain: &'static str,
    level: &'static str,
    step: &'static str,
    program: &'static str,
    assumptions: &'static str,
    assumption: &'static str,
    verdict: &'static str,
    evidence: &'static str,
    none: &'static str,
    version: &'static str,
    history: &'static str,
    revise: &'static str,
    save: &'static str,
    saved: &'static str,
    back: &'static str,
    counts: &'static str,
}

const JA: ScenarioText = ScenarioText {
    title: "シナリオの仮説",
    strategy: "戦略・方針",
    chain: "因果の連鎖",
    level: "段階",
    step: "内容",
    program: "事務事業コード",
    assumptions: "前提となる仮説",
    assumption: "仮説",
    verdict: "判定",
    evidence: "根拠",
    none: "まだ記入されていません。",
    version: "第{n}版",
    history: "これまでの版",
    revise: "シナリオを改訂する",
    save: "保存（新しい版として記録）",
    saved: "保存しました。",
    back: "KPIに戻る",
    counts: "成立 {h}件・不成立 {f}件・未検証 {u}件",
};

const EN: ScenarioText = ScenarioText {
    title: "Scenario hypotheses",
    strategy: "Strategy",
    chain: "Causal chain",
    level: "Level",
    step: "Step",
    program: "Program code",
    assumptions: "Assumptions",
    assumption: "Assumption",
    verdict: "Verdict",
    evidence: "Evidence",
    none: "Not written yet.",
    version: "version {n}",
    history: "Earlier versions",
    revise: "Revise the scenario",
    save: "Save (as a new version)",
    saved: "Saved.",
    back: "Back to the KPI",
    counts: "held {h} · failed {f} · not yet known {u}",
};

fn text(lang: Lang) -> &'static ScenarioText {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

/// May `user` revise the scenario of a KPI owned by `owner_departments`?
pub fn can_edit_scenario(user: &SessionUser, owner_departments: &[&str]) -> bool {
    match user.role {
        Admin | StrategyOffice => true,
        DepartmentEditor => {
            !user.department_code.is_empty()
                && owner_departments.contains(&user.department_code.as_str())
        }
        Finance | Viewer | Executive => false,
    }
}

async fn load(state: &AppState, code: &str) -> WebResult<(ScenarioView, Vec<String>)> {
    let view = service::scenario_view(state.store(), code).await?;
    let snap = state.snapshot().await?;
    let depts = view
        .owner_sections
        .iter()
        .filter_map(|s| snap.department_of_section(s).map(str::to_string))
        .collect();
    Ok((view, depts))
}

fn verdict_label(lang: Lang, v: Verdict) -> &'static str {
    lang.name(v.label_ja(), v.label_en())
}

fn level_label(lang: Lang, l: ChainLevel) -> &'static str {
    lang.name(l.label_ja(), l.label_en())
}

fn scenario_body(lang: Lang, s: &Scenario) -> Markup {
    let t = text(lang);
    let (h, f, u) = s.verdict_counts();
    html! {
        h3 { (t.strategy) }
        p.prose { (s.strategy) }
        h3 { (t.chain) }
        ol.chain {
            @for l in &s.chain {
                li {
                    span.tag { (level_label(lang, l.level)) } " " (l.text)
                    @if let Some(c) = &l.program_code { " （" a href={ "/programs/" (c) } { (c) } "）" }
                }
            }
        }
        h3 { (t.assumptions) }
        p.muted { (t.counts.replace("{h}", &h.to_string()).replace("{f}", &f.to_string()).replace("{u}", &u.to_string())) }
        @if !s.assumptions.is_empty() {
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { (t.assumption) } th scope="col" { (t.verdict) } th scope="col" { (t.evidence) }
                } }
                tbody {
                    @for a in &s.assumptions {
                        tr { td { (a.text) } td { (verdict_label(lang, a.verdict)) } td { (a.evidence) } }
                    }
                }
            } }
        }
    }
}

fn form(ctx: &Ctx, code: &str, version: i64, s: &Scenario, errors: &[FieldError]) -> Markup {
    let lang = ctx.lang;
    let t = text(lang);
    let chain_error = error_for(lang, errors, "chain");
    let blank_link = ChainLink {
        level: ChainLevel::Activity,
        text: String::new(),
        program_code: None,
    };
    let blank_assumption = Assumption {
        text: String::new(),
        verdict: Verdict::Unknown,
        evidence: String::new(),
    };
    html! {
        h2 id="revise" { (t.revise) }
        (error_summary(lang, errors))
        form method="post" action={ "/kpis/" (code) "/scenario" } {
            input type="hidden" name="csrf" value=(ctx.csrf());
            input type="hidden" name="version" value=(version);
            (input(lang, "strategy", t.strategy, &s.strategy, errors, true))
            fieldset id="chain" {
                legend { (t.chain) }
                (field_error("chain", chain_error.as_deref()))
                @for (i, l) in s.chain.iter().chain(std::iter::repeat_n(&blank_link, SPARE_ROWS)).enumerate() {
                    div.row {
                        @let level_id = format!("chain_{i}__level");
                        div {
                            label for=(level_id) { (t.level) " " (i + 1) }
                            select id=(level_id) name=(level_id) {
                                @for lv in ChainLevel::ALL {
                                    option value=(lv.as_str()) selected[lv == l.level] { (level_label(lang, lv)) }
                                }
                            }
                        }
                        (input(lang, &format!("chain[{i}].text"), t.step, &l.text, errors, false))
                        (input(lang, &format!("chain[{i}].program_code"), t.program, l.program_code.as_deref().unwrap_or(""), errors, false))
                    }
                }
            }
            fieldset {
                legend { (t.assumptions) }
                @for (i, a) in s.assumptions.iter().chain(std::iter::repeat_n(&blank_assumption, SPARE_ROWS)).enumerate() {
                    div.row {
                        (input(lang, &format!("assumptions[{i}].text"), t.assumption, &a.text, errors, false))
                        @let verdict_id = format!("assumptions_{i}__verdict");
                        div {
                            label for=(verdict_id) { (t.verdict) }
                            select id=(verdict_id) name=(verdict_id) {
                                @for v in Verdict::ALL {
                                    option value=(v.as_str()) selected[v == a.verdict] { (verdict_label(lang, v)) }
                                }
                            }
                        }
                        (input(lang, &format!("assumptions[{i}].evidence"), t.evidence, &a.evidence, errors, false))
                    }
                }
            }
            button type="submit" { (t.save) }
        }
    }
}

fn render_page(
    ctx: &Ctx,
    view: &ScenarioView,
    may_edit: bool,
    draft: Option<(&Scenario, i64)>,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let t = text(lang);
    let code = &view.kpi_code;
    let saved = crate::ctx::query_param(ctx.query.as_deref(), "saved").is_some();
    let empty = Scenario {
        kpi_code: code.clone(),
        strategy: String::new(),
        chain: Vec::new(),
        assumptions: Vec::new(),
    };
    let current_version = view.current.as_ref().map_or(0, |c| c.version);
    let (draft, version) = draft.unwrap_or((
        view.current.as_ref().map_or(&empty, |c| &c.scenario),
        current_version,
    ));
    let body = html! {
        p { a href={ "/kpis/" (code) } { "← " (t.back) } }
        h1 { (t.title) ": " (code) }
        @if saved { div.notice.success role="status" { (t.saved) } }
        @match &view.current {
            None => p { (t.none) },
            Some(c) => {
                p.muted { (t.version.replace("{n}", &c.version.to_string())) " ・ " (c.saved_by) " ・ " (citykpi_domain::jst::display(&c.saved_at)) }
                (scenario_body(lang, &c.scenario))
            }
        }
        @if !view.history.is_empty() {
            h2 { (t.history) }
            @for old in &view.history {
                details {
                    summary { (t.version.replace("{n}", &old.version.to_string())) " ・ " (old.saved_by) " ・ " (citykpi_domain::jst::display(&old.saved_at)) }
                    (scenario_body(lang, &old.scenario))
                }
            }
        }
        @if may_edit { (form(ctx, code, version, draft, errors)) }
    };
    page(ctx, t.title, body, status)
}

pub async fn scenario_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    let u = user(&ctx)?;
    let (view, depts) = load(&state, &code).await?;
    let depts: Vec<&str> = depts.iter().map(String::as_str).collect();
    let may_edit = can_edit_scenario(u, &depts);
    Ok(render_page(
        &ctx,
        &view,
        may_edit,
        None,
        &[],
        StatusCode::OK,
    ))
}

/// The form's rows read back into a scenario: rows left blank are dropped
/// (so the indices of the messages are those of the rows shown again).
fn from_form(
    code: &str,
    f: &std::collections::HashMap<String, String>,
) -> (Scenario, i64, Vec<FieldError>) {
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let mut errors = Vec::new();
    let version = match get("version").parse::<i64>() {
        Ok(v) if v >= 0 => v,
        _ => {
            errors.push(FieldError::new(
                "version",
                "版が読めません",
                "unreadable version",
            ));
            0
        }
    };
    let mut chain = Vec::new();
    for i in 0..MAX_FORM_ROWS {
        let text = get(&format!("chain_{i}__text"));
        let program = get(&format!("chain_{i}__program_code"));
        if text.is_empty() && program.is_empty() {
            continue;
        }
        let raw = get(&format!("chain_{i}__level"));
        let level = ChainLevel::parse(&raw).unwrap_or_else(|| {
            errors.push(FieldError::new(
                format!("chain[{}].text", chain.len()),
                format!("段階「{raw}」はありません"),
                format!("no level \"{raw}\""),
            ));
            ChainLevel::Activity
        });
        chain.push(ChainLink {
            level,
            text,
            program_code: (!program.is_empty()).then_some(program),
        });
    }
    let mut assumptions = Vec::new();
    for i in 0..MAX_FORM_ROWS {
        let text = get(&format!("assumptions_{i}__text"));
        let evidence = get(&format!("assumptions_{i}__evidence"));
        if text.is_empty() && evidence.is_empty() {
            continue;
        }
        let raw = get(&format!("assumptions_{i}__verdict"));
        let verdict = Verdict::parse(&raw).unwrap_or_else(|| {
            errors.push(FieldError::new(
                format!("assumptions[{}].text", assumptions.len()),
                format!("判定「{raw}」はありません"),
                format!("no verdict \"{raw}\""),
            ));
            Verdict::Unknown
        });
        assumptions.push(Assumption {
            text,
            verdict,
            evidence,
        });
    }
    let scenario = Scenario {
        kpi_code: code.to_string(),
        strategy: f
            .get("strategy")
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        chain,
        assumptions,
    };
    (scenario, version, errors)
}

#[derive(Deserialize)]
pub struct ScenarioForm {
    #[serde(flatten)]
    fields: std::collections::HashMap<String, String>,
}

pub async fn save_scenario(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(form): Form<ScenarioForm>,
) -> WebResult<Response> {
    let u = user(&ctx)?;
    let (view, depts) = load(&state, &code).await?;
    let depts: Vec<&str> = depts.iter().map(String::as_str).collect();
    if !can_edit_scenario(u, &depts) {
        return Err(WebError::Forbidden);
    }
    let (scenario, version, errors) = from_form(&view.kpi_code, &form.fields);
    if !errors.is_empty() {
        return Ok(render_page(
            &ctx,
            &view,
            true,
            Some((&scenario, version)),
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    match service::save_scenario(state.store(), &u.login, scenario.clone(), version).await {
        Ok(_) => {
            state.data_changed();
            Ok(Redirect::to(&format!("/kpis/{}/scenario?saved=1", view.kpi_code)).into_response())
        }
        Err(e) => match refusal(ctx.lang, &e) {
            Some((status, errors)) => {
                // A stale version: show what is stored now, keep the draft.
                let (view, _) = load(&state, &code).await?;
                Ok(render_page(
                    &ctx,
                    &view,
                    true,
                    Some((&scenario, version)),
                    &errors,
                    status,
                ))
            }
            None => Err(WebError::from(e)),
        },
    }
}

pub async fn api_scenario(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    user(&ctx)?;
    let (view, _) = load(&state, &code).await?;
    Ok(Json(view).into_response())
}

#[derive(Deserialize)]
pub struct ScenarioPut {
    version: i64,
    strategy: String,
    #[serde(default)]
    chain: Vec<ChainLink>,
    #[serde(default)]
    assumptions: Vec<Assumption>,
}

pub async fn api_save_scenario(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Json(body): Json<ScenarioPut>,
) -> WebResult<Response> {
    let u = user(&ctx)?;
    let (view, depts) = load(&state, &code).await?;
    let depts: Vec<&str> = depts.iter().map(String::as_str).collect();
    if !can_edit_scenario(u, &depts) {
        return Err(WebError::Forbidden);
    }
    let scenario = Scenario {
        kpi_code: view.kpi_code.clone(),
        strategy: body.strategy,
        chain: body.chain,
        assumptions: body.assumptions,
    };
    match service::save_scenario(state.store(), &u.login, scenario, body.version).await {
        Ok(saved) => {
            state.data_changed();
            Ok(Json(serde_json::json!({ "version": saved.version })).into_response())
        }
        Err(e) => match refusal(ctx.lang, &e) {
            Some((status, errors)) => {
                Ok((status, Json(serde_json::json!({ "errors": errors }))).into_response())
            }
            None => Err(WebError::from(e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_rows_are_dropped_and_rows_keep_their_order() {
        let f: std::collections::HashMap<String, String> = [
            ("version", "2"),
            ("strategy", " 転入を増やす "),
            ("chain_0__level", "activity"),
            ("chain_0__text", "保育所整備"),
            ("chain_0__program_code", "J-001"),
            ("chain_1__level", "output"),
            ("chain_1__text", ""),
            ("chain_2__level", "kpi"),
            ("chain_2__text", "待機児童数"),
            ("assumptions_0__text", "定員増で待機児童が減る"),
            ("assumptions_0__verdict", "held"),
            ("assumptions_0__evidence", "0人"),
            ("assumptions_1__verdict", "たぶん"),
            ("assumptions_1__text", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (s, version, errors) = from_form("K-1", &f);
        assert_eq!(version, 2);
        assert_eq!(s.strategy, "転入を増やす");
        assert_eq!(s.chain.len(), 2);
        assert_eq!(s.chain[1].level, ChainLevel::Kpi);
        assert_eq!(s.chain[0].program_code.as_deref(), Some("J-001"));
        assert_eq!(s.assumptions[0].verdict, Verdict::Held);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "assumptions[1].text");
    }

    #[test]
    fn who_may_revise() {
        let u = |role, dept: &str| SessionUser {
            login: "x".into(),
            display_name: "x".into(),
            role,
            section_code: "S".into(),
            department_code: dept.into(),
        };
        assert!(can_edit_scenario(&u(StrategyOffice, ""), &["D1"]));
        assert!(can_edit_scenario(&u(DepartmentEditor, "D1"), &["D2", "D1"]));
        assert!(!can_edit_scenario(&u(DepartmentEditor, "D3"), &["D1"]));
        assert!(!can_edit_scenario(&u(DepartmentEditor, ""), &[""]));
        assert!(!can_edit_scenario(&u(Finance, "D1"), &["D1"]));
        assert!(!can_edit_scenario(&u(Viewer, "D1"), &["D1"]));
    }
}
