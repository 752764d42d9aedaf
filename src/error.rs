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
        let (path, message) = (OneLine(&self.path), OneLine(&self.message));
        match self.position {
            Some(pos) => write!(f, "{path}:{pos}: {message}"),
            None => write!(f, "{path}: {message}"),
        }
    }
}

impl std::error::Error for InputError {}

/// Text from an input (an item name, a path) shown on one line: control characters such as a
/// lone carriage return inside a script line are written escaped (`\r`), so they cannot break
/// or overwrite the message on a terminal.
struct OneLine<'a>(&'a str);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(char::is_control) {
            f.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            write!(f, "{}", c.escape_default())?;
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        let e = InputError::at(
            "dir\n/a.wse",
            LineCol { line: 4, column: 1 },
            "inside `item: Global\rjunk\t\u{1b}[2J` from line 2",
        );
        assert_eq!(
            e.to_string(),
            "dir\\n/a.wse:4:1: inside `item: Global\\rjunk\\t\\u{1b}[2J` from line 2"
        );
        assert_eq!(
            InputError::new("a.reg", "caf\u{e9}").to_string(),
            "a.reg: caf\u{e9}"
        );
    }
}
