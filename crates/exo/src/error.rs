//! Errors of the cmdlet mode, worded as PowerShell and Exchange word them.

use mailroom_core::CoreError;

use crate::parse::ParseError;

pub type ExoResult<T> = Result<T, ExoError>;

#[derive(Debug, thiserror::Error)]
pub enum ExoError {
    #[error(transparent)]
    Parse(#[from] ParseError),

    #[error("The term '{0}' is not recognized as a name of a cmdlet. Mailroom's cmdlet mode supports: {1}.")]
    UnknownCmdlet(String, String),

    /// Parameter binding: unknown, missing, duplicate or unconvertible arguments.
    #[error("{0}")]
    Binding(String),

    /// The domain core refused or failed.
    #[error(transparent)]
    Core(#[from] CoreError),

    /// The cmdlet refused its input.
    #[error("{0}")]
    Invalid(String),

    #[error(
        "{0}\nThis action needs confirmation, and there is no terminal to ask on. Add -Confirm:$false to go ahead without asking."
    )]
    ConfirmationRequired(String),
}

impl ExoError {
    pub fn binding(message: impl Into<String>) -> Self {
        ExoError::Binding(message.into())
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ExoError::Invalid(message.into())
    }
}

/// An error with the cmdlet it came from, for `New-Mailbox: message` output.
#[derive(Debug, thiserror::Error)]
#[error("{}{error}", cmdlet.as_ref().map(|c| format!("{c}: ")).unwrap_or_default())]
pub struct Failure {
    pub cmdlet: Option<String>,
    pub error: ExoError,
}

impl From<ParseError> for Failure {
    fn from(err: ParseError) -> Self {
        Failure { cmdlet: None, error: ExoError::Parse(err) }
    }
}
