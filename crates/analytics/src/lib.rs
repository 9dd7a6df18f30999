//! citykpi's evidence analytics (EBPM). Pure computation: callers read files
//! and hand over text; nothing here touches the disk or the network.
//!
//! - `panel`: units × periods panels from long CSV text
//! - `ols`: least squares with conventional / cluster-robust / Newey–West errors
//! - `did`: difference-in-differences (2×2, regression form, two-way FE)
//! - `its`: interrupted time series (segmented regression)
//! - `synth`: synthetic control (Abadie) with placebo tests
//! - `simplex_ls`: its inner problem, least squares on the simplex (active set)
//! - `forecast`: will a KPI reach its target, with prediction intervals
//! - `seasonal`: monthly and quarterly KPIs (Holt–Winters, as R computes it)
//! - `realloc`: budget re-allocation across programs as an exact MILP
//! - `estat`, `sdmx`, `lgcode`: comparison data from official statistics

pub mod did;
pub mod estat;
pub mod forecast;
pub mod its;
pub mod lgcode;
pub mod ols;
pub mod optim;
pub mod panel;
pub mod realloc;
pub mod sdmx;
pub mod seasonal;
pub mod simplex_ls;
pub mod synth;

#[cfg(test)]
pub(crate) mod testdata {
    use std::path::{Path, PathBuf};

    /// Path of a file in the shared reference data (testdata/ in the repository).
    pub fn shared_path(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata")
            .join(rel)
    }

    /// Reads a reference data file. A missing file fails the test: the
    /// published answers are the point of these tests, skipping would hide that.
    pub fn shared_data(rel: &str) -> String {
        let path = shared_path(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("reference data file {} is missing or unreadable ({e}); these tests need testdata/ in the repository", path.display())
        })
    }
}
