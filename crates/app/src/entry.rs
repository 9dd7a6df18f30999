//! Data entry from forms and the API: reading what staff typed (a KPI actual,
//! a bulk paste from Excel, a program's fields, a year's money) into domain
//! records, with every problem tied to its field, and saving them through the
//! store with the actor recorded in the audit log.
//!
//! The web pages and the REST API both call these, so the rules of what is
//! accepted live here once.

use citykpi_domain::FiscalYear;
use citykpi_domain::money::ProgramMoney;
use citykpi_domain::observation::{ObsStatus, ObsValue, Observation, Period};
use citykpi_domain::program::{DeliveryMethod, Program};
use citykpi_domain::text::{parse_number, parse_yen};
use citykpi_store::{Change, Saved, Store};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::AppError;

/// A problem with one field (or one pasted line), in Japanese then English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The form field name, e.g. `value`; for bulk pastes `line:3`.
    pub field: String,
    pub message: String,
}

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        message: message.into(),
    }
}

/// One actual as typed into the form.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ActualInput {
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub value: String,
    /// `provisional` / `final` or 速報 / 確定; empty = final.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub note: String,
    /// API clients: the version of the stored actual they read (0 = none
    /// was stored). Given, a save made stale by someone else's is refused.
    #[serde(default)]
    pub version: Option<i64>,
}

/// Reads one actual of `kpi_code` for `area_code`; all problems together.
pub fn parse_actual(
    kpi_code: &str,
    area_code: &str,
    input: &ActualInput,
    actor: &str,
) -> Result<Observation, Vec<FieldError>> {
    let mut errors = Vec::new();
    let period = if input.period.trim().is_empty() {
        errors.push(err("period", "期間を入力してください / enter the period"));
        None
    } else {
        Period::parse(&input.period)
            .map_err(|e| errors.push(err("period", e.to_string())))
            .ok()
    };
    let value = if input.value.trim().is_empty() {
        errors.push(err(
            "value",
            "値を入力してください（欠測は「-」、秘匿は「X」） / enter a value (\"-\" for missing, \"X\" for withheld)",
        ));
        None
    } else {
        ObsValue::parse(&input.value)
            .map_err(|e| errors.push(err("value", e.to_string())))
            .ok()
    };
    let status = ObsStatus::parse(&input.status);
    if status.is_none() {
        errors.push(err(
            "status",
            format!("「{}」は速報・確定のどちらでもありません / \"{}\" is neither provisional nor final", input.status.trim(), input.status.trim()),
        ));
    }
    match (period, value, status) {
        (Some(period), Some(value), Some(status)) if errors.is_empty() => Ok(Observation {
            kpi_code: kpi_code.to_string(),
            period,
            area_code: area_code.to_string(),
            value,
            status,
            source: input.source.trim().to_string(),
            note: input.note.trim().to_string(),
            entered_by: actor.to_string(),
            entered_at: citykpi_store::now_rfc3339(),
            // Typed in by a person: unconfirmed until an approver confirms it.
            confirmed_by: String::new(),
            confirmed_at: String::new(),
        }),
        _ => Err(errors),
    }
}

/// Reads rows pasted from Excel: tab-separated period, value and optionally
/// provisional/final, source and note. A header row (a first line whose
/// period does not read as one but whose second cell is not a number either)
/// is skipped. Every bad line is reported with its line number.
pub fn parse_bulk_actuals(
    kpi_code: &str,
    area_code: &str,
    text: &str,
    actor: &str,
) -> Result<Vec<Observation>, Vec<FieldError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // Excel separates cells by tabs; people typing by hand use commas.
        let cells: Vec<&str> = if line.contains('\t') {
            line.split('\t').collect()
        } else {
            line.split(',').collect()
        };
        let cell = |n: usize| cells.get(n).map(|s| s.trim()).unwrap_or("");
        let input = ActualInput {
            period: cell(0).to_string(),
            value: cell(1).to_string(),
            status: cell(2).to_string(),
            source: cell(3).to_string(),
            note: cell(4).to_string(),
            version: None,
        };
        let is_header = i == 0
            && Period::parse(&input.period).is_err()
            && parse_number(&input.value).is_err()
            && ObsValue::parse(&input.value).is_err();
        if is_header {
            continue;
        }
        match parse_actual(kpi_code, area_code, &input, actor) {
            Ok(o) => out.push(o),
            Err(es) => errors.extend(es.into_iter().map(|e| FieldError {
                field: format!("line:{}", i + 1),
                message: format!("{}行目: {}", i + 1, e.message),
            })),
        }
    }
    if out.is_empty() && errors.is_empty() {
        errors.push(err(
            "bulk",
            "貼り付けられた行がありません / nothing was pasted",
        ));
    }
    // The same period twice in one paste is almost always a copying mistake.
    let mut seen = std::collections::HashSet::new();
    for o in &out {
        if !seen.insert(o.period) {
            errors.push(err(
                "bulk",
                format!(
                    "期間 {} が2回以上あります / period {} appears more than once",
                    o.period, o.period
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Saves actuals one by one, each with its own audit row (before → after).
/// Everything was validated beforehand, so only a database error can stop it.
pub async fn save_actuals(
    store: &Store,
    observations: &[Observation],
    actor: &str,
) -> Result<Vec<Change>, AppError> {
    let mut out = Vec::with_capacity(observations.len());
    for o in observations {
        out.push(store.upsert_observation(o, actor).await?);
    }
    Ok(out)
}

/// The versions of a KPI's stored actuals as an entry form carries them:
/// `2024:3,2025:1` (period, version). Every period the form saw is there,
/// so whichever period the editor then types, the save is checked against
/// what they saw (a period not listed was not stored yet).
pub fn versions_text(versions: &[(Period, i64)]) -> String {
    versions
        .iter()
        .map(|(p, v)| format!("{p}:{v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads `versions_text` back; `None` when the text is not one.
pub fn parse_versions(text: &str) -> Option<HashMap<Period, i64>> {
    let mut out = HashMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (p, v) = part.rsplit_once(':')?;
        out.insert(Period::parse(p).ok()?, v.trim().parse().ok()?);
    }
    Some(out)
}

/// Saves actuals the editor entered having seen `seen` (the versions of the
/// stored actuals when the form was loaded; see `versions_text`), all in one
/// transaction: if any of them was saved by someone else since, the save is
/// refused with `StoreError::Conflict` naming it and nothing is written.
pub async fn save_actuals_checked(
    store: &Store,
    observations: &[Observation],
    seen: &HashMap<Period, i64>,
    actor: &str,
) -> Result<Vec<Saved>, AppError> {
    let items: Vec<(&Observation, Option<i64>)> = observations
        .iter()
        .map(|o| (o, Some(seen.get(&o.period).copied().unwrap_or(0))))
        .collect();
    Ok(store.save_observations(&items, actor).await?)
}

/// Saves actuals each with the version its client read (`None`: unchecked),
/// all in one transaction: one stale version refuses them all.
pub async fn save_actuals_versioned(
    store: &Store,
    items: &[(Observation, Option<i64>)],
    actor: &str,
) -> Result<Vec<Saved>, AppError> {
    let items: Vec<(&Observation, Option<i64>)> = items.iter().map(|(o, v)| (o, *v)).collect();
    Ok(store.save_observations(&items, actor).await?)
}

/// A program's editable fields as typed into the form. The code and the
/// owning section are not editable here.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ProgramInput {
    #[serde(default)]
    pub name_ja: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub target_group: String,
    #[serde(default)]
    pub intent: String,
    #[serde(default)]
    pub means: String,
    #[serde(default)]
    pub delivery: String,
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub start_fy: String,
    #[serde(default)]
    pub end_fy: String,
    /// Checkbox: present ("on"/"true"/"1") = mandatory.
    #[serde(default)]
    pub mandatory: Option<String>,
    /// Checkbox: present = published.
    #[serde(default)]
    pub published: Option<String>,
}

impl ProgramInput {
    pub fn from_program(p: &Program) -> ProgramInput {
        ProgramInput {
            name_ja: p.name_ja.clone(),
            name_en: p.name_en.clone(),
            purpose: p.purpose.clone(),
            target_group: p.target_group.clone(),
            intent: p.intent.clone(),
            means: p.means.clone(),
            delivery: p.delivery.as_str().to_string(),
            legal_basis: p.legal_basis.clone(),
            start_fy: p.start_fy.map(|f| f.to_string()).unwrap_or_default(),
            end_fy: p.end_fy.map(|f| f.to_string()).unwrap_or_default(),
            mandatory: p.mandatory.then(|| "on".to_string()),
            published: p.published.then(|| "on".to_string()),
        }
    }
}

fn checked(v: &Option<String>) -> bool {
    v.as_deref()
        .is_some_and(|s| matches!(s.trim(), "on" | "true" | "1" | "yes"))
}

fn optional_fy(field: &str, s: &str, errors: &mut Vec<FieldError>) -> Option<FiscalYear> {
    if s.trim().is_empty() {
        return None;
    }
    FiscalYear::parse(s)
        .map_err(|e| errors.push(err(field, e.to_string())))
        .ok()
}

/// Applies the form to the stored program; all problems together.
pub fn program_from_input(
    existing: &Program,
    input: &ProgramInput,
) -> Result<Program, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name_ja = normalize_keep(&input.name_ja);
    if name_ja.is_empty() {
        errors.push(err(
            "name_ja",
            "事業名を入力してください / enter the program's name",
        ));
    }
    let delivery = DeliveryMethod::parse(&input.delivery);
    if delivery.is_none() {
        errors.push(err(
            "delivery",
            format!("「{}」は実施方法として読めません（直営・委託・補助・指定管理） / unknown delivery method", input.delivery.trim()),
        ));
    }
    let start_fy = optional_fy("start_fy", &input.start_fy, &mut errors);
    let end_fy = optional_fy("end_fy", &input.end_fy, &mut errors);
    if let (Some(s), Some(e)) = (start_fy, end_fy)
        && e < s
    {
        errors.push(err(
            "end_fy",
            "終了年度が開始年度より前です / the end year is before the start year",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Program {
        code: existing.code.clone(),
        section_code: existing.section_code.clone(),
        name_ja,
        name_en: input.name_en.trim().to_string(),
        purpose: input.purpose.trim().to_string(),
        target_group: input.target_group.trim().to_string(),
        intent: input.intent.trim().to_string(),
        means: input.means.trim().to_string(),
        delivery: delivery.unwrap_or(existing.delivery),
        legal_basis: input.legal_basis.trim().to_string(),
        start_fy,
        end_fy,
        mandatory: checked(&input.mandatory),
        published: checked(&input.published),
    })
}

/// Trims without folding full-width characters: names keep how staff wrote them.
fn normalize_keep(s: &str) -> String {
    s.trim().to_string()
}

/// Saves a program if nobody else saved it since `expected_version` was read.
pub async fn save_program(
    store: &Store,
    program: &Program,
    expected_version: i64,
    actor: &str,
) -> Result<Saved, AppError> {
    Ok(store
        .upsert_program_versioned(program, Some(expected_version), actor)
        .await?)
}

/// One year's money as typed into the form (amounts in yen).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct MoneyInput {
    #[serde(default)]
    pub fy: String,
    #[serde(default)]
    pub budget_initial: String,
    #[serde(default)]
    pub budget_revised: String,
    #[serde(default)]
    pub settled: String,
    #[serde(default)]
    pub staff_fte: String,
    #[serde(default)]
    pub staff_unit_cost: String,
    #[serde(default)]
    pub output_quantity: String,
}

impl MoneyInput {
    pub fn from_money(m: &ProgramMoney) -> MoneyInput {
        MoneyInput {
            fy: m.fy.to_string(),
            budget_initial: m.budget_initial.to_string(),
            budget_revised: m.budget_revised.map(|v| v.to_string()).unwrap_or_default(),
            settled: m.settled.map(|v| v.to_string()).unwrap_or_default(),
            staff_fte: m.staff_fte.to_string(),
            staff_unit_cost: m.staff_unit_cost.to_string(),
            output_quantity: m.output_quantity.map(|v| v.to_string()).unwrap_or_default(),
        }
    }
}

fn optional_yen(field: &str, s: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    if s.trim().is_empty() {
        return None;
    }
    match parse_yen(s) {
        Ok(v) if v < 0 => {
            errors.push(err(
                field,
                "金額は0以上にしてください / amounts cannot be negative",
            ));
            None
        }
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(err(field, format!("{e}（円単位の整数） / whole yen")));
            None
        }
    }
}

/// Reads one year's money of `program_code`, keeping the stored funding
/// breakdown (not edited in this form).
pub fn money_from_input(
    program_code: &str,
    existing: Option<&ProgramMoney>,
    input: &MoneyInput,
) -> Result<ProgramMoney, Vec<FieldError>> {
    let mut errors = Vec::new();
    let fy = FiscalYear::parse(&input.fy)
        .map_err(|e| errors.push(err("fy", e.to_string())))
        .ok();
    let budget_initial = if input.budget_initial.trim().is_empty() {
        errors.push(err(
            "budget_initial",
            "当初予算額を入力してください / enter the initial budget",
        ));
        None
    } else {
        optional_yen("budget_initial", &input.budget_initial, &mut errors)
    };
    let budget_revised = optional_yen("budget_revised", &input.budget_revised, &mut errors);
    let settled = optional_yen("settled", &input.settled, &mut errors);
    let staff_unit_cost =
        optional_yen("staff_unit_cost", &input.staff_unit_cost, &mut errors).unwrap_or(0);
    let staff_fte = if input.staff_fte.trim().is_empty() {
        0.0
    } else {
        match parse_number(&input.staff_fte) {
            Ok(v) if v >= 0.0 => v,
            Ok(_) => {
                errors.push(err(
                    "staff_fte",
                    "人工は0以上にしてください / FTE cannot be negative",
                ));
                0.0
            }
            Err(e) => {
                errors.push(err("staff_fte", e.to_string()));
                0.0
            }
        }
    };
    let output_quantity = if input.output_quantity.trim().is_empty() {
        None
    } else {
        parse_number(&input.output_quantity)
            .map_err(|e| errors.push(err("output_quantity", e.to_string())))
            .ok()
    };
    match (fy, budget_initial) {
        (Some(fy), Some(budget_initial)) if errors.is_empty() => Ok(ProgramMoney {
            program_code: program_code.to_string(),
            fy,
            budget_initial,
            budget_revised,
            settled,
            funding: existing
                .filter(|m| m.fy == fy)
                .map(|m| m.funding)
                .unwrap_or_default(),
            staff_fte,
            staff_unit_cost,
            output_quantity,
        }),
        _ => Err(errors),
    }
}

/// A program's stored figures of a year (not the web's read model's): a
/// form or API body that leaves out the funding breakdown keeps what is
/// stored now. `None` when the year does not parse or nothing is stored.
pub async fn stored_money(
    store: &Store,
    program_code: &str,
    fy: &str,
) -> Result<Option<ProgramMoney>, AppError> {
    let Ok(fy) = FiscalYear::parse(fy) else {
        return Ok(None);
    };
    Ok(store.money_of(program_code, fy).await?)
}

/// Saves a year's money if the stored figures are still at the revision
/// the writer was shown (`ProgramMoney::revision`; 0 = none stored).
pub async fn save_money(
    store: &Store,
    money: &ProgramMoney,
    expected_revision: i64,
    actor: &str,
) -> Result<Change, AppError> {
    Ok(store
        .upsert_money_checked(money, Some(expected_revision), actor)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(period: &str, value: &str, status: &str) -> ActualInput {
        ActualInput {
            period: period.into(),
            value: value.into(),
            status: status.into(),
            ..Default::default()
        }
    }

    #[test]
    fn one_actual() {
        let o = parse_actual(
            "K1",
            "271004",
            &input("令和6年度", "１，２３４．５", "速報"),
            "ed",
        )
        .unwrap();
        assert_eq!(o.period, Period::Year(FiscalYear::new(2024).unwrap()));
        assert_eq!(o.value, ObsValue::Value(1234.5));
        assert_eq!(o.status, ObsStatus::Provisional);
        assert_eq!(o.entered_by, "ed");
        assert!(!o.entered_at.is_empty());
        let e = parse_actual("K1", "271004", &input("", "abc", "maybe"), "ed").unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["period", "value", "status"]);
        assert!(e[1].message.starts_with("「abc」は数値として読めません"));
        assert_eq!(
            parse_actual("K1", "a", &input("2024", "-", ""), "x")
                .unwrap()
                .value,
            ObsValue::Missing
        );
    }

    #[test]
    fn bulk_paste_from_excel() {
        let text = "年度\t値\t速報/確定\n2022\t10\t確定\n2023\t12.5\t速報\n\n";
        let rows = parse_bulk_actuals("K1", "a", text, "ed").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].value, ObsValue::Value(12.5));
        assert_eq!(rows[1].status, ObsStatus::Provisional);
        let bad =
            parse_bulk_actuals("K1", "a", "2022\t10\n2023\tabc\n2024\t1,2\n", "ed").unwrap_err();
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].field, "line:2");
        assert!(bad[0].message.starts_with("2行目: "));
        let dup = parse_bulk_actuals("K1", "a", "2022\t1\n2022\t2\n", "ed").unwrap_err();
        assert!(dup[0].message.contains("2回以上"));
        assert!(parse_bulk_actuals("K1", "a", "\n\n", "ed").is_err());
        let fy = |y| Period::Year(FiscalYear::new(y).unwrap());
        let text = versions_text(&[
            (fy(2023), 3),
            (Period::Quarter(FiscalYear::new(2024).unwrap(), 1), 1),
        ]);
        assert_eq!(text, "2023:3,2024Q1:1");
        let back = parse_versions(&text).unwrap();
        assert_eq!(back.get(&fy(2023)), Some(&3));
        assert_eq!(parse_versions("").unwrap().len(), 0);
        assert!(parse_versions("2023").is_none());
        assert_eq!(
            parse_bulk_actuals("K1", "a", "2022,3", "ed").unwrap().len(),
            1
        );
    }

    fn program() -> Program {
        Program {
            code: "P1".into(),
            name_ja: "事業".into(),
            name_en: String::new(),
            section_code: "S1".into(),
            purpose: String::new(),
            target_group: String::new(),
            intent: String::new(),
            means: String::new(),
            delivery: DeliveryMethod::Direct,
            legal_basis: String::new(),
            start_fy: None,
            end_fy: None,
            mandatory: false,
            published: false,
        }
    }

    #[test]
    fn program_form() {
        let p = program();
        let mut i = ProgramInput::from_program(&p);
        assert_eq!(program_from_input(&p, &i).unwrap(), p);
        i.purpose = "子育て支援".into();
        i.delivery = "委託".into();
        i.published = Some("on".into());
        let q = program_from_input(&p, &i).unwrap();
        assert_eq!(q.delivery, DeliveryMethod::Outsourced);
        assert!(q.published);
        assert_eq!(q.code, "P1");
        i.name_ja = " ".into();
        i.start_fy = "2025".into();
        i.end_fy = "R5".into();
        let e = program_from_input(&p, &i).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name_ja", "end_fy"]);
    }

    #[test]
    fn money_form() {
        let i = MoneyInput {
            fy: "2024".into(),
            budget_initial: "12,000,000".into(),
            settled: "11,500,000".into(),
            staff_fte: "1.5".into(),
            staff_unit_cost: "8000000".into(),
            ..Default::default()
        };
        let m = money_from_input("P1", None, &i).unwrap();
        assert_eq!(m.budget_initial, 12_000_000);
        assert_eq!(m.full_cost(), 11_500_000 + 12_000_000);
        let bad = MoneyInput {
            fy: "x".into(),
            budget_initial: "12.5".into(),
            staff_fte: "-1".into(),
            ..Default::default()
        };
        let e = money_from_input("P1", None, &bad).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["fy", "budget_initial", "staff_fte"]);
    }
}
