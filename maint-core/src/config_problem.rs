//! What is wrong with a config file: each problem with its file, line,
//! column and key ([`ConfigProblem`]), all of them together
//! ([`ConfigError`]), and their place among maint's errors.

use std::fmt;
use std::path::PathBuf;

use crate::error::{self, Error};

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The file the problem is in (the config file, or an allowlist file it
    /// names).
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The dotted key, e.g. `services.shop.status`, when known.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    /// `FILE:LINE:COLUMN: KEY: message`, leaving out unknown parts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A config file that could not be loaded, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<ConfigProblem>,
}

impl ConfigError {
    /// The error of `problems` (at least one).
    #[cfg(feature = "config")]
    pub(crate) fn new(problems: Vec<ConfigProblem>) -> Self {
        Self { problems }
    }

    /// Every problem, in file order. Never empty.
    pub fn problems(&self) -> &[ConfigProblem] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "invalid config: {one}"),
            many => {
                write!(f, "invalid config ({} problems):", many.len())?;
                for p in many {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        let problems = e
            .problems
            .into_iter()
            .map(|p| error::Problem {
                file: Some(p.file.display().to_string()),
                line: p.line,
                column: p.column,
                key: p.key,
                entry: None,
                message: p.message,
            })
            .collect();
        Error::InvalidConfig(error::Problems::new("config", problems))
    }
}
