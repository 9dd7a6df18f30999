//! Real files: committed fixtures (a CP932 CSV made with iconv, an XLSX made
//! without rust_xlsxwriter) and files written by the tests into a tempdir.

mod common;

use std::path::PathBuf;

use citykpi_domain::Kind;
use citykpi_domain::observation::{ObsStatus, ObsValue, Period};
use citykpi_io::{Format, HeaderLang, ImportError, read_bytes, read_file, write};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn committed_cp932_csv_with_title_row() {
    let known = common::known(&common::city());
    let out = read_file(&fixture("observations_cp932.csv"), None, &known).unwrap();
    assert_eq!(out.kind, Some(Kind::Observations));
    assert_eq!(out.rows_read, 5);
    let o = &out.dataset.observations;
    assert_eq!(o.len(), 5);
    assert_eq!(
        (o[0].kpi_code.as_str(), o[0].period),
        ("K-001", Period::Year(common::fy(2023)))
    );
    assert_eq!(o[0].value, ObsValue::Value(72.5), "full-width digits");
    assert_eq!(o[0].note, "①本庁集計", "CP932 extension characters");
    assert_eq!(o[1].status, ObsStatus::Provisional);
    assert_eq!(o[1].note, "㈱ﾃｽﾄ調べ～", "free text is kept as written");
    assert_eq!(
        o[2].period,
        Period::Month(2025, 4),
        "an Excel date means its month"
    );
    assert_eq!(o[2].area_code, "");
    assert_eq!(o[3].period, Period::Quarter(common::fy(2024), 2));
    assert_eq!(o[3].value, ObsValue::Value(-1234.5));
    assert_eq!(o[3].note, "カンマ, 入り");
    assert_eq!(o[4].period, Period::Year(common::fy(2018)));
    assert_eq!(o[4].value, ObsValue::Secret);
}

#[test]
fn committed_xlsx_with_explanation_sheet_title_and_offset_table() {
    let known = common::known(&common::city());
    let out = read_file(&fixture("kpi_observations.xlsx"), None, &known).unwrap();
    assert_eq!(out.kind, Some(Kind::Observations));
    let o = &out.dataset.observations;
    assert_eq!(o.len(), 4);
    assert_eq!(o[0].period, Period::Year(common::fy(2024)));
    assert_eq!(o[0].area_code, "271004");
    assert_eq!(o[0].value, ObsValue::Value(72.81));
    assert_eq!(o[0].status, ObsStatus::Provisional);
    assert_eq!(
        o[1].period,
        Period::Month(2024, 4),
        "a date cell in the period column"
    );
    assert_eq!(o[2].value, ObsValue::Missing);
    assert_eq!(o[2].note, "改行\nあり");
    assert_eq!(o[3].area_code, "271004", "an area code typed as a number");

    // Problems in a sheet carry the sheet's real row numbers and headers.
    let empty = citykpi_domain::KnownKeys::default();
    let err = read_file(&fixture("kpi_observations.xlsx"), None, &empty).unwrap_err();
    let ImportError::Invalid(report) = err else {
        panic!()
    };
    let rows: Vec<Option<usize>> = report.problems.iter().map(|p| p.row).collect();
    assert_eq!(rows, vec![Some(4), Some(5), Some(6), Some(7)], "{report}");
    assert_eq!(report.problems[0].column.as_deref(), Some("KPIコード"));
}

#[test]
fn cp932_written_by_encoding_rs() {
    let dir = tempfile::tempdir().unwrap();
    let text = "事業コード,事業名,担当課コード,実施方法,義務的,公開\r\n\
                J-0100,ﾍﾙｽｹｱ推進事業①,S10,補助,○,\r\n\
                Ｊ－０１０１,髙橋記念館管理,S02,指定管理,いいえ,はい\r\n";
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err());
    let path = dir.path().join("programs.csv");
    std::fs::write(&path, &bytes).unwrap();
    let known = common::known(&common::city());
    let out = read_file(&path, None, &known).unwrap();
    let p = &out.dataset.programs;
    assert_eq!(out.kind, Some(Kind::Programs));
    assert_eq!(p[0].name_ja, "ﾍﾙｽｹｱ推進事業①");
    assert!(p[0].mandatory && !p[0].published);
    assert_eq!(p[1].code, "J-0101", "full-width codes are normalized");
    assert_eq!(
        p[1].name_ja, "髙橋記念館管理",
        "IBM extension kanji of CP932"
    );
    assert_eq!(
        p[1].delivery,
        citykpi_domain::program::DeliveryMethod::DesignatedManager
    );
    assert!(!p[1].mandatory && p[1].published);
}

#[test]
fn utf8_with_and_without_bom_and_utf16_tab_separated() {
    let known = common::known(&common::city());
    let body = "kpi_code,fiscal_year,area_code,value\nK-001,FY2024,271004,\"1,234\"\n";
    for bytes in [
        body.as_bytes().to_vec(),
        [b"\xEF\xBB\xBF".as_slice(), body.as_bytes()].concat(),
    ] {
        let out = read_bytes("o.csv", &bytes, None, None, &known).unwrap();
        assert_eq!(out.dataset.observations[0].value, ObsValue::Value(1234.0));
    }
    // Excel's "Unicode text": UTF-16LE with BOM, tab-separated.
    let tsv = "KPIコード\t年度\t値\r\nK-001\t令和6年度\t12\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in tsv.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let out = read_bytes("o.txt", &bytes, None, None, &known).unwrap();
    assert_eq!(
        out.dataset.observations[0].period,
        Period::Year(common::fy(2024))
    );
}

#[test]
fn damaged_utf8_is_not_read_as_shift_jis() {
    let mut bytes = "KPIコード,年度,値,備考\nK-001,2024,1,確定値です\n"
        .as_bytes()
        .to_vec();
    bytes.extend_from_slice(b"K-001,2023,2,\xE3\x81\n");
    let err = read_bytes("obs.csv", &bytes, None, None, &Default::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("3行目付近に UTF-8 として読めないバイト"),
        "{err}"
    );
    // With a BOM as well.
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), &bytes].concat();
    let err = read_bytes("obs.csv", &with_bom, None, None, &Default::default()).unwrap_err();
    assert!(err.to_string().contains("3行目付近"), "{err}");
}

#[test]
fn undecodable_bytes_name_the_file() {
    // 0x82 0xFF is neither UTF-8 nor Shift_JIS.
    let err = read_bytes(
        "bad.csv",
        b"KPI,\x82\xFF\n",
        None,
        None,
        &Default::default(),
    )
    .unwrap_err();
    assert!(matches!(&err, ImportError::Encoding { file } if file == "bad.csv"));
    assert!(err.to_string().contains("bad.csv: 文字コードが読めません"));
}

#[test]
fn xlsx_written_by_rust_xlsxwriter_with_title_rows_and_extra_sheets() {
    use rust_xlsxwriter::Workbook;
    let dir = tempfile::tempdir().unwrap();
    let mut wb = Workbook::new();
    let notes = wb.add_worksheet();
    notes.set_name("メモ").unwrap();
    notes.write_string(0, 0, "無関係なシート").unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("money").unwrap();
    ws.write_string(0, 0, "令和6年度 事業費").unwrap();
    for (j, h) in [
        "事業コード",
        "年度",
        "当初予算額(千円)",
        "決算額(千円)",
        "人工",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(2, j as u16, *h).unwrap();
    }
    ws.write_string(3, 0, "J-0001").unwrap();
    ws.write_string(3, 1, "R6").unwrap();
    ws.write_number(3, 2, 1234.0).unwrap();
    ws.write_number(3, 3, 1200.5).unwrap();
    ws.write_number(3, 4, 0.3).unwrap();
    let path = dir.path().join("予算.xlsx");
    wb.save(&path).unwrap();
    let known = common::known(&common::city());
    let out = read_file(&path, Some(Kind::Money), &known).unwrap();
    let m = &out.dataset.money[0];
    assert_eq!(
        (m.fy.year(), m.budget_initial, m.settled, m.staff_fte),
        (2024, 1_234_000, Some(1_200_500), 0.3)
    );
}

#[test]
fn stray_far_away_cells_do_not_blow_up_memory() {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (j, h) in ["KPIコード", "年度", "値"].iter().enumerate() {
        ws.write_string(0, j as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "K-001").unwrap();
    ws.write_number(1, 1, 2024).unwrap();
    ws.write_number(1, 2, 5).unwrap();
    // Someone once typed a space in the last cell of the sheet.
    ws.write_string(1_048_575, 16_383, "x").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let known = common::known(&common::city());
    let out = read_bytes("far.xlsx", &bytes, None, None, &known).unwrap();
    assert_eq!(out.dataset.observations.len(), 1);
    assert_eq!(out.rows_read, 1);
}

#[test]
fn workbook_without_data() {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    wb.add_worksheet();
    let bytes = wb.save_to_buffer().unwrap();
    let err = read_bytes("empty.xlsx", &bytes, None, None, &Default::default()).unwrap_err();
    assert!(err.to_string().contains("すべてのシートが空です"), "{err}");
    let err = read_bytes(
        "broken.xlsx",
        b"PK\x03\x04 not really",
        None,
        None,
        &Default::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("Excelファイルとして読めません"),
        "{err}"
    );
}

#[test]
fn exports_written_to_disk_read_back_with_read_file() {
    let ds = common::city();
    let known = common::known(&ds);
    let dir = tempfile::tempdir().unwrap();
    for format in [Format::Csv, Format::Xlsx, Format::Json] {
        let path = dir.path().join(format!("kpis.{}", format.extension()));
        std::fs::write(
            &path,
            write(Kind::Kpis, &ds, format, HeaderLang::Ja).unwrap(),
        )
        .unwrap();
        let out = read_file(&path, None, &known).unwrap();
        assert_eq!(out.dataset.kpis, ds.kpis, "{format:?}");
    }
}

#[test]
fn shift_jis_text_is_never_mistaken_for_damaged_utf8() {
    // Random runs of every kanji Shift_JIS can encode, as header-free cells:
    // decoding must pick Shift_JIS, never report "damaged UTF-8".
    let kanji: Vec<char> = (0x4E00u32..0xA000)
        .filter_map(char::from_u32)
        .filter(|c| !encoding_rs::SHIFT_JIS.encode(&c.to_string()).2)
        .collect();
    assert!(kanji.len() > 6000);
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..3000 {
        let text: String = (0..24)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                kanji[(state % kanji.len() as u64) as usize]
            })
            .collect();
        // At the very start of the file, where the decoder looks.
        let csv = format!("{text}\r\nKPIコード,年度,値,備考\r\nK-001,2024,1,{text}\r\n");
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&csv);
        let known = common::known(&common::city());
        let out = read_bytes("o.csv", &bytes, None, None, &known)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(out.dataset.observations[0].note, text);
    }
}
