//! Suggesting members for a menu item, a team or a proposal: shared SDG
//! goals, words of the need found in what they offer, the same area, and
//! past participation, with the reason for every point shown so staff can
//! judge the suggestion instead of trusting a number.

use serde::{Deserialize, Serialize};

use super::SdgGoal;
use super::lgcode::prefecture;

/// What is being staffed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Need {
    pub sdg_goals: Vec<SdgGoal>,
    /// Words to look for in the members' offers (e.g. "太陽光", "見守り").
    pub keywords: Vec<String>,
    /// Local-government code of where it happens.
    pub lg_code: String,
}

/// A member as matching sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub member_id: i64,
    pub name: String,
    pub sdg_goals: Vec<SdgGoal>,
    pub offers: String,
    pub lg_code: String,
    /// Completed or accepted participations so far.
    pub past_participations: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub points: u32,
    pub ja: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub member_id: i64,
    pub name: String,
    pub score: u32,
    pub reasons: Vec<Reason>,
}

const PER_GOAL: u32 = 3;
const PER_KEYWORD: u32 = 2;
const SAME_CITY: u32 = 3;
const SAME_PREFECTURE: u32 = 1;
const PER_PAST: u32 = 1;
const MAX_PAST_COUNTED: u32 = 3;

/// Scores one candidate; `None` when nothing matches.
pub fn score(need: &Need, c: &Candidate) -> Option<Suggestion> {
    let mut reasons = Vec::new();
    let shared: Vec<SdgGoal> = need
        .sdg_goals
        .iter()
        .copied()
        .filter(|g| c.sdg_goals.contains(g))
        .collect();
    if !shared.is_empty() {
        let list = shared
            .iter()
            .map(|g| g.number().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        reasons.push(Reason {
            points: PER_GOAL * shared.len() as u32,
            ja: format!("SDGsの目標 {list} が共通"),
            en: format!("shares SDG goals {list}"),
        });
    }
    let offers = crate::text::normalize(&c.offers).to_lowercase();
    let hits: Vec<&String> = need
        .keywords
        .iter()
        .filter(|k| {
            let k = crate::text::normalize(k).to_lowercase();
            !k.is_empty() && offers.contains(&k)
        })
        .collect();
    if !hits.is_empty() {
        let list = hits
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("、");
        reasons.push(Reason {
            points: PER_KEYWORD * hits.len() as u32,
            ja: format!("提供できることに「{list}」"),
            en: format!("offers mention \"{list}\""),
        });
    }
    if !need.lg_code.is_empty() && !c.lg_code.is_empty() {
        if need.lg_code == c.lg_code {
            reasons.push(Reason {
                points: SAME_CITY,
                ja: "同じ市町村に所在".into(),
                en: "located in the same municipality".into(),
            });
        } else if prefecture(&need.lg_code) == prefecture(&c.lg_code) {
            reasons.push(Reason {
                points: SAME_PREFECTURE,
                ja: "同じ都道府県に所在".into(),
                en: "located in the same prefecture".into(),
            });
        }
    }
    if c.past_participations > 0 && !reasons.is_empty() {
        let n = c.past_participations.min(MAX_PAST_COUNTED);
        reasons.push(Reason {
            points: PER_PAST * n,
            ja: format!("過去の参加 {}件", c.past_participations),
            en: format!("{} past participations", c.past_participations),
        });
    }
    if reasons.is_empty() {
        return None;
    }
    Some(Suggestion {
        member_id: c.member_id,
        name: c.name.clone(),
        score: reasons.iter().map(|r| r.points).sum(),
        reasons,
    })
}

/// The best `limit` candidates, highest score first (ties: lower id first).
/// Past participation alone never suggests anyone: it only adds to a match.
pub fn suggest(need: &Need, candidates: &[Candidate], limit: usize) -> Vec<Suggestion> {
    let mut v: Vec<Suggestion> = candidates.iter().filter_map(|c| score(need, c)).collect();
    v.sort_by(|a, b| b.score.cmp(&a.score).then(a.member_id.cmp(&b.member_id)));
    v.truncate(limit);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(n: u8) -> SdgGoal {
        SdgGoal::new(n).unwrap()
    }

    fn cand(id: i64, goals: &[u8], offers: &str, lg: &str, past: u32) -> Candidate {
        Candidate {
            member_id: id,
            name: format!("M{id}"),
            sdg_goals: goals.iter().map(|n| g(*n)).collect(),
            offers: offers.into(),
            lg_code: lg.into(),
            past_participations: past,
        }
    }

    #[test]
    fn scores_with_reasons() {
        let need = Need {
            sdg_goals: vec![g(7), g(13)],
            keywords: vec!["太陽光".into(), "EV".into()],
            lg_code: "271276".into(),
        };
        let cs = vec![
            cand(1, &[7, 13], "太陽光パネルの設置", "271276", 5),
            cand(2, &[7], "ev充電", "271403", 0),
            cand(3, &[1], "会計", "131016", 9),
            cand(4, &[3], "お弁当", "271276", 0),
        ];
        let s = suggest(&need, &cs, 10);
        assert_eq!(
            s.iter().map(|s| s.member_id).collect::<Vec<_>>(),
            vec![1, 2, 4]
        );
        // 1: 2 goals (6) + 1 keyword (2) + same city (3) + past capped at 3 = 14
        assert_eq!(s[0].score, 14);
        assert_eq!(s[0].reasons.len(), 4);
        assert!(s[0].reasons[0].ja.contains("7, 13"));
        // 2: 1 goal (3) + "EV" case-insensitive (2) + same prefecture (1)
        assert_eq!(s[1].score, 6);
        assert_eq!(s[2].score, 3);
        assert_eq!(suggest(&need, &cs, 1).len(), 1);
        assert!(
            score(&Need::default(), &cs[2]).is_none(),
            "past participation alone is no match"
        );
    }
}
