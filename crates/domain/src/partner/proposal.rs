//! The private-proposal desk (公民連携 / 民間提案): free proposals and
//! proposals against a theme the city publishes, a pipeline from intake to
//! implementation, and a rubric whose first criterion is the contribution to
//! the plan's KPIs.

use serde::{Deserialize, Serialize};

use super::member::coded_enum;
use super::{Check, Day, Problems, SdgGoal, read_codes, read_goals};

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

/// Longest theme description accepted.
pub const MAX_THEME_DESCRIPTION: usize = 5000;

/// A theme the city publishes and takes proposals against (テーマ型提案):
/// the KPIs and SDG goals it serves and the period it is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theme {
    pub code: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub kpi_codes: Vec<String>,
    #[serde(default)]
    pub sdg_goals: Vec<SdgGoal>,
    /// First day proposals are taken (none: from publication).
    #[serde(default)]
    pub open_from: Option<Day>,
    /// Last day proposals are taken (none: until closed).
    #[serde(default)]
    pub open_until: Option<Day>,
    /// Closed by the desk, whatever the dates say.
    #[serde(default)]
    pub closed: bool,
}

impl Theme {
    /// Does the theme take proposals on `today`?
    pub fn is_open(&self, today: Day) -> bool {
        !self.closed
            && self.open_from.is_none_or(|d| d <= today)
            && self.open_until.is_none_or(|d| today <= d)
    }
}

/// A theme as the desk's form sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThemeForm {
    pub code: String,
    pub title: String,
    pub description: String,
    /// KPI codes separated by commas, spaces or new lines.
    pub kpi_codes: String,
    pub sdg_goals: Vec<String>,
    pub open_from: String,
    pub open_until: String,
    pub closed: bool,
}

/// Checks a theme; `known_kpis` are the plan's KPI codes.
pub fn validate_theme(form: &ThemeForm, known_kpis: &[String]) -> Result<Theme, Problems> {
    let mut c = Check::default();
    let raw_code = c.text("code", &form.code, true, 40);
    let codes = read_codes(&mut c, "code", &raw_code);
    if codes.len() > 1 {
        c.push(
            "code",
            "コードは1つだけ入力してください",
            "give one code only",
        );
    }
    let code = codes.into_iter().next().unwrap_or_default();
    let title = c.text("title", &form.title, true, 200);
    let description = c.text(
        "description",
        &form.description,
        false,
        MAX_THEME_DESCRIPTION,
    );
    let kpi_codes = read_codes(&mut c, "kpi_codes", &form.kpi_codes);
    check_known_kpis(&mut c, &kpi_codes, known_kpis);
    let sdg_goals = read_goals(&mut c, "sdg_goals", &form.sdg_goals);
    let open_from = read_day(&mut c, "open_from", &form.open_from);
    let open_until = read_day(&mut c, "open_until", &form.open_until);
    if let (Some(from), Some(until)) = (open_from, open_until)
        && until < from
    {
        c.push(
            "open_until",
            "受付終了日は受付開始日より後にしてください",
            "must not be before the first day",
        );
    }
    c.finish(Theme {
        code,
        title,
        description,
        kpi_codes,
        sdg_goals,
        open_from,
        open_until,
        closed: form.closed,
    })
}

fn read_day(c: &mut Check, field: &str, raw: &str) -> Option<Day> {
    let v = c.text(field, raw, false, 20);
    if v.is_empty() {
        return None;
    }
    let day = Day::parse(&v);
    if day.is_none() {
        c.push(
            field,
            format!("「{v}」は日付ではありません（例: 2026-04-01）"),
            format!("\"{v}\" is not a date (e.g. 2026-04-01)"),
        );
    }
    day
}

fn check_known_kpis(c: &mut Check, codes: &[String], known_kpis: &[String]) {
    for k in codes {
        if !known_kpis.iter().any(|x| x == k) {
            c.push(
                "kpi_codes",
                format!("KPI「{k}」は計画にありません"),
                format!("KPI \"{k}\" is not in the plan"),
            );
        }
    }
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
    let p = check_proposal(&mut c, form, known_kpis, themes, true);
    c.finish(p)
}

fn check_proposal(
    c: &mut Check,
    form: &ProposalForm,
    known_kpis: &[String],
    themes: &[Theme],
    email_required: bool,
) -> NewProposal {
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
            format!("テーマ「{theme}」は受付中のテーマにありません"),
            format!("\"{theme}\" is not a theme taking proposals"),
        );
        None
    };
    let kpi_codes = read_codes(c, "kpi_codes", &form.kpi_codes);
    check_known_kpis(c, &kpi_codes, known_kpis);
    let sdg_goals = read_goals(c, "sdg_goals", &form.sdg_goals);
    let contact_email =
        super::member::check_email(c, "contact_email", &form.contact_email, email_required);
    NewProposal {
        title,
        proposer_name,
        member_id: form.member_id,
        theme_code,
        summary,
        kpi_codes,
        sdg_goals,
        contact_email,
        publish_consent: form.publish_consent,
    }
}

coded_enum! {
    /// How a proposal reached the desk.
    ProposalChannel {
        Web = "web", "ウェブフォーム", "web form";
        Email = "email", "電子メール", "e-mail";
        Post = "post", "郵送", "post";
        Visit = "visit", "来庁・持参", "visit";
        Other = "other", "その他", "other";
    }
}

/// The intake of a proposal: the proposal itself, the person the desk talks
/// to and how it arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeForm {
    pub proposal: ProposalForm,
    pub contact_person: String,
    pub contact_phone: String,
    /// Ignored for the public form (always `web`).
    pub channel: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewIntake {
    pub proposal: NewProposal,
    pub contact_person: String,
    pub contact_phone: String,
    pub channel: ProposalChannel,
}

/// Checks an intake. `themes` are the themes the proposal may name (the
/// open ones for the public form). The desk can be reached by e-mail or by
/// phone: one of them is required. `public` forces the web channel; the
/// desk enters what came by e-mail, post or visit.
pub fn validate_intake(
    form: &IntakeForm,
    known_kpis: &[String],
    themes: &[Theme],
    public: bool,
) -> Result<NewIntake, Problems> {
    let mut c = Check::default();
    let proposal = check_proposal(&mut c, &form.proposal, known_kpis, themes, false);
    let contact_person = c.text("contact_person", &form.contact_person, true, 100);
    let contact_phone = super::member::check_phone(&mut c, "contact_phone", &form.contact_phone);
    if proposal.contact_email.is_empty()
        && contact_phone.is_empty()
        && !c.problems.iter().any(|p| p.field == "contact_email")
    {
        c.push(
            "contact_email",
            "メールアドレスか電話番号のどちらかを入力してください",
            "give an e-mail address or a phone number",
        );
    }
    let channel = if public {
        ProposalChannel::Web
    } else {
        match ProposalChannel::parse(&form.channel) {
            Some(ch) if ch != ProposalChannel::Web => ch,
            _ => {
                c.push(
                    "channel",
                    "受付方法（電子メール・郵送・来庁・その他）を選んでください",
                    "choose how it arrived (e-mail, post, visit, other)",
                );
                ProposalChannel::Other
            }
        }
    };
    c.finish(NewIntake {
        proposal,
        contact_person,
        contact_phone,
        channel,
    })
}

/// The intake details of a stored proposal (the desk's view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeDetails {
    pub proposal_id: i64,
    pub receipt: String,
    pub contact_person: String,
    pub contact_phone: String,
    pub channel: ProposalChannel,
    /// When the decision (採択 / 不採択) was recorded (UTC, RFC 3339).
    pub decided_at: Option<String>,
}

impl IntakeDetails {
    /// The intake details of a stored proposal: all of it is on the
    /// proposal but the receipt number, which is derived from its id and day.
    pub fn of(p: &Proposal) -> IntakeDetails {
        IntakeDetails {
            proposal_id: p.id,
            receipt: receipt_number(p.id, &p.received_at),
            contact_person: p.contact_person.clone(),
            contact_phone: p.contact_phone.clone(),
            channel: p.channel,
            decided_at: p.decided_at.clone(),
        }
    }
}

/// The receipt number a proposer is given: `P-` the Japanese date of
/// receipt and the proposal's number (`P-20261127-00042`).
pub fn receipt_number(id: i64, received_at: &str) -> String {
    let day = jst_day(received_at).unwrap_or(Day::EPOCH);
    format!(
        "P-{:04}{:02}{:02}-{id:05}",
        day.year(),
        day.month(),
        day.day()
    )
}

/// Is `s` shaped like a receipt number (for showing one given back in a URL)?
pub fn is_receipt_number(s: &str) -> bool {
    let mut parts = s.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("P"), Some(d), Some(n), None)
            if d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit())
                && (5..=12).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit())
    )
}

/// The Japanese calendar day of a stored time (`crate::jst::day_of`).
pub fn jst_day(rfc3339: &str) -> Option<Day> {
    crate::jst::day_of(rfc3339)
}

/// A decision as the public page shows it, with the proposer's consent:
/// what was proposed and decided, never who proposed it or how to reach them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedDecision {
    pub id: i64,
    pub title: String,
    pub theme_code: Option<String>,
    pub theme_title: Option<String>,
    pub kpi_codes: Vec<String>,
    pub sdg_goals: Vec<SdgGoal>,
    /// 採択 (true) or 不採択 (false).
    pub adopted: bool,
    pub reason: String,
    pub decided_on: Option<Day>,
}

/// The decision a stage carries: adopted for 採択 and the stages after it,
/// not adopted for 不採択, none before a decision.
pub fn decision_of(stage: ProposalStage) -> Option<bool> {
    match stage {
        ProposalStage::Adopted | ProposalStage::Agreement | ProposalStage::Implementation => {
            Some(true)
        }
        ProposalStage::Rejected => Some(false),
        ProposalStage::Received | ProposalStage::Dialogue | ProposalStage::Review => None,
    }
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
    /// The proposer's contact person and phone (the desk's, never published).
    pub contact_person: String,
    pub contact_phone: String,
    /// How the proposal arrived.
    pub channel: ProposalChannel,
    pub publish_consent: bool,
    pub stage: ProposalStage,
    pub rubric: Option<Rubric>,
    pub decision_reason: String,
    pub received_at: String,
    /// When the decision (採択 / 不採択) was recorded (UTC, RFC 3339).
    pub decided_at: Option<String>,
    /// The day the contact fields were erased at the end of the retention period.
    pub contact_erased_on: Option<Day>,
}

impl Proposal {
    /// The proposal as staff outside the desk see it: without the contact
    /// person, phone and e-mail.
    pub fn without_contact(mut self) -> Proposal {
        self.contact_email.clear();
        self.contact_person.clear();
        self.contact_phone.clear();
        self
    }
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
            contact_person: "佐藤".into(),
            contact_phone: "03-0000-0000".into(),
            channel: ProposalChannel::Web,
            publish_consent: false,
            stage: ProposalStage::Review,
            rubric: scores.map(|scores| Rubric { scores }),
            decision_reason: String::new(),
            received_at: String::new(),
            decided_at: None,
            contact_erased_on: None,
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
        let themes = vec![theme("T1")];
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

    fn theme(code: &str) -> Theme {
        Theme {
            code: code.into(),
            title: "公園".into(),
            description: String::new(),
            kpi_codes: vec![],
            sdg_goals: vec![],
            open_from: None,
            open_until: None,
            closed: false,
        }
    }

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    #[test]
    fn themes_are_checked_and_open_by_period() {
        let form = ThemeForm {
            code: "T-PARK".into(),
            title: "公園の活用".into(),
            description: "公園を使った提案".into(),
            kpi_codes: "K1".into(),
            sdg_goals: vec!["11".into()],
            open_from: "2026-04-01".into(),
            open_until: "2026/9/30".into(),
            closed: false,
        };
        let t = validate_theme(&form, &["K1".into()]).unwrap();
        assert_eq!(t.code, "T-PARK");
        assert_eq!(t.open_until, Some(day("2026-09-30")));
        assert!(!t.is_open(day("2026-03-31")));
        assert!(t.is_open(day("2026-04-01")) && t.is_open(day("2026-09-30")));
        assert!(!t.is_open(day("2026-10-01")));
        assert!(
            !Theme {
                closed: true,
                ..t.clone()
            }
            .is_open(day("2026-05-01"))
        );
        let err = validate_theme(
            &ThemeForm {
                code: "T 1".into(),
                title: String::new(),
                kpi_codes: "K404".into(),
                sdg_goals: vec!["18".into()],
                open_from: "2026-10-01".into(),
                open_until: "2026-09-30".into(),
                ..form.clone()
            },
            &["K1".into()],
        )
        .unwrap_err();
        for f in ["code", "title", "kpi_codes", "sdg_goals", "open_until"] {
            assert!(err.has(f), "{f}: {err}");
        }
        assert!(
            validate_theme(
                &ThemeForm {
                    open_from: "いつか".into(),
                    ..form
                },
                &["K1".into()]
            )
            .unwrap_err()
            .has("open_from")
        );
    }

    #[test]
    fn intake_needs_a_way_to_reach_the_proposer() {
        let form = IntakeForm {
            proposal: ProposalForm {
                title: "公園の見守り".into(),
                proposer_name: "みなと電機".into(),
                theme_code: "T1".into(),
                summary: "センサーで見守る".into(),
                kpi_codes: "K1".into(),
                ..ProposalForm::default()
            },
            contact_person: "山田 花子".into(),
            contact_phone: String::new(),
            channel: "post".into(),
        };
        let themes = [theme("T1")];
        let err = validate_intake(&form, &["K1".into()], &themes, true).unwrap_err();
        assert!(err.has("contact_email") && err.0.len() == 1, "{err}");
        let ok = validate_intake(
            &IntakeForm {
                contact_phone: "06-1234-5678".into(),
                ..form.clone()
            },
            &["K1".into()],
            &themes,
            true,
        )
        .unwrap();
        assert_eq!(
            ok.channel,
            ProposalChannel::Web,
            "the public form is the web"
        );
        assert_eq!(ok.proposal.contact_email, "");
        let staff = validate_intake(
            &IntakeForm {
                contact_phone: "06-1234-5678".into(),
                ..form.clone()
            },
            &["K1".into()],
            &themes,
            false,
        )
        .unwrap();
        assert_eq!(staff.channel, ProposalChannel::Post);
        let err = validate_intake(
            &IntakeForm {
                contact_person: String::new(),
                contact_phone: "abc".into(),
                channel: "web".into(),
                ..form.clone()
            },
            &["K1".into()],
            &[],
            false,
        )
        .unwrap_err();
        for f in ["contact_person", "contact_phone", "channel", "theme_code"] {
            assert!(err.has(f), "{f}: {err}");
        }
        let bad_mail = IntakeForm {
            proposal: ProposalForm {
                contact_email: "not-mail".into(),
                ..form.proposal.clone()
            },
            ..form
        };
        let err = validate_intake(&bad_mail, &["K1".into()], &themes, true).unwrap_err();
        assert_eq!(err.for_field("contact_email").count(), 1, "{err}");
    }

    #[test]
    fn receipts_dates_and_decisions() {
        assert_eq!(
            receipt_number(42, "2026-11-26T16:30:00.000Z"),
            "P-20261127-00042"
        );
        assert_eq!(
            receipt_number(7, "2026-11-26T14:59:59.999Z"),
            "P-20261126-00007"
        );
        assert!(is_receipt_number("P-20261127-00042"));
        for bad in [
            "",
            "P-2026-1",
            "P-20261127-00042-1",
            "<b>",
            "P-2026112x-00042",
        ] {
            assert!(!is_receipt_number(bad), "{bad}");
        }
        assert_eq!(jst_day("2026-12-31T15:00:00Z"), Some(day("2027-01-01")));
        assert_eq!(jst_day("garbage"), None);
        assert_eq!(decision_of(ProposalStage::Agreement), Some(true));
        assert_eq!(decision_of(ProposalStage::Rejected), Some(false));
        assert_eq!(decision_of(ProposalStage::Review), None);
    }
}
