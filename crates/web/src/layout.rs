//! The page frame (header, navigation, footer) and small pieces shared by pages.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use citykpi_domain::FiscalYear;
use citykpi_domain::money::{format_yen, to_sen_yen};
use citykpi_domain::org::Role;
use citykpi_domain::progress::Status;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::assets;
use crate::ctx::Ctx;
use crate::i18n::Lang;
use crate::session::SessionUser;

/// Which navigation item a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Home,
    Kpis,
    Programs,
    Search,
    Cycle,
    Partners,
    Data,
    Audit,
    Users,
    Account,
    Api,
    Public,
    None,
    WhatIf,
}

pub struct Page<'a> {
    pub title: &'a str,
    pub nav: Nav,
    pub body: Markup,
}

/// A whole HTML page in the frame of the application.
pub fn render(ctx: &Ctx, page: Page<'_>) -> Response {
    let markup = frame(
        ctx.lang,
        ctx.user(),
        ctx.csrf(),
        &ctx.other_lang_url(),
        page,
    );
    Html(markup.into_string()).into_response()
}

fn frame(
    lang: Lang,
    user: Option<&SessionUser>,
    csrf: &str,
    other_lang_url: &str,
    page: Page<'_>,
) -> Markup {
    let t = lang.text();
    let public = page.nav == Nav::Public || user.is_none();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (page.title) " | " (t.app_name) }
                link rel="icon" type="image/svg+xml" href=(assets::url("favicon.svg"));
                link rel="stylesheet" href=(assets::url("app.css"));
                script src=(assets::url("app.js")) defer {}
            }
            body {
                a.skip-link href="#main" { (t.skip_to_content) }
                header.site-header {
                    div.inner {
                        a.brand href=(if public { "/public" } else { "/" }) {
                            img src=(assets::url("favicon.svg")) alt="";
                            span { (t.app_name) }
                        }
                        div.header-tools {
                            a href=(other_lang_url) lang=(lang.other().code()) aria-label=(t.lang_switch_label) { (t.lang_switch) }
                            @if let Some(u) = user {
                                span.user-name { (t.logged_in_as) ": " (u.display_name) "（" (lang.role(u.role)) "）" }
                                form method="post" action="/logout" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button.secondary type="submit" { (t.logout) }
                                }
                            } @else {
                                a href="/login" { (t.login) }
                            }
                        }
                    }
                    @if let Some(u) = user {
                        nav.site-nav aria-label=(t.nav_label) {
                            ul {
                                (nav_item("/", t.nav_home, page.nav == Nav::Home))
                                @if crate::pages::mayor::MAYOR_READERS.contains(&u.role) {
                                    (nav_item("/mayor", t.mayor_title, false))
                                }
                                (nav_item("/kpis", t.nav_kpis, page.nav == Nav::Kpis))
                                (nav_item("/programs", t.nav_programs, page.nav == Nav::Programs))
                                (nav_item("/search", t.nav_search, page.nav == Nav::Search))
                                (nav_item("/cycle", t.nav_cycle, page.nav == Nav::Cycle))
                                (nav_item("/partners/inquiries", t.nav_partners, page.nav == Nav::Partners))
                                (nav_item("/data", t.nav_data, page.nav == Nav::Data))
                                @if matches!(u.role, Role::Admin | Role::Finance | Role::StrategyOffice) {
                                    (nav_item("/whatif", t.nav_whatif, page.nav == Nav::WhatIf))
                                }
                                @if matches!(u.role, Role::Admin | Role::StrategyOffice) {
                                    (nav_item("/admin/audit", t.nav_audit, page.nav == Nav::Audit))
                                }
                                @if u.role == Role::Admin {
                                    (nav_item("/admin/users", t.nav_users, page.nav == Nav::Users))
                                }
                                (nav_item("/account", t.nav_account, page.nav == Nav::Account))
                                (nav_item("/api", t.nav_api, page.nav == Nav::Api))
                                (nav_item("/public", t.nav_public, page.nav == Nav::Public))
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    (page.body)
                }
                footer.site-footer {
                    p { (t.app_name) " — " (t.footer_note) }
                }
            }
        }
    }
}

fn nav_item(href: &str, label: &str, current: bool) -> Markup {
    html! {
        li { a href=(href) aria-current=[current.then_some("page")] { (label) } }
    }
}

pub fn error_page(
    lang: Lang,
    user: Option<&SessionUser>,
    status: StatusCode,
    message: &str,
    path: &str,
) -> Markup {
    let t = lang.text();
    let body = html! {
        h1 { (t.error_title) " " (status.as_u16()) }
        p { (message) }
        @if status == StatusCode::UNAUTHORIZED {
            p { a href={ "/login?next=" (form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()) } { (t.login) } }
        } @else {
            p { a href=(if user.is_some() { "/" } else { "/public" }) { (t.back_home) } }
        }
    };
    let other = format!("{path}?lang={}", lang.other().code());
    frame(
        lang,
        user,
        "",
        &other,
        Page {
            title: t.error_title,
            nav: Nav::None,
            body,
        },
    )
}

/// The status as a coloured badge with its word (never colour alone).
pub fn status_badge(lang: Lang, s: Status) -> Markup {
    html! { span class={ "status status-" (s.as_str()) } { (lang.status(s)) } }
}

/// A number for tables: thousands separators, up to 2 decimals, △ for minus.
pub fn num(v: f64) -> String {
    citykpi_charts::format_number(v)
}

pub fn opt_num(v: Option<f64>) -> String {
    v.map(num).unwrap_or_else(|| "−".to_string())
}

/// A rate as a percentage.
pub fn pct(v: Option<f64>) -> String {
    v.map(|r| format!("{}%", num(r * 100.0)))
        .unwrap_or_else(|| "−".to_string())
}

/// Yen in 千円 with separators.
pub fn sen_yen(yen: i64) -> String {
    format_yen(to_sen_yen(yen))
}

/// The fiscal-year switcher: a plain GET form that works without JavaScript.
pub fn fy_switcher(ctx: &Ctx, years: &[FiscalYear], action: &str) -> Markup {
    let t = ctx.t;
    html! {
        form.inline-form method="get" action=(action) {
            div {
                label for="fy" { (t.fy_label) }
                select id="fy" name="fy" {
                    @for y in years.iter().rev() {
                        option value=(y.year()) selected[*y == ctx.fy] { (ctx.lang.fy(*y)) }
                    }
                }
            }
            div { button.secondary type="submit" { (t.fy_switch) } }
        }
    }
}

/// An inline chart, with its namespace declaration dropped (the HTML parser
/// knows SVG), so that the page contains no URL at all.
pub fn chart(svg: &str) -> Markup {
    PreEscaped(citykpi_charts::inline_in_html(svg))
}

/// A validation message next to a field (GOV.UK pattern).
pub fn field_error(id: &str, message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message {
            span.error-message id={ (id) "-error" } { (m) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_money() {
        assert_eq!(num(1234.5), "1,234.5");
        assert_eq!(pct(Some(0.456)), "45.6%");
        assert_eq!(pct(None), "−");
        assert_eq!(sen_yen(12_345_678), "12,346");
        assert_eq!(sen_yen(-1_500), "△2");
    }
}
