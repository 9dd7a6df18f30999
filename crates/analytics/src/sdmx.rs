//! SDMX-CSV 2.0 data messages (SDMX 3.0 technical standards, section 6:
//! "SDMX-CSV format"): one observation per row; the columns are `STRUCTURE`
//! (`dataflow` / `datastructure` / `dataprovision`), `STRUCTURE_ID`
//! (`AGENCY:ID(VERSION)`), an optional `ACTION` (`I` information, `A` append,
//! `R` replace, `D` delete), then the dimensions, the measure (`OBS_VALUE`)
//! and the attributes. With labels requested, headers and cells read
//! `ID: Label`; the id part is kept. Multi-valued (`[a;b]`) components are
//! kept as written.
//!
//! Without the data structure definition, columns before `OBS_VALUE` are
//! taken as dimensions and those after it as attributes, which is the column
//! order the standard prescribes.

use std::collections::BTreeMap;

use citykpi_domain::observation::ObsValue;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SdmxError {
    #[error(
        "CSVとして読めません（{line}行目）: {reason} / not readable as CSV (line {line}): {reason}"
    )]
    Csv { line: u64, reason: String },
    #[error(
        "SDMX-CSV 2.0の必須列「{0}」がありません / required SDMX-CSV 2.0 column \"{0}\" is missing"
    )]
    MissingColumn(&'static str),
    #[error("{line}行目: {reason} / line {line}: {reason}")]
    Row { line: u64, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SdmxAction {
    Information,
    Append,
    Replace,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SdmxObservation {
    pub structure: String,
    pub structure_id: String,
    pub action: SdmxAction,
    /// Dimension id → code, including `TIME_PERIOD`.
    pub dimensions: BTreeMap<String, String>,
    pub value: ObsValue,
    pub attributes: BTreeMap<String, String>,
}

impl SdmxObservation {
    pub fn time_period(&self) -> Option<&str> {
        self.dimensions.get("TIME_PERIOD").map(String::as_str)
    }
}

/// `ID: Label` → `ID`.
fn id_part(s: &str) -> &str {
    s.split_once(": ").map(|(id, _)| id).unwrap_or(s).trim()
}

pub fn parse_sdmx_csv(text: &str) -> Result<Vec<SdmxObservation>, SdmxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(crate::panel::detect_delimiter(text))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let csv_err = |e: csv::Error| SdmxError::Csv {
        line: e.position().map(|p| p.line()).unwrap_or(0),
        reason: e.to_string(),
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(|h| id_part(h).to_string())
        .collect();
    let find = |name: &'static str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or(SdmxError::MissingColumn(name))
    };
    let structure_col = find("STRUCTURE")?;
    let id_col = find("STRUCTURE_ID")?;
    let value_col = find("OBS_VALUE")?;
    let action_col = headers.iter().position(|h| h == "ACTION");
    let first_dim = [Some(structure_col), Some(id_col), action_col]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0)
        + 1;
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_err)?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let cell = |c: usize| record.get(c).unwrap_or("");
        let action = match action_col.map(|c| id_part(cell(c))).unwrap_or("I") {
            "I" | "" => SdmxAction::Information,
            "A" => SdmxAction::Append,
            "R" => SdmxAction::Replace,
            "D" => SdmxAction::Delete,
            other => {
                return Err(SdmxError::Row {
                    line,
                    reason: format!("unknown ACTION \"{other}\""),
                });
            }
        };
        let raw_value = cell(value_col);
        // Numbers as SDMX writes them ("1.5E3", "NaN" for missing) first, then office style.
        let value = match raw_value {
            "" | "NaN" => ObsValue::Missing,
            v => match v.parse::<f64>() {
                Ok(x) if x.is_finite() => ObsValue::Value(x),
                _ => ObsValue::parse(v).map_err(|e| SdmxError::Row {
                    line,
                    reason: e.to_string(),
                })?,
            },
        };
        let mut dimensions = BTreeMap::new();
        let mut attributes = BTreeMap::new();
        for (c, h) in headers.iter().enumerate() {
            if c < first_dim || c == value_col {
                continue;
            }
            let v = id_part(cell(c)).to_string();
            if c < value_col {
                dimensions.insert(h.clone(), v);
            } else if !v.is_empty() {
                attributes.insert(h.clone(), v);
            }
        }
        out.push(SdmxObservation {
            structure: cell(structure_col).to_string(),
            structure_id: cell(id_col).to_string(),
            action,
            dimensions,
            value,
            attributes,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../tests/fixtures/sdmx_csv_2_0_sample.csv");

    #[test]
    fn parses_the_fixture_with_labels() {
        let obs = parse_sdmx_csv(FIXTURE).unwrap();
        assert_eq!(obs.len(), 4);
        let o = &obs[0];
        assert_eq!(o.structure, "dataflow");
        assert_eq!(o.structure_id, "CITYKPI:POP_AREA(1.0.0)");
        assert_eq!(o.action, SdmxAction::Information);
        assert_eq!(o.dimensions["REF_AREA"], "271403");
        assert_eq!(o.dimensions["FREQ"], "A");
        assert_eq!(o.time_period(), Some("2020"));
        assert_eq!(o.value, ObsValue::Value(826161.0));
        assert_eq!(o.attributes["UNIT_MEASURE"], "PS");
        assert_eq!(obs[1].attributes["OBS_STATUS"], "P");
        assert_eq!(obs[2].value, ObsValue::Missing);
        assert_eq!(obs[3].action, SdmxAction::Delete);
        assert!(obs[3].attributes.is_empty());
        assert_eq!(obs[0].dimensions.len(), 4);
    }

    #[test]
    fn plain_ids_semicolons_and_errors() {
        let text = "STRUCTURE;STRUCTURE_ID;REF_AREA;TIME_PERIOD;OBS_VALUE\ndataflow;X:Y(1.0);271403;2022;1.5E3\n";
        let obs = parse_sdmx_csv(text).unwrap();
        assert_eq!(obs[0].value, ObsValue::Value(1500.0));
        assert_eq!(obs[0].action, SdmxAction::Information);
        assert_eq!(
            parse_sdmx_csv("STRUCTURE,OBS_VALUE\n").unwrap_err(),
            SdmxError::MissingColumn("STRUCTURE_ID")
        );
        let bad =
            "STRUCTURE,STRUCTURE_ID,ACTION,TIME_PERIOD,OBS_VALUE\ndataflow,X:Y(1.0),Q,2022,1\n";
        assert!(matches!(
            parse_sdmx_csv(bad),
            Err(SdmxError::Row { line: 2, .. })
        ));
        let bad = "STRUCTURE,STRUCTURE_ID,TIME_PERIOD,OBS_VALUE\ndataflow,X:Y(1.0),2022,lots\n";
        assert!(matches!(
            parse_sdmx_csv(bad),
            Err(SdmxError::Row { line: 2, .. })
        ));
    }
}
