//! The store's integration tests. Each body is written once and run on a
//! real SQLite file and on a real PostgreSQL database (see `common`).

mod common;

use citykpi_domain::Dataset;
use citykpi_domain::kpi::SdgTag;
use citykpi_domain::observation::{ObsStatus, ObsValue, Observation, Period};
use citykpi_store::{Backend, Change, Counts, Entity, ObservationFilter, Store, StoreError};
use common::{TestDb, city, fy, many_observations, sorted};

/// Generates `mod sqlite` and `mod postgres`, each with one `#[tokio::test]`
/// per body, so that a failure names its backend.
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
    opens_empty_and_migrated,
    apply_then_load_all_round_trips,
    loaders_by_code_and_filters,
    reapply_updates_only_edited_rows,
    rollback_when_last_observation_names_unknown_kpi,
    rollback_when_database_refuses_a_row,
    missing_reference_is_named,
    bulk_observations_all_present,
    versioned_program_update_refuses_second_save,
    versioned_kpi_update,
    single_writes_write_audit_rows,
    password_hash_kept_across_apply,
    clear_all_empties_everything,
    reopen_sees_committed_data,
    settings_round_trip,
    single_observation_upsert_on_empty_table,
    key_repeated_in_one_dataset_keeps_last,
    japanese_search_finds_substrings_and_follows_edits,
    evidence_is_kept_per_link_and_refused_when_unsound,
);

async fn opens_empty_and_migrated(db: &TestDb) {
    let s = &db.store;
    assert!(s.is_empty().await.unwrap());
    assert_eq!(s.load_all().await.unwrap(), Dataset::default());
    assert!(s.audit_entries(10, 0).await.unwrap().is_empty());
    assert_eq!(s.known_keys().await.unwrap(), Default::default());
    // Opening again runs the migrations again: nothing to do, no error.
    let again = db.reopen().await;
    assert!(again.is_empty().await.unwrap());
    again.close().await;
}

async fn apply_then_load_all_round_trips(db: &TestDb) {
    let s = &db.store;
    let ds = city();
    let summary = s.apply(&ds, "tester").await.unwrap();
    let all_new = |n: u64| Counts {
        inserted: n,
        updated: 0,
        unchanged: 0,
    };
    assert_eq!(summary.departments, all_new(2));
    assert_eq!(summary.sections, all_new(3));
    assert_eq!(summary.users, all_new(3));
    assert_eq!(summary.plans, all_new(1));
    assert_eq!(summary.plan_nodes, all_new(5));
    assert_eq!(summary.kpis, all_new(4));
    assert_eq!(summary.observations, all_new(8));
    assert_eq!(summary.programs, all_new(2));
    assert_eq!(summary.links, all_new(3));
    assert_eq!(summary.indicators, all_new(3));
    assert_eq!(summary.money, all_new(2));
    assert_eq!(summary.inserted(), 36);

    let loaded = s.load_all().await.unwrap();
    let want = sorted(ds.clone());
    // Per kind first, so that a failure points at the kind.
    assert_eq!(loaded.departments, want.departments);
    assert_eq!(loaded.sections, want.sections);
    assert_eq!(loaded.users, want.users);
    assert_eq!(loaded.plans, want.plans);
    assert_eq!(loaded.plan_nodes, want.plan_nodes);
    assert_eq!(loaded.kpis, want.kpis);
    assert_eq!(loaded.observations, want.observations);
    assert_eq!(loaded.programs, want.programs);
    assert_eq!(loaded.links, want.links);
    assert_eq!(loaded.indicators, want.indicators);
    assert_eq!(loaded.money, want.money);
    assert_eq!(loaded, want);
    assert!(!s.is_empty().await.unwrap());

    // Missing and secret are kept as such, never as zero.
    let k1 = s
        .observations(&ObservationFilter::all().kpis(["K001"]))
        .await
        .unwrap();
    assert_eq!(
        k1.iter().find(|o| o.area_code == "271021").unwrap().value,
        ObsValue::Secret
    );
    let k2 = s
        .observations(&ObservationFilter::all().kpis(["K002"]))
        .await
        .unwrap();
    assert_eq!(k2[1].value, ObsValue::Missing);
    assert_eq!(k2[0].note, "タブ\tと改行\nと\\を含む");

    // Applying the same dataset again changes nothing.
    let again = s.apply(&ds, "tester").await.unwrap();
    assert_eq!(again.inserted() + again.updated(), 0);
    assert_eq!(again.unchanged(), 36);
    assert_eq!(s.load_all().await.unwrap(), want);

    let keys = s.known_keys().await.unwrap();
    assert_eq!(
        keys.kpis.iter().cloned().collect::<Vec<_>>(),
        ["K001", "K002", "K003", "K004"]
    );
    assert_eq!(keys.plan_nodes.len(), 5);
    assert!(keys.users.contains("sato"));
}

async fn loaders_by_code_and_filters(db: &TestDb) {
    let s = &db.store;
    let ds = city();
    s.apply(&ds, "tester").await.unwrap();

    assert_eq!(s.kpi("K003").await.unwrap().as_ref(), Some(&ds.kpis[2]));
    assert_eq!(s.kpi("K999").await.unwrap(), None);
    let (k2, version) = s.kpi_with_version("K002").await.unwrap().unwrap();
    assert_eq!((k2, version), (ds.kpis[1].clone(), 1));
    assert_eq!(
        s.program("P0002").await.unwrap().as_ref(),
        Some(&ds.programs[1])
    );
    assert_eq!(s.program("P9999").await.unwrap(), None);
    assert_eq!(s.user("sato").await.unwrap().as_ref(), Some(&ds.users[1]));
    assert_eq!(s.user("nobody").await.unwrap(), None);

    let codes = |obs: &[Observation]| -> Vec<String> {
        obs.iter()
            .map(|o| format!("{}/{}/{}", o.kpi_code, o.period, o.area_code))
            .collect()
    };
    let all = s.observations(&ObservationFilter::default()).await.unwrap();
    assert_eq!(all.len(), 8);
    // 2025-04 belongs to FY2025 and 2026-03 too; K003's quarters to FY2024.
    let fy2025 = s
        .observations(&ObservationFilter::all().years(Some(fy(2025)), Some(fy(2025))))
        .await
        .unwrap();
    assert_eq!(
        codes(&fy2025),
        [
            "K001/2025/271004",
            "K001/2025/271021",
            "K002/2025-04/271004",
            "K002/2026-03/271004"
        ]
    );
    let from_2025 = s
        .observations(&ObservationFilter::all().years(Some(fy(2025)), None))
        .await
        .unwrap();
    assert_eq!(from_2025.len(), 4);
    let to_2024 = s
        .observations(&ObservationFilter::all().years(None, Some(fy(2024))))
        .await
        .unwrap();
    assert_eq!(
        codes(&to_2024),
        [
            "K001/2024/271004",
            "K003/2024Q1/271004",
            "K003/2024Q4/271004",
            "K004/2024/271004"
        ]
    );
    let area = s
        .observations(&ObservationFilter::all().area("271021"))
        .await
        .unwrap();
    assert_eq!(codes(&area), ["K001/2025/271021"]);
    let combined = s
        .observations(
            &ObservationFilter::all()
                .kpis(["K001", "K004"])
                .years(Some(fy(2024)), Some(fy(2024)))
                .area("271004"),
        )
        .await
        .unwrap();
    assert_eq!(codes(&combined), ["K001/2024/271004", "K004/2024/271004"]);
    let none = s
        .observations(&ObservationFilter::all().kpis(["K404"]))
        .await
        .unwrap();
    assert!(none.is_empty());
}

async fn reapply_updates_only_edited_rows(db: &TestDb) {
    let s = &db.store;
    let ds = city();
    s.apply(&ds, "tester").await.unwrap();
    let (_, p1_version) = s.program_with_version("P0001").await.unwrap().unwrap();
    let (_, p2_version) = s.program_with_version("P0002").await.unwrap().unwrap();

    let mut edited = ds.clone();
    edited.departments[1].name_ja = "こども未来局".into();
    edited.kpis[0].targets = vec![citykpi_domain::kpi::YearValue {
        fy: fy(2027),
        value: 30.0,
    }];
    edited.kpis[0].sdgs = vec![SdgTag {
        goal: 3,
        target: None,
    }];
    edited.kpis[0].owner_sections = vec!["S011".into(), "S021".into()];
    edited.observations[0].value = ObsValue::Missing;
    edited.observations[4].value = ObsValue::Value(0.0);
    edited.observations[4].status = ObsStatus::Provisional;
    edited.programs[1].name_ja = "LINE・SNS広報事業".into();
    edited.links[0].weight = 0.65;
    edited.money[0].settled = None;
    edited.indicators[1].actual = Some(6.0);
    // A brand-new observation in the same apply.
    let mut extra = edited.observations[0].clone();
    extra.area_code = "271047".into();
    extra.value = ObsValue::Value(3.0);
    edited.observations.push(extra);

    let summary = s.apply(&edited, "tester").await.unwrap();
    assert_eq!(
        summary.departments,
        Counts {
            inserted: 0,
            updated: 1,
            unchanged: 1
        }
    );
    assert_eq!(
        summary.sections,
        Counts {
            inserted: 0,
            updated: 0,
            unchanged: 3
        }
    );
    assert_eq!(
        summary.kpis,
        Counts {
            inserted: 0,
            updated: 1,
            unchanged: 3
        }
    );
    assert_eq!(
        summary.observations,
        Counts {
            inserted: 1,
            updated: 2,
            unchanged: 6
        }
    );
    assert_eq!(
        summary.programs,
        Counts {
            inserted: 0,
            updated: 1,
            unchanged: 1
        }
    );
    assert_eq!(
        summary.links,
        Counts {
            inserted: 0,
            updated: 1,
            unchanged: 2
        }
    );
    assert_eq!(
        summary.indicators,
        Counts {
            inserted: 0,
            updated: 1,
            unchanged: 2
        }
    );
    assert_eq!(
        summary.money,
        Counts {
            inserted: 0,
            updated: 1,
            unchanged: 1
        }
    );
    assert_eq!(s.load_all().await.unwrap(), sorted(edited.clone()));

    // The KPI's children were replaced, not merged.
    let k1 = s.kpi("K001").await.unwrap().unwrap();
    assert_eq!(k1.targets.len(), 1);
    assert_eq!(
        k1.sdgs,
        vec![SdgTag {
            goal: 3,
            target: None
        }]
    );
    assert_eq!(k1.owner_sections, ["S011", "S021"]);
    // Only the edited program got a new version.
    assert_eq!(
        s.program_with_version("P0001").await.unwrap().unwrap().1,
        p1_version
    );
    assert_eq!(
        s.program_with_version("P0002").await.unwrap().unwrap().1,
        p2_version + 1
    );

    // A partial dataset (only one KPI's observations) leaves everything else alone.
    let partial = Dataset {
        observations: vec![Observation {
            value: ObsValue::Value(42.0),
            ..edited.observations[1].clone()
        }],
        ..Dataset::default()
    };
    let summary = s.apply(&partial, "tester").await.unwrap();
    assert_eq!(
        summary.observations,
        Counts {
            inserted: 0,
            updated: 1,
            unchanged: 0
        }
    );
    let mut want = edited.clone();
    want.observations[1].value = ObsValue::Value(42.0);
    assert_eq!(s.load_all().await.unwrap(), sorted(want));
}

async fn rollback_when_last_observation_names_unknown_kpi(db: &TestDb) {
    let s = &db.store;
    let mut ds = city();
    let mut bad = ds.observations[0].clone();
    bad.kpi_code = "K999".into();
    ds.observations.push(bad);
    let err = s.apply(&ds, "tester").await.unwrap_err();
    match &err {
        StoreError::MissingReference {
            entity,
            key,
            target,
            target_key,
        } => {
            assert_eq!((*entity, *target), (Entity::Observation, Entity::Kpi));
            assert_eq!(key, "K999/2024/271004");
            assert_eq!(target_key, "K999");
        }
        other => panic!("expected MissingReference, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.starts_with("実績値「K999/2024/271004」が参照するKPI「K999」がありません"),
        "{message}"
    );
    // Departments … money were written before the observations; all rolled back.
    assert!(s.is_empty().await.unwrap());
    assert_eq!(s.load_all().await.unwrap(), Dataset::default());
    assert!(s.audit_entries(10, 0).await.unwrap().is_empty());

    // The same dataset without the bad row goes in completely.
    ds.observations.pop();
    s.apply(&ds, "tester").await.unwrap();
    assert_eq!(s.load_all().await.unwrap(), sorted(ds));
}

async fn rollback_when_database_refuses_a_row(db: &TestDb) {
    let s = &db.store;
    let ds = city();
    s.apply(&ds, "first").await.unwrap();
    let before = s.load_all().await.unwrap();

    // Edits everywhere, then a KPI that only the database's CHECK refuses (SDG goal 18).
    let mut edited = ds.clone();
    edited.departments[0].name_ja = "市長室".into();
    edited.programs[0].name_ja = "保育所等整備事業".into();
    edited.kpis[3].sdgs.push(SdgTag {
        goal: 18,
        target: None,
    });
    let err = s.apply(&edited, "second").await.unwrap_err();
    assert!(
        matches!(err, StoreError::Write { entity: Entity::Kpi, ref key, .. } if key == "K004"),
        "{err:?}"
    );
    assert_eq!(s.load_all().await.unwrap(), before);
    assert_eq!(s.audit_entries(10, 0).await.unwrap().len(), 1);
}

async fn missing_reference_is_named(db: &TestDb) {
    let s = &db.store;
    let mut ds = city();
    ds.money[1].program_code = "P0404".into();
    let err = s.apply(&ds, "tester").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::MissingReference { entity: Entity::Money, target: Entity::Program, target_key, .. } if target_key == "P0404"),
        "{err:?}"
    );
    let mut ds = city();
    ds.kpis[1].nodes[0].node_code = "M9-9".into();
    let err = s.apply(&ds, "tester").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::MissingReference { entity: Entity::Kpi, target: Entity::PlanNode, key, .. } if key == "K002"),
        "{err:?}"
    );
    let mut ds = city();
    ds.observations[2].value = ObsValue::Value(f64::NAN);
    let err = s.apply(&ds, "tester").await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::InvalidData {
                entity: Entity::Observation,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(s.is_empty().await.unwrap());

    // Codes defined earlier in the database count as known.
    s.apply(
        &Dataset {
            departments: city().departments,
            ..Dataset::default()
        },
        "t",
    )
    .await
    .unwrap();
    s.apply(
        &Dataset {
            sections: city().sections,
            ..Dataset::default()
        },
        "t",
    )
    .await
    .unwrap();
    assert_eq!(s.sections().await.unwrap(), sorted(city()).sections);
}

async fn bulk_observations_all_present(db: &TestDb) {
    let s = &db.store;
    let mut ds = city();
    ds.observations = many_observations(50_000, 7);
    let summary = s.apply(&ds, "bulk").await.unwrap();
    assert_eq!(
        summary.observations,
        Counts {
            inserted: 50_000,
            updated: 0,
            unchanged: 0
        }
    );
    let loaded = s.observations(&ObservationFilter::all()).await.unwrap();
    assert_eq!(loaded.len(), 50_000);
    assert_eq!(loaded, sorted(ds.clone()).observations);
    let missing = loaded
        .iter()
        .filter(|o| o.value == ObsValue::Missing)
        .count();
    let secret = loaded
        .iter()
        .filter(|o| o.value == ObsValue::Secret)
        .count();
    assert_eq!(missing, 5_000);
    assert!(secret > 2_000, "{secret}");

    // Re-apply: a tenth changed, a duplicate key in the input (the last wins), the rest unchanged.
    let mut again = ds.observations.clone();
    for (i, o) in again.iter_mut().enumerate() {
        if i % 10 == 0 {
            o.value = ObsValue::Value(i as f64 + 0.5);
        }
    }
    let mut dup = again[1].clone();
    dup.note = "重複：後勝ち".into();
    again.push(dup.clone());
    let partial = Dataset {
        observations: again.clone(),
        ..Dataset::default()
    };
    let summary = s.apply(&partial, "bulk").await.unwrap();
    assert_eq!(
        summary.observations,
        Counts {
            inserted: 0,
            updated: 5_001,
            unchanged: 44_999
        }
    );
    again.remove(1);
    let loaded = s.observations(&ObservationFilter::all()).await.unwrap();
    assert_eq!(
        loaded,
        sorted(Dataset {
            observations: again.clone(),
            ..Dataset::default()
        })
        .observations
    );
    assert!(loaded.contains(&dup));

    // A large re-apply with few differences (PostgreSQL writes only those) plus new rows.
    let mut third = again.clone();
    for o in third.iter_mut().step_by(1_000) {
        o.status = ObsStatus::Provisional;
        o.note = "再集計".into();
    }
    // Indexes past 50,000 fall in a month no earlier row has: all new keys.
    third.extend(many_observations(50_120, 7).split_off(50_000));
    let summary = s
        .apply(
            &Dataset {
                observations: third.clone(),
                ..Dataset::default()
            },
            "bulk",
        )
        .await
        .unwrap();
    assert_eq!(
        summary.observations,
        Counts {
            inserted: 120,
            updated: 50,
            unchanged: 49_950
        }
    );
    let loaded = s.observations(&ObservationFilter::all()).await.unwrap();
    assert_eq!(
        loaded,
        sorted(Dataset {
            observations: third,
            ..Dataset::default()
        })
        .observations
    );
}

async fn versioned_program_update_refuses_second_save(db: &TestDb) {
    let s = &db.store;
    s.apply(&city(), "tester").await.unwrap();
    let other = db.reopen().await;

    // Two people open the same program.
    let (mut mine, v_mine) = s.program_with_version("P0001").await.unwrap().unwrap();
    let (mut theirs, v_theirs) = other.program_with_version("P0001").await.unwrap().unwrap();
    assert_eq!(v_mine, v_theirs);

    theirs.purpose = "待機児童ゼロ".into();
    let saved = other
        .upsert_program_versioned(&theirs, Some(v_theirs), "sato")
        .await
        .unwrap();
    assert_eq!(saved.change, Change::Updated);
    assert_eq!(saved.version, v_theirs + 1);

    mine.means = "補助金の増額".into();
    let err = s
        .upsert_program_versioned(&mine, Some(v_mine), "tanaka")
        .await
        .unwrap_err();
    match &err {
        StoreError::Conflict {
            entity,
            key,
            expected,
            found,
        } => {
            assert_eq!(
                (*entity, key.as_str(), *expected, *found),
                (Entity::Program, "P0001", v_mine, v_mine + 1)
            );
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert!(err.to_string().contains("他の人が先に更新しました"));
    assert_eq!(s.program("P0001").await.unwrap().unwrap(), theirs);

    // After reloading, the second person can save.
    let (mut reloaded, v) = s.program_with_version("P0001").await.unwrap().unwrap();
    reloaded.means = "補助金の増額".into();
    assert_eq!(
        s.upsert_program_versioned(&reloaded, Some(v), "tanaka")
            .await
            .unwrap()
            .version,
        v + 1
    );

    // Version 0 means "new": refused when the code exists, accepted when it does not.
    let err = s
        .upsert_program_versioned(&reloaded, Some(0), "tanaka")
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { expected: 0, .. }),
        "{err:?}"
    );
    let mut fresh = reloaded.clone();
    fresh.code = "P0003".into();
    let saved = s
        .upsert_program_versioned(&fresh, Some(0), "tanaka")
        .await
        .unwrap();
    assert_eq!((saved.change, saved.version), (Change::Inserted, 1));
    // Saving an identical program writes nothing and keeps the version.
    let saved = s.upsert_program(&fresh, "tanaka").await.unwrap();
    assert_eq!((saved.change, saved.version), (Change::Unchanged, 1));
    // A program of an unknown section is refused by name.
    let mut orphan = fresh.clone();
    orphan.code = "P0004".into();
    orphan.section_code = "S999".into();
    let err = s.upsert_program(&orphan, "tanaka").await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::MissingReference {
                target: Entity::Section,
                ..
            }
        ),
        "{err:?}"
    );

    // Concurrent saves from the same starting version: exactly one wins.
    let (base, v) = s.program_with_version("P0002").await.unwrap().unwrap();
    let mut a = base.clone();
    a.intent = "A案".into();
    let mut b = base.clone();
    b.intent = "B案".into();
    let (ra, rb) = tokio::join!(
        s.upsert_program_versioned(&a, Some(v), "a"),
        other.upsert_program_versioned(&b, Some(v), "b")
    );
    assert_eq!(ra.is_ok() as u8 + rb.is_ok() as u8, 1, "{ra:?} {rb:?}");
    let winner = if ra.is_ok() { a } else { b };
    assert_eq!(
        s.program_with_version("P0002").await.unwrap().unwrap(),
        (winner, v + 1)
    );
    other.close().await;
}

async fn versioned_kpi_update(db: &TestDb) {
    let s = &db.store;
    s.apply(&city(), "tester").await.unwrap();
    let (mut kpi, v) = s.kpi_with_version("K002").await.unwrap().unwrap();
    assert_eq!(v, 1);
    kpi.targets.push(citykpi_domain::kpi::YearValue {
        fy: fy(2026),
        value: 5000.0,
    });
    let saved = s.upsert_kpi_versioned(&kpi, Some(v), "sato").await.unwrap();
    assert_eq!((saved.change, saved.version), (Change::Updated, 2));
    assert_eq!(
        s.kpi_with_version("K002").await.unwrap().unwrap(),
        (kpi.clone(), 2)
    );
    let err = s
        .upsert_kpi_versioned(&kpi, Some(1), "tanaka")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                entity: Entity::Kpi,
                expected: 1,
                found: 2,
                ..
            }
        ),
        "{err:?}"
    );
    let mut new = kpi.clone();
    new.code = "K005".into();
    let saved = s.upsert_kpi_versioned(&new, Some(0), "sato").await.unwrap();
    assert_eq!((saved.change, saved.version), (Change::Inserted, 1));
    assert_eq!(s.kpi("K005").await.unwrap(), Some(new));
    // A KPI re-applied with changes gets a new version too.
    let mut ds = city();
    ds.kpis[0].unit = "名".into();
    s.apply(&ds, "tester").await.unwrap();
    assert_eq!(s.kpi_with_version("K001").await.unwrap().unwrap().1, 2);
}

async fn single_writes_write_audit_rows(db: &TestDb) {
    let s = &db.store;
    let ds = city();
    s.apply(&ds, "importer").await.unwrap();
    let entries = s.audit_entries(10, 0).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (
            entries[0].actor.as_str(),
            entries[0].action.as_str(),
            entries[0].entity.as_str()
        ),
        ("importer", "apply", "dataset")
    );
    let after = entries[0].after.as_ref().unwrap();
    assert_eq!(after["observations"]["inserted"], 8);
    assert_eq!(after["kpis"]["inserted"], 4);
    assert!(
        entries[0].at.ends_with('Z') && entries[0].at.len() == 24,
        "{}",
        entries[0].at
    );

    // An observation: insert, then update, then an identical save (no row).
    let mut obs = ds.observations[0].clone();
    obs.period = Period::Year(fy(2026));
    obs.value = ObsValue::Value(80.0);
    assert_eq!(
        s.upsert_observation(&obs, "sato").await.unwrap(),
        Change::Inserted
    );
    let mut changed = obs.clone();
    changed.value = ObsValue::Secret;
    changed.status = ObsStatus::Provisional;
    assert_eq!(
        s.upsert_observation(&changed, "sato").await.unwrap(),
        Change::Updated
    );
    assert_eq!(
        s.upsert_observation(&changed, "sato").await.unwrap(),
        Change::Unchanged
    );
    let stored = s
        .observations(
            &ObservationFilter::all()
                .kpis(["K001"])
                .years(Some(fy(2026)), None),
        )
        .await
        .unwrap();
    assert_eq!(stored, vec![changed.clone()]);
    let mut unknown = obs.clone();
    unknown.kpi_code = "K404".into();
    assert!(matches!(
        s.upsert_observation(&unknown, "sato").await,
        Err(StoreError::MissingReference { .. })
    ));

    // Money.
    let mut money = ds.money[1].clone();
    money.settled = Some(11_500_000);
    assert_eq!(
        s.upsert_money(&money, "finance").await.unwrap(),
        Change::Updated
    );
    assert_eq!(
        s.money()
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.program_code == "P0002")
            .unwrap(),
        money
    );

    // A program.
    let mut program = ds.programs[0].clone();
    program.purpose = "保育の受け皿を増やす".into();
    s.upsert_program(&program, "sato").await.unwrap();

    let entries = s.audit_entries(10, 0).await.unwrap();
    let summary: Vec<(&str, &str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e.actor.as_str(),
                e.action.as_str(),
                e.entity.as_str(),
                e.key.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("sato", "update", "program", "P0001"),
            ("finance", "update", "money", "P0002/2025"),
            ("sato", "update", "observation", "K001/2026/271004"),
            ("sato", "insert", "observation", "K001/2026/271004"),
            ("importer", "apply", "dataset", ""),
        ]
    );
    // Before/after are the records as JSON.
    assert_eq!(entries[0].before.as_ref().unwrap()["purpose"], "目的");
    assert_eq!(
        entries[0].after.as_ref().unwrap()["purpose"],
        "保育の受け皿を増やす"
    );
    assert_eq!(
        entries[1].before.as_ref().unwrap()["settled"],
        serde_json::Value::Null
    );
    assert_eq!(entries[1].after.as_ref().unwrap()["settled"], 11_500_000);
    assert_eq!(entries[2].before.as_ref().unwrap()["value"]["value"], 80.0);
    assert_eq!(
        entries[2].after.as_ref().unwrap()["value"]["kind"],
        "secret"
    );
    assert!(entries[3].before.is_none());
    assert!(entries.windows(2).all(|w| w[0].id > w[1].id));
    // Paging.
    let page = s.audit_entries(2, 1).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.id).collect::<Vec<_>>(),
        [entries[1].id, entries[2].id]
    );

    let id = s
        .record_audit(&citykpi_store::AuditRecord {
            actor: "admin",
            action: "export",
            entity: "dataset",
            key: "kpis",
            before: None,
            after: Some(serde_json::json!({"rows": 4})),
        })
        .await
        .unwrap();
    let newest = &s.audit_entries(1, 0).await.unwrap()[0];
    assert_eq!(
        (newest.id, newest.action.as_str(), newest.after.clone()),
        (id, "export", Some(serde_json::json!({"rows": 4})))
    );
}

async fn password_hash_kept_across_apply(db: &TestDb) {
    let s = &db.store;
    let ds = city();
    s.apply(&ds, "tester").await.unwrap();
    let admin_hash = ds.users[0].password_hash.clone();
    assert_eq!(s.user_password_hash("admin").await.unwrap(), admin_hash);
    assert_eq!(s.user_password_hash("sato").await.unwrap(), None);
    assert!(matches!(
        s.user_password_hash("ghost").await,
        Err(StoreError::NotFound {
            entity: Entity::User,
            ..
        })
    ));

    let phc = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA";
    s.set_password_hash("sato", phc).await.unwrap();
    assert!(matches!(
        s.set_password_hash("ghost", phc).await,
        Err(StoreError::NotFound { .. })
    ));

    // An export (no hashes) re-imported with an edit keeps both hashes.
    let mut exported = s.load_all().await.unwrap();
    for u in &mut exported.users {
        u.password_hash = None;
    }
    exported.users[1].display_name = "佐藤 花子（保育企画課）".into();
    let summary = s.apply(&exported, "tester").await.unwrap();
    assert_eq!(
        summary.users,
        Counts {
            inserted: 0,
            updated: 1,
            unchanged: 2
        }
    );
    assert_eq!(s.user_password_hash("admin").await.unwrap(), admin_hash);
    assert_eq!(
        s.user_password_hash("sato").await.unwrap().as_deref(),
        Some(phc)
    );
    assert_eq!(
        s.user("sato").await.unwrap().unwrap().display_name,
        "佐藤 花子（保育企画課）"
    );
    // A dataset that does carry a hash replaces it.
    let mut with_hash = ds.clone();
    with_hash.users[0].password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$eA$eQ".into());
    s.apply(&with_hash, "tester").await.unwrap();
    assert_eq!(
        s.user_password_hash("admin").await.unwrap(),
        with_hash.users[0].password_hash
    );
}

async fn clear_all_empties_everything(db: &TestDb) {
    let s = &db.store;
    let mut ds = city();
    ds.observations.extend(many_observations(3_000, 1));
    s.apply(&ds, "demo").await.unwrap();
    assert!(!s.is_empty().await.unwrap());
    s.clear_all().await.unwrap();
    assert!(s.is_empty().await.unwrap());
    assert_eq!(s.load_all().await.unwrap(), Dataset::default());
    assert!(s.audit_entries(5, 0).await.unwrap().is_empty());
    // And it can be rebuilt.
    let summary = s.apply(&ds, "demo").await.unwrap();
    assert_eq!(summary.observations.inserted, ds.observations.len() as u64);
    assert_eq!(s.load_all().await.unwrap(), sorted(ds));
}

async fn reopen_sees_committed_data(db: &TestDb) {
    let s = &db.store;
    s.apply(&city(), "tester").await.unwrap();
    let other: Store = db.reopen().await;
    assert_eq!(other.backend(), db.backend());
    assert_eq!(other.load_all().await.unwrap(), sorted(city()));
    other.close().await;
    if db.backend() == Backend::Sqlite {
        // A `sqlite:` target in a directory that does not exist yet is created.
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("var").join("citykpi").join("city.db");
        let fresh = Store::open(&format!("sqlite:{}", nested.display()))
            .await
            .unwrap();
        assert_eq!(fresh.backend(), Backend::Sqlite);
        assert!(fresh.is_empty().await.unwrap());
        fresh.close().await;
        assert!(nested.exists());
        // The SQLite database is one file in WAL mode.
        let path = db.path.as_ref().unwrap();
        assert!(path.exists());
        let wal = path.with_extension("db-wal");
        assert!(wal.exists(), "WAL file next to the database");
    }
}

async fn settings_round_trip(db: &TestDb) {
    let s = &db.store;
    assert_eq!(s.get_setting("city_code").await.unwrap(), None);
    s.set_setting("city_code", "271004").await.unwrap();
    s.set_setting("city_name", "みなと市").await.unwrap();
    s.set_setting("city_code", "141003").await.unwrap();
    assert_eq!(
        s.get_setting("city_code").await.unwrap().as_deref(),
        Some("141003")
    );
    assert_eq!(
        s.get_setting("city_name").await.unwrap().as_deref(),
        Some("みなと市")
    );
}

/// The first write into an empty observations table takes the plain-INSERT
/// path on SQLite; a single upsert must still update on the second call.
async fn single_observation_upsert_on_empty_table(db: &TestDb) {
    let s = &db.store;
    let mut ds = city();
    let first = ds.observations.remove(0);
    ds.observations.clear();
    s.apply(&ds, "tester").await.unwrap();
    assert_eq!(
        s.upsert_observation(&first, "sato").await.unwrap(),
        Change::Inserted
    );
    let mut again = first.clone();
    again.value = ObsValue::Value(119.5);
    assert_eq!(
        s.upsert_observation(&again, "sato").await.unwrap(),
        Change::Updated
    );
    // A dataset repeating a key inside itself: the later row wins, on an empty table too.
    s.clear_all().await.unwrap();
    let mut ds = city();
    let mut dup = ds.observations[3].clone();
    dup.value = ObsValue::Secret;
    ds.observations.push(dup.clone());
    let summary = s.apply(&ds, "tester").await.unwrap();
    assert_eq!(
        summary.observations,
        Counts {
            inserted: 8,
            updated: 0,
            unchanged: 0
        }
    );
    let k2 = s
        .observations(&ObservationFilter::all().kpis(["K002"]))
        .await
        .unwrap();
    assert_eq!(k2[0], dup);
}

/// A key given twice in one dataset: the later record wins, for every kind.
async fn key_repeated_in_one_dataset_keeps_last(db: &TestDb) {
    let s = &db.store;
    let mut ds = city();
    let mut program = ds.programs[0].clone();
    program.purpose = "二度目".into();
    ds.programs.push(program);
    let mut link = ds.links[0].clone();
    link.weight = 0.3;
    ds.links.push(link);
    let mut indicator = ds.indicators[0].clone();
    indicator.actual = Some(5.0);
    ds.indicators.push(indicator);
    let mut money = ds.money[0].clone();
    money.settled = Some(1);
    ds.money.push(money);
    let mut kpi = ds.kpis[0].clone();
    kpi.unit = "名".into();
    ds.kpis.push(kpi);
    s.apply(&ds, "tester").await.unwrap();

    let mut want = ds.clone();
    want.programs.swap_remove(0);
    want.links.swap_remove(0);
    want.indicators.swap_remove(0);
    want.money.swap_remove(0);
    want.kpis.swap_remove(0);
    assert_eq!(s.load_all().await.unwrap(), sorted(want.clone()));
    // Applied again, each record is compared with the state before it: the
    // first of a pair differs from the stored (last) one and the second from
    // the first, so both count as updates; the end state is the same.
    let again = s.apply(&ds, "tester").await.unwrap();
    assert_eq!(
        (
            again.programs.updated,
            again.links.updated,
            again.money.updated
        ),
        (2, 2, 2)
    );
    assert_eq!(s.load_all().await.unwrap(), sorted(want));
}

/// Search for Japanese text, where words have no spaces between them: any
/// substring is found (through the trigram index from three characters,
/// by scanning below), full-width and half-width forms alike, every term of
/// the query must match, and the index follows edits in the same transaction.
async fn japanese_search_finds_substrings_and_follows_edits(db: &TestDb) {
    let s = &db.store;
    s.apply(&city(), "tester").await.unwrap();

    // Two characters (below a trigram): still found, in the middle of a name.
    let hits = s.search("児童").await.unwrap();
    assert_eq!(hits.kpis, vec!["K001"]);
    // Three or more characters, through the index.
    assert_eq!(s.search("子育て相談").await.unwrap().kpis, vec!["K002"]);
    assert_eq!(
        s.search("保育所整備").await.unwrap().programs,
        vec!["P0001"]
    );
    // Full-width letters and digits find the ASCII code, and the reverse.
    assert_eq!(s.search("Ｋ００１").await.unwrap().kpis, vec!["K001"]);
    assert_eq!(s.search("line").await.unwrap().programs, vec!["P0002"]);
    // Every term must match (a full-width space separates terms too).
    assert_eq!(s.search("子育て　件数").await.unwrap().kpis, vec!["K002"]);
    assert!(s.search("子育て 待機").await.unwrap().kpis.is_empty());
    // LIKE and FTS syntax in a query are plain characters.
    assert_eq!(s.search("%").await.unwrap(), Default::default());
    assert_eq!(s.search("\"保育\" OR").await.unwrap(), Default::default());
    assert_eq!(s.search("  ").await.unwrap(), Default::default());

    // An edit is searchable at once, and the old text no longer matches.
    let (mut p, v) = s.program_with_version("P0002").await.unwrap().unwrap();
    p.purpose = "若年層への情報発信を強化する".into();
    s.upsert_program_versioned(&p, Some(v), "tanaka")
        .await
        .unwrap();
    assert_eq!(s.search("情報発信").await.unwrap().programs, vec!["P0002"]);
    let mut edited = city();
    edited.kpis.retain(|k| k.code == "K001");
    edited.kpis[0].name_ja = "保育所等利用待機児童数".into();
    edited.programs.clear();
    edited.observations.clear();
    edited.links.clear();
    edited.indicators.clear();
    edited.money.clear();
    s.apply(&edited, "tester").await.unwrap();
    assert_eq!(s.search("利用待機").await.unwrap().kpis, vec!["K001"]);

    // A second connection (another process) sees the same index; emptying the
    // database empties it.
    let other = db.reopen().await;
    assert_eq!(
        other.search("情報発信").await.unwrap().programs,
        vec!["P0002"]
    );
    s.clear_all().await.unwrap();
    assert_eq!(s.search("児童").await.unwrap(), Default::default());
}

/// Evidence on a program–KPI link: every study kept (newest first), found by
/// KPI or by program, audited; an unknown link or an unsound record is
/// refused with nothing written; emptying the database empties it too.
async fn evidence_is_kept_per_link_and_refused_when_unsound(db: &TestDb) {
    use citykpi_domain::evidence::{EvidenceMethod, LinkEvidence};
    use citykpi_domain::program::EvidenceGrade;
    let s = &db.store;
    s.apply(&city(), "tester").await.unwrap();
    let did = LinkEvidence {
        program_code: "P0001".into(),
        kpi_code: "K001".into(),
        method: EvidenceMethod::DifferenceInDifferences,
        data: "保育所パネル.csv（区×年度、2015–2024）".into(),
        estimate: -27.349,
        interval: Some((-35.5, -19.2)),
        level: Some(0.95),
        p_value: None,
        grade: EvidenceGrade::Causal,
        note: String::new(),
        detail: r#"{"se": 4.1}"#.into(),
    };
    let first = s.record_link_evidence(&did, "strategy").await.unwrap();
    let mut synth = did.clone();
    synth.method = EvidenceMethod::SyntheticControl;
    synth.estimate = -19.62;
    synth.interval = None;
    synth.level = None;
    synth.p_value = Some(0.026);
    let second = s.record_link_evidence(&synth, "strategy").await.unwrap();
    assert!(second > first);
    let mut other = did.clone();
    other.program_code = "P0002".into();
    other.kpi_code = "K004".into();
    other.estimate = 1200.0;
    other.interval = Some((800.0, 1600.0));
    s.record_link_evidence(&other, "strategy").await.unwrap();

    let on_k001 = s.link_evidence(Some("K001"), None).await.unwrap();
    assert_eq!(on_k001.len(), 2);
    assert_eq!(on_k001[0].id, second, "newest first");
    assert_eq!(on_k001[0].evidence, synth);
    assert_eq!(on_k001[1].evidence, did);
    assert_eq!(on_k001[1].recorded_by, "strategy");
    assert_eq!(
        s.link_evidence(None, Some("P0002")).await.unwrap()[0].evidence,
        other
    );
    assert_eq!(s.link_evidence(None, None).await.unwrap().len(), 3);
    assert!(
        s.link_evidence(Some("K002"), None)
            .await
            .unwrap()
            .is_empty()
    );

    // P0002 does not serve K001: refused, naming the link.
    let mut unlinked = did.clone();
    unlinked.program_code = "P0002".into();
    let err = s
        .record_link_evidence(&unlinked, "strategy")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotFound {
                entity: Entity::KpiLink,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("P0002 → K001"), "{err}");
    let mut reversed = did.clone();
    reversed.interval = Some((1.0, -1.0));
    let err = s
        .record_link_evidence(&reversed, "strategy")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("区間の下限"), "{err}");
    assert_eq!(
        s.link_evidence(None, None).await.unwrap().len(),
        3,
        "nothing written"
    );

    let audit = s.audit_entries(10, 0).await.unwrap();
    assert_eq!(
        audit.iter().filter(|a| a.entity == "link_evidence").count(),
        3
    );
    s.clear_all().await.unwrap();
    assert!(s.link_evidence(None, None).await.unwrap().is_empty());
}
