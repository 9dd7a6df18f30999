//! Administrative programs (事務事業), their indicators and their links to KPIs.

use serde::{Deserialize, Serialize};

use crate::fiscal::FiscalYear;

/// How a program is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMethod {
    /// 直営
    Direct,
    /// 委託
    Outsourced,
    /// 補助
    Subsidy,
    /// 指定管理
    DesignatedManager,
}

impl DeliveryMethod {
    pub const ALL: [DeliveryMethod; 4] = [
        DeliveryMethod::Direct,
        DeliveryMethod::Outsourced,
        DeliveryMethod::Subsidy,
        DeliveryMethod::DesignatedManager,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryMethod::Direct => "direct",
            DeliveryMethod::Outsourced => "outsourced",
            DeliveryMethod::Subsidy => "subsidy",
            DeliveryMethod::DesignatedManager => "designated_manager",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            DeliveryMethod::Direct => "直営",
            DeliveryMethod::Outsourced => "委託",
            DeliveryMethod::Subsidy => "補助",
            DeliveryMethod::DesignatedManager => "指定管理",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        let s = crate::text::normalize(s);
        Self::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(&s) || d.label_ja() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub code: String,
    pub name_ja: String,
    #[serde(default)]
    pub name_en: String,
    pub section_code: String,
    /// 目的
    #[serde(default)]
    pub purpose: String,
    /// 対象
    #[serde(default)]
    pub target_group: String,
    /// 意図 (the state the target group should reach)
    #[serde(default)]
    pub intent: String,
    /// 手段
    #[serde(default)]
    pub means: String,
    pub delivery: DeliveryMethod,
    /// 根拠法令等
    #[serde(default)]
    pub legal_basis: String,
    pub start_fy: Option<FiscalYear>,
    pub end_fy: Option<FiscalYear>,
    /// Required by law or contract (義務的経費): cannot be abolished by choice.
    #[serde(default)]
    pub mandatory: bool,
    #[serde(default)]
    pub published: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    /// 活動指標 (output)
    Activity,
    /// 成果指標 (outcome)
    Outcome,
}

impl IndicatorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Activity => "activity",
            IndicatorKind::Outcome => "outcome",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            IndicatorKind::Activity => "活動指標",
            IndicatorKind::Outcome => "成果指標",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match crate::text::normalize(s).to_lowercase().as_str() {
            "activity" | "output" | "活動" | "活動指標" => Some(IndicatorKind::Activity),
            "outcome" | "成果" | "成果指標" => Some(IndicatorKind::Outcome),
            _ => None,
        }
    }
}

/// One year of a program's activity or outcome indicator. Key: (program, code, fy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramIndicator {
    pub program_code: String,
    /// Short code unique within the program, e.g. "A1", "O1".
    pub code: String,
    pub kind: IndicatorKind,
    pub name_ja: String,
    pub unit: String,
    pub fy: FiscalYear,
    pub target: Option<f64>,
    pub actual: Option<f64>,
}

/// How good the evidence behind a contribution is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceGrade {
    /// A: a causal estimate (RCT, DiD, synthetic control…).
    Causal,
    /// B: a consistent correlation over time or across areas.
    Correlational,
    /// C: a logic model / expert judgement.
    LogicModel,
    /// D: the owner's claim only.
    #[default]
    Claimed,
}

impl EvidenceGrade {
    pub const ALL: [EvidenceGrade; 4] = [
        EvidenceGrade::Causal,
        EvidenceGrade::Correlational,
        EvidenceGrade::LogicModel,
        EvidenceGrade::Claimed,
    ];
    pub fn letter(self) -> char {
        match self {
            EvidenceGrade::Causal => 'A',
            EvidenceGrade::Correlational => 'B',
            EvidenceGrade::LogicModel => 'C',
            EvidenceGrade::Claimed => 'D',
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceGrade::Causal => "causal",
            EvidenceGrade::Correlational => "correlational",
            EvidenceGrade::LogicModel => "logic_model",
            EvidenceGrade::Claimed => "claimed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        let n = crate::text::normalize(s);
        Self::ALL.into_iter().find(|g| {
            g.as_str().eq_ignore_ascii_case(&n) || n.eq_ignore_ascii_case(&g.letter().to_string())
        })
    }
}

/// A program's declared contribution (KPI寄与度) to a KPI. Key: (program, kpi).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiLink {
    pub program_code: String,
    pub kpi_code: String,
    /// Declared share of the KPI's movement attributed to this program, 0..=1.
    pub weight: f64,
    #[serde(default)]
    pub rationale: String,
    #[serde(default)]
    pub evidence_grade: EvidenceGrade,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_labels() {
        assert_eq!(
            DeliveryMethod::parse("指定管理"),
            Some(DeliveryMethod::DesignatedManager)
        );
        assert_eq!(
            DeliveryMethod::parse("subsidy"),
            Some(DeliveryMethod::Subsidy)
        );
        assert_eq!(DeliveryMethod::parse("外注"), None);
        assert_eq!(EvidenceGrade::parse("A"), Some(EvidenceGrade::Causal));
        assert_eq!(EvidenceGrade::parse("ｄ"), Some(EvidenceGrade::Claimed));
        assert_eq!(
            IndicatorKind::parse("成果指標"),
            Some(IndicatorKind::Outcome)
        );
    }
}
