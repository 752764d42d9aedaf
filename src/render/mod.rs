//! The `render` stage: diagnostics in each output format, the summary line, and the unified
//! diff. Renderers write to a `std::io::Write` and never touch the filesystem.

pub mod concise;
pub mod diff;
pub mod full;
pub mod github;
pub mod json;
pub mod sarif;
pub mod summary;
