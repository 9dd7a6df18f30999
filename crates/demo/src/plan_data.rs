//! The demo city's two plans as data: the Basic Plan's policies (政策), measures
//! (施策) and KPIs, the SDGs Future City Plan's tree, and the ward-level measures
//! added at scale ≥ 2. Values are those of a designated city of ~820,000 people.

/// Which way is better, as written in the data tables.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dir {
    Up,
    Down,
    /// Keep within [lower, upper].
    Band(f64, f64),
}

/// Where a KPI's value comes from; fixes its publication lag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Internal,
    ResidentRegister,
    CitizenSurvey,
    Census,
    EconomicCensus,
    Manufacturing,
    VitalStatistics,
    HealthyLife,
    TourismSurvey,
    NationalTest,
    HealthInsurance,
    FireAnnual,
    Police,
    Greenhouse,
    Settlement,
    Payroll,
    Waste,
    Labour,
    Carriers,
    GreenSurvey,
}

impl Source {
    pub fn name_ja(self) -> &'static str {
        match self {
            Source::Internal => "庁内統計",
            Source::ResidentRegister => "住民基本台帳",
            Source::CitizenSurvey => "市民意識調査",
            Source::Census => "国勢調査",
            Source::EconomicCensus => "経済センサス",
            Source::Manufacturing => "経済構造実態調査",
            Source::VitalStatistics => "人口動態統計",
            Source::HealthyLife => "健康寿命の算定（厚生労働科学研究）",
            Source::TourismSurvey => "観光動態調査",
            Source::NationalTest => "全国学力・学習状況調査",
            Source::HealthInsurance => "国保データベース（KDB）",
            Source::FireAnnual => "消防年報",
            Source::Police => "府警察犯罪統計",
            Source::Greenhouse => "温室効果ガス排出量算定",
            Source::Settlement => "地方財政状況調査（決算統計）",
            Source::Payroll => "人事給与システム",
            Source::Waste => "一般廃棄物処理実態調査",
            Source::Labour => "障害者雇用状況報告（労働局）",
            Source::Carriers => "交通事業者報告",
            Source::GreenSurvey => "緑の現況調査",
        }
    }

    /// Years between the end of a fiscal year and the publication of its value.
    pub fn lag_years(self) -> u8 {
        match self {
            Source::Internal
            | Source::ResidentRegister
            | Source::NationalTest
            | Source::FireAnnual
            | Source::Payroll => 0,
            Source::CitizenSurvey
            | Source::VitalStatistics
            | Source::TourismSurvey
            | Source::HealthInsurance
            | Source::Police
            | Source::Settlement
            | Source::Waste
            | Source::Labour
            | Source::Carriers => 1,
            Source::Census
            | Source::EconomicCensus
            | Source::Manufacturing
            | Source::HealthyLife
            | Source::Greenhouse
            | Source::GreenSurvey => 2,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct KpiDef {
    pub ja: &'static str,
    pub en: &'static str,
    pub unit: &'static str,
    pub dir: Dir,
    pub baseline: f64,
    pub target: f64,
    pub source: Source,
    /// `"3.4"`, `"13"` or `""`; several separated by `,`.
    pub sdgs: &'static str,
    /// Measured monthly (periods are months).
    pub monthly: bool,
    /// Hit by the pandemic in FY2020–2022 (visitors, events, transit).
    pub pandemic: bool,
    /// Published for every city by official statistics: gets comparison areas.
    pub comparable: bool,
}

#[allow(clippy::too_many_arguments)]
const fn k(
    ja: &'static str,
    en: &'static str,
    unit: &'static str,
    dir: Dir,
    baseline: f64,
    target: f64,
    source: Source,
    sdgs: &'static str,
) -> KpiDef {
    KpiDef {
        ja,
        en,
        unit,
        dir,
        baseline,
        target,
        source,
        sdgs,
        monthly: false,
        pandemic: false,
        comparable: false,
    }
}

impl KpiDef {
    const fn monthly(self) -> Self {
        Self {
            monthly: true,
            ..self
        }
    }
    const fn pandemic(self) -> Self {
        Self {
            pandemic: true,
            ..self
        }
    }
    const fn comparable(self) -> Self {
        Self {
            comparable: true,
            ..self
        }
    }
}

pub struct MeasureDef {
    pub ja: &'static str,
    pub en: &'static str,
    /// Owner department code (empty for ward measures: the ward office owns them).
    pub dept: &'static str,
    /// Owner section, by its Japanese name within the department.
    pub sec: &'static str,
    /// Co-owner `"DEPT:課名"` for some of the KPIs, or empty.
    pub co: &'static str,
    pub kpis: &'static [KpiDef],
    /// For SDGs-plan measures: Basic Plan KPIs (by Japanese name) that also
    /// serve this measure.
    pub shared: &'static [&'static str],
}

pub struct PolicyDef {
    pub ja: &'static str,
    pub en: &'static str,
    pub measures: &'static [MeasureDef],
}

const fn m(
    ja: &'static str,
    en: &'static str,
    dept: &'static str,
    sec: &'static str,
    co: &'static str,
    kpis: &'static [KpiDef],
) -> MeasureDef {
    MeasureDef {
        ja,
        en,
        dept,
        sec,
        co,
        kpis,
        shared: &[],
    }
}

use Dir::{Band, Down, Up};
use Source::*;

/// 基本計画: eight policies, 42 measures, 137 KPIs.
#[rustfmt::skip]
pub static BASIC_PLAN: &[PolicyDef] = &[
    PolicyDef {
        ja: "子育て・教育",
        en: "Child-rearing and Education",
        measures: &[
            m("待機児童の解消", "Eliminating nursery waiting lists", "KODOMO", "幼保推進課", "KODOMO:青少年課", &[
                k("保育所等待機児童数", "Children on nursery waiting lists", "人", Down, 45.0, 0.0, Internal, "4.2"),
                k("保育所等利用定員数", "Nursery capacity", "人", Up, 18500.0, 21000.0, Internal, "4.2"),
                k("放課後児童クラブ待機児童数", "Children waiting for after-school clubs", "人", Down, 120.0, 0.0, Internal, "4.2"),
            ]),
            m("安心して子どもを産み育てられる環境づくり", "Support for having and raising children", "KODOMO", "子育て支援課", "KENKO:健康推進課", &[
                k("合計特殊出生率", "Total fertility rate", "", Up, 1.42, 1.60, VitalStatistics, "3.7").comparable(),
                k("子育てしやすいまちだと感じる市民の割合", "Residents who find the city good for raising children", "%", Up, 58.3, 70.0, CitizenSurvey, ""),
                k("地域子育て支援拠点の利用者数", "Users of local child-rearing centres", "人", Up, 210000.0, 250000.0, Internal, "").pandemic(),
                k("ファミリー・サポート・センター会員数", "Family Support Center members", "人", Up, 5200.0, 6500.0, Internal, ""),
            ]),
            m("子どもの権利と安全を守る取組", "Protecting children's rights and safety", "KODOMO", "子ども家庭課", "", &[
                k("児童虐待の再通告率", "Rate of repeated child-abuse reports", "%", Down, 12.5, 8.0, Internal, "16.2"),
                k("子ども食堂の箇所数", "Children's cafeterias", "か所", Up, 45.0, 90.0, Internal, "2.1"),
                k("養育支援訪問の実施世帯数", "Households receiving parenting support visits", "世帯", Up, 850.0, 1100.0, Internal, "1.3"),
            ]),
            m("確かな学力の育成", "Building solid academic skills", "KYOIKU", "学校教育課", "KYOIKU:教育政策課", &[
                k("全国学力・学習状況調査の平均正答率（全国平均=100）", "National achievement test score (national average = 100)", "点", Up, 97.5, 101.0, NationalTest, "4.1"),
                k("授業がよく分かると答える児童生徒の割合", "Pupils who say they understand lessons well", "%", Up, 78.2, 85.0, NationalTest, "4.1"),
                k("英検3級相当以上の中学3年生の割合", "Grade-9 pupils at Eiken grade 3 or above", "%", Up, 42.1, 60.0, Internal, "4.4"),
                k("1人1台端末をほぼ毎日授業で活用する学校の割合", "Schools using one-device-per-pupil almost daily", "%", Up, 35.0, 95.0, Internal, "4.a"),
            ]),
            m("一人ひとりに応じた教育支援", "Education support for every child", "KYOIKU", "学校教育課", "", &[
                k("不登校児童生徒のうち支援機関につながった割合", "Absent pupils connected to support", "%", Up, 52.0, 80.0, Internal, "4.5"),
                k("特別支援教育支援員の配置数", "Special-needs support staff in schools", "人", Up, 280.0, 350.0, Internal, "4.5"),
                k("学校が楽しいと答える児童生徒の割合", "Pupils who enjoy school", "%", Up, 84.5, 90.0, NationalTest, ""),
            ]),
            m("学校施設の安全・快適化", "Safe and comfortable school facilities", "KYOIKU", "学校施設課", "", &[
                k("学校トイレの洋式化率", "Western-style school toilets", "%", Up, 48.0, 95.0, Internal, "6.2"),
                k("体育館の空調設置率", "School gyms with air conditioning", "%", Up, 0.0, 100.0, Internal, "13.1"),
                k("長寿命化改修済み校舎の割合", "School buildings with life-extension renovation", "%", Up, 12.0, 40.0, Internal, "4.a"),
            ]),
            m("生涯学習と読書の推進", "Lifelong learning and reading", "KYOIKU", "生涯学習課", "", &[
                k("市立図書館の貸出冊数", "Library loans", "冊", Up, 4850000.0, 5200000.0, Internal, "4.6").pandemic(),
                k("公民館講座の受講者数", "Community-centre course participants", "人", Up, 95000.0, 120000.0, Internal, "4.7").pandemic(),
            ]),
        ],
    },
    PolicyDef {
        ja: "健康・福祉・共生",
        en: "Health, Welfare and Inclusion",
        measures: &[
            m("健康寿命の延伸", "Extending healthy life expectancy", "KENKO", "健康推進課", "KENKO:保険年金課", &[
                k("健康寿命（男性）", "Healthy life expectancy (men)", "歳", Up, 72.10, 73.50, HealthyLife, "3.4").comparable(),
                k("健康寿命（女性）", "Healthy life expectancy (women)", "歳", Up, 74.80, 76.00, HealthyLife, "3.4").comparable(),
                k("特定健康診査受診率", "Specific health check-up uptake", "%", Up, 33.5, 60.0, HealthInsurance, "3.4").comparable(),
                k("がん検診受診率（胃・肺・大腸の平均）", "Cancer screening uptake (stomach, lung, colon)", "%", Up, 12.8, 25.0, Internal, "3.4"),
                k("日常的に運動している市民の割合", "Residents who exercise regularly", "%", Up, 45.0, 55.0, CitizenSurvey, "3.4"),
            ]),
            m("地域包括ケアの推進", "Community-based integrated care", "KENKO", "長寿支援課", "", &[
                k("要介護認定を受けていない高齢者の割合", "Older people without long-term-care certification", "%", Up, 79.5, 80.5, Internal, "3.8"),
                k("介護予防教室の参加者数", "Care-prevention class participants", "人", Up, 42000.0, 60000.0, Internal, "3.4").pandemic(),
                k("認知症サポーター養成数（累計）", "Dementia supporters trained (cumulative)", "人", Up, 68000.0, 110000.0, Internal, "3.4"),
                k("高齢者見守りネットワーク協力事業者数", "Businesses in the elderly watch network", "事業者", Up, 620.0, 900.0, Internal, "11.7"),
            ]),
            m("障害者の自立と社会参加", "Independence of people with disabilities", "KENKO", "障害福祉課", "SANGYO:雇用推進課", &[
                k("福祉施設から一般就労へ移行した人数", "Moves from welfare facilities to regular jobs", "人", Up, 180.0, 260.0, Internal, "8.5"),
                k("市内民間企業の障害者雇用率", "Disability employment rate of local firms", "%", Up, 2.08, 2.50, Labour, "8.5"),
                k("グループホーム利用者数", "Group-home residents", "人", Up, 1650.0, 2200.0, Internal, "10.2"),
            ]),
            m("生活困窮者の自立支援", "Self-reliance of people in hardship", "KENKO", "生活福祉課", "", &[
                k("自立相談支援による就労・増収者数", "People who found work or raised income via counselling", "人", Up, 420.0, 600.0, Internal, "1.3"),
                k("就労支援を受けた生活保護受給者の就労率", "Employment rate of assisted welfare recipients", "%", Up, 38.0, 45.0, Internal, "1.3"),
                k("住居確保給付金受給者の再就職率", "Re-employment rate of housing-benefit recipients", "%", Up, 45.0, 60.0, Internal, "1.3"),
            ]),
            m("感染症対策と保健衛生", "Infectious disease control and hygiene", "KENKO", "感染症対策課", "", &[
                k("麻しん風しん混合ワクチン第2期接種率", "MR vaccine second-dose coverage", "%", Up, 93.8, 95.0, Internal, "3.b"),
                k("結核罹患率（人口10万対）", "Tuberculosis incidence per 100,000", "人", Down, 14.2, 10.0, VitalStatistics, "3.3").comparable(),
                k("食品衛生監視計画の達成率", "Food hygiene inspection plan achievement", "%", Up, 96.0, 100.0, Internal, "3.9"),
            ]),
            m("人権尊重と多文化共生", "Human rights and multicultural coexistence", "SHIMIN", "人権推進課", "SHIMIN:国際課", &[
                k("人権が尊重されていると感じる市民の割合", "Residents who feel human rights are respected", "%", Up, 54.0, 65.0, CitizenSurvey, "10.2,16.b"),
                k("多言語相談窓口の利用件数", "Multilingual help-desk consultations", "件", Up, 3200.0, 5000.0, Internal, "10.7"),
                k("審議会等委員に占める女性の割合", "Women on advisory councils", "%", Up, 31.5, 40.0, Internal, "5.5"),
            ]),
        ],
    },
    PolicyDef {
        ja: "安全・安心",
        en: "Safety and Security",
        measures: &[
            m("災害に強いまちづくり", "A disaster-resilient city", "SOMU", "危機管理課", "KENCHIKU:住宅まちづくり課", &[
                k("自主防災組織の結成率", "Voluntary disaster-prevention organisation coverage", "%", Up, 88.0, 95.0, Internal, "11.b"),
                k("住宅の耐震化率", "Earthquake-resistant housing", "%", Up, 86.0, 95.0, Census, "11.5"),
                k("防災訓練の参加者数", "Disaster drill participants", "人", Up, 58000.0, 80000.0, Internal, "11.b").pandemic(),
                k("3日分以上の食料を備蓄している世帯の割合", "Households with three days of food stock", "%", Up, 41.0, 60.0, CitizenSurvey, "11.b"),
            ]),
            m("消防・救急体制の充実", "Fire and ambulance services", "SHOBO", "救急課", "", &[
                k("救急車の現場到着所要時間（平均）", "Average ambulance response time", "分", Down, 8.6, 8.0, FireAnnual, "3.6"),
                k("救命講習受講者数", "Life-saving course participants", "人", Up, 24000.0, 30000.0, FireAnnual, "3.d").pandemic(),
                k("心肺停止傷病者の1か月後生存率", "One-month survival after cardiac arrest", "%", Up, 11.2, 15.0, FireAnnual, "3.d"),
            ]),
            m("火災予防の推進", "Fire prevention", "SHOBO", "予防課", "", &[
                k("火災件数", "Fires", "件", Down, 280.0, 220.0, FireAnnual, "11.5"),
                k("住宅用火災警報器の設置率", "Homes with fire alarms", "%", Up, 82.0, 90.0, FireAnnual, "11.5"),
                k("防火対象物の査察実施率", "Fire-safety inspection coverage", "%", Up, 35.0, 50.0, FireAnnual, "11.5"),
            ]),
            m("防犯・交通安全", "Crime prevention and road safety", "SHIMIN", "市民生活課", "", &[
                k("刑法犯認知件数", "Reported penal-code offences", "件", Down, 7850.0, 6000.0, Police, "16.1"),
                k("交通事故死傷者数", "Road casualties", "人", Down, 3600.0, 2800.0, Police, "3.6"),
                k("防犯カメラ設置台数（補助分累計）", "Subsidised security cameras (cumulative)", "台", Up, 2400.0, 4000.0, Internal, "16.1"),
            ]),
            m("消費者の安全確保", "Consumer protection", "SHIMIN", "市民生活課", "", &[
                k("消費生活相談のあっせん解決率", "Consumer disputes resolved by mediation", "%", Up, 92.0, 95.0, Internal, "12.8"),
                k("特殊詐欺被害件数", "Phone-fraud cases", "件", Down, 210.0, 120.0, Police, "16.4"),
            ]),
        ],
    },
    PolicyDef {
        ja: "産業・雇用",
        en: "Industry and Employment",
        measures: &[
            m("中小企業の成長支援", "Growth of small and medium firms", "SANGYO", "産業政策課", "", &[
                k("市内事業所の従業者数", "Employees at establishments in the city", "人", Up, 355000.0, 365000.0, EconomicCensus, "8.5"),
                k("製造品出荷額等", "Value of manufactured goods shipped", "億円", Up, 38000.0, 41000.0, Manufacturing, "9.2"),
                k("事業承継支援による承継件数", "Business successions supported", "件", Up, 25.0, 60.0, Internal, "8.3"),
            ]),
            m("企業立地と投資の促進", "Business location and investment", "SANGYO", "産業政策課", "", &[
                k("企業立地促進制度による新規投資額", "New investment under the location incentive", "億円", Up, 120.0, 200.0, Internal, "9.2"),
                k("企業立地件数", "New business locations", "件", Up, 14.0, 20.0, Internal, "9.2"),
            ]),
            m("スタートアップとイノベーションの創出", "Startups and innovation", "SANGYO", "イノベーション推進課", "SHICHO:公民連携課", &[
                k("支援したスタートアップの資金調達額", "Funds raised by supported startups", "百万円", Up, 320.0, 1000.0, Internal, "8.3"),
                k("市内での実証実験の実施件数", "Demonstration projects run in the city", "件", Up, 6.0, 30.0, Internal, "9.5"),
                k("インキュベーション施設の入居率", "Incubator occupancy", "%", Up, 72.0, 90.0, Internal, "9.3"),
                k("首都圏拠点を経由した市内進出企業数（累計）", "Firms attracted via the Tokyo coworking base (cumulative)", "社", Up, 0.0, 20.0, Internal, "8.3"),
            ]),
            m("多様な人材の就労促進", "Employment of diverse people", "SANGYO", "雇用推進課", "", &[
                k("就労支援による就職者数", "Job placements through employment support", "人", Up, 1450.0, 1800.0, Internal, "8.5"),
                k("市内高校・大学卒業者の市内就職率", "Local graduates hired locally", "%", Up, 38.0, 45.0, Internal, "8.6"),
                k("女性の就業率（25〜44歳）", "Female employment rate (25-44)", "%", Up, 74.5, 80.0, Census, "5.5"),
            ]),
            m("商業と都市農業の活性化", "Commerce and urban agriculture", "SANGYO", "商業振興課", "SANGYO:農水産課", &[
                k("商店街の空き店舗率", "Vacant shops in shopping streets", "%", Down, 13.5, 10.0, Internal, "8.3"),
                k("キャッシュレス決済対応店舗の割合", "Shops accepting cashless payment", "%", Up, 45.0, 80.0, Internal, "8.10"),
                k("農産物直売所の売上額", "Sales of farmers' markets", "百万円", Up, 890.0, 1100.0, Internal, "2.3"),
            ]),
        ],
    },
    PolicyDef {
        ja: "観光・文化",
        en: "Tourism and Culture",
        measures: &[
            m("観光集客と魅力発信", "Attracting visitors", "BUNKA", "観光企画課", "SHICHO:広報戦略推進課", &[
                k("観光入込客数", "Tourist visits", "万人", Up, 1250.0, 1500.0, TourismSurvey, "8.9").pandemic(),
                k("外国人観光客数", "Foreign visitors", "万人", Up, 95.0, 150.0, TourismSurvey, "8.9").pandemic(),
                k("観光消費額", "Tourist spending", "億円", Up, 780.0, 950.0, TourismSurvey, "8.9").pandemic(),
                k("市の魅力を人に薦めたい市民の割合", "Residents who would recommend the city", "%", Up, 38.0, 50.0, CitizenSurvey, "11.4"),
            ]),
            m("歴史文化遺産の保存と活用", "Preserving and using historic heritage", "BUNKA", "歴史遺産活用課", "", &[
                k("博物館の入館者数", "Museum visitors", "人", Up, 310000.0, 400000.0, Internal, "11.4").pandemic(),
                k("歴史遺産ガイドツアー参加者数", "Heritage guided-tour participants", "人", Up, 18000.0, 30000.0, Internal, "11.4").pandemic(),
                k("指定文化財の保存修理件数", "Designated cultural properties repaired", "件", Up, 8.0, 12.0, Internal, "11.4"),
            ]),
            m("文化芸術の振興", "Arts and culture", "BUNKA", "文化課", "", &[
                k("文化芸術活動に参加した市民の割合", "Residents taking part in cultural activities", "%", Up, 28.5, 40.0, CitizenSurvey, "11.4"),
                k("市民会館の稼働率", "Civic hall occupancy", "%", Up, 68.0, 80.0, Internal, "").pandemic(),
                k("市民文化祭典の来場者数", "Civic culture festival visitors", "人", Up, 52000.0, 70000.0, Internal, "").pandemic(),
            ]),
            m("スポーツの振興", "Sports", "BUNKA", "スポーツ推進課", "", &[
                k("週1回以上スポーツをする成人の割合", "Adults doing sport weekly", "%", Up, 48.0, 65.0, CitizenSurvey, "3.4"),
                k("市立体育館の利用者数", "Municipal gym users", "人", Up, 1150000.0, 1300000.0, Internal, "3.4").pandemic(),
                k("スポーツ教室の参加者数", "Sports class participants", "人", Up, 38000.0, 50000.0, Internal, "3.4").pandemic(),
            ]),
            m("シティプロモーションと関係人口の創出", "City promotion and the relationship population", "SHICHO", "企画課", "SHICHO:広報戦略推進課", &[
                k("社会増減数（転入超過数）", "Net migration", "人", Up, -850.0, 500.0, ResidentRegister, "11.a"),
                k("関係人口創出イベントの参加者数", "Participants in relationship-population events", "人", Up, 1200.0, 5000.0, Internal, "11.a").pandemic(),
                k("市公式LINE友だち登録者数", "Friends of the city's official LINE account", "人", Up, 35000.0, 150000.0, Internal, "16.10").monthly(),
                k("市ホームページの年間閲覧数", "City website page views per year", "万件", Up, 2800.0, 3500.0, Internal, "16.10"),
            ]),
        ],
    },
    PolicyDef {
        ja: "都市基盤・交通",
        en: "Urban Infrastructure and Transport",
        measures: &[
            m("公共交通の利便性向上", "Better public transport", "KENCHIKU", "交通政策課", "", &[
                k("路線バスの年間利用者数", "Bus passengers per year", "万人", Up, 4200.0, 4400.0, Carriers, "11.2").pandemic(),
                k("公共交通が便利だと感じる市民の割合", "Residents who find public transport convenient", "%", Up, 52.0, 60.0, CitizenSurvey, "11.2"),
                k("鉄道駅のバリアフリー化率", "Step-free railway stations", "%", Up, 88.0, 100.0, Internal, "11.2"),
                k("オンデマンド交通の利用者数", "On-demand transport riders", "人", Up, 0.0, 60000.0, Internal, "11.2"),
            ]),
            m("にぎわいあるまちづくり", "Lively town centres", "KENCHIKU", "都市計画課", "", &[
                k("都心部の歩行者通行量（休日）", "Pedestrian traffic in the city centre (holidays)", "人/日", Up, 52000.0, 60000.0, Internal, "11.3").pandemic(),
                k("ニュータウン地区への転入者数", "People moving into the new-town district", "人", Up, 5800.0, 6500.0, ResidentRegister, "11.3"),
                k("居住誘導区域内の人口割合", "Population inside residential inducement areas", "%", Up, 86.0, 87.0, ResidentRegister, "11.3"),
            ]),
            m("道路・橋梁の適正な維持管理", "Maintaining roads and bridges", "KENCHIKU", "道路計画課", "", &[
                k("橋梁の予防保全型修繕の着手率", "Bridges under preventive repair", "%", Up, 35.0, 80.0, Internal, "9.1"),
                k("道路陥没等による事故件数", "Accidents caused by road defects", "件", Down, 42.0, 20.0, Internal, "9.1"),
                k("バリアフリー化した歩道の延長", "Step-free sidewalks", "km", Up, 62.0, 90.0, Internal, "11.2"),
            ]),
            m("公園と緑の充実", "Parks and greenery", "KENCHIKU", "公園緑地課", "KANKYO:環境政策課", &[
                k("市民1人当たり都市公園面積", "Urban park area per resident", "㎡", Up, 10.2, 11.0, Internal, "11.7"),
                k("緑被率", "Green coverage", "%", Up, 26.0, 27.0, GreenSurvey, "15.1"),
                k("公園愛護会等の活動団体数", "Park volunteer groups", "団体", Up, 310.0, 380.0, Internal, "11.7"),
            ]),
            m("良好な住環境の形成", "Good housing", "KENCHIKU", "住宅まちづくり課", "", &[
                k("管理不全空き家の是正件数", "Neglected vacant houses remedied", "件", Up, 150.0, 250.0, Internal, "11.1"),
                k("市営住宅の入居率", "Occupancy of municipal housing", "%", Band(90.0, 97.0), 88.5, 94.0, Internal, "11.1"),
                k("住宅の省エネ改修補助件数", "Subsidised home energy retrofits", "件", Up, 120.0, 300.0, Internal, "7.3"),
            ]),
            m("安全でおいしい水の供給と浸水対策", "Safe water and flood control", "JOSUI", "水道整備課", "JOSUI:下水道整備課", &[
                k("基幹管路の耐震適合率", "Earthquake-proof trunk water mains", "%", Up, 48.5, 65.0, Internal, "6.1"),
                k("有収率", "Revenue water ratio", "%", Up, 93.2, 95.0, Internal, "6.4").comparable(),
                k("下水道による汚水処理人口普及率", "Population served by sewerage", "%", Up, 98.2, 99.0, Internal, "6.3"),
                k("浸水対策の完了した区域の面積割合", "Area with completed flood measures", "%", Up, 55.0, 75.0, Internal, "11.5,13.1"),
            ]),
        ],
    },
    PolicyDef {
        ja: "環境・脱炭素",
        en: "Environment and Decarbonisation",
        measures: &[
            m("脱炭素社会の実現", "Achieving a decarbonised society", "KANKYO", "環境政策課", "SHICHO:スマートシティ推進担当", &[
                k("市域の温室効果ガス排出量", "Greenhouse-gas emissions of the city", "千t-CO2", Down, 7650.0, 5400.0, Greenhouse, "13.2"),
                k("市役所の事務事業に伴うCO2排出量", "CO2 emissions of city operations", "t-CO2", Down, 185000.0, 120000.0, Internal, "13.2"),
                k("住宅用太陽光発電設備の設置件数（累計）", "Residential solar installations (cumulative)", "件", Up, 14500.0, 25000.0, Internal, "7.2"),
                k("次世代自動車の普及率", "Share of next-generation vehicles", "%", Up, 22.0, 40.0, Internal, "7.3"),
            ]),
            m("資源循環型社会の形成", "A circular society", "KANKYO", "資源循環課", "", &[
                k("市民1人1日当たりごみ排出量", "Waste per resident per day", "g", Down, 905.0, 840.0, Waste, "12.5").comparable(),
                k("リサイクル率", "Recycling rate", "%", Up, 15.8, 20.0, Waste, "12.5").comparable(),
                k("食品ロス削減に取り組む市民の割合", "Residents reducing food waste", "%", Up, 68.0, 80.0, CitizenSurvey, "12.3"),
            ]),
            m("良好な生活環境の保全", "A healthy living environment", "KANKYO", "環境保全課", "", &[
                k("大気環境基準の達成率", "Air-quality standards met", "%", Up, 95.0, 100.0, Internal, "3.9"),
                k("河川の水質環境基準（BOD）達成率", "River water-quality standards met (BOD)", "%", Up, 85.0, 100.0, Internal, "6.3"),
                k("光化学スモッグ注意報の発令日数", "Photochemical smog warning days", "日", Down, 4.0, 1.0, Internal, "3.9"),
            ]),
        ],
    },
    PolicyDef {
        ja: "行財政改革・市民協働",
        en: "Administrative and Fiscal Reform, Civic Collaboration",
        measures: &[
            m("市民協働と地域コミュニティの活性化", "Civic collaboration and local communities", "SHIMIN", "市民協働課", "", &[
                k("自治会加入率", "Neighbourhood association membership", "%", Up, 58.5, 60.0, Internal, "11.3"),
                k("地域活動に参加している市民の割合", "Residents active in their community", "%", Up, 22.0, 30.0, CitizenSurvey, "17.17"),
                k("市民活動センター登録団体数", "Groups registered at the civic activity centre", "団体", Up, 620.0, 750.0, Internal, "17.17"),
            ]),
            m("公民連携の推進", "Public-private partnership", "SHICHO", "公民連携課", "SHICHO:SDGs推進担当", &[
                k("公民連携による事業化件数", "Projects realised through public-private partnership", "件", Up, 12.0, 40.0, Internal, "17.17"),
                k("民間提案の受付件数", "Private proposals received", "件", Up, 30.0, 80.0, Internal, "17.17"),
                k("企業版ふるさと納税の寄附件数", "Corporate hometown-tax donations", "件", Up, 3.0, 30.0, Internal, "17.17"),
            ]),
            m("持続可能な財政運営", "Sustainable public finance", "ZAISEI", "財政課", "ZAISEI:納税課", &[
                k("経常収支比率", "Ordinary balance ratio", "%", Down, 98.9, 95.0, Settlement, "16.6").comparable(),
                k("実質公債費比率", "Real debt-service ratio", "%", Down, 6.2, 5.5, Settlement, "16.6").comparable(),
                k("財政調整基金残高（標準財政規模比）", "Fiscal adjustment fund (share of standard fiscal scale)", "%", Band(5.0, 10.0), 4.1, 7.5, Settlement, "16.6"),
                k("市税収納率", "City tax collection rate", "%", Up, 98.6, 99.2, Settlement, "17.1"),
            ]),
            m("働き方改革と業務改革", "Work-style and process reform", "SOMU", "人事課", "SOMU:行政経営課", &[
                k("職員1人当たり月平均時間外勤務時間", "Average monthly overtime per employee", "時間", Down, 15.8, 10.0, Payroll, "8.5").monthly(),
                k("行政手続のオンライン化率", "Administrative procedures available online", "%", Up, 18.0, 80.0, Internal, "16.6"),
                k("年次休暇の平均取得日数", "Average annual leave taken", "日", Up, 11.2, 15.0, Payroll, "8.5"),
                k("業務改善提案の実施件数", "Process improvements implemented", "件", Up, 85.0, 150.0, Internal, "16.6"),
            ]),
            m("戦略的広報と市民満足度の向上", "Strategic PR and resident satisfaction", "SHICHO", "広報戦略推進課", "", &[
                k("市政情報が届いていると感じる市民の割合", "Residents who feel informed about city affairs", "%", Up, 44.0, 60.0, CitizenSurvey, "16.10"),
                k("市の取組に満足している市民の割合", "Residents satisfied with the city", "%", Up, 55.0, 65.0, CitizenSurvey, "16.7"),
                k("広報紙を読んでいる市民の割合", "Residents who read the city newsletter", "%", Up, 62.0, 65.0, CitizenSurvey, "16.10"),
            ]),
        ],
    },
];

const fn sm(
    ja: &'static str,
    en: &'static str,
    sec: &'static str,
    kpis: &'static [KpiDef],
    shared: &'static [&'static str],
) -> MeasureDef {
    MeasureDef {
        ja,
        en,
        dept: "SHICHO",
        sec,
        co: "",
        kpis,
        shared,
    }
}

/// SDGs未来都市計画: the economy / society / environment sides and the
/// promotion framework; most KPIs are shared with the Basic Plan.
#[rustfmt::skip]
pub static SDGS_PLAN: &[PolicyDef] = &[
    PolicyDef {
        ja: "経済：イノベーションと持続可能な産業",
        en: "Economy: innovation and sustainable industry",
        measures: &[
            sm("スタートアップと公民共創の推進", "Startups and public-private co-creation", "公民連携課", &[], &[
                "市内での実証実験の実施件数",
                "公民連携による事業化件数",
                "首都圏拠点を経由した市内進出企業数（累計）",
            ]),
            sm("スマートシティの推進", "Smart city", "スマートシティ推進担当", &[
                k("スマートシティ実証プロジェクト数（累計）", "Smart-city demonstration projects (cumulative)", "件", Up, 2.0, 20.0, Internal, "9.c,11.3"),
                k("都市OSに連携したデータセット数", "Datasets connected to the city OS", "件", Up, 0.0, 120.0, Internal, "9.c"),
            ], &["オンデマンド交通の利用者数"]),
        ],
    },
    PolicyDef {
        ja: "社会：誰一人取り残さない共生社会",
        en: "Society: leaving no one behind",
        measures: &[
            sm("子育てと健康長寿", "Child-rearing and healthy longevity", "企画課", &[], &[
                "合計特殊出生率",
                "健康寿命（男性）",
                "健康寿命（女性）",
                "保育所等待機児童数",
            ]),
            sm("多様性と包摂", "Diversity and inclusion", "企画課", &[], &[
                "審議会等委員に占める女性の割合",
                "福祉施設から一般就労へ移行した人数",
                "多言語相談窓口の利用件数",
            ]),
        ],
    },
    PolicyDef {
        ja: "環境：脱炭素・循環型社会",
        en: "Environment: decarbonised and circular",
        measures: &[
            sm("脱炭素の推進", "Decarbonisation", "スマートシティ推進担当", &[
                k("スマートエネルギー実証に参加した世帯数", "Households in smart-energy demonstrations", "世帯", Up, 0.0, 3000.0, Internal, "7.2,13.2"),
            ], &[
                "市域の温室効果ガス排出量",
                "住宅用太陽光発電設備の設置件数（累計）",
                "次世代自動車の普及率",
            ]),
            sm("資源循環の推進", "Resource circulation", "SDGs推進担当", &[], &[
                "市民1人1日当たりごみ排出量",
                "リサイクル率",
                "食品ロス削減に取り組む市民の割合",
            ]),
        ],
    },
    PolicyDef {
        ja: "推進体制：SDGsの浸透と自律的取組",
        en: "Framework: spreading the SDGs",
        measures: &[
            sm("SDGs推進プラットフォームの運営", "Running the SDGs partner platform", "SDGs推進担当", &[
                k("SDGs推進プラットフォーム会員数", "SDGs platform members", "団体", Up, 0.0, 600.0, Internal, "17.17"),
                k("SDGs貢献メニュー参加企業等数", "Members signed up to the SDGs contribution menu", "団体", Up, 0.0, 300.0, Internal, "17.17"),
                k("ワンストップ窓口の相談件数", "One-stop desk inquiries", "件", Up, 0.0, 400.0, Internal, "17.17"),
                k("SDGsプロジェクトチームの組成数（累計）", "SDGs project teams formed (cumulative)", "件", Up, 0.0, 15.0, Internal, "17.17"),
            ], &[]),
            sm("SDGsの普及啓発", "SDGs awareness", "SDGs推進担当", &[
                k("SDGsを知っている市民の割合", "Residents who know the SDGs", "%", Up, 45.0, 80.0, CitizenSurvey, "4.7,12.8"),
                k("SDGsに取り組む市内企業の割合", "Local firms working on the SDGs", "%", Up, 24.0, 50.0, Internal, "12.6"),
            ], &["地域活動に参加している市民の割合"]),
        ],
    },
];

/// Ward-level measures added per ward at scale ≥ 2: (index of the Basic Plan
/// policy, the measure with `{}` standing for the ward name). Count KPIs (人,
/// 件) are scaled by the ward's size; `sec` names a ward-office section.
#[rustfmt::skip]
pub static WARD_MEASURES: &[(usize, MeasureDef)] = &[
    (0, m("{}区の子育て支援", "Child-rearing support in {} Ward", "", "子育て支援課", "", &[
        k("乳幼児健診受診率（{}区）", "Infant health check uptake ({} Ward)", "%", Up, 95.0, 98.0, Internal, "3.2"),
        k("子育てひろば利用者数（{}区）", "Child-rearing plaza users ({} Ward)", "人", Up, 12000.0, 15000.0, Internal, "").pandemic(),
        k("子育てしやすいと感じる区民の割合（{}区）", "Residents who find the ward good for raising children ({} Ward)", "%", Up, 57.0, 68.0, CitizenSurvey, ""),
    ])),
    (1, m("{}区の健康づくりと見守り", "Health and community care in {} Ward", "", "地域福祉課", "", &[
        k("特定健康診査受診率（{}区）", "Specific health check-up uptake ({} Ward)", "%", Up, 32.0, 55.0, HealthInsurance, "3.4"),
        k("健康教室参加者数（{}区）", "Health class participants ({} Ward)", "人", Up, 3000.0, 4500.0, Internal, "3.4").pandemic(),
        k("見守り協力員数（{}区）", "Community watch volunteers ({} Ward)", "人", Up, 450.0, 600.0, Internal, "11.7"),
    ])),
    (2, m("{}区の安全・安心", "Safety in {} Ward", "", "区政企画課", "", &[
        k("自主防災組織の結成率（{}区）", "Voluntary disaster-prevention organisations ({} Ward)", "%", Up, 85.0, 95.0, Internal, "11.b"),
        k("刑法犯認知件数（{}区）", "Reported offences ({} Ward)", "件", Down, 900.0, 700.0, Police, "16.1"),
        k("防災訓練参加者数（{}区）", "Disaster drill participants ({} Ward)", "人", Up, 5200.0, 7500.0, Internal, "11.b").pandemic(),
    ])),
    (7, m("{}区の地域まちづくり", "Community building in {} Ward", "", "区政企画課", "", &[
        k("自治会加入率（{}区）", "Neighbourhood association membership ({} Ward)", "%", Up, 58.0, 60.0, Internal, "11.3"),
        k("区民まつり来場者数（{}区）", "Ward festival visitors ({} Ward)", "人", Up, 30000.0, 40000.0, Internal, "11.3").pandemic(),
        k("地域活動に参加している区民の割合（{}区）", "Residents active in their community ({} Ward)", "%", Up, 21.0, 30.0, CitizenSurvey, "17.17"),
        k("マイナンバーカード交付率（{}区）", "My Number Card issuance ({} Ward)", "%", Up, 15.0, 90.0, Internal, "16.9"),
        k("窓口の平均待ち時間（{}区）", "Average wait at the ward counter ({} Ward)", "分", Down, 25.0, 15.0, Internal, "16.6"),
    ])),
];
