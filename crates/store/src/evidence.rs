//! Evidence on program–KPI links (`link_evidence`): every study is kept, the
//! newest first when read.

use citykpi_domain::evidence::{EvidenceMethod, LinkEvidence};
use citykpi_domain::program::EvidenceGrade;
use serde::Serialize;

use crate::audit::{self, AuditRecord};
use crate::conn::run;
use crate::{Entity, Result, Store, StoreError, now_rfc3339};

/// A stored piece of evidence: the record with its id and who recorded it when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvidence {
    pub id: i64,
    #[serde(flatten)]
    pub evidence: LinkEvidence,
    pub recorded_by: String,
    pub recorded_at: String,
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    f64,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    String,
    String,
    String,
    String,
    String,
);

const SELECT: &str = "SELECT id, program_code, kpi_code, method, data, estimate, lower_bound, \
     upper_bound, level, p_value, grade, note, detail, recorded_by, recorded_at FROM link_evidence";

fn link_key(program: &str, kpi: &str) -> String {
    format!("{program} → {kpi}")
}

fn from_row(r: Row) -> Result<StoredEvidence> {
    let key = link_key(&r.1, &r.2);
    let method = EvidenceMethod::parse(&r.3).ok_or_else(|| {
        StoreError::invalid(Entity::KpiLink, &key, format!("method = \"{}\"", r.3))
    })?;
    let grade = EvidenceGrade::parse(&r.10).ok_or_else(|| {
        StoreError::invalid(Entity::KpiLink, &key, format!("grade = \"{}\"", r.10))
    })?;
    Ok(StoredEvidence {
        id: r.0,
        evidence: LinkEvidence {
            program_code: r.1,
            kpi_code: r.2,
            method,
            data: r.4,
            estimate: r.5,
            interval: r.6.zip(r.7),
            level: r.8,
            p_value: r.9,
            grade,
            note: r.11,
            detail: r.12,
        },
        recorded_by: r.13,
        recorded_at: r.14,
    })
}

impl Store {
    /// Records evidence on an existing program–KPI link, with an audit row,
    /// in one transaction. Returns the new record's id.
    pub async fn record_link_evidence(&self, ev: &LinkEvidence, actor: &str) -> Result<i64> {
        let key = link_key(&ev.program_code, &ev.kpi_code);
        if let Some(p) = ev.problems().first() {
            return Err(StoreError::invalid(Entity::KpiLink, &key, p.to_string()));
        }
        let mut tx = self.begin().await?;
        let conn = &mut tx.conn();
        let links: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM kpi_links WHERE program_code = $1 AND kpi_code = $2"
            )
            .bind(&ev.program_code)
            .bind(&ev.kpi_code),
            fetch_one
        )?;
        if links == 0 {
            return Err(StoreError::NotFound {
                entity: Entity::KpiLink,
                key,
            });
        }
        let id: i64 = run!(
            conn,
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO link_evidence (program_code, kpi_code, method, data, estimate, \
                 lower_bound, upper_bound, level, p_value, grade, note, detail, recorded_by, \
                 recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 RETURNING id"
            )
            .bind(&ev.program_code)
            .bind(&ev.kpi_code)
            .bind(ev.method.as_str())
            .bind(&ev.data)
            .bind(ev.estimate)
            .bind(ev.interval.map(|i| i.0))
            .bind(ev.interval.map(|i| i.1))
            .bind(ev.level)
            .bind(ev.p_value)
            .bind(ev.grade.as_str())
            .bind(&ev.note)
            .bind(&ev.detail)
            .bind(actor)
            .bind(now_rfc3339()),
            fetch_one
        )
        .map_err(StoreError::write(Entity::KpiLink, &key))?;
        // The audit row names the result, not the (possibly large) detail.
        let mut summary = ev.clone();
        summary.detail = String::new();
        audit::record(
            conn,
            &AuditRecord {
                actor,
                action: "insert",
                entity: "link_evidence",
                key: &format!("{key} #{id}"),
                before: None,
                after: serde_json::to_value(&summary).ok(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Evidence on the links of a KPI, of a program, or of both (newest first).
    pub async fn link_evidence(
        &self,
        kpi: Option<&str>,
        program: Option<&str>,
    ) -> Result<Vec<StoredEvidence>> {
        let mut pooled = self.read_conn().await?;
        let conn = &mut pooled.conn();
        let sql = format!(
            "{SELECT} WHERE ($1 IS NULL OR kpi_code = $1) AND ($2 IS NULL OR program_code = $2) \
             ORDER BY id DESC"
        );
        let rows: Vec<Row> = run!(
            conn,
            sqlx::query_as::<_, Row>(&sql).bind(kpi).bind(program),
            fetch_all
        )?;
        rows.into_iter().map(from_row).collect()
    }
}
