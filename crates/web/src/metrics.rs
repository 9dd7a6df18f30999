//! Prometheus metrics at `/metrics` (text exposition format 0.0.4), and the
//! health endpoints a load balancer asks: `/healthz` (the process answers;
//! no database) and `/readyz` (the database answers with every migration
//! of this program applied).
//!
//! Requests are counted by route template (`/kpis/{code}`, never the
//! address asked, so the label set stays as small as the route table), by
//! method and status, with a latency histogram per route template; the
//! database pool's size and idle connections and the scheduled jobs' runs
//! are read at scrape time. Counting takes one short lock per request and
//! allocates only for a route seen the first time.
//!
//! Who may read `/metrics`: the numbers name routes, their load and the
//! jobs, which an outsider has no business knowing but which are no
//! secret either. A scraper is let in by its address (the client address as
//! `CITYKPI_TRUSTED_PROXIES` resolves it, in `CITYKPI_METRICS_ALLOW`, default
//! this host only), or, from anywhere, with the API token of an active
//! administrator as `Authorization: Bearer …` — a secret that already
//! exists, expires and is revoked like any token, rather than a new
//! shared password to keep. A request forwarded by a proxy that is not
//! trusted (it carries `X-Forwarded-For` or `Forwarded`) is never let in
//! by address: the proxy's own address would otherwise admit the world.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::Extension;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use citykpi_domain::org::Role;

use crate::AppState;
use crate::error::WebError;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The route label of a request that matched no route (one label for all:
/// a scanner asking a million addresses adds one series, not a million).
const UNMATCHED: &str = "(unmatched)";

#[derive(Default)]
struct RouteStats {
    /// Requests by method and status.
    requests: HashMap<(&'static str, u16), u64>,
    /// Latency histogram: counts per bucket (cumulative), sum, count.
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Counts {
    routes: HashMap<String, RouteStats>,
    jobs: HashMap<(String, &'static str), u64>,
}

/// The method as a label: the standard ones by name, others as one label.
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// What this process has counted since it started.
#[derive(Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
}

/// How a scheduled job's turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// This server ran it.
    Ran,
    /// Another server had claimed this turn.
    Skipped,
    /// It ran and failed (logged).
    Failed,
}

impl JobOutcome {
    fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Ran => "ran",
            JobOutcome::Skipped => "skipped",
            JobOutcome::Failed => "failed",
        }
    }
}

impl Metrics {
    fn observe(&self, method: &'static str, route: &str, status: u16, seconds: f64) {
        let Ok(mut c) = self.counts.lock() else {
            return;
        };
        if !c.routes.contains_key(route) {
            c.routes.insert(route.to_string(), RouteStats::default());
        }
        let Some(r) = c.routes.get_mut(route) else {
            return;
        };
        *r.requests.entry((method, status)).or_insert(0) += 1;
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                r.buckets[i] += 1;
            }
        }
        r.sum += seconds;
        r.count += 1;
    }

    pub fn job(&self, job: &str, outcome: JobOutcome) {
        if let Ok(mut c) = self.counts.lock() {
            *c.jobs
                .entry((job.to_string(), outcome.as_str()))
                .or_insert(0) += 1;
        }
    }

    /// The text exposition of everything counted, with the pool as now.
    fn render(&self, pool: citykpi_store::PoolStats) -> String {
        let mut out = String::new();
        let Ok(c) = self.counts.lock() else {
            return out;
        };
        out.push_str("# HELP citykpi_http_requests_total HTTP requests by route template, method and status.\n");
        out.push_str("# TYPE citykpi_http_requests_total counter\n");
        let mut routes: Vec<_> = c.routes.iter().collect();
        routes.sort_by(|a, b| a.0.cmp(b.0));
        for (route, r) in &routes {
            let route = escape(route);
            let mut requests: Vec<_> = r.requests.iter().collect();
            requests.sort();
            for ((method, status), n) in requests {
                let _ = writeln!(
                    out,
                    "citykpi_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP citykpi_http_request_duration_seconds Time from the request to the response head, by route template.\n");
        out.push_str("# TYPE citykpi_http_request_duration_seconds histogram\n");
        for (route, r) in &routes {
            let route = escape(route);
            for (le, n) in BUCKETS.iter().zip(r.buckets) {
                let _ = writeln!(
                    out,
                    "citykpi_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "citykpi_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                r.count
            );
            let _ = writeln!(
                out,
                "citykpi_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                r.sum
            );
            let _ = writeln!(
                out,
                "citykpi_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                r.count
            );
        }
        out.push_str("# HELP citykpi_db_pool_connections Database connections of this process: open, idle, and the most the pool opens.\n");
        out.push_str("# TYPE citykpi_db_pool_connections gauge\n");
        let _ = writeln!(
            out,
            "citykpi_db_pool_connections{{state=\"open\"}} {}",
            pool.size
        );
        let _ = writeln!(
            out,
            "citykpi_db_pool_connections{{state=\"idle\"}} {}",
            pool.idle
        );
        let _ = writeln!(
            out,
            "citykpi_db_pool_connections{{state=\"max\"}} {}",
            pool.max
        );
        out.push_str("# HELP citykpi_job_runs_total Turns of scheduled jobs on this server: ran, skipped (another server ran it), failed.\n");
        out.push_str("# TYPE citykpi_job_runs_total counter\n");
        let mut jobs: Vec<_> = c.jobs.iter().collect();
        jobs.sort();
        for ((job, outcome), n) in jobs {
            let _ = writeln!(
                out,
                "citykpi_job_runs_total{{job=\"{}\",outcome=\"{outcome}\"}} {n}",
                escape(job)
            );
        }
        out
    }
}

/// A label value as the exposition format wants it.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Counts every request by its route template, method and status, and its
/// time to the response head.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req.extensions().get::<MatchedPath>().cloned();
    let resp = next.run(req).await;
    state.metrics().observe(
        method,
        route.as_ref().map_or(UNMATCHED, |r| r.as_str()),
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}

/// `GET /healthz`: the process answers. Touches no database, so a load
/// balancer does not take every server out when the database is slow.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers and has every migration this
/// program carries; 503 with the reason otherwise.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store().readiness().await {
        Ok(r) if r.ready() => (StatusCode::OK, "ready").into_response(),
        Ok(r) => {
            let versions: Vec<String> =
                r.missing_migrations.iter().map(|v| v.to_string()).collect();
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("migrations not applied: {}", versions.join(", ")),
            )
                .into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// `GET /metrics`, for allowed addresses or an administrator's API token.
pub async fn metrics(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if !may_read(&state, connect.map(|c| c.0.0), &headers).await? {
        return Err(WebError::Forbidden);
    }
    let body = state.metrics().render(state.store().pool_stats());
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(resp)
}

async fn may_read(
    state: &AppState,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
) -> Result<bool, WebError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(token) = bearer {
        let Some(login) = state.token_login(token).await? else {
            return Ok(false);
        };
        let user = crate::access::user_for(state, &login).await?;
        return Ok(user.is_some_and(|u| u.role == Role::Admin));
    }
    let Some(peer) = peer else {
        return Ok(false);
    };
    let trusted = &state.config().trusted_proxies;
    let forwarded = headers.contains_key("x-forwarded-for") || headers.contains_key("forwarded");
    if forwarded && !trusted.iter().any(|r| r.contains(peer.ip())) {
        return Ok(false);
    }
    let client = crate::proxy::client_ip(peer.ip(), headers, trusted);
    Ok(state
        .config()
        .metrics_allow
        .iter()
        .any(|r| r.contains(client)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition() {
        let m = Metrics::default();
        m.observe("GET", "/kpis/{code}", 200, 0.003);
        m.observe("GET", "/kpis/{code}", 200, 0.2);
        m.observe("POST", "/login", 303, 0.05);
        m.job("cleanup", JobOutcome::Ran);
        m.job("cleanup", JobOutcome::Skipped);
        let text = m.render(citykpi_store::PoolStats {
            size: 3,
            idle: 2,
            max: 8,
        });
        assert!(text.contains(
            "citykpi_http_requests_total{method=\"GET\",route=\"/kpis/{code}\",status=\"200\"} 2\n"
        ));
        assert!(text.contains(
            "citykpi_http_request_duration_seconds_bucket{route=\"/kpis/{code}\",le=\"0.0025\"} 0\n"
        ));
        assert!(text.contains(
            "citykpi_http_request_duration_seconds_bucket{route=\"/kpis/{code}\",le=\"0.005\"} 1\n"
        ));
        assert!(text.contains(
            "citykpi_http_request_duration_seconds_bucket{route=\"/kpis/{code}\",le=\"+Inf\"} 2\n"
        ));
        assert!(
            text.contains(
                "citykpi_http_request_duration_seconds_count{route=\"/kpis/{code}\"} 2\n"
            )
        );
        assert!(text.contains("citykpi_db_pool_connections{state=\"idle\"} 2\n"));
        assert!(text.contains("citykpi_job_runs_total{job=\"cleanup\",outcome=\"ran\"} 1\n"));
        assert!(text.contains("citykpi_job_runs_total{job=\"cleanup\",outcome=\"skipped\"} 1\n"));
        assert_eq!(escape("a\"b\\c\n"), "a\\\"b\\\\c\\n");
    }
}
