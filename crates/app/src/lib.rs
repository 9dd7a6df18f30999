//! citykpi's services: the one place where things are done. The CLI, the web
//! pages and the REST API all call these functions, so each rule lives once.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod clock;
pub mod comparison;
pub mod confirm;
pub mod cycle;
pub mod data;
pub mod demo;
pub mod directory;
pub mod entry;
pub mod error;
pub mod evidence;
pub mod forecast;
pub mod mayor;
pub mod ngsi;
pub mod notify;
pub mod partners;
pub mod reports;
pub mod status;
pub mod whatif;

pub use citykpi_store::Store;
pub use error::AppError;

/// Opens (and migrates) the database chosen by `resolve_database`.
pub async fn open_store(explicit: Option<&str>) -> Result<Store, AppError> {
    let target = resolve_database(explicit);
    Store::open(&target).await.map_err(AppError::from)
}

/// Where the database is when nothing else is said.
pub const DEFAULT_DATABASE: &str = "./citykpi.db";

/// The environment variable that names the database (a path or a postgres:// URL).
pub const DATABASE_ENV: &str = "CITYKPI_DATABASE_URL";

/// Chooses the database: the explicit `--db` value, else the environment, else
/// `./citykpi.db`.
pub fn resolve_database(explicit: Option<&str>) -> String {
    explicit
        .map(str::to_string)
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            std::env::var(DATABASE_ENV)
                .ok()
                .filter(|s| !s.trim().is_empty())
        })
        .unwrap_or_else(|| DEFAULT_DATABASE.to_string())
}

/// Settings keys kept in the store.
pub mod settings {
    /// 6-digit local-government code of the city whose KPIs these are.
    pub const CITY_CODE: &str = "city_code";
    pub const CITY_NAME_JA: &str = "city_name_ja";
    pub const CITY_NAME_EN: &str = "city_name_en";
}
