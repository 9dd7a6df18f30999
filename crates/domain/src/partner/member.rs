//! Member organisations of the SDGs partner platform (SDGs推進プラットフォーム
//! 会員): the public registration, its review by staff, and what the public
//! directory may show (only consenting members, only consented fields).

use serde::{Deserialize, Serialize};

use super::{Check, Problems, SdgGoal, lgcode, read_goals};

/// Longest organisation name and address accepted.
pub const MAX_NAME: usize = 200;
pub const MAX_ADDRESS: usize = 300;
pub const MAX_OFFERS: usize = 2000;
pub const MAX_REASON: usize = 1000;

macro_rules! coded_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $code:literal, $ja:literal, $en:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The code kept in the database and sent by forms.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                match s { $($code => Some($name::$variant),)+ _ => None }
            }
            pub fn label_ja(self) -> &'static str {
                match self { $($name::$variant => $ja),+ }
            }
            pub fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }
        }
    };
}
pub(crate) use coded_enum;

coded_enum! {
    /// What kind of organisation a member is.
    OrgType {
        Company = "company", "企業", "Company";
        Npo = "npo", "NPO・市民団体", "NPO / civic group";
        University = "university", "大学・研究機関", "University / research";
        PublicBody = "public", "公的機関", "Public body";
        Other = "other", "その他", "Other";
    }
}

coded_enum! {
    /// Size by employees (the bands small-business statistics use).
    OrgSize {
        Micro = "micro", "20人以下", "up to 20 people";
        Small = "small", "21〜300人", "21 to 300 people";
        Large = "large", "301人以上", "301 people or more";
    }
}

coded_enum! {
    /// The fields a member may agree to show in the public directory. The
    /// name is always shown when the member agrees to be listed at all; the
    /// contact person, e-mail and phone are never public.
    PublicField {
        OrgType = "org_type", "団体種別", "type";
        Size = "size", "規模", "size";
        Address = "address", "所在地", "address";
        Website = "website", "ウェブサイト", "website";
        SdgGoals = "sdg_goals", "関心のあるSDGs", "SDG goals";
        Offers = "offers", "提供できること", "what they offer";
    }
}

coded_enum! {
    /// Where a registration stands.
    MemberStatus {
        Pending = "pending", "審査中", "pending";
        Approved = "approved", "承認", "approved";
        Rejected = "rejected", "却下", "rejected";
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub name: String,
    pub org_type: OrgType,
    pub size: Option<OrgSize>,
    /// `123-4567` or empty.
    pub postal_code: String,
    /// 6-digit local-government code of the address, check digit verified.
    pub lg_code: String,
    pub address: String,
    pub website: String,
}

/// The person the city talks to: personal data, never published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub person: String,
    pub email: String,
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Consent {
    /// Listed in the public directory at all.
    pub publish: bool,
    /// Which fields beyond the name the listing shows.
    pub fields: Vec<PublicField>,
}

impl Consent {
    pub fn shows(&self, f: PublicField) -> bool {
        self.publish && self.fields.contains(&f)
    }
}

/// A registration as it arrives from the form: every value a string (or a
/// list of strings), so that nothing is lost before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberForm {
    pub name: String,
    pub org_type: String,
    pub size: String,
    pub postal_code: String,
    pub lg_code: String,
    pub address: String,
    pub website: String,
    pub contact_person: String,
    pub email: String,
    pub phone: String,
    pub sdg_goals: Vec<String>,
    pub offers: String,
    pub publish: bool,
    pub public_fields: Vec<String>,
}

/// A checked registration, ready to be stored as a pending member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMember {
    pub org: Organisation,
    pub contact: Contact,
    pub sdg_goals: Vec<SdgGoal>,
    pub offers: String,
    pub consent: Consent,
}

/// A stored member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: i64,
    pub org: Organisation,
    pub contact: Contact,
    pub sdg_goals: Vec<SdgGoal>,
    pub offers: String,
    pub consent: Consent,
    pub status: MemberStatus,
    /// Why it was rejected (or a note on approval); told to the applicant.
    pub decision_reason: String,
    pub registered_at: String,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
}

/// What the public directory shows of a member: `None` for every field the
/// member did not agree to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicMember {
    pub id: i64,
    pub name: String,
    pub org_type: Option<OrgType>,
    pub size: Option<OrgSize>,
    pub address: Option<String>,
    pub website: Option<String>,
    pub sdg_goals: Vec<SdgGoal>,
    pub offers: Option<String>,
}

impl Member {
    /// The directory view, only for an approved member who agreed to be listed.
    pub fn public_view(&self) -> Option<PublicMember> {
        if self.status != MemberStatus::Approved || !self.consent.publish {
            return None;
        }
        let c = &self.consent;
        Some(PublicMember {
            id: self.id,
            name: self.org.name.clone(),
            org_type: c.shows(PublicField::OrgType).then_some(self.org.org_type),
            size: if c.shows(PublicField::Size) {
                self.org.size
            } else {
                None
            },
            address: c
                .shows(PublicField::Address)
                .then(|| self.org.address.clone()),
            website: c
                .shows(PublicField::Website)
                .then(|| self.org.website.clone())
                .filter(|w| !w.is_empty()),
            sdg_goals: if c.shows(PublicField::SdgGoals) {
                self.sdg_goals.clone()
            } else {
                Vec::new()
            },
            offers: c
                .shows(PublicField::Offers)
                .then(|| self.offers.clone())
                .filter(|o| !o.is_empty()),
        })
    }
}

/// A plausible e-mail address: one `@`, a dotted domain, no spaces. The
/// real check is the reply the applicant receives.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.len() <= 254
        && s.chars().all(|c| c.is_ascii_graphic())
}

/// Digits with `-`, `+`, `(`, `)` and spaces; 6 to 15 digits.
pub fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
    (6..=15).contains(&digits)
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '(' | ')' | ' '))
}

pub(crate) fn check_email(check: &mut Check, field: &str, raw: &str, required: bool) -> String {
    let email = check.text(field, raw, required, 254).to_ascii_lowercase();
    if !email.is_empty() && !is_email(&email) {
        check.push(
            field,
            "メールアドレスの形式ではありません",
            "is not an e-mail address",
        );
    }
    email
}

pub(crate) fn check_phone(check: &mut Check, field: &str, raw: &str) -> String {
    let phone = check.text(field, raw, false, 30);
    if !phone.is_empty() && !is_phone(&phone) {
        check.push(
            field,
            "電話番号は数字とハイフンで入力してください",
            "must be digits and hyphens (6 to 15 digits)",
        );
    }
    phone
}

/// Checks a registration; every problem is returned by field.
pub fn validate(form: &MemberForm) -> Result<NewMember, Problems> {
    let mut c = Check::default();
    let name = c.text("name", &form.name, true, MAX_NAME);
    let org_type = OrgType::parse(&form.org_type);
    if org_type.is_none() {
        c.push(
            "org_type",
            "団体種別を選んでください",
            "choose the type of organisation",
        );
    }
    let size = match form.size.trim() {
        "" => None,
        s => {
            let parsed = OrgSize::parse(s);
            if parsed.is_none() {
                c.push(
                    "size",
                    "規模の選択肢にありません",
                    "is not one of the sizes",
                );
            }
            parsed
        }
    };
    let postal = c.text("postal_code", &form.postal_code, false, 8);
    let postal_digits: String = postal.chars().filter(|ch| ch.is_ascii_digit()).collect();
    let postal_code = if postal.is_empty() {
        String::new()
    } else if postal_digits.len() == 7 && postal.chars().all(|ch| ch.is_ascii_digit() || ch == '-')
    {
        format!("{}-{}", &postal_digits[..3], &postal_digits[3..])
    } else {
        c.push(
            "postal_code",
            "郵便番号は7桁の数字で入力してください（例 123-4567）",
            "must be 7 digits (e.g. 123-4567)",
        );
        postal
    };
    let lg_code = match lgcode::normalize(&form.lg_code) {
        Ok(code) => code,
        Err(e) => {
            let (ja, en) = match &e {
                lgcode::LgCodeError::Shape(_) => (
                    "団体コードは5桁または6桁の数字で入力してください".to_string(),
                    "must be a 5- or 6-digit local-government code".to_string(),
                ),
                lgcode::LgCodeError::CheckDigit { expected, .. } => (
                    format!("団体コードの検査数字が違います（正しくは{expected}）"),
                    format!("has a wrong check digit (expected {expected})"),
                ),
            };
            c.push("lg_code", ja, en);
            String::new()
        }
    };
    let address = c.text("address", &form.address, true, MAX_ADDRESS);
    let website = c.text("website", &form.website, false, 300);
    let web_scheme = website.starts_with("https://") || website.starts_with("http://");
    if !website.is_empty() && (!web_scheme || website.chars().any(char::is_whitespace)) {
        c.push(
            "website",
            "https:// または http:// で始まるアドレスを入力してください",
            "must be an address starting with https:// or http://",
        );
    }
    let person = c.text("contact_person", &form.contact_person, true, 100);
    let email = check_email(&mut c, "email", &form.email, true);
    let phone = check_phone(&mut c, "phone", &form.phone);
    let sdg_goals = read_goals(&mut c, "sdg_goals", &form.sdg_goals);
    if sdg_goals.is_empty() && !c.problems.iter().any(|p| p.field == "sdg_goals") {
        c.push(
            "sdg_goals",
            "関心のあるSDGsの目標を1つ以上選んでください",
            "choose at least one SDG goal",
        );
    }
    let offers = c.text("offers", &form.offers, false, MAX_OFFERS);
    let mut fields = Vec::new();
    for f in &form.public_fields {
        match PublicField::parse(f) {
            Some(p) if !fields.contains(&p) => fields.push(p),
            Some(_) => {}
            None => c.push(
                "public_fields",
                format!("「{f}」は公開できる項目ではありません"),
                format!("\"{f}\" is not a field that can be published"),
            ),
        }
    }
    fields.sort_by_key(|f| PublicField::ALL.iter().position(|a| a == f));
    let Some(org_type) = org_type else {
        return Err(Problems(c.problems));
    };
    c.finish(NewMember {
        org: Organisation {
            name,
            org_type,
            size,
            postal_code,
            lg_code,
            address,
            website,
        },
        contact: Contact {
            person,
            email,
            phone,
        },
        sdg_goals,
        offers,
        consent: Consent {
            publish: form.publish,
            // Without consent to be listed, no field is published either.
            fields: if form.publish { fields } else { Vec::new() },
        },
    })
}

/// A staff decision on a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Approve { note: String },
    Reject { reason: String },
}

/// Checks a decision against the member's status: only a pending
/// registration is decided, and a rejection needs its reason (the applicant
/// is told it). Returns the new status and the reason text to keep.
pub fn decide(
    current: MemberStatus,
    decision: &Decision,
) -> Result<(MemberStatus, String), Problems> {
    let mut c = Check::default();
    if current != MemberStatus::Pending {
        c.push(
            "status",
            format!("{}の登録は審査できません（審査中のみ）", current.label_ja()),
            format!(
                "a registration that is {} cannot be decided (only pending ones)",
                current.label_en()
            ),
        );
    }
    let (status, reason) = match decision {
        Decision::Approve { note } => (
            MemberStatus::Approved,
            c.text("reason", note, false, MAX_REASON),
        ),
        Decision::Reject { reason } => (
            MemberStatus::Rejected,
            c.text("reason", reason, true, MAX_REASON),
        ),
    };
    c.finish((status, reason))
}

/// The message the applicant receives about a decision, in both languages.
pub fn decision_notice(member: &Member) -> String {
    match member.status {
        MemberStatus::Approved => format!(
            "{} 様\nSDGs推進プラットフォームへの会員登録を承認しました。\nYour registration with the SDGs partner platform has been approved.{}",
            member.org.name,
            if member.decision_reason.is_empty() {
                String::new()
            } else {
                format!("\n\n{}", member.decision_reason)
            }
        ),
        MemberStatus::Rejected => format!(
            "{} 様\nSDGs推進プラットフォームへの会員登録は承認されませんでした。\nYour registration with the SDGs partner platform was not approved.\n\n理由 / Reason: {}",
            member.org.name, member.decision_reason
        ),
        MemberStatus::Pending => format!(
            "{} 様\n会員登録を受け付けました。審査結果をお知らせします。\nWe have received your registration and will tell you the result.",
            member.org.name
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn good_form() -> MemberForm {
        MemberForm {
            name: "みなと環境株式会社".into(),
            org_type: "company".into(),
            size: "small".into(),
            postal_code: "５３００００１".into(),
            lg_code: "27127".into(),
            address: "大阪市北区梅田1-1".into(),
            website: "https://example.jp".into(),
            contact_person: "山田 花子".into(),
            email: "Hanako@Example.JP".into(),
            phone: "06-1234-5678".into(),
            sdg_goals: vec!["7".into(), "13".into()],
            offers: "太陽光発電の知見".into(),
            publish: true,
            public_fields: vec!["sdg_goals".into(), "org_type".into()],
        }
    }

    #[test]
    fn a_good_form_is_normalised() {
        let m = validate(&good_form()).unwrap();
        assert_eq!(m.org.postal_code, "530-0001");
        assert_eq!(m.org.lg_code, "271276");
        assert_eq!(m.contact.email, "hanako@example.jp");
        assert_eq!(
            m.consent.fields,
            vec![PublicField::OrgType, PublicField::SdgGoals]
        );
        assert_eq!(m.sdg_goals.len(), 2);
    }

    #[test]
    fn every_problem_is_named_by_field() {
        let form = MemberForm {
            name: "".into(),
            org_type: "gang".into(),
            size: "huge".into(),
            postal_code: "12".into(),
            lg_code: "271404".into(),
            address: "".into(),
            website: "javascript:alert(1)".into(),
            contact_person: "x".repeat(101),
            email: "not-an-address".into(),
            phone: "call me".into(),
            sdg_goals: vec!["0".into()],
            offers: "o".repeat(MAX_OFFERS + 1),
            publish: true,
            public_fields: vec!["email".into()],
        };
        let err = validate(&form).unwrap_err();
        for f in [
            "name",
            "org_type",
            "size",
            "postal_code",
            "lg_code",
            "address",
            "website",
            "contact_person",
            "email",
            "phone",
            "sdg_goals",
            "offers",
            "public_fields",
        ] {
            assert!(err.has(f), "{f} missing in {err}");
        }
        let lg = err.for_field("lg_code").next().unwrap();
        assert!(lg.ja.contains("正しくは3") && lg.en.contains("expected 3"));
        assert!(
            validate(&MemberForm::default())
                .unwrap_err()
                .has("sdg_goals")
        );
    }

    #[test]
    fn directory_shows_only_consented_fields_of_approved_members() {
        let new = validate(&good_form()).unwrap();
        let mut m = Member {
            id: 7,
            org: new.org,
            contact: new.contact,
            sdg_goals: new.sdg_goals,
            offers: new.offers,
            consent: new.consent,
            status: MemberStatus::Pending,
            decision_reason: String::new(),
            registered_at: "2026-01-01T00:00:00.000Z".into(),
            decided_at: None,
            decided_by: None,
        };
        assert!(m.public_view().is_none(), "pending is not listed");
        m.status = MemberStatus::Approved;
        let p = m.public_view().unwrap();
        assert_eq!(p.org_type, Some(OrgType::Company));
        assert_eq!(p.address, None);
        assert_eq!(p.offers, None);
        assert_eq!(p.size, None);
        assert_eq!(p.sdg_goals.len(), 2);
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("hanako") && !json.contains("山田"));
        m.consent.publish = false;
        assert!(m.public_view().is_none());
    }

    #[test]
    fn decisions() {
        assert_eq!(
            decide(
                MemberStatus::Pending,
                &Decision::Approve { note: "".into() }
            )
            .unwrap(),
            (MemberStatus::Approved, String::new())
        );
        assert!(
            decide(
                MemberStatus::Pending,
                &Decision::Reject {
                    reason: "  ".into()
                }
            )
            .unwrap_err()
            .has("reason")
        );
        assert!(
            decide(
                MemberStatus::Approved,
                &Decision::Reject {
                    reason: "重複".into()
                }
            )
            .unwrap_err()
            .has("status")
        );
        assert!(
            is_email("a@b.jp") && !is_email("a@b") && !is_email("a b@c.jp") && !is_email("@c.jp")
        );
        assert!(is_phone("+81 6-1234-5678") && !is_phone("12"));
    }
}
