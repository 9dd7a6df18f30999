//! A blocking client of the national statistics portal's API (e-Stat, v3.0):
//! `getStatsData` page by page, following `NEXT_KEY`. Call it from async code
//! through `tokio::task::spawn_blocking` (see `comparison::fetch_estat`).

use std::time::Duration;

use citykpi_analytics::estat::{self, EstatRequest, Pager, StatsData, parse_get_stats_data};

use super::ComparisonError;

/// The API's JSON endpoint; `getStatsData` is appended.
pub const DEFAULT_BASE_URL: &str = "https://api.e-stat.go.jp/rest/3.0/app/json";
/// The environment variable holding the application ID (appId).
pub const APP_ID_ENV: &str = "CITYKPI_ESTAT_APP_ID";
/// Pages fetched at most unless told otherwise (e-Stat pages hold up to
/// 100,000 values, so this is 10 million values).
pub const DEFAULT_MAX_PAGES: usize = 100;
/// Largest response body read (a page of 100,000 values is ~20 MB of JSON).
const MAX_BODY_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct EstatClient {
    /// `https://api.e-stat.go.jp/rest/3.0/app/json` (a test server's URL in tests).
    pub base_url: String,
    pub app_id: String,
    /// For the whole of one page's request and response.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_pages: usize,
}

impl EstatClient {
    pub fn new(app_id: impl Into<String>) -> EstatClient {
        EstatClient {
            base_url: DEFAULT_BASE_URL.to_string(),
            app_id: app_id.into(),
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(15),
            max_pages: DEFAULT_MAX_PAGES,
        }
    }

    /// The application ID given (a flag), else `CITYKPI_ESTAT_APP_ID`; without
    /// either, [`ComparisonError::NoAppId`].
    pub fn from_env(explicit: Option<&str>) -> Result<EstatClient, ComparisonError> {
        explicit
            .map(str::to_string)
            .or_else(|| std::env::var(APP_ID_ENV).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .map(EstatClient::new)
            .ok_or(ComparisonError::NoAppId)
    }

    pub fn with_base_url(mut self, base_url: impl Into<String>) -> EstatClient {
        self.base_url = base_url.into();
        self
    }

    /// The URL of a page on this client's base URL.
    pub fn url(&self, request: &EstatRequest, start_position: Option<u64>) -> String {
        let mut request = request.clone();
        request.app_id = self.app_id.clone();
        self.rebase(&request.url(start_position))
    }

    /// `EstatRequest` and `Pager` build URLs on the public API; move them to `base_url`.
    fn rebase(&self, url: &str) -> String {
        let query = url.strip_prefix(estat::API_BASE).unwrap_or(url);
        format!(
            "{}/getStatsData{query}",
            self.base_url.trim_end_matches('/')
        )
    }

    fn agent(&self) -> ureq::Agent {
        ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .timeout_connect(Some(self.connect_timeout))
            .http_status_as_error(false)
            .user_agent(concat!("citykpi/", env!("CARGO_PKG_VERSION")))
            .build()
            .into()
    }

    /// One page's body. HTTP errors name the URL (with the application ID hidden).
    fn get(&self, agent: &ureq::Agent, url: &str) -> Result<String, ComparisonError> {
        let shown = redact(url);
        let mut response = agent
            .get(url)
            .header("Accept", "application/json")
            .call()
            .map_err(|e| ComparisonError::Http {
                url: shown.clone(),
                reason: e.to_string(),
            })?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_string()
            .map_err(|e| ComparisonError::Http {
                url: shown.clone(),
                reason: e.to_string(),
            })?;
        if !(200..300).contains(&status) {
            let excerpt: String = body.chars().take(300).collect();
            return Err(ComparisonError::HttpStatus {
                url: shown,
                status,
                body: excerpt,
            });
        }
        Ok(body)
    }

    /// Every page of `request` (its `app_id` is replaced by this client's),
    /// following `NEXT_KEY`, merged into one `StatsData` (the classes of the
    /// first page, the values of all). Stops with an error after `max_pages`.
    pub fn fetch_all(&self, request: &EstatRequest) -> Result<StatsData, ComparisonError> {
        self.fetch_pages(request).map(|(data, _)| data)
    }

    /// [`fetch_all`](Self::fetch_all) and the number of pages it took.
    pub fn fetch_pages(
        &self,
        request: &EstatRequest,
    ) -> Result<(StatsData, usize), ComparisonError> {
        let mut request = request.clone();
        request.app_id = self.app_id.clone();
        let agent = self.agent();
        let mut pager = Pager::new(request);
        let mut all: Option<StatsData> = None;
        while let Some(url) = pager.next_url() {
            let page_no = pager.pages_done + 1;
            if page_no > self.max_pages {
                return Err(ComparisonError::TooManyPages {
                    max: self.max_pages,
                    total: all.as_ref().map(|d| d.total_number).unwrap_or(0),
                });
            }
            let url = self.rebase(&url);
            let body = self.get(&agent, &url)?;
            let page_err = |error| ComparisonError::Estat {
                source_name: redact(&url),
                page: page_no,
                error,
            };
            let page = parse_get_stats_data(&body).map_err(page_err)?;
            pager.advance(&page).map_err(page_err)?;
            tracing::info!(
                page = page_no,
                from = page.from_number,
                to = page.to_number,
                total = page.total_number,
                "e-Stat getStatsData page"
            );
            match &mut all {
                None => all = Some(page),
                Some(acc) => {
                    acc.to_number = page.to_number;
                    acc.next_key = page.next_key;
                    acc.values.extend(page.values);
                    for (k, v) in page.notes {
                        acc.notes.entry(k).or_insert(v);
                    }
                }
            }
        }
        let pages = pager.pages_done;
        all.map(|d| (d, pages))
            .ok_or_else(|| ComparisonError::Usage("e-Stat: no page was fetched".into()))
    }
}

/// Hides the application ID in a URL shown to people or written to logs.
pub fn redact(url: &str) -> String {
    let Some((head, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some(("appId", _)) => "appId=***".to_string(),
            _ => p.to_string(),
        })
        .collect();
    format!("{head}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_on_another_base_and_redaction() {
        let client = EstatClient::new("SECRET").with_base_url("http://127.0.0.1:9/x/");
        let req = EstatRequest {
            app_id: String::new(),
            stats_data_id: "0000020202".into(),
            limit: None,
            extra: vec![("cdCat01".into(), "B1101".into())],
        };
        let url = client.url(&req, Some(11));
        assert_eq!(
            url,
            "http://127.0.0.1:9/x/getStatsData?appId=SECRET&statsDataId=0000020202&startPosition=11&cdCat01=B1101"
        );
        assert_eq!(
            redact(&url),
            "http://127.0.0.1:9/x/getStatsData?appId=***&statsDataId=0000020202&startPosition=11&cdCat01=B1101"
        );
        assert!(matches!(
            EstatClient::from_env(Some("  ")),
            Err(ComparisonError::NoAppId) | Ok(_)
        ));
        assert_eq!(EstatClient::from_env(Some("K")).unwrap().app_id, "K");
    }
}
