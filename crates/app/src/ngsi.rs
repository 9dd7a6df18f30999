//! The NGSI-LD connector (smart-city demonstrations): measurements
//! of a city data platform ("city OS", a FIWARE context broker) become the
//! actuals of a KPI.
//!
//! The documents are read by `domain::partner::ngsi` (plain entities in the
//! normalized or keyValues form, temporal entities in the normalized or
//! temporalValues form), aggregated per month or fiscal year, checked against
//! the KPI (it must exist; a unit code, when asked for, must match) and
//! stored in one transaction with one audit row naming the source. Every
//! problem names the entity and attribute it is in; on any problem nothing is
//! written.
//!
//! Documents come from files (the CLI) or from a broker configured by URL:
//! `GET {broker}/ngsi-ld/v1/entities?type=…&attrs=…` (or
//! `/ngsi-ld/v1/temporal/entities` with `timerel=between`), page by page
//! with `limit` and `offset`.

use std::time::Duration;

use citykpi_domain::observation::{ObsStatus, ObsValue, Observation};
use citykpi_domain::partner::ngsi::{self, Aggregate, Granularity, NgsiError, PeriodValue};
use citykpi_store::{Counts, Store, StoreError};
use serde::Serialize;

use crate::AppError;

/// The audit log's action for what the connector stores.
pub const AUDIT_ACTION: &str = "ngsi_ld_import";
/// Settings key: the broker's base URL (e.g. `http://broker.city.lg.jp:1026`).
pub const BROKER_SETTING: &str = "ngsi_ld_broker_url";
/// Entities asked for per page (the specification's default limit is 20; brokers allow 1000).
pub const PAGE_LIMIT: usize = 100;
/// Pages read at most from one query.
pub const MAX_PAGES: usize = 1000;
/// Largest answer body read from a broker.
pub const MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;

/// What to store from the documents.
#[derive(Debug, Clone)]
pub struct MeasurementSpec {
    /// The KPI whose actuals these are.
    pub kpi_code: String,
    /// The attribute measured (`NO2`, `occupancy`, …; a full IRI's last segment matches too).
    pub attribute: String,
    /// Area of the actuals; the city's own code when None.
    pub area_code: Option<String>,
    pub granularity: Granularity,
    pub aggregate: Aggregate,
    /// When given, every sample must carry this UN/CEFACT unit code.
    pub unit_code: Option<String>,
    /// The instant of values that carry no time of their own (keyValues answers).
    pub observed_at: Option<String>,
    /// Where the documents came from (a broker URL or a file name), kept with the actuals.
    pub source: String,
}

/// What the connector read and stored.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub samples: usize,
    pub entities: Vec<String>,
    pub values: Vec<PeriodValue>,
    pub observations: Vec<Observation>,
    /// None for a dry run.
    pub counts: Option<Counts>,
}

#[derive(Debug, thiserror::Error)]
pub enum NgsiImportError {
    #[error(transparent)]
    Document(#[from] NgsiError),
    #[error("KPI「{0}」は登録されていません / KPI {0} does not exist")]
    UnknownKpi(String),
    #[error(
        "地域コードがありません（市の団体コードが未設定です。--area で指定してください） / no area code (the city's code is not set; give --area)"
    )]
    NoArea,
    #[error(
        "属性「{0}」の数値がひとつもありません / no numeric value of attribute {0} in the documents"
    )]
    NoSamples(String),
    #[error(
        "エンティティ {entity} の属性 {attribute}（{observed_at}）の単位が「{found}」で、「{expected}」ではありません / entity {entity}, attribute {attribute} ({observed_at}): unit {found}, expected {expected}"
    )]
    Unit {
        entity: String,
        attribute: String,
        observed_at: String,
        found: String,
        expected: String,
    },
    #[error("ブローカーのURLが正しくありません / not a broker URL: {0}")]
    BadUrl(String),
    #[error("ブローカーに接続できません / cannot reach the broker at {url}: {reason}")]
    Http { url: String, reason: String },
    #[error("ブローカーがエラーを返しました / the broker answered {status} at {url}: {body}")]
    HttpStatus {
        url: String,
        status: u16,
        body: String,
    },
    #[error(
        "ページが多すぎます（{0}ページで打ち切り） / too many pages (stopped after {0}); narrow the query"
    )]
    TooManyPages(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    App(#[from] AppError),
}

/// Reads `documents` (each a broker answer), aggregates `spec.attribute`
/// per period and, unless `dry_run`, stores the actuals of `spec.kpi_code`
/// in one transaction with one audit row.
pub async fn import_documents(
    store: &Store,
    documents: &[String],
    spec: &MeasurementSpec,
    actor: &str,
    dry_run: bool,
) -> Result<Outcome, NgsiImportError> {
    if store.kpi(&spec.kpi_code).await?.is_none() {
        return Err(NgsiImportError::UnknownKpi(spec.kpi_code.clone()));
    }
    let area = match spec.area_code.as_deref().map(str::trim) {
        Some(a) if !a.is_empty() => a.to_string(),
        _ => crate::status::city_code(store)
            .await?
            .ok_or(NgsiImportError::NoArea)?,
    };
    let mut samples = Vec::new();
    let mut problems = Vec::new();
    let attrs = [spec.attribute.as_str()];
    for doc in documents {
        match ngsi::samples(doc, &attrs, spec.observed_at.as_deref()) {
            Ok(s) => samples.extend(s),
            Err(e) => problems.extend(e.0),
        }
    }
    if !problems.is_empty() {
        return Err(NgsiError(problems).into());
    }
    if let Some(expected) = spec.unit_code.as_deref().filter(|u| !u.is_empty())
        && let Some(s) = samples
            .iter()
            .find(|s| s.unit_code.as_deref() != Some(expected))
    {
        return Err(NgsiImportError::Unit {
            entity: s.entity_id.clone(),
            attribute: s.attribute.clone(),
            observed_at: s.observed_at.clone(),
            found: s.unit_code.clone().unwrap_or_else(|| "なし / none".into()),
            expected: expected.to_string(),
        });
    }
    let short = spec
        .attribute
        .rsplit(['/', '#'])
        .next()
        .unwrap_or(&spec.attribute)
        .to_string();
    let values = ngsi::aggregate(&samples, &short, spec.granularity, spec.aggregate);
    if values.is_empty() {
        return Err(NgsiImportError::NoSamples(spec.attribute.clone()));
    }
    let mut entities: Vec<String> = samples.iter().map(|s| s.entity_id.clone()).collect();
    entities.sort();
    entities.dedup();
    let now = citykpi_store::now_rfc3339();
    let today = crate::partners::today();
    let this_month = citykpi_domain::observation::Period::Month(
        today.year(),
        u8::try_from(today.month()).unwrap_or(1),
    );
    let observations: Vec<Observation> = values
        .iter()
        .map(|v| {
            // A period still running (or ahead) gives a provisional actual.
            let running = match v.period {
                citykpi_domain::observation::Period::Month(..) => v.period >= this_month,
                p => p.fiscal_year() >= this_month.fiscal_year(),
            };
            Observation {
                kpi_code: spec.kpi_code.clone(),
                period: v.period,
                area_code: area.clone(),
                value: ObsValue::Value(v.value),
                status: if running {
                    ObsStatus::Provisional
                } else {
                    ObsStatus::Final
                },
                source: format!("NGSI-LD {}", spec.source).trim().to_string(),
                note: format!(
                    "{} {}（{}件・{}エンティティ） / {} of {} samples from {} entities",
                    short,
                    spec.aggregate.label_ja(),
                    v.count,
                    v.entities.len(),
                    spec.aggregate.code(),
                    v.count,
                    v.entities.len()
                ),
                entered_by: actor.to_string(),
                entered_at: now.clone(),
                // A configured machine feed run by an operator: confirmed by that run.
                confirmed_by: actor.to_string(),
                confirmed_at: now.clone(),
            }
        })
        .collect();
    // An actual that comes again unchanged keeps who entered it and when,
    // so that a repeated import is reported (and audited) as unchanged.
    let stored = store
        .observations(&citykpi_store::ObservationFilter {
            kpi_codes: vec![spec.kpi_code.clone()],
            area_code: Some(area.clone()),
            ..Default::default()
        })
        .await?;
    let observations: Vec<Observation> = observations
        .into_iter()
        .map(|mut o| {
            if let Some(s) = stored.iter().find(|s| {
                s.period == o.period
                    && s.value == o.value
                    && s.status == o.status
                    && s.source == o.source
                    && s.note == o.note
            }) {
                o.entered_by = s.entered_by.clone();
                o.entered_at = s.entered_at.clone();
            }
            o
        })
        .collect();
    let counts = if dry_run {
        None
    } else {
        let detail = serde_json::json!({
            "source": spec.source,
            "attribute": spec.attribute,
            "aggregate": spec.aggregate.code(),
            "granularity": spec.granularity,
            "area_code": area,
            "samples": samples.len(),
            "entities": entities.len(),
            "periods": values.iter().map(|v| v.period.to_string()).collect::<Vec<_>>(),
        });
        Some(
            store
                .record_measurements(&observations, actor, AUDIT_ACTION, detail)
                .await?,
        )
    };
    Ok(Outcome {
        samples: samples.len(),
        entities,
        values,
        observations,
        counts,
    })
}

/// A query to a context broker.
#[derive(Debug, Clone)]
pub struct BrokerQuery {
    /// Base URL, e.g. `http://broker.city.lg.jp:1026`.
    pub base_url: String,
    /// Entity type (`AirQualityObserved`).
    pub entity_type: String,
    /// Attributes to ask for (`attrs=`); empty asks for all.
    pub attrs: Vec<String>,
    /// Temporal query between these instants (the temporal API); None asks for current values.
    pub between: Option<(String, String)>,
    /// `NGSILD-Tenant` header (multi-tenant brokers).
    pub tenant: Option<String>,
    /// The JSON-LD @context sent as a `Link` header, when the broker needs one for short names.
    pub context: Option<String>,
    pub timeout: Duration,
}

impl BrokerQuery {
    pub fn new(base_url: &str, entity_type: &str) -> BrokerQuery {
        BrokerQuery {
            base_url: base_url.trim().trim_end_matches('/').to_string(),
            entity_type: entity_type.trim().to_string(),
            attrs: Vec::new(),
            between: None,
            tenant: None,
            context: None,
            timeout: Duration::from_secs(30),
        }
    }

    /// The URL of the page starting at `offset`.
    pub fn url(&self, offset: usize) -> String {
        let enc = |s: &str| form_encode(s);
        let mut q = vec![
            format!("type={}", enc(&self.entity_type)),
            format!("limit={PAGE_LIMIT}"),
            format!("offset={offset}"),
        ];
        if !self.attrs.is_empty() {
            q.push(format!("attrs={}", enc(&self.attrs.join(","))));
        }
        let path = match &self.between {
            Some((from, to)) => {
                q.push("timerel=between".into());
                q.push(format!("timeAt={}", enc(from)));
                q.push(format!("endTimeAt={}", enc(to)));
                "/ngsi-ld/v1/temporal/entities"
            }
            None => "/ngsi-ld/v1/entities",
        };
        format!("{}{path}?{}", self.base_url, q.join("&"))
    }
}

fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' | b':' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Every page of `query`'s answer, each an array of entities, read until a
/// page holds fewer than [`PAGE_LIMIT`] entities.
pub async fn fetch(query: &BrokerQuery) -> Result<Vec<String>, NgsiImportError> {
    let url = query.url(0);
    if !(url.starts_with("http://") || url.starts_with("https://")) || query.entity_type.is_empty()
    {
        return Err(NgsiImportError::BadUrl(url));
    }
    let query = query.clone();
    tokio::task::spawn_blocking(move || fetch_blocking(&query))
        .await
        .map_err(|e| NgsiImportError::Http {
            url: url.clone(),
            reason: e.to_string(),
        })?
}

fn fetch_blocking(query: &BrokerQuery) -> Result<Vec<String>, NgsiImportError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(query.timeout))
        .http_status_as_error(false)
        .user_agent(concat!("citykpi/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut pages = Vec::new();
    let mut offset = 0;
    loop {
        if pages.len() >= MAX_PAGES {
            return Err(NgsiImportError::TooManyPages(MAX_PAGES));
        }
        let url = query.url(offset);
        let mut req = agent.get(&url).header("Accept", "application/json");
        if let Some(t) = query.tenant.as_deref().filter(|t| !t.is_empty()) {
            req = req.header("NGSILD-Tenant", t);
        }
        if let Some(c) = query.context.as_deref().filter(|c| !c.is_empty()) {
            req = req.header(
                "Link",
                &format!(
                    "<{c}>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\""
                ),
            );
        }
        let mut resp = req.call().map_err(|e| NgsiImportError::Http {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_string()
            .map_err(|e| NgsiImportError::Http {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        if !(200..300).contains(&status) {
            return Err(NgsiImportError::HttpStatus {
                url,
                status,
                body: body.chars().take(300).collect(),
            });
        }
        // A page that is not an array is read (and refused) by the domain with its place named.
        let n = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.as_array().map(Vec::len));
        pages.push(body);
        match n {
            Some(n) if n >= PAGE_LIMIT => offset += n,
            _ => break,
        }
    }
    Ok(pages)
}

/// Fetches from the broker and stores, as [`import_documents`].
pub async fn import_from_broker(
    store: &Store,
    query: &BrokerQuery,
    spec: &MeasurementSpec,
    actor: &str,
    dry_run: bool,
) -> Result<Outcome, NgsiImportError> {
    let pages = fetch(query).await?;
    import_documents(store, &pages, spec, actor, dry_run).await
}

/// The broker URL: the explicit one, else the setting.
pub async fn broker_url(store: &Store, explicit: Option<&str>) -> Result<String, NgsiImportError> {
    if let Some(u) = explicit.map(str::trim).filter(|u| !u.is_empty()) {
        return Ok(u.to_string());
    }
    store
        .get_setting(BROKER_SETTING)
        .await?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            NgsiImportError::BadUrl(format!(
                "（未設定 / not set: --broker or the setting {BROKER_SETTING}）"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        let mut q = BrokerQuery::new("http://broker:1026/", "AirQualityObserved");
        q.attrs = vec!["NO2".into()];
        assert_eq!(
            q.url(0),
            "http://broker:1026/ngsi-ld/v1/entities?type=AirQualityObserved&limit=100&offset=0&attrs=NO2"
        );
        q.between = Some((
            "2026-04-01T00:00:00Z".into(),
            "2026-05-01T00:00:00+09:00".into(),
        ));
        assert!(q.url(100).starts_with(
            "http://broker:1026/ngsi-ld/v1/temporal/entities?type=AirQualityObserved&limit=100&offset=100"
        ));
        assert!(q.url(0).ends_with("endTimeAt=2026-05-01T00:00:00%2B09:00"));
    }
}
