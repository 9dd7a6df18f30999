//! End-to-end test in headless Chromium (Debian's `chromium`, never a
//! downloaded browser): a department editor logs in, enters an actual, sees
//! the KPI's status and the dashboard change, and is refused on another
//! department's program. A screenshot of the dashboard is written to
//! `target/screenshots/` for humans to look at.

mod common;

use citykpi_domain::org::Role;
use citykpi_store::Backend;
use common::browser::{
    self as chrome, Chromium, expect_contains, fill, goto, html, screenshot, screenshot_dir, submit,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn department_editor_in_chromium() {
    let app = common::spawn(Backend::Sqlite).await;
    let editor = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor.section_code).await;
    let (own_program, other_program) = app.programs_of(&dept).await;
    let fy = citykpi_app::clock::last_closed_fiscal_year();
    // A KPI of the editor's department that is not yet "at risk", so that the
    // value entered below must change its status and the dashboard.
    let report = citykpi_app::status::kpi_status(&app.store, fy)
        .await
        .unwrap();
    let sections = app.store.sections().await.unwrap();
    let owned = |k: &citykpi_domain::kpi::Kpi| {
        k.owner_sections.iter().any(|s| {
            sections
                .iter()
                .any(|x| &x.code == s && x.department_code == dept)
        })
    };
    let kpis = app.store.kpis().await.unwrap();
    let k = kpis
        .iter()
        .filter(|k| owned(k) && !matches!(k.direction, citykpi_domain::kpi::Direction::Band { .. }))
        .find(|k| {
            report.kpis.iter().any(|r| {
                r.code == k.code && r.progress.status != citykpi_domain::progress::Status::AtRisk
            })
        })
        .expect("a KPI of the department that is not at risk")
        .clone();
    let kpi = k.code.clone();
    let fy = fy.year();
    // Far in the wrong direction, so the status is certain to become "at risk".
    let bad = match k.direction {
        citykpi_domain::kpi::Direction::LowerIsBetter => "1000000000",
        _ => "-1000000000",
    };
    let base = app.base.clone();
    let login = editor.login.clone();
    // The browser API is blocking: run it off the async workers serving the app.
    tokio::task::spawn_blocking(move || {
        let chromium = Chromium::start();
        let tab = chromium.tab();

        chrome::login(&tab, &base, &login);
        assert!(html(&tab).contains("ログアウト"), "logged in");

        let before = {
            goto(&tab, &format!("{base}/?fy={fy}"));
            html(&tab)
        };

        goto(&tab, &format!("{base}/kpis/{kpi}/actuals"));
        fill(&tab, "#period", &fy.to_string());
        fill(&tab, "#value", bad);
        submit(
            &tab,
            &format!("form[action='/kpis/{kpi}/actuals']"),
            |url| url.ends_with(&format!("/kpis/{kpi}?saved=1")),
        );
        goto(&tab, &format!("{base}/kpis/{kpi}?fy={fy}"));
        // The KPI shows its new status.
        expect_contains(&tab, "status status-at_risk", "kpi-failed");

        goto(&tab, &format!("{base}/?fy={fy}"));
        let after = html(&tab);
        assert_ne!(before, after, "the dashboard changed");
        screenshot(&tab, "dashboard");

        goto(&tab, &format!("{base}/kpis/{kpi}?fy={fy}"));
        screenshot(&tab, "kpi");

        goto(&tab, &format!("{base}/programs/{own_program}"));
        screenshot(&tab, "program");
        goto(&tab, &format!("{base}/public"));
        screenshot(&tab, "public");

        goto(&tab, &format!("{base}/programs/{other_program}/edit"));
        let refused = html(&tab);
        assert!(
            refused.contains("この操作を行う権限がありません"),
            "refused on another department's program"
        );
    })
    .await
    .unwrap();
    assert!(screenshot_dir().join("dashboard.png").exists());
}

/// The evaluation sheet in Chromium: the department editor types a new
/// indicator target into the field on the page, saves, and reads the same
/// value back, from the page and from the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sheet_indicator_edit_in_chromium() {
    let app = common::spawn(Backend::Sqlite).await;
    let editor = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor.section_code).await;
    let sections = app.store.sections().await.unwrap();
    let programs = app.store.programs().await.unwrap();
    let of_dept = |program: &str| {
        programs
            .iter()
            .find(|p| p.code == program)
            .and_then(|p| sections.iter().find(|s| s.code == p.section_code))
            .is_some_and(|s| s.department_code == dept)
    };
    let now = citykpi_app::clock::current_fiscal_year().year();
    let mut found = None;
    for y in (now - 6..=now).rev() {
        let fy = citykpi_domain::FiscalYear::new(y).unwrap();
        for s in app.store.sheets(fy).await.unwrap() {
            if found.is_none()
                && s.sheet.state.editable_by_section()
                && of_dept(&s.sheet.program_code)
                && let Some(i) = s.sheet.indicators.iter().position(|i| i.target.is_some())
            {
                found = Some((
                    fy,
                    s.sheet.program_code.clone(),
                    i,
                    s.sheet.indicators[i].target,
                ));
            }
        }
    }
    let (fy, code, i, old) = found.expect("an editable sheet with an indicator target");
    let new = if old == Some(800.0) { "801" } else { "800" };
    let y = fy.year();
    let base = app.base.clone();
    let login = editor.login.clone();
    let path = format!("/cycle/{y}/sheets/{code}");
    let field = format!("#indicators_{i}__target");
    let shown = tokio::task::spawn_blocking(move || {
        let chromium = Chromium::start();
        let tab = chromium.tab();
        chrome::login(&tab, &base, &login);
        goto(&tab, &format!("{base}{path}"));
        fill(&tab, &field, new);
        submit(&tab, &format!("form[action='{path}']"), |url| {
            url.ends_with(&format!("{path}?saved=1"))
        });
        expect_contains(&tab, "status", "sheet-saved");
        let value = tab
            .wait_for_element(&field)
            .unwrap()
            .call_js_fn("function() { return this.value; }", vec![], false)
            .unwrap()
            .value
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        screenshot(&tab, "sheet-saved");
        value
    })
    .await
    .unwrap();
    assert_eq!(shown, new, "the field shows what was typed after saving");
    let stored = app.store.sheet(&code, fy).await.unwrap().unwrap();
    assert_eq!(
        stored.sheet.indicators[i].target,
        Some(new.parse::<f64>().unwrap())
    );
}
