//! Open data (オープンデータ): the published KPIs with their progress, the
//! published programs' accepted evaluations (with their indicators) and
//! their money, as CSV (UTF-8 with BOM) and JSON, with a schema.
//!
//! CSV headers and JSON keys are the same ASCII column names, so one schema
//! describes both. The schema is written as `datapackage.json`, a
//! Frictionless Data Package (<https://specs.frictionlessdata.io/>) with one
//! resource per CSV file, each field with its Japanese title, type, unit and
//! description; `docs/open-data.md` is the same table for people
//! ([`open_data_markdown`]).
//!
//! What is published is the caller's decision (the app passes only published
//! KPIs, and only published programs' accepted sheets); this module writes
//! exactly the records it is given.

use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::EvaluationSheet;
use citykpi_domain::kpi::Kpi;
use citykpi_domain::money::ProgramMoney;
use citykpi_domain::program::Program;
use citykpi_domain::progress::KpiProgress;
use citykpi_io::{Cell, Format, HeaderLang, Sheet, write_sheet};
use serde::Serialize;

use crate::ReportResult;

/// The type of a column's values (Frictionless Table Schema types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    String,
    Integer,
    Number,
    Boolean,
}

/// One column of an open data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenColumn {
    /// CSV header and JSON key.
    pub key: &'static str,
    pub title_ja: &'static str,
    pub kind: ColumnType,
    /// Unit of the values ("円", "人", "" for none or the row's own unit).
    pub unit: &'static str,
    pub description_ja: &'static str,
}

const fn col(
    key: &'static str,
    title_ja: &'static str,
    kind: ColumnType,
    unit: &'static str,
    description_ja: &'static str,
) -> OpenColumn {
    OpenColumn {
        key,
        title_ja,
        kind,
        unit,
        description_ja,
    }
}

use ColumnType::{Boolean, Integer, Number, String as Text};

const KPI_COLUMNS: &[OpenColumn] = &[
    col(
        "fy",
        "評価年度",
        Integer,
        "年度",
        "進捗を評価した年度（西暦の年度。4月始まり）",
    ),
    col(
        "kpi_code",
        "指標コード",
        Text,
        "",
        "KPIのコード（他のファイルとの照合用）",
    ),
    col("name_ja", "指標名", Text, "", "KPIの名称"),
    col(
        "name_en",
        "指標名（英語）",
        Text,
        "",
        "KPIの英語名（ない場合は空）",
    ),
    col("unit", "単位", Text, "", "値の単位"),
    col(
        "direction",
        "望ましい方向",
        Text,
        "",
        "higher（高いほどよい）・lower（低いほどよい）・band（範囲内がよい）",
    ),
    col(
        "plan_name",
        "計画",
        Text,
        "",
        "KPIが属する計画（公開されている計画のみ）",
    ),
    col("policy_name", "政策", Text, "", "KPIが属する政策"),
    col("measure_name", "施策", Text, "", "KPIが属する施策"),
    col("baseline_fy", "基準年度", Integer, "年度", "基準値の年度"),
    col(
        "baseline_value",
        "基準値",
        Number,
        "",
        "計画策定時の値（単位は unit）",
    ),
    col(
        "final_target_fy",
        "最終目標年度",
        Integer,
        "年度",
        "最終目標の年度",
    ),
    col(
        "final_target_value",
        "最終目標値",
        Number,
        "",
        "最終目標の値（単位は unit）",
    ),
    col(
        "actual_fy",
        "実績年度",
        Integer,
        "年度",
        "評価に用いた最新の実績の年度（統計の公表時期により評価年度より前のことがある）",
    ),
    col(
        "actual_value",
        "実績値",
        Number,
        "",
        "実績値（単位は unit）。実績がない場合は空",
    ),
    col(
        "actual_status",
        "確定区分",
        Text,
        "",
        "final（確定値）・provisional（速報値）",
    ),
    col(
        "target_value",
        "目標値",
        Number,
        "",
        "実績年度の目標値（年度目標、なければ基準値から最終目標への按分）",
    ),
    col(
        "achievement_rate",
        "達成率",
        Number,
        "比率",
        "実績値 ÷ 目標値（望ましい方向を考慮。1.0 = 100%）",
    ),
    col(
        "progress_to_final",
        "最終目標への進捗",
        Number,
        "比率",
        "基準値から最終目標までのうち到達した割合（0〜1）",
    ),
    col(
        "status",
        "進捗状況",
        Text,
        "",
        "achieved（達成）・on_track（順調）・behind（遅れ）・at_risk（要注意）・no_data（データなし）",
    ),
    col(
        "status_ja",
        "進捗状況（表示名）",
        Text,
        "",
        "進捗状況の日本語表示",
    ),
    col(
        "stale",
        "実績が古い",
        Boolean,
        "",
        "最新の実績が公表時期から見て古い場合 true",
    ),
    col("source", "出典", Text, "", "実績値の出典"),
    col(
        "sdgs",
        "SDGs",
        Text,
        "",
        "関連するSDGsのゴール・ターゲット（; 区切り）",
    ),
];

const EVALUATION_COLUMNS: &[OpenColumn] = &[
    col("fy", "評価年度", Integer, "年度", "評価の対象年度"),
    col("program_code", "事業コード", Text, "", "事務事業のコード"),
    col("program_name", "事業名", Text, "", "事務事業の名称"),
    col("department_name", "部局", Text, "", "所管の部局"),
    col("section_name", "課", Text, "", "所管の課"),
    col("purpose", "目的", Text, "", "事業の目的"),
    col("target_group", "対象", Text, "", "事業の対象"),
    col("intent", "意図", Text, "", "対象をどのような状態にするか"),
    col("means", "手段", Text, "", "事業の内容"),
    col(
        "budget",
        "予算現額",
        Integer,
        "円",
        "評価年度の予算額（補正後）",
    ),
    col(
        "settled",
        "決算額",
        Integer,
        "円",
        "評価年度の決算額（決算前は空）",
    ),
    col("funding_national", "国庫支出金", Integer, "円", "財源内訳"),
    col(
        "funding_prefectural",
        "府県支出金",
        Integer,
        "円",
        "財源内訳",
    ),
    col("funding_bonds", "地方債", Integer, "円", "財源内訳"),
    col("funding_other", "その他特定財源", Integer, "円", "財源内訳"),
    col("funding_general", "一般財源", Integer, "円", "財源内訳"),
    col(
        "direct_cost",
        "直接事業費",
        Integer,
        "円",
        "決算額（決算前は予算現額）",
    ),
    col("staff_fte", "人工", Number, "人", "従事職員数（年間換算）"),
    col(
        "staff_unit_cost",
        "人件費単価",
        Integer,
        "円",
        "職員1人当たりの年間人件費",
    ),
    col(
        "staff_cost",
        "人件費",
        Integer,
        "円",
        "人工 × 人件費単価（円未満四捨五入）",
    ),
    col(
        "full_cost",
        "フルコスト",
        Integer,
        "円",
        "直接事業費 ＋ 人件費",
    ),
    col(
        "output_quantity",
        "活動量",
        Number,
        "",
        "単位当たりコストの分母となる主な活動の量",
    ),
    col(
        "unit_cost",
        "単位当たりコスト",
        Number,
        "円",
        "フルコスト ÷ 活動量",
    ),
    col("score_necessity", "必要性", Integer, "点", "1〜5点"),
    col("score_effectiveness", "有効性", Integer, "点", "1〜5点"),
    col("score_efficiency", "効率性", Integer, "点", "1〜5点"),
    col("score_means", "手段の妥当性", Integer, "点", "1〜5点"),
    col(
        "score_total",
        "評価点合計",
        Integer,
        "点",
        "4項目の合計（20点満点）",
    ),
    col("issues", "課題", Text, "", "事業の課題"),
    col("improvements", "改善策", Text, "", "課題への改善策"),
    col(
        "direction",
        "今後の方向性",
        Text,
        "",
        "expand（拡充）・continue（継続）・improve（改善）・reduce（縮小）・merge（統合）・abolish（廃止）・suspend（休止）・completed（完了）",
    ),
    col(
        "direction_ja",
        "今後の方向性（表示名）",
        Text,
        "",
        "今後の方向性の日本語表示",
    ),
    col(
        "direction_reason",
        "方向性の理由",
        Text,
        "",
        "その方向性とした理由",
    ),
    col(
        "reviewer_comment",
        "所見",
        Text,
        "",
        "評価を確認した部署の所見",
    ),
];

const INDICATOR_COLUMNS: &[OpenColumn] = &[
    col("fy", "評価年度", Integer, "年度", "評価の対象年度"),
    col(
        "program_code",
        "事業コード",
        Text,
        "",
        "事務事業のコード（evaluations と照合）",
    ),
    col(
        "indicator_code",
        "指標コード",
        Text,
        "",
        "事業内での指標のコード",
    ),
    col(
        "kind",
        "区分",
        Text,
        "",
        "activity（活動指標）・outcome（成果指標）",
    ),
    col("name_ja", "指標名", Text, "", "指標の名称"),
    col("unit", "単位", Text, "", "値の単位"),
    col("target", "目標値", Number, "", "目標値（単位は unit）"),
    col("actual", "実績値", Number, "", "実績値（単位は unit）"),
    col(
        "achievement",
        "達成率",
        Number,
        "比率",
        "実績値 ÷ 目標値（1.0 = 100%）",
    ),
];

const BUDGET_COLUMNS: &[OpenColumn] = &[
    col("fy", "年度", Integer, "年度", "予算・決算の年度"),
    col("program_code", "事業コード", Text, "", "事務事業のコード"),
    col("program_name", "事業名", Text, "", "事務事業の名称"),
    col("department_name", "部局", Text, "", "所管の部局"),
    col("section_name", "課", Text, "", "所管の課"),
    col("budget_initial", "当初予算額", Integer, "円", "当初予算額"),
    col(
        "budget_revised",
        "最終予算額",
        Integer,
        "円",
        "補正後の予算額（補正がない場合は空）",
    ),
    col("settled", "決算額", Integer, "円", "決算額（決算前は空）"),
    col(
        "funding_national",
        "国庫支出金",
        Integer,
        "円",
        "財源内訳（決算後は決算額の、決算前は予算額の内訳）",
    ),
    col(
        "funding_prefectural",
        "府県支出金",
        Integer,
        "円",
        "財源内訳",
    ),
    col("funding_bonds", "地方債", Integer, "円", "財源内訳"),
    col("funding_other", "その他特定財源", Integer, "円", "財源内訳"),
    col("funding_general", "一般財源", Integer, "円", "財源内訳"),
    col("staff_fte", "人工", Number, "人", "従事職員数（年間換算）"),
    col("staff_cost", "人件費", Integer, "円", "人工 × 人件費単価"),
    col(
        "full_cost",
        "フルコスト",
        Integer,
        "円",
        "決算額（決算前は予算額）＋ 人件費",
    ),
];

/// One dataset of the open data: its files and columns.
#[derive(Debug, Clone, Copy)]
pub struct DatasetSchema {
    /// File stem: `kpis` → kpis.csv, kpis.json.
    pub name: &'static str,
    pub title_ja: &'static str,
    pub description_ja: &'static str,
    pub columns: &'static [OpenColumn],
}

/// All datasets, in the order they are written.
#[derive(Debug, Clone, Copy)]
pub struct OpenSchema {
    pub datasets: [DatasetSchema; 4],
}

/// The schema of every open data file.
pub fn open_data_schema() -> OpenSchema {
    OpenSchema {
        datasets: [
            DatasetSchema {
                name: "kpis",
                title_ja: "KPIの進捗",
                description_ja: "公開しているKPIごとの、評価年度の実績・目標・達成率・進捗状況。1行が1つのKPI。",
                columns: KPI_COLUMNS,
            },
            DatasetSchema {
                name: "evaluations",
                title_ja: "事務事業評価",
                description_ja: "公開している事務事業のうち、評価の確認（承認）を終えた評価シート。1行が1つの事業。",
                columns: EVALUATION_COLUMNS,
            },
            DatasetSchema {
                name: "evaluation_indicators",
                title_ja: "事務事業評価の指標",
                description_ja: "evaluations の各事業の活動指標・成果指標。1行が1つの指標。",
                columns: INDICATOR_COLUMNS,
            },
            DatasetSchema {
                name: "budget",
                title_ja: "事業別の予算・決算",
                description_ja: "公開している事務事業の、その年度の予算額・決算額・財源内訳・人件費・フルコスト。1行が1つの事業。",
                columns: BUDGET_COLUMNS,
            },
        ],
    }
}

/// A published KPI with its progress in the year.
#[derive(Debug, Clone)]
pub struct OpenKpi {
    pub kpi: Kpi,
    pub plan_name: String,
    pub policy_name: String,
    pub measure_name: String,
    pub progress: KpiProgress,
}

/// A published program's accepted evaluation sheet.
#[derive(Debug, Clone)]
pub struct OpenEvaluation {
    pub program: Program,
    pub department_name: String,
    pub section_name: String,
    pub sheet: EvaluationSheet,
}

/// A published program's money of the year.
#[derive(Debug, Clone)]
pub struct OpenMoney {
    pub program: Program,
    pub department_name: String,
    pub section_name: String,
    pub money: ProgramMoney,
}

#[derive(Debug, Clone)]
pub struct OpenData {
    pub fy: FiscalYear,
    /// The city's 6-digit local-government code ("" if not set).
    pub city_code: String,
    pub city_name: String,
    pub kpis: Vec<OpenKpi>,
    pub evaluations: Vec<OpenEvaluation>,
    pub money: Vec<OpenMoney>,
}

fn fy_cell(fy: Option<FiscalYear>) -> Cell {
    fy.map_or(Cell::Empty, |f| Cell::Int(f.year().into()))
}

fn int(v: Option<i64>) -> Cell {
    v.map_or(Cell::Empty, Cell::Int)
}

fn kpi_rows(data: &OpenData) -> Vec<Vec<Cell>> {
    data.kpis
        .iter()
        .map(|k| {
            let p = &k.progress;
            let sdgs: Vec<String> = k.kpi.sdgs.iter().map(ToString::to_string).collect();
            vec![
                fy_cell(Some(data.fy)),
                Cell::text(&k.kpi.code),
                Cell::text(&k.kpi.name_ja),
                Cell::text(&k.kpi.name_en),
                Cell::text(&k.kpi.unit),
                Cell::text(k.kpi.direction.as_str()),
                Cell::text(&k.plan_name),
                Cell::text(&k.policy_name),
                Cell::text(&k.measure_name),
                fy_cell(k.kpi.baseline.map(|b| b.fy)),
                Cell::opt_num(k.kpi.baseline.map(|b| b.value)),
                fy_cell(k.kpi.final_target.map(|b| b.fy)),
                Cell::opt_num(k.kpi.final_target.map(|b| b.value)),
                fy_cell(p.actual_fy),
                Cell::opt_num(p.actual),
                Cell::text(p.actual_status.map_or("", |s| s.as_str())),
                Cell::opt_num(p.target),
                Cell::opt_num(p.rate),
                Cell::opt_num(p.progress_to_final),
                Cell::text(p.status.as_str()),
                Cell::text(p.status.label_ja()),
                Cell::Bool(p.stale),
                Cell::text(&k.kpi.source),
                Cell::text(&sdgs.join(";")),
            ]
        })
        .collect()
}

fn evaluation_rows(data: &OpenData) -> Vec<Vec<Cell>> {
    data.evaluations
        .iter()
        .map(|e| {
            let s = &e.sheet;
            let c = s.computed();
            let m = &s.money;
            let score = |v: Option<u8>| int(v.map(i64::from));
            vec![
                fy_cell(Some(s.fy)),
                Cell::text(&e.program.code),
                Cell::text(&e.program.name_ja),
                Cell::text(&e.department_name),
                Cell::text(&e.section_name),
                Cell::text(&s.purpose),
                Cell::text(&s.target_group),
                Cell::text(&s.intent),
                Cell::text(&s.means),
                Cell::Int(m.budget),
                int(m.settled),
                Cell::Int(m.funding.national),
                Cell::Int(m.funding.prefectural),
                Cell::Int(m.funding.bonds),
                Cell::Int(m.funding.other),
                Cell::Int(m.funding.general),
                Cell::Int(c.direct_cost),
                Cell::Num(m.staff_fte),
                Cell::Int(m.staff_unit_cost),
                Cell::Int(c.staff_cost),
                Cell::Int(c.full_cost),
                Cell::opt_num(m.output_quantity),
                Cell::opt_num(c.unit_cost),
                score(s.scores.necessity),
                score(s.scores.effectiveness),
                score(s.scores.efficiency),
                score(s.scores.means),
                score(c.score_total),
                Cell::text(&s.issues),
                Cell::text(&s.improvements),
                Cell::text(s.direction.map_or("", |d| d.as_str())),
                Cell::text(s.direction.map_or("", |d| d.label_ja())),
                Cell::text(&s.direction_reason),
                Cell::text(&s.reviewer_comment),
            ]
        })
        .collect()
}

fn indicator_rows(data: &OpenData) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    for e in &data.evaluations {
        for i in &e.sheet.indicators {
            rows.push(vec![
                fy_cell(Some(e.sheet.fy)),
                Cell::text(&e.program.code),
                Cell::text(&i.code),
                Cell::text(i.kind.as_str()),
                Cell::text(&i.name_ja),
                Cell::text(&i.unit),
                Cell::opt_num(i.target),
                Cell::opt_num(i.actual),
                Cell::opt_num(i.achievement()),
            ]);
        }
    }
    rows
}

fn budget_rows(data: &OpenData) -> Vec<Vec<Cell>> {
    data.money
        .iter()
        .map(|e| {
            let m = &e.money;
            vec![
                fy_cell(Some(m.fy)),
                Cell::text(&e.program.code),
                Cell::text(&e.program.name_ja),
                Cell::text(&e.department_name),
                Cell::text(&e.section_name),
                Cell::Int(m.budget_initial),
                int(m.budget_revised),
                int(m.settled),
                Cell::Int(m.funding.national),
                Cell::Int(m.funding.prefectural),
                Cell::Int(m.funding.bonds),
                Cell::Int(m.funding.other),
                Cell::Int(m.funding.general),
                Cell::Num(m.staff_fte),
                Cell::Int(m.staff_cost()),
                Cell::Int(m.full_cost()),
            ]
        })
        .collect()
}

/// Every file of the open data of `data.fy`: (file name, bytes), the CSV
/// and JSON of each dataset and `datapackage.json`.
pub fn open_data(data: &OpenData) -> ReportResult<Vec<(String, Vec<u8>)>> {
    let schema = open_data_schema();
    let mut files = Vec::new();
    for ds in &schema.datasets {
        let rows = match ds.name {
            "kpis" => kpi_rows(data),
            "evaluations" => evaluation_rows(data),
            "evaluation_indicators" => indicator_rows(data),
            _ => budget_rows(data),
        };
        debug_assert!(rows.iter().all(|r| r.len() == ds.columns.len()));
        let sheet = Sheet {
            name_ja: ds.title_ja.to_string(),
            name_en: ds.name.to_string(),
            // The header in "English" is the column key: CSV header = JSON key.
            columns: ds
                .columns
                .iter()
                .map(|c| (c.key, c.title_ja, c.key))
                .collect(),
            rows,
        };
        for (ext, format) in [("csv", Format::Csv), ("json", Format::Json)] {
            let bytes = write_sheet(&sheet, format, HeaderLang::En)?;
            files.push((format!("{}.{ext}", ds.name), bytes));
        }
    }
    files.push((
        "datapackage.json".to_string(),
        serde_json::to_vec_pretty(&datapackage(data, &schema))?,
    ));
    Ok(files)
}

/// The Frictionless Data Package describing the CSV files.
fn datapackage(data: &OpenData, schema: &OpenSchema) -> serde_json::Value {
    use serde_json::json;
    let city = if data.city_name.is_empty() {
        String::new()
    } else {
        format!("{} ", data.city_name)
    };
    let resources: Vec<serde_json::Value> = schema
        .datasets
        .iter()
        .map(|ds| {
            let fields: Vec<serde_json::Value> = ds
                .columns
                .iter()
                .map(|c| {
                    let mut f = json!({
                        "name": c.key,
                        "title": c.title_ja,
                        "type": c.kind,
                        "description": c.description_ja,
                    });
                    if !c.unit.is_empty() {
                        f["unit"] = json!(c.unit);
                    }
                    f
                })
                .collect();
            json!({
                "name": ds.name.replace('_', "-"),
                "path": format!("{}.csv", ds.name),
                "title": ds.title_ja,
                "description": ds.description_ja,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8-sig",
                "dialect": { "delimiter": ",", "lineTerminator": "\r\n", "header": true },
                "schema": { "fields": fields, "missingValues": [""] },
                "json_path": format!("{}.json", ds.name),
            })
        })
        .collect();
    json!({
        "name": format!("citykpi-open-data-{}", data.fy.year()),
        "title": format!("{city}{} オープンデータ（KPI・事務事業評価・予算）", data.fy.label_ja()),
        "description": "CSVの見出しとJSONのキーは同じ列名。JSONは各行を列名をキーとするオブジェクトの配列で、空欄は null。詳しくは docs/open-data.md。",
        "fiscal_year": data.fy.year(),
        "city_code": data.city_code,
        "licenses": [{ "name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0", "path": "https://creativecommons.org/licenses/by/4.0/" }],
        "resources": resources,
    })
}

/// `docs/open-data.md`: the schema as tables for people.
pub fn open_data_markdown() -> String {
    let mut out = String::from(
        "# オープンデータの項目 / open data schema\n\n\
         `citykpi report open-data --fy YEAR -o DIR` が書き出すファイルと列の説明です。\n\
         この文書は `citykpi_reports::open_data_markdown()` から生成されています（`crates/reports` のテストが一致を確かめます）。\n\n\
         - 各データセットは CSV（UTF-8・BOM付き・CRLF）と JSON（行ごとのオブジェクトの配列）の2形式。CSVの見出しとJSONのキーは同じ列名です。\n\
         - 空欄（JSONでは `null`）は値がないことを表し、0 ではありません。\n\
         - 金額は円単位の整数、比率は 1.0 = 100% の小数です。\n\
         - 同じ内容を機械可読な形で `datapackage.json`（Frictionless Data Package）に記載しています。\n\
         - 公開されるのは、公開設定されたKPI（計画・政策・施策の名称は公開されている計画のもののみ）、公開設定された事務事業のうち評価の確認（承認）を終えた評価シートと、その事業の予算・決算です。\n\n\
         Every dataset is written as CSV (UTF-8 with BOM, CRLF) and JSON (an array of objects); CSV headers and JSON keys are the column names below. An empty cell (`null` in JSON) means no value, never zero. Money is whole yen; rates are fractions (1.0 = 100%). Only published KPIs, and only published programs' accepted evaluations and their money, are written. `datapackage.json` holds the same schema as a Frictionless Data Package.\n",
    );
    for ds in open_data_schema().datasets {
        out.push_str(&format!(
            "\n## {name}.csv / {name}.json — {title}\n\n{desc}\n\n| 列名 | 項目 | 型 | 単位 | 説明 |\n|---|---|---|---|---|\n",
            name = ds.name,
            title = ds.title_ja,
            desc = ds.description_ja
        ));
        for c in ds.columns {
            let kind = match c.kind {
                Text => "string",
                Integer => "integer",
                Number => "number",
                Boolean => "boolean",
            };
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                c.key, c.title_ja, kind, c.unit, c.description_ja
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_keys_are_unique_ascii() {
        for ds in open_data_schema().datasets {
            let mut seen = std::collections::HashSet::new();
            for c in ds.columns {
                assert!(c.key.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'));
                assert!(seen.insert(c.key), "{} twice in {}", c.key, ds.name);
            }
        }
    }

    /// docs/open-data.md is generated; CITYKPI_BLESS=1 rewrites it.
    #[test]
    fn docs_match_the_schema() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/open-data.md");
        let want = open_data_markdown();
        if std::env::var_os("CITYKPI_BLESS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "docs/open-data.md is out of date: run CITYKPI_BLESS=1 cargo test -p citykpi-reports"
        );
    }
}
