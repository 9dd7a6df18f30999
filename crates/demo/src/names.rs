//! Name lists of the demo city: its organisation, its wards, its people and the
//! words its program names are built from. Data only; the builders live in the
//! other modules.
//!
//! The organisation follows the shape of a Japanese designated city (政令指定都市)
//! such as the one in the seed document: a Mayor's Office (市長公室) steering the
//! Basic Plan and the SDGs Future City Plan, bureaus (局) and sections (課・担当).

/// The fictional demo city. Fictional so that nobody mistakes demo numbers for
/// a real city's statistics.
pub const CITY_NAME_JA: &str = "みなと市";
pub const CITY_NAME_EN: &str = "Minato City";
/// Mail domain of the demo users; `.example` is reserved and never delivers.
pub const MAIL_DOMAIN: &str = "city-minato.example";

/// A section (課・担当) template.
///
/// `subjects` lists what the section's programs are about, `|`-separated, each
/// prefixed by a one-letter kind that selects the program-name suffixes and the
/// wording of the evaluation texts (see [`ProgramKind`]).
pub struct SectionDef {
    pub ja: &'static str,
    pub en: &'static str,
    /// 対象: whom the section's programs serve.
    pub target: &'static str,
    /// 意図: the state the target group should reach.
    pub intent: &'static str,
    /// 根拠法令 of the section's typical programs; empty when none.
    pub law: &'static str,
    pub subjects: &'static str,
}

pub struct DeptDef {
    /// Department code (natural key).
    pub code: &'static str,
    /// Short romanised name for logins (`editor-kenko`).
    pub slug: &'static str,
    pub ja: &'static str,
    pub en: &'static str,
    /// The aim the department's programs serve, used in 目的 texts.
    pub aim: &'static str,
    pub sections: &'static [SectionDef],
}

const fn sec(
    ja: &'static str,
    en: &'static str,
    target: &'static str,
    intent: &'static str,
    law: &'static str,
    subjects: &'static str,
) -> SectionDef {
    SectionDef {
        ja,
        en,
        target,
        intent,
        law,
        subjects,
    }
}

/// The city hall's bureaus, in the order of the city's organisation chart.
#[rustfmt::skip]
pub static DEPARTMENTS: &[DeptDef] = &[
    DeptDef {
        code: "SHICHO",
        slug: "shicho",
        ja: "市長公室",
        en: "Office of the Mayor",
        aim: "基本計画の目標達成と戦略的な市政運営",
        sections: &[
            sec("企画課", "Planning Division", "市民及び庁内各部局", "計画に沿った施策展開により成果を実感できる", "地方自治法",
                "A基本計画進行管理|A行政評価|Cシティプロモーション|C首都圏情報発信|A統計調査|A政策調査研究"),
            sec("広報戦略推進課", "Strategic Public Relations Division", "市民", "必要な市政情報を適時に入手できる", "",
                "C広報紙発行|Cホームページ運営|C公式LINE運用|C戦略的広報|C報道対応|C広聴"),
            sec("公民連携課", "Public-Private Partnership Division", "民間事業者及び庁内各部局", "公民連携により新たな行政サービスが生まれる", "",
                "S公民連携推進|S民間提案制度|S企業版ふるさと納税|Sスタートアップ実証支援|S公民共創ワンストップ窓口"),
            sec("SDGs推進担当", "SDGs Promotion Unit", "市内企業・団体及び市民", "SDGsを理解し自律的に取り組む", "",
                "CSDGs推進プラットフォーム|CSDGs貢献メニュー|SSDGsプロジェクトチーム|CSDGs普及啓発"),
            sec("スマートシティ推進担当", "Smart City Unit", "市民及び実証参加事業者", "先進技術を活用したサービスを利用できる", "",
                "Sスマートシティ実証|I都市OS構築|Sヘルスケア実証|Sモビリティ実証|Sエネルギー実証"),
            sec("秘書課", "Secretariat Division", "市長及び来訪者", "円滑に公務・面会を行える", "",
                "A秘書|A市民表彰|A儀典|A国際交流"),
        ],
    },
    DeptDef {
        code: "SOMU",
        slug: "somu",
        ja: "総務局",
        en: "General Affairs Bureau",
        aim: "効率的で災害に強い行政運営",
        sections: &[
            sec("総務課", "General Affairs Division", "庁内各部局", "適正な文書・法務事務に基づき業務を行える", "地方自治法",
                "A文書管理|A法務|A情報公開|A選挙事務"),
            sec("人事課", "Personnel Division", "市職員", "能力を発揮し健康に働き続けられる", "地方公務員法",
                "A職員研修|A働き方改革推進|A人事管理|A職員健康管理|A女性職員活躍推進"),
            sec("行政経営課", "Administrative Management Division", "市民及び庁内各部局", "手続が簡素で迅速になる", "",
                "A業務改革|A行政手続オンライン化|A窓口改革|ARPA導入"),
            sec("情報政策課", "Information Policy Division", "庁内各部局及び市民", "安全で使いやすい情報システムを利用できる", "",
                "I基幹システム運用|I庁内ネットワーク|A自治体DX推進|I情報セキュリティ対策|Iシステム標準化"),
            sec("危機管理課", "Crisis Management Division", "市民及び地域の防災組織", "災害に備え、発災時に安全に避難できる", "災害対策基本法",
                "C防災啓発|S自主防災組織支援|I防災行政無線整備|F備蓄倉庫管理|A避難所運営|C防災訓練"),
        ],
    },
    DeptDef {
        code: "ZAISEI",
        slug: "zaisei",
        ja: "財政局",
        en: "Finance Bureau",
        aim: "持続可能な財政運営",
        sections: &[
            sec("財政課", "Budget Division", "庁内各部局", "限られた財源を効果の高い事業に配分できる", "地方財政法",
                "A予算編成|A財政調整基金管理|A市債管理|A地方交付税算定"),
            sec("税政課", "Tax Policy Division", "納税義務者", "公平・適正な課税を受けられる", "地方税法",
                "A市民税賦課|A固定資産評価|A軽自動車税賦課"),
            sec("納税課", "Tax Collection Division", "納税義務者", "便利な方法で期限内に納税できる", "地方税法",
                "A市税収納|Sキャッシュレス納付|A滞納整理"),
            sec("契約課", "Contracts Division", "入札参加事業者", "公正な競争のもとで契約できる", "地方自治法",
                "A入札・契約|A電子入札システム運用|A契約監理"),
            sec("管財課", "Property Management Division", "庁舎利用者及び庁内各部局", "適切に管理された庁舎・公有財産を利用できる", "",
                "F本庁舎管理|A公有財産活用|A未利用地売却|I庁舎設備改修"),
        ],
    },
    DeptDef {
        code: "SHIMIN",
        slug: "shimin",
        ja: "市民人権局",
        en: "Citizens and Human Rights Bureau",
        aim: "誰もが尊重され安心して暮らせる地域社会",
        sections: &[
            sec("市民協働課", "Civic Collaboration Division", "自治会・NPO等の地域団体", "主体的に地域課題の解決に取り組む", "",
                "S自治会活動支援|SNPO活動支援|F市民活動センター|S地域まちづくり支援|S協働提案事業"),
            sec("人権推進課", "Human Rights Division", "市民及び市内事業者", "人権を尊重し差別のない行動をとる", "",
                "C人権啓発|S人権相談|C人権教育|S犯罪被害者支援"),
            sec("男女共同参画推進課", "Gender Equality Division", "市民及び市内事業者", "性別にかかわらず個性と能力を発揮できる", "男女共同参画社会基本法",
                "C男女共同参画推進|SDV相談|F男女共同参画センター|S女性のための相談"),
            sec("国際課", "International Affairs Division", "外国人市民", "言葉や文化の違いを越えて安心して暮らせる", "",
                "S多言語相談|S日本語学習支援|C多文化共生推進|A姉妹都市交流"),
            sec("市民生活課", "Community Safety Division", "市民", "犯罪や事故、消費者被害にあわずに暮らせる", "消費者安全法",
                "S消費生活相談|C交通安全啓発|S防犯カメラ設置補助|F自転車駐車場|C特殊詐欺被害防止"),
        ],
    },
    DeptDef {
        code: "BUNKA",
        slug: "bunka",
        ja: "文化観光局",
        en: "Culture and Tourism Bureau",
        aim: "歴史と文化を生かした都市の魅力向上と交流人口の拡大",
        sections: &[
            sec("観光企画課", "Tourism Planning Division", "国内外の観光客", "市内を周遊し滞在を楽しむ", "",
                "C観光プロモーション|Sインバウンド誘客|SMICE誘致|F観光案内所|S観光イベント支援"),
            sec("文化課", "Culture Division", "市民及び文化芸術団体", "文化芸術に親しみ活動できる", "文化芸術基本法",
                "S文化芸術活動支援|F市民会館|C市民文化祭典|S若手芸術家育成"),
            sec("歴史遺産活用課", "Historic Heritage Division", "市民及び来訪者", "歴史遺産の価値を知り親しむ", "文化財保護法",
                "F博物館|C特別展|A文化財保存|I史跡整備|C歴史遺産ガイド"),
            sec("スポーツ推進課", "Sports Division", "市民", "日常的にスポーツに親しむ", "スポーツ基本法",
                "F市立体育館|C市民スポーツ大会|Sプロスポーツ連携|Sスポーツ教室|I運動施設改修"),
        ],
    },
    DeptDef {
        code: "KENKO",
        slug: "kenko",
        ja: "健康福祉局",
        en: "Health and Welfare Bureau",
        aim: "健康寿命の延伸と誰もが支え合う地域共生社会",
        sections: &[
            sec("健康推進課", "Health Promotion Division", "市民（特に40歳以上の市民）", "生活習慣病を予防し健康に暮らせる", "健康増進法",
                "Sがん検診|S特定健康診査|C健康づくり推進|S歯科健診|C食育推進"),
            sec("長寿支援課", "Elderly Support Division", "65歳以上の高齢者", "住み慣れた地域で自立して暮らし続けられる", "介護保険法",
                "S介護予防|S高齢者見守り|F地域包括支援センター|S認知症施策|S敬老優待乗車証"),
            sec("障害福祉課", "Disability Welfare Division", "障害のある人", "地域で自立して生活し社会参加できる", "障害者総合支援法",
                "S障害者就労支援|S障害福祉サービス給付|S障害者相談支援|F障害者福祉施設|S手話通訳者派遣"),
            sec("生活福祉課", "Livelihood Support Division", "生活に困窮する市民", "自立した生活を送れる", "生活保護法",
                "S生活保護|S生活困窮者自立支援|S住居確保給付金|S学習支援"),
            sec("保険年金課", "Health Insurance and Pension Division", "国民健康保険被保険者", "必要な医療を安心して受けられる", "国民健康保険法",
                "A国民健康保険運営|S後期高齢者医療|A国民年金事務|S重複受診者訪問指導"),
            sec("感染症対策課", "Infectious Disease Control Division", "市民", "感染症から守られる", "感染症法",
                "S予防接種|S感染症対策|S結核対策|A食品衛生監視|S新型コロナ対策"),
        ],
    },
    DeptDef {
        code: "KODOMO",
        slug: "kodomo",
        ja: "子ども青少年局",
        en: "Children and Youth Bureau",
        aim: "安心して子どもを産み育てられ、子どもが健やかに育つまち",
        sections: &[
            sec("子育て支援課", "Child-Rearing Support Division", "子育て世帯", "経済的・心理的な負担が軽くなり安心して子育てできる", "児童手当法",
                "S児童手当|S子ども医療費助成|F地域子育て支援拠点|Sファミリー・サポート・センター|Sひとり親家庭支援|S産後ケア"),
            sec("幼保推進課", "Early Childhood Education and Care Division", "就学前の児童とその保護者", "希望する保育・教育を受けられる", "子ども・子育て支援法",
                "S保育所運営|I保育所整備|S保育士確保|S認定こども園給付|S病児保育|S一時預かり"),
            sec("子ども家庭課", "Children and Families Division", "支援を要する子どもと家庭", "虐待から守られ安心して暮らせる", "児童福祉法",
                "S児童虐待防止|S子ども家庭総合支援|S養育支援訪問|S里親支援"),
            sec("青少年課", "Youth Division", "小学生及び青少年", "放課後を安全に過ごし健やかに成長する", "児童福祉法",
                "F放課後児童クラブ|C青少年健全育成|F青少年センター|S子ども食堂支援|Sヤングケアラー支援"),
        ],
    },
    DeptDef {
        code: "SANGYO",
        slug: "sangyo",
        ja: "産業振興局",
        en: "Economic Development Bureau",
        aim: "地域経済の成長と良質な雇用の創出",
        sections: &[
            sec("産業政策課", "Industrial Policy Division", "市内中小企業", "経営基盤を強化し成長する", "中小企業基本法",
                "S企業立地促進|S中小企業融資|S事業承継支援|S中小企業DX支援"),
            sec("雇用推進課", "Employment Division", "求職者及び市内事業者", "希望に応じた仕事に就き働き続けられる", "",
                "S就労支援|S若者就職支援|S女性活躍推進|C合同企業説明会|S障害者雇用促進"),
            sec("イノベーション推進課", "Innovation Division", "スタートアップ及び市内事業者", "新たな事業を創出し成長する", "",
                "Sスタートアップ支援|Fインキュベーション施設|Sものづくり補助|S産学連携|S首都圏企業誘致"),
            sec("商業振興課", "Commerce Division", "商店街及び小売事業者", "顧客を呼び込み商売を続けられる", "",
                "S商店街活性化|Sキャッシュレス推進|C地場産品販路開拓|S創業支援"),
            sec("農水産課", "Agriculture and Fisheries Division", "農業者及び漁業者", "安定した経営を続けられる", "農業振興地域の整備に関する法律",
                "S都市農業振興|I農業用施設整備|S漁業振興|F市民農園|C地産地消推進"),
        ],
    },
    DeptDef {
        code: "KENCHIKU",
        slug: "kenchiku",
        ja: "建築都市局",
        en: "Urban Development and Construction Bureau",
        aim: "安全で快適に移動し暮らせる都市基盤",
        sections: &[
            sec("都市計画課", "City Planning Division", "市民及び事業者", "にぎわいと利便性のある市街地で暮らせる", "都市計画法",
                "A都市計画決定|S立地適正化推進|Sニュータウン再生|S都心にぎわい創出"),
            sec("交通政策課", "Transport Policy Division", "市民及び来訪者", "公共交通で便利に移動できる", "地域公共交通の活性化及び再生に関する法律",
                "S地域公共交通確保|Sバス路線維持|I駅前広場整備|Cモビリティマネジメント|Sオンデマンド交通"),
            sec("道路計画課", "Roads Division", "道路利用者", "安全・円滑に通行できる", "道路法",
                "I道路新設改良|I橋梁長寿命化|I道路維持補修|I歩道バリアフリー化|I無電柱化"),
            sec("公園緑地課", "Parks and Green Spaces Division", "公園利用者及び市民", "身近な緑の中で憩い活動できる", "都市公園法",
                "F都市公園|I公園整備|C緑化推進|S公園愛護会支援"),
            sec("住宅まちづくり課", "Housing Division", "住宅所有者及び居住者", "安全で良質な住まいに暮らせる", "建築物の耐震改修の促進に関する法律",
                "F市営住宅|S空き家対策|S住宅耐震改修補助|S住宅省エネ改修補助"),
            sec("建築指導課", "Building Guidance Division", "建築主及び建築物所有者", "基準に適合した安全な建築物を建築・利用できる", "建築基準法",
                "A建築確認|A違反建築指導|Aブロック塀等安全対策"),
        ],
    },
    DeptDef {
        code: "KANKYO",
        slug: "kankyo",
        ja: "環境局",
        en: "Environment Bureau",
        aim: "脱炭素で環境負荷の小さい持続可能なまち",
        sections: &[
            sec("環境政策課", "Environmental Policy Division", "市民及び市内事業者", "脱炭素型のライフスタイル・事業活動を選ぶ", "地球温暖化対策の推進に関する法律",
                "C脱炭素推進|S再生可能エネルギー導入|S省エネ設備補助|A環境影響評価|S次世代自動車普及"),
            sec("資源循環課", "Resource Circulation Division", "市民及び排出事業者", "ごみを減らし資源として循環させる", "廃棄物の処理及び清掃に関する法律",
                "Sごみ収集運搬|F清掃工場|Cごみ減量啓発|S資源回収団体支援|C食品ロス削減"),
            sec("環境保全課", "Environmental Conservation Division", "市民", "良好な大気・水環境の中で暮らせる", "大気汚染防止法",
                "A大気汚染監視|A水質保全|S生物多様性保全|A騒音振動対策"),
        ],
    },
    DeptDef {
        code: "JOSUI",
        slug: "josui",
        ja: "上下水道局",
        en: "Waterworks and Sewerage Bureau",
        aim: "安全な水の安定供給と浸水に強いまち",
        sections: &[
            sec("経営企画課", "Management Planning Division", "上下水道使用者", "安定した料金で上下水道を使い続けられる", "地方公営企業法",
                "A上下水道事業経営|C水道広報|A料金徴収"),
            sec("水道整備課", "Water Supply Division", "水道使用者", "災害時にも安全な水を使える", "水道法",
                "I水道管路更新|I浄水施設更新|I配水池耐震化|A水質検査"),
            sec("下水道整備課", "Sewerage Division", "市民", "浸水被害がなく衛生的に暮らせる", "下水道法",
                "I下水道管渠整備|I雨水対策|F下水処理場|I下水道施設耐震化"),
        ],
    },
    DeptDef {
        code: "SHOBO",
        slug: "shobo",
        ja: "消防局",
        en: "Fire Department",
        aim: "火災・災害・救急から市民の生命と財産を守る体制の確保",
        sections: &[
            sec("予防課", "Fire Prevention Division", "市民及び防火対象物の関係者", "火災を起こさず被害を最小限にとどめる", "消防法",
                "C火災予防啓発|A防火対象物査察|S住宅用火災警報器普及|A危険物保安"),
            sec("警防課", "Fire Fighting Division", "市民", "災害時に迅速な消防活動を受けられる", "消防組織法",
                "A消防活動|I消防車両整備|S消防団活動支援|C消防訓練"),
            sec("救急課", "Emergency Medical Services Division", "救急搬送を要する傷病者", "迅速に適切な医療機関に搬送される", "消防法",
                "A救急業務|C応急手当普及|S救急安心センター|S救急救命士養成"),
            sec("指令課", "Command and Dispatch Division", "通報者", "迅速な出動指令により早期に救助を受けられる", "",
                "I消防指令システム|A119番受付|S多言語通訳サービス"),
        ],
    },
    DeptDef {
        code: "KYOIKU",
        slug: "kyoiku",
        ja: "教育委員会事務局",
        en: "Board of Education Secretariat",
        aim: "子どもたちの確かな学力と豊かな心、生涯にわたる学び",
        sections: &[
            sec("教育政策課", "Education Policy Division", "市立学校の児童生徒及び教職員", "ICTを活用した質の高い学びを受けられる", "教育基本法",
                "A教育大綱推進|S学校ICT推進|S1人1台端末運用|S教員の働き方改革"),
            sec("学校教育課", "School Education Division", "市立小中学校の児童生徒", "確かな学力を身に付け安心して学べる", "学校教育法",
                "S学力向上|S英語教育推進|S不登校支援|S特別支援教育|S部活動地域移行|Sスクールカウンセラー配置"),
            sec("学校施設課", "School Facilities Division", "市立学校の児童生徒", "安全で快適な環境で学べる", "学校教育法",
                "I学校施設長寿命化|I学校トイレ改修|I体育館空調整備|I学校施設耐震化"),
            sec("学校給食課", "School Meals Division", "市立小中学校の児童生徒", "安全でおいしい給食を食べられる", "学校給食法",
                "S学校給食運営|F給食センター|C食育推進"),
            sec("生涯学習課", "Lifelong Learning Division", "市民", "生涯にわたり学び続けられる", "社会教育法",
                "F市立図書館|F公民館|C生涯学習講座|S読書活動推進"),
        ],
    },
];

/// Sections of a ward office (区役所), used from scale 2 on: a big city at ten
/// times the size is a city of many wards.
#[rustfmt::skip]
pub static WARD_SECTIONS: &[SectionDef] = &[
    sec("区政企画課", "Ward Planning Division", "区民", "区の魅力を知り地域に愛着を持つ", "",
        "C区の魅力発信|C区民まつり|S区民協働推進|S地域まちづくり支援|C区広報"),
    sec("市民課", "Resident Services Division", "区民", "窓口で迅速に手続ができる", "住民基本台帳法",
        "A戸籍・住民基本台帳|A証明書交付|Aマイナンバーカード交付|A窓口案内"),
    sec("保険年金課", "Health Insurance Division", "区内の被保険者", "必要な給付を適切に受けられる", "国民健康保険法",
        "A国民健康保険窓口|A国民年金窓口|S保険料収納"),
    sec("子育て支援課", "Child-Rearing Support Division", "区内の子育て世帯", "身近な場所で相談し安心して子育てできる", "母子保健法",
        "S乳幼児健診|S子育て相談|F子育てひろば|S家庭訪問"),
    sec("地域福祉課", "Community Welfare Division", "区内の高齢者・障害のある人", "地域で見守られ安心して暮らせる", "社会福祉法",
        "S高齢者相談|S障害者相談|S地域見守り活動支援|S民生委員活動支援"),
    sec("保健センター", "Health Center", "区民", "健康づくりに取り組める", "健康増進法",
        "S健康相談|C健康教室|S母子保健|S精神保健相談"),
];

/// Ward names (fictional) with their romanisation, for ward offices at scale ≥ 2.
#[rustfmt::skip]
pub static WARDS: &[(&str, &str)] = &[
    ("港北", "Kohoku"),
    ("港南", "Konan"),
    ("浜手", "Hamate"),
    ("緑ヶ丘", "Midorigaoka"),
    ("桜台", "Sakuradai"),
    ("旭", "Asahi"),
    ("泉ヶ丘", "Izumigaoka"),
    ("白鷺", "Shirasagi"),
    ("鳳", "Otori"),
    ("若葉", "Wakaba"),
    ("青葉", "Aoba"),
    ("朝日ヶ丘", "Asahigaoka"),
    ("美原", "Mihara"),
    ("北浜", "Kitahama"),
    ("南浜", "Minamihama"),
    ("東雲", "Shinonome"),
    ("西浦", "Nishiura"),
    ("中島", "Nakajima"),
    ("松原", "Matsubara"),
    ("高砂", "Takasago"),
    ("千代田", "Chiyoda"),
    ("大和", "Yamato"),
    ("日の出", "Hinode"),
    ("栄", "Sakae"),
    ("本町", "Honmachi"),
    ("金岡", "Kanaoka"),
    ("深井", "Fukai"),
    ("浜寺", "Hamadera"),
    ("石津", "Ishizu"),
    ("三国", "Mikuni"),
    ("百舌", "Mozu"),
    ("宮前", "Miyamae"),
    ("杉の子", "Suginoko"),
    ("光明", "Komyo"),
    ("長尾", "Nagao"),
    ("岬", "Misaki"),
    ("汐見", "Shiomi"),
    ("城山", "Shiroyama"),
    ("竹城", "Takeshiro"),
    ("鶴見", "Tsurumi"),
];

/// Program-name suffixes by program kind; the first is the plainest and is
/// used first.
pub fn suffixes(kind: ProgramKind) -> &'static [&'static str] {
    match kind {
        ProgramKind::Service => &[
            "事業",
            "支援事業",
            "推進事業",
            "充実事業",
            "相談事業",
            "助成事業",
            "利用促進事業",
        ],
        ProgramKind::Facility => &[
            "管理運営事業",
            "維持管理事業",
            "機能強化事業",
            "改修事業",
            "利用促進事業",
            "運営支援事業",
        ],
        ProgramKind::Campaign => &[
            "事業",
            "推進事業",
            "啓発事業",
            "普及事業",
            "強化事業",
            "促進事業",
        ],
        ProgramKind::Admin => &[
            "事務",
            "事業",
            "管理事務",
            "推進事業",
            "適正化事業",
            "効率化事業",
        ],
        ProgramKind::Infrastructure => &[
            "事業",
            "整備事業",
            "維持管理事業",
            "計画策定事業",
            "調査設計事業",
            "更新事業",
        ],
    }
}

/// Area qualifiers for program names once a subject's suffixes are used up:
/// real cities split big programs by district.
#[rustfmt::skip]
pub static DISTRICTS: &[&str] = &[
    "北部地域",
    "南部地域",
    "東部地域",
    "西部地域",
    "中部地域",
    "臨海地区",
    "ニュータウン地区",
    "都心地区",
];

/// What kind of program a subject makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramKind {
    /// S: services, benefits, consultations, subsidies.
    Service,
    /// F: running a facility.
    Facility,
    /// C: campaigns, events, awareness.
    Campaign,
    /// A: administrative work.
    Admin,
    /// I: construction and infrastructure.
    Infrastructure,
}

impl ProgramKind {
    pub fn from_letter(c: char) -> ProgramKind {
        match c {
            'F' => ProgramKind::Facility,
            'C' => ProgramKind::Campaign,
            'A' => ProgramKind::Admin,
            'I' => ProgramKind::Infrastructure,
            _ => ProgramKind::Service,
        }
    }
}

/// Parses a section's `subjects` list into (kind, subject) pairs.
pub fn parse_subjects(list: &'static str) -> Vec<(ProgramKind, &'static str)> {
    list.split('|')
        .filter_map(|item| {
            let mut chars = item.chars();
            let kind = ProgramKind::from_letter(chars.next()?);
            let rest = chars.as_str();
            (!rest.is_empty()).then_some((kind, rest))
        })
        .collect()
}

/// Activity (output) indicators by program kind: (name, unit, typical yearly
/// quantity at the median program).
pub fn activity_indicators(kind: ProgramKind) -> &'static [(&'static str, &'static str, f64)] {
    match kind {
        ProgramKind::Service => &[
            ("支援件数", "件", 1200.0),
            ("利用者数", "人", 2500.0),
            ("相談件数", "件", 800.0),
            ("給付件数", "件", 3000.0),
        ],
        ProgramKind::Facility => &[
            ("施設利用者数", "人", 60000.0),
            ("開館日数", "日", 300.0),
            ("利用件数", "件", 4000.0),
        ],
        ProgramKind::Campaign => &[
            ("開催回数", "回", 40.0),
            ("参加者数", "人", 3000.0),
            ("発信件数", "件", 250.0),
        ],
        ProgramKind::Admin => &[("処理件数", "件", 15000.0), ("実施件数", "件", 300.0)],
        ProgramKind::Infrastructure => &[
            ("整備箇所数", "か所", 25.0),
            ("整備延長", "m", 3500.0),
            ("点検件数", "件", 400.0),
        ],
    }
}

/// Outcome indicators by program kind: (name, unit). All percentages.
pub fn outcome_indicators(kind: ProgramKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        ProgramKind::Service => &[
            ("支援後に状況が改善した人の割合", "%"),
            ("利用者満足度", "%"),
        ],
        ProgramKind::Facility => &[("利用者満足度", "%"), ("施設稼働率", "%")],
        ProgramKind::Campaign => &[("参加者の理解度", "%"), ("認知度", "%")],
        ProgramKind::Admin => &[("期限内処理率", "%"), ("電子化率", "%")],
        ProgramKind::Infrastructure => {
            &[("計画に対する進捗率", "%"), ("健全度の高い施設の割合", "%")]
        }
    }
}

/// Common Japanese family names, for the demo users' display names.
#[rustfmt::skip]
pub static FAMILY_NAMES: &[&str] = &[
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "斎藤",
    "清水",
    "森",
    "池田",
    "橋本",
    "阿部",
    "石川",
    "前田",
    "藤田",
    "岡田",
    "後藤",
    "長谷川",
];

#[rustfmt::skip]
pub static GIVEN_NAMES: &[&str] = &[
    "健太",
    "翔太",
    "大輔",
    "拓也",
    "直樹",
    "誠",
    "功一",
    "和也",
    "浩二",
    "亮",
    "美咲",
    "陽子",
    "裕子",
    "恵",
    "真理子",
    "彩",
    "由美",
    "麻衣",
    "智子",
    "香織",
];

/// Comparison municipalities (6-digit codes with check digit) for the few KPIs
/// that official statistics publish for every city.
pub static COMPARISON_AREAS: &[(&str, &str)] = &[
    ("271004", "大阪市"),
    ("281000", "神戸市"),
    ("261009", "京都市"),
    ("221309", "浜松市"),
    ("331007", "岡山市"),
    ("141500", "相模原市"),
];
