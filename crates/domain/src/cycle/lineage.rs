//! Restructuring with lineage (事業の系譜): programs merged, split, renamed or
//! abolished, kept as steps so that a program's history, and the KPI
//! contributions of its predecessors, can be followed across the change.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineageKind {
    /// A + B → C
    Merge,
    /// A → B + C
    Split,
    /// A → (nothing)
    Abolish,
    /// A → B (new code, same program)
    Rename,
}

impl LineageKind {
    pub const ALL: [LineageKind; 4] = [
        LineageKind::Merge,
        LineageKind::Split,
        LineageKind::Abolish,
        LineageKind::Rename,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            LineageKind::Merge => "merge",
            LineageKind::Split => "split",
            LineageKind::Abolish => "abolish",
            LineageKind::Rename => "rename",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            LineageKind::Merge => "統合",
            LineageKind::Split => "分割",
            LineageKind::Abolish => "廃止",
            LineageKind::Rename => "名称・コード変更",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            LineageKind::Merge => "merge",
            LineageKind::Split => "split",
            LineageKind::Abolish => "abolition",
            LineageKind::Rename => "new name or code",
        }
    }
    pub fn parse(s: &str) -> Option<LineageKind> {
        let s = crate::text::normalize(s);
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(&s) || k.label_ja() == s)
    }
}

/// Checks one step against the programs that exist: the shape of the kind
/// (a merge has two or more programs going into one …), every code known
/// (successors are registered first, as ordinary programs), no code on both
/// sides or twice.
pub fn check_step(
    kind: LineageKind,
    from: &[String],
    to: &[String],
    known: &BTreeSet<String>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let (from_ok, to_ok, ja, en) = match kind {
        LineageKind::Merge => (
            from.len() >= 2,
            to.len() == 1,
            "統合は2つ以上の事業を1つの事業にまとめます",
            "a merge takes two or more programs into one",
        ),
        LineageKind::Split => (
            from.len() == 1,
            to.len() >= 2,
            "分割は1つの事業を2つ以上の事業に分けます",
            "a split divides one program into two or more",
        ),
        LineageKind::Abolish => (
            !from.is_empty(),
            to.is_empty(),
            "廃止は1つ以上の事業を後継なしで終えます",
            "an abolition ends one or more programs without successors",
        ),
        LineageKind::Rename => (
            from.len() == 1,
            to.len() == 1,
            "名称・コード変更は1つの事業を1つの事業に引き継ぎます",
            "a rename hands one program over to one program",
        ),
    };
    if !from_ok {
        errors.push(FieldError::new("from", ja, en));
    }
    if !to_ok {
        errors.push(FieldError::new("to", ja, en));
    }
    let mut seen = BTreeSet::new();
    for (field, codes) in [("from", from), ("to", to)] {
        for c in codes {
            if !known.contains(c) {
                errors.push(FieldError::new(
                    field,
                    format!("事務事業「{c}」がありません（後継事業は先に登録してください）"),
                    format!("unknown program \"{c}\" (register successors first)"),
                ));
            }
            if !seen.insert(c.as_str()) {
                errors.push(FieldError::new(
                    field,
                    format!("事務事業「{c}」が重複しています"),
                    format!("program \"{c}\" is named twice"),
                ));
            }
        }
    }
    errors
}

/// Every program connected to `code` through the steps (predecessors,
/// successors, and their other partners), `code` included, sorted.
pub fn lineage_group(code: &str, steps: &[(Vec<String>, Vec<String>)]) -> Vec<String> {
    let mut neighbours: HashMap<&str, Vec<&str>> = HashMap::new();
    for (from, to) in steps {
        let all: Vec<&str> = from.iter().chain(to).map(String::as_str).collect();
        for a in &all {
            for b in &all {
                if a != b {
                    neighbours.entry(a).or_default().push(b);
                }
            }
        }
    }
    let mut group = BTreeSet::from([code]);
    let mut queue = vec![code];
    while let Some(c) = queue.pop() {
        for n in neighbours.get(c).into_iter().flatten() {
            if group.insert(n) {
                queue.push(n);
            }
        }
    }
    group.into_iter().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn shapes_and_codes() {
        let known: BTreeSet<String> = codes(&["A", "B", "C", "D"]).into_iter().collect();
        assert!(
            check_step(
                LineageKind::Merge,
                &codes(&["A", "B"]),
                &codes(&["C"]),
                &known
            )
            .is_empty()
        );
        assert!(
            check_step(
                LineageKind::Split,
                &codes(&["C"]),
                &codes(&["A", "B"]),
                &known
            )
            .is_empty()
        );
        assert!(check_step(LineageKind::Abolish, &codes(&["D"]), &[], &known).is_empty());
        let e = check_step(LineageKind::Merge, &codes(&["A"]), &codes(&["C"]), &known);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "from");
        assert_eq!(e[0].en, "a merge takes two or more programs into one");
        let e = check_step(
            LineageKind::Merge,
            &codes(&["A", "B"]),
            &codes(&["X"]),
            &known,
        );
        assert_eq!(
            e[0].ja,
            "事務事業「X」がありません（後継事業は先に登録してください）"
        );
        let e = check_step(LineageKind::Rename, &codes(&["A"]), &codes(&["A"]), &known);
        assert_eq!(e[0].en, "program \"A\" is named twice");
        let e = check_step(LineageKind::Abolish, &codes(&["A"]), &codes(&["B"]), &known);
        assert_eq!(e[0].field, "to");
        assert_eq!(LineageKind::parse("統合"), Some(LineageKind::Merge));
    }

    #[test]
    fn the_group_follows_merges_and_splits() {
        let steps = vec![
            (codes(&["A", "B"]), codes(&["C"])),
            (codes(&["C"]), codes(&["D", "E"])),
            (codes(&["X"]), codes(&["Y"])),
        ];
        assert_eq!(
            lineage_group("A", &steps),
            codes(&["A", "B", "C", "D", "E"])
        );
        assert_eq!(
            lineage_group("E", &steps),
            codes(&["A", "B", "C", "D", "E"])
        );
        assert_eq!(lineage_group("Y", &steps), codes(&["X", "Y"]));
        assert_eq!(lineage_group("Z", &steps), codes(&["Z"]));
    }
}
