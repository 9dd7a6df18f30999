//! Services of the intake part of the partnerships area: the
//! private-proposal desk's public intake form and the desk's own entry of a
//! proposal that came by e-mail, post or visit (with attachments, checked
//! and written in one transaction with the proposal), the themes the city
//! publishes, and the decisions published with the proposer's consent.

use citykpi_domain::partner::attachment;
use citykpi_domain::partner::proposal::{
    self, IntakeDetails, IntakeForm, Proposal, ProposalStage, PublishedDecision, Rubric, Theme,
    ThemeForm,
};
use citykpi_domain::partner::{Day, Problem, Problems};
use citykpi_store::{Page, Store, ThemeWrite};

use super::{PAGE_SIZE, PUBLIC_ACTOR, PartnersError, Result, today};

/// Files a proposer may attach at intake (the desk can add more later, up
/// to `attachment::MAX_PER_PROPOSAL`).
pub const MAX_INTAKE_FILES: usize = 3;
/// Largest intake request: the files at their limit plus the form's fields.
pub const INTAKE_BODY: usize = MAX_INTAKE_FILES * attachment::MAX_BYTES + 256 * 1024;

/// A file as received: the name the sender gave and its bytes.
pub type IntakeFile = (String, Vec<u8>);

/// What the proposer is told: the proposal's number and its receipt number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub id: i64,
    pub number: String,
}

fn not_found(what_ja: &str, what_en: &str, key: &str) -> PartnersError {
    PartnersError::NotFound(format!(
        "{what_ja}「{key}」が見つかりません / {what_en} \"{key}\" not found"
    ))
}

// ----- themes -----

/// Every theme, open and closed (the desk's list).
pub async fn themes(store: &Store) -> Result<Vec<Theme>> {
    Ok(store.themes().await?)
}

/// The themes taking proposals today (the public list and form).
pub async fn open_themes(store: &Store) -> Result<Vec<Theme>> {
    let today = today();
    Ok(store
        .themes()
        .await?
        .into_iter()
        .filter(|t| t.is_open(today))
        .collect())
}

pub async fn theme(store: &Store, code: &str) -> Result<Theme> {
    store
        .theme(code)
        .await?
        .ok_or_else(|| not_found("テーマ", "theme", code))
}

/// Checks and writes a theme (its KPIs must be the plan's).
pub async fn save_theme(
    store: &Store,
    form: &ThemeForm,
    mode: ThemeWrite,
    actor: &str,
) -> Result<Theme> {
    let kpis: Vec<String> = store.kpis().await?.into_iter().map(|k| k.code).collect();
    let theme = proposal::validate_theme(form, &kpis)?;
    Ok(store.save_theme(&theme, mode, actor).await?)
}

pub async fn close_theme(store: &Store, code: &str, actor: &str) -> Result<Theme> {
    Ok(store.close_theme(code, actor).await?)
}

// ----- intake -----

/// Every problem of the files: too many, and each refused file by its name.
pub fn check_files(files: &[IntakeFile]) -> Vec<Problem> {
    let mut problems = Vec::new();
    if files.len() > MAX_INTAKE_FILES {
        problems.push(Problem::new(
            "files",
            format!("受付時に添付できるファイルは{MAX_INTAKE_FILES}件までです"),
            format!("at most {MAX_INTAKE_FILES} files can be attached with a proposal"),
        ));
    }
    for (i, (name, bytes)) in files.iter().enumerate() {
        if let Err(p) = attachment::check(name, bytes, i) {
            let shown = attachment::safe_name(name);
            problems.extend(p.0.into_iter().map(|p| {
                Problem::new(
                    "files",
                    format!("「{shown}」: {}", p.ja),
                    format!("\"{shown}\": {}", p.en),
                )
            }));
        }
    }
    problems
}

/// Takes in a proposal with its files: from the public form (`public`:
/// only open themes and published KPIs can be named, the channel is the
/// web, the actor is "public") or entered by the desk. Every problem of the
/// fields and the files comes back together; then nothing is written.
pub async fn submit(
    store: &Store,
    form: &IntakeForm,
    files: &[IntakeFile],
    public: bool,
    actor: &str,
) -> Result<Receipt> {
    let kpis: Vec<String> = store
        .kpis()
        .await?
        .into_iter()
        .filter(|k| !public || k.published)
        .map(|k| k.code)
        .collect();
    let themes = if public {
        open_themes(store).await?
    } else {
        store.themes().await?
    };
    let checked = proposal::validate_intake(form, &kpis, &themes, public);
    let mut problems = match &checked {
        Ok(_) => Vec::new(),
        Err(p) => p.0.clone(),
    };
    problems.extend(check_files(files));
    let new = match checked {
        Ok(new) if problems.is_empty() => new,
        _ => return Err(Problems(problems).into()),
    };
    let actor = if public { PUBLIC_ACTOR } else { actor };
    let (id, number) = store.insert_intake(&new, files, actor).await?;
    Ok(Receipt { id, number })
}

/// A proposal with its intake details, for the desk.
pub async fn intake_details(store: &Store, id: i64) -> Result<(Proposal, IntakeDetails)> {
    let p = super::proposal(store, id).await?;
    let details = IntakeDetails::of(&p);
    Ok((p, details))
}

/// The decisions published with the proposers' consent, latest first.
pub async fn decisions(store: &Store, page: i64) -> Result<Page<PublishedDecision>> {
    Ok(store.published_decisions(page, PAGE_SIZE).await?)
}

// ----- demo -----

/// The demo city's themes, and a decision on two of its proposals whose
/// proposers agreed to publication (one adopted, one not), so that the
/// public pages have content; the themes' dates count from `today`. Returns
/// the number of themes.
pub async fn build_demo(store: &Store, kpi_codes: &[String], today: Day) -> Result<usize> {
    let forms = citykpi_demo::partners::proposal_themes(today, kpi_codes);
    for form in &forms {
        let theme = proposal::validate_theme(form, kpi_codes)?;
        store.save_theme(&theme, ThemeWrite::Upsert, "demo").await?;
    }
    let consented: Vec<Proposal> = store
        .proposals(Some(ProposalStage::Received), 1, 200)
        .await?
        .items
        .into_iter()
        .filter(|p| p.publish_consent && !p.kpi_codes.is_empty())
        .collect();
    if let Some(p) = consented.first() {
        store
            .move_proposal(p.id, ProposalStage::Dialogue, "", "demo")
            .await?;
        store
            .move_proposal(p.id, ProposalStage::Review, "", "demo")
            .await?;
        store
            .score_proposal(
                p.id,
                &Rubric {
                    scores: [4, 4, 3, 3, 3],
                },
                "demo",
            )
            .await?;
        store
            .move_proposal(
                p.id,
                ProposalStage::Adopted,
                "計画のKPIへの寄与が大きく、市の負担も小さいため採択しました。",
                "demo",
            )
            .await?;
    }
    if let Some(p) = consented.get(1) {
        store
            .move_proposal(
                p.id,
                ProposalStage::Rejected,
                "同様の事業を市がすでに実施しているため、今回は採択を見送りました。",
                "demo",
            )
            .await?;
    }
    Ok(forms.len())
}
