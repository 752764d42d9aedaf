//! `grammar/reg.ebnf` stays in step with the parser: every production names a parser function,
//! and every named function exists.

use std::path::Path;

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The grammar without its comments, split into productions (`name = … ;`).
fn productions(grammar: &str) -> Vec<(String, String)> {
    // Pair each production with the comments that follow it, up to the next production.
    let mut out: Vec<(String, String)> = Vec::new();
    let mut rest = grammar;
    let mut in_comment = false;
    let mut current = String::new();
    while !rest.is_empty() {
        if in_comment {
            let end = rest.find("*)").map_or(rest.len(), |p| p + 2);
            if let Some(last) = out.last_mut() {
                last.1.push_str(&rest[..end]);
            }
            rest = &rest[end..];
            in_comment = false;
        } else if rest.starts_with("(*") {
            in_comment = true;
        } else {
            let next = rest.find("(*").unwrap_or(rest.len());
            current.push_str(&rest[..next]);
            while let Some(semi) = terminator(&current) {
                let production = current[..semi].trim().to_string();
                if let Some((name, _)) = production.split_once('=') {
                    out.push((name.trim().to_string(), String::new()));
                }
                current = current[semi + 1..].to_string();
            }
            rest = &rest[next..];
        }
    }
    out
}

/// The first `;` outside a quoted terminal.
fn terminator(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ';') => return Some(i),
            _ => {}
        }
    }
    None
}

#[test]
fn every_production_names_an_existing_parser_function() {
    let grammar = read("grammar/reg.ebnf");
    let parser = read("src/syntax/reg/parser.rs");
    let prods = productions(&grammar);
    assert!(prods.len() >= 30, "found {} productions", prods.len());
    for (name, comments) in &prods {
        let Some(at) = comments.find("parser: syntax::reg::parser::") else {
            panic!("production `{name}` has no `(* parser: … *)` annotation");
        };
        let path = comments[at + "parser: syntax::reg::parser::".len()..]
            .split_whitespace()
            .next()
            .unwrap_or_default();
        let function = path.rsplit("::").next().unwrap_or_default();
        assert!(
            parser.contains(&format!("fn {function}("))
                || parser.contains(&format!("fn {function}<")),
            "production `{name}` names `{path}`, which parser.rs does not define"
        );
    }
}
