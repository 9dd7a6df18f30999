//! The demo city's partnerships: member organisations of the SDGs platform,
//! desk inquiries (some overdue), proposals along the pipeline, menu items,
//! demonstrations in the five fields and PR plans. A pure function of the
//! seed and "today", like the rest of the demo; every record goes through the
//! same validation as a real form, so the demo cannot hold what the forms
//! would refuse.

use citykpi_domain::partner::Day;
use citykpi_domain::partner::SdgGoal;
use citykpi_domain::partner::desk::{self, InquiryForm, NewInquiry};
use citykpi_domain::partner::member::{self, MemberForm, MemberStatus, NewMember};
use citykpi_domain::partner::menu::{MenuItem, MenuKind};
use citykpi_domain::partner::projects::{
    Demonstration, DemonstrationForm, PrPlan, PrPlanForm, validate_demonstration, validate_pr_plan,
};
use citykpi_domain::partner::proposal::{self, NewProposal, ProposalForm};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A stream of its own, so that the partners do not reshuffle the city.
const PARTNER_STREAM: u64 = 60;

/// Members per scale step (a large city's platform has about 1,300).
pub const MEMBERS_PER_SCALE: usize = 1_300;
pub const INQUIRIES_PER_SCALE: usize = 2_000;

/// The section that owns the demo's PR plans: 広報戦略推進課, the second
/// section of 市長公室 in the demo's organisation (`org::build` numbers
/// sections `<department>-<nn>`; a test holds the two together).
pub const PR_SECTION: &str = "SHICHO-02";

#[derive(Debug, Clone, PartialEq)]
pub struct PartnerDemo {
    pub members: Vec<(NewMember, MemberStatus)>,
    pub inquiries: Vec<NewInquiry>,
    pub proposals: Vec<NewProposal>,
    pub menu: Vec<MenuItem>,
    pub demonstrations: Vec<Demonstration>,
    pub pr_plans: Vec<PrPlan>,
}

const PREFIXES: &[&str] = &[
    "みなと",
    "ベイ",
    "湊",
    "臨海",
    "中央",
    "北浜",
    "南港",
    "緑が丘",
    "さくら",
    "あおぞら",
    "浜風",
    "港北",
];
const STEMS: &[(&str, &str, &str)] = &[
    // (name stem, what they offer, a keyword of it)
    ("エネルギー", "太陽光発電と蓄電池の導入支援", "太陽光"),
    ("モビリティ", "オンデマンド交通の運行ノウハウ", "交通"),
    ("ヘルスケア", "健康データを使った保健指導", "健康"),
    (
        "フードバンク",
        "食品ロスの削減と子ども食堂への食材提供",
        "食品",
    ),
    ("データ", "データ分析とダッシュボード構築", "データ"),
    ("建設", "公共施設の省エネ改修", "省エネ"),
    ("教育", "プログラミング教室の講師派遣", "教育"),
    ("みどり", "公園の緑化と清掃ボランティア", "緑化"),
    (
        "ワークス",
        "サテライトオフィスとリモートワーク環境の提供",
        "リモートワーク",
    ),
    (
        "リサイクル",
        "資源回収とリサイクルの仕組みづくり",
        "リサイクル",
    ),
];
const TYPES: &[(&str, &str)] = &[
    ("company", "株式会社"),
    ("company", "合同会社"),
    ("npo", "NPO法人"),
    ("university", "大学"),
    ("public", "公社"),
    ("other", "協議会"),
];
/// Codes of the demo city (みなと市 = 271403) and neighbours, check digits included.
const AREAS: &[(&str, &str)] = &[
    ("271403", "みなと市中央区本町"),
    ("271403", "みなと市臨海区港町"),
    ("271276", "大阪市北区梅田"),
    ("272078", "高槻市"),
    ("131016", "東京都千代田区丸の内"),
];
const DEPARTMENTS: &[&str] = &["SHICHO", "SHIMIN", "KENKO", "KODOMO", "SANGYO", "KENCHIKU"];
const SUBJECTS: &[(&str, &str)] = &[
    ("partnership", "公民連携の進め方について"),
    ("membership", "SDGs貢献メニューへの申込方法"),
    ("proposal", "民間提案の事前相談"),
    ("demonstration", "実証フィールドの利用について"),
    ("startup", "市内への事業所開設の支援策"),
    ("other", "イベントの後援依頼"),
];
const CHANNELS: &[&str] = &["web", "phone", "mail", "visit", "line"];

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Builds the partnerships of the demo city. `kpis` are the city's KPIs as
/// (code, Japanese name): menu items, proposals, demonstrations and plans
/// refer to the ones whose names fit them; `today` is the day the desk's due
/// dates are measured from.
pub fn generate(seed: u64, scale: u32, today: Day, kpis: &[(String, String)]) -> PartnerDemo {
    let scale = scale.clamp(1, crate::MAX_SCALE) as usize;
    generate_sized(
        seed,
        MEMBERS_PER_SCALE * scale,
        INQUIRIES_PER_SCALE * scale,
        today,
        kpis,
    )
}

/// The KPIs (at most two) whose names say one of `words`, in the order of
/// `words`; the `fallback` KPI when none does (a city with other KPIs).
fn fitting(kpis: &[(String, String)], words: &[&str], fallback: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in words {
        for (code, name) in kpis {
            if out.len() < 2 && name.contains(word) && !out.contains(code) {
                out.push(code.clone());
            }
        }
    }
    if out.is_empty()
        && let Some((code, _)) = kpis.get(fallback % kpis.len().max(1))
    {
        out.push(code.clone());
    }
    out
}

/// Most members or inquiries [`generate_sized`] makes.
pub const MAX_SIZED: usize = 1_000_000;

/// [`generate`] with the number of members and of inquiries given (each at
/// most [`MAX_SIZED`]): the benchmark's 10,000 members and 50,000 inquiries.
pub fn generate_sized(
    seed: u64,
    members_wanted: usize,
    inquiries_wanted: usize,
    today: Day,
    kpis: &[(String, String)],
) -> PartnerDemo {
    let (members_wanted, inquiries_wanted) = (
        members_wanted.min(MAX_SIZED),
        inquiries_wanted.min(MAX_SIZED),
    );
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(PARTNER_STREAM);
    let kpi_codes: Vec<String> = kpis.iter().map(|(code, _)| code.clone()).collect();

    let mut members = Vec::new();
    let mut offers_of = Vec::new();
    for i in 0..members_wanted {
        let (type_code, suffix) = *pick(&mut rng, TYPES);
        let (stem, offers, _) = *pick(&mut rng, STEMS);
        let prefix = *pick(&mut rng, PREFIXES);
        let name = match type_code {
            "npo" => format!("{suffix}{prefix}{stem}ネット{i}"),
            "university" => format!("{prefix}{stem}{suffix}{i}"),
            _ => format!("{prefix}{stem}{suffix}{i}"),
        };
        let (lg, addr) = *pick(&mut rng, AREAS);
        let goals: Vec<String> = (0..rng.random_range(1..4))
            .map(|_| rng.random_range(1..=17u8).to_string())
            .collect();
        let publish = rng.random_bool(0.8);
        let form = MemberForm {
            name,
            org_type: type_code.into(),
            size: pick(&mut rng, &["micro", "small", "large", ""]).to_string(),
            postal_code: format!(
                "{:03}-{:04}",
                rng.random_range(530..600),
                rng.random_range(0..10_000)
            ),
            lg_code: lg.into(),
            address: format!(
                "{addr}{}-{}",
                rng.random_range(1..10),
                rng.random_range(1..30)
            ),
            website: format!("https://member{i}.example.jp"),
            contact_person: format!("担当 {}", i + 1),
            email: format!("contact{i}@member{i}.example.jp"),
            phone: format!(
                "06-{:04}-{:04}",
                rng.random_range(1000..10_000),
                rng.random_range(0..10_000)
            ),
            sdg_goals: goals,
            offers: offers.into(),
            publish,
            public_fields: [
                "org_type",
                "size",
                "address",
                "website",
                "sdg_goals",
                "offers",
            ]
            .iter()
            .filter(|_| rng.random_bool(0.7))
            .map(|s| s.to_string())
            .collect(),
        };
        let status = match rng.random_range(0..20) {
            0 => MemberStatus::Rejected,
            1..=2 => MemberStatus::Pending,
            _ => MemberStatus::Approved,
        };
        // The forms above are built to pass; one that would not is left out rather than stored.
        if let Ok(m) = member::validate(&form) {
            offers_of.push(m.org.name.clone());
            members.push((m, status));
        }
    }

    let mut inquiries = Vec::new();
    for i in 0..inquiries_wanted {
        let (category, subject) = *pick(&mut rng, SUBJECTS);
        let received = today.plus_days(-rng.random_range(0..400));
        let org = offers_of
            .get(rng.random_range(0..offers_of.len().max(1)))
            .cloned()
            .unwrap_or_default();
        let form = InquiryForm {
            category: category.into(),
            channel: pick(&mut rng, CHANNELS).to_string(),
            org_name: org,
            member_id: None,
            subject: subject.into(),
            content: format!("{subject}について相談したいです（問合せ番号 {i}）。"),
            person_name: format!("相談者 {}", i + 1),
            email: format!("inquirer{i}@example.jp"),
            phone: String::new(),
            departments: pick(&mut rng, DEPARTMENTS).to_string(),
            due_on: String::new(),
        };
        if let Ok(new) = desk::validate(&form, received, false) {
            inquiries.push(new);
        }
    }

    let titles: [(&str, &str, &[&str]); 6] = [
        ("公園の見守りセンサー", "11", &["公園", "刑法犯", "防犯"]),
        (
            "AIオンデマンド交通",
            "11",
            &["オンデマンド交通", "公共交通"],
        ),
        ("健康ポイントアプリ", "3", &["健康", "健診", "検診"]),
        (
            "公共施設の屋根貸し太陽光",
            "7",
            &["太陽光", "温室効果", "再生可能"],
        ),
        ("子ども食堂への食品提供網", "2", &["子ども食堂", "食品ロス"]),
        (
            "行政手続きのチャット案内",
            "16",
            &["オンライン", "電子申請", "マイナンバー"],
        ),
    ];
    let mut proposals = Vec::new();
    for (i, (title, goal, words)) in titles.iter().enumerate() {
        let form = ProposalForm {
            title: (*title).into(),
            proposer_name: offers_of
                .get(i * 7)
                .cloned()
                .unwrap_or_else(|| "みなと電機株式会社".into()),
            member_id: None,
            theme_code: String::new(),
            summary: format!("{title}を市内で実施し、関連するKPIの改善を目指します。"),
            kpi_codes: fitting(kpis, words, i * 3).join(","),
            sdg_goals: vec![(*goal).into()],
            contact_email: format!("proposal{i}@example.jp"),
            publish_consent: i % 2 == 0,
        };
        if let Ok(p) = proposal::validate(&form, &kpi_codes, &[]) {
            proposals.push(p);
        }
    }

    let menu: [(&str, &str, MenuKind, u8, &[&str]); 4] = [
        (
            "M-SPONSOR",
            "子育て支援事業への協賛",
            MenuKind::Sponsor,
            4u8,
            &["子育て", "子育てひろば"],
        ),
        (
            "M-FIELD",
            "公共施設を実証フィールドとして提供",
            MenuKind::Field,
            9,
            &["スマートシティ実証", "実証"],
        ),
        (
            "M-VOLUNTEER",
            "公園清掃の社員ボランティア",
            MenuKind::Volunteer,
            11,
            &["公園愛護", "公園"],
        ),
        (
            "M-DONATION",
            "フードドライブへの食品寄附",
            MenuKind::Donation,
            2,
            &["食品ロス", "子ども食堂"],
        ),
    ];
    let menu = menu
        .iter()
        .enumerate()
        .map(|(i, (code, title, kind, goal, words))| MenuItem {
            code: (*code).into(),
            title: (*title).into(),
            kind: *kind,
            description: format!("{title}。詳しくはワンストップ窓口までご相談ください。"),
            kpi_codes: fitting(kpis, words, i * 5 + 1),
            sdg_goals: SdgGoal::new(*goal).into_iter().collect(),
            open: true,
        })
        .collect();

    let fields: [(&str, &str, &str, &str, &[&str]); 5] = [
        (
            "DX-HEALTH",
            "健康データ連携による保健指導",
            "healthcare",
            "中央区",
            &["特定健診", "健康", "検診"],
        ),
        (
            "DX-MOBI",
            "臨海地区の自動運転バス",
            "mobility",
            "臨海区",
            &["オンデマンド交通", "公共交通"],
        ),
        (
            "DX-COMM",
            "地域アプリによる見守り",
            "community",
            "北区",
            &["見守り", "地域活動"],
        ),
        (
            "DX-REMOTE",
            "サテライトオフィス実証",
            "remote_work",
            "中央区",
            &["企業立地", "テレワーク"],
        ),
        (
            "DX-ENERGY",
            "公共施設の再エネ・蓄電池",
            "energy",
            "臨海区",
            &["スマートエネルギー", "太陽光", "温室効果"],
        ),
    ];
    let mut demonstrations = Vec::new();
    for (i, (code, title, field, area, words)) in fields.iter().enumerate() {
        let start = today.plus_days(-(i as i64) * 90);
        let form = DemonstrationForm {
            code: (*code).into(),
            title: (*title).into(),
            field: (*field).into(),
            area: (*area).into(),
            start: start.to_string(),
            end: start.plus_days(364).to_string(),
            kpi_codes: fitting(kpis, words, i * 2).join(","),
        };
        if let Ok(d) = validate_demonstration(&form) {
            demonstrations.push(d);
        }
    }

    let mut pr_plans = Vec::new();
    for (i, (code, title, channels, words)) in [
        (
            "PR-KENSHIN",
            "特定健診の受診勧奨",
            vec!["line", "newsletter"],
            &["特定健診", "検診", "健診"][..],
        ),
        (
            "PR-SDGS",
            "SDGs推進プラットフォーム会員募集",
            vec!["website", "event", "press"],
            &["SDGs推進プラットフォーム", "SDGs"][..],
        ),
        (
            "PR-KOSODATE",
            "子育て応援アプリの周知",
            vec!["line", "website"],
            &["子育てしやすい", "子育て"][..],
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let start = today.plus_days(i as i64 * 30 - 30);
        let form = PrPlanForm {
            code: code.into(),
            title: title.into(),
            section_code: String::from(PR_SECTION),
            goal: format!("{title}により関連KPIを改善する"),
            audience: "市民・事業者".into(),
            message: format!("{title}をお知らせします"),
            channels: channels.into_iter().map(String::from).collect(),
            start: start.to_string(),
            end: start.plus_days(60).to_string(),
            kpi_codes: fitting(kpis, words, i * 4).join(","),
            reach_target: "10000".into(),
        };
        if let Ok(p) = validate_pr_plan(&form) {
            pr_plans.push(p);
        }
    }

    PartnerDemo {
        members,
        inquiries,
        proposals,
        menu,
        demonstrations,
        pr_plans,
    }
}

/// The demo city's published themes for private proposals (テーマ型提案):
/// two open now, one closed at the end of last month, each linked to the
/// first KPIs of the plan.
pub fn proposal_themes(today: Day, kpi_codes: &[String]) -> Vec<proposal::ThemeForm> {
    let kpis = |from: usize| {
        kpi_codes
            .iter()
            .skip(from)
            .take(2)
            .cloned()
            .collect::<Vec<_>>()
            .join(",")
    };
    let month_start = Day::new(today.year(), today.month(), 1).unwrap_or(today);
    let themes = [
        (
            "T-PARK",
            "公園のにぎわいづくり",
            "市内の公園を活用し、子育て世帯や高齢者が集う場をつくる提案を募集します。",
            "3,11",
            0,
            month_start.plus_days(-30),
            month_start.plus_days(150),
        ),
        (
            "T-DX",
            "行政手続きのデジタル化",
            "来庁せずに済む手続きを増やし、窓口の待ち時間を減らす提案を募集します。",
            "9,16",
            2,
            month_start.plus_days(-60),
            month_start.plus_days(90),
        ),
        (
            "T-ENERGY",
            "公共施設の脱炭素",
            "公共施設の屋根や駐車場を使った再生可能エネルギーの提案を募集しました（受付終了）。",
            "7,13",
            4,
            month_start.plus_days(-200),
            month_start.plus_days(-1),
        ),
    ];
    themes
        .iter()
        .map(
            |(code, title, description, goals, from, open_from, open_until)| proposal::ThemeForm {
                code: (*code).into(),
                title: (*title).into(),
                description: (*description).into(),
                kpi_codes: kpis(*from),
                sdg_goals: goals.split(',').map(str::to_string).collect(),
                open_from: open_from.to_string(),
                open_until: open_until.to_string(),
                closed: false,
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_complete() {
        let today = Day::parse("2026-11-26").unwrap();
        let kpis = vec![
            ("K1".to_string(), "健康".to_string()),
            ("K2".to_string(), "子育て".to_string()),
        ];
        let a = generate(7, 1, today, &kpis);
        assert_eq!(a, generate(7, 1, today, &kpis));
        assert_ne!(a.members, generate(8, 1, today, &kpis).members);
        assert_eq!(
            a.members.len(),
            MEMBERS_PER_SCALE,
            "every generated form passes validation"
        );
        assert_eq!(a.inquiries.len(), INQUIRIES_PER_SCALE);
        assert_eq!(a.proposals.len(), 6);
        assert_eq!(a.demonstrations.len(), 5);
        assert_eq!(a.pr_plans.len(), 3);
        assert!(a.menu.iter().all(|m| !m.kpi_codes.is_empty()));
        assert!(a.members.iter().any(|(_, s)| *s == MemberStatus::Pending));
        assert!(
            a.inquiries.iter().any(|i| i.due_on < today),
            "some are overdue"
        );
        assert_eq!(
            generate(7, 2, today, &kpis).members.len(),
            2 * MEMBERS_PER_SCALE
        );
    }
}
