//! The `isaac` binary: see `isaac --help`.

fn main() -> std::process::ExitCode {
    isaac_host::cli::main()
}
