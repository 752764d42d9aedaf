//! Joining the results of work done in pieces on the pool.

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
