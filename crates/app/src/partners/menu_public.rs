//! Services of the menu public part of the partnerships area: the
//! SDGs contribution menu (SDGs貢献メニュー) as the public sees it, members
//! applying to an item themselves, staff creating, editing and closing
//! items, and the dated results of each participation.
//!
//! A member proves who it is by its member number and the e-mail address it
//! registered with. A wrong number and a wrong address get the same answer,
//! so the form tells nobody whether a member exists.

use citykpi_domain::partner::menu::{
    MenuItem, MenuItemForm, Participation, ParticipationResult, SelfApplicationForm, validate_item,
    validate_result, validate_self_application,
};
use citykpi_domain::partner::{Problem, Problems};
use citykpi_store::Store;

use super::{PUBLIC_ACTOR, PartnersError, Result, member_names, name_of, today};

/// The one answer to a member number and e-mail address that do not belong
/// together, whichever of the two is wrong (or whether the member exists).
pub fn credentials_problem() -> Problem {
    Problem::new(
        "member_id",
        "会員番号とメールアドレスの組み合わせを確認できませんでした。登録時のメールアドレスをご確認ください",
        "the member number and e-mail address do not match our records; please check the address you registered with",
    )
}

fn item_not_found(code: &str) -> PartnersError {
    PartnersError::NotFound(format!(
        "貢献メニュー（{code}）が見つかりません / menu item {code} not found"
    ))
}

/// The menu items open for applications, by code (what the public sees).
pub async fn open_items(store: &Store) -> Result<Vec<MenuItem>> {
    Ok(store
        .menu_items()
        .await?
        .into_iter()
        .filter(|i| i.open)
        .collect())
}

/// An item open for applications; a closed or unknown one is not found.
pub async fn open_item(store: &Store, code: &str) -> Result<MenuItem> {
    store
        .menu_item(code)
        .await?
        .filter(|i| i.open)
        .ok_or_else(|| item_not_found(code))
}

/// A member applies to an open item through the public form. The
/// application waits for the desk's acceptance (status "applied"), and the
/// audit log names the public as its author.
pub async fn apply_as_member(
    store: &Store,
    code: &str,
    form: &SelfApplicationForm,
) -> Result<Participation> {
    let item = open_item(store, code).await?;
    let a = validate_self_application(form)?;
    if store
        .member_status_by_credentials(a.member_id, &a.email)
        .await?
        .is_none()
    {
        return Err(Problems(vec![credentials_problem()]).into());
    }
    // The store checks the rest in its transaction: open item, approved
    // member, not applied twice.
    Ok(store
        .apply_to_menu(&item.code, a.member_id, &a.note, PUBLIC_ACTOR)
        .await?)
}

/// Creates (`new`) or updates a menu item from the staff form. The KPIs it
/// names must exist; a new item's code must be unused, an edited one's must
/// exist.
pub async fn save_item(
    store: &Store,
    form: &MenuItemForm,
    new: bool,
    actor: &str,
) -> Result<MenuItem> {
    let checked = validate_item(form);
    let mut problems = match &checked {
        Ok(_) => Vec::new(),
        Err(p) => p.0.clone(),
    };
    let kpis = store.kpis().await?;
    let codes: Vec<String> = match &checked {
        Ok(item) => item.kpi_codes.clone(),
        Err(_) => Vec::new(),
    };
    let unknown: Vec<&String> = codes
        .iter()
        .filter(|c| !kpis.iter().any(|k| &k.code == *c))
        .collect();
    if !unknown.is_empty() {
        let list = unknown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        problems.push(Problem::new(
            "kpi_codes",
            format!("登録されていないKPIです: {list}"),
            format!("no such KPI: {list}"),
        ));
    }
    if let Ok(item) = &checked {
        let exists = store.menu_item(&item.code).await?.is_some();
        if new && exists {
            problems.push(Problem::new(
                "code",
                format!("コード {} はすでに使われています", item.code),
                format!("the code {} is already used", item.code),
            ));
        } else if !new && !exists {
            return Err(item_not_found(&item.code));
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems).into());
    }
    let item = checked?;
    store.upsert_menu_item(&item, actor).await?;
    Ok(item)
}

/// Opens or closes an item for applications.
pub async fn set_open(store: &Store, code: &str, open: bool, actor: &str) -> Result<MenuItem> {
    let mut item = store
        .menu_item(code)
        .await?
        .ok_or_else(|| item_not_found(code))?;
    item.open = open;
    store.upsert_menu_item(&item, actor).await?;
    Ok(item)
}

/// An item with its participations, each with the member's name and its
/// dated results.
pub type ItemDetail = (
    MenuItem,
    Vec<(Participation, String, Vec<ParticipationResult>)>,
);

/// A menu item for staff: every participation with its results.
pub async fn item_detail(store: &Store, code: &str) -> Result<ItemDetail> {
    let item = store
        .menu_item(code)
        .await?
        .ok_or_else(|| item_not_found(code))?;
    let parts = store.participations(Some(code)).await?;
    let results = store.participation_results(Some(code)).await?;
    let names = member_names(store, parts.iter().map(|p| p.member_id)).await?;
    let out = parts
        .into_iter()
        .map(|p| {
            let rs = results
                .iter()
                .filter(|r| r.participation_id == p.id)
                .cloned()
                .collect();
            let name = name_of(&names, p.member_id);
            (p, name, rs)
        })
        .collect();
    Ok((item, out))
}

/// Records a dated result of an accepted or completed participation.
pub async fn record_result(
    store: &Store,
    participation_id: i64,
    on: &str,
    body: &str,
    actor: &str,
) -> Result<(Participation, ParticipationResult)> {
    let p = store.participation(participation_id).await?.ok_or_else(|| {
        PartnersError::NotFound(format!(
            "参加 {participation_id} が見つかりません / participation {participation_id} not found"
        ))
    })?;
    let (day, body) = validate_result(on, body, today())?;
    let r = store
        .add_participation_result(participation_id, day, &body, actor)
        .await?;
    Ok((p, r))
}
