//! Reading measurements of a smart-city demonstration from a city data
//! platform ("city OS") over NGSI-LD, the API of FIWARE context brokers
//! (ETSI GS CIM 009). The temporal API
//! (`GET /ngsi-ld/v1/temporal/entities?...`) answers with one entity or an
//! array of entities, each attribute either in the normalized temporal
//! representation (an array of property instances with `value` and
//! `observedAt`) or in the simplified one (`?options=temporalValues`: an
//! object with `values: [[value, observedAt], …]`). Both are read here into
//! plain samples, with every problem named by its place in the document.
//!
//! The plain entity API (`GET /ngsi-ld/v1/entities?type=…`) answers with
//! entities whose attributes hold the current value: in the normalized form
//! (`{"type": "Property", "value": 22, "observedAt": …}`) or, with
//! `?options=keyValues`, as bare values (`"NO2": 22`). A value without its own
//! `observedAt` takes the entity's `dateObserved` / `observedAt` (the Smart
//! Data Models' convention), else the instant the caller gives.
//!
//! A broker's notification to a subscriber (`{"type": "Notification",
//! "data": [entities]}`) is read as its entities.
//!
//! Pure: the connector that fetches from a configured broker lives outside
//! the domain; this only reads the JSON it received.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Day;

/// One measured value of one attribute of one entity at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub entity_id: String,
    pub entity_type: String,
    pub attribute: String,
    /// As given (ISO 8601 / RFC 3339, e.g. `2026-04-01T09:00:00Z`).
    pub observed_at: String,
    pub value: f64,
    /// UN/CEFACT unit code when the instance gives one (`GQ`, `CEL`, …).
    pub unit_code: Option<String>,
}

/// A part of the document that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NgsiProblem {
    /// JSON-pointer-like place, e.g. `/0/NO2/3/value`.
    pub at: String,
    /// The entity's id, when it has one (`urn:ngsi-ld:…`).
    #[serde(default)]
    pub entity: String,
    /// The attribute's name, when the problem is in one.
    #[serde(default)]
    pub attribute: String,
    pub ja: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("NGSI-LDの文書を読めません / cannot read the NGSI-LD document: {}", .0.iter().map(NgsiProblem::describe).collect::<Vec<_>>().join("; "))]
pub struct NgsiError(pub Vec<NgsiProblem>);

impl NgsiProblem {
    /// `entity urn:…, attribute NO2 (/0/NO2/3/value): 値が数値ではありません / value is not a number`.
    pub fn describe(&self) -> String {
        let mut place = Vec::new();
        if !self.entity.is_empty() {
            place.push(format!("エンティティ entity {}", self.entity));
        }
        if !self.attribute.is_empty() {
            place.push(format!("属性 attribute {}", self.attribute));
        }
        let at = if self.at.is_empty() { "/" } else { &self.at };
        if place.is_empty() {
            format!("{at}: {} / {}", self.ja, self.en)
        } else {
            format!("{} ({at}): {} / {}", place.join(", "), self.ja, self.en)
        }
    }
}

/// Members of an entity that are not attributes.
const NOT_ATTRIBUTES: &[&str] = &[
    "id",
    "type",
    "@context",
    "scope",
    "location",
    "observationSpace",
    "operationSpace",
    "createdAt",
    "modifiedAt",
    "deletedAt",
    // The entity's own time of observation (Smart Data Models), not a measurement.
    "dateObserved",
    "observedAt",
];

fn problem(at: String, ja: &str, en: &str) -> NgsiProblem {
    NgsiProblem {
        at,
        entity: String::new(),
        attribute: String::new(),
        ja: ja.into(),
        en: en.into(),
    }
}

/// A date-time given as a string, a normalized property
/// (`{"value": "…"}`) or a typed JSON-LD value (`{"@type": "DateTime", "@value": "…"}`).
fn instant(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s.as_str()),
        Value::Object(o) => o
            .get("@value")
            .and_then(Value::as_str)
            .or_else(|| o.get("value").and_then(instant)),
        _ => None,
    }
}

/// Reads the numeric samples of `attributes` (all numeric properties when
/// empty) from a temporal-API answer. Non-numeric properties that were not
/// asked for are skipped; asked-for ones that are not numbers are problems.
/// Samples come sorted by entity, attribute and time.
pub fn temporal_samples(doc: &str, attributes: &[&str]) -> Result<Vec<Sample>, NgsiError> {
    samples(doc, attributes, None)
}

/// Reads the numeric samples of `attributes` (all numeric properties when
/// empty) from any answer of a broker: temporal (normalized or
/// temporalValues) or plain entities (normalized or keyValues). A value
/// without its own `observedAt` is taken at the entity's `dateObserved` /
/// `observedAt`, else at `default_observed_at`; without any of them it is a
/// problem. Samples come sorted by entity, attribute and time.
pub fn samples(
    doc: &str,
    attributes: &[&str],
    default_observed_at: Option<&str>,
) -> Result<Vec<Sample>, NgsiError> {
    let root: Value = serde_json::from_str(doc).map_err(|e| {
        NgsiError(vec![problem(
            String::new(),
            "JSONとして読めません",
            &format!("not JSON: {e}"),
        )])
    })?;
    let entities: Vec<(String, &Value)> = match &root {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("/{i}"), v))
            .collect(),
        // A subscription's notification (POSTed by the broker): its `data` are the entities.
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("Notification") => {
            match o.get("data") {
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (format!("/data/{i}"), v))
                    .collect(),
                _ => {
                    return Err(NgsiError(vec![problem(
                        "/data".into(),
                        "通知にエンティティの配列（data）がありません",
                        "the notification has no data array of entities",
                    )]));
                }
            }
        }
        Value::Object(_) => vec![(String::new(), &root)],
        _ => {
            return Err(NgsiError(vec![problem(
                String::new(),
                "エンティティまたはその配列ではありません",
                "is neither an entity nor an array of entities",
            )]));
        }
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (path, e) in entities {
        let Some(obj) = e.as_object() else {
            problems.push(problem(
                path,
                "エンティティではありません",
                "is not an entity",
            ));
            continue;
        };
        let id = obj
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let kind = obj
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if id.is_empty() {
            problems.push(problem(format!("{path}/id"), "idがありません", "has no id"));
            continue;
        }
        let entity_time = obj
            .get("dateObserved")
            .or_else(|| obj.get("observedAt"))
            .and_then(instant)
            .map(Value::from)
            .or_else(|| default_observed_at.map(Value::from));
        let problems_before = problems.len();
        for (name, attr) in obj
            .iter()
            .filter(|(k, _)| !NOT_ATTRIBUTES.contains(&k.as_str()))
        {
            let short = name.rsplit(['/', '#']).next().unwrap_or(name).to_string();
            let wanted =
                attributes.is_empty() || attributes.iter().any(|a| *a == name || *a == short);
            if !wanted {
                continue;
            }
            let strict = !attributes.is_empty();
            let at = format!("{path}/{name}");
            let mut push =
                |value: &Value, observed: Option<&Value>, unit: Option<&Value>, at: String| {
                    let Some(observed) = observed
                        .and_then(Value::as_str)
                        .filter(|s| observed_day(s).is_some())
                    else {
                        if strict || value.is_number() {
                            problems.push(problem(
                                format!("{at}/observedAt"),
                                "観測日時（observedAt）がないか読めません",
                                "observedAt is missing or not a date-time",
                            ));
                        }
                        return;
                    };
                    match value.as_f64().filter(|v| v.is_finite()) {
                        Some(v) => out.push(Sample {
                            entity_id: id.clone(),
                            entity_type: kind.clone(),
                            attribute: short.clone(),
                            observed_at: observed.to_string(),
                            value: v,
                            unit_code: unit.and_then(Value::as_str).map(str::to_string),
                        }),
                        None if strict => problems.push(problem(
                            format!("{at}/value"),
                            "値が数値ではありません",
                            "value is not a number",
                        )),
                        None => {}
                    }
                };
            let mut shape = Vec::new();
            match attr {
                // Normalized: an array of instances (a single instance may come as an object).
                Value::Array(instances) => {
                    for (i, inst) in instances.iter().enumerate() {
                        push(
                            inst.get("value").unwrap_or(&Value::Null),
                            inst.get("observedAt"),
                            inst.get("unitCode"),
                            format!("{at}/{i}"),
                        );
                    }
                }
                // Simplified (temporalValues): {"type": "Property", "values": [[v, t], …]}.
                Value::Object(o) if o.contains_key("values") => match o.get("values") {
                    Some(Value::Array(pairs)) => {
                        for (i, pair) in pairs.iter().enumerate() {
                            match pair.as_array().map(Vec::as_slice) {
                                Some([v, t, ..]) => {
                                    push(v, Some(t), o.get("unitCode"), format!("{at}/values/{i}"))
                                }
                                _ => shape.push(problem(
                                    format!("{at}/values/{i}"),
                                    "［値, 日時］の組ではありません",
                                    "is not a [value, observedAt] pair",
                                )),
                            }
                        }
                    }
                    _ => shape.push(problem(
                        format!("{at}/values"),
                        "valuesが配列ではありません",
                        "values is not an array",
                    )),
                },
                // Normalized entity: one property with its value now.
                Value::Object(o) if o.contains_key("value") => {
                    push(
                        o.get("value").unwrap_or(&Value::Null),
                        o.get("observedAt").or(entity_time.as_ref()),
                        o.get("unitCode"),
                        at,
                    );
                }
                // keyValues: the bare value.
                Value::Number(_) => push(attr, entity_time.as_ref(), None, at),
                _ if strict => shape.push(problem(
                    at,
                    "数値の属性（現在値または時系列）ではありません",
                    "is not a numeric property (current or temporal)",
                )),
                _ => {}
            }
            problems.extend(shape);
        }
        for p in &mut problems[problems_before..] {
            p.entity = id.clone();
            // The attribute is the path's segment after the entity's own.
            let rest = p.at[path.len()..].trim_start_matches('/');
            p.attribute = rest.split('/').next().unwrap_or_default().to_string();
        }
    }
    if !problems.is_empty() {
        return Err(NgsiError(problems));
    }
    out.sort_by(|a, b| {
        (
            a.entity_id.as_str(),
            a.attribute.as_str(),
            a.observed_at.as_str(),
        )
            .cmp(&(
                b.entity_id.as_str(),
                b.attribute.as_str(),
                b.observed_at.as_str(),
            ))
    });
    Ok(out)
}

/// The calendar day of an observedAt (`2026-04-01T09:00:00Z` → 2026-04-01).
/// The instant's own date is used; brokers in Japan report in UTC or +09:00.
pub fn observed_day(s: &str) -> Option<Day> {
    let date = s.get(..10)?;
    if s.len() > 10 && !matches!(s.as_bytes()[10], b'T' | b't' | b' ') {
        return None;
    }
    Day::parse(date)
}

/// Monthly means of one attribute (`YYYY-MM`, mean, count), by month — the
/// shape in which a demonstration's indicator or a KPI's monthly actual is kept.
pub fn monthly_means(samples: &[Sample], attribute: &str) -> Vec<(String, f64, usize)> {
    let mut months: Vec<(String, f64, usize)> = Vec::new();
    for s in samples.iter().filter(|s| s.attribute == attribute) {
        let Some(day) = observed_day(&s.observed_at) else {
            continue;
        };
        let key = format!("{:04}-{:02}", day.year(), day.month());
        match months.iter_mut().find(|(k, ..)| *k == key) {
            Some((_, sum, n)) => {
                *sum += s.value;
                *n += 1;
            }
            None => months.push((key, s.value, 1)),
        }
    }
    months.sort_by(|a, b| a.0.cmp(&b.0));
    months
        .into_iter()
        .map(|(k, sum, n)| (k, sum / n as f64, n))
        .collect()
}

/// How the samples of one period become one actual.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// Concentrations, temperatures, occupancy rates.
    Mean,
    /// Counts: passengers, visitors, kWh generated.
    Sum,
    /// The latest sample of the period (cumulative counters).
    Last,
    Min,
    Max,
}

impl Aggregate {
    pub const ALL: [Aggregate; 5] = [
        Aggregate::Mean,
        Aggregate::Sum,
        Aggregate::Last,
        Aggregate::Min,
        Aggregate::Max,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Aggregate::Mean => "mean",
            Aggregate::Sum => "sum",
            Aggregate::Last => "last",
            Aggregate::Min => "min",
            Aggregate::Max => "max",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            Aggregate::Mean => "平均",
            Aggregate::Sum => "合計",
            Aggregate::Last => "期末値",
            Aggregate::Min => "最小",
            Aggregate::Max => "最大",
        }
    }
    /// `mean` / `平均`, `sum` / `合計`, `last` / `期末値`, `min` / `最小`, `max` / `最大`.
    pub fn parse(s: &str) -> Option<Aggregate> {
        let n = crate::text::normalize(s).to_lowercase();
        Aggregate::ALL
            .into_iter()
            .find(|a| a.code() == n || a.label_ja() == n)
    }
}

/// The period an actual is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// A calendar month (`2026-04`).
    Month,
    /// A fiscal year, April to March (`2026`).
    FiscalYear,
}

impl Granularity {
    pub fn parse(s: &str) -> Option<Granularity> {
        match crate::text::normalize(s).to_lowercase().as_str() {
            "month" | "monthly" | "月" | "月次" => Some(Granularity::Month),
            "fy" | "year" | "fiscal_year" | "年度" => Some(Granularity::FiscalYear),
            _ => None,
        }
    }
    fn period_of(self, day: Day) -> Option<crate::observation::Period> {
        use crate::observation::Period;
        let month = u8::try_from(day.month()).ok()?;
        match self {
            Granularity::Month => Some(Period::Month(day.year(), month)),
            Granularity::FiscalYear => {
                crate::fiscal::FiscalYear::containing(day.year(), day.month())
                    .ok()
                    .map(Period::Year)
            }
        }
    }
}

/// One period's actual computed from samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodValue {
    pub period: crate::observation::Period,
    pub value: f64,
    /// Samples that went into it.
    pub count: usize,
    /// Entities they came from.
    pub entities: Vec<String>,
}

/// The actuals of `attribute` per period (samples of every entity pooled),
/// in period order.
pub fn aggregate(
    samples: &[Sample],
    attribute: &str,
    by: Granularity,
    how: Aggregate,
) -> Vec<PeriodValue> {
    use std::collections::BTreeMap;
    let mut groups: BTreeMap<crate::observation::Period, Vec<&Sample>> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.attribute == attribute) {
        if let Some(p) = observed_day(&s.observed_at).and_then(|d| by.period_of(d)) {
            groups.entry(p).or_default().push(s);
        }
    }
    groups
        .into_iter()
        .map(|(period, mut group)| {
            group.sort_by(|a, b| a.observed_at.cmp(&b.observed_at));
            let values = group.iter().map(|s| s.value);
            let value = match how {
                Aggregate::Mean => values.sum::<f64>() / group.len() as f64,
                Aggregate::Sum => values.sum(),
                Aggregate::Last => group.last().map_or(0.0, |s| s.value),
                Aggregate::Min => values.fold(f64::INFINITY, f64::min),
                Aggregate::Max => values.fold(f64::NEG_INFINITY, f64::max),
            };
            let mut entities: Vec<String> = group.iter().map(|s| s.entity_id.clone()).collect();
            entities.sort();
            entities.dedup();
            PeriodValue {
                period,
                value,
                count: group.len(),
                entities,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Normalized temporal representation, shaped as in ETSI GS CIM 009
    /// (temporal entity with property instances carrying observedAt/instanceId).
    const NORMALIZED: &str = r#"[
      {
        "id": "urn:ngsi-ld:AirQualityObserved:minato-rinkai-01",
        "type": "AirQualityObserved",
        "NO2": [
          { "type": "Property", "value": 22.0, "observedAt": "2026-04-01T09:00:00Z", "unitCode": "GQ",
            "instanceId": "urn:ngsi-ld:attribute:instance:f2a0" },
          { "type": "Property", "value": 26.0, "observedAt": "2026-04-02T09:00:00Z", "unitCode": "GQ",
            "instanceId": "urn:ngsi-ld:attribute:instance:f2a1" },
          { "type": "Property", "value": 30, "observedAt": "2026-05-01T09:00:00+09:00", "unitCode": "GQ",
            "instanceId": "urn:ngsi-ld:attribute:instance:f2a2" }
        ],
        "airQualityLevel": [
          { "type": "Property", "value": "good", "observedAt": "2026-04-01T09:00:00Z" }
        ],
        "location": { "type": "GeoProperty", "value": { "type": "Point", "coordinates": [135.43, 34.64] } },
        "@context": ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"]
      }
    ]"#;

    /// Simplified temporal representation (?options=temporalValues).
    const SIMPLIFIED: &str = r#"{
      "id": "urn:ngsi-ld:Vehicle:minato-bus-3",
      "type": "Vehicle",
      "passengers": { "type": "Property", "values": [[12, "2026-04-01T08:00:00Z"], [31, "2026-04-01T17:30:00Z"]] },
      "speed": { "type": "Property", "values": [[18.5, "2026-04-01T08:00:00Z"]] }
    }"#;

    #[test]
    fn normalized_and_simplified() {
        let s = temporal_samples(NORMALIZED, &[]).unwrap();
        assert_eq!(s.len(), 3, "the text-valued level is not a measurement");
        assert!(
            s.iter()
                .all(|x| x.attribute == "NO2" && x.unit_code.as_deref() == Some("GQ"))
        );
        assert_eq!(
            s[0].entity_id,
            "urn:ngsi-ld:AirQualityObserved:minato-rinkai-01"
        );
        assert_eq!(
            monthly_means(&s, "NO2"),
            vec![("2026-04".into(), 24.0, 2), ("2026-05".into(), 30.0, 1)]
        );

        let v = temporal_samples(SIMPLIFIED, &["passengers"]).unwrap();
        assert_eq!(
            v.iter().map(|x| x.value).collect::<Vec<_>>(),
            vec![12.0, 31.0]
        );
        assert_eq!(v[1].observed_at, "2026-04-01T17:30:00Z");
        assert_eq!(temporal_samples(SIMPLIFIED, &[]).unwrap().len(), 3);
    }

    /// Current values, normalized (GET /ngsi-ld/v1/entities?type=…).
    const ENTITIES_NORMALIZED: &str = r#"[
      { "id": "urn:ngsi-ld:ParkingSpot:eki-01", "type": "ParkingSpot",
        "occupancy": { "type": "Property", "value": 0.75, "observedAt": "2026-04-03T10:00:00Z" },
        "status": { "type": "Property", "value": "occupied" } },
      { "id": "urn:ngsi-ld:ParkingSpot:eki-02", "type": "ParkingSpot",
        "dateObserved": { "type": "Property", "value": { "@type": "DateTime", "@value": "2026-04-20T10:00:00Z" } },
        "occupancy": { "type": "Property", "value": 0.25 } }
    ]"#;

    /// Current values, keyValues (?options=keyValues).
    const ENTITIES_KEY_VALUES: &str = r#"[
      { "id": "urn:ngsi-ld:ParkingSpot:eki-01", "type": "ParkingSpot", "occupancy": 0.5,
        "dateObserved": "2026-05-01T10:00:00+09:00", "status": "free" },
      { "id": "urn:ngsi-ld:ParkingSpot:eki-02", "type": "ParkingSpot", "occupancy": 1 }
    ]"#;

    #[test]
    fn current_values_normalized_and_key_values() {
        let s = samples(ENTITIES_NORMALIZED, &["occupancy"], None).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[1].observed_at, "2026-04-20T10:00:00Z",
            "dateObserved of the entity"
        );
        // keyValues: one entity has no time of its own; the caller's instant is used.
        let err = samples(ENTITIES_KEY_VALUES, &["occupancy"], None).unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.0[0].entity, "urn:ngsi-ld:ParkingSpot:eki-02");
        assert_eq!(err.0[0].attribute, "occupancy");
        assert!(err.to_string().contains("urn:ngsi-ld:ParkingSpot:eki-02"));
        let kv = samples(
            ENTITIES_KEY_VALUES,
            &["occupancy"],
            Some("2026-05-31T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            kv.iter().map(|x| x.value).collect::<Vec<_>>(),
            vec![0.5, 1.0]
        );
        // Text values are skipped when nothing is asked for, refused when asked for.
        assert_eq!(
            samples(ENTITIES_KEY_VALUES, &[], Some("2026-05-31T00:00:00Z"))
                .unwrap()
                .len(),
            2
        );
        let err = samples(ENTITIES_KEY_VALUES, &["status"], Some("2026-05-31")).unwrap_err();
        assert_eq!(err.0[0].attribute, "status");

        let all: Vec<Sample> = s.into_iter().chain(kv).collect();
        let monthly = aggregate(&all, "occupancy", Granularity::Month, Aggregate::Mean);
        assert_eq!(monthly.len(), 2);
        assert_eq!(monthly[0].period.to_string(), "2026-04");
        assert!((monthly[0].value - 0.5).abs() < 1e-12);
        assert_eq!(monthly[0].entities.len(), 2);
        let fy = aggregate(&all, "occupancy", Granularity::FiscalYear, Aggregate::Sum);
        assert_eq!(fy.len(), 1);
        assert_eq!(fy[0].period.to_string(), "2026");
        assert!((fy[0].value - 2.5).abs() < 1e-12);
        assert_eq!(fy[0].count, 4);
        let last = aggregate(&all, "occupancy", Granularity::FiscalYear, Aggregate::Last);
        assert!(
            (last[0].value - 1.0).abs() < 1e-12,
            "the latest sample: 2026-05-31"
        );
        assert_eq!(
            aggregate(&all, "occupancy", Granularity::Month, Aggregate::Max)[1].value,
            1.0
        );
        assert_eq!(Aggregate::parse("合計"), Some(Aggregate::Sum));
        assert_eq!(Granularity::parse("年度"), Some(Granularity::FiscalYear));
        assert_eq!(Aggregate::parse("median"), None);
    }

    #[test]
    fn notifications_carry_entities() {
        let n = r#"{"id": "urn:ngsi-ld:Notification:1", "type": "Notification",
            "subscriptionId": "urn:ngsi-ld:Subscription:parking", "notifiedAt": "2026-04-03T10:00:01Z",
            "data": [ { "id": "urn:ngsi-ld:ParkingSpot:eki-01", "type": "ParkingSpot",
                        "occupancy": { "type": "Property", "value": "full", "observedAt": "2026-04-03T10:00:00Z" } } ] }"#;
        let err = samples(n, &["occupancy"], None).unwrap_err();
        assert_eq!(err.0[0].at, "/data/0/occupancy/value");
        assert_eq!(err.0[0].entity, "urn:ngsi-ld:ParkingSpot:eki-01");
        let ok = n.replace("\"full\"", "0.9");
        assert_eq!(samples(&ok, &["occupancy"], None).unwrap()[0].value, 0.9);
        assert!(samples(r#"{"type": "Notification"}"#, &[], None).is_err());
    }

    #[test]
    fn problems_are_named_by_place() {
        let err = temporal_samples(NORMALIZED, &["airQualityLevel"]).unwrap_err();
        assert_eq!(err.0[0].at, "/0/airQualityLevel/0/value");
        let bad = r#"{"id": "urn:x", "type": "T", "p": {"type": "Property", "values": [[1, "yesterday"], [2]]}}"#;
        let err = temporal_samples(bad, &["p"]).unwrap_err();
        let places: Vec<&str> = err.0.iter().map(|p| p.at.as_str()).collect();
        assert_eq!(places, vec!["/p/values/0/observedAt", "/p/values/1"]);
        assert!(temporal_samples("not json", &[]).is_err());
        assert!(temporal_samples("42", &[]).is_err());
        assert!(
            temporal_samples(r#"[{"type": "T"}]"#, &[]).unwrap_err().0[0]
                .at
                .ends_with("/id")
        );
        assert_eq!(
            observed_day("2026-04-01T00:00:00Z"),
            Day::parse("2026-04-01")
        );
        assert_eq!(observed_day("2026-04-01X"), None);
        assert_eq!(observed_day("short"), None);
    }
}
