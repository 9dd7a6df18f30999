//! Partnerships: the SDGs partner platform (members, the SDGs
//! contribution menu, matching), the one-stop desk (inquiries), the
//! private-proposal desk, smart-city demonstrations and PR plans.
//!
//! What makes these more than a contact list is that every record names the
//! plan's KPI codes and SDG goals it serves, and one organisation is one
//! member record that inquiries, proposals and demonstrations point to.
//!
//! Everything here is pure: validation returns every problem by field with a
//! Japanese and an English reason, so that a form can show them next to the
//! fields and nothing is written while any remains.

pub mod attachment;
pub mod date;
pub mod desk;
pub use crate::lgcode;
pub mod matching;
pub mod member;
pub mod menu;
pub mod ngsi;
pub mod outreach;
pub mod projects;
pub mod proposal;

pub use date::Day;

use serde::{Deserialize, Serialize};

/// One problem of a submitted record: the field it is about and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The form field's name (`name`, `email`, `sdg_goals` …).
    pub field: String,
    pub ja: String,
    pub en: String,
}

impl Problem {
    pub fn new(field: &str, ja: impl Into<String>, en: impl Into<String>) -> Problem {
        Problem {
            field: field.to_string(),
            ja: ja.into(),
            en: en.into(),
        }
    }
}

/// Every problem of a submitted record. Never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", render_problems(.0))]
pub struct Problems(pub Vec<Problem>);

fn render_problems(ps: &[Problem]) -> String {
    ps.iter()
        .map(|p| format!("{}: {} / {}", p.field, p.ja, p.en))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Problems {
    /// The problems of one field (for showing them beside it).
    pub fn for_field<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a Problem> + 'a {
        self.0.iter().filter(move |p| p.field == field)
    }
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|p| p.field == field)
    }
}

/// Collects problems while a form is checked field by field.
#[derive(Debug, Default)]
pub(crate) struct Check {
    pub problems: Vec<Problem>,
}

impl Check {
    pub fn push(&mut self, field: &str, ja: impl Into<String>, en: impl Into<String>) {
        self.problems.push(Problem::new(field, ja, en));
    }

    /// A trimmed, NFKC-normalised text of at most `max` characters; `required`
    /// refuses an empty one. Control characters other than newlines and tabs
    /// are refused: they have no place in a form and break exports.
    pub fn text(&mut self, field: &str, value: &str, required: bool, max: usize) -> String {
        let v = crate::text::normalize(value);
        if required && v.is_empty() {
            self.push(field, "入力してください", "is required");
        }
        let n = v.chars().count();
        if n > max {
            self.push(
                field,
                format!("{max}文字以内で入力してください（{n}文字）"),
                format!("must be at most {max} characters ({n} given)"),
            );
        }
        if v.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            self.push(
                field,
                "使えない制御文字が含まれています",
                "contains control characters",
            );
        }
        v
    }

    pub fn finish<T>(self, value: T) -> Result<T, Problems> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(Problems(self.problems))
        }
    }
}

/// An SDG goal, 1 to 17.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct SdgGoal(u8);

impl SdgGoal {
    pub fn new(n: u8) -> Option<SdgGoal> {
        (1..=17).contains(&n).then_some(SdgGoal(n))
    }
    pub fn number(self) -> u8 {
        self.0
    }
    pub fn all() -> impl Iterator<Item = SdgGoal> {
        (1..=17).map(SdgGoal)
    }
    /// Short names of the 17 goals (the official Japanese short titles).
    pub fn label_ja(self) -> &'static str {
        SDG_JA[usize::from(self.0 - 1)]
    }
    pub fn label_en(self) -> &'static str {
        SDG_EN[usize::from(self.0 - 1)]
    }
}

impl TryFrom<u8> for SdgGoal {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        SdgGoal::new(n).ok_or_else(|| format!("SDG goal {n} is not between 1 and 17"))
    }
}

impl From<SdgGoal> for u8 {
    fn from(g: SdgGoal) -> u8 {
        g.0
    }
}

const SDG_JA: [&str; 17] = [
    "貧困をなくそう",
    "飢餓をゼロに",
    "すべての人に健康と福祉を",
    "質の高い教育をみんなに",
    "ジェンダー平等を実現しよう",
    "安全な水とトイレを世界中に",
    "エネルギーをみんなに そしてクリーンに",
    "働きがいも経済成長も",
    "産業と技術革新の基盤をつくろう",
    "人や国の不平等をなくそう",
    "住み続けられるまちづくりを",
    "つくる責任 つかう責任",
    "気候変動に具体的な対策を",
    "海の豊かさを守ろう",
    "陸の豊かさも守ろう",
    "平和と公正をすべての人に",
    "パートナーシップで目標を達成しよう",
];
const SDG_EN: [&str; 17] = [
    "No poverty",
    "Zero hunger",
    "Good health and well-being",
    "Quality education",
    "Gender equality",
    "Clean water and sanitation",
    "Affordable and clean energy",
    "Decent work and economic growth",
    "Industry, innovation and infrastructure",
    "Reduced inequalities",
    "Sustainable cities and communities",
    "Responsible consumption and production",
    "Climate action",
    "Life below water",
    "Life on land",
    "Peace, justice and strong institutions",
    "Partnerships for the goals",
];

/// Reads SDG goals from form values ("3", "１１", "SDG7"); every bad value is
/// a problem of `field`. Sorted, without repeats.
pub(crate) fn read_goals(check: &mut Check, field: &str, values: &[String]) -> Vec<SdgGoal> {
    let mut goals = Vec::new();
    for raw in values {
        let v = crate::text::normalize(raw);
        if v.is_empty() {
            continue;
        }
        let digits = v
            .trim_start_matches(|c: char| c.is_ascii_alphabetic())
            .trim();
        match digits.parse::<u8>().ok().and_then(SdgGoal::new) {
            Some(g) => goals.push(g),
            None => check.push(
                field,
                format!("「{v}」はSDGsの目標（1〜17）ではありません"),
                format!("\"{v}\" is not an SDG goal (1 to 17)"),
            ),
        }
    }
    goals.sort();
    goals.dedup();
    goals
}

/// Reads KPI codes from a comma/space/newline-separated text: upper-case
/// ASCII letters, digits, `-` and `_`, at most 40 characters each.
pub(crate) fn read_codes(check: &mut Check, field: &str, text: &str) -> Vec<String> {
    let text = crate::text::normalize(text);
    let mut codes: Vec<String> = Vec::new();
    for code in text
        .split(|c: char| c == ',' || c == '、' || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        let ok = code.len() <= 40
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if ok {
            if !codes.iter().any(|c| c == code) {
                codes.push(code.to_string());
            }
        } else {
            check.push(
                field,
                format!("「{code}」はコードとして使えません（英数字と - _ . のみ、40文字まで）"),
                format!("\"{code}\" is not a valid code (letters, digits, - _ . up to 40)"),
            );
        }
    }
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_are_read_with_every_problem() {
        let mut c = Check::default();
        let g = read_goals(
            &mut c,
            "sdg_goals",
            &[
                "3".into(),
                "１１".into(),
                "SDG7".into(),
                "18".into(),
                "x".into(),
                "3".into(),
            ],
        );
        assert_eq!(
            g.iter().map(|g| g.number()).collect::<Vec<_>>(),
            vec![3, 7, 11]
        );
        assert_eq!(c.problems.len(), 2);
        assert!(c.problems.iter().all(|p| p.field == "sdg_goals"));
        assert_eq!(
            SdgGoal::new(17).unwrap().label_en(),
            "Partnerships for the goals"
        );
        assert!(SdgGoal::new(0).is_none());
        assert!(serde_json::from_str::<SdgGoal>("18").is_err());
    }

    #[test]
    fn text_rules() {
        let mut c = Check::default();
        assert_eq!(c.text("a", "  ＡＢＣ ", true, 3), "ABC");
        c.text("b", "", true, 10);
        c.text("c", "abcd", false, 3);
        c.text("d", "a\u{7}b", false, 10);
        let fields: Vec<_> = c.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, vec!["b", "c", "d"]);
        let err = c.finish(()).unwrap_err();
        assert!(err.has("c") && !err.has("a"));
        assert!(err.to_string().contains("is required"));
    }

    #[test]
    fn codes_split_and_checked() {
        let mut c = Check::default();
        let codes = read_codes(&mut c, "kpi_codes", "K-01, K-02、K-01\nbad code!");
        assert_eq!(codes, vec!["K-01", "K-02", "bad"]);
        assert_eq!(c.problems.len(), 1);
    }
}
