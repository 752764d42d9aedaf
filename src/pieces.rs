//! Work done in pieces on the pool: when a file is large enough to be split, into how many
//! pieces, and joining the pieces' results in order.
//!
//! Every size from which a stage hands its work to the pool is here, so the stages split by
//! one policy and a change to it is made in one place. Below these sizes a stage works on the
//! calling thread: a small file gains less than handing work over costs, and a package's
//! files are checked in parallel anyway. A stage split in pieces gives what it gives in one
//! piece (each has a test that compares the two).

use std::ops::Range;

/// Bytes of text from which a file is parsed, lowered and its lines counted in pieces.
pub(crate) const SPLIT_FROM: usize = 4 << 20;

/// Bytes from which a file is read (and a UTF-16 file decoded) in pieces at their offsets:
/// most of what reading costs is first touching the buffer's pages, and that divides.
pub(crate) const READ_FROM: usize = 8 << 20;

/// Bytes per piece of a read in pieces.
pub(crate) const READ_PIECE: usize = 2 << 20;

/// Writes under `HKLM\SYSTEM` (for the facts: operations) from which a file's rule facts are
/// gathered and its per-write rules run in parts.
pub(crate) const RULES_FROM: usize = 4096;

/// Findings from which a file's fixes are planned in parts.
pub(crate) const PLAN_FROM: usize = 1024;

/// `Edit Registry` items with removals from which a script's removals are planned on the
/// pool, and how many per job.
pub(crate) const REMOVALS_FROM: usize = 1024;
pub(crate) const REMOVALS_PER_JOB: usize = 256;

/// Items per job when a fixed script's items are checked for the `Total Keys` invariant.
pub(crate) const ITEMS_PER_JOB: usize = 1 << 14;

/// Findings per chunk of a full report rendered on the pool (from two chunks' worth).
pub(crate) const REPORT_CHUNK: usize = 1024;

/// Changed regions (or hunks) from which a diff is built on the pool, and per chunk.
pub(crate) const DIFF_FROM: usize = 2048;
pub(crate) const DIFF_CHUNK: usize = 512;

/// Bytes from which a diff's texts are compared and their lines counted on the pool, and per
/// job.
pub(crate) const COMPARE_FROM: usize = 1 << 20;
pub(crate) const COMPARE_PER_JOB: usize = 256 * 1024;

/// Whether the current pool has more than one thread to share work with.
pub(crate) fn pool_is_parallel() -> bool {
    rayon::current_num_threads() >= 2
}

/// How many pieces to cut work of `size` in, splitting from `from`: `None` for one (small
/// work, or a pool of one thread), else a few per thread, since equal sizes are not equal
/// work and a thread that finishes early takes another.
pub(crate) fn split(size: usize, from: usize) -> Option<usize> {
    let threads = rayon::current_num_threads().min(64);
    (size >= from && threads >= 2).then_some(threads * 4)
}

/// How many pieces to parse, lower or index a text of `len` bytes in ([`split`] from
/// [`SPLIT_FROM`]).
pub(crate) fn count_for(len: usize) -> Option<usize> {
    split(len, SPLIT_FROM)
}

/// At most `count` consecutive ranges of equal size (the last shorter) covering `0..len`;
/// one empty range when `len` is 0.
pub(crate) fn ranges(len: usize, count: usize) -> Vec<Range<usize>> {
    let size = len.div_ceil(count.max(1)).max(1);
    (0..len.max(1))
        .step_by(size)
        .map(|start| start..(start + size).min(len))
        .collect()
}

/// The parts in order in one list: the first part's buffer grown once to the total and the
/// others moved onto it, each freed as soon as it is. Growing piecemeal would copy and leave
/// freed buffers behind in the allocator, resident; collecting through `flatten` sizes nothing.
pub(crate) fn concat<T>(parts: Vec<Vec<T>>) -> Vec<T> {
    let total: usize = parts.iter().map(Vec::len).sum();
    let mut parts = parts.into_iter();
    let Some(mut all) = parts.next() else {
        return Vec::new();
    };
    all.reserve_exact(total - all.len());
    for part in parts {
        all.extend(part);
    }
    all
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges_cover_the_length_in_order() {
        assert_eq!(super::ranges(0, 4), vec![0..0]);
        assert_eq!(super::ranges(3, 8), [0..1, 1..2, 2..3]);
        assert_eq!(super::ranges(10, 4), [0..3, 3..6, 6..9, 9..10]);
        assert_eq!(super::ranges(10, 1), vec![0..10]);
    }

    #[test]
    fn parts_join_in_order() {
        assert_eq!(super::concat::<u8>(Vec::new()), Vec::<u8>::new());
        assert_eq!(super::concat(vec![vec![1]]), vec![1]);
        assert_eq!(
            super::concat(vec![vec![], vec![1, 2], vec![], vec![3]]),
            vec![1, 2, 3]
        );
    }
}
