//! What the rules know about a package: which services are created, where, and the
//! per-file facts a rule needs about the other writes (who else writes to a key, which
//! `CurrentControlSet` writes exist to compare `ControlSetNNN` copies with).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::model::name::{self, Charset};
use crate::model::package::{Known, Variables};
use crate::model::path::{same_key, segments};
use crate::model::script::{include_target, normalize_path};
use crate::model::service::ServiceSyntax;
use crate::model::{
    ControlSet, FileModel, Hive, OpKind, Operation, ServiceInstall, SystemLocation,
};
use crate::source::SourceFile;

/// One file of a package, lowered.
pub struct PackageFile<'a> {
    pub source: &'a SourceFile,
    pub model: FileModel<'a>,
}

/// The multiplier of the byte fold below (FxHash's).
const FOLD: u64 = 0x517c_c1b7_2722_0a95;

/// Folds ASCII-lower-cased bytes into a running hash, a byte at a time (names and paths are
/// short; SipHash per lookup cost more than the rest of the per-write work together).
fn fold_lowercase(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h = (h.rotate_left(5) ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(FOLD);
    }
    h
}

/// The hasher of the per-file maps: their keys hash themselves with [`fold_lowercase`] and
/// write one `u64` each, which this mixes and finishes (the finish spreads the bits over the
/// low ones the table indexes with).
#[derive(Clone, Copy, Default)]
pub struct FoldHasher(u64);

impl Hasher for FoldHasher {
    fn finish(&self) -> u64 {
        // MurmurHash3's 64-bit finalizer.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = fold_lowercase(self.0, bytes);
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(FOLD);
    }

    fn write_u8(&mut self, x: u8) {
        self.write_u64(u64::from(x));
    }

    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }

    fn write_isize(&mut self, x: isize) {
        self.write_u64(x as u64);
    }
}

/// Builds [`FoldHasher`]s.
pub type FoldState = BuildHasherDefault<FoldHasher>;

/// A name compared as the registry compares names ([`name::same_bytes`]), borrowed from the
/// working text of a file with charset `charset`, so that lookups allocate nothing.
#[derive(Clone, Copy, Debug)]
pub struct Folded<'n> {
    pub bytes: &'n [u8],
    pub charset: Charset,
}

impl<'n> Folded<'n> {
    pub fn of(charset: Charset, bytes: &'n [u8]) -> Self {
        Folded { bytes, charset }
    }
}

impl PartialEq for Folded<'_> {
    fn eq(&self, other: &Self) -> bool {
        if self.charset == other.charset {
            return name::same_bytes(self.charset, self.bytes, other.bytes);
        }
        name::same(
            &self.charset.decode(self.bytes),
            &other.charset.decode(other.bytes),
        )
    }
}

impl Eq for Folded<'_> {}

impl Hash for Folded<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(hash_name(self.charset, self.bytes));
    }
}

/// The hash of a name folded as the registry compares it.
fn hash_name(charset: Charset, bytes: &[u8]) -> u64 {
    let mut h = 0u64;
    name::hash_folded(charset, bytes, |c| {
        h = (h.rotate_left(5) ^ u64::from(c)).wrapping_mul(FOLD);
    });
    h
}

/// A key path compared as the registry compares paths (segment by segment, ignoring empty
/// ones). Borrowed from an operation's key, so the per-file maps allocate nothing per
/// operation; its hash is computed once, as it is looked up several times.
#[derive(Clone, Copy, Debug)]
pub struct KeyPath<'k> {
    path: &'k [u8],
    hash: u64,
    charset: Charset,
}

impl PartialEq for KeyPath<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && same_key(self.charset, self.path, other.path)
    }
}

impl Eq for KeyPath<'_> {}

impl Hash for KeyPath<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl<'k> KeyPath<'k> {
    pub fn new(charset: Charset, path: &'k [u8]) -> Self {
        // The folded segments joined by `\`, as `same_key` sees the path.
        let mut hash = 0u64;
        for (i, (_, segment)) in segments(path).enumerate() {
            if i > 0 {
                hash = (hash.rotate_left(5) ^ u64::from(b'\\')).wrapping_mul(FOLD);
            }
            name::hash_folded(charset, segment, |c| {
                hash = (hash.rotate_left(5) ^ u64::from(c)).wrapping_mul(FOLD);
            });
        }
        Self {
            path,
            hash,
            charset,
        }
    }

    /// The enclosing key (`a\b` of `a\b\c`); `None` for a path of one segment or none.
    fn parent(self) -> Option<KeyPath<'k>> {
        let path = self.path;
        let end = path.iter().rposition(|&b| b != b'\\')? + 1;
        let cut = memchr::memrchr(b'\\', &path[..end])?;
        let parent = &path[..cut];
        parent
            .iter()
            .any(|&b| b != b'\\')
            .then(|| KeyPath::new(self.charset, parent))
    }
}

/// Where a created service comes from.
#[derive(Clone, Copy, Debug)]
pub enum Creator<'m, 'a> {
    /// An active `Create Service` item in file `file` of the package.
    Item {
        file: usize,
        item: &'m ServiceInstall<'a>,
        /// Where [`PackageContext::line_of`] keeps the item's line.
        slot: usize,
    },
    /// Declared in the configuration (`services = [...]`) or with `--service`.
    Declared,
}

/// Package-wide facts, built once per fix pass.
pub struct PackageContext<'m, 'a> {
    /// Service name (folded as the registry compares names) → its first creator (items
    /// before declarations).
    created: HashMap<String, Creator<'m, 'a>>,
    /// A service install of the package names its service through a reference that does not
    /// resolve: it could be any service.
    any_service: bool,
    /// The package's files, for facts computed on first use.
    files: &'m [PackageFile<'a>],
    /// The variables the package's files define, on first use.
    variables: std::sync::OnceLock<Variables>,
    /// The includes of the package's files that name a file of the project but were not read,
    /// on first use.
    unread: std::sync::OnceLock<Vec<String>>,
    /// Service name (folded) → whether the package writes its `Type` and its `ImagePath`
    /// (SVC030), on first use.
    service_values: std::sync::OnceLock<HashMap<String, (bool, bool)>>,
    /// The package's file paths, normalized and lower-cased (to tell which includes were read).
    paths: HashSet<String>,
    /// The line of each creator item, found on first use.
    creator_lines: Vec<std::sync::OnceLock<usize>>,
    /// (path below the control set, value name), both folded → how many writes of the package
    /// set it in `CurrentControlSet` and in the `ControlSet001` it links to, on first use.
    current_set: std::sync::OnceLock<HashMap<FoldedWrite, (u32, u32)>>,
    /// How each file writes service installs, found on first use. (Owned: a lazily built
    /// field with a lifetime would make the context invariant.)
    syntaxes: Vec<std::sync::OnceLock<Option<ServiceSyntax<'static>>>>,
}

impl<'m, 'a> PackageContext<'m, 'a> {
    pub fn new(files: &'m [PackageFile<'a>], declared: &[String]) -> Self {
        let mut created = HashMap::new();
        let mut slots = 0;
        let mut any_service = false;
        for (index, file) in files.iter().enumerate() {
            for item in &file.model.services {
                if item.unresolved {
                    any_service = true;
                    continue;
                }
                if item.name.is_empty() {
                    continue;
                }
                let key = name::folded(file.model.charset, &item.name).into_owned();
                created.entry(key).or_insert_with(|| {
                    slots += 1;
                    Creator::Item {
                        file: index,
                        item,
                        slot: slots - 1,
                    }
                });
            }
        }
        for declared in declared {
            created
                .entry(name::fold(declared).into_owned())
                .or_insert(Creator::Declared);
        }
        let paths = files
            .iter()
            .map(|f| normalize_path(&f.source.path).to_ascii_lowercase())
            .collect();
        Self {
            created,
            any_service,
            files,
            variables: std::sync::OnceLock::new(),
            unread: std::sync::OnceLock::new(),
            service_values: std::sync::OnceLock::new(),
            paths,
            creator_lines: (0..slots).map(|_| std::sync::OnceLock::new()).collect(),
            syntaxes: files.iter().map(|_| std::sync::OnceLock::new()).collect(),
            current_set: std::sync::OnceLock::new(),
        }
    }

    /// Whether the package writes value `value` (`None`: creates the key) of the key at `rest`
    /// (a path below the control set, of a file with charset `charset`) in the current control
    /// set, as seen from a copy in `copy_set`: `CurrentControlSet` always counts; the
    /// `ControlSet001` that it links to in the reference configuration counts for a copy in
    /// another numbered set (there it is the current set's write), not for a copy in
    /// `ControlSet001` itself (that is another copy of the same key).
    pub fn current_set_writes(
        &self,
        charset: Charset,
        rest: &[u8],
        value: Option<&[u8]>,
        copy_set: ControlSet,
    ) -> bool {
        let map = self.current_set.get_or_init(|| {
            let mut map: HashMap<FoldedWrite, (u32, u32)> = HashMap::new();
            for file in self.files {
                let charset = file.model.charset;
                for write in file.model.writes() {
                    let Some(location) = SystemLocation::of(write.hive, &write.key) else {
                        continue;
                    };
                    if write.unresolved || !location.control_set.is_reference() {
                        continue;
                    }
                    let key = (
                        folded_path(charset, location.rest_text()),
                        write
                            .value
                            .as_deref()
                            .map(|v| name::folded(charset, v).into_owned()),
                    );
                    let counts = map.entry(key).or_default();
                    match location.control_set {
                        ControlSet::Current => counts.0 += 1,
                        ControlSet::Numbered(_) => counts.1 += 1,
                    }
                }
            }
            map
        });
        let key = (
            folded_path(charset, rest),
            value.map(|v| name::folded(charset, v).into_owned()),
        );
        let (current, linked) = map.get(&key).copied().unwrap_or((0, 0));
        current > 0 || (!copy_set.is_reference() && linked > 0)
    }

    /// How file `file` writes a service install, if its format can hold one (worked out once
    /// per file: it may read the whole text).
    pub fn service_syntax(&self, file: usize) -> Option<&ServiceSyntax<'static>> {
        self.syntaxes
            .get(file)?
            .get_or_init(|| {
                self.files
                    .get(file)?
                    .model
                    .service_syntax()
                    .map(ServiceSyntax::into_owned)
            })
            .as_ref()
    }

    /// Whether the package holds the file at `path` (compared normalized, ASCII
    /// case-insensitively): an included script that was read is part of the package.
    pub fn has_file(&self, path: &str) -> bool {
        self.paths
            .contains(&normalize_path(path).to_ascii_lowercase())
    }

    /// The variables the package's files (and the files they include) define.
    pub fn variables(&self) -> &Variables {
        self.variables
            .get_or_init(|| Variables::of(self.files.iter().map(|f| &f.model)))
    }

    /// Whether `%name%` refers to something the installer knows: a built-in, a compiler
    /// variable or a variable of the package.
    pub fn is_known(&self, name: &[u8]) -> bool {
        // The built-ins first: the package's variables cost a pass over its scripts.
        crate::model::script::is_built_in(name) || self.variables().defines(name)
    }

    /// The includes of the package's files that name a file of the project but were not read
    /// (missing, or an absolute path on the build machine), as written: a variable may be
    /// defined there. Includes through a variable (`%_WISE_%\INCLUDE\rollback.wse`) are the
    /// installer's stock scripts and are not counted.
    pub fn unread_includes(&self) -> &[String] {
        self.unread.get_or_init(|| {
            let mut out: Vec<String> = Vec::new();
            for file in self.files {
                for include in &file.model.includes {
                    let pathname = include.pathname;
                    if pathname.is_empty() || pathname.contains(&b'%') {
                        continue;
                    }
                    let read = include_target(&file.source.path, pathname)
                        .is_some_and(|target| self.has_file(&target));
                    let shown = file.source.display_text(pathname).into_owned();
                    if !read && !out.contains(&shown) {
                        out.push(shown);
                    }
                }
            }
            out
        })
    }

    /// How the package's references expand (for the state it installs).
    pub fn expansion(&self) -> Known<'_> {
        Known {
            variables: self.variables(),
            unsure: !self.unread_includes().is_empty(),
        }
    }

    /// Whether the package writes both `Type` and `ImagePath` of service `name` (of a file with
    /// charset `charset`), in any file and control set.
    pub fn writes_type_and_image_path(&self, charset: Charset, name: &[u8]) -> bool {
        self.service_values
            .get_or_init(|| service_values(self.files))
            .get(&*name::folded(charset, name))
            .is_some_and(|&(t, i)| t && i)
    }

    /// The creator of service `name` (of a file with charset `charset`), if the package
    /// creates it.
    pub fn creator(&self, charset: Charset, name: &[u8]) -> Option<Creator<'m, 'a>> {
        self.created.get(&*name::folded(charset, name)).copied()
    }

    /// Whether a service install of the package names its service through an unresolved
    /// reference, so that it may create any service.
    pub fn may_create_any(&self) -> bool {
        self.any_service
    }

    /// The 1-based line of a creator item's head, for messages (0 for a declared service).
    pub fn line_of(&self, creator: Creator<'_, '_>) -> usize {
        let Creator::Item { file, item, slot } = creator else {
            return 0;
        };
        let (Some(f), Some(line)) = (self.files.get(file), self.creator_lines.get(slot)) else {
            return 0;
        };
        *line.get_or_init(|| {
            f.source
                .line_index()
                .line_col(f.source.text(), item.head.start)
                .line
        })
    }

    pub fn files(&self) -> &'m [PackageFile<'a>] {
        self.files
    }
}

/// A path below the control set and a value name (`None`: the key), both folded.
type FoldedWrite = (String, Option<String>);

/// A key path folded as the registry compares it, segments joined by `\\`.
fn folded_path(charset: Charset, path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, (_, segment)) in segments(path).enumerate() {
        if i > 0 {
            out.push('\\');
        }
        out.push_str(&name::folded(charset, segment));
    }
    out
}

/// Service name (folded) → whether `files` write its `Type` and its `ImagePath`, in any file
/// and control set.
fn service_values(files: &[PackageFile<'_>]) -> HashMap<String, (bool, bool)> {
    let mut service_values: HashMap<String, (bool, bool)> = HashMap::new();
    for file in files {
        for write in file.model.writes() {
            // The value name first: it rules out almost every write cheaply.
            let Some(value) = write.value.as_deref() else {
                continue;
            };
            let is_type = value.eq_ignore_ascii_case(b"Type");
            if !is_type && !value.eq_ignore_ascii_case(b"ImagePath") {
                continue;
            }
            let Some(location) = SystemLocation::of(write.hive, &write.key) else {
                continue;
            };
            let Some(service) = location.service() else {
                continue;
            };
            if location.service_depth() > 0 || write.unresolved {
                continue;
            }
            let entry = service_values
                .entry(name::folded(file.model.charset, service).into_owned())
                .or_default();
            if is_type {
                entry.0 = true;
            } else {
                entry.1 = true;
            }
        }
    }
    service_values
}

/// A write with its location under `HKLM\SYSTEM\<control set>` worked out once.
pub struct Classified<'w, 'a> {
    pub write: &'w Operation<'a>,
    pub location: SystemLocation<'w>,
    /// The path below the control set: the identity of a key across `CurrentControlSet` and
    /// `ControlSetNNN`.
    rest: KeyPath<'w>,
}

impl<'w> Classified<'w, '_> {
    /// The path below the control set (see the field).
    pub fn rest(&self) -> KeyPath<'w> {
        self.rest
    }

    /// The text of the path below the control set.
    pub fn rest_text(&self) -> &'w [u8] {
        self.location.rest_text()
    }
}

/// A value write's identity across control sets: the path below the control set and the value
/// name.
type WriteIdentity<'w> = (KeyPath<'w>, Option<Folded<'w>>);

/// Write indices, the first without an allocation (most identities have one write).
struct Indices {
    first: usize,
    more: Vec<usize>,
}

/// What a file writes to one key.
#[derive(Default)]
struct KeyContents {
    /// Distinct value names written to it.
    values: u32,
    has_subkeys: bool,
}

/// What the operations of one path statement (a `.reg` key line and its values) do.
#[derive(Clone, Copy, Debug, Default)]
pub struct StatementContents {
    pub sets: u32,
    pub deletes: u32,
}

/// Per-file facts shared by the rules.
pub struct FileFacts<'w, 'a> {
    pub charset: Charset,
    /// Writes under `HKLM\SYSTEM\<control set>`, with their index in `FileModel::ops`.
    pub system: Vec<(usize, Classified<'w, 'a>)>,
    /// What is written to each key (by path below the control set): how many distinct value
    /// names, and whether any subkey is written.
    contents: Contents<'w>,
    /// Every (key, value name) written, to tell which names a key's values have.
    values: ValueNames<'w>,
    /// `CurrentControlSet` writes: (path below the control set, value name) → data indices, to
    /// find the original of a `ControlSetNNN` copy.
    current_writes: HashMap<WriteIdentity<'w>, Indices, FoldState>,
    /// What each path statement's operations do.
    statements: HashMap<u32, StatementContents>,
}

/// The writes of `writes` (the first at index `base` of the model) under
/// `HKLM\SYSTEM\<control set>`, with their model index.
fn classify<'w, 'a>(
    charset: Charset,
    base: usize,
    writes: &'w [Operation<'a>],
) -> Vec<(usize, Classified<'w, 'a>)> {
    // Most writes a model holds are under `HKLM\SYSTEM` (that is what lowering selects).
    let mut out: Vec<(usize, Classified<'w, 'a>)> = Vec::with_capacity(writes.len());
    // Consecutive writes usually share their key (a `.reg` block's values, a script's writes
    // to one service key): the previous write's location serves for the same key text.
    let mut last: Option<(&'w Operation<'a>, Option<(SystemLocation<'w>, KeyPath<'w>)>)> = None;
    for (i, write) in writes.iter().enumerate() {
        if !write.is_write() {
            continue;
        }
        let located = match &last {
            Some((prev, located)) if prev.hive == write.hive && prev.key == write.key => {
                located.clone()
            }
            _ => SystemLocation::of(write.hive, &write.key).map(|location| {
                let rest = KeyPath::new(charset, location.rest_text());
                (location, rest)
            }),
        };
        if let Some((location, rest)) = &located {
            out.push((
                base + i,
                Classified {
                    write,
                    location: location.clone(),
                    rest: *rest,
                },
            ));
        }
        last = Some((write, located));
    }
    out
}

/// What is written to each key of `system`, and every (key, value name) written.
fn key_contents<'w>(
    charset: Charset,
    system: &[(usize, Classified<'w, '_>)],
) -> (Contents<'w>, ValueNames<'w>) {
    // Not sized to the writes: a package that writes the same keys again and again (an
    // installer's items repeated, a service written by every step) has few distinct keys, and
    // tables sized to its writes took more memory than its operations.
    let mut contents: Contents<'w> = HashMap::default();
    let mut values: ValueNames<'w> = HashSet::default();
    // A run of writes to one key (a `.reg` block, a service's values) is entered once.
    for run in system.chunk_by(|(_, a), (_, b)| a.rest == b.rest) {
        let Some((_, first)) = run.first() else {
            continue;
        };
        let rest = first.rest;
        // A value write marks its key as holding that value; a write in a subkey marks every
        // ancestor as holding something.
        let mut names = None;
        for (_, c) in run {
            if let Some(value) = c.write.value.as_deref() {
                let new_name = values.insert((rest, Folded::of(charset, value)));
                *names.get_or_insert(0) += u32::from(new_name);
            }
        }
        if let Some(names) = names {
            contents.entry(rest).or_default().values += names;
        }
        // Every ancestor holds a subkey (a script may write a deep key without its parents).
        let mut ancestor = rest;
        while let Some(parent) = ancestor.parent() {
            ancestor = parent;
            let entry = contents.entry(ancestor).or_default();
            if entry.has_subkeys {
                // Its ancestors were marked when it was.
                break;
            }
            entry.has_subkeys = true;
        }
    }
    (contents, values)
}

/// What is written to each key (see [`FileFacts`]).
type Contents<'w> = HashMap<KeyPath<'w>, KeyContents, FoldState>;

/// Every (key, value name) written.
type ValueNames<'w> = HashSet<(KeyPath<'w>, Folded<'w>), FoldState>;

/// The writes of `system` in the reference configuration's current control set
/// (`CurrentControlSet`, and `ControlSet001`, which it links to) by identity.
fn current_writes<'w>(
    charset: Charset,
    system: &[(usize, Classified<'w, '_>)],
) -> HashMap<WriteIdentity<'w>, Indices, FoldState> {
    // Grown as filled, not sized to the writes (see `key_contents`).
    let mut current_writes: HashMap<_, Indices, FoldState> = HashMap::default();
    for (index, c) in system {
        if !c.location.control_set.is_reference() {
            continue;
        }
        let value: Option<&'w [u8]> = c.write.value.as_deref();
        current_writes
            .entry((c.rest, value.map(|v| Folded::of(charset, v))))
            .and_modify(|i: &mut Indices| i.more.push(*index))
            .or_insert(Indices {
                first: *index,
                more: Vec::new(),
            });
    }
    current_writes
}

impl<'w, 'a> FileFacts<'w, 'a> {
    pub fn new(model: &'w FileModel<'a>) -> Self {
        let parallel = crate::pieces::split(model.ops.len(), crate::pieces::RULES_FROM).is_some();
        Self::build(model, parallel)
    }

    /// As [`FileFacts::new`]; `parallel`: on the current rayon pool.
    pub(crate) fn build(model: &'w FileModel<'a>, parallel: bool) -> Self {
        let writes = model.ops.as_slice();
        let charset = model.charset;
        // A large file's writes are classified in parts and its two kinds of maps built side
        // by side on the pool; each is the same as built in one pass.
        let system = if parallel {
            use rayon::prelude::*;
            let parts = crate::pieces::split(writes.len(), 0).unwrap_or(1);
            let size = writes.len().div_ceil(parts).max(1);
            let parts: Vec<Vec<_>> = writes
                .par_chunks(size)
                .enumerate()
                .map(|(k, part)| classify(charset, k * size, part))
                .collect();
            crate::pieces::concat(parts)
        } else {
            classify(charset, 0, writes)
        };
        let ((contents, values), current_writes) = if parallel {
            rayon::join(
                || key_contents(charset, &system),
                || current_writes(charset, &system),
            )
        } else {
            (
                key_contents(charset, &system),
                current_writes(charset, &system),
            )
        };
        let mut statements: HashMap<u32, StatementContents> = HashMap::new();
        for op in writes {
            let Some(id) = op.statement else { continue };
            let entry = statements.entry(id).or_default();
            match op.kind {
                OpKind::SetValue => entry.sets += 1,
                OpKind::DeleteValue => entry.deletes += 1,
                OpKind::CreateKey | OpKind::DeleteKey => {}
            }
        }
        Self {
            charset,
            system,
            contents,
            values,
            current_writes,
            statements,
        }
    }

    /// How many entries the facts' tables have room for (to test that they follow the
    /// distinct keys, not the writes).
    #[cfg(test)]
    pub(crate) fn table_room(&self) -> usize {
        self.contents.capacity() + self.values.capacity() + self.current_writes.capacity()
    }

    /// Whether `op` only opens a key for deletions: a key-creating operation whose path
    /// statement deletes values and sets none (a `.reg` block of `"name"=-` lines). It is not
    /// captured state: nothing reports it.
    pub fn opens_for_deletions(&self, op: &Operation<'_>) -> bool {
        op.kind == OpKind::CreateKey
            && op
                .statement
                .and_then(|id| self.statements.get(&id))
                .is_some_and(|c| c.sets == 0 && c.deletes > 0)
    }

    /// Whether the file writes value `name` of the key at `rest` (a path below the control
    /// set), in any control set.
    pub fn key_holds(&self, rest: KeyPath<'_>, name: &[u8]) -> bool {
        self.values
            .contains(&(rest, Folded::of(self.charset, name)))
    }

    /// Whether the key at `rest` (a path below the control set) has value writes other than
    /// those named in `except` (distinct names, case-insensitive), or (when `count_subkeys`)
    /// writes in subkeys.
    pub fn key_holds_other_than(
        &self,
        rest: KeyPath<'_>,
        except: &[&[u8]],
        count_subkeys: bool,
    ) -> bool {
        self.contents.get(&rest).is_some_and(|c| {
            (count_subkeys && c.has_subkeys) || {
                let named = except
                    .iter()
                    .filter(|e| self.values.contains(&(rest, Folded::of(self.charset, e))))
                    .count();
                c.values as usize > named
            }
        })
    }

    /// Indices of the writes to the reference configuration's current control set
    /// (`CurrentControlSet` or `ControlSet001`) with this path below the control set and
    /// value name, in file order.
    pub fn current_writes<'s>(
        &'s self,
        rest: KeyPath<'s>,
        value: Option<&'s [u8]>,
    ) -> impl Iterator<Item = usize> + 's {
        let found = self
            .current_writes
            .get(&(rest, value.map(|v| Folded::of(self.charset, v))));
        found
            .map(|i| i.first)
            .into_iter()
            .chain(found.into_iter().flat_map(|i| i.more.iter().copied()))
    }
}

/// `HKLM\SYSTEM\…` as written (hive abbreviated, no leading `\`), for messages and reports.
pub fn display_key(source: &SourceFile, hive: Hive, key: &[u8]) -> String {
    let trimmed = segments(key)
        .next()
        .map_or(&key[..0], |(span, _)| &key[span.start..]);
    let name = source.display_text(trimmed);
    let hive = hive.short_name();
    let mut out = String::with_capacity(hive.len() + 1 + name.len());
    out.push_str(hive);
    out.push('\\');
    out.push_str(&name);
    out
}
