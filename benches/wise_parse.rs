//! WiseScript parse throughput on a generated ~50 MB script shaped like real ones: installs,
//! variables, If/End Block regions, remarks, flat and nested Edit Registry items, CRLF.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use svcscrub::detect::ScriptKind;
use svcscrub::model::wise::lower;
use svcscrub::syntax::wise;

const TARGET: usize = 50 * 1024 * 1024;

/// A deterministic script of about `target` bytes (xorshift picks the next item).
fn generate(target: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(target + 4096);
    out.extend_from_slice(b"Document Type: WSE\r\nitem: Global\r\n  Version=9.02\r\n  Title=Benchmark\r\n  Flags=00000100\r\nend\r\n");
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut depth = 0u32;
    let mut n = 0u64;
    while out.len() < target {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        n += 1;
        let item = match state % 20 {
            0..=5 => format!(
                "item: Install File\r\n  Source=C:\\build\\bin\\file{n}.dll\r\n  Destination=%MAINDIR%\\bin\\file{n}.dll\r\n  Description=Installing file {n}\r\n  Flags=0000000010000010\r\nend\r\n"
            ),
            6..=8 => format!(
                "item: Set Variable\r\n  Variable=VAR{n}\r\n  Value=%MAINDIR%\\sub {n}\r\n  Flags=00000100\r\nend\r\n"
            ),
            9 | 10 if depth < 8 => {
                depth += 1;
                format!(
                    "item: If/While Statement\r\n  Variable=VAR{n}\r\n  Value=1\r\n  Flags=00000010\r\nend\r\n"
                )
            }
            11 | 12 if depth > 0 => {
                depth -= 1;
                "item: End Block\r\nend\r\n".to_owned()
            }
            13 => format!(
                "item: Remark\r\n  Text=Step {n}: copy files = keep  \r\n  Text=\r\nend\r\n"
            ),
            14 | 15 => format!(
                "item: Edit Registry\r\n  Total Keys=1\r\n  Key=Software\\Vendor\\Product\\{n}\r\n  New Value=%MAINDIR%\r\n  New Value=\r\n  Value Name=Path\r\n  Root=2\r\nend\r\n"
            ),
            16 | 17 => format!(
                "item: Edit Registry\r\n  Total Keys=3\r\n  item: Key\r\n    Key=SYSTEM\\CurrentControlSet\\Services\\Svc{n}\r\n    New Value=16\r\n    Value Name=Type\r\n    Root=2\r\n    Data Type=3\r\n  end\r\n  item: Key\r\n    Key=SYSTEM\\CurrentControlSet\\Services\\Svc{n}\r\n    New Value=%MAINDIR%\\svc.exe\r\n    Value Name=ImagePath\r\n    Root=2\r\n    Data Type=1\r\n  end\r\n  item: Key\r\n    Key=SYSTEM\\CurrentControlSet\\Services\\Svc{n}\\Security\r\n    New Value=01 00 14 80 90 00 00 00 9c 00 00 00\r\n    Value Name=Security\r\n    Root=2\r\n    Data Type=4\r\n  end\r\nend\r\n"
            ),
            _ => format!(
                "remarked item: Display Message\r\n  Title=Note {n}\r\n  Text=Nothing\tto see\r\n  Flags=00100000\r\nend\r\n"
            ),
        };
        out.extend_from_slice(item.as_bytes());
    }
    for _ in 0..depth {
        out.extend_from_slice(b"item: End Block\r\nend\r\n");
    }
    out
}

fn bench(c: &mut Criterion) {
    let text = generate(TARGET);
    let mut group = c.benchmark_group("wise");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    group.bench_function("parse", |b| {
        b.iter(|| wise::parse(black_box(&text), ScriptKind::Wse).map(|d| d.items().len()))
    });
    group.bench_function("parse+lower", |b| {
        b.iter(|| {
            let doc = wise::parse(black_box(&text), ScriptKind::Wse).ok()?;
            Some(lower(&doc, &text).writes.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
