//! Parsing a ~50 MB regedit 5 export (UTF-16LE, CRLF), generated in memory: svcscrub's full
//! path (UTF-16 decoding with its round-trip check, then the lossless parse) against regashii
//! reading the same bytes from a file.
//!
//! Run: `cargo bench --bench reg_parse -- --warm-up-time 1 --measurement-time 5`

use std::hint::black_box;
use std::time::Instant;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use svcscrub::detect::RegVersion;
use svcscrub::source::SourceFile;
use svcscrub::syntax::reg;

/// Raw size to aim for, in bytes of UTF-16.
const TARGET_BYTES: usize = 50 * 1024 * 1024;

/// A small deterministic generator (xorshift), so every run parses the same file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Appends `"name"=hex(kind):…` wrapped the way regedit wraps it (lines of at most 80
/// characters ending in `,\`, continuation lines indented by two spaces).
fn push_hex(out: &mut String, name: &str, kind: &str, bytes: &[u8]) {
    let start = out.len();
    out.push_str(&format!("\"{name}\"={kind}:"));
    let mut line_len = out.len() - start;
    for (i, b) in bytes.iter().enumerate() {
        let last = i + 1 == bytes.len();
        out.push_str(&format!("{b:02x}"));
        line_len += 2;
        if !last {
            out.push(',');
            line_len += 1;
            if line_len > 76 {
                out.push_str("\\\r\n  ");
                line_len = 2;
            }
        }
    }
    out.push_str("\r\n");
}

fn utf16z(s: &str) -> Vec<u8> {
    let mut v: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
    v.extend([0, 0]);
    v
}

/// Generates the export text: service keys with strings, dwords, wrapped `hex(2)`, `hex(7)`
/// and binary values, subkeys, a `Security` descriptor, and a blank line before every key.
fn generate() -> String {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = String::with_capacity(TARGET_BYTES / 2 + 4096);
    out.push_str("Windows Registry Editor Version 5.00\r\n");
    let mut n = 0u64;
    while out.len() * 2 < TARGET_BYTES {
        n += 1;
        let svc = format!("Svc{n:06}");
        let base = format!("HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\{svc}");
        out.push_str(&format!("\r\n[{base}]\r\n"));
        out.push_str(&format!(
            "\"Type\"=dword:{:08x}\r\n",
            [1u64, 2, 16, 32][rng.below(4) as usize]
        ));
        out.push_str(&format!("\"Start\"=dword:{:08x}\r\n", rng.below(5)));
        out.push_str("\"ErrorControl\"=dword:00000001\r\n");
        let image = format!("%SystemRoot%\\System32\\drivers\\{svc}.sys");
        push_hex(&mut out, "ImagePath", "hex(2)", &utf16z(&image));
        out.push_str(&format!(
            "\"DisplayName\"=\"@%SystemRoot%\\\\system32\\\\{svc}.dll,-{}\"\r\n",
            rng.below(1000)
        ));
        out.push_str(&format!(
            "\"Description\"=\"Provides the \\\"{svc}\\\" feature ({}) for this computer.\"\r\n",
            rng.below(100_000)
        ));
        out.push_str("\"ObjectName\"=\"LocalSystem\"\r\n");
        let mut depends = Vec::new();
        for dep in ["RpcSs", "Tcpip", "Afd", "NSI"]
            .iter()
            .take(1 + rng.below(4) as usize)
        {
            depends.extend(dep.encode_utf16().flat_map(u16::to_le_bytes));
            depends.extend([0, 0]);
        }
        depends.extend([0, 0]);
        push_hex(&mut out, "DependOnService", "hex(7)", &depends);
        let failure: Vec<u8> = (0..44).map(|_| rng.below(256) as u8).collect();
        push_hex(&mut out, "FailureActions", "hex", &failure);
        out.push_str(&format!("\r\n[{base}\\Parameters]\r\n"));
        out.push_str(&format!(
            "\"ServiceDll\"=\"C:\\\\Windows\\\\System32\\\\{svc}.dll\"\r\n"
        ));
        out.push_str(&format!("\"Timeout\"=dword:{:08x}\r\n", rng.below(60_000)));
        if n % 3 == 0 {
            out.push_str(&format!("\r\n[{base}\\Security]\r\n"));
            let mut sd = vec![0x01, 0x00, 0x14, 0x80];
            sd.extend((0..140).map(|_| rng.below(256) as u8));
            push_hex(&mut out, "Security", "hex", &sd);
        }
    }
    out.push_str("\r\n");
    out
}

fn utf16_file(text: &str) -> Vec<u8> {
    let mut raw = vec![0xFF, 0xFE];
    raw.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    raw
}

/// svcscrub's whole path from raw bytes to a tree: decode (with the round-trip check) + parse.
fn svcscrub_parse(raw: Vec<u8>) -> usize {
    let source = SourceFile::new("bench.reg", raw).expect("valid UTF-16");
    let file = reg::parse(source.text(), RegVersion::Regedit5).expect("header");
    file.records.len()
}

fn mb_per_s(bytes: usize, seconds: f64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / seconds
}

fn bench(c: &mut Criterion) {
    let raw = utf16_file(&generate());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.reg");
    std::fs::write(&path, &raw).expect("write temp file");

    // One timed run of each first, so the ratio is printed even when criterion's own report
    // is filtered; criterion's throughput lines below are the measured figures.
    let copy = raw.clone();
    let t = Instant::now();
    let records = svcscrub_parse(copy);
    let ours = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let keys = regashii::Registry::deserialize_file(&path)
        .expect("regashii parses the export")
        .keys()
        .len();
    let theirs = t.elapsed().as_secs_f64();
    eprintln!(
        "input: {:.1} MB UTF-16, {records} records, {keys} keys; single run: svcscrub {:.0} MB/s, regashii {:.0} MB/s, {:.1}x",
        raw.len() as f64 / (1024.0 * 1024.0),
        mb_per_s(raw.len(), ours),
        mb_per_s(raw.len(), theirs),
        theirs / ours
    );

    let mut group = c.benchmark_group("reg_parse_50mb");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(raw.len() as u64));
    group.bench_function("svcscrub_decode_and_parse", |b| {
        b.iter_batched(
            || raw.clone(),
            |r| black_box(svcscrub_parse(r)),
            BatchSize::PerIteration,
        )
    });
    // The parse alone, from the decoded working text (where the decoding cost is not ours).
    let source = SourceFile::new("bench.reg", raw.clone()).expect("valid UTF-16");
    group.bench_function("svcscrub_parse_working_text", |b| {
        b.iter(|| {
            let file = reg::parse(black_box(source.text()), RegVersion::Regedit5).expect("header");
            black_box(file.records.len())
        })
    });
    group.bench_function("regashii_deserialize_file", |b| {
        b.iter(|| {
            let registry = regashii::Registry::deserialize_file(black_box(&path)).expect("parses");
            black_box(registry.keys().len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
