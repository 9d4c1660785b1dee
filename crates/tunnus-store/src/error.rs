//! Storage errors, with the meaning callers act on.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// A storage failure. Callers branch on [`StoreError::kind`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct StoreError {
    kind: StoreErrorKind,
    message: String,
}

/// What went wrong, as far as the caller cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The row asked for does not exist.
    NotFound,
    /// A unique or other constraint refused the write.
    Conflict,
    /// The database or the short-lived store cannot be reached (or timed out).
    Unavailable,
    /// Stored data could not be read back into a domain type.
    Corrupt,
    /// Anything else the backend reported.
    Backend,
}

impl StoreError {
    pub fn new(kind: StoreErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    pub fn corrupt(what: impl Into<String>) -> Self {
        Self::new(StoreErrorKind::Corrupt, what)
    }

    pub fn unavailable(what: impl Into<String>) -> Self {
        Self::new(StoreErrorKind::Unavailable, what)
    }

    pub fn is_conflict(&self) -> bool {
        self.kind == StoreErrorKind::Conflict
    }
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        let kind = match &e {
            DieselError::NotFound => StoreErrorKind::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
            | DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)
            | DieselError::DatabaseError(DatabaseErrorKind::CheckViolation, _)
            | DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => StoreErrorKind::Conflict,
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )
            | DieselError::BrokenTransactionManager => StoreErrorKind::Unavailable,
            DieselError::DatabaseError(_, info) if server_went_away(info.message()) || too_busy(info.message()) => {
                StoreErrorKind::Unavailable
            }
            DieselError::RollbackErrorOnCommit { rollback_error, .. }
                if matches!(**rollback_error, DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)) =>
            {
                StoreErrorKind::Unavailable
            }
            _ => StoreErrorKind::Backend,
        };
        Self::new(kind, e.to_string())
    }
}

/// PostgreSQL's words for "I am shutting down / restarting / gone" (SQLSTATE
/// classes 08 and 57, which diesel does not expose as kinds): the request
/// could succeed in a moment, so it is a 503, not a 500.
fn server_went_away(message: &str) -> bool {
    [
        "terminating connection",
        "server closed the connection",
        "no connection to the server",
        "the database system is",
        "connection to server",
        "could not receive data",
        "could not send data",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// The database gave up waiting: PostgreSQL's statement timeout (SQLSTATE
/// 57014) or SQLite's busy timeout. The same request may well succeed in a
/// moment, so it is a 503 with Retry-After, not a 500.
fn too_busy(message: &str) -> bool {
    message.contains("canceling statement due to statement timeout") || message.contains("database is locked")
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::unavailable(format!("database pool: {e}"))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[cfg(test)]
mod tests {
    use super::*;

    struct Info(&'static str);

    impl diesel::result::DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn kind_of(message: &'static str) -> StoreErrorKind {
        StoreError::from(DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(Info(message)))).kind()
    }

    #[test]
    fn timeouts_and_restarts_are_unavailable_other_failures_are_not() {
        assert_eq!(kind_of("canceling statement due to statement timeout"), StoreErrorKind::Unavailable);
        assert_eq!(kind_of("database is locked"), StoreErrorKind::Unavailable);
        assert_eq!(kind_of("terminating connection due to administrator command"), StoreErrorKind::Unavailable);
        assert_eq!(kind_of("syntax error at or near \"SELEC\""), StoreErrorKind::Backend);
    }
}
