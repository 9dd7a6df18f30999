//! A KPI: definition, chart of actuals against the target path, the values,
//! linked programs with contribution and cost, the plans and SDG goals.

use crate::extract::Path;
use axum::extract::State;
use axum::response::Response;
use citykpi_app::forecast::{ForecastMethod, KpiOutlook, SeasonalMethod, SubYearOutlook};
use citykpi_charts::{
    ActualPoint, FiscalStart, ForecastPoint, LineChart, LineLabels, MonthlyChart, MonthlyLabels,
    PeriodForecast, PeriodPoint, TargetStep, line_chart, monthly_chart,
};
use citykpi_domain::FiscalYear;
use citykpi_domain::kpi::{Direction, Frequency, Kpi, StatusBasis};
use citykpi_domain::observation::{ObsStatus, ObsValue, Observation, Period};
use citykpi_domain::progress::{KpiProgress, expected_value};
use citykpi_store::StoredEvidence;
use maud::{Markup, PreEscaped, html};

use crate::AppState;
use crate::access::can_enter_actual;
use crate::cache::Snapshot;
use crate::ctx::Ctx;
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::layout::{Nav, Page, chart, num, opt_num, pct, render, sen_yen, status_badge};

pub fn direction_label(lang: Lang, d: &Direction) -> String {
    let t = lang.text();
    match d {
        Direction::HigherIsBetter => t.direction_higher.to_string(),
        Direction::LowerIsBetter => t.direction_lower.to_string(),
        Direction::Band { lower, upper } => {
            format!("{}（{}〜{}）", t.direction_band, num(*lower), num(*upper))
        }
    }
}

fn frequency_label(lang: Lang, f: Frequency) -> &'static str {
    match (lang, f) {
        (Lang::Ja, Frequency::Annual) => "年次",
        (Lang::Ja, Frequency::Quarterly) => "四半期",
        (Lang::Ja, Frequency::Monthly) => "月次",
        (Lang::En, Frequency::Annual) => "Annual",
        (Lang::En, Frequency::Quarterly) => "Quarterly",
        (Lang::En, Frequency::Monthly) => "Monthly",
    }
}

pub fn period_label(lang: Lang, p: &Period) -> String {
    match (lang, p) {
        (_, Period::Year(fy)) => lang.fy(*fy),
        (Lang::Ja, _) => p.label_ja(),
        (Lang::En, _) => p.to_string(),
    }
}

pub fn obs_value(lang: Lang, v: &ObsValue) -> String {
    match v {
        ObsValue::Value(x) => num(*x),
        ObsValue::Missing => "−".into(),
        ObsValue::Secret => if lang == Lang::Ja {
            "秘匿"
        } else {
            "Withheld"
        }
        .into(),
    }
}

/// The years the chart spans: baseline (or first actual) to the final target
/// (or last actual), so that missing years show as gaps.
fn chart_years(kpi: &Kpi, actual_years: &[i32]) -> (i32, i32) {
    let mut first = kpi
        .baseline
        .map(|b| b.fy.year())
        .into_iter()
        .chain(actual_years.iter().copied());
    let lo = first.by_ref().min().unwrap_or(0);
    let hi = kpi
        .final_target
        .map(|f| f.fy.year())
        .into_iter()
        .chain(kpi.targets.iter().map(|t| t.fy.year()))
        .chain(actual_years.iter().copied())
        .max()
        .unwrap_or(lo);
    (lo, hi)
}

/// The chart of a KPI's yearly actuals against its target path, with the
/// forecast (80% band) after the last actual when there is one.
pub fn kpi_chart(
    lang: Lang,
    snap: &Snapshot,
    kpi: &Kpi,
    outlook: Option<&KpiOutlook>,
    id: &str,
) -> Markup {
    let t = lang.text();
    let obs = snap
        .obs_by_kpi
        .get(&kpi.code)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let actuals: Vec<ActualPoint> = obs
        .iter()
        .map(|i| &snap.ds.observations[*i])
        .filter_map(|o| match (o.period, o.value) {
            (Period::Year(fy), ObsValue::Value(v)) => Some(ActualPoint {
                year: fy.year(),
                value: v,
                provisional: o.status == ObsStatus::Provisional,
            }),
            _ => None,
        })
        .collect();
    let years: Vec<i32> = actuals.iter().map(|a| a.year).collect();
    let (lo, hi) = chart_years(kpi, &years);
    let path: Vec<(i32, f64)> = (lo..=hi)
        .filter_map(|y| FiscalYear::new(y).ok())
        .filter_map(|fy| expected_value(kpi, fy).map(|v| (fy.year(), v)))
        .collect();
    let forecast: Vec<ForecastPoint> = outlook
        .and_then(KpiOutlook::forecast)
        .map(|f| {
            f.path
                .iter()
                .map(|p| ForecastPoint {
                    year: p.year,
                    mean: p.mean,
                    lower: p.lower80,
                    upper: p.upper80,
                })
                .collect()
        })
        .unwrap_or_default();
    let name = lang.name(&kpi.name_ja, &kpi.name_en);
    let svg = line_chart(&LineChart {
        id,
        title: name,
        desc: t.chart_kpi_desc,
        unit: &kpi.unit,
        actuals: &actuals,
        target_path: &path,
        final_target: kpi.final_target.map(|f| (f.fy.year(), f.value)),
        forecast: &forecast,
        labels: LineLabels {
            actual: t.actual,
            provisional: t.provisional,
            target_path: t.target_path,
            final_target: t.final_target,
            forecast: t.forecast_legend,
        },
        width: 720,
        height: 320,
    });
    html! { figure { (chart(&svg)) figcaption { (t.chart_kpi_desc) } } }
}

/// 令和7年度 / FY2025: the short name of a fiscal year on a chart's axis.
fn fy_short(lang: Lang, fy: FiscalYear) -> String {
    match lang {
        Lang::Ja => fy.wareki(),
        Lang::En => fy.label_en(),
    }
}

/// The basis a monthly or quarterly actual was judged on, with the periods
/// it covers: 直近12か月平均（2024年10月〜2025年9月・12期分）.
pub fn basis_span(lang: Lang, p: &KpiProgress) -> Option<String> {
    let basis = p.basis?;
    let last = p.actual_period?;
    let (per, n) = last.ordinal();
    let first = match basis {
        StatusBasis::YtdSum => n - i32::from(last.fiscal_position()),
        StatusBasis::Last12Sum | StatusBasis::Last12Mean => n - i32::from(per) + 1,
        StatusBasis::Latest => n,
    };
    let first = Period::from_ordinal(per, first).unwrap_or(last);
    let t = lang.text();
    Some(match lang {
        Lang::Ja => format!(
            "{}（{}〜{}・{}{}）",
            basis.label_ja(),
            period_label(lang, &first),
            period_label(lang, &last),
            p.periods_used,
            t.periods_suffix
        ),
        Lang::En => format!(
            "{} ({} – {}, {} {})",
            basis.label_en(),
            period_label(lang, &first),
            period_label(lang, &last),
            p.periods_used,
            t.periods_suffix
        ),
    })
}

/// The outlook of a monthly or quarterly KPI from the values in the
/// snapshot (the public snapshot holds confirmed values only).
pub fn sub_year_outlook(snap: &Snapshot, kpi: &Kpi, fy: FiscalYear) -> Option<SubYearOutlook> {
    let obs = snap.obs_by_kpi.get(&kpi.code)?;
    citykpi_app::forecast::sub_year_outlook(
        kpi,
        obs.iter().map(|i| &snap.ds.observations[*i]),
        &snap.area,
        fy,
    )
}

/// A monthly or quarterly KPI: the chart of every value with the fiscal
/// years marked and the rest of the year forecast, the year-end outlook on
/// the KPI's basis, and the change from a year before. None for a KPI
/// without monthly or quarterly values (the yearly chart serves it).
pub fn sub_year_section(
    lang: Lang,
    snap: &Snapshot,
    kpi: &Kpi,
    fy: FiscalYear,
    id: &str,
) -> Option<Markup> {
    let o = sub_year_outlook(snap, kpi, fy)?;
    let t = lang.text();
    let per = o.yoy.first().map(|p| p.period.ordinal().0).unwrap_or(12);
    let index = |p: &Period| p.ordinal().1;
    let actuals: Vec<PeriodPoint> = o
        .yoy
        .iter()
        .map(|p| PeriodPoint {
            index: index(&p.period),
            label: period_label(lang, &p.period),
            value: p.value,
            provisional: p.provisional,
        })
        .collect();
    let forecast: Vec<PeriodForecast> = o
        .steps()
        .map(|(p, f)| PeriodForecast {
            index: index(&p),
            label: period_label(lang, &p),
            mean: f.mean,
            lower: f.lower80,
            upper: f.upper80,
        })
        .collect();
    let first_fy = o
        .yoy
        .first()
        .map(|p| p.period.fiscal_year())
        .unwrap_or(o.fy);
    let fy_start = |y: FiscalYear| match per {
        4 => y.year() * 4,
        _ => y.year() * 12 + 3,
    };
    let years: Vec<FiscalYear> = (first_fy.year()..=o.fy.year())
        .filter_map(|y| FiscalYear::new(y).ok())
        .collect();
    let fiscal_years: Vec<FiscalStart> = years
        .iter()
        .map(|y| FiscalStart {
            index: fy_start(*y),
            year: y.year(),
            label: fy_short(lang, *y),
        })
        .collect();
    // A yearly target is on the scale of one period's value only for a mean
    // or a latest value; yearly totals are not drawn against months.
    let targets: Vec<TargetStep> =
        if matches!(o.basis, StatusBasis::Last12Mean | StatusBasis::Latest) {
            years
                .iter()
                .filter_map(|y| {
                    expected_value(kpi, *y).map(|v| TargetStep {
                        from: fy_start(*y),
                        to: fy_start(*y) + i32::from(per) - 1,
                        value: v,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
    let name = lang.name(&kpi.name_ja, &kpi.name_en);
    let svg = monthly_chart(&MonthlyChart {
        id,
        title: name,
        desc: t.monthly_chart_desc,
        unit: &kpi.unit,
        actuals: &actuals,
        forecast: &forecast,
        fiscal_years: &fiscal_years,
        targets: &targets,
        labels: MonthlyLabels {
            actual: t.actual,
            provisional: t.provisional,
            target: t.year_target,
            forecast: t.forecast_legend,
            fy_boundary: t.fy_boundary,
        },
        width: 720,
        height: 320,
    });
    let f = &o.forecast;
    let method = match lang {
        Lang::Ja => f.method.label_ja(),
        Lang::En => f.method.label_en(),
    };
    let recent: Vec<_> = o.yoy.iter().rev().take(12).collect();
    Some(html! {
        figure { (chart(&svg)) figcaption { (t.monthly_chart_desc) } }
        h3 { (t.year_outlook_title) "（" (lang.fy(o.fy)) "）" }
        dl.fields {
            dt { (t.status_basis) } dd { (lang.name(o.basis.label_ja(), o.basis.label_en())) }
            dt { (t.year_target) } dd { (opt_num(o.target)) " " (kpi.unit) }
            dt { (t.year_outlook_figure) }
            dd {
                (opt_num(f.year_mean)) " " (kpi.unit)
                @if let (Some(lo), Some(hi)) = (f.year_lower80, f.year_upper80) {
                    "（" (t.forecast_interval80) " " (num(lo)) " 〜 " (num(hi)) "）"
                }
            }
            dt { (t.year_outlook_probability) } dd { strong { (pct(f.probability)) } }
            dt { (t.forecast_method) }
            dd { (method) " — " (in_language(lang, &f.reason)) }
            @if f.method != SeasonalMethod::None {
                dt { (t.forecast_parameters) }
                dd {
                    "α = " (f.alpha.map(|a| format!("{a:.3}")).unwrap_or_default())
                    @if let Some(b) = f.beta { ", β = " (format!("{b:.3}")) }
                    @if let Some(g) = f.gamma { ", γ = " (format!("{g:.3}")) }
                }
            }
            dt { (t.forecast_points) } dd { (f.points_used) }
        }
        @if !f.path.is_empty() {
            div.table-wrap {
                table.forecast-periods {
                    caption { (t.forecast_periods_title) }
                    thead { tr {
                        th scope="col" { (t.period) }
                        th.num scope="col" { (t.forecast_title) }
                        th.num scope="col" { (t.forecast_interval80) }
                        th.num scope="col" { (t.forecast_interval95) }
                    } }
                    tbody {
                        @for (p, s) in o.steps() {
                            tr {
                                th scope="row" { (period_label(lang, &p)) }
                                td.num { (num(s.mean)) }
                                td.num { (num(s.lower80)) " 〜 " (num(s.upper80)) }
                                td.num { (num(s.lower95)) " 〜 " (num(s.upper95)) }
                            }
                        }
                    }
                }
            }
        }
        div.table-wrap {
            table.yoy {
                caption { (t.yoy_title) @if !kpi.unit.is_empty() { "（" (kpi.unit) "）" } }
                thead { tr {
                    th scope="col" { (t.period) }
                    th.num scope="col" { (t.actual) }
                    th.num scope="col" { (t.yoy_year_before) }
                    th.num scope="col" { (t.yoy_change) }
                    th.num scope="col" { (t.yoy_rate) }
                } }
                tbody {
                    @for p in &recent {
                        tr {
                            th scope="row" { (period_label(lang, &p.period)) @if p.provisional { "（" (t.provisional) "）" } }
                            td.num { (num(p.value)) }
                            td.num { (opt_num(p.year_before)) }
                            td.num { (opt_num(p.change)) }
                            td.num { (pct(p.change_rate)) }
                        }
                    }
                }
            }
        }
    })
}

/// The KPI's forecast to its final target from the city's actuals known at
/// the end of `fy` (one KPI: cheap, so computed when its page is drawn).
pub fn kpi_outlook(snap: &Snapshot, kpi: &Kpi, fy: FiscalYear) -> KpiOutlook {
    let observations: Vec<_> = snap
        .obs_by_kpi
        .get(&kpi.code)
        .map(|v| v.iter().map(|i| snap.ds.observations[*i].clone()).collect())
        .unwrap_or_default();
    citykpi_app::forecast::forecast_kpi(kpi, &observations, &snap.area, fy)
}

/// The forecast in words and numbers: the probability of meeting the final
/// target, the method and why, and the path with its intervals (the text
/// alternative of the chart's band).
pub fn outlook_section(lang: Lang, kpi: &Kpi, outlook: &KpiOutlook) -> Markup {
    let t = lang.text();
    html! {
        h2 { (t.forecast_title) }
        @match outlook {
            KpiOutlook::NotForecast { reason } => {
                p { (t.forecast_none) @if !reason.is_empty() { "：" (reason) } }
            }
            KpiOutlook::Forecast(f) => {
                dl.fields {
                    dt { (t.forecast_probability) }
                    dd { strong { (pct(f.probability_of_reaching)) } }
                    @if let Some(at) = f.at_target() {
                        dt { (t.forecast_at_target) }
                        dd { (num(at.mean)) " " (kpi.unit) "（" (at.year) "）" }
                        dt { (t.forecast_interval80) }
                        dd { (num(at.lower80)) " 〜 " (num(at.upper80)) " " (kpi.unit) }
                        dt { (t.forecast_interval95) }
                        dd { (num(at.lower95)) " 〜 " (num(at.upper95)) " " (kpi.unit) }
                    }
                    dt { (t.forecast_method) }
                    dd {
                        (match lang { Lang::Ja => f.method.label_ja(), Lang::En => method_en(f.method) })
                        @if let Some(m) = &f.model {
                            @match lang { Lang::Ja => { "（" (m) "）" }, Lang::En => { " (" (m) ")" } }
                        }
                        " — " (in_language(lang, &f.reason))
                    }
                    dt { (t.forecast_points) }
                    dd { (f.points_used) }
                }
                p.hint { (t.forecast_note) }
                @if !f.path.is_empty() {
                    div.table-wrap {
                        table {
                            caption { (t.forecast_legend) }
                            thead { tr {
                                th scope="col" { (t.fy_label) }
                                th.num scope="col" { (t.forecast_title) }
                                th.num scope="col" { (t.forecast_interval80) }
                                th.num scope="col" { (t.forecast_interval95) }
                            } }
                            tbody {
                                @for p in &f.path {
                                    tr {
                                        td { (p.year) }
                                        td.num { (num(p.mean)) }
                                        td.num { (num(p.lower80)) " 〜 " (num(p.upper80)) }
                                        td.num { (num(p.lower95)) " 〜 " (num(p.upper95)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The part of a bilingual service text ("日本語 / English", with
/// bracketed asides "（日本語 / English）" inside the Japanese part) in the
/// reader's language; a text without " / " is returned as it is.
fn in_language(lang: Lang, text: &str) -> String {
    // The " / " that separates the languages is the last one outside brackets.
    let mut depth = 0i32;
    let mut split = None;
    for (i, ch) in text.char_indices() {
        match ch {
            '（' | '(' => depth += 1,
            '）' | ')' => depth -= 1,
            '/' if depth == 0 && text[..i].ends_with(' ') && text[i + 1..].starts_with(' ') => {
                split = Some(i)
            }
            _ => {}
        }
    }
    let Some(i) = split else {
        return text.to_string();
    };
    let (ja, en) = (text[..i - 1].trim(), text[i + 2..].trim());
    // Bracketed asides of the Japanese part: keep their own language's half.
    let mut asides = Vec::new();
    let mut ja_only = String::new();
    let mut rest = ja;
    while let Some(open) = rest.find('（') {
        let after = &rest[open + '（'.len_utf8()..];
        let Some(close) = after.find('）') else {
            break;
        };
        let inner = &after[..close];
        ja_only.push_str(&rest[..open]);
        match inner.split_once(" / ") {
            Some((j, e)) => {
                ja_only.push_str(&format!("（{j}）"));
                asides.push(e.to_string());
            }
            None => ja_only.push_str(&format!("（{inner}）")),
        }
        rest = &after[close + '）'.len_utf8()..];
    }
    ja_only.push_str(rest);
    match lang {
        Lang::Ja => ja_only,
        Lang::En if asides.is_empty() => en.to_string(),
        Lang::En => format!("{en} ({})", asides.join("; ")),
    }
}

fn method_en(m: ForecastMethod) -> &'static str {
    match m {
        ForecastMethod::Ets => "Exponential smoothing (ETS)",
        ForecastMethod::LinearTrend => "Linear trend",
        ForecastMethod::NaiveDrift => "Last change continued",
        ForecastMethod::None => "No forecast",
    }
}

/// An estimate with the precision studies report (three decimals, trailing
/// zeros dropped), where the general number format rounds to one.
fn precise(v: f64) -> String {
    if v.abs() >= 1000.0 {
        return num(v);
    }
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Evidence recorded on program–KPI links: what was estimated, how, on
/// which data, with its interval and grade.
pub fn evidence_section(lang: Lang, snap: &Snapshot, rows: &[&StoredEvidence]) -> Markup {
    let t = lang.text();
    html! {
        h2 { (t.evidence_title) }
        @if rows.is_empty() { p.hint { (t.evidence_none) } } @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { (t.program) " → " (t.kpi) }
                        th scope="col" { (t.evidence_method) }
                        th.num scope="col" { (t.evidence_estimate) }
                        th.num scope="col" { (t.evidence_interval) }
                        th.num scope="col" { (t.evidence_p) }
                        th scope="col" { (t.evidence_grade) }
                        th scope="col" { (t.evidence_data) }
                        th scope="col" { (t.evidence_recorded) }
                    } }
                    tbody {
                        @for r in rows {
                            @let e = &r.evidence;
                            tr {
                                td {
                                    a href={ "/programs/" (e.program_code) } {
                                        (snap.program(&e.program_code).map(|p| lang.name(&p.name_ja, &p.name_en)).unwrap_or(&e.program_code))
                                    }
                                    " → "
                                    a href={ "/kpis/" (e.kpi_code) } {
                                        (snap.kpi(&e.kpi_code).map(|k| lang.name(&k.name_ja, &k.name_en)).unwrap_or(&e.kpi_code))
                                    }
                                }
                                td { (match lang { Lang::Ja => e.method.label_ja(), Lang::En => e.method.label_en() }) }
                                td.num { (precise(e.estimate)) " " (snap.kpi(&e.kpi_code).map(|k| k.unit.as_str()).unwrap_or("")) }
                                td.num {
                                    @if let Some((lo, hi)) = e.interval {
                                        (precise(lo)) " 〜 " (precise(hi))
                                        @if let Some(l) = e.level { "（" (pct(Some(l))) "）" }
                                    } @else { "−" }
                                }
                                td.num { (e.p_value.map(|p| format!("{p:.3}")).unwrap_or_else(|| "−".into())) }
                                td { (e.grade.letter()) }
                                td { (e.data) @if !e.note.is_empty() { br; span.muted { (e.note) } } }
                                td { (r.recorded_by) br; span.muted { (citykpi_domain::jst::display(&r.recorded_at)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The table of values with the target of each year (the chart's alternative).
pub fn values_table(lang: Lang, snap: &Snapshot, kpi: &Kpi, with_entered_by: bool) -> Markup {
    values_table_with(lang, snap, kpi, with_entered_by, None)
}

/// A row's action on the staff pages (the confirm button of the entry page).
pub type RowAction<'a> = &'a dyn Fn(&Observation) -> Markup;

/// The values table; on staff pages (`internal`) with who entered each
/// value and whether it is confirmed (未確認 marked), and `action` per row.
pub fn values_table_with(
    lang: Lang,
    snap: &Snapshot,
    kpi: &Kpi,
    internal: bool,
    action: Option<RowAction<'_>>,
) -> Markup {
    let with_entered_by = internal;
    let t = lang.text();
    let obs = snap
        .obs_by_kpi
        .get(&kpi.code)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    html! {
        div.table-wrap {
            table {
                caption { (t.values_table) @if !kpi.unit.is_empty() { "（" (kpi.unit) "）" } }
                thead { tr {
                    th scope="col" { (t.period) }
                    th.num scope="col" { (t.actual) }
                    th scope="col" { (t.value_status) }
                    th.num scope="col" { (t.target) }
                    th scope="col" { (t.source) }
                    th scope="col" { (t.note) }
                    @if with_entered_by {
                        th scope="col" { (t.entered_by) }
                        th scope="col" { (t.confirmation) }
                    }
                    @if action.is_some() { th scope="col" { span.visually-hidden { (t.confirm) } } }
                } }
                tbody {
                    @for o in obs.iter().map(|i| &snap.ds.observations[*i]).rev() {
                        tr class=[(with_entered_by && !o.is_confirmed()).then_some("unconfirmed")] {
                            th scope="row" { (period_label(lang, &o.period)) }
                            td.num { (obs_value(lang, &o.value)) }
                            td { @if o.status == ObsStatus::Provisional { (t.provisional) } @else { (t.final_value) } }
                            td.num { (opt_num(match o.period { Period::Year(fy) => expected_value(kpi, fy), _ => None })) }
                            td { (o.source) }
                            td { (o.note) }
                            @if with_entered_by {
                                td { (o.entered_by) }
                                td {
                                    @if o.is_confirmed() {
                                        (t.confirmed) @if o.confirmed_by != "migration" { "（" (o.confirmed_by) "）" }
                                    } @else {
                                        span.status.unconfirmed { (t.unconfirmed) }
                                    }
                                }
                            }
                            @if let Some(a) = action { td { (a(o)) } }
                        }
                    }
                }
            }
        }
    }
}

/// Plan → policy → measure paths of the nodes a KPI serves.
pub fn plan_paths(lang: Lang, snap: &Snapshot, kpi: &Kpi, public_only: bool) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for link in &kpi.nodes {
        let mut chain = Vec::new();
        let mut cur = snap.node(&link.node_code);
        let mut plan_code = None;
        let mut guard = 0;
        while let Some(n) = cur {
            chain.push(lang.name(&n.name_ja, &n.name_en).to_string());
            plan_code = Some(n.plan_code.clone());
            cur = n.parent_code.as_deref().and_then(|p| snap.node(p));
            guard += 1;
            if guard > 16 {
                break;
            }
        }
        let Some(plan) = plan_code.and_then(|c| snap.plan(&c)) else {
            continue;
        };
        if public_only && !plan.published {
            continue;
        }
        chain.push(lang.name(&plan.name_ja, &plan.name_en).to_string());
        chain.reverse();
        out.push(chain);
    }
    out
}

pub fn sdg_list(lang: Lang, kpi: &Kpi) -> Markup {
    let t = lang.text();
    html! {
        @if kpi.sdgs.is_empty() { (t.none) }
        @for s in &kpi.sdgs {
            span.tag { (t.sdg_goal) " " (s) }
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    let snap = state.snapshot().await?;
    let kpi = snap.kpi(&code).ok_or(WebError::NotFound)?;
    let t = ctx.t;
    let lang = ctx.lang;
    let report = snap.status(ctx.fy);
    let row = report.kpis.iter().find(|r| r.code == kpi.code);
    let name = lang.name(&kpi.name_ja, &kpi.name_en);
    let may_enter = ctx
        .user()
        .is_some_and(|u| can_enter_actual(u, &snap.kpi_departments(kpi)));
    let links = snap
        .links_by_kpi
        .get(&kpi.code)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let body = snap.fragment(format!("kpi:{}:{}:{}:{}:{}", kpi.code, ctx.fy, ctx.lang.code(), ctx.fy_explicit, may_enter), || {
        html! {
        nav aria-label="breadcrumb" {
            ol.breadcrumbs {
                li { a href="/" { (t.nav_home) } }
                li { a href="/kpis" { (t.nav_kpis) } }
                li aria-current="page" { (name) }
            }
        }
        h1 { (name) " " @if let Some(r) = row { (status_badge(lang, r.progress.status)) } }
        p.lead { (t.code) ": " (kpi.code) " ・ " (lang.fy(ctx.fy)) " ・ " @if kpi.published { (t.published) } @else { (t.draft) } }
        @if may_enter {
            p { a.button href={ "/kpis/" (kpi.code) "/actuals" } { (t.enter_actual) } }
        }
        p { a href={ "/kpis/" (kpi.code) "/scenario" } { (t.scenario_link) } }
        @if let Some(r) = row {
            dl.fields {
                dt { (t.actual) }
                dd {
                    (opt_num(r.progress.actual)) " " (kpi.unit)
                    @if let Some(fy) = r.progress.actual_fy { "（" (lang.fy(fy)) @if r.progress.actual_status == Some(ObsStatus::Provisional) { "・" (t.provisional) } "）" }
                    @if r.progress.stale { " " span.stale { (t.stale) } }
                }
                dt { (t.target) }
                dd { (opt_num(r.progress.target)) " " (kpi.unit) }
                @if let Some(span) = basis_span(lang, &r.progress) {
                    dt { (t.status_basis) } dd { (span) }
                }
                dt { (t.achievement_rate) }
                dd { (pct(r.progress.rate)) }
                dt { (t.progress_to_final) }
                dd { (pct(r.progress.progress_to_final)) }
            }
        }
        h2 { (t.actual) " / " (t.target_path) }
        @let outlook = kpi_outlook(&snap, kpi, ctx.fy);
        @if let Some(m) = sub_year_section(lang, &snap, kpi, ctx.fy, "kpi-chart") { (m) } @else {
            (kpi_chart(lang, &snap, kpi, Some(&outlook), "kpi-chart"))
        }
        (values_table(lang, &snap, kpi, true))
        (outlook_section(lang, kpi, &outlook))
        h2 { (t.definition) }
        dl.fields {
            dt { (t.unit) } dd { @if kpi.unit.is_empty() { (t.unit_none) } @else { (kpi.unit) } }
            dt { (t.direction) } dd { (direction_label(lang, &kpi.direction)) }
            dt { (t.frequency) } dd { (frequency_label(lang, kpi.frequency)) }
            @if kpi.frequency != Frequency::Annual {
                dt { (t.status_basis) }
                dd { (lang.name(kpi.basis().label_ja(), kpi.basis().label_en())) @if kpi.status_basis.is_none() { (t.basis_default) } }
            }
            dt { (t.baseline) } dd { @if let Some(b) = kpi.baseline { (num(b.value)) " " (kpi.unit) "（" (lang.fy(b.fy)) "）" } @else { "−" } }
            dt { (t.final_target) } dd { @if let Some(f) = kpi.final_target { (num(f.value)) " " (kpi.unit) "（" (lang.fy(f.fy)) "）" } @else { "−" } }
            dt { (t.source) } dd { (kpi.source) }
            dt { (t.publication_lag) } dd { (kpi.publication_lag_years) " " (t.years_suffix) }
            dt { (t.owners) }
            dd {
                @for s in &kpi.owner_sections {
                    span.tag { (section_label(lang, &snap, s)) }
                }
            }
            dt { (t.description) } dd { (kpi.description) }
        }
        h2 { (t.linked_programs) }
        @if links.is_empty() { p { (t.none) } } @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { (t.program) }
                        th scope="col" { (t.section) }
                        th.num scope="col" { (t.contribution) }
                        th scope="col" { (t.evidence) }
                        th.num scope="col" { (t.full_cost) "（" (t.yen_thousand) "）" }
                    } }
                    tbody {
                        @for l in links.iter().map(|i| &snap.ds.links[*i]) {
                            @if let Some(p) = snap.program(&l.program_code) {
                                tr {
                                    td { a href={ "/programs/" (p.code) } { (lang.name(&p.name_ja, &p.name_en)) } }
                                    td { (section_label(lang, &snap, &p.section_code)) }
                                    td.num { (pct(Some(l.weight))) }
                                    td { (l.evidence_grade.letter()) }
                                    td.num { (latest_full_cost(&snap, &p.code, ctx.fy).map(sen_yen).unwrap_or_else(|| "−".into())) }
                                }
                            }
                        }
                    }
                }
            }
        }
        (evidence_section(lang, &snap, &snap.evidence_by_kpi.get(&kpi.code).map(|v| v.iter().collect::<Vec<_>>()).unwrap_or_default()))
        p { a.button.secondary href={ "/evidence?kpi=" (kpi.code) } { (lang.name("根拠を分析する（保存データで推定）", "Analyse the evidence (on the stored data)")) } }
        h2 { (t.plans_and_sdgs) }
        ul {
            @for path in plan_paths(lang, &snap, kpi, false) {
                li { (path.join(" › ")) }
            }
        }
        p { (t.sdg_goals) ": " (sdg_list(lang, kpi)) }
        }
        .into_string()
    });
    // The notice after a save is per request, outside the cached part.
    let saved = crate::ctx::query_param(ctx.query.as_deref(), "saved").is_some();
    let body = html! {
        @if saved { div.notice.success role="status" { (t.saved) } }
        (PreEscaped(body.as_str()))
    };
    Ok(render(
        &ctx,
        Page {
            title: name,
            nav: Nav::Kpis,
            body,
        },
    ))
}

/// "Section (Department)".
pub fn section_label(lang: Lang, snap: &Snapshot, section: &str) -> String {
    match snap.section(section) {
        Some(s) => {
            let dept = snap
                .department(&s.department_code)
                .map(|d| lang.name(&d.name_ja, &d.name_en).to_string())
                .unwrap_or_default();
            format!("{}（{}）", lang.name(&s.name_ja, &s.name_en), dept)
        }
        None => section.to_string(),
    }
}

/// The full cost of the year `fy`, else of the latest year before it.
pub fn latest_full_cost(snap: &Snapshot, program: &str, fy: FiscalYear) -> Option<i64> {
    snap.money_by_program
        .get(program)?
        .iter()
        .map(|i| &snap.ds.money[*i])
        .rfind(|m| m.fy <= fy)
        .map(|m| m.full_cost())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_language_of_a_bilingual_reason() {
        let s = "連続した6年分の実績があるため指数平滑法（AICcでETS(A,N,N)を選択）（暫定値1件を除外 / 1 provisional excluded） / 6 consecutive yearly points: ETS, ETS(A,N,N) chosen by AICc";
        assert_eq!(
            in_language(Lang::Ja, s),
            "連続した6年分の実績があるため指数平滑法（AICcでETS(A,N,N)を選択）（暫定値1件を除外）"
        );
        assert_eq!(
            in_language(Lang::En, s),
            "6 consecutive yearly points: ETS, ETS(A,N,N) chosen by AICc (1 provisional excluded)"
        );
        assert_eq!(in_language(Lang::En, "理由のみ"), "理由のみ");
        assert_eq!(in_language(Lang::Ja, "a / b / c"), "a / b");
    }
}
