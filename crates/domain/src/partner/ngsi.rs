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
    pub ja: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("NGSI-LDの文書を読めません / cannot read the NGSI-LD document: {}", .0.iter().map(|p| format!("{}: {}", p.at, p.en)).collect::<Vec<_>>().join("; "))]
pub struct NgsiError(pub Vec<NgsiProblem>);

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
];

fn problem(at: String, ja: &str, en: &str) -> NgsiProblem {
    NgsiProblem {
        at,
        ja: ja.into(),
        en: en.into(),
    }
}

/// Reads the numeric samples of `attributes` (all numeric properties when
/// empty) from a temporal-API answer. Non-numeric properties that were not
/// asked for are skipped; asked-for ones that are not numbers are problems.
/// Samples come sorted by entity, attribute and time.
pub fn temporal_samples(doc: &str, attributes: &[&str]) -> Result<Vec<Sample>, NgsiError> {
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
                Value::Object(o) if o.contains_key("value") => {
                    push(
                        o.get("value").unwrap_or(&Value::Null),
                        o.get("observedAt"),
                        o.get("unitCode"),
                        at,
                    );
                }
                _ if strict => shape.push(problem(
                    at,
                    "時系列の属性ではありません",
                    "is not a temporal attribute",
                )),
                _ => {}
            }
            problems.extend(shape);
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
