//! Whether a terminal shows colour as the ANSI escape sequences the reports use.
//!
//! On Windows the console interprets them only with virtual terminal processing switched on.
//! Windows Terminal (and VS Code's terminal) has it on; a console window of Windows 10 or later
//! has it off until the program asks, which [`ansi_colors`] does. Where it cannot be switched
//! on (an older console), there is no colour rather than escape sequences shown as text.
//! Elsewhere a terminal always interprets them.

/// The standard stream a report goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Whether `stream`, a terminal, shows ANSI colour (switching it on where it must be).
pub fn ansi_colors(stream: Stream) -> bool {
    #[cfg(windows)]
    {
        use windows_sys::Win32::System::Console::{
            ENABLE_VIRTUAL_TERMINAL_PROCESSING, GetConsoleMode, GetStdHandle, STD_ERROR_HANDLE,
            STD_OUTPUT_HANDLE, SetConsoleMode,
        };
        let which = match stream {
            Stream::Stdout => STD_OUTPUT_HANDLE,
            Stream::Stderr => STD_ERROR_HANDLE,
        };
        // SAFETY: GetStdHandle has no preconditions; the handle is the process's own console
        // handle (or invalid, which the mode calls report as a failure), and `mode` is a valid
        // place for GetConsoleMode to write.
        unsafe {
            let handle = GetStdHandle(which);
            let mut mode = 0;
            if GetConsoleMode(handle, &mut mode) == 0 {
                // Not a console (a pipe or a terminal emulator's pty): nothing to switch.
                return true;
            }
            mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING != 0
                || SetConsoleMode(handle, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0
        }
    }
    #[cfg(not(windows))]
    {
        let _ = stream;
        true
    }
}
