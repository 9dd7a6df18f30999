//! The public SDGs contribution menu (SDGs貢献メニュー) and members applying
//! to it themselves; the desk's forms to create, edit, open and
//! close menu items and to record each participation's dated results.
//!
//! The public page lists the items open for applications with the KPIs
//! (published ones by name) and SDG goals they serve. A member applies with
//! its member number and the e-mail address it registered with; a wrong
//! pair gets one answer whichever half is wrong. Like the other public
//! forms, the application carries the pre-session CSRF token, a honeypot and
//! a per-address rate limit. The application waits for the desk, which
//! accepts it on `/partners/menu` as before.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use citykpi_app::partners::menu_public as svc;
use citykpi_app::partners::{PartnersError, is_desk};
use citykpi_domain::partner::menu::{MenuItem, MenuItemForm, MenuKind, SelfApplicationForm};
use citykpi_domain::partner::{Problem, Problems, SdgGoal};
use maud::{Markup, html};
use serde_json::json;

use super::{
    DESK, EN, FormCtx, HONEYPOT, JA, allow_submission, app_error, area_nav, client_ip, enc,
    error_summary, field_message, form_token, goal_tags, honeypot_field, kpi_links, pt,
    set_pre_session, text_field, value, values, viewer, with_status,
};
use crate::AppState;
use crate::access::{Access, RouteRule};
use crate::cache::Snapshot;
use crate::ctx::{Ctx, query_param};
use crate::error::{WebError, WebResult};
use crate::extract::{Form, Json, Path};
use crate::i18n::Lang;
use crate::layout::{Nav, Page, field_error, render};

/// The public list of menu items.
pub const PUBLIC_MENU: &str = "/partners/sdgs-menu";

const fn r(method: &'static str, path: &'static str, access: Access) -> RouteRule {
    RouteRule {
        method,
        path,
        access,
    }
}

/// This part's routes with the roles they admit.
pub const ROUTES: &[RouteRule] = &[
    r("GET", "/partners/sdgs-menu", Access::Public),
    r("GET", "/partners/sdgs-menu/{code}", Access::Public),
    r("POST", "/partners/sdgs-menu/{code}/apply", Access::Public),
    r("GET", "/partners/sdgs-menu/{code}/thanks", Access::Public),
    r("GET", "/api/v1/partners/sdgs-menu", Access::Public),
    r("GET", "/partners/menu-items/new", Access::Roles(DESK)),
    r("POST", "/partners/menu-items", Access::Roles(DESK)),
    r("GET", "/partners/menu-items/{code}", Access::Login),
    r("POST", "/partners/menu-items/{code}", Access::Roles(DESK)),
    r(
        "POST",
        "/partners/menu-items/{code}/open",
        Access::Roles(DESK),
    ),
    r(
        "POST",
        "/partners/participations/{id}/results",
        Access::Roles(DESK),
    ),
];

/// API documentation of this part, in `api::API_DOCS`'s shape.
pub const API_DOCS: &[(&str, &str, &str, &str, Option<&str>)] = &[(
    "GET",
    "/api/v1/partners/sdgs-menu",
    "受付中のSDGs貢献メニュー（種類・説明・寄与するKPI（公開KPIは名称付き）・SDGsの目標）",
    "SDGs contribution menu items open for applications (kind, description, the KPIs they serve with the names of published ones, SDG goals)",
    None,
)];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/partners/sdgs-menu", get(public_menu))
        .route("/partners/sdgs-menu/{code}", get(public_item))
        .route("/partners/sdgs-menu/{code}/apply", post(public_apply))
        .route("/partners/sdgs-menu/{code}/thanks", get(public_thanks))
        .route("/api/v1/partners/sdgs-menu", get(api_menu))
        .route("/partners/menu-items/new", get(new_item_form))
        .route("/partners/menu-items", post(create_item))
        .route(
            "/partners/menu-items/{code}",
            get(item_page).post(update_item),
        )
        .route("/partners/menu-items/{code}/open", post(open_item))
        .route("/partners/participations/{id}/results", post(add_result))
}

// ----- the UI text of this part -----

pub struct MenuText {
    pub public_title: &'static str,
    pub public_intro: &'static str,
    pub apply: &'static str,
    pub apply_title: &'static str,
    pub apply_intro: &'static str,
    pub member_number_hint: &'static str,
    pub email_hint: &'static str,
    pub note_hint: &'static str,
    pub thanks_title: &'static str,
    pub thanks_body: &'static str,
    pub back_to_menu: &'static str,
    pub kpi_unpublished: &'static str,
    pub join_first: &'static str,
    pub new_item: &'static str,
    pub edit_item: &'static str,
    pub code: &'static str,
    pub code_fixed: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub kpi_codes: &'static str,
    pub kpi_codes_hint: &'static str,
    pub open_label: &'static str,
    pub save: &'static str,
    pub close_item: &'static str,
    pub reopen_item: &'static str,
    pub results: &'static str,
    pub result_on: &'static str,
    pub result_body: &'static str,
    pub add_result: &'static str,
    pub results_rule: &'static str,
    pub accept_on_menu: &'static str,
    pub public_page: &'static str,
    pub recorded_by: &'static str,
}

pub const MJA: MenuText = MenuText {
    public_title: "SDGs貢献メニュー",
    public_intro: "市が会員の皆さまにお願いしたい取組です。各メニューは計画のKPIとSDGsの目標に結び付いています。承認済みの会員は、会員番号と登録したメールアドレスで申し込めます。市の担当者が確認し、受入の可否をお知らせします。",
    apply: "申し込む",
    apply_title: "このメニューに申し込む",
    apply_intro: "会員番号と、会員登録の際のメールアドレスを入力してください。",
    member_number_hint: "承認の通知に記載された番号です",
    email_hint: "会員登録の際に届け出たメールアドレス",
    note_hint: "参加の予定や人数など（2000文字以内）",
    thanks_title: "申込を受け付けました",
    thanks_body: "お申込みありがとうございます。市の担当者が確認し、受入の可否をお知らせします。",
    back_to_menu: "SDGs貢献メニューに戻る",
    kpi_unpublished: "（非公開のKPI）",
    join_first: "まだ会員でない方は、先に会員登録をしてください。",
    new_item: "メニューを追加",
    edit_item: "メニューを編集",
    code: "コード",
    code_fixed: "コードは作成後に変更できません。",
    title: "名称",
    description: "説明",
    kpi_codes: "寄与するKPI",
    kpi_codes_hint: "KPIコードをカンマ区切りで（1つ以上）",
    open_label: "申込を受け付ける（公開ページに掲載）",
    save: "保存",
    close_item: "受付を終了する",
    reopen_item: "受付を再開する",
    results: "成果の記録",
    result_on: "日付",
    result_body: "成果",
    add_result: "成果を記録",
    results_rule: "成果は受入または完了の参加に記録できます。申込の受入・見送りは貢献メニューのページで行います。",
    accept_on_menu: "申込の受入・見送り",
    public_page: "公開ページ",
    recorded_by: "記録者",
};

pub const MEN: MenuText = MenuText {
    public_title: "SDGs contribution menu",
    public_intro: "What the city asks its partner members to do. Each item serves KPIs of the city's plans and SDG goals. Approved members apply with their member number and registered e-mail address; city staff check each application and tell you whether it is accepted.",
    apply: "Apply",
    apply_title: "Apply to this item",
    apply_intro: "Enter your member number and the e-mail address you registered with.",
    member_number_hint: "The number in the notice of your approval",
    email_hint: "The address given when you registered",
    note_hint: "Your plans, number of people, etc. (at most 2,000 characters)",
    thanks_title: "Application received",
    thanks_body: "Thank you for applying. City staff will check your application and tell you whether it is accepted.",
    back_to_menu: "Back to the SDGs contribution menu",
    kpi_unpublished: "(unpublished KPI)",
    join_first: "Not a member yet? Please register first.",
    new_item: "Add a menu item",
    edit_item: "Edit the menu item",
    code: "Code",
    code_fixed: "The code cannot be changed once created.",
    title: "Title",
    description: "Description",
    kpi_codes: "KPIs it serves",
    kpi_codes_hint: "KPI codes, comma separated (at least one)",
    open_label: "Open for applications (listed on the public page)",
    save: "Save",
    close_item: "Close for applications",
    reopen_item: "Open again",
    results: "Results",
    result_on: "Date",
    result_body: "Result",
    add_result: "Record the result",
    results_rule: "Results are recorded for accepted or completed participations. Applications are accepted or declined on the menu page.",
    accept_on_menu: "Accept or decline applications",
    public_page: "Public page",
    recorded_by: "Recorded by",
};

fn mt(lang: Lang) -> &'static MenuText {
    match lang {
        Lang::Ja => &MJA,
        Lang::En => &MEN,
    }
}

/// A coded value's label in the reader's language.
macro_rules! label {
    ($lang:expr, $v:expr) => {
        match $lang {
            Lang::Ja => $v.label_ja(),
            Lang::En => $v.label_en(),
        }
    };
}

/// The KPIs an item serves as the public may see them: published ones by
/// name with a link to their public page, the others only counted.
fn public_kpis(lang: Lang, snap: &Snapshot, codes: &[String]) -> Markup {
    let published: Vec<_> = codes
        .iter()
        .filter_map(|c| snap.kpi(c).filter(|k| k.published))
        .collect();
    let hidden = codes.len() - published.len();
    html! {
        ul {
            @for k in &published {
                li { a href={ "/public/kpis/" (enc(&k.code)) } { (lang.name(&k.name_ja, &k.name_en)) } }
            }
            @if hidden > 0 { li.muted { (mt(lang).kpi_unpublished) " × " (hidden) } }
        }
    }
}

fn item_facts(lang: Lang, snap: &Snapshot, item: &MenuItem) -> Markup {
    let t = pt(lang);
    html! {
        dl.fields {
            dt { (t.menu_kind) } dd { (label!(lang, item.kind)) }
            dt { (t.kpis) } dd { (public_kpis(lang, snap, &item.kpi_codes)) }
            dt { (t.sdg_goals) } dd { (goal_tags(lang, &item.sdg_goals)) }
        }
        @if !item.description.is_empty() { p { (item.description) } }
    }
}

// ----- public pages -----

pub async fn public_menu(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let m = mt(ctx.lang);
    let items = svc::open_items(state.store()).await.map_err(app_error)?;
    let snap = state.snapshot().await?;
    let body = html! {
        h1 { (m.public_title) }
        p.lead { (m.public_intro) }
        p { (m.join_first) " " a href="/partners/join" { (pt(ctx.lang).join_title) } }
        @if items.is_empty() { p { (pt(ctx.lang).none_yet) } }
        @for item in &items {
            section.card id={ "menu-" (item.code) } {
                h2 { (item.title) }
                (item_facts(ctx.lang, &snap, item))
                p { a.button href={ (PUBLIC_MENU) "/" (enc(&item.code)) } { (m.apply) } }
            }
        }
    };
    Ok(render(
        &ctx,
        Page {
            title: m.public_title,
            nav: Nav::Public,
            body,
        },
    ))
}

fn self_form_of(pairs: &[(String, String)]) -> SelfApplicationForm {
    SelfApplicationForm {
        member_id: value(pairs, "member_id"),
        email: value(pairs, "email"),
        note: value(pairs, "note"),
    }
}

struct ApplyView<'a> {
    item: &'a MenuItem,
    form: &'a SelfApplicationForm,
    problems: &'a Problems,
    status: StatusCode,
}

async fn apply_view(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    v: ApplyView<'_>,
) -> WebResult<Response> {
    let (t, m, lang) = (pt(ctx.lang), mt(ctx.lang), ctx.lang);
    let (item, form, problems) = (v.item, v.form, v.problems);
    let snap = state.snapshot().await?;
    let (token, fresh) = form_token(ctx, headers);
    let fc = FormCtx { problems, lang };
    let labels = [
        ("member_id", t.member_number),
        ("email", t.email),
        ("note", t.note),
        ("menu_code", m.public_title),
    ];
    let body = html! {
        nav aria-label="breadcrumb" { ol.breadcrumbs { li { a href=(PUBLIC_MENU) { (m.public_title) } } li aria-current="page" { (item.title) } } }
        h1 { (item.title) }
        (item_facts(lang, &snap, item))
        h2 { (m.apply_title) }
        p { (m.apply_intro) }
        (error_summary(ctx, problems, &labels))
        form.stack method="post" action={ (PUBLIC_MENU) "/" (enc(&item.code)) "/apply" } novalidate {
            input type="hidden" name="csrf" value=(token);
            (text_field(&fc, "member_id", t.member_number, &form.member_id, "text", true, Some(m.member_number_hint)))
            (text_field(&fc, "email", t.email, &form.email, "email", true, Some(m.email_hint)))
            (text_field(&fc, "note", t.note, &form.note, "textarea", false, Some(m.note_hint)))
            (honeypot_field(lang))
            div { button type="submit" { (t.send) } }
        }
        p { a href="/partners/join" { (t.join_title) } }
    };
    let mut resp = with_status(
        render(
            ctx,
            Page {
                title: &item.title,
                nav: Nav::Public,
                body,
            },
        ),
        v.status,
    );
    set_pre_session(state, &mut resp, &token, fresh);
    Ok(resp)
}

pub async fn public_item(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> WebResult<Response> {
    let item = svc::open_item(state.store(), &code)
        .await
        .map_err(app_error)?;
    apply_view(
        &state,
        &ctx,
        &headers,
        ApplyView {
            item: &item,
            form: &SelfApplicationForm::default(),
            problems: &Problems(Vec::new()),
            status: StatusCode::OK,
        },
    )
    .await
}

pub async fn public_apply(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let item = svc::open_item(state.store(), &code)
        .await
        .map_err(app_error)?;
    let form = self_form_of(&pairs);
    let thanks = format!("{PUBLIC_MENU}/{}/thanks", enc(&item.code));
    if !allow_submission(&state, &client_ip(connect), "sdgs-menu") {
        let p = Problems(vec![Problem::new(
            "member_id",
            JA.rate_limited,
            EN.rate_limited,
        )]);
        let mut resp = apply_view(
            &state,
            &ctx,
            &headers,
            ApplyView {
                item: &item,
                form: &form,
                problems: &p,
                status: StatusCode::TOO_MANY_REQUESTS,
            },
        )
        .await?;
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
        return Ok(resp);
    }
    // A filled honeypot is a bot: it is told "thank you" and nothing is stored.
    if !value(&pairs, HONEYPOT).is_empty() {
        return Ok(Redirect::to(&thanks).into_response());
    }
    match svc::apply_as_member(state.store(), &item.code, &form).await {
        Ok(_) => Ok(Redirect::to(&thanks).into_response()),
        Err(PartnersError::Invalid(p)) => {
            apply_view(
                &state,
                &ctx,
                &headers,
                ApplyView {
                    item: &item,
                    form: &form,
                    problems: &p,
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                },
            )
            .await
        }
        Err(e) => Err(app_error(e)),
    }
}

pub async fn public_thanks(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    let m = mt(ctx.lang);
    let item = state
        .store()
        .menu_item(&code)
        .await
        .map_err(|e| app_error(e.into()))?
        .ok_or(WebError::NotFound)?;
    let body = html! {
        h1 { (m.thanks_title) }
        div.notice.success role="status" { p { (item.title) } p { (m.thanks_body) } }
        p { a href=(PUBLIC_MENU) { (m.back_to_menu) } }
    };
    Ok(render(
        &ctx,
        Page {
            title: m.thanks_title,
            nav: Nav::Public,
            body,
        },
    ))
}

pub async fn api_menu(State(state): State<AppState>) -> WebResult<Json<serde_json::Value>> {
    let items = svc::open_items(state.store()).await.map_err(app_error)?;
    let snap = state.snapshot().await?;
    let items: Vec<serde_json::Value> = items
        .iter()
        .map(|i| {
            let kpis: Vec<serde_json::Value> = i
                .kpi_codes
                .iter()
                .filter_map(|c| snap.kpi(c).filter(|k| k.published))
                .map(|k| json!({ "code": k.code, "name_ja": k.name_ja, "name_en": k.name_en }))
                .collect();
            json!({
                "code": i.code,
                "title": i.title,
                "kind": i.kind.code(),
                "description": i.description,
                "kpis": kpis,
                "sdg_goals": i.sdg_goals,
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

// ----- staff: menu items and results -----

fn item_form_of(pairs: &[(String, String)]) -> MenuItemForm {
    MenuItemForm {
        code: value(pairs, "code"),
        title: value(pairs, "title"),
        kind: value(pairs, "kind"),
        description: value(pairs, "description"),
        kpi_codes: value(pairs, "kpi_codes"),
        sdg_goals: values(pairs, "sdg_goals"),
        open: value(pairs, "open") == "1",
    }
}

fn form_of_item(item: &MenuItem) -> MenuItemForm {
    MenuItemForm {
        code: item.code.clone(),
        title: item.title.clone(),
        kind: item.kind.code().to_string(),
        description: item.description.clone(),
        kpi_codes: item.kpi_codes.join(", "),
        sdg_goals: item
            .sdg_goals
            .iter()
            .map(|g| g.number().to_string())
            .collect(),
        open: item.open,
    }
}

/// The create or edit form of a menu item (`new`: the code may be typed).
fn item_form(ctx: &Ctx, form: &MenuItemForm, problems: &Problems, new: bool) -> Markup {
    let (t, m, lang) = (pt(ctx.lang), mt(ctx.lang), ctx.lang);
    let fc = FormCtx { problems, lang };
    let action = if new {
        "/partners/menu-items".to_string()
    } else {
        format!("/partners/menu-items/{}", enc(&form.code))
    };
    let labels = [
        ("code", m.code),
        ("title", m.title),
        ("kind", t.menu_kind),
        ("description", m.description),
        ("kpi_codes", m.kpi_codes),
        ("sdg_goals", t.sdg_goals),
    ];
    html! {
        (error_summary(ctx, problems, &labels))
        form.stack method="post" action=(action) novalidate {
            input type="hidden" name="csrf" value=(ctx.csrf());
            @if new {
                (text_field(&fc, "code", m.code, &form.code, "text", true, Some(m.code_fixed)))
            } @else {
                p { (m.code) ": " strong { (form.code) } }
                input type="hidden" name="code" value=(form.code);
            }
            (text_field(&fc, "title", m.title, &form.title, "text", true, None))
            @let msg = field_message(lang, problems, "kind");
            div class=[msg.as_ref().map(|_| "field-error")] {
                label for="kind" { (t.menu_kind) }
                (field_error("kind", msg.as_deref()))
                select id="kind" name="kind" {
                    option value="" { "—" }
                    @for k in MenuKind::ALL { option value=(k.code()) selected[form.kind == k.code()] { (label!(lang, k)) } }
                }
            }
            (text_field(&fc, "description", m.description, &form.description, "textarea", false, None))
            (text_field(&fc, "kpi_codes", m.kpi_codes, &form.kpi_codes, "text", true, Some(m.kpi_codes_hint)))
            @let msg = field_message(lang, problems, "sdg_goals");
            fieldset id="sdg_goals" class=[msg.as_ref().map(|_| "field-error")] {
                legend { (t.sdg_goals) }
                (field_error("sdg_goals", msg.as_deref()))
                @for g in SdgGoal::all() {
                    @let id = format!("sdg-{}", g.number());
                    div {
                        input type="checkbox" id=(id) name="sdg_goals" value=(g.number()) checked[form.sdg_goals.iter().any(|v| v == &g.number().to_string())];
                        label for=(id) { (g.number()) ". " (label!(lang, g)) }
                    }
                }
            }
            div {
                input type="checkbox" id="open" name="open" value="1" checked[form.open];
                label for="open" { (m.open_label) }
            }
            div { button type="submit" { (m.save) } }
        }
    }
}

fn item_form_page(
    ctx: &Ctx,
    form: &MenuItemForm,
    problems: &Problems,
    status: StatusCode,
) -> Response {
    let m = mt(ctx.lang);
    let body = html! {
        (area_nav(ctx, "/partners/menu"))
        h1 { (m.new_item) }
        (item_form(ctx, form, problems, true))
    };
    with_status(
        render(
            ctx,
            Page {
                title: m.new_item,
                nav: Nav::Partners,
                body,
            },
        ),
        status,
    )
}

pub async fn new_item_form(ctx: Ctx) -> Response {
    let form = MenuItemForm {
        open: true,
        ..MenuItemForm::default()
    };
    item_form_page(&ctx, &form, &Problems(Vec::new()), StatusCode::OK)
}

pub async fn create_item(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    let form = item_form_of(&pairs);
    match svc::save_item(state.store(), &form, true, &v.login).await {
        Ok(item) => Ok(
            Redirect::to(&format!("/partners/menu-items/{}?saved=1", enc(&item.code)))
                .into_response(),
        ),
        Err(PartnersError::Invalid(p)) => Ok(item_form_page(
            &ctx,
            &form,
            &p,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(app_error(e)),
    }
}

/// What went wrong on the item page: the item form or one participation's
/// result form.
enum Failed<'a> {
    None,
    Item(&'a MenuItemForm, &'a Problems),
    Result {
        participation: i64,
        on: &'a str,
        body: &'a str,
        problems: &'a Problems,
    },
}

async fn item_view(
    state: &AppState,
    ctx: &Ctx,
    code: &str,
    failed: Failed<'_>,
    status: StatusCode,
) -> WebResult<Response> {
    use citykpi_domain::partner::menu::ParticipationStatus;
    let (t, m, lang) = (pt(ctx.lang), mt(ctx.lang), ctx.lang);
    let (item, parts) = svc::item_detail(state.store(), code)
        .await
        .map_err(app_error)?;
    let desk = ctx.user().is_some_and(|u| is_desk(u.role));
    let saved = query_param(ctx.query.as_deref(), "saved").is_some();
    let today = citykpi_app::partners::today().to_string();
    let no_problems = Problems(Vec::new());
    let (edit_form, edit_problems) = match &failed {
        Failed::Item(f, p) => ((*f).clone(), *p),
        _ => (form_of_item(&item), &no_problems),
    };
    let body = html! {
        (area_nav(ctx, "/partners/menu"))
        nav aria-label="breadcrumb" { ol.breadcrumbs { li { a href="/partners/menu" { (t.menu_title) } } li aria-current="page" { (item.title) } } }
        h1 { (item.title) " " span.muted { "(" (item.code) ")" } }
        @if saved && matches!(failed, Failed::None) { div.notice.success role="status" { (t.saved) } }
        @if let Failed::Result { problems, participation, .. } = &failed {
            div.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                h2 id="error-summary-title" { (ctx.t.error_summary) }
                ul { @for p in &problems.0 {
                    @let label = if p.field == "on" { m.result_on } else { m.result_body };
                    li { a href={ "#" (p.field) "-" (participation) } { (label) ": " (super::problem_text(lang, p)) } }
                } }
            }
        }
        dl.fields {
            dt { (t.menu_kind) } dd { (label!(lang, item.kind)) }
            dt { (t.status) } dd { @if item.open { (t.menu_open) " — " a href={ (PUBLIC_MENU) "/" (enc(&item.code)) } { (m.public_page) } } @else { (t.menu_closed) } }
            dt { (t.kpis) } dd { (kpi_links(&item.kpi_codes)) }
            dt { (t.sdg_goals) } dd { (goal_tags(lang, &item.sdg_goals)) }
        }
        @if !item.description.is_empty() { p { (item.description) } }
        @if desk {
            form.inline-form method="post" action={ "/partners/menu-items/" (enc(&item.code)) "/open" } {
                input type="hidden" name="csrf" value=(ctx.csrf());
                @if item.open {
                    input type="hidden" name="open" value="0";
                    button.secondary type="submit" { (m.close_item) }
                } @else {
                    input type="hidden" name="open" value="1";
                    button.secondary type="submit" { (m.reopen_item) }
                }
            }
        }
        h2 { (t.participations) " (" (parts.len()) ")" }
        p.muted { (m.results_rule) " " a href={ "/partners/menu#menu-" (enc(&item.code)) } { (m.accept_on_menu) } }
        @if parts.is_empty() { p.muted { (t.none_yet) } }
        @for (p, name, results) in &parts {
            section.card id={ "participation-" (p.id) } {
                h3 { (name) " — " (label!(lang, p.status)) }
                @if !p.note.is_empty() { p { (t.note) ": " (p.note) } }
                @if !p.result.is_empty() { p { (t.result) ": " (p.result) } }
                h4 { (m.results) }
                @if results.is_empty() { p.muted { (t.none_yet) } } @else {
                    div.table-wrap { table {
                        thead { tr { th scope="col" { (m.result_on) } th scope="col" { (m.result_body) } th scope="col" { (m.recorded_by) } } }
                        tbody { @for r in results { tr {
                            td { (r.on.to_string()) } td { (r.body) } td { (r.recorded_by) }
                        } } }
                    } }
                }
                @if desk && matches!(p.status, ParticipationStatus::Accepted | ParticipationStatus::Completed) {
                    @let (on, body, probs) = match &failed {
                        Failed::Result { participation, on, body, problems } if *participation == p.id => (on.to_string(), body.to_string(), Some(*problems)),
                        _ => (today.clone(), String::new(), None),
                    };
                    @let on_msg = probs.and_then(|pr| field_message(lang, pr, "on"));
                    @let body_msg = probs.and_then(|pr| field_message(lang, pr, "body"));
                    form.stack method="post" action={ "/partners/participations/" (p.id) "/results" } novalidate {
                        input type="hidden" name="csrf" value=(ctx.csrf());
                        @let on_id = format!("on-{}", p.id);
                        @let body_id = format!("body-{}", p.id);
                        div class=[on_msg.as_ref().map(|_| "field-error")] {
                            label for=(on_id) { (m.result_on) }
                            (field_error(&on_id, on_msg.as_deref()))
                            input type="date" id=(on_id) name="on" value=(on) required aria-invalid=[on_msg.as_ref().map(|_| "true")];
                        }
                        div class=[body_msg.as_ref().map(|_| "field-error")] {
                            label for=(body_id) { (m.result_body) }
                            (field_error(&body_id, body_msg.as_deref()))
                            textarea id=(body_id) name="body" rows="3" required aria-invalid=[body_msg.as_ref().map(|_| "true")] { (body) }
                        }
                        div { button.secondary type="submit" { (m.add_result) } }
                    }
                }
            }
        }
        @if desk {
            h2 { (m.edit_item) }
            (item_form(ctx, &edit_form, edit_problems, false))
        }
    };
    Ok(with_status(
        render(
            ctx,
            Page {
                title: &item.title,
                nav: Nav::Partners,
                body,
            },
        ),
        status,
    ))
}

pub async fn item_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    item_view(&state, &ctx, &code, Failed::None, StatusCode::OK).await
}

pub async fn update_item(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    // The address names the item; a code field saying otherwise is ignored.
    let form = MenuItemForm {
        code: code.clone(),
        ..item_form_of(&pairs)
    };
    match svc::save_item(state.store(), &form, false, &v.login).await {
        Ok(item) => Ok(
            Redirect::to(&format!("/partners/menu-items/{}?saved=1", enc(&item.code)))
                .into_response(),
        ),
        Err(PartnersError::Invalid(p)) => {
            item_view(
                &state,
                &ctx,
                &code,
                Failed::Item(&form, &p),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(app_error(e)),
    }
}

pub async fn open_item(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    let open = match value(&pairs, "open").as_str() {
        "1" => true,
        "0" => false,
        other => {
            return Err(WebError::BadRequest(format!(
                "open: 「{other}」は 1（受付）か 0（終了）で指定してください / must be 1 (open) or 0 (closed)"
            )));
        }
    };
    let item = svc::set_open(state.store(), &code, open, &v.login)
        .await
        .map_err(app_error)?;
    Ok(Redirect::to(&format!("/partners/menu-items/{}?saved=1", enc(&item.code))).into_response())
}

pub async fn add_result(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let v = viewer(&ctx)?;
    let (on, body) = (value(&pairs, "on"), value(&pairs, "body"));
    match svc::record_result(state.store(), id, &on, &body, &v.login).await {
        Ok((p, _)) => Ok(Redirect::to(&format!(
            "/partners/menu-items/{}?saved=1#participation-{}",
            enc(&p.menu_code),
            p.id
        ))
        .into_response()),
        Err(PartnersError::Invalid(problems)) => {
            let p = state
                .store()
                .participation(id)
                .await
                .map_err(|e| app_error(e.into()))?
                .ok_or(WebError::NotFound)?;
            item_view(
                &state,
                &ctx,
                &p.menu_code,
                Failed::Result {
                    participation: id,
                    on: &on,
                    body: &body,
                    problems: &problems,
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(app_error(e)),
    }
}

/// Links from the staff menu page: the public page, and for the desk the
/// form of a new item.
pub fn staff_links(ctx: &Ctx, desk: bool) -> Markup {
    let m = mt(ctx.lang);
    html! {
        p {
            a href=(PUBLIC_MENU) { (m.public_page) ": " (m.public_title) }
            @if desk { " · " a href="/partners/menu-items/new" { (m.new_item) } }
        }
    }
}
