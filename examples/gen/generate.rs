//! Generators of large, realistic captures for benchmarks and scaling tests.
//!
//! Shared by `cargo run --example gen` and the criterion benchmarks (`#[path]`-included), so
//! every measurement uses the same shapes. Output is deterministic for a given size and seed.

#![allow(dead_code)]

/// A small deterministic generator (xorshift64*): reproducible inputs without a crate.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "Acme",
    "Viewer",
    "Shared",
    "Common",
    "Plugins",
    "Data",
    "Help",
    "Lang",
    "Update",
    "Tools",
    "Client",
    "Agent",
    "Core",
    "Modules",
    "Templates",
    "Samples",
    "Fonts",
    "Drivers",
];

fn word(rng: &mut Rng) -> &'static str {
    WORDS[rng.below(WORDS.len() as u64) as usize]
}

/// A WiseScript / SMS Installer capture of about `target` bytes, CRLF, 8-bit: Install File
/// items, Set Variable, If/End Block regions, flat and nested Edit Registry items, and about
/// 1% service state (a Create Service item and the captured Services, Enum, LEGACY_ and
/// ControlSet001 writes a repackager records for it).
pub fn script(target: usize, seed: u64) -> Vec<u8> {
    script_with(target, seed, 1)
}

/// A capture like [`script`] where about `service_percent`% of the items are service state:
/// `findings_script` (40%) gives about one finding per 280 bytes, 106 000 findings in 30 MB.
pub fn findings_script(target: usize, seed: u64) -> Vec<u8> {
    script_with(target, seed, 40)
}

/// [`script`] with about `service_percent`% service state instead of 1%.
pub fn script_with(target: usize, seed: u64, service_percent: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(target + 4096);
    out.push_str("Document Type: IPF\r\nitem: Global\r\n  Version=6.0\r\n  Title English=Generated capture\r\n  Variable Name1=_SYS_\r\n  Variable Default1=C:\\WINNT\\System32\r\nend\r\n");
    let mut n = 0u64;
    while out.len() < target {
        n += 1;
        let pick = rng.below(100);
        if pick < service_percent {
            service_state(&mut out, n, &mut rng);
            continue;
        }
        match pick {
            0..=45 => {
                let (a, b) = (word(&mut rng), word(&mut rng));
                out.push_str(&format!(
                    "item: Install File\r\n  Source=C:\\capture\\{a}\\{b}{n}.dll\r\n  Destination=%MAINDIR%\\{a}\\{b}{n}.dll\r\n  Flags=0000000000000010\r\nend\r\n"
                ));
            }
            46..=55 => out.push_str(&format!(
                "item: Set Variable\r\n  Variable=V{n}\r\n  Value=%MAINDIR%\\{}\r\nend\r\n",
                word(&mut rng)
            )),
            56..=60 => out.push_str(&format!(
                "item: If/While Statement\r\n  Variable=V{}\r\n  Value=A\r\nend\r\nitem: Remark\r\n  Text=branch {n}\r\nend\r\nitem: End Block\r\nend\r\n",
                rng.below(n)
            )),
            61..=80 => {
                let (a, b) = (word(&mut rng), word(&mut rng));
                out.push_str(&format!(
                    "item: Edit Registry\r\n  Total Keys=1\r\n  Key=SOFTWARE\\{a}\\{b}\\{n}\r\n  New Value=%MAINDIR%\\{b}.exe\r\n  Value Name=Path\r\n  Root=2\r\nend\r\n"
                ));
            }
            _ => {
                let keys = 2 + rng.below(6);
                out.push_str(&format!("item: Edit Registry\r\n  Total Keys={keys}\r\n"));
                for i in 0..keys {
                    out.push_str(&format!(
                        "  item: Key\r\n    Key=SOFTWARE\\Classes\\{}.Doc{n}\\shell\\{i}\r\n    New Value={}\r\n    Value Name=Cmd{i}\r\n    Root=2\r\n  end\r\n",
                        word(&mut rng),
                        rng.below(100_000)
                    ));
                }
                out.push_str("end\r\n");
            }
        }
    }
    out.into_bytes()
}

fn service_state(out: &mut String, n: u64, rng: &mut Rng) {
    let name = format!("Svc{n}");
    let ccs = "SYSTEM\\CurrentControlSet";
    out.push_str(&format!(
        "item: Create Service\r\n  Service Name={name}\r\n  Executable Path=%MAINDIR%\\{name}.exe\r\n  Service Type=16\r\n  Boot Type=2\r\n  Error Type=0\r\n  Display Name English={name} Service\r\nend\r\n"
    ));
    let key = |k: &str, value: &str, vname: &str, dtype: u32| {
        let dt = if dtype == 0 {
            String::new()
        } else {
            format!("    Data Type={dtype}\r\n")
        };
        format!(
            "  item: Key\r\n    Key={k}\r\n    New Value={value}\r\n    Value Name={vname}\r\n    Root=2\r\n{dt}  end\r\n"
        )
    };
    let keys = [
        key(&format!("{ccs}\\Services\\{name}"), "16", "Type", 3),
        key(&format!("{ccs}\\Services\\{name}"), "2", "Start", 3),
        key(
            &format!("{ccs}\\Services\\{name}"),
            &format!("{} Service", name),
            "DisplayName",
            0,
        ),
        key(
            &format!("{ccs}\\Services\\{name}"),
            "Generated service",
            "Description",
            0,
        ),
        key(
            &format!("{ccs}\\Services\\{name}\\Parameters"),
            &rng.below(10).to_string(),
            "Level",
            3,
        ),
        key(
            &format!("{ccs}\\Services\\{name}\\Security"),
            "01001480900000009C0000001400000030000000",
            "Security",
            4,
        ),
        key(&format!("{ccs}\\Services\\{name}\\Enum"), "1", "Count", 3),
        key(
            &format!("{ccs}\\Enum\\Root\\LEGACY_{}\\0000", name.to_uppercase()),
            &name,
            "Service",
            0,
        ),
        key(
            &format!("SYSTEM\\ControlSet001\\Services\\{name}\\Parameters"),
            "3",
            "Level",
            3,
        ),
    ];
    out.push_str(&format!(
        "item: Edit Registry\r\n  Total Keys={}\r\n",
        keys.len()
    ));
    for k in keys {
        out.push_str(&k);
    }
    out.push_str("end\r\n");
}

/// A regedit 5 export of about `target` bytes of text, UTF-16LE with BOM and CRLF, as regedit
/// writes it (blank line before every key, hex data wrapped at 80 columns, final empty line):
/// software keys, services with Parameters/Security/Enum subkeys, and `ControlSet001` copies.
pub fn reg_export(target: usize, seed: u64) -> Vec<u8> {
    utf16le_with_bom(&reg_text(target, seed))
}

/// A regedit 5 export like [`reg_export`] where every other key block is a service's (about
/// 90% of the text is service state, nearly every line a finding).
pub fn findings_reg_export(target: usize, seed: u64) -> Vec<u8> {
    utf16le_with_bom(&reg_text_with(target, seed, 2))
}

/// `text` as UTF-16LE with a byte-order mark.
pub fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2 + 2);
    out.extend_from_slice(&[0xFF, 0xFE]);
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

/// The text of [`reg_export`] (before UTF-16 encoding).
pub fn reg_text(target: usize, seed: u64) -> String {
    reg_text_with(target, seed, 50)
}

/// [`reg_text`] with a service in one key block out of `one_in` (on average) instead of 50.
pub fn reg_text_with(target: usize, seed: u64, one_in: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(target + 4096);
    out.push_str("Windows Registry Editor Version 5.00\r\n");
    let mut n = 0u64;
    while out.len() < target {
        n += 1;
        if rng.below(one_in) == 0 {
            let set = if rng.below(2) == 0 {
                "CurrentControlSet"
            } else {
                "ControlSet001"
            };
            reg_service(&mut out, set, n, &mut rng);
        } else {
            let (a, b) = (word(&mut rng), word(&mut rng));
            out.push_str(&format!(
                "\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\{a}\\{b}\\{n}]\r\n@=\"{b} {n}\"\r\n\"InstallDir\"=\"C:\\\\Program Files\\\\{a}\\\\{b}\"\r\n\"Version\"=dword:{:08x}\r\n",
                rng.next() as u32
            ));
            if rng.below(4) == 0 {
                out.push_str("\"Options\"=");
                let bytes: Vec<u8> = (0..(20 + rng.below(60)))
                    .map(|_| rng.next() as u8)
                    .collect();
                out.push_str(&wrap_hex("\"Options\"=hex:", &bytes));
            }
        }
    }
    out.push_str("\r\n");
    out
}

/// The key blocks regedit exports for service `Svc{n}` under `SYSTEM\\<set>`: the service key
/// with its usual values, its Parameters, Security and Enum subkeys.
fn reg_service(out: &mut String, set: &str, n: u64, rng: &mut Rng) {
    let base = format!("HKEY_LOCAL_MACHINE\\SYSTEM\\{set}\\Services\\Svc{n}");
    out.push_str(&format!("\r\n[{base}]\r\n\"Type\"=dword:00000010\r\n\"Start\"=dword:00000002\r\n\"ErrorControl\"=dword:00000001\r\n"));
    out.push_str("\"ImagePath\"=");
    out.push_str(&wrap_hex(
        "\"ImagePath\"=hex(2):",
        &utf16_hex(&format!("%SystemRoot%\\System32\\svc{n}.exe")),
    ));
    out.push_str(&format!("\"DisplayName\"=\"Generated service {n}\"\r\n"));
    out.push_str(&format!(
        "\r\n[{base}\\Parameters]\r\n\"Level\"=dword:0000000{}\r\n",
        rng.below(9)
    ));
    out.push_str(&format!("\r\n[{base}\\Security]\r\n\"Security\"="));
    let sd: Vec<u8> = (0..120).map(|i| (i * 7 + n as usize) as u8).collect();
    out.push_str(&wrap_hex("\"Security\"=hex:", &sd));
    out.push_str(&format!("\r\n[{base}\\Enum]\r\n\"0\"=\"Root\\\\LEGACY_SVC{n}\\\\0000\"\r\n\"Count\"=dword:00000001\r\n\"NextInstance\"=dword:00000001\r\n"));
}

/// A Create-Service-dense package of about `target` bytes in all: a script (about a third of
/// the bytes) whose every item is a `Create Service` with the writes a repackager captured for
/// it, and a regedit 5 export (UTF-16LE) of those services' keys, so the rules check every
/// write of the export against the script's services. Returns (script, export).
pub fn service_package(target: usize, seed: u64) -> (Vec<u8>, Vec<u8>) {
    let script = script_with(target / 3, seed, 100);
    let mut rng = Rng::new(seed.wrapping_add(1));
    let mut text = String::with_capacity(target / 3 + 4096);
    text.push_str("Windows Registry Editor Version 5.00\r\n");
    // The script's services are `Svc<n>`.
    let numbers: Vec<u64> = script
        .split(|&b| b == b'\n')
        .filter_map(|line| line.strip_prefix(b"  Service Name=Svc"))
        .filter_map(|n| std::str::from_utf8(n.trim_ascii_end()).ok()?.parse().ok())
        .collect();
    for &n in numbers.iter().cycle() {
        if text.len() >= target / 3 {
            break;
        }
        reg_service(&mut text, "CurrentControlSet", n, &mut rng);
    }
    text.push_str("\r\n");
    (script, utf16le_with_bom(&text))
}

/// A script of about `target` bytes made of real scripts' items repeated: the header of the
/// first (its `Document Type` line and `item: Global`), then the top-level items after the
/// Global item of every script in `sources`, in order, again and again. Every item kind and
/// every Create Service of the sources comes back thousands of times, with the same names.
/// `None` if a source has no Global item.
pub fn repeated_items(target: usize, sources: &[Vec<u8>]) -> Option<Vec<u8>> {
    let (first, _) = sources.first().map(|s| split_header(s))??;
    let mut bodies = Vec::new();
    for source in sources {
        let (_, body) = split_header(source)?;
        let mut body = body.to_vec();
        if !body.is_empty() && !body.ends_with(b"\n") {
            body.extend_from_slice(b"\r\n");
        }
        bodies.push(body);
    }
    let mut out = Vec::with_capacity(target + 65536);
    out.extend_from_slice(first);
    if bodies.iter().all(|b| b.is_empty()) {
        return Some(out);
    }
    while out.len() < target {
        for body in &bodies {
            out.extend_from_slice(body);
        }
    }
    Some(out)
}

/// A script's header (up to the end of its `item: Global`) and the rest.
fn split_header(script: &[u8]) -> Option<(&[u8], &[u8])> {
    let global = find(script, b"item: Global")?;
    let mut at = global;
    loop {
        let eol = at + script[at..].iter().position(|&b| b == b'\n')? + 1;
        let next = &script[eol..];
        if next.starts_with(b"end\r\n") || next.starts_with(b"end\n") {
            let end = eol + next.iter().position(|&b| b == b'\n')? + 1;
            return Some(script.split_at(end));
        }
        at = eol;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn utf16_hex(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain(std::iter::once(0))
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// Hex bytes as regedit writes them: `prefix` already emitted on the line, wrapped so that no
/// line exceeds 80 columns, continuation lines indented by two spaces.
fn wrap_hex(prefix: &str, bytes: &[u8]) -> String {
    let kind = &prefix[prefix.find('=').map_or(0, |i| i + 1)..];
    let mut out = String::from(kind);
    let mut column = prefix.len();
    for (i, b) in bytes.iter().enumerate() {
        let last = i + 1 == bytes.len();
        let piece = if last {
            format!("{b:02x}")
        } else {
            format!("{b:02x},")
        };
        if column + piece.len() > 77 && !last {
            out.push_str("\\\r\n  ");
            column = 2;
        }
        out.push_str(&piece);
        column += piece.len();
    }
    out.push_str("\r\n");
    out
}
