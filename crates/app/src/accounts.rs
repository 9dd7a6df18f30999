//! User accounts as an administrator keeps them: add a user with a first
//! password, change name, e-mail, section and role, deactivate and activate.
//! Each change is one transaction with its audit row (`Store::save_user`).

use citykpi_domain::org::{Role, User};
use citykpi_store::Store;

use crate::AppError;
use crate::auth;

/// What the administrator's form gives for one account.
#[derive(Debug, Clone, Default)]
pub struct AccountInput {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub section_code: String,
    pub role: String,
    pub active: bool,
    /// The first password (new accounts only).
    pub password: String,
}

const MAX_NAME: usize = 100;

fn invalid(field: &str, ja: &str, en: &str) -> AppError {
    AppError::invalid(field, format!("{ja} / {en}"))
}

/// The account as it will be stored, after every field's check.
pub(crate) async fn checked(store: &Store, input: &AccountInput) -> Result<User, AppError> {
    let login = input.login.trim();
    let login_ok = (3..=64).contains(&login.chars().count())
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !login_ok {
        return Err(invalid(
            "login",
            "ログインIDは3〜64文字の半角英数字と . _ - @ にしてください",
            "a login name has 3–64 characters: letters, digits, . _ - @",
        ));
    }
    let name = input.display_name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(invalid(
            "display_name",
            "氏名を100文字以内で入力してください",
            "enter a name of at most 100 characters",
        ));
    }
    let email = input.email.trim();
    if !email.is_empty()
        && (email.len() > 254
            || !email.contains('@')
            || email.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err(invalid(
            "email",
            "メールアドレスの形式ではありません",
            "not an e-mail address",
        ));
    }
    let role = Role::parse(input.role.trim())
        .ok_or_else(|| invalid("role", "権限を選んでください", "choose a role"))?;
    let section = input.section_code.trim();
    if !store.sections().await?.iter().any(|s| s.code == section) {
        return Err(invalid(
            "section_code",
            "所属課を選んでください",
            "choose a section",
        ));
    }
    Ok(User {
        login: login.to_string(),
        display_name: name.to_string(),
        email: (!email.is_empty()).then(|| email.to_string()),
        section_code: section.to_string(),
        role,
        password_hash: None,
        active: input.active,
    })
}

/// Adds an account with its first password (checked against the password
/// policy); refused when the login name is taken.
pub async fn create(store: &Store, actor: &str, input: &AccountInput) -> Result<(), AppError> {
    let mut user = checked(store, input).await?;
    if store.user(&user.login).await?.is_some() {
        return Err(invalid(
            "login",
            "このログインIDは既に使われています",
            "this login name is taken",
        ));
    }
    let (login, password) = (user.login.clone(), input.password.clone());
    let hash = tokio::task::spawn_blocking(move || auth::hash_new_password(&login, &password))
        .await
        .map_err(|e| AppError::invalid("password", e.to_string()))??;
    user.password_hash = Some(hash);
    store.save_user(&user, true, actor).await?;
    Ok(())
}

/// Changes an account (its password stays). An administrator cannot take
/// their own administration away or deactivate themselves, so the city
/// cannot lock itself out.
pub async fn update(store: &Store, actor: &str, input: &AccountInput) -> Result<(), AppError> {
    let user = checked(store, input).await?;
    if store.user(&user.login).await?.is_none() {
        return Err(AppError::NotFound(user.login));
    }
    if user.login == actor && (user.role != Role::Admin || !user.active) {
        return Err(invalid(
            "role",
            "自分の管理者権限を外したり、自分を無効にしたりはできません",
            "you cannot remove your own administrator role or deactivate yourself",
        ));
    }
    store.save_user(&user, false, actor).await?;
    Ok(())
}
