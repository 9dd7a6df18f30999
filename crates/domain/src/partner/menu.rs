//! The SDGs contribution menu (SDGs貢献メニュー): things the city asks
//! members to do, each linked to KPIs and SDG goals; members apply, staff
//! accept, and participation is tracked with its result.

use serde::{Deserialize, Serialize};

use super::member::coded_enum;
use super::{Check, Day, Problems, SdgGoal, read_codes, read_goals};

coded_enum! {
    MenuKind {
        Sponsor = "sponsor", "事業への協賛", "sponsor a program";
        Field = "field", "実証フィールドの提供", "offer a demonstration field";
        Volunteer = "volunteer", "社員ボランティア", "employee volunteering";
        Donation = "donation", "寄附・物品提供", "donation";
        Other = "other", "その他", "other";
    }
}

coded_enum! {
    /// 申込 → 受入 / 見送り; 受入 → 完了 (with the result).
    ParticipationStatus {
        Applied = "applied", "申込", "applied";
        Accepted = "accepted", "受入", "accepted";
        Declined = "declined", "見送り", "declined";
        Completed = "completed", "完了", "completed";
    }
}

impl ParticipationStatus {
    pub fn can_move_to(self, to: ParticipationStatus) -> bool {
        use ParticipationStatus::*;
        matches!(
            (self, to),
            (Applied, Accepted) | (Applied, Declined) | (Accepted, Completed)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuItem {
    pub code: String,
    pub title: String,
    pub kind: MenuKind,
    pub description: String,
    pub kpi_codes: Vec<String>,
    pub sdg_goals: Vec<SdgGoal>,
    /// Open for applications.
    pub open: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuItemForm {
    pub code: String,
    pub title: String,
    pub kind: String,
    pub description: String,
    pub kpi_codes: String,
    pub sdg_goals: Vec<String>,
    pub open: bool,
}

/// A menu item must say which KPIs it serves: that is what the menu is for.
pub fn validate_item(form: &MenuItemForm) -> Result<MenuItem, Problems> {
    let mut c = Check::default();
    let codes = read_codes(&mut c, "code", &form.code);
    let code = match codes.as_slice() {
        [one] => one.clone(),
        _ => {
            if !c.problems.iter().any(|p| p.field == "code") {
                c.push(
                    "code",
                    "コードを1つ入力してください",
                    "give exactly one code",
                );
            }
            String::new()
        }
    };
    let title = c.text("title", &form.title, true, 200);
    let kind = MenuKind::parse(&form.kind);
    if kind.is_none() {
        c.push("kind", "種類を選んでください", "choose a kind");
    }
    let description = c.text("description", &form.description, false, 5000);
    let kpi_codes = read_codes(&mut c, "kpi_codes", &form.kpi_codes);
    if kpi_codes.is_empty() && !c.problems.iter().any(|p| p.field == "kpi_codes") {
        c.push(
            "kpi_codes",
            "寄与するKPIを1つ以上指定してください",
            "name at least one KPI it serves",
        );
    }
    let sdg_goals = read_goals(&mut c, "sdg_goals", &form.sdg_goals);
    let Some(kind) = kind else {
        return Err(Problems(c.problems));
    };
    c.finish(MenuItem {
        code,
        title,
        kind,
        description,
        kpi_codes,
        sdg_goals,
        open: form.open,
    })
}

/// A member's application to a menu item and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participation {
    pub id: i64,
    pub menu_code: String,
    pub member_id: i64,
    pub status: ParticipationStatus,
    pub note: String,
    pub result: String,
}

/// A member's own application through the public menu page: the member
/// number and the registered e-mail address prove who applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfApplicationForm {
    pub member_id: String,
    pub email: String,
    pub note: String,
}

/// The checked fields of a [`SelfApplicationForm`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfApplication {
    pub member_id: i64,
    /// Lower-cased, as members' addresses are stored.
    pub email: String,
    pub note: String,
}

/// Checks the form's shape only; whether number and address belong together
/// is the store's to say (without telling which of the two was wrong).
pub fn validate_self_application(form: &SelfApplicationForm) -> Result<SelfApplication, Problems> {
    let mut c = Check::default();
    let raw = c.text("member_id", &form.member_id, true, 20);
    let member_id = raw
        .trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0);
    if member_id.is_none() && !raw.is_empty() {
        c.push(
            "member_id",
            "会員番号は数字で入力してください",
            "the member number is a number",
        );
    }
    let email = super::member::check_email(&mut c, "email", &form.email, true);
    let note = c.text("note", &form.note, false, 2000);
    let Some(member_id) = member_id else {
        return Err(Problems(c.problems));
    };
    c.finish(SelfApplication {
        member_id,
        email,
        note,
    })
}

/// One dated result of a participation (what the member achieved, as the
/// desk learnt it); a participation may have several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipationResult {
    pub id: i64,
    pub participation_id: i64,
    pub on: Day,
    pub body: String,
    pub recorded_by: String,
}

/// A result's day and text, checked: a real calendar day, not after
/// `today`, and a text of at most 2,000 characters.
pub fn validate_result(on: &str, body: &str, today: Day) -> Result<(Day, String), Problems> {
    let mut c = Check::default();
    let day = if on.trim().is_empty() {
        c.push("on", "日付を入力してください", "is required");
        None
    } else {
        match Day::parse(on) {
            Some(d) if d > today => {
                c.push(
                    "on",
                    format!("{today}より後の日付は記録できません"),
                    format!("cannot be after {today}"),
                );
                None
            }
            Some(d) => Some(d),
            None => {
                c.push(
                    "on",
                    "日付は 2025-06-30 の形で入力してください",
                    "give the day as 2025-06-30",
                );
                None
            }
        }
    };
    let body = c.text("body", body, true, 2000);
    match day {
        Some(d) => c.finish((d, body)),
        None => Err(Problems(c.problems)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_needs_kpis_and_moves_are_ordered() {
        let err = validate_item(&MenuItemForm {
            code: "M 1".into(),
            ..MenuItemForm::default()
        })
        .unwrap_err();
        for f in ["code", "title", "kind", "kpi_codes"] {
            assert!(err.has(f), "{f}");
        }
        let ok = validate_item(&MenuItemForm {
            code: "M-1".into(),
            title: "公園清掃".into(),
            kind: "volunteer".into(),
            kpi_codes: "K1".into(),
            sdg_goals: vec!["11".into()],
            ..MenuItemForm::default()
        })
        .unwrap();
        assert_eq!(ok.kind, MenuKind::Volunteer);
        use ParticipationStatus::*;
        assert!(Applied.can_move_to(Accepted) && Accepted.can_move_to(Completed));
        assert!(!Declined.can_move_to(Accepted) && !Applied.can_move_to(Completed));
    }

    #[test]
    fn self_application_and_result_fields() {
        let err = validate_self_application(&SelfApplicationForm {
            member_id: "abc".into(),
            email: "not-mail".into(),
            note: "x".repeat(2001),
        })
        .unwrap_err();
        for f in ["member_id", "email", "note"] {
            assert!(err.has(f), "{f}");
        }
        assert!(
            validate_self_application(&SelfApplicationForm::default())
                .unwrap_err()
                .has("member_id")
        );
        let ok = validate_self_application(&SelfApplicationForm {
            member_id: "＃１２".into(),
            email: " Taro@Example.JP ".into(),
            note: String::new(),
        });
        // A full-width "#12" is read as member 12 once normalised.
        let ok = ok.unwrap();
        assert_eq!((ok.member_id, ok.email.as_str()), (12, "taro@example.jp"));
        let today = Day::new(2026, 11, 27).unwrap();
        assert!(
            validate_result("2026-11-28", "x", today)
                .unwrap_err()
                .has("on")
        );
        assert!(
            validate_result("2026-02-30", "x", today)
                .unwrap_err()
                .has("on")
        );
        assert!(validate_result("", "", today).unwrap_err().has("body"));
        let (d, b) = validate_result("2026/11/1", " 清掃 ", today).unwrap();
        assert_eq!((d.to_string().as_str(), b.as_str()), ("2026-11-01", "清掃"));
    }
}
