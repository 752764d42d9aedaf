//! The one-line error for an input that cannot be processed.

use std::fmt;

use crate::text::LineCol;

/// An input that could not be read, decoded, recognised or parsed. Printed as one line:
/// `PATH:LINE:COL: message` (or `PATH: message` where no position applies).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub path: String,
    pub position: Option<LineCol>,
    pub message: String,
}

impl InputError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            position: None,
            message: message.into(),
        }
    }

    pub fn at(path: impl Into<String>, position: LineCol, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            position: Some(position),
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(pos) => write!(f, "{}:{}: {}", self.path, pos, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

impl std::error::Error for InputError {}
