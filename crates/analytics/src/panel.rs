//! Panel data (units × periods) read from long-format CSV text.
//!
//! The library does no I/O: callers read the file and hand the text over. The
//! separator (`;`, `,` or tab) is detected from the header line, because the
//! reference data sets and Excel exports in Japanese offices use both.

use std::collections::{BTreeMap, HashMap};

use citykpi_domain::observation::ObsValue;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PanelError {
    #[error("データが空です / the input is empty")]
    Empty,
    #[error("CSVの{line}行目を読めません: {reason} / cannot read CSV line {line}: {reason}")]
    Csv { line: u64, reason: String },
    #[error("列「{0}」がありません / there is no column \"{0}\"")]
    MissingColumn(String),
    #[error(
        "{line}行目の列「{column}」の値「{value}」: {reason} / line {line}, column \"{column}\", value \"{value}\": {reason}"
    )]
    BadCell {
        line: u64,
        column: String,
        value: String,
        reason: String,
    },
    #[error(
        "単位「{unit}」・時点{time}の行が重複しています（{first_line}行目と{line}行目） / unit \"{unit}\" at time {time} appears twice (lines {first_line} and {line})"
    )]
    Duplicate {
        unit: String,
        time: i64,
        first_line: u64,
        line: u64,
    },
}

/// A CSV table kept as text, with the line number of every row (1-based, the
/// header is line 1) so that later errors can point at the cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub lines: Vec<u64>,
}

/// Picks the separator that occurs most often in the header line.
pub fn detect_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    let count = |c: char| header.matches(c).count();
    [(b';', count(';')), (b'\t', count('\t')), (b',', count(','))]
        .into_iter()
        .max_by_key(|&(_, n)| n)
        .filter(|&(_, n)| n > 0)
        .map(|(d, _)| d)
        .unwrap_or(b',')
}

impl Table {
    pub fn parse(text: &str) -> Result<Table, PanelError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            return Err(PanelError::Empty);
        }
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(detect_delimiter(text))
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let csv_err = |e: csv::Error| PanelError::Csv {
            line: e.position().map(|p| p.line()).unwrap_or(0),
            reason: e.to_string(),
        };
        let headers: Vec<String> = reader
            .headers()
            .map_err(csv_err)?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for record in reader.records() {
            let record = record.map_err(csv_err)?;
            lines.push(record.position().map(|p| p.line()).unwrap_or(0));
            rows.push(record.iter().map(str::to_string).collect());
        }
        Ok(Table {
            headers,
            rows,
            lines,
        })
    }

    pub fn column_index(&self, name: &str) -> Result<usize, PanelError> {
        self.headers
            .iter()
            .position(|h| h == name)
            .or_else(|| {
                self.headers
                    .iter()
                    .position(|h| h.eq_ignore_ascii_case(name))
            })
            .ok_or_else(|| PanelError::MissingColumn(name.to_string()))
    }

    /// A numeric column; missing markers (`-`, empty, `NA`, `X`, …) become None.
    pub fn numeric_column(&self, name: &str) -> Result<Vec<Option<f64>>, PanelError> {
        let c = self.column_index(name)?;
        self.rows
            .iter()
            .zip(&self.lines)
            .map(|(row, &line)| {
                parse_cell(row.get(c).map(String::as_str).unwrap_or(""), line, name)
            })
            .collect()
    }

    /// A numeric column that must be complete (regression data).
    pub fn required_column(&self, name: &str) -> Result<Vec<f64>, PanelError> {
        let values = self.numeric_column(name)?;
        values
            .into_iter()
            .zip(&self.lines)
            .map(|(v, &line)| {
                v.ok_or_else(|| PanelError::BadCell {
                    line,
                    column: name.to_string(),
                    value: String::new(),
                    reason: "値がありません / the value is missing".into(),
                })
            })
            .collect()
    }
}

fn parse_cell(cell: &str, line: u64, column: &str) -> Result<Option<f64>, PanelError> {
    let bad = |reason: String| PanelError::BadCell {
        line,
        column: column.to_string(),
        value: cell.to_string(),
        reason,
    };
    // Scientific notation (`1e-3`) appears in exports from R and Python; the
    // office-style parser does not accept it, so try plain Rust parsing first.
    if let Ok(v) = cell.trim().parse::<f64>() {
        return if v.is_finite() { Ok(Some(v)) } else { Ok(None) };
    }
    match ObsValue::parse(cell) {
        Ok(ObsValue::Value(v)) => Ok(Some(v)),
        Ok(ObsValue::Missing | ObsValue::Secret) => Ok(None),
        Err(e) => Err(bad(e.to_string())),
    }
}

/// A unit label as written, except that `17.0` (as pandas writes integer ids)
/// becomes `17` so that `--treated 17` finds it.
pub fn unit_label(raw: &str) -> String {
    let t = raw.trim();
    match t.parse::<f64>() {
        Ok(v) if v.fract() == 0.0 && v.abs() < 1e15 && t.contains('.') => format!("{}", v as i64),
        _ => t.to_string(),
    }
}

/// Which columns to read into a panel.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PanelSpec {
    pub unit: String,
    pub time: String,
    pub outcome: String,
    /// Extra numeric columns; None = every other column that is numeric
    /// throughout (text columns such as region names are skipped).
    pub columns: Option<Vec<String>>,
}

/// A units × periods panel. Cells absent from the file are None.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// In order of first appearance in the file.
    pub units: Vec<String>,
    /// Ascending.
    pub periods: Vec<i64>,
    pub outcome_name: String,
    /// `outcome[unit][period]`.
    pub outcome: Vec<Vec<Option<f64>>>,
    /// Other numeric columns, same shape as `outcome`.
    pub columns: BTreeMap<String, Vec<Vec<Option<f64>>>>,
}

impl Panel {
    pub fn from_csv_str(text: &str, spec: &PanelSpec) -> Result<Panel, PanelError> {
        Panel::from_table(&Table::parse(text)?, spec)
    }

    pub fn from_table(table: &Table, spec: &PanelSpec) -> Result<Panel, PanelError> {
        let unit_col = table.column_index(&spec.unit)?;
        let time_col = table.column_index(&spec.time)?;
        let outcome = table.numeric_column(&spec.outcome)?;
        let outcome_col = table.column_index(&spec.outcome)?;

        let mut units: Vec<String> = Vec::new();
        let mut unit_index: HashMap<String, usize> = HashMap::new();
        let mut keys: Vec<(usize, i64)> = Vec::with_capacity(table.rows.len());
        for (row, &line) in table.rows.iter().zip(&table.lines) {
            let raw_unit = row.get(unit_col).map(String::as_str).unwrap_or("");
            if raw_unit.trim().is_empty() {
                return Err(PanelError::BadCell {
                    line,
                    column: spec.unit.clone(),
                    value: String::new(),
                    reason: "単位が空です / the unit is empty".into(),
                });
            }
            let unit = unit_label(raw_unit);
            let u = *unit_index.entry(unit.clone()).or_insert_with(|| {
                units.push(unit);
                units.len() - 1
            });
            let raw_time = row.get(time_col).map(String::as_str).unwrap_or("");
            let time = parse_time(raw_time).ok_or_else(|| PanelError::BadCell {
                line,
                column: spec.time.clone(),
                value: raw_time.to_string(),
                reason: "時点は整数（年など）でなければなりません / the time must be a whole number such as a year"
                    .into(),
            })?;
            keys.push((u, time));
        }
        let mut periods: Vec<i64> = keys.iter().map(|&(_, t)| t).collect();
        periods.sort_unstable();
        periods.dedup();
        let period_index: HashMap<i64, usize> =
            periods.iter().enumerate().map(|(i, &t)| (t, i)).collect();

        let mut seen: HashMap<(usize, i64), u64> = HashMap::new();
        for (&(u, t), &line) in keys.iter().zip(&table.lines) {
            if let Some(&first_line) = seen.get(&(u, t)) {
                return Err(PanelError::Duplicate {
                    unit: units[u].clone(),
                    time: t,
                    first_line,
                    line,
                });
            }
            seen.insert((u, t), line);
        }

        let shape = |values: &[Option<f64>]| {
            let mut grid = vec![vec![None; periods.len()]; units.len()];
            for (&(u, t), v) in keys.iter().zip(values) {
                grid[u][period_index[&t]] = *v;
            }
            grid
        };

        let mut columns = BTreeMap::new();
        match &spec.columns {
            Some(names) => {
                for name in names {
                    let values = table.numeric_column(name)?;
                    columns.insert(name.clone(), shape(&values));
                }
            }
            None => {
                for (c, name) in table.headers.iter().enumerate() {
                    if c == unit_col || c == time_col || c == outcome_col {
                        continue;
                    }
                    // Text columns (names) are not data: skip them quietly.
                    if let Ok(values) = table.numeric_column(name) {
                        columns.insert(name.clone(), shape(&values));
                    }
                }
            }
        }
        let outcome = shape(&outcome);
        Ok(Panel {
            units,
            outcome,
            periods,
            outcome_name: spec.outcome.clone(),
            columns,
        })
    }

    pub fn unit_index(&self, unit: &str) -> Option<usize> {
        let label = unit_label(unit);
        self.units.iter().position(|u| *u == label)
    }

    pub fn period_index(&self, t: i64) -> Option<usize> {
        self.periods.binary_search(&t).ok()
    }

    /// The outcome or another column by name.
    pub fn variable(&self, name: &str) -> Option<&Vec<Vec<Option<f64>>>> {
        if name == self.outcome_name {
            Some(&self.outcome)
        } else {
            self.columns.get(name)
        }
    }
}

fn parse_time(raw: &str) -> Option<i64> {
    let t = raw.trim();
    if let Ok(v) = t.parse::<i64>() {
        return Some(v);
    }
    let v: f64 = t.parse().ok()?;
    (v.fract() == 0.0 && v.abs() < 1e15).then_some(v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> PanelSpec {
        PanelSpec {
            unit: "u".into(),
            time: "t".into(),
            outcome: "y".into(),
            columns: None,
        }
    }

    #[test]
    fn semicolon_and_comma_are_detected() {
        let a = Panel::from_csv_str(
            "u;t;y;name\nA;2000;1,5;x\nA;2001;2;x\nB;2000;3;y\n",
            &spec(),
        );
        // `1,5` under `;` is an office-style typo (a bad thousands group): refused with line and column.
        match a {
            Err(PanelError::BadCell { line, column, .. }) => {
                assert_eq!(line, 2);
                assert_eq!(column, "y");
            }
            other => panic!("{other:?}"),
        }
        let p = Panel::from_csv_str(
            "u;t;y;name\nA;2000;1.5;x\nA;2001;2;x\nB;2000;3;y\n",
            &spec(),
        )
        .unwrap();
        assert_eq!(p.units, vec!["A", "B"]);
        assert_eq!(p.periods, vec![2000, 2001]);
        assert_eq!(p.outcome[1], vec![Some(3.0), None]);
        assert!(p.columns.is_empty(), "the text column is skipped");
        let q = Panel::from_csv_str("u,t,y,x\n1.0,2000.0,1,-\n2.0,2000.0,2,5\n", &spec()).unwrap();
        assert_eq!(q.units, vec!["1", "2"]);
        assert_eq!(q.columns["x"], vec![vec![None], vec![Some(5.0)]]);
        assert_eq!(q.unit_index("2"), Some(1));
    }

    #[test]
    fn errors_name_row_and_column() {
        let e = Panel::from_csv_str("u,t,y\nA,2000,1\nA,20x0,2\n", &spec()).unwrap_err();
        assert!(
            matches!(e, PanelError::BadCell { line: 3, ref column, .. } if column == "t"),
            "{e}"
        );
        let e = Panel::from_csv_str("u,t,y\nA,2000,1\nA,2000,2\n", &spec()).unwrap_err();
        assert_eq!(
            e,
            PanelError::Duplicate {
                unit: "A".into(),
                time: 2000,
                first_line: 2,
                line: 3
            }
        );
        let e = Panel::from_csv_str("u,t,z\nA,2000,1\n", &spec()).unwrap_err();
        assert_eq!(e, PanelError::MissingColumn("y".into()));
        assert!(e.to_string().contains("列「y」"));
        assert_eq!(
            Panel::from_csv_str("  \n", &spec()).unwrap_err(),
            PanelError::Empty
        );
        let e = Panel::from_csv_str("u,t,y\nA,2000\n", &spec()).unwrap_err();
        assert!(matches!(e, PanelError::Csv { line: 2, .. }), "{e}");
    }
}
