//! Partnerships: members, the SDGs menu and participations, desk
//! inquiries with replies, proposals, demonstrations and PR plans. Every
//! staff change is one transaction with its audit row. Personal data
//! (contact person, e-mail, phone) never goes into the audit log: the log
//! outlives the retention period the desk promises.

use citykpi_domain::partner::attachment::{self, AttachmentInfo};
use citykpi_domain::partner::desk::{
    Channel, Inquiry, InquiryCategory, InquiryStatus, NewInquiry, Personal, Reply, check_reply,
};
use citykpi_domain::partner::matching::Candidate;
use citykpi_domain::partner::member::{
    Consent, Contact, Decision, Member, MemberStatus, NewMember, OrgSize, OrgType, Organisation,
    PublicField, PublicMember, decide,
};
use citykpi_domain::partner::menu::{MenuItem, MenuKind, Participation, ParticipationStatus};
use citykpi_domain::partner::projects::{
    Demonstration, PrPlan, ProjectTeam, TeamEntry, TeamEntryKind,
};
use citykpi_domain::partner::proposal::{
    NewProposal, Proposal, ProposalChannel, ProposalStage, Rubric, check_move,
};
use citykpi_domain::partner::{Day, Problem, Problems, SdgGoal};
use serde_json::json;

use crate::audit::{self, AuditRecord};
use crate::conn::{Conn, run};
use crate::{Store, StoreError, now_rfc3339};

/// What a partnership write can fail with.
#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The record or the move breaks a rule; every problem by field.
    #[error(transparent)]
    Invalid(#[from] Problems),
    #[error("{kind_ja}（{key}）が見つかりません / {kind} {key} not found")]
    NotFound {
        kind: &'static str,
        kind_ja: &'static str,
        key: String,
    },
}

impl From<sqlx::Error> for PartnerError {
    fn from(e: sqlx::Error) -> Self {
        PartnerError::Store(StoreError::Database(e))
    }
}

pub type PartnerResult<T> = Result<T, PartnerError>;

pub(crate) fn not_found(
    kind: &'static str,
    kind_ja: &'static str,
    key: impl ToString,
) -> PartnerError {
    PartnerError::NotFound {
        kind,
        kind_ja,
        key: key.to_string(),
    }
}

/// One page of a list and how many rows match in all.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page.max(1)).max(1)
    }
}

/// One run of the retention rule inside its transaction.
struct Retention<'a> {
    today: Day,
    retention_days: i64,
    actor: &'a str,
}

impl Retention<'_> {
    /// Finds the records (`select` binds `cutoff` as $1: what a record's
    /// date must fall before) and blanks each (`update` binds today as $1 and
    /// the id as $2) with an audit row that names the rule, never the
    /// erased values.
    async fn erase(
        &self,
        conn: &mut Conn<'_>,
        entity: &str,
        cutoff: &str,
        select: &str,
        update: &str,
    ) -> PartnerResult<Vec<i64>> {
        let ids: Vec<i64> = run!(
            conn,
            sqlx::query_scalar::<_, i64>(select).bind(cutoff),
            fetch_all
        )?;
        for id in &ids {
            run!(
                conn,
                sqlx::query(update).bind(self.today.to_string()).bind(id),
                execute
            )?;
            audit_in(
                conn,
                self.actor,
                "erase_personal",
                entity,
                &id.to_string(),
                None,
                Some(json!({ "retention_days": self.retention_days, "erased_on": self.today.to_string() })),
            )
            .await?;
        }
        Ok(ids)
    }
}

/// What one run of the retention rule erased: the ids of the records.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ErasedPersonal {
    pub inquiries: Vec<i64>,
    pub proposals: Vec<i64>,
}

impl ErasedPersonal {
    pub fn len(&self) -> usize {
        self.inquiries.len() + self.proposals.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Largest page a list serves.
pub const MAX_PER_PAGE: i64 = 200;

/// Most rows an export (CSV/XLSX of a whole list) reads.
pub const MAX_EXPORT_ROWS: i64 = 200_000;

pub(crate) fn clamp_page(page: i64, per_page: i64) -> (i64, i64, i64) {
    clamp_page_to(page, per_page, MAX_PER_PAGE)
}

pub(crate) fn clamp_page_to(page: i64, per_page: i64, max: i64) -> (i64, i64, i64) {
    let per = per_page.clamp(1, max);
    let page = page.clamp(1, 1_000_000);
    (page, per, (page - 1) * per)
}

// ----- list encodings -----

/// `[3, 7]` → `,3,7,` (framed so that `LIKE '%,7,%'` finds one element).
pub(crate) fn frame<I: IntoIterator<Item = S>, S: AsRef<str>>(items: I) -> String {
    let inner: Vec<String> = items.into_iter().map(|s| s.as_ref().to_string()).collect();
    if inner.is_empty() {
        String::new()
    } else {
        format!(",{},", inner.join(","))
    }
}

pub(crate) fn unframe(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

pub(crate) fn goals_text(goals: &[SdgGoal]) -> String {
    frame(goals.iter().map(|g| g.number().to_string()))
}

pub(crate) fn goals_of(s: &str) -> Vec<SdgGoal> {
    unframe(s)
        .iter()
        .filter_map(|x| x.parse().ok().and_then(SdgGoal::new))
        .collect()
}

/// Folds text for search: NFKC and lower case.
pub fn fold(s: &str) -> String {
    citykpi_domain::text::normalize(s).to_lowercase()
}

/// A LIKE pattern containing `q` literally (`%`, `_` and `\` escaped).
pub(crate) fn like_pattern(q: &str) -> String {
    let mut p = String::from("%");
    for ch in fold(q).chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

pub(crate) fn damaged(what: &str, key: impl ToString, value: &str) -> PartnerError {
    PartnerError::Store(StoreError::InvalidData {
        entity: crate::Entity::Dataset,
        key: key.to_string(),
        message: format!("{what}: {value}"),
    })
}

/// Runs a query with text binds on either backend.
macro_rules! query_binds {
    ($conn:expr, $row:ty, $sql:expr, $binds:expr, $method:ident) => {
        match $conn {
            Conn::Sqlite(c) => {
                let mut q = sqlx::query_as::<_, $row>($sql);
                for b in $binds {
                    q = q.bind(b);
                }
                q.$method(&mut **c).await
            }
            Conn::Pg(c) => {
                let mut q = sqlx::query_as::<_, $row>($sql);
                for b in $binds {
                    q = q.bind(b);
                }
                q.$method(&mut **c).await
            }
        }
    };
}
pub(crate) use query_binds;

// ----- members -----

#[derive(sqlx::FromRow)]
struct MemberRow {
    id: i64,
    name: String,
    org_type: String,
    org_size: Option<String>,
    postal_code: String,
    lg_code: String,
    address: String,
    website: String,
    contact_person: String,
    email: String,
    phone: String,
    sdg_goals: String,
    offers: String,
    publish: bool,
    public_fields: String,
    status: String,
    decision_reason: String,
    registered_at: String,
    decided_at: Option<String>,
    decided_by: Option<String>,
}

const MEMBER_COLUMNS: &str = "id, name, org_type, org_size, postal_code, lg_code, address, website, \
     contact_person, email, phone, sdg_goals, offers, publish, public_fields, status, \
     decision_reason, registered_at, decided_at, decided_by";

impl MemberRow {
    fn into_member(self) -> PartnerResult<Member> {
        let org_type = OrgType::parse(&self.org_type)
            .ok_or_else(|| damaged("org_type", self.id, &self.org_type))?;
        let status = MemberStatus::parse(&self.status)
            .ok_or_else(|| damaged("status", self.id, &self.status))?;
        Ok(Member {
            id: self.id,
            org: Organisation {
                name: self.name,
                org_type,
                size: self.org_size.as_deref().and_then(OrgSize::parse),
                postal_code: self.postal_code,
                lg_code: self.lg_code,
                address: self.address,
                website: self.website,
            },
            contact: Contact {
                person: self.contact_person,
                email: self.email,
                phone: self.phone,
            },
            sdg_goals: goals_of(&self.sdg_goals),
            offers: self.offers,
            consent: Consent {
                publish: self.publish,
                fields: unframe(&self.public_fields)
                    .iter()
                    .filter_map(|f| PublicField::parse(f))
                    .collect(),
            },
            status,
            decision_reason: self.decision_reason,
            registered_at: self.registered_at,
            decided_at: self.decided_at,
            decided_by: self.decided_by,
        })
    }
}

/// The member as the audit log keeps it: without the contact person's data.
fn member_audit(m: &Member) -> serde_json::Value {
    json!({
        "name": m.org.name,
        "org_type": m.org.org_type.code(),
        "lg_code": m.org.lg_code,
        "status": m.status.code(),
        "publish": m.consent.publish,
        "decision_reason": m.decision_reason,
    })
}

/// Which members a staff list shows.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    pub status: Option<MemberStatus>,
    /// Part of the name, the contact person or the e-mail address.
    pub q: String,
    pub page: i64,
    pub per_page: i64,
}

async fn member_in(conn: &mut Conn<'_>, id: i64) -> PartnerResult<Option<Member>> {
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM partner_members WHERE id = $1");
    let row: Option<MemberRow> = run!(
        conn,
        sqlx::query_as::<_, MemberRow>(&sql).bind(id),
        fetch_optional
    )?;
    row.map(MemberRow::into_member).transpose()
}

pub(crate) async fn audit_in(
    conn: &mut Conn<'_>,
    actor: &str,
    action: &str,
    entity: &str,
    key: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> PartnerResult<()> {
    audit::record(
        conn,
        &AuditRecord {
            actor,
            action,
            entity,
            key,
            before,
            after,
        },
    )
    .await?;
    Ok(())
}

async fn insert_member_in(
    conn: &mut Conn<'_>,
    m: &NewMember,
    status: MemberStatus,
) -> PartnerResult<i64> {
    let id: i64 = run!(
        conn,
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO partner_members (name, name_fold, org_type, org_size, postal_code, lg_code, \
             address, website, contact_person, email, phone, sdg_goals, offers, publish, public_fields, \
             status, decision_reason, registered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, '', $17) RETURNING id"
        )
        .bind(&m.org.name)
        .bind(fold(&m.org.name))
        .bind(m.org.org_type.code())
        .bind(m.org.size.map(|s| s.code()))
        .bind(&m.org.postal_code)
        .bind(&m.org.lg_code)
        .bind(&m.org.address)
        .bind(&m.org.website)
        .bind(&m.contact.person)
        .bind(&m.contact.email)
        .bind(&m.contact.phone)
        .bind(goals_text(&m.sdg_goals))
        .bind(&m.offers)
        .bind(m.consent.publish)
        .bind(frame(m.consent.fields.iter().map(|f| f.code())))
        .bind(status.code())
        .bind(now_rfc3339()),
        fetch_one
    )?;
    Ok(id)
}

impl Store {
    /// Stores a registration as a pending member (`actor` is "public" for the
    /// public form) and records it in the audit log.
    pub async fn insert_member(&self, m: &NewMember, actor: &str) -> PartnerResult<Member> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let id = insert_member_in(conn, m, MemberStatus::Pending).await?;
        let member = member_in(conn, id)
            .await?
            .ok_or_else(|| not_found("member", "会員", id))?;
        audit_in(
            conn,
            actor,
            "register",
            "partner_member",
            &id.to_string(),
            None,
            Some(member_audit(&member)),
        )
        .await?;
        tx.commit().await?;
        Ok(member)
    }

    /// Stores many members of a given status in one transaction with one
    /// audit row (the demo city and imports).
    pub async fn insert_members_bulk(
        &self,
        members: &[(NewMember, MemberStatus)],
        actor: &str,
    ) -> PartnerResult<Vec<i64>> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let mut ids = Vec::with_capacity(members.len());
        for (m, status) in members {
            ids.push(insert_member_in(conn, m, *status).await?);
        }
        audit_in(
            conn,
            actor,
            "bulk_insert",
            "partner_member",
            "",
            None,
            Some(json!({ "count": ids.len() })),
        )
        .await?;
        tx.commit().await?;
        self.refresh_statistics(&["partner_members"]).await?;
        Ok(ids)
    }

    pub async fn member(&self, id: i64) -> PartnerResult<Option<Member>> {
        member_in(&mut self.read_conn().await?.conn(), id).await
    }

    /// Members for staff, newest first.
    pub async fn members(&self, f: &MemberFilter) -> PartnerResult<Page<Member>> {
        self.members_upto(f, MAX_PER_PAGE).await
    }

    /// Every member the filter finds (its page is ignored), newest first, for exports.
    pub async fn members_for_export(&self, f: &MemberFilter) -> PartnerResult<Vec<Member>> {
        let all = MemberFilter {
            page: 1,
            per_page: MAX_EXPORT_ROWS,
            ..f.clone()
        };
        Ok(self.members_upto(&all, MAX_EXPORT_ROWS).await?.items)
    }

    async fn members_upto(&self, f: &MemberFilter, max: i64) -> PartnerResult<Page<Member>> {
        let (page, per, offset) = clamp_page_to(f.page, f.per_page, max);
        let mut wheres = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        if let Some(s) = f.status {
            binds.push(s.code().to_string());
            wheres.push(format!("status = ${}", binds.len()));
        }
        if !f.q.trim().is_empty() {
            binds.push(like_pattern(&f.q));
            let n = binds.len();
            wheres.push(format!(
                "(name_fold LIKE ${n} ESCAPE '\\' OR lower(contact_person) LIKE ${n} ESCAPE '\\' OR email LIKE ${n} ESCAPE '\\')"
            ));
        }
        let where_sql = if wheres.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", wheres.join(" AND "))
        };
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let count_sql = format!("SELECT COUNT(*) AS n FROM partner_members {where_sql}");
        let total: (i64,) = query_binds!(conn, (i64,), &count_sql, &binds, fetch_one)?;
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM partner_members {where_sql} ORDER BY id DESC LIMIT {per} OFFSET {offset}"
        );
        let rows: Vec<MemberRow> = query_binds!(conn, MemberRow, &sql, &binds, fetch_all)?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(MemberRow::into_member)
                .collect::<PartnerResult<_>>()?,
            total: total.0,
            page,
            per_page: per,
        })
    }

    /// The public directory: approved members who agreed to be listed, only
    /// their consented fields, by name. `q` searches the name.
    pub async fn public_members(
        &self,
        q: &str,
        page: i64,
        per_page: i64,
    ) -> PartnerResult<Page<PublicMember>> {
        let (page, per, offset) = clamp_page(page, per_page);
        let mut binds: Vec<String> = Vec::new();
        let mut where_sql = String::from("WHERE publish = TRUE AND status = 'approved'");
        if !q.trim().is_empty() {
            binds.push(like_pattern(q));
            where_sql.push_str(" AND name_fold LIKE $1 ESCAPE '\\'");
        }
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let count_sql = format!("SELECT COUNT(*) AS n FROM partner_members {where_sql}");
        let total: (i64,) = query_binds!(conn, (i64,), &count_sql, &binds, fetch_one)?;
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM partner_members {where_sql} ORDER BY name_fold, id LIMIT {per} OFFSET {offset}"
        );
        let rows: Vec<MemberRow> = query_binds!(conn, MemberRow, &sql, &binds, fetch_all)?;
        let mut items = Vec::with_capacity(rows.len());
        for r in rows {
            if let Some(p) = r.into_member()?.public_view() {
                items.push(p);
            }
        }
        Ok(Page {
            items,
            total: total.0,
            page,
            per_page: per,
        })
    }

    /// Approves or rejects a pending registration (one transaction with its audit row).
    pub async fn decide_member(
        &self,
        id: i64,
        decision: &Decision,
        actor: &str,
    ) -> PartnerResult<Member> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before = member_in(conn, id)
            .await?
            .ok_or_else(|| not_found("member", "会員", id))?;
        let (status, reason) = decide(before.status, decision)?;
        // Guarded by the status read above, so two staff deciding at once cannot both win.
        let n = run!(
            conn,
            sqlx::query(
                "UPDATE partner_members SET status = $1, decision_reason = $2, decided_at = $3, decided_by = $4 \
                 WHERE id = $5 AND status = 'pending'"
            )
            .bind(status.code())
            .bind(&reason)
            .bind(now_rfc3339())
            .bind(actor)
            .bind(id),
            execute
        )?;
        if n != 1 {
            return Err(Problems(vec![Problem::new(
                "status",
                "他の職員が先に審査しました",
                "someone else decided it first",
            )])
            .into());
        }
        let after = member_in(conn, id)
            .await?
            .ok_or_else(|| not_found("member", "会員", id))?;
        let action = match status {
            MemberStatus::Approved => "approve",
            _ => "reject",
        };
        audit_in(
            conn,
            actor,
            action,
            "partner_member",
            &id.to_string(),
            Some(member_audit(&before)),
            Some(member_audit(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Approved members as matching sees them, with their accepted or
    /// completed participations counted.
    pub async fn match_candidates(&self) -> PartnerResult<Vec<Candidate>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
            name: String,
            sdg_goals: String,
            offers: String,
            lg_code: String,
            past: i64,
        }
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let rows: Vec<Row> = run!(
            conn,
            sqlx::query_as::<_, Row>(
                "SELECT m.id, m.name, m.sdg_goals, m.offers, m.lg_code, \
                 (SELECT COUNT(*) FROM partner_participations p WHERE p.member_id = m.id \
                  AND p.status IN ('accepted', 'completed')) AS past \
                 FROM partner_members m WHERE m.status = 'approved' ORDER BY m.id"
            ),
            fetch_all
        )?;
        Ok(rows
            .into_iter()
            .map(|r| Candidate {
                member_id: r.id,
                name: r.name,
                sdg_goals: goals_of(&r.sdg_goals),
                offers: r.offers,
                lg_code: r.lg_code,
                past_participations: u32::try_from(r.past).unwrap_or(u32::MAX),
            })
            .collect())
    }

    // ----- SDGs contribution menu -----

    pub async fn upsert_menu_item(&self, item: &MenuItem, actor: &str) -> PartnerResult<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before = menu_items_in(conn, Some(&item.code))
            .await?
            .into_iter()
            .next();
        run!(
            conn,
            sqlx::query(
                "INSERT INTO partner_menu_items (code, title, kind, description, kpi_codes, sdg_goals, open) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO UPDATE SET title = excluded.title, \
                 kind = excluded.kind, description = excluded.description, kpi_codes = excluded.kpi_codes, \
                 sdg_goals = excluded.sdg_goals, open = excluded.open"
            )
            .bind(&item.code)
            .bind(&item.title)
            .bind(item.kind.code())
            .bind(&item.description)
            .bind(frame(&item.kpi_codes))
            .bind(goals_text(&item.sdg_goals))
            .bind(item.open),
            execute
        )?;
        let action = if before.is_some() { "update" } else { "insert" };
        audit_in(
            conn,
            actor,
            action,
            "partner_menu_item",
            &item.code,
            before.map(|b| json!(b)),
            Some(json!(item)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn menu_items(&self) -> PartnerResult<Vec<MenuItem>> {
        menu_items_in(&mut self.read_conn().await?.conn(), None).await
    }

    /// A member applies to a menu item (open items only, once per member).
    pub async fn apply_to_menu(
        &self,
        menu_code: &str,
        member_id: i64,
        note: &str,
        actor: &str,
    ) -> PartnerResult<Participation> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let item = menu_items_in(conn, Some(menu_code))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| not_found("menu item", "貢献メニュー", menu_code))?;
        let member = member_in(conn, member_id)
            .await?
            .ok_or_else(|| not_found("member", "会員", member_id))?;
        let mut problems = Vec::new();
        if !item.open {
            problems.push(Problem::new(
                "menu_code",
                "このメニューは募集していません",
                "this menu item is not open",
            ));
        }
        if member.status != MemberStatus::Approved {
            problems.push(Problem::new(
                "member_id",
                "承認された会員だけが申し込めます",
                "only approved members may apply",
            ));
        }
        let existing: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM partner_participations WHERE menu_code = $1 AND member_id = $2")
                .bind(menu_code)
                .bind(member_id),
            fetch_one
        )?;
        if existing > 0 {
            problems.push(Problem::new(
                "member_id",
                "すでに申し込まれています",
                "has already applied",
            ));
        }
        let note = citykpi_domain::text::normalize(note);
        if note.chars().count() > 2000 {
            problems.push(Problem::new(
                "note",
                "2000文字以内で入力してください",
                "must be at most 2000 characters",
            ));
        }
        if !problems.is_empty() {
            return Err(Problems(problems).into());
        }
        let id: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO partner_participations (menu_code, member_id, status, note, result, applied_at) \
                 VALUES ($1, $2, 'applied', $3, '', $4) RETURNING id"
            )
            .bind(menu_code)
            .bind(member_id)
            .bind(&note)
            .bind(now_rfc3339()),
            fetch_one
        )?;
        let p = Participation {
            id,
            menu_code: menu_code.to_string(),
            member_id,
            status: ParticipationStatus::Applied,
            note,
            result: String::new(),
        };
        audit_in(
            conn,
            actor,
            "apply",
            "partner_participation",
            &id.to_string(),
            None,
            Some(json!(p)),
        )
        .await?;
        tx.commit().await?;
        Ok(p)
    }

    /// Staff accept, decline or complete (with the result) a participation.
    pub async fn set_participation(
        &self,
        id: i64,
        to: ParticipationStatus,
        result: &str,
        actor: &str,
    ) -> PartnerResult<Participation> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before = participations_in(conn, None, Some(id))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| not_found("participation", "参加", id))?;
        if !before.status.can_move_to(to) {
            return Err(Problems(vec![Problem::new(
                "status",
                format!(
                    "{}から{}には進められません",
                    before.status.label_ja(),
                    to.label_ja()
                ),
                format!(
                    "cannot move from {} to {}",
                    before.status.label_en(),
                    to.label_en()
                ),
            )])
            .into());
        }
        let result = citykpi_domain::text::normalize(result);
        if to == ParticipationStatus::Completed && result.is_empty() {
            return Err(Problems(vec![Problem::new(
                "result",
                "完了には成果を記録してください",
                "record the result to complete it",
            )])
            .into());
        }
        run!(
            conn,
            sqlx::query("UPDATE partner_participations SET status = $1, result = $2 WHERE id = $3")
                .bind(to.code())
                .bind(&result)
                .bind(id),
            execute
        )?;
        let after = Participation {
            status: to,
            result,
            ..before.clone()
        };
        audit_in(
            conn,
            actor,
            "update",
            "partner_participation",
            &id.to_string(),
            Some(json!(before)),
            Some(json!(after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Participations of a menu item (or all with `None`), by id.
    pub async fn participations(
        &self,
        menu_code: Option<&str>,
    ) -> PartnerResult<Vec<Participation>> {
        participations_in(&mut self.read_conn().await?.conn(), menu_code, None).await
    }

    // ----- desk inquiries -----

    pub async fn insert_inquiry(&self, i: &NewInquiry, actor: &str) -> PartnerResult<Inquiry> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        if let Some(m) = i.member_id
            && member_in(conn, m).await?.is_none()
        {
            return Err(Problems(vec![Problem::new(
                "member_id",
                "その会員は登録されていません",
                "no such member",
            )])
            .into());
        }
        let id = insert_inquiry_in(conn, i, actor).await?;
        let stored = inquiry_in(conn, id)
            .await?
            .ok_or_else(|| not_found("inquiry", "相談", id))?;
        audit_in(
            conn,
            actor,
            "insert",
            "partner_inquiry",
            &id.to_string(),
            None,
            Some(inquiry_audit(&stored)),
        )
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    // ----- measurements from a city data platform -----

    /// Stores actuals read from a city data platform (NGSI-LD) in one
    /// transaction, upserting by (KPI, period, area), with one audit row
    /// (`action`, e.g. `ngsi_ld_import`) that says where they came from
    /// (`detail`) and what changed. A KPI that does not exist writes nothing.
    pub async fn record_measurements(
        &self,
        observations: &[citykpi_domain::observation::Observation],
        actor: &str,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<crate::Counts, StoreError> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let kpi_ids = crate::read::kpi_ids(conn).await?;
        let counts = crate::observations::write(conn, observations, &kpi_ids).await?;
        let mut kpis: Vec<&str> = observations.iter().map(|o| o.kpi_code.as_str()).collect();
        kpis.sort_unstable();
        kpis.dedup();
        let mut after = detail;
        if let Some(map) = after.as_object_mut() {
            map.insert("observations".into(), json!(counts));
        }
        audit::record(
            conn,
            &AuditRecord {
                actor,
                action,
                entity: crate::Entity::Observation.as_str(),
                key: &kpis.join(","),
                before: None,
                after: Some(after),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Several inquiries that arrived together (one LINE webhook call) in
    /// one transaction, each with its own audit row: all are stored or none.
    pub async fn insert_inquiries(
        &self,
        items: &[NewInquiry],
        actor: &str,
    ) -> PartnerResult<Vec<Inquiry>> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let mut out = Vec::with_capacity(items.len());
        for i in items {
            if let Some(m) = i.member_id
                && member_in(conn, m).await?.is_none()
            {
                return Err(Problems(vec![Problem::new(
                    "member_id",
                    "その会員は登録されていません",
                    "no such member",
                )])
                .into());
            }
            let id = insert_inquiry_in(conn, i, actor).await?;
            let stored = inquiry_in(conn, id)
                .await?
                .ok_or_else(|| not_found("inquiry", "相談", id))?;
            audit_in(
                conn,
                actor,
                "insert",
                "partner_inquiry",
                &id.to_string(),
                None,
                Some(inquiry_audit(&stored)),
            )
            .await?;
            out.push(stored);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Many inquiries in one transaction with one audit row (demo, imports).
    pub async fn insert_inquiries_bulk(
        &self,
        items: &[NewInquiry],
        actor: &str,
    ) -> PartnerResult<usize> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        for i in items {
            insert_inquiry_in(conn, i, actor).await?;
        }
        audit_in(
            conn,
            actor,
            "bulk_insert",
            "partner_inquiry",
            "",
            None,
            Some(json!({ "count": items.len() })),
        )
        .await?;
        tx.commit().await?;
        self.refresh_statistics(&["partner_inquiries"]).await?;
        Ok(items.len())
    }

    /// An inquiry with its reply history, oldest entry first.
    pub async fn inquiry(&self, id: i64) -> PartnerResult<Option<(Inquiry, Vec<Reply>)>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let Some(i) = inquiry_in(conn, id).await? else {
            return Ok(None);
        };
        let replies = replies_in(conn, id).await?;
        Ok(Some((i, replies)))
    }

    /// The desk's list: overdue first (by due date), then the other open
    /// ones, then answered, then closed; each by due date.
    pub async fn inquiries(&self, f: &InquiryFilter) -> PartnerResult<Page<Inquiry>> {
        self.inquiries_upto(f, MAX_PER_PAGE).await
    }

    /// Every inquiry the filter finds (its page is ignored), in the list's order, for exports.
    pub async fn inquiries_for_export(&self, f: &InquiryFilter) -> PartnerResult<Vec<Inquiry>> {
        let mut all = f.clone();
        all.page = 1;
        all.per_page = MAX_EXPORT_ROWS;
        Ok(self.inquiries_upto(&all, MAX_EXPORT_ROWS).await?.items)
    }

    async fn inquiries_upto(&self, f: &InquiryFilter, max: i64) -> PartnerResult<Page<Inquiry>> {
        let (page, per, offset) = clamp_page_to(f.page, f.per_page, max);
        let mut binds: Vec<String> = vec![f.today.to_string()];
        let mut wheres = Vec::new();
        if let Some(s) = f.status {
            binds.push(s.code().to_string());
            wheres.push(format!("status = ${}", binds.len()));
        }
        if f.overdue_only {
            wheres.push("status IN ('received', 'in_progress') AND due_on < $1".to_string());
        }
        if let Some(d) = &f.department {
            binds.push(format!("%,{d},%"));
            wheres.push(format!("departments LIKE ${}", binds.len()));
        }
        if !f.q.trim().is_empty() {
            binds.push(like_pattern(&f.q));
            let n = binds.len();
            // search_text is lower(subject) + newline + lower(org_name),
            // kept by the database (migration 20261206000200).
            wheres.push(format!("search_text LIKE ${n} ESCAPE '\\'"));
        }
        // $1 (today) is used by the ordering; a WHERE that does not use it still binds it.
        wheres.push("$1 = $1".to_string());
        let where_sql = format!("WHERE {}", wheres.join(" AND "));
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let count_sql = format!("SELECT COUNT(*) AS n FROM partner_inquiries {where_sql}");
        let total: (i64,) = query_binds!(conn, (i64,), &count_sql, &binds, fetch_one)?;
        // Open ones by due date put the overdue first without naming today, so
        // the order is the index partner_inquiries_desk_rank (desk_rank is
        // the database's own column: open 0, answered 2, closed 3); the
        // page's ids are found in it, then only those rows are read.
        let order = "desk_rank, due_on, id";
        let sql = format!(
            "SELECT {INQUIRY_COLUMNS} FROM partner_inquiries WHERE id IN \
             (SELECT id FROM partner_inquiries {where_sql} ORDER BY {order} LIMIT {per} OFFSET {offset}) \
             ORDER BY {order}"
        );
        let rows: Vec<InquiryRow> = query_binds!(conn, InquiryRow, &sql, &binds, fetch_all)?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(InquiryRow::into_inquiry)
                .collect::<PartnerResult<_>>()?,
            total: total.0,
            page,
            per_page: per,
        })
    }

    /// Adds a reply (or a note) and optionally moves the status, in one
    /// transaction with its audit row. Closing sets the closed day (the
    /// retention clock starts there).
    pub async fn reply_inquiry(
        &self,
        id: i64,
        to: Option<InquiryStatus>,
        body: &str,
        actor: &str,
        today: Day,
    ) -> PartnerResult<Inquiry> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before = inquiry_in(conn, id)
            .await?
            .ok_or_else(|| not_found("inquiry", "相談", id))?;
        let body = check_reply(before.status, to, body)?;
        if let Some(to) = to {
            let closed = (to == InquiryStatus::Closed).then(|| today.to_string());
            let n = run!(
                conn,
                sqlx::query("UPDATE partner_inquiries SET status = $1, closed_on = $2 WHERE id = $3 AND status = $4")
                    .bind(to.code())
                    .bind(closed)
                    .bind(id)
                    .bind(before.status.code()),
                execute
            )?;
            if n != 1 {
                return Err(Problems(vec![Problem::new(
                    "status",
                    "他の職員が先に更新しました",
                    "someone else changed it first",
                )])
                .into());
            }
        }
        run!(
            conn,
            sqlx::query("INSERT INTO partner_inquiry_replies (inquiry_id, at, author, body, status_after) VALUES ($1, $2, $3, $4, $5)")
                .bind(id)
                .bind(now_rfc3339())
                .bind(actor)
                .bind(&body)
                .bind(to.map(|s| s.code())),
            execute
        )?;
        let after = inquiry_in(conn, id)
            .await?
            .ok_or_else(|| not_found("inquiry", "相談", id))?;
        audit_in(
            conn,
            actor,
            "reply",
            "partner_inquiry",
            &id.to_string(),
            Some(inquiry_audit(&before)),
            Some(inquiry_audit(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Routes an inquiry to departments (replacing the previous routing).
    pub async fn route_inquiry(
        &self,
        id: i64,
        departments: &[String],
        actor: &str,
    ) -> PartnerResult<Inquiry> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before = inquiry_in(conn, id)
            .await?
            .ok_or_else(|| not_found("inquiry", "相談", id))?;
        let known: Vec<String> = run!(
            conn,
            sqlx::query_scalar::<_, String>("SELECT code FROM departments"),
            fetch_all
        )?;
        let unknown: Vec<&String> = departments.iter().filter(|d| !known.contains(d)).collect();
        if !unknown.is_empty() {
            return Err(Problems(
                unknown
                    .iter()
                    .map(|d| {
                        Problem::new(
                            "departments",
                            format!("部局「{d}」はありません"),
                            format!("there is no department \"{d}\""),
                        )
                    })
                    .collect(),
            )
            .into());
        }
        run!(
            conn,
            sqlx::query("UPDATE partner_inquiries SET departments = $1 WHERE id = $2")
                .bind(frame(departments))
                .bind(id),
            execute
        )?;
        let after = inquiry_in(conn, id)
            .await?
            .ok_or_else(|| not_found("inquiry", "相談", id))?;
        audit_in(
            conn,
            actor,
            "route",
            "partner_inquiry",
            &id.to_string(),
            Some(inquiry_audit(&before)),
            Some(inquiry_audit(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Erases personal data past the retention period, in one transaction:
    /// the person, e-mail and phone of inquiries closed more than
    /// `retention_days` before `today`, and the contact person, phone and
    /// e-mail of proposals rejected that long ago (an adopted one goes on to
    /// an agreement and keeps its contact). One audit row per record,
    /// without the erased values.
    pub async fn erase_expired_personal(
        &self,
        today: Day,
        retention_days: i64,
        actor: &str,
    ) -> PartnerResult<ErasedPersonal> {
        let cutoff = today.plus_days(-retention_days).to_string();
        // A decision's time is a UTC instant; the city's days are Japanese
        // (UTC+9), so the cutoff day starts at 15:00 UTC the day before.
        let cutoff_instant = format!("{}T15:00:00.000Z", today.plus_days(-retention_days - 1));
        let rule = Retention {
            today,
            retention_days,
            actor,
        };
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let inquiries = rule
            .erase(
                conn,
                "partner_inquiry",
                &cutoff,
                "SELECT id FROM partner_inquiries WHERE status = 'closed' AND closed_on < $1 AND erased_on IS NULL \
                 AND (person_name <> '' OR email <> '' OR phone <> '') ORDER BY id",
                "UPDATE partner_inquiries SET person_name = '', email = '', phone = '', erased_on = $1 WHERE id = $2",
            )
            .await?;
        let proposals = rule
            .erase(
                conn,
                "partner_proposal",
                &cutoff_instant,
                "SELECT id FROM partner_proposals WHERE stage = 'rejected' AND decided_at < $1 \
                 AND contact_erased_on IS NULL \
                 AND (contact_person <> '' OR contact_phone <> '' OR contact_email <> '') ORDER BY id",
                "UPDATE partner_proposals SET contact_person = '', contact_phone = '', contact_email = '', \
                 contact_erased_on = $1 WHERE id = $2",
            )
            .await?;
        tx.commit().await?;
        Ok(ErasedPersonal {
            inquiries,
            proposals,
        })
    }

    // ----- proposals -----

    pub async fn insert_proposal(&self, p: &NewProposal, actor: &str) -> PartnerResult<Proposal> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let id: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO partner_proposals (title, proposer_name, member_id, theme_code, summary, kpi_codes, \
                 sdg_goals, contact_email, publish_consent, stage, rubric, decision_reason, received_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'received', NULL, '', $10) RETURNING id"
            )
            .bind(&p.title)
            .bind(&p.proposer_name)
            .bind(p.member_id)
            .bind(&p.theme_code)
            .bind(&p.summary)
            .bind(frame(&p.kpi_codes))
            .bind(goals_text(&p.sdg_goals))
            .bind(&p.contact_email)
            .bind(p.publish_consent)
            .bind(now_rfc3339()),
            fetch_one
        )
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.message().to_lowercase().contains("foreign key") => {
                PartnerError::Invalid(Problems(vec![Problem::new("member_id", "その会員は登録されていません", "no such member")]))
            }
            _ => PartnerError::from(e),
        })?;
        let stored = proposal_in(conn, id)
            .await?
            .ok_or_else(|| not_found("proposal", "民間提案", id))?;
        audit_in(
            conn,
            actor,
            "insert",
            "partner_proposal",
            &id.to_string(),
            None,
            Some(proposal_audit(&stored)),
        )
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    pub async fn proposal(&self, id: i64) -> PartnerResult<Option<Proposal>> {
        proposal_in(&mut self.read_conn().await?.conn(), id).await
    }

    /// Proposals, newest first, optionally of one stage.
    pub async fn proposals(
        &self,
        stage: Option<ProposalStage>,
        page: i64,
        per_page: i64,
    ) -> PartnerResult<Page<Proposal>> {
        self.proposals_upto(stage, page, per_page, MAX_PER_PAGE)
            .await
    }

    /// Every proposal (of one stage), newest first, for exports.
    pub async fn proposals_for_export(
        &self,
        stage: Option<ProposalStage>,
    ) -> PartnerResult<Vec<Proposal>> {
        Ok(self
            .proposals_upto(stage, 1, MAX_EXPORT_ROWS, MAX_EXPORT_ROWS)
            .await?
            .items)
    }

    async fn proposals_upto(
        &self,
        stage: Option<ProposalStage>,
        page: i64,
        per_page: i64,
        max: i64,
    ) -> PartnerResult<Page<Proposal>> {
        let (page, per, offset) = clamp_page_to(page, per_page, max);
        let binds: Vec<String> = stage.map(|s| s.code().to_string()).into_iter().collect();
        let where_sql = if binds.is_empty() {
            ""
        } else {
            "WHERE stage = $1"
        };
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let count_sql = format!("SELECT COUNT(*) AS n FROM partner_proposals {where_sql}");
        let total: (i64,) = query_binds!(conn, (i64,), &count_sql, &binds, fetch_one)?;
        let sql = format!(
            "SELECT {PROPOSAL_COLUMNS} FROM partner_proposals {where_sql} ORDER BY id DESC LIMIT {per} OFFSET {offset}"
        );
        let rows: Vec<ProposalRow> = query_binds!(conn, ProposalRow, &sql, &binds, fetch_all)?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(ProposalRow::into_proposal)
                .collect::<PartnerResult<_>>()?,
            total: total.0,
            page,
            per_page: per,
        })
    }

    pub async fn score_proposal(
        &self,
        id: i64,
        rubric: &Rubric,
        actor: &str,
    ) -> PartnerResult<Proposal> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before = proposal_in(conn, id)
            .await?
            .ok_or_else(|| not_found("proposal", "民間提案", id))?;
        if !matches!(
            before.stage,
            ProposalStage::Dialogue | ProposalStage::Review
        ) {
            return Err(Problems(vec![Problem::new(
                "stage",
                "採点できるのは対話・検討中の提案だけです",
                "only proposals in dialogue or review are scored",
            )])
            .into());
        }
        let text = rubric
            .scores
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(",");
        run!(
            conn,
            sqlx::query("UPDATE partner_proposals SET rubric = $1 WHERE id = $2")
                .bind(text)
                .bind(id),
            execute
        )?;
        let after = proposal_in(conn, id)
            .await?
            .ok_or_else(|| not_found("proposal", "民間提案", id))?;
        audit_in(
            conn,
            actor,
            "score",
            "partner_proposal",
            &id.to_string(),
            Some(proposal_audit(&before)),
            Some(proposal_audit(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Moves a proposal along the pipeline (rules in `proposal::check_move`).
    pub async fn move_proposal(
        &self,
        id: i64,
        to: ProposalStage,
        reason: &str,
        actor: &str,
    ) -> PartnerResult<Proposal> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before = proposal_in(conn, id)
            .await?
            .ok_or_else(|| not_found("proposal", "民間提案", id))?;
        let reason = check_move(&before, to, reason)?;
        let keep_reason = if to.is_decision() {
            reason.clone()
        } else {
            before.decision_reason.clone()
        };
        // A decision (採択 / 不採択) carries its time; other moves keep the
        // last one (a decision reopened for review still shows when it was made).
        let n = run!(
            conn,
            sqlx::query(
                "UPDATE partner_proposals SET stage = $1, decision_reason = $2, \
                 decided_at = COALESCE($5, decided_at) WHERE id = $3 AND stage = $4"
            )
            .bind(to.code())
            .bind(&keep_reason)
            .bind(id)
            .bind(before.stage.code())
            .bind(to.is_decision().then(crate::audit::now_rfc3339)),
            execute
        )?;
        if n != 1 {
            return Err(Problems(vec![Problem::new(
                "stage",
                "他の職員が先に更新しました",
                "someone else changed it first",
            )])
            .into());
        }
        let after = proposal_in(conn, id)
            .await?
            .ok_or_else(|| not_found("proposal", "民間提案", id))?;
        let mut after_json = proposal_audit(&after);
        after_json["note"] = json!(reason);
        audit_in(
            conn,
            actor,
            "move",
            "partner_proposal",
            &id.to_string(),
            Some(proposal_audit(&before)),
            Some(after_json),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    // ----- proposal attachments -----

    /// Stores a checked file with a proposal (one transaction with its audit row).
    pub async fn add_attachment(
        &self,
        proposal_id: i64,
        raw_name: &str,
        bytes: &[u8],
        actor: &str,
    ) -> PartnerResult<AttachmentInfo> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        if proposal_in(conn, proposal_id).await?.is_none() {
            return Err(not_found("proposal", "民間提案", proposal_id));
        }
        let existing: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM partner_attachments WHERE proposal_id = $1"
            )
            .bind(proposal_id),
            fetch_one
        )?;
        let checked = attachment::check(
            raw_name,
            bytes,
            usize::try_from(existing).unwrap_or(usize::MAX),
        )?;
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let id: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO partner_attachments (proposal_id, file_name, media_type, size, content, uploaded_at, uploaded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
            )
            .bind(proposal_id)
            .bind(&checked.file_name)
            .bind(checked.kind.media_type())
            .bind(size)
            .bind(bytes)
            .bind(now_rfc3339())
            .bind(actor),
            fetch_one
        )?;
        let info = attachments_in(conn, Some(proposal_id), Some(id))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| not_found("attachment", "添付ファイル", id))?;
        audit_in(
            conn,
            actor,
            "attach",
            "partner_proposal",
            &proposal_id.to_string(),
            None,
            Some(json!(info)),
        )
        .await?;
        tx.commit().await?;
        Ok(info)
    }

    /// The attachments of a proposal (without their content), by id.
    pub async fn attachments(&self, proposal_id: i64) -> PartnerResult<Vec<AttachmentInfo>> {
        attachments_in(&mut self.read_conn().await?.conn(), Some(proposal_id), None).await
    }

    /// One attachment with its content.
    pub async fn attachment(&self, id: i64) -> PartnerResult<Option<(AttachmentInfo, Vec<u8>)>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let Some(info) = attachments_in(conn, None, Some(id))
            .await?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let content: Vec<u8> = run!(
            conn,
            sqlx::query_scalar::<_, Vec<u8>>(
                "SELECT content FROM partner_attachments WHERE id = $1"
            )
            .bind(id),
            fetch_one
        )?;
        Ok(Some((info, content)))
    }

    // ----- demonstrations and PR plans -----

    pub async fn upsert_demonstration(&self, d: &Demonstration, actor: &str) -> PartnerResult<()> {
        let body = serde_json::to_string(d)
            .map_err(|e| damaged("demonstration", &d.code, &e.to_string()))?;
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before: Option<String> = run!(
            conn,
            sqlx::query_scalar::<_, String>(
                "SELECT body FROM partner_demonstrations WHERE code = $1"
            )
            .bind(&d.code),
            fetch_optional
        )?;
        if let Some(old) = before
            .as_deref()
            .and_then(|b| serde_json::from_str::<Demonstration>(b).ok())
            && old.stage != d.stage
            && !old.stage.can_move_to(d.stage)
        {
            return Err(Problems(vec![Problem::new(
                "stage",
                format!(
                    "{}から{}には進められません",
                    old.stage.label_ja(),
                    d.stage.label_ja()
                ),
                format!(
                    "cannot move from {} to {}",
                    old.stage.label_en(),
                    d.stage.label_en()
                ),
            )])
            .into());
        }
        run!(
            conn,
            sqlx::query(
                "INSERT INTO partner_demonstrations (code, field, stage, body) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO UPDATE SET field = excluded.field, stage = excluded.stage, body = excluded.body"
            )
            .bind(&d.code)
            .bind(d.field.code())
            .bind(d.stage.code())
            .bind(&body),
            execute
        )?;
        let action = if before.is_some() { "update" } else { "insert" };
        let before_json = before.and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok());
        audit_in(
            conn,
            actor,
            action,
            "partner_demonstration",
            &d.code,
            before_json,
            Some(json!(d)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn demonstrations(&self) -> PartnerResult<Vec<Demonstration>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let bodies: Vec<(String, String)> = run!(
            conn,
            sqlx::query_as::<_, (String, String)>(
                "SELECT code, body FROM partner_demonstrations ORDER BY code"
            ),
            fetch_all
        )?;
        bodies
            .into_iter()
            .map(|(code, b)| {
                serde_json::from_str(&b).map_err(|e| damaged("demonstration", code, &e.to_string()))
            })
            .collect()
    }

    pub async fn upsert_pr_plan(&self, p: &PrPlan, actor: &str) -> PartnerResult<()> {
        let body =
            serde_json::to_string(p).map_err(|e| damaged("pr_plan", &p.code, &e.to_string()))?;
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let before: Option<String> = run!(
            conn,
            sqlx::query_scalar::<_, String>("SELECT body FROM partner_pr_plans WHERE code = $1")
                .bind(&p.code),
            fetch_optional
        )?;
        run!(
            conn,
            sqlx::query(
                "INSERT INTO partner_pr_plans (code, start_on, end_on, body) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO UPDATE SET start_on = excluded.start_on, end_on = excluded.end_on, body = excluded.body"
            )
            .bind(&p.code)
            .bind(p.start.to_string())
            .bind(p.end.to_string())
            .bind(&body),
            execute
        )?;
        let action = if before.is_some() { "update" } else { "insert" };
        let before_json = before.and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok());
        audit_in(
            conn,
            actor,
            action,
            "partner_pr_plan",
            &p.code,
            before_json,
            Some(json!(p)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// PR plans overlapping `from..=to` (the calendar), by start.
    pub async fn pr_plans_between(&self, from: Day, to: Day) -> PartnerResult<Vec<PrPlan>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let bodies: Vec<(String, String)> = run!(
            conn,
            sqlx::query_as::<_, (String, String)>(
                "SELECT code, body FROM partner_pr_plans WHERE start_on <= $1 AND end_on >= $2 ORDER BY start_on, code"
            )
            .bind(to.to_string())
            .bind(from.to_string()),
            fetch_all
        )?;
        bodies
            .into_iter()
            .map(|(code, b)| {
                serde_json::from_str(&b).map_err(|e| damaged("pr_plan", code, &e.to_string()))
            })
            .collect()
    }

    // ----- project teams -----

    /// Stores a team (by code) with its audit row; every member it names must exist.
    pub async fn upsert_team(&self, t: &ProjectTeam, actor: &str) -> PartnerResult<()> {
        let body =
            serde_json::to_string(t).map_err(|e| damaged("team", &t.code, &e.to_string()))?;
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let mut problems = Vec::new();
        for id in &t.member_ids {
            if member_in(conn, *id).await?.is_none() {
                problems.push(Problem::new(
                    "member_ids",
                    format!("会員 {id} は登録されていません"),
                    format!("no member {id}"),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(Problems(problems).into());
        }
        let before: Option<String> = run!(
            conn,
            sqlx::query_scalar::<_, String>("SELECT body FROM partner_teams WHERE code = $1")
                .bind(&t.code),
            fetch_optional
        )?;
        run!(
            conn,
            sqlx::query(
                "INSERT INTO partner_teams (code, body) VALUES ($1, $2) \
                 ON CONFLICT (code) DO UPDATE SET body = excluded.body"
            )
            .bind(&t.code)
            .bind(&body),
            execute
        )?;
        let action = if before.is_some() { "update" } else { "insert" };
        let before_json = before.and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok());
        audit_in(
            conn,
            actor,
            action,
            "partner_team",
            &t.code,
            before_json,
            Some(json!(t)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn teams(&self) -> PartnerResult<Vec<ProjectTeam>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let bodies: Vec<(String, String)> = run!(
            conn,
            sqlx::query_as::<_, (String, String)>(
                "SELECT code, body FROM partner_teams ORDER BY code"
            ),
            fetch_all
        )?;
        bodies
            .into_iter()
            .map(|(code, b)| {
                serde_json::from_str(&b).map_err(|e| damaged("team", code, &e.to_string()))
            })
            .collect()
    }

    /// Appends an entry to a team's log, with its audit row.
    pub async fn add_team_entry(&self, e: &TeamEntry, actor: &str) -> PartnerResult<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let exists: Option<String> = run!(
            conn,
            sqlx::query_scalar::<_, String>("SELECT code FROM partner_teams WHERE code = $1")
                .bind(&e.team_code),
            fetch_optional
        )?;
        if exists.is_none() {
            return Err(not_found("team", "プロジェクトチーム", &e.team_code));
        }
        run!(
            conn,
            sqlx::query(
                "INSERT INTO partner_team_log (team_code, on_day, kind, body, author, at) \
                 VALUES ($1, $2, $3, $4, $5, $6)"
            )
            .bind(&e.team_code)
            .bind(e.on.to_string())
            .bind(e.kind.code())
            .bind(&e.body)
            .bind(&e.author)
            .bind(now_rfc3339()),
            execute
        )?;
        audit_in(
            conn,
            actor,
            "log",
            "partner_team",
            &e.team_code,
            None,
            Some(json!(e)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A team's log, oldest first.
    pub async fn team_entries(&self, code: &str) -> PartnerResult<Vec<TeamEntry>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let rows: Vec<(String, String, String, String)> = run!(
            conn,
            sqlx::query_as::<_, (String, String, String, String)>(
                "SELECT on_day, kind, body, author FROM partner_team_log WHERE team_code = $1 ORDER BY on_day, id"
            )
            .bind(code),
            fetch_all
        )?;
        rows.into_iter()
            .map(|(on, kind, body, author)| {
                let bad = |what: &str| damaged("team log", code, what);
                Ok(TeamEntry {
                    team_code: code.to_string(),
                    on: Day::parse(&on).ok_or_else(|| bad(&on))?,
                    kind: TeamEntryKind::parse(&kind).ok_or_else(|| bad(&kind))?,
                    body,
                    author,
                })
            })
            .collect()
    }

    /// Deletes every partnership row (used before the demo city's partners
    /// are written again; `clear_all` leaves these tables alone).
    pub async fn clear_partners(&self) -> PartnerResult<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        for table in [
            "partner_inquiry_replies",
            "partner_inquiries",
            "partner_participations",
            "partner_menu_items",
            "partner_attachments",
            "partner_proposals",
            "partner_demonstrations",
            "partner_pr_plans",
            "partner_team_log",
            "partner_teams",
            "partner_members",
        ] {
            run!(conn, sqlx::query(&format!("DELETE FROM {table}")), execute)?;
        }
        tx.commit().await?;
        Ok(())
    }
}

// ----- attachment helpers -----

async fn attachments_in(
    conn: &mut Conn<'_>,
    proposal_id: Option<i64>,
    id: Option<i64>,
) -> PartnerResult<Vec<AttachmentInfo>> {
    let rows: Vec<(i64, i64, String, String, i64, String, String)> = run!(
        conn,
        sqlx::query_as::<_, (i64, i64, String, String, i64, String, String)>(
            "SELECT id, proposal_id, file_name, media_type, size, uploaded_at, uploaded_by FROM partner_attachments \
             WHERE ($1 IS NULL OR proposal_id = $1) AND ($2 IS NULL OR id = $2) ORDER BY id"
        )
        .bind(proposal_id)
        .bind(id),
        fetch_all
    )?;
    Ok(rows
        .into_iter()
        .map(
            |(id, proposal_id, file_name, media_type, size, uploaded_at, uploaded_by)| {
                AttachmentInfo {
                    id,
                    proposal_id,
                    file_name,
                    media_type,
                    size,
                    uploaded_at,
                    uploaded_by,
                }
            },
        )
        .collect())
}

// ----- menu helpers -----

#[derive(sqlx::FromRow)]
struct MenuRow {
    code: String,
    title: String,
    kind: String,
    description: String,
    kpi_codes: String,
    sdg_goals: String,
    open: bool,
}

async fn menu_items_in(conn: &mut Conn<'_>, code: Option<&str>) -> PartnerResult<Vec<MenuItem>> {
    let rows: Vec<MenuRow> = run!(
        conn,
        sqlx::query_as::<_, MenuRow>(
            "SELECT code, title, kind, description, kpi_codes, sdg_goals, open FROM partner_menu_items \
             WHERE ($1 IS NULL OR code = $1) ORDER BY code"
        )
        .bind(code),
        fetch_all
    )?;
    rows.into_iter()
        .map(|r| {
            Ok(MenuItem {
                kind: MenuKind::parse(&r.kind).ok_or_else(|| damaged("kind", &r.code, &r.kind))?,
                kpi_codes: unframe(&r.kpi_codes),
                sdg_goals: goals_of(&r.sdg_goals),
                code: r.code,
                title: r.title,
                description: r.description,
                open: r.open,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct ParticipationRow {
    id: i64,
    menu_code: String,
    member_id: i64,
    status: String,
    note: String,
    result: String,
}

async fn participations_in(
    conn: &mut Conn<'_>,
    menu_code: Option<&str>,
    id: Option<i64>,
) -> PartnerResult<Vec<Participation>> {
    let rows: Vec<ParticipationRow> = run!(
        conn,
        sqlx::query_as::<_, ParticipationRow>(
            "SELECT id, menu_code, member_id, status, note, result FROM partner_participations \
             WHERE ($1 IS NULL OR menu_code = $1) AND ($2 IS NULL OR id = $2) ORDER BY id"
        )
        .bind(menu_code)
        .bind(id),
        fetch_all
    )?;
    rows.into_iter()
        .map(|r| {
            Ok(Participation {
                status: ParticipationStatus::parse(&r.status)
                    .ok_or_else(|| damaged("status", r.id, &r.status))?,
                id: r.id,
                menu_code: r.menu_code,
                member_id: r.member_id,
                note: r.note,
                result: r.result,
            })
        })
        .collect()
}

// ----- inquiry helpers -----

/// Which inquiries a desk list shows.
#[derive(Debug, Clone)]
pub struct InquiryFilter {
    /// The day "overdue" is judged on.
    pub today: Day,
    pub status: Option<InquiryStatus>,
    pub overdue_only: bool,
    /// Only those routed to this department.
    pub department: Option<String>,
    pub q: String,
    pub page: i64,
    pub per_page: i64,
}

impl InquiryFilter {
    pub fn new(today: Day) -> InquiryFilter {
        InquiryFilter {
            today,
            status: None,
            overdue_only: false,
            department: None,
            q: String::new(),
            page: 1,
            per_page: 50,
        }
    }
}

const INQUIRY_COLUMNS: &str = "id, category, channel, status, org_name, member_id, subject, content, person_name, \
     email, phone, departments, received_on, due_on, closed_on, erased_on";

#[derive(sqlx::FromRow)]
struct InquiryRow {
    id: i64,
    category: String,
    channel: String,
    status: String,
    org_name: String,
    member_id: Option<i64>,
    subject: String,
    content: String,
    person_name: String,
    email: String,
    phone: String,
    departments: String,
    received_on: String,
    due_on: String,
    closed_on: Option<String>,
    erased_on: Option<String>,
}

impl InquiryRow {
    fn into_inquiry(self) -> PartnerResult<Inquiry> {
        let id = self.id;
        let day = |s: &str| Day::parse(s).ok_or_else(|| damaged("date", id, s));
        Ok(Inquiry {
            id,
            category: InquiryCategory::parse(&self.category)
                .ok_or_else(|| damaged("category", id, &self.category))?,
            channel: Channel::parse(&self.channel)
                .ok_or_else(|| damaged("channel", id, &self.channel))?,
            status: InquiryStatus::parse(&self.status)
                .ok_or_else(|| damaged("status", id, &self.status))?,
            org_name: self.org_name,
            member_id: self.member_id,
            subject: self.subject,
            content: self.content,
            personal: Personal {
                name: self.person_name,
                email: self.email,
                phone: self.phone,
            },
            departments: unframe(&self.departments),
            received_on: day(&self.received_on)?,
            due_on: day(&self.due_on)?,
            closed_on: self.closed_on.as_deref().map(day).transpose()?,
            erased_on: self.erased_on.as_deref().map(day).transpose()?,
        })
    }
}

/// The inquiry as the audit log keeps it: without personal fields.
fn inquiry_audit(i: &Inquiry) -> serde_json::Value {
    json!({
        "status": i.status.code(),
        "category": i.category.code(),
        "subject": i.subject,
        "departments": i.departments,
        "due_on": i.due_on.to_string(),
        "closed_on": i.closed_on.map(|d| d.to_string()),
    })
}

async fn insert_inquiry_in(conn: &mut Conn<'_>, i: &NewInquiry, actor: &str) -> PartnerResult<i64> {
    Ok(run!(
        conn,
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO partner_inquiries (category, channel, status, org_name, member_id, subject, content, \
             person_name, email, phone, departments, received_on, due_on, created_by) \
             VALUES ($1, $2, 'received', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id"
        )
        .bind(i.category.code())
        .bind(i.channel.code())
        .bind(&i.org_name)
        .bind(i.member_id)
        .bind(&i.subject)
        .bind(&i.content)
        .bind(&i.personal.name)
        .bind(&i.personal.email)
        .bind(&i.personal.phone)
        .bind(frame(&i.departments))
        .bind(i.received_on.to_string())
        .bind(i.due_on.to_string())
        .bind(actor),
        fetch_one
    )?)
}

async fn inquiry_in(conn: &mut Conn<'_>, id: i64) -> PartnerResult<Option<Inquiry>> {
    let sql = format!("SELECT {INQUIRY_COLUMNS} FROM partner_inquiries WHERE id = $1");
    let row: Option<InquiryRow> = run!(
        conn,
        sqlx::query_as::<_, InquiryRow>(&sql).bind(id),
        fetch_optional
    )?;
    row.map(InquiryRow::into_inquiry).transpose()
}

async fn replies_in(conn: &mut Conn<'_>, id: i64) -> PartnerResult<Vec<Reply>> {
    let rows: Vec<(String, String, String, Option<String>)> = run!(
        conn,
        sqlx::query_as::<_, (String, String, String, Option<String>)>(
            "SELECT at, author, body, status_after FROM partner_inquiry_replies WHERE inquiry_id = $1 ORDER BY id"
        )
        .bind(id),
        fetch_all
    )?;
    Ok(rows
        .into_iter()
        .map(|(at, author, body, status)| Reply {
            at,
            author,
            body,
            status_after: status.as_deref().and_then(InquiryStatus::parse),
        })
        .collect())
}

// ----- proposal helpers -----

const PROPOSAL_COLUMNS: &str = "id, title, proposer_name, member_id, theme_code, summary, kpi_codes, sdg_goals, \
     contact_email, contact_person, contact_phone, channel, publish_consent, stage, rubric, decision_reason, \
     received_at, decided_at, contact_erased_on";

#[derive(sqlx::FromRow)]
struct ProposalRow {
    id: i64,
    title: String,
    proposer_name: String,
    member_id: Option<i64>,
    theme_code: Option<String>,
    summary: String,
    kpi_codes: String,
    sdg_goals: String,
    contact_email: String,
    contact_person: String,
    contact_phone: String,
    channel: String,
    publish_consent: bool,
    stage: String,
    rubric: Option<String>,
    decision_reason: String,
    received_at: String,
    decided_at: Option<String>,
    contact_erased_on: Option<String>,
}

impl ProposalRow {
    fn into_proposal(self) -> PartnerResult<Proposal> {
        let rubric = match self.rubric.as_deref() {
            None => None,
            Some(text) => {
                let scores: Vec<u8> = text.split(',').filter_map(|s| s.parse().ok()).collect();
                let scores: [u8; 5] = scores
                    .try_into()
                    .map_err(|_| damaged("rubric", self.id, text))?;
                Some(Rubric { scores })
            }
        };
        Ok(Proposal {
            stage: ProposalStage::parse(&self.stage)
                .ok_or_else(|| damaged("stage", self.id, &self.stage))?,
            id: self.id,
            title: self.title,
            proposer_name: self.proposer_name,
            member_id: self.member_id,
            theme_code: self.theme_code,
            summary: self.summary,
            kpi_codes: unframe(&self.kpi_codes),
            sdg_goals: goals_of(&self.sdg_goals),
            contact_email: self.contact_email,
            contact_person: self.contact_person,
            contact_phone: self.contact_phone,
            channel: ProposalChannel::parse(&self.channel)
                .ok_or_else(|| damaged("channel", self.id, &self.channel))?,
            publish_consent: self.publish_consent,
            rubric,
            decision_reason: self.decision_reason,
            received_at: self.received_at,
            decided_at: self.decided_at,
            contact_erased_on: self
                .contact_erased_on
                .as_deref()
                .map(|d| Day::parse(d).ok_or_else(|| damaged("contact_erased_on", self.id, d)))
                .transpose()?,
        })
    }
}

fn proposal_audit(p: &Proposal) -> serde_json::Value {
    json!({
        "title": p.title,
        "proposer_name": p.proposer_name,
        "stage": p.stage.code(),
        "rubric": p.rubric.map(|r| r.scores),
        "kpi_codes": p.kpi_codes,
        "decision_reason": p.decision_reason,
    })
}

async fn proposal_in(conn: &mut Conn<'_>, id: i64) -> PartnerResult<Option<Proposal>> {
    let sql = format!("SELECT {PROPOSAL_COLUMNS} FROM partner_proposals WHERE id = $1");
    let row: Option<ProposalRow> = run!(
        conn,
        sqlx::query_as::<_, ProposalRow>(&sql).bind(id),
        fetch_optional
    )?;
    row.map(ProposalRow::into_proposal).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_patterns() {
        assert_eq!(frame(["3", "7"]), ",3,7,");
        assert_eq!(frame(Vec::<String>::new()), "");
        assert_eq!(unframe(",3,7,"), vec!["3", "7"]);
        assert_eq!(like_pattern("50%_Ｏff\\"), "%50\\%\\_off\\\\%");
        assert_eq!(clamp_page(0, 100_000), (1, MAX_PER_PAGE, 0));
        assert_eq!(clamp_page(3, 10), (3, 10, 20));
    }
}

// ----- SDGs menu: members applying themselves, dated results -----

#[derive(sqlx::FromRow)]
struct ParticipationResultRow {
    id: i64,
    participation_id: i64,
    on_day: String,
    body: String,
    recorded_by: String,
}

impl ParticipationResultRow {
    fn into_result(self) -> PartnerResult<citykpi_domain::partner::menu::ParticipationResult> {
        Ok(citykpi_domain::partner::menu::ParticipationResult {
            on: Day::parse(&self.on_day).ok_or_else(|| damaged("on_day", self.id, &self.on_day))?,
            id: self.id,
            participation_id: self.participation_id,
            body: self.body,
            recorded_by: self.recorded_by,
        })
    }
}

impl Store {
    /// One menu item by its code.
    pub async fn menu_item(&self, code: &str) -> PartnerResult<Option<MenuItem>> {
        Ok(
            menu_items_in(&mut self.read_conn().await?.conn(), Some(code))
                .await?
                .into_iter()
                .next(),
        )
    }

    /// One participation by its id.
    pub async fn participation(&self, id: i64) -> PartnerResult<Option<Participation>> {
        Ok(
            participations_in(&mut self.read_conn().await?.conn(), None, Some(id))
                .await?
                .into_iter()
                .next(),
        )
    }

    /// The status of the member whose number and registered e-mail address
    /// (compared without case) are these, or `None` when no member has both:
    /// one query either way, so an unknown number and a wrong address look
    /// alike from outside.
    pub async fn member_status_by_credentials(
        &self,
        id: i64,
        email: &str,
    ) -> PartnerResult<Option<MemberStatus>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let status: Option<String> = run!(
            conn,
            sqlx::query_scalar::<_, String>(
                "SELECT status FROM partner_members WHERE id = $1 AND lower(email) = $2"
            )
            .bind(id)
            .bind(email.to_lowercase()),
            fetch_optional
        )?;
        status
            .map(|s| MemberStatus::parse(&s).ok_or_else(|| damaged("status", id, &s)))
            .transpose()
    }

    /// Records a dated result of an accepted or completed participation, in
    /// one transaction with its audit row.
    pub async fn add_participation_result(
        &self,
        participation_id: i64,
        on: Day,
        body: &str,
        actor: &str,
    ) -> PartnerResult<citykpi_domain::partner::menu::ParticipationResult> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let p = participations_in(conn, None, Some(participation_id))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| not_found("participation", "参加", participation_id))?;
        if !matches!(
            p.status,
            ParticipationStatus::Accepted | ParticipationStatus::Completed
        ) {
            return Err(Problems(vec![Problem::new(
                "body",
                format!(
                    "成果は受入または完了の参加にだけ記録できます（現在は{}）",
                    p.status.label_ja()
                ),
                format!(
                    "results are recorded for accepted or completed participations only (this one is {})",
                    p.status.label_en()
                ),
            )])
            .into());
        }
        let id: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO partner_participation_results (participation_id, on_day, body, recorded_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id"
            )
            .bind(participation_id)
            .bind(on.to_string())
            .bind(body)
            .bind(actor)
            .bind(now_rfc3339()),
            fetch_one
        )?;
        let r = citykpi_domain::partner::menu::ParticipationResult {
            id,
            participation_id,
            on,
            body: body.to_string(),
            recorded_by: actor.to_string(),
        };
        audit_in(
            conn,
            actor,
            "add_result",
            "partner_participation",
            &participation_id.to_string(),
            None,
            Some(json!(r)),
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Results of the participations of a menu item (or of all with `None`),
    /// by participation, then day.
    pub async fn participation_results(
        &self,
        menu_code: Option<&str>,
    ) -> PartnerResult<Vec<citykpi_domain::partner::menu::ParticipationResult>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let rows: Vec<ParticipationResultRow> = run!(
            conn,
            sqlx::query_as::<_, ParticipationResultRow>(
                "SELECT r.id, r.participation_id, r.on_day, r.body, r.recorded_by \
                 FROM partner_participation_results r \
                 JOIN partner_participations p ON p.id = r.participation_id \
                 WHERE ($1 IS NULL OR p.menu_code = $1) ORDER BY r.participation_id, r.on_day, r.id"
            )
            .bind(menu_code),
            fetch_all
        )?;
        rows.into_iter()
            .map(ParticipationResultRow::into_result)
            .collect()
    }
}
