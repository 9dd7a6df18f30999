//! Departments, sections and users; at scale N also (N−1)×11 ward offices.

use citykpi_domain::Dataset;
use citykpi_domain::org::{Department, Role, Section, User};

use crate::names::{self, DEPARTMENTS, DeptDef, SectionDef, WARD_SECTIONS, WARDS};
use crate::rng::DemoRng;

/// Ward offices added per scale step: with the city hall's ~60 sections, 11
/// wards × 6 sections keep "scale N ≈ N times the sections".
pub const WARDS_PER_SCALE_STEP: usize = 11;

/// An organisation unit as the other builders need it.
pub struct Unit {
    pub code: String,
    pub slug: String,
    /// The department's aim, for program purpose texts.
    pub aim: String,
    /// For a ward office: the ward's name without 区 (e.g. 港北).
    pub ward: Option<String>,
    pub sections: Vec<SectionUnit>,
}

pub struct SectionUnit {
    pub code: String,
    pub def: &'static SectionDef,
}

pub struct Org {
    pub units: Vec<Unit>,
}

impl Org {
    /// A section's code by department code and section name.
    pub fn section_code(&self, dept_code: &str, section_ja: &str) -> Option<&str> {
        self.units
            .iter()
            .find(|u| u.code == dept_code)?
            .sections
            .iter()
            .find(|s| s.def.ja == section_ja)
            .map(|s| s.code.as_str())
    }

    pub fn wards(&self) -> impl Iterator<Item = &Unit> {
        self.units.iter().filter(|u| u.ward.is_some())
    }
}

/// Ward name (ja, en) number `i`: the list first, then the list again with a
/// direction prefix (新港北, 東港北 …), then numbered.
fn ward_name(i: usize) -> (String, String) {
    const PREFIXES: [(&str, &str); 6] = [
        ("新", "Shin"),
        ("東", "Higashi"),
        ("西", "Nishi"),
        ("南", "Minami"),
        ("北", "Kita"),
        ("中", "Naka"),
    ];
    let (ja, en) = WARDS[i % WARDS.len()];
    let round = i / WARDS.len();
    if round == 0 {
        return (ja.to_string(), en.to_string());
    }
    let (pja, pen) = PREFIXES[(round - 1) % PREFIXES.len()];
    let lap = (round - 1) / PREFIXES.len();
    if lap == 0 {
        (format!("{pja}{ja}"), format!("{pen}-{en}"))
    } else {
        (
            format!("{pja}{ja}{}", lap + 1),
            format!("{pen}-{en}-{}", lap + 1),
        )
    }
}

fn slug_of(en: &str) -> String {
    en.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

fn push_sections(
    ds: &mut Dataset,
    dept_code: &str,
    defs: &'static [SectionDef],
) -> Vec<SectionUnit> {
    defs.iter()
        .enumerate()
        .map(|(i, def)| {
            let code = format!("{dept_code}-{:02}", i + 1);
            ds.sections.push(Section {
                code: code.clone(),
                department_code: dept_code.to_string(),
                name_ja: def.ja.to_string(),
                name_en: def.en.to_string(),
                sort_order: i as i32 + 1,
            });
            SectionUnit { code, def }
        })
        .collect()
}

pub fn build(scale: u32, rng: &mut DemoRng, ds: &mut Dataset) -> Org {
    let mut units = Vec::new();
    for (i, d) in DEPARTMENTS.iter().enumerate() {
        units.push(city_hall_unit(i, d, ds));
    }
    let ward_count = (scale.max(1) as usize - 1) * WARDS_PER_SCALE_STEP;
    for w in 0..ward_count {
        let (ja, en) = ward_name(w);
        let code = format!("WARD{:03}", w + 1);
        ds.departments.push(Department {
            code: code.clone(),
            name_ja: format!("{ja}区役所"),
            name_en: format!("{en} Ward Office"),
            sort_order: (DEPARTMENTS.len() + w) as i32 + 1,
        });
        let sections = push_sections(ds, &code, WARD_SECTIONS);
        units.push(Unit {
            code,
            slug: slug_of(&en),
            aim: format!("{ja}区の住みよい地域づくり"),
            ward: Some(ja),
            sections,
        });
    }
    let org = Org { units };
    build_users(&org, rng, ds);
    org
}

fn city_hall_unit(i: usize, d: &'static DeptDef, ds: &mut Dataset) -> Unit {
    ds.departments.push(Department {
        code: d.code.to_string(),
        name_ja: d.ja.to_string(),
        name_en: d.en.to_string(),
        sort_order: i as i32 + 1,
    });
    let sections = push_sections(ds, d.code, d.sections);
    Unit {
        code: d.code.to_string(),
        slug: d.slug.to_string(),
        aim: d.aim.to_string(),
        ward: None,
        sections,
    }
}

/// Users for every role. Logins are stable and documented (README of the
/// demo): `admin`, `strategy-*`, `finance-*`, `editor-<department>`, `viewer*`.
fn build_users(org: &Org, rng: &mut DemoRng, ds: &mut Dataset) {
    // (login, department code, section name, role); the sections exist in
    // names::DEPARTMENTS, and a unit test checks that they resolve.
    const FIXED: &[(&str, &str, &str, Role)] = &[
        ("admin", "SOMU", "情報政策課", Role::Admin),
        ("strategy-kikaku", "SHICHO", "企画課", Role::StrategyOffice),
        (
            "strategy-sdgs",
            "SHICHO",
            "SDGs推進担当",
            Role::StrategyOffice,
        ),
        (
            "strategy-smartcity",
            "SHICHO",
            "スマートシティ推進担当",
            Role::StrategyOffice,
        ),
        (
            "strategy-koumin",
            "SHICHO",
            "公民連携課",
            Role::StrategyOffice,
        ),
        ("finance-zaisei", "ZAISEI", "財政課", Role::Finance),
        ("finance-yosan", "ZAISEI", "財政課", Role::Finance),
        ("finance-keiyaku", "ZAISEI", "契約課", Role::Finance),
        ("viewer", "SHICHO", "秘書課", Role::Viewer),
        ("viewer-koho", "SHICHO", "広報戦略推進課", Role::Viewer),
        ("viewer-kyoiku", "KYOIKU", "教育政策課", Role::Viewer),
    ];
    let person = |rng: &mut DemoRng| {
        let family = rng.pick(names::FAMILY_NAMES).copied().unwrap_or("佐藤");
        let given = rng.pick(names::GIVEN_NAMES).copied().unwrap_or("健太");
        format!("{family} {given}")
    };
    let mail = |login: &str| Some(format!("{login}@{}", names::MAIL_DOMAIN));
    for (login, dept, section, role) in FIXED {
        let Some(section_code) = org.section_code(dept, section) else {
            continue;
        };
        ds.users.push(User {
            login: login.to_string(),
            display_name: person(rng),
            email: mail(login),
            section_code: section_code.to_string(),
            role: *role,
            password_hash: None,
            active: true,
        });
    }
    for unit in &org.units {
        let Some(first) = unit.sections.first() else {
            continue;
        };
        let login = format!("editor-{}", unit.slug);
        ds.users.push(User {
            display_name: person(rng),
            email: mail(&login),
            login,
            section_code: first.code.clone(),
            role: Role::DepartmentEditor,
            password_hash: None,
            active: true,
        });
    }
    // One approver per department: confirms what the department's editor
    // enters before it is published (four eyes; the marks are set by
    // `citykpi_app::demo`, the approver table is not part of a dataset).
    for unit in &org.units {
        let Some(section) = unit.sections.last() else {
            continue;
        };
        let login = format!("{}{}", crate::APPROVER_PREFIX, unit.slug);
        ds.users.push(User {
            display_name: person(rng),
            email: mail(&login),
            login,
            section_code: section.code.clone(),
            role: Role::DepartmentEditor,
            password_hash: None,
            active: true,
        });
    }
    // The mayor (read-only executive view), after every name drawn above so
    // that the other accounts stay as they were.
    if let Some(section_code) = org.section_code("SHICHO", "秘書課") {
        ds.users.push(User {
            login: "mayor".to_string(),
            display_name: format!("{}市長", names::CITY_NAME_JA),
            email: mail("mayor"),
            section_code: section_code.to_string(),
            role: Role::Executive,
            password_hash: None,
            active: true,
        });
    }
    // One retired account, as every real user table has.
    if let Some(section_code) = org.section_code("SOMU", "人事課") {
        ds.users.push(User {
            login: "viewer-retired".to_string(),
            display_name: person(rng),
            email: None,
            section_code: section_code.to_string(),
            role: Role::Viewer,
            password_hash: None,
            active: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ward_names_are_unique_far_beyond_the_list() {
        let names: std::collections::BTreeSet<String> = (0..1000).map(|i| ward_name(i).0).collect();
        assert_eq!(names.len(), 1000);
        let slugs: std::collections::BTreeSet<String> =
            (0..1000).map(|i| slug_of(&ward_name(i).1)).collect();
        assert_eq!(slugs.len(), 1000);
        assert_eq!(ward_name(0), ("港北".to_string(), "Kohoku".to_string()));
        assert_eq!(ward_name(WARDS.len()).0, "新港北");
    }
}
