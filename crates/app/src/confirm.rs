//! Confirming actuals for publication (確認). A value typed in by a
//! department editor is unconfirmed (未確認) until someone who may sign it
//! off confirms it (確認済); only confirmed values reach the public portal,
//! the public API and the open data.
//!
//! Who may confirm: the administrator and the strategy office, every KPI; a
//! department editor whom the administrator marked as approver, the KPIs
//! their department owns. Nobody confirms a value they entered themselves
//! (four eyes). A confirmation names the version the confirmer saw, so a
//! value changed in between is refused instead of confirmed unseen.

use std::collections::HashMap;

use citykpi_domain::observation::{Observation, Period};
use citykpi_domain::org::Role;
/// What a confirmation did to each value (unchanged: it was confirmed already).
pub use citykpi_store::Change;
use citykpi_store::{ConfirmItem, Store, StoreError};

use crate::AppError;

/// The person confirming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmer {
    pub login: String,
    pub role: Role,
    /// The department of the user's section ("" if unknown).
    pub department_code: String,
    /// Marked as approver by the administrator.
    pub approver: bool,
}

impl Confirmer {
    /// The stored, active user `login` as a confirmer.
    pub async fn load(store: &Store, login: &str) -> Result<Confirmer, AppError> {
        let user = store
            .user(login)
            .await?
            .filter(|u| u.active)
            .ok_or_else(|| AppError::NotFound(format!("ユーザー / user {login}")))?;
        let department_code = store
            .sections()
            .await?
            .into_iter()
            .find(|s| s.code == user.section_code)
            .map(|s| s.department_code)
            .unwrap_or_default();
        Ok(Confirmer {
            approver: store.is_approver(login).await?,
            login: user.login,
            role: user.role,
            department_code,
        })
    }

    /// May this person confirm actuals of a KPI owned by `owner_departments`
    /// (their own entries aside, see [`refusal`])?
    pub fn may_confirm_kpi(&self, owner_departments: &[&str]) -> bool {
        match self.role {
            Role::Admin | Role::StrategyOffice => true,
            Role::DepartmentEditor => {
                self.approver
                    && !self.department_code.is_empty()
                    && owner_departments.contains(&self.department_code.as_str())
            }
            Role::Finance | Role::Viewer | Role::Executive => false,
        }
    }

    /// May this person confirm `obs` of a KPI owned by `owner_departments`?
    pub fn may_confirm(&self, obs: &Observation, owner_departments: &[&str]) -> bool {
        refusal(self, obs, owner_departments).is_none()
    }
}

/// Why a confirmation was refused; each names the actual.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error(
        "実績値「{key}」を確認する権限がありません（所管部局の承認者または企画・戦略担当が確認します） / you may not confirm actual \"{key}\": its owner department's approver or the strategy office confirms it"
    )]
    NotAllowed { key: String },
    #[error(
        "実績値「{key}」はご自身が入力した値です。別の人が確認してください / you entered actual \"{key}\" yourself: someone else must confirm it"
    )]
    OwnEntry { key: String },
    #[error("実績値「{key}」はありません / there is no actual \"{key}\"")]
    NotFound { key: String },
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StoreError> for ConfirmError {
    fn from(e: StoreError) -> Self {
        ConfirmError::App(AppError::Store(e))
    }
}

fn key_of(obs: &Observation) -> String {
    format!("{} {} {}", obs.kpi_code, obs.period, obs.area_code)
}

/// Why `who` may not confirm `obs`, or `None` when they may.
pub fn refusal(
    who: &Confirmer,
    obs: &Observation,
    owner_departments: &[&str],
) -> Option<ConfirmError> {
    if !who.may_confirm_kpi(owner_departments) {
        return Some(ConfirmError::NotAllowed { key: key_of(obs) });
    }
    if obs.entered_by == who.login {
        return Some(ConfirmError::OwnEntry { key: key_of(obs) });
    }
    None
}

/// The departments owning each KPI (through its owner sections).
async fn owner_departments(store: &Store) -> Result<HashMap<String, Vec<String>>, AppError> {
    let dept_of: HashMap<String, String> = store
        .sections()
        .await?
        .into_iter()
        .map(|s| (s.code, s.department_code))
        .collect();
    Ok(store
        .kpis()
        .await?
        .into_iter()
        .map(|k| {
            let depts = k
                .owner_sections
                .iter()
                .filter_map(|s| dept_of.get(s).cloned())
                .collect();
            (k.code, depts)
        })
        .collect())
}

/// Confirms `items` (each at the version its confirmer saw) in one
/// transaction with an audit row each. Every item is checked first: one that
/// `who` may not confirm refuses the whole request and nothing is confirmed.
pub async fn confirm(
    store: &Store,
    who: &Confirmer,
    items: &[ConfirmItem],
) -> Result<Vec<Change>, ConfirmError> {
    let owners = owner_departments(store).await?;
    for item in items {
        let key = format!("{} {} {}", item.kpi_code, item.period, item.area_code);
        let (obs, _) = store
            .observation_with_version(&item.kpi_code, item.period, &item.area_code)
            .await?
            .ok_or(ConfirmError::NotFound { key })?;
        let depts: Vec<&str> = owners
            .get(&item.kpi_code)
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default();
        if let Some(refused) = refusal(who, &obs, &depts) {
            return Err(refused);
        }
    }
    Ok(store.confirm_observations(items, &who.login).await?)
}

/// Confirms the city's actuals of `kpi_code` for `periods` as they are
/// stored now (the CLI, whose operator names what they have checked).
pub async fn confirm_current(
    store: &Store,
    who: &Confirmer,
    kpi_code: &str,
    periods: &[Period],
) -> Result<Vec<Change>, ConfirmError> {
    let area = match crate::status::city_code(store).await? {
        Some(a) => a,
        None => {
            crate::status::kpi_status(store, crate::clock::last_closed_fiscal_year())
                .await?
                .area_code
        }
    };
    let mut items = Vec::with_capacity(periods.len());
    for p in periods {
        let (_, version) = store
            .observation_with_version(kpi_code, *p, &area)
            .await?
            .ok_or_else(|| ConfirmError::NotFound {
                key: format!("{kpi_code} {p} {area}"),
            })?;
        items.push(ConfirmItem {
            kpi_code: kpi_code.to_string(),
            period: *p,
            area_code: area.clone(),
            version,
        });
    }
    confirm(store, who, &items).await
}

/// The unconfirmed actuals `who` may confirm, in the order given.
/// `owners_of` gives the departments owning a KPI.
pub fn awaiting<'a, F>(
    who: &Confirmer,
    observations: impl IntoIterator<Item = &'a Observation>,
    owners_of: F,
) -> Vec<&'a Observation>
where
    F: Fn(&str) -> Vec<&'a str>,
{
    observations
        .into_iter()
        .filter(|o| !o.is_confirmed() && who.may_confirm(o, &owners_of(&o.kpi_code)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use citykpi_domain::FiscalYear;
    use citykpi_domain::observation::{ObsStatus, ObsValue};

    fn who(role: Role, dept: &str, approver: bool) -> Confirmer {
        Confirmer {
            login: "me".into(),
            role,
            department_code: dept.into(),
            approver,
        }
    }

    fn obs(entered_by: &str) -> Observation {
        Observation {
            kpi_code: "K1".into(),
            period: Period::Year(FiscalYear::new(2024).unwrap()),
            area_code: "271004".into(),
            value: ObsValue::Value(1.0),
            status: ObsStatus::Final,
            source: String::new(),
            note: String::new(),
            entered_by: entered_by.into(),
            entered_at: String::new(),
            confirmed_by: String::new(),
            confirmed_at: String::new(),
        }
    }

    #[test]
    fn who_confirms_what() {
        let other = obs("editor");
        let own = obs("me");
        let d1 = ["D1"];
        assert!(who(Role::StrategyOffice, "", false).may_confirm(&other, &d1));
        assert!(who(Role::Admin, "", false).may_confirm(&other, &d1));
        assert!(who(Role::DepartmentEditor, "D1", true).may_confirm(&other, &d1));
        // Not an approver, another department's approver, finance, viewer: no.
        assert!(!who(Role::DepartmentEditor, "D1", false).may_confirm(&other, &d1));
        assert!(!who(Role::DepartmentEditor, "D2", true).may_confirm(&other, &d1));
        assert!(!who(Role::Finance, "D1", true).may_confirm(&other, &d1));
        assert!(!who(Role::Viewer, "D1", true).may_confirm(&other, &d1));
        // Four eyes: nobody confirms their own entry, the strategy office included.
        for w in [
            who(Role::DepartmentEditor, "D1", true),
            who(Role::StrategyOffice, "", false),
            who(Role::Admin, "", false),
        ] {
            assert!(matches!(
                refusal(&w, &own, &d1),
                Some(ConfirmError::OwnEntry { .. })
            ));
        }
        let list = [obs("editor"), obs("me")];
        let w = who(Role::DepartmentEditor, "D1", true);
        assert_eq!(awaiting(&w, &list, |_| vec!["D1"]).len(), 1);
    }
}
