//! Generated scripts: the parse is lossless, its ranges nest, its structure is the generated
//! one, and planned removals give text that parses again. Arbitrary line soup never panics.

use proptest::prelude::*;
use svcscrub::detect::ScriptKind;
use svcscrub::fix::{Change, apply_edits, wise::plan};
use svcscrub::model::wise::lower;
use svcscrub::syntax::wise::{self, Document, Prefix, RegistryForm};
use svcscrub::text::TextRange;

#[derive(Clone, Debug)]
struct Node {
    prefix: u8,
    name: String,
    props: Vec<(String, String)>,
    children: Vec<Node>,
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Edit Registry".to_owned()),
        Just("Key".to_owned()),
        Just("Create Service".to_owned()),
        Just("If/While Statement".to_owned()),
        Just("End Block".to_owned()),
        "[A-Za-z/ ]{0,12}",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Key".to_owned()),
        Just("New Value".to_owned()),
        Just("Value Name".to_owned()),
        Just("Root".to_owned()),
        Just("Total Keys".to_owned()),
        Just("Data Type".to_owned()),
        "[A-Za-z][A-Za-z0-9 ]{0,8}",
        // Longer than a line record holds (61).
        "[A-Za-z][A-Za-z0-9 ]{58,66}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("2".to_owned()),
        Just("130".to_owned()),
        Just(" ".to_owned()),
        "[ \t=a-zA-Z0-9%\\\\]{0,10}",
        // Around the longest line a line record holds (511 bytes).
        "[ =a-z]{490,520}",
    ]
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = (
        0u8..3,
        name(),
        prop::collection::vec((key(), value()), 0..5),
    )
        .prop_map(|(prefix, name, props)| Node {
            prefix,
            name,
            props,
            children: Vec::new(),
        });
    leaf.prop_recursive(4, 48, 5, |inner| {
        (
            0u8..3,
            name(),
            prop::collection::vec((key(), value()), 0..4),
            prop::collection::vec(inner, 0..5),
        )
            .prop_map(|(prefix, name, props, children)| Node {
                prefix,
                name,
                props,
                children,
            })
    })
}

/// How lines end and where blank lines go, cycled over the generated lines.
#[derive(Clone, Debug)]
struct Layout {
    crlf: Vec<bool>,
    blanks: Vec<u8>,
    final_eol: bool,
    trailing_blanks: u8,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        prop::collection::vec(any::<bool>(), 1..8),
        prop::collection::vec(0u8..10, 1..8),
        any::<bool>(),
        0u8..3,
    )
        .prop_map(|(crlf, blanks, final_eol, trailing_blanks)| Layout {
            crlf,
            blanks,
            final_eol,
            trailing_blanks,
        })
}

struct Writer<'l> {
    out: Vec<u8>,
    layout: &'l Layout,
    line: usize,
}

impl Writer<'_> {
    fn line(&mut self, content: &str) {
        let l = self.layout;
        let eol: &[u8] = if l.crlf[self.line % l.crlf.len()] {
            b"\r\n"
        } else {
            b"\n"
        };
        self.out.extend_from_slice(content.as_bytes());
        self.out.extend_from_slice(eol);
        match l.blanks[self.line % l.blanks.len()] {
            0 => self.out.extend_from_slice(eol),
            1 => {
                self.out.extend_from_slice(b"  ");
                self.out.extend_from_slice(eol);
            }
            2 => {
                // Longer than a line record holds.
                self.out.extend(std::iter::repeat_n(b' ', 515));
                self.out.extend_from_slice(b"\t");
                self.out.extend_from_slice(eol);
            }
            _ => {}
        }
        self.line += 1;
    }
}

/// Renders the forest; also returns (name, depth, prefix) of each item in preorder.
fn render(nodes: &[Node], layout: &Layout) -> (Vec<u8>, Vec<(String, u32, u8)>) {
    let mut w = Writer {
        out: Vec::new(),
        layout,
        line: 0,
    };
    w.line("Document Type: WSE");
    let mut outline = Vec::new();
    // Explicit stack: (node, depth, next child, header written).
    let mut stack: Vec<(&Node, usize, usize, bool)> =
        nodes.iter().rev().map(|n| (n, 0, 0, false)).collect();
    while let Some((n, depth, child, started)) = stack.pop() {
        let pad = " ".repeat(2 * depth);
        if !started {
            let prefix = ["", "remarked ", "breakpoint "][n.prefix as usize];
            w.line(&format!("{pad}{prefix}item: {}", n.name));
            outline.push((n.name.clone(), depth as u32, n.prefix));
            for (k, v) in &n.props {
                w.line(&format!("{pad}  {k}={v}"));
            }
        }
        if let Some(c) = n.children.get(child) {
            stack.push((n, depth, child + 1, true));
            stack.push((c, depth + 1, 0, false));
        } else {
            w.line(&format!("{pad}end"));
        }
    }
    for i in 0..layout.trailing_blanks {
        w.line(if i % 2 == 0 { "" } else { "  " });
    }
    let mut out = w.out;
    if !layout.final_eol {
        if out.ends_with(b"\r\n") {
            out.truncate(out.len() - 2);
        } else if out.ends_with(b"\n") {
            out.truncate(out.len() - 1);
        }
    }
    (out, outline)
}

/// Every range lies inside its parent, in order, without overlaps.
fn check_ranges(doc: &Document, text: &[u8]) {
    let inside = |outer: TextRange, inner: TextRange| outer.contains_range(inner);
    let mut last_top = doc.header.end;
    for top in doc.top_level() {
        let r = doc.item(top).unwrap().range();
        assert!(r.start >= last_top);
        last_top = r.end;
    }
    assert!(last_top <= text.len());
    for (i, item) in doc.items().iter().enumerate() {
        let i = i as u32;
        assert_eq!(item.range().start, item.head().start);
        assert_eq!(item.range().end, item.end_line().end);
        assert!(inside(item.head(), item.name()) && inside(item.head(), item.prefix_range()));
        assert!(item.head().end <= item.end_line().start);
        let body = TextRange::new(item.head().end, item.end_line().start);
        // Properties and children, merged in file order, must not overlap.
        let mut spans: Vec<TextRange> = doc.props_of(i).map(|p| p.line()).collect();
        spans.extend(doc.children(i).map(|c| doc.item(c).unwrap().range()));
        spans.sort();
        let mut pos = body.start;
        for s in spans {
            assert!(
                inside(body, s) && s.start >= pos,
                "item {i}: {s:?} in {body:?}"
            );
            pos = s.end;
        }
        for p in doc.props_of(i) {
            assert!(inside(p.line(), p.key()) && inside(p.line(), p.value()));
            assert_eq!(p.key().end + 1, p.value().start);
            assert_eq!(text[p.key().end], b'=');
            assert!(!text[p.key().as_range()].contains(&b'='));
        }
        for c in doc.children(i) {
            assert_eq!(doc.item(c).unwrap().parent(), Some(i));
            assert_eq!(doc.item(c).unwrap().depth(), item.depth() + 1);
        }
    }
}

/// No Edit Registry inside another, and nested ones hold only `Total Keys` themselves.
fn well_formed(doc: &Document, text: &[u8]) -> bool {
    (0..doc.items().len() as u32).all(|i| {
        let Some(er) = doc.edit_registry(text, i) else {
            return true;
        };
        let mut up = doc.item(i).unwrap().parent();
        while let Some(p) = up {
            if doc.edit_registry(text, p).is_some() {
                return false;
            }
            up = doc.item(p).unwrap().parent();
        }
        er.form != RegistryForm::Nested || doc.props_of(i).all(|p| p.key_is(text, "Total Keys"))
    })
}

proptest! {
    #[test]
    fn generated_scripts_round_trip(
        nodes in prop::collection::vec(node(), 0..8),
        layout in layout(),
        remove_mask in any::<u64>(),
    ) {
        let (text, outline) = render(&nodes, &layout);
        let doc = wise::parse(&text, ScriptKind::Wse)
            .unwrap_or_else(|e| panic!("{} at {}", e.message, e.offset));
        prop_assert_eq!(doc.print(&text), text.clone());
        let got: Vec<(String, u32, u8)> = doc
            .items()
            .iter()
            .map(|i| {
                let prefix = match i.prefix() {
                    Prefix::None => 0,
                    Prefix::Remarked => 1,
                    Prefix::Breakpoint => 2,
                };
                (String::from_utf8(text[i.name().as_range()].to_vec()).unwrap(), i.depth(), prefix)
            })
            .collect();
        prop_assert_eq!(got, outline);
        check_ranges(&doc, &text);

        // Removing any subset of the writes gives a script that parses again.
        let model = lower(&doc, &text, svcscrub::model::Charset::Ansi);
        let changes: Vec<Change> = model
            .writes()
            .enumerate()
            .filter(|(i, _)| remove_mask >> (i % 64) & 1 == 1)
            .map(|(_, w)| Change::RemoveWrite(w.origin))
            .collect();
        let edits = plan(&doc, &text, &changes);
        let out = apply_edits(&text, &edits).expect("edits are disjoint");
        let again = wise::parse(&out, ScriptKind::Wse)
            .unwrap_or_else(|e| panic!("fixed text: {} at {}", e.message, e.offset));
        // Exactly the removed writes are gone when the registry items are well-formed. An
        // Edit Registry inside another one can have its removal dropped as overlapping the
        // outer rewrite (the fix loop reruns), and stray key fields on a nested item become
        // the flat key's fields; then the count only never grows.
        let left = lower(&again, &out, svcscrub::model::Charset::Ansi).writes().count();
        if well_formed(&doc, &text) {
            prop_assert_eq!(left + changes.len(), model.writes().count());
        } else {
            prop_assert!(left <= model.writes().count());
        }
    }

    #[test]
    fn line_soup_never_panics(
        lines in prop::collection::vec(
            (0usize..7, prop_oneof![
                Just("item: X"), Just("remarked item: Key"), Just("end"), Just("end "),
                Just("K=v"), Just("=x"), Just("garbage"), Just(""), Just("\t"), Just("item:"),
                Just("item: Edit Registry"), Just("Total Keys=2"), Just("\r"),
            ], any::<bool>()),
            0..40,
        ),
    ) {
        let mut text = b"Document Type: WSE\r\n".to_vec();
        for (indent, content, crlf) in lines {
            text.extend(std::iter::repeat_n(b' ', indent));
            text.extend_from_slice(content.as_bytes());
            text.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        match wise::parse(&text, ScriptKind::Wse) {
            Ok(doc) => {
                prop_assert_eq!(doc.print(&text), text.clone());
                check_ranges(&doc, &text);
            }
            Err(e) => prop_assert!(e.offset <= text.len()),
        }
    }
}
