//! Running third-party code that may panic on malformed input (the `msi` crate unwraps values
//! of a database's system tables) without a panic message: the file gets its one-line error,
//! and nothing else is printed.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// A guarded call is running on this thread: its panics are expected and silent.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

static HOOK: Once = Once::new();

/// Runs `work`; a panic inside it is caught and printed nowhere. Panics elsewhere (on other
/// threads, or outside a `catch`) still reach the hook that was installed before.
pub fn catch<T>(work: impl FnOnce() -> T) -> Result<T, ()> {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let outcome = panic::catch_unwind(AssertUnwindSafe(work));
    QUIET.with(|q| q.set(was));
    outcome.map_err(|_| ())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_inside_becomes_an_error() {
        assert_eq!(super::catch(|| 7), Ok(7));
        let v: Vec<u8> = Vec::new();
        assert_eq!(super::catch(|| v[3]), Err(()));
        // The flag is reset: the next call runs normally.
        assert_eq!(super::catch(|| "ok"), Ok("ok"));
    }
}
