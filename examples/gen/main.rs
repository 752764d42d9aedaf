//! Writes a large generated capture for benchmarks:
//!
//! ```sh
//! cargo run --release --example gen -- script 60 /tmp/big.ipf   # ~60 MB SMS Installer script
//! cargo run --release --example gen -- reg 100 /tmp/big.reg     # ~100 MB of text, UTF-16LE export
//! ```
//! An optional fourth argument sets the seed (default 1).

mod generate;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(kind), Some(megabytes), Some(path)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: gen script|reg MEGABYTES PATH [SEED]");
        return ExitCode::from(2);
    };
    let Ok(megabytes) = megabytes.parse::<f64>() else {
        eprintln!("error: MEGABYTES must be a number, got `{megabytes}`");
        return ExitCode::from(2);
    };
    let seed = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let target = (megabytes * 1_000_000.0) as usize;
    let bytes = match kind.as_str() {
        "script" => generate::script(target, seed),
        "reg" => generate::reg_export(target, seed),
        other => {
            eprintln!("error: unknown kind `{other}`; use `script` or `reg`");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = std::fs::write(path, &bytes) {
        eprintln!("error: {path}: {e}");
        return ExitCode::from(2);
    }
    println!("wrote {} bytes to {path}", bytes.len());
    ExitCode::SUCCESS
}
