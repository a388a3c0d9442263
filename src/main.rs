//! The `wheelforge` command. All terminal output lives in `cli`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
