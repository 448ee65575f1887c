//! The cloud's errors, and the ONE place where a request's error becomes a `tonic::Status`.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::config::ConfigError;
use crate::db::DbError;

/// Why the cloud could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A TLS file named in the config is missing or unreadable.
    #[error("TLS: {0}")]
    Tls(String),
    /// A listener failed.
    #[error("io error: {0}")]
    Io(#[from] std::io::Error),
    /// The gRPC server failed.
    #[error("gRPC server error: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Why one request was refused. Declines are not errors: they are answers (`DECLINED`).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A field of the request is missing or malformed.
    #[error("invalid {field}: {reason}")]
    InvalidArgument {
        /// The request field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The thing asked about does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts what happened before (e.g. the same order with another amount).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The caller did not say who it is (or its credentials are unknown).
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller may not act on this.
    #[error("{0}")]
    PermissionDenied(String),
    /// It exists already (e.g. a second coupon of one campaign for one wallet).
    #[error("{0}")]
    AlreadyExists(String),
    /// A concurrent change won; retrying is safe.
    #[error("{0}")]
    Aborted(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl ServiceError {
    /// Shorthand for [`ServiceError::InvalidArgument`].
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        ServiceError::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::Db(DbError::Sqlx(e))
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Status {
        match e {
            ServiceError::InvalidArgument { field, reason } => {
                // The field and reason also travel as a google.rpc.BadRequest detail.
                let details = ErrorDetails::with_bad_request_violation(field, reason.clone());
                Status::with_error_details(
                    Code::InvalidArgument,
                    format!("invalid {field}: {reason}"),
                    details,
                )
            }
            ServiceError::NotFound(m) => Status::new(Code::NotFound, m),
            ServiceError::FailedPrecondition(m) => Status::new(Code::FailedPrecondition, m),
            ServiceError::Unauthenticated(m) => Status::new(Code::Unauthenticated, m),
            ServiceError::PermissionDenied(m) => Status::new(Code::PermissionDenied, m),
            ServiceError::AlreadyExists(m) => Status::new(Code::AlreadyExists, m),
            ServiceError::Aborted(m) => Status::new(Code::Aborted, m),
            ServiceError::Db(e) => {
                tracing::error!(error = %e, "database failure while serving a request");
                Status::new(
                    Code::Unavailable,
                    "the cloud's database is unavailable; retry",
                )
            }
        }
    }
}
