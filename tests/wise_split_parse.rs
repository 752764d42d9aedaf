//! A large script is parsed in pieces on the rayon pool: the tree must equal the one-piece
//! parse exactly (items with their regions, properties, blank lines), and a broken script
//! must give exactly the one-piece error wherever the break is.

use svcscrub::detect::ScriptKind;
use svcscrub::syntax::wise::{self, Document};

/// A script of about `target` bytes: control-flow regions that stay open across many items
/// (so regions span the cut points), nested and flat Edit Registry items, remarked items,
/// blank lines, Display Message items that open regions by their flags.
fn script(target: usize) -> Vec<u8> {
    let mut out = b"Document Type: WSE\r\nitem: Global\r\n  Version=9.0\r\nend\r\n".to_vec();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut depth = 0;
    let mut n = 0u64;
    while out.len() < target {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        n += 1;
        let item = match x % 16 {
            0 if depth < 6 => {
                depth += 1;
                format!("item: If/While Statement\r\n  Variable=V{n}\r\n  Value=1\r\nend\r\n")
            }
            1 if depth > 0 => {
                depth -= 1;
                "item: End Block\r\nend\r\n".to_owned()
            }
            2 => "item: Else Statement\r\nend\r\n".to_owned(),
            3 => format!(
                "item: Display Message\r\n  Title=T{n}\r\n  Flags=0000010{}\r\nend\r\n",
                n % 2
            ),
            4 => format!(
                "remarked item: Edit Registry\r\n  Total Keys=1\r\n  Key=SOFTWARE\\R{n}\r\n  Root=2\r\nend\r\n"
            ),
            5 => "\r\n  \r\n".to_owned(),
            6..=9 => format!(
                "item: Edit Registry\r\n  Total Keys=2\r\n  item: Key\r\n    Key=SYSTEM\\CurrentControlSet\\Services\\S{n}\r\n    New Value=1\r\n    Value Name=Start\r\n    Root=2\r\n  end\r\n  remarked item: Key\r\n    Key=SOFTWARE\\K{n}\r\n    Root=2\r\n  end\r\nend\r\n"
            ),
            _ => format!(
                "item: Install File\r\n  Source=C:\\src\\f{n}.dll\r\n  Destination=%MAINDIR%\\f{n}.dll\r\nend\r\n"
            ),
        };
        out.extend_from_slice(item.as_bytes());
    }
    out
}

fn parse_with(threads: usize, text: &[u8]) -> Result<Document, (usize, String)> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| wise::parse(text, ScriptKind::Wse))
        .map_err(|e| (e.offset, e.message))
}

fn same_tree(a: &Document, b: &Document) {
    assert_eq!(a.header, b.header);
    assert_eq!(a.items().len(), b.items().len());
    assert!(a.items() == b.items(), "items differ");
    for i in 0..a.items().len() as u32 {
        assert!(
            a.props_of(i).eq(b.props_of(i)),
            "properties of item {i} differ"
        );
    }
    assert_eq!(a.blank_lines(), b.blank_lines());
    assert_eq!(a.text_len(), b.text_len());
}

#[test]
fn pieces_join_into_the_one_piece_tree() {
    let text = script(5 << 20);
    let one = parse_with(1, &text).unwrap();
    assert!((0..one.items().len() as u32).any(|i| one.block(i) > 0));
    for threads in [2, 3, 8] {
        same_tree(&one, &parse_with(threads, &text).unwrap());
    }
}

#[test]
fn errors_are_those_of_the_one_piece_parse() {
    let text = script(9 << 19);
    // Breaks just before and after the cut points a 2- or 3-thread parse picks, and elsewhere.
    let item_starts: Vec<usize> = memchr::memmem::find_iter(&text, b"\nitem: ")
        .map(|i| i + 1)
        .collect();
    let near = |at: usize| item_starts.partition_point(|&s| s < at);
    let mut positions = Vec::new();
    for share in [text.len() / 3, text.len() / 2] {
        let k = near(share).min(item_starts.len() - 1);
        positions.extend([item_starts[k.saturating_sub(1)], item_starts[k]]);
    }
    positions.push(*item_starts.last().unwrap());
    let breaks: [&[u8]; 5] = [
        // An item head without its `end`.
        b"item: Remark\r\n",
        b"garbage line\r\n",
        b"  Orphan=1\r\n",
        b"end\r\n",
        b"   item: Odd\r\nend\r\n",
    ];
    for &at in &positions {
        for (b, insert) in breaks.iter().enumerate() {
            let mut broken = text[..at].to_vec();
            broken.extend_from_slice(insert);
            broken.extend_from_slice(&text[at..]);
            let one = parse_with(1, &broken).map(|_| ());
            assert!(one.is_err(), "break {b} at {at} parses");
            for threads in [2, 3] {
                assert_eq!(
                    parse_with(threads, &broken).map(|_| ()),
                    one,
                    "break {b} at {at}"
                );
            }
        }
    }
}
