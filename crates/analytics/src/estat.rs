//! The national statistics portal's API (e-Stat, v3.0) `getStatsData` JSON:
//! parsing, request URLs and paging. No HTTP here: the caller fetches.
//!
//! Quirks handled: `CLASS` (and `VALUE`, `CLASS_OBJ`, `NOTE`) are an object
//! instead of an array when there is one entry; numbers may come as strings;
//! cells are strings with `***` (not surveyed), `-` (not obtained) and `X`
//! (secret) markers; time codes are 10 digits starting with the year
//! (`1981100000` → 1981); area codes are 5 digits without the check digit.

use std::collections::BTreeMap;

use citykpi_domain::observation::ObsValue;
use serde::Serialize;
use serde_json::Value;

pub const API_BASE: &str = "https://api.e-stat.go.jp/rest/3.0/app/json/getStatsData";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EstatError {
    #[error("JSONとして読めません: {0} / not valid JSON: {0}")]
    Json(String),
    #[error(
        "getStatsDataの応答ではありません（{0}がありません） / not a getStatsData response ({0} is missing)"
    )]
    Shape(String),
    #[error(
        "e-Stat APIがエラーを返しました（STATUS {status}）: {message} / the e-Stat API returned an error (STATUS {status}): {message}"
    )]
    Api { status: i64, message: String },
    #[error(
        "セル「{raw}」（{position}番目）を数値として読めません / cell \"{raw}\" (value #{position}) is not a number"
    )]
    Value { raw: String, position: usize },
    #[error(
        "VALUE（{position}番目）に値「$」がありません。統計表は取り込みません / value #{position} has no \"$\" (its cell): the statistics are refused whole"
    )]
    NoCell { position: usize },
    #[error(
        "NEXT_KEY {next}が進んでいません（現在{current}） / NEXT_KEY {next} does not advance (now at {current})"
    )]
    PagingStuck { next: u64, current: u64 },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassEntry {
    pub code: String,
    pub name: String,
    pub level: Option<String>,
    pub unit: Option<String>,
    pub parent_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassObj {
    /// `tab`, `cat01`, `area`, `time`, …
    pub id: String,
    pub name: String,
    pub entries: Vec<ClassEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatValue {
    /// Dimension id (without `@`) → code, e.g. `area` → `01100`.
    pub dims: BTreeMap<String, String>,
    pub unit: Option<String>,
    pub value: ObsValue,
    pub raw: String,
}

impl StatValue {
    pub fn year(&self) -> Option<i32> {
        self.dims.get("time").and_then(|t| time_code_year(t))
    }
    /// The 6-digit local-government code of the `area` dimension.
    pub fn area_code6(&self) -> Option<String> {
        let a = self.dims.get("area")?;
        crate::lgcode::normalize(a).ok()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsData {
    pub status: i64,
    pub message: String,
    pub stats_data_id: String,
    pub title: String,
    pub total_number: u64,
    pub from_number: u64,
    pub to_number: u64,
    /// Position of the next page; None on the last page.
    pub next_key: Option<u64>,
    pub classes: Vec<ClassObj>,
    /// Marker → meaning, from `DATA_INF.NOTE`.
    pub notes: BTreeMap<String, String>,
    pub values: Vec<StatValue>,
}

impl StatsData {
    pub fn class(&self, id: &str) -> Option<&ClassObj> {
        self.classes.iter().find(|c| c.id == id)
    }
    /// The name of a code in a class (e.g. an area's municipality name).
    pub fn label(&self, class_id: &str, code: &str) -> Option<&str> {
        self.class(class_id)?
            .entries
            .iter()
            .find(|e| e.code == code)
            .map(|e| e.name.as_str())
    }
}

/// `1981100000` → 1981: e-Stat time codes start with the four-digit year.
pub fn time_code_year(code: &str) -> Option<i32> {
    let c = code.trim();
    if c.len() != 10 || !c.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    c[..4].parse().ok()
}

/// One or many: the API gives an object where an array has one element.
fn as_list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other],
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => o.get("$").and_then(|x| text(Some(x))),
        _ => None,
    }
}

fn number(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads a cell: the statistics markers first, then a number.
pub fn parse_cell(raw: &str) -> Option<ObsValue> {
    match raw.trim() {
        // *** = 調査又は集計していないもの, - = データが得られないもの
        "***" | "-" | "" | "…" | "..." => Some(ObsValue::Missing),
        // X = 数値が秘匿されているもの
        "X" | "x" => Some(ObsValue::Secret),
        other => other
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(ObsValue::Value)
            .or_else(|| ObsValue::parse(other).ok()),
    }
}

pub fn parse_get_stats_data(json: &str) -> Result<StatsData, EstatError> {
    let root: Value = serde_json::from_str(json).map_err(|e| EstatError::Json(e.to_string()))?;
    let g = root
        .get("GET_STATS_DATA")
        .ok_or_else(|| EstatError::Shape("GET_STATS_DATA".into()))?;
    let result = g
        .get("RESULT")
        .ok_or_else(|| EstatError::Shape("RESULT".into()))?;
    let status = match result.get("STATUS") {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(-1),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(-1),
        _ => return Err(EstatError::Shape("RESULT.STATUS".into())),
    };
    let message = text(result.get("ERROR_MSG")).unwrap_or_default();
    // 0 = success, 1 = no matching data, 2 = success with some parameters ignored; ≥ 100 = error.
    if !(0..=2).contains(&status) {
        return Err(EstatError::Api { status, message });
    }
    let param_id = g
        .get("PARAMETER")
        .and_then(|p| text(p.get("STATS_DATA_ID")));
    let Some(sd) = g.get("STATISTICAL_DATA") else {
        // STATUS 1: no data — an empty page, not an error.
        return Ok(StatsData {
            status,
            message,
            stats_data_id: param_id.unwrap_or_default(),
            title: String::new(),
            total_number: 0,
            from_number: 0,
            to_number: 0,
            next_key: None,
            classes: Vec::new(),
            notes: BTreeMap::new(),
            values: Vec::new(),
        });
    };
    let ri = sd
        .get("RESULT_INF")
        .ok_or_else(|| EstatError::Shape("RESULT_INF".into()))?;
    let total_number = number(ri.get("TOTAL_NUMBER"))
        .ok_or_else(|| EstatError::Shape("RESULT_INF.TOTAL_NUMBER".into()))?;
    let table = sd.get("TABLE_INF");
    let stats_data_id = table
        .and_then(|t| text(t.get("@id")))
        .or(param_id)
        .unwrap_or_default();
    let title = table.and_then(|t| text(t.get("TITLE"))).unwrap_or_default();
    let classes = as_list(sd.get("CLASS_INF").and_then(|c| c.get("CLASS_OBJ")))
        .into_iter()
        .map(|obj| ClassObj {
            id: text(obj.get("@id")).unwrap_or_default(),
            name: text(obj.get("@name")).unwrap_or_default(),
            entries: as_list(obj.get("CLASS"))
                .into_iter()
                .map(|c| ClassEntry {
                    code: text(c.get("@code")).unwrap_or_default(),
                    name: text(c.get("@name")).unwrap_or_default(),
                    level: text(c.get("@level")),
                    unit: text(c.get("@unit")),
                    parent_code: text(c.get("@parentCode")),
                })
                .collect(),
        })
        .collect();
    let data_inf = sd.get("DATA_INF");
    let notes = as_list(data_inf.and_then(|d| d.get("NOTE")))
        .into_iter()
        .filter_map(|n| Some((text(n.get("@char"))?, text(n.get("$")).unwrap_or_default())))
        .collect();
    let mut values = Vec::new();
    for (i, v) in as_list(data_inf.and_then(|d| d.get("VALUE")))
        .into_iter()
        .enumerate()
    {
        // A value without its cell is a damaged file, not a missing value:
        // reading it as 欠測 would replace real figures with "missing".
        let raw = match v.get("$") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(EstatError::NoCell { position: i + 1 }),
        };
        let value = parse_cell(&raw).ok_or_else(|| EstatError::Value {
            raw: raw.clone(),
            position: i + 1,
        })?;
        let mut dims = BTreeMap::new();
        let mut unit = None;
        if let Value::Object(o) = v {
            for (k, x) in o {
                if let Some(name) = k.strip_prefix('@') {
                    if name == "unit" {
                        unit = text(Some(x));
                    } else if let Some(code) = text(Some(x)) {
                        dims.insert(name.to_string(), code);
                    }
                }
            }
        }
        values.push(StatValue {
            dims,
            unit,
            value,
            raw,
        });
    }
    Ok(StatsData {
        status,
        message,
        stats_data_id,
        title,
        total_number,
        from_number: number(ri.get("FROM_NUMBER")).unwrap_or(0),
        to_number: number(ri.get("TO_NUMBER")).unwrap_or(0),
        next_key: number(ri.get("NEXT_KEY")),
        classes,
        notes,
        values,
    })
}

/// A `getStatsData` request. `extra` carries narrowing parameters such as
/// `cdArea`, `cdCat01`, `cdTime`, `lvArea`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EstatRequest {
    pub app_id: String,
    pub stats_data_id: String,
    pub limit: Option<u64>,
    pub extra: Vec<(String, String)>,
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl EstatRequest {
    /// The URL of the page starting at `start_position` (1-based).
    pub fn url(&self, start_position: Option<u64>) -> String {
        let mut q: Vec<(String, String)> = vec![
            ("appId".into(), self.app_id.clone()),
            ("statsDataId".into(), self.stats_data_id.clone()),
        ];
        if let Some(p) = start_position {
            q.push(("startPosition".into(), p.to_string()));
        }
        if let Some(l) = self.limit {
            q.push(("limit".into(), l.to_string()));
        }
        q.extend(self.extra.iter().cloned());
        let query: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("{API_BASE}?{}", query.join("&"))
    }
}

/// Paging: ask `next_url`, fetch it, hand the parsed page to `advance`, and
/// repeat until `next_url` is None.
#[derive(Debug, Clone, PartialEq)]
pub struct Pager {
    request: EstatRequest,
    next_start: Option<u64>,
    started: bool,
    pub pages_done: usize,
    pub values_seen: u64,
}

impl Pager {
    pub fn new(request: EstatRequest) -> Pager {
        Pager {
            request,
            next_start: Some(1),
            started: false,
            pages_done: 0,
            values_seen: 0,
        }
    }
    pub fn next_url(&self) -> Option<String> {
        self.next_start.map(|p| {
            self.request.url(if self.started || p != 1 {
                Some(p)
            } else {
                None
            })
        })
    }
    pub fn advance(&mut self, page: &StatsData) -> Result<(), EstatError> {
        let current = self.next_start.unwrap_or(1);
        self.started = true;
        self.pages_done += 1;
        self.values_seen += page.values.len() as u64;
        match page.next_key {
            Some(next) if next <= current => {
                self.next_start = None;
                Err(EstatError::PagingStuck { next, current })
            }
            next => {
                self.next_start = next;
                Ok(())
            }
        }
    }
    pub fn is_done(&self) -> bool {
        self.next_start.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::shared_data;

    #[test]
    fn the_real_sample_response() {
        let d = parse_get_stats_data(&shared_data("estat/getStatsData_0000020202_sample.json"))
            .unwrap();
        assert_eq!(d.status, 0);
        assert_eq!(d.stats_data_id, "0000020202");
        assert_eq!(d.total_number, 403_227);
        assert_eq!((d.from_number, d.to_number, d.next_key), (1, 10, Some(11)));
        assert_eq!(d.values.len(), 10);
        // CLASS of `tab` is a single object; of `cat01` an array.
        assert_eq!(d.class("tab").unwrap().entries.len(), 1);
        assert!(d.class("cat01").unwrap().entries.len() > 1);
        assert_eq!(
            d.class("cat01").unwrap().entries[0].unit.as_deref(),
            Some("ｈａ")
        );
        let v = &d.values[0];
        assert_eq!(v.value, ObsValue::Value(111801.0));
        assert_eq!(v.year(), Some(1981));
        assert_eq!(v.dims["area"], "01100");
        assert_eq!(v.area_code6().as_deref(), Some("011002"));
        assert_eq!(d.label("area", "01100"), Some("北海道 札幌市"));
        assert_eq!(d.class("area").unwrap().entries.len(), 1913);
        assert_eq!(
            d.class("area")
                .unwrap()
                .entries
                .iter()
                .find(|e| e.code == "01100")
                .unwrap()
                .parent_code
                .as_deref(),
            Some("01000")
        );
        assert_eq!(d.values[9].year(), Some(1990));
        assert_eq!(d.values[9].value, ObsValue::Value(112118.0));
        assert_eq!(
            d.notes.get("X").map(String::as_str),
            Some("数値が秘匿されているもの")
        );
    }

    #[test]
    fn single_objects_markers_and_errors() {
        let page = r#"{"GET_STATS_DATA":{"RESULT":{"STATUS":0,"ERROR_MSG":"ok"},
          "STATISTICAL_DATA":{"RESULT_INF":{"TOTAL_NUMBER":"3","FROM_NUMBER":1,"TO_NUMBER":3},
          "CLASS_INF":{"CLASS_OBJ":{"@id":"area","@name":"地域","CLASS":{"@code":"27140","@name":"堺市"}}},
          "DATA_INF":{"NOTE":{"@char":"X","$":"秘匿"},"VALUE":[{"@area":"27140","@time":"2020100000","$":"X"},
            {"@area":"27140","@time":"2021100000","$":"***"},{"@area":"27140","@time":"2022100000","$":"-"}]}}}}"#;
        let d = parse_get_stats_data(page).unwrap();
        assert_eq!(d.total_number, 3);
        assert_eq!(d.next_key, None);
        assert_eq!(d.classes[0].entries[0].name, "堺市");
        let vals: Vec<ObsValue> = d.values.iter().map(|v| v.value).collect();
        assert_eq!(
            vals,
            vec![ObsValue::Secret, ObsValue::Missing, ObsValue::Missing]
        );
        assert_eq!(d.values[0].area_code6().as_deref(), Some("271403"));
        let single = page.replace(r#""VALUE":["#, r#""VALUE":"#).replace(r#"},
            {"@area":"27140","@time":"2021100000","$":"***"},{"@area":"27140","@time":"2022100000","$":"-"}]"#, "}");
        assert_eq!(parse_get_stats_data(&single).unwrap().values.len(), 1);
        let err =
            r#"{"GET_STATS_DATA":{"RESULT":{"STATUS":100,"ERROR_MSG":"認証に失敗しました。"}}}"#;
        assert_eq!(
            parse_get_stats_data(err).unwrap_err(),
            EstatError::Api {
                status: 100,
                message: "認証に失敗しました。".into()
            }
        );
        assert!(matches!(
            parse_get_stats_data("{"),
            Err(EstatError::Json(_))
        ));
        assert!(matches!(
            parse_get_stats_data("{}"),
            Err(EstatError::Shape(_))
        ));
        let bad = page.replace(r#""$":"X""#, r#""$":"abc""#);
        assert_eq!(
            parse_get_stats_data(&bad).unwrap_err(),
            EstatError::Value {
                raw: "abc".into(),
                position: 1
            }
        );
        // A value without "$" (or with "$" not a cell) refuses the whole page.
        let without = page.replace(r#","$":"-""#, "");
        let null = page.replace(r#""$":"-""#, r#""$":null"#);
        for no_cell in [without, null] {
            assert_eq!(
                parse_get_stats_data(&no_cell).unwrap_err(),
                EstatError::NoCell { position: 3 },
                "{no_cell}"
            );
        }
        assert_eq!(time_code_year("1981100000"), Some(1981));
        assert_eq!(time_code_year("1981"), None);
    }

    #[test]
    fn urls_and_paging() {
        let req = EstatRequest {
            app_id: "KEY&1".into(),
            stats_data_id: "0000020202".into(),
            limit: Some(10),
            extra: vec![("cdArea".into(), "27140,27141".into())],
        };
        let mut pager = Pager::new(req);
        assert_eq!(
            pager.next_url().unwrap(),
            "https://api.e-stat.go.jp/rest/3.0/app/json/getStatsData?appId=KEY%261&statsDataId=0000020202&limit=10&cdArea=27140%2C27141"
        );
        let first = parse_get_stats_data(&shared_data("estat/getStatsData_0000020202_sample.json"))
            .unwrap();
        pager.advance(&first).unwrap();
        assert!(pager.next_url().unwrap().contains("&startPosition=11&"));
        let mut last = first.clone();
        last.next_key = None;
        pager.advance(&last).unwrap();
        assert!(pager.is_done() && pager.next_url().is_none());
        assert_eq!((pager.pages_done, pager.values_seen), (2, 20));
        let mut stuck = Pager::new(EstatRequest::default());
        stuck.advance(&first).unwrap();
        assert_eq!(
            stuck.advance(&first).unwrap_err(),
            EstatError::PagingStuck {
                next: 11,
                current: 11
            }
        );
    }
}
