//! The private-proposal desk (公民連携 / 民間提案): free proposals and
//! proposals against a theme the city publishes, a pipeline from intake to
//! implementation, and a rubric whose first criterion is the contribution to
//! the plan's KPIs.

use serde::{Deserialize, Serialize};

use super::member::coded_enum;
use super::{Check, Problems, SdgGoal, read_codes, read_goals};

coded_enum! {
    /// 受付 → 対話 → 検討 → 採択 / 不採択 → 協定 → 実施.
    ProposalStage {
        Received = "received", "受付", "received";
        Dialogue = "dialogue", "対話", "dialogue";
        Review = "review", "検討", "review";
        Adopted = "adopted", "採択", "adopted";
        Rejected = "rejected", "不採択", "not adopted";
        Agreement = "agreement", "協定", "agreement";
        Implementation = "implementation", "実施", "implementation";
    }
}

impl ProposalStage {
    pub fn can_move_to(self, to: ProposalStage) -> bool {
        use ProposalStage::*;
        matches!(
            (self, to),
            (Received, Dialogue)
                | (Received, Rejected)
                | (Dialogue, Review)
                | (Dialogue, Rejected)
                | (Review, Adopted)
                | (Review, Rejected)
                | (Adopted, Agreement)
                | (Agreement, Implementation)
        )
    }
    pub fn next_allowed(self) -> Vec<ProposalStage> {
        ProposalStage::ALL
            .iter()
            .copied()
            .filter(|t| self.can_move_to(*t))
            .collect()
    }
    /// A decision is recorded (and, with consent, published) at these stages.
    pub fn is_decision(self) -> bool {
        matches!(self, ProposalStage::Adopted | ProposalStage::Rejected)
    }
}

coded_enum! {
    /// The rubric's criteria, in order: KPI contribution comes first and weighs most.
    Criterion {
        KpiContribution = "kpi_contribution", "計画のKPIへの寄与", "contribution to the plan's KPIs";
        Feasibility = "feasibility", "実現可能性", "feasibility";
        CityCost = "city_cost", "市の負担の少なさ", "low cost to the city";
        Sustainability = "sustainability", "継続性・自走性", "sustainability";
        Novelty = "novelty", "先進性", "novelty";
    }
}

impl Criterion {
    /// Weight in points out of 100.
    pub fn weight(self) -> u32 {
        match self {
            Criterion::KpiContribution => 40,
            Criterion::Feasibility => 20,
            Criterion::CityCost => 15,
            Criterion::Sustainability => 15,
            Criterion::Novelty => 10,
        }
    }
}

/// Highest score of one criterion.
pub const MAX_SCORE: u8 = 5;
/// A proposal scoring below this on KPI contribution cannot be adopted,
/// however well it does otherwise.
pub const MIN_KPI_SCORE_TO_ADOPT: u8 = 3;

/// Scores 0–5 per criterion, in `Criterion::ALL` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rubric {
    pub scores: [u8; 5],
}

impl Rubric {
    /// Reads the five scores; every missing or out-of-range one is a problem
    /// of the field `score_<criterion>`.
    pub fn parse(values: &[(Criterion, String)]) -> Result<Rubric, Problems> {
        let mut c = Check::default();
        let mut scores = [0u8; 5];
        for (i, crit) in Criterion::ALL.iter().enumerate() {
            let field = format!("score_{}", crit.code());
            let raw = values
                .iter()
                .find(|(k, _)| k == crit)
                .map(|(_, v)| crate::text::normalize(v))
                .unwrap_or_default();
            match raw.parse::<u8>() {
                Ok(n) if n <= MAX_SCORE => scores[i] = n,
                _ => c.push(
                    &field,
                    format!("0〜{MAX_SCORE}の整数で採点してください"),
                    format!("must be a whole number from 0 to {MAX_SCORE}"),
                ),
            }
        }
        c.finish(Rubric { scores })
    }
    pub fn score(&self, c: Criterion) -> u8 {
        let i = Criterion::ALL.iter().position(|x| *x == c).unwrap_or(0);
        self.scores[i]
    }
    /// Weighted total, 0–100.
    pub fn total(&self) -> f64 {
        Criterion::ALL
            .iter()
            .zip(self.scores)
            .map(|(c, s)| f64::from(c.weight()) * f64::from(s) / f64::from(MAX_SCORE))
            .sum()
    }
}

/// A theme the city publishes and takes proposals against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theme {
    pub code: String,
    pub title: String,
    pub kpi_codes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalForm {
    pub title: String,
    pub proposer_name: String,
    pub member_id: Option<i64>,
    /// Empty for a free proposal.
    pub theme_code: String,
    pub summary: String,
    pub kpi_codes: String,
    pub sdg_goals: Vec<String>,
    pub contact_email: String,
    pub publish_consent: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProposal {
    pub title: String,
    pub proposer_name: String,
    pub member_id: Option<i64>,
    pub theme_code: Option<String>,
    pub summary: String,
    pub kpi_codes: Vec<String>,
    pub sdg_goals: Vec<SdgGoal>,
    pub contact_email: String,
    pub publish_consent: bool,
}

/// Checks a proposal; `known_kpis` are the plan's KPI codes (a proposal
/// names the KPIs it claims to move, and they must exist).
pub fn validate(
    form: &ProposalForm,
    known_kpis: &[String],
    themes: &[Theme],
) -> Result<NewProposal, Problems> {
    let mut c = Check::default();
    let title = c.text("title", &form.title, true, 200);
    let proposer_name = c.text("proposer_name", &form.proposer_name, true, 200);
    let summary = c.text("summary", &form.summary, true, 20_000);
    let theme = c.text("theme_code", &form.theme_code, false, 40);
    let theme_code = if theme.is_empty() {
        None
    } else if themes.iter().any(|t| t.code == theme) {
        Some(theme)
    } else {
        c.push(
            "theme_code",
            format!("テーマ「{theme}」はありません"),
            format!("there is no theme \"{theme}\""),
        );
        None
    };
    let kpi_codes = read_codes(&mut c, "kpi_codes", &form.kpi_codes);
    for k in &kpi_codes {
        if !known_kpis.iter().any(|x| x == k) {
            c.push(
                "kpi_codes",
                format!("KPI「{k}」は計画にありません"),
                format!("KPI \"{k}\" is not in the plan"),
            );
        }
    }
    let sdg_goals = read_goals(&mut c, "sdg_goals", &form.sdg_goals);
    let contact_email =
        super::member::check_email(&mut c, "contact_email", &form.contact_email, true);
    c.finish(NewProposal {
        title,
        proposer_name,
        member_id: form.member_id,
        theme_code,
        summary,
        kpi_codes,
        sdg_goals,
        contact_email,
        publish_consent: form.publish_consent,
    })
}

/// A stored proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    pub id: i64,
    pub title: String,
    pub proposer_name: String,
    pub member_id: Option<i64>,
    pub theme_code: Option<String>,
    pub summary: String,
    pub kpi_codes: Vec<String>,
    pub sdg_goals: Vec<SdgGoal>,
    pub contact_email: String,
    pub publish_consent: bool,
    pub stage: ProposalStage,
    pub rubric: Option<Rubric>,
    pub decision_reason: String,
    pub received_at: String,
}

/// Checks a move of the pipeline. A decision needs its reason; adoption
/// needs a rubric whose KPI-contribution score reaches
/// `MIN_KPI_SCORE_TO_ADOPT` and at least one KPI named.
pub fn check_move(p: &Proposal, to: ProposalStage, reason: &str) -> Result<String, Problems> {
    let mut c = Check::default();
    if !p.stage.can_move_to(to) {
        c.push(
            "stage",
            format!(
                "{}から{}には進められません",
                p.stage.label_ja(),
                to.label_ja()
            ),
            format!(
                "cannot move from {} to {}",
                p.stage.label_en(),
                to.label_en()
            ),
        );
    }
    let reason = c.text("reason", reason, to.is_decision(), 2000);
    if to == ProposalStage::Adopted {
        match &p.rubric {
            None => c.push("rubric", "採択の前に評価表を採点してください", "score the rubric before adopting"),
            Some(r) if r.score(Criterion::KpiContribution) < MIN_KPI_SCORE_TO_ADOPT => c.push(
                "rubric",
                format!("KPIへの寄与が{MIN_KPI_SCORE_TO_ADOPT}点未満の提案は採択できません"),
                format!("a proposal scoring below {MIN_KPI_SCORE_TO_ADOPT} on KPI contribution cannot be adopted"),
            ),
            Some(_) => {}
        }
        if p.kpi_codes.is_empty() {
            c.push(
                "kpi_codes",
                "寄与するKPIが指定されていません",
                "names no KPI it contributes to",
            );
        }
    }
    c.finish(reason)
}

/// Orders proposals for review: KPI contribution first, then the weighted
/// total, then the earlier proposal. Unscored ones come last.
pub fn rank(proposals: &mut [Proposal]) {
    proposals.sort_by(|a, b| {
        let key = |p: &Proposal| {
            p.rubric
                .map(|r| (r.score(Criterion::KpiContribution), r.total()))
        };
        match (key(a), key(b)) {
            (Some((ka, ta)), Some((kb, tb))) => {
                kb.cmp(&ka).then(tb.total_cmp(&ta)).then(a.id.cmp(&b.id))
            }
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.id.cmp(&b.id),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposal(id: i64, scores: Option<[u8; 5]>) -> Proposal {
        Proposal {
            id,
            title: format!("P{id}"),
            proposer_name: "みなと電機".into(),
            member_id: None,
            theme_code: None,
            summary: "s".into(),
            kpi_codes: vec!["K1".into()],
            sdg_goals: vec![],
            contact_email: "a@b.jp".into(),
            publish_consent: false,
            stage: ProposalStage::Review,
            rubric: scores.map(|scores| Rubric { scores }),
            decision_reason: String::new(),
            received_at: String::new(),
        }
    }

    #[test]
    fn rubric_weights_kpi_first() {
        assert_eq!(Criterion::ALL[0], Criterion::KpiContribution);
        assert_eq!(Criterion::ALL.iter().map(|c| c.weight()).sum::<u32>(), 100);
        assert!(
            Criterion::ALL
                .iter()
                .all(|c| c.weight() <= Criterion::KpiContribution.weight())
        );
        let r = Rubric {
            scores: [5, 5, 5, 5, 5],
        };
        assert!((r.total() - 100.0).abs() < 1e-9);
        let err = Rubric::parse(&[(Criterion::KpiContribution, "6".into())]).unwrap_err();
        assert_eq!(err.0.len(), 5);
        assert!(err.has("score_kpi_contribution"));
        let ok = Rubric::parse(
            &Criterion::ALL
                .iter()
                .map(|c| (*c, "３".to_string()))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert!((ok.total() - 60.0).abs() < 1e-9);
    }

    #[test]
    fn ranking_puts_kpi_contribution_first() {
        let mut ps = vec![
            proposal(1, Some([2, 5, 5, 5, 5])),
            proposal(2, None),
            proposal(3, Some([4, 0, 0, 0, 0])),
            proposal(4, Some([4, 3, 3, 3, 3])),
        ];
        rank(&mut ps);
        assert_eq!(
            ps.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![4, 3, 1, 2]
        );
    }

    #[test]
    fn pipeline_moves_and_adoption_rule() {
        let low = proposal(1, Some([2, 5, 5, 5, 5]));
        assert!(
            check_move(&low, ProposalStage::Adopted, "良い")
                .unwrap_err()
                .has("rubric")
        );
        let high = proposal(2, Some([4, 1, 1, 1, 1]));
        assert_eq!(
            check_move(&high, ProposalStage::Adopted, "寄与大").unwrap(),
            "寄与大"
        );
        assert!(
            check_move(&high, ProposalStage::Adopted, "")
                .unwrap_err()
                .has("reason")
        );
        assert!(
            check_move(&high, ProposalStage::Implementation, "")
                .unwrap_err()
                .has("stage")
        );
        let unscored = proposal(3, None);
        assert!(
            check_move(&unscored, ProposalStage::Adopted, "x")
                .unwrap_err()
                .has("rubric")
        );
        assert!(check_move(&unscored, ProposalStage::Rejected, "重複").is_ok());
        assert_eq!(
            ProposalStage::Adopted.next_allowed(),
            vec![ProposalStage::Agreement]
        );
    }

    #[test]
    fn validate_checks_kpis_and_themes() {
        let themes = vec![Theme {
            code: "T1".into(),
            title: "公園".into(),
            kpi_codes: vec![],
        }];
        let form = ProposalForm {
            title: "公園の見守り".into(),
            proposer_name: "みなと電機".into(),
            theme_code: "T9".into(),
            summary: "センサーで見守る".into(),
            kpi_codes: "K1, K404".into(),
            contact_email: "a@b.jp".into(),
            ..ProposalForm::default()
        };
        let err = validate(&form, &["K1".into()], &themes).unwrap_err();
        assert!(err.has("theme_code") && err.has("kpi_codes"));
        let ok = validate(
            &ProposalForm {
                theme_code: "T1".into(),
                kpi_codes: "K1".into(),
                ..form
            },
            &["K1".into()],
            &themes,
        )
        .unwrap();
        assert_eq!(ok.theme_code.as_deref(), Some("T1"));
    }
}
