//! Administrative programs (事務事業): names, evaluation texts, KPI links,
//! activity/outcome indicators and five years of money.

use std::collections::{BTreeMap, BTreeSet};

use citykpi_domain::money::{FundingSources, ProgramMoney};
use citykpi_domain::program::{
    DeliveryMethod, EvidenceGrade, IndicatorKind, KpiLink, Program, ProgramIndicator,
};
use citykpi_domain::{Dataset, FiscalYear};

use crate::names::{
    self, DISTRICTS, ProgramKind, SectionDef, WARD_SECTIONS, parse_subjects, suffixes,
};
use crate::org::{Org, Unit, WARDS_PER_SCALE_STEP};
use crate::rng::DemoRng;

/// Programs of the city hall at scale 1, and per scale step for the wards.
pub const PROGRAMS_PER_SCALE_STEP: f64 = 1000.0;

/// Cost of one full-time equivalent in the current fiscal year (yen); earlier
/// years are a little lower, as pay scales rose.
const STAFF_UNIT_COST: i64 = 8_000_000;

/// Everything one program's money and indicators depend on.
struct Draft {
    code: String,
    name: String,
    kind: ProgramKind,
    subject: &'static str,
    target: &'static str,
    mandatory: bool,
    start: Option<i32>,
    end: Option<i32>,
}

fn fy(year: i32) -> FiscalYear {
    FiscalYear::containing_clamped(year, 4)
}

fn round_thousand(v: f64) -> i64 {
    ((v / 1000.0).round() * 1000.0) as i64
}

/// Names for a section's programs: every subject with its plainest suffix
/// first, then the other suffixes, then split by district; names already used
/// anywhere in the city are skipped.
fn program_names(
    rng: &mut DemoRng,
    def: &'static SectionDef,
    count: usize,
    ward: Option<&str>,
    used: &mut BTreeSet<String>,
) -> Vec<(ProgramKind, &'static str, String)> {
    let subjects = parse_subjects(def.subjects);
    let mut order: Vec<usize> = (0..subjects.len()).collect();
    rng.shuffle(&mut order);
    // Per subject, suffix order: plainest first, the rest shuffled.
    let suffix_orders: Vec<Vec<&'static str>> = subjects
        .iter()
        .map(|(kind, _)| {
            let all = suffixes(*kind);
            let mut rest: Vec<&'static str> = all.iter().skip(1).copied().collect();
            rng.shuffle(&mut rest);
            all.iter().take(1).copied().chain(rest).collect()
        })
        .collect();
    let mut out = Vec::with_capacity(count);
    let max_round = 7 + DISTRICTS.len() * 7 + 50;
    'rounds: for round in 0..max_round {
        for &si in &order {
            if out.len() >= count {
                break 'rounds;
            }
            let (kind, subject) = subjects[si];
            let sfx = &suffix_orders[si];
            if sfx.is_empty() {
                continue;
            }
            let suffix = sfx[round % sfx.len()];
            let lap = round / sfx.len();
            let stem = join_words(subject, suffix);
            let base = if lap == 0 {
                stem
            } else if lap <= DISTRICTS.len() {
                format!("{stem}（{}）", DISTRICTS[lap - 1])
            } else {
                format!("{stem}（第{}期）", lap - DISTRICTS.len() + 1)
            };
            let name = match ward {
                Some(w) => format!("{base}（{w}区）"),
                None => base,
            };
            if used.insert(name.clone()) {
                out.push((kind, subject, name));
            }
        }
    }
    out
}

/// A subject and a suffix joined without saying a word twice: a subject that
/// ends with the suffix's first word takes only the rest (子ども医療費助成 +
/// 助成事業 = 子ども医療費助成事業, not 子ども医療費助成助成事業).
pub(crate) fn join_words(subject: &str, suffix: &str) -> String {
    let overlap = suffix
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .filter(|&end| subject.ends_with(&suffix[..end]))
        .max()
        .unwrap_or(0);
    format!("{subject}{}", &suffix[overlap..])
}

fn delivery(rng: &mut DemoRng, kind: ProgramKind) -> DeliveryMethod {
    // Weights for direct, outsourced, subsidy, designated manager.
    let w: [f64; 4] = match kind {
        ProgramKind::Service => [35.0, 30.0, 35.0, 0.0],
        ProgramKind::Facility => [25.0, 25.0, 0.0, 50.0],
        ProgramKind::Campaign => [50.0, 40.0, 10.0, 0.0],
        ProgramKind::Admin => [80.0, 20.0, 0.0, 0.0],
        ProgramKind::Infrastructure => [30.0, 70.0, 0.0, 0.0],
    };
    DeliveryMethod::ALL[rng.weighted(&w)]
}

fn purpose(kind: ProgramKind, aim: &str, subject: &str, target: &str) -> String {
    match kind {
        ProgramKind::Service => format!("{aim}のため、{target}に対し{subject}に係る支援を行う。"),
        ProgramKind::Facility => {
            format!("{aim}のため、{subject}を適切に管理運営し、サービスを安定して提供する。")
        }
        ProgramKind::Campaign => format!("{aim}に向け、{subject}を通じて市民の理解と行動を促す。"),
        ProgramKind::Admin => {
            format!("{subject}に係る事務を適正かつ効率的に執行し、{aim}を支える。")
        }
        ProgramKind::Infrastructure => format!("{aim}のため、{subject}を計画的に進める。"),
    }
}

fn means(kind: ProgramKind, subject: &str, how: DeliveryMethod) -> String {
    let how = match how {
        DeliveryMethod::Direct => "市職員が直接実施する",
        DeliveryMethod::Outsourced => "専門事業者への委託により実施する",
        DeliveryMethod::Subsidy => "実施団体への補助により実施する",
        DeliveryMethod::DesignatedManager => "指定管理者による管理運営を行う",
    };
    let extra = match kind {
        ProgramKind::Service => "対象者への周知を強化し、申請手続のオンライン化を進める。",
        ProgramKind::Facility => "利用者アンケートを毎年実施し、運営改善に反映する。",
        ProgramKind::Campaign => "SNS・広報紙・市公式LINEを活用して周知する。",
        ProgramKind::Admin => "業務手順の標準化とデジタル化により効率化する。",
        ProgramKind::Infrastructure => "長寿命化計画に基づき、優先度の高い箇所から実施する。",
    };
    format!("{subject}について、{how}。{extra}")
}

pub struct ProgramContext<'a> {
    pub current_fy: FiscalYear,
    pub kpis_by_section: &'a BTreeMap<String, Vec<String>>,
}

pub fn build(
    ctx: &ProgramContext,
    org: &Org,
    rng: &mut DemoRng,
    money_rng: &mut DemoRng,
    ds: &mut Dataset,
) {
    let cur = ctx.current_fy.year();
    let base_subjects: usize = org
        .units
        .iter()
        .filter(|u| u.ward.is_none())
        .flat_map(|u| u.sections.iter())
        .map(|s| parse_subjects(s.def.subjects).len())
        .sum();
    let ward_subjects: usize = WARD_SECTIONS
        .iter()
        .map(|s| parse_subjects(s.subjects).len())
        .sum();
    let per_base_subject = PROGRAMS_PER_SCALE_STEP / base_subjects.max(1) as f64;
    let per_ward_subject =
        PROGRAMS_PER_SCALE_STEP / WARDS_PER_SCALE_STEP as f64 / ward_subjects.max(1) as f64;

    // KPIs a department's programs may serve: its sections' KPIs.
    let mut kpis_by_dept: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for unit in &org.units {
        let list = kpis_by_dept.entry(unit.code.as_str()).or_default();
        for s in &unit.sections {
            if let Some(codes) = ctx.kpis_by_section.get(&s.code) {
                list.extend(codes.iter().map(String::as_str));
            }
        }
        list.sort_unstable();
        list.dedup();
    }

    let kpi_names: BTreeMap<String, String> = ds
        .kpis
        .iter()
        .map(|k| (k.code.clone(), k.name_ja.clone()))
        .collect();
    let mut used = BTreeSet::new();
    let mut seq = 0usize;
    for unit in &org.units {
        for section in &unit.sections {
            let n_subjects = parse_subjects(section.def.subjects).len() as f64;
            let per_subject = if unit.ward.is_some() {
                per_ward_subject
            } else {
                per_base_subject
            };
            let count = (n_subjects * per_subject + rng.between(-1.0, 1.0))
                .round()
                .max(1.0) as usize;
            let names = program_names(rng, section.def, count, unit.ward.as_deref(), &mut used);
            for (kind, subject, name) in names {
                seq += 1;
                let draft = program(
                    ctx,
                    unit,
                    &section.code,
                    section.def,
                    seq,
                    kind,
                    subject,
                    name,
                    rng,
                    ds,
                );
                let own = ctx
                    .kpis_by_section
                    .get(&section.code)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                let dept = kpis_by_dept
                    .get(unit.code.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                links(&draft, own, dept, &kpi_names, rng, ds);
                indicators_and_money(&draft, cur, rng, money_rng, ds);
            }
        }
    }
    temper_claims(&mut ds.links);
}

/// Owners over-claim: the declared shares of a KPI's movement often add up to
/// more than 100 %. Keep that visible but plausible: where a KPI's claims sum
/// past `MAX_CLAIMED`, scale them down (not below the 0.05 floor).
fn temper_claims(links: &mut [KpiLink]) {
    const MAX_CLAIMED: f64 = 1.5;
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    for l in links.iter() {
        *sums.entry(l.kpi_code.clone()).or_default() += l.weight;
    }
    for l in links.iter_mut() {
        let sum = sums.get(&l.kpi_code).copied().unwrap_or(0.0);
        if sum > MAX_CLAIMED {
            let w = l.weight * MAX_CLAIMED / sum;
            l.weight = ((w * 20.0).round() / 20.0).clamp(0.05, 0.6);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn program(
    ctx: &ProgramContext,
    unit: &Unit,
    section_code: &str,
    def: &'static SectionDef,
    seq: usize,
    kind: ProgramKind,
    subject: &'static str,
    name: String,
    rng: &mut DemoRng,
    ds: &mut Dataset,
) -> Draft {
    let cur = ctx.current_fy.year();
    let code = format!("P{seq:05}");
    let how = delivery(rng, kind);
    let has_law = !def.law.is_empty() && rng.chance(0.55);
    let legal_basis = if has_law {
        if rng.chance(0.5) {
            format!("{}第{}条", def.law, rng.int(2, 60))
        } else {
            def.law.to_string()
        }
    } else {
        String::new()
    };
    let mandatory = if has_law && matches!(kind, ProgramKind::Service | ProgramKind::Admin) {
        rng.chance(0.6)
    } else {
        rng.chance(0.03)
    };
    let start = match rng.weighted(&[5.0, 58.0, 25.0, 8.0, 4.0]) {
        0 => None,
        1 => Some(rng.int(1985, (cur - 6) as i64) as i32),
        2 => Some(rng.int((cur - 5) as i64, (cur - 2) as i64) as i32),
        3 => Some(cur - 1),
        _ => Some(cur),
    };
    let end = match rng.weighted(&[84.0, 6.0, 10.0]) {
        1 => Some(cur - rng.int(1, 2) as i32),
        2 => Some(cur + rng.int(1, 4) as i32),
        _ => None,
    }
    .filter(|e| start.is_none_or(|s| *e >= s));
    ds.programs.push(Program {
        code: code.clone(),
        name_ja: name.clone(),
        name_en: String::new(),
        section_code: section_code.to_string(),
        purpose: purpose(kind, &unit.aim, subject, def.target),
        target_group: def.target.to_string(),
        intent: format!("{}が{}。", def.target, def.intent),
        means: means(kind, subject, how),
        delivery: how,
        legal_basis,
        start_fy: start.map(fy),
        end_fy: end.map(fy),
        mandatory,
        published: !rng.chance(0.03),
    });
    Draft {
        code,
        name,
        kind,
        subject,
        target: def.target,
        mandatory,
        start,
        end,
    }
}

/// How many two-character pieces of `subject` occur in `name`: a crude but
/// effective "is this KPI about this program" for Japanese names.
fn shared_bigrams(subject: &str, name: &str) -> usize {
    let chars: Vec<char> = subject.chars().collect();
    chars
        .windows(2)
        .filter(|w| {
            let mut piece = String::with_capacity(8);
            piece.extend(w.iter());
            name.contains(piece.as_str())
        })
        .count()
}

fn links(
    p: &Draft,
    own: &[String],
    dept: &[&str],
    kpi_names: &BTreeMap<String, String>,
    rng: &mut DemoRng,
    ds: &mut Dataset,
) {
    if dept.is_empty() && own.is_empty() || rng.chance(0.05) {
        return;
    }
    // Candidates: the section's own KPIs, then the department's. A KPI whose
    // name shares words with the program's subject (がん検診 → がん検診受診率)
    // is the one its owner would name first.
    let mut pool: Vec<&str> = own.iter().map(String::as_str).collect();
    pool.extend(dept.iter().copied().filter(|c| !own.iter().any(|o| o == c)));
    let scored: Vec<(usize, &str)> = pool
        .iter()
        .map(|c| {
            let name = kpi_names.get(*c).map(String::as_str).unwrap_or("");
            (shared_bigrams(p.subject, name), *c)
        })
        .collect();
    let best = scored.iter().map(|(s, _)| *s).max().unwrap_or(0);
    let related: Vec<&str> = scored
        .iter()
        .filter(|(s, _)| *s >= 1)
        .map(|(_, c)| *c)
        .collect();
    let wanted = if own.is_empty() && related.is_empty() {
        1
    } else {
        1 + rng.weighted(&[45.0, 35.0, 20.0])
    };
    let mut chosen: Vec<&str> = Vec::new();
    if best >= 2 {
        let top: Vec<&str> = scored
            .iter()
            .filter(|(s, _)| *s == best)
            .map(|(_, c)| *c)
            .collect();
        chosen.extend(rng.pick(&top).copied());
    }
    for _ in 0..wanted * 4 {
        if chosen.len() >= wanted {
            break;
        }
        // Mostly related or own KPIs; now and then another of the
        // department's, as owners do claim broader effects.
        let candidate = match rng.weighted(&[50.0, 42.0, 8.0]) {
            0 if !related.is_empty() => rng.pick(&related).copied(),
            0 | 1 if !own.is_empty() => rng.pick(own).map(String::as_str),
            _ => rng.pick(dept).copied(),
        };
        if let Some(c) = candidate
            && !chosen.contains(&c)
        {
            chosen.push(c);
        }
    }
    let activity = names::activity_indicators(p.kind)
        .first()
        .map(|a| a.0)
        .unwrap_or("活動量");
    for kpi_code in chosen {
        let grade = EvidenceGrade::ALL[rng.weighted(&[4.0, 13.0, 33.0, 50.0])];
        let kpi_name = kpi_names
            .get(kpi_code)
            .map(String::as_str)
            .unwrap_or(kpi_code);
        let rationale = match grade {
            EvidenceGrade::Causal => format!(
                "効果検証（差の差分析）により、{}の実施地区で{}が有意に改善したことを確認。",
                p.subject, kpi_name
            ),
            EvidenceGrade::Correlational => {
                format!(
                    "地区別・年度別のデータで、{}の{}と{}に一貫した相関がみられる。",
                    p.subject, activity, kpi_name
                )
            }
            EvidenceGrade::LogicModel => format!(
                "ロジックモデル上、{}への{}（{}）→ 成果指標の改善 →「{}」の向上の経路で寄与する。",
                p.target, p.subject, activity, kpi_name
            ),
            EvidenceGrade::Claimed => format!(
                "{}は「{}」の達成に寄与すると所管課が判断。",
                p.name, kpi_name
            ),
        };
        // Mostly small shares; a few programs claim a large part of a KPI.
        let weight = (0.05 + 0.55 * rng.unit().powf(2.2)) * 20.0;
        ds.links.push(KpiLink {
            program_code: p.code.clone(),
            kpi_code: kpi_code.to_string(),
            weight: (weight.round() / 20.0).clamp(0.05, 0.6),
            rationale,
            evidence_grade: grade,
        });
    }
}

/// Budget multiplier by kind: construction and facilities cost more than
/// campaigns; mandatory benefits are the biggest lines of a city budget.
fn size_factor(kind: ProgramKind, mandatory: bool) -> f64 {
    let k = match kind {
        ProgramKind::Service => 1.0,
        ProgramKind::Facility => 2.5,
        ProgramKind::Campaign => 0.35,
        ProgramKind::Admin => 0.6,
        ProgramKind::Infrastructure => 3.0,
    };
    if mandatory && kind == ProgramKind::Service {
        k * 8.0
    } else {
        k
    }
}

/// Shares of (national, prefectural, bonds, other) in a program's money.
fn funding_shares(kind: ProgramKind, mandatory: bool, rng: &mut DemoRng) -> [f64; 4] {
    let mut s = [0.0; 4];
    match kind {
        ProgramKind::Service if mandatory => {
            s[0] = rng.between(0.33, 0.75);
            s[1] = rng.between(0.0, 0.25);
        }
        ProgramKind::Service => {
            if rng.chance(0.4) {
                s[0] = rng.between(0.0, 0.5);
            }
            if rng.chance(0.3) {
                s[1] = rng.between(0.0, 0.2);
            }
            if rng.chance(0.3) {
                s[3] = rng.between(0.0, 0.1);
            }
        }
        ProgramKind::Infrastructure => {
            s[2] = rng.between(0.3, 0.75);
            if rng.chance(0.5) {
                s[0] = rng.between(0.0, 0.5);
            }
        }
        ProgramKind::Facility => {
            s[3] = rng.between(0.05, 0.4);
            if rng.chance(0.2) {
                s[2] = rng.between(0.0, 0.3);
            }
        }
        ProgramKind::Campaign | ProgramKind::Admin => {
            if rng.chance(0.15) {
                s[0] = rng.between(0.0, 0.5);
            }
            if rng.chance(0.2) {
                s[3] = rng.between(0.0, 0.15);
            }
        }
    }
    let total: f64 = s.iter().sum();
    if total > 0.95 {
        for x in &mut s {
            *x *= 0.95 / total;
        }
    }
    s
}

fn funding(amount: i64, shares: &[f64; 4]) -> FundingSources {
    let part = |share: f64| round_thousand(amount as f64 * share).clamp(0, amount);
    let national = part(shares[0]);
    let prefectural = part(shares[1]).min(amount - national);
    let bonds = part(shares[2]).min(amount - national - prefectural);
    let other = part(shares[3]).min(amount - national - prefectural - bonds);
    FundingSources {
        national,
        prefectural,
        bonds,
        other,
        general: amount - national - prefectural - bonds - other,
    }
}

fn indicators_and_money(
    p: &Draft,
    cur: i32,
    rng: &mut DemoRng,
    money_rng: &mut DemoRng,
    ds: &mut Dataset,
) {
    let first = (cur - 4).max(p.start.unwrap_or(i32::MIN));
    let last = cur.min(p.end.unwrap_or(i32::MAX));
    if first > last {
        return;
    }
    // Indicators: one activity (sometimes two) and one outcome, per year.
    let acts = names::activity_indicators(p.kind);
    let outs = names::outcome_indicators(p.kind);
    let n_acts = if rng.chance(0.3) { 2 } else { 1 };
    let mut act_defs = Vec::new();
    for i in 0..n_acts.min(acts.len()) {
        let (name, unit, typical) = acts[(rng.index(acts.len()) + i) % acts.len()];
        if act_defs
            .iter()
            .any(|(n, _, _): &(&str, &str, f64)| *n == name)
        {
            continue;
        }
        let level = (typical * (rng.normal() * 0.8).exp()).max(1.0);
        act_defs.push((name, unit, level));
    }
    let (out_name, out_unit) = outs[rng.index(outs.len())];
    let out_level = rng.between(60.0, 92.0);
    let mut main_output: BTreeMap<i32, f64> = BTreeMap::new();
    for y in first..=last {
        let closed = y < cur;
        for (i, (name, unit, level)) in act_defs.iter().enumerate() {
            let growth = 1.0 + 0.03 * (y - (cur - 4)) as f64;
            let target = (level * growth).round().max(1.0);
            let actual = closed.then(|| (target * rng.between(0.72, 1.15)).round().max(0.0));
            if i == 0 {
                main_output.insert(y, actual.unwrap_or(target));
            }
            ds.indicators.push(ProgramIndicator {
                program_code: p.code.clone(),
                code: format!("A{}", i + 1),
                kind: IndicatorKind::Activity,
                name_ja: name.to_string(),
                unit: unit.to_string(),
                fy: fy(y),
                target: Some(target),
                actual,
            });
        }
        let target = (out_level + (y - (cur - 4)) as f64).min(100.0);
        let target = (target * 10.0).round() / 10.0;
        let actual =
            closed.then(|| ((target + rng.normal() * 6.0).clamp(0.0, 100.0) * 10.0).round() / 10.0);
        ds.indicators.push(ProgramIndicator {
            program_code: p.code.clone(),
            code: "O1".to_string(),
            kind: IndicatorKind::Outcome,
            name_ja: out_name.to_string(),
            unit: out_unit.to_string(),
            fy: fy(y),
            target: Some(target),
            actual,
        });
    }

    // Money: a long-tailed budget (median ≈ ¥15M), drifting year to year.
    let rng = money_rng;
    let median = 15_000_000.0 * size_factor(p.kind, p.mandatory);
    let mut budget = (median * (rng.normal() * 1.2).exp()).clamp(1_000_000.0, 3_000_000_000.0);
    let shares = funding_shares(p.kind, p.mandatory, rng);
    let mut fte = (0.1 + 4.9 * rng.unit().powi(2)).clamp(0.1, 5.0);
    for y in first..=last {
        let closed = y < cur;
        let initial = round_thousand(budget).clamp(1_000_000, 3_000_000_000);
        let revised = if rng.chance(if closed { 0.25 } else { 0.1 }) {
            Some(round_thousand(
                initial as f64 * (1.0 + 0.02 + rng.normal() * 0.08).max(0.5),
            ))
        } else {
            None
        };
        let in_force = revised.unwrap_or(initial);
        let execution = if p.kind == ProgramKind::Infrastructure {
            rng.between(0.6, 1.0)
        } else {
            rng.between(0.8, 1.0)
        };
        let settled = closed.then(|| (in_force as f64 * execution).round() as i64);
        let funded = settled.unwrap_or(in_force);
        ds.money.push(ProgramMoney {
            program_code: p.code.clone(),
            fy: fy(y),
            budget_initial: initial,
            budget_revised: revised,
            settled,
            funding: funding(funded, &shares),
            staff_fte: (fte * 10.0).round() / 10.0,
            staff_unit_cost: STAFF_UNIT_COST - 50_000 * i64::from(cur - y),
            output_quantity: main_output.get(&y).copied(),
        });
        budget *= (0.01 + rng.normal() * 0.06).exp();
        fte = (fte + rng.normal() * 0.1).clamp(0.1, 5.0);
    }
}
