//! The local-government code list (全国地方公共団体コード), embedded in the
//! binary: LGWAN has no internet, so the list cannot be fetched when needed.
//! See `crates/app/data/README.md` for where it comes from and its licence.
//!
//! An area code of a statistics file is accepted when
//! * it has 5 digits (as e-Stat writes them): the check digit is added, or
//!   6 digits with the right check digit, and
//! * the 6-digit code is in the list: a prefecture, a municipality or a ward
//!   of a designated city.
//!
//! Two statistical aggregates that are not local governments are recognised
//! and skipped (counted in the import's summary), never stored: the whole
//! country (`00000`, also written `000000` or `000001`) and Tokyo's 23 special
//! wards taken together (`13100` 東京都特別区部, `131008`). Every other code is
//! refused, naming the code.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

const LIST_JSON: &str = include_str!("../../data/jp_local_gov_codes.json");

/// Codes that came into force after the embedded list was published:
/// (code, name, parent municipality code). Hamamatsu's wards since 2024-01-01.
pub const SUPPLEMENT: [(&str, &str, &str); 3] = [
    ("221384", "中央区", "221309"),
    ("221392", "浜名区", "221309"),
    ("221406", "天竜区", "221309"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaLevel {
    Prefecture,
    Municipality,
    /// A ward (区) of a designated city.
    Ward,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AreaEntry {
    /// 6 digits, check digit included.
    pub code: String,
    pub level: AreaLevel,
    pub name: String,
    /// The prefecture's name (the entry's own for a prefecture).
    pub prefecture: String,
    /// The municipality of a ward, the prefecture of a municipality.
    pub parent: Option<String>,
}

impl AreaEntry {
    /// `大阪府 堺市`, `北海道 札幌市 中央区`.
    pub fn full_name(&self, list: &AreaList) -> String {
        match self.level {
            AreaLevel::Prefecture => self.name.clone(),
            AreaLevel::Municipality => format!("{} {}", self.prefecture, self.name),
            AreaLevel::Ward => {
                let city = self
                    .parent
                    .as_deref()
                    .and_then(|p| list.get(p))
                    .map(|c| c.name.as_str())
                    .unwrap_or("");
                format!("{} {} {}", self.prefecture, city, self.name)
            }
        }
    }
}

/// A statistical aggregate that is not a local government.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// 全国
    National,
    /// 東京都特別区部 (the 23 wards together)
    TokyoWards,
}

impl Aggregate {
    pub fn label(self) -> &'static str {
        match self {
            Aggregate::National => "00000 全国 / national",
            Aggregate::TokyoWards => "13100 東京都特別区部 / Tokyo's 23 wards together",
        }
    }
}

/// What an area code turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area<'a> {
    Local(&'a AreaEntry),
    Aggregate(Aggregate),
}

#[derive(Debug)]
pub struct AreaList {
    by_code: HashMap<String, AreaEntry>,
}

#[derive(Deserialize)]
struct RawEntry {
    code: String,
    name: String,
    #[serde(default)]
    municipalities: Vec<RawEntry>,
    #[serde(default)]
    wards: Vec<RawEntry>,
}

impl AreaList {
    /// The embedded list (parsed once).
    pub fn embedded() -> &'static AreaList {
        static LIST: OnceLock<AreaList> = OnceLock::new();
        LIST.get_or_init(|| {
            AreaList::from_json(LIST_JSON).expect("the embedded local-government list is valid")
        })
    }

    pub fn from_json(json: &str) -> Result<AreaList, serde_json::Error> {
        let prefectures: Vec<RawEntry> = serde_json::from_str(json)?;
        let mut by_code = HashMap::new();
        let mut add = |code: &str, level, name: &str, prefecture: &str, parent: Option<&str>| {
            by_code.insert(
                code.to_string(),
                AreaEntry {
                    code: code.to_string(),
                    level,
                    name: name.to_string(),
                    prefecture: prefecture.to_string(),
                    parent: parent.map(str::to_string),
                },
            );
        };
        for p in &prefectures {
            add(&p.code, AreaLevel::Prefecture, &p.name, &p.name, None);
            for m in &p.municipalities {
                add(
                    &m.code,
                    AreaLevel::Municipality,
                    &m.name,
                    &p.name,
                    Some(&p.code),
                );
                for w in &m.wards {
                    add(&w.code, AreaLevel::Ward, &w.name, &p.name, Some(&m.code));
                }
            }
        }
        for (code, name, parent) in SUPPLEMENT {
            let prefecture = prefectures
                .iter()
                .find(|p| p.code.get(..2) == code.get(..2))
                .map(|p| p.name.clone())
                .unwrap_or_default();
            add(code, AreaLevel::Ward, name, &prefecture, Some(parent));
        }
        Ok(AreaList { by_code })
    }

    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }

    /// The entry of a 6-digit code.
    pub fn get(&self, code6: &str) -> Option<&AreaEntry> {
        self.by_code.get(code6)
    }

    /// Entries whose code (5 or 6 digits, or its start) or full name contains
    /// `query`, in code order: to find the code of a comparison municipality.
    pub fn search(&self, query: &str) -> Vec<&AreaEntry> {
        let q = citykpi_domain::text::normalize(query);
        if q.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<&AreaEntry> = self
            .by_code
            .values()
            .filter(|e| e.code.starts_with(&q) || e.full_name(self).contains(&q))
            .collect();
        hits.sort_by(|a, b| a.code.cmp(&b.code));
        hits
    }

    /// Checks a code as written in a file (5 or 6 digits, full-width digits
    /// folded). The error is the reason, Japanese first, naming the code.
    pub fn resolve(&self, raw: &str) -> Result<Area<'_>, String> {
        let c = citykpi_domain::text::normalize(raw);
        match c.as_str() {
            "00000" | "000000" | "000001" => return Ok(Area::Aggregate(Aggregate::National)),
            "13100" | "131008" => return Ok(Area::Aggregate(Aggregate::TokyoWards)),
            _ => {}
        }
        let code6 = citykpi_domain::lgcode::normalize(&c).map_err(|e| e.to_string())?;
        self.get(&code6).map(Area::Local).ok_or_else(|| {
            if c.len() == 5 {
                format!(
                    "団体コード「{c}」（検査数字付きで{code6}）は地方公共団体コード一覧にありません / local-government code \"{c}\" ({code6} with its check digit) is not in the list of local governments"
                )
            } else {
                format!(
                    "団体コード「{c}」は地方公共団体コード一覧にありません / local-government code \"{c}\" is not in the list of local governments"
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_list() {
        let list = AreaList::embedded();
        // 47 prefectures + 1,747 municipalities + 175 wards + Hamamatsu's 3 new wards.
        assert_eq!(list.len(), 1969 + 3);
        let count = |l| list.by_code.values().filter(|e| e.level == l).count();
        assert_eq!(count(AreaLevel::Prefecture), 47);
        assert_eq!(count(AreaLevel::Municipality), 1747);
        for e in list.by_code.values() {
            assert_eq!(
                citykpi_domain::lgcode::normalize(&e.code).as_deref(),
                Ok(e.code.as_str())
            );
        }
        let sakai = list.get("271403").unwrap();
        assert_eq!(sakai.full_name(list), "大阪府 堺市");
        let chuo = list.get("011011").unwrap();
        assert_eq!(chuo.level, AreaLevel::Ward);
        assert_eq!(chuo.full_name(list), "北海道 札幌市 中央区");
        assert_eq!(
            list.get("221384").unwrap().full_name(list),
            "静岡県 浜松市 中央区"
        );
    }

    #[test]
    fn resolving_codes() {
        let list = AreaList::embedded();
        let local = |raw: &str| match list.resolve(raw) {
            Ok(Area::Local(e)) => (e.code.clone(), e.level),
            other => panic!("{raw}: {other:?}"),
        };
        assert_eq!(
            local("01100"),
            ("011002".to_string(), AreaLevel::Municipality)
        );
        assert_eq!(
            local("２７１４０"),
            ("271403".into(), AreaLevel::Municipality)
        );
        assert_eq!(local("13000"), ("130001".into(), AreaLevel::Prefecture));
        assert_eq!(local("130001"), ("130001".into(), AreaLevel::Prefecture));
        assert_eq!(local("22138"), ("221384".into(), AreaLevel::Ward));
        assert_eq!(
            list.resolve("00000"),
            Ok(Area::Aggregate(Aggregate::National))
        );
        assert_eq!(
            list.resolve("13100"),
            Ok(Area::Aggregate(Aggregate::TokyoWards))
        );
        let wrong = list.resolve("271404").unwrap_err();
        assert!(
            wrong.contains("271404") && wrong.contains("expected 3"),
            "{wrong}"
        );
        // Right check digit, but no such local government.
        let unknown = list.resolve("99999").unwrap_err();
        assert!(
            unknown.contains("\"99999\"") && unknown.contains("999997"),
            "{unknown}"
        );
        assert!(list.resolve("27a40").is_err());
    }

    #[test]
    fn searching() {
        let list = AreaList::embedded();
        let codes =
            |q: &str| -> Vec<String> { list.search(q).iter().map(|e| e.code.clone()).collect() };
        assert_eq!(codes("27140"), vec!["271403"]);
        // 堺市 and its seven wards.
        let sakai = codes("堺市");
        assert_eq!((sakai[0].as_str(), sakai.len()), ("271403", 8));
        // 札幌市 and its ten wards.
        assert_eq!(codes("札幌市").len(), 11);
        assert_eq!(codes("浜松市").len(), 1 + 7 + 3);
        assert!(codes("").is_empty());
    }
}
