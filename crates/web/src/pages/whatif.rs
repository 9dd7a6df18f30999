//! The budget what-if (予算の試算) for the finance division: the total
//! budget, the ceilings and the rules pre-filled from the cycle, the
//! optimiser's allocation against the requests with its shadow prices,
//! named scenarios (saved, opened, compared, exported to Excel) and the
//! proposals a scenario sends to the assessment, which finance accepts or
//! rejects one by one on the budget page. Finance and administrators run,
//! save and send; the strategy office reads; department editors and viewers
//! are refused. Every rule lives in `citykpi_app::whatif`.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use citykpi_app::whatif::{self as service, Outcome, Rules, RulesInput, WhatIfError};
use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::{Cycle, FieldError};
use citykpi_domain::org::Role;
use citykpi_domain::text::{parse_number, parse_yen};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::access::{Access, RouteRule};
use crate::ctx::Ctx;
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::layout::{Nav, Page, field_error, num, render, sen_yen};
use crate::session::SessionUser;

use crate::extract::{Form, Json, Path};
use Role::*;

/// Who may open the page, saved scenarios, comparisons and exports: finance,
/// and the strategy office (mayor's office) read-only.
pub const READERS: &[Role] = &[Admin, Finance, StrategyOffice];
/// Who may run, save and send to the assessment.
pub const WRITERS: &[Role] = &[Admin, Finance];

const fn r(method: &'static str, path: &'static str, access: Access) -> RouteRule {
    RouteRule {
        method,
        path,
        access,
    }
}

/// This area's routes with the roles they admit.
pub const ROUTES: &[RouteRule] = &[
    r("GET", "/whatif", Access::Roles(READERS)),
    r("GET", "/whatif/{fy}", Access::Roles(READERS)),
    r("POST", "/whatif/{fy}", Access::Roles(WRITERS)),
    r("GET", "/whatif/{fy}/scenarios/{id}", Access::Roles(READERS)),
    r(
        "GET",
        "/whatif/{fy}/scenarios/{id}/export.xlsx",
        Access::Roles(READERS),
    ),
    r(
        "POST",
        "/whatif/{fy}/scenarios/{id}/send",
        Access::Roles(WRITERS),
    ),
    r("GET", "/whatif/{fy}/compare", Access::Roles(READERS)),
    r("POST", "/whatif/proposals/{id}", Access::Roles(WRITERS)),
    r("GET", "/api/v1/whatif/{fy}/rules", Access::Roles(READERS)),
    r("POST", "/api/v1/whatif/{fy}/run", Access::Roles(WRITERS)),
    r(
        "GET",
        "/api/v1/whatif/{fy}/scenarios",
        Access::Roles(READERS),
    ),
    r(
        "POST",
        "/api/v1/whatif/{fy}/scenarios",
        Access::Roles(WRITERS),
    ),
    r(
        "GET",
        "/api/v1/whatif/scenarios/{id}",
        Access::Roles(READERS),
    ),
    r(
        "POST",
        "/api/v1/whatif/scenarios/{id}/send",
        Access::Roles(WRITERS),
    ),
    r(
        "GET",
        "/api/v1/whatif/{fy}/proposals",
        Access::Roles(READERS),
    ),
    r(
        "POST",
        "/api/v1/whatif/proposals/{id}",
        Access::Roles(WRITERS),
    ),
];

/// Documentation of this area's API routes, in the shape of `api::API_DOCS`.
pub const API_DOCS: &[(&str, &str, &str, &str, Option<&str>)] = &[
    (
        "GET",
        "/api/v1/whatif/{fy}/rules",
        "予算の試算の既定の条件（予算総額・枠をサイクルから）",
        "The what-if's default rules for a budget year (total and ceilings from the cycle)",
        None,
    ),
    (
        "POST",
        "/api/v1/whatif/{fy}/run",
        "予算の試算（最適配分・潜在価格。JSON本文の省略した項目は既定値）",
        "Run the budget what-if: optimal allocation and shadow prices (JSON body {budget_yen, ceilings, max_abolitions, mandatory, reduce_percent, expand_percent, expand_all}; omitted = default)",
        None,
    ),
    (
        "GET",
        "/api/v1/whatif/{fy}/scenarios",
        "保存した試算の一覧",
        "The saved what-if scenarios of a budget year",
        None,
    ),
    (
        "POST",
        "/api/v1/whatif/{fy}/scenarios",
        "試算して名前を付けて保存",
        "Run and save a scenario (JSON body {name, rules})",
        None,
    ),
    (
        "GET",
        "/api/v1/whatif/scenarios/{id}",
        "保存した試算（保存時の結果）",
        "A saved scenario with its result as saved",
        None,
    ),
    (
        "POST",
        "/api/v1/whatif/scenarios/{id}/send",
        "試算を査定案として送る（要求は変わらない）",
        "Send a scenario to the assessment as proposals (no request changes)",
        None,
    ),
    (
        "GET",
        "/api/v1/whatif/{fy}/proposals",
        "査定案の一覧",
        "The assessment proposals of a budget year",
        None,
    ),
    (
        "POST",
        "/api/v1/whatif/proposals/{id}",
        "査定案の採用・不採用（採用で査定額に反映）",
        "Accept or reject one proposal (JSON body {decision: accept|reject}); accepting sets the assessed amount",
        None,
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/whatif", get(default_year))
        .route("/whatif/{fy}", get(page).post(run_form))
        .route("/whatif/{fy}/scenarios/{id}", get(scenario_page))
        .route("/whatif/{fy}/scenarios/{id}/export.xlsx", get(export))
        .route("/whatif/{fy}/scenarios/{id}/send", post(send))
        .route("/whatif/{fy}/compare", get(compare_page))
        .route("/whatif/proposals/{id}", post(decide))
        .route("/api/v1/whatif/{fy}/rules", get(api_rules))
        .route("/api/v1/whatif/{fy}/run", post(api_run))
        .route(
            "/api/v1/whatif/{fy}/scenarios",
            get(api_scenarios).post(api_save),
        )
        .route("/api/v1/whatif/scenarios/{id}", get(api_scenario))
        .route("/api/v1/whatif/scenarios/{id}/send", post(api_send))
        .route("/api/v1/whatif/{fy}/proposals", get(api_proposals))
        .route("/api/v1/whatif/proposals/{id}", post(api_decide))
}

/// May `user` run, save and send?
pub fn can_run(user: &SessionUser) -> bool {
    WRITERS.contains(&user.role)
}

/// May `user` see the what-if (the page, scenarios, proposals)?
pub fn can_read(user: &SessionUser) -> bool {
    READERS.contains(&user.role)
}

/// The budget year the page opens on: the one the newest cycle builds, else
/// the one the cycle of the year just ended would build.
pub async fn default_budget_fy(state: &AppState) -> WebResult<FiscalYear> {
    let newest = state
        .store()
        .cycles()
        .await?
        .iter()
        .map(|c| c.budget_fy())
        .max();
    Ok(newest.unwrap_or_else(|| citykpi_app::clock::last_closed_fiscal_year().next().next()))
}

// ----- text -----

/// This area's UI text.
pub struct WhatIfText {
    pub title: &'static str,
    pub lead: &'static str,
    pub read_only: &'static str,
    pub rules: &'static str,
    pub budget: &'static str,
    pub ceilings: &'static str,
    pub max_abolitions: &'static str,
    pub max_abolitions_hint: &'static str,
    pub mandatory: &'static str,
    pub mandatory_hint: &'static str,
    pub reduce_percent: &'static str,
    pub expand_percent: &'static str,
    pub expand_all: &'static str,
    pub name: &'static str,
    pub run: &'static str,
    pub run_save: &'static str,
    pub result: &'static str,
    pub objective: &'static str,
    pub current: &'static str,
    pub optimal: &'static str,
    pub requested: &'static str,
    pub budget_price: &'static str,
    pub per_million: &'static str,
    pub yen_per_unit: &'static str,
    pub proven: &'static str,
    pub not_proven: &'static str,
    pub optimality: &'static str,
    pub current_infeasible: &'static str,
    pub departments: &'static str,
    pub department: &'static str,
    pub ceiling: &'static str,
    pub abolitions: &'static str,
    pub ceiling_price: &'static str,
    pub binding: &'static str,
    pub changes: &'static str,
    pub no_changes: &'static str,
    pub program: &'static str,
    pub direction: &'static str,
    pub option: &'static str,
    pub change: &'static str,
    pub reason: &'static str,
    pub all_programs: &'static str,
    pub contribution: &'static str,
    pub source: &'static str,
    pub scenarios: &'static str,
    pub no_scenarios: &'static str,
    pub saved_by: &'static str,
    pub compare: &'static str,
    pub compare_a: &'static str,
    pub compare_b: &'static str,
    pub export: &'static str,
    pub send: &'static str,
    pub send_hint: &'static str,
    pub sent: &'static str,
    pub proposals: &'static str,
    pub proposed: &'static str,
    pub accept: &'static str,
    pub reject: &'static str,
    pub scenario: &'static str,
    pub errors: &'static str,
    pub unit: &'static str,
    pub budget_page: &'static str,
    pub excluded: &'static str,
}

impl WhatIfText {
    pub const JA: WhatIfText = WhatIfText {
        title: "予算の試算",
        lead: "予算総額・部局の枠・ルールの下で、KPIへの寄与が最大になる事業の組合せ（廃止・縮小・継続・拡充）を計算します。結果は査定案として送るまで予算要求を変えません。",
        read_only: "閲覧のみ（試算の実行・保存・査定への送付は財政課が行います）。",
        rules: "条件",
        budget: "予算総額（千円）",
        ceilings: "部局の枠（千円。空欄は枠なし）",
        max_abolitions: "部局ごとの廃止の上限（件）",
        max_abolitions_hint: "空欄は上限なし",
        mandatory: "必ず残す事業（事業コード。義務的経費の事業は常に残します）",
        mandatory_hint: "空白・読点・改行で区切る",
        reduce_percent: "縮小率（%）",
        expand_percent: "拡充率（%）",
        expand_all: "拡充を評価が「拡充」以外の事業にも認める（「縮小」を除く）",
        name: "保存する名前",
        run: "試算する",
        run_save: "試算して保存",
        result: "結果",
        objective: "KPIへの寄与（目的関数）",
        current: "現状（要求どおり）",
        optimal: "最適配分",
        requested: "要求額",
        budget_price: "予算の潜在価格",
        per_million: "100万円あたりの寄与",
        yen_per_unit: "寄与1あたりの金額（千円）",
        proven: "最適性が証明されました",
        not_proven: "最適性は証明されていません（時間切れ）。ギャップ",
        optimality: "最適性",
        current_infeasible: "要求どおりでは予算総額または枠を超えます。",
        departments: "部局別",
        department: "部局",
        ceiling: "枠",
        abolitions: "廃止",
        ceiling_price: "枠の潜在価格（100万円あたりの寄与）",
        binding: "上限に達している",
        changes: "変更する事業と理由",
        no_changes: "変更する事業はありません（要求どおりが最適です）。",
        program: "事業",
        direction: "評価の方向性",
        option: "選択",
        change: "増減",
        reason: "理由",
        all_programs: "全事業の配分",
        contribution: "寄与",
        source: "寄与の根拠",
        scenarios: "保存した試算",
        no_scenarios: "保存した試算はまだありません。",
        saved_by: "保存者",
        compare: "比較する",
        compare_a: "試算A",
        compare_b: "試算B",
        export: "Excelで出力",
        send: "査定案として送る",
        send_hint: "要求ごとに査定案が作られ、予算要求の画面で1件ずつ採用・不採用を決めます（自動では反映しません）。",
        sent: "査定案を送りました",
        proposals: "試算からの査定案",
        proposed: "査定案",
        accept: "採用",
        reject: "不採用",
        scenario: "試算",
        errors: "入力を確認してください",
        unit: "単位: 千円",
        budget_page: "予算要求・査定",
        excluded: "評価で廃止・休止・完了とした事業（対象外）",
    };
    pub const EN: WhatIfText = WhatIfText {
        title: "Budget what-if",
        lead: "Computes the combination of options (abolish, reduce, keep, expand) that contributes most to the KPIs within the total budget, the department ceilings and the rules. Nothing changes a budget request until it is sent as proposals and accepted.",
        read_only: "Read only (finance runs, saves and sends scenarios).",
        rules: "Rules",
        budget: "Total budget (thousand yen)",
        ceilings: "Department ceilings (thousand yen; empty = none)",
        max_abolitions: "At most this many abolitions per department",
        max_abolitions_hint: "empty = no limit",
        mandatory: "Programs to keep (codes; mandatory programs are always kept)",
        mandatory_hint: "separated by spaces, commas or lines",
        reduce_percent: "Reduction (%)",
        expand_percent: "Expansion (%)",
        expand_all: "Offer expansion to programs not evaluated \"expand\" (except \"reduce\")",
        name: "Name to save under",
        run: "Run",
        run_save: "Run and save",
        result: "Result",
        objective: "KPI contribution (objective)",
        current: "Current (as requested)",
        optimal: "Optimal",
        requested: "Requested",
        budget_price: "Shadow price of the budget",
        per_million: "contribution per ¥1M",
        yen_per_unit: "thousand yen per unit of contribution",
        proven: "Proven optimal",
        not_proven: "Not proven optimal (time limit). Gap",
        optimality: "Optimality",
        current_infeasible: "The requests as they stand exceed the budget or a ceiling.",
        departments: "By department",
        department: "Department",
        ceiling: "Ceiling",
        abolitions: "Abolished",
        ceiling_price: "Ceiling shadow price (per ¥1M)",
        binding: "binding",
        changes: "Programs that change, and why",
        no_changes: "No program changes (the requests are optimal).",
        program: "Program",
        direction: "Evaluation direction",
        option: "Option",
        change: "Change",
        reason: "Reason",
        all_programs: "Every program's allocation",
        contribution: "Contribution",
        source: "Contribution from",
        scenarios: "Saved scenarios",
        no_scenarios: "No scenario saved yet.",
        saved_by: "Saved by",
        compare: "Compare",
        compare_a: "Scenario A",
        compare_b: "Scenario B",
        export: "Export to Excel",
        send: "Send to the assessment",
        send_hint: "Creates a proposal per request; finance accepts or rejects each on the budget page (nothing is applied automatically).",
        sent: "Proposals sent",
        proposals: "Proposals from the what-if",
        proposed: "Proposed",
        accept: "Accept",
        reject: "Reject",
        scenario: "Scenario",
        errors: "Check the input",
        unit: "thousand yen",
        budget_page: "Budget requests and assessment",
        excluded: "Programs ended by their evaluation (left out)",
    };
}

fn text(lang: Lang) -> &'static WhatIfText {
    match lang {
        Lang::Ja => &WhatIfText::JA,
        Lang::En => &WhatIfText::EN,
    }
}

fn user(ctx: &Ctx) -> WebResult<&SessionUser> {
    ctx.user().ok_or(WebError::Unauthorized)
}

fn parse_fy(s: &str) -> WebResult<FiscalYear> {
    FiscalYear::parse(s).map_err(|_| WebError::NotFound)
}

fn message(lang: Lang, e: &FieldError) -> String {
    match lang {
        Lang::Ja => e.ja.clone(),
        Lang::En => e.en.clone(),
    }
}

fn id_of(field: &str) -> String {
    field.replace(['.', '[', ']'], "_")
}

fn error_for(lang: Lang, errors: &[FieldError], field: &str) -> Option<String> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| message(lang, e))
}

fn error_summary(lang: Lang, errors: &[FieldError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.error-summary role="alert" tabindex="-1" {
                h2 { (text(lang).errors) }
                ul {
                    @for e in errors {
                        li {
                            @if e.field.is_empty() { (message(lang, e)) }
                            @else { a href={ "#" (id_of(&e.field)) } { (message(lang, e)) } }
                        }
                    }
                }
            }
        }
    }
}

fn fy_label(lang: Lang, fy: FiscalYear) -> String {
    match lang {
        Lang::Ja => fy.label_ja(),
        Lang::En => fy.label_en(),
    }
}

fn show(ctx: &Ctx, title: &str, body: Markup, status: StatusCode) -> Response {
    let mut resp = render(
        ctx,
        Page {
            title,
            nav: Nav::WhatIf,
            body,
        },
    );
    *resp.status_mut() = status;
    resp
}

/// A service error: refusals (bad rules, an infeasible rule set, a taken
/// name) as field errors with 422, a missing record 404, the rest internal.
fn refusal(e: &WhatIfError) -> Option<(StatusCode, Vec<FieldError>)> {
    if e.is_conflict() {
        let m = e.to_string();
        return Some((
            StatusCode::CONFLICT,
            vec![FieldError::new("", m.clone(), m)],
        ));
    }
    let fields = e.field_errors();
    if !fields.is_empty() {
        return Some((StatusCode::UNPROCESSABLE_ENTITY, fields));
    }
    if e.is_refusal() {
        let m = e.to_string();
        return Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![FieldError::new("", m.clone(), m)],
        ));
    }
    None
}

impl From<WhatIfError> for WebError {
    fn from(e: WhatIfError) -> Self {
        if e.is_not_found() {
            return WebError::NotFound;
        }
        match e {
            WhatIfError::App(a) => WebError::App(a),
            WhatIfError::Cycle(c) => c.into(),
            other => WebError::BadRequest(other.to_string()),
        }
    }
}

// ----- the form -----

/// The form's fields as typed (so an error shows them again unchanged).
#[derive(Debug, Clone, Default)]
struct Typed {
    fields: BTreeMap<String, String>,
}

impl Typed {
    fn get(&self, k: &str) -> &str {
        self.fields.get(k).map_or("", String::as_str)
    }

    /// The form pre-filled from rules (amounts in 千円).
    fn of(rules: &Rules, departments: &[citykpi_domain::org::Department]) -> Typed {
        let mut fields = BTreeMap::new();
        fields.insert("budget_yen".into(), sen_yen(rules.budget_yen));
        for d in departments {
            fields.insert(
                format!("ceiling.{}", d.code),
                rules
                    .ceilings
                    .get(&d.code)
                    .map(|v| sen_yen(*v))
                    .unwrap_or_default(),
            );
        }
        fields.insert(
            "max_abolitions".into(),
            rules
                .max_abolitions
                .map(|n| n.to_string())
                .unwrap_or_default(),
        );
        fields.insert("mandatory".into(), rules.mandatory.join(" "));
        fields.insert("reduce_percent".into(), rules.reduce_percent.to_string());
        fields.insert("expand_percent".into(), rules.expand_percent.to_string());
        if rules.expand_all {
            fields.insert("expand_all".into(), "on".into());
        }
        Typed { fields }
    }

    /// The rules the form says, or every problem by field.
    fn rules(&self) -> Result<Rules, Vec<FieldError>> {
        let mut errors = Vec::new();
        let sen = |field: &str, errors: &mut Vec<FieldError>| -> Option<i64> {
            let raw = self.get(field).trim();
            if raw.is_empty() {
                return None;
            }
            match parse_yen(raw) {
                Ok(v) => Some(v.saturating_mul(1000)),
                Err(_) => {
                    errors.push(FieldError::new(
                        field,
                        format!("「{raw}」は金額（千円）として読めません"),
                        format!("\"{raw}\" is not an amount in thousands of yen"),
                    ));
                    None
                }
            }
        };
        let budget = sen("budget_yen", &mut errors);
        if budget.is_none() && !errors.iter().any(|e| e.field == "budget_yen") {
            errors.push(FieldError::new(
                "budget_yen",
                "予算総額を入力してください",
                "enter the total budget",
            ));
        }
        let mut ceilings = BTreeMap::new();
        for k in self.fields.keys() {
            if let Some(d) = k.strip_prefix("ceiling.")
                && let Some(v) = sen(k, &mut errors)
            {
                ceilings.insert(d.to_string(), v);
            }
        }
        let whole = |field: &str, errors: &mut Vec<FieldError>| -> Option<u32> {
            let raw = self.get(field).trim();
            if raw.is_empty() {
                return None;
            }
            match parse_number(raw) {
                Ok(v) if v.fract() == 0.0 && (0.0..=1e6).contains(&v) => Some(v as u32),
                _ => {
                    errors.push(FieldError::new(
                        field,
                        format!("「{raw}」は0以上の整数として読めません"),
                        format!("\"{raw}\" is not a whole number of 0 or more"),
                    ));
                    None
                }
            }
        };
        let max_abolitions = whole("max_abolitions", &mut errors);
        let reduce = whole("reduce_percent", &mut errors).unwrap_or(20);
        let expand = whole("expand_percent", &mut errors).unwrap_or(20);
        let mandatory: Vec<String> = self
            .get("mandatory")
            .split(|c: char| c.is_whitespace() || c == ',' || c == '、' || c == '，')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Rules {
            budget_yen: budget.unwrap_or(0),
            ceilings,
            max_abolitions,
            mandatory,
            reduce_percent: reduce,
            expand_percent: expand,
            expand_all: !self.get("expand_all").is_empty(),
        })
    }
}

fn text_field(
    lang: Lang,
    typed: &Typed,
    errors: &[FieldError],
    field: &str,
    label: &str,
) -> Markup {
    let id = id_of(field);
    let err = error_for(lang, errors, field);
    html! {
        div class=[err.as_ref().map(|_| "field-error")] {
            label for=(id) { (label) }
            (field_error(&id, err.as_deref()))
            input type="text" id=(id) name=(field) value=(typed.get(field)) inputmode="decimal"
                aria-describedby=[err.as_ref().map(|_| format!("{id}-error"))];
        }
    }
}

async fn rules_form(
    state: &AppState,
    ctx: &Ctx,
    fy: FiscalYear,
    typed: &Typed,
    errors: &[FieldError],
) -> WebResult<Markup> {
    let lang = ctx.lang;
    let t = text(lang);
    let snap = state.snapshot().await?;
    let mandatory_err = error_for(lang, errors, "mandatory");
    let name_err = error_for(lang, errors, "name");
    Ok(html! {
        form.whatif-form method="post" action={ "/whatif/" (fy.year()) } novalidate {
            input type="hidden" name="csrf" value=(ctx.csrf());
            h2 { (t.rules) }
            (text_field(lang, typed, errors, "budget_yen", t.budget))
            fieldset {
                legend { (t.ceilings) }
                div.grid-fields {
                    @for d in &snap.ds.departments {
                        @let field = format!("ceiling.{}", d.code);
                        (text_field(lang, typed, errors, &field, &format!("{} {}", d.code, lang.name(&d.name_ja, &d.name_en))))
                    }
                }
            }
            (text_field(lang, typed, errors, "max_abolitions", &format!("{}（{}）", t.max_abolitions, t.max_abolitions_hint)))
            div class=[mandatory_err.as_ref().map(|_| "field-error")] {
                label for="mandatory" { (t.mandatory) " (" (t.mandatory_hint) ")" }
                (field_error("mandatory", mandatory_err.as_deref()))
                textarea id="mandatory" name="mandatory" rows="2" { (typed.get("mandatory")) }
            }
            (text_field(lang, typed, errors, "reduce_percent", t.reduce_percent))
            (text_field(lang, typed, errors, "expand_percent", t.expand_percent))
            div {
                input type="checkbox" id="expand_all" name="expand_all" checked[!typed.get("expand_all").is_empty()];
                label for="expand_all" { (t.expand_all) }
            }
            div class=[name_err.as_ref().map(|_| "field-error")] {
                label for="name" { (t.name) }
                (field_error("name", name_err.as_deref()))
                input type="text" id="name" name="name" value=(typed.get("name"));
            }
            div.buttons {
                button type="submit" name="action" value="run" { (t.run) }
                " "
                button.secondary type="submit" name="action" value="save" { (t.run_save) }
            }
        }
    })
}

// ----- the result -----

fn opt_sen(v: Option<i64>) -> String {
    v.map(sen_yen).unwrap_or_else(|| "—".into())
}

fn price(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.4}")).unwrap_or_else(|| "—".into())
}

fn option_label(lang: Lang, k: service::OptionKind) -> &'static str {
    match lang {
        Lang::Ja => k.label_ja(),
        Lang::En => service::option_str(k),
    }
}

fn outcome_view(lang: Lang, o: &Outcome) -> Markup {
    let t = text(lang);
    html! {
        section.whatif-result aria-labelledby="result-title" {
            h2 id="result-title" { (t.result) " — " (fy_label(lang, o.fy)) }
            p { (t.unit) }
            dl.summary {
                dt { (t.budget) } dd id="result-budget" { (sen_yen(o.rules.budget_yen)) }
                dt { (t.requested) } dd { (sen_yen(o.requested_yen)) }
                dt { (t.current) } dd { (sen_yen(o.current_cost_yen)) " / " (t.contribution) " " (format!("{:.4}", o.current_contribution)) }
                dt { (t.optimal) } dd id="result-optimal" { (sen_yen(o.optimal_cost_yen)) }
                dt { (t.objective) } dd id="result-objective" data-value=(o.optimal_contribution) { (format!("{:.6}", o.optimal_contribution)) }
                dt { (t.budget_price) } dd id="result-budget-price" {
                    (price(o.shadow_price_per_million_yen)) " (" (t.per_million) ")"
                    @if let Some(y) = o.yen_per_contribution {
                        " · " (num((y / 1000.0).round())) " " (t.yen_per_unit)
                    }
                }
                dt { (t.optimality) } dd id="result-proven" {
                    @if o.proven_optimal { (t.proven) } @else { (t.not_proven) " " (format!("{:.2e}", o.relative_gap)) }
                    " (" (format!("{:.2}", o.solve_seconds)) " s)"
                }
            }
            @if !o.current_feasible {
                div.notice.warning role="status" { (t.current_infeasible) }
            }
            h3 { (t.departments) }
            div.table-wrap { table id="whatif-departments" {
                thead { tr {
                    th scope="col" { (t.department) }
                    th.num scope="col" { (t.requested) }
                    th.num scope="col" { (t.current) }
                    th.num scope="col" { (t.optimal) }
                    th.num scope="col" { (t.change) }
                    th.num scope="col" { (t.ceiling) }
                    th.num scope="col" { (t.abolitions) }
                    th.num scope="col" { (t.ceiling_price) }
                } }
                tbody {
                    @for d in &o.departments {
                        tr data-department=(d.department_code) data-optimal=(d.optimal_cost) data-ceiling=[d.ceiling] {
                            th scope="row" { (d.department_code) " " (lang.name(&d.name_ja, &d.name_en)) }
                            td.num { (sen_yen(d.requested)) }
                            td.num { (sen_yen(d.current_cost)) }
                            td.num { (sen_yen(d.optimal_cost)) }
                            td.num { (sen_yen(d.optimal_cost - d.current_cost)) }
                            td.num { (opt_sen(d.ceiling)) }
                            td.num { (d.abolitions) }
                            td.num {
                                (price(d.shadow_price_per_million_yen))
                                @if d.binding() { " (" (t.binding) ")" }
                            }
                        }
                    }
                }
                tfoot { tr {
                    th scope="row" { "計" }
                    td.num { (sen_yen(o.requested_yen)) }
                    td.num { (sen_yen(o.current_cost_yen)) }
                    td.num id="total-optimal" data-yen=(o.optimal_cost_yen) { (sen_yen(o.optimal_cost_yen)) }
                    td.num { (sen_yen(o.optimal_cost_yen - o.current_cost_yen)) }
                    td {} td {} td {}
                } }
            } }
            h3 { (t.changes) }
            @if o.changed().next().is_none() {
                p { (t.no_changes) }
            } @else {
                div.table-wrap { table id="whatif-changes" {
                    thead { tr {
                        th scope="col" { (t.program) }
                        th scope="col" { (t.department) }
                        th scope="col" { (t.direction) }
                        th.num scope="col" { (t.current) }
                        th scope="col" { (t.option) }
                        th.num scope="col" { (t.optimal) }
                        th.num scope="col" { (t.change) }
                        th scope="col" { (t.reason) }
                    } }
                    tbody {
                        @for p in o.changed() {
                            tr data-program=(p.program_code) {
                                td { a href={ "/programs/" (p.program_code) } { (p.program_code) } " " (lang.name(&p.name_ja, &p.name_en)) }
                                td { (p.department_code) }
                                td { (p.direction.map(|d| match lang { Lang::Ja => d.label_ja(), Lang::En => d.label_en() }).unwrap_or("—")) }
                                td.num { (sen_yen(p.current_cost)) }
                                td { (option_label(lang, p.kind)) }
                                td.num { (sen_yen(p.cost_yen)) }
                                td.num { (sen_yen(p.change_yen)) }
                                td { (match lang { Lang::Ja => &p.reason_ja, Lang::En => &p.reason_en }) }
                            }
                        }
                    }
                } }
            }
            details {
                summary { (t.all_programs) " (" (o.programs.len()) ")" }
                div.table-wrap { table id="whatif-programs" {
                    thead { tr {
                        th scope="col" { (t.program) }
                        th scope="col" { (t.department) }
                        th.num scope="col" { (t.requested) }
                        th.num scope="col" { (t.current) }
                        th scope="col" { (t.option) }
                        th.num scope="col" { (t.optimal) }
                        th.num scope="col" { (t.contribution) }
                        th scope="col" { (t.source) }
                    } }
                    tbody {
                        @for p in &o.programs {
                            tr {
                                td { (p.program_code) " " (lang.name(&p.name_ja, &p.name_en)) }
                                td { (p.department_code) }
                                td.num { (opt_sen(p.requested)) }
                                td.num { (sen_yen(p.current_cost)) }
                                td { (option_label(lang, p.kind)) }
                                td.num { (sen_yen(p.cost_yen)) }
                                td.num { (format!("{:.4}", p.contribution)) }
                                td { (match lang { Lang::Ja => p.source.label_ja(), Lang::En => p.source.label_en() }) }
                            }
                        }
                    }
                } }
            }
            @if !o.excluded.is_empty() {
                p { (t.excluded) ": "
                    @for (i, (code, _)) in o.excluded.iter().enumerate() {
                        @if i > 0 { ", " } (code)
                    }
                }
            }
        }
    }
}

async fn scenarios_list(state: &AppState, ctx: &Ctx, fy: FiscalYear) -> WebResult<Markup> {
    let lang = ctx.lang;
    let t = text(lang);
    let list = service::scenarios(state.store(), fy).await?;
    let y = fy.year();
    Ok(html! {
        section aria-labelledby="scenarios-title" {
            h2 id="scenarios-title" { (t.scenarios) }
            @if list.is_empty() {
                p { (t.no_scenarios) }
            } @else {
                div.table-wrap { table id="whatif-scenarios" {
                    thead { tr { th scope="col" { (t.scenario) } th scope="col" { (t.saved_by) } th scope="col" { "" } } }
                    tbody {
                        @for s in &list {
                            tr {
                                td { a href={ "/whatif/" (y) "/scenarios/" (s.id) } { (s.name) } }
                                td { (s.saved_by) " " (citykpi_domain::jst::display(&s.saved_at)) }
                                td { a href={ "/whatif/" (y) "/scenarios/" (s.id) "/export.xlsx" } download { (t.export) } }
                            }
                        }
                    }
                } }
                @if list.len() >= 2 {
                    form.inline-form method="get" action={ "/whatif/" (y) "/compare" } {
                        label for="cmp-a" { (t.compare_a) }
                        select id="cmp-a" name="a" {
                            @for s in &list { option value=(s.id) { (s.name) } }
                        }
                        label for="cmp-b" { (t.compare_b) }
                        select id="cmp-b" name="b" {
                            @for (i, s) in list.iter().enumerate() { option value=(s.id) selected[i == 1] { (s.name) } }
                        }
                        button.secondary type="submit" { (t.compare) }
                    }
                }
            }
        }
    })
}

fn header(ctx: &Ctx, u: &SessionUser, fy: FiscalYear) -> Markup {
    let lang = ctx.lang;
    let t = text(lang);
    let cycle_fy = Cycle::fy_for_budget(fy);
    html! {
        h1 { (t.title) ": " (fy_label(lang, fy)) }
        p.lead { (t.lead) }
        p { a href={ "/cycle/" (cycle_fy.year()) "/budget" } { (t.budget_page) } }
        @if !can_run(u) {
            div.notice role="status" { (t.read_only) }
        }
    }
}

async fn render_page(
    state: &AppState,
    ctx: &Ctx,
    fy: FiscalYear,
    typed: Option<Typed>,
    outcome: Option<&Outcome>,
    errors: &[FieldError],
    status: StatusCode,
) -> WebResult<Response> {
    let u = user(ctx)?;
    let lang = ctx.lang;
    let t = text(lang);
    let form = if can_run(u) {
        let typed = match typed {
            Some(t) => t,
            None => {
                let rules = service::default_rules(state.store(), fy).await?;
                let snap = state.snapshot().await?;
                Typed::of(&rules, &snap.ds.departments)
            }
        };
        Some(rules_form(state, ctx, fy, &typed, errors).await?)
    } else {
        None
    };
    let list = scenarios_list(state, ctx, fy).await?;
    let body = html! {
        (header(ctx, u, fy))
        (error_summary(lang, errors))
        @if let Some(o) = outcome { (outcome_view(lang, o)) }
        @if let Some(f) = form { (f) }
        (list)
    };
    Ok(show(ctx, t.title, body, status))
}

pub async fn default_year(State(state): State<AppState>) -> WebResult<Response> {
    let fy = default_budget_fy(&state).await?;
    Ok(Redirect::to(&format!("/whatif/{}", fy.year())).into_response())
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    render_page(&state, &ctx, fy, None, None, &[], StatusCode::OK).await
}

/// Runs the what-if from the form (and saves it with `action=save`); every
/// problem is shown next to its field with what was typed kept.
pub async fn run_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    let typed = Typed {
        fields: fields.into_iter().filter(|(k, _)| k != "csrf").collect(),
    };
    let rules = match typed.rules() {
        Ok(r) => r,
        Err(errors) => {
            return render_page(
                &state,
                &ctx,
                fy,
                Some(typed),
                None,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let outcome = match service::run(state.store(), fy, &rules).await {
        Ok(o) => o,
        Err(e) => {
            return match refusal(&e) {
                Some((status, errors)) => {
                    render_page(&state, &ctx, fy, Some(typed), None, &errors, status).await
                }
                None => Err(e.into()),
            };
        }
    };
    if typed.get("action") == "save" {
        match service::save_scenario(state.store(), &u.login, typed.get("name"), &outcome).await {
            Ok(id) => {
                state.data_changed();
                return Ok(
                    Redirect::to(&format!("/whatif/{}/scenarios/{id}", fy.year())).into_response(),
                );
            }
            Err(e) => {
                return match refusal(&e) {
                    Some((status, errors)) => {
                        render_page(
                            &state,
                            &ctx,
                            fy,
                            Some(typed),
                            Some(&outcome),
                            &errors,
                            status,
                        )
                        .await
                    }
                    None => Err(e.into()),
                };
            }
        }
    }
    render_page(
        &state,
        &ctx,
        fy,
        Some(typed),
        Some(&outcome),
        &[],
        StatusCode::OK,
    )
    .await
}

async fn scenario_of(state: &AppState, fy: FiscalYear, id: &str) -> WebResult<service::Scenario> {
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let s = service::open_scenario(state.store(), id).await?;
    if s.outcome.fy != fy {
        return Err(WebError::NotFound);
    }
    Ok(s)
}

pub async fn scenario_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((fy, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    let s = scenario_of(&state, fy, &id).await?;
    let lang = ctx.lang;
    let t = text(lang);
    let y = fy.year();
    let sent = crate::ctx::query_param(ctx.query.as_deref(), "sent");
    let body = html! {
        (header(&ctx, u, fy))
        h2 { (t.scenario) "「" (s.head.name) "」" }
        p { (t.saved_by) ": " (s.head.saved_by) " " (citykpi_domain::jst::display(&s.head.saved_at)) }
        @if let Some(n) = sent {
            div.notice role="status" { (t.sent) ": " (n) }
        }
        p {
            a.button.secondary href={ "/whatif/" (y) "/scenarios/" (s.head.id) "/export.xlsx" } download { (t.export) }
        }
        @if can_run(u) {
            form method="post" action={ "/whatif/" (y) "/scenarios/" (s.head.id) "/send" } {
                input type="hidden" name="csrf" value=(ctx.csrf());
                p { (t.send_hint) }
                button type="submit" { (t.send) }
            }
        }
        (outcome_view(lang, &s.outcome))
        p { a href={ "/whatif/" (y) } { (t.title) } }
    };
    Ok(show(&ctx, t.title, body, StatusCode::OK))
}

pub async fn export(
    State(state): State<AppState>,
    Path((fy, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let s = scenario_of(&state, fy, &id).await?;
    let bytes = service::workbook(&s.head.name, &s.outcome)?;
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"whatif-{}-{}.xlsx\"",
        fy.year(),
        s.head.id
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

pub async fn send(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((fy, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    let s = scenario_of(&state, fy, &id).await?;
    match service::send_to_assessment(state.store(), &u.login, s.head.id).await {
        Ok(sent) => {
            state.data_changed();
            Ok(Redirect::to(&format!(
                "/whatif/{}/scenarios/{}?sent={}",
                fy.year(),
                s.head.id,
                sent.proposals
            ))
            .into_response())
        }
        Err(e) => match refusal(&e) {
            Some((status, errors)) => {
                let lang = ctx.lang;
                let body = html! {
                    (header(&ctx, u, fy))
                    (error_summary(lang, &errors))
                    p { a href={ "/whatif/" (fy.year()) "/scenarios/" (s.head.id) } { (s.head.name) } }
                };
                Ok(show(&ctx, text(lang).title, body, status))
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Deserialize)]
pub struct CompareQuery {
    a: String,
    b: String,
}

pub async fn compare_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
    axum::extract::Query(q): axum::extract::Query<CompareQuery>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    let a = scenario_of(&state, fy, &q.a).await?;
    let b = scenario_of(&state, fy, &q.b).await?;
    let c = service::comparison(a, b);
    let lang = ctx.lang;
    let t = text(lang);
    let (oa, ob) = (&c.a.outcome, &c.b.outcome);
    let body = html! {
        (header(&ctx, u, fy))
        h2 { (t.compare) ": " (c.a.head.name) " / " (c.b.head.name) }
        p { (t.unit) }
        div.table-wrap { table id="whatif-compare-summary" {
            thead { tr { th scope="col" { "" } th.num scope="col" { (c.a.head.name) } th.num scope="col" { (c.b.head.name) } } }
            tbody {
                tr { th scope="row" { (t.budget) } td.num { (sen_yen(oa.rules.budget_yen)) } td.num { (sen_yen(ob.rules.budget_yen)) } }
                tr { th scope="row" { (t.optimal) } td.num { (sen_yen(oa.optimal_cost_yen)) } td.num { (sen_yen(ob.optimal_cost_yen)) } }
                tr { th scope="row" { (t.objective) } td.num { (format!("{:.6}", oa.optimal_contribution)) } td.num { (format!("{:.6}", ob.optimal_contribution)) } }
                tr { th scope="row" { (t.budget_price) } td.num { (price(oa.shadow_price_per_million_yen)) } td.num { (price(ob.shadow_price_per_million_yen)) } }
            }
        } }
        h3 { (t.departments) }
        div.table-wrap { table id="whatif-compare-departments" {
            thead { tr { th scope="col" { (t.department) } th.num scope="col" { (c.a.head.name) } th.num scope="col" { (c.b.head.name) } th.num scope="col" { (t.change) } } }
            tbody {
                @for (d, x, y) in &c.departments {
                    tr { th scope="row" { (d) } td.num { (opt_sen(*x)) } td.num { (opt_sen(*y)) }
                        td.num { (opt_sen(y.zip(*x).map(|(y, x)| y - x))) } }
                }
            }
        } }
        h3 { (t.changes) }
        div.table-wrap { table id="whatif-compare-programs" {
            thead { tr { th scope="col" { (t.program) } th scope="col" { (t.department) } th scope="col" { (c.a.head.name) } th scope="col" { (c.b.head.name) } } }
            tbody {
                @for p in &c.programs {
                    tr {
                        td { (p.program_code) " " (p.name_ja) }
                        td { (p.department_code) }
                        td { @if let Some((k, v)) = p.a { (option_label(lang, k)) " " (sen_yen(v)) } @else { "—" } }
                        td { @if let Some((k, v)) = p.b { (option_label(lang, k)) " " (sen_yen(v)) } @else { "—" } }
                    }
                }
            }
        } }
        p { a href={ "/whatif/" (fy.year()) } { (t.title) } }
    };
    Ok(show(&ctx, t.title, body, StatusCode::OK))
}

// ----- proposals on the budget page -----

/// The open proposals for one department's requests, with accept and reject
/// buttons for those who assess; shown on the budget page.
pub async fn proposals_section(
    state: &AppState,
    ctx: &Ctx,
    budget_fy: FiscalYear,
    department: &str,
) -> WebResult<Markup> {
    let Some(u) = ctx.user() else {
        return Ok(html! {});
    };
    if !can_read(u) {
        return Ok(html! {});
    }
    let lang = ctx.lang;
    let t = text(lang);
    let snap = state.snapshot().await?;
    let in_dept = |code: &str| {
        snap.ds
            .programs
            .iter()
            .find(|p| p.code == code)
            .and_then(|p| snap.ds.sections.iter().find(|s| s.code == p.section_code))
            .is_some_and(|s| s.department_code == department)
    };
    let open: Vec<_> = service::proposals(state.store(), budget_fy)
        .await?
        .into_iter()
        .filter(|p| p.state == "open" && in_dept(&p.program_code))
        .collect();
    let back = format!(
        "/cycle/{}/budget?department={}",
        Cycle::fy_for_budget(budget_fy).year(),
        form_urlencoded::byte_serialize(department.as_bytes()).collect::<String>()
    );
    Ok(html! {
        @if !open.is_empty() {
            section aria-labelledby="proposals-title" {
                h2 id="proposals-title" { (t.proposals) " (" (open.len()) ")" }
                div.table-wrap { table id="whatif-proposals" {
                    thead { tr {
                        th scope="col" { (t.program) } th scope="col" { (t.scenario) } th scope="col" { (t.option) }
                        th.num scope="col" { (t.proposed) } th scope="col" { (t.reason) } th scope="col" { "" }
                    } }
                    tbody {
                        @for p in &open {
                            tr data-proposal=(p.id) {
                                td { (p.program_code) }
                                td { (p.scenario_name) }
                                td { (p.option_kind) }
                                td.num { (sen_yen(p.proposed)) }
                                td { (p.reason) }
                                td {
                                    @if can_run(u) {
                                        form.inline-form method="post" action={ "/whatif/proposals/" (p.id) } {
                                            input type="hidden" name="csrf" value=(ctx.csrf());
                                            input type="hidden" name="back" value=(back);
                                            button type="submit" name="decision" value="accept" { (t.accept) }
                                            " "
                                            button.secondary type="submit" name="decision" value="reject" { (t.reject) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
        }
    })
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    back: String,
}

pub async fn decide(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<DecideForm>,
) -> WebResult<Response> {
    let u = user(&ctx)?;
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let accept = match form.decision.as_str() {
        "accept" => true,
        "reject" => false,
        _ => {
            return Err(WebError::BadRequest(
                "decision は accept か reject / decision must be accept or reject".into(),
            ));
        }
    };
    match service::decide(state.store(), &u.login, id, accept).await {
        Ok(_) => {
            state.data_changed();
            // Only a local page of the cycle is a place to go back to.
            let back = if form.back.starts_with("/cycle/") && !form.back.contains("//") {
                form.back
            } else {
                "/cycle".to_string()
            };
            Ok(Redirect::to(&back).into_response())
        }
        Err(e) => match refusal(&e) {
            Some((status, errors)) => {
                let lang = ctx.lang;
                let body = html! {
                    h1 { (text(lang).proposals) }
                    (error_summary(lang, &errors))
                    p { a href="/cycle" { (text(lang).budget_page) } }
                };
                Ok(show(&ctx, text(lang).proposals, body, status))
            }
            None => Err(e.into()),
        },
    }
}

// ----- API -----

fn api_error(lang: Lang, e: WhatIfError) -> WebResult<Response> {
    match refusal(&e) {
        Some((status, errors)) => {
            let message = errors
                .iter()
                .map(|f| message(lang, f))
                .collect::<Vec<_>>()
                .join("; ");
            let body = json!({
                "error": { "status": status.as_u16(), "message": message, "fields": errors }
            });
            Ok((status, Json(body)).into_response())
        }
        None => Err(e.into()),
    }
}

pub async fn api_rules(
    State(state): State<AppState>,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    Ok(Json(service::default_rules(state.store(), fy).await?).into_response())
}

pub async fn api_run(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
    Json(input): Json<RulesInput>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let defaults = service::default_rules(state.store(), fy).await?;
    match service::run(state.store(), fy, &input.over(defaults)).await {
        Ok(o) => Ok(Json(o).into_response()),
        Err(e) => api_error(ctx.lang, e),
    }
}

pub async fn api_scenarios(
    State(state): State<AppState>,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    Ok(Json(service::scenarios(state.store(), fy).await?).into_response())
}

#[derive(Deserialize)]
pub struct SaveBody {
    name: String,
    #[serde(default)]
    rules: RulesInput,
}

pub async fn api_save(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
    Json(body): Json<SaveBody>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let u = user(&ctx)?;
    let store = state.store();
    let defaults = service::default_rules(store, fy).await?;
    let result = match service::run(store, fy, &body.rules.over(defaults)).await {
        Ok(o) => service::save_scenario(store, &u.login, &body.name, &o)
            .await
            .map(|id| (id, o)),
        Err(e) => Err(e),
    };
    match result {
        Ok((id, outcome)) => {
            state.data_changed();
            Ok((
                StatusCode::CREATED,
                Json(json!({ "id": id, "outcome": outcome })),
            )
                .into_response())
        }
        Err(e) => api_error(ctx.lang, e),
    }
}

pub async fn api_scenario(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    Ok(Json(service::open_scenario(state.store(), id).await?).into_response())
}

pub async fn api_send(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let u = user(&ctx)?;
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    match service::send_to_assessment(state.store(), &u.login, id).await {
        Ok(sent) => {
            state.data_changed();
            Ok(Json(sent).into_response())
        }
        Err(e) => api_error(ctx.lang, e),
    }
}

pub async fn api_proposals(
    State(state): State<AppState>,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    Ok(Json(service::proposals(state.store(), fy).await?).into_response())
}

#[derive(Deserialize)]
pub struct DecideBody {
    decision: String,
}

pub async fn api_decide(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Json(body): Json<DecideBody>,
) -> WebResult<Response> {
    let u = user(&ctx)?;
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let accept = match body.decision.as_str() {
        "accept" => true,
        "reject" => false,
        _ => {
            return Err(WebError::BadRequest(
                "decision は accept か reject / decision must be accept or reject".into(),
            ));
        }
    };
    match service::decide(state.store(), &u.login, id, accept).await {
        Ok(p) => {
            state.data_changed();
            Ok(Json(p).into_response())
        }
        Err(e) => api_error(ctx.lang, e),
    }
}
