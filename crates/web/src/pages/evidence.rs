//! The evidence workbench (根拠の分析): from a KPI page or a program's KPI
//! link, a planner picks the method (synthetic control, DiD, interrupted time
//! series), the treatment year (the program's start by default) and the
//! comparison areas whose values are stored, runs it on the database's data,
//! reads the result as charts and a plain sentence, and saves it as evidence
//! on the program–KPI link with its grade. The strategy office and the
//! department that owns the program (or the KPI) run and save; every
//! logged-in user opens the page. The computation is
//! `citykpi_app::evidence::stored`, the same the CLI and the API call.

use crate::extract::{Form, Json};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use citykpi_app::evidence::engine::EvidenceError;
use citykpi_app::evidence::stored::{self, Choices};
use citykpi_app::evidence::{EvidenceReport, Method, StoredRequest, StoredRun};
use citykpi_charts::{Bar, BarsChart, PathSeries, PathsChart, bars_chart, palette, paths_chart};
use citykpi_domain::org::Role;
use citykpi_domain::program::EvidenceGrade;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::access::{Access, RouteRule};
use crate::cache::Snapshot;
use crate::ctx::Ctx;
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::layout::{Nav, Page, chart, render};
use crate::session::SessionUser;

use Role::*;

/// Who may run and save: the strategy office, and department editors for
/// the programs (or KPIs) of their own department (`can_analyse`).
pub const PLANNERS: &[Role] = &[Admin, StrategyOffice, DepartmentEditor];

const fn r(method: &'static str, path: &'static str, access: Access) -> RouteRule {
    RouteRule {
        method,
        path,
        access,
    }
}

/// This page's routes with the roles they admit.
pub const ROUTES: &[RouteRule] = &[
    r("GET", "/evidence", Access::Login),
    r("POST", "/evidence/run", Access::Roles(PLANNERS)),
    r("POST", "/evidence/save", Access::Roles(PLANNERS)),
    r("POST", "/api/v1/evidence/run", Access::Roles(PLANNERS)),
    r("POST", "/api/v1/evidence", Access::Roles(PLANNERS)),
];

/// Documentation of the API routes, in the shape of `api::API_DOCS`.
pub const API_DOCS: &[(&str, &str, &str, &str, Option<&str>)] = &[
    (
        "POST",
        "/api/v1/evidence/run",
        "保存データで根拠を推定（合成コントロール・差の差分・分断時系列）",
        "Estimate on the stored data (JSON body {kpi, method: synth|did|its, program?, treatment_year?, units?, predictors?, placebos?, drop_incomplete_donors?}); a bad design is answered 422 with its reason",
        None,
    ),
    (
        "POST",
        "/api/v1/evidence",
        "推定して事業→KPIの寄与に根拠として保存",
        "Estimate and save as evidence on the program–KPI link (JSON body {request, grade?: A|B|C|D, note?}; request.program is required)",
        None,
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/evidence", get(page))
        .route("/evidence/run", post(run_form))
        .route("/evidence/save", post(save_form))
        .route("/api/v1/evidence/run", post(api_run))
        .route("/api/v1/evidence", post(api_save))
}

impl From<EvidenceError> for WebError {
    fn from(e: EvidenceError) -> Self {
        WebError::App(e.into())
    }
}

/// May `user` run and save evidence on `kpi` (for `program`)? Department
/// editors: the program's department, or without a program one of the KPI's.
pub fn can_analyse(user: &SessionUser, snap: &Snapshot, kpi: &str, program: Option<&str>) -> bool {
    match user.role {
        Admin | StrategyOffice => true,
        DepartmentEditor if !user.department_code.is_empty() => match program {
            Some(p) => snap
                .program(p)
                .is_some_and(|p| snap.program_department(p) == user.department_code),
            None => snap.kpi(kpi).is_some_and(|k| {
                snap.kpi_departments(k)
                    .contains(&user.department_code.as_str())
            }),
        },
        _ => false,
    }
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    kpi: Option<String>,
    program: Option<String>,
}

/// The form's fields as sent (repeated `unit` / `predictor` kept in order).
#[derive(Debug, Default, Clone)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }
    fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, v)| n == k && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }
    fn request(&self) -> Result<StoredRequest, EvidenceError> {
        let kpi = self
            .get("kpi")
            .ok_or_else(|| EvidenceError::invalid("kpi", "KPIを選んでください / choose a KPI"))?;
        let method = self.get("method").and_then(Method::parse).ok_or_else(|| {
            EvidenceError::invalid("method", "手法を選んでください / choose a method")
        })?;
        let treatment_year = match self.get("treatment_year") {
            Some(y) => Some(y.trim().parse::<i32>().map_err(|_| {
                EvidenceError::invalid(
                    "treatment_year",
                    format!("「{y}」は年度（例 2019）ではありません / \"{y}\" is not a year such as 2019"),
                )
            })?),
            None => None,
        };
        Ok(StoredRequest {
            kpi: kpi.trim().to_string(),
            method,
            program: self.get("program").map(|p| p.trim().to_string()),
            treatment_year,
            units: self.all("unit"),
            predictors: self.all("predictor"),
            placebos: self.get("placebos").is_some(),
            drop_incomplete_donors: self.get("drop_incomplete").is_some(),
        })
    }
}

fn method_label(lang: Lang, m: Method) -> &'static str {
    match m {
        Method::Synth => lang.name("合成コントロール法", "Synthetic control"),
        Method::Did => lang.name("差の差分法", "Difference-in-differences"),
        Method::Its => lang.name("分断時系列分析", "Interrupted time series"),
    }
}

fn method_hint(lang: Lang, m: Method) -> &'static str {
    match m {
        Method::Synth => lang.name(
            "比較団体を重み付けして「事業がなかった場合の自市」を作り、実績と比べます",
            "Weights comparison areas into a \"city without the program\" and compares it with the actuals",
        ),
        Method::Did => lang.name(
            "事業の前後の変化を、比較団体の同じ時期の変化と比べます",
            "Compares the city's change before and after with the comparison areas' change over the same years",
        ),
        Method::Its => lang.name(
            "自市だけの推移で、それまでの傾向からの変化を見ます（比較団体なし）",
            "Looks at the break from the city's own earlier trend (no comparison areas)",
        ),
    }
}

/// The workbench form, filled from `fields` (a previous submission) or
/// the defaults of `choices`.
fn form(
    ctx: &Ctx,
    snap: &Snapshot,
    choices: &Choices,
    fields: Option<&Fields>,
    may_run: bool,
) -> Markup {
    let lang = ctx.lang;
    let kpi = &choices.kpi;
    let program = fields
        .and_then(|f| f.get("program").map(str::to_string))
        .or_else(|| {
            ctx.query
                .as_deref()
                .and_then(|q| crate::ctx::query_param(Some(q), "program"))
        });
    let links: Vec<&str> = snap
        .links_by_kpi
        .get(kpi)
        .map(|v| {
            v.iter()
                .map(|i| snap.ds.links[*i].program_code.as_str())
                .collect()
        })
        .unwrap_or_default();
    let method = fields
        .and_then(|f| f.get("method"))
        .and_then(Method::parse)
        .unwrap_or(Method::Synth);
    let year = fields
        .and_then(|f| f.get("treatment_year").map(str::to_string))
        .or_else(|| choices.default_treatment_year.map(|y| y.to_string()))
        .unwrap_or_default();
    let chosen_units: Option<Vec<String>> = fields.map(|f| f.all("unit"));
    let chosen_predictors: Vec<String> = fields.map(|f| f.all("predictor")).unwrap_or_default();
    let placebos = fields.is_none_or(|f| f.get("placebos").is_some());
    let drop_incomplete = fields.is_some_and(|f| f.get("drop_incomplete").is_some());
    html! {
        form method="post" action="/evidence/run" id="evidence-form" {
            input type="hidden" name="csrf" value=(ctx.csrf());
            input type="hidden" name="kpi" value=(kpi);
            fieldset {
                legend { (lang.name("手法", "Method")) }
                @for m in Method::ALL {
                    label {
                        input type="radio" name="method" value=(m.as_str()) checked[m == method];
                        " " (method_label(lang, m))
                        span.hint { " — " (method_hint(lang, m)) }
                    }
                    br;
                }
            }
            label for="program" { (lang.name("事業（保存先・既定の介入年度）", "Program (where it is saved; default treatment year)")) }
            select id="program" name="program" {
                option value="" { "—" }
                @for p in &links {
                    option value=(p) selected[program.as_deref() == Some(*p)] {
                        (p) " " (snap.program(p).map(|x| lang.name(&x.name_ja, &x.name_en)).unwrap_or(""))
                    }
                }
            }
            label for="treatment_year" { (lang.name("介入年度（事業の開始年度）", "Treatment year (the program's first year)")) }
            input id="treatment_year" name="treatment_year" type="number" min="1900" max="2200" value=(year) inputmode="numeric";
            @if !choices.years.is_empty() {
                p.hint { (lang.name("自市の値がある年度: ", "Years with the city's values: ")) (choices.years.first().copied().unwrap_or_default()) "〜" (choices.years.last().copied().unwrap_or_default()) }
            }
            fieldset {
                legend { (lang.name("比較する団体（値が保存されている団体）", "Comparison areas (areas whose values are stored)")) }
                @if choices.units.is_empty() {
                    p.hint { (lang.name("このKPIには他の団体の値が保存されていません（分断時系列分析のみ使えます）", "No other area's values are stored for this KPI (only the interrupted time series can run)")) }
                }
                @for u in &choices.units {
                    label {
                        input type="checkbox" name="unit" value=(u.code)
                            checked[chosen_units.as_ref().is_none_or(|c| c.contains(&u.code))];
                        " " (u.name) " (" (u.code) ", " (u.years) (lang.name("年度分", " years")) ")"
                    }
                    br;
                }
            }
            @if !choices.predictors.is_empty() {
                fieldset {
                    legend { (lang.name("予測変数（合成コントロール、介入前の平均）", "Predictors (synthetic control; pre-treatment means)")) }
                    @for (code, name) in &choices.predictors {
                        label {
                            input type="checkbox" name="predictor" value=(code) checked[chosen_predictors.contains(code)];
                            " " (name) " (" (code) ")"
                        }
                        br;
                    }
                }
            }
            label {
                input type="checkbox" name="placebos" value="1" checked[placebos];
                " " (lang.name("プラシーボ検定（強さの判定）", "Placebo tests (how strong it is)"))
            }
            br;
            label {
                input type="checkbox" name="drop_incomplete" value="1" checked[drop_incomplete];
                " " (lang.name("欠測のある比較団体を除いて計算する", "Leave out comparison areas with missing years"))
            }
            @if may_run {
                p { button type="submit" { (lang.name("分析する", "Run the analysis")) } }
            } @else {
                p.hint { (lang.name("分析と保存は政策企画部門と事業・KPIの所管部署が行えます", "The strategy office and the department owning the program or KPI run and save analyses")) }
            }
        }
    }
}

/// Bars largest first.
fn sorted(mut bars: Vec<Bar>) -> Vec<Bar> {
    bars.sort_by(|a, b| b.value.total_cmp(&a.value));
    bars
}

fn f2(v: f64) -> String {
    crate::layout::num((v * 1000.0).round() / 1000.0)
}

/// The charts and tables of a result.
fn result_view(ctx: &Ctx, run: &StoredRun) -> Markup {
    let lang = ctx.lang;
    let unit = run.kpi_unit.as_str();
    let city = run.city.name.as_str();
    let treat_label = format!("{}{}", lang.name("介入 ", "Treatment "), run.treatment_year);
    let treatment = Some((i64::from(run.treatment_year), treat_label.as_str()));
    let name_of = |code: &str| {
        run.units
            .iter()
            .chain(std::iter::once(&run.city))
            .find(|u| u.code == code)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let interval = run.report.interval();
    html! {
        section #evidence-result {
            h2 { (lang.name("結果", "Result")) " — " (method_label(lang, run.report.method())) }
            p.lead #evidence-summary { (lang.name(&run.summary_ja, &run.summary_en)) }
            dl.fields {
                dt { (lang.name("推定値", "Estimate")) }
                dd #evidence-estimate data-value=(run.report.estimate()) { (f2(run.report.estimate())) " " (unit) }
                dt { (lang.name("95%区間", "95% interval")) }
                dd { @if let Some(i) = interval { (f2(i.lower)) " 〜 " (f2(i.upper)) } @else { "−" } }
                dt { (lang.name("p値", "p-value")) }
                dd #evidence-p { (run.report.p_value().map(|p| format!("{p:.3}")).unwrap_or_else(|| "−".into())) }
                dt { (lang.name("使ったデータ", "Data used")) }
                dd { (run.data) }
            }
            @match &run.report {
                EvidenceReport::Synth(r) => {
                    @let series = [
                        PathSeries { key: "actual", label: city, color: palette::ACTUAL, dashed: false,
                            points: r.path.iter().map(|p| (p.period, p.treated)).collect() },
                        PathSeries { key: "synthetic", label: lang.name("事業がなかった場合の推計", "Without the program (synthetic)"), color: palette::TARGET, dashed: true,
                            points: r.path.iter().map(|p| (p.period, p.synthetic)).collect() },
                    ];
                    figure { (chart(&paths_chart(&PathsChart {
                        id: "evidence-path", title: lang.name("実績と合成コントロール", "Actual and synthetic control"),
                        desc: lang.name("自市の実績と、比較団体の重み付き平均による推計の推移。点線の右が介入後", "The city's actuals and the weighted mix of comparison areas; right of the dashed line is after the treatment"),
                        unit, series: &series, treatment, width: 720, height: 320 }))) }
                    @if let Some(pl) = &r.placebos {
                        @let bars = sorted(pl.runs.iter().map(|p| Bar { label: name_of(&p.unit), value: p.ratio, highlight: false })
                            .chain(std::iter::once(Bar { label: city.to_string(), value: r.rmspe_ratio, highlight: true })).collect());
                        h3 { (lang.name("プラシーボ検定", "Placebo tests")) }
                        p #evidence-rank { (lang.name("介入後の乖離の大きさ（介入前との比）で、自市は", "By the size of its post-treatment gap (relative to before), the city ranks "))
                            strong { (pl.rank) } " / " (pl.runs.len() + 1) (lang.name("位", "")) "（p = " (format!("{:.3}", pl.p_value)) "）" }
                        figure { (chart(&bars_chart(&BarsChart { id: "evidence-placebo", key: "placebo",
                            title: lang.name("各団体を介入団体とみなした場合の乖離", "Each area's gap if it had been treated"),
                            desc: lang.name("介入後RMSPE÷介入前RMSPE。自市は強調表示", "Post- over pre-treatment RMSPE; the city highlighted"),
                            bars: &bars, width: 720 }))) }
                    }
                    @let weights = sorted(r.weights.iter().map(|(u, w)| Bar { label: name_of(u), value: *w, highlight: false }).collect());
                    h3 { (lang.name("比較団体の重み", "Donor weights")) }
                    figure { (chart(&bars_chart(&BarsChart { id: "evidence-weights", key: "weight",
                        title: lang.name("比較団体の重み", "Donor weights"),
                        desc: lang.name("推計に使った各団体の割合（合計1）", "Each area's share of the synthetic control (sum 1)"),
                        bars: &weights, width: 720 }))) }
                    @if !r.dropped_donors.is_empty() {
                        p.hint { (lang.name("欠測のため除いた団体: ", "Left out for missing years: ")) (r.dropped_donors.join(" / ")) }
                    }
                    (path_table(lang, unit, &r.path.iter().map(|p| (p.period, Some(p.treated), Some(p.synthetic))).collect::<Vec<_>>(), city, lang.name("推計", "Synthetic")))
                }
                EvidenceReport::Did(r) => {
                    @let series = [
                        PathSeries { key: "treated", label: city, color: palette::ACTUAL, dashed: false,
                            points: r.group_means.iter().filter_map(|g| g.treated.map(|v| (g.period, v))).collect() },
                        PathSeries { key: "control", label: lang.name("比較団体の平均", "Comparison areas' mean"), color: palette::TARGET, dashed: true,
                            points: r.group_means.iter().filter_map(|g| g.control.map(|v| (g.period, v))).collect() },
                    ];
                    figure { (chart(&paths_chart(&PathsChart {
                        id: "evidence-path", title: lang.name("自市と比較団体の平均", "The city and the comparison areas' mean"),
                        desc: lang.name("各年度の平均値。点線の右が介入後", "Mean of each year; right of the dashed line is after the treatment"),
                        unit, series: &series, treatment, width: 720, height: 320 }))) }
                    div.table-wrap { table #evidence-did {
                        thead { tr { th {} th.num scope="col" { (lang.name("介入前", "Before")) } th.num scope="col" { (lang.name("介入後", "After")) } th.num scope="col" { (lang.name("変化", "Change")) } } }
                        tbody {
                            tr { th scope="row" { (city) } td.num { (f2(r.two_by_two.treated_pre)) } td.num { (f2(r.two_by_two.treated_post)) } td.num { (f2(r.two_by_two.treated_post - r.two_by_two.treated_pre)) } }
                            tr { th scope="row" { (lang.name("比較団体", "Comparison")) } td.num { (f2(r.two_by_two.control_pre)) } td.num { (f2(r.two_by_two.control_post)) } td.num { (f2(r.two_by_two.control_post - r.two_by_two.control_pre)) } }
                        }
                    } }
                    (path_table(lang, unit, &r.group_means.iter().map(|g| (g.period, g.treated, g.control)).collect::<Vec<_>>(), city, lang.name("比較団体の平均", "Comparison mean")))
                }
                EvidenceReport::Its(r) => {
                    @let series = [
                        PathSeries { key: "actual", label: city, color: palette::ACTUAL, dashed: false,
                            points: r.path.iter().map(|p| (p.period, p.observed)).collect() },
                        PathSeries { key: "counterfactual", label: lang.name("それまでの傾向のままの場合", "Had the earlier trend continued"), color: palette::TARGET, dashed: true,
                            points: r.path.iter().map(|p| (p.period, p.counterfactual.unwrap_or(p.fitted))).collect() },
                    ];
                    figure { (chart(&paths_chart(&PathsChart {
                        id: "evidence-path", title: lang.name("実績と従前の傾向", "Actual and the earlier trend"),
                        desc: lang.name("点線の右が介入後", "Right of the dashed line is after the treatment"),
                        unit, series: &series, treatment, width: 720, height: 320 }))) }
                    (path_table(lang, unit, &r.path.iter().map(|p| (p.period, Some(p.observed), Some(p.counterfactual.unwrap_or(p.fitted)))).collect::<Vec<_>>(), city, lang.name("従前の傾向", "Earlier trend")))
                }
            }
        }
    }
}

fn path_table(
    lang: Lang,
    unit: &str,
    rows: &[(i64, Option<f64>, Option<f64>)],
    a: &str,
    b: &str,
) -> Markup {
    let cell = |v: Option<f64>| v.map(f2).unwrap_or_else(|| "−".into());
    html! {
        details {
            summary { (lang.name("数値の表", "Table of the numbers")) }
            div.table-wrap { table {
                caption { "(" (unit) ")" }
                thead { tr { th scope="col" { (lang.name("年度", "Year")) } th.num scope="col" { (a) } th.num scope="col" { (b) } th.num scope="col" { (lang.name("差", "Gap")) } } }
                tbody { @for (t, x, y) in rows {
                    tr { th scope="row" { (t) } td.num { (cell(*x)) } td.num { (cell(*y)) } td.num { (cell(x.zip(*y).map(|(x, y)| x - y))) } }
                } }
            } }
        }
    }
}

/// The save form: the run's request again (it is re-run on save, so what is
/// saved is computed from the data, not taken from the browser) and the grade.
fn save_section(ctx: &Ctx, snap: &Snapshot, run: &StoredRun, fields: &Fields) -> Markup {
    let lang = ctx.lang;
    let links: Vec<&str> = snap
        .links_by_kpi
        .get(&run.request.kpi)
        .map(|v| {
            v.iter()
                .map(|i| snap.ds.links[*i].program_code.as_str())
                .collect()
        })
        .unwrap_or_default();
    let default_grade = run.report.method().evidence_method().default_grade();
    html! {
        h2 { (lang.name("根拠として保存", "Save as evidence")) }
        @if links.is_empty() {
            p.hint { (lang.name("このKPIに寄与する事業がないため保存できません", "No program serves this KPI, so there is no link to save on")) }
        } @else {
            form method="post" action="/evidence/save" id="evidence-save" {
                input type="hidden" name="csrf" value=(ctx.csrf());
                @for (k, v) in fields.0.iter().filter(|(k, _)| k != "csrf" && k != "program") {
                    input type="hidden" name=(k) value=(v);
                }
                label for="save-program" { (lang.name("事業 → KPI", "Program → KPI")) }
                select id="save-program" name="program" required {
                    @for p in &links {
                        option value=(p) selected[run.request.program.as_deref() == Some(*p)] {
                            (p) " " (snap.program(p).map(|x| lang.name(&x.name_ja, &x.name_en)).unwrap_or("")) " → " (run.kpi_name_ja)
                        }
                    }
                }
                label for="grade" { (lang.name("根拠の等級", "Evidence grade")) }
                select id="grade" name="grade" {
                    @for g in [EvidenceGrade::Causal, EvidenceGrade::Correlational, EvidenceGrade::LogicModel, EvidenceGrade::Claimed] {
                        option value=(g.letter()) selected[g == default_grade] { (g.letter()) }
                    }
                }
                label for="note" { (lang.name("注記", "Note")) }
                input id="note" name="note" type="text" maxlength="500";
                p { button type="submit" { (lang.name("保存する", "Save")) } }
            }
        }
    }
}

async fn render_page(
    state: &AppState,
    ctx: &Ctx,
    kpi: &str,
    fields: Option<&Fields>,
    outcome: Option<Result<&StoredRun, &EvidenceError>>,
    status: StatusCode,
) -> WebResult<Response> {
    let snap = state.snapshot().await?;
    let k = snap.kpi(kpi).ok_or(WebError::NotFound)?;
    let lang = ctx.lang;
    let program = fields
        .and_then(|f| f.get("program").map(str::to_string))
        .or_else(|| crate::ctx::query_param(ctx.query.as_deref(), "program"));
    let choices = stored::choices(state.store(), kpi, program.as_deref()).await?;
    let may_run = ctx
        .user()
        .is_some_and(|u| can_analyse(u, &snap, kpi, program.as_deref()));
    let title = format!(
        "{} — {}",
        lang.name("根拠の分析", "Evidence workbench"),
        lang.name(&k.name_ja, &k.name_en)
    );
    let body = html! {
        nav aria-label="breadcrumb" { ol.breadcrumbs {
            li { a href="/" { (ctx.t.nav_home) } }
            li { a href={ "/kpis/" (k.code) } { (lang.name(&k.name_ja, &k.name_en)) } }
            li aria-current="page" { (lang.name("根拠の分析", "Evidence workbench")) }
        } }
        h1 { (title) }
        p.lead { (lang.name("保存されている実績と比較団体の値で、事業の効果を推定します。", "Estimates a program's effect from the stored actuals and the comparison areas' values.")) }
        @if let Some(Err(e)) = outcome {
            div.error role="alert" #evidence-error data-field=(e.field()) {
                p { strong { (lang.name("この設計では推定できません", "This design cannot be estimated")) } }
                p { (e.to_string()) }
            }
        }
        (form(ctx, &snap, &choices, fields, may_run))
        @if let Some(Ok(run)) = outcome {
            (result_view(ctx, run))
            @if may_run { (save_section(ctx, &snap, run, fields.cloned().as_ref().unwrap_or(&Fields::default()))) }
        }
    };
    let mut resp = render(
        ctx,
        Page {
            title: &title,
            nav: Nav::Kpis,
            body,
        },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PageQuery>,
) -> WebResult<Response> {
    let kpi = q
        .kpi
        .filter(|k| !k.trim().is_empty())
        .ok_or_else(|| WebError::BadRequest("kpi=… を指定してください / give kpi=…".into()))?;
    let fields = q.program.map(|p| Fields(vec![("program".into(), p)]));
    render_page(&state, &ctx, &kpi, fields.as_ref(), None, StatusCode::OK).await
}

fn planner(ctx: &Ctx) -> WebResult<&SessionUser> {
    ctx.user().ok_or(WebError::Unauthorized)
}

async fn checked(state: &AppState, ctx: &Ctx, req: &StoredRequest) -> WebResult<()> {
    let u = planner(ctx)?;
    let snap = state.snapshot().await?;
    if snap.kpi(&req.kpi).is_none() {
        return Err(WebError::NotFound);
    }
    if !can_analyse(u, &snap, &req.kpi, req.program.as_deref()) {
        return Err(WebError::Forbidden);
    }
    Ok(())
}

/// The workbench again with the form as typed and why its design was
/// refused (422): one answer for the run and the save.
async fn refused(
    state: &AppState,
    ctx: &Ctx,
    kpi: &str,
    fields: &Fields,
    e: &EvidenceError,
) -> WebResult<Response> {
    render_page(
        state,
        ctx,
        kpi,
        Some(fields),
        Some(Err(e)),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn run_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(raw): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let fields = Fields(raw.into_iter().filter(|(k, _)| k != "csrf").collect());
    let kpi = fields.get("kpi").unwrap_or_default().to_string();
    let req = match fields.request() {
        Ok(r) => r,
        Err(e) => return refused(&state, &ctx, &kpi, &fields, &e).await,
    };
    checked(&state, &ctx, &req).await?;
    match stored::run(state.store(), &req).await {
        Ok(run) => {
            render_page(
                &state,
                &ctx,
                &kpi,
                Some(&fields),
                Some(Ok(&run)),
                StatusCode::OK,
            )
            .await
        }
        Err(e) if e.is_design() => refused(&state, &ctx, &kpi, &fields, &e).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn save_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(raw): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let fields = Fields(raw.into_iter().filter(|(k, _)| k != "csrf").collect());
    let kpi = fields.get("kpi").unwrap_or_default().to_string();
    let req = match fields.request() {
        Ok(r) => r,
        Err(e) => return refused(&state, &ctx, &kpi, &fields, &e).await,
    };
    checked(&state, &ctx, &req).await?;
    let grade = fields.get("grade").and_then(EvidenceGrade::parse);
    let note = fields.get("note").unwrap_or_default();
    let login = planner(&ctx)?.login.clone();
    match stored::run_and_save(state.store(), &req, grade, note, &login).await {
        Ok(_) => {
            state.data_changed();
            Ok(Redirect::to(&format!("/kpis/{}", req.kpi)).into_response())
        }
        Err(e) if e.is_design() => refused(&state, &ctx, &kpi, &fields, &e).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn api_run(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(req): Json<StoredRequest>,
) -> WebResult<Response> {
    checked(&state, &ctx, &req).await?;
    let run = stored::run(state.store(), &req).await?;
    Ok(Json(run).into_response())
}

#[derive(Debug, Deserialize)]
pub struct SaveBody {
    request: StoredRequest,
    #[serde(default)]
    grade: Option<String>,
    #[serde(default)]
    note: String,
}

pub async fn api_save(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<SaveBody>,
) -> WebResult<Response> {
    checked(&state, &ctx, &body.request).await?;
    let grade = match body.grade.as_deref() {
        Some(g) => Some(EvidenceGrade::parse(g).ok_or_else(|| {
            WebError::from(EvidenceError::invalid(
                "grade",
                format!("「{g}」: A / B / C / D"),
            ))
        })?),
        None => None,
    };
    let login = planner(&ctx)?.login.clone();
    let (id, run, _) =
        stored::run_and_save(state.store(), &body.request, grade, &body.note, &login).await?;
    state.data_changed();
    Ok((StatusCode::CREATED, Json(json!({"id": id, "run": run}))).into_response())
}
