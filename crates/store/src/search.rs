//! Full-text search over KPIs and programs that works for Japanese, where
//! words are not separated by spaces: every searched field of a record is
//! NFKC-normalised and lower-cased into one text (`search_docs.body`), kept in
//! step with the record in the same transaction as its write, and indexed by
//! trigrams — an FTS5 trigram index on SQLite, a pg_trgm GIN index on
//! PostgreSQL. A query is split at spaces into terms; a record matches when it
//! contains every term as a substring. Terms of three characters or more are
//! answered through the index; shorter ones (「福祉」) are checked on the text
//! of the records the longer terms found, or on every record when there is no
//! longer term (a few thousand rows).

use citykpi_domain::kpi::Kpi;
use citykpi_domain::program::Program;
use citykpi_domain::text::normalize;

use crate::conn::{Conn, run};
use crate::write::{self, Val};
use crate::{Entity, Result, Store};

/// What a search found, best first within each kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchHits {
    pub kpis: Vec<String>,
    pub programs: Vec<String>,
}

/// The text a query is matched against: NFKC (full-width letters and digits
/// become ASCII, half-width kana full-width) and lower case, so that 「ＤＸ」,
/// 「dx」 and 「DX」 find the same records.
pub fn search_form(s: &str) -> String {
    normalize(s).to_lowercase()
}

/// The terms of a query: its space-separated parts (full-width spaces
/// included), normalised like the indexed text, duplicates dropped.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    // Control characters (a NUL, a newline pasted into the box) separate
    // terms like spaces: no record's text holds them, and a NUL is refused
    // by both FTS5 and PostgreSQL.
    for t in search_form(query).split(|c: char| c.is_whitespace() || c.is_control()) {
        if t.is_empty() {
            continue;
        }
        if !terms.iter().any(|x| x == t) {
            terms.push(t.to_string());
        }
    }
    terms
}

fn kpi_body(k: &Kpi) -> String {
    // Name first: the rank is the position of the first term, so a hit in
    // the name comes before a hit in the description.
    [
        k.name_ja.as_str(),
        &k.name_en,
        &k.code,
        &k.description,
        &k.source,
    ]
    .iter()
    .map(|f| search_form(f))
    .collect::<Vec<_>>()
    .join("\n")
}

fn program_body(p: &Program) -> String {
    [
        p.name_ja.as_str(),
        &p.name_en,
        &p.code,
        &p.purpose,
        &p.target_group,
        &p.intent,
        &p.means,
        &p.legal_basis,
    ]
    .iter()
    .map(|f| search_form(f))
    .collect::<Vec<_>>()
    .join("\n")
}

const COLUMNS: [&str; 3] = ["kind", "code", "body"];

async fn upsert(conn: &mut Conn<'_>, entity: Entity, rows: Vec<(String, String)>) -> Result<()> {
    let kind = match entity {
        Entity::Kpi => "kpi",
        _ => "program",
    };
    // One row per code (the last one given wins, as in the write itself):
    // one statement may not upsert the same key twice.
    let mut seen = std::collections::HashSet::new();
    let mut rows: Vec<(String, String)> = rows
        .into_iter()
        .rev()
        .filter(|(code, _)| seen.insert(code.clone()))
        .collect();
    rows.reverse();
    let rows: Vec<(String, Vec<Val<'_>>)> = rows
        .into_iter()
        .map(|(code, body)| {
            (
                code.clone(),
                vec![Val::Text(Some(kind)), Val::Owned(code), Val::Owned(body)],
            )
        })
        .collect();
    write::batch_upsert(
        conn,
        entity,
        "search_docs",
        &COLUMNS,
        "kind, code",
        "body = excluded.body",
        &rows,
    )
    .await
}

/// Brings the searched text of these KPIs up to date (inside the caller's transaction).
pub(crate) async fn index_kpis(conn: &mut Conn<'_>, kpis: &[&Kpi]) -> Result<()> {
    let rows = kpis.iter().map(|k| (k.code.clone(), kpi_body(k))).collect();
    upsert(conn, Entity::Kpi, rows).await
}

/// Brings the searched text of these programs up to date (inside the caller's transaction).
pub(crate) async fn index_programs(conn: &mut Conn<'_>, programs: &[&Program]) -> Result<()> {
    let rows = programs
        .iter()
        .map(|p| (p.code.clone(), program_body(p)))
        .collect();
    upsert(conn, Entity::Program, rows).await
}

/// `%term%` for LIKE with `\` as the escape character.
fn like_pattern(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    out.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// An FTS5 query that matches every term as a phrase (a phrase of trigrams
/// is a substring); double quotes inside a term are doubled.
fn fts_query(terms: &[&String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

async fn search_kind(conn: &mut Conn<'_>, kind: &str, terms: &[String]) -> Result<Vec<String>> {
    let Some(first) = terms.first() else {
        return Ok(Vec::new());
    };
    let rows: Vec<String> = match conn {
        Conn::Sqlite(c) => {
            let long: Vec<&String> = terms.iter().filter(|t| t.chars().count() >= 3).collect();
            let short: Vec<&String> = terms.iter().filter(|t| t.chars().count() < 3).collect();
            let mut sql = String::from("SELECT d.code FROM search_docs d WHERE d.kind = ?");
            if !long.is_empty() {
                sql.push_str(
                    " AND d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?)",
                );
            }
            for _ in &short {
                sql.push_str(" AND instr(d.body, ?) > 0");
            }
            sql.push_str(" ORDER BY instr(d.body, ?), d.code");
            let mut q = sqlx::query_scalar::<_, String>(&sql).bind(kind);
            if !long.is_empty() {
                q = q.bind(fts_query(&long));
            }
            for t in &short {
                q = q.bind(t.as_str());
            }
            q.bind(first.as_str()).fetch_all(&mut **c).await?
        }
        Conn::Pg(c) => {
            let mut sql = String::from("SELECT d.code FROM search_docs d WHERE d.kind = $1");
            for (i, _) in terms.iter().enumerate() {
                sql.push_str(&format!(" AND d.body LIKE ${} ESCAPE '\\'", i + 2));
            }
            let n = terms.len() + 1;
            sql.push_str(&format!(" ORDER BY strpos(d.body, ${}), d.code", n + 1));
            let mut q = sqlx::query_scalar::<_, String>(&sql).bind(kind);
            for t in terms {
                q = q.bind(like_pattern(t));
            }
            q.bind(first.as_str()).fetch_all(&mut **c).await?
        }
    };
    Ok(rows)
}

impl Store {
    /// KPIs and programs whose name, code, description or evaluation fields
    /// contain every space-separated term of `query` (after NFKC and lower
    /// case), all of them, hits in the name first.
    pub async fn search(&self, query: &str) -> Result<SearchHits> {
        let terms = query_terms(query);
        let mut hits = SearchHits::default();
        if terms.is_empty() {
            return Ok(hits);
        }
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        hits.kpis = search_kind(conn, "kpi", &terms).await?;
        hits.programs = search_kind(conn, "program", &terms).await?;
        Ok(hits)
    }

    /// Rebuilds the search text of every KPI and program in one transaction
    /// (a database created before the search index existed, or after a
    /// change of what is searched).
    pub async fn rebuild_search_index(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let kpis: Vec<Kpi> = crate::read::kpis(conn, None)
            .await?
            .into_iter()
            .map(|s| s.kpi)
            .collect();
        let programs: Vec<Program> = crate::read::programs(conn, None)
            .await?
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        run!(conn, sqlx::query("DELETE FROM search_docs"), execute)?;
        index_kpis(conn, &kpis.iter().collect::<Vec<_>>()).await?;
        index_programs(conn, &programs.iter().collect::<Vec<_>>()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the search index lacks records (a database from before it).
    pub(crate) async fn search_index_incomplete(&self) -> Result<bool> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let missing: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "SELECT (SELECT count(*) FROM kpis) + (SELECT count(*) FROM programs) \
                 - (SELECT count(*) FROM search_docs)"
            ),
            fetch_one
        )?;
        Ok(missing != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_normalised_split_and_unique() {
        assert_eq!(query_terms("  ＤＸ　推進 dx "), vec!["dx", "推進"]);
        assert_eq!(query_terms("ｶﾞｲﾄﾞ"), vec!["ガイド"]);
        assert!(query_terms(" 　").is_empty());
        assert_eq!(query_terms("a\u{0}b\nc\u{7f}"), vec!["a", "b", "c"]);
        assert!(query_terms("\u{0}").is_empty());
    }

    #[test]
    fn like_and_fts_quoting() {
        assert_eq!(like_pattern("10%_\\"), "%10\\%\\_\\\\%");
        let a = "子育て\"支援".to_string();
        let b = "相談".to_string();
        assert_eq!(fts_query(&[&a, &b]), "\"子育て\"\"支援\" AND \"相談\"");
    }
}
