use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = migration_gate::cli::Cli::parse();
    // Deeply nested input (10,000 parentheses) recurses deeply in parsers and in drop glue.
    rayon::ThreadPoolBuilder::new()
        .stack_size(64 * 1024 * 1024)
        .build_global()
        .ok();
    let worker = std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(move || migration_gate::commands::run(cli));
    let result = match worker.map(|handle| handle.join()) {
        Ok(Ok(result)) => result,
        _ => Err(migration_gate::commands::AppError(
            "internal error: the check stopped unexpectedly".into(),
        )),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(migration_gate::commands::EXIT_ERROR)
        }
    }
}
