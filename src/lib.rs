//! svcscrub finds the registry writes that Windows or a `Create Service` action owns in
//! repackaged installer scripts (WiseScript `.wse`, SMS Installer `.ipf`) and `.reg` exports,
//! and removes or rewrites them losslessly.
//!
//! Data flows one way:
//! `source` → `detect` → `syntax` → `model` → `rules` → `fix` → `render` → `write`.
//! Nothing below [`cli`] prints; only [`source`] reading (in the CLI) and [`write`] touch files.

pub mod cli;
pub mod detect;
pub mod diagnostic;
pub mod error;
pub mod fix;
pub mod model;
pub mod paths;
mod pieces;
pub mod pipeline;
mod quiet_panics;
pub mod render;
pub mod rules;
pub mod settings;
pub mod source;
pub mod syntax;
pub mod text;
pub mod write;
