//! Smart-city demonstrations (実証プロジェクト), project teams and strategic
//! PR plans (戦略的広報): each names the KPIs it serves.

use serde::{Deserialize, Serialize};

use super::member::coded_enum;
use super::{Check, Day, Problems, read_codes};

coded_enum! {
    /// The five fields of the smart-city strategy.
    DemoField {
        Healthcare = "healthcare", "ヘルスケア", "healthcare";
        Mobility = "mobility", "モビリティ", "mobility";
        Community = "community", "コミュニティ", "community";
        RemoteWork = "remote_work", "リモートワーク", "remote work";
        Energy = "energy", "エネルギー", "energy";
    }
}

coded_enum! {
    /// 構想 → 実証 → 実装 / 終了.
    DemoStage {
        Concept = "concept", "構想", "concept";
        Trial = "trial", "実証", "trial";
        Implemented = "implemented", "実装", "implemented";
        Ended = "ended", "終了", "ended";
    }
}

impl DemoStage {
    pub fn can_move_to(self, to: DemoStage) -> bool {
        use DemoStage::*;
        matches!(
            (self, to),
            (Concept, Trial) | (Concept, Ended) | (Trial, Implemented) | (Trial, Ended)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Demonstration {
    pub code: String,
    pub title: String,
    pub field: DemoField,
    /// The area it runs in (a district name or a local-government code).
    pub area: String,
    pub partner_ids: Vec<i64>,
    pub start: Day,
    pub end: Day,
    pub stage: DemoStage,
    pub kpi_codes: Vec<String>,
    pub results: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemonstrationForm {
    pub code: String,
    pub title: String,
    pub field: String,
    pub area: String,
    pub start: String,
    pub end: String,
    pub kpi_codes: String,
}

/// Reads a period; the end may not come before the start.
fn period(c: &mut Check, start: &str, end: &str) -> (Option<Day>, Option<Day>) {
    let s = Day::parse(start);
    if s.is_none() {
        c.push(
            "start",
            "開始日（YYYY-MM-DD）を入力してください",
            "must be a date (YYYY-MM-DD)",
        );
    }
    let e = Day::parse(end);
    if e.is_none() {
        c.push(
            "end",
            "終了日（YYYY-MM-DD）を入力してください",
            "must be a date (YYYY-MM-DD)",
        );
    }
    if let (Some(s), Some(e)) = (s, e)
        && e < s
    {
        c.push(
            "end",
            "終了日は開始日以降にしてください",
            "must not be before the start",
        );
    }
    (s, e)
}

fn one_code(c: &mut Check, field: &str, raw: &str) -> String {
    let codes = read_codes(c, field, raw);
    match codes.as_slice() {
        [one] => one.clone(),
        _ => {
            if !c.problems.iter().any(|p| p.field == field) {
                c.push(
                    field,
                    "コードを1つ入力してください",
                    "give exactly one code",
                );
            }
            String::new()
        }
    }
}

/// Reads member numbers (`12, #40`) from form values (a text or the values
/// of a multiple select); every bad one is a problem of `field`. In the
/// order given, without repeats.
fn read_member_ids(c: &mut Check, field: &str, values: &[&str]) -> Vec<i64> {
    let mut ids: Vec<i64> = Vec::new();
    for value in values {
        for raw in crate::text::normalize(value)
            .split(|ch: char| ch == ',' || ch == '、' || ch.is_whitespace())
            .filter(|x| !x.is_empty())
        {
            match raw.trim_start_matches('#').parse::<i64>() {
                Ok(id) if id > 0 => {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                _ => c.push(
                    field,
                    format!("「{raw}」は会員番号ではありません"),
                    format!("\"{raw}\" is not a member number"),
                ),
            }
        }
    }
    ids
}

pub fn validate_demonstration(form: &DemonstrationForm) -> Result<Demonstration, Problems> {
    let mut c = Check::default();
    let code = one_code(&mut c, "code", &form.code);
    let title = c.text("title", &form.title, true, 200);
    let field = DemoField::parse(&form.field);
    if field.is_none() {
        c.push("field", "分野を選んでください", "choose a field");
    }
    let area = c.text("area", &form.area, true, 200);
    let (start, end) = period(&mut c, &form.start, &form.end);
    let kpi_codes = read_codes(&mut c, "kpi_codes", &form.kpi_codes);
    let (Some(field), Some(start), Some(end)) = (field, start, end) else {
        return Err(Problems(c.problems));
    };
    c.finish(Demonstration {
        code,
        title,
        field,
        area,
        partner_ids: Vec::new(),
        start,
        end,
        stage: DemoStage::Concept,
        kpi_codes,
        results: String::new(),
    })
}

/// The registry's form: a demonstration with its partner members (member
/// numbers, from the form's list of members) and a summary of its results.
/// The stage is not read here: it moves by [`DemoStage::can_move_to`] only.
pub fn validate_demonstration_of(
    form: &DemonstrationForm,
    partner_ids: &[String],
    results: &str,
) -> Result<Demonstration, Problems> {
    let mut c = Check::default();
    let values: Vec<&str> = partner_ids.iter().map(String::as_str).collect();
    let partner_ids = read_member_ids(&mut c, "partner_ids", &values);
    let results = c.text("results", results, false, 4000);
    match validate_demonstration(form) {
        Ok(d) => c.finish(Demonstration {
            partner_ids,
            results,
            ..d
        }),
        Err(Problems(mut first)) => {
            first.extend(c.problems);
            Err(Problems(first))
        }
    }
}

/// One dated entry of a demonstration's results (what was measured or learnt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoResult {
    pub demo_code: String,
    pub on: Day,
    pub body: String,
    pub author: String,
}

/// Checks a result entry typed into the form (`on` as YYYY-MM-DD).
pub fn validate_demo_result(
    demo_code: &str,
    on: &str,
    body: &str,
    author: &str,
) -> Result<DemoResult, Problems> {
    let mut c = Check::default();
    let day = Day::parse(on.trim());
    if day.is_none() {
        c.push(
            "on",
            "日付（YYYY-MM-DD）を入力してください",
            "must be a date (YYYY-MM-DD)",
        );
    }
    let body = c.text("body", body, true, 4000);
    let Some(on) = day else {
        return Err(Problems(c.problems));
    };
    c.finish(DemoResult {
        demo_code: demo_code.to_string(),
        on,
        body,
        author: author.to_string(),
    })
}

/// A project team: members and city sections working on one goal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectTeam {
    pub code: String,
    pub name: String,
    pub goal: String,
    pub member_ids: Vec<i64>,
    pub section_codes: Vec<String>,
    pub kpi_codes: Vec<String>,
}

/// A project team as typed into the form (lists comma separated).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamForm {
    pub code: String,
    pub name: String,
    pub goal: String,
    /// Member numbers (`12, 40`).
    pub member_ids: String,
    pub section_codes: String,
    pub kpi_codes: String,
}

/// Checks a team: a code, a name, a goal, at least one KPI it serves.
pub fn validate_team(form: &TeamForm) -> Result<ProjectTeam, Problems> {
    let mut c = Check::default();
    let code = one_code(&mut c, "code", &form.code);
    let name = c.text("name", &form.name, true, 200);
    let goal = c.text("goal", &form.goal, true, 2000);
    let member_ids = read_member_ids(&mut c, "member_ids", &[form.member_ids.as_str()]);
    let section_codes = read_codes(&mut c, "section_codes", &form.section_codes);
    let kpi_codes = read_codes(&mut c, "kpi_codes", &form.kpi_codes);
    if kpi_codes.is_empty() && !c.problems.iter().any(|p| p.field == "kpi_codes") {
        c.push(
            "kpi_codes",
            "寄与する計画のKPIを1つ以上入力してください",
            "name at least one KPI of the plan it serves",
        );
    }
    c.finish(ProjectTeam {
        code,
        name,
        goal,
        member_ids,
        section_codes,
        kpi_codes,
    })
}

coded_enum! {
    /// An entry of a team's log.
    TeamEntryKind {
        Activity = "activity", "活動", "activity";
        Result = "result", "成果", "result";
    }
}

/// One entry of a team's log of activities and results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamEntry {
    pub team_code: String,
    pub on: Day,
    pub kind: TeamEntryKind,
    pub body: String,
    pub author: String,
}

/// Checks a log entry typed into the form (`on` as YYYY-MM-DD).
pub fn validate_entry(
    team_code: &str,
    kind: &str,
    on: &str,
    body: &str,
    author: &str,
) -> Result<TeamEntry, Problems> {
    let mut c = Check::default();
    let kind_v = TeamEntryKind::parse(kind);
    if kind_v.is_none() {
        c.push("kind", "種類を選んでください", "choose a kind");
    }
    let day = Day::parse(on.trim());
    if day.is_none() {
        c.push(
            "on",
            "日付（YYYY-MM-DD）を入力してください",
            "must be a date (YYYY-MM-DD)",
        );
    }
    let body = c.text("body", body, true, 4000);
    let (Some(kind), Some(on)) = (kind_v, day) else {
        return Err(Problems(c.problems));
    };
    c.finish(TeamEntry {
        team_code: team_code.to_string(),
        on,
        kind,
        body,
        author: author.to_string(),
    })
}

coded_enum! {
    /// Channels of the city's PR.
    PrChannel {
        Newsletter = "newsletter", "市報", "city newsletter";
        Website = "website", "ウェブサイト", "website";
        Line = "line", "LINE公式アカウント", "official LINE account";
        Press = "press", "報道発表", "press release";
        Event = "event", "イベント", "event";
    }
}

/// One PR plan: goal → audience → message → channel → measured result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrPlan {
    pub code: String,
    pub title: String,
    pub section_code: String,
    pub goal: String,
    pub audience: String,
    pub message: String,
    pub channels: Vec<PrChannel>,
    pub start: Day,
    pub end: Day,
    pub kpi_codes: Vec<String>,
    pub reach_target: Option<u64>,
    pub reach_actual: Option<u64>,
    /// The administrative program (事務事業) the plan publicises; None for an
    /// initiative named by its title alone.
    #[serde(default)]
    pub program_code: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrPlanForm {
    pub code: String,
    pub title: String,
    pub section_code: String,
    pub goal: String,
    pub audience: String,
    pub message: String,
    pub channels: Vec<String>,
    pub start: String,
    pub end: String,
    pub kpi_codes: String,
    pub reach_target: String,
}

/// Every step of the PR process must be written down, so that the plan can
/// be judged by its measured reach later.
pub fn validate_pr_plan(form: &PrPlanForm) -> Result<PrPlan, Problems> {
    let mut c = Check::default();
    let code = one_code(&mut c, "code", &form.code);
    let title = c.text("title", &form.title, true, 200);
    let section_code = one_code(&mut c, "section_code", &form.section_code);
    let goal = c.text("goal", &form.goal, true, 2000);
    let audience = c.text("audience", &form.audience, true, 500);
    let message = c.text("message", &form.message, true, 2000);
    let mut channels = Vec::new();
    for ch in &form.channels {
        match PrChannel::parse(ch) {
            Some(p) if !channels.contains(&p) => channels.push(p),
            Some(_) => {}
            None => c.push(
                "channels",
                format!("「{ch}」は広報媒体ではありません"),
                format!("\"{ch}\" is not a channel"),
            ),
        }
    }
    if channels.is_empty() && !c.problems.iter().any(|p| p.field == "channels") {
        c.push(
            "channels",
            "媒体を1つ以上選んでください",
            "choose at least one channel",
        );
    }
    let (start, end) = period(&mut c, &form.start, &form.end);
    let kpi_codes = read_codes(&mut c, "kpi_codes", &form.kpi_codes);
    let target = crate::text::normalize(&form.reach_target).replace(',', "");
    let reach_target = if target.is_empty() {
        None
    } else {
        match target.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                c.push(
                    "reach_target",
                    "到達目標は0以上の整数で入力してください",
                    "must be a whole number",
                );
                None
            }
        }
    };
    let (Some(start), Some(end)) = (start, end) else {
        return Err(Problems(c.problems));
    };
    c.finish(PrPlan {
        code,
        title,
        section_code,
        goal,
        audience,
        message,
        channels,
        start,
        end,
        kpi_codes,
        reach_target,
        reach_actual: None,
        program_code: None,
    })
}

/// Reads a whole number of people reached (`12,000`, full-width digits).
fn read_count(c: &mut Check, field: &str, raw: &str, required: bool) -> Option<u64> {
    let v = crate::text::normalize(raw).replace(',', "");
    if v.is_empty() {
        if required {
            c.push(field, "入力してください", "is required");
        }
        return None;
    }
    match v.parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => {
            c.push(
                field,
                "0以上の整数で入力してください",
                "must be a whole number (0 or more)",
            );
            None
        }
    }
}

/// The registry's form: a PR plan with the program it publicises (empty for
/// an initiative that is not one program).
pub fn validate_pr_plan_of(form: &PrPlanForm, program_code: &str) -> Result<PrPlan, Problems> {
    let mut c = Check::default();
    let program = read_codes(&mut c, "program_code", program_code);
    if program.len() > 1 {
        c.push(
            "program_code",
            "事務事業のコードは1つだけ入力してください",
            "give one program code at most",
        );
    }
    match validate_pr_plan(form) {
        Ok(p) => c.finish(PrPlan {
            program_code: program.into_iter().next(),
            ..p
        }),
        Err(Problems(mut first)) => {
            first.extend(c.problems);
            Err(Problems(first))
        }
    }
}

/// The reach measured on one channel of a plan on one day (people who
/// opened, read, attended…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrReach {
    pub plan_code: String,
    pub channel: PrChannel,
    pub on: Day,
    pub reach: u64,
    pub note: String,
    pub author: String,
}

/// Checks a measured reach: a channel of the plan, a date not before the
/// plan starts, a whole number.
pub fn validate_reach(
    plan: &PrPlan,
    channel: &str,
    on: &str,
    reach: &str,
    note: &str,
    author: &str,
) -> Result<PrReach, Problems> {
    let mut c = Check::default();
    let ch = PrChannel::parse(channel);
    match ch {
        None => c.push("channel", "媒体を選んでください", "choose a channel"),
        Some(ch) if !plan.channels.contains(&ch) => c.push(
            "channel",
            format!("「{}」はこの広報計画の媒体ではありません", ch.label_ja()),
            format!("{} is not a channel of this plan", ch.label_en()),
        ),
        Some(_) => {}
    }
    let day = Day::parse(on.trim());
    match day {
        None => c.push(
            "on",
            "日付（YYYY-MM-DD）を入力してください",
            "must be a date (YYYY-MM-DD)",
        ),
        Some(d) if d < plan.start => c.push(
            "on",
            format!("広報の開始日（{}）より前です", plan.start),
            format!("is before the plan starts ({})", plan.start),
        ),
        Some(_) => {}
    }
    let reach = read_count(&mut c, "reach", reach, true);
    let note = c.text("note", note, false, 500);
    let (Some(channel), Some(on), Some(reach)) = (ch, day, reach) else {
        return Err(Problems(c.problems));
    };
    c.finish(PrReach {
        plan_code: plan.code.clone(),
        channel,
        on,
        reach,
        note,
        author: author.to_string(),
    })
}

/// The plans running on `day` across departments (the PR calendar), by start.
pub fn running_on(plans: &[PrPlan], day: Day) -> Vec<&PrPlan> {
    let mut v: Vec<&PrPlan> = plans
        .iter()
        .filter(|p| p.start <= day && day <= p.end)
        .collect();
    v.sort_by(|a, b| a.start.cmp(&b.start).then(a.code.cmp(&b.code)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demonstrations() {
        let err = validate_demonstration(&DemonstrationForm {
            start: "2026-04-01".into(),
            end: "2026-03-01".into(),
            ..DemonstrationForm::default()
        })
        .unwrap_err();
        for f in ["code", "title", "field", "area", "end"] {
            assert!(err.has(f), "{f}");
        }
        let d = validate_demonstration(&DemonstrationForm {
            code: "D-1".into(),
            title: "自動運転バス".into(),
            field: "mobility".into(),
            area: "臨海地区".into(),
            start: "2026-04-01".into(),
            end: "2027-03-31".into(),
            kpi_codes: "K1".into(),
        })
        .unwrap();
        assert_eq!(d.stage, DemoStage::Concept);
        assert!(DemoStage::Trial.can_move_to(DemoStage::Implemented));
        assert!(!DemoStage::Concept.can_move_to(DemoStage::Implemented));
        assert!(!DemoStage::Ended.can_move_to(DemoStage::Trial));
    }

    #[test]
    fn pr_plans_and_calendar() {
        let form = PrPlanForm {
            code: "PR-1".into(),
            title: "健診の勧奨".into(),
            section_code: "S01".into(),
            goal: "受診率を上げる".into(),
            audience: "40代".into(),
            message: "無料です".into(),
            channels: vec!["line".into(), "newsletter".into(), "line".into()],
            start: "2026-05-01".into(),
            end: "2026-06-30".into(),
            kpi_codes: "K1".into(),
            reach_target: "１０,０００".into(),
        };
        let p = validate_pr_plan(&form).unwrap();
        assert_eq!(p.channels, vec![PrChannel::Line, PrChannel::Newsletter]);
        assert_eq!(p.reach_target, Some(10_000));
        let err = validate_pr_plan(&PrPlanForm {
            channels: vec!["fax".into()],
            reach_target: "-1".into(),
            ..form.clone()
        })
        .unwrap_err();
        assert!(err.has("channels") && err.has("reach_target"));
        let plans = vec![
            p.clone(),
            PrPlan {
                code: "PR-0".into(),
                start: Day::parse("2026-06-01").unwrap(),
                ..p
            },
        ];
        let on = running_on(&plans, Day::parse("2026-06-15").unwrap());
        assert_eq!(
            on.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(),
            vec!["PR-1", "PR-0"]
        );
        assert!(running_on(&plans, Day::parse("2026-07-01").unwrap()).is_empty());
    }

    #[test]
    fn registry_forms() {
        let form = DemonstrationForm {
            code: "D-1".into(),
            title: "自動運転バス".into(),
            field: "mobility".into(),
            area: "臨海地区".into(),
            start: "2026-04-01".into(),
            end: "2027-03-31".into(),
            kpi_codes: "K1".into(),
        };
        let d =
            validate_demonstration_of(&form, &["12".into(), "#40, 12".into()], " 乗車 ").unwrap();
        assert_eq!(d.partner_ids, vec![12, 40]);
        assert_eq!(d.results, "乗車");
        let bad = validate_demonstration_of(
            &DemonstrationForm {
                title: String::new(),
                ..form
            },
            &["x".into()],
            "",
        )
        .unwrap_err();
        assert!(bad.has("title") && bad.has("partner_ids"));
        let r = validate_demo_result("D-1", "2026-05-01", "利用者 1,200人", "u").unwrap();
        assert_eq!(r.on, Day::parse("2026-05-01").unwrap());
        let bad = validate_demo_result("D-1", "May", " ", "u").unwrap_err();
        assert!(bad.has("on") && bad.has("body"));

        let plan = validate_pr_plan_of(
            &PrPlanForm {
                code: "PR-1".into(),
                title: "健診の勧奨".into(),
                section_code: "S01".into(),
                goal: "受診率を上げる".into(),
                audience: "40代".into(),
                message: "無料です".into(),
                channels: vec!["line".into()],
                start: "2026-05-01".into(),
                end: "2026-06-30".into(),
                kpi_codes: "K1".into(),
                reach_target: String::new(),
            },
            "P-001",
        )
        .unwrap();
        assert_eq!(plan.program_code.as_deref(), Some("P-001"));
        let reach = validate_reach(&plan, "line", "2026-05-10", "１２,０００", "", "u").unwrap();
        assert_eq!(reach.reach, 12_000);
        let bad = validate_reach(&plan, "press", "2026-04-30", "-3", "", "u").unwrap_err();
        assert!(bad.has("channel") && bad.has("on") && bad.has("reach"));
    }

    #[test]
    fn teams_and_their_log() {
        let form = TeamForm {
            code: "T-01".into(),
            name: "臨海部の脱炭素".into(),
            goal: "2030年までに臨海部のCO2を半減".into(),
            member_ids: "12、#40 12".into(),
            section_codes: "KANKYO-1".into(),
            kpi_codes: "CO2".into(),
        };
        let t = validate_team(&form).unwrap();
        assert_eq!(t.member_ids, vec![12, 40]);
        let bad = validate_team(&TeamForm {
            member_ids: "x".into(),
            kpi_codes: String::new(),
            ..form.clone()
        })
        .unwrap_err();
        assert!(bad.has("member_ids") && bad.has("kpi_codes"));
        let e = validate_entry("T-01", "result", "2026-04-01", "実証で削減量を確認", "u").unwrap();
        assert_eq!(e.kind, TeamEntryKind::Result);
        let bad = validate_entry("T-01", "x", "soon", "", "u").unwrap_err();
        assert!(bad.has("kind") && bad.has("on") && bad.has("body"));
    }
}
