//! Organisation: departments (部局) → sections (課) → users.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Department {
    pub code: String,
    pub name_ja: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub sort_order: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub code: String,
    pub department_code: String,
    pub name_ja: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub sort_order: i32,
}

/// What a user may do. Checked on every route of the web server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Users and settings, and everything else.
    Admin,
    /// 市長公室 / 企画: plans, KPIs, reviews; reads everything.
    StrategyOffice,
    /// 財政: money and budget.
    Finance,
    /// Edits only its own department's programs and the KPIs it owns.
    DepartmentEditor,
    /// Reads.
    Viewer,
    /// 市長・副市長: reads the staff pages and the mayor's view, changes nothing.
    Executive,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::StrategyOffice,
        Role::Finance,
        Role::DepartmentEditor,
        Role::Viewer,
        Role::Executive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::StrategyOffice => "strategy_office",
            Role::Finance => "finance",
            Role::DepartmentEditor => "department_editor",
            Role::Viewer => "viewer",
            Role::Executive => "executive",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Role::Admin => "システム管理者",
            Role::StrategyOffice => "企画・戦略担当",
            Role::Finance => "財政担当",
            Role::DepartmentEditor => "部局担当者",
            Role::Viewer => "閲覧者",
            Role::Executive => "市長・副市長",
        }
    }

    /// Accepts the code (`department_editor`) or the Japanese label.
    pub fn parse(s: &str) -> Option<Role> {
        let s = crate::text::normalize(s);
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(&s) || r.label_ja() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Login name, unique.
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub section_code: String,
    pub role: Role,
    /// PHC string of an argon2id hash. Never exported.
    #[serde(default, skip_serializing)]
    pub password_hash: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_parse_round_trips() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(Role::parse(r.label_ja()), Some(r));
        }
        assert_eq!(Role::parse("ＡＤＭＩＮ"), Some(Role::Admin));
        assert_eq!(Role::parse("mayor"), None);
    }
}
