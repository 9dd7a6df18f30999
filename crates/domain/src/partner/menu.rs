//! The SDGs contribution menu (SDGs貢献メニュー): things the city asks
//! members to do, each linked to KPIs and SDG goals; members apply, staff
//! accept, and participation is tracked with its result.

use serde::{Deserialize, Serialize};

use super::member::coded_enum;
use super::{Check, Problems, SdgGoal, read_codes, read_goals};

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
}
