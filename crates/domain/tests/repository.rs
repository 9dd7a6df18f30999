//! The repository keeps itself honest: ARCHITECTURE.md's crate table says
//! which of our crates each crate uses, and nothing under `crates/` reads
//! files from outside the repository (a clone alone passes the tests).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Our crates each crate's `[dependencies]` name, by package name, without
/// the `citykpi-` prefix (the CLI's package is `citykpi`).
fn dependencies_in_cargo_toml() -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    let crates = root().join("crates");
    for entry in std::fs::read_dir(&crates).expect("crates/") {
        let manifest = entry.expect("crates/ entry").path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let mut name = None;
        let mut section = String::new();
        let mut deps = BTreeSet::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                section = line.to_string();
                continue;
            }
            if section == "[package]"
                && let Some(v) = line.strip_prefix("name = ")
            {
                name = Some(v.trim_matches('"').to_string());
            }
            if section == "[dependencies]"
                && let Some(rest) = line.strip_prefix("citykpi-")
            {
                let dep: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                deps.insert(dep);
            }
        }
        let name = name.unwrap_or_else(|| panic!("{} names no package", manifest.display()));
        out.insert(name, deps);
    }
    out
}

/// The table's third column, by the package name in its first column.
fn dependencies_in_architecture_md() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("| `citykpi")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        assert!(cells.len() >= 4, "a crate row has four columns: {line}");
        let name = cells[0]
            .trim_start_matches("| `")
            .split('`')
            .next()
            .unwrap_or_default()
            .to_string();
        let deps = cells[2]
            .split(',')
            .map(|d| d.trim().trim_end_matches(" (feature)").to_string())
            .filter(|d| !d.is_empty() && d != "—")
            .collect();
        out.insert(name, deps);
    }
    out
}

#[test]
fn architecture_md_names_each_crates_dependencies() {
    let actual = dependencies_in_cargo_toml();
    let documented = dependencies_in_architecture_md();
    assert!(
        actual.len() >= 11,
        "found the workspace's crates: {actual:?}"
    );
    assert_eq!(
        documented.keys().collect::<Vec<_>>(),
        actual.keys().collect::<Vec<_>>(),
        "ARCHITECTURE.md's table lists every crate, and only those"
    );
    for (name, deps) in &actual {
        assert_eq!(
            &documented[name], deps,
            "ARCHITECTURE.md: the crates `{name}` uses (third column) differ from its Cargo.toml"
        );
    }
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                source_files(&path, out);
            }
        } else if path
            .extension()
            .is_some_and(|e| e == "rs" || e == "toml" || e == "sh" || e == "py")
        {
            out.push(path);
        }
    }
}

#[test]
fn nothing_reads_outside_the_repository() {
    let mut files = Vec::new();
    source_files(&root().join("crates"), &mut files);
    source_files(&root().join("bench"), &mut files);
    assert!(files.len() > 100, "found the sources: {}", files.len());
    // Spelled in two pieces so this file does not find itself.
    let outside = ["../shared", "/data"].concat();
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| std::fs::read_to_string(f).is_ok_and(|text| text.contains(&outside)))
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "these read the reference data from outside the repository (use testdata/): {offenders:?}"
    );
    for data in [
        "testdata/prop99/california_prop99.csv",
        "testdata/basque/basque.csv",
        "testdata/kielmc/kielmc.csv",
        "testdata/estat/getStatsData_0000020202_sample.json",
        "crates/app/data/jp_local_gov_codes.json",
    ] {
        assert!(root().join(data).is_file(), "{data} is in the repository");
    }
}
