//! The budget what-if over real HTTP on the demo city, on SQLite and
//! PostgreSQL: finance runs it from the form (amounts in 千円) and gets an
//! allocation within the budget and the ceilings whose objective equals the
//! service's and the API's; a saved scenario reopens with the same numbers
//! and exports to Excel; sending it makes proposals that finance accepts or
//! rejects on the budget page; the strategy office reads only; department
//! editors and viewers are refused; an infeasible rule names its field.

mod common;

use calamine::DataType;
use citykpi_app::whatif;
use citykpi_domain::FiscalYear;
use citykpi_domain::org::Role;
use citykpi_store::Backend;
use common::{App, Client};
use reqwest::StatusCode;

fn budget_fy() -> FiscalYear {
    // The demo city's running cycle evaluates 2024 and builds 2026.
    FiscalYear::new(2026).unwrap()
}

/// The value of `data-value` (or another attribute) after an element id.
fn attr_after(html: &str, id: &str, attr: &str) -> String {
    let i = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("{id} in page"));
    let rest = &html[i..];
    let j = rest.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
    rest[j..j + rest[j..].find('"').unwrap()].to_string()
}

/// Every department row's (optimal, ceiling) in yen.
fn department_rows(html: &str) -> Vec<(i64, Option<i64>)> {
    html.match_indices("data-department=\"")
        .map(|(i, _)| {
            let tag = &html[i..i + html[i..].find('>').unwrap()];
            let get = |a: &str| {
                tag.find(&format!("{a}=\"")).map(|j| {
                    let s = &tag[j + a.len() + 2..];
                    s[..s.find('"').unwrap()].parse::<i64>().unwrap()
                })
            };
            (get("data-optimal").unwrap(), get("data-ceiling"))
        })
        .collect()
}

/// The form fields of the rules as the page pre-fills them, with the
/// budget set to `budget_sen` (千円).
async fn form_fields(app: &App, budget_sen: i64) -> Vec<(String, String)> {
    let defaults = whatif::default_rules(&app.store, budget_fy())
        .await
        .unwrap();
    let mut f = vec![("budget_yen".to_string(), format!("{budget_sen}"))];
    for d in app.store.departments().await.unwrap() {
        let v = defaults
            .ceilings
            .get(&d.code)
            .map(|c| (c / 1000).to_string())
            .unwrap_or_default();
        f.push((format!("ceiling.{}", d.code), v));
    }
    f.push(("max_abolitions".into(), "2".into()));
    f.push(("reduce_percent".into(), "20".into()));
    f.push(("expand_percent".into(), "20".into()));
    f
}

async fn post(c: &Client, path: &str, fields: &[(String, String)]) -> common::Resp {
    let v: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    c.post_form(path, &v).await
}

async fn issue_token(c: &Client) -> String {
    let issued = c.post_form("/account/token", &[]).await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    let i = issued.body.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    issued.body[i..i + 64].to_string()
}

async fn finance_walk(backend: Backend) {
    let app = common::spawn(backend).await;
    let fy = budget_fy();
    let y = fy.year();
    let finance = app.login("finance-zaisei").await;

    // The page pre-fills the total from the cycle (千円, separators).
    let page = finance.get(&format!("/whatif/{y}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let defaults = whatif::default_rules(&app.store, fy).await.unwrap();
    assert!(
        page.body.contains(&format!(
            "value=\"{}\"",
            citykpi_domain::money::format_yen(citykpi_domain::money::to_sen_yen(
                defaults.budget_yen
            ))
        )),
        "budget pre-filled"
    );
    assert!(page.body.contains("name=\"csrf\""));

    // Run with 3 % less than the requests, at most two abolitions per department.
    let budget_sen = defaults.budget_yen / 1000 * 97 / 100;
    let mut fields = form_fields(&app, budget_sen).await;
    fields.push(("action".into(), "run".into()));
    let run = post(&finance, &format!("/whatif/{y}"), &fields).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    let objective: f64 = attr_after(&run.body, "result-objective", "data-value")
        .parse()
        .unwrap();
    let total: i64 = attr_after(&run.body, "total-optimal", "data-yen")
        .parse()
        .unwrap();
    assert!(total <= budget_sen * 1000, "{total} within the budget");
    let rows = department_rows(&run.body);
    assert!(!rows.is_empty());
    for (optimal, ceiling) in &rows {
        if let Some(c) = ceiling {
            assert!(optimal <= c, "{optimal} within the ceiling {c}");
        }
    }
    assert_eq!(rows.iter().map(|r| r.0).sum::<i64>(), total);
    assert!(
        run.body.contains("whatif-changes"),
        "programs that change are listed"
    );

    // The same rules through the service and through the API: same objective.
    let rules = whatif::Rules {
        budget_yen: budget_sen * 1000,
        max_abolitions: Some(2),
        ..defaults.clone()
    };
    let service = whatif::run(&app.store, fy, &rules).await.unwrap();
    assert!((service.optimal_contribution - objective).abs() <= 1e-6 * objective.abs().max(1.0));
    let token = issue_token(&finance).await;
    let api: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/whatif/{y}/run", app.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "budget_yen": budget_sen * 1000, "max_abolitions": 2 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api_objective = api["optimal_contribution"].as_f64().unwrap();
    assert!((api_objective - service.optimal_contribution).abs() <= 1e-9);
    assert_eq!(api["optimal_cost_yen"].as_i64().unwrap(), total);

    // Run and save; the saved scenario reopens with the same numbers.
    let mut save = form_fields(&app, budget_sen).await;
    save.push(("name".into(), "3%削減案".into()));
    save.push(("action".into(), "save".into()));
    let saved = post(&finance, &format!("/whatif/{y}"), &save).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let at = saved.location().to_string();
    let id: i64 = at.rsplit('/').next().unwrap().parse().unwrap();
    let opened = finance.get(&at).await;
    assert_eq!(opened.status, StatusCode::OK);
    let reopened: f64 = attr_after(&opened.body, "result-objective", "data-value")
        .parse()
        .unwrap();
    assert_eq!(reopened, objective);
    assert!(opened.body.contains("3%削減案"));
    let stored = whatif::open_scenario(&app.store, id).await.unwrap();
    assert_eq!(stored.outcome.optimal_contribution, objective);

    // The same name again keeps what was typed and names the field.
    let dup = post(&finance, &format!("/whatif/{y}"), &save).await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(dup.body.contains("id=\"name-error\""), "{}", dup.body);
    assert!(dup.body.contains("value=\"3%削減案\""));

    // Excel: the programs sheet has one row per program.
    let (status, _, bytes) = finance
        .get_bytes(&format!("/whatif/{y}/scenarios/{id}/export.xlsx"))
        .await;
    assert_eq!(status, StatusCode::OK);
    use calamine::Reader;
    let mut book =
        calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(std::io::Cursor::new(bytes))
            .unwrap();
    assert_eq!(book.sheet_names(), vec!["概要", "部局別", "事業別"]);
    let programs = book.worksheet_range("事業別").unwrap();
    assert_eq!(programs.height(), 1 + stored.outcome.programs.len());
    let first = &stored.outcome.programs[0];
    assert_eq!(
        programs.get((1, 0)).unwrap().to_string(),
        first.program_code
    );
    assert_eq!(
        programs.get((1, 7)).unwrap().get_float().unwrap() as i64,
        first.cost_yen
    );

    // A second scenario, compared side by side.
    let mut other = form_fields(&app, defaults.budget_yen / 1000 * 90 / 100).await;
    other.push(("name".into(), "10%削減案".into()));
    other.push(("action".into(), "save".into()));
    let second = post(&finance, &format!("/whatif/{y}"), &other).await;
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.body);
    let id2: i64 = second
        .location()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let cmp = finance
        .get(&format!("/whatif/{y}/compare?a={id}&b={id2}"))
        .await;
    assert_eq!(cmp.status, StatusCode::OK);
    assert!(cmp.body.contains("3%削減案") && cmp.body.contains("10%削減案"));
    assert!(cmp.body.contains("whatif-compare-programs"));

    // Sent to the assessment: proposals, no request changed yet.
    let before = app.store.budget_requests(fy).await.unwrap();
    let sent = finance
        .post_form(&format!("/whatif/{y}/scenarios/{id}/send"), &[])
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(app.store.budget_requests(fy).await.unwrap(), before);
    let proposals = whatif::proposals(&app.store, fy).await.unwrap();
    assert!(!proposals.is_empty());
    // On the budget page of a department with a proposal: accept and reject buttons.
    let p = proposals
        .iter()
        .find(|p| p.option_kind != "keep")
        .unwrap_or(&proposals[0]);
    let program = app.store.program(&p.program_code).await.unwrap().unwrap();
    let dept = app.department_of(&program.section_code).await;
    let cycle_fy = y - 2;
    let budget_page = finance
        .get(&format!("/cycle/{cycle_fy}/budget?department={dept}"))
        .await;
    assert!(
        budget_page
            .body
            .contains(&format!("data-proposal=\"{}\"", p.id)),
        "{}",
        budget_page.body
    );
    assert!(budget_page.body.contains("value=\"accept\""));
    let accepted = finance
        .post_form(
            &format!("/whatif/proposals/{}", p.id),
            &[
                ("decision", "accept"),
                (
                    "back",
                    &format!("/cycle/{cycle_fy}/budget?department={dept}"),
                ),
            ],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    let req = app
        .store
        .budget_request(&p.program_code, fy)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(req.request.assessed, Some(p.proposed));
    let q = proposals
        .iter()
        .find(|x| x.id != p.id)
        .expect("a second proposal");
    let was = app
        .store
        .budget_request(&q.program_code, fy)
        .await
        .unwrap()
        .unwrap();
    let rejected = finance
        .post_form(
            &format!("/whatif/proposals/{}", q.id),
            &[("decision", "reject")],
        )
        .await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store
            .budget_request(&q.program_code, fy)
            .await
            .unwrap()
            .unwrap(),
        was
    );
}

both!(finance_runs_saves_exports_and_sends, finance_walk);

async fn roles(backend: Backend) {
    let app = common::spawn(backend).await;
    let y = budget_fy().year();
    let finance = app.login("finance-zaisei").await;
    let mut save = form_fields(&app, 1_000_000_000).await;
    save.push(("name".into(), "案A".into()));
    save.push(("action".into(), "save".into()));
    let saved = post(&finance, &format!("/whatif/{y}"), &save).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let at = saved.location().to_string();

    // The strategy office reads: the page and the scenario, no form, no send.
    let strategy = app.login("strategy-kikaku").await;
    let page = strategy.get(&format!("/whatif/{y}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("name=\"budget_yen\""));
    assert!(page.body.contains("案A"));
    let opened = strategy.get(&at).await;
    assert_eq!(opened.status, StatusCode::OK);
    assert!(!opened.body.contains("/send\""));
    let run = post(&strategy, &format!("/whatif/{y}"), &save).await;
    assert_eq!(run.status, StatusCode::FORBIDDEN);
    assert_eq!(
        strategy.post_form(&format!("{at}/send"), &[]).await.status,
        StatusCode::FORBIDDEN
    );
    // The nav shows the page to finance and the strategy office.
    assert!(strategy.get("/").await.body.contains("href=\"/whatif\""));

    // Department editors and viewers are refused everywhere.
    let editor = app.user_with(Role::DepartmentEditor).await;
    let viewer = app.user_with(Role::Viewer).await;
    for login in [editor.login.as_str(), viewer.login.as_str()] {
        let c = app.login(login).await;
        assert_eq!(
            c.get(&format!("/whatif/{y}")).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(c.get(&at).await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            c.get(&format!("{at}/export.xlsx")).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            post(&c, &format!("/whatif/{y}"), &save).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            c.get(&format!("/api/v1/whatif/{y}/rules")).await.status,
            StatusCode::FORBIDDEN
        );
        assert!(!c.get("/").await.body.contains("href=\"/whatif\""));
    }
}

both!(roles_are_checked, roles);

async fn infeasible(backend: Backend) {
    let app = common::spawn(backend).await;
    let fy = budget_fy();
    let y = fy.year();
    let finance = app.login("finance-zaisei").await;
    let defaults = whatif::default_rules(&app.store, fy).await.unwrap();
    let out = whatif::run(&app.store, fy, &defaults).await.unwrap();
    let d = out
        .departments
        .iter()
        .find(|d| {
            out.programs.iter().any(|p| {
                p.department_code == d.department_code && p.mandatory && p.current_cost > 0
            })
        })
        .expect("a department with a mandatory program")
        .department_code
        .clone();
    // A ceiling below the department's mandatory programs.
    let mut fields = form_fields(&app, defaults.budget_yen / 1000).await;
    for (k, v) in &mut fields {
        if *k == format!("ceiling.{d}") {
            *v = "1".into();
        }
    }
    fields.push(("action".into(), "run".into()));
    let r = post(&finance, &format!("/whatif/{y}"), &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains(&format!("id=\"ceiling_{d}-error\"")),
        "{}",
        r.body
    );
    assert!(r.body.contains("義務的経費"));
    // What was typed is kept.
    assert!(
        r.body
            .contains(&format!("name=\"ceiling.{d}\" value=\"1\"")),
        "{}",
        r.body
    );
    // A budget that is not an amount names its field.
    let mut fields = form_fields(&app, 0).await;
    fields[0].1 = "たくさん".into();
    fields.push(("action".into(), "run".into()));
    let r = post(&finance, &format!("/whatif/{y}"), &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"budget_yen-error\""));
    assert!(r.body.contains("value=\"たくさん\""));
}

both!(infeasible_rules_are_named, infeasible);
