//! Message catalogues. Every word a page shows comes from here, in Japanese
//! and English. The catalogue is a Rust struct, so a missing message in either
//! language is a compile error rather than a blank on screen.

use citykpi_domain::FiscalYear;
use citykpi_domain::org::Role;
use citykpi_domain::progress::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim() {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }
    pub fn text(self) -> &'static Text {
        match self {
            Lang::Ja => &JA,
            Lang::En => &EN,
        }
    }
    /// 2025年度（令和7年度） / FY2025.
    pub fn fy(self, fy: FiscalYear) -> String {
        match self {
            Lang::Ja => fy.label_ja(),
            Lang::En => format!("{} ({})", fy.label_en(), fy.wareki()),
        }
    }
    pub fn status(self, s: Status) -> &'static str {
        match self {
            Lang::Ja => s.label_ja(),
            Lang::En => s.label_en(),
        }
    }
    pub fn role(self, r: Role) -> &'static str {
        let t = self.text();
        match r {
            Role::Admin => t.role_admin,
            Role::StrategyOffice => t.role_strategy,
            Role::Finance => t.role_finance,
            Role::DepartmentEditor => t.role_department,
            Role::Viewer => t.role_viewer,
            Role::Executive => t.role_executive,
        }
    }
    /// A name in the page language, falling back to Japanese.
    pub fn name<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::En if !en.trim().is_empty() => en,
            _ => ja,
        }
    }
}

macro_rules! catalogue {
    ($($key:ident : $ja:literal / $en:literal,)*) => {
        /// The messages of one language.
        pub struct Text { $(pub $key: &'static str,)* }
        pub static JA: Text = Text { $($key: $ja,)* };
        pub static EN: Text = Text { $($key: $en,)* };
        /// Every message of both languages (for the catalogue tests).
        pub fn all_messages() -> Vec<(&'static str, &'static str, &'static str)> {
            vec![$((stringify!($key), $ja, $en),)*]
        }
    };
}

catalogue! {
    app_name: "KPI経営ダッシュボード" / "City KPI dashboard",
    skip_to_content: "本文へ移動" / "Skip to main content",
    nav_label: "メインメニュー" / "Main menu",
    nav_home: "ダッシュボード" / "Dashboard",
    nav_kpis: "KPI一覧" / "KPIs",
    nav_programs: "事務事業一覧" / "Programs",
    nav_search: "検索" / "Search",
    nav_cycle: "進行管理サイクル" / "Management cycle",
    nav_partners: "公民連携" / "Partnerships",
    nav_data: "データ入出力" / "Data import/export",
    nav_whatif: "予算の試算" / "Budget what-if",
    nav_audit: "監査ログ" / "Audit log",
    nav_users: "ユーザー" / "Users",
    nav_public: "市民向け公開ページ" / "Public portal",
    nav_account: "アカウント" / "Account",
    nav_api: "API" / "API",
    lang_switch: "English" / "日本語",
    lang_switch_label: "表示言語を切り替える" / "Switch language",
    login: "ログイン" / "Log in",
    logout: "ログアウト" / "Log out",
    login_title: "ログイン" / "Log in",
    login_name: "ログインID" / "Login name",
    password: "パスワード" / "Password",
    login_failed: "ログインIDまたはパスワードが正しくありません。" / "The login name or password is not correct.",
    login_directory_down: "ディレクトリ（LDAP）に接続できないため、ログインできません。しばらく待ってからやり直すか、管理者に連絡してください。" / "The directory (LDAP) cannot be reached, so you cannot log in. Please try again later or contact the administrator.",
    login_rate_limited: "ログインの試行が多すぎます。しばらく待ってからやり直してください。" / "Too many login attempts. Please wait and try again.",
    logged_in_as: "ログイン中" / "Logged in as",
    fy_label: "年度" / "Fiscal year",
    fy_switch: "表示" / "Show",
    dashboard_title: "計画の進捗" / "Plan progress",
    counts_title: "KPIの状況" / "KPI status",
    counts_desc: "状況ごとのKPIの数" / "Number of KPIs by status",
    total: "合計" / "Total",
    kpi_unit: "指標" / "KPIs",
    plan_tree: "計画の体系" / "Plan structure",
    status: "状況" / "Status",
    progress: "進捗" / "Progress",
    progress_to_final: "最終目標までの進捗" / "Progress to the final target",
    achievement_rate: "達成率" / "Achievement rate",
    changes_title: "前年度からの変化" / "Changes since last cycle",
    changes_none: "前年度から状況が変わったKPIはありません。" / "No KPI changed status since the last cycle.",
    changes_improved: "改善" / "Improved",
    changes_worsened: "悪化" / "Worsened",
    changes_from_to: "前年度 → 今年度" / "Last cycle → this cycle",
    no_data: "データなし" / "No data",
    kpi: "KPI" / "KPI",
    code: "コード" / "Code",
    name: "名称" / "Name",
    unit: "単位" / "Unit",
    direction: "望ましい方向" / "Desired direction",
    direction_higher: "増加が望ましい" / "Higher is better",
    direction_lower: "減少が望ましい" / "Lower is better",
    direction_band: "範囲内が望ましい" / "Within a range",
    frequency: "測定頻度" / "Frequency",
    source: "出典" / "Source",
    publication_lag: "公表までの期間" / "Publication lag",
    years_suffix: "年" / "years",
    owners: "担当課" / "Owner sections",
    baseline: "基準値" / "Baseline",
    final_target: "最終目標" / "Final target",
    target: "目標値" / "Target",
    actual: "実績値" / "Actual",
    provisional: "速報値" / "Provisional",
    final_value: "確定値" / "Final",
    target_path: "目標の経路" / "Target path",
    definition: "定義" / "Definition",
    description: "説明" / "Description",
    forecast_title: "達成見込み（予測）" / "Outlook (forecast)",
    forecast_legend: "予測（80%予測区間）" / "Forecast (80% interval)",
    forecast_probability: "最終目標に届く確率" / "Probability of meeting the final target",
    forecast_at_target: "目標年度の予測値" / "Forecast for the target year",
    forecast_interval80: "80%予測区間" / "80% prediction interval",
    forecast_interval95: "95%予測区間" / "95% prediction interval",
    forecast_method: "予測の方法" / "Method",
    forecast_points: "使った実績" / "Actuals used",
    forecast_none: "予測なし" / "No forecast",
    forecast_note: "実績値から統計的に予測した見込みです。速報値は重みを下げて使い、公表の遅れは最後の実績の年度に表れます。" / "A statistical forecast from the actuals. Provisional values count with less weight; a publication lag shows as an older last actual.",
    evidence_title: "効果の根拠（因果推定など）" / "Evidence of effect (causal estimates and studies)",
    evidence_method: "方法" / "Method",
    evidence_estimate: "推定された効果" / "Estimated effect",
    evidence_interval: "区間" / "Interval",
    evidence_p: "p値" / "p-value",
    evidence_grade: "等級" / "Grade",
    evidence_data: "データ" / "Data",
    evidence_recorded: "記録" / "Recorded",
    evidence_none: "記録された根拠はまだありません。`citykpi evidence did|its|synth … --attach 事業コード:KPIコード` で推定結果を記録できます。" / "No evidence recorded yet. `citykpi evidence did|its|synth … --attach PROGRAM:KPI` records an estimate.",
    chart_kpi_desc: "年度ごとの実績値と目標の経路。同じ数値を下の表に示します。" / "Actual values by fiscal year against the target path. The table below shows the same numbers.",
    values_table: "年度別の値" / "Values by year",
    period: "期間" / "Period",
    value_status: "値の種類" / "Value type",
    note: "備考" / "Note",
    entered_by: "入力者" / "Entered by",
    linked_programs: "関連する事務事業" / "Linked programs",
    contribution: "KPI寄与度" / "Contribution",
    evidence: "根拠の確からしさ" / "Evidence grade",
    full_cost: "フルコスト" / "Full cost",
    plans_and_sdgs: "計画とSDGs" / "Plans and SDGs",
    plan: "計画" / "Plan",
    policy: "政策" / "Policy",
    measure: "施策" / "Measure",
    sdg_goals: "SDGsのゴール" / "SDG goals",
    sdg_goal: "SDGsゴール" / "SDG goal",
    none: "なし" / "None",
    stale: "更新が遅れています" / "Out of date",
    program: "事務事業" / "Program",
    department: "部局" / "Department",
    section: "担当課" / "Section",
    purpose: "目的" / "Purpose",
    target_group: "対象" / "Target group",
    intent: "意図" / "Intended result",
    means: "手段" / "Means",
    delivery: "実施方法" / "Delivery",
    legal_basis: "根拠法令等" / "Legal basis",
    period_of_program: "事業期間" / "Period",
    unit_none: "なし（比率・指数）" / "none (a ratio or index)",
    program_start_fy: "事業開始年度" / "First fiscal year of the program",
    program_end_fy: "事業終了年度（継続中は空欄）" / "Last fiscal year of the program (blank while it runs on)",
    mandatory: "義務的経費" / "Mandatory",
    yes: "はい" / "Yes",
    no: "いいえ" / "No",
    evaluation: "事務事業評価" / "Evaluation",
    money_title: "事業費の推移" / "Money over the years",
    money_desc: "年度ごとの予算額と、事業費に人件費を加えたフルコスト。同じ数値を下の表に示します。" / "Budget by fiscal year next to the full cost (direct cost plus staff cost). The table below shows the same numbers.",
    budget: "予算額" / "Budget",
    budget_initial: "当初予算額" / "Initial budget",
    budget_revised: "最終予算額" / "Revised budget",
    settled: "決算額" / "Settled",
    not_settled: "決算前" / "Not yet settled",
    direct_cost: "事業費" / "Direct cost",
    staff_fte: "人工" / "Staff (FTE)",
    staff_cost: "人件費" / "Staff cost",
    unit_cost: "単位当たりコスト" / "Unit cost",
    output_quantity: "活動量" / "Output quantity",
    yen_thousand: "千円" / "thousand yen",
    yen: "円" / "yen",
    indicators: "活動指標・成果指標" / "Activity and outcome indicators",
    indicator_kind: "種類" / "Kind",
    kind_activity: "活動指標" / "Activity",
    kind_outcome: "成果指標" / "Outcome",
    kpis_served: "貢献するKPI" / "KPIs served",
    public_open_data: "オープンデータ（CSV・JSON）" / "Open data (CSV, JSON)",
    scenario_link: "シナリオの仮説（因果の連鎖と前提）" / "Scenario hypotheses (causal chain and assumptions)",
    notices_title: "お知らせ：期限のある作業" / "Notices: work due",
    notices_item: "{n}件" / "{n} items",
    notices_deadline: "期限" / "due",
    notices_overdue: "期限超過" / "overdue",
    notices_open: "進行管理サイクルを開く" / "Open the cycle",
    lineage: "事業の系譜（統合・分割・廃止）" / "Lineage (merges, splits, abolitions)",
    lineage_none: "統合・分割などの記録はありません。" / "No merge, split or other change recorded.",
    lineage_kind: "種別" / "Change",
    lineage_from: "旧事業" / "From",
    lineage_to: "新事業" / "To",
    lineage_note: "理由・備考" / "Reason",
    lineage_links: "系譜上の事業とKPIへの貢献" / "KPI contributions across the lineage",
    list_filters: "絞り込み" / "Filters",
    filter_apply: "絞り込む" / "Apply",
    filter_all: "すべて" / "All",
    results_count: "{n}件" / "{n} results",
    search_title: "検索" / "Search",
    search_query: "キーワード" / "Keywords",
    search_button: "検索する" / "Search",
    search_hint: "KPI・事務事業の名称、コード、説明から探します。" / "Searches names, codes and descriptions of KPIs and programs.",
    no_results: "該当するものはありません。" / "Nothing matched.",
    edit: "編集" / "Edit",
    save: "保存する" / "Save",
    enter_actual: "実績値を入力" / "Enter an actual",
    enter_actual_single: "1件ずつ入力" / "Enter one value",
    enter_actual_bulk: "Excelから貼り付け（複数件）" / "Paste from Excel (several values)",
    bulk_hint: "「期間」「値」「速報/確定」の列をタブ区切りで貼り付けてください（例: 2024⇥12.5⇥速報）。" / "Paste tab-separated columns: period, value, provisional/final (e.g. 2024⇥12.5⇥provisional).",
    bulk_rows: "貼り付ける行" / "Rows to paste",
    saved: "保存しました。" / "Saved.",
    saved_n: "{n}件を保存しました。" / "Saved {n} values.",
    unchanged: "変更はありませんでした。" / "Nothing changed.",
    error_summary: "入力内容に問題があります" / "There is a problem",
    conflict: "他の人が先にこの記録を更新しました。あなたの入力内容は下に残っています。最新の内容を確認してから、もう一度保存してください。" / "Someone else saved this record first. Your input is kept below. Check the latest version, then save again.",
    version: "版" / "Version",
    confirmation: "確認" / "Confirmation",
    confirmed: "確認済" / "Confirmed",
    unconfirmed: "未確認" / "Unconfirmed",
    confirm: "確認する" / "Confirm",
    confirm_selected: "選んだ値を確認する" / "Confirm the selected values",
    confirmed_n: "{n}件を確認しました。公開ページに表示されます。" / "Confirmed {n} values; they now appear on the public pages.",
    unconfirmed_hint: "未確認の値は公開ページ・公開API・オープンデータには出ません。所管部局の承認者または企画・戦略担当が確認すると公開されます（自分で入力した値は自分では確認できません）。" / "Unconfirmed values do not appear on the public pages, the public API or the open data. They are published once the owner department's approver or the strategy office confirms them (nobody confirms their own entry).",
    awaiting_title: "確認待ちの実績値" / "Actuals awaiting confirmation",
    awaiting_none: "確認待ちの実績値はありません。" / "No actual is awaiting your confirmation.",
    awaiting_n: "確認待ちの実績値が{n}件あります。" / "{n} actuals await your confirmation.",
    approver: "承認者" / "Approver",
    approver_grant: "承認者にする" / "Make approver",
    approver_revoke: "承認者から外す" / "Remove approver",
    edit_program: "事務事業を編集" / "Edit program",
    edit_money: "事業費を入力" / "Enter money",
    data_title: "データの入出力" / "Data import and export",
    download: "ダウンロード" / "Download",
    download_hint: "各表をCSV（Excelで開けるUTF-8 BOM付き）またはExcel形式でダウンロードできます。" / "Download each table as CSV (UTF-8 with BOM, opens in Excel) or as an Excel workbook.",
    upload: "ファイルを取り込む" / "Import a file",
    upload_hint: "ダウンロードしたものと同じ形式のCSV・Excelファイルを取り込みます。問題があれば何も書き込まれず、すべての問題を一覧にします。" / "Imports CSV or Excel files in the downloaded layout. On any problem nothing is written and every problem is listed.",
    file: "ファイル" / "File",
    table_kind: "表の種類" / "Table",
    dry_run: "確認のみ（書き込まない）" / "Check only (write nothing)",
    import_button: "取り込む" / "Import",
    import_done: "取り込みました。" / "Imported.",
    import_checked: "確認しました（書き込みはしていません）。" / "Checked (nothing written).",
    import_failed: "取り込めませんでした。" / "The file could not be imported.",
    rows_read: "読み込んだ行数" / "Rows read",
    inserted: "追加" / "Added",
    updated: "更新" / "Updated",
    warnings: "注意" / "Warnings",
    kind_org: "組織（部局・課）" / "Organisation",
    kind_users: "ユーザー" / "Users",
    kind_plans: "計画" / "Plans",
    kind_kpis: "KPI" / "KPIs",
    kind_observations: "実績値" / "Actuals",
    kind_programs: "事務事業" / "Programs",
    kind_links: "KPI寄与" / "KPI contributions",
    kind_indicators: "活動・成果指標" / "Indicators",
    kind_money: "事業費" / "Money",
    audit_title: "監査ログ" / "Audit log",
    audit_at: "日時" / "When",
    audit_actor: "操作者" / "Who",
    audit_action: "操作" / "Action",
    audit_entity: "対象" / "Record",
    audit_before: "変更前" / "Before",
    audit_after: "変更後" / "After",
    newer: "新しい記録" / "Newer",
    older: "古い記録" / "Older",
    users_title: "ユーザー" / "Users",
    role: "役割" / "Role",
    role_admin: "システム管理者" / "Administrator",
    role_strategy: "企画・戦略担当" / "Strategy office",
    role_finance: "財政担当" / "Finance",
    role_department: "部局担当者" / "Department editor",
    role_viewer: "閲覧者" / "Viewer",
    set_password: "パスワードを設定" / "Set password",
    new_password: "新しいパスワード" / "New password",
    account_title: "アカウント" / "Account",
    api_token: "APIトークン" / "API token",
    api_token_hint: "APIを使うプログラムに、このトークンを Authorization: Bearer ヘッダで渡します。新しいトークンを発行すると古いものは使えなくなります。" / "Programs using the API send this token in an Authorization: Bearer header. Issuing a new token revokes the old one.",
    api_token_issue: "新しいトークンを発行" / "Issue a new token",
    api_token_new: "新しいトークン（この画面でしか表示されません）" / "New token (shown only on this page)",
    api_title: "REST API" / "REST API",
    api_intro: "ページでできることはすべてJSONのAPIでもできます。OpenAPI 3.1の定義" / "Everything the pages do is also available as a JSON API. The OpenAPI 3.1 document",
    api_method: "メソッド" / "Method",
    api_path: "パス" / "Path",
    api_summary: "内容" / "Summary",
    api_roles: "使える役割" / "Roles",
    public_title: "市の計画と進捗" / "The city's plans and progress",
    public_partners: "SDGs推進プラットフォーム" / "SDGs partner platform",
    public_partner_directory: "会員名簿" / "Member directory",
    public_partner_join: "会員登録" / "Join",
    public_partner_menu: "SDGs貢献メニュー" / "SDGs contribution menu",
    public_partner_inquire: "ご相談（ワンストップ窓口）" / "Ask us (one-stop desk)",
    public_intro: "市が公開している計画とKPIの進捗です。" / "The plans and KPI progress the city has published.",
    public_none: "公開されている計画はありません。" / "No plan has been published yet.",
    error_title: "エラー" / "Error",
    error_not_found: "ページが見つかりません。" / "The page was not found.",
    error_forbidden: "この操作を行う権限がありません。" / "You are not allowed to do this.",
    error_unauthorized: "ログインしてください。" / "Please log in.",
    error_method: "このアドレスは直接開くものではありません。画面のボタンから操作してください。" / "This address is not opened directly; use the buttons on the pages.",
    error_csrf: "フォームの有効期限が切れたか、別のサイトから送信されました。ページを開き直してからやり直してください。" / "The form expired or was sent from another site. Reopen the page and try again.",
    error_bad_request: "入力内容を確認してください。" / "Please check your input.",
    error_internal: "サーバーで問題が発生しました。時間をおいてやり直してください。" / "Something went wrong on the server. Please try again later.",
    back_home: "ダッシュボードへ戻る" / "Back to the dashboard",
    footer_note: "このサイトの文字・図表はすべてこのサーバーから配信しています。" / "Every asset of this site is served by this server.",
    required: "必須" / "required",
    published: "公開" / "Published",
    draft: "非公開（下書き）" / "Draft",
    menu_open: "メニュー" / "Menu",
    role_executive: "市長・副市長" / "Mayor / deputy mayor",
    mayor_title: "トップマネジメント" / "Mayor's view",
    mayor_as_of: "基準日" / "As of",
    mayor_pdf: "A4ブリーフィング資料（PDF）" / "A4 briefing (PDF)",
    mayor_kpis_total: "KPI数" / "KPIs",
    mayor_on_track: "順調・達成" / "On track or achieved",
    mayor_off_track: "遅れ" / "Off track",
    mayor_sheets_to_review: "確認待ちの評価シート" / "Sheets awaiting review",
    mayor_requests_unassessed: "査定待ちの予算要求" / "Budget requests not assessed",
    mayor_demos_running: "実施中の実証" / "Demonstrations under way",
    mayor_areas: "政策分野別の状況" / "Status by policy area",
    mayor_area: "政策分野" / "Policy area",
    mayor_rate: "達成率" / "Achievement",
    mayor_off_track_title: "遅れているKPI" / "KPIs off track",
    mayor_probability: "目標達成見込み" / "Chance of reaching the target",
    mayor_departments: "担当部局" / "Departments",
    mayor_none: "なし" / "None",
    mayor_more: "すべて見る" / "See all",
    mayor_decisions: "判断を待つ事項" / "Decisions waiting",
    mayor_cycle_not_started: "この年度の進行管理サイクルは始まっていません。" / "The management cycle of this year has not started.",
    mayor_cycle_done: "すべての段階が完了" / "Every stage done",
    mayor_stage: "サイクルの段階" / "Cycle stage",
    mayor_deadline: "期限" / "due",
    mayor_restructuring: "事業再編（未決定／候補）" / "Restructuring (undecided / candidates)",
    mayor_budget: "予算編成" / "Budget",
    mayor_requested: "要求" / "requested",
    mayor_assessed: "査定済" / "assessed",
    mayor_last_year: "前年度" / "last year",
    mayor_sen_yen: "千円" / " thousand yen",
    mayor_evidence: "新しいエビデンス" / "Strongest new evidence",
    mayor_demos: "公民連携・実証の状況" / "Partnerships and demonstrations under way",
    mayor_changes: "この1か月の動き" / "Changes in the last month",
    mayor_actuals_entered: "入力された実績値" / "Actuals entered",
    mayor_evidence_new: "新しいエビデンス" / "New evidence",
    mayor_demos_started: "始まった実証" / "Demonstrations started",
    error_executive_read_only: "市長・副市長の閲覧用アカウントでは変更できません。" / "The executive view is read-only: nothing can be changed from it.",
    status_basis: "判定方法" / "Status basis",
    basis_default: "（測定頻度による既定）" / " (the default for the frequency)",
    basis_span: "対象期間" / "Periods judged",
    periods_suffix: "期分" / "periods",
    monthly_chart_desc: "月または四半期ごとの実績値。点線の縦線は年度の境目（4月）、網掛けは年度末までの予測（80%予測区間）、破線は年度目標です。同じ数値を下の表に示します。" / "Values by month or quarter. Dotted vertical lines mark where a fiscal year begins (April), the shaded part is the forecast to the end of the fiscal year (80% interval), dashed lines the yearly targets. The tables below show the same numbers.",
    fy_boundary: "年度の境目（4月）" / "Fiscal year begins (April)",
    year_target: "年度目標" / "Target of the year",
    yoy_title: "前年同期比（直近12期）" / "Change from a year before (latest 12 periods)",
    yoy_year_before: "前年同期" / "A year before",
    yoy_change: "増減" / "Change",
    yoy_rate: "増減率" / "Change rate",
    year_outlook_title: "年度末の見通し" / "Outlook to the end of the fiscal year",
    year_outlook_figure: "年度の値（実績＋予測）" / "The year's figure (actuals + forecast)",
    year_outlook_probability: "年度目標を達成する確率" / "Probability of meeting the year's target",
    forecast_parameters: "平滑化パラメータ" / "Smoothing parameters",
    forecast_periods_title: "年度末までの予測" / "Forecast to the end of the fiscal year",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_exists_in_both_languages() {
        let all = all_messages();
        assert!(all.len() > 150);
        for (key, ja, en) in all {
            assert!(!ja.trim().is_empty(), "{key} ja");
            assert!(!en.trim().is_empty(), "{key} en");
        }
    }

    #[test]
    fn fiscal_years_show_the_era() {
        let fy = FiscalYear::new(2025).unwrap();
        assert_eq!(Lang::Ja.fy(fy), "2025年度（令和7年度）");
        assert_eq!(Lang::En.fy(fy), "FY2025 (令和7年度)");
        assert_eq!(Lang::En.name("名前", ""), "名前");
        assert_eq!(Lang::En.name("名前", "Name"), "Name");
    }
}
