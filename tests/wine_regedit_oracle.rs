//! Independent oracle: Wine's regedit. For every `.reg` of the corpus and of `examples/`, the
//! registry Wine's `regedit /S` leaves must be the one svcscrub's model predicts, the fixed file
//! (safe fixes) must import as the original minus exactly the captured system state its fixes
//! target, and `svcscrub registry` must print what Wine's `regedit /E` exports of the same import.
//!
//! **One prefix.** It is made once (`wineboot -i`, about 15 s) in a temporary directory, then
//! set to the model's reference configuration: Wine 8 makes `CurrentControlSet` a real key with
//! no `ControlSet001`, Windows makes it a link to `ControlSet001`, so the prefix's
//! `CurrentControlSet` keys are moved to `ControlSet001` and `CurrentControlSet` becomes a
//! registry link to it (a `#link` key, as Wine stores its own links). Its registry files
//! (`system.reg`, `user.reg`, `userdef.reg`) are kept, and restored by copying before each
//! import, with the prefix's `wineserver` stopped (`wineserver -k`, which saves the registry it
//! holds, then `-w`) so the next `wine` reads them again.
//!
//! **What is compared.** The registry after an import is read from the prefix's own files (the
//! `wineserver` writes them when it stops: every key and value, not only the keys a file names),
//! so a change anywhere shows. The model's state is applied to the registry after an import of
//! an empty `.reg` (Wine's start-up writes included) and the result compared with Wine's, key by
//! key and value by value (name, type, data bytes). Names compare upper-cased, as the registry
//! compares them. Deliberate differences are listed in [`KNOWN`] with their reasons; an unlisted
//! difference fails the test, and so does a listed one that no longer occurs.
//!
//! POSIX only: it drives the Linux Wine (`wine`, `wineboot`, `wineserver`). Without Wine it says
//! it was skipped, except under `CI=true`, where it fails.
#![cfg(unix)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use svcscrub::model::state::{Outcome, State};

/// A registry as the test compares it: upper-cased key path (hive first) → key.
type Registry = BTreeMap<Vec<String>, Key>;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Key {
    /// The path as spelled, hive first (`HKEY_LOCAL_MACHINE`).
    path: Vec<String>,
    /// By upper-cased name.
    values: BTreeMap<String, Val>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Val {
    name: String,
    kind: u32,
    bytes: Vec<u8>,
}

/// A name as both sides surely compare it: ASCII letters upper-cased, anything else as it is.
/// Where Wine and the model disagree on other characters, the key or value shows on one side
/// only (two names on one, one on the other) instead of being merged here.
fn fold(name: &str) -> String {
    name.to_ascii_uppercase()
}

fn folded(path: &[String]) -> Vec<String> {
    path.iter().map(|s| fold(s)).collect()
}

// ---------------------------------------------------------------------------------------------
// Wine's registry files
// ---------------------------------------------------------------------------------------------

/// Decodes the escapes of Wine's registry files (`dump_strW` in Wine's server: `\xHHHH`, octal,
/// C escapes, `\` before any other character) into UTF-16 code units.
fn unescape(text: &str) -> Vec<u16> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\\' || i == chars.len() {
            let mut buf = [0u16; 2];
            out.extend_from_slice(c.encode_utf16(&mut buf));
            continue;
        }
        let e = chars[i];
        i += 1;
        match e {
            'x' => {
                let mut n = 0u32;
                let mut digits = 0;
                while digits < 4 && i < chars.len() && chars[i].is_ascii_hexdigit() {
                    n = n * 16 + chars[i].to_digit(16).unwrap_or(0);
                    i += 1;
                    digits += 1;
                }
                out.push(n as u16);
            }
            '0'..='7' => {
                let mut n = e.to_digit(8).unwrap_or(0);
                let mut digits = 1;
                while digits < 3 && i < chars.len() && ('0'..='7').contains(&chars[i]) {
                    n = n * 8 + chars[i].to_digit(8).unwrap_or(0);
                    i += 1;
                    digits += 1;
                }
                out.push(n as u16);
            }
            'a' => out.push(7),
            'b' => out.push(8),
            't' => out.push(9),
            'n' => out.push(10),
            'v' => out.push(11),
            'f' => out.push(12),
            'r' => out.push(13),
            'e' => out.push(27),
            other => {
                let mut buf = [0u16; 2];
                out.extend_from_slice(other.encode_utf16(&mut buf));
            }
        }
    }
    out
}

/// The end of a quoted or bracketed field starting at `from`: the first `close` not escaped.
fn field_end(line: &str, from: usize, close: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in line[from..].char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == close {
            return Some(from + i);
        }
    }
    None
}

fn hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| u8::from_str_radix(s, 16).map_err(|e| format!("hex byte `{s}`: {e}")))
        .collect()
}

fn utf16_bytes(units: &[u16]) -> Vec<u8> {
    units.iter().flat_map(|u| u.to_le_bytes()).collect()
}

/// A value's data as written in a Wine registry file or a regedit export (after `=`).
fn parse_data(data: &str) -> Result<(u32, Vec<u8>), String> {
    let string = |rest: &str| -> Result<Vec<u8>, String> {
        let inner = rest
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .ok_or_else(|| format!("string `{rest}`"))?;
        let mut units = unescape(inner);
        units.push(0);
        Ok(utf16_bytes(&units))
    };
    if data.starts_with('"') {
        return Ok((1, string(data)?));
    }
    if let Some(rest) = data.strip_prefix("str(") {
        let (kind, rest) = rest.split_once("):").ok_or("str(")?;
        let kind = u32::from_str_radix(kind, 16).map_err(|e| e.to_string())?;
        return Ok((kind, string(rest)?));
    }
    if let Some(rest) = data.strip_prefix("dword:") {
        let n = u32::from_str_radix(rest.trim(), 16).map_err(|e| e.to_string())?;
        return Ok((4, n.to_le_bytes().to_vec()));
    }
    if let Some(rest) = data.strip_prefix("hex:") {
        return Ok((3, hex_bytes(rest)?));
    }
    if let Some(rest) = data.strip_prefix("hex(") {
        let (kind, rest) = rest.split_once("):").ok_or("hex(")?;
        let kind = u32::from_str_radix(kind, 16).map_err(|e| e.to_string())?;
        return Ok((kind, hex_bytes(rest)?));
    }
    Err(format!("unknown data `{data}`"))
}

/// Lines joined where hex data continues (`\` at the end, the next line indented).
fn logical_lines(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut continued = false;
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if continued && let Some(last) = out.last_mut() {
            last.push_str(line.trim_start());
        } else {
            out.push(line.to_string());
        }
        continued = out.last().is_some_and(|l| l.ends_with('\\'));
        if continued && let Some(last) = out.last_mut() {
            last.pop();
        }
    }
    out
}

/// Adds every ancestor of each key (below the hive) as a key without values.
fn add_ancestors(registry: &mut Registry) {
    let mut missing: Vec<Vec<String>> = Vec::new();
    for key in registry.values() {
        for len in 2..key.path.len() {
            let path = key.path[..len].to_vec();
            if !registry.contains_key(&folded(&path)) {
                missing.push(path);
            }
        }
    }
    for path in missing {
        registry.entry(folded(&path)).or_insert(Key {
            path,
            values: BTreeMap::new(),
        });
    }
}

/// Reads a registry file of Wine's (`WINE REGISTRY Version 2`), its keys under `hive`.
fn parse_wine_file(text: &str, hive: &str, registry: &mut Registry) -> Result<(), String> {
    let mut current: Option<Vec<String>> = None;
    for (n, line) in logical_lines(text).iter().enumerate() {
        let at = |e: String| format!("line {}: {e}", n + 1);
        if line.starts_with('[') {
            let end = field_end(line, 1, ']').ok_or_else(|| at("no `]`".into()))?;
            let name = String::from_utf16_lossy(&unescape(&line[1..end]));
            let mut path = vec![hive.to_string()];
            path.extend(name.split('\\').map(str::to_string));
            let id = folded(&path);
            registry.entry(id.clone()).or_insert(Key {
                path,
                values: BTreeMap::new(),
            });
            current = Some(id);
        } else if line.starts_with('"') || line.starts_with('@') {
            let (name, rest) = if let Some(rest) = line.strip_prefix('@') {
                (String::new(), rest)
            } else {
                let end = field_end(line, 1, '"').ok_or_else(|| at("no closing `\"`".into()))?;
                (
                    String::from_utf16_lossy(&unescape(&line[1..end])),
                    &line[end + 1..],
                )
            };
            let data = rest.strip_prefix('=').ok_or_else(|| at("no `=`".into()))?;
            let (kind, bytes) = parse_data(data).map_err(at)?;
            let key = current
                .as_ref()
                .and_then(|id| registry.get_mut(id))
                .ok_or_else(|| at("value before any key".into()))?;
            key.values.insert(fold(&name), Val { name, kind, bytes });
        }
        // Header, `;;` comments, `#time=`, `#class=`, `#link`, `#arch=`: not state.
    }
    Ok(())
}

/// The reference configuration (see the module comment): `ControlSet001` read as
/// `CurrentControlSet`, the link itself dropped.
fn reference_configuration(registry: Registry) -> Registry {
    let link = ["HKEY_LOCAL_MACHINE", "SYSTEM", "CURRENTCONTROLSET"];
    registry
        .into_iter()
        .filter(|(id, _)| id.as_slice() != link)
        .map(|(mut id, mut key)| {
            if id.len() >= 3
                && id[0] == "HKEY_LOCAL_MACHINE"
                && id[1] == "SYSTEM"
                && id[2] == "CONTROLSET001"
            {
                id[2] = "CURRENTCONTROLSET".into();
                key.path[2] = "CurrentControlSet".into();
            }
            (id, key)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The prefix
// ---------------------------------------------------------------------------------------------

const REGISTRY_FILES: [&str; 3] = ["system.reg", "user.reg", "userdef.reg"];

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

struct Wine {
    dir: tempfile::TempDir,
    prefix: PathBuf,
    pristine: Vec<(&'static str, Vec<u8>)>,
    /// The registry after importing an empty file.
    baseline: Registry,
    /// What Wine itself writes differently on every start (a device's driver date, set to the
    /// time): keys (`None`) and values left out of every comparison.
    volatile: BTreeSet<(Vec<String>, Option<String>)>,
}

impl Wine {
    /// Wine's programs with the prefix's environment.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            // No Mono or Gecko installer dialog, no desktop menu entries.
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=;winemenubuilder.exe=d")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) {
        let status = self.command(program).args(args).status();
        assert!(status.is_ok(), "{program} does not run: {status:?}");
    }

    /// Starts the prefix's server, to exit as soon as its last program does (`-p0`), so that
    /// [`Wine::stop`] finds everything Wine starts with the import finished.
    fn start(&self) {
        self.run("wineserver", &["-p0".as_ref()]);
    }

    /// Waits for the prefix's server to exit (it saves the registry it holds); kills it if it
    /// is still running after a minute.
    fn stop(&self) {
        let waiting = self.command("wineserver").arg("-w").spawn();
        let Ok(mut waiting) = waiting else {
            panic!("wineserver does not run");
        };
        let started = Instant::now();
        while started.elapsed().as_secs() < 60 {
            if let Ok(Some(_)) = waiting.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        self.run("wineserver", &["-k".as_ref()]);
        let _ = waiting.wait();
    }

    /// Makes the prefix, or `None` when Wine is missing (failing under `CI=true`).
    fn new() -> Option<Wine> {
        let missing: Vec<&str> = ["wine", "wineboot", "wineserver"]
            .into_iter()
            .filter(|p| !on_path(p))
            .collect();
        if !missing.is_empty() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "Wine is missing under CI=true ({}): .ci/run installs it",
                missing.join(", ")
            );
            eprintln!(
                "wine regedit oracle: skipped, Wine is not installed ({})",
                missing.join(", ")
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let prefix = dir.path().join("prefix");
        let mut wine = Wine {
            prefix,
            dir,
            pristine: Vec::new(),
            baseline: Registry::new(),
            volatile: BTreeSet::new(),
        };
        wine.start();
        wine.run("wineboot", &["-i".as_ref()]);
        wine.stop();
        let system = wine.prefix.join("system.reg");
        let text = std::fs::read_to_string(&system)
            .unwrap_or_else(|e| panic!("wineboot made no {}: {e}", system.display()));
        std::fs::write(&system, linked_control_set(&text)).expect("write system.reg");
        for name in REGISTRY_FILES {
            let bytes = std::fs::read(wine.prefix.join(name)).expect("registry file");
            wine.pristine.push((name, bytes));
        }
        let empty = wine.dir.path().join("empty.reg");
        std::fs::write(&empty, "Windows Registry Editor Version 5.00\r\n\r\n").expect("write");
        // Two imports of nothing: where they differ, Wine's start-up writes differ.
        let first = wine.import(&empty, &[]).0;
        wine.baseline = wine.import(&empty, &[]).0;
        let mut differences = Vec::new();
        compare("volatile", "", &first, &wine.baseline, &mut differences);
        wine.volatile = differences
            .into_iter()
            .map(|(d, _)| (d.key.split('\\').map(str::to_string).collect(), d.value))
            .collect();
        for (key, value) in &wine.volatile {
            forget(&mut wine.baseline, key, value.as_deref());
        }
        Some(wine)
    }

    /// Imports `file` into the pristine prefix; returns the registry after it and Wine's
    /// `regedit /E` export of each of `exports` (`None` where regedit exported nothing).
    fn import(&self, file: &Path, exports: &[String]) -> (Registry, Vec<Option<String>>) {
        for (name, bytes) in &self.pristine {
            std::fs::write(self.prefix.join(name), bytes).expect("restore registry file");
        }
        self.start();
        self.run(
            "wine",
            &["regedit".as_ref(), "/S".as_ref(), file.as_os_str()],
        );
        let mut exported = Vec::new();
        for (i, key) in exports.iter().enumerate() {
            let out = self.dir.path().join(format!("export-{i}.reg"));
            let _ = std::fs::remove_file(&out);
            self.run(
                "wine",
                &[
                    "regedit".as_ref(),
                    "/E".as_ref(),
                    out.as_os_str(),
                    key.as_ref(),
                ],
            );
            exported.push(std::fs::read(&out).ok().map(|b| utf16_text(&b)));
        }
        self.stop();
        let mut registry = Registry::new();
        for (name, hive) in [
            ("system.reg", "HKEY_LOCAL_MACHINE"),
            ("user.reg", "HKEY_CURRENT_USER"),
        ] {
            let path = self.prefix.join(name);
            let text = std::fs::read_to_string(&path).expect("registry file");
            parse_wine_file(&text, hive, &mut registry)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        add_ancestors(&mut registry);
        let mut registry = reference_configuration(registry);
        for (key, value) in &self.volatile {
            forget(&mut registry, key, value.as_deref());
        }
        (registry, exported)
    }
}

/// `registry` without the key `key` (`value` `None`) or its value `value`.
fn forget(registry: &mut Registry, key: &[String], value: Option<&str>) {
    match value {
        None => {
            registry.remove(key);
        }
        Some(name) => {
            if let Some(k) = registry.get_mut(key) {
                k.values.remove(name);
            }
        }
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        let _ = self.command("wineserver").arg("-k").status();
    }
}

/// `system.reg` with the prefix's `CurrentControlSet` moved to `ControlSet001` and
/// `CurrentControlSet` a link to it.
fn linked_control_set(text: &str) -> String {
    let mut out = text
        .replace(
            "\n[System\\\\CurrentControlSet]",
            "\n[System\\\\ControlSet001]",
        )
        .replace(
            "\n[System\\\\CurrentControlSet\\\\",
            "\n[System\\\\ControlSet001\\\\",
        );
    let target: Vec<String> = utf16_bytes(
        &"\\Registry\\Machine\\System\\ControlSet001"
            .encode_utf16()
            .collect::<Vec<_>>(),
    )
    .iter()
    .map(|b| format!("{b:02x}"))
    .collect();
    out.push_str(&format!(
        "\n[System\\\\CurrentControlSet]\n#link\n\"SymbolicLinkValue\"=hex(6):{}\n",
        target.join(",")
    ));
    out
}

/// A regedit export (UTF-16LE with a byte-order mark, CRLF) as text with `\n`.
fn utf16_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(&[0xFF, 0xFE]).unwrap_or(bytes);
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16_lossy(&units).replace("\r\n", "\n")
}

// ---------------------------------------------------------------------------------------------
// The model's side
// ---------------------------------------------------------------------------------------------

/// The state svcscrub's model says `path` installs, or `None` when svcscrub refuses the file.
fn model_state(path: &Path) -> Option<State> {
    let loaded = common::load(path).ok()?;
    Some(svcscrub::pipeline::installed_state(std::iter::once(
        &loaded,
    )))
}

/// `base` with `state` applied: keys the package deletes removed with their subkeys, keys it
/// creates added (a key already there keeps its spelling), values set or deleted. A key or value
/// whose outcome is not one definite result is reported in `unsure`.
fn predict(
    base: &Registry,
    state: &State,
    unsure: &mut Vec<(Vec<String>, Option<String>)>,
) -> Registry {
    let mut out = base.clone();
    for (id, key) in &state.keys {
        // Each segment spelled as the model spells the key it names.
        let mut path = vec![id.hive.long_name().to_string()];
        for (i, segment) in key.path.iter().enumerate() {
            let ancestor = svcscrub::model::state::KeyId {
                hive: id.hive,
                segments: id.segments[..=i].into(),
            };
            let spelled = state.keys.get(&ancestor).and_then(|k| k.path.get(i));
            path.push(spelled.unwrap_or(segment).clone());
        }
        let key_id = folded(&path);
        match key.exists.as_slice() {
            [Outcome::Deleted] => {
                out.retain(|k, _| !k.starts_with(&key_id));
                continue;
            }
            [Outcome::Set(())] => {}
            [Outcome::Untouched] => continue,
            _ => {
                unsure.push((key_id, None));
                continue;
            }
        }
        for len in 2..=path.len() {
            let prefix = folded(&path[..len]);
            if out.contains_key(&prefix) {
                continue;
            }
            // Spelled as the existing parent is, then as the package writes it.
            let mut spelled = out
                .get(&prefix[..len - 1])
                .map_or_else(|| path[..len - 1].to_vec(), |k| k.path.clone());
            spelled.push(path[len - 1].clone());
            out.insert(
                prefix,
                Key {
                    path: spelled,
                    values: BTreeMap::new(),
                },
            );
        }
        let Some(target) = out.get_mut(&key_id) else {
            continue;
        };
        for (name, value) in &key.values {
            let folded_name = fold(&value.name);
            match value.possible.as_slice() {
                [Outcome::Set(v)] => {
                    let shown = target
                        .values
                        .get(&folded_name)
                        .map_or_else(|| value.name.clone(), |old| old.name.clone());
                    target.values.insert(
                        folded_name,
                        Val {
                            name: shown,
                            kind: v.kind,
                            bytes: v.bytes.clone(),
                        },
                    );
                }
                [Outcome::Deleted] => {
                    target.values.remove(&folded_name);
                }
                [Outcome::Untouched] => {}
                _ => unsure.push((key_id.clone(), Some(name.clone()))),
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Differences
// ---------------------------------------------------------------------------------------------

/// How many imports in all a difference must show in before it counts.
const IMPORTS_TO_CONFIRM: usize = 3;

/// The `differences` of a first import that every later one (`again`, up to
/// [`IMPORTS_TO_CONFIRM`] imports in all) shows too. Wine's own start-up writes now and then
/// differ (a program still starting when the server stops, on a loaded machine); a difference
/// svcscrub's model makes is the same at every import.
fn confirmed(
    mut differences: Vec<(Divergence, String)>,
    retried: &mut usize,
    mut again: impl FnMut() -> Vec<(Divergence, String)>,
) -> Vec<(Divergence, String)> {
    let mut imports = 1;
    while !differences.is_empty() && imports < IMPORTS_TO_CONFIRM {
        imports += 1;
        *retried += 1;
        let seen: BTreeSet<Divergence> = again().into_iter().map(|(d, _)| d).collect();
        differences.retain(|(d, _)| seen.contains(d));
    }
    differences
}

/// One place where two registries (or two texts) differ. `value` is `None` for the key itself.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Divergence {
    check: &'static str,
    file: String,
    key: String,
    value: Option<String>,
}

fn show_bytes(kind: u32, bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("hex({kind:x}):{}", hex.join(","))
}

/// Every difference between the registry `expected` and `actual`, for `check` of `file`.
fn compare(
    check: &'static str,
    file: &str,
    expected: &Registry,
    actual: &Registry,
    out: &mut Vec<(Divergence, String)>,
) {
    let ids: BTreeSet<&Vec<String>> = expected.keys().chain(actual.keys()).collect();
    for id in ids {
        let key = id.join("\\");
        let divergence = |value: Option<String>| Divergence {
            check,
            file: file.into(),
            key: key.clone(),
            value,
        };
        let (a, b) = match (expected.get(id), actual.get(id)) {
            (Some(a), Some(b)) => (a, b),
            (a, _) => {
                let side = if a.is_some() { "expected" } else { "Wine" };
                out.push((divergence(None), format!("key only in {side}")));
                continue;
            }
        };
        if a.path != b.path {
            out.push((
                divergence(None),
                format!(
                    "spelled {:?} vs Wine {:?}",
                    a.path.join("\\"),
                    b.path.join("\\")
                ),
            ));
        }
        let names: BTreeSet<&String> = a.values.keys().chain(b.values.keys()).collect();
        for name in names {
            let (x, y) = (a.values.get(name), b.values.get(name));
            if x == y {
                continue;
            }
            let show = |v: Option<&Val>| {
                v.map_or_else(
                    || "absent".to_string(),
                    |v| format!("{:?}={}", v.name, show_bytes(v.kind, &v.bytes)),
                )
            };
            out.push((
                divergence(Some(name.clone())),
                format!("expected {} vs Wine {}", show(x), show(y)),
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// `svcscrub registry` against `regedit /E`
// ---------------------------------------------------------------------------------------------

/// A key of an export: its `[...]` line and its value entries (a value's continuation lines
/// kept with it, so wrapping compares too).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Block {
    header: String,
    entries: Vec<String>,
}

fn export_blocks(text: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    for line in text.lines() {
        if line.starts_with('[') {
            out.push(Block {
                header: line.to_string(),
                entries: Vec::new(),
            });
        } else if let Some(block) = out.last_mut() {
            if line.starts_with("  ") && !block.entries.is_empty() {
                let last = block.entries.len() - 1;
                block.entries[last].push('\n');
                block.entries[last].push_str(line);
            } else if !line.is_empty() {
                block.entries.push(line.to_string());
            }
        }
    }
    out
}

/// The key path of a `[...]` line, upper-cased, split.
fn header_id(header: &str) -> Vec<String> {
    let inner = header.trim_start_matches('[').trim_end_matches(']');
    folded(&inner.split('\\').map(str::to_string).collect::<Vec<_>>())
}

/// The upper-cased value name of an export entry (`@` is the default value, `""`).
fn entry_name(entry: &str) -> String {
    if entry.starts_with('@') {
        return String::new();
    }
    let end = field_end(entry, 1, '"').unwrap_or(entry.len());
    fold(&entry[1..end].replace("\\\"", "\"").replace("\\\\", "\\"))
}

/// A `[...]` line with each key the prefix already had spelled as the prefix spells it.
fn prefix_spelling(header: &str, baseline: &Registry) -> String {
    let inner = header.trim_start_matches('[').trim_end_matches(']');
    let mut segments: Vec<String> = inner.split('\\').map(str::to_string).collect();
    for len in 2..=segments.len() {
        if let Some(key) = baseline.get(&folded(&segments[..len])) {
            segments[len - 1] = key.path[len - 1].clone();
        }
    }
    format!("[{}]", segments.join("\\"))
}

/// What `svcscrub registry` prints for `path` (`None` when it refuses the file).
fn svcscrub_registry(path: &Path) -> Option<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_svcscrub"))
        .arg("registry")
        .arg(path)
        .output()
        .expect("svcscrub runs");
    (out.status.code() == Some(0))
        .then(|| String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"))
}

/// The keys to export from Wine to see every key `blocks` shows: each key whose parent is not
/// shown, or its parent where several siblings are (one export instead of many).
fn keys_to_export(blocks: &[Block]) -> Vec<String> {
    let shown: BTreeSet<Vec<String>> = blocks
        .iter()
        .filter(|b| !b.header.starts_with("[-"))
        .map(|b| header_id(&b.header))
        .collect();
    let mut by_parent: BTreeMap<Vec<String>, (String, Vec<String>)> = BTreeMap::new();
    for block in blocks.iter().filter(|b| !b.header.starts_with("[-")) {
        let id = header_id(&block.header);
        if shown.contains(&id[..id.len() - 1]) {
            continue;
        }
        let inner = block.header.trim_start_matches('[').trim_end_matches(']');
        let parent = inner.rsplit_once('\\').map_or(inner, |(p, _)| p);
        by_parent
            .entry(id[..id.len() - 1].to_vec())
            .or_insert_with(|| (parent.to_string(), Vec::new()))
            .1
            .push(inner.to_string());
    }
    let mut out = Vec::new();
    for (id, (parent, children)) in by_parent {
        if children.len() >= 4 && id.len() >= 3 {
            out.push(parent);
        } else {
            out.extend(children);
        }
    }
    out
}

/// Compares what svcscrub printed with Wine's exports, after the normalisation the README
/// documents: deletions (`[-KEY]`, `"name"=-`) are not in an export (the state comparison checks
/// that they happened); an export also holds what the prefix had before, so only the keys
/// svcscrub shows and, in them, the values it names are compared; the spelling of a key the
/// prefix already had is the prefix's.
fn compare_text(
    file: &str,
    ours: &[Block],
    exports: &[Option<String>],
    baseline: &Registry,
    out: &mut Vec<(Divergence, String)>,
) {
    let mut theirs: BTreeMap<Vec<String>, Block> = BTreeMap::new();
    for text in exports.iter().flatten() {
        for block in export_blocks(text) {
            theirs.entry(header_id(&block.header)).or_insert(block);
        }
    }
    for block in ours.iter().filter(|b| !b.header.starts_with("[-")) {
        let id = header_id(&block.header);
        let divergence = |value: Option<String>| Divergence {
            check: "export",
            file: file.into(),
            key: id.join("\\"),
            value,
        };
        let Some(wine) = theirs.get(&id) else {
            out.push((divergence(None), "not in Wine's export".into()));
            continue;
        };
        if prefix_spelling(&wine.header, baseline) != prefix_spelling(&block.header, baseline) {
            out.push((
                divergence(None),
                format!("{} vs Wine {}", block.header, wine.header),
            ));
        }
        // Values in the order of their upper-cased names on both sides: Wine's server keeps
        // them in lower-cased order, which differs for `[\]^_` and the backquote.
        let mut ours: Vec<&String> = block
            .entries
            .iter()
            .filter(|e| !e.ends_with("=-"))
            .collect();
        ours.sort_by_key(|e| entry_name(e));
        let names: BTreeSet<String> = ours.iter().map(|e| entry_name(e)).collect();
        let mut wine_entries: Vec<&String> = wine
            .entries
            .iter()
            .filter(|e| names.contains(&entry_name(e)))
            .collect();
        wine_entries.sort_by_key(|e| entry_name(e));
        if ours != wine_entries {
            let mut by_name: BTreeMap<String, (Option<&String>, Option<&String>)> = BTreeMap::new();
            for e in &ours {
                by_name.entry(entry_name(e)).or_default().0 = Some(e);
            }
            for e in &wine_entries {
                by_name.entry(entry_name(e)).or_default().1 = Some(e);
            }
            let mut any = false;
            for (name, (a, b)) in by_name {
                if a != b {
                    any = true;
                    out.push((divergence(Some(name)), format!("{a:?} vs Wine {b:?}")));
                }
            }
            if !any {
                out.push((divergence(None), "values in another order".into()));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fixes against Wine
// ---------------------------------------------------------------------------------------------

/// The captured system state a safe fix may remove, by where it is (reference configuration:
/// `ControlSet001` is already read as `CurrentControlSet`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Captured {
    /// `Services\NAME\Security`: the descriptor the Service Control Manager writes.
    Security,
    /// `Services\NAME\Enum`: the Plug and Play manager's list of the service's devices.
    ServiceEnum,
    /// `Enum\Root\LEGACY_*`: the device node Windows makes for a legacy service.
    LegacyNode,
    /// `DeleteFlag` of a service key: the Service Control Manager's mark for deletion.
    DeleteFlag,
    /// Anything under a control set other than the current one.
    OtherControlSet,
}

impl Captured {
    fn at(key: &[String], value: Option<&str>) -> Option<Captured> {
        let [hklm, system, set, rest @ ..] = key else {
            return None;
        };
        if hklm != "HKEY_LOCAL_MACHINE" || system != "SYSTEM" {
            return None;
        }
        if set != "CURRENTCONTROLSET" {
            return set
                .starts_with("CONTROLSET")
                .then_some(Captured::OtherControlSet);
        }
        match rest {
            [services, _, sub, ..] if services == "SERVICES" && sub == "SECURITY" => {
                Some(Captured::Security)
            }
            [services, _, sub, ..] if services == "SERVICES" && sub == "ENUM" => {
                Some(Captured::ServiceEnum)
            }
            [e, root, node, ..] if e == "ENUM" && root == "ROOT" && node.starts_with("LEGACY_") => {
                Some(Captured::LegacyNode)
            }
            [services, _] if services == "SERVICES" && value == Some("DELETEFLAG") => {
                Some(Captured::DeleteFlag)
            }
            _ => None,
        }
    }

    /// The rule that targets this state, where one rule does.
    fn rule(self) -> Option<&'static str> {
        match self {
            Captured::Security => Some("SVC001"),
            Captured::ServiceEnum => Some("SVC002"),
            Captured::LegacyNode => Some("SVC003"),
            Captured::OtherControlSet => Some("SVC020"),
            Captured::DeleteFlag => None,
        }
    }
}

/// A finding with a safe fix: its rule and the key (and value) it names.
struct SafeFinding {
    code: String,
    key: Vec<String>,
    value: Option<String>,
}

/// The safe-fix findings of `svcscrub check` on `path`.
fn safe_findings(path: &Path) -> Vec<SafeFinding> {
    let out = Command::new(env!("CARGO_BIN_EXE_svcscrub"))
        .args(["check", "--format", "json"])
        .arg(path)
        .output()
        .expect("svcscrub runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let mut findings = Vec::new();
    for f in json.as_array().into_iter().flatten() {
        if f["fix"]["applicability"] != "safe" {
            continue;
        }
        let (Some(code), Some(key)) = (f["code"].as_str(), f["registry_key"].as_str()) else {
            continue;
        };
        let mut path: Vec<String> = key.split('\\').map(str::to_string).collect();
        path[0] = match path[0].to_ascii_uppercase().as_str() {
            "HKLM" => "HKEY_LOCAL_MACHINE".into(),
            "HKCU" => "HKEY_CURRENT_USER".into(),
            "HKCR" => "HKEY_CLASSES_ROOT".into(),
            "HKU" => "HKEY_USERS".into(),
            "HKCC" => "HKEY_CURRENT_CONFIG".into(),
            other => other.into(),
        };
        let mut key = folded(&path);
        if key.len() >= 3
            && key[0] == "HKEY_LOCAL_MACHINE"
            && key[1] == "SYSTEM"
            && key[2] == "CONTROLSET001"
        {
            key[2] = "CURRENTCONTROLSET".into();
        }
        findings.push(SafeFinding {
            code: code.to_string(),
            key,
            value: f["value_name"].as_str().map(fold),
        });
    }
    findings
}

/// Whether removing `key` (or its value `value`) is captured state a safe finding targets.
fn targeted(findings: &[SafeFinding], key: &[String], value: Option<&str>) -> bool {
    let Some(captured) = Captured::at(key, value) else {
        return false;
    };
    findings.iter().any(|f| {
        key.starts_with(&f.key)
            && (f.value.is_none() || f.value.as_deref() == value)
            && captured.rule().is_none_or(|rule| rule == f.code)
    })
}

/// Imports the file `fix` makes of `path` (safe fixes, on a copy) and checks that it installs
/// what the original does minus captured state its findings target: every key or value the
/// fixed file no longer installs is such state (or a key left empty only by removing it), and
/// nothing else changes. Returns whether the fix changed the file.
fn check_fix(
    wine: &Wine,
    name: &str,
    path: &Path,
    original: &Registry,
    out: &mut Vec<(Divergence, String)>,
) -> bool {
    let divergence = |key: &[String], value: Option<&String>| Divergence {
        check: "fix",
        file: name.into(),
        key: key.join("\\"),
        value: value.cloned(),
    };
    let findings = safe_findings(path);
    let dir = wine.dir.path().join("fix");
    std::fs::create_dir_all(&dir).expect("fix dir");
    let copy = dir.join(path.file_name().expect("file name"));
    std::fs::copy(path, &copy).expect("copy");
    // The corpus is read-only, and the copy keeps its permissions.
    let mut permissions = std::fs::metadata(&copy).expect("copy").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o644);
    std::fs::set_permissions(&copy, permissions).expect("make the copy writable");
    let status = Command::new(env!("CARGO_BIN_EXE_svcscrub"))
        .arg("fix")
        .arg(&copy)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("svcscrub runs");
    if status.code() == Some(2) {
        out.push((divergence(&[], None), "fix failed".into()));
        return false;
    }
    if std::fs::read(&copy).ok() == std::fs::read(path).ok() {
        return false;
    }
    let (fixed, _) = wine.import(&copy, &[]);
    let removed: BTreeSet<&Vec<String>> = original
        .keys()
        .filter(|id| !fixed.contains_key(*id))
        .collect();
    for id in &removed {
        let allowed = targeted(&findings, id, None)
            || (original[*id].values.is_empty()
                && removed.iter().any(|d| {
                    d.len() > id.len() && d.starts_with(id) && targeted(&findings, d, None)
                }));
        if !allowed {
            out.push((
                divergence(id, None),
                "the fixed file no longer installs this key".into(),
            ));
        }
    }
    for (id, key) in &fixed {
        let Some(before) = original.get(id) else {
            out.push((
                divergence(id, None),
                "only the fixed file installs this key".into(),
            ));
            continue;
        };
        let names: BTreeSet<&String> = before.values.keys().chain(key.values.keys()).collect();
        for n in names {
            match (before.values.get(n), key.values.get(n)) {
                (Some(a), Some(b)) if a == b => {}
                (Some(_), None) if targeted(&findings, id, Some(n)) => {}
                (a, b) => out.push((
                    divergence(id, Some(n)),
                    format!("original {a:?} vs fixed {b:?}"),
                )),
            }
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// Case-insensitive names
// ---------------------------------------------------------------------------------------------

/// Every pair of Basic Multilingual Plane characters that Unicode's case mappings relate (a
/// character and each one-character upper or lower case of it), as a `.reg` (UTF-16) that
/// writes, in a key of its own per pair, a value and a subkey named by each character: the
/// registry keeps two of each where it tells the characters apart, one where it does not.
fn case_pairs_file() -> (Vec<u8>, Vec<(char, char)>) {
    let mut text = String::from("Windows Registry Editor Version 5.00\r\n");
    let mut pairs = Vec::new();
    for code in 0x80..=0xFFFFu32 {
        let Some(c) = char::from_u32(code) else {
            continue;
        };
        let mut related: Vec<char> = Vec::new();
        for mapped in [
            c.to_uppercase().collect::<Vec<_>>(),
            c.to_lowercase().collect(),
        ] {
            if let [x] = mapped[..]
                && x != c
                && u32::from(x) <= 0xFFFF
                && !related.contains(&x)
            {
                related.push(x);
            }
        }
        for x in related {
            let key = format!(
                "HKEY_CURRENT_USER\\Software\\svcscrub-case\\{:05}",
                pairs.len()
            );
            text.push_str(&format!(
                "\r\n[{key}]\r\n\"{c}\"=dword:00000001\r\n\"{x}\"=dword:00000002\r\n\r\n[{key}\\{c}]\r\n\r\n[{key}\\{x}]\r\n"
            ));
            pairs.push((c, x));
        }
    }
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    (bytes, pairs)
}

/// Imports `path` (and its fixed copy) and compares: the model's state with Wine's import,
/// `svcscrub registry` with Wine's export, and the fixed file's import with the original's.
/// Returns the differences and whether the fixed file was imported.
fn check_file(wine: &Wine, name: &str, path: &Path) -> (Vec<(Divergence, String)>, bool) {
    let mut found = Vec::new();
    let text = svcscrub_registry(path);
    let blocks = text.as_deref().map(export_blocks).unwrap_or_default();
    let (actual, exports) = wine.import(path, &keys_to_export(&blocks));
    let mut unsure = Vec::new();
    // A file svcscrub refuses (exit 2) must be one regedit imports nothing from either.
    let expected = model_state(path).map_or_else(
        || wine.baseline.clone(),
        |state| predict(&wine.baseline, &state, &mut unsure),
    );
    for (key, value) in unsure {
        found.push((
            Divergence {
                check: "state",
                file: name.into(),
                key: key.join("\\"),
                value,
            },
            "the model has no single outcome for a .reg".into(),
        ));
    }
    compare("state", name, &expected, &actual, &mut found);
    let mut fixed = false;
    if text.is_some() {
        compare_text(name, &blocks, &exports, &wine.baseline, &mut found);
        fixed = check_fix(wine, name, path, &actual, &mut found);
    }
    (found, fixed)
}

fn pair_name(c: char, x: char) -> String {
    format!("U+{:04X} {c} U+{:04X} {x}", u32::from(c), u32::from(x))
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

/// A documented difference: in `file`, for `check`, under `key` (upper-cased, `\`-joined), for
/// `value` (`None`: the key itself), and why it is deliberate.
struct Known {
    check: &'static str,
    file: &'static str,
    key: &'static str,
    value: Option<&'static str>,
    reason: &'static str,
}

const UTF8_BOM: &str = "a UTF-8 byte-order mark before the header: Wine's regedit reads the file \
    as 8-bit text whose first line is not a header and imports nothing; svcscrub reads UTF-8 with a \
    BOM as its author meant (README, Input formats), so that its findings are reported. The same \
    file without its BOM is compared in full";
const HEADER_TEXT: &str = "a header with text after it (` ;blah`): Wine's regedit wants the bare \
    header and imports nothing; svcscrub accepts a comment or blanks after it, as regashii does, so \
    that the file's findings are reported. The same file with the bare header is compared in full";
const SHORT_DWORD_EXPORT: &str = "a REG_DWORD of one byte (`hex(4):00`): both store the one byte, \
    but Wine's `regedit /E` reads four and exports `dword:` with bytes from beyond the data; \
    svcscrub exports the stored bytes, `hex(4):00`";
const SZ_NUL_EXPORT: &str = "a REG_SZ with a NUL inside (8-bit `hex(1)` data holding UTF-16 \
    bytes): both store the same bytes, but Wine's `regedit /E` exports the string up to its first \
    NUL (`\"a\"`), losing the rest; svcscrub exports the stored bytes as `hex(1):`, which imports \
    as the same data";

const KNOWN: &[Known] = &[
    Known {
        check: "state",
        file: "corpus/reg/real/isPique_Fuck-Windows-Security__Enable.reg",
        key: "*",
        value: None,
        reason: UTF8_BOM,
    },
    Known {
        check: "export",
        file: "corpus/reg/real/isPique_Fuck-Windows-Security__Enable.reg",
        key: "*",
        value: None,
        reason: UTF8_BOM,
    },
    Known {
        check: "state",
        file: "corpus/reg/regashii/irregular-regedit5.reg",
        key: "*",
        value: None,
        reason: HEADER_TEXT,
    },
    Known {
        check: "export",
        file: "corpus/reg/regashii/irregular-regedit5.reg",
        key: "*",
        value: None,
        reason: HEADER_TEXT,
    },
    Known {
        check: "export",
        file: "corpus/reg/regashii/irregular-regedit5.reg (bare header)",
        key: "HKEY_CURRENT_USER\\SOFTWARE\\REGASHII\\IRRE]\";GULAR",
        value: Some("DWORD"),
        reason: SHORT_DWORD_EXPORT,
    },
    Known {
        check: "export",
        file: "corpus/reg/regashii/irregular-regedit5.reg (bare header)",
        key: "HKEY_CURRENT_USER\\SOFTWARE\\REGASHII\\IRRE]\";GULAR",
        value: Some("SZ-LINE-BREAK"),
        reason: SZ_NUL_EXPORT,
    },
];

/// Characters whose case mapping Unicode added after Wine 8.0's case table (Unicode 16.0 and
/// 17.0: Cyrillic TJE, Latin letters of the Latin Extended-D block): the model relates them
/// (Rust's tables are newer), Wine's regedit tells them apart. Names with them do not occur in
/// captures of today's Windows, whose tables are older still.
const NEWER_CASE_PAIRS: &[u32] = &[
    0x1C89, 0x1C8A, 0xA7CB, 0xA7CC, 0xA7CD, 0xA7CE, 0xA7CF, 0xA7D2, 0xA7D4, 0xA7DA, 0xA7DB, 0xA7DC,
];

/// Every `.reg` of `examples/` and of the corpus, as (name, path).
fn inputs() -> Vec<(String, PathBuf)> {
    let root = common::manifest_dir();
    let mut files = Vec::new();
    let mut add = |dir: &Path, label: &str| {
        for path in common::files_under(dir, true) {
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("reg"))
            {
                let relative = path.strip_prefix(dir).unwrap_or(&path);
                let parts: Vec<String> = relative
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                files.push((format!("{label}/{}", parts.join("/")), path));
            }
        }
    };
    add(&root.join("examples"), "examples");
    if let Some(corpus) = common::corpus() {
        add(&corpus, "corpus");
    }
    files
}

#[test]
fn wine_regedit_installs_what_the_model_says() {
    let started = Instant::now();
    let Some(wine) = Wine::new() else {
        return;
    };
    let mut files = inputs();
    // A UTF-8 byte-order mark, or a header with text after it, makes Wine's regedit refuse the
    // whole file (documented differences); the same file without the BOM, or with the bare
    // header, compares everything else in it too.
    for (name, path) in files.clone() {
        let bytes = std::fs::read(&path).expect("input");
        let end = bytes
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(bytes.len());
        let first = String::from_utf8_lossy(&bytes[..end]);
        let first = first.trim_end_matches('\r');
        if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
            let file = wine.dir.path().join(format!("without-bom-{}", files.len()));
            std::fs::create_dir_all(&file).expect("dir");
            let file = file.join(path.file_name().expect("file name"));
            std::fs::write(&file, rest).expect("write");
            files.push((format!("{name} (without BOM)"), file));
        }
        for header in ["Windows Registry Editor Version 5.00", "REGEDIT4"] {
            if first.len() > header.len() && first.starts_with(header) {
                let mut variant = header.as_bytes().to_vec();
                variant.extend_from_slice(&bytes[end..]);
                let file = wine.dir.path().join(format!("bare-header-{}", files.len()));
                std::fs::create_dir_all(&file).expect("dir");
                let file = file.join(path.file_name().expect("file name"));
                std::fs::write(&file, variant).expect("write");
                files.push((format!("{name} (bare header)"), file));
            }
        }
    }
    let mut found: Vec<(Divergence, String)> = Vec::new();
    let mut fixed_imports = 0;
    let mut refused = 0;
    let mut retried = 0;
    for (name, path) in &files {
        let refuses = model_state(path).is_none();
        refused += usize::from(refuses);
        let (differences, fixed) = check_file(&wine, name, path);
        fixed_imports += usize::from(fixed);
        found.extend(confirmed(differences, &mut retried, || {
            check_file(&wine, name, path).0
        }));
    }

    // Names compare as the registry compares them, character by character.
    let (bytes, pairs) = case_pairs_file();
    let case_file = wine.dir.path().join("case-pairs.reg");
    std::fs::write(&case_file, bytes).expect("write");
    let state = model_state(&case_file).expect("the case pairs file loads");
    let mut unsure = Vec::new();
    let expected = predict(&wine.baseline, &state, &mut unsure);
    assert!(unsure.is_empty(), "{unsure:?}");
    let import_case_pairs = || {
        let (actual, _) = wine.import(&case_file, &[]);
        let mut case = Vec::new();
        compare("case", "case-pairs.reg", &expected, &actual, &mut case);
        case
    };
    let case = confirmed(import_case_pairs(), &mut retried, import_case_pairs);
    // One difference per pair of characters the two tell apart differently.
    let mut differing: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (d, detail) in case {
        let pair = d
            .key
            .split('\\')
            .nth(3)
            .and_then(|n| n.parse::<usize>().ok());
        match pair {
            Some(i)
                if d.key
                    .starts_with("HKEY_CURRENT_USER\\SOFTWARE\\SVCSCRUB-CASE\\") =>
            {
                differing.entry(i).or_default().push(detail);
            }
            _ => found.push((d, detail)),
        }
    }
    for (i, details) in differing {
        let (c, x) = pairs[i];
        found.push((
            Divergence {
                check: "case",
                file: "case-pairs.reg".into(),
                key: pair_name(c, x),
                value: None,
            },
            details.join("; "),
        ));
    }
    let case_pairs = pairs;
    let pairs = case_pairs.len();

    // A documented difference with key `*` stands for every difference of its check and file.
    for (d, _) in &mut found {
        if KNOWN
            .iter()
            .any(|k| k.key == "*" && k.check == d.check && k.file == d.file)
        {
            d.key = "*".into();
            d.value = None;
        }
    }
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0 && a.0.key == "*");
    let mut known: BTreeMap<Divergence, &str> = KNOWN
        .iter()
        .map(|k| {
            (
                Divergence {
                    check: k.check,
                    file: k.file.into(),
                    key: k.key.into(),
                    value: k.value.map(str::to_string),
                },
                k.reason,
            )
        })
        .collect();
    for &(c, x) in &case_pairs {
        if [c, x]
            .iter()
            .any(|ch| NEWER_CASE_PAIRS.contains(&u32::from(*ch)))
        {
            known.insert(
                Divergence {
                    check: "case",
                    file: "case-pairs.reg".into(),
                    key: pair_name(c, x),
                    value: None,
                },
                "a case pair newer than Wine 8.0's case table (NEWER_CASE_PAIRS)",
            );
        }
    }
    let agreeing = |check: &str| {
        files
            .iter()
            .filter(|(name, _)| {
                !found
                    .iter()
                    .any(|(d, _)| d.check == check && &d.file == name && !known.contains_key(d))
            })
            .count()
    };
    let exact = |check: &str| {
        files
            .iter()
            .filter(|(name, _)| {
                !found
                    .iter()
                    .any(|(d, _)| d.check == check && &d.file == name)
            })
            .count()
    };
    eprintln!(
        "wine regedit oracle: {} files ({refused} refused by svcscrub and by regedit); \
         model = Wine's import on {} ({} without a documented difference); \
         `svcscrub registry` = Wine's export on {} ({}); \
         fixed = original minus targeted captured state on {} ({fixed_imports} fixed files \
         imported); {pairs} case pairs, {} differing; {} documented differences; \
         {retried} imports repeated to confirm a difference; {:.1} s",
        files.len(),
        agreeing("state"),
        exact("state"),
        agreeing("export"),
        exact("export"),
        agreeing("fix"),
        found.iter().filter(|(d, _)| d.check == "case").count(),
        known.len(),
        started.elapsed().as_secs_f64()
    );
    let undocumented: Vec<String> = found
        .iter()
        .filter(|(d, _)| !known.contains_key(d))
        .map(|(d, detail)| format!("{d:?}: {detail}"))
        .collect();
    assert!(
        undocumented.is_empty(),
        "{} undocumented differences from Wine's regedit:\n{}",
        undocumented.len(),
        undocumented.join("\n")
    );
    let seen: BTreeSet<&Divergence> = found.iter().map(|(d, _)| d).collect();
    let stale: Vec<String> = known
        .iter()
        .filter(|(d, _)| !seen.contains(d))
        .map(|(d, reason)| format!("{d:?} ({reason})"))
        .collect();
    assert!(
        stale.is_empty(),
        "documented differences that no longer occur:\n{}",
        stale.join("\n")
    );
}
