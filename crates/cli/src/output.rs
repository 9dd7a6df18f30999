//! Printing for people: message language and aligned tables.

use std::time::Duration;

use citykpi_analytics::forecast::ForecastMethod;
use citykpi_app::data::ImportResult;
use citykpi_app::status::StatusReport;
use citykpi_domain::progress::{NodeProgress, Status};
use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    /// Japanese unless the locale asks for English: the product is Japanese first.
    pub fn from_env() -> Lang {
        for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Ok(v) = std::env::var(var) {
                if v.is_empty() {
                    continue;
                }
                return if v.starts_with("en") {
                    Lang::En
                } else {
                    Lang::Ja
                };
            }
        }
        Lang::Ja
    }

    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

use citykpi_domain::text::display_width as width;

fn pad(s: &str, w: usize) -> String {
    let mut out = s.to_string();
    for _ in width(s)..w {
        out.push(' ');
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = width(c.encode_utf8(&mut [0; 4]));
        if w + cw > max.saturating_sub(1) {
            out.push('…');
            return out;
        }
        w += cw;
        out.push(c);
    }
    out
}

fn num(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e12 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
    }
}

fn pct(v: Option<f64>) -> String {
    v.map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "-".into())
}

fn method_label(m: ForecastMethod, lang: Lang) -> &'static str {
    match (m, lang) {
        (ForecastMethod::Ets, _) => "ETS",
        (ForecastMethod::LinearTrend, Lang::Ja) => "線形トレンド",
        (ForecastMethod::LinearTrend, Lang::En) => "linear trend",
        (ForecastMethod::NaiveDrift, Lang::Ja) => "直近変化",
        (ForecastMethod::NaiveDrift, Lang::En) => "drift",
        (ForecastMethod::None, _) => "-",
    }
}

fn status_label(s: Status, lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => s.label_ja(),
        Lang::En => s.label_en(),
    }
}

pub fn print_status(r: &StatusReport, lang: Lang) {
    println!(
        "{} {}  {} {}",
        lang.pick("評価年度", "Fiscal year"),
        match lang {
            Lang::Ja => r.fy.label_ja(),
            Lang::En => r.fy.label_en(),
        },
        lang.pick("地域コード", "area"),
        r.area_code
    );
    let head = [
        lang.pick("コード", "code"),
        lang.pick("指標名", "KPI"),
        lang.pick("実績", "actual"),
        lang.pick("年度", "FY"),
        lang.pick("目標", "target"),
        lang.pick("達成率", "rate"),
        lang.pick("状況", "status"),
        lang.pick("達成見込", "P(reach)"),
        lang.pick("予測法", "method"),
    ];
    let widths = [10, 40, 12, 6, 12, 9, 10, 9, 12];
    let line: Vec<String> = head.iter().zip(widths).map(|(h, w)| pad(h, w)).collect();
    println!("{}", line.join(" "));
    for k in &r.kpis {
        let p = &k.progress;
        let name = match lang {
            Lang::Ja => &k.name_ja,
            Lang::En if !k.name_en.is_empty() => &k.name_en,
            Lang::En => &k.name_ja,
        };
        let mut actual = num(p.actual);
        if p.actual_status == Some(citykpi_domain::observation::ObsStatus::Provisional) {
            actual.push('*');
        }
        let cells = [
            k.code.clone(),
            truncate(name, 40),
            actual,
            p.actual_fy
                .map(|y| y.to_string())
                .unwrap_or_else(|| "-".into()),
            num(p.target),
            pct(p.rate),
            format!(
                "{}{}",
                status_label(p.status, lang),
                if p.stale { "!" } else { "" }
            ),
            pct(k.outlook.probability()),
            k.outlook
                .forecast()
                .map(|f| method_label(f.method, lang))
                .unwrap_or("-")
                .to_string(),
        ];
        let line: Vec<String> = cells.iter().zip(widths).map(|(c, w)| pad(c, w)).collect();
        println!("{}", line.join(" ").trim_end());
    }
    println!(
        "{}",
        lang.pick(
            "* 速報値  ! 更新が遅れているデータ  達成見込: 最終目標年度に目標に届く確率（予測）",
            "* provisional  ! stale data  P(reach): forecast probability of meeting the final target in its year"
        )
    );
    println!();
    let c = &r.counts;
    println!(
        "{}: {} {} / {} {} / {} {} / {} {} / {} {}  ({} {})",
        lang.pick("件数", "Counts"),
        status_label(Status::Achieved, lang),
        c.achieved,
        status_label(Status::OnTrack, lang),
        c.on_track,
        status_label(Status::Behind, lang),
        c.behind,
        status_label(Status::AtRisk, lang),
        c.at_risk,
        status_label(Status::NoData, lang),
        c.no_data,
        lang.pick("計", "total"),
        c.total()
    );
    for plan in &r.plans {
        println!();
        print_node(plan, 0, lang);
    }
}

fn print_node(n: &NodeProgress, depth: usize, lang: Lang) {
    let indent = "  ".repeat(depth);
    let label = format!("{indent}{} {}", n.code, n.name_ja);
    println!(
        "{} {:>7} {}  ({} {})",
        pad(&truncate(&label, 56), 56),
        pct(n.rate),
        pad(status_label(n.status, lang), 10),
        n.counts.total(),
        lang.pick("指標", "KPIs")
    );
    // Measures are the deepest level shown; KPI lines are in the table above.
    for c in &n.children {
        print_node(c, depth + 1, lang);
    }
}

pub fn print_import(r: &ImportResult, dry_run: bool, took: Duration, lang: Lang) {
    let secs = took.as_secs_f64();
    println!(
        "{}: {} ({} {}, {:.2}s{})",
        if dry_run {
            lang.pick("検査のみ（書き込みなし）", "Dry run (nothing written)")
        } else {
            lang.pick("取り込み完了", "Imported")
        },
        r.file,
        r.rows_read,
        lang.pick("行", "rows"),
        secs,
        if secs > 0.0 {
            format!(", {:.0} rows/s", r.rows_read as f64 / secs)
        } else {
            String::new()
        }
    );
    for (what, n) in &r.counts {
        println!("  {what:<14} {n:>9}");
    }
    for w in &r.warnings {
        println!("{}: {w}", lang.pick("注意", "warning"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_cjk_twice() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("待機児童"), 8);
        assert_eq!(width("ｶﾅ"), 2);
        assert_eq!(pad("児童", 6), "児童  ");
        assert_eq!(truncate("待機児童数の削減", 9), "待機児童…");
    }
}
