//! The demo city's startup outreach: a few startups met at Tokyo coworking
//! spaces and at the city's events, at every stage toward a demonstration,
//! and the events held with what they counted. A pure function of "today"
//! and the KPIs the events serve; every record goes through the same
//! validation as the forms.

use citykpi_domain::partner::Day;
use citykpi_domain::partner::outreach::{
    EventForm, EventInput, LeadForm, LeadInput, LeadStage, validate_event, validate_lead,
};

/// One demo lead: its fields and the stages it moved through (each with the
/// days after its first contact and a note).
#[derive(Debug, Clone, PartialEq)]
pub struct DemoLead {
    pub input: LeadInput,
    pub moves: Vec<(LeadStage, i64, &'static str)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutreachDemo {
    pub leads: Vec<DemoLead>,
    /// Events with the positions (in `leads`) of the leads met there.
    pub events: Vec<(EventInput, Vec<usize>)>,
}

const LEADS: &[(&str, &str, &str, &str, &str, i64)] = &[
    // (name, met at, where, field, summary, days ago first met)
    (
        "株式会社モビリティブリッジ",
        "coworking",
        "東京・渋谷のコワーキングスペース",
        "mobility",
        "AIオンデマンド交通の配車システム。臨海地区での乗合実証を希望。",
        400,
    ),
    (
        "ヘルステック・ラボ合同会社",
        "event",
        "首都圏スタートアップピッチ",
        "healthcare",
        "ウェアラブル端末による高齢者の見守りと保健指導。",
        300,
    ),
    (
        "株式会社グリッドシェア",
        "coworking",
        "東京・丸の内のコワーキングスペース",
        "energy",
        "公共施設の屋根を使った太陽光の共同購入と需給調整。",
        260,
    ),
    (
        "コミュニティネスト株式会社",
        "referral",
        "SDGs推進プラットフォーム会員からの紹介",
        "community",
        "町内会の回覧板と施設予約のデジタル化。",
        200,
    ),
    (
        "株式会社ワークアンカー",
        "event",
        "ワーケーション体験ツアー",
        "remote_work",
        "空き店舗を使ったサテライトオフィスの運営。",
        150,
    ),
    (
        "フードループ株式会社",
        "coworking",
        "東京・神田のコワーキングスペース",
        "other",
        "食品ロスを減らす需要予測。",
        120,
    ),
    (
        "株式会社ドローンポート",
        "event",
        "首都圏スタートアップピッチ",
        "mobility",
        "ドローンによる臨海部の点検と物流。",
        60,
    ),
    (
        "シニアテック合同会社",
        "coworking",
        "東京・渋谷のコワーキングスペース",
        "healthcare",
        "フレイル予防の運動アプリ。",
        20,
    ),
];

/// A demo event: title, kind, days before today, place, its counts
/// (attendees, visitors, relationship population, firms attracted) and the
/// demo leads met there (indexes).
type EventSpec = (
    &'static str,
    &'static str,
    i64,
    &'static str,
    [u64; 4],
    &'static [usize],
);

/// The stages each demo lead went through: (stage, days after the first
/// contact, note).
fn moves_of(n: usize) -> Vec<(LeadStage, i64, &'static str)> {
    use LeadStage::*;
    match n {
        0 => vec![
            (Meeting, 20, "市役所で面談"),
            (Proposal, 60, "実証計画の提案を受領"),
            (Trial, 150, "臨海地区で実証開始"),
            (Implemented, 380, "市の交通事業として本格導入"),
        ],
        1 => vec![
            (Meeting, 14, "オンライン面談"),
            (Proposal, 90, "見守り実証の提案"),
            (Trial, 200, "2地区で実証中"),
        ],
        2 => vec![
            (Meeting, 30, "環境局と面談"),
            (Proposal, 120, "共同購入の提案"),
        ],
        3 => vec![
            (Meeting, 10, "市民協働課と面談"),
            (Declined, 60, "町内会の合意が得られず見送り"),
        ],
        4 => vec![(Meeting, 30, "空き店舗の現地確認")],
        6 => vec![(Meeting, 21, "港湾局と面談")],
        _ => Vec::new(),
    }
}

/// The demo's leads and events as of `today`, organised by `section`. `kpi`
/// is the KPI the events serve (the relationship-population KPI when the
/// city has one), `others` further KPIs a lead may name.
pub fn generate(today: Day, section: &str, kpi: &str, others: &[String]) -> OutreachDemo {
    let extra = |n: usize| {
        others
            .get(n % others.len().max(1))
            .cloned()
            .unwrap_or_default()
    };
    let mut leads = Vec::new();
    for (n, (name, met_at, met_where, field, summary, ago)) in LEADS.iter().enumerate() {
        let first = today.plus_days(-ago);
        let moves = moves_of(n);
        let open = moves.last().is_none_or(|(s, _, _)| s.is_open());
        let form = LeadForm {
            name: (*name).into(),
            member_id: String::new(),
            met_at: (*met_at).into(),
            met_where: (*met_where).into(),
            first_met_on: first.to_string(),
            field: (*field).into(),
            summary: (*summary).into(),
            contact_person: format!("担当 {}", n + 1),
            email: format!("contact{}@startup{}.example.jp", n + 1, n + 1),
            kpi_codes: format!("{kpi} {}", extra(n)),
            sdg_goals: vec!["9".into(), "11".into(), "17".into()],
            // Open leads have a next action; two of them are late.
            next_action: if open {
                "次回打合せの調整".into()
            } else {
                String::new()
            },
            next_action_on: if open {
                today
                    .plus_days(if n % 3 == 0 { -7 } else { 14 })
                    .to_string()
            } else {
                String::new()
            },
        };
        // The demo's forms are correct by construction; a lead the rules
        // refuse is left out rather than stored half-checked.
        if let Ok(input) = validate_lead(&form, today) {
            leads.push(DemoLead { input, moves });
        }
    }
    let events_spec: &[EventSpec] = &[
        (
            "首都圏スタートアップピッチ",
            "pitch",
            320,
            "東京都千代田区（首都圏オフィス）",
            [180, 0, 60, 2],
            &[1, 6],
        ),
        (
            "コワーキング入居者との交流会",
            "meetup",
            240,
            "東京・渋谷のコワーキングスペース",
            [45, 0, 30, 1],
            &[0, 7],
        ),
        (
            "ワーケーション体験ツアー",
            "tour",
            160,
            "みなと市 臨海地区",
            [25, 25, 25, 1],
            &[4],
        ),
        (
            "シティプロモーションイベント",
            "promotion",
            45,
            "みなと市 中央公園",
            [800, 800, 150, 0],
            &[],
        ),
        (
            "実証フィールド説明会",
            "seminar",
            -30,
            "みなと市役所 本館",
            [0, 0, 0, 0],
            &[],
        ),
    ];
    let mut events = Vec::new();
    for (title, kind, ago, place, c, met) in events_spec {
        let form = EventForm {
            title: (*title).into(),
            kind: (*kind).into(),
            held_on: today.plus_days(-ago).to_string(),
            place: (*place).into(),
            section_code: section.into(),
            attendees: c[0].to_string(),
            visitors: c[1].to_string(),
            relationship_population: c[2].to_string(),
            firms_attracted: c[3].to_string(),
            kpi_codes: kpi.to_string(),
            sdg_goals: vec!["8".into(), "11".into(), "17".into()],
            lead_ids: String::new(),
            note: String::new(),
        };
        if let Ok(input) = validate_event(&form, today) {
            events.push((
                input,
                met.iter().copied().filter(|i| *i < leads.len()).collect(),
            ));
        }
    }
    OutreachDemo { leads, events }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_and_counts_by_the_rules() {
        let today = Day::parse("2026-11-26").unwrap();
        let d = generate(today, "KOHO", "K-REL", &["K-01".into()]);
        assert_eq!(d.leads.len(), LEADS.len());
        assert_eq!(d.events.len(), 5);
        let last: Vec<LeadStage> = d
            .leads
            .iter()
            .map(|l| l.moves.last().map_or(LeadStage::Contact, |m| m.0))
            .collect();
        for s in LeadStage::ALL {
            assert!(last.contains(s), "{s:?}");
        }
        // Every move is allowed from the stage before it and not in the future.
        for l in &d.leads {
            let mut at = LeadStage::Contact;
            for (to, days, _) in &l.moves {
                assert!(at.can_move_to(*to));
                assert!(l.input.first_met_on.plus_days(*days) <= today);
                at = *to;
            }
        }
        // The event still to come counts nothing.
        assert!(
            d.events
                .iter()
                .any(|(e, _)| e.held_on > today && e.counts.is_zero())
        );
        assert_eq!(d, generate(today, "KOHO", "K-REL", &["K-01".into()]));
    }
}
