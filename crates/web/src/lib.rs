//! citykpi's web application: server-rendered pages (they work without
//! JavaScript), local accounts with roles, the public login-free portal and a
//! JSON REST API, all over `citykpi-app`'s services and `citykpi-store`.
//!
//! Everything the browser loads (CSS, JS, icons) is compiled into the binary
//! and served by it: no page refers to another host.

pub mod access;
mod api;
mod assets;
mod cache;
mod ctx;
mod error;
mod extract;
pub mod i18n;
mod jobs;
mod layout;
mod limits;
mod metrics;
mod pages;
pub mod proxy;
mod ratelimit;
mod security;
mod session;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use citykpi_store::Store;

pub use error::{WebError, WebResult};

/// Settings of the web server that are not data.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Marks cookies `Secure` and sends `Strict-Transport-Security` (set
    /// when the site is served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (login rate
    /// limit per client); empty: the peer address is the client.
    pub trusted_proxies: Vec<proxy::IpRange>,
    /// How long a new API token is valid.
    pub token_lifetime: std::time::Duration,
    /// How often pages look for writes made by another process (the CLI):
    /// `cache::CHECK_EVERY`; zero looks at every request.
    pub snapshot_check_every: std::time::Duration,
    /// How long a server trusts a session it has read before reading it
    /// again (a session ended on another server is refused within this):
    /// `session::CHECK_EVERY`; zero reads the session at every request.
    pub session_check_every: std::time::Duration,
    /// Client addresses that may read `/metrics` without a token
    /// (`CITYKPI_METRICS_ALLOW`; default this host only).
    pub metrics_allow: Vec<proxy::IpRange>,
    /// How often expired sessions and login failures are deleted (one
    /// server per turn); zero runs no scheduled job.
    pub cleanup_every: std::time::Duration,
    /// Backups taken on a schedule (`CITYKPI_BACKUP_DIR`, …), one server per
    /// turn; `None`: no schedule, and the administrators' page says how to
    /// set one.
    pub backup: Option<citykpi_app::backup::Schedule>,
    /// Sign-in through the city's LDAP directory / Active Directory
    /// (`CITYKPI_LDAP_*`); `None`: local accounts only.
    pub ldap: Option<citykpi_app::directory::DirectoryConfig>,
}

/// Days an API token is valid unless `CITYKPI_TOKEN_DAYS` says otherwise.
pub const DEFAULT_TOKEN_DAYS: u64 = 90;

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            token_lifetime: std::time::Duration::from_secs(DEFAULT_TOKEN_DAYS * 86_400),
            snapshot_check_every: cache::CHECK_EVERY,
            session_check_every: session::CHECK_EVERY,
            metrics_allow: proxy::parse_ranges("127.0.0.0/8,::1").unwrap_or_default(),
            cleanup_every: std::time::Duration::from_secs(600),
            backup: None,
            ldap: None,
        }
    }
}

impl WebConfig {
    /// The settings from the environment: `CITYKPI_SECURE_COOKIES` (1/true),
    /// `CITYKPI_TRUSTED_PROXIES` (addresses or CIDR ranges, comma-separated),
    /// `CITYKPI_TOKEN_DAYS` (1–3650). A value that cannot be read is an
    /// error naming the variable, not a silent default.
    pub fn from_env() -> Result<WebConfig, WebError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut c = WebConfig {
            secure_cookies: var("CITYKPI_SECURE_COOKIES").is_some_and(|v| v == "1" || v == "true"),
            backup: citykpi_app::backup::Schedule::from_env()
                .map_err(|e| WebError::Config(e.to_string()))?,
            ..WebConfig::default()
        };
        if let Some(v) = var("CITYKPI_TRUSTED_PROXIES") {
            c.trusted_proxies = proxy::parse_ranges(&v).map_err(|bad| {
                WebError::Config(format!(
                    "CITYKPI_TRUSTED_PROXIES: 「{bad}」はIPアドレスまたは範囲（10.0.0.0/8）ではありません / \"{bad}\" is not an IP address or range (10.0.0.0/8)"
                ))
            })?;
        }
        if let Some(v) = var("CITYKPI_TOKEN_DAYS") {
            let days = v.trim().parse::<u64>().ok().filter(|d| (1..=3650).contains(d)).ok_or_else(|| {
                WebError::Config(format!(
                    "CITYKPI_TOKEN_DAYS: 「{v}」は1〜3650の日数ではありません / \"{v}\" is not a number of days from 1 to 3650"
                ))
            })?;
            c.token_lifetime = std::time::Duration::from_secs(days * 86_400);
        }
        if let Some(v) = var("CITYKPI_SESSION_CHECK_SECONDS") {
            let secs = v.trim().parse::<u64>().ok().filter(|s| *s <= 60).ok_or_else(|| {
                WebError::Config(format!(
                    "CITYKPI_SESSION_CHECK_SECONDS: 「{v}」は0〜60の秒数ではありません / \"{v}\" is not a number of seconds from 0 to 60"
                ))
            })?;
            c.session_check_every = std::time::Duration::from_secs(secs);
        }
        if let Some(v) = var("CITYKPI_METRICS_ALLOW") {
            c.metrics_allow = proxy::parse_ranges(&v).map_err(|bad| {
                WebError::Config(format!(
                    "CITYKPI_METRICS_ALLOW: 「{bad}」はIPアドレスまたは範囲（10.0.0.0/8）ではありません / \"{bad}\" is not an IP address or range (10.0.0.0/8)"
                ))
            })?;
        }
        c.ldap = citykpi_app::directory::DirectoryConfig::from_env()
            .map_err(|e| WebError::Config(e.to_string()))?;
        Ok(c)
    }
}

/// Shared state of every request handler. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: WebConfig,
    sessions: session::Sessions,
    limiter: ratelimit::LoginLimiter,
    cache: cache::Cache,
    metrics: metrics::Metrics,
    /// This server among several: host, process and a random part.
    holder: String,
}

impl AppState {
    pub fn new(store: Store, config: WebConfig) -> AppState {
        let cache = cache::Cache::new(config.snapshot_check_every);
        AppState {
            inner: Arc::new(Inner {
                store,
                sessions: session::Sessions::new(config.session_check_every),
                limiter: ratelimit::LoginLimiter,
                cache,
                metrics: metrics::Metrics::default(),
                holder: holder_name(),
                config,
            }),
        }
    }
    pub fn store(&self) -> &Store {
        &self.inner.store
    }
    pub(crate) fn config(&self) -> &WebConfig {
        &self.inner.config
    }
    pub(crate) fn sessions(&self) -> &session::Sessions {
        &self.inner.sessions
    }
    pub(crate) fn limiter(&self) -> &ratelimit::LoginLimiter {
        &self.inner.limiter
    }
    /// The in-memory read model of the data, refreshed when the data changes.
    pub(crate) async fn snapshot(&self) -> WebResult<Arc<cache::Snapshot>> {
        self.inner.cache.get(&self.inner.store).await
    }
    /// The read model of the public portal, public API and open data:
    /// confirmed actuals only.
    pub(crate) async fn public_snapshot(&self) -> WebResult<Arc<cache::Snapshot>> {
        Ok(self.snapshot().await?.public_view())
    }
    /// Issues a new API token for `login` (the previous one stops working),
    /// valid for the configured lifetime. Only its digest is stored.
    pub(crate) async fn issue_token(&self, login: &str) -> WebResult<String> {
        let token = session::random_token();
        let expires_at = citykpi_store::rfc3339_in(self.inner.config.token_lifetime);
        self.inner
            .store
            .set_api_token(login, &session::token_digest(&token), &expires_at)
            .await?;
        Ok(token)
    }

    /// The login an API token belongs to (none once it has expired).
    pub(crate) async fn token_login(&self, token: &str) -> WebResult<Option<String>> {
        Ok(self
            .inner
            .store
            .api_token_login(&session::token_digest(token))
            .await?)
    }

    /// Called after every write made through the web so the next read sees it.
    pub(crate) fn data_changed(&self) {
        self.inner.cache.invalidate();
    }
    /// Called after a write through the web that changed `change` alone: the
    /// read model is updated for it (see `cache::Cache::apply`) before the
    /// answer goes out, so the next read sees it.
    pub(crate) async fn data_changed_by(&self, change: cache::Change) {
        self.inner.cache.apply(&self.inner.store, &change).await;
    }
    pub(crate) fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }
    /// This server's name in `job_runs`.
    pub(crate) fn holder(&self) -> &str {
        &self.inner.holder
    }
}

/// `host:pid:random`: tells the servers on one database apart (also two in
/// one process, as the tests run them).
fn holder_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!(
        "{host}:{}:{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// The whole application: pages, public portal, API and assets, with security
/// headers, the access check of every route and the error pages.
pub fn router(state: AppState) -> Router {
    use pages::*;
    let routes = Router::new()
        .route("/", get(dashboard::page))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/kpis", get(lists::kpis))
        .route("/kpis/{code}", get(kpi::page))
        .route(
            "/kpis/{code}/actuals",
            get(entry::actuals_form).post(entry::save_actual),
        )
        .route("/kpis/{code}/actuals/bulk", post(entry::save_bulk))
        .route(
            "/kpis/{code}/actuals/confirm",
            post(entry::confirm_kpi_actuals),
        )
        .route(
            "/kpis/confirm",
            get(entry::awaiting_page).post(entry::confirm_awaiting),
        )
        .route("/programs", get(lists::programs))
        .route("/programs/{code}", get(program::page))
        .route(
            "/programs/{code}/edit",
            get(entry::program_form).post(entry::save_program),
        )
        .route(
            "/programs/{code}/money",
            get(entry::money_form).post(entry::save_money),
        )
        .route("/search", get(lists::search))
        .route("/data", get(data::page))
        .route("/data/export/{kind}", get(data::export))
        .route(
            "/data/import",
            // Data files are larger than any form: the configured upload limit applies instead.
            post(data::import).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/account", get(account::page))
        .route("/account/token", post(account::issue_token))
        .route("/account/token/revoke", post(account::revoke_token))
        .route("/account/password", post(account::change_password))
        .route("/account/sessions/revoke", post(account::revoke_sessions))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{login}", post(admin::update_user))
        .route("/admin/users/{login}/password", post(admin::set_password))
        .route("/admin/users/{login}/approver", post(admin::set_approver))
        .route(
            "/admin/mail",
            get(admin::mail_settings).post(admin::save_mail_settings),
        )
        .route(
            "/admin/backups",
            get(crate::pages::backups::page).post(crate::pages::backups::take),
        )
        .route("/admin/backups/verify", post(crate::pages::backups::verify))
        .route("/admin/sign-in", get(signin_settings::page))
        .route("/public", get(public::index))
        .route("/public/plans/{code}", get(public::plan))
        .route("/public/kpis/{code}", get(public::kpi))
        .route("/api", get(api::docs_page))
        .route("/api/openapi.json", get(api::openapi))
        .merge(api::routes())
        .merge(cycle::routes())
        .merge(partners::routes())
        .merge(crate::pages::mayor::routes())
        .merge(whatif::routes())
        .merge(evidence::routes())
        .route("/static/{file}", get(assets::serve))
        .route("/favicon.svg", get(assets::favicon))
        .route("/healthz", get(metrics::healthz))
        .route("/readyz", get(metrics::readyz))
        .route("/metrics", get(metrics::metrics))
        // Inside the access check: only a caller who may post is told about limits.
        .route_layer(axum::middleware::from_fn(limits::text_limits))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::authorize,
        ));
    routes
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::render_errors,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}

/// Serves the application on `addr` until Ctrl-C. Prints the address it
/// listens on (the port is chosen by the system when `addr` has port 0).
pub async fn serve(store: Store, addr: SocketAddr) -> Result<(), WebError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| WebError::Bind {
            addr: addr.to_string(),
            source: e,
        })?;
    let local = listener.local_addr().map_err(|e| WebError::Bind {
        addr: addr.to_string(),
        source: e,
    })?;
    println!("citykpi: http://{local}/ で待ち受けています / listening on http://{local}/");
    tracing::info!(address = %local, "listening");
    serve_on(listener, AppState::new(store, WebConfig::from_env()?)).await
}

/// Serves on an already bound listener (tests bind 127.0.0.1:0 themselves).
pub async fn serve_on(listener: tokio::net::TcpListener, state: AppState) -> Result<(), WebError> {
    // Build the read model, the default year's status and cycle while the first
    // visitor is still typing the address, not during their request.
    let warm = state.clone();
    tokio::spawn(async move {
        if let Ok(snap) = warm.snapshot().await {
            let fy = ctx::default_fy();
            snap.status(fy);
            snap.public_status(fy);
            // The cycle running in the default year evaluates the year
            // before it; both are what the cycle's pages open on.
            let _ = snap.cycle_year(warm.store(), fy.prev()).await;
            let _ = snap.cycle_year(warm.store(), fy).await;
        }
    });
    // Expired sessions and old login failures are deleted on a schedule,
    // by one server per turn.
    jobs::start(state.clone());
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(WebError::Serve)
}
