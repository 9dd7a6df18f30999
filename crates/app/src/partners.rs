//! Partnership services: the one place the web pages and the API
//! register members, decide on them, list the directory, run the desk's
//! inquiries, take proposals and suggest members. Each function checks the
//! input with the domain's rules (every problem by field), then writes in one
//! store transaction with its audit row.

pub mod intake;
pub mod menu_public;
pub mod outreach;
pub mod registry;

use citykpi_domain::org::Role;
use citykpi_domain::partner::attachment::AttachmentInfo;
use citykpi_domain::partner::desk::{self, Inquiry, InquiryForm, InquiryStatus, Reply};
use citykpi_domain::partner::matching::{Need, Suggestion, suggest};
use citykpi_domain::partner::member::{self, Decision, Member, MemberForm, PublicMember};
use citykpi_domain::partner::menu::{MenuItem, Participation, ParticipationStatus};
use citykpi_domain::partner::projects::{
    Demonstration, PrPlan, ProjectTeam, TeamEntry, TeamForm, validate_entry, validate_team,
};
use citykpi_domain::partner::proposal::{
    self, Criterion, Proposal, ProposalForm, ProposalStage, Rubric,
};
use citykpi_domain::partner::{Day, Problem, Problems, SdgGoal};
use citykpi_store::{
    ErasedPersonal, InquiryFilter, MemberFilter, Page, PartnerError, Store, StoreError,
};

/// The actor recorded for what the public forms write.
pub const PUBLIC_ACTOR: &str = "public";
/// Settings key: days personal fields of a closed inquiry are kept.
pub const RETENTION_SETTING: &str = "partner_inquiry_retention_days";
/// Directory and list page size.
pub const PAGE_SIZE: i64 = 50;

#[derive(Debug, thiserror::Error)]
pub enum PartnersError {
    #[error(transparent)]
    Invalid(#[from] Problems),
    #[error("{0}")]
    NotFound(String),
    /// The viewer's role may not have this (an export of the member register).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Export(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PartnerError> for PartnersError {
    fn from(e: PartnerError) -> Self {
        match e {
            PartnerError::Invalid(p) => PartnersError::Invalid(p),
            e @ PartnerError::NotFound { .. } => PartnersError::NotFound(e.to_string()),
            PartnerError::Store(s) => PartnersError::Store(s),
        }
    }
}

pub type Result<T, E = PartnersError> = std::result::Result<T, E>;

/// Today in Japan (due dates and retention are Japanese calendar days).
pub fn today() -> Day {
    crate::clock::today()
}

/// The one-stop desk is run by the Mayor's Office (strategy office) and the administrators.
pub fn is_desk(role: Role) -> bool {
    matches!(role, Role::Admin | Role::StrategyOffice)
}

/// Who is looking at an inquiry, for the personal-data rule.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub login: String,
    pub role: Role,
    pub department: String,
}

impl Viewer {
    pub fn sees_personal_of(&self, i: &Inquiry) -> bool {
        desk::may_see_personal(is_desk(self.role), &self.department, &i.departments)
    }
    /// The inquiry as this viewer may see it.
    pub fn view(&self, i: Inquiry) -> Inquiry {
        if self.sees_personal_of(&i) {
            i
        } else {
            i.without_personal()
        }
    }
}

// ----- members -----

/// The public registration: checked, stored as pending, logged as "public".
pub async fn register_member(store: &Store, form: &MemberForm) -> Result<Member> {
    let new = member::validate(form)?;
    Ok(store.insert_member(&new, PUBLIC_ACTOR).await?)
}

/// Staff approve (`reject == false`) or reject with a reason. Returns the
/// member and the notice the applicant is sent.
pub async fn decide_member(
    store: &Store,
    id: i64,
    reject: bool,
    reason: &str,
    actor: &str,
) -> Result<(Member, String)> {
    let decision = if reject {
        Decision::Reject {
            reason: reason.to_string(),
        }
    } else {
        Decision::Approve {
            note: reason.to_string(),
        }
    };
    let m = store.decide_member(id, &decision, actor).await?;
    let notice = member::decision_notice(&m);
    Ok((m, notice))
}

pub async fn member(store: &Store, id: i64) -> Result<Member> {
    store.member(id).await?.ok_or_else(|| {
        PartnersError::NotFound(format!(
            "会員 {id} が見つかりません / member {id} not found"
        ))
    })
}

pub async fn members(store: &Store, filter: &MemberFilter) -> Result<Page<Member>> {
    Ok(store.members(filter).await?)
}

pub async fn directory(store: &Store, q: &str, page: i64) -> Result<Page<PublicMember>> {
    Ok(store.public_members(q, page, PAGE_SIZE).await?)
}

// ----- desk -----

/// A new inquiry: from the public form (`viewer` None, channel web) or
/// entered by staff for a call, mail or visit.
pub async fn create_inquiry(
    store: &Store,
    form: &InquiryForm,
    staff: Option<&Viewer>,
) -> Result<Inquiry> {
    let new = desk::validate(form, today(), staff.is_none())?;
    let actor = staff.map_or(PUBLIC_ACTOR, |v| v.login.as_str());
    Ok(store.insert_inquiry(&new, actor).await?)
}

/// The desk list as `viewer` may see it. A department user sees only the
/// inquiries routed to their department; the desk and the strategy office see all.
pub async fn inquiries(
    store: &Store,
    viewer: &Viewer,
    mut filter: InquiryFilter,
) -> Result<Page<Inquiry>> {
    if !is_desk(viewer.role) {
        if viewer.department.is_empty() {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
                page: 1,
                per_page: filter.per_page,
            });
        }
        filter.department = Some(viewer.department.clone());
    }
    let mut page = store.inquiries(&filter).await?;
    page.items = page.items.into_iter().map(|i| viewer.view(i)).collect();
    Ok(page)
}

/// One inquiry with its history; refused (not found) to someone who may not see it at all.
pub async fn inquiry(store: &Store, viewer: &Viewer, id: i64) -> Result<(Inquiry, Vec<Reply>)> {
    let nf = || {
        PartnersError::NotFound(format!(
            "相談 {id} が見つかりません / inquiry {id} not found"
        ))
    };
    let (i, replies) = store.inquiry(id).await?.ok_or_else(nf)?;
    if !may_handle(viewer, &i) {
        return Err(nf());
    }
    Ok((viewer.view(i), replies))
}

/// The desk handles every inquiry; a department only those routed to it.
pub fn may_handle(viewer: &Viewer, i: &Inquiry) -> bool {
    is_desk(viewer.role)
        || (!viewer.department.is_empty() && i.departments.contains(&viewer.department))
}

pub async fn reply_inquiry(
    store: &Store,
    viewer: &Viewer,
    id: i64,
    status: &str,
    body: &str,
) -> Result<Inquiry> {
    let (i, _) = inquiry(store, viewer, id).await?;
    let to = match status.trim() {
        "" => None,
        s => Some(InquiryStatus::parse(s).ok_or_else(|| {
            Problems(vec![Problem::new(
                "status",
                format!("「{s}」は状態ではありません"),
                format!("\"{s}\" is not a status"),
            )])
        })?),
    };
    let after = store
        .reply_inquiry(i.id, to, body, &viewer.login, today())
        .await?;
    Ok(viewer.view(after))
}

/// Routing is the desk's.
pub async fn route_inquiry(
    store: &Store,
    viewer: &Viewer,
    id: i64,
    departments: &str,
) -> Result<Inquiry> {
    if !is_desk(viewer.role) {
        return Err(PartnersError::NotFound(format!(
            "相談 {id} が見つかりません / inquiry {id} not found"
        )));
    }
    let codes: Vec<String> = citykpi_domain::text::normalize(departments)
        .split(|c: char| c == ',' || c == '、' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    Ok(store.route_inquiry(id, &codes, &viewer.login).await?)
}

/// Erases personal fields past the city's retention period (setting, else one year).
pub async fn erase_expired(store: &Store, actor: &str) -> Result<ErasedPersonal> {
    erase_expired_after(store, None, actor).await
}

/// The same with the period given in days (the command line's `--days`),
/// else the city's setting, else one year.
pub async fn erase_expired_after(
    store: &Store,
    days: Option<i64>,
    actor: &str,
) -> Result<ErasedPersonal> {
    let days = match days {
        Some(d) if d < 0 => {
            return Err(PartnersError::Invalid(Problems(vec![Problem::new(
                "days",
                "保存期間は0日以上で指定してください",
                "the retention period must be 0 days or more",
            )])));
        }
        Some(d) => d,
        None => store
            .get_setting(RETENTION_SETTING)
            .await?
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|d| *d >= 0)
            .unwrap_or(desk::DEFAULT_RETENTION_DAYS),
    };
    Ok(store.erase_expired_personal(today(), days, actor).await?)
}

// ----- proposals -----

pub async fn submit_proposal(store: &Store, form: &ProposalForm, actor: &str) -> Result<Proposal> {
    let kpis: Vec<String> = store.kpis().await?.into_iter().map(|k| k.code).collect();
    // Themes are not published yet (no theme table): every proposal is a free one.
    let new = proposal::validate(form, &kpis, &[])?;
    Ok(store.insert_proposal(&new, actor).await?)
}

pub async fn proposal(store: &Store, id: i64) -> Result<Proposal> {
    store.proposal(id).await?.ok_or_else(|| {
        PartnersError::NotFound(format!(
            "提案 {id} が見つかりません / proposal {id} not found"
        ))
    })
}

pub async fn proposals(
    store: &Store,
    stage: Option<ProposalStage>,
    page: i64,
) -> Result<Page<Proposal>> {
    Ok(store.proposals(stage, page, PAGE_SIZE).await?)
}

/// Scores from form fields `score_<criterion>`.
pub async fn score_proposal(
    store: &Store,
    id: i64,
    values: &[(String, String)],
    actor: &str,
) -> Result<Proposal> {
    let pairs: Vec<(Criterion, String)> = Criterion::ALL
        .iter()
        .map(|c| {
            let key = format!("score_{}", c.code());
            (
                *c,
                values
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
            )
        })
        .collect();
    let rubric = Rubric::parse(&pairs)?;
    Ok(store.score_proposal(id, &rubric, actor).await?)
}

pub async fn move_proposal(
    store: &Store,
    id: i64,
    stage: &str,
    reason: &str,
    actor: &str,
) -> Result<Proposal> {
    let to = ProposalStage::parse(stage).ok_or_else(|| {
        Problems(vec![Problem::new(
            "stage",
            format!("「{stage}」は段階ではありません"),
            format!("\"{stage}\" is not a stage"),
        )])
    })?;
    Ok(store.move_proposal(id, to, reason, actor).await?)
}

/// Members to suggest for a proposal: its SDG goals and the words of its title.
pub async fn suggest_for_proposal(
    store: &Store,
    p: &Proposal,
    city_code: &str,
) -> Result<Vec<Suggestion>> {
    let need = Need {
        sdg_goals: p.sdg_goals.clone(),
        keywords: keywords(&p.title),
        lg_code: city_code.to_string(),
    };
    let candidates = store.match_candidates().await?;
    Ok(suggest(&need, &candidates, 10))
}

/// Members to suggest for each open menu item and for each team (by their
/// SDG goals and the words of title and goal; members already in a team or
/// already applied to an item are left out), `limit` each. Candidates are
/// read once.
pub async fn suggest_for_menu_and_teams(
    store: &Store,
    city_code: &str,
    limit: usize,
) -> Result<(
    Vec<(String, Vec<Suggestion>)>,
    Vec<(String, Vec<Suggestion>)>,
)> {
    let candidates = store.match_candidates().await?;
    let applied = store.participations(None).await?;
    let menu = store
        .menu_items()
        .await?
        .into_iter()
        .filter(|m| m.open)
        .map(|m| {
            let need = Need {
                sdg_goals: m.sdg_goals.clone(),
                keywords: keywords(&m.title),
                lg_code: city_code.to_string(),
            };
            let already: Vec<i64> = applied
                .iter()
                .filter(|p| p.menu_code == m.code)
                .map(|p| p.member_id)
                .collect();
            let pool: Vec<_> = candidates
                .iter()
                .filter(|c| !already.contains(&c.member_id))
                .cloned()
                .collect();
            (m.code, suggest(&need, &pool, limit))
        })
        .collect();
    let teams = store
        .teams()
        .await?
        .into_iter()
        .map(|t| {
            let mut words = keywords(&t.name);
            words.extend(keywords(&t.goal));
            let need = Need {
                sdg_goals: Vec::new(),
                keywords: words,
                lg_code: city_code.to_string(),
            };
            let pool: Vec<_> = candidates
                .iter()
                .filter(|c| !t.member_ids.contains(&c.member_id))
                .cloned()
                .collect();
            (t.code, suggest(&need, &pool, limit))
        })
        .collect();
    Ok((menu, teams))
}

/// Words of a title worth looking for in offers: runs of two or more
/// characters split at spaces and Japanese particles.
fn keywords(title: &str) -> Vec<String> {
    citykpi_domain::text::normalize(title)
        .split(|c: char| c.is_whitespace() || "のをにへとでがは・、。".contains(c))
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_string)
        .collect()
}

// ----- proposal attachments -----

pub async fn add_attachment(
    store: &Store,
    proposal_id: i64,
    file_name: &str,
    bytes: &[u8],
    actor: &str,
) -> Result<AttachmentInfo> {
    Ok(store
        .add_attachment(proposal_id, file_name, bytes, actor)
        .await?)
}

pub async fn attachments(store: &Store, proposal_id: i64) -> Result<Vec<AttachmentInfo>> {
    Ok(store.attachments(proposal_id).await?)
}

pub async fn attachment(store: &Store, id: i64) -> Result<(AttachmentInfo, Vec<u8>)> {
    store.attachment(id).await?.ok_or_else(|| {
        PartnersError::NotFound(format!(
            "添付ファイル {id} が見つかりません / attachment {id} not found"
        ))
    })
}

// ----- LINE official account webhook -----

/// Settings key: the channel secret of the city's LINE official account.
pub const LINE_SECRET_SETTING: &str = "partner_line_channel_secret";
/// Environment variable with the channel secret when the setting is not kept.
pub const LINE_SECRET_ENV: &str = "CITYKPI_LINE_CHANNEL_SECRET";
/// The actor the audit log records for what the webhook writes.
pub const LINE_ACTOR: &str = "line";
/// Largest webhook body accepted (LINE batches a few events per request).
pub const MAX_LINE_BODY: usize = 256 * 1024;

/// Why a webhook call is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LineError {
    #[error("LINEの署名がありません / the X-Line-Signature header is missing")]
    MissingSignature,
    #[error("LINEの署名が一致しません / the X-Line-Signature does not match the body")]
    BadSignature,
    #[error("LINEのチャネルシークレットが設定されていません / no LINE channel secret is set")]
    NotConfigured,
    #[error("LINEからの本文を読めません / the webhook body is not LINE's JSON: {0}")]
    BadBody(String),
}

/// True when `signature` (the `X-Line-Signature` header) is
/// base64(HMAC-SHA256(`secret`, `body`)). The comparison is constant-time.
pub fn line_signature_ok(secret: &str, body: &[u8], signature: &str) -> bool {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// The signature LINE would send for `body` (for tests and tools).
pub fn line_signature(secret: &str, body: &[u8]) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    match Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

#[derive(serde::Deserialize)]
struct LineBody {
    #[serde(default)]
    events: Vec<LineEvent>,
}

#[derive(serde::Deserialize)]
struct LineEvent {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    message: Option<LineMessage>,
    #[serde(default)]
    source: Option<LineSource>,
}

#[derive(serde::Deserialize)]
struct LineMessage {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    text: String,
}

#[derive(serde::Deserialize)]
struct LineSource {
    #[serde(rename = "userId", default)]
    user_id: String,
}

/// Handles one webhook call of the city's LINE official account: checks the
/// signature against the configured channel secret, then records every text
/// message as a desk inquiry (channel LINE). The LINE user id is kept as the
/// inquirer's personal data, so it is seen only by the desk and the routed
/// departments and erased with the retention period. Other events (follow,
/// stickers, images) are acknowledged and not recorded. Returns the new
/// inquiries' ids; nothing is written when anything is refused.
pub async fn line_webhook(
    store: &Store,
    body: &[u8],
    signature: Option<&str>,
) -> Result<Vec<i64>, LineWebhookError> {
    let signature = signature
        .filter(|s| !s.trim().is_empty())
        .ok_or(LineError::MissingSignature)?;
    let secret = line_channel_secret(store)
        .await?
        .ok_or(LineError::NotConfigured)?;
    if !line_signature_ok(&secret, body, signature) {
        return Err(LineError::BadSignature.into());
    }
    if body.len() > MAX_LINE_BODY {
        return Err(LineError::BadBody(format!("{} bytes", body.len())).into());
    }
    let parsed: LineBody =
        serde_json::from_slice(body).map_err(|e| LineError::BadBody(e.to_string()))?;
    let today = today();
    let mut new = Vec::new();
    for ev in parsed.events {
        let Some(msg) = ev
            .message
            .filter(|m| ev.kind == "message" && m.kind == "text")
        else {
            continue;
        };
        let text = citykpi_domain::text::normalize(&msg.text);
        if text.is_empty() {
            continue;
        }
        let subject: String = text.lines().next().unwrap_or("").chars().take(40).collect();
        let user = ev.source.map(|s| s.user_id).unwrap_or_default();
        let content: String = text.chars().take(desk::MAX_CONTENT).collect();
        new.push(desk::NewInquiry {
            category: desk::InquiryCategory::Other,
            channel: desk::Channel::Line,
            org_name: String::new(),
            member_id: None,
            subject,
            content,
            personal: desk::Personal {
                name: if user.is_empty() {
                    String::new()
                } else {
                    format!("LINE {}", user.chars().take(64).collect::<String>())
                },
                email: String::new(),
                phone: String::new(),
            },
            departments: Vec::new(),
            received_on: today,
            due_on: today.plus_days(desk::DEFAULT_DUE_DAYS),
        });
    }
    // All the messages of one call are stored together, each with its audit row.
    let stored = store
        .insert_inquiries(&new, LINE_ACTOR)
        .await
        .map_err(PartnersError::from)?;
    Ok(stored.into_iter().map(|i| i.id).collect())
}

/// The channel secret: the setting the administrator keeps in the database,
/// else the environment (`CITYKPI_LINE_CHANNEL_SECRET`) of the server.
pub async fn line_channel_secret(store: &Store) -> Result<Option<String>, StoreError> {
    let set = store
        .get_setting(LINE_SECRET_SETTING)
        .await?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    Ok(set.or_else(|| {
        std::env::var(LINE_SECRET_ENV)
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }))
}

/// A webhook failure: a refusal (signature, configuration, body) or a storage error.
#[derive(Debug, thiserror::Error)]
pub enum LineWebhookError {
    #[error(transparent)]
    Refused(#[from] LineError),
    #[error(transparent)]
    Partners(#[from] PartnersError),
}

impl From<StoreError> for LineWebhookError {
    fn from(e: StoreError) -> Self {
        LineWebhookError::Partners(PartnersError::Store(e))
    }
}

// ----- SDGs contribution menu, demonstrations, PR plans (read) -----

/// The SDGs contribution menu with each item's participations and the
/// names of the members who applied.
pub async fn menu(store: &Store) -> Result<Vec<(MenuItem, Vec<(Participation, String)>)>> {
    let items = store.menu_items().await?;
    let all = store.participations(None).await?;
    let names = member_names(store, all.iter().map(|p| p.member_id)).await?;
    Ok(items
        .into_iter()
        .map(|item| {
            let of: Vec<(Participation, String)> = all
                .iter()
                .filter(|p| p.menu_code == item.code)
                .map(|p| (p.clone(), name_of(&names, p.member_id)))
                .collect();
            (item, of)
        })
        .collect())
}

/// Records a member's application to a menu item (entered by the desk).
pub async fn apply_to_menu(
    store: &Store,
    menu_code: &str,
    member_id: &str,
    note: &str,
    actor: &str,
) -> Result<Participation> {
    let id = citykpi_domain::text::normalize(member_id)
        .trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0);
    let Some(id) = id else {
        return Err(Problems(vec![Problem::new(
            "member_id",
            "会員番号を入力してください",
            "enter the member number",
        )])
        .into());
    };
    if store.member(id).await?.is_none() {
        return Err(Problems(vec![Problem::new(
            "member_id",
            format!("会員 {id} は登録されていません"),
            format!("no member {id}"),
        )])
        .into());
    }
    // The store checks the rest (open item, approved member, not applied twice, note length).
    Ok(store.apply_to_menu(menu_code, id, note, actor).await?)
}

/// Accepts, declines or completes (with its result) a participation.
pub async fn move_participation(
    store: &Store,
    id: i64,
    status: &str,
    result: &str,
    actor: &str,
) -> Result<Participation> {
    let to = ParticipationStatus::parse(status).ok_or_else(|| {
        Problems(vec![Problem::new(
            "status",
            format!("「{status}」は状態ではありません"),
            format!("\"{status}\" is not a status"),
        )])
    })?;
    let result = citykpi_domain::text::normalize(result);
    Ok(store.set_participation(id, to, &result, actor).await?)
}

/// The demonstrations registry with the names of each one's partners.
pub async fn demonstrations(store: &Store) -> Result<Vec<(Demonstration, Vec<String>)>> {
    let list = store.demonstrations().await?;
    let names = member_names(store, list.iter().flat_map(|d| d.partner_ids.clone())).await?;
    Ok(list
        .into_iter()
        .map(|d| {
            let partners = d
                .partner_ids
                .iter()
                .map(|id| name_of(&names, *id))
                .collect();
            (d, partners)
        })
        .collect())
}

/// PR plans running at some time between `from` and `to` (the calendar).
pub async fn pr_plans(store: &Store, from: Day, to: Day) -> Result<Vec<PrPlan>> {
    Ok(store.pr_plans_between(from, to).await?)
}

async fn member_names(store: &Store, ids: impl Iterator<Item = i64>) -> Result<Vec<(i64, String)>> {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(m) = store.member(id).await? {
            out.push((id, m.org.name));
        }
    }
    Ok(out)
}

fn name_of(names: &[(i64, String)], id: i64) -> String {
    names
        .iter()
        .find(|(i, _)| *i == id)
        .map_or_else(|| format!("#{id}"), |(_, n)| n.clone())
}

// ----- project teams -----

/// Every team with its members' names and its log, oldest entry first.
pub async fn teams(store: &Store) -> Result<Vec<(ProjectTeam, Vec<String>, Vec<TeamEntry>)>> {
    let list = store.teams().await?;
    let names = member_names(store, list.iter().flat_map(|t| t.member_ids.clone())).await?;
    let mut out = Vec::with_capacity(list.len());
    for t in list {
        let members = t.member_ids.iter().map(|id| name_of(&names, *id)).collect();
        let log = store.team_entries(&t.code).await?;
        out.push((t, members, log));
    }
    Ok(out)
}

/// Creates or updates a team from the form (every problem by field).
pub async fn save_team(store: &Store, form: &TeamForm, actor: &str) -> Result<ProjectTeam> {
    let team = validate_team(form)?;
    let known: Vec<String> = store.kpis().await?.into_iter().map(|k| k.code).collect();
    let unknown: Vec<Problem> = team
        .kpi_codes
        .iter()
        .filter(|k| !known.contains(k))
        .map(|k| {
            Problem::new(
                "kpi_codes",
                format!("KPI「{k}」は登録されていません"),
                format!("no KPI {k}"),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(Problems(unknown).into());
    }
    store.upsert_team(&team, actor).await?;
    Ok(team)
}

/// Adds an activity or a result to a team's log.
pub async fn log_team(
    store: &Store,
    code: &str,
    kind: &str,
    on: &str,
    body: &str,
    actor: &str,
) -> Result<TeamEntry> {
    let entry = validate_entry(code, kind, on, body, actor)?;
    store.add_team_entry(&entry, actor).await?;
    Ok(entry)
}

// ----- exports (CSV / XLSX / JSON through citykpi-io's writer) -----

/// The partnership lists that can be downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerTable {
    Members,
    Inquiries,
    Proposals,
    /// The SDGs menu with its participations (sheet in `registry`).
    Menu,
    /// The project teams with their logs.
    Teams,
    Demonstrations,
    PrPlans,
}

impl PartnerTable {
    pub const ALL: [PartnerTable; 7] = [
        PartnerTable::Members,
        PartnerTable::Inquiries,
        PartnerTable::Proposals,
        PartnerTable::Menu,
        PartnerTable::Teams,
        PartnerTable::Demonstrations,
        PartnerTable::PrPlans,
    ];
    pub fn code(self) -> &'static str {
        match self {
            PartnerTable::Members => "members",
            PartnerTable::Inquiries => "inquiries",
            PartnerTable::Proposals => "proposals",
            PartnerTable::Menu => "menu",
            PartnerTable::Teams => "teams",
            PartnerTable::Demonstrations => "demonstrations",
            PartnerTable::PrPlans => "pr_plans",
        }
    }
    pub fn parse(s: &str) -> Option<PartnerTable> {
        PartnerTable::ALL.into_iter().find(|t| t.code() == s.trim())
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            PartnerTable::Members => "SDGs推進プラットフォーム会員",
            PartnerTable::Inquiries => "ワンストップ窓口の相談",
            PartnerTable::Proposals => "民間提案",
            PartnerTable::Menu => "SDGs貢献メニューと参加",
            PartnerTable::Teams => "プロジェクトチームと活動記録",
            PartnerTable::Demonstrations => "実証プロジェクト",
            PartnerTable::PrPlans => "広報計画",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            PartnerTable::Members => "partner members",
            PartnerTable::Inquiries => "desk inquiries",
            PartnerTable::Proposals => "private proposals",
            PartnerTable::Menu => "SDGs menu and participations",
            PartnerTable::Teams => "project teams and their logs",
            PartnerTable::Demonstrations => "demonstrations",
            PartnerTable::PrPlans => "PR plans",
        }
    }
}

/// A downloaded list: its bytes, a file name and how many rows it holds.
#[derive(Debug, Clone)]
pub struct Export {
    pub bytes: Vec<u8>,
    pub file_name: String,
    pub rows: usize,
    /// Whether personal data (contact persons, e-mail, phone) is in it.
    pub personal: bool,
}

/// Writes a partnership list as `viewer` may see it, with the same writer as
/// every other export, and records the download in the audit log (these
/// lists hold personal data). The member register is the desk's; inquiries
/// are those the viewer handles, with personal fields only where
/// [`Viewer::sees_personal_of`] allows; a proposal's contact address only
/// for the desk.
pub async fn export(
    store: &Store,
    viewer: &Viewer,
    table: PartnerTable,
    format: citykpi_io::Format,
    lang: citykpi_io::HeaderLang,
) -> Result<Export> {
    use citykpi_io::HeaderLang;
    let ja = lang == HeaderLang::Ja;
    let (sheet, personal) = match table {
        PartnerTable::Members => {
            if !is_desk(viewer.role) {
                return Err(PartnersError::Forbidden(
                    "会員名簿の書き出しは窓口だけができます / only the desk exports the member register"
                        .into(),
                ));
            }
            let members = store.members_for_export(&MemberFilter::default()).await?;
            (member_sheet(&members, ja), !members.is_empty())
        }
        PartnerTable::Inquiries => {
            let mut filter = InquiryFilter::new(today());
            let list = if is_desk(viewer.role) {
                store.inquiries_for_export(&filter).await?
            } else if viewer.department.is_empty() {
                Vec::new()
            } else {
                filter.department = Some(viewer.department.clone());
                store.inquiries_for_export(&filter).await?
            };
            let list: Vec<Inquiry> = list.into_iter().map(|i| viewer.view(i)).collect();
            let personal = list.iter().any(|i| !i.personal.is_empty());
            (inquiry_sheet(&list, ja, today()), personal)
        }
        PartnerTable::Proposals => {
            let desk = is_desk(viewer.role);
            let list = store.proposals_for_export(None).await?;
            (
                proposal_sheet(&list, ja, desk),
                desk && list.iter().any(|p| !p.contact_email.is_empty()),
            )
        }
        // The registry's tables hold no personal data (members are organisations).
        other => match registry::sheet(store, other, ja).await? {
            Some(sheet) => (sheet, false),
            None => return Err(PartnersError::Export(other.code().into())),
        },
    };
    let rows = sheet.rows.len();
    let bytes = citykpi_io::write_sheet(&sheet, format, lang)
        .map_err(|e| PartnersError::Export(e.to_string()))?;
    store
        .record_audit(&citykpi_store::AuditRecord {
            actor: &viewer.login,
            action: "export",
            entity: match table {
                PartnerTable::Members => "partner_member",
                PartnerTable::Inquiries => "partner_inquiry",
                PartnerTable::Proposals => "partner_proposal",
                PartnerTable::Menu => "partner_menu_item",
                PartnerTable::Teams => "partner_team",
                PartnerTable::Demonstrations => "partner_demonstration",
                PartnerTable::PrPlans => "partner_pr_plan",
            },
            key: "",
            before: None,
            after: Some(serde_json::json!({
                "format": format.extension(),
                "rows": rows,
                "personal": personal,
            })),
        })
        .await?;
    let day = today();
    Ok(Export {
        bytes,
        file_name: format!(
            "partner-{}-{:04}{:02}{:02}.{}",
            table.code(),
            day.year(),
            day.month(),
            day.day(),
            format.extension()
        ),
        rows,
        personal,
    })
}

fn pick(ja: bool, j: &'static str, e: &'static str) -> &'static str {
    if ja { j } else { e }
}

fn goals_cell(goals: &[SdgGoal]) -> citykpi_io::Cell {
    citykpi_io::Cell::text(&goals_label(goals))
}

fn member_sheet(members: &[Member], ja: bool) -> citykpi_io::Sheet {
    use citykpi_io::Cell;
    let columns = vec![
        ("id", "会員番号", "id"),
        ("name", "団体名", "name"),
        ("org_type", "団体種別", "type"),
        ("size", "規模", "size"),
        ("postal_code", "郵便番号", "postal code"),
        ("lg_code", "団体コード", "local-government code"),
        ("address", "所在地", "address"),
        ("website", "ウェブサイト", "website"),
        ("contact_person", "担当者名", "contact person"),
        ("email", "メールアドレス", "e-mail"),
        ("phone", "電話番号", "phone"),
        ("sdg_goals", "関心のあるSDGs", "SDG goals"),
        ("offers", "提供できること", "offers"),
        ("publish", "名簿掲載の同意", "listed"),
        ("public_fields", "公開項目", "public fields"),
        ("status", "状態", "status"),
        ("decision_reason", "審査の理由", "decision reason"),
        ("registered_at", "登録日時", "registered at"),
        ("decided_at", "審査日時", "decided at"),
        ("decided_by", "審査者", "decided by"),
    ];
    let rows = members
        .iter()
        .map(|m| {
            vec![
                Cell::Int(m.id),
                Cell::text(&m.org.name),
                Cell::text(pick(
                    ja,
                    m.org.org_type.label_ja(),
                    m.org.org_type.label_en(),
                )),
                Cell::text(
                    m.org
                        .size
                        .map_or("", |s| pick(ja, s.label_ja(), s.label_en())),
                ),
                Cell::text(&m.org.postal_code),
                Cell::text(&m.org.lg_code),
                Cell::text(&m.org.address),
                Cell::text(&m.org.website),
                Cell::text(&m.contact.person),
                Cell::text(&m.contact.email),
                Cell::text(&m.contact.phone),
                goals_cell(&m.sdg_goals),
                Cell::text(&m.offers),
                Cell::Bool(m.consent.publish),
                Cell::text(
                    &m.consent
                        .fields
                        .iter()
                        .map(|f| pick(ja, f.label_ja(), f.label_en()))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Cell::text(pick(ja, m.status.label_ja(), m.status.label_en())),
                Cell::text(&m.decision_reason),
                Cell::text(&m.registered_at),
                Cell::text(m.decided_at.as_deref().unwrap_or("")),
                Cell::text(m.decided_by.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    citykpi_io::Sheet {
        name_ja: "会員".into(),
        name_en: "members".into(),
        columns,
        rows,
    }
}

fn inquiry_sheet(list: &[Inquiry], ja: bool, today: Day) -> citykpi_io::Sheet {
    use citykpi_io::Cell;
    let columns = vec![
        ("id", "相談番号", "id"),
        ("received_on", "受付日", "received on"),
        ("due_on", "回答期限", "due on"),
        ("status", "状態", "status"),
        ("overdue", "期限超過", "overdue"),
        ("category", "相談の種類", "category"),
        ("channel", "受付方法", "channel"),
        ("org_name", "団体名", "organisation"),
        ("member_id", "会員番号", "member id"),
        ("subject", "件名", "subject"),
        ("content", "内容", "content"),
        ("departments", "担当部局", "departments"),
        ("person_name", "相談者名", "inquirer"),
        ("email", "メールアドレス", "e-mail"),
        ("phone", "電話番号", "phone"),
        ("closed_on", "完了日", "closed on"),
        ("erased_on", "個人情報の消去日", "personal data erased on"),
    ];
    let day = |d: Option<Day>| Cell::text(&d.map(|d| d.to_string()).unwrap_or_default());
    let rows = list
        .iter()
        .map(|i| {
            vec![
                Cell::Int(i.id),
                Cell::text(&i.received_on.to_string()),
                Cell::text(&i.due_on.to_string()),
                Cell::text(pick(ja, i.status.label_ja(), i.status.label_en())),
                Cell::Bool(i.is_overdue(today)),
                Cell::text(pick(ja, i.category.label_ja(), i.category.label_en())),
                Cell::text(pick(ja, i.channel.label_ja(), i.channel.label_en())),
                Cell::text(&i.org_name),
                i.member_id.map_or(Cell::Empty, Cell::Int),
                Cell::text(&i.subject),
                Cell::text(&i.content),
                Cell::text(&i.departments.join(", ")),
                Cell::text(&i.personal.name),
                Cell::text(&i.personal.email),
                Cell::text(&i.personal.phone),
                day(i.closed_on),
                day(i.erased_on),
            ]
        })
        .collect();
    citykpi_io::Sheet {
        name_ja: "相談".into(),
        name_en: "inquiries".into(),
        columns,
        rows,
    }
}

fn proposal_sheet(list: &[Proposal], ja: bool, desk: bool) -> citykpi_io::Sheet {
    use citykpi_io::Cell;
    let mut columns = vec![
        ("id", "提案番号", "id"),
        ("received_at", "受付日時", "received at"),
        ("title", "件名", "title"),
        ("proposer_name", "提案者", "proposer"),
        ("member_id", "会員番号", "member id"),
        ("theme_code", "テーマ", "theme"),
        ("summary", "概要", "summary"),
        ("kpi_codes", "寄与するKPI", "KPIs"),
        ("sdg_goals", "SDGs", "SDG goals"),
        ("stage", "段階", "stage"),
        ("score_kpi", "KPIへの寄与（0〜5）", "KPI contribution (0-5)"),
        ("score_total", "評価点（100点満点）", "score (of 100)"),
        ("decision_reason", "決定の理由", "decision reason"),
        (
            "publish_consent",
            "結果の公表への同意",
            "consent to publish",
        ),
    ];
    columns.push(("channel", "受付方法", "channel"));
    columns.push(("decided_at", "決定日時", "decided at"));
    if desk {
        columns.push(("contact_person", "担当者名", "contact person"));
        columns.push(("contact_phone", "電話番号", "phone"));
        columns.push(("contact_email", "連絡先メールアドレス", "contact e-mail"));
        columns.push(("contact_erased_on", "連絡先の消去日", "contact erased on"));
    }
    let rows = list
        .iter()
        .map(|p| {
            let mut row = vec![
                Cell::Int(p.id),
                Cell::text(&p.received_at),
                Cell::text(&p.title),
                Cell::text(&p.proposer_name),
                p.member_id.map_or(Cell::Empty, Cell::Int),
                Cell::text(p.theme_code.as_deref().unwrap_or("")),
                Cell::text(&p.summary),
                Cell::text(&p.kpi_codes.join(", ")),
                goals_cell(&p.sdg_goals),
                Cell::text(pick(ja, p.stage.label_ja(), p.stage.label_en())),
                p.rubric.as_ref().map_or(Cell::Empty, |r| {
                    Cell::Int(i64::from(r.score(Criterion::KpiContribution)))
                }),
                Cell::opt_num(p.rubric.as_ref().map(Rubric::total)),
                Cell::text(&p.decision_reason),
                Cell::Bool(p.publish_consent),
                Cell::text(pick(ja, p.channel.label_ja(), p.channel.label_en())),
                Cell::text(p.decided_at.as_deref().unwrap_or("")),
            ];
            if desk {
                row.push(Cell::text(&p.contact_person));
                row.push(Cell::text(&p.contact_phone));
                row.push(Cell::text(&p.contact_email));
                row.push(Cell::text(
                    &p.contact_erased_on
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                ));
            }
            row
        })
        .collect();
    citykpi_io::Sheet {
        name_ja: "民間提案".into(),
        name_en: "proposals".into(),
        columns,
        rows,
    }
}

// ----- demo -----

/// Replaces the partnerships with the demo city's (members, inquiries,
/// proposals, menu, demonstrations, PR plans), dated as of `today`.
pub async fn build_demo(
    store: &Store,
    seed: u64,
    scale: u32,
    kpis: &[(String, String)],
    today: Day,
) -> Result<usize> {
    let scale = scale.clamp(1, citykpi_demo::MAX_SCALE) as usize;
    let members = citykpi_demo::partners::MEMBERS_PER_SCALE * scale;
    let inquiries = citykpi_demo::partners::INQUIRIES_PER_SCALE * scale;
    build_demo_sized(store, seed, members, inquiries, kpis, today).await
}

/// [`build_demo`] with the number of members and inquiries given (the
/// benchmark's 10,000 and 50,000), through the same bulk paths.
pub async fn build_demo_sized(
    store: &Store,
    seed: u64,
    members: usize,
    inquiries: usize,
    kpis: &[(String, String)],
    today: Day,
) -> Result<usize> {
    let kpis = kpis.to_vec();
    let demo = tokio::task::spawn_blocking(move || {
        citykpi_demo::partners::generate_sized(seed, members, inquiries, today, &kpis)
    })
    .await
    .map_err(|e| PartnersError::NotFound(e.to_string()))?;
    store.clear_partners().await?;
    let ids = store.insert_members_bulk(&demo.members, "demo").await?;
    // A third of the inquiries come from members: link them to the record.
    let mut inquiries = demo.inquiries;
    for (n, i) in inquiries.iter_mut().enumerate().filter(|(n, _)| n % 3 == 0) {
        i.member_id = ids.get(n % ids.len().max(1)).copied();
    }
    store.insert_inquiries_bulk(&inquiries, "demo").await?;
    for p in &demo.proposals {
        store.insert_proposal(p, "demo").await?;
    }
    for m in &demo.menu {
        store.upsert_menu_item(m, "demo").await?;
    }
    for d in &demo.demonstrations {
        store.upsert_demonstration(d, "demo").await?;
    }
    for p in &demo.pr_plans {
        store.upsert_pr_plan(p, "demo").await?;
    }
    // A project team around each of the first demonstrations, with its partners.
    for (n, d) in demo.demonstrations.iter().take(3).enumerate() {
        let team = ProjectTeam {
            code: format!("TEAM-{:02}", n + 1),
            name: format!("{} チーム", d.title),
            goal: format!("{}の実装に向けて、効果をKPIで確かめる", d.title),
            member_ids: d
                .partner_ids
                .iter()
                .filter(|id| ids.contains(id))
                .copied()
                .collect(),
            section_codes: Vec::new(),
            kpi_codes: d.kpi_codes.clone(),
        };
        store.upsert_team(&team, "demo").await?;
        let entry = TeamEntry {
            team_code: team.code.clone(),
            on: d.start,
            kind: citykpi_domain::partner::projects::TeamEntryKind::Activity,
            body: "キックオフ会議を開催".into(),
            author: "demo".into(),
        };
        store.add_team_entry(&entry, "demo").await?;
    }
    Ok(ids.len() + inquiries.len())
}

/// SDG goals from checkbox values (for forms that pass them raw).
pub fn goals_label(goals: &[SdgGoal]) -> String {
    goals
        .iter()
        .map(|g| g.number().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_signature_matches_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let sig = line_signature("Jefe", b"what do ya want for nothing?");
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&sig)
            .unwrap();
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(line_signature_ok(
            "Jefe",
            b"what do ya want for nothing?",
            &sig
        ));
        assert!(!line_signature_ok(
            "Jefe",
            b"what do ya want for nothing!",
            &sig
        ));
        assert!(!line_signature_ok(
            "jefe",
            b"what do ya want for nothing?",
            &sig
        ));
        assert!(!line_signature_ok("Jefe", b"x", "not base64 !!"));
        assert!(!line_signature_ok("Jefe", b"x", ""));
    }

    #[test]
    fn keywords_split_titles() {
        assert_eq!(
            keywords("公園の見守りセンサー"),
            vec!["公園", "見守りセンサー"]
        );
        assert!(keywords("").is_empty());
        assert!(today().year() >= 2024);
    }
}
