//! Services of the registry part of the partnerships area: the
//! staff forms of the demonstrations (create, edit, stage, dated results,
//! NGSI-LD measurements of their KPIs) and of the PR plans (create, edit,
//! measured reach per channel), the LINE channel secret, and the sheets of
//! the SDGs menu, the project teams, the demonstrations and the PR plans
//! for [`super::export`].
//!
//! Each write checks the form with the domain's rules and the references
//! (KPIs, members, sections, programs) against the store, every problem by
//! field, and then writes in one store transaction with its audit row.

use citykpi_domain::observation::Observation;
use citykpi_domain::partner::ngsi::{Aggregate, Granularity};
use citykpi_domain::partner::projects::{
    DemoResult, DemoStage, Demonstration, DemonstrationForm, PrChannel, PrPlan, PrPlanForm,
    PrReach, validate_demo_result, validate_demonstration_of, validate_pr_plan_of, validate_reach,
};
use citykpi_domain::partner::{Problem, Problems};
use citykpi_io::{Cell, Sheet};
use citykpi_store::{SecretChange, Store};

use super::{
    LINE_SECRET_ENV, LINE_SECRET_SETTING, PartnerTable, PartnersError, Result, goals_label,
    member_names, name_of,
};
use crate::ngsi::{self, MeasurementSpec, NgsiImportError, Outcome};

/// Actuals of a KPI shown on a demonstration's page, newest first.
pub const RECENT_ACTUALS: usize = 6;

fn nf(kind_ja: &str, kind: &str, code: &str) -> PartnersError {
    PartnersError::NotFound(format!(
        "{kind_ja}「{code}」が見つかりません / {kind} {code} not found"
    ))
}

/// Problems of `field` for every code in `codes` that is not a KPI.
async fn unknown_kpis(store: &Store, field: &str, codes: &[String]) -> Result<Vec<Problem>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let known: Vec<String> = store.kpis().await?.into_iter().map(|k| k.code).collect();
    Ok(codes
        .iter()
        .filter(|k| !known.contains(k))
        .map(|k| {
            Problem::new(
                field,
                format!("KPI「{k}」は登録されていません"),
                format!("no KPI {k}"),
            )
        })
        .collect())
}

/// Approved members (number, name) for the partner list of the form.
pub async fn member_choices(store: &Store) -> Result<Vec<(i64, String)>> {
    Ok(store.approved_member_names().await?)
}

// ----- demonstrations -----

/// A KPI of a demonstration with its latest actuals.
#[derive(Debug, Clone)]
pub struct KpiActuals {
    pub code: String,
    pub name_ja: String,
    pub name_en: String,
    pub unit: String,
    /// False when the code names no KPI (any more).
    pub known: bool,
    /// Newest first, at most [`RECENT_ACTUALS`].
    pub recent: Vec<Observation>,
}

/// A demonstration's page: the record, its partners' names, its dated
/// results and its KPIs' recent actuals.
#[derive(Debug, Clone)]
pub struct DemoDetail {
    pub demo: Demonstration,
    pub partners: Vec<(i64, String)>,
    pub results: Vec<DemoResult>,
    pub kpis: Vec<KpiActuals>,
}

pub async fn demonstration(store: &Store, code: &str) -> Result<DemoDetail> {
    let demo = store
        .demonstration(code)
        .await?
        .ok_or_else(|| nf("実証プロジェクト", "demonstration", code))?;
    let names = member_names(store, demo.partner_ids.iter().copied()).await?;
    let partners = demo
        .partner_ids
        .iter()
        .map(|id| (*id, name_of(&names, *id)))
        .collect();
    let results = store.demo_results(Some(code)).await?;
    let mut kpis = Vec::with_capacity(demo.kpi_codes.len());
    for k in &demo.kpi_codes {
        let kpi = store.kpi(k).await?;
        let mut recent = if kpi.is_some() {
            store
                .observations(&citykpi_store::ObservationFilter {
                    kpi_codes: vec![k.clone()],
                    ..Default::default()
                })
                .await?
        } else {
            Vec::new()
        };
        recent.sort_by(|a, b| {
            b.period
                .cmp(&a.period)
                .then_with(|| a.area_code.cmp(&b.area_code))
        });
        recent.truncate(RECENT_ACTUALS);
        kpis.push(match kpi {
            Some(kpi) => KpiActuals {
                code: kpi.code,
                name_ja: kpi.name_ja,
                name_en: kpi.name_en,
                unit: kpi.unit,
                known: true,
                recent,
            },
            None => KpiActuals {
                code: k.clone(),
                name_ja: String::new(),
                name_en: String::new(),
                unit: String::new(),
                known: false,
                recent,
            },
        });
    }
    Ok(DemoDetail {
        demo,
        partners,
        results,
        kpis,
    })
}

/// Creates (`new`) or edits a demonstration from the form: the domain's
/// checks, then the KPIs against the plan and the partners against the
/// approved members (the store), every problem by field.
pub async fn save_demonstration(
    store: &Store,
    form: &DemonstrationForm,
    partner_ids: &[String],
    results: &str,
    new: bool,
    actor: &str,
) -> Result<Demonstration> {
    let d = validate_demonstration_of(form, partner_ids, results)?;
    let unknown = unknown_kpis(store, "kpi_codes", &d.kpi_codes).await?;
    if !unknown.is_empty() {
        return Err(Problems(unknown).into());
    }
    Ok(store.save_demonstration(&d, new, actor).await?)
}

/// Moves a demonstration's stage (構想 → 実証 → 実装 / 終了).
pub async fn move_demonstration(
    store: &Store,
    code: &str,
    stage: &str,
    actor: &str,
) -> Result<Demonstration> {
    let to = DemoStage::parse(stage).ok_or_else(|| {
        Problems(vec![Problem::new(
            "stage",
            "段階を選んでください",
            "choose a stage",
        )])
    })?;
    Ok(store.move_demonstration(code, to, actor).await?)
}

/// Adds a dated result to a demonstration.
pub async fn record_demo_result(
    store: &Store,
    code: &str,
    on: &str,
    body: &str,
    actor: &str,
) -> Result<DemoResult> {
    let r = validate_demo_result(code, on, body, actor)?;
    store.add_demo_result(&r, actor).await?;
    Ok(r)
}

/// The NGSI-LD form of a demonstration's page, as typed.
#[derive(Debug, Clone, Default)]
pub struct NgsiForm {
    pub kpi_code: String,
    pub attribute: String,
    pub period: String,
    pub aggregate: String,
    pub area_code: String,
    pub unit_code: String,
    pub observed_at: String,
    /// The pasted document, or the uploaded file's content.
    pub document: Vec<u8>,
    /// The uploaded file's name ("" for a paste).
    pub file_name: String,
    pub dry_run: bool,
}

/// Why an NGSI-LD form is refused.
#[derive(Debug, thiserror::Error)]
pub enum NgsiFormError {
    /// A field of the form (which KPI, attribute, period, document…).
    #[error(transparent)]
    Invalid(#[from] Problems),
    /// The document or the KPI refused by the connector (each problem names
    /// the entity and attribute).
    #[error(transparent)]
    Import(#[from] NgsiImportError),
    #[error(transparent)]
    Partners(#[from] PartnersError),
}

/// Largest NGSI-LD document taken by the form.
pub const MAX_NGSI_DOCUMENT: usize = 8 * 1024 * 1024;

/// Imports a pasted or uploaded NGSI-LD document as actuals of one of the
/// demonstration's KPIs through the connector ([`ngsi::import_documents`]):
/// one transaction with its audit row, nothing written on any problem.
pub async fn import_ngsi(
    store: &Store,
    demo_code: &str,
    form: &NgsiForm,
    actor: &str,
) -> std::result::Result<Outcome, NgsiFormError> {
    let demo = store
        .demonstration(demo_code)
        .await
        .map_err(PartnersError::from)?
        .ok_or_else(|| nf("実証プロジェクト", "demonstration", demo_code))?;
    let mut problems = Vec::new();
    let kpi = form.kpi_code.trim();
    if kpi.is_empty() {
        problems.push(Problem::new(
            "kpi_code",
            "KPIを選んでください",
            "choose a KPI",
        ));
    } else if !demo.kpi_codes.iter().any(|k| k == kpi) {
        problems.push(Problem::new(
            "kpi_code",
            format!("KPI「{kpi}」はこの実証プロジェクトのKPIではありません"),
            format!("KPI {kpi} is not one of this demonstration's KPIs"),
        ));
    }
    let attribute = citykpi_domain::text::normalize(&form.attribute);
    if attribute.is_empty() {
        problems.push(Problem::new(
            "attribute",
            "属性名を入力してください（例：NO2）",
            "give the attribute (e.g. NO2)",
        ));
    } else if attribute.chars().count() > 200 || attribute.chars().any(char::is_control) {
        problems.push(Problem::new(
            "attribute",
            "属性名が正しくありません",
            "not an attribute name",
        ));
    }
    let granularity = match form.period.trim() {
        "" => Some(Granularity::Month),
        p => Granularity::parse(p),
    };
    if granularity.is_none() {
        problems.push(Problem::new(
            "period",
            "集計の単位を選んでください（月・年度）",
            "choose month or fiscal year",
        ));
    }
    let aggregate = match form.aggregate.trim() {
        "" => Some(Aggregate::Mean),
        a => Aggregate::parse(a),
    };
    if aggregate.is_none() {
        problems.push(Problem::new(
            "aggregate",
            "集計方法を選んでください",
            "choose how values are aggregated",
        ));
    }
    let document = match std::str::from_utf8(&form.document) {
        Ok(d) => d.trim_start_matches('\u{feff}').trim().to_string(),
        Err(_) => {
            problems.push(Problem::new(
                "document",
                "文書がUTF-8ではありません",
                "the document is not UTF-8",
            ));
            String::new()
        }
    };
    if form.document.len() > MAX_NGSI_DOCUMENT {
        problems.push(Problem::new(
            "document",
            format!(
                "文書が大きすぎます（{}MBまで）",
                MAX_NGSI_DOCUMENT / 1024 / 1024
            ),
            format!(
                "the document is too large (at most {} MB)",
                MAX_NGSI_DOCUMENT / 1024 / 1024
            ),
        ));
    } else if document.is_empty() && !problems.iter().any(|p| p.field == "document") {
        problems.push(Problem::new(
            "document",
            "NGSI-LDの文書を貼り付けるか、ファイルを選んでください",
            "paste an NGSI-LD document or choose a file",
        ));
    }
    let (Some(granularity), Some(aggregate), true) = (granularity, aggregate, problems.is_empty())
    else {
        return Err(Problems(problems).into());
    };
    let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let source = if form.file_name.trim().is_empty() {
        format!("{demo_code} web")
    } else {
        format!("{demo_code} {}", form.file_name.trim())
    };
    let spec = MeasurementSpec {
        kpi_code: kpi.to_string(),
        attribute,
        area_code: opt(&form.area_code),
        granularity,
        aggregate,
        unit_code: opt(&form.unit_code),
        observed_at: opt(&form.observed_at),
        source: source.chars().take(200).collect(),
    };
    Ok(ngsi::import_documents(store, &[document], &spec, actor, form.dry_run).await?)
}

// ----- PR plans -----

/// A PR plan's page: the plan, its recorded reach and the sum per channel.
#[derive(Debug, Clone)]
pub struct PrDetail {
    pub plan: PrPlan,
    pub reach: Vec<PrReach>,
    pub by_channel: Vec<(PrChannel, u64)>,
    /// The section's name ("" when the code names none).
    pub section_name: String,
    pub program_name: String,
}

fn by_channel(reach: &[PrReach]) -> Vec<(PrChannel, u64)> {
    PrChannel::ALL
        .iter()
        .map(|c| {
            (
                *c,
                reach
                    .iter()
                    .filter(|r| r.channel == *c)
                    .map(|r| r.reach)
                    .sum(),
            )
        })
        .collect()
}

pub async fn pr_plan(store: &Store, code: &str) -> Result<PrDetail> {
    let plan = store
        .pr_plan(code)
        .await?
        .ok_or_else(|| nf("広報計画", "PR plan", code))?;
    let reach = store.pr_reach(Some(code)).await?;
    let section_name = store
        .sections()
        .await?
        .into_iter()
        .find(|s| s.code == plan.section_code)
        .map(|s| s.name_ja)
        .unwrap_or_default();
    let program_name = match plan.program_code.as_deref() {
        Some(p) => store
            .program(p)
            .await?
            .map(|p| p.name_ja)
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(PrDetail {
        by_channel: by_channel(&reach),
        plan,
        reach,
        section_name,
        program_name,
    })
}

/// Creates (`new`) or edits a PR plan: the domain's checks, then the
/// section, the program and the KPIs against the store.
pub async fn save_pr_plan(
    store: &Store,
    form: &PrPlanForm,
    program_code: &str,
    new: bool,
    actor: &str,
) -> Result<PrPlan> {
    let plan = validate_pr_plan_of(form, program_code)?;
    let mut problems = Vec::new();
    if !store
        .sections()
        .await?
        .iter()
        .any(|s| s.code == plan.section_code)
    {
        problems.push(Problem::new(
            "section_code",
            format!("課「{}」は登録されていません", plan.section_code),
            format!("no section {}", plan.section_code),
        ));
    }
    if let Some(p) = plan.program_code.as_deref()
        && store.program(p).await?.is_none()
    {
        problems.push(Problem::new(
            "program_code",
            format!("事務事業「{p}」は登録されていません"),
            format!("no program {p}"),
        ));
    }
    problems.extend(unknown_kpis(store, "kpi_codes", &plan.kpi_codes).await?);
    if !problems.is_empty() {
        return Err(Problems(problems).into());
    }
    Ok(store.save_pr_plan(&plan, new, actor).await?)
}

/// Records the reach measured on one of a plan's channels.
pub async fn record_reach(
    store: &Store,
    code: &str,
    channel: &str,
    on: &str,
    reach: &str,
    note: &str,
    actor: &str,
) -> Result<PrPlan> {
    let plan = store
        .pr_plan(code)
        .await?
        .ok_or_else(|| nf("広報計画", "PR plan", code))?;
    let r = validate_reach(&plan, channel, on, reach, note, actor)?;
    Ok(store.add_pr_reach(&r, actor).await?)
}

// ----- the LINE channel secret -----

/// What the administrator's page shows of the secret: never its value.
#[derive(Debug, Clone)]
pub struct LineSecretStatus {
    /// A secret is kept in the database (the setting).
    pub stored: bool,
    /// The server's environment gives one (used when none is stored).
    pub from_env: bool,
    pub changed: Option<SecretChange>,
}

pub async fn line_secret_status(store: &Store) -> Result<LineSecretStatus> {
    let stored = store
        .get_setting(LINE_SECRET_SETTING)
        .await?
        .is_some_and(|s| !s.trim().is_empty());
    let from_env = std::env::var(LINE_SECRET_ENV).is_ok_and(|s| !s.trim().is_empty());
    Ok(LineSecretStatus {
        stored,
        from_env,
        changed: store.secret_setting_changed(LINE_SECRET_SETTING).await?,
    })
}

/// Checks a channel secret as pasted from LINE's console: LINE issues 32
/// hexadecimal characters; letters and digits of 16 to 128 are taken.
pub fn check_line_secret(raw: &str) -> std::result::Result<String, Problems> {
    let s = raw.trim();
    let problem = |ja: &str, en: &str| Problems(vec![Problem::new("secret", ja, en)]);
    if s.is_empty() {
        return Err(problem(
            "チャネルシークレットを入力してください",
            "enter the channel secret",
        ));
    }
    if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(problem(
            "チャネルシークレットは半角英数字です（LINE Developersコンソールの値をそのまま貼り付けてください）",
            "the channel secret is ASCII letters and digits (paste it from the LINE Developers console)",
        ));
    }
    if !(16..=128).contains(&s.len()) {
        return Err(problem(
            "チャネルシークレットの長さが違います（通常32文字）",
            "the channel secret has the wrong length (usually 32 characters)",
        ));
    }
    Ok(s.to_string())
}

/// Sets or replaces the channel secret (audited without its value).
pub async fn set_line_secret(store: &Store, raw: &str, actor: &str) -> Result<SecretChange> {
    let secret = check_line_secret(raw)?;
    Ok(store
        .set_secret_setting(LINE_SECRET_SETTING, Some(&secret), actor)
        .await?)
}

/// Clears the stored channel secret (the webhook then refuses every call
/// unless the server's environment gives one).
pub async fn clear_line_secret(store: &Store, actor: &str) -> Result<SecretChange> {
    Ok(store
        .set_secret_setting(LINE_SECRET_SETTING, None, actor)
        .await?)
}

// ----- sheets for the exports -----

fn pick(ja: bool, j: &'static str, e: &'static str) -> &'static str {
    if ja { j } else { e }
}

fn day_cell(d: citykpi_domain::partner::Day) -> Cell {
    Cell::text(&d.to_string())
}

fn count_cell(n: Option<u64>) -> Cell {
    n.and_then(|n| i64::try_from(n).ok())
        .map_or(Cell::Empty, Cell::Int)
}

/// The sheet of one of the registry's tables (the menu with its
/// participations, the teams with their logs, the demonstrations, the PR
/// plans); None for the tables [`super::export`] writes itself.
pub async fn sheet(store: &Store, table: PartnerTable, ja: bool) -> Result<Option<Sheet>> {
    Ok(Some(match table {
        PartnerTable::Menu => menu_sheet(&super::menu(store).await?, ja),
        PartnerTable::Teams => team_sheet(&super::teams(store).await?, ja),
        PartnerTable::Demonstrations => {
            let list = super::demonstrations(store).await?;
            let results = store.demo_results(None).await?;
            demonstration_sheet(&list, &results, ja)
        }
        PartnerTable::PrPlans => {
            let plans = store.pr_plans_all().await?;
            let reach = store.pr_reach(None).await?;
            pr_sheet(&plans, &reach, ja)
        }
        _ => return Ok(None),
    }))
}

type MenuRows = [(
    citykpi_domain::partner::menu::MenuItem,
    Vec<(citykpi_domain::partner::menu::Participation, String)>,
)];

/// One row per participation (an item without any: one row of the item).
pub fn menu_sheet(items: &MenuRows, ja: bool) -> Sheet {
    let columns = vec![
        ("menu_code", "メニューコード", "menu code"),
        ("title", "メニュー名", "title"),
        ("kind", "種類", "kind"),
        ("open", "募集中", "open"),
        ("kpi_codes", "寄与するKPI", "KPIs"),
        ("sdg_goals", "SDGs", "SDG goals"),
        ("description", "内容", "description"),
        ("member_id", "会員番号", "member id"),
        ("member_name", "会員名", "member"),
        ("status", "参加状況", "participation status"),
        ("note", "備考", "note"),
        ("result", "成果", "result"),
    ];
    let mut rows = Vec::new();
    for (item, parts) in items {
        let head = |rows: &mut Vec<Vec<Cell>>, tail: Vec<Cell>| {
            let mut row = vec![
                Cell::text(&item.code),
                Cell::text(&item.title),
                Cell::text(pick(ja, item.kind.label_ja(), item.kind.label_en())),
                Cell::Bool(item.open),
                Cell::text(&item.kpi_codes.join(", ")),
                Cell::text(&goals_label(&item.sdg_goals)),
                Cell::text(&item.description),
            ];
            row.extend(tail);
            rows.push(row);
        };
        if parts.is_empty() {
            head(&mut rows, vec![Cell::Empty; 5]);
        }
        for (p, name) in parts {
            head(
                &mut rows,
                vec![
                    Cell::Int(p.member_id),
                    Cell::text(name),
                    Cell::text(pick(ja, p.status.label_ja(), p.status.label_en())),
                    Cell::text(&p.note),
                    Cell::text(&p.result),
                ],
            );
        }
    }
    Sheet {
        name_ja: "SDGs貢献メニュー".into(),
        name_en: "SDGs menu".into(),
        columns,
        rows,
    }
}

type TeamRows = [(
    citykpi_domain::partner::projects::ProjectTeam,
    Vec<String>,
    Vec<citykpi_domain::partner::projects::TeamEntry>,
)];

/// One row per log entry (a team without any: one row of the team).
pub fn team_sheet(teams: &TeamRows, ja: bool) -> Sheet {
    let columns = vec![
        ("team_code", "チームコード", "team code"),
        ("name", "チーム名", "name"),
        ("goal", "目標", "goal"),
        ("kpi_codes", "寄与するKPI", "KPIs"),
        ("member_ids", "会員番号", "member ids"),
        ("members", "参加会員", "members"),
        ("section_codes", "参加課", "sections"),
        ("on", "日付", "date"),
        ("kind", "記録の種類", "entry kind"),
        ("body", "内容", "entry"),
        ("author", "記録者", "recorded by"),
    ];
    let mut rows = Vec::new();
    for (team, members, log) in teams {
        let head = |rows: &mut Vec<Vec<Cell>>, tail: Vec<Cell>| {
            let mut row = vec![
                Cell::text(&team.code),
                Cell::text(&team.name),
                Cell::text(&team.goal),
                Cell::text(&team.kpi_codes.join(", ")),
                Cell::text(
                    &team
                        .member_ids
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Cell::text(&members.join(", ")),
                Cell::text(&team.section_codes.join(", ")),
            ];
            row.extend(tail);
            rows.push(row);
        };
        if log.is_empty() {
            head(&mut rows, vec![Cell::Empty; 4]);
        }
        for e in log {
            head(
                &mut rows,
                vec![
                    day_cell(e.on),
                    Cell::text(pick(ja, e.kind.label_ja(), e.kind.label_en())),
                    Cell::text(&e.body),
                    Cell::text(&e.author),
                ],
            );
        }
    }
    Sheet {
        name_ja: "プロジェクトチーム".into(),
        name_en: "project teams".into(),
        columns,
        rows,
    }
}

/// One row per demonstration; its dated results one per line.
pub fn demonstration_sheet(
    list: &[(Demonstration, Vec<String>)],
    results: &[DemoResult],
    ja: bool,
) -> Sheet {
    let columns = vec![
        ("code", "コード", "code"),
        ("title", "名称", "title"),
        ("field", "分野", "field"),
        ("stage", "段階", "stage"),
        ("area", "実施地域", "area"),
        ("start", "開始日", "start"),
        ("end", "終了日", "end"),
        ("partner_ids", "連携会員番号", "partner ids"),
        ("partners", "連携会員", "partners"),
        ("kpi_codes", "寄与するKPI", "KPIs"),
        ("results", "成果の概要", "results"),
        ("result_log", "成果の記録", "dated results"),
    ];
    let rows = list
        .iter()
        .map(|(d, partners)| {
            let log = results
                .iter()
                .filter(|r| r.demo_code == d.code)
                .map(|r| format!("{} {}", r.on, r.body))
                .collect::<Vec<_>>()
                .join("\n");
            vec![
                Cell::text(&d.code),
                Cell::text(&d.title),
                Cell::text(pick(ja, d.field.label_ja(), d.field.label_en())),
                Cell::text(pick(ja, d.stage.label_ja(), d.stage.label_en())),
                Cell::text(&d.area),
                day_cell(d.start),
                day_cell(d.end),
                Cell::text(
                    &d.partner_ids
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Cell::text(&partners.join(", ")),
                Cell::text(&d.kpi_codes.join(", ")),
                Cell::text(&d.results),
                Cell::text(&log),
            ]
        })
        .collect();
    Sheet {
        name_ja: "実証プロジェクト".into(),
        name_en: "demonstrations".into(),
        columns,
        rows,
    }
}

/// One row per plan with the reach recorded on each channel.
pub fn pr_sheet(plans: &[PrPlan], reach: &[PrReach], ja: bool) -> Sheet {
    let columns = vec![
        ("code", "コード", "code"),
        ("title", "件名", "title"),
        ("program_code", "事務事業", "program"),
        ("section_code", "担当課", "section"),
        ("goal", "目標", "goal"),
        ("audience", "対象", "audience"),
        ("message", "メッセージ", "message"),
        ("channels", "媒体", "channels"),
        ("start", "開始日", "start"),
        ("end", "終了日", "end"),
        ("kpi_codes", "寄与するKPI", "KPIs"),
        ("reach_target", "到達目標", "reach target"),
        ("reach_actual", "到達実績", "reach measured"),
        ("reach_newsletter", "到達数（市報）", "reach: newsletter"),
        ("reach_website", "到達数（ウェブサイト）", "reach: website"),
        ("reach_line", "到達数（LINE）", "reach: LINE"),
        ("reach_press", "到達数（報道発表）", "reach: press"),
        ("reach_event", "到達数（イベント）", "reach: events"),
    ];
    let rows = plans
        .iter()
        .map(|p| {
            let of: Vec<PrReach> = reach
                .iter()
                .filter(|r| r.plan_code == p.code)
                .cloned()
                .collect();
            let mut row = vec![
                Cell::text(&p.code),
                Cell::text(&p.title),
                Cell::text(p.program_code.as_deref().unwrap_or("")),
                Cell::text(&p.section_code),
                Cell::text(&p.goal),
                Cell::text(&p.audience),
                Cell::text(&p.message),
                Cell::text(
                    &p.channels
                        .iter()
                        .map(|c| pick(ja, c.label_ja(), c.label_en()))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                day_cell(p.start),
                day_cell(p.end),
                Cell::text(&p.kpi_codes.join(", ")),
                count_cell(p.reach_target),
                count_cell(p.reach_actual),
            ];
            for (c, n) in by_channel(&of) {
                let recorded = of.iter().any(|r| r.channel == c);
                row.push(if recorded {
                    count_cell(Some(n))
                } else {
                    Cell::Empty
                });
            }
            row
        })
        .collect();
    Sheet {
        name_ja: "広報計画".into(),
        name_en: "PR plans".into(),
        columns,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_secrets() {
        assert_eq!(
            check_line_secret(" 0123456789abcdef0123456789abcdef ").unwrap(),
            "0123456789abcdef0123456789abcdef"
        );
        for bad in [
            "",
            "short",
            "has space 0123456789abcdef",
            "秘密秘密秘密秘密秘密秘密秘密秘密",
        ] {
            assert!(check_line_secret(bad).unwrap_err().has("secret"), "{bad}");
        }
    }

    #[test]
    fn pr_sheet_sums_reach_by_channel() {
        use citykpi_domain::partner::Day;
        let d = |s: &str| Day::parse(s).unwrap();
        let plan = PrPlan {
            code: "PR-1".into(),
            title: "t".into(),
            section_code: "S".into(),
            goal: "g".into(),
            audience: "a".into(),
            message: "m".into(),
            channels: vec![PrChannel::Line, PrChannel::Press],
            start: d("2026-05-01"),
            end: d("2026-05-31"),
            kpi_codes: vec!["K".into()],
            reach_target: Some(100),
            reach_actual: Some(30),
            program_code: None,
        };
        let r = |n| PrReach {
            plan_code: "PR-1".into(),
            channel: PrChannel::Line,
            on: d("2026-05-02"),
            reach: n,
            note: String::new(),
            author: "u".into(),
        };
        let s = pr_sheet(&[plan], &[r(10), r(20)], true);
        let line = s.columns.iter().position(|c| c.0 == "reach_line").unwrap();
        assert_eq!(s.rows[0][line], Cell::Int(30));
        assert_eq!(s.rows[0][line + 1], Cell::Empty, "press: nothing recorded");
    }
}
