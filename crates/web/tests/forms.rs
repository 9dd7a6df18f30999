//! Every form of the application, as a browser sees it, on SQLite and
//! PostgreSQL: a walk through the pages (links followed from the dashboard,
//! the cycle, KPI, program, admin and partnership pages) as an admin and as
//! a department editor collects every `<form method=post>`; each must carry
//! the CSRF token, send what the user sees (no hidden copy of a visible
//! field, no field outside its form), and a representative set is submitted
//! with the values the page shows and must not be refused (403) or fail
//! (500). The server must log no ERROR line during the walk.
//!
//! Also: the evaluation sheet keeps an edited indicator value, and the
//! cycle's download buttons give a real workbook in a year not yet started.

mod common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use citykpi_domain::FiscalYear;
use citykpi_domain::org::Role;
use citykpi_store::Backend;
use common::html::{self, Form};
use common::{App, Client, spawn};
use reqwest::StatusCode;

// ----- the server's log, captured in this test binary -----

#[derive(Clone)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once per test binary) a subscriber that writes every event of
/// the server running in this process, as text lines, to a shared buffer;
/// returns the buffer.
fn server_log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = LogBuffer(buf.clone());
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("the test binary's log subscriber");
        buf
    })
    .clone()
}

/// The ERROR lines logged since `from` (a byte offset into the log).
fn error_lines(log: &Arc<Mutex<Vec<u8>>>, from: usize) -> Vec<String> {
    let all = log.lock().unwrap();
    String::from_utf8_lossy(&all[from.min(all.len())..])
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("ERROR"))
        .map(str::to_string)
        .collect()
}

fn log_len(log: &Arc<Mutex<Vec<u8>>>) -> usize {
    log.lock().unwrap().len()
}

// ----- the walk -----

/// A page's address with its codes and years replaced by `*` and only its
/// query's parameter names kept: pages of one kind share a pattern.
fn pattern(path: &str) -> String {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let segs: Vec<String> = p
        .split('/')
        .map(|s| {
            if s.chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c == '.')
            {
                s.to_string()
            } else {
                "*".to_string()
            }
        })
        .collect();
    let mut keys: Vec<&str> = q
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split_once('=').map_or(kv, |(k, _)| k))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        segs.join("/")
    } else {
        format!("{}?{}", segs.join("/"), keys.join("&"))
    }
}

/// Whether the walk follows a link: pages of the staff application, not
/// files, the API, the public portal or logging out.
fn followed(href: &str, download: bool) -> Option<String> {
    if download || !href.starts_with('/') || href.starts_with("//") {
        return None;
    }
    let href = href.split('#').next().unwrap_or("");
    let (path, query) = href.split_once('?').unwrap_or((href, ""));
    // The language switch shows the same page again.
    if query.split('&').any(|kv| kv.starts_with("lang=")) {
        return None;
    }
    let wanted = path == "/"
        || [
            "/cycle",
            "/kpis",
            "/programs",
            "/admin",
            "/partners",
            "/account",
            "/data",
            "/search",
        ]
        .iter()
        .any(|p| {
            path == *p || path.starts_with(&format!("{p}/")) || path.starts_with(&format!("{p}?"))
        });
    let file = [".xlsx", ".pdf", ".csv", ".json", ".svg", ".png", ".zip"]
        .iter()
        .any(|e| path.ends_with(e));
    (wanted && !file && !path.starts_with("/data/export")).then(|| href.to_string())
}

struct Walked {
    /// (page, form) of every POST form found, in the order found.
    forms: Vec<(String, Form)>,
    problems: Vec<String>,
    pages: usize,
}

/// Visits `seeds` and then the links they lead to, at most `per_pattern`
/// pages of each pattern and `max_pages` in all.
async fn walk(c: &Client, seeds: &[String], per_pattern: usize, max_pages: usize) -> Walked {
    let mut queue: VecDeque<(String, bool)> = seeds.iter().map(|s| (s.clone(), true)).collect();
    let mut seen: BTreeSet<String> = seeds.iter().cloned().collect();
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Walked {
        forms: Vec::new(),
        problems: Vec::new(),
        pages: 0,
    };
    while let Some((path, seed)) = queue.pop_front() {
        if out.pages >= max_pages {
            break;
        }
        let n = per.entry(pattern(&path)).or_default();
        if !seed && *n >= per_pattern {
            continue;
        }
        *n += 1;
        out.pages += 1;
        let resp = c.get(&path).await;
        if resp.status.is_server_error() {
            out.problems.push(format!("GET {path}: {}", resp.status));
        }
        if resp.status != StatusCode::OK {
            if seed {
                out.problems.push(format!(
                    "GET {path} (a page the walk needs): {}",
                    resp.status
                ));
            }
            continue;
        }
        let doc = html::parse(&resp.body);
        for o in &doc.orphans {
            out.problems.push(format!(
                "{path}: the field {:?} ({}) is outside every form, so it is never sent",
                o.name, o.kind
            ));
        }
        for f in doc.forms {
            if f.method != "post" {
                continue;
            }
            let token = f.controls.iter().any(|c| {
                c.name == "csrf"
                    && c.is_hidden()
                    && c.value == c.value.trim()
                    && !c.value.is_empty()
            }) || f.action.contains("csrf=");
            if !token {
                out.problems.push(format!(
                    "{path}: the form to {} carries no CSRF token",
                    f.action
                ));
            }
            let visible: BTreeSet<&str> = f
                .controls
                .iter()
                .filter(|c| !c.is_hidden() && !c.is_submit() && !c.name.is_empty())
                .map(|c| c.name.as_str())
                .collect();
            for h in f.controls.iter().filter(|c| c.is_hidden()) {
                if visible.contains(h.name.as_str()) {
                    out.problems.push(format!(
                        "{path}: the form to {} has a hidden copy of its visible field {:?}",
                        f.action, h.name
                    ));
                }
            }
            out.forms.push((path.clone(), f));
        }
        for (href, download) in &doc.links {
            if let Some(next) = followed(href, *download)
                && seen.insert(next.clone())
            {
                queue.push_back((next, false));
            }
        }
    }
    out
}

/// Posts a form exactly as a browser would: its fields with the values the
/// page shows, pressed with its first submit button, from the same origin.
async fn submit(c: &Client, f: &Form) -> common::Resp {
    let fields = f.submission(f.default_submitter());
    let req = c
        .request(reqwest::Method::POST, &f.action)
        .header("origin", c.base.clone())
        .form(&fields);
    c.send(req).await
}

/// The forms whose POST is tried: saving with the values shown changes
/// nothing a later step depends on (or is refused with a message).
const SUBMITTED: &[&str] = &[
    "/cycle/*/sheets/*",
    "/kpis/*/scenario",
    "/kpis/*/actuals",
    "/cycle/*/budget/*",
    "/programs/*/edit",
    "/programs/*/money",
    "/admin/mail",
];

fn fy(y: i32) -> FiscalYear {
    FiscalYear::new(y).unwrap()
}

/// A sheet of `dept` that its section may still edit and that has an
/// indicator with a target: (fiscal year, program code, indicator index).
async fn editable_sheet(app: &App, dept: &str) -> (i32, String, usize) {
    let sections = app.store.sections().await.unwrap();
    let programs = app.store.programs().await.unwrap();
    let dept_of = |program: &str| {
        let p = programs.iter().find(|p| p.code == program)?;
        sections
            .iter()
            .find(|s| s.code == p.section_code)
            .map(|s| s.department_code.clone())
    };
    let now = citykpi_app::clock::current_fiscal_year().year();
    for y in (now - 6..=now).rev() {
        for s in app.store.sheets(fy(y)).await.unwrap() {
            if !s.sheet.state.editable_by_section()
                || dept_of(&s.sheet.program_code).as_deref() != Some(dept)
            {
                continue;
            }
            if let Some(i) = s.sheet.indicators.iter().position(|i| i.target.is_some()) {
                return (y, s.sheet.program_code.clone(), i);
            }
        }
    }
    panic!("the demo should leave an editable sheet with an indicator target in {dept}");
}

async fn every_form(backend: Backend) {
    let log = server_log();
    let app = spawn(backend).await;
    let from = log_len(&log);
    let editor_user = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor_user.section_code).await;
    let (kpi, _) = app.kpis_of(&dept).await;
    let (program, _) = app.programs_of(&dept).await;
    let (y, sheet, _) = editable_sheet(&app, &dept).await;
    let seeds: Vec<String> = [
        "/".to_string(),
        format!("/cycle?fy={y}"),
        format!("/cycle/{y}/sheets/{sheet}"),
        format!("/cycle/{y}/budget/{sheet}"),
        format!("/cycle/{y}/budget"),
        format!("/kpis/{kpi}"),
        format!("/kpis/{kpi}/scenario"),
        format!("/kpis/{kpi}/actuals"),
        format!("/programs/{program}"),
        format!("/programs/{program}/edit"),
        format!("/programs/{program}/money"),
        "/partners/inquiries".to_string(),
        "/partners/proposals".to_string(),
        "/partners/menu".to_string(),
        "/partners/join".to_string(),
        "/account".to_string(),
    ]
    .into();
    let admin_seeds: Vec<String> = seeds
        .iter()
        .cloned()
        .chain(
            [
                "/admin/users",
                "/admin/mail",
                "/admin/audit",
                "/partners/members",
                "/partners/themes/manage",
            ]
            .map(String::from),
        )
        .collect();

    let mut problems = Vec::new();
    let mut posted = Vec::new();
    for (login, seeds) in [
        ("admin", &admin_seeds),
        (editor_user.login.as_str(), &seeds),
    ] {
        let c = app.login(login).await;
        let w = walk(&c, seeds, 2, 220).await;
        eprintln!("{login}: {} pages, {} POST forms", w.pages, w.forms.len());
        assert!(w.pages > 40, "{login}: the walk saw only {} pages", w.pages);
        problems.extend(w.problems.into_iter().map(|p| format!("{login}: {p}")));
        let mut tried = BTreeSet::new();
        for (page, f) in &w.forms {
            let kind = pattern(&f.action);
            if !SUBMITTED.contains(&kind.as_str()) || !tried.insert(kind.clone()) {
                continue;
            }
            // The page again, as the user would have it just before pressing the button.
            let fresh = c.get(page).await;
            let Some(form) = html::parse(&fresh.body)
                .forms
                .into_iter()
                .find(|g| g.action == f.action && g.method == "post")
            else {
                problems.push(format!("{login}: {page} lost its form to {}", f.action));
                continue;
            };
            let mut form = form;
            // A KPI without a scenario shows an empty form: the user writes
            // the strategy and a first step before saving.
            if kind == "/kpis/*/scenario" {
                for (name, text) in [
                    ("strategy", "地域の団体と連携して参加者を増やす"),
                    ("chain_0__text", "出前講座を開く"),
                ] {
                    if let Some(ctl) = form.controls.iter_mut().find(|c| c.name == name)
                        && ctl.value.trim().is_empty()
                    {
                        ctl.value = text.to_string();
                    }
                }
            }
            let r = submit(&c, &form).await;
            // Saving what the page shows is accepted (303), except the
            // entry of a new actual, whose fields start empty, and the money
            // of a year with no figures yet (both 422: a required amount).
            let empty_money = kind == "/programs/*/money"
                && form
                    .controls
                    .iter()
                    .any(|c| c.name == "budget_initial" && c.value.trim().is_empty());
            let expected = if kind == "/kpis/*/actuals" || empty_money {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::SEE_OTHER
            };
            if r.status != expected {
                // The messages the page gave, so a failure says why.
                let messages: Vec<&str> = r
                    .body
                    .split("class=\"error-message\"")
                    .skip(1)
                    .filter_map(|rest| rest.split('>').nth(1)?.split('<').next())
                    .collect();
                problems.push(format!(
                    "{login}: POST {} (from {page}) answered {}, not {expected}: {messages:?}",
                    form.action, r.status
                ));
            }
            posted.push((login.to_string(), kind, r.status));
        }
        for kind in SUBMITTED {
            let admin_only = *kind == "/admin/mail";
            if (login == "admin" || !admin_only)
                && !posted.iter().any(|(l, k, _)| l == login && k == kind)
            {
                problems.push(format!(
                    "{login}: the walk found no form to {kind} to submit"
                ));
            }
        }
        // Someone opens the logout address itself: answered, not an error.
        let r = c.get("/logout").await;
        if r.status.is_server_error() || r.status == StatusCode::FORBIDDEN {
            problems.push(format!("{login}: GET /logout answered {}", r.status));
        }
    }
    problems.extend(
        error_lines(&log, from)
            .into_iter()
            .map(|l| format!("the server logged: {l}")),
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}\n(posted: {posted:?})",
        problems.len(),
        problems.join("\n")
    );
}
both!(every_form_walk, every_form);

// ----- the evaluation sheet keeps what was typed -----

async fn sheet_keeps_edited_indicator(backend: Backend) {
    let app = spawn(backend).await;
    let editor_user = app.user_with(Role::DepartmentEditor).await;
    let dept = app.department_of(&editor_user.section_code).await;
    let (y, code, i) = editable_sheet(&app, &dept).await;
    let editor = app.login(&editor_user.login).await;
    let path = format!("/cycle/{y}/sheets/{code}");
    let page = editor.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    let mut doc = html::parse(&page.body);
    let k = doc
        .forms
        .iter()
        .position(|f| f.method == "post" && f.action == path)
        .expect("the sheet's edit form");
    let name = format!("indicators_{i}__target");
    let before = app.store.sheet(&code, fy(y)).await.unwrap().unwrap();
    let old = before.sheet.indicators[i].target.unwrap();
    let new = if old == 800.0 { 801.0 } else { 800.0 };
    // The user types into the field they see (a text box, not a hidden input).
    let typed = doc.forms[k]
        .controls
        .iter_mut()
        .chain(doc.orphans.iter_mut())
        .find(|c| c.name == name && c.kind == "text")
        .unwrap_or_else(|| panic!("a visible field {name}"));
    typed.value = new.to_string();
    let form = &doc.forms[k];
    assert!(
        form.names().contains(&name.as_str()),
        "the form sends {name}: {:?}",
        form.names()
    );
    let save = form
        .controls
        .iter()
        .find(|c| c.is_submit() && c.value == "save")
        .expect("the save button");
    let fields = form.submission(Some(save));
    let sent: Vec<&str> = fields
        .iter()
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        sent,
        vec![new.to_string().as_str()],
        "what the browser sends"
    );
    let r = editor
        .send(
            editor
                .request(reqwest::Method::POST, &path)
                .header("origin", editor.base.clone())
                .form(&fields),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after = app.store.sheet(&code, fy(y)).await.unwrap().unwrap();
    assert_eq!(after.version, before.version + 1);
    assert_eq!(after.sheet.indicators[i].target, Some(new));
    // The page shows the saved value in the field.
    let again = html::parse(&editor.get(&path).await.body);
    let shown = again
        .forms
        .iter()
        .flat_map(|f| f.controls.iter())
        .find(|c| c.name == name)
        .map(|c| c.value.clone());
    assert_eq!(shown.as_deref(), Some(new.to_string().as_str()));
}
both!(sheet_edit, sheet_keeps_edited_indicator);

// ----- downloads of a cycle not yet started -----

async fn cycle_downloads_give_workbooks(backend: Backend) {
    use calamine::{Data, Reader};
    let app = spawn(backend).await;
    let editor_user = app.user_with(Role::DepartmentEditor).await;
    let finance_user = app.user_with(Role::Finance).await;
    let now = citykpi_app::clock::current_fiscal_year().year();
    let mut offered = 0;
    for login in [
        "admin",
        finance_user.login.as_str(),
        editor_user.login.as_str(),
    ] {
        let c = app.login(login).await;
        for y in [now, now - 1] {
            let pages = [
                format!("/cycle?fy={y}"),
                format!("/cycle/{y}/sheets"),
                format!("/cycle/{y}/budget"),
                format!("/cycle/{y}/restructure"),
                format!("/cycle/{y}/progress"),
            ];
            for p in &pages {
                let page = c.get(p).await;
                assert_eq!(page.status, StatusCode::OK, "{login} GET {p}");
                for (href, download) in html::parse(&page.body).links {
                    let is_file = [".xlsx", ".pdf"]
                        .iter()
                        .any(|e| href.split('?').next().unwrap_or("").ends_with(e));
                    if !(download || is_file) || !href.starts_with('/') {
                        continue;
                    }
                    offered += 1;
                    let (status, headers, bytes) = c.get_bytes(&href).await;
                    assert_eq!(
                        status,
                        StatusCode::OK,
                        "{login}: {p} offers {href}, which answers {status}: {}",
                        String::from_utf8_lossy(&bytes)
                    );
                    let kind = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    if href.contains(".pdf") {
                        assert!(bytes.starts_with(b"%PDF"), "{href}: {kind}");
                        continue;
                    }
                    assert!(kind.contains("spreadsheetml"), "{href}: {kind}");
                    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes))
                        .unwrap_or_else(|e| panic!("{href} is no workbook: {e}"));
                    let first = book.worksheet_range_at(0).expect("a sheet").unwrap();
                    let cells: Vec<String> = first
                        .used_cells()
                        .filter_map(|(_, _, d)| match d {
                            Data::String(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect();
                    assert!(!cells.is_empty(), "{href}: the first sheet is empty");
                }
            }
        }
    }
    assert!(offered > 0, "no download offered at all");
    // The current year's evaluations: not started, so the workbook says why,
    // in Japanese first and English second.
    let admin = app.login("admin").await;
    let (status, _, bytes) = admin
        .get_bytes(&format!("/cycle/{now}/reports/evaluations.xlsx"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let first = book.worksheet_range_at(0).unwrap().unwrap();
    let a1 = first
        .get_value((0, 0))
        .map(|d| d.to_string())
        .unwrap_or_default();
    let a2 = first
        .get_value((1, 0))
        .map(|d| d.to_string())
        .unwrap_or_default();
    assert!(
        a1.contains("評価シート") && a1.contains("始まっていない"),
        "{a1}"
    );
    assert!(
        a2.contains("evaluation sheet") && a2.contains("not started"),
        "{a2}"
    );
}
both!(cycle_downloads, cycle_downloads_give_workbooks);

// ----- the page reader itself -----

#[test]
fn reads_forms_like_a_browser() {
    use common::html::parse;
    let page = r#"<p><a href="/x?a=1&amp;b=2">x</a><input type="text" name="lost" value="1">
<form id="f" method="post" action="/save"><input type="hidden" name="csrf" value="t&quot;k">
<textarea name="t">
a &lt;b&gt;</textarea><select name="s"><option value="1">1</option><option value="2" selected>2</option></select>
<input type="checkbox" name="c"><input type="checkbox" name="d" value="y" checked>
<button type="submit" name="action" value="save">s</button><button type="submit" name="action" value="submit">t</button></form>
<input name="outside" value="9" form="f">"#;
    let d = parse(page);
    assert_eq!(d.links, vec![("/x?a=1&b=2".to_string(), false)]);
    assert_eq!(d.orphans.len(), 1);
    assert_eq!(d.orphans[0].name, "lost");
    let f = &d.forms[0];
    let sub = f.submission(f.default_submitter());
    let want: Vec<(String, String)> = [
        ("csrf", "t\"k"),
        ("t", "a <b>"),
        ("s", "2"),
        ("d", "y"),
        ("action", "save"),
        ("outside", "9"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(sub, want);
}

// ----- labels and the API docs page -----

/// The text of `<label for="{id}">…</label>` in a page.
fn label_of(page: &str, id: &str) -> String {
    let open = format!("<label for=\"{id}\">");
    let Some(i) = page.find(&open) else {
        return String::new();
    };
    let rest = &page[i + open.len()..];
    rest[..rest.find("</label>").unwrap_or(0)].to_string()
}

async fn program_period_and_api_docs(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.login("admin").await;
    let code = app.store.programs().await.unwrap()[0].code.clone();
    // The program form's two years are told apart by their labels.
    let edit = admin.get(&format!("/programs/{code}/edit")).await;
    assert_eq!(edit.status, StatusCode::OK);
    let (start, end) = (
        label_of(&edit.body, "start_fy"),
        label_of(&edit.body, "end_fy"),
    );
    assert!(
        start.contains("開始") && end.contains("終了"),
        "{start} / {end}"
    );
    assert_ne!(start, end);

    // The API docs page lists every operation of openapi.json.
    let spec: serde_json::Value =
        serde_json::from_str(&admin.get("/api/openapi.json").await.body).unwrap();
    let docs = admin.get("/api").await.body;
    let mut missing = Vec::new();
    let mut n = 0;
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            n += 1;
            let row = format!(
                "<code>{}</code></td><td><code>{path}</code>",
                method.to_ascii_uppercase()
            );
            if !docs.contains(&row) {
                missing.push(format!("{} {path}", method.to_ascii_uppercase()));
            }
        }
    }
    assert!(n > 30, "openapi.json documents {n} operations");
    assert!(missing.is_empty(), "the docs page lacks {missing:?}");
}
both!(period_labels_api_docs, program_period_and_api_docs);

// ----- the KPI page and the dashboard's bars -----

async fn kpi_page_units_and_language(backend: Backend) {
    let app = spawn(backend).await;
    let viewer = app.login("viewer").await;
    let kpis = app.store.kpis().await.unwrap();
    // A KPI without a unit (a rate such as the fertility rate): no empty brackets.
    let unitless = kpis
        .iter()
        .find(|k| k.unit.is_empty())
        .expect("a demo KPI without unit");
    let page = viewer.get(&format!("/kpis/{}", unitless.code)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("（）"),
        "empty brackets on the KPI page"
    );
    assert!(page.body.contains("なし（比率・指数）"));
    // The forecast's method and reason in the page's language only.
    let mut forecasts = 0;
    for k in kpis.iter().take(40) {
        let ja = viewer.get(&format!("/kpis/{}?lang=ja", k.code)).await.body;
        let en = viewer.get(&format!("/kpis/{}?lang=en", k.code)).await.body;
        for english in [
            "consecutive yearly points",
            "linear trend",
            "the observed change continued",
            "provisional excluded",
        ] {
            assert!(
                !ja.contains(english),
                "{}: {english:?} on the Japanese page: {}",
                k.code,
                ja.find(english)
                    .map(|i| &ja[i.saturating_sub(600)..i + 100])
                    .unwrap_or("")
            );
        }
        for japanese in ["指数平滑法", "線形トレンド", "直近の変化を延長", "暫定値"]
        {
            let at = en.find(japanese);
            assert!(at.is_none(), "{}: {japanese:?} on the English page", k.code);
        }
        forecasts += usize::from(ja.contains("指数平滑法") || ja.contains("線形トレンド"));
    }
    assert!(forecasts > 0, "no KPI with a forecast among the first 40");
    // The dashboard's bars say what they measure.
    let dash = viewer.get("/?lang=ja").await.body;
    assert!(
        dash.contains("aria-label=\"最終目標までの進捗 "),
        "the dashboard's bars are labelled as progress to the final target"
    );
}
both!(kpi_page, kpi_page_units_and_language);
