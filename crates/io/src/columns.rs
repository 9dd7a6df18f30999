//! The column tables: one static list of columns per [`Kind`], used by both
//! import (header matching) and export (header writing), so the two cannot drift.

use std::collections::HashMap;
use std::sync::OnceLock;

use citykpi_domain::Kind;
use citykpi_domain::text::normalize;

/// One column of a kind's flat table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Internal name, stable; also the JSON field it maps to where there is one.
    pub key: &'static str,
    /// Japanese header, written by export with [`crate::HeaderLang::Ja`].
    pub ja: &'static str,
    /// English header, written by export with [`crate::HeaderLang::En`].
    pub en: &'static str,
    /// The column must be present in an imported file (cells may still be
    /// optional for some record types, see the crate docs).
    pub required: bool,
    /// Other headers accepted on import.
    pub aliases: &'static [&'static str],
    /// Whole-yen column: a header suffix （千円） or （百万円） scales the cells.
    pub yen: bool,
}

const fn col(
    key: &'static str,
    ja: &'static str,
    required: bool,
    aliases: &'static [&'static str],
) -> Column {
    Column {
        key,
        ja,
        en: key,
        required,
        aliases,
        yen: false,
    }
}

const fn yen(
    key: &'static str,
    ja: &'static str,
    required: bool,
    aliases: &'static [&'static str],
) -> Column {
    Column {
        key,
        ja,
        en: key,
        required,
        aliases,
        yen: true,
    }
}

/// Departments and sections. A row with an empty section code is a
/// department on its own; a row with a section names its department by code
/// (and, if the department is new, by name).
pub const ORG: &[Column] = &[
    col(
        "department_code",
        "部局コード",
        true,
        &["部局cd", "局コード", "部コード"],
    ),
    col(
        "department_name",
        "部局名",
        false,
        &["部局名称", "局名", "部名", "department_name_ja"],
    ),
    col(
        "department_name_en",
        "部局名（英語）",
        false,
        &["部局英語名"],
    ),
    col("department_sort_order", "部局表示順", false, &["部局順"]),
    col("section_code", "課コード", false, &["所属コード", "課cd"]),
    col(
        "section_name",
        "課名",
        false,
        &["課名称", "所属名", "section_name_ja"],
    ),
    col("section_name_en", "課名（英語）", false, &["課英語名"]),
    col("section_sort_order", "課表示順", false, &["課順"]),
];

pub const USERS: &[Column] = &[
    col(
        "login",
        "ログインID",
        true,
        &["ログイン名", "ユーザーID", "user_id", "id"],
    ),
    col("display_name", "氏名", true, &["名前", "表示名", "name"]),
    col(
        "email",
        "メールアドレス",
        false,
        &["メール", "e-mail", "mail"],
    ),
    col(
        "section_code",
        "課コード",
        true,
        &["所属コード", "所属課コード"],
    ),
    col("role", "権限", true, &["役割", "ロール"]),
    col("active", "有効", false, &["利用可", "有効/無効"]),
];

/// Plans and their tree nodes in one table: a row with an empty node code is
/// the plan itself, every other row is a node (政策, 施策, …) of that plan.
pub const PLANS: &[Column] = &[
    col("plan_code", "計画コード", true, &[]),
    col(
        "node_code",
        "体系コード",
        false,
        &["政策・施策コード", "施策コード", "政策コード"],
    ),
    col("parent_code", "上位コード", false, &["親コード", "parent"]),
    col("level", "階層", false, &["レベル"]),
    col(
        "name_ja",
        "名称",
        true,
        &["計画名", "政策・施策名", "name", "名前"],
    ),
    col("name_en", "名称（英語）", false, &["英語名称", "英語名"]),
    col("sort_order", "表示順", false, &["順序", "並び順"]),
    col("weight", "重み", false, &["ウェイト", "ウエイト"]),
    col("start_fy", "開始年度", false, &["計画開始年度"]),
    col("end_fy", "終了年度", false, &["計画終了年度"]),
    col("level_names", "階層名", false, &["階層の名称"]),
    col("threshold_achieved", "達成基準", false, &["達成の基準"]),
    col("threshold_on_track", "順調基準", false, &["順調の基準"]),
    col("threshold_behind", "遅れ基準", false, &["遅れの基準"]),
    col("grade_style", "評語形式", false, &["評価記号", "評語"]),
    col("rollup", "集計方法", false, &["積み上げ方法"]),
    col("published", "公開", false, &["公表"]),
];

pub const KPIS: &[Column] = &[
    col(
        "kpi_code",
        "KPIコード",
        true,
        &["指標コード", "code", "コード"],
    ),
    col("name_ja", "指標名", true, &["KPI名", "名称", "name"]),
    col("name_en", "指標名（英語）", false, &["英語名称", "英語名"]),
    col("unit", "単位", true, &[]),
    col("direction", "方向", true, &["望ましい方向", "目標の方向"]),
    col("band_lower", "範囲下限", false, &["下限"]),
    col("band_upper", "範囲上限", false, &["上限"]),
    col("frequency", "測定頻度", false, &["頻度", "計測頻度"]),
    col("baseline_fy", "基準年度", false, &["基準値年度"]),
    col("baseline_value", "基準値", false, &[]),
    col("targets", "年度別目標", false, &["中間目標", "年度目標"]),
    col("final_target_fy", "目標年度", false, &["最終目標年度"]),
    col("final_target_value", "目標値", false, &["最終目標値"]),
    col("source", "出典", false, &["データ出典", "出所"]),
    col(
        "publication_lag_years",
        "公表遅れ年数",
        false,
        &["公表遅れ", "公表ラグ"],
    ),
    col("description", "説明", false, &["定義", "指標の説明"]),
    col(
        "owner_sections",
        "担当課",
        false,
        &["所管課", "担当課コード"],
    ),
    col(
        "nodes",
        "施策",
        false,
        &["施策コード", "体系コード", "関連施策"],
    ),
    col(
        "sdgs",
        "SDGs",
        false,
        &["SDGsゴール", "SDGsターゲット", "sdg"],
    ),
    col("published", "公開", false, &["公表"]),
    col(
        "status_basis",
        "判定方法",
        false,
        &["達成状況の判定方法", "判定基準", "status basis"],
    ),
];

pub const OBSERVATIONS: &[Column] = &[
    col("kpi_code", "KPIコード", true, &["指標コード", "code"]),
    col(
        "period",
        "年度",
        true,
        &["期間", "時点", "fiscal_year", "fy", "対象年度"],
    ),
    col(
        "area_code",
        "地域コード",
        false,
        &["団体コード", "市区町村コード", "地域"],
    ),
    col("value", "値", true, &["実績値", "実績", "数値"]),
    col(
        "status",
        "状態",
        false,
        &["確定区分", "速報・確定", "速報/確定"],
    ),
    col("source", "出典", false, &["出所"]),
    col("note", "備考", false, &["注記", "メモ"]),
    col("entered_by", "入力者", false, &[]),
    col("entered_at", "入力日時", false, &[]),
];

pub const PROGRAMS: &[Column] = &[
    col(
        "program_code",
        "事業コード",
        true,
        &["事務事業コード", "code"],
    ),
    col("name_ja", "事業名", true, &["事務事業名", "名称", "name"]),
    col("name_en", "事業名（英語）", false, &["英語名称", "英語名"]),
    col(
        "section_code",
        "担当課コード",
        true,
        &["課コード", "所管課コード", "所管課"],
    ),
    col("purpose", "目的", false, &["事業目的"]),
    col("target_group", "対象", false, &["対象者"]),
    col("intent", "意図", false, &[]),
    col("means", "手段", false, &["事業内容"]),
    col("delivery", "実施方法", true, &["実施手法", "事業手法"]),
    col("legal_basis", "根拠法令等", false, &["根拠法令"]),
    col("start_fy", "開始年度", false, &["事業開始年度"]),
    col(
        "end_fy",
        "終了年度",
        false,
        &["事業終了年度", "終了予定年度"],
    ),
    col("mandatory", "義務的", false, &["義務的経費", "法定"]),
    col("published", "公開", false, &["公表"]),
];

pub const LINKS: &[Column] = &[
    col("program_code", "事業コード", true, &["事務事業コード"]),
    col("kpi_code", "KPIコード", true, &["指標コード"]),
    col("weight", "寄与度", true, &["KPI寄与度", "寄与率"]),
    col("rationale", "寄与の根拠", false, &["根拠", "説明"]),
    col(
        "evidence_grade",
        "エビデンス水準",
        false,
        &["エビデンス", "根拠の質"],
    ),
];

pub const INDICATORS: &[Column] = &[
    col("program_code", "事業コード", true, &["事務事業コード"]),
    col("indicator_code", "指標コード", true, &["code", "コード"]),
    col("kind", "指標区分", true, &["区分", "種別"]),
    col("name_ja", "指標名", true, &["名称", "name"]),
    col("unit", "単位", true, &[]),
    col("fy", "年度", true, &["fiscal_year"]),
    col("target", "目標値", false, &["目標"]),
    col("actual", "実績値", false, &["実績"]),
];

pub const MONEY: &[Column] = &[
    col("program_code", "事業コード", true, &["事務事業コード"]),
    col("fy", "年度", true, &["fiscal_year"]),
    yen("budget_initial", "当初予算額", true, &["当初予算"]),
    yen(
        "budget_revised",
        "最終予算額",
        false,
        &["最終予算", "補正後予算額"],
    ),
    yen("settled", "決算額", false, &["決算"]),
    yen("funding_national", "国庫支出金", false, &["国費", "国庫"]),
    yen(
        "funding_prefectural",
        "府県支出金",
        false,
        &[
            "都道府県支出金",
            "県支出金",
            "府支出金",
            "都支出金",
            "道支出金",
        ],
    ),
    yen("funding_bonds", "地方債", false, &["市債"]),
    yen("funding_other", "その他特定財源", false, &["その他"]),
    yen("funding_general", "一般財源", false, &[]),
    col("staff_fte", "人工", false, &["従事人員", "職員数", "人員"]),
    yen(
        "staff_unit_cost",
        "人件費単価",
        false,
        &["平均人件費", "単価"],
    ),
    col("output_quantity", "活動量", false, &["事業量", "活動実績"]),
];

/// The column table of a kind.
pub fn columns(kind: Kind) -> &'static [Column] {
    match kind {
        Kind::Org => ORG,
        Kind::Users => USERS,
        Kind::Plans => PLANS,
        Kind::Kpis => KPIS,
        Kind::Observations => OBSERVATIONS,
        Kind::Programs => PROGRAMS,
        Kind::Links => LINKS,
        Kind::Indicators => INDICATORS,
        Kind::Money => MONEY,
    }
}

/// The Japanese name of a kind, used for sheet names and messages.
pub fn kind_label_ja(kind: Kind) -> &'static str {
    match kind {
        Kind::Org => "組織",
        Kind::Users => "利用者",
        Kind::Plans => "計画",
        Kind::Kpis => "KPI",
        Kind::Observations => "実績値",
        Kind::Programs => "事務事業",
        Kind::Links => "KPI寄与度",
        Kind::Indicators => "事業指標",
        Kind::Money => "事業費",
    }
}

/// A kind's column table as Markdown (日本語見出し | English header |
/// required | other accepted headers), for help pages and CLI docs.
pub fn columns_markdown(kind: Kind) -> String {
    let mut out = format!(
        "### {}（{}）\n\n| 見出し | header | 必須 / required | 別名 / aliases |\n|---|---|---|---|\n",
        kind.as_str(),
        kind_label_ja(kind)
    );
    for c in columns(kind) {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            c.ja,
            c.en,
            if c.required { "○" } else { "" },
            c.aliases.join(", ")
        ));
    }
    out
}

/// The form headers are compared in: NFKC, lower case, without spaces,
/// underscores and hyphens (so `KPI コード`, `ＫＰＩコード` and `kpi_code`
/// style variations all meet).
pub(crate) fn header_key(s: &str) -> String {
    normalize(s)
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
        .collect()
}

/// Splits a trailing unit annotation off a normalized header:
/// `当初予算額(千円)` → (`当初予算額`, Some(`千円`)).
fn split_unit(key: &str) -> Option<(&str, &str)> {
    let body = key.strip_suffix(')')?;
    let open = body.rfind('(')?;
    let (name, unit) = (&body[..open], &body[open + 1..]);
    if name.is_empty() {
        None
    } else {
        Some((name, unit))
    }
}

/// How a header matched a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeaderMatch {
    /// Index into the kind's column table.
    pub column: usize,
    /// Multiplier for yen columns whose header says 千円 / 百万円.
    pub scale: i64,
}

/// Finds which column of `cols` a header names. A unit suffix in brackets is
/// tolerated (`値（人）`); on yen columns it sets the scale, and an unknown
/// unit there is refused (None) rather than silently read as yen.
pub(crate) fn match_header(kind: Kind, header: &str) -> Option<HeaderMatch> {
    let key = header_key(header);
    if key.is_empty() {
        return None;
    }
    let cols = columns(kind);
    let index = header_index(kind);
    if let Some(&column) = index.get(&key) {
        return Some(HeaderMatch { column, scale: 1 });
    }
    let (name, unit) = split_unit(&key)?;
    let column = *index.get(name)?;
    let scale = if cols[column].yen {
        match unit {
            "円" | "yen" | "jpy" => 1,
            "千円" | "thousandyen" => 1_000,
            "百万円" | "millionyen" => 1_000_000,
            _ => return None,
        }
    } else {
        1
    };
    Some(HeaderMatch { column, scale })
}

/// Header key → column position, per kind; built once, because kind
/// detection matches every header cell against every table.
fn header_index(kind: Kind) -> &'static HashMap<String, usize> {
    static INDEX: OnceLock<Vec<HashMap<String, usize>>> = OnceLock::new();
    let all = INDEX.get_or_init(|| {
        Kind::ALL
            .iter()
            .map(|k| {
                let mut map = HashMap::new();
                for (i, c) in columns(*k).iter().enumerate() {
                    for name in [c.ja, c.en, c.key]
                        .into_iter()
                        .chain(c.aliases.iter().copied())
                    {
                        map.entry(header_key(name)).or_insert(i);
                    }
                }
                map
            })
            .collect()
    });
    let pos = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    &all[pos]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_in_both_languages_and_widths() {
        let m = |h| match_header(Kind::Observations, h).map(|m| OBSERVATIONS[m.column].key);
        assert_eq!(m("kpi_code"), Some("kpi_code"));
        assert_eq!(m("KPIコード"), Some("kpi_code"));
        assert_eq!(m("ＫＰＩ コード"), Some("kpi_code"));
        assert_eq!(m("指標コード"), Some("kpi_code"));
        assert_eq!(m(" 実績値 "), Some("value"));
        assert_eq!(m("値（人）"), Some("value"));
        assert_eq!(m("団体コード"), Some("area_code"));
        assert_eq!(m("確定区分"), Some("status"));
        assert_eq!(m("color"), None);
    }

    #[test]
    fn markdown_lists_every_column() {
        let mut all = String::new();
        for kind in Kind::ALL {
            let md = columns_markdown(kind);
            assert_eq!(md.lines().count(), 4 + columns(kind).len(), "{md}");
            all.push_str(&md);
            all.push('\n');
        }
        assert!(all.contains("| 年度 | period | ○ | 期間, 時点, fiscal_year, fy, 対象年度 |"));
        // COLUMNS.md is the published copy; regenerate it with
        // `CITYKPI_WRITE_COLUMNS=1 cargo test -p citykpi-io markdown`.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/COLUMNS.md");
        let doc = format!(
            "# citykpi import/export columns\n\nGenerated from `crates/io/src/columns.rs`; see the crate docs for cell formats.\n\n{all}"
        );
        if std::env::var_os("CITYKPI_WRITE_COLUMNS").is_some() {
            std::fs::write(path, &doc).unwrap();
        }
        assert_eq!(
            std::fs::read_to_string(path).unwrap_or_default(),
            doc,
            "COLUMNS.md is out of date"
        );
    }

    #[test]
    fn yen_headers_carry_their_scale() {
        let m = |h| match_header(Kind::Money, h).map(|m| (MONEY[m.column].key, m.scale));
        assert_eq!(m("当初予算額（千円）"), Some(("budget_initial", 1000)));
        assert_eq!(m("決算額(円)"), Some(("settled", 1)));
        assert_eq!(m("決算額(ドル)"), None);
    }

    #[test]
    fn no_header_is_ambiguous_within_a_kind() {
        for kind in Kind::ALL {
            let cols = columns(kind);
            let mut seen = std::collections::HashMap::new();
            for (i, c) in cols.iter().enumerate() {
                let names = [c.ja, c.en, c.key]
                    .into_iter()
                    .chain(c.aliases.iter().copied());
                for n in names {
                    if let Some(prev) = seen.insert(header_key(n), i) {
                        assert_eq!(prev, i, "{kind:?}: header {n} names two columns");
                    }
                }
            }
        }
    }
}
