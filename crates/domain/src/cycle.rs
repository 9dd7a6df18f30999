//! The yearly management cycle (進行管理サイクル): KPI actuals → self-evaluation
//! of every program → review by the strategy office → restructuring →
//! budget requests → finance assessment, for one fiscal year.
//!
//! A cycle is named by the fiscal year it *evaluates* (the year just ended):
//! in the autumn of year N the city evaluates N−1 and builds the budget of
//! N+1, so the cycle of `fy` builds the budget of `fy + 2` against the budget
//! of `fy + 1` ("last year" for the requests).
//!
//! Everything here is pure: the store keeps the records, the app feeds them in.

pub mod budget;
pub mod date;
pub mod lineage;
pub mod restructure;
pub mod scenario;
pub mod sheet;
pub mod stage;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use budget::{BudgetRequest, Ceiling, Compiled, TotalRow};
pub use date::CalendarDate;
pub use restructure::{Flag, FlagKind, RestructureEntry, RestructureRules};
pub use sheet::{EvaluationSheet, ProgramDirection, ReviewAction, ReviewState, SheetComputed};
pub use stage::{Cycle, CycleState, Owed, OwedItem, Stage, StageRecord, StageState};

/// One problem with one input field, in Japanese and English, so that a form
/// can show it next to the field and the CLI/API can print it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's name as the form and the API call it (`scores.necessity`,
    /// `indicators[0].actual`, `requested` …).
    pub field: String,
    pub ja: String,
    pub en: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            ja: ja.into(),
            en: en.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} / {}", self.field, self.ja, self.en)
    }
}

/// All field problems of one input, joined for a one-line message.
pub fn join_field_errors(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a rule of the cycle refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CycleError {
    #[error("入力に誤りがあります / invalid input: {}", join_field_errors(.0))]
    Invalid(Vec<FieldError>),

    #[error(
        "{}年度のサイクルは締め切られています（修正は再開してから） / the cycle of FY{fy} is closed (reopen it to correct)",
        fy
    )]
    CycleClosed { fy: i32 },

    #[error(
        "段階「{}」には未了の作業が{outstanding}件あります。完了させるか理由を付けて免除してください / stage \"{}\" still has {outstanding} open item(s): finish them or waive the stage with a reason",
        stage.label_ja(), stage.label_en()
    )]
    StageNotDone { stage: Stage, outstanding: usize },

    #[error(
        "段階「{}」を免除するには理由が必要です / waiving stage \"{}\" needs a reason",
        stage.label_ja(), stage.label_en()
    )]
    WaiveWithoutReason { stage: Stage },

    #[error(
        "段階「{}」はすでに{}です / stage \"{}\" is already {}",
        stage.label_ja(), state.label_ja(), stage.label_en(), state.label_en()
    )]
    StageAlreadyDone { stage: Stage, state: StageState },

    #[error(
        "段階「{}」は開いています / stage \"{}\" is open",
        stage.label_ja(), stage.label_en()
    )]
    StageNotClosed { stage: Stage },

    #[error(
        "サイクルを締め切れません：段階「{}」が終わっていません / cannot close the cycle: stage \"{}\" is not finished",
        stage.label_ja(), stage.label_en()
    )]
    CycleNotFinished { stage: Stage },

    #[error("サイクルは締め切られていません / the cycle is not closed")]
    CycleNotClosed,

    #[error(
        "評価シートが「{}」の状態では「{}」はできません / a sheet that is {} cannot be {}",
        from.label_ja(), action.label_ja(), from.label_en(), action.label_en()
    )]
    Transition {
        from: ReviewState,
        action: ReviewAction,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_bilingual_and_name_the_field() {
        let e = CycleError::Invalid(vec![FieldError::new(
            "requested",
            "0以上の金額にしてください",
            "must not be negative",
        )]);
        let s = e.to_string();
        assert!(s.contains("requested: 0以上"), "{s}");
        assert!(s.contains("must not be negative"), "{s}");
        let e = CycleError::Transition {
            from: ReviewState::Accepted,
            action: ReviewAction::Submit,
        };
        assert_eq!(
            e.to_string(),
            "評価シートが「承認済」の状態では「提出」はできません / a sheet that is accepted cannot be submitted"
        );
    }
}
