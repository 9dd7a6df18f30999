//! The strategy office's button for the e-mail notices of due work
//! (`/cycle/{fy}/notify`): the page lists who would get which notices (a dry
//! run of `citykpi_app::notify::notify`), the button mails them through the
//! configured SMTP server and the page then shows the result per recipient.
//! The same service runs `citykpi cycle notify`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use citykpi_app::notify::{self, NotifyError, NotifyReport, Outcome};
use citykpi_domain::org::Role;
use maud::{Markup, html};
use serde::Deserialize;

use super::{cycle_links, fy_label, page, parse_fy, user};
use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{WebError, WebResult};
use crate::extract::{Form, Path};
use crate::i18n::Lang;

struct MailText {
    title: &'static str,
    lead: &'static str,
    enabled: &'static str,
    disabled: &'static str,
    settings: &'static str,
    recipient: &'static str,
    email: &'static str,
    stages: &'static str,
    result: &'static str,
    planned: &'static str,
    sent: &'static str,
    failed: &'static str,
    nobody: &'static str,
    without_email: &'static str,
    already_sent: &'static str,
    send: &'static str,
    summary: &'static str,
}

const JA: MailText = MailText {
    title: "メール通知",
    lead: "期限のある作業を、担当する利用者にメールで知らせます。同じ段階の通知は一人に一度だけ送ります。",
    enabled: "メール通知は有効です。",
    disabled: "メール通知は無効です（既定）。送信するには管理者が「メール通知の設定」で有効にしてください。",
    settings: "メール通知の設定",
    recipient: "宛先",
    email: "メールアドレス",
    stages: "通知する段階（件数）",
    result: "結果",
    planned: "送信予定",
    sent: "送信済み",
    failed: "失敗",
    nobody: "新たに通知する相手はいません。",
    without_email: "メールアドレスが登録されていない利用者",
    already_sent: "通知済みの利用者（同じ段階は再送しません）",
    send: "通知メールを送信",
    summary: "送信しました",
};

const EN: MailText = MailText {
    title: "E-mail notices",
    lead: "Mails the work that is due to the users who answer for it. Each user gets a stage's notice once.",
    enabled: "E-mail notices are on.",
    disabled: "E-mail notices are off (the default). An administrator turns them on in the mail settings.",
    settings: "Mail settings",
    recipient: "Recipient",
    email: "E-mail",
    stages: "Stages notified (items)",
    result: "Result",
    planned: "to be sent",
    sent: "sent",
    failed: "failed",
    nobody: "Nobody has new work to be notified of.",
    without_email: "Users without an e-mail address",
    already_sent: "Users already notified (a stage is mailed once)",
    send: "Send the notices",
    summary: "Sent",
};

/// The page's title (for the link on the stage page).
pub(super) fn title(lang: Lang) -> &'static str {
    text(lang).title
}

fn text(lang: Lang) -> &'static MailText {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

fn report_table(lang: Lang, r: &NotifyReport) -> Markup {
    let t = text(lang);
    html! {
        @if r.deliveries.is_empty() {
            p { (t.nobody) }
        } @else {
            div.table-wrap { table #notify-deliveries {
                thead { tr {
                    th scope="col" { (t.recipient) } th scope="col" { (t.email) }
                    th scope="col" { (t.stages) } th scope="col" { (t.result) }
                } }
                tbody {
                    @for d in &r.deliveries {
                        tr data-login=(d.login) {
                            th scope="row" { (d.display_name) " " span.muted { "(" (d.login) ")" } }
                            td { (d.email) }
                            td {
                                @for n in &d.notices {
                                    (n.stage_number) ". " (lang.name(n.label_ja, n.label_en)) "（" (n.count) "）" br;
                                }
                            }
                            td {
                                @match &d.outcome {
                                    Outcome::Planned => { (t.planned) }
                                    Outcome::Sent => { span.status.status-achieved { (t.sent) } }
                                    Outcome::Failed { error } => {
                                        span.status.status-at_risk { (t.failed) } " " (error)
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        }
        @if !r.without_email.is_empty() {
            p { strong { (t.without_email) } ": " (r.without_email.join(", ")) }
        }
        @if !r.already_sent.is_empty() {
            p { strong { (t.already_sent) } ": " (r.already_sent.join(", ")) }
        }
    }
}

fn message_of(lang: Lang, e: &NotifyError) -> String {
    let errors = e.field_errors();
    if errors.is_empty() {
        return e.to_string();
    }
    errors
        .iter()
        .map(|f| match lang {
            Lang::Ja => format!("{}: {}", f.field, f.ja),
            Lang::En => format!("{}: {}", f.field, f.en),
        })
        .collect::<Vec<_>>()
        .join(" / ")
}

/// A refusal the page shows (the cycle is not running, mail is off, the
/// settings are unusable); anything else is the web's error.
fn shown(e: NotifyError) -> Result<NotifyError, WebError> {
    match e {
        NotifyError::App(a) => Err(WebError::App(a)),
        NotifyError::Cycle(c) => Err(c.into()),
        other => Ok(other),
    }
}

async fn render_page(
    state: &AppState,
    ctx: &Ctx,
    fy: citykpi_domain::FiscalYear,
    outcome: Option<Result<NotifyReport, NotifyError>>,
) -> WebResult<Response> {
    let lang = ctx.lang;
    let t = text(lang);
    let u = user(ctx)?;
    let settings = notify::SmtpSettings::load(state.store()).await;
    let enabled = settings.as_ref().is_ok_and(|s| s.enabled);
    let sending = outcome.is_some();
    // Before sending: who would get what.
    let (result, status) = match outcome {
        Some(Ok(r)) => (Ok(r), StatusCode::OK),
        Some(Err(e)) => (Err(shown(e)?), StatusCode::UNPROCESSABLE_ENTITY),
        None => match notify::notify(state.store(), &u.login, fy, true).await {
            Ok(r) => (Ok(r), StatusCode::OK),
            Err(e) => (Err(shown(e)?), StatusCode::OK),
        },
    };
    let body = html! {
        h1 { (t.title) ": " (fy_label(lang, fy)) }
        (cycle_links(ctx, fy))
        p.lead { (t.lead) }
        @if enabled {
            div.notice.success role="status" { (t.enabled) }
        } @else {
            div.notice.warning role="status" { (t.disabled) }
        }
        @if let Err(e) = &settings {
            div.error-summary role="alert" { p { (message_of(lang, e)) } }
        }
        @if u.role == Role::Admin {
            p { a href="/admin/mail" { (t.settings) } }
        }
        @match &result {
            Ok(r) => {
                @if sending {
                    div.notice.success role="status" id="notify-summary" {
                        (t.summary) ": " (t.sent) " " (r.sent()) " ・ " (t.failed) " " (r.failed())
                    }
                }
                (report_table(lang, r))
                @if !sending && enabled && !r.deliveries.is_empty() {
                    form method="post" action={ "/cycle/" (fy.year()) "/notify" } {
                        input type="hidden" name="csrf" value=(ctx.csrf());
                        button type="submit" { (t.send) }
                    }
                }
            }
            Err(e) => {
                div.error-summary role="alert" tabindex="-1" id="notify-error" { p { (message_of(lang, e)) } }
            }
        }
    };
    Ok(page(ctx, t.title, body, status))
}

/// `GET /cycle/{fy}/notify`: who would be mailed what.
pub async fn notify_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    render_page(&state, &ctx, fy, None).await
}

#[derive(Deserialize)]
pub struct NotifyForm {}

/// `POST /cycle/{fy}/notify`: mails the notices and shows the result per
/// recipient (a refused recipient does not stop the others).
pub async fn send_notices(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
    Form(_form): Form<NotifyForm>,
) -> WebResult<Response> {
    let fy = parse_fy(&fy)?;
    let actor = user(&ctx)?.login.clone();
    let outcome = notify::notify(state.store(), &actor, fy, false).await;
    state.data_changed();
    render_page(&state, &ctx, fy, Some(outcome)).await
}
