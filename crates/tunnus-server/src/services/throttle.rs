//! Throttling of guessable endpoints, on counters in the short-lived store
//! (so several replicas share them when that store is Redis).

use std::time::Duration;

use tunnus_core::TokenHash;

use crate::config::Limit;
use crate::error::AppError;
use crate::state::AppState;

/// Counts one attempt in `bucket` for `subject` and refuses past the limit.
/// Subjects (IPs, emails) are hashed so counters hold no personal data.
pub async fn hit(state: &AppState, bucket: &str, subject: &str, limit: Limit) -> Result<(), AppError> {
    let count = state.ephemeral.incr(&key(bucket, subject), Duration::from_secs(limit.window_seconds)).await?;
    if count > limit.max {
        tracing::warn!(bucket, "throttled");
        return Err(AppError::Throttled { retry_after_seconds: limit.window_seconds });
    }
    Ok(())
}

fn key(bucket: &str, subject: &str) -> String {
    format!("throttle:{bucket}:{}", TokenHash::of(subject).as_str())
}

/// Refuses if `subject` already reached the limit, without counting an attempt
/// (for limits that count only failures).
pub async fn check(state: &AppState, bucket: &str, subject: &str, limit: Limit) -> Result<(), AppError> {
    if state.ephemeral.count(&key(bucket, subject)).await? >= limit.max {
        tracing::warn!(bucket, "throttled");
        return Err(AppError::Throttled { retry_after_seconds: limit.window_seconds });
    }
    Ok(())
}

/// Counts an attempt without refusing (a failure, counted after the fact).
pub async fn count(state: &AppState, bucket: &str, subject: &str, limit: Limit) -> Result<(), AppError> {
    state.ephemeral.incr(&key(bucket, subject), Duration::from_secs(limit.window_seconds)).await?;
    Ok(())
}
