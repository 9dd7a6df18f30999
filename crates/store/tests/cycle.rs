//! Storage of the yearly cycle on a real SQLite file and a real
//! PostgreSQL database: versions of evaluation sheets, stale saves refused,
//! audit rows for every change, a closed cycle read-only until reopened,
//! budget requests under the department ceiling, lineage.

mod common;

use citykpi_domain::FiscalYear;
use citykpi_domain::cycle::budget::{BudgetRequest, Ceiling, RequestContext, check_request};
use citykpi_domain::cycle::sheet::{EvaluationSheet, ProgramDirection, ReviewAction, ReviewState};
use citykpi_domain::cycle::stage::{CycleState, Stage, StageState};
use citykpi_domain::cycle::{CycleError, FieldError};
use citykpi_domain::money::FundingSources;
use citykpi_domain::program::IndicatorKind;
use citykpi_store::{Change, CycleStoreError, LineageRecord};
use common::{TestDb, city, fy};

macro_rules! on_both_backends {
    ($($body:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $body() {
                    let db = crate::common::TestDb::new(citykpi_store::Backend::Sqlite).await;
                    super::$body(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $body() {
                    let db = crate::common::TestDb::new(citykpi_store::Backend::Postgres).await;
                    super::$body(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

on_both_backends!(
    cycle_start_stage_changes_and_audit,
    closed_cycle_is_read_only_until_reopened,
    sheets_keep_every_version_and_refuse_stale_saves,
    budget_requests_ceiling_and_assessment,
    lineage_round_trips,
    clear_cycle_data_empties_the_cycle_tables,
    year_windows_read_only_those_years,
);

async fn seeded(db: &TestDb) {
    db.store.apply(&city(), "importer").await.unwrap();
}

/// The cycle reads indicators and money of a few years only: each window
/// returns exactly the rows of its years, in the order of the full read.
async fn year_windows_read_only_those_years(db: &TestDb) {
    seeded(db).await;
    let s = &db.store;
    let all_indicators = s.indicators().await.unwrap();
    let all_money = s.money().await.unwrap();
    assert_eq!(all_indicators.len(), 3);
    assert_eq!(all_money.len(), 2);
    for (from, to) in [(2024, 2024), (2025, 2026), (2020, 2030), (2010, 2020)] {
        let in_years = |y: FiscalYear| y >= fy(from) && y <= fy(to);
        let want: Vec<_> = all_indicators
            .iter()
            .filter(|i| in_years(i.fy))
            .cloned()
            .collect();
        assert_eq!(
            s.indicators_in(None, fy(from), fy(to)).await.unwrap(),
            want,
            "{from}–{to}"
        );
        let outcomes: Vec<_> = want
            .into_iter()
            .filter(|i| i.kind == IndicatorKind::Outcome)
            .collect();
        assert_eq!(
            s.indicators_in(Some(IndicatorKind::Outcome), fy(from), fy(to))
                .await
                .unwrap(),
            outcomes,
            "outcomes {from}–{to}"
        );
        let want: Vec<_> = all_money
            .iter()
            .filter(|m| in_years(m.fy))
            .cloned()
            .collect();
        assert_eq!(
            s.money_in(fy(from), fy(to)).await.unwrap(),
            want,
            "{from}–{to}"
        );
    }
    let y2024 = s.indicators_in(None, fy(2024), fy(2024)).await.unwrap();
    assert_eq!(
        y2024.iter().map(|i| i.code.as_str()).collect::<Vec<_>>(),
        ["A1", "O1"]
    );
    let outcomes = s
        .indicators_in(Some(IndicatorKind::Outcome), fy(2020), fy(2030))
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].actual, Some(180.0));
    let m2025 = s.money_in(fy(2025), fy(2025)).await.unwrap();
    assert_eq!(m2025.len(), 1);
    assert_eq!(m2025[0].program_code, "P0002");
    assert_eq!(m2025[0].budget_initial, 12_000_000);
}

async fn cycle_start_stage_changes_and_audit(db: &TestDb) {
    seeded(db).await;
    let s = &db.store;
    assert_eq!(s.cycle(fy(2024)).await.unwrap(), None);
    let c = s.start_cycle(fy(2024), "kikaku").await.unwrap();
    assert_eq!(c.state, CycleState::Open);
    assert!(matches!(
        s.start_cycle(fy(2024), "kikaku").await,
        Err(CycleStoreError::CycleExists { fy: 2024 })
    ));
    let loaded = s.cycle(fy(2024)).await.unwrap().unwrap();
    assert_eq!(loaded, c);
    assert_eq!(
        loaded
            .stage(Stage::Review)
            .unwrap()
            .deadline
            .unwrap()
            .to_string(),
        "2025-09-15"
    );

    // A stage with open work is refused and nothing is written.
    let err = s
        .update_cycle(fy(2024), "kikaku", "close_stage", |c| {
            c.close_stage(Stage::KpiActuals, 2, "kikaku", "t")
        })
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        CycleStoreError::Rule(CycleError::StageNotDone { outstanding: 2, .. })
    ));
    let after = s
        .update_cycle(fy(2024), "kikaku", "waive_stage", |c| {
            c.waive_stage(
                Stage::KpiActuals,
                "統計の公表待ち",
                "kikaku",
                "2025-07-01T00:00:00.000Z",
            )
        })
        .await
        .unwrap();
    let rec = after.stage(Stage::KpiActuals).unwrap();
    assert_eq!(rec.state, StageState::Waived);
    let reloaded = s.cycle(fy(2024)).await.unwrap().unwrap();
    assert_eq!(
        reloaded.stage(Stage::KpiActuals).unwrap().reason,
        "統計の公表待ち"
    );
    assert_eq!(reloaded.current_stage(), Some(Stage::SelfEvaluation));

    let audit = s.audit_entries(10, 0).await.unwrap();
    let rows: Vec<(&str, &str, &str)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.entity.as_str(), e.key.as_str()))
        .collect();
    assert_eq!(
        rows[..2],
        [("waive_stage", "cycle", "2024"), ("start", "cycle", "2024")]
    );
    assert_eq!(
        audit[0].after.as_ref().unwrap()["stages"][0]["state"],
        "waived"
    );
    assert_eq!(
        audit[0].before.as_ref().unwrap()["stages"][0]["state"],
        "open"
    );
    assert_eq!(s.cycles().await.unwrap().len(), 1);
    assert!(matches!(
        s.update_cycle(fy(2030), "x", "close", |c| c.close()).await,
        Err(CycleStoreError::NoCycle { fy: 2030 })
    ));
}

fn sheet(program: &str) -> EvaluationSheet {
    let mut ds = city();
    let p = ds
        .programs
        .iter()
        .find(|p| p.code == program)
        .unwrap()
        .clone();
    let money = ds
        .money
        .iter()
        .find(|m| m.program_code == program && m.fy == fy(2024))
        .cloned();
    let indicators = std::mem::take(&mut ds.indicators);
    EvaluationSheet::prefilled(&p, fy(2024), None, &indicators, money.as_ref())
}

async fn closed_cycle_is_read_only_until_reopened(db: &TestDb) {
    seeded(db).await;
    let s = &db.store;
    s.start_cycle(fy(2024), "kikaku").await.unwrap();
    s.update_cycle(fy(2024), "kikaku", "waive_all", |c| {
        for st in Stage::ALL {
            c.waive_stage(st, "試験", "kikaku", "t")?;
        }
        c.close()
    })
    .await
    .unwrap();
    let closed = |r: Result<_, CycleStoreError>| {
        matches!(
            r,
            Err(CycleStoreError::Rule(CycleError::CycleClosed { fy: 2024 }))
        )
    };
    assert!(closed(
        s.save_sheet(&sheet("P0001"), Some(0), "sato", "save")
            .await
            .map(|_| ())
    ));
    assert!(closed(
        s.update_cycle(fy(2024), "kikaku", "reopen_stage", |c| c.reopen_stage(
            Stage::Review,
            "k",
            "t"
        ))
        .await
        .map(|_| ())
    ));
    let ceiling = Ceiling {
        fy: fy(2026),
        department_code: "D02".into(),
        amount: 1,
    };
    assert!(closed(s.set_ceiling(&ceiling, "zaisei").await.map(|_| ())));
    assert!(
        s.sheet("P0001", fy(2024)).await.unwrap().is_none(),
        "nothing written"
    );

    let reopened = s
        .update_cycle(fy(2024), "kikaku", "reopen", |c| c.reopen())
        .await
        .unwrap();
    assert_eq!(reopened.state, CycleState::Open);
    let audit = s.audit_entries(1, 0).await.unwrap();
    assert_eq!(
        (audit[0].action.as_str(), audit[0].actor.as_str()),
        ("reopen", "kikaku")
    );
    assert_eq!(audit[0].before.as_ref().unwrap()["state"], "closed");
    let saved = s
        .save_sheet(&sheet("P0001"), Some(0), "sato", "save")
        .await
        .unwrap();
    assert_eq!(saved.version, 1);
}

async fn sheets_keep_every_version_and_refuse_stale_saves(db: &TestDb) {
    seeded(db).await;
    let s = &db.store;
    let mut draft = sheet("P0001");
    assert!(matches!(
        s.save_sheet(&draft, Some(0), "sato", "save").await,
        Err(CycleStoreError::NoCycle { fy: 2024 })
    ));
    s.start_cycle(fy(2024), "kikaku").await.unwrap();
    let v1 = s.save_sheet(&draft, Some(0), "sato", "save").await.unwrap();
    assert_eq!((v1.change, v1.version), (Change::Inserted, 1));
    // Saving the same content again writes no new version.
    let same = s.save_sheet(&draft, Some(1), "sato", "save").await.unwrap();
    assert_eq!((same.change, same.version), (Change::Unchanged, 1));

    draft.issues = "整備費の高騰".into();
    draft.scores.necessity = Some(5);
    let v2 = s.save_sheet(&draft, Some(1), "sato", "save").await.unwrap();
    assert_eq!((v2.change, v2.version), (Change::Updated, 2));

    // A second editor who loaded version 1 is refused and nothing is written.
    let mut stale = draft.clone();
    stale.issues = "古い画面からの保存".into();
    let err = s
        .save_sheet(&stale, Some(1), "tanaka", "save")
        .await
        .unwrap_err();
    match &err {
        CycleStoreError::Conflict {
            expected,
            found,
            key,
            ..
        } => {
            assert_eq!((*expected, *found, key.as_str()), (1, 2, "P0001/2024"));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(err.to_string().contains("他の人が先に更新しました"));

    draft.state = ReviewState::Draft.after(ReviewAction::Submit).unwrap();
    draft.direction = Some(ProgramDirection::Reduce);
    s.save_sheet(&draft, Some(2), "sato", "submit")
        .await
        .unwrap();

    let versions = s.sheet_versions("P0001", fy(2024)).await.unwrap();
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[0].sheet.issues, "");
    assert_eq!(versions[1].sheet.issues, "整備費の高騰");
    assert_eq!(versions[2].sheet.state, ReviewState::Submitted);
    assert_eq!(versions[2].saved_by, "sato");
    let current = s.sheet("P0001", fy(2024)).await.unwrap().unwrap();
    assert_eq!(current.version, 3);
    assert_eq!(current.sheet, draft);
    // Money survives the JSON round trip exactly.
    assert_eq!(current.sheet.money.settled, Some(1_287_654_321));
    assert_eq!(
        current.sheet.computed().full_cost,
        1_287_654_321 + 28_700_000
    );

    let other = sheet("P0002");
    s.save_sheet(&other, Some(0), "koho", "save").await.unwrap();
    let all = s.sheets(fy(2024)).await.unwrap();
    let codes: Vec<(&str, i64)> = all
        .iter()
        .map(|s| (s.sheet.program_code.as_str(), s.version))
        .collect();
    assert_eq!(codes, vec![("P0001", 3), ("P0002", 1)]);
    // The heads the cycle reads are those of the current versions.
    let heads = s.sheet_heads(fy(2024)).await.unwrap();
    let seen: Vec<(&str, i64, ReviewState, Option<ProgramDirection>, i64)> = heads
        .iter()
        .map(|h| {
            (
                h.head.program_code.as_str(),
                h.version,
                h.head.state,
                h.head.direction,
                h.head.full_cost(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "P0001",
                3,
                ReviewState::Submitted,
                Some(ProgramDirection::Reduce),
                1_287_654_321 + 28_700_000
            ),
            (
                "P0002",
                1,
                ReviewState::Draft,
                other.direction,
                other.computed().full_cost
            ),
        ]
    );
    let counts = s.sheet_state_counts(fy(2024)).await.unwrap();
    assert_eq!(counts[0], (ReviewState::Draft, 1));
    assert_eq!(counts[1], (ReviewState::Submitted, 1));

    let mut unknown = sheet("P0001");
    unknown.program_code = "P9999".into();
    assert!(matches!(
        s.save_sheet(&unknown, None, "sato", "save").await,
        Err(CycleStoreError::NotFound {
            what_en: "program",
            ..
        })
    ));
    let audit = s.audit_entries(20, 0).await.unwrap();
    let sheet_rows: Vec<(&str, &str)> = audit
        .iter()
        .filter(|e| e.entity == "evaluation_sheet")
        .map(|e| (e.action.as_str(), e.key.as_str()))
        .collect();
    assert_eq!(
        sheet_rows,
        vec![
            ("save", "P0002/2024"),
            ("submit", "P0001/2024"),
            ("save", "P0001/2024"),
            ("save", "P0001/2024"),
        ]
    );

    // A body damaged outside the application is refused by its key, by the
    // whole sheets' read and by the heads' read alike (SQLite: the file is
    // at hand to damage).
    if let Some(path) = &db.path {
        use sqlx::Connection;
        let mut raw = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        sqlx::query("UPDATE evaluation_sheets SET body = '{\"program_code\": ' WHERE program_code = 'P0002'")
            .execute(&mut raw)
            .await
            .unwrap();
        raw.close().await.unwrap();
        let errors = [
            s.sheets(fy(2024)).await.map(|_| ()).unwrap_err(),
            s.sheet_heads(fy(2024)).await.map(|_| ()).unwrap_err(),
        ];
        for err in errors {
            match err {
                CycleStoreError::Damaged { key, .. } => assert_eq!(key, "P0002/2024"),
                other => panic!("expected a damaged sheet, got {other:?}"),
            }
        }
    }
}

fn request(program: &str, requested: i64) -> BudgetRequest {
    BudgetRequest {
        program_code: program.into(),
        fy: fy(2026),
        requested,
        funding: FundingSources {
            national: requested / 2,
            ..FundingSources::default()
        },
        override_reason: String::new(),
        assessed: None,
        note: String::new(),
    }
    .with_general_funds()
}

/// The domain's request rule as the app applies it inside the store's transaction.
fn rule(
    req: &BudgetRequest,
    direction: Option<ProgramDirection>,
) -> impl FnOnce(citykpi_store::DepartmentBudget) -> Result<(), CycleError> + '_ {
    move |dept| {
        let errors: Vec<FieldError> = check_request(
            req,
            &RequestContext {
                direction,
                last_year_budget: 12_000_000,
                ceiling: dept.ceiling,
                department_other_requests: dept.other_requests,
            },
        );
        if errors.is_empty() {
            Ok(())
        } else {
            Err(CycleError::Invalid(errors))
        }
    }
}

async fn budget_requests_ceiling_and_assessment(db: &TestDb) {
    seeded(db).await;
    let s = &db.store;
    s.start_cycle(fy(2024), "kikaku").await.unwrap();
    // D01 holds S011 and S012 (P0002); D02 holds S021 (P0001).
    s.set_ceiling(
        &Ceiling {
            fy: fy(2026),
            department_code: "D01".into(),
            amount: 15_000_000,
        },
        "zaisei",
    )
    .await
    .unwrap();
    assert!(matches!(
        s.set_ceiling(
            &Ceiling {
                fy: fy(2026),
                department_code: "D99".into(),
                amount: 1,
            },
            "zaisei"
        )
        .await,
        Err(CycleStoreError::NotFound {
            what_en: "department",
            ..
        })
    ));
    assert_eq!(s.ceilings(fy(2026)).await.unwrap().len(), 1);

    let over = request("P0002", 15_000_001);
    let err = s
        .save_budget_request(
            &over,
            Some(0),
            "koho",
            rule(&over, Some(ProgramDirection::Continue)),
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("部局の要求上限（枠）15,000,000円を超えます"),
        "{text}"
    );
    assert!(s.budget_request("P0002", fy(2026)).await.unwrap().is_none());

    let ok = request("P0002", 14_000_000);
    let saved = s
        .save_budget_request(
            &ok,
            Some(0),
            "koho",
            rule(&ok, Some(ProgramDirection::Continue)),
        )
        .await
        .unwrap();
    assert_eq!(saved.version, 1);
    // 縮小 above last year's 12,000,000 without a reason is refused.
    let reduce = request("P0001", 13_000_000);
    let err = s
        .save_budget_request(
            &reduce,
            Some(0),
            "sato",
            rule(&reduce, Some(ProgramDirection::Reduce)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CycleStoreError::Rule(CycleError::Invalid(e)) if e[0].field == "requested")
    );
    let mut with_reason = reduce.clone();
    with_reason.override_reason = "国の制度改正で対象が拡大".into();
    s.save_budget_request(
        &with_reason,
        Some(0),
        "sato",
        rule(&with_reason, Some(ProgramDirection::Reduce)),
    )
    .await
    .unwrap();

    // Finance assesses; a stale version is refused.
    let assessed = s
        .assess_budget_request("P0002", fy(2026), Some(13_500_000), Some(1), "zaisei")
        .await
        .unwrap();
    assert_eq!(assessed.version, 2);
    assert!(matches!(
        s.assess_budget_request("P0002", fy(2026), Some(1), Some(1), "zaisei")
            .await,
        Err(CycleStoreError::Conflict {
            expected: 1,
            found: 2,
            ..
        })
    ));
    // The section's next save keeps finance's amount.
    let mut edited = ok.clone();
    edited.note = "委託先の見直し".into();
    s.save_budget_request(&edited, Some(2), "koho", rule(&edited, None))
        .await
        .unwrap();
    let stored = s.budget_request("P0002", fy(2026)).await.unwrap().unwrap();
    assert_eq!(stored.version, 3);
    assert_eq!(stored.request.assessed, Some(13_500_000));
    assert_eq!(stored.request.note, "委託先の見直し");
    assert_eq!(stored.request.funding.national, 7_000_000);
    assert_eq!(stored.request.funding.general, 7_000_000);

    let all = s.budget_requests(fy(2026)).await.unwrap();
    let rows: Vec<(&str, i64, Option<i64>)> = all
        .iter()
        .map(|r| {
            (
                r.request.program_code.as_str(),
                r.request.requested,
                r.request.assessed,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("P0001", 13_000_000, None),
            ("P0002", 14_000_000, Some(13_500_000))
        ]
    );
    let audit = s.audit_entries(10, 0).await.unwrap();
    let rows: Vec<(&str, &str, &str)> = audit
        .iter()
        .take(4)
        .map(|e| (e.action.as_str(), e.entity.as_str(), e.key.as_str()))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("update", "budget_request", "P0002/2026"),
            ("assess", "budget_request", "P0002/2026"),
            ("insert", "budget_request", "P0001/2026"),
            ("insert", "budget_request", "P0002/2026"),
        ]
    );
    assert!(matches!(
        s.assess_budget_request("P0009", fy(2026), Some(1), None, "zaisei")
            .await,
        Err(CycleStoreError::NotFound { .. })
    ));
}

async fn lineage_round_trips(db: &TestDb) {
    seeded(db).await;
    let s = &db.store;
    s.start_cycle(fy(2024), "kikaku").await.unwrap();
    let record = LineageRecord {
        id: 0,
        fy: fy(2024),
        kind: "merge".into(),
        from_codes: vec!["P0001".into(), "P0002".into()],
        to_codes: vec!["P0003".into()],
        note: "子育て広報を統合".into(),
        decided_by: String::new(),
        decided_at: String::new(),
    };
    let id = s
        .record_lineage(&record, Some(fy(2025)), "kikaku")
        .await
        .unwrap();
    // The merged programs end with FY2025 (P0002 already ended in 2027 → now 2025).
    for code in ["P0001", "P0002"] {
        let p = s.program(code).await.unwrap().unwrap();
        assert_eq!(p.end_fy, Some(fy(2025)), "{code}");
    }
    let audit = s.audit_entries(3, 0).await.unwrap();
    let rows: Vec<(&str, &str, &str)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.entity.as_str(), e.key.as_str()))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("merge", "program_lineage", id.to_string().as_str()),
            ("end", "program", "P0002"),
            ("end", "program", "P0001"),
        ]
    );
    let all = s.lineage().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id, id);
    assert_eq!(all[0].from_codes, vec!["P0001", "P0002"]);
    assert_eq!(all[0].decided_by, "kikaku");
    let mut bad = record.clone();
    bad.from_codes = vec!["P0404".into()];
    assert!(matches!(
        s.record_lineage(&bad, Some(fy(2025)), "kikaku").await,
        Err(CycleStoreError::NotFound { .. })
    ));
    assert_eq!(s.lineage().await.unwrap().len(), 1);
}

async fn clear_cycle_data_empties_the_cycle_tables(db: &TestDb) {
    seeded(db).await;
    let s = &db.store;
    s.start_cycle(fy(2024), "kikaku").await.unwrap();
    s.save_sheet(&sheet("P0001"), Some(0), "sato", "save")
        .await
        .unwrap();
    s.record_notice_mail(
        "kikaku",
        fy(2024),
        &["self_evaluation"],
        "sato",
        "sato@example.jp",
        serde_json::json!({}),
    )
    .await
    .unwrap();
    assert_eq!(s.notice_mails(fy(2024)).await.unwrap().len(), 1);
    s.clear_cycle_data().await.unwrap();
    // A rebuilt demo starts with no mail marked as already sent.
    assert!(s.notice_mails(fy(2024)).await.unwrap().is_empty());
    s.clear_all().await.unwrap();
    assert!(s.cycles().await.unwrap().is_empty());
    assert!(s.sheets(fy(2024)).await.unwrap().is_empty());
    assert!(s.is_empty().await.unwrap());
}
