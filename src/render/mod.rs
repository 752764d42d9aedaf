//! The `render` stage: diagnostics in each output format, the summary line, and the unified
//! diff. Renderers write to a `std::io::Write` and never touch the filesystem.

pub mod concise;
pub mod diff;
pub mod full;
pub mod github;
pub mod json;
pub mod registry;
pub mod sarif;
pub mod summary;

use std::path::Path;

use crate::diagnostic::Severity;
use crate::error::InputError;
use crate::paths::ProjectRoot;

/// Something the run reports that is not a finding: an input that could not be processed (an
/// error; the run exits 2) or a problem it met and went on (a warning: an include that could
/// not be followed).
#[derive(Clone, Debug)]
pub struct Notice<'a> {
    pub severity: Severity,
    pub problem: &'a InputError,
    /// The machine-facing path of the problem's file ([`ProjectRoot::machine`]; `-` for
    /// standard input without a name), which the machine formats name it by.
    pub path: String,
}

impl<'a> Notice<'a> {
    /// A notice about `problem`, whose human-facing path is named relative to the working
    /// directory of the run `root` is the project root of.
    pub fn new(severity: Severity, problem: &'a InputError, root: &ProjectRoot) -> Self {
        let path = if problem.path == "-" {
            problem.path.clone()
        } else {
            root.machine(&problem.path)
        };
        Self {
            severity,
            problem,
            path,
        }
    }
}

/// The run as a whole, for the formats that describe it beside its findings (SARIF's
/// `invocations`, the `github` format's annotations of errors and warnings).
#[derive(Clone, Copy, Debug)]
pub struct Invocation<'a> {
    /// In the order they were met.
    pub notices: &'a [Notice<'a>],
    /// The exit status the run ends with.
    pub exit_code: u8,
    /// The directory the run was started in.
    pub working_directory: &'a Path,
}

impl Invocation<'_> {
    /// Every input was processed (findings or not): no notice is an error.
    pub fn successful(&self) -> bool {
        self.notices.iter().all(|n| n.severity != Severity::Error)
    }
}
