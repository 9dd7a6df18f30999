//! The evaluation sheet (事務事業評価シート) of one program for one fiscal
//! year: what the section writes, what is computed from it, and the review
//! states it goes through.

use serde::{Deserialize, Serialize};

use crate::fiscal::FiscalYear;
use crate::money::{FundingSources, ProgramMoney};
use crate::program::{IndicatorKind, Program, ProgramIndicator};

use super::{CycleError, FieldError};

/// 今後の方向性: what should happen to the program next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgramDirection {
    /// 拡充
    Expand,
    /// 継続
    Continue,
    /// 改善
    Improve,
    /// 縮小
    Reduce,
    /// 統合
    Merge,
    /// 廃止
    Abolish,
    /// 休止
    Suspend,
    /// 完了
    Completed,
}

impl ProgramDirection {
    pub const ALL: [ProgramDirection; 8] = [
        ProgramDirection::Expand,
        ProgramDirection::Continue,
        ProgramDirection::Improve,
        ProgramDirection::Reduce,
        ProgramDirection::Merge,
        ProgramDirection::Abolish,
        ProgramDirection::Suspend,
        ProgramDirection::Completed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ProgramDirection::Expand => "expand",
            ProgramDirection::Continue => "continue",
            ProgramDirection::Improve => "improve",
            ProgramDirection::Reduce => "reduce",
            ProgramDirection::Merge => "merge",
            ProgramDirection::Abolish => "abolish",
            ProgramDirection::Suspend => "suspend",
            ProgramDirection::Completed => "completed",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            ProgramDirection::Expand => "拡充",
            ProgramDirection::Continue => "継続",
            ProgramDirection::Improve => "改善",
            ProgramDirection::Reduce => "縮小",
            ProgramDirection::Merge => "統合",
            ProgramDirection::Abolish => "廃止",
            ProgramDirection::Suspend => "休止",
            ProgramDirection::Completed => "完了",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            ProgramDirection::Expand => "Expand",
            ProgramDirection::Continue => "Continue",
            ProgramDirection::Improve => "Improve",
            ProgramDirection::Reduce => "Reduce",
            ProgramDirection::Merge => "Merge",
            ProgramDirection::Abolish => "Abolish",
            ProgramDirection::Suspend => "Suspend",
            ProgramDirection::Completed => "Completed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        let s = crate::text::normalize(s);
        Self::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(&s) || d.label_ja() == s)
    }
    /// Directions that end or pause the program: it requests no money next year.
    pub fn requests_nothing(self) -> bool {
        matches!(
            self,
            ProgramDirection::Abolish | ProgramDirection::Suspend | ProgramDirection::Completed
        )
    }
    /// Directions that cut or end the program must say why on the sheet.
    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            ProgramDirection::Reduce
                | ProgramDirection::Merge
                | ProgramDirection::Abolish
                | ProgramDirection::Suspend
        )
    }
}

/// Where a sheet is in its review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// 作成中: the section is writing it.
    #[default]
    Draft,
    /// 提出済: waiting for the strategy office.
    Submitted,
    /// 差戻し: sent back for rework with the reviewer's comment.
    Returned,
    /// 承認済: the review is done.
    Accepted,
}

impl ReviewState {
    pub const ALL: [ReviewState; 4] = [
        ReviewState::Draft,
        ReviewState::Submitted,
        ReviewState::Returned,
        ReviewState::Accepted,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Draft => "draft",
            ReviewState::Submitted => "submitted",
            ReviewState::Returned => "returned",
            ReviewState::Accepted => "accepted",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            ReviewState::Draft => "作成中",
            ReviewState::Submitted => "提出済",
            ReviewState::Returned => "差戻し",
            ReviewState::Accepted => "承認済",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            ReviewState::Draft => "draft",
            ReviewState::Submitted => "submitted",
            ReviewState::Returned => "returned",
            ReviewState::Accepted => "accepted",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        let s = crate::text::normalize(s);
        Self::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(&s) || d.label_ja() == s)
    }
    /// The section may still change the sheet's content.
    pub fn editable_by_section(self) -> bool {
        matches!(self, ReviewState::Draft | ReviewState::Returned)
    }
}

/// What is done to a sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    /// The section hands the sheet in.
    Submit,
    /// The strategy office sends it back with a comment.
    Return,
    /// The strategy office accepts it.
    Accept,
}

impl ReviewAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewAction::Submit => "submit",
            ReviewAction::Return => "return",
            ReviewAction::Accept => "accept",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            ReviewAction::Submit => "提出",
            ReviewAction::Return => "差戻し",
            ReviewAction::Accept => "承認",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            ReviewAction::Submit => "submitted",
            ReviewAction::Return => "returned",
            ReviewAction::Accept => "accepted",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match crate::text::normalize(s).to_lowercase().as_str() {
            "submit" | "提出" => Some(ReviewAction::Submit),
            "return" | "差戻し" | "差し戻し" => Some(ReviewAction::Return),
            "accept" | "承認" => Some(ReviewAction::Accept),
            _ => None,
        }
    }
}

impl ReviewState {
    /// The state after `action`, or why it is refused.
    pub fn after(self, action: ReviewAction) -> Result<ReviewState, CycleError> {
        match (self, action) {
            (ReviewState::Draft | ReviewState::Returned, ReviewAction::Submit) => {
                Ok(ReviewState::Submitted)
            }
            (ReviewState::Submitted, ReviewAction::Return) => Ok(ReviewState::Returned),
            (ReviewState::Submitted, ReviewAction::Accept) => Ok(ReviewState::Accepted),
            (from, action) => Err(CycleError::Transition { from, action }),
        }
    }
}

/// One activity or outcome indicator as written on the sheet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SheetIndicator {
    pub code: String,
    pub kind: IndicatorKind,
    pub name_ja: String,
    pub unit: String,
    pub target: Option<f64>,
    pub actual: Option<f64>,
}

impl SheetIndicator {
    /// 達成率 = actual ÷ target; None without both or with a zero target.
    pub fn achievement(&self) -> Option<f64> {
        match (self.target, self.actual) {
            (Some(t), Some(a)) if t != 0.0 => Some(a / t),
            _ => None,
        }
    }
}

/// The money part of the sheet: what is entered; the costs are computed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SheetMoney {
    /// 予算現額 of the evaluated year.
    pub budget: i64,
    /// 決算額; None while the accounts are open.
    pub settled: Option<i64>,
    #[serde(default)]
    pub funding: FundingSources,
    /// 人工
    pub staff_fte: f64,
    /// Yearly cost of one FTE (yen), set by finance.
    pub staff_unit_cost: i64,
    /// Quantity of the main output, the denominator of the unit cost.
    pub output_quantity: Option<f64>,
}

impl SheetMoney {
    /// The same numbers as a `ProgramMoney`, so that the cost rules live once.
    fn as_program_money(&self, program_code: &str, fy: FiscalYear) -> ProgramMoney {
        ProgramMoney {
            program_code: program_code.to_string(),
            fy,
            budget_initial: self.budget,
            budget_revised: None,
            settled: self.settled,
            funding: self.funding,
            staff_fte: self.staff_fte,
            staff_unit_cost: self.staff_unit_cost,
            output_quantity: self.output_quantity,
        }
    }
}

/// 評価: each 1 (low) to 5 (high); None while not yet judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Scores {
    /// 必要性
    pub necessity: Option<u8>,
    /// 有効性
    pub effectiveness: Option<u8>,
    /// 効率性
    pub efficiency: Option<u8>,
    /// 手段の妥当性
    pub means: Option<u8>,
}

impl Scores {
    pub const MAX: u8 = 5;
    fn fields(&self) -> [(&'static str, &'static str, &'static str, Option<u8>); 4] {
        [
            ("scores.necessity", "必要性", "necessity", self.necessity),
            (
                "scores.effectiveness",
                "有効性",
                "effectiveness",
                self.effectiveness,
            ),
            ("scores.efficiency", "効率性", "efficiency", self.efficiency),
            (
                "scores.means",
                "手段の妥当性",
                "appropriateness of means",
                self.means,
            ),
        ]
    }
    /// Sum of the four scores, None until all are given.
    pub fn total(&self) -> Option<u8> {
        self.fields()
            .iter()
            .try_fold(0u8, |acc, f| f.3.map(|v| acc + v))
    }
}

/// The sheet. Key: (program_code, fy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationSheet {
    pub program_code: String,
    /// The fiscal year evaluated.
    pub fy: FiscalYear,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub target_group: String,
    #[serde(default)]
    pub intent: String,
    #[serde(default)]
    pub means: String,
    #[serde(default)]
    pub indicators: Vec<SheetIndicator>,
    #[serde(default)]
    pub money: SheetMoney,
    #[serde(default)]
    pub scores: Scores,
    /// 課題
    #[serde(default)]
    pub issues: String,
    /// 改善策
    #[serde(default)]
    pub improvements: String,
    pub direction: Option<ProgramDirection>,
    /// Why this direction (required when cutting or ending the program).
    #[serde(default)]
    pub direction_reason: String,
    /// 所見 of the strategy office.
    #[serde(default)]
    pub reviewer_comment: String,
    #[serde(default)]
    pub state: ReviewState,
}

/// What the cycle's status, lists and budget read of a sheet: its review
/// state, direction and money, without the texts and indicators. Read from
/// the stored sheet, so it never disagrees with it; at scale 10 parsing
/// 8,400 whole sheets was a fifth of a recompute's time.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SheetHead {
    pub program_code: String,
    pub fy: FiscalYear,
    #[serde(default)]
    pub money: SheetMoney,
    pub direction: Option<ProgramDirection>,
    #[serde(default)]
    pub state: ReviewState,
}

impl SheetHead {
    /// The full cost, as `EvaluationSheet::computed` gives it.
    pub fn full_cost(&self) -> i64 {
        self.money
            .as_program_money(&self.program_code, self.fy)
            .full_cost()
    }
}

impl From<&EvaluationSheet> for SheetHead {
    fn from(s: &EvaluationSheet) -> Self {
        SheetHead {
            program_code: s.program_code.clone(),
            fy: s.fy,
            money: s.money.clone(),
            direction: s.direction,
            state: s.state,
        }
    }
}

/// What is computed from a sheet, never typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SheetComputed {
    /// Achievement per indicator, in the sheet's order.
    pub achievements: Vec<Option<f64>>,
    /// Settled amount if known, else the budget.
    pub direct_cost: i64,
    /// 人件費 = FTE × unit cost.
    pub staff_cost: i64,
    /// フルコスト = direct + staff.
    pub full_cost: i64,
    /// 単位当たりコスト = full cost ÷ output.
    pub unit_cost: Option<f64>,
    /// Sum of the four scores (4–20).
    pub score_total: Option<u8>,
}

/// Longest free text accepted in one field (a sheet is printed on A4).
pub const MAX_TEXT_CHARS: usize = 4000;

impl EvaluationSheet {
    /// A new sheet for `program` and `fy`, pre-filled: the program's purpose,
    /// target, intent and means (last year's sheet's if there is one, as
    /// sections refine their wording there), the indicators and money of the
    /// year from the program's records, and last year's scores, issues,
    /// improvements and direction as the starting point.
    pub fn prefilled(
        program: &Program,
        fy: FiscalYear,
        last_year: Option<&EvaluationSheet>,
        indicators: &[ProgramIndicator],
        money: Option<&ProgramMoney>,
    ) -> EvaluationSheet {
        let text = |last: Option<&String>, fallback: &String| {
            last.filter(|s| !s.trim().is_empty())
                .unwrap_or(fallback)
                .clone()
        };
        let mut own: Vec<&ProgramIndicator> = indicators
            .iter()
            .filter(|i| i.program_code == program.code && i.fy == fy)
            .collect();
        own.sort_by(|a, b| a.code.cmp(&b.code));
        let mut sheet_indicators: Vec<SheetIndicator> = own
            .into_iter()
            .map(|i| SheetIndicator {
                code: i.code.clone(),
                kind: i.kind,
                name_ja: i.name_ja.clone(),
                unit: i.unit.clone(),
                target: i.target,
                actual: i.actual,
            })
            .collect();
        // Indicators written on last year's sheet but not (yet) recorded for
        // this year are carried over without values.
        if let Some(last) = last_year {
            for li in &last.indicators {
                if !sheet_indicators.iter().any(|s| s.code == li.code) {
                    sheet_indicators.push(SheetIndicator {
                        target: None,
                        actual: None,
                        ..li.clone()
                    });
                }
            }
        }
        let money = match money {
            Some(m) => SheetMoney {
                budget: m.budget(),
                settled: m.settled,
                funding: m.funding,
                staff_fte: m.staff_fte,
                staff_unit_cost: m.staff_unit_cost,
                output_quantity: m.output_quantity,
            },
            None => SheetMoney {
                staff_fte: last_year.map_or(0.0, |l| l.money.staff_fte),
                staff_unit_cost: last_year.map_or(0, |l| l.money.staff_unit_cost),
                ..SheetMoney::default()
            },
        };
        EvaluationSheet {
            program_code: program.code.clone(),
            fy,
            purpose: text(last_year.map(|l| &l.purpose), &program.purpose),
            target_group: text(last_year.map(|l| &l.target_group), &program.target_group),
            intent: text(last_year.map(|l| &l.intent), &program.intent),
            means: text(last_year.map(|l| &l.means), &program.means),
            indicators: sheet_indicators,
            money,
            scores: last_year.map(|l| l.scores).unwrap_or_default(),
            issues: last_year.map(|l| l.issues.clone()).unwrap_or_default(),
            improvements: last_year
                .map(|l| l.improvements.clone())
                .unwrap_or_default(),
            direction: last_year.and_then(|l| l.direction),
            direction_reason: last_year
                .map(|l| l.direction_reason.clone())
                .unwrap_or_default(),
            reviewer_comment: String::new(),
            state: ReviewState::Draft,
        }
    }

    pub fn computed(&self) -> SheetComputed {
        let m = self.money.as_program_money(&self.program_code, self.fy);
        SheetComputed {
            achievements: self
                .indicators
                .iter()
                .map(SheetIndicator::achievement)
                .collect(),
            direct_cost: m.direct_cost(),
            staff_cost: m.staff_cost(),
            full_cost: m.full_cost(),
            unit_cost: m.unit_cost(),
            score_total: self.scores.total(),
        }
    }

    /// Checks what may be saved at any time (a draft may be incomplete, but
    /// what is there must make sense). Every problem is listed.
    pub fn validate_draft(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (field, ja, en, value) in self.scores.fields() {
            if let Some(v) = value
                && !(1..=Scores::MAX).contains(&v)
            {
                errors.push(FieldError::new(
                    field,
                    format!("{ja}は1〜5で評価してください（{v}）"),
                    format!("{en} must be scored 1 to 5 (got {v})"),
                ));
            }
        }
        let texts = [
            ("purpose", "目的", &self.purpose),
            ("target_group", "対象", &self.target_group),
            ("intent", "意図", &self.intent),
            ("means", "手段", &self.means),
            ("issues", "課題", &self.issues),
            ("improvements", "改善策", &self.improvements),
            ("direction_reason", "方向性の理由", &self.direction_reason),
            ("reviewer_comment", "所見", &self.reviewer_comment),
        ];
        for (field, ja, text) in texts {
            let n = text.chars().count();
            if n > MAX_TEXT_CHARS {
                errors.push(FieldError::new(
                    field,
                    format!("{ja}は{MAX_TEXT_CHARS}字以内にしてください（{n}字）"),
                    format!("{field} must be at most {MAX_TEXT_CHARS} characters (got {n})"),
                ));
            }
        }
        for (i, ind) in self.indicators.iter().enumerate() {
            if ind.code.trim().is_empty() {
                errors.push(FieldError::new(
                    format!("indicators[{i}].code"),
                    "指標コードがありません",
                    "the indicator code is missing",
                ));
            }
            for (name, value) in [("target", ind.target), ("actual", ind.actual)] {
                if value.is_some_and(|v| !v.is_finite()) {
                    errors.push(FieldError::new(
                        format!("indicators[{i}].{name}"),
                        "数値ではありません",
                        "not a finite number",
                    ));
                }
            }
        }
        let m = &self.money;
        let yen = [
            ("money.budget", "予算額", "budget", Some(m.budget)),
            ("money.settled", "決算額", "settled amount", m.settled),
            (
                "money.staff_unit_cost",
                "人件費単価",
                "staff unit cost",
                Some(m.staff_unit_cost),
            ),
            (
                "money.funding.national",
                "国庫支出金",
                "national funds",
                Some(m.funding.national),
            ),
            (
                "money.funding.prefectural",
                "府県支出金",
                "prefectural funds",
                Some(m.funding.prefectural),
            ),
            (
                "money.funding.bonds",
                "地方債",
                "bonds",
                Some(m.funding.bonds),
            ),
            (
                "money.funding.other",
                "その他特定財源",
                "other specific funds",
                Some(m.funding.other),
            ),
            (
                "money.funding.general",
                "一般財源",
                "general funds",
                Some(m.funding.general),
            ),
        ];
        for (field, ja, en, v) in yen {
            if let Some(v) = v
                && !(0..=MAX_YEN).contains(&v)
            {
                errors.push(FieldError::new(
                    field,
                    format!("{ja}は0〜1兆円の範囲にしてください"),
                    format!("{en} must be between 0 and 1 trillion yen"),
                ));
            }
        }
        if !m.staff_fte.is_finite() || !(0.0..=1000.0).contains(&m.staff_fte) {
            errors.push(FieldError::new(
                "money.staff_fte",
                "人工は0〜1000の範囲にしてください",
                "staff FTE must be between 0 and 1000",
            ));
        }
        if m.output_quantity.is_some_and(|q| !q.is_finite() || q < 0.0) {
            errors.push(FieldError::new(
                "money.output_quantity",
                "活動量は0以上の数値にしてください",
                "output quantity must be a number of at least 0",
            ));
        }
        errors
    }

    /// Checks what a submitted sheet must have on top of a draft's rules:
    /// all four scores, a direction, a reason for cutting directions, and no
    /// abolition of a program the law requires.
    pub fn validate_for_submit(&self, program: &Program) -> Vec<FieldError> {
        let mut errors = self.validate_draft();
        for (field, ja, en, value) in self.scores.fields() {
            if value.is_none() {
                errors.push(FieldError::new(
                    field,
                    format!("{ja}の評価を入力してください"),
                    format!("{en} must be scored"),
                ));
            }
        }
        if self.purpose.trim().is_empty() {
            errors.push(FieldError::new(
                "purpose",
                "目的を入力してください",
                "the purpose is required",
            ));
        }
        match self.direction {
            None => errors.push(FieldError::new(
                "direction",
                "今後の方向性を選んでください",
                "choose a direction",
            )),
            Some(d) => {
                if d.needs_reason() && self.direction_reason.trim().is_empty() {
                    errors.push(FieldError::new(
                        "direction_reason",
                        format!("方向性「{}」には理由が必要です", d.label_ja()),
                        format!("direction \"{}\" needs a reason", d.label_en()),
                    ));
                }
                if program.mandatory && matches!(d, ProgramDirection::Abolish) {
                    errors.push(FieldError::new(
                        "direction",
                        "法令等で義務付けられた事業は廃止にできません",
                        "a program required by law cannot be abolished",
                    ));
                }
            }
        }
        errors
    }
}

/// Largest amount of yen accepted in one field: one trillion (no city
/// program is larger; a larger number is a typo with extra zeros).
pub const MAX_YEN: i64 = 1_000_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::DeliveryMethod;

    fn fy(y: i32) -> FiscalYear {
        FiscalYear::new(y).unwrap()
    }

    pub(crate) fn program() -> Program {
        Program {
            code: "P0001".into(),
            name_ja: "保育所整備事業".into(),
            name_en: String::new(),
            section_code: "S021".into(),
            purpose: "待機児童を解消する".into(),
            target_group: "保育を必要とする児童".into(),
            intent: "希望する保育所に入所できる".into(),
            means: "保育所整備への補助".into(),
            delivery: DeliveryMethod::Subsidy,
            legal_basis: "児童福祉法".into(),
            start_fy: Some(fy(2019)),
            end_fy: None,
            mandatory: true,
            published: true,
        }
    }

    fn indicators() -> Vec<ProgramIndicator> {
        let ind = |code: &str, kind, y, target, actual| ProgramIndicator {
            program_code: "P0001".into(),
            code: code.into(),
            kind,
            name_ja: format!("指標{code}"),
            unit: "か所".into(),
            fy: fy(y),
            target,
            actual,
        };
        vec![
            ind("O1", IndicatorKind::Outcome, 2024, Some(200.0), Some(180.0)),
            ind("A1", IndicatorKind::Activity, 2024, Some(5.0), Some(4.0)),
            ind("A1", IndicatorKind::Activity, 2023, Some(5.0), Some(5.0)),
        ]
    }

    fn money() -> ProgramMoney {
        ProgramMoney {
            program_code: "P0001".into(),
            fy: fy(2024),
            budget_initial: 1_250_000_000,
            budget_revised: Some(1_300_000_000),
            settled: Some(1_287_654_321),
            funding: FundingSources {
                national: 600_000_000,
                general: 687_654_321,
                ..FundingSources::default()
            },
            staff_fte: 3.5,
            staff_unit_cost: 8_200_000,
            output_quantity: Some(180.0),
        }
    }

    #[test]
    fn prefill_takes_program_records_and_last_year() {
        let p = program();
        let first = EvaluationSheet::prefilled(&p, fy(2024), None, &indicators(), Some(&money()));
        assert_eq!(first.purpose, "待機児童を解消する");
        assert_eq!(first.indicators.len(), 2);
        assert_eq!(first.indicators[0].code, "A1");
        assert_eq!(first.indicators[0].actual, Some(4.0));
        assert_eq!(first.money.budget, 1_300_000_000);
        assert_eq!(first.state, ReviewState::Draft);
        assert_eq!(first.direction, None);

        let mut last = first.clone();
        last.fy = fy(2023);
        last.purpose = "待機児童ゼロを維持する".into();
        last.scores.necessity = Some(5);
        last.direction = Some(ProgramDirection::Reduce);
        last.direction_reason = "整備が進んだため".into();
        last.reviewer_comment = "前年の所見".into();
        last.indicators.push(SheetIndicator {
            code: "O2".into(),
            kind: IndicatorKind::Outcome,
            name_ja: "利用率".into(),
            unit: "%".into(),
            target: Some(95.0),
            actual: Some(93.0),
        });
        let next = EvaluationSheet::prefilled(&p, fy(2025), Some(&last), &indicators(), None);
        assert_eq!(next.purpose, "待機児童ゼロを維持する");
        assert_eq!(next.scores.necessity, Some(5));
        assert_eq!(next.direction, Some(ProgramDirection::Reduce));
        assert_eq!(
            next.reviewer_comment, "",
            "the comment is the reviewer's, per year"
        );
        // No indicator records for 2025: last year's indicators come without values.
        assert_eq!(next.indicators.len(), 3);
        assert!(next.indicators.iter().all(|i| i.actual.is_none()));
        assert_eq!(next.money.staff_fte, 3.5);
        assert_eq!(next.money.budget, 0);
    }

    #[test]
    fn computed_fields() {
        let p = program();
        let mut s = EvaluationSheet::prefilled(&p, fy(2024), None, &indicators(), Some(&money()));
        let c = s.computed();
        // The head read without the texts has the same full cost.
        let json = serde_json::to_string(&s).unwrap();
        let head: SheetHead = serde_json::from_str(&json).unwrap();
        assert_eq!(head, SheetHead::from(&s));
        assert_eq!(head.full_cost(), 1_316_354_321);
        assert_eq!(c.achievements, vec![Some(0.8), Some(0.9)]);
        assert_eq!(c.direct_cost, 1_287_654_321);
        assert_eq!(c.staff_cost, 28_700_000);
        assert_eq!(c.full_cost, 1_316_354_321);
        let unit = c.unit_cost.unwrap();
        assert!((unit - 7_313_079.561_111).abs() < 0.001, "{unit}");
        assert_eq!(c.score_total, None);
        s.scores = Scores {
            necessity: Some(5),
            effectiveness: Some(4),
            efficiency: Some(3),
            means: Some(4),
        };
        s.money.settled = None;
        let c = s.computed();
        assert_eq!(c.score_total, Some(16));
        assert_eq!(
            c.direct_cost, 1_300_000_000,
            "without settlement the budget counts"
        );
    }

    #[test]
    fn validation_names_each_field() {
        let p = program();
        let mut s = EvaluationSheet::prefilled(&p, fy(2024), None, &indicators(), Some(&money()));
        assert!(s.validate_draft().is_empty());
        s.scores.necessity = Some(6);
        s.money.staff_fte = f64::NAN;
        s.money.budget = -1;
        s.indicators[0].actual = Some(f64::INFINITY);
        s.issues = "あ".repeat(MAX_TEXT_CHARS + 1);
        let fields: Vec<String> = s.validate_draft().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec![
                "scores.necessity",
                "issues",
                "indicators[0].actual",
                "money.budget",
                "money.staff_fte"
            ]
        );
    }

    #[test]
    fn submit_needs_scores_direction_and_reason() {
        let p = program();
        let mut s = EvaluationSheet::prefilled(&p, fy(2024), None, &indicators(), Some(&money()));
        let fields: Vec<String> = s
            .validate_for_submit(&p)
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            vec![
                "scores.necessity",
                "scores.effectiveness",
                "scores.efficiency",
                "scores.means",
                "direction"
            ]
        );
        s.scores = Scores {
            necessity: Some(5),
            effectiveness: Some(4),
            efficiency: Some(3),
            means: Some(4),
        };
        s.direction = Some(ProgramDirection::Abolish);
        let errors = s.validate_for_submit(&p);
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].field, "direction_reason");
        assert!(errors[0].ja.contains("廃止"));
        assert_eq!(
            errors[1].en,
            "a program required by law cannot be abolished"
        );
        s.direction = Some(ProgramDirection::Continue);
        assert!(s.validate_for_submit(&p).is_empty());
    }

    #[test]
    fn review_transitions() {
        use ReviewAction::*;
        use ReviewState::*;
        assert_eq!(Draft.after(Submit), Ok(Submitted));
        assert_eq!(Submitted.after(Return), Ok(Returned));
        assert_eq!(Returned.after(Submit), Ok(Submitted));
        assert_eq!(Submitted.after(Accept), Ok(Accepted));
        for (from, action) in [
            (Draft, Accept),
            (Draft, Return),
            (Accepted, Submit),
            (Accepted, Return),
            (Returned, Accept),
            (Submitted, Submit),
        ] {
            assert_eq!(
                from.after(action),
                Err(CycleError::Transition { from, action }),
                "{from:?} {action:?}"
            );
        }
        assert!(Returned.editable_by_section());
        assert!(!Submitted.editable_by_section());
    }

    #[test]
    fn directions_parse_and_rules() {
        for d in ProgramDirection::ALL {
            assert_eq!(ProgramDirection::parse(d.label_ja()), Some(d));
            assert_eq!(ProgramDirection::parse(d.as_str()), Some(d));
        }
        assert!(ProgramDirection::Abolish.requests_nothing());
        assert!(!ProgramDirection::Reduce.requests_nothing());
        assert!(ProgramDirection::Reduce.needs_reason());
        assert!(!ProgramDirection::Expand.needs_reason());
        assert_eq!(ProgramDirection::parse("縮減"), None);
    }
}
