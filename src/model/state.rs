//! The registry state a package installs: its operations applied in order, last write wins,
//! deletions applied, key creation implied by value writes.
//!
//! **Reference configuration.** `HKLM\SYSTEM\CurrentControlSet` is `ControlSet001` (as on a
//! capture machine, and in the Wine prefix the oracle tests prepare), so both name one key;
//! other `ControlSetNNN` are keys of their own. Text of 8-bit files reads in Windows-1252
//! ([`super::Charset`]). One registry view: `x64 Support` is recorded but not redirected.
//!
//! **What may happen.** The files of a package have no order between them, and an operation
//! in a conditional region (inside an `If`/`While` block) may or may not run. So each key and
//! value has a set of possible [`Outcome`]s: one file's operations fold in order (a
//! conditional one adds its outcome to the possible ones, an unconditional one replaces them);
//! across files, any file may run last.
//!
//! **Names.** Keys and values are identified by their names as the registry compares them
//! ([`super::name`]); a key or value shows the spelling that created it first. A key path
//! that keeps an unresolved install-time reference is its own key (it might be any key: the
//! model does not guess).
//!
//! **Text.** A template's references (`%NAME%`) stay references: the value shows them as
//! written, unless the package defines no such variable and none is built in, in which case
//! the installer writes nothing in its place. Strings carry their NUL characters exactly as
//! the registry receives them ([`super::Operation::nuls`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::name::{Charset, upcase};
use super::path::{Hive, segments};
use super::template::{Piece, pieces};
use super::{Data, FileModel, OpKind, Operation, ServiceInstall, ServiceValue};

/// Marks around a variable reference kept in installed text (noncharacters, never data).
pub const REFERENCE_OPEN: char = '\u{FDD0}';
pub const REFERENCE_CLOSE: char = '\u{FDD1}';

/// A key's path as segments, shared: the steps of one key, the proof's index and its sets of
/// keys hold one copy (cloning a path copies two pointers), and an enclosing key's path
/// shares its segments' text.
pub type Path = Arc<[Arc<str>]>;

/// A key as the registry identifies it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId {
    pub hive: Hive,
    /// The folded segments (upper-cased as the registry compares names), with the reference
    /// control set as `CURRENTCONTROLSET`.
    pub segments: Path,
}

impl KeyId {
    /// The key of `op` (`None` for an unknown hive). `charset` reads the path.
    pub fn of(charset: Charset, hive: Hive, key: &[u8]) -> Option<(KeyId, Path)> {
        if hive == Hive::Unknown {
            return None;
        }
        let mut folded: Vec<Arc<str>> = Vec::new();
        let mut shown: Vec<Arc<str>> = Vec::new();
        for (i, (_, segment)) in segments(key).enumerate() {
            let text = charset.decode(segment);
            // Nearly every segment is ASCII, whose registry upper case is its ASCII one.
            let fold: Cow<str> = if !text.is_ascii() {
                Cow::Owned(text.chars().map(upcase).collect())
            } else if text.bytes().any(|b| b.is_ascii_lowercase()) {
                Cow::Owned(text.to_ascii_uppercase())
            } else {
                Cow::Borrowed(&text)
            };
            if i == 1
                && hive == Hive::LocalMachine
                && folded.first().is_some_and(|s| &**s == "SYSTEM")
                && (fold == "CURRENTCONTROLSET" || fold == "CONTROLSET001")
            {
                folded.push(Arc::from("CURRENTCONTROLSET"));
                shown.push(Arc::from("CurrentControlSet"));
                continue;
            }
            folded.push(Arc::from(&*fold));
            shown.push(Arc::from(&*text));
        }
        Some((
            KeyId {
                hive,
                segments: folded.into(),
            },
            shown.into(),
        ))
    }

    /// The enclosing key; `None` for a hive's root.
    pub fn parent(&self) -> Option<KeyId> {
        let (_, rest) = self.segments.split_last()?;
        Some(KeyId {
            hive: self.hive,
            segments: rest.into(),
        })
    }

    /// Whether `self` is `other` or under it.
    pub fn is_within(&self, other: &KeyId) -> bool {
        self.hive == other.hive && self.segments.starts_with(&other.segments)
    }
}

/// A value as the registry holds it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Value {
    pub kind: u32,
    /// The data as the registry stores it: strings as UTF-16LE with their NULs.
    pub bytes: Vec<u8>,
}

impl Value {
    /// String data (`REG_SZ`, `REG_EXPAND_SZ`, `REG_MULTI_SZ`) as text, NULs included, or
    /// `None` for other types (and odd lengths).
    pub fn text(&self) -> Option<String> {
        if !matches!(self.kind, 1 | 2 | 7) || self.bytes.len() % 2 != 0 {
            return None;
        }
        let units: Vec<u16> = self
            .bytes
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        Some(String::from_utf16_lossy(&units))
    }

    /// The value as Windows reads it, for messages: a string up to its first NUL (references
    /// shown as `%NAME%`), a number in decimal, other data in hex bytes. Control characters
    /// are escaped.
    pub fn shown(&self) -> String {
        match self.kind {
            1 | 2 => {
                let text = self.text().unwrap_or_default();
                let first = text.split('\0').next().unwrap_or_default();
                format!("\"{}\"", escape_controls(&show_references(first)))
            }
            7 => {
                let text = self.text().unwrap_or_default();
                // A list ends at its first empty string, as Windows reads it.
                let strings: Vec<String> = text
                    .split('\0')
                    .take_while(|s| !s.is_empty())
                    .map(|s| format!("\"{}\"", escape_controls(&show_references(s))))
                    .collect();
                format!("[{}]", strings.join(", "))
            }
            4 if self.bytes.len() == 4 => {
                let n = u32::from_le_bytes([
                    self.bytes[0],
                    self.bytes[1],
                    self.bytes[2],
                    self.bytes[3],
                ]);
                format!("{n} (REG_DWORD)")
            }
            _ => {
                let hex: Vec<String> = self.bytes.iter().map(|b| format!("{b:02x}")).collect();
                format!("hex({:x}):{}", self.kind, hex.join(","))
            }
        }
    }
}

/// Installed text with its references written `%NAME%`.
pub fn show_references(text: &str) -> String {
    text.replace([REFERENCE_OPEN, REFERENCE_CLOSE], "%")
}

/// Control characters as `\xNN` (a message or report never carries one raw); line breaks too.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// A message with every control character escaped but its line breaks (a message may span
/// lines; no report carries a raw NUL, escape sequence or other control byte).
pub fn escape_message(message: String) -> String {
    // Control characters are C0 and DEL (single bytes) and C1 (`C2 80`-`C2 9F` in UTF-8): a
    // byte scan rules nearly every message out.
    let suspect = |b: &u8| (*b < 0x20 && *b != b'\n') || *b == 0x7F || *b == 0xC2;
    if !message.as_bytes().iter().any(suspect)
        || !message.chars().any(|c| c.is_control() && c != '\n')
    {
        return message;
    }
    let mut out = String::with_capacity(message.len() + 8);
    for c in message.chars() {
        if c.is_control() && c != '\n' {
            out.push_str(&format!("\\x{:02X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// What may be true of a key or value after the package ran.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome<T> {
    /// The package leaves it as it was.
    Untouched,
    Set(T),
    Deleted,
}

/// The possible outcomes, in a fixed order (sorted, no duplicates).
pub type Possible<T> = Vec<Outcome<T>>;

/// How a template's references expand, from what the package knows about its variables.
pub trait Expansion {
    /// Whether a reference to `name` keeps the variable (`true`), or expands to nothing
    /// because no such variable exists.
    fn keeps(&self, name: &[u8]) -> bool;
}

/// Keeps every reference.
pub struct KeepAll;

impl Expansion for KeepAll {
    fn keeps(&self, _: &[u8]) -> bool {
        true
    }
}

/// The value `op` sets (`None` unless it sets one).
pub fn value_of(model: &FileModel<'_>, op: &Operation<'_>, vars: &dyn Expansion) -> Option<Value> {
    if op.kind != OpKind::SetValue {
        return None;
    }
    Some(data_value(model, &op.data, op.nuls, vars))
}

/// `data` as the registry holds it; strings get `nuls` NUL characters after them.
pub fn data_value(model: &FileModel<'_>, data: &Data<'_>, nuls: u8, vars: &dyn Expansion) -> Value {
    let text = |t: &[u8]| installed_text(model, t, vars);
    let units = |s: &str, out: &mut Vec<u8>| {
        for u in s.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
    };
    let terminate = |out: &mut Vec<u8>| {
        for _ in 0..nuls {
            out.extend_from_slice(&[0, 0]);
        }
    };
    match data {
        Data::None => Value {
            kind: 0,
            bytes: Vec::new(),
        },
        Data::Sz(s) | Data::ExpandSz(s) => {
            let mut bytes = Vec::with_capacity(s.len() * 2 + 2);
            units(&text(s), &mut bytes);
            terminate(&mut bytes);
            Value {
                kind: data.kind().unwrap_or(1),
                bytes,
            }
        }
        Data::MultiSz(list) => {
            let mut bytes = Vec::new();
            for (i, s) in list.iter().enumerate() {
                if i > 0 {
                    bytes.extend_from_slice(&[0, 0]);
                }
                units(&text(s), &mut bytes);
            }
            terminate(&mut bytes);
            Value { kind: 7, bytes }
        }
        Data::Dword(n) => Value {
            kind: 4,
            bytes: n.to_le_bytes().to_vec(),
        },
        Data::Qword(n) => Value {
            kind: 0xb,
            bytes: n.to_le_bytes().to_vec(),
        },
        Data::Binary(b) => Value {
            kind: 3,
            bytes: b.clone(),
        },
        Data::Raw { kind, bytes } => Value {
            kind: *kind,
            bytes: bytes.clone(),
        },
    }
}

/// A file's string as installed text: decoded from the working text; a template's `%%` made
/// `%`, its references kept (between [`REFERENCE_OPEN`] and [`REFERENCE_CLOSE`]) or dropped.
pub fn installed_text(model: &FileModel<'_>, text: &[u8], vars: &dyn Expansion) -> String {
    if !model.templates || memchr::memchr(b'%', text).is_none() {
        return model.charset.decode(text).into_owned();
    }
    let mut out = String::with_capacity(text.len());
    for piece in pieces(text) {
        match piece {
            Piece::Literal(t) => out.push_str(&model.charset.decode(&t)),
            Piece::Reference(name) if vars.keeps(name) => {
                out.push(REFERENCE_OPEN);
                out.push_str(&model.charset.decode(name));
                out.push(REFERENCE_CLOSE);
            }
            Piece::Reference(_) => {}
        }
    }
    out
}

/// The value a service install writes to `value` of its service key.
pub fn service_value(
    model: &FileModel<'_>,
    install: &ServiceInstall<'_>,
    value: ServiceValue,
    vars: &dyn Expansion,
) -> Option<Value> {
    let data = install.writes(value)?;
    Some(data_value(model, &data, 1, vars))
}

/// What one step does to a key or value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    CreateKey,
    SetValue(Value),
    DeleteValue,
    DeleteKey,
}

/// One step of a file: an operation or a service install's write, normalized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub file: usize,
    pub seq: u64,
    pub conditional: bool,
    pub key: KeyId,
    /// The folded value name (for value actions).
    pub name: Option<String>,
    pub action: Action,
}

/// How a key and a value name are spelled where they were first written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spelling {
    pub key: Path,
    pub value: Option<String>,
}

/// The steps of the files of a package, with the spellings of their keys and values.
#[derive(Clone, Debug, Default)]
pub struct Steps {
    pub steps: Vec<Step>,
    pub spellings: Vec<Spelling>,
    /// The key of the last operation pushed, as read and as identified: the operations of a
    /// key block or of one item's key follow each other, and share one copy of its path.
    last: Option<LastKey>,
}

/// An operation's key as written (charset, hive, bytes), and its identity and spelling.
#[derive(Clone, Debug)]
struct LastKey {
    charset: Charset,
    hive: Hive,
    bytes: Vec<u8>,
    key: KeyId,
    shown: Path,
}

/// The path of a service's key.
pub fn service_key(name: &[u8]) -> Vec<u8> {
    let mut key = b"SYSTEM\\CurrentControlSet\\Services\\".to_vec();
    key.extend_from_slice(name);
    key
}

impl Steps {
    /// The steps of `files` (each with its index in the package).
    pub fn of<'m, 'a: 'm>(
        files: impl IntoIterator<Item = (usize, &'m FileModel<'a>)>,
        vars: &dyn Expansion,
    ) -> Steps {
        let mut out = Steps::default();
        for (file, model) in files {
            let mut installs = model.services.iter().peekable();
            for op in &model.ops {
                while let Some(install) = installs.next_if(|s| s.seq < op.seq) {
                    out.push_install(file, model, install, vars);
                }
                out.push_op(file, model, op, vars);
            }
            for install in installs {
                out.push_install(file, model, install, vars);
            }
        }
        out
    }

    pub fn push_op(
        &mut self,
        file: usize,
        model: &FileModel<'_>,
        op: &Operation<'_>,
        vars: &dyn Expansion,
    ) {
        let Some((key, shown)) = self.key_of(model.charset, op.hive, &op.key) else {
            return;
        };
        let (name, value) = match &op.value {
            Some(v) if matches!(op.kind, OpKind::SetValue | OpKind::DeleteValue) => {
                let text = model.charset.decode(v).into_owned();
                (Some(text.chars().map(upcase).collect()), Some(text))
            }
            _ => (None, None),
        };
        let action = match op.kind {
            OpKind::CreateKey => Action::CreateKey,
            OpKind::SetValue => match value_of(model, op, vars) {
                Some(v) => Action::SetValue(v),
                None => return,
            },
            OpKind::DeleteValue => Action::DeleteValue,
            OpKind::DeleteKey => Action::DeleteKey,
        };
        self.steps.push(Step {
            file,
            seq: op.seq,
            conditional: op.conditional(),
            key,
            name,
            action,
        });
        self.spellings.push(Spelling { key: shown, value });
    }

    /// [`KeyId::of`], sharing the path of the previous operation's key when it is the same.
    fn key_of(&mut self, charset: Charset, hive: Hive, bytes: &[u8]) -> Option<(KeyId, Path)> {
        if let Some(last) = &self.last
            && last.charset == charset
            && last.hive == hive
            && *last.bytes == *bytes
        {
            return Some((last.key.clone(), last.shown.clone()));
        }
        let (key, shown) = KeyId::of(charset, hive, bytes)?;
        self.last = Some(LastKey {
            charset,
            hive,
            bytes: bytes.to_vec(),
            key: key.clone(),
            shown: shown.clone(),
        });
        Some((key, shown))
    }

    /// The writes of a service install: its key, then each value it sets.
    pub fn push_install(
        &mut self,
        file: usize,
        model: &FileModel<'_>,
        install: &ServiceInstall<'_>,
        vars: &dyn Expansion,
    ) {
        if install.unresolved || install.name.is_empty() {
            return;
        }
        let path = service_key(&install.name);
        let Some((key, shown)) = KeyId::of(model.charset, Hive::LocalMachine, &path) else {
            return;
        };
        let conditional = install.block != 0;
        self.steps.push(Step {
            file,
            seq: install.seq,
            conditional,
            key: key.clone(),
            name: None,
            action: Action::CreateKey,
        });
        self.spellings.push(Spelling {
            key: shown.clone(),
            value: None,
        });
        for value in ServiceValue::ALL {
            let Some(v) = service_value(model, install, value, vars) else {
                continue;
            };
            let name = value.registry_name();
            self.steps.push(Step {
                file,
                seq: install.seq,
                conditional,
                key: key.clone(),
                name: Some(name.to_ascii_uppercase()),
                action: Action::SetValue(v),
            });
            self.spellings.push(Spelling {
                key: shown.clone(),
                value: Some(name.to_string()),
            });
        }
    }
}

/// Folds one file's steps (in order) into the possible outcomes.
fn fold_file<T: Clone + Ord>(steps: impl Iterator<Item = (bool, Outcome<T>)>) -> Possible<T> {
    let mut possible = vec![Outcome::Untouched];
    for (conditional, outcome) in steps {
        if !conditional {
            possible.clear();
        }
        if !possible.contains(&outcome) {
            possible.push(outcome);
        }
    }
    possible.sort();
    possible
}

/// Joins the possible outcomes of the files that touch something: any file may run last.
pub fn join_files<T: Clone + Ord>(per_file: Vec<Possible<T>>) -> Possible<T> {
    let all_may_leave = per_file.iter().all(|p| p.contains(&Outcome::Untouched));
    let mut out: Possible<T> = per_file
        .into_iter()
        .flatten()
        .filter(|o| *o != Outcome::Untouched)
        .collect();
    if all_may_leave {
        out.push(Outcome::Untouched);
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        out.push(Outcome::Untouched);
    }
    out
}

/// The possible outcomes of `steps` (of any files; each file's in its order) for one key or
/// value; `effect` says what a step does to it (`None`: nothing).
pub fn outcomes<T: Clone + Ord>(
    steps: &[&Step],
    effect: impl Fn(&Step) -> Option<Outcome<T>>,
) -> Possible<T> {
    let mut by_file: BTreeMap<usize, Vec<&Step>> = BTreeMap::new();
    for step in steps {
        by_file.entry(step.file).or_default().push(step);
    }
    let per_file: Vec<Possible<T>> = by_file
        .into_values()
        .map(|mut steps| {
            steps.sort_by_key(|s| s.seq);
            fold_file(
                steps
                    .into_iter()
                    .filter_map(|s| effect(s).map(|o| (s.conditional, o))),
            )
        })
        .collect();
    join_files(per_file)
}

/// A value of an installed key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueState {
    /// The name as first written.
    pub name: String,
    pub possible: Possible<Value>,
}

/// An installed key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyState {
    /// The path as first written (segments), the reference control set as `CurrentControlSet`.
    pub path: Vec<String>,
    /// Whether a step names this key itself (creates it, writes or deletes in it, deletes it):
    /// otherwise it is only implied by a key below it.
    pub explicit: bool,
    pub exists: Possible<()>,
    /// By folded name.
    pub values: BTreeMap<String, ValueState>,
}

impl KeyState {
    /// The key may exist after the package ran.
    pub fn may_exist(&self) -> bool {
        self.exists.contains(&Outcome::Set(()))
    }
}

/// The registry state a package installs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// Every key the package names or implies, in export order (a key before its subkeys,
    /// siblings by folded name).
    pub keys: BTreeMap<KeyId, KeyState>,
}

impl State {
    /// The state `steps` leave.
    pub fn of(steps: &Steps) -> State {
        // Steps by key they name; key deletions by key.
        let mut by_key: HashMap<&KeyId, Vec<usize>> = HashMap::new();
        let mut deletions: HashMap<&KeyId, Vec<usize>> = HashMap::new();
        for (i, step) in steps.steps.iter().enumerate() {
            by_key.entry(&step.key).or_default().push(i);
            if step.action == Action::DeleteKey {
                deletions.entry(&step.key).or_default().push(i);
            }
        }
        // Every key named, and its ancestors (implied), with the steps that create a key
        // below each (an implied creation).
        // Walked up once per named key, not once per step (a key block's values all create
        // the same key); each list is sorted and deduplicated where it is read.
        let mut below: HashMap<KeyId, Vec<usize>> = HashMap::new();
        for (key, own) in &by_key {
            let creating: Vec<usize> = own
                .iter()
                .copied()
                .filter(|&i| {
                    matches!(
                        steps.steps[i].action,
                        Action::CreateKey | Action::SetValue(_)
                    )
                })
                .collect();
            if creating.is_empty() {
                continue;
            }
            let mut above = key.parent();
            while let Some(k) = above {
                above = k.parent();
                below.entry(k).or_default().extend(&creating);
            }
        }
        let mut state = State::default();
        let mut all: Vec<KeyId> = by_key.keys().map(|k| (*k).clone()).collect();
        all.extend(below.keys().cloned());
        all.sort();
        all.dedup();
        for key in all {
            // Deletions of this key or an ancestor.
            let mut killers: Vec<usize> = Vec::new();
            let mut at = Some(key.clone());
            while let Some(k) = at {
                if let Some(d) = deletions.get(&k) {
                    killers.extend(d);
                }
                at = k.parent();
            }
            let own = by_key.get(&key).map(Vec::as_slice).unwrap_or_default();
            let implied = below.get(&key).map(Vec::as_slice).unwrap_or_default();
            let mut indices: Vec<usize> =
                own.iter().chain(implied).chain(&killers).copied().collect();
            indices.sort_unstable();
            indices.dedup();
            let existence: Vec<&Step> = indices.iter().map(|&i| &steps.steps[i]).collect();
            let exists = outcomes(&existence, |s| match &s.action {
                Action::DeleteKey => Some(Outcome::Deleted),
                Action::CreateKey | Action::SetValue(_) => Some(Outcome::Set(())),
                Action::DeleteValue => None,
            });
            // The spelling: of the step that created the key, the first naming it or a key
            // below it since it was last deleted (a deleted key is created again by the next
            // write, in that write's spelling).
            let last_deleted = killers.iter().copied().max();
            let mut creators: Vec<usize> = own
                .iter()
                .chain(implied)
                .copied()
                .filter(|&i| last_deleted.is_none_or(|d| i > d))
                .collect();
            if creators.is_empty() {
                creators = own.iter().chain(implied).copied().collect();
            }
            let spelled = creators.into_iter().min().map(|i| &steps.spellings[i].key);
            let path: Vec<String> = spelled
                .map_or(&key.segments[..], |s| &s[..key.segments.len().min(s.len())])
                .iter()
                .map(|s| s.to_string())
                .collect();
            let mut values: BTreeMap<String, ValueState> = BTreeMap::new();
            // The key's steps by value name, in order (one pass: a key may hold many values).
            let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for &i in own {
                if let Some(name) = steps.steps[i].name.as_deref() {
                    by_name.entry(name).or_default().push(i);
                }
            }
            for (name, named) in by_name {
                let mut indices: Vec<usize> = named.iter().chain(&killers).copied().collect();
                indices.sort_unstable();
                indices.dedup();
                let relevant: Vec<&Step> = indices.iter().map(|&i| &steps.steps[i]).collect();
                let possible = outcomes(&relevant, |s| match &s.action {
                    Action::SetValue(v) => Some(Outcome::Set(v.clone())),
                    Action::DeleteValue | Action::DeleteKey => Some(Outcome::Deleted),
                    Action::CreateKey => None,
                });
                // Spelled as the write that created it since it was last deleted.
                let last_deleted = indices
                    .iter()
                    .copied()
                    .filter(|&i| {
                        matches!(
                            steps.steps[i].action,
                            Action::DeleteValue | Action::DeleteKey
                        )
                    })
                    .max();
                let shown = named
                    .iter()
                    .find(|&&i| {
                        last_deleted.is_none_or(|d| i > d)
                            && matches!(steps.steps[i].action, Action::SetValue(_))
                    })
                    .or_else(|| named.first())
                    .and_then(|&i| steps.spellings[i].value.clone())
                    .unwrap_or_else(|| name.to_string());
                values.insert(
                    name.to_string(),
                    ValueState {
                        name: shown,
                        possible,
                    },
                );
            }
            // An ancestor is spelled as its own key is (keys come before their subkeys).
            let path = match key.parent().and_then(|p| state.keys.get(&p)) {
                Some(parent) if parent.path.len() + 1 == path.len() => {
                    let mut spelled = parent.path.clone();
                    spelled.extend(path.last().cloned());
                    spelled
                }
                _ => path,
            };
            state.keys.insert(
                key,
                KeyState {
                    path,
                    explicit: !own.is_empty(),
                    exists,
                    values,
                },
            );
        }
        state
    }

    /// The state of `files` (with their index in the package).
    pub fn of_files<'m, 'a: 'm>(
        files: impl IntoIterator<Item = (usize, &'m FileModel<'a>)>,
        vars: &dyn Expansion,
    ) -> State {
        State::of(&Steps::of(files, vars))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Charset;
    use crate::pipeline::load;
    use crate::syntax::Syntax;

    fn state_of(files: &[(&str, &str)]) -> State {
        let loaded: Vec<_> = files
            .iter()
            .map(|(path, text)| load(path, text.as_bytes().to_vec()).unwrap())
            .collect();
        let models: Vec<FileModel<'_>> = loaded
            .iter()
            .map(|l| {
                let text = l.source.text();
                let charset = Charset::of(l.source.encoding);
                match &l.syntax {
                    Syntax::Script(doc) => crate::model::wise::lower(doc, text, charset),
                    Syntax::Reg(file) => crate::model::reg::lower(file, text, l.source.encoding),
                    Syntax::Wix(_) | Syntax::Msi(_) => FileModel::default(),
                }
            })
            .collect();
        State::of_files(models.iter().enumerate(), &KeepAll)
    }

    fn key<'s>(state: &'s State, path: &str) -> &'s KeyState {
        let (id, _) = KeyId::of(Charset::Utf8, Hive::LocalMachine, path.as_bytes()).unwrap();
        state
            .keys
            .get(&id)
            .unwrap_or_else(|| panic!("no key {path}"))
    }

    fn dword(n: u32) -> Outcome<Value> {
        Outcome::Set(Value {
            kind: 4,
            bytes: n.to_le_bytes().to_vec(),
        })
    }

    #[test]
    fn last_write_wins_deletions_apply_and_keys_are_implied() {
        let state = state_of(&[(
            "a.reg",
            "REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A\\B]\n\"v\"=dword:1\n\"w\"=dword:1\n\n[HKEY_LOCAL_MACHINE\\Software\\a\\b]\n\"V\"=dword:2\n\"w\"=-\n\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\A\\C]\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A\\C\\D]\n\"x\"=\"y\"\n",
        )]);
        let b = key(&state, "SOFTWARE\\A\\B");
        assert_eq!(b.path, ["SOFTWARE", "A", "B"]);
        assert_eq!(b.values["V"].name, "v");
        assert_eq!(b.values["V"].possible, vec![dword(2)]);
        assert_eq!(b.values["W"].possible, vec![Outcome::Deleted]);
        let a = key(&state, "SOFTWARE\\A");
        assert!(!a.explicit && a.may_exist());
        // Deleted, then created again below.
        let c = key(&state, "SOFTWARE\\A\\C");
        assert_eq!(c.exists, vec![Outcome::Set(())]);
        assert_eq!(
            key(&state, "SOFTWARE\\A\\C\\D").values["X"].possible[0],
            Outcome::Set(Value {
                kind: 1,
                bytes: vec![b'y', 0, 0, 0]
            })
        );
    }

    #[test]
    fn names_are_spelled_as_the_write_that_created_them() {
        let state = state_of(&[(
            "a.reg",
            "REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Key]\n\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\key]\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\kEy\\Sub]\n\n[HKEY_LOCAL_MACHINE\\Software\\S\\A]\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\s\\B]\n",
        )]);
        // Deleted, then created again by the write below it.
        assert_eq!(key(&state, "SOFTWARE\\KEY").path, ["SOFTWARE", "kEy"]);
        assert_eq!(
            key(&state, "SOFTWARE\\KEY\\SUB").path,
            ["SOFTWARE", "kEy", "Sub"]
        );
        // A key's ancestors are spelled as those keys are: as first written.
        assert_eq!(key(&state, "SOFTWARE\\S\\B").path, ["SOFTWARE", "S", "B"]);
        let value = |path: &str| {
            let state = state_of(&[("v.reg", path)]);
            key(&state, "SOFTWARE\\V").values["FOO"].name.clone()
        };
        // Deleted, then set again: the new value has the new spelling.
        assert_eq!(
            value(
                "REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\V]\n\"foo\"=\"1\"\n\"FOO\"=-\n\"fOo\"=\"2\"\n\"foO\"=\"3\"\n"
            ),
            "fOo"
        );
        assert_eq!(
            value("REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\V]\n\"foo\"=\"1\"\n\"FOO\"=\"2\"\n"),
            "foo"
        );
    }

    #[test]
    fn the_reference_control_set_is_the_current_one() {
        let state = state_of(&[(
            "a.reg",
            "REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\S]\n\"Start\"=dword:0\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\S]\n\"Start\"=dword:3\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet002\\Services\\S]\n\"Start\"=dword:4\n",
        )]);
        let current = key(&state, "SYSTEM\\ControlSet001\\Services\\S");
        assert_eq!(current.values["START"].possible, vec![dword(3)]);
        assert_eq!(current.path[1], "CurrentControlSet");
        let other = key(&state, "SYSTEM\\ControlSet002\\Services\\S");
        assert_eq!(other.values["START"].possible, vec![dword(4)]);
    }

    #[test]
    fn conditional_operations_and_files_may_or_may_not_win() {
        let script = "Document Type: WSE\nitem: Edit Registry\n  Key=SOFTWARE\\A\n  New Value=1\n  Value Name=v\n  Root=2\n  Data Type=3\nend\nitem: If/While Statement\n  Variable=X\n  Value=1\nend\nitem: Edit Registry\n  Key=SOFTWARE\\A\n  New Value=2\n  Value Name=v\n  Root=2\n  Data Type=3\nend\nitem: End Block\nend\n";
        let state = state_of(&[("s.wse", script)]);
        assert_eq!(
            key(&state, "SOFTWARE\\A").values["V"].possible,
            vec![dword(1), dword(2)]
        );
        let reg = "REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\n\"v\"=dword:3\n";
        let both = state_of(&[("s.wse", script), ("a.reg", reg)]);
        assert_eq!(
            key(&both, "SOFTWARE\\A").values["V"].possible,
            vec![dword(1), dword(2), dword(3)]
        );
        // A file that only may write leaves the other file's value possible.
        let untouched = state_of(&[("a.reg", "REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\B]\n")]);
        assert_eq!(
            key(&untouched, "SOFTWARE\\B").exists,
            vec![Outcome::Set(())]
        );
    }

    #[test]
    fn service_installs_write_their_values() {
        let script = "Document Type: WSE\nitem: Create Service\n  Service Name=Svc\n  Executable Path=%MAINDIR%\\svc.exe\n  Service Type=16\n  Boot Type=2\nend\n";
        let state = state_of(&[("s.wse", script)]);
        let svc = key(&state, "SYSTEM\\CurrentControlSet\\Services\\Svc");
        assert_eq!(svc.values["START"].possible, vec![dword(2)]);
        assert_eq!(svc.values["ERRORCONTROL"].possible, vec![dword(0)]);
        let Outcome::Set(object) = &svc.values["OBJECTNAME"].possible[0] else {
            panic!()
        };
        assert_eq!(object.text().as_deref(), Some("LocalSystem\0"));
        let Outcome::Set(image) = &svc.values["IMAGEPATH"].possible[0] else {
            panic!()
        };
        assert_eq!(image.shown(), "\"%MAINDIR%\\svc.exe\"");
        assert!(!svc.values.contains_key("DISPLAYNAME"));
    }
}
