//! The `write` stage: atomic writes in the original encoding.
