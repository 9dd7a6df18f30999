use citykpi_io::{ExportError, ImportError};
use citykpi_store::StoreError;

/// Everything a service can fail with. The web server maps it to HTTP once,
/// at its edge; the CLI prints it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("見つかりません / not found: {0}")]
    NotFound(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
