//! Startup outreach: leads, their stage toward a demonstration in the city, and events.
//!
//! The city meets startups at coworking spaces in the Tokyo area and at its
//! own events, and follows each one as a **lead** through 接触 → 面談 → 提案 →
//! 実証 → 実装 (or 見送り), with a dated history of every move and a next
//! action whose date makes the overdue list. **Events** record what the seed
//! counts — attendees, visitors, the relationship population (関係人口) and
//! firms attracted — and those counts can be recorded as actuals of the KPIs
//! the event serves ([`check_posting`] decides which period and value).
//!
//! A lead that is also a registered member names its member number: one
//! organisation, one record. The contact person and e-mail address are
//! personal data, shown only to the desk ([`Lead::without_personal`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::member::{check_email, coded_enum};
use super::projects::DemoField;
use super::{Check, Day, Problem, Problems, SdgGoal, read_codes, read_goals};
use crate::FiscalYear;
use crate::observation::Period;

pub const MAX_NAME: usize = 200;
pub const MAX_TEXT: usize = 4000;
pub const MAX_NOTE: usize = 2000;
/// Largest count an event may report (a city-wide festival stays far below).
pub const MAX_COUNT: u64 = 10_000_000;

coded_enum! {
    /// Where the city first met a lead.
    MetAt {
        Coworking = "coworking", "コワーキングスペース", "coworking space";
        Event = "event", "イベント", "event";
        Referral = "referral", "紹介", "referral";
        Other = "other", "その他", "other";
    }
}

/// A lead's field: one of the demonstrations' five fields (the same
/// [`DemoField`] the demonstration registry uses), or another field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum LeadField {
    Demo(DemoField),
    Other,
}

impl LeadField {
    pub fn all() -> Vec<LeadField> {
        DemoField::ALL
            .iter()
            .map(|f| LeadField::Demo(*f))
            .chain([LeadField::Other])
            .collect()
    }
    pub fn code(self) -> &'static str {
        match self {
            LeadField::Demo(f) => f.code(),
            LeadField::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<LeadField> {
        match s.trim() {
            "other" => Some(LeadField::Other),
            s => DemoField::parse(s).map(LeadField::Demo),
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            LeadField::Demo(f) => f.label_ja(),
            LeadField::Other => "その他",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            LeadField::Demo(f) => f.label_en(),
            LeadField::Other => "other",
        }
    }
}

impl TryFrom<String> for LeadField {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        LeadField::parse(&s).ok_or_else(|| format!("\"{s}\" is not a field"))
    }
}

impl From<LeadField> for String {
    fn from(f: LeadField) -> String {
        f.code().to_string()
    }
}

coded_enum! {
    /// 接触 → 面談 → 提案 → 実証 → 実装, or 見送り.
    LeadStage {
        Contact = "contact", "接触", "contact";
        Meeting = "meeting", "面談", "meeting";
        Proposal = "proposal", "提案", "proposal";
        Trial = "trial", "実証", "demonstration";
        Implemented = "implemented", "実装", "implementation";
        Declined = "declined", "見送り", "not pursued";
    }
}

impl LeadStage {
    /// One step forward, or 見送り from any open stage; a lead set aside can
    /// be taken up again from 接触. 実装 is the end.
    pub fn can_move_to(self, to: LeadStage) -> bool {
        use LeadStage::*;
        matches!(
            (self, to),
            (Contact, Meeting)
                | (Meeting, Proposal)
                | (Proposal, Trial)
                | (Trial, Implemented)
                | (Contact | Meeting | Proposal | Trial, Declined)
                | (Declined, Contact)
        )
    }
    /// Still being worked on: counts for the overdue list.
    pub fn is_open(self) -> bool {
        !matches!(self, LeadStage::Implemented | LeadStage::Declined)
    }
    pub fn next_allowed(self) -> Vec<LeadStage> {
        LeadStage::ALL
            .iter()
            .copied()
            .filter(|t| self.can_move_to(*t))
            .collect()
    }
}

/// The person the city talks to at a lead: personal data.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LeadContact {
    pub person: String,
    pub email: String,
}

impl LeadContact {
    pub fn is_empty(&self) -> bool {
        self.person.is_empty() && self.email.is_empty()
    }
}

/// A lead's fields as checked from the form (without id, stage or history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadInput {
    pub name: String,
    /// The member record of the same organisation, if it is registered.
    pub member_id: Option<i64>,
    pub met_at: MetAt,
    /// The coworking space, event or referrer, as text.
    pub met_where: String,
    pub first_met_on: Day,
    pub field: LeadField,
    /// What the startup does and would demonstrate in the city.
    pub summary: String,
    pub contact: LeadContact,
    pub kpi_codes: Vec<String>,
    pub sdg_goals: Vec<SdgGoal>,
    pub next_action: String,
    pub next_action_on: Option<Day>,
}

/// A stored lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lead {
    pub id: i64,
    pub stage: LeadStage,
    #[serde(flatten)]
    pub input: LeadInput,
    /// Raised by every save; an edit form sends the version it loaded.
    pub version: i64,
}

impl Lead {
    /// Still open and its next action's date has passed.
    pub fn is_overdue(&self, today: Day) -> bool {
        self.stage.is_open() && self.input.next_action_on.is_some_and(|d| d < today)
    }
    /// The copy shown to someone who may not see personal data.
    pub fn without_personal(&self) -> Lead {
        let mut l = self.clone();
        l.input.contact = LeadContact::default();
        l
    }
}

/// A lead as typed into the form: every value a string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadForm {
    pub name: String,
    pub member_id: String,
    pub met_at: String,
    pub met_where: String,
    pub first_met_on: String,
    pub field: String,
    pub summary: String,
    pub contact_person: String,
    pub email: String,
    pub kpi_codes: String,
    pub sdg_goals: Vec<String>,
    pub next_action: String,
    pub next_action_on: String,
}

impl LeadForm {
    /// The form filled with a stored lead (for editing).
    pub fn from_lead(l: &Lead) -> LeadForm {
        let i = &l.input;
        LeadForm {
            name: i.name.clone(),
            member_id: i.member_id.map(|m| m.to_string()).unwrap_or_default(),
            met_at: i.met_at.code().into(),
            met_where: i.met_where.clone(),
            first_met_on: i.first_met_on.to_string(),
            field: i.field.code().into(),
            summary: i.summary.clone(),
            contact_person: i.contact.person.clone(),
            email: i.contact.email.clone(),
            kpi_codes: i.kpi_codes.join(", "),
            sdg_goals: i.sdg_goals.iter().map(|g| g.number().to_string()).collect(),
            next_action: i.next_action.clone(),
            next_action_on: i.next_action_on.map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

fn optional_day(c: &mut Check, field: &str, raw: &str) -> Option<Day> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let d = Day::parse(raw);
    if d.is_none() {
        c.push(
            field,
            "日付（YYYY-MM-DD）で入力してください",
            "must be a date (YYYY-MM-DD)",
        );
    }
    d
}

/// Reads a member number (`12`, `#12`, `１２`); empty is none.
fn member_number(c: &mut Check, field: &str, raw: &str) -> Option<i64> {
    let v = crate::text::normalize(raw);
    let v = v.trim_start_matches('#');
    if v.is_empty() {
        return None;
    }
    match v.parse::<i64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            c.push(
                field,
                format!("「{v}」は会員番号ではありません"),
                format!("\"{v}\" is not a member number"),
            );
            None
        }
    }
}

/// Checks a lead entered on `today`. The first meeting may not lie in the
/// future; a next action needs its date and a date needs its action.
pub fn validate_lead(form: &LeadForm, today: Day) -> Result<LeadInput, Problems> {
    let mut c = Check::default();
    let name = c.text("name", &form.name, true, MAX_NAME);
    let member_id = member_number(&mut c, "member_id", &form.member_id);
    let met_at = MetAt::parse(&form.met_at);
    if met_at.is_none() {
        c.push(
            "met_at",
            "出会った場を選んでください",
            "choose where you met",
        );
    }
    let met_where = c.text("met_where", &form.met_where, false, MAX_NAME);
    let first_met_on = if form.first_met_on.trim().is_empty() {
        Some(today)
    } else {
        optional_day(&mut c, "first_met_on", &form.first_met_on)
    };
    if first_met_on.is_some_and(|d| d > today) {
        c.push(
            "first_met_on",
            "初回接触日に未来の日付は入力できません",
            "must not be in the future",
        );
    }
    let field = LeadField::parse(&form.field);
    if field.is_none() {
        c.push("field", "分野を選んでください", "choose a field");
    }
    let summary = c.text("summary", &form.summary, false, MAX_TEXT);
    let person = c.text("contact_person", &form.contact_person, false, 100);
    let email = check_email(&mut c, "email", &form.email, false);
    let kpi_codes = read_codes(&mut c, "kpi_codes", &form.kpi_codes);
    let sdg_goals = read_goals(&mut c, "sdg_goals", &form.sdg_goals);
    let next_action = c.text("next_action", &form.next_action, false, 500);
    let next_action_on = optional_day(&mut c, "next_action_on", &form.next_action_on);
    if !next_action.is_empty() && form.next_action_on.trim().is_empty() {
        c.push(
            "next_action_on",
            "次の対応の期日を入力してください",
            "give the date of the next action",
        );
    }
    if next_action.is_empty() && next_action_on.is_some() {
        c.push(
            "next_action",
            "期日を入れる場合は次の対応を入力してください",
            "say what the next action is",
        );
    }
    let (Some(met_at), Some(first_met_on), Some(field)) = (met_at, first_met_on, field) else {
        return Err(Problems(c.problems));
    };
    c.finish(LeadInput {
        name,
        member_id,
        met_at,
        met_where,
        first_met_on,
        field,
        summary,
        contact: LeadContact { person, email },
        kpi_codes,
        sdg_goals,
        next_action,
        next_action_on,
    })
}

/// One move of a lead's stage (the first entry of a history has no `from`:
/// the lead was recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageMove {
    pub from: Option<LeadStage>,
    pub to: LeadStage,
    pub on: Day,
    pub note: String,
    pub by: String,
}

/// Checks a move from `from` typed into the form (`on` empty = today). The
/// day may not be in the future nor before the lead was first met; setting a
/// lead aside needs a reason.
pub fn check_move(
    from: LeadStage,
    to: &str,
    on: &str,
    note: &str,
    first_met_on: Day,
    today: Day,
    by: &str,
) -> Result<StageMove, Problems> {
    let mut c = Check::default();
    let to_stage = LeadStage::parse(to);
    match to_stage {
        None => c.push("to", "進める段階を選んでください", "choose the stage"),
        Some(t) if !from.can_move_to(t) => c.push(
            "to",
            format!(
                "「{}」から「{}」へは進められません",
                from.label_ja(),
                t.label_ja()
            ),
            format!(
                "cannot move from \"{}\" to \"{}\"",
                from.label_en(),
                t.label_en()
            ),
        ),
        Some(_) => {}
    }
    let day = if on.trim().is_empty() {
        Some(today)
    } else {
        optional_day(&mut c, "on", on)
    };
    if let Some(d) = day {
        if d > today {
            c.push(
                "on",
                "未来の日付は入力できません",
                "must not be in the future",
            );
        } else if d < first_met_on {
            c.push(
                "on",
                format!("初回接触日（{first_met_on}）より前の日付です"),
                format!("is before the first contact ({first_met_on})"),
            );
        }
    }
    let note = c.text(
        "note",
        note,
        to_stage == Some(LeadStage::Declined),
        MAX_NOTE,
    );
    let (Some(to), Some(on)) = (to_stage, day) else {
        return Err(Problems(c.problems));
    };
    c.finish(StageMove {
        from: Some(from),
        to,
        on,
        note,
        by: by.to_string(),
    })
}

/// How many leads stand at each stage, in the funnel's order.
pub fn funnel(counts: &[(LeadStage, i64)]) -> Vec<(LeadStage, i64)> {
    LeadStage::ALL
        .iter()
        .map(|s| {
            let n = counts.iter().filter(|(t, _)| t == s).map(|(_, n)| *n).sum();
            (*s, n)
        })
        .collect()
}

// ----- events -----

coded_enum! {
    /// What kind of event the city held.
    EventKind {
        Pitch = "pitch", "ピッチイベント", "pitch event";
        Meetup = "meetup", "交流会", "meetup";
        Seminar = "seminar", "セミナー", "seminar";
        Tour = "tour", "視察ツアー", "site tour";
        Promotion = "promotion", "シティプロモーション", "city promotion";
        Other = "other", "その他", "other";
    }
}

coded_enum! {
    /// The counts an event reports, each of which can become a KPI's actual.
    Measure {
        Attendees = "attendees", "参加者数", "attendees";
        Visitors = "visitors", "来訪者数", "visitors";
        RelationshipPopulation = "relationship_population", "関係人口", "relationship population";
        FirmsAttracted = "firms_attracted", "企業誘致数", "firms attracted";
    }
}

/// What an event counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub attendees: u64,
    pub visitors: u64,
    pub relationship_population: u64,
    pub firms_attracted: u64,
}

impl Counts {
    pub fn get(&self, m: Measure) -> u64 {
        match m {
            Measure::Attendees => self.attendees,
            Measure::Visitors => self.visitors,
            Measure::RelationshipPopulation => self.relationship_population,
            Measure::FirmsAttracted => self.firms_attracted,
        }
    }
    fn add(&mut self, o: &Counts) {
        self.attendees += o.attendees;
        self.visitors += o.visitors;
        self.relationship_population += o.relationship_population;
        self.firms_attracted += o.firms_attracted;
    }
    pub fn is_zero(&self) -> bool {
        *self == Counts::default()
    }
}

/// An event's fields as checked from the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventInput {
    pub title: String,
    pub kind: EventKind,
    pub held_on: Day,
    pub place: String,
    /// The organising section's code.
    pub section_code: String,
    pub counts: Counts,
    pub kpi_codes: Vec<String>,
    pub sdg_goals: Vec<SdgGoal>,
    /// The leads met there (their numbers).
    pub lead_ids: Vec<i64>,
    pub note: String,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutreachEvent {
    pub id: i64,
    #[serde(flatten)]
    pub input: EventInput,
    pub version: i64,
}

impl OutreachEvent {
    pub fn fiscal_year(&self) -> FiscalYear {
        fiscal_year_of(self.input.held_on)
    }
}

/// The fiscal year (April to March) a day falls in.
pub fn fiscal_year_of(d: Day) -> FiscalYear {
    FiscalYear::containing_clamped(d.year(), d.month())
}

/// An event as typed into the form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventForm {
    pub title: String,
    pub kind: String,
    pub held_on: String,
    pub place: String,
    pub section_code: String,
    pub attendees: String,
    pub visitors: String,
    pub relationship_population: String,
    pub firms_attracted: String,
    pub kpi_codes: String,
    pub sdg_goals: Vec<String>,
    pub lead_ids: String,
    pub note: String,
}

impl EventForm {
    pub fn from_event(e: &OutreachEvent) -> EventForm {
        let i = &e.input;
        EventForm {
            title: i.title.clone(),
            kind: i.kind.code().into(),
            held_on: i.held_on.to_string(),
            place: i.place.clone(),
            section_code: i.section_code.clone(),
            attendees: i.counts.attendees.to_string(),
            visitors: i.counts.visitors.to_string(),
            relationship_population: i.counts.relationship_population.to_string(),
            firms_attracted: i.counts.firms_attracted.to_string(),
            kpi_codes: i.kpi_codes.join(", "),
            sdg_goals: i.sdg_goals.iter().map(|g| g.number().to_string()).collect(),
            lead_ids: i
                .lead_ids
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            note: i.note.clone(),
        }
    }
}

/// A count typed into the form: a whole number, `1,200` and full-width digits
/// accepted, empty = 0.
fn count(c: &mut Check, field: &str, raw: &str) -> u64 {
    let v = crate::text::normalize(raw).replace([',', '，'], "");
    let v = v.trim_end_matches(['人', '社', '件']).trim();
    if v.is_empty() {
        return 0;
    }
    match v.parse::<u64>() {
        Ok(n) if n <= MAX_COUNT => n,
        Ok(_) => {
            c.push(
                field,
                format!("{MAX_COUNT}以下の数で入力してください"),
                format!("must be at most {MAX_COUNT}"),
            );
            0
        }
        Err(_) => {
            c.push(
                field,
                format!("「{v}」は0以上の整数ではありません"),
                format!("\"{v}\" is not a whole number of zero or more"),
            );
            0
        }
    }
}

/// Checks an event. It names at least one KPI of the plan it serves (that
/// is what its counts are for); an event still to come has nothing counted.
pub fn validate_event(form: &EventForm, today: Day) -> Result<EventInput, Problems> {
    let mut c = Check::default();
    let title = c.text("title", &form.title, true, MAX_NAME);
    let kind = EventKind::parse(&form.kind);
    if kind.is_none() {
        c.push("kind", "催しの種類を選んでください", "choose the kind");
    }
    let held_on = Day::parse(form.held_on.trim());
    if held_on.is_none() {
        c.push(
            "held_on",
            "開催日（YYYY-MM-DD）を入力してください",
            "must be a date (YYYY-MM-DD)",
        );
    }
    let place = c.text("place", &form.place, true, MAX_NAME);
    let section_code = {
        let codes = read_codes(&mut c, "section_code", &form.section_code);
        match codes.as_slice() {
            [one] => one.clone(),
            [] if !c.problems.iter().any(|p| p.field == "section_code") => {
                c.push(
                    "section_code",
                    "主催する課のコードを入力してください",
                    "give the organising section's code",
                );
                String::new()
            }
            [] => String::new(),
            _ => {
                c.push(
                    "section_code",
                    "主催する課は1つだけ入力してください",
                    "give exactly one section",
                );
                String::new()
            }
        }
    };
    let counts = Counts {
        attendees: count(&mut c, "attendees", &form.attendees),
        visitors: count(&mut c, "visitors", &form.visitors),
        relationship_population: count(
            &mut c,
            "relationship_population",
            &form.relationship_population,
        ),
        firms_attracted: count(&mut c, "firms_attracted", &form.firms_attracted),
    };
    if held_on.is_some_and(|d| d > today) {
        for m in Measure::ALL {
            if counts.get(*m) > 0 {
                c.push(
                    m.code(),
                    "開催前の催しの人数・社数は記録できません",
                    "cannot be counted before the event is held",
                );
            }
        }
    }
    let kpi_codes = read_codes(&mut c, "kpi_codes", &form.kpi_codes);
    if kpi_codes.is_empty() && !c.problems.iter().any(|p| p.field == "kpi_codes") {
        c.push(
            "kpi_codes",
            "寄与する計画のKPIを1つ以上入力してください",
            "name at least one KPI of the plan it serves",
        );
    }
    let sdg_goals = read_goals(&mut c, "sdg_goals", &form.sdg_goals);
    let mut lead_ids: Vec<i64> = Vec::new();
    for raw in crate::text::normalize(&form.lead_ids)
        .split(|ch: char| ch == ',' || ch == '、' || ch.is_whitespace())
        .filter(|x| !x.is_empty())
    {
        match raw.trim_start_matches('#').parse::<i64>() {
            Ok(id) if id > 0 => {
                if !lead_ids.contains(&id) {
                    lead_ids.push(id);
                }
            }
            _ => c.push(
                "lead_ids",
                format!("「{raw}」はリード番号ではありません"),
                format!("\"{raw}\" is not a lead number"),
            ),
        }
    }
    let note = c.text("note", &form.note, false, MAX_NOTE);
    let (Some(kind), Some(held_on)) = (kind, held_on) else {
        return Err(Problems(c.problems));
    };
    c.finish(EventInput {
        title,
        kind,
        held_on,
        place,
        section_code,
        counts,
        kpi_codes,
        sdg_goals,
        lead_ids,
        note,
    })
}

// ----- counts as KPI actuals -----

/// One event's count recorded as (part of) a KPI's actual for a period. An
/// event records at most one count per KPI; the KPI's actual for the period
/// is the sum of the postings to it ([`posted_total`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub event_id: i64,
    pub kpi_code: String,
    pub measure: Measure,
    /// The period as the observation keeps it (`2026`, `2026Q2`, `2026-07`).
    pub period: String,
    pub value: u64,
    pub posted_by: String,
    pub posted_at: String,
}

/// Whether the period covers the day.
pub fn period_contains(p: &Period, d: Day) -> bool {
    match *p {
        Period::Year(fy) => fiscal_year_of(d) == fy,
        Period::Quarter(fy, q) => {
            fiscal_year_of(d) == fy && u32::from(q) == (d.month() + 8) % 12 / 3 + 1
        }
        Period::Month(y, m) => d.year() == y && d.month() == u32::from(m),
    }
}

/// Checks a request to record `event`'s count of `measure` as an actual of
/// `kpi_code` for `period` (empty = the event's fiscal year). The KPI must be
/// one the event serves, the period must contain the event's day, and the
/// event must have been held. `earlier` is the period this event already
/// recorded to the same KPI, if any: it cannot move to another period.
pub fn check_posting(
    event: &OutreachEvent,
    measure: &str,
    kpi_code: &str,
    period: &str,
    earlier: Option<&str>,
    today: Day,
) -> Result<(Measure, String, Period), Problems> {
    let mut c = Check::default();
    let m = Measure::parse(measure);
    if m.is_none() {
        c.push(
            "measure",
            "記録する数（参加者数・来訪者数・関係人口・企業誘致数）を選んでください",
            "choose the count (attendees, visitors, relationship population, firms attracted)",
        );
    }
    let kpi = crate::text::normalize(kpi_code);
    if kpi.is_empty() {
        c.push("kpi_code", "KPIを選んでください", "choose a KPI");
    } else if !event.input.kpi_codes.contains(&kpi) {
        c.push(
            "kpi_code",
            format!("KPI「{kpi}」はこの催しが寄与するKPIではありません"),
            format!("KPI \"{kpi}\" is not one this event serves"),
        );
    }
    let held = event.input.held_on;
    let p = if period.trim().is_empty() {
        Some(Period::Year(fiscal_year_of(held)))
    } else {
        match Period::parse(period) {
            Ok(p) if period_contains(&p, held) => Some(p),
            Ok(p) => {
                c.push(
                    "period",
                    format!("期間「{p}」は開催日（{held}）を含みません"),
                    format!("period \"{p}\" does not contain the event's day ({held})"),
                );
                None
            }
            Err(e) => {
                c.push("period", e.to_string(), e.to_string());
                None
            }
        }
    };
    if held > today {
        c.push(
            "measure",
            "開催前の催しの数はKPIの実績にできません",
            "an event not yet held has nothing to record",
        );
    }
    if let (Some(p), Some(before)) = (&p, earlier)
        && p.to_string() != before
    {
        c.push(
            "period",
            format!(
                "この催しはこのKPIに期間「{before}」で記録済みです。同じ期間で記録し直してください"
            ),
            format!(
                "this event already records to this KPI for \"{before}\"; record it for that period"
            ),
        );
    }
    let (Some(m), Some(p)) = (m, p) else {
        return Err(Problems(c.problems));
    };
    c.finish((m, kpi, p))
}

/// The actual a KPI gets for a period: the sum of every event's posting to
/// it there, with this one's (`event_id`, `value`) replacing its earlier one.
pub fn posted_total(
    postings: &[Posting],
    kpi_code: &str,
    period: &str,
    event_id: i64,
    value: u64,
) -> u64 {
    postings
        .iter()
        .filter(|p| p.kpi_code == kpi_code && p.period == period && p.event_id != event_id)
        .map(|p| p.value)
        .sum::<u64>()
        + value
}

/// One KPI's outreach counts in one fiscal year: the sum over the events
/// that serve it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiYearSum {
    pub kpi_code: String,
    pub fiscal_year: i32,
    pub events: usize,
    pub counts: Counts,
}

/// Per KPI the events serve, the sum of their counts by fiscal year (by KPI
/// code, then year).
pub fn kpi_sums(events: &[OutreachEvent]) -> Vec<KpiYearSum> {
    let mut map: BTreeMap<(String, i32), (usize, Counts)> = BTreeMap::new();
    for e in events {
        let fy = e.fiscal_year().year();
        for k in &e.input.kpi_codes {
            let entry = map.entry((k.clone(), fy)).or_default();
            entry.0 += 1;
            entry.1.add(&e.input.counts);
        }
    }
    map.into_iter()
        .map(|((kpi_code, fiscal_year), (events, counts))| KpiYearSum {
            kpi_code,
            fiscal_year,
            events,
            counts,
        })
        .collect()
}

/// A problem of a reference the store checks (a member, lead or KPI that
/// does not exist), in the same shape as the form's problems.
pub fn missing(field: &str, what_ja: &str, what_en: &str, key: impl std::fmt::Display) -> Problem {
    Problem::new(
        field,
        format!("{what_ja}「{key}」は登録されていません"),
        format!("{what_en} \"{key}\" does not exist"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    fn lead_form() -> LeadForm {
        LeadForm {
            name: "株式会社モビリティラボ".into(),
            member_id: "#１２".into(),
            met_at: "coworking".into(),
            met_where: "渋谷のコワーキングスペース".into(),
            first_met_on: "2026-05-10".into(),
            field: "mobility".into(),
            summary: "オンデマンド交通の実証".into(),
            contact_person: "佐藤 一郎".into(),
            email: "Ichiro@Example.JP".into(),
            kpi_codes: "K-01, K-02".into(),
            sdg_goals: vec!["9".into(), "11".into()],
            next_action: "面談の日程調整".into(),
            next_action_on: "2026-06-01".into(),
        }
    }

    fn event_form() -> EventForm {
        EventForm {
            title: "首都圏スタートアップピッチ".into(),
            kind: "pitch".into(),
            held_on: "2026-07-15".into(),
            place: "東京都渋谷区".into(),
            section_code: "SHICHO-KOHO".into(),
            attendees: "１,２００".into(),
            visitors: "300人".into(),
            relationship_population: "80".into(),
            firms_attracted: "2".into(),
            kpi_codes: "K-REL".into(),
            sdg_goals: vec!["8".into()],
            lead_ids: "3, #4 3".into(),
            note: String::new(),
        }
    }

    #[test]
    fn a_lead_is_read_with_every_problem() {
        let today = day("2026-06-15");
        let l = validate_lead(&lead_form(), today).unwrap();
        assert_eq!(l.member_id, Some(12));
        assert_eq!(l.field, LeadField::Demo(DemoField::Mobility));
        assert_eq!(l.contact.email, "ichiro@example.jp");
        assert_eq!(l.kpi_codes, vec!["K-01", "K-02"]);
        assert_eq!(l.next_action_on, Some(day("2026-06-01")));
        let other = validate_lead(
            &LeadForm {
                field: "other".into(),
                first_met_on: String::new(),
                ..lead_form()
            },
            today,
        )
        .unwrap();
        assert_eq!(other.field, LeadField::Other);
        assert_eq!(other.first_met_on, today, "empty = today");

        let err = validate_lead(
            &LeadForm {
                name: " ".into(),
                member_id: "abc".into(),
                met_at: "bar".into(),
                first_met_on: "2026-07-01".into(),
                field: "space".into(),
                email: "nope".into(),
                kpi_codes: "bad code!".into(),
                sdg_goals: vec!["18".into()],
                next_action: String::new(),
                next_action_on: "2026-13-01".into(),
                ..lead_form()
            },
            today,
        )
        .unwrap_err();
        for f in [
            "name",
            "member_id",
            "met_at",
            "first_met_on",
            "field",
            "email",
            "kpi_codes",
            "sdg_goals",
            "next_action_on",
        ] {
            assert!(err.has(f), "{f}: {err}");
        }
        let err = validate_lead(
            &LeadForm {
                next_action_on: String::new(),
                ..lead_form()
            },
            today,
        )
        .unwrap_err();
        assert!(err.has("next_action_on") && err.0.len() == 1);
        let err = validate_lead(
            &LeadForm {
                next_action: String::new(),
                ..lead_form()
            },
            today,
        )
        .unwrap_err();
        assert!(err.has("next_action"));
    }

    #[test]
    fn stages_move_one_step_or_aside() {
        use LeadStage::*;
        assert!(Contact.can_move_to(Meeting));
        assert!(!Contact.can_move_to(Proposal), "no skipping");
        assert!(Trial.can_move_to(Implemented));
        assert!(Proposal.can_move_to(Declined));
        assert!(Declined.can_move_to(Contact));
        assert!(!Implemented.can_move_to(Declined));
        assert!(Implemented.next_allowed().is_empty());
        assert_eq!(Contact.next_allowed(), vec![Meeting, Declined]);
        assert!(!Declined.is_open() && Trial.is_open());

        let today = day("2026-06-15");
        let first = day("2026-05-10");
        let m = check_move(Contact, "meeting", "", "", first, today, "u").unwrap();
        assert_eq!((m.from, m.to, m.on), (Some(Contact), Meeting, today));
        let err = check_move(Contact, "trial", "2026-06-16", "", first, today, "u").unwrap_err();
        assert!(err.has("to") && err.has("on"));
        assert!(err.to_string().contains("cannot move"));
        let err =
            check_move(Meeting, "declined", "2026-05-01", " ", first, today, "u").unwrap_err();
        assert!(err.has("on") && err.has("note"), "{err}");
        let err = check_move(Meeting, "x", "soon", "", first, today, "u").unwrap_err();
        assert!(err.has("to") && err.has("on"));
        let ok = check_move(
            Meeting,
            "declined",
            "2026-06-01",
            "予算が合わない",
            first,
            today,
            "u",
        );
        assert_eq!(ok.unwrap().note, "予算が合わない");
    }

    #[test]
    fn overdue_and_personal_data() {
        let today = day("2026-06-15");
        let input = validate_lead(&lead_form(), today).unwrap();
        let mut lead = Lead {
            id: 1,
            stage: LeadStage::Contact,
            input,
            version: 1,
        };
        assert!(lead.is_overdue(today));
        assert!(!lead.is_overdue(day("2026-06-01")), "due today is not late");
        lead.stage = LeadStage::Declined;
        assert!(!lead.is_overdue(today), "closed leads are never overdue");
        let hidden = lead.without_personal();
        assert!(hidden.input.contact.is_empty());
        assert_eq!(hidden.input.name, lead.input.name);
        let json = serde_json::to_value(&lead).unwrap();
        assert_eq!(json["field"], "mobility");
        assert_eq!(json["stage"], "declined");
        let back: Lead = serde_json::from_value(json).unwrap();
        assert_eq!(back, lead);
        assert_eq!(LeadForm::from_lead(&lead).member_id, "12");
    }

    #[test]
    fn funnel_in_stage_order() {
        let f = funnel(&[(LeadStage::Trial, 2), (LeadStage::Contact, 5)]);
        assert_eq!(f.len(), LeadStage::ALL.len());
        assert_eq!(f[0], (LeadStage::Contact, 5));
        assert_eq!(f[3], (LeadStage::Trial, 2));
        assert_eq!(f[1], (LeadStage::Meeting, 0));
    }

    #[test]
    fn an_event_is_read_with_every_problem() {
        let today = day("2026-08-01");
        let e = validate_event(&event_form(), today).unwrap();
        assert_eq!(e.counts.attendees, 1200);
        assert_eq!(e.counts.visitors, 300);
        assert_eq!(e.lead_ids, vec![3, 4]);
        assert_eq!(fiscal_year_of(e.held_on).year(), 2026);

        let err = validate_event(
            &EventForm {
                title: String::new(),
                kind: "party".into(),
                held_on: "2026-02-30".into(),
                place: String::new(),
                section_code: String::new(),
                attendees: "-5".into(),
                visitors: "many".into(),
                relationship_population: "99999999999".into(),
                kpi_codes: String::new(),
                lead_ids: "x".into(),
                ..event_form()
            },
            today,
        )
        .unwrap_err();
        for f in [
            "title",
            "kind",
            "held_on",
            "place",
            "section_code",
            "attendees",
            "visitors",
            "relationship_population",
            "kpi_codes",
            "lead_ids",
        ] {
            assert!(err.has(f), "{f}: {err}");
        }
        // Not yet held: nothing counted.
        let err = validate_event(&event_form(), day("2026-07-01")).unwrap_err();
        assert!(err.has("attendees") && err.has("firms_attracted"));
        let planned = validate_event(
            &EventForm {
                attendees: String::new(),
                visitors: String::new(),
                relationship_population: String::new(),
                firms_attracted: "0".into(),
                ..event_form()
            },
            day("2026-07-01"),
        )
        .unwrap();
        assert!(planned.counts.is_zero());
    }

    #[test]
    fn postings_and_sums_by_fiscal_year() {
        let today = day("2027-05-01");
        let mk = |id: i64, held: &str, kpis: &str, visitors: &str| OutreachEvent {
            id,
            input: validate_event(
                &EventForm {
                    held_on: held.into(),
                    visitors: visitors.into(),
                    kpi_codes: kpis.into(),
                    ..event_form()
                },
                today,
            )
            .unwrap(),
            version: 1,
        };
        let a = mk(1, "2026-07-15", "K-REL, K-VIS", "300");
        let b = mk(2, "2027-03-20", "K-VIS", "100");
        let c = mk(3, "2027-04-02", "K-VIS", "50");

        let (m, k, p) = check_posting(&a, "visitors", "K-VIS", "", None, today).unwrap();
        assert_eq!(
            (m, k.as_str(), p.to_string()),
            (Measure::Visitors, "K-VIS", "2026".into())
        );
        let (_, _, p) = check_posting(&a, "visitors", "K-VIS", "2026Q2", None, today).unwrap();
        assert_eq!(p.to_string(), "2026Q2");
        let (_, _, p) = check_posting(&b, "visitors", "K-VIS", "2027-03", None, today).unwrap();
        assert!(period_contains(&p, b.input.held_on));
        assert!(period_contains(
            &Period::parse("2026Q4").unwrap(),
            b.input.held_on
        ));
        let err = check_posting(&a, "smiles", "K-OTHER", "2027", None, today).unwrap_err();
        assert!(
            err.has("measure") && err.has("kpi_code") && err.has("period"),
            "{err}"
        );
        let err = check_posting(&a, "visitors", "K-VIS", "2026Q9", None, today).unwrap_err();
        assert!(err.has("period"));
        let err =
            check_posting(&a, "visitors", "K-VIS", "2026-07", Some("2026"), today).unwrap_err();
        assert!(err.has("period") && err.to_string().contains("2026"));
        let err = check_posting(&c, "visitors", "K-VIS", "", None, day("2027-04-01")).unwrap_err();
        assert!(err.has("measure"), "not yet held");

        let postings = vec![
            Posting {
                event_id: 1,
                kpi_code: "K-VIS".into(),
                measure: Measure::Visitors,
                period: "2026".into(),
                value: 300,
                posted_by: "u".into(),
                posted_at: String::new(),
            },
            Posting {
                event_id: 2,
                kpi_code: "K-VIS".into(),
                measure: Measure::Visitors,
                period: "2026".into(),
                value: 100,
                posted_by: "u".into(),
                posted_at: String::new(),
            },
        ];
        assert_eq!(
            posted_total(&postings, "K-VIS", "2026", 2, 120),
            420,
            "replaces its own"
        );
        assert_eq!(posted_total(&postings, "K-VIS", "2026", 3, 50), 450);
        assert_eq!(posted_total(&postings, "K-VIS", "2027", 3, 50), 50);

        let sums = kpi_sums(&[a, b, c]);
        let got: Vec<(&str, i32, usize, u64)> = sums
            .iter()
            .map(|s| {
                (
                    s.kpi_code.as_str(),
                    s.fiscal_year,
                    s.events,
                    s.counts.visitors,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("K-REL", 2026, 1, 300),
                ("K-VIS", 2026, 2, 400),
                ("K-VIS", 2027, 1, 50),
            ]
        );
        assert_eq!(sums[1].counts.attendees, 2400);
    }
}
