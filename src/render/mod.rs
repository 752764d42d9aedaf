//! The `render` stage: diagnostics in each output format, and the unified diff.
