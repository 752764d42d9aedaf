//! Work done in pieces on the pool: how many pieces, and joining their results.

/// Below this many bytes of text a file is parsed in one piece: smaller files gain less than
/// handing work to the pool costs, and a package's files are checked in parallel anyway.
pub(crate) const SPLIT_FROM: usize = 4 << 20;

/// How many pieces to parse a text of `len` bytes in on the current pool: `None` for one (a
/// small text, or a pool of one thread), else a few per thread, since equal lengths are not
/// equal work and a thread that finishes early takes another.
pub(crate) fn count_for(len: usize) -> Option<usize> {
    let threads = rayon::current_num_threads().min(64);
    (len >= SPLIT_FROM && threads >= 2).then_some(threads * 4)
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
    fn parts_join_in_order() {
        assert_eq!(super::concat::<u8>(Vec::new()), Vec::<u8>::new());
        assert_eq!(super::concat(vec![vec![1]]), vec![1]);
        assert_eq!(
            super::concat(vec![vec![], vec![1, 2], vec![], vec![3]]),
            vec![1, 2, 3]
        );
    }
}
