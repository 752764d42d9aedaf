//! Writes large generated captures for benchmarks (`BENCHMARKS.md`):
//!
//! ```sh
//! cargo run --release --example gen -- script 60 /tmp/big.ipf      # ~60 MB SMS Installer script, ~1% service state
//! cargo run --release --example gen -- findings 30 /tmp/many.ipf   # ~30 MB, 40% service state: ~106 000 findings
//! cargo run --release --example gen -- reg 100 /tmp/big.reg        # ~100 MB regedit 5 export (UTF-16LE, 50 MB of text)
//! cargo run --release --example gen -- packages 2000 /tmp/pkgs     # 2000 package directories (setup.ipf + capture.reg)
//! cargo run --release --example gen -- findings-reg 100 /tmp/f.reg # ~100 MB export, half its key blocks services'
//! cargo run --release --example gen -- services 60 /tmp/svc        # package: Create Service script + export of the services
//! cargo run --release --example gen -- items 100 /tmp/i.ipf examples/norton-antivirus/setup.ipf
//!                                                                   # a real script's items repeated
//! ```
//! Sizes are in MB (10^6 bytes) of the written file (of both files for `services`). An
//! optional fourth argument sets the seed (default 1); the output is the same for the same
//! arguments. `items` takes the scripts whose items it repeats instead (read when it runs:
//! scripts from elsewhere are never copied into the project).

mod generate;

use std::path::Path;
use std::process::ExitCode;

/// Writes `count` package directories `pkg00000`… under `dir`: a ~8 KB `setup.ipf` each, and
/// a small UTF-16 `capture.reg` in every other one.
fn packages(dir: &Path, count: u64, seed: u64) -> std::io::Result<usize> {
    let mut bytes = 0;
    for i in 0..count {
        let package = dir.join(format!("pkg{i:05}"));
        std::fs::create_dir_all(&package)?;
        let script = generate::script(8_000, seed.wrapping_add(i));
        bytes += script.len();
        std::fs::write(package.join("setup.ipf"), script)?;
        if i % 2 == 0 {
            let export = generate::reg_export(2_000, seed.wrapping_add(i).wrapping_add(7));
            bytes += export.len();
            std::fs::write(package.join("capture.reg"), export)?;
        }
    }
    Ok(bytes)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(kind), Some(size), Some(path)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: gen script|findings|reg|findings-reg MEGABYTES PATH [SEED]");
        eprintln!("       gen services MEGABYTES DIR [SEED]");
        eprintln!("       gen items MEGABYTES PATH SCRIPT...");
        eprintln!("       gen packages COUNT DIR [SEED]");
        return ExitCode::from(2);
    };
    let Ok(size) = size.parse::<f64>() else {
        eprintln!("error: the size must be a number, got `{size}`");
        return ExitCode::from(2);
    };
    let seed = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let target = (size * 1_000_000.0) as usize;
    let bytes = match kind.as_str() {
        "script" => generate::script(target, seed),
        "findings" => generate::findings_script(target, seed),
        // The text is half the size of its UTF-16 encoding.
        "reg" => generate::reg_export(target / 2, seed),
        "findings-reg" => generate::findings_reg_export(target / 2, seed),
        "items" => {
            let mut sources = Vec::new();
            for source in &args[3..] {
                match std::fs::read(source) {
                    Ok(bytes) => sources.push(bytes),
                    Err(e) => {
                        eprintln!("error: {source}: {e}");
                        return ExitCode::from(2);
                    }
                }
            }
            match generate::repeated_items(target, &sources) {
                Some(bytes) => bytes,
                None => {
                    eprintln!("error: name scripts with an `item: Global` to repeat the items of");
                    return ExitCode::from(2);
                }
            }
        }
        "services" => {
            let (script, export) = generate::service_package(target, seed);
            let dir = Path::new(path);
            let written = std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(dir.join("setup.ipf"), &script))
                .and_then(|()| std::fs::write(dir.join("capture.reg"), &export));
            return match written {
                Ok(()) => {
                    println!(
                        "wrote {} + {} bytes under {path}",
                        script.len(),
                        export.len()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {path}: {e}");
                    ExitCode::from(2)
                }
            };
        }
        "packages" => {
            return match packages(Path::new(path), size as u64, seed) {
                Ok(bytes) => {
                    println!(
                        "wrote {} packages ({bytes} bytes) under {path}",
                        size as u64
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {path}: {e}");
                    ExitCode::from(2)
                }
            };
        }
        other => {
            eprintln!(
                "error: unknown kind `{other}`; use script, findings, reg, findings-reg, services, items or packages"
            );
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
