//! A bundle of entities: what an import produces, what the demo builds and what
//! the store applies in one transaction.

use serde::{Deserialize, Serialize};

use crate::kpi::Kpi;
use crate::money::ProgramMoney;
use crate::observation::Observation;
use crate::org::{Department, Section, User};
use crate::plan::{Plan, PlanNode};
use crate::program::{KpiLink, Program, ProgramIndicator};

/// The kinds of table citykpi imports and exports. Each is one flat table in
/// CSV/XLSX, keyed by its natural key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Departments and sections.
    Org,
    Users,
    /// Plans and their tree nodes (policies, measures).
    Plans,
    Kpis,
    Observations,
    Programs,
    /// Program → KPI contributions.
    Links,
    /// Program activity/outcome indicators per year.
    Indicators,
    Money,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Org,
        Kind::Users,
        Kind::Plans,
        Kind::Kpis,
        Kind::Observations,
        Kind::Programs,
        Kind::Links,
        Kind::Indicators,
        Kind::Money,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Org => "org",
            Kind::Users => "users",
            Kind::Plans => "plans",
            Kind::Kpis => "kpis",
            Kind::Observations => "observations",
            Kind::Programs => "programs",
            Kind::Links => "links",
            Kind::Indicators => "indicators",
            Kind::Money => "money",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    #[serde(default)]
    pub departments: Vec<Department>,
    #[serde(default)]
    pub sections: Vec<Section>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub plans: Vec<Plan>,
    #[serde(default)]
    pub plan_nodes: Vec<PlanNode>,
    #[serde(default)]
    pub kpis: Vec<Kpi>,
    #[serde(default)]
    pub observations: Vec<Observation>,
    #[serde(default)]
    pub programs: Vec<Program>,
    #[serde(default)]
    pub links: Vec<KpiLink>,
    #[serde(default)]
    pub indicators: Vec<ProgramIndicator>,
    #[serde(default)]
    pub money: Vec<ProgramMoney>,
}

impl Dataset {
    pub fn is_empty(&self) -> bool {
        self.departments.is_empty()
            && self.sections.is_empty()
            && self.users.is_empty()
            && self.plans.is_empty()
            && self.plan_nodes.is_empty()
            && self.kpis.is_empty()
            && self.observations.is_empty()
            && self.programs.is_empty()
            && self.links.is_empty()
            && self.indicators.is_empty()
            && self.money.is_empty()
    }

    /// Number of records per kind, for import summaries.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("departments", self.departments.len()),
            ("sections", self.sections.len()),
            ("users", self.users.len()),
            ("plans", self.plans.len()),
            ("plan_nodes", self.plan_nodes.len()),
            ("kpis", self.kpis.len()),
            ("observations", self.observations.len()),
            ("programs", self.programs.len()),
            ("links", self.links.len()),
            ("indicators", self.indicators.len()),
            ("money", self.money.len()),
        ]
    }
}

/// The natural keys already in the database, so that an importer can tell an
/// unknown KPI code from a new one defined in the same file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KnownKeys {
    pub departments: std::collections::BTreeSet<String>,
    pub sections: std::collections::BTreeSet<String>,
    pub users: std::collections::BTreeSet<String>,
    pub plans: std::collections::BTreeSet<String>,
    pub plan_nodes: std::collections::BTreeSet<String>,
    pub kpis: std::collections::BTreeSet<String>,
    pub programs: std::collections::BTreeSet<String>,
}

impl KnownKeys {
    /// Adds the keys a dataset defines (used to check a file against the
    /// database plus the file itself).
    pub fn extend_from(&mut self, ds: &Dataset) {
        self.departments
            .extend(ds.departments.iter().map(|d| d.code.clone()));
        self.sections
            .extend(ds.sections.iter().map(|s| s.code.clone()));
        self.users.extend(ds.users.iter().map(|u| u.login.clone()));
        self.plans.extend(ds.plans.iter().map(|p| p.code.clone()));
        self.plan_nodes
            .extend(ds.plan_nodes.iter().map(|n| n.code.clone()));
        self.kpis.extend(ds.kpis.iter().map(|k| k.code.clone()));
        self.programs
            .extend(ds.programs.iter().map(|p| p.code.clone()));
    }
}
