//! `GET /admin/sign-in`: what sign-in is configured (issue #21), for
//! administrators: the directory (LDAP) settings read from the environment,
//! with the service password hidden. Nothing here is changed from the web.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use crate::AppState;
use crate::ctx::Ctx;
use crate::error::WebResult;
use crate::i18n::Lang;
use crate::layout::{Nav, Page, render};

struct Text {
    title: &'static str,
    lead: &'static str,
    local: &'static str,
    local_note: &'static str,
    ldap: &'static str,
    ldap_off: &'static str,
    url: &'static str,
    tls: &'static str,
    ca_file: &'static str,
    system_cas: &'static str,
    bind_dn: &'static str,
    anonymous: &'static str,
    bind_password: &'static str,
    not_set: &'static str,
    base_dn: &'static str,
    user_filter: &'static str,
    group_filter: &'static str,
    disabled: &'static str,
    group_map: &'static str,
    group: &'static str,
    role: &'static str,
    section: &'static str,
    timeout: &'static str,
    seconds: &'static str,
}

const JA: Text = Text {
    title: "ログイン方式の設定",
    lead: "環境変数（CITYKPI_LDAP_*）で設定された内容です。変更するには環境変数を変えてサーバーを再起動してください。",
    local: "ローカルアカウント",
    local_note: "パスワードを持つアカウントは常にこのサーバーで確認します（ディレクトリが停止していても管理者はログインできます）。",
    ldap: "ディレクトリ（LDAP / Active Directory）",
    ldap_off: "設定されていません（CITYKPI_LDAP_URL が未設定）。",
    url: "URL",
    tls: "暗号化",
    ca_file: "CA証明書ファイル",
    system_cas: "（システムのCA）",
    bind_dn: "検索用アカウント（バインドDN）",
    anonymous: "（匿名で検索）",
    bind_password: "検索用アカウントのパスワード",
    not_set: "（未設定）",
    base_dn: "検索の起点（ベースDN）",
    user_filter: "ユーザー検索フィルタ",
    group_filter: "グループ検索フィルタ",
    disabled: "無効なアカウントの判定",
    group_map: "グループと権限・所属課の対応（上から順に最初に一致したもの）",
    group: "グループDN",
    role: "権限",
    section: "所属課",
    timeout: "タイムアウト",
    seconds: "秒",
};

const EN: Text = Text {
    title: "Sign-in settings",
    lead: "As configured by the environment (CITYKPI_LDAP_*). To change them, change the environment and restart the server.",
    local: "Local accounts",
    local_note: "An account with a password is always checked by this server (an administrator can sign in when the directory is down).",
    ldap: "Directory (LDAP / Active Directory)",
    ldap_off: "Not configured (CITYKPI_LDAP_URL is not set).",
    url: "URL",
    tls: "Encryption",
    ca_file: "CA certificate file",
    system_cas: "(the system's CAs)",
    bind_dn: "Search account (bind DN)",
    anonymous: "(anonymous search)",
    bind_password: "Search account's password",
    not_set: "(not set)",
    base_dn: "Search base (base DN)",
    user_filter: "User filter",
    group_filter: "Group filter",
    disabled: "Disabled accounts",
    group_map: "Groups to roles and sections (the first match from the top)",
    group: "Group DN",
    role: "Role",
    section: "Section",
    timeout: "Timeout",
    seconds: "s",
};

/// A secret as shown: never its value.
const HIDDEN: &str = "●●●●";

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    use citykpi_app::directory::DisabledRule;
    let t = match ctx.lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    };
    let ldap = state.config().ldap.as_ref();
    let body = html! {
        h1 { (t.title) }
        p.lead { (t.lead) }
        h2 { (t.local) }
        p { (t.local_note) }
        h2 { (t.ldap) }
        @match ldap {
            None => p id="ldap-off" { (t.ldap_off) },
            Some(c) => {
                dl.fields id="ldap" {
                    dt { (t.url) } dd { code { (c.url) } }
                    dt { (t.tls) } dd { (c.tls_mode()) }
                    dt { (t.ca_file) } dd {
                        @match &c.ca_file { Some(p) => code { (p.display()) }, None => (t.system_cas) }
                    }
                    dt { (t.bind_dn) } dd {
                        @if c.bind_dn.is_empty() { (t.anonymous) } @else { code { (c.bind_dn) } }
                    }
                    dt { (t.bind_password) } dd {
                        @if c.bind_password.is_empty() { (t.not_set) } @else { (HIDDEN) }
                    }
                    dt { (t.base_dn) } dd { code { (c.base_dn) } }
                    dt { (t.user_filter) } dd { code { (c.user_filter) } }
                    dt { (t.group_filter) } dd { code { (c.group_filter) } }
                    dt { (t.disabled) } dd {
                        ul {
                            @for rule in &c.disabled {
                                li { code { (match rule {
                                    DisabledRule::Bits { attr, mask } => format!("{attr} & {mask}"),
                                    DisabledRule::Present(attr) => attr.clone(),
                                    DisabledRule::Group(dn) => format!("group: {dn}"),
                                }) } }
                            }
                        }
                    }
                    dt { (t.timeout) } dd { (c.timeout.as_secs()) (t.seconds) }
                }
                h3 { (t.group_map) }
                @if c.group_map.is_empty() {
                    p { (t.not_set) }
                } @else {
                    div.table-wrap { table id="group-map" {
                        thead { tr {
                            th scope="col" { (t.group) }
                            th scope="col" { (t.role) }
                            th scope="col" { (t.section) }
                        } }
                        tbody {
                            @for r in &c.group_map {
                                tr {
                                    td { code { (r.group_dn) } }
                                    td { (ctx.lang.role(r.role)) }
                                    td { (r.section_code) }
                                }
                            }
                        }
                    } }
                }
            }
        }
    };
    Ok(render(
        &ctx,
        Page {
            title: t.title,
            nav: Nav::Users,
            body,
        },
    ))
}
