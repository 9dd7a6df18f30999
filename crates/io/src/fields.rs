//! Cell encodings: how nested and enumerated values are written in one cell of
//! a flat table, and read back. Every `parse_*` has a `format_*` partner so
//! that export → import gives the same value.
//!
//! Errors are plain reason strings (Japanese / English); the caller adds the
//! row and column.

use citykpi_domain::fiscal::FiscalYear;
use citykpi_domain::kpi::{Frequency, NodeLink, SdgTag, StatusBasis, YearValue};
use citykpi_domain::observation::{ObsValue, Period};
use citykpi_domain::plan::LevelName;
use citykpi_domain::progress::{GradeStyle, RollupMethod};
use citykpi_domain::text::{normalize, parse_number};

pub(crate) type Reason = String;

/// "「x」は…の値として使えません。使える値: a, b / …".
pub(crate) fn not_allowed(value: &str, what_ja: &str, what_en: &str, allowed: &str) -> Reason {
    format!(
        "「{value}」は{what_ja}として使えません。使える値: {allowed} / \"{value}\" is not a valid {what_en}; allowed: {allowed}"
    )
}

/// Shortest text that reads back as the same f64 (Rust's `Display` for f64
/// round-trips and never uses an exponent).
pub fn format_f64(v: f64) -> String {
    if v == 0.0 {
        // -0.0 would print as "-0"; a city's values have no signed zero.
        return "0".to_string();
    }
    format!("{v}")
}

/// Whether Excel would run a CSV cell as a formula ("CSV injection"): text
/// starting with `=`, `+`, `@`, a tab/CR, or `-` when not a plain number.
/// Text starting with an apostrophe before such a cell counts too, so that the
/// apostrophe export adds can always be told from one that was typed.
pub fn needs_formula_guard(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'@' | b'\t' | b'\r') => true,
        Some(b'-') => s.len() > 1 && number(s).is_err(),
        Some(b'\'') => needs_formula_guard(&s[1..]),
        _ => false,
    }
}

/// A CSV cell as export writes it: guarded text gets a leading apostrophe.
pub fn csv_guard(s: &str) -> std::borrow::Cow<'_, str> {
    if needs_formula_guard(s) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// The most a spreadsheet cell holds (Excel counts UTF-16 units).
pub const XLSX_CELL_MAX: usize = 32_767;

/// Text as an XLSX cell can hold it: a longer text (stored before limits
/// were checked, or a long compiled field) is cut with a visible marker that
/// says how long it was, so an export never fails on stored data.
pub fn xlsx_text(s: &str) -> std::borrow::Cow<'_, str> {
    let units = s.encode_utf16().count();
    if units <= XLSX_CELL_MAX {
        return s.into();
    }
    let chars = s.chars().count();
    let marker = format!("…〔以下省略：全{chars}文字 / truncated: {chars} characters〕");
    let room = XLSX_CELL_MAX - marker.encode_utf16().count();
    let mut used = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if used + c.len_utf16() > room {
            break;
        }
        used += c.len_utf16();
        end = i + c.len_utf8();
    }
    format!("{}{marker}", &s[..end]).into()
}

/// The inverse of [`csv_guard`] on import.
pub fn csv_unguard(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if needs_formula_guard(rest) => rest,
        _ => s,
    }
}

pub(crate) fn number(s: &str) -> Result<f64, Reason> {
    // Fast path for the plain ASCII numbers that make up bulk files; same
    // acceptance as `parse_number` for this alphabet (digits, one optional
    // leading '-', '.'): Rust's parser refuses "." and "-" just as it does.
    let b = s.as_bytes();
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if !digits.is_empty()
        && digits.iter().all(|c| c.is_ascii_digit() || *c == b'.')
        && let Ok(v) = s.parse::<f64>()
        && v.is_finite()
    {
        return Ok(v);
    }
    parse_number(s).map_err(|e| e.to_string())
}

pub(crate) fn fiscal_year(s: &str) -> Result<FiscalYear, Reason> {
    let b = s.as_bytes();
    if b.len() == 4 && b.iter().all(u8::is_ascii_digit) {
        let y = b.iter().fold(0i32, |acc, c| acc * 10 + i32::from(c - b'0'));
        return FiscalYear::new(y).map_err(|e| e.to_string());
    }
    FiscalYear::parse(s).map_err(|e| e.to_string())
}

/// A period cell. Besides the domain's forms (`2024`, `令和6年度`, `2024Q1`,
/// `2024-04`), a full date (`2024/4/1`, `2024-04-30`) is read as its month,
/// because Excel turns a typed `2024-04` into a date and saves it back that way.
pub(crate) fn period(s: &str) -> Result<Period, Reason> {
    let b = s.as_bytes();
    if b.len() == 4 && b.iter().all(u8::is_ascii_digit) {
        return fiscal_year(s).map(Period::Year);
    }
    let n = normalize(s);
    let parts: Vec<&str> = n.split(['-', '/']).collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|c| c.is_ascii_digit()))
    {
        let day: u32 = parts[2].parse().unwrap_or(0);
        if (1..=31).contains(&day) && parts[0].len() == 4 {
            return Period::parse(&format!("{}-{}", parts[0], parts[1])).map_err(|e| e.to_string());
        }
    }
    Period::parse(s).map_err(|e| e.to_string())
}

pub(crate) fn obs_value(s: &str) -> Result<ObsValue, Reason> {
    let b = s.as_bytes();
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if !digits.is_empty()
        && digits.iter().all(|c| c.is_ascii_digit() || *c == b'.')
        && let Ok(v) = s.parse::<f64>()
        && v.is_finite()
    {
        return Ok(ObsValue::Value(v));
    }
    ObsValue::parse(s).map_err(|e| e.to_string())
}

pub fn format_obs_value(v: &ObsValue) -> String {
    match v {
        ObsValue::Value(x) => format_f64(*x),
        ObsValue::Missing => "-".to_string(),
        ObsValue::Secret => "X".to_string(),
    }
}

/// `true/false`, `1/0`, `はい/いいえ`, `○/×`, `yes/no`; empty is None.
pub(crate) fn boolean(s: &str) -> Result<Option<bool>, Reason> {
    let n = normalize(s).to_lowercase();
    match n.as_str() {
        "" => Ok(None),
        "true" | "1" | "はい" | "○" | "◯" | "〇" | "yes" | "y" | "有" | "あり" | "公開"
        | "する" => Ok(Some(true)),
        "false" | "0" | "いいえ" | "×" | "✕" | "no" | "n" | "無" | "なし" | "非公開" | "しない"
        | "-" => Ok(Some(false)),
        _ => Err(not_allowed(
            s.trim(),
            "真偽値",
            "true/false value",
            "true, false, 1, 0, はい, いいえ, ○, ×",
        )),
    }
}

/// List cells: `S01;S02`. Also accepts `,` `、` and line breaks as separators,
/// since people type them; codes never contain them.
fn list_items(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split([';', '；', ',', '，', '、', '\n'])
        .map(normalize)
        .filter(|x| !x.is_empty())
}

pub(crate) fn code_list(s: &str) -> Vec<String> {
    list_items(s).collect()
}

pub fn format_code_list(codes: &[String]) -> String {
    codes.join(";")
}

/// `M-1-1;M-2-3*2`: node codes, each with an optional roll-up weight after `*`.
pub(crate) fn node_links(s: &str) -> Result<Vec<NodeLink>, Reason> {
    list_items(s)
        .map(|item| match item.rsplit_once(['*', '×']) {
            Some((code, w)) => {
                let weight = number(w.trim()).map_err(|_| {
                    format!(
                        "「{item}」の重み「{w}」は数値として読めません / weight \"{w}\" of \"{item}\" is not a number"
                    )
                })?;
                Ok(NodeLink { node_code: code.trim().to_string(), weight: Some(weight) })
            }
            None => Ok(NodeLink { node_code: item, weight: None }),
        })
        .collect()
}

pub fn format_node_links(nodes: &[NodeLink]) -> String {
    nodes
        .iter()
        .map(|n| match n.weight {
            Some(w) => format!("{}*{}", n.node_code, format_f64(w)),
            None => n.node_code.clone(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// `3;11.2;SDG17`.
pub(crate) fn sdgs(s: &str) -> Result<Vec<SdgTag>, Reason> {
    list_items(s)
        .map(|item| {
            SdgTag::parse(&item).ok_or_else(|| {
                format!(
                    "「{item}」はSDGsのゴール（1〜17）またはターゲット（11.2 など）として読めません / \"{item}\" is not an SDG goal (1-17) or target (e.g. 11.2)"
                )
            })
        })
        .collect()
}

pub fn format_sdgs(tags: &[SdgTag]) -> String {
    tags.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(";")
}

/// `2026:105;2027:110`; the year may be written as `令和8年度`, the separator
/// as `:` `：` or `=`. Values may use thousands separators, so `,` is not a
/// list separator here.
pub(crate) fn targets(s: &str) -> Result<Vec<YearValue>, Reason> {
    let mut out: Vec<YearValue> = Vec::new();
    for item in s
        .split([';', '；', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
    {
        let n = normalize(item);
        let Some((fy, v)) = n.split_once([':', '=']) else {
            return Err(format!(
                "「{item}」は「年度:目標値」の形ではありません（例 2026:105;2027:110） / \"{item}\" is not \"year:target\" (e.g. 2026:105;2027:110)"
            ));
        };
        let fy = fiscal_year(fy.trim())?;
        let value = number(v.trim())?;
        if out.iter().any(|t| t.fy == fy) {
            return Err(format!(
                "{fy}年度の目標が2回あります / target for FY{fy} given twice"
            ));
        }
        out.push(YearValue { fy, value });
    }
    out.sort_by_key(|t| t.fy);
    Ok(out)
}

pub fn format_targets(targets: &[YearValue]) -> String {
    targets
        .iter()
        .map(|t| format!("{}:{}", t.fy, format_f64(t.value)))
        .collect::<Vec<_>>()
        .join(";")
}

/// `政策/Policy;施策/Measure`: level names top first, Japanese then English.
pub(crate) fn level_names(s: &str) -> Result<Vec<LevelName>, Reason> {
    let items: Vec<&str> = s
        .split([';', '；', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect();
    if items.is_empty() {
        return Ok(LevelName::defaults());
    }
    Ok(items
        .into_iter()
        .map(|item| match item.split_once(['/', '／']) {
            Some((ja, en)) => LevelName {
                ja: ja.trim().to_string(),
                en: en.trim().to_string(),
            },
            None => LevelName {
                ja: item.to_string(),
                en: String::new(),
            },
        })
        .collect())
}

pub fn format_level_names(names: &[LevelName]) -> String {
    names
        .iter()
        .map(|n| {
            if n.en.is_empty() {
                n.ja.clone()
            } else {
                format!("{}/{}", n.ja, n.en)
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

pub(crate) fn frequency(s: &str) -> Result<Frequency, Reason> {
    match normalize(s).to_lowercase().as_str() {
        "" | "annual" | "yearly" | "年" | "年次" | "毎年" | "年1回" => Ok(Frequency::Annual),
        "quarterly" | "四半期" | "四半期毎" | "四半期ごと" => Ok(Frequency::Quarterly),
        "monthly" | "月" | "月次" | "毎月" => Ok(Frequency::Monthly),
        _ => Err(not_allowed(
            s.trim(),
            "測定頻度",
            "frequency",
            "annual（年次）, quarterly（四半期）, monthly（月次）",
        )),
    }
}

/// A KPI's status basis; empty = the default of its frequency.
pub(crate) fn status_basis(s: &str) -> Result<Option<StatusBasis>, Reason> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    StatusBasis::parse(s).map(Some).ok_or_else(|| {
        not_allowed(
            s.trim(),
            "判定方法",
            "status basis",
            "ytd_sum（年度累計）, last12_sum（直近12か月合計）, last12_mean（直近12か月平均）, latest（最新値）",
        )
    })
}

pub fn format_status_basis(b: Option<StatusBasis>) -> &'static str {
    b.map(StatusBasis::as_str).unwrap_or("")
}

pub fn format_frequency(f: Frequency) -> &'static str {
    match f {
        Frequency::Annual => "annual",
        Frequency::Quarterly => "quarterly",
        Frequency::Monthly => "monthly",
    }
}

pub(crate) fn rollup(s: &str) -> Result<RollupMethod, Reason> {
    match normalize(s).to_lowercase().as_str() {
        "" | "weighted" | "加重平均" | "加重" => Ok(RollupMethod::Weighted),
        "plain" | "単純平均" | "単純" | "平均" => Ok(RollupMethod::Plain),
        _ => Err(not_allowed(
            s.trim(),
            "集計方法",
            "roll-up method",
            "weighted（加重平均）, plain（単純平均）",
        )),
    }
}

pub fn format_rollup(r: RollupMethod) -> &'static str {
    match r {
        RollupMethod::Weighted => "weighted",
        RollupMethod::Plain => "plain",
    }
}

pub(crate) fn grade_style(s: &str) -> Result<GradeStyle, Reason> {
    match normalize(s).to_lowercase().as_str() {
        "" | "letters" | "abcd" | "a-d" | "a〜d" | "a~d" | "英字" => Ok(GradeStyle::Letters),
        "symbols" | "◎○△×" | "記号" => Ok(GradeStyle::Symbols),
        _ => Err(not_allowed(
            s.trim(),
            "評語形式",
            "grade style",
            "letters（A〜D）, symbols（◎○△×）",
        )),
    }
}

pub fn format_grade_style(g: GradeStyle) -> &'static str {
    match g {
        GradeStyle::Letters => "letters",
        GradeStyle::Symbols => "symbols",
    }
}

/// A contribution share: `0.3` or `30%`.
pub(crate) fn share(s: &str) -> Result<f64, Reason> {
    let n = normalize(s);
    match n.strip_suffix('%') {
        Some(pct) => number(pct.trim()).map(|v| v / 100.0),
        None => number(&n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fy(y: i32) -> FiscalYear {
        FiscalYear::new(y).unwrap()
    }

    #[test]
    fn targets_read_era_years_and_round_trip() {
        let t = targets("令和8年度:105; 2027：1,110").unwrap();
        assert_eq!(
            t,
            vec![
                YearValue {
                    fy: fy(2026),
                    value: 105.0
                },
                YearValue {
                    fy: fy(2027),
                    value: 1110.0
                }
            ]
        );
        assert_eq!(format_targets(&t), "2026:105;2027:1110");
        assert_eq!(targets(&format_targets(&t)).unwrap(), t);
        assert!(targets("2026-105").unwrap_err().contains("年度:目標値"));
        assert!(targets("2026:1;2026:2").is_err());
        assert_eq!(targets("").unwrap(), vec![]);
    }

    #[test]
    fn node_lists_with_weights() {
        let n = node_links("M-1-1; M-2-3*2").unwrap();
        assert_eq!(
            n[1],
            NodeLink {
                node_code: "M-2-3".into(),
                weight: Some(2.0)
            }
        );
        assert_eq!(format_node_links(&n), "M-1-1;M-2-3*2");
        assert!(node_links("M-1*x").is_err());
    }

    #[test]
    fn booleans_as_staff_write_them() {
        for (s, want) in [
            ("true", Some(true)),
            ("○", Some(true)),
            ("はい", Some(true)),
            ("0", Some(false)),
            ("", None),
            ("TRUE", Some(true)),
            ("いいえ", Some(false)),
        ] {
            assert_eq!(boolean(s), Ok(want), "{s}");
        }
        assert!(boolean("maybe").unwrap_err().contains("はい"));
    }

    #[test]
    fn periods_from_excel_dates() {
        assert_eq!(period("2024/4/1"), Ok(Period::Month(2024, 4)));
        assert_eq!(period("2025-03-31"), Ok(Period::Month(2025, 3)));
        assert_eq!(period("2024"), Ok(Period::Year(fy(2024))));
        assert_eq!(period("R6"), Ok(Period::Year(fy(2024))));
        assert!(period("9999").is_err());
    }

    #[test]
    fn formula_guard_round_trips() {
        for s in [
            "=1+1", "+81-3", "@SUM(A1)", "-2+3", "'=x", "''@", "-", "-12.5", "plain", "'quoted",
            "\tx", "",
        ] {
            let g = csv_guard(s);
            assert_eq!(csv_unguard(&g), s, "{s}");
        }
        assert_eq!(csv_guard("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_guard("-"), "-");
        assert_eq!(csv_guard("-12"), "-12");
        assert_eq!(csv_guard("'quoted"), "'quoted");
    }

    #[test]
    fn fast_number_path_agrees_with_domain() {
        for s in ["0", "12", "-3.5", "1234567.25", "5.", "-0.001"] {
            assert_eq!(number(s).ok(), parse_number(s).ok(), "{s}");
        }
        for s in [".", "-", "--1", "1.2.3"] {
            assert!(number(s).is_err(), "{s}");
        }
        assert_eq!(share("30%"), Ok(0.3));
        assert_eq!(format_f64(0.1), "0.1");
        assert_eq!(format_f64(-12.5), "-12.5");
    }
}
