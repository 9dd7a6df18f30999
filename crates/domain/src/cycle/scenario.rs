//! シナリオの仮説: per KPI, the causal chain from programs to their outputs,
//! to the outcomes they are meant to move, to the KPI — with the assumptions
//! the chain rests on. At each review every assumption is marked held,
//! failed or not yet known, with the evidence for the verdict, and the
//! strategy text is revised; every saved version is kept (the store appends,
//! never overwrites), so the history of the city's reasoning stays readable.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::FieldError;

/// Longest text of one field (a page of Japanese prose).
pub const MAX_TEXT: usize = 4000;
/// At most this many links in a chain and assumptions per scenario.
pub const MAX_ITEMS: usize = 50;

/// A step of the causal chain, in the order the logic model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainLevel {
    /// 事業・活動 (a program and what it does)
    Activity,
    /// アウトプット (what the activity produces)
    Output,
    /// アウトカム (the change it is meant to bring)
    Outcome,
    /// 最終成果（KPI）
    Kpi,
}

impl ChainLevel {
    pub const ALL: [ChainLevel; 4] = [
        ChainLevel::Activity,
        ChainLevel::Output,
        ChainLevel::Outcome,
        ChainLevel::Kpi,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ChainLevel::Activity => "activity",
            ChainLevel::Output => "output",
            ChainLevel::Outcome => "outcome",
            ChainLevel::Kpi => "kpi",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            ChainLevel::Activity => "事業・活動",
            ChainLevel::Output => "アウトプット",
            ChainLevel::Outcome => "アウトカム",
            ChainLevel::Kpi => "最終成果（KPI）",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            ChainLevel::Activity => "Activity",
            ChainLevel::Output => "Output",
            ChainLevel::Outcome => "Outcome",
            ChainLevel::Kpi => "KPI",
        }
    }
    pub fn parse(s: &str) -> Option<ChainLevel> {
        let s = crate::text::normalize(s);
        Self::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(&s) || l.label_ja() == s)
    }
}

/// One link of the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainLink {
    pub level: ChainLevel,
    pub text: String,
    /// The program this step is (activities name one; optional elsewhere).
    #[serde(default)]
    pub program_code: Option<String>,
}

/// The verdict on an assumption at review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 未検証
    #[default]
    Unknown,
    /// 成立
    Held,
    /// 不成立
    Failed,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::Unknown, Verdict::Held, Verdict::Failed];
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Unknown => "unknown",
            Verdict::Held => "held",
            Verdict::Failed => "failed",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            Verdict::Unknown => "未検証",
            Verdict::Held => "成立",
            Verdict::Failed => "不成立",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Verdict::Unknown => "not yet known",
            Verdict::Held => "held",
            Verdict::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Verdict> {
        let s = crate::text::normalize(s);
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(&s) || v.label_ja() == s)
    }
}

/// An assumption the chain rests on, with its verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assumption {
    pub text: String,
    #[serde(default)]
    pub verdict: Verdict,
    /// What the verdict rests on (required for held and failed).
    #[serde(default)]
    pub evidence: String,
}

/// A KPI's scenario: the strategy, the chain and the assumptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub kpi_code: String,
    /// 戦略・方針: how the city means to move the KPI; revised at review.
    pub strategy: String,
    pub chain: Vec<ChainLink>,
    pub assumptions: Vec<Assumption>,
}

impl Scenario {
    /// Every problem with the scenario, by field (`strategy`,
    /// `chain[2].program_code`, `assumptions[0].evidence` …). `programs` are
    /// the program codes that exist.
    pub fn check(&self, programs: &BTreeSet<String>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let too_long = |field: String, text: &str, errors: &mut Vec<FieldError>| {
            let n = text.chars().count();
            if n > MAX_TEXT {
                errors.push(FieldError::new(
                    field,
                    format!("{MAX_TEXT}文字までです（{n}文字）"),
                    format!("at most {MAX_TEXT} characters ({n})"),
                ));
            }
        };
        if self.strategy.trim().is_empty() {
            errors.push(FieldError::new(
                "strategy",
                "戦略・方針を記入してください",
                "write the strategy",
            ));
        }
        too_long("strategy".into(), &self.strategy, &mut errors);
        if self.chain.is_empty() {
            errors.push(FieldError::new(
                "chain",
                "因果の連鎖（事業・活動からKPIまで）を1つ以上記入してください",
                "write at least one step of the causal chain",
            ));
        }
        if !self.chain.iter().any(|l| l.level == ChainLevel::Activity) {
            errors.push(FieldError::new(
                "chain",
                "因果の連鎖には事業・活動の段階が必要です",
                "the chain needs at least one activity",
            ));
        }
        if self.chain.len() > MAX_ITEMS || self.assumptions.len() > MAX_ITEMS {
            errors.push(FieldError::new(
                "chain",
                format!("連鎖・仮説はそれぞれ{MAX_ITEMS}件までです"),
                format!("at most {MAX_ITEMS} chain steps and {MAX_ITEMS} assumptions"),
            ));
        }
        for (i, l) in self.chain.iter().enumerate() {
            if l.text.trim().is_empty() {
                errors.push(FieldError::new(
                    format!("chain[{i}].text"),
                    "内容を記入してください",
                    "write what this step is",
                ));
            }
            too_long(format!("chain[{i}].text"), &l.text, &mut errors);
            if let Some(code) = &l.program_code
                && !programs.contains(code)
            {
                errors.push(FieldError::new(
                    format!("chain[{i}].program_code"),
                    format!("事務事業「{code}」はありません"),
                    format!("no program \"{code}\""),
                ));
            }
        }
        // The chain reads activity → output → outcome → KPI.
        if self.chain.windows(2).any(|w| w[1].level < w[0].level) {
            errors.push(FieldError::new(
                "chain",
                "因果の連鎖は 事業・活動 → アウトプット → アウトカム → KPI の順に並べてください",
                "order the chain activity → output → outcome → KPI",
            ));
        }
        for (i, a) in self.assumptions.iter().enumerate() {
            if a.text.trim().is_empty() {
                errors.push(FieldError::new(
                    format!("assumptions[{i}].text"),
                    "仮説の内容を記入してください",
                    "write the assumption",
                ));
            }
            too_long(format!("assumptions[{i}].text"), &a.text, &mut errors);
            too_long(
                format!("assumptions[{i}].evidence"),
                &a.evidence,
                &mut errors,
            );
            if a.verdict != Verdict::Unknown && a.evidence.trim().is_empty() {
                errors.push(FieldError::new(
                    format!("assumptions[{i}].evidence"),
                    format!(
                        "「{}」と判定するには根拠を記入してください",
                        a.verdict.label_ja()
                    ),
                    format!(
                        "a verdict of \"{}\" needs its evidence",
                        a.verdict.label_en()
                    ),
                ));
            }
        }
        errors
    }

    /// Assumptions by verdict: (held, failed, not yet known).
    pub fn verdict_counts(&self) -> (usize, usize, usize) {
        let n = |v| self.assumptions.iter().filter(|a| a.verdict == v).count();
        (n(Verdict::Held), n(Verdict::Failed), n(Verdict::Unknown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Scenario {
        Scenario {
            kpi_code: "K-001".into(),
            strategy: "子育て世帯の転入を増やす".into(),
            chain: vec![
                ChainLink {
                    level: ChainLevel::Activity,
                    text: "保育所の整備".into(),
                    program_code: Some("J-001".into()),
                },
                ChainLink {
                    level: ChainLevel::Output,
                    text: "定員300人増".into(),
                    program_code: None,
                },
                ChainLink {
                    level: ChainLevel::Kpi,
                    text: "待機児童数".into(),
                    program_code: None,
                },
            ],
            assumptions: vec![Assumption {
                text: "定員が増えれば待機児童が減る".into(),
                verdict: Verdict::Held,
                evidence: "2024年度に待機児童0人".into(),
            }],
        }
    }

    fn programs() -> BTreeSet<String> {
        ["J-001".to_string()].into()
    }

    #[test]
    fn a_complete_scenario_passes() {
        assert!(sample().check(&programs()).is_empty());
        assert_eq!(sample().verdict_counts(), (1, 0, 0));
    }

    #[test]
    fn every_problem_is_named_by_field() {
        let mut s = sample();
        s.strategy = " ".into();
        s.chain[0].program_code = Some("J-999".into());
        s.chain.swap(1, 2);
        s.assumptions[0].evidence.clear();
        s.assumptions.push(Assumption {
            text: String::new(),
            verdict: Verdict::Unknown,
            evidence: String::new(),
        });
        let fields: Vec<String> = s.check(&programs()).into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "strategy",
                "chain[0].program_code",
                "chain",
                "assumptions[0].evidence",
                "assumptions[1].text"
            ]
        );
    }

    #[test]
    fn no_activity_and_too_long() {
        let mut s = sample();
        s.chain.remove(0);
        s.strategy = "あ".repeat(MAX_TEXT + 1);
        let e = s.check(&programs());
        assert!(
            e.iter()
                .any(|e| e.field == "chain" && e.ja.contains("事業・活動"))
        );
        assert!(
            e.iter()
                .any(|e| e.field == "strategy" && e.ja.contains("4001文字"))
        );
    }

    #[test]
    fn levels_and_verdicts_parse_in_both_languages() {
        assert_eq!(ChainLevel::parse("アウトカム"), Some(ChainLevel::Outcome));
        assert_eq!(ChainLevel::parse("KPI"), Some(ChainLevel::Kpi));
        assert_eq!(Verdict::parse("不成立"), Some(Verdict::Failed));
        assert_eq!(Verdict::parse("held"), Some(Verdict::Held));
        assert_eq!(Verdict::parse("たぶん"), None);
    }
}
