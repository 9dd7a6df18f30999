//! The one-stop desk (ワンストップ窓口): inquiries from members, firms and
//! citizens, routed to the departments that answer them, with a due date, a
//! reply history and a retention period after which personal fields go.

use serde::{Deserialize, Serialize};

use super::member::{check_email, check_phone, coded_enum};
use super::{Check, Day, Problems};

pub const MAX_SUBJECT: usize = 200;
pub const MAX_CONTENT: usize = 10_000;
pub const MAX_REPLY: usize = 10_000;
/// Days from receipt to the default due date (two working weeks).
pub const DEFAULT_DUE_DAYS: i64 = 14;
/// Days after completion that personal fields are kept (one year), unless the city sets another.
pub const DEFAULT_RETENTION_DAYS: i64 = 365;

coded_enum! {
    /// What an inquiry is about.
    InquiryCategory {
        Partnership = "partnership", "公民連携・協働", "partnership";
        Membership = "membership", "SDGs会員・貢献メニュー", "membership and menu";
        Proposal = "proposal", "民間提案", "private proposal";
        Demonstration = "demonstration", "実証実験", "demonstration";
        Startup = "startup", "進出・起業", "startup / relocation";
        Other = "other", "その他", "other";
    }
}

coded_enum! {
    /// How the inquiry came in.
    Channel {
        Web = "web", "ウェブフォーム", "web form";
        Phone = "phone", "電話", "phone";
        Mail = "mail", "メール", "e-mail";
        Visit = "visit", "来庁", "visit";
        Line = "line", "LINE", "LINE";
    }
}

coded_enum! {
    /// 受付 → 対応中 → 回答済 → 完了.
    InquiryStatus {
        Received = "received", "受付", "received";
        InProgress = "in_progress", "対応中", "in progress";
        Answered = "answered", "回答済", "answered";
        Closed = "closed", "完了", "closed";
    }
}

impl InquiryStatus {
    /// The allowed moves. An answered inquiry goes back to "in progress" when
    /// the inquirer asks again; a closed one stays closed (a new question is a
    /// new inquiry, so that the retention clock is simple).
    pub fn can_move_to(self, to: InquiryStatus) -> bool {
        use InquiryStatus::*;
        matches!(
            (self, to),
            (Received, InProgress)
                | (InProgress, Answered)
                | (Answered, InProgress)
                | (Answered, Closed)
        )
    }
    /// Still waiting for the city: counts for the overdue list.
    pub fn is_open(self) -> bool {
        matches!(self, InquiryStatus::Received | InquiryStatus::InProgress)
    }
    pub fn next_allowed(self) -> Vec<InquiryStatus> {
        InquiryStatus::ALL
            .iter()
            .copied()
            .filter(|t| self.can_move_to(*t))
            .collect()
    }
}

/// The inquirer's personal data: seen only by the desk and the departments
/// the inquiry is routed to, erased after the retention period.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Personal {
    pub name: String,
    pub email: String,
    pub phone: String,
}

impl Personal {
    pub fn is_empty(&self) -> bool {
        self.name.is_empty() && self.email.is_empty() && self.phone.is_empty()
    }
}

/// An inquiry as it arrives from a form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InquiryForm {
    pub category: String,
    pub channel: String,
    pub org_name: String,
    pub member_id: Option<i64>,
    pub subject: String,
    pub content: String,
    pub person_name: String,
    pub email: String,
    pub phone: String,
    /// Department codes, comma separated.
    pub departments: String,
    /// Empty = `DEFAULT_DUE_DAYS` after receipt.
    pub due_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewInquiry {
    pub category: InquiryCategory,
    pub channel: Channel,
    pub org_name: String,
    pub member_id: Option<i64>,
    pub subject: String,
    pub content: String,
    pub personal: Personal,
    pub departments: Vec<String>,
    pub received_on: Day,
    pub due_on: Day,
}

/// Checks an inquiry received on `today`. A public form needs a way to
/// answer (e-mail or phone); staff entering a phone call may leave it empty.
pub fn validate(form: &InquiryForm, today: Day, public: bool) -> Result<NewInquiry, Problems> {
    let mut c = Check::default();
    let category = InquiryCategory::parse(&form.category);
    if category.is_none() {
        c.push(
            "category",
            "相談の種類を選んでください",
            "choose a category",
        );
    }
    let channel = if public {
        Some(Channel::Web)
    } else {
        let ch = Channel::parse(&form.channel);
        if ch.is_none() {
            c.push("channel", "受付方法を選んでください", "choose the channel");
        }
        ch
    };
    let org_name = c.text("org_name", &form.org_name, false, super::member::MAX_NAME);
    let subject = c.text("subject", &form.subject, true, MAX_SUBJECT);
    let content = c.text("content", &form.content, true, MAX_CONTENT);
    let name = c.text("person_name", &form.person_name, public, 100);
    let email = check_email(&mut c, "email", &form.email, false);
    let phone = check_phone(&mut c, "phone", &form.phone);
    if public && email.is_empty() && phone.is_empty() {
        c.push(
            "email",
            "回答の連絡先としてメールアドレスか電話番号を入力してください",
            "give an e-mail address or a phone number for the answer",
        );
    }
    let departments = super::read_codes(&mut c, "departments", &form.departments);
    let due_on = if form.due_on.trim().is_empty() {
        today.plus_days(DEFAULT_DUE_DAYS)
    } else {
        match Day::parse(&form.due_on) {
            Some(d) if d >= today => d,
            Some(_) => {
                c.push(
                    "due_on",
                    "期限は受付日以降にしてください",
                    "must not be before today",
                );
                today
            }
            None => {
                c.push(
                    "due_on",
                    "日付（YYYY-MM-DD）で入力してください",
                    "must be a date (YYYY-MM-DD)",
                );
                today
            }
        }
    };
    let (Some(category), Some(channel)) = (category, channel) else {
        return Err(Problems(c.problems));
    };
    c.finish(NewInquiry {
        category,
        channel,
        org_name,
        member_id: form.member_id,
        subject,
        content,
        personal: Personal { name, email, phone },
        departments,
        received_on: today,
        due_on,
    })
}

/// One entry of the reply history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub at: String,
    pub author: String,
    pub body: String,
    /// The status the inquiry moved to with this reply (if it moved).
    pub status_after: Option<InquiryStatus>,
}

/// A stored inquiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inquiry {
    pub id: i64,
    pub category: InquiryCategory,
    pub channel: Channel,
    pub status: InquiryStatus,
    pub org_name: String,
    pub member_id: Option<i64>,
    pub subject: String,
    pub content: String,
    pub personal: Personal,
    pub departments: Vec<String>,
    pub received_on: Day,
    pub due_on: Day,
    pub closed_on: Option<Day>,
    /// When the personal fields were erased (after the retention period).
    pub erased_on: Option<Day>,
}

impl Inquiry {
    /// Still open for the city and past its due date.
    pub fn is_overdue(&self, today: Day) -> bool {
        self.status.is_open() && self.due_on < today
    }
    /// Closed longer ago than `retention_days` and still holding personal data.
    pub fn retention_expired(&self, today: Day, retention_days: i64) -> bool {
        self.erased_on.is_none()
            && !self.personal.is_empty()
            && self
                .closed_on
                .is_some_and(|c| c.plus_days(retention_days) < today)
    }
    /// The copy shown to someone who may not see personal data.
    pub fn without_personal(&self) -> Inquiry {
        Inquiry {
            personal: Personal::default(),
            ..self.clone()
        }
    }
}

/// Checks a status move with a reply. Moving to "answered" needs the answer
/// text; other moves may come with a note or without.
pub fn check_reply(
    current: InquiryStatus,
    to: Option<InquiryStatus>,
    body: &str,
) -> Result<String, Problems> {
    let mut c = Check::default();
    let required = to == Some(InquiryStatus::Answered) || to.is_none();
    let body = c.text("body", body, required, MAX_REPLY);
    if let Some(to) = to {
        if !current.can_move_to(to) {
            c.push(
                "status",
                format!(
                    "{}から{}には進められません",
                    current.label_ja(),
                    to.label_ja()
                ),
                format!(
                    "cannot move from {} to {}",
                    current.label_en(),
                    to.label_en()
                ),
            );
        }
    } else if current == InquiryStatus::Closed {
        c.push(
            "status",
            "完了した相談には記録を追加できません",
            "a closed inquiry takes no more entries",
        );
    }
    c.finish(body)
}

/// Who may see an inquiry's personal fields: the desk, and users of a
/// department it is routed to.
pub fn may_see_personal(is_desk: bool, user_department: &str, routed: &[String]) -> bool {
    is_desk || (!user_department.is_empty() && routed.iter().any(|d| d == user_department))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    fn form() -> InquiryForm {
        InquiryForm {
            category: "partnership".into(),
            channel: "phone".into(),
            org_name: "みなと電機".into(),
            subject: "実証フィールドについて".into(),
            content: "公園で実証をしたい".into(),
            person_name: "佐藤".into(),
            email: "sato@example.jp".into(),
            departments: "D01, D02".into(),
            ..InquiryForm::default()
        }
    }

    #[test]
    fn validate_defaults_and_problems() {
        let today = day("2026-04-01");
        let i = validate(&form(), today, false).unwrap();
        assert_eq!(i.due_on, day("2026-04-15"));
        assert_eq!(i.departments, vec!["D01", "D02"]);
        let public = validate(&form(), today, true).unwrap();
        assert_eq!(public.channel, Channel::Web);
        let bad = InquiryForm {
            category: "x".into(),
            due_on: "2026-03-01".into(),
            email: "bad".into(),
            ..InquiryForm::default()
        };
        let err = validate(&bad, today, true).unwrap_err();
        for f in [
            "category",
            "subject",
            "content",
            "person_name",
            "email",
            "due_on",
        ] {
            assert!(err.has(f), "{f}: {err}");
        }
        let no_contact = InquiryForm {
            email: String::new(),
            ..form()
        };
        assert!(validate(&no_contact, today, true).unwrap_err().has("email"));
        assert!(
            validate(&no_contact, today, false).is_ok(),
            "staff may record a call without contact"
        );
    }

    #[test]
    fn status_moves() {
        use InquiryStatus::*;
        assert!(Received.can_move_to(InProgress));
        assert!(!Received.can_move_to(Closed));
        assert!(!Closed.can_move_to(InProgress));
        assert_eq!(Answered.next_allowed(), vec![InProgress, Closed]);
        assert!(
            check_reply(InProgress, Some(Answered), "")
                .unwrap_err()
                .has("body")
        );
        assert_eq!(
            check_reply(InProgress, Some(Answered), " 回答 ").unwrap(),
            "回答"
        );
        assert!(
            check_reply(Received, Some(Closed), "x")
                .unwrap_err()
                .has("status")
        );
        assert!(check_reply(Received, Some(InProgress), "").is_ok());
        assert!(check_reply(Closed, None, "x").unwrap_err().has("status"));
    }

    #[test]
    fn overdue_retention_and_visibility() {
        let today = day("2026-05-01");
        let new = validate(&form(), day("2026-04-01"), false).unwrap();
        let mut i = Inquiry {
            id: 1,
            category: new.category,
            channel: new.channel,
            status: InquiryStatus::InProgress,
            org_name: new.org_name,
            member_id: None,
            subject: new.subject,
            content: new.content,
            personal: new.personal,
            departments: new.departments,
            received_on: new.received_on,
            due_on: new.due_on,
            closed_on: None,
            erased_on: None,
        };
        assert!(i.is_overdue(today));
        assert!(
            !i.is_overdue(day("2026-04-15")),
            "due day itself is not overdue"
        );
        i.status = InquiryStatus::Answered;
        assert!(!i.is_overdue(today));
        assert!(!i.retention_expired(today, 30));
        i.status = InquiryStatus::Closed;
        i.closed_on = Some(day("2026-04-20"));
        assert!(!i.retention_expired(today, 30));
        assert!(i.retention_expired(day("2026-05-21"), 30));
        assert!(i.without_personal().personal.is_empty());
        assert!(may_see_personal(true, "", &i.departments));
        assert!(may_see_personal(false, "D02", &i.departments));
        assert!(!may_see_personal(false, "D03", &i.departments));
        assert!(!may_see_personal(false, "", &i.departments));
    }
}
