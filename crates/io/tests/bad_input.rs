//! Each kind of bad input is reported with its row, column and reason.

mod common;

use citykpi_domain::{Kind, KnownKeys};
use citykpi_io::{ImportError, ImportOutcome, Problem, read_bytes};

fn csv(name: &str, text: &str, known: &KnownKeys) -> Result<ImportOutcome, ImportError> {
    read_bytes(name, text.as_bytes(), None, None, known)
}

fn problems(r: Result<ImportOutcome, ImportError>) -> Vec<Problem> {
    match r {
        Err(ImportError::Invalid(report)) => report.problems,
        Err(e) => panic!("expected Invalid, got {e}"),
        Ok(o) => panic!("expected problems, imported {:?}", o.dataset.counts()),
    }
}

/// Asserts exactly one problem at (row, column) whose reason contains `needle`.
fn assert_one(ps: &[Problem], row: usize, column: &str, needle: &str) {
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_problem(&ps[0], row, column, needle);
}

fn assert_problem(p: &Problem, row: usize, column: &str, needle: &str) {
    assert_eq!(p.row, Some(row), "{p:#?}");
    assert_eq!(p.column.as_deref(), Some(column), "{p:#?}");
    assert!(
        p.reason.contains(needle),
        "reason {:?} lacks {needle:?}",
        p.reason
    );
}

fn known() -> KnownKeys {
    common::known(&common::city())
}

const OBS_HEAD: &str = "KPIコード,年度,地域コード,実績値,確定区分\n";

#[test]
fn fiscal_year_unreadable_or_out_of_range() {
    let text = format!(
        "{OBS_HEAD}K-001,2024,271004,1,\nK-001,来年,271004,2,\nK-001,令和99年度,271004,3,\nK-001,1899,271004,4,\n"
    );
    let ps = problems(csv("members.csv", &text, &known()));
    assert_eq!(ps.len(), 3, "{ps:#?}");
    assert_problem(&ps[0], 3, "年度", "「来年」は年度として読めません");
    assert_eq!(ps[0].value.as_deref(), Some("来年"));
    assert_problem(&ps[1], 4, "年度", "範囲外");
    assert_problem(&ps[2], 5, "年度", "1899");
}

#[test]
fn report_lists_every_problem_with_file_row_and_column() {
    let text = format!("{OBS_HEAD}K-001,来年,271004,1,\nK-001,2024,271004,多い,\n");
    let err = csv("members.csv", &text, &known()).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("members.csv: 2件の問題"), "{shown}");
    assert!(
        shown.contains("members.csv 2行目 「年度」列: 「来年」は年度として読めません"),
        "{shown}"
    );
    assert!(
        shown.contains("members.csv 3行目 「実績値」列: 「多い」は数値として読めません"),
        "{shown}"
    );
}

#[test]
fn text_in_a_number_column() {
    let text = "事業コード,年度,当初予算額,決算額\nJ-0001,2024,百万,1000\nJ-0001,2025,1000,12.5\n";
    let ps = problems(csv("money.csv", text, &known()));
    assert_eq!(ps.len(), 2, "{ps:#?}");
    assert_problem(&ps[0], 2, "当初予算額", "「百万」は数値として読めません");
    assert_problem(&ps[1], 3, "決算額", "円単位の整数ではありません");
}

#[test]
fn thousand_yen_header_scales_and_checks() {
    let text = "事業コード,年度,当初予算額（千円）\nJ-0001,2024,\"1,234\"\nJ-0002,2024,△0.5\n";
    let out = csv("money.csv", text, &known()).unwrap();
    assert_eq!(out.dataset.money[0].budget_initial, 1_234_000);
    assert_eq!(out.dataset.money[1].budget_initial, -500);
}

#[test]
fn bad_enum_lists_allowed_values() {
    let text = "事業コード,事業名,担当課コード,実施方法\nJ-0009,テスト事業,S10,外注\n";
    let ps = problems(csv("programs.csv", text, &known()));
    assert_one(&ps, 2, "実施方法", "「外注」は実施方法として使えません");
    assert!(ps[0].reason.contains("outsourced（委託）"));
    let text = "ログインID,氏名,課コード,権限\nx,X,S01,mayor\n";
    let ps = problems(csv("users.csv", text, &known()));
    assert_one(&ps, 2, "権限", "department_editor（部局担当者）");
    let text = "kpi_code,period,value,status\nK-001,2024,1,maybe\n";
    let ps = problems(csv("obs.csv", text, &known()));
    assert_one(&ps, 2, "status", "provisional（速報値）");
}

#[test]
fn empty_required_cells() {
    let text = "KPIコード,指標名,単位,方向\nK-100,,人,↑\n,名前,人,↑\nK-101,名前,人,\n";
    let ps = problems(csv("kpis.csv", text, &known()));
    assert_eq!(ps.len(), 3, "{ps:#?}");
    assert_problem(&ps[0], 2, "指標名", "必須の値が空です");
    assert_problem(&ps[1], 3, "KPIコード", "必須の値が空です");
    assert_problem(&ps[2], 4, "方向", "必須の値が空です");
}

#[test]
fn missing_required_column_names_it_and_the_kind() {
    // 値 is missing: still recognised as observations (best match), reported as missing.
    let text = "KPIコード,年度,地域コード\nK-001,2024,271004\n";
    let ps = problems(csv("obs.csv", text, &known()));
    assert_one(
        &ps,
        1,
        "値",
        "必須の列「値」（value）がありません（実績値の表）",
    );
    // With the kind given.
    let r = read_bytes(
        "obs.csv",
        text.as_bytes(),
        None,
        Some(Kind::Observations),
        &known(),
    );
    assert_one(&problems(r), 1, "値", "observations table");
}

#[test]
fn unknown_column_is_a_warning_not_an_error() {
    let text = "KPIコード,年度,値,色\nK-001,2024,5,赤\n";
    let out = csv("obs.csv", text, &known()).unwrap();
    assert_eq!(out.dataset.observations.len(), 1);
    assert_eq!(out.warnings.len(), 1);
    assert_problem(&out.warnings[0], 1, "色", "無視しました");
    assert_eq!(
        out.warnings[0].to_string(),
        "1行目 「色」列: 実績値の表にない列のため無視しました / not a column of the observations table, ignored"
    );
}

#[test]
fn duplicate_keys_name_both_rows() {
    let text =
        format!("{OBS_HEAD}K-001,2024,271004,1,\nK-001,2023,271004,1,\nK-001,R6,271004,2,\n");
    let ps = problems(csv("obs.csv", &text, &known()));
    assert_one(&ps, 4, "KPIコード", "2行目と4行目");
    assert!(ps[0].reason.contains("K-001 / 2024 / 271004"));
    // Three times the same key (period written two ways): both repeats name the first row.
    let text = format!(
        "{OBS_HEAD}K-002,2025-04,,1,\nK-001,2024,,1,\nK-002,2025/4/30,,2,\nK-002,2025-04,,3,\n"
    );
    let ps = problems(csv("obs.csv", &text, &known()));
    assert_eq!(ps.len(), 2, "{ps:#?}");
    assert_problem(
        &ps[0],
        4,
        "KPIコード",
        "キー「K-002 / 2025-04」が重複しています（2行目と4行目）",
    );
    assert_problem(&ps[1], 5, "KPIコード", "（2行目と5行目）");
    let text = "事業コード,KPIコード,寄与度\nJ-0001,K-001,0.5\nJ-0001,K-001,30%\n";
    assert_one(
        &problems(csv("links.csv", text, &known())),
        3,
        "事業コード",
        "2行目と3行目",
    );
}

#[test]
fn the_same_column_twice_is_refused() {
    let text = "KPIコード,年度,値,実績値\nK-001,2024,5,6\n";
    assert_one(
        &problems(csv("obs.csv", text, &known())),
        1,
        "実績値",
        "2つあります",
    );
}

#[test]
fn references_to_unknown_codes() {
    let k = known();
    // KPI code in observations.
    let ps = problems(csv(
        "obs.csv",
        &format!("{OBS_HEAD}K-999,2024,271004,1,\n"),
        &k,
    ));
    assert_one(&ps, 2, "KPIコード", "KPI「K-999」が登録されていません");
    // Section code in programs.
    let ps = problems(csv(
        "p.csv",
        "事業コード,事業名,担当課コード,実施方法\nJ-0100,新事業,S99,直営\n",
        &k,
    ));
    assert_one(&ps, 2, "担当課コード", "課「S99」");
    // Node code (and owner section) in KPIs.
    let ps = problems(csv(
        "k.csv",
        "kpi_code,name_ja,unit,direction,nodes,owner_sections\nK-100,x,人,higher,M-1-1;M-9*2,S01\n",
        &k,
    ));
    assert_one(&ps, 2, "nodes", "「M-9」");
    // Program code in money, links and indicators.
    let ps = problems(csv(
        "m.csv",
        "事業コード,年度,当初予算額\nJ-9999,2024,1\n",
        &k,
    ));
    assert_one(&ps, 2, "事業コード", "事務事業「J-9999」");
    let ps = problems(csv(
        "l.csv",
        "事業コード,KPIコード,寄与度\nJ-9999,K-999,0.1\n",
        &k,
    ));
    assert_eq!(ps.len(), 2);
    assert_problem(&ps[0], 2, "事業コード", "J-9999");
    assert_problem(&ps[1], 2, "KPIコード", "K-999");
    let ps = problems(csv(
        "i.csv",
        "事業コード,指標コード,指標区分,指標名,単位,年度\nJ-9999,A1,活動指標,x,件,2024\n",
        &k,
    ));
    assert_one(&ps, 2, "事業コード", "J-9999");
    // Department of a section.
    let ps = problems(csv(
        "org.csv",
        "部局コード,部局名,課コード,課名\nD09,,S50,新しい課\n",
        &KnownKeys::default(),
    ));
    assert_one(&ps, 2, "部局コード", "部局「D09」");
    // Plan of a node, parent node.
    let ps = problems(csv(
        "plans.csv",
        "計画コード,体系コード,上位コード,階層,名称\nXX,N-1,,1,項目\nBP2025,N-2,N-0,2,項目\n",
        &k,
    ));
    assert_eq!(ps.len(), 2, "{ps:#?}");
    assert_problem(&ps[0], 2, "計画コード", "計画「XX」");
    assert_problem(&ps[1], 3, "上位コード", "上位項目「N-0」");
}

#[test]
fn codes_defined_in_the_same_file_are_known() {
    // A plan and its nodes in one file import into an empty database; level
    // of a child left empty comes from its parent; a level may be a name.
    let text = "計画コード,体系コード,上位コード,階層,名称,開始年度,終了年度\n\
                P,,,,計画,令和7年度,R16\n\
                P,A,,,政策A,,\n\
                P,A-1,A,,施策A-1,,\n\
                P,A-2,A,施策,施策A-2,,\n";
    let out = csv("plans.csv", text, &KnownKeys::default()).unwrap();
    let levels: Vec<u8> = out.dataset.plan_nodes.iter().map(|n| n.level).collect();
    assert_eq!(levels, vec![1, 2, 2]);
    assert_eq!(out.dataset.plans[0].start_fy.year(), 2025);
    assert_eq!(out.dataset.plans[0].end_fy.year(), 2034);
}

#[test]
fn plan_tree_rules() {
    let text = "計画コード,体系コード,上位コード,階層,名称,開始年度,終了年度\n\
                P,,,,計画,2030,2025\n\
                P,A,,1,政策A,,\n\
                P,B,A,3,施策B,,\n\
                P,C,,2,施策C,,\n";
    let ps = problems(csv("plans.csv", text, &KnownKeys::default()));
    assert_eq!(ps.len(), 3, "{ps:#?}");
    assert_problem(&ps[0], 2, "終了年度", "開始年度（2030）より前");
    assert_problem(&ps[1], 4, "階層", "一つ下ではありません");
    assert_problem(&ps[2], 5, "上位コード", "上位コードが必要");
    // A node row without its code is not taken for a plan row.
    let text = "計画コード,体系コード,上位コード,階層,名称\nBP2025,,P-1,2,施策\n";
    assert_one(
        &problems(csv("plans.csv", text, &known())),
        2,
        "体系コード",
        "体系コードが空です",
    );
}

#[test]
fn org_department_conflict_names_the_first_row() {
    let text =
        "部局コード,部局名,課コード,課名\nD01,市長公室,S01,政策企画課\nD01,市長室,S02,広報課\n";
    let ps = problems(csv("org.csv", text, &KnownKeys::default()));
    assert_one(&ps, 3, "部局名", "2行目と違います");
}

#[test]
fn band_direction_needs_its_bounds() {
    let text = "KPIコード,指標名,単位,方向,範囲下限,範囲上限\nK-100,比率,%,範囲内,5,\nK-101,比率,%,band,10,5\nK-102,比率,%,sideways,,\n";
    let ps = problems(csv("kpis.csv", text, &known()));
    assert_eq!(ps.len(), 3, "{ps:#?}");
    assert_problem(&ps[0], 2, "方向", "範囲下限");
    assert_problem(&ps[1], 3, "方向", "より大きい");
    assert_problem(&ps[2], 4, "方向", "higher（増加が望ましい・↑）");
}

#[test]
fn kpi_list_cells() {
    let text = "KPIコード,指標名,単位,方向,年度別目標,SDGs,基準年度\nK-100,x,人,↑,2026-5,18,2024\n";
    let ps = problems(csv("kpis.csv", text, &known()));
    assert_eq!(ps.len(), 3, "{ps:#?}");
    assert_problem(&ps[0], 2, "基準値", "値が空");
    assert_problem(&ps[1], 2, "年度別目標", "年度:目標値");
    assert_problem(&ps[2], 2, "SDGs", "「18」");
}

#[test]
fn contribution_outside_zero_to_one() {
    let text = "事業コード,KPIコード,寄与度\nJ-0001,K-002,150%\n";
    assert_one(
        &problems(csv("links.csv", text, &known())),
        2,
        "寄与度",
        "範囲外",
    );
}

#[test]
fn ragged_rows() {
    let text = format!(
        "{OBS_HEAD}K-001,2024,271004,1,final,extra\nK-001,2023,271004\nK-001,2022,271004,1,,,\n"
    );
    let ps = problems(csv("obs.csv", &text, &known()));
    // Trailing empty cells (as some tools write) are fine; missing or extra data is not.
    assert_eq!(ps.len(), 2, "{ps:#?}");
    assert_eq!((ps[0].row, ps[0].column.as_deref()), (Some(2), None));
    assert!(
        ps[0]
            .reason
            .contains("列の数（6）が見出し行（5）と違います")
    );
    assert_eq!(ps[1].row, Some(3));
}

#[test]
fn undetectable_kind_lists_the_kinds() {
    let err = csv("x.csv", "色,形\n赤,丸\n", &known()).unwrap_err();
    assert!(matches!(err, ImportError::UnknownKind { .. }));
    let shown = err.to_string();
    for k in Kind::ALL {
        assert!(shown.contains(k.as_str()), "{shown}");
    }
    assert!(shown.contains("observations（実績値）"));
}

#[test]
fn empty_inputs() {
    for (name, bytes) in [
        ("a.csv", &b""[..]),
        ("a.csv", b"\xEF\xBB\xBF"),
        ("a.csv", b"\n\n,,\n"),
        ("a.json", b"  "),
    ] {
        let ps = problems(read_bytes(
            name,
            bytes,
            None,
            Some(Kind::Observations),
            &known(),
        ));
        assert_eq!(ps.len(), 1);
        assert!(ps[0].reason.contains("ファイルが空です"), "{name}: {ps:?}");
    }
    // Header only: imports nothing, with a warning.
    let out = csv("obs.csv", OBS_HEAD, &known()).unwrap();
    assert_eq!(out.rows_read, 0);
    assert!(out.warnings[0].reason.contains("データ行がありません"));
}

#[test]
fn unknown_format_and_io_errors() {
    let err = read_bytes("data.pdf", b"%PDF", None, None, &known()).unwrap_err();
    assert!(matches!(err, ImportError::UnknownFormat { .. }));
    assert!(err.to_string().contains("data.pdf"));
    let err = citykpi_io::read_file(std::path::Path::new("/nonexistent/obs.csv"), None, &known())
        .unwrap_err();
    assert!(matches!(err, ImportError::Io { .. }));
}

#[test]
fn problems_are_capped_with_a_count_of_the_rest() {
    let mut text = OBS_HEAD.to_string();
    for i in 0..1500 {
        text.push_str(&format!("K-001,{},271004,abc,\n", 1950 + i % 150));
    }
    match csv("big.csv", &text, &known()).unwrap_err() {
        ImportError::Invalid(report) => {
            assert_eq!(report.problems.len(), citykpi_io::MAX_PROBLEMS);
            // 1500 bad values; duplicate keys are not reached for rows that failed.
            assert_eq!(report.total(), 1500);
            assert_eq!(report.omitted, 500);
            assert!(report.to_string().contains("…ほか500件 / …and 500 more"));
        }
        e => panic!("{e}"),
    }
}

#[test]
fn json_records_are_checked_too() {
    let k = known();
    let text = r#"[{"kpi_code":"K-001","period":"2024","area_code":"1","value":{"kind":"value","value":1.0}},
                   {"kpi_code":"K-999","period":"2024","area_code":"1","value":{"kind":"missing"}},
                   {"kpi_code":"K-001","period":"2500","area_code":"1","value":{"kind":"secret"}}]"#;
    let err = read_bytes("obs.json", text.as_bytes(), None, None, &k).unwrap_err();
    let ImportError::Invalid(report) = err else {
        panic!()
    };
    assert_eq!(report.problems.len(), 2, "{report}");
    assert_eq!(report.problems[0].row, Some(3));
    assert!(report.problems[0].reason.contains("3件目"));
    assert_problem(&report.problems[1], 2, "observations.kpi_code", "K-999");
    assert!(report.to_string().contains("obs.json 2件目"));
    let err = read_bytes("obs.json", b"[{\"kpi_code\": ", None, None, &k).unwrap_err();
    assert!(
        err.to_string().contains("JSONとして読めません（1行目"),
        "{err}"
    );
}

#[test]
fn json_password_hashes_are_dropped() {
    let text = r#"{"users":[{"login":"a","display_name":"A","email":null,"section_code":"S01","role":"admin","password_hash":"$argon2id$x"}]}"#;
    let out = read_bytes("u.json", text.as_bytes(), None, None, &known()).unwrap();
    assert_eq!(out.kind, Some(Kind::Users));
    assert_eq!(out.dataset.users[0].password_hash, None);
    assert!(out.warnings[0].reason.contains("パスワード"));
}

#[test]
fn absurdly_wide_rows_are_refused_quickly() {
    let wide = format!("{}\n", vec!["x"; 200_000].join(","));
    let ps = problems(csv("wide.csv", &wide, &known()));
    assert_eq!((ps[0].row, ps[0].column.as_deref()), (Some(1), None));
    assert!(
        ps[0]
            .reason
            .contains("列が多すぎます（200000列、1024列まで）"),
        "{}",
        ps[0].reason
    );
}

#[test]
fn a_file_of_another_kind_is_named() {
    let text = "事業コード,KPIコード,寄与度\nJ-0001,K-001,0.5\n";
    let ps = problems(read_bytes(
        "x.csv",
        text.as_bytes(),
        None,
        Some(Kind::Observations),
        &known(),
    ));
    let last = ps.last().unwrap();
    assert_eq!(last.row, Some(1));
    assert!(
        last.reason
            .contains("見出しは「KPI寄与度」の表のものです（実績値として取り込もうとしています）"),
        "{ps:#?}"
    );
}
