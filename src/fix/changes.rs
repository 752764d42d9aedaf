//! (placeholder until the change-map lands) Composition of edits across fix passes.

use crate::text::TextRange;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub old: TextRange,
    pub new: TextRange,
}

#[derive(Clone, Debug, Default)]
pub struct ChangeMap {
    spans: Vec<Span>,
}

impl ChangeMap {
    pub fn record_pass(&mut self, _edits: &[crate::fix::Edit]) {}
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }
}
