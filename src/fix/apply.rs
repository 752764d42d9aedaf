//! Splicing a set of edits into a text in one linear pass.

use super::Edit;

/// Two edits touch the same bytes (or insert at the same point); the caller must not pass them
/// together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("overlapping edits at byte {at}")]
pub struct EditConflict {
    pub at: usize,
}

/// Applies `edits` (any order) to `text`. Linear in `text.len()` plus the edits' size.
/// Edits must lie within the text and must not overlap; two inserts at one offset conflict.
pub fn apply_edits(text: &[u8], edits: &[Edit]) -> Result<Vec<u8>, EditConflict> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let added: usize = sorted.iter().map(|e| e.content.len()).sum();
    let mut out = Vec::with_capacity(text.len() + added);
    let mut pos = 0;
    let mut last_insert_at = None;
    for edit in sorted {
        let (start, end) = (edit.range.start, edit.range.end);
        if start < pos
            || end > text.len()
            || (edit.range.is_empty() && last_insert_at == Some(start))
        {
            return Err(EditConflict { at: start });
        }
        if edit.range.is_empty() {
            last_insert_at = Some(start);
        }
        out.extend_from_slice(&text[pos..start]);
        out.extend_from_slice(&edit.content);
        pos = end;
    }
    out.extend_from_slice(&text[pos..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::TextRange;

    #[test]
    fn applies_in_any_order() {
        let edits = [
            Edit::replace(TextRange::new(6, 11), "there"),
            Edit::delete(TextRange::new(0, 1)),
            Edit::insert(5, ","),
        ];
        assert_eq!(
            apply_edits(b"hello world!", &edits).unwrap(),
            b"ello, there!"
        );
    }

    #[test]
    fn refuses_overlaps() {
        let edits = [
            Edit::delete(TextRange::new(0, 5)),
            Edit::delete(TextRange::new(4, 6)),
        ];
        assert_eq!(
            apply_edits(b"0123456789", &edits),
            Err(EditConflict { at: 4 })
        );
        let inserts = [Edit::insert(3, "a"), Edit::insert(3, "b")];
        assert!(apply_edits(b"0123", &inserts).is_err());
        let outside = [Edit::delete(TextRange::new(2, 9))];
        assert!(apply_edits(b"0123", &outside).is_err());
    }

    #[test]
    fn adjacent_edits_are_fine() {
        let edits = [
            Edit::delete(TextRange::new(0, 2)),
            Edit::replace(TextRange::new(2, 4), "X"),
        ];
        assert_eq!(apply_edits(b"0123", &edits).unwrap(), b"X");
    }
}
