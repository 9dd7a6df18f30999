//! JSON import: an array of one kind's records (what export writes), or an
//! object with [`Dataset`] arrays (`{"kpis": [...], "observations": [...]}`),
//! possibly of several kinds.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use citykpi_domain::{Dataset, Kind, KnownKeys, limits};

use crate::ImportOutcome;
use crate::error::{ImportError, Problem, Problems, RowUnit};
use crate::table::decode_text;
use crate::validate::{Naming, RowRefs, validate};

/// The arrays of a [`Dataset`] and the kind each belongs to.
const ARRAYS: [(&str, Kind); 11] = [
    ("departments", Kind::Org),
    ("sections", Kind::Org),
    ("users", Kind::Users),
    ("plans", Kind::Plans),
    ("plan_nodes", Kind::Plans),
    ("kpis", Kind::Kpis),
    ("observations", Kind::Observations),
    ("programs", Kind::Programs),
    ("links", Kind::Links),
    ("indicators", Kind::Indicators),
    ("money", Kind::Money),
];

/// Which Dataset array a bare record belongs to, from its field names.
fn array_of_record(v: &Value) -> Option<&'static str> {
    let o = v.as_object()?;
    let has = |k: &str| o.contains_key(k);
    Some(if has("login") {
        "users"
    } else if has("kpi_code") && has("period") {
        "observations"
    } else if has("program_code") && has("kpi_code") {
        "links"
    } else if has("program_code") && has("budget_initial") {
        "money"
    } else if has("program_code") && has("kind") {
        "indicators"
    } else if has("code") && has("direction") {
        "kpis"
    } else if has("code") && has("delivery") {
        "programs"
    } else if has("code") && has("department_code") {
        "sections"
    } else if has("code") && has("plan_code") {
        "plan_nodes"
    } else if has("code") && has("start_fy") && has("end_fy") {
        "plans"
    } else {
        return None;
    })
}

fn kind_of_array(name: &str) -> Option<Kind> {
    ARRAYS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

fn take<T: DeserializeOwned>(
    name: &str,
    items: Vec<Value>,
    out: &mut Vec<T>,
    rows: &mut Vec<usize>,
    problems: &mut Problems,
) {
    for (i, item) in items.into_iter().enumerate() {
        let mut long = Vec::new();
        too_long_texts(&item, name, &mut long);
        if !long.is_empty() {
            for (path, e) in long {
                problems.push(Problem {
                    row: Some(i + 1),
                    column: Some(path),
                    value: None,
                    reason: e.to_string(),
                });
            }
            continue;
        }
        match serde_json::from_value::<T>(item) {
            Ok(v) => {
                out.push(v);
                rows.push(i + 1);
            }
            Err(e) => problems.push(Problem {
                row: Some(i + 1),
                column: Some(name.to_string()),
                value: None,
                reason: format!(
                    "{name}の{}件目を読めません / cannot read record {} of {name}: {e}",
                    i + 1,
                    i + 1
                ),
            }),
        }
    }
}

/// Every string of a record longer than its field's limit, by path
/// (`observations.note`, `money.funding.note`). Paths are only built for
/// the rare text long enough to be in doubt: a million records pass quickly.
fn too_long_texts(v: &Value, path: &str, out: &mut Vec<(String, limits::TooLong)>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                match x {
                    Value::String(s) if s.len() <= limits::NAME_MAX => {}
                    Value::String(s) => {
                        let p = format!("{path}.{k}");
                        if let Err(e) = limits::check(&p, s) {
                            out.push((p, e));
                        }
                    }
                    Value::Object(_) | Value::Array(_) => {
                        too_long_texts(x, &format!("{path}.{k}"), out)
                    }
                    _ => {}
                }
            }
        }
        Value::Array(items) => {
            for x in items {
                too_long_texts(x, path, out);
            }
        }
        Value::String(s) => {
            if let Err(e) = limits::check(path, s) {
                out.push((path.to_string(), e));
            }
        }
        _ => {}
    }
}

fn take_array(
    name: &str,
    items: Vec<Value>,
    ds: &mut Dataset,
    rows: &mut RowRefs,
    p: &mut Problems,
) {
    match name {
        "departments" => take(name, items, &mut ds.departments, &mut rows.departments, p),
        "sections" => take(name, items, &mut ds.sections, &mut rows.sections, p),
        "users" => take(name, items, &mut ds.users, &mut rows.users, p),
        "plans" => take(name, items, &mut ds.plans, &mut rows.plans, p),
        "plan_nodes" => take(name, items, &mut ds.plan_nodes, &mut rows.plan_nodes, p),
        "kpis" => take(name, items, &mut ds.kpis, &mut rows.kpis, p),
        "observations" => take(name, items, &mut ds.observations, &mut rows.observations, p),
        "programs" => take(name, items, &mut ds.programs, &mut rows.programs, p),
        "links" => take(name, items, &mut ds.links, &mut rows.links, p),
        "indicators" => take(name, items, &mut ds.indicators, &mut rows.indicators, p),
        "money" => take(name, items, &mut ds.money, &mut rows.money, p),
        _ => {}
    }
}

pub(crate) fn import_json(
    file: &str,
    bytes: &[u8],
    kind_hint: Option<Kind>,
    known: &KnownKeys,
) -> Result<ImportOutcome, ImportError> {
    let text = decode_text(file, bytes)?;
    let invalid = |p: Problem| {
        let mut ps = Problems::default();
        ps.push(p);
        ImportError::Invalid(ps.into_report(file, RowUnit::Record))
    };
    if text.trim().is_empty() {
        return Err(invalid(Problem::file(
            "ファイルが空です / the file is empty",
        )));
    }
    let value: Value = parse_without_duplicates(&text).map_err(|e| {
        if e.is_data() {
            // Well-formed JSON that says something twice (a duplicate key).
            return invalid(Problem::file(format!(
                "{}行目 {}文字目: {e} / line {}, column {}",
                e.line(),
                e.column(),
                e.line(),
                e.column()
            )));
        }
        invalid(Problem::file(format!(
            "JSONとして読めません（{}行目 {}文字目） / not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column(),
            e.line(),
            e.column()
        )))
    })?;
    let mut problems = Problems::default();
    let mut warnings = Vec::new();
    let mut ds = Dataset::default();
    let mut rows = RowRefs::default();
    let mut rows_read = 0;
    match value {
        Value::Array(items) => {
            let detected = items.first().and_then(array_of_record);
            let name = match (kind_hint, detected) {
                (Some(k), Some(n)) if kind_of_array(n) == Some(k) => n,
                (Some(k), _) => ARRAYS
                    .iter()
                    .find(|(_, kk)| *kk == k)
                    .map(|(n, _)| *n)
                    .unwrap_or("observations"),
                (None, Some(n)) => n,
                (None, None) if items.is_empty() => {
                    return Ok(ImportOutcome {
                        kind: None,
                        dataset: ds,
                        rows_read: 0,
                        warnings,
                    });
                }
                (None, None) => {
                    return Err(ImportError::UnknownKind {
                        file: file.to_string(),
                    });
                }
            };
            rows_read = items.len();
            take_array(name, items, &mut ds, &mut rows, &mut problems);
        }
        Value::Object(map) => {
            let mut any = false;
            for (key, v) in map {
                let Some(kind) = kind_of_array(&key) else {
                    warnings.push(Problem {
                        row: None,
                        column: Some(key.clone()),
                        value: None,
                        reason: "データセットにない項目のため無視しました / not a dataset array, ignored".to_string(),
                    });
                    continue;
                };
                any = true;
                if kind_hint.is_some_and(|k| k != kind) {
                    warnings.push(Problem {
                        row: None,
                        column: Some(key.clone()),
                        value: None,
                        reason: "指定した種類と違うため無視しました / not of the requested kind, ignored".to_string(),
                    });
                    continue;
                }
                match v {
                    Value::Array(items) => {
                        rows_read += items.len();
                        take_array(&key, items, &mut ds, &mut rows, &mut problems);
                    }
                    Value::Null => {}
                    _ => problems.push(Problem {
                        row: None,
                        column: Some(key.clone()),
                        value: None,
                        reason: format!(
                            "「{key}」は配列ではありません / \"{key}\" is not an array"
                        ),
                    }),
                }
            }
            if !any {
                return Err(ImportError::UnknownKind {
                    file: file.to_string(),
                });
            }
        }
        _ => {
            return Err(ImportError::UnknownKind {
                file: file.to_string(),
            });
        }
    }
    // Password hashes are set through the user service, never by a file.
    if ds.users.iter().any(|u| u.password_hash.is_some()) {
        for u in &mut ds.users {
            u.password_hash = None;
        }
        warnings.push(Problem {
            row: None,
            column: Some("users.password_hash".to_string()),
            value: None,
            reason: "パスワードは取り込みません / password hashes are not imported".to_string(),
        });
    }
    validate(&ds, &rows, known, &Naming::Json, &mut problems);
    if !problems.is_empty() {
        return Err(ImportError::Invalid(
            problems.into_report(file, RowUnit::Record),
        ));
    }
    let kind = kind_hint.or_else(|| {
        let present: Vec<Kind> = ARRAYS
            .iter()
            .filter(|(name, _)| array_len(&ds, name) > 0)
            .map(|(_, k)| *k)
            .collect();
        match present.first() {
            Some(k) if present.iter().all(|x| x == k) => Some(*k),
            _ => None,
        }
    });
    Ok(ImportOutcome {
        kind,
        dataset: ds,
        rows_read,
        warnings,
    })
}

fn array_len(ds: &Dataset, name: &str) -> usize {
    ds.counts()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| c)
        .unwrap_or(0)
}

/// Parses JSON as `serde_json::from_str` does, but refuses an object that
/// names a key twice: `serde_json` keeps the last, so the file would say two
/// things and the import would silently take one. The error names the key and
/// where it is (`observations[3]`: the array and the record's index from 0).
fn parse_without_duplicates(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Checked { path: "$" }.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// A JSON value read at `path`, refusing duplicate keys.
struct Checked<'p> {
    path: &'p str,
}

impl<'de> DeserializeSeed<'de> for Checked<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn child_path(parent: &str, key: &str) -> String {
    if parent == "$" {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

impl<'de> Visitor<'de> for Checked<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let path = format!("{}[{}]", self.path, out.len());
            match seq.next_element_seed(Checked { path: &path })? {
                Some(v) => out.push(v),
                None => break,
            }
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                let at = self.path;
                return Err(de::Error::custom(format!(
                    "キー「{key}」が{at}に2回以上あります（どちらの値か決められません） / duplicate key \"{key}\" in {at}"
                )));
            }
            let path = child_path(self.path, &key);
            let v = map.next_value_seed(Checked { path: &path })?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod duplicate_tests {
    use super::parse_without_duplicates;

    #[test]
    fn duplicate_keys_are_refused_with_their_place() {
        let ok = parse_without_duplicates(r#"{"a":[{"x":1,"y":[1,2]}],"b":null}"#).unwrap();
        assert_eq!(ok["a"][0]["y"][1], 2);
        let e = parse_without_duplicates(r#"{"observations":[{"v":1},{"v":1,"v":2}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("duplicate key \"v\" in observations[1]"), "{e}");
        let top = parse_without_duplicates(r#"{"kpis":[],"kpis":[]}"#)
            .unwrap_err()
            .to_string();
        assert!(top.contains("duplicate key \"kpis\" in $"), "{top}");
    }
}
