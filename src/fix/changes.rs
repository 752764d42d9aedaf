//! (to be written) Composition of edits across fix passes into changed spans of the original.
