//! Scheduled jobs of `citykpi serve`. With several servers on one database
//! each job's turn runs on one of them: time is cut into slots of the job's
//! interval, every server wakes at the start of each slot, and the one whose
//! row for (job, slot) goes into `job_runs` first runs it; the others find
//! the row there and skip (`Store::claim_job_run`). This needs no lock held
//! while the job runs and works alike on SQLite and PostgreSQL; a server
//! that dies mid-run loses that turn only. Servers wake a random moment
//! into the slot (up to a tenth of it, at most five seconds), so clocks a
//! little apart still agree on the slot.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::AppState;
use crate::metrics::JobOutcome;
use crate::session::{ABSOLUTE_TIMEOUT, IDLE_TIMEOUT, unix_now};

/// Deletes expired sessions, login failures past their window and old
/// records of job runs.
pub const CLEANUP: &str = "session_cleanup";
/// Records of job runs are kept this long (to see which server ran what).
const KEEP_RUNS: Duration = Duration::from_secs(7 * 86_400);

/// Takes a backup into `CITYKPI_BACKUP_DIR` and removes the oldest past
/// `CITYKPI_BACKUP_KEEP`.
pub const BACKUP: &str = "backup";

/// Starts the scheduled jobs of this server: the clean-up (none when its
/// interval is zero) and the backups when a folder is configured.
pub(crate) fn start(state: AppState) {
    let every = state.config().cleanup_every;
    if !every.is_zero() {
        repeat(state.clone(), CLEANUP, every, clean_up);
    }
    if let Some(schedule) = state.config().backup.clone() {
        repeat(state, BACKUP, schedule.every, move |state| {
            let schedule = schedule.clone();
            async move { back_up(state, schedule).await }
        });
    }
}

/// Runs `job` at every slot of `every`, on this server when it wins the turn.
fn repeat<F, Fut>(state: AppState, job: &'static str, every: Duration, work: F)
where
    F: Fn(AppState) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), crate::WebError>> + Send,
{
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(until_next_slot(every)).await;
            run_turn(&state, job, every, &work).await;
        }
    });
}

fn unix_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// The slot of `every` that `at_ms` falls in.
fn slot_of(at_ms: u128, every: Duration) -> i64 {
    let len = every.as_millis().max(1);
    i64::try_from(at_ms / len).unwrap_or(i64::MAX)
}

/// Time from now to the start of the next slot, plus a random offset.
fn until_next_slot(every: Duration) -> Duration {
    let len = every.as_millis().max(1);
    let now = unix_millis();
    let to_next = len - now % len;
    let spread = (len / 10).min(5_000);
    let jitter = if spread == 0 {
        0
    } else {
        u128::from(rand::random::<u64>()) % spread
    };
    Duration::from_millis(u64::try_from(to_next + jitter).unwrap_or(u64::MAX))
}

/// Runs `work` for the current slot of `job` unless another server has
/// claimed it, and counts the outcome in the metrics.
pub(crate) async fn run_turn<F, Fut>(
    state: &AppState,
    job: &str,
    every: Duration,
    work: &F,
) -> JobOutcome
where
    F: Fn(AppState) -> Fut,
    Fut: Future<Output = Result<(), crate::WebError>>,
{
    let slot = slot_of(unix_millis(), every);
    let outcome = match state
        .store()
        .claim_job_run(job, slot, state.holder(), unix_now())
        .await
    {
        Ok(true) => match work(state.clone()).await {
            Ok(()) => JobOutcome::Ran,
            Err(e) => {
                tracing::warn!(job, error = %e, "scheduled job failed");
                JobOutcome::Failed
            }
        },
        Ok(false) => JobOutcome::Skipped,
        Err(e) => {
            tracing::warn!(job, error = %e, "scheduled job: the turn could not be claimed");
            JobOutcome::Failed
        }
    };
    state.metrics().job(job, outcome);
    outcome
}

async fn back_up(
    state: AppState,
    schedule: citykpi_app::backup::Schedule,
) -> Result<(), crate::WebError> {
    let (file, manifest, removed) = citykpi_app::backup::scheduled_once(state.store(), &schedule)
        .await
        .map_err(|e| {
            citykpi_app::AppError::invalid(schedule.dir.display().to_string(), e.to_string())
        })?;
    tracing::info!(
        file = %file.display(),
        rows = manifest.total_rows(),
        removed = removed.len(),
        holder = state.holder(),
        "scheduled backup written"
    );
    Ok(())
}

async fn clean_up(state: AppState) -> Result<(), crate::WebError> {
    let store = state.store();
    let now = unix_now();
    let sessions = store
        .delete_expired_sessions(
            now - IDLE_TIMEOUT.as_secs() as i64,
            now - ABSOLUTE_TIMEOUT.as_secs() as i64,
        )
        .await?;
    let failures = crate::ratelimit::LoginLimiter::clean_up(store).await?;
    let runs = store
        .delete_old_job_runs(now - KEEP_RUNS.as_secs() as i64)
        .await?;
    tracing::info!(
        sessions,
        failures,
        runs,
        holder = state.holder(),
        "expired sessions and login failures deleted"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots() {
        let every = Duration::from_secs(600);
        assert_eq!(slot_of(0, every), 0);
        assert_eq!(slot_of(599_999, every), 0);
        assert_eq!(slot_of(600_000, every), 1);
        for _ in 0..100 {
            let wait = until_next_slot(every);
            assert!(wait <= every + Duration::from_secs(5), "{wait:?}");
        }
        assert!(until_next_slot(Duration::from_millis(1)) <= Duration::from_millis(1));
    }
}
