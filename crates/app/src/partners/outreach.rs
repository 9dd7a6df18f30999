//! Services of the outreach part of the partnerships area: leads
//! (startups met at coworking spaces, events or by referral) and their stage
//! toward a demonstration, the events the city holds, and the counts the
//! seed cares about recorded as KPI actuals. Called by the web pages, the
//! API and the CLI alike.
//!
//! An event's count becomes a KPI actual through [`crate::entry`]'s
//! `parse_actual` and `save_actuals`, the same path as an actual typed into
//! the KPI page: one way of writing observations. The KPI's actual for the
//! period is the sum of every event's posting to it there.

use citykpi_domain::Dataset;
use citykpi_domain::partner::outreach::{
    self, EventForm, KpiYearSum, Lead, LeadForm, LeadStage, OutreachEvent, Posting, StageMove,
    missing,
};
use citykpi_domain::partner::{Day, Problem, Problems};
use citykpi_store::{EventFilter, LeadFilter, Page, Store};

use super::{Export, PartnersError, Result, Viewer, goals_label, is_desk, today};
use crate::entry::{ActualInput, parse_actual, save_actuals};

/// The source written on the actuals that outreach events record.
pub const ACTUAL_SOURCE: &str = "スタートアップ誘致の催し / outreach events";

fn lead_not_found(id: i64) -> PartnersError {
    PartnersError::NotFound(format!(
        "リード {id} が見つかりません / lead {id} not found"
    ))
}

fn event_not_found(id: i64) -> PartnersError {
    PartnersError::NotFound(format!("催し {id} が見つかりません / event {id} not found"))
}

/// Every KPI code must name a KPI of the plan (and a section code a section).
async fn check_refs(store: &Store, kpi_codes: &[String], section: Option<&str>) -> Result<()> {
    let known = store.known_keys().await?;
    let mut problems: Vec<Problem> = kpi_codes
        .iter()
        .filter(|k| !known.kpis.contains(*k))
        .map(|k| missing("kpi_codes", "KPI", "KPI", k))
        .collect();
    if let Some(s) = section.filter(|s| !known.sections.contains(*s)) {
        problems.push(missing("section_code", "課", "section", s));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(problems).into())
    }
}

// ----- leads -----

pub async fn create_lead(store: &Store, form: &LeadForm, actor: &str) -> Result<Lead> {
    let input = outreach::validate_lead(form, today())?;
    check_refs(store, &input.kpi_codes, None).await?;
    Ok(store.insert_lead(&input, actor).await?)
}

/// Saves an edited lead if nobody saved it since `version` was loaded.
pub async fn update_lead(
    store: &Store,
    id: i64,
    form: &LeadForm,
    version: i64,
    actor: &str,
) -> Result<Lead> {
    let input = outreach::validate_lead(form, today())?;
    check_refs(store, &input.kpi_codes, None).await?;
    Ok(store.update_lead(id, &input, version, actor).await?)
}

pub async fn move_lead(
    store: &Store,
    id: i64,
    to: &str,
    on: &str,
    note: &str,
    actor: &str,
) -> Result<Lead> {
    Ok(store.move_lead(id, to, on, note, today(), actor).await?)
}

/// The lead as `viewer` may see it: contact data only for the desk.
pub fn view(viewer: &Viewer, lead: Lead) -> Lead {
    if is_desk(viewer.role) {
        lead
    } else {
        lead.without_personal()
    }
}

/// A lead page: the lead, its history and the events it was met at.
pub async fn lead(
    store: &Store,
    viewer: &Viewer,
    id: i64,
) -> Result<(Lead, Vec<StageMove>, Vec<OutreachEvent>)> {
    let l = store.lead(id).await?.ok_or_else(|| lead_not_found(id))?;
    let moves = store.lead_moves(id).await?;
    let events = store.events_of_lead(id).await?;
    Ok((view(viewer, l), moves, events))
}

pub async fn leads(store: &Store, viewer: &Viewer, filter: &LeadFilter) -> Result<Page<Lead>> {
    let mut page = store.leads(filter).await?;
    page.items = page.items.into_iter().map(|l| view(viewer, l)).collect();
    Ok(page)
}

/// How many leads stand at each stage, every stage listed in funnel order.
pub async fn funnel(store: &Store) -> Result<Vec<(LeadStage, i64)>> {
    Ok(outreach::funnel(&store.lead_stage_counts().await?))
}

// ----- events -----

pub async fn create_event(store: &Store, form: &EventForm, actor: &str) -> Result<OutreachEvent> {
    let input = outreach::validate_event(form, today())?;
    check_refs(store, &input.kpi_codes, Some(&input.section_code)).await?;
    Ok(store.insert_event(&input, actor).await?)
}

pub async fn update_event(
    store: &Store,
    id: i64,
    form: &EventForm,
    version: i64,
    actor: &str,
) -> Result<OutreachEvent> {
    let input = outreach::validate_event(form, today())?;
    check_refs(store, &input.kpi_codes, Some(&input.section_code)).await?;
    Ok(store.update_event(id, &input, version, actor).await?)
}

/// An event with the counts it recorded to KPIs.
pub async fn event(store: &Store, id: i64) -> Result<(OutreachEvent, Vec<Posting>)> {
    let e = store.event(id).await?.ok_or_else(|| event_not_found(id))?;
    let postings = store.postings_of_event(id).await?;
    Ok((e, postings))
}

pub async fn events(store: &Store, filter: &EventFilter) -> Result<Page<OutreachEvent>> {
    Ok(store.events(filter).await?)
}

/// Per KPI the events serve, their counts summed by fiscal year.
pub async fn kpi_sums(store: &Store) -> Result<Vec<KpiYearSum>> {
    Ok(outreach::kpi_sums(
        &store.events_all(&EventFilter::default()).await?,
    ))
}

/// What recording a count did: the posting and the KPI's actual now stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Recorded {
    pub posting: Posting,
    /// The KPI's actual for the period: the sum of the events' postings.
    pub actual: u64,
    /// How many events the actual sums.
    pub events: usize,
}

/// Records `event_id`'s count of `measure` as (part of) the actual of
/// `kpi_code` for `period` (empty = the event's fiscal year) in the city's
/// area. The actual is written through the same service as a typed-in
/// actual (`entry::parse_actual` + `entry::save_actuals`, with its own audit
/// row), then the posting is recorded. Should the second write fail, the
/// actual already holds the new sum and recording again repairs the posting.
pub async fn record_count(
    store: &Store,
    event_id: i64,
    measure: &str,
    kpi_code: &str,
    period: &str,
    area_code: &str,
    actor: &str,
) -> Result<Recorded> {
    let e = store
        .event(event_id)
        .await?
        .ok_or_else(|| event_not_found(event_id))?;
    let mine = store.postings_of_event(event_id).await?;
    let kpi_norm = citykpi_domain::text::normalize(kpi_code);
    let earlier = mine
        .iter()
        .find(|p| p.kpi_code == kpi_norm)
        .map(|p| p.period.clone());
    let (m, kpi, p) =
        outreach::check_posting(&e, measure, kpi_code, period, earlier.as_deref(), today())?;
    if !store.known_keys().await?.kpis.contains(&kpi) {
        return Err(Problems(vec![missing("kpi_code", "KPI", "KPI", &kpi)]).into());
    }
    let value = e.input.counts.get(m);
    let period_text = p.to_string();
    let all = store.postings(Some(&kpi)).await?;
    let actual = outreach::posted_total(&all, &kpi, &period_text, event_id, value);
    let events = all
        .iter()
        .filter(|x| x.period == period_text && x.event_id != event_id)
        .count()
        + 1;
    let input = ActualInput {
        period: period_text.clone(),
        value: actual.to_string(),
        status: String::new(),
        source: ACTUAL_SOURCE.into(),
        note: format!(
            "催し{events}件の{}の合計 / sum of {events} events' {}",
            m.label_ja(),
            m.label_en()
        ),
        version: None,
    };
    let obs = parse_actual(&kpi, area_code, &input, actor).map_err(|errs| {
        PartnersError::Invalid(Problems(
            errs.into_iter()
                .map(|fe| {
                    let field = if fe.field == "value" {
                        "measure"
                    } else {
                        "period"
                    };
                    Problem::new(field, fe.message.clone(), fe.message)
                })
                .collect(),
        ))
    })?;
    save_actuals(store, std::slice::from_ref(&obs), actor)
        .await
        .map_err(|e| match e {
            crate::AppError::Store(s) => PartnersError::Store(s),
            other => PartnersError::Export(other.to_string()),
        })?;
    let posting = Posting {
        event_id,
        kpi_code: kpi,
        measure: m,
        period: period_text,
        value,
        posted_by: actor.to_string(),
        posted_at: citykpi_store::now_rfc3339(),
    };
    store.record_posting(&posting, actor).await?;
    Ok(Recorded {
        posting,
        actual,
        events,
    })
}

// ----- exports -----

/// The outreach lists that can be downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutreachTable {
    Leads,
    Events,
    /// The counts summed per KPI and fiscal year.
    KpiSums,
}

impl OutreachTable {
    pub const ALL: [OutreachTable; 3] = [
        OutreachTable::Leads,
        OutreachTable::Events,
        OutreachTable::KpiSums,
    ];
    pub fn code(self) -> &'static str {
        match self {
            OutreachTable::Leads => "leads",
            OutreachTable::Events => "events",
            OutreachTable::KpiSums => "kpi-sums",
        }
    }
    pub fn parse(s: &str) -> Option<OutreachTable> {
        OutreachTable::ALL
            .into_iter()
            .find(|t| t.code() == s.trim())
    }
}

fn pick(ja: bool, j: &'static str, e: &'static str) -> &'static str {
    if ja { j } else { e }
}

fn int(n: u64) -> citykpi_io::Cell {
    citykpi_io::Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn lead_sheet(list: &[Lead], ja: bool, desk: bool) -> citykpi_io::Sheet {
    use citykpi_io::Cell;
    let mut columns = vec![
        ("id", "リード番号", "id"),
        ("name", "企業名", "name"),
        ("member_id", "会員番号", "member id"),
        ("met_at", "出会った場", "met at"),
        ("met_where", "場所・催し", "where"),
        ("first_met_on", "初回接触日", "first met"),
        ("field", "分野", "field"),
        ("stage", "段階", "stage"),
        ("summary", "概要", "summary"),
        ("kpi_codes", "寄与するKPI", "KPIs"),
        ("sdg_goals", "SDGs", "SDG goals"),
        ("next_action", "次の対応", "next action"),
        ("next_action_on", "次の対応の期日", "next action due"),
    ];
    if desk {
        columns.push(("contact_person", "担当者名", "contact person"));
        columns.push(("email", "メールアドレス", "e-mail"));
    }
    let rows = list
        .iter()
        .map(|l| {
            let i = &l.input;
            let mut row = vec![
                Cell::Int(l.id),
                Cell::text(&i.name),
                i.member_id.map_or(Cell::Empty, Cell::Int),
                Cell::text(pick(ja, i.met_at.label_ja(), i.met_at.label_en())),
                Cell::text(&i.met_where),
                Cell::text(&i.first_met_on.to_string()),
                Cell::text(pick(ja, i.field.label_ja(), i.field.label_en())),
                Cell::text(pick(ja, l.stage.label_ja(), l.stage.label_en())),
                Cell::text(&i.summary),
                Cell::text(&i.kpi_codes.join(", ")),
                Cell::text(&goals_label(&i.sdg_goals)),
                Cell::text(&i.next_action),
                Cell::text(&i.next_action_on.map(|d| d.to_string()).unwrap_or_default()),
            ];
            if desk {
                row.push(Cell::text(&i.contact.person));
                row.push(Cell::text(&i.contact.email));
            }
            row
        })
        .collect();
    citykpi_io::Sheet {
        name_ja: "リード".into(),
        name_en: "leads".into(),
        columns,
        rows,
    }
}

fn event_sheet(list: &[OutreachEvent], ja: bool) -> citykpi_io::Sheet {
    use citykpi_io::Cell;
    let columns = vec![
        ("id", "催し番号", "id"),
        ("title", "名称", "title"),
        ("kind", "種類", "kind"),
        ("held_on", "開催日", "held on"),
        ("fiscal_year", "年度", "fiscal year"),
        ("place", "場所", "place"),
        ("section_code", "主催課", "section"),
        ("attendees", "参加者数", "attendees"),
        ("visitors", "来訪者数", "visitors"),
        (
            "relationship_population",
            "関係人口",
            "relationship population",
        ),
        ("firms_attracted", "企業誘致数", "firms attracted"),
        ("kpi_codes", "寄与するKPI", "KPIs"),
        ("sdg_goals", "SDGs", "SDG goals"),
        ("lead_ids", "出会ったリード", "leads met"),
        ("note", "メモ", "note"),
    ];
    let rows = list
        .iter()
        .map(|e| {
            let i = &e.input;
            vec![
                Cell::Int(e.id),
                Cell::text(&i.title),
                Cell::text(pick(ja, i.kind.label_ja(), i.kind.label_en())),
                Cell::text(&i.held_on.to_string()),
                Cell::Int(i64::from(e.fiscal_year().year())),
                Cell::text(&i.place),
                Cell::text(&i.section_code),
                int(i.counts.attendees),
                int(i.counts.visitors),
                int(i.counts.relationship_population),
                int(i.counts.firms_attracted),
                Cell::text(&i.kpi_codes.join(", ")),
                Cell::text(&goals_label(&i.sdg_goals)),
                Cell::text(
                    &i.lead_ids
                        .iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Cell::text(&i.note),
            ]
        })
        .collect();
    citykpi_io::Sheet {
        name_ja: "催し".into(),
        name_en: "events".into(),
        columns,
        rows,
    }
}

fn sums_sheet(list: &[KpiYearSum]) -> citykpi_io::Sheet {
    use citykpi_io::Cell;
    let columns = vec![
        ("kpi_code", "KPI", "KPI"),
        ("fiscal_year", "年度", "fiscal year"),
        ("events", "催しの数", "events"),
        ("attendees", "参加者数", "attendees"),
        ("visitors", "来訪者数", "visitors"),
        (
            "relationship_population",
            "関係人口",
            "relationship population",
        ),
        ("firms_attracted", "企業誘致数", "firms attracted"),
    ];
    let rows = list
        .iter()
        .map(|s| {
            vec![
                Cell::text(&s.kpi_code),
                Cell::Int(i64::from(s.fiscal_year)),
                Cell::Int(i64::try_from(s.events).unwrap_or(i64::MAX)),
                int(s.counts.attendees),
                int(s.counts.visitors),
                int(s.counts.relationship_population),
                int(s.counts.firms_attracted),
            ]
        })
        .collect();
    citykpi_io::Sheet {
        name_ja: "KPI別の集計".into(),
        name_en: "sums by KPI".into(),
        columns,
        rows,
    }
}

/// Writes an outreach list as `viewer` may see it (a lead's contact data
/// only for the desk) with the same writer as every other export, and
/// records the download in the audit log.
pub async fn export(
    store: &Store,
    viewer: &Viewer,
    table: OutreachTable,
    format: citykpi_io::Format,
    lang: citykpi_io::HeaderLang,
) -> Result<Export> {
    let ja = lang == citykpi_io::HeaderLang::Ja;
    let desk = is_desk(viewer.role);
    let (sheet, personal, entity) = match table {
        OutreachTable::Leads => {
            let list = store.leads_for_export(&LeadFilter::new(today())).await?;
            let personal = desk && list.iter().any(|l| !l.input.contact.is_empty());
            (lead_sheet(&list, ja, desk), personal, "outreach_lead")
        }
        OutreachTable::Events => {
            let list = store.events_all(&EventFilter::default()).await?;
            (event_sheet(&list, ja), false, "outreach_event")
        }
        OutreachTable::KpiSums => (sums_sheet(&kpi_sums(store).await?), false, "outreach_event"),
    };
    let rows = sheet.rows.len();
    let bytes = citykpi_io::write_sheet(&sheet, format, lang)
        .map_err(|e| PartnersError::Export(e.to_string()))?;
    store
        .record_audit(&citykpi_store::AuditRecord {
            actor: &viewer.login,
            action: "export",
            entity,
            key: table.code(),
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
            "outreach-{}-{:04}{:02}{:02}.{}",
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

// ----- demo -----

/// Replaces the outreach records with the demo city's: leads at every stage
/// (the first linked to an approved member) and events serving the city's
/// relationship-population KPI. Nothing is recorded as an actual: the demo
/// city's KPI history stays as generated; staff record counts from the
/// event page. The dates count from `today`.
pub async fn build_demo(store: &Store, ds: &Dataset, today: Day) -> Result<usize> {
    store.clear_outreach().await?;
    let Some(kpi) = ds
        .kpis
        .iter()
        .find(|k| k.name_ja.contains("関係人口"))
        .or_else(|| ds.kpis.first())
    else {
        return Ok(0);
    };
    let section = ds
        .sections
        .iter()
        .find(|s| s.name_ja.contains("広報"))
        .or_else(|| ds.sections.first())
        .map(|s| s.code.clone())
        .unwrap_or_default();
    let others: Vec<String> = ds.kpis.iter().take(5).map(|k| k.code.clone()).collect();
    let demo = citykpi_demo::outreach::generate(today, &section, &kpi.code, &others);
    let member = store
        .members(&citykpi_store::MemberFilter {
            status: Some(citykpi_domain::partner::member::MemberStatus::Approved),
            q: String::new(),
            page: 1,
            per_page: 1,
        })
        .await?
        .items
        .first()
        .map(|m| m.id);
    let mut ids = Vec::new();
    for (n, l) in demo.leads.iter().enumerate() {
        let mut input = l.input.clone();
        if n == 0 {
            input.member_id = member;
        }
        let lead = store.insert_lead(&input, "demo").await?;
        for (to, days, note) in &l.moves {
            let on = input.first_met_on.plus_days(*days).to_string();
            store
                .move_lead(lead.id, to.code(), &on, note, today, "demo")
                .await?;
        }
        ids.push(lead.id);
    }
    for (input, met) in &demo.events {
        let mut input = input.clone();
        input.lead_ids = met.iter().filter_map(|i| ids.get(*i).copied()).collect();
        store.insert_event(&input, "demo").await?;
    }
    Ok(ids.len() + demo.events.len())
}
