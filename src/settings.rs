//! (to be written) `svcscrub.toml` and command-line settings.
