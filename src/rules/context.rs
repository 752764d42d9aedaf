//! What the rules know about a package: which services are created, where, and the
//! per-file facts a rule needs about the other writes (who else writes to a key, which
//! `CurrentControlSet` writes exist to compare `ControlSetNNN` copies with).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::model::path::{keys_equal, segments};
use crate::model::script::{self, Variable, normalize_path};
use crate::model::{CreateService, FileModel, Hive, RegWrite, SystemLocation};
use crate::source::SourceFile;
use crate::syntax::wise::Document;

/// One file of a package, lowered.
pub struct PackageFile<'a> {
    pub source: &'a SourceFile,
    pub model: FileModel<'a>,
    /// A script (writes are ordered against Create Service items) rather than a `.reg` export.
    pub is_script: bool,
    /// The script's syntax tree, for facts read only when a rule needs them (the variables a
    /// script defines).
    pub doc: Option<&'a Document>,
}

impl<'a> PackageFile<'a> {
    /// The variables this script defines (none for a `.reg` file). Reads every item that may
    /// define one, so rules call it only when a finding depends on it.
    pub fn variables(&self) -> Vec<Variable<'a>> {
        self.doc
            .map(|doc| script::variables(doc, self.source.text()))
            .unwrap_or_default()
    }
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

/// A name compared ASCII case-insensitively (service, value and variable names), borrowed
/// where it can be, so that lookups allocate nothing.
#[derive(Clone, Debug)]
pub struct NoCase<'n>(pub Cow<'n, [u8]>);

impl<'n> NoCase<'n> {
    pub fn of(name: &'n [u8]) -> Self {
        NoCase(Cow::Borrowed(name))
    }
}

impl PartialEq for NoCase<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl Eq for NoCase<'_> {}

impl Hash for NoCase<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(fold_lowercase(0, &self.0));
    }
}

/// A key path compared as [`keys_equal`] compares paths: ASCII case-insensitively, ignoring
/// empty segments. Borrowed from a write's key, so the per-file maps allocate nothing per
/// write; its hash is computed once, as it is looked up several times.
#[derive(Clone, Copy, Debug)]
pub struct KeyPath<'k> {
    path: &'k [u8],
    hash: u64,
}

impl PartialEq for KeyPath<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && keys_equal(self.path, other.path)
    }
}

impl Eq for KeyPath<'_> {}

impl Hash for KeyPath<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl<'k> KeyPath<'k> {
    pub fn new(path: &'k [u8]) -> Self {
        // The segments lower-cased and joined by `\`, as `keys_equal` sees the path.
        let mut hash = 0;
        for (i, (_, segment)) in segments(path).enumerate() {
            if i > 0 {
                hash = fold_lowercase(hash, b"\\");
            }
            hash = fold_lowercase(hash, segment);
        }
        Self { path, hash }
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
            .then(|| KeyPath::new(parent))
    }
}

/// Where a created service comes from.
#[derive(Clone, Copy, Debug)]
pub enum Creator<'m, 'a> {
    /// An active `Create Service` item in file `file` of the package.
    Item {
        file: usize,
        item: &'m CreateService<'a>,
        /// Where [`PackageContext::line_of`] keeps the item's line.
        slot: usize,
    },
    /// Declared in the configuration (`services = [...]`) or with `--service`.
    Declared,
}

/// Package-wide facts, built once per fix pass.
pub struct PackageContext<'m, 'a> {
    /// Service name → its first creator (items before declarations).
    created: HashMap<NoCase<'a>, Creator<'m, 'a>>,
    /// The package's files, for facts computed on first use.
    files: &'m [PackageFile<'a>],
    /// The variables the package's scripts define (SVC040), on first use.
    /// (Owned names: a lazily built field with a lifetime would make the context invariant.)
    variables: std::sync::OnceLock<HashSet<NoCase<'static>>>,
    /// Service name → whether the package writes its `Type` and its `ImagePath` (SVC030), on
    /// first use.
    service_values: std::sync::OnceLock<HashMap<NoCase<'static>, (bool, bool)>>,
    /// The package's file paths, normalized and lower-cased (to tell which includes were read).
    paths: HashSet<String>,
    /// The line of each creator item, found on first use.
    creator_lines: Vec<std::sync::OnceLock<usize>>,
}

impl<'m, 'a> PackageContext<'m, 'a> {
    pub fn new(files: &'m [PackageFile<'a>], declared: &[String]) -> Self {
        let mut created = HashMap::new();
        let mut slots = 0;
        for (index, file) in files.iter().enumerate() {
            for item in &file.model.services {
                if item.name.is_empty() {
                    continue;
                }
                created.entry(NoCase::of(item.name)).or_insert_with(|| {
                    slots += 1;
                    Creator::Item {
                        file: index,
                        item,
                        slot: slots - 1,
                    }
                });
            }
        }
        for name in declared {
            created
                .entry(NoCase(Cow::Owned(name.as_bytes().to_vec())))
                .or_insert(Creator::Declared);
        }
        let paths = files
            .iter()
            .map(|f| normalize_path(&f.source.path).to_ascii_lowercase())
            .collect();
        Self {
            created,
            files,
            variables: std::sync::OnceLock::new(),
            service_values: std::sync::OnceLock::new(),
            paths,
            creator_lines: (0..slots).map(|_| std::sync::OnceLock::new()).collect(),
        }
    }

    /// Whether the package holds the file at `path` (compared normalized, ASCII
    /// case-insensitively): an included script that was read is part of the package.
    pub fn has_file(&self, path: &str) -> bool {
        self.paths
            .contains(&normalize_path(path).to_ascii_lowercase())
    }

    /// Whether a script of the package (or a script one includes) defines variable `name`
    /// (ASCII case-insensitive).
    pub fn defines_variable(&self, name: &[u8]) -> bool {
        self.variables
            .get_or_init(|| {
                self.files
                    .iter()
                    .flat_map(|f| f.variables())
                    .map(|v| NoCase(Cow::Owned(v.name.to_vec())))
                    .collect()
            })
            .contains(&NoCase::of(name))
    }

    /// Whether the package writes both `Type` and `ImagePath` of service `name`, in any file
    /// and control set.
    pub fn writes_type_and_image_path(&self, name: &[u8]) -> bool {
        self.service_values
            .get_or_init(|| service_values(self.files))
            .get(&NoCase::of(name))
            .is_some_and(|&(t, i)| t && i)
    }

    /// The creator of service `name` (case-insensitive), if the package creates it.
    pub fn creator(&self, name: &[u8]) -> Option<Creator<'m, 'a>> {
        self.created.get(&NoCase::of(name)).copied()
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
}

/// Service name → whether `files` write its `Type` and its `ImagePath`, in any file and control
/// set.
fn service_values(files: &[PackageFile<'_>]) -> HashMap<NoCase<'static>, (bool, bool)> {
    let mut service_values: HashMap<NoCase<'_>, (bool, bool)> = HashMap::new();
    for write in files.iter().flat_map(|f| &f.model.writes) {
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
        if location.service_depth() > 0 {
            continue;
        }
        let entry = service_values.entry(NoCase::of(service)).or_default();
        if is_type {
            entry.0 = true;
        } else {
            entry.1 = true;
        }
    }
    service_values
        .into_iter()
        .map(|(name, v)| (NoCase(Cow::Owned(name.0.into_owned())), v))
        .collect()
}

/// A write with its location under `HKLM\SYSTEM\<control set>` worked out once.
pub struct Classified<'w, 'a> {
    pub write: &'w RegWrite<'a>,
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
}

/// A value write's identity across control sets: the path below the control set and the value
/// name.
type WriteIdentity<'w> = (KeyPath<'w>, Option<NoCase<'w>>);

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

/// Per-file facts shared by the rules.
pub struct FileFacts<'w, 'a> {
    /// Writes under `HKLM\SYSTEM\<control set>`, with their index in `FileModel::writes`.
    pub system: Vec<(usize, Classified<'w, 'a>)>,
    /// What is written to each key (by path below the control set): how many distinct value
    /// names, and whether any subkey is written.
    contents: Contents<'w>,
    /// Every (key, value name) written, to tell which names a key's values have.
    values: ValueNames<'w>,
    /// `CurrentControlSet` writes: (path below the control set, value name) → data indices, to
    /// find the original of a `ControlSetNNN` copy.
    current_writes: HashMap<WriteIdentity<'w>, Indices, FoldState>,
    /// Whether the file suffixes fields with a language (`Title English=`), found on first use.
    language_suffix: std::sync::OnceLock<bool>,
}

/// The writes of `writes` (the first at index `base` of the model) under
/// `HKLM\SYSTEM\<control set>`, with their model index.
fn classify<'w, 'a>(base: usize, writes: &'w [RegWrite<'a>]) -> Vec<(usize, Classified<'w, 'a>)> {
    // Most writes a model holds are under `HKLM\SYSTEM` (that is what lowering selects).
    let mut out: Vec<(usize, Classified<'w, 'a>)> = Vec::with_capacity(writes.len());
    // Consecutive writes usually share their key (a `.reg` block's values, a script's writes
    // to one service key): the previous write's location serves for the same key text.
    let mut last: Option<(&'w RegWrite<'a>, Option<(SystemLocation<'w>, KeyPath<'w>)>)> = None;
    for (i, write) in writes.iter().enumerate() {
        let located = match &last {
            Some((prev, located)) if prev.hive == write.hive && prev.key == write.key => {
                located.clone()
            }
            _ => SystemLocation::of(write.hive, &write.key).map(|location| {
                let rest = KeyPath::new(location.rest_text());
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
fn key_contents<'w>(system: &[(usize, Classified<'w, '_>)]) -> (Contents<'w>, ValueNames<'w>) {
    // Upper bounds but for ancestors: no table grows while filled.
    let n = system.len();
    let mut contents: Contents<'w> = HashMap::with_capacity_and_hasher(n, FoldState::default());
    let mut values: ValueNames<'w> = HashSet::with_capacity_and_hasher(n, FoldState::default());
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
                let new_name = values.insert((rest, NoCase::of(value)));
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
type ValueNames<'w> = HashSet<(KeyPath<'w>, NoCase<'w>), FoldState>;

/// The `CurrentControlSet` writes of `system` by identity.
fn current_writes<'w>(
    system: &[(usize, Classified<'w, '_>)],
) -> HashMap<WriteIdentity<'w>, Indices, FoldState> {
    let mut current_writes: HashMap<_, Indices, FoldState> =
        HashMap::with_capacity_and_hasher(system.len(), FoldState::default());
    for (index, c) in system {
        if c.location.control_set != crate::model::ControlSet::Current {
            continue;
        }
        let value: Option<&'w [u8]> = c.write.value.as_deref();
        current_writes
            .entry((c.rest, value.map(NoCase::of)))
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
        let parallel =
            model.writes.len() >= super::PARALLEL_FROM && rayon::current_num_threads() >= 2;
        Self::build(model, parallel)
    }

    /// As [`FileFacts::new`]; `parallel`: on the current rayon pool.
    pub(crate) fn build(model: &'w FileModel<'a>, parallel: bool) -> Self {
        let writes = model.writes.as_slice();
        // A large file's writes are classified in parts and its two kinds of maps built side
        // by side on the pool; each is the same as built in one pass.
        let system = if parallel {
            use rayon::prelude::*;
            let size = writes
                .len()
                .div_ceil(rayon::current_num_threads() * 4)
                .max(1);
            let parts: Vec<Vec<_>> = writes
                .par_chunks(size)
                .enumerate()
                .map(|(k, part)| classify(k * size, part))
                .collect();
            crate::pieces::concat(parts)
        } else {
            classify(0, writes)
        };
        let ((contents, values), current_writes) = if parallel {
            rayon::join(|| key_contents(&system), || current_writes(&system))
        } else {
            (key_contents(&system), current_writes(&system))
        };
        Self {
            system,
            contents,
            values,
            current_writes,
            language_suffix: std::sync::OnceLock::new(),
        }
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
                    .filter(|e| self.values.contains(&(rest, NoCase::of(e))))
                    .count();
                c.values as usize > named
            }
        })
    }

    /// Indices of `CurrentControlSet` writes with this path below the control set and value
    /// name, in file order.
    pub fn current_writes<'s>(
        &'s self,
        rest: KeyPath<'s>,
        value: Option<&'s [u8]>,
    ) -> impl Iterator<Item = usize> + 's {
        let found = self.current_writes.get(&(rest, value.map(NoCase::of)));
        found
            .map(|i| i.first)
            .into_iter()
            .chain(found.into_iter().flat_map(|i| i.more.iter().copied()))
    }

    /// Whether the script names fields with a language suffix, as SMS Installer 2.0 does
    /// (`Title English=`, `Display Name English=`). Searched once per file, not per finding.
    pub fn language_suffix(&self, source: &SourceFile) -> bool {
        *self
            .language_suffix
            .get_or_init(|| memchr::memmem::find(source.text(), b" English=").is_some())
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
