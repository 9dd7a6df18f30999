//! Confirmation of actuals (確認) and the version check of a single actual,
//! on a real SQLite file and a real PostgreSQL database.

mod common;

use citykpi_domain::observation::{ObsValue, Observation};
use citykpi_store::{Change, ConfirmItem, ObservationFilter, Store, StoreError};
use common::{TestDb, city};

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
    confirm_needs_the_version_seen_and_is_audited,
    a_stale_save_of_an_actual_is_refused_whole,
    imports_confirm_and_reimport_changes_nothing,
    approvers_are_granted_and_withdrawn_with_audit,
);

async fn confirmed(s: &Store) -> Vec<Observation> {
    s.observations(&ObservationFilter::all().confirmed_only())
        .await
        .unwrap()
}

fn item(o: &Observation, version: i64) -> ConfirmItem {
    ConfirmItem {
        kpi_code: o.kpi_code.clone(),
        period: o.period,
        area_code: o.area_code.clone(),
        version,
    }
}

async fn version_of(s: &Store, o: &Observation) -> i64 {
    s.observation_with_version(&o.kpi_code, o.period, &o.area_code)
        .await
        .unwrap()
        .unwrap()
        .1
}

async fn confirm_needs_the_version_seen_and_is_audited(db: &TestDb) {
    let s = &db.store;
    let ds = city();
    s.apply(&ds, "test").await.unwrap();
    // Written without a confirmation: nothing may be published yet.
    assert!(confirmed(s).await.is_empty());
    let all = s.observations(&ObservationFilter::all()).await.unwrap();
    let (a, b) = (&all[0], &all[1]);
    let v = version_of(s, a).await;
    assert_eq!(v, 1);

    // A version the confirmer did not see: refused, naming the actual, and
    // the other item of the request is not confirmed either.
    let e = s
        .confirm_observations(&[item(b, 1), item(a, v + 5)], "kacho")
        .await
        .unwrap_err();
    match &e {
        StoreError::Conflict { key, found, .. } => {
            assert!(key.contains(&a.kpi_code), "{key}");
            assert_eq!(*found, v);
        }
        other => panic!("{other:?}"),
    }
    assert!(confirmed(s).await.is_empty(), "nothing half-confirmed");

    let changes = s
        .confirm_observations(&[item(a, v)], "kacho")
        .await
        .unwrap();
    assert_eq!(changes, vec![Change::Updated]);
    let now = confirmed(s).await;
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].confirmed_by, "kacho");
    assert!(!now[0].confirmed_at.is_empty());
    assert_eq!(now[0].value, a.value);
    let audit = s.audit_entries(1, 0).await.unwrap();
    assert_eq!(audit[0].action, "confirm");
    assert_eq!(audit[0].actor, "kacho");
    assert_eq!(audit[0].entity, "observation");
    assert_eq!(audit[0].after.as_ref().unwrap()["confirmed_by"], "kacho");
    assert_eq!(audit[0].before.as_ref().unwrap()["confirmed_by"], "");

    // Confirming bumped the version: the old one is stale now; the new one
    // finds it confirmed already (no second audit row).
    assert_eq!(version_of(s, a).await, v + 1);
    assert!(matches!(
        s.confirm_observations(&[item(a, v)], "kacho").await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        s.confirm_observations(&[item(a, v + 1)], "kacho")
            .await
            .unwrap(),
        vec![Change::Unchanged]
    );

    // Saving the same figure again keeps the confirmation; a changed figure
    // typed in by an editor is unconfirmed again.
    let mut same = a.clone();
    same.entered_by = "editor".into();
    let saved = s
        .upsert_observation_versioned(&same, Some(v + 1), "editor")
        .await
        .unwrap();
    assert_eq!(saved.change, Change::Unchanged);
    assert_eq!(confirmed(s).await.len(), 1);
    let mut changed = same.clone();
    changed.value = ObsValue::Value(123_456.0);
    let saved = s
        .upsert_observation_versioned(&changed, Some(v + 1), "editor")
        .await
        .unwrap();
    assert_eq!(saved.change, Change::Updated);
    assert_eq!(saved.version, v + 2);
    assert!(
        confirmed(s).await.is_empty(),
        "a changed value is unconfirmed"
    );
    let unconfirmed = s
        .observations(&ObservationFilter {
            confirmed: Some(false),
            ..ObservationFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(unconfirmed.len(), all.len());
}

async fn a_stale_save_of_an_actual_is_refused_whole(db: &TestDb) {
    let s = &db.store;
    let ds = city();
    s.apply(&ds, "test").await.unwrap();
    let all = s.observations(&ObservationFilter::all()).await.unwrap();
    let a = all[0].clone();
    // Two editors loaded version 1; the first saves.
    let mut first = a.clone();
    first.value = ObsValue::Value(11.0);
    first.confirmed_by.clear();
    let saved = s
        .upsert_observation_versioned(&first, Some(1), "first")
        .await
        .unwrap();
    assert_eq!(saved.version, 2);
    // The second, with a new value for another period too, is refused whole.
    let mut second = a.clone();
    second.value = ObsValue::Value(22.0);
    let mut other = all[1].clone();
    other.value = ObsValue::Value(33.0);
    let e = s
        .save_observations(&[(&other, Some(1)), (&second, Some(1))], "second")
        .await
        .unwrap_err();
    match e {
        StoreError::Conflict {
            expected, found, ..
        } => assert_eq!((expected, found), (1, 2)),
        other => panic!("{other:?}"),
    }
    let now = s.observations(&ObservationFilter::all()).await.unwrap();
    let find = |o: &Observation| {
        now.iter()
            .find(|n| {
                n.kpi_code == o.kpi_code && n.period == o.period && n.area_code == o.area_code
            })
            .unwrap()
            .clone()
    };
    assert_eq!(
        find(&a).value,
        ObsValue::Value(11.0),
        "the first value stays"
    );
    assert_eq!(
        find(&other).value,
        all[1].value,
        "nothing of the refused save"
    );
    // "Must not exist yet" (0) for a stored actual is stale too.
    assert!(matches!(
        s.upsert_observation_versioned(&second, Some(0), "second")
            .await,
        Err(StoreError::Conflict { .. })
    ));
    let versions = s
        .observation_versions(&a.kpi_code, &a.area_code)
        .await
        .unwrap();
    assert!(versions.contains(&(a.period, 2)), "{versions:?}");
}

async fn imports_confirm_and_reimport_changes_nothing(db: &TestDb) {
    let s = &db.store;
    let mut ds = city();
    s.apply(&ds, "test").await.unwrap();
    assert!(confirmed(s).await.is_empty());
    // The same figures loaded by someone who confirms: confirmed, no value changed.
    for o in &mut ds.observations {
        o.confirmed_by = "importer".into();
        o.confirmed_at = "2026-12-07T00:00:00.000Z".into();
    }
    let summary = s.apply(&ds, "importer").await.unwrap();
    assert_eq!(
        summary.observations.updated as usize,
        ds.observations.len(),
        "{summary:?}"
    );
    assert_eq!(confirmed(s).await.len(), ds.observations.len());
    // Loading them again (another time stamp) changes nothing.
    for o in &mut ds.observations {
        o.confirmed_at = "2026-12-08T00:00:00.000Z".into();
    }
    let again = s.apply(&ds, "importer").await.unwrap();
    assert_eq!(again.observations.updated, 0, "{again:?}");
    assert_eq!(again.observations.inserted, 0);
    // A changed figure loaded without a confirmation is unconfirmed.
    let mut one = ds.clone();
    one.observations.truncate(1);
    one.observations[0].value = ObsValue::Value(777.0);
    one.observations[0].confirmed_by.clear();
    one.observations[0].confirmed_at.clear();
    s.apply(&one, "someone").await.unwrap();
    assert_eq!(confirmed(s).await.len(), ds.observations.len() - 1);
}

async fn approvers_are_granted_and_withdrawn_with_audit(db: &TestDb) {
    let s = &db.store;
    let ds = city();
    s.apply(&ds, "test").await.unwrap();
    let login = ds.users[0].login.clone();
    assert!(!s.is_approver(&login).await.unwrap());
    assert_eq!(
        s.set_approver(&login, true, "admin").await.unwrap(),
        Change::Updated
    );
    assert_eq!(
        s.set_approver(&login, true, "admin").await.unwrap(),
        Change::Unchanged
    );
    assert!(s.is_approver(&login).await.unwrap());
    assert_eq!(s.approvers().await.unwrap(), vec![login.clone()]);
    let audit = s.audit_entries(1, 0).await.unwrap();
    assert_eq!(audit[0].action, "grant_approver");
    assert_eq!(audit[0].key, login);
    s.set_approver(&login, false, "admin").await.unwrap();
    assert!(s.approvers().await.unwrap().is_empty());
    assert!(matches!(
        s.set_approver("nobody", true, "admin").await,
        Err(StoreError::MissingReference { .. })
    ));
}
