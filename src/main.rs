fn main() -> std::process::ExitCode {
    svcscrub::cli::main()
}
