//! Errors of the storage layer. Messages are Japanese first, then English,
//! because they reach city staff through the CLI and the web UI.

use std::fmt;

/// The kinds of record the store keeps, for error messages and the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    Department,
    Section,
    User,
    Plan,
    PlanNode,
    Kpi,
    Observation,
    Program,
    KpiLink,
    Indicator,
    Money,
    Dataset,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Department => "department",
            Entity::Section => "section",
            Entity::User => "user",
            Entity::Plan => "plan",
            Entity::PlanNode => "plan_node",
            Entity::Kpi => "kpi",
            Entity::Observation => "observation",
            Entity::Program => "program",
            Entity::KpiLink => "link",
            Entity::Indicator => "indicator",
            Entity::Money => "money",
            Entity::Dataset => "dataset",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Entity::Department => "部局",
            Entity::Section => "課",
            Entity::User => "ユーザー",
            Entity::Plan => "計画",
            Entity::PlanNode => "計画の項目",
            Entity::Kpi => "KPI",
            Entity::Observation => "実績値",
            Entity::Program => "事務事業",
            Entity::KpiLink => "KPI寄与",
            Entity::Indicator => "活動・成果指標",
            Entity::Money => "事業費",
            Entity::Dataset => "データ一式",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "データベースに接続できません（{target}） / cannot open the database ({target}): {source}"
    )]
    Open {
        target: String,
        #[source]
        source: sqlx::Error,
    },

    #[error("データベースの構造を更新できません / database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    #[error("データベースエラー / database error: {0}")]
    Database(#[from] sqlx::Error),

    #[error("{}「{key}」の書き込みに失敗しました / writing {entity} \"{key}\" failed: {source}", entity.label_ja())]
    Write {
        entity: Entity,
        key: String,
        #[source]
        source: sqlx::Error,
    },

    /// A failure of the raw SQLite bulk path (which bypasses sqlx).
    #[error("{}「{key}」の書き込みに失敗しました / writing {entity} \"{key}\" failed: SQLite error {code}: {message}", entity.label_ja())]
    SqliteWrite {
        entity: Entity,
        key: String,
        code: i32,
        message: String,
    },

    #[error("{}「{key}」が見つかりません / {entity} \"{key}\" not found", entity.label_ja())]
    NotFound { entity: Entity, key: String },

    #[error(
        "{}「{key}」が参照する{}「{target_key}」がありません / {entity} \"{key}\" refers to unknown {target} \"{target_key}\"",
        entity.label_ja(),
        target.label_ja()
    )]
    MissingReference {
        entity: Entity,
        key: String,
        target: Entity,
        target_key: String,
    },

    /// Optimistic concurrency: the stored version is not the one the editor
    /// started from, so someone else saved in between.
    #[error(
        "{}「{key}」は他の人が先に更新しました（編集開始時の版 {expected}、現在の版 {found}）。再読み込みしてからやり直してください / {entity} \"{key}\" was changed by someone else (expected version {expected}, found {found}); reload and retry",
        entity.label_ja()
    )]
    Conflict {
        entity: Entity,
        key: String,
        expected: i64,
        found: i64,
    },

    #[error("{}「{key}」のデータが不正です（{message}） / invalid {entity} \"{key}\": {message}", entity.label_ja())]
    InvalidData {
        entity: Entity,
        key: String,
        message: String,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    pub(crate) fn invalid(
        entity: Entity,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        StoreError::InvalidData {
            entity,
            key: key.into(),
            message: message.into(),
        }
    }

    /// Wraps a failed statement with the record it was writing, so that the
    /// message names the row instead of just "FOREIGN KEY constraint failed".
    pub(crate) fn write(
        entity: Entity,
        key: impl Into<String>,
    ) -> impl FnOnce(sqlx::Error) -> Self {
        let key = key.into();
        move |source| StoreError::Write {
            entity,
            key,
            source,
        }
    }
}
