//! What the rules know about a package: which services are created, where, and the
//! per-file facts a rule needs about the other writes (who else writes to a key, which
//! `CurrentControlSet` writes exist to compare `ControlSetNNN` copies with).

use std::collections::{HashMap, HashSet};

use crate::model::path::segments;
use crate::model::script::{self, Variable, normalize_path};
use crate::model::{CreateService, FileModel, Hive, RegWrite, SystemLocation};
use crate::source::SourceFile;
use crate::syntax::wise::Document;
use crate::text::LineIndex;

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

impl PackageFile<'_> {
    /// The variables this script defines (none for a `.reg` file). Reads every item that may
    /// define one, so rules call it only when a finding depends on it.
    pub fn variables(&self) -> Vec<Variable<'_>> {
        self.doc
            .map(|doc| script::variables(doc, self.source.text()))
            .unwrap_or_default()
    }
}

/// Where a created service comes from.
#[derive(Clone, Copy, Debug)]
pub enum Creator<'m, 'a> {
    /// An active `Create Service` item in file `file` of the package.
    Item {
        file: usize,
        item: &'m CreateService<'a>,
        /// 1-based line of the item's head, for messages.
        line: usize,
    },
    /// Declared in the configuration (`services = [...]`) or with `--service`.
    Declared,
}

/// Package-wide facts, built once per fix pass.
pub struct PackageContext<'m, 'a> {
    /// Lower-cased service name → its first creator (items before declarations).
    created: HashMap<Vec<u8>, Creator<'m, 'a>>,
    /// The package's files, for facts computed on first use.
    files: &'m [PackageFile<'a>],
    /// Lower-cased names of the variables the package's scripts define (SVC040), on first use.
    variables: std::sync::OnceLock<HashSet<Vec<u8>>>,
    /// Lower-cased service name → whether the package writes its `Type` and its `ImagePath`
    /// (SVC030), on first use.
    service_values: std::sync::OnceLock<HashMap<Vec<u8>, (bool, bool)>>,
    /// The package's file paths, normalized and lower-cased (to tell which includes were read).
    paths: HashSet<String>,
}

impl<'m, 'a> PackageContext<'m, 'a> {
    pub fn new(files: &'m [PackageFile<'a>], declared: &[String]) -> Self {
        let mut created = HashMap::new();
        for (index, file) in files.iter().enumerate() {
            if file.model.services.is_empty() {
                continue;
            }
            let lines = file.source.line_index();
            for item in &file.model.services {
                if item.name.is_empty() {
                    continue;
                }
                let line = lines.line_col(file.source.text(), item.head.start).line;
                created
                    .entry(item.name.to_ascii_lowercase())
                    .or_insert(Creator::Item {
                        file: index,
                        item,
                        line,
                    });
            }
        }
        for name in declared {
            created
                .entry(name.as_bytes().to_ascii_lowercase())
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
                    .map(|v| v.name.to_ascii_lowercase())
                    .collect()
            })
            .contains(&name.to_ascii_lowercase())
    }

    /// Whether the package writes both `Type` and `ImagePath` of service `name`, in any file
    /// and control set.
    pub fn writes_type_and_image_path(&self, name: &[u8]) -> bool {
        self.service_values
            .get_or_init(|| service_values(self.files))
            .get(&name.to_ascii_lowercase())
            .is_some_and(|&(t, i)| t && i)
    }

    /// The creator of service `name` (case-insensitive), if the package creates it.
    pub fn creator(&self, name: &[u8]) -> Option<Creator<'m, 'a>> {
        self.created.get(&name.to_ascii_lowercase()).copied()
    }
}

/// Lower-cased service name → whether `files` write its `Type` and its `ImagePath`, in any file
/// and control set.
fn service_values(files: &[PackageFile<'_>]) -> HashMap<Vec<u8>, (bool, bool)> {
    let mut service_values: HashMap<Vec<u8>, (bool, bool)> = HashMap::new();
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
        if !location.service_subpath().is_empty() {
            continue;
        }
        let entry = service_values
            .entry(service.to_ascii_lowercase())
            .or_default();
        if is_type {
            entry.0 = true;
        } else {
            entry.1 = true;
        }
    }
    service_values
}

/// A write with its location under `HKLM\SYSTEM\<control set>` worked out once.
pub struct Classified<'w, 'a> {
    pub write: &'w RegWrite<'a>,
    pub location: SystemLocation<'w>,
}

/// A write's identity across control sets: lower-cased rest path and value name.
type WriteIdentity = (Vec<u8>, Option<Vec<u8>>);

/// What a file writes to one key.
#[derive(Default)]
struct KeyContents {
    values: HashSet<Vec<u8>>,
    has_subkeys: bool,
}

/// Per-file facts shared by the rules.
pub struct FileFacts<'w, 'a> {
    /// Writes under `HKLM\SYSTEM\<control set>`, with their index in `FileModel::writes`.
    pub system: Vec<(usize, Classified<'w, 'a>)>,
    /// What is written to each key (by lower-cased path below the control set): the
    /// lower-cased value names, and whether any subkey is written.
    contents: HashMap<Vec<u8>, KeyContents>,
    /// `CurrentControlSet` writes: (lower-cased rest path, lower-cased value name) → data
    /// indices, to find the original of a `ControlSetNNN` copy.
    current_writes: HashMap<WriteIdentity, Vec<usize>>,
    /// Lines of the file, built on first use for messages.
    lines: std::cell::OnceCell<LineIndex>,
    /// Whether the file suffixes fields with a language (`Title English=`), found on first use.
    language_suffix: std::cell::OnceCell<bool>,
}

/// The path below the control set, lower-cased and `\`-joined: the identity of a key across
/// `CurrentControlSet` and `ControlSetNNN`.
pub fn rest_key(location: &SystemLocation<'_>) -> Vec<u8> {
    let len = location.rest.iter().map(|s| s.len() + 1).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    for (i, seg) in location.rest.iter().enumerate() {
        if i > 0 {
            out.push(b'\\');
        }
        out.extend_from_slice(seg);
    }
    out.make_ascii_lowercase();
    out
}

impl<'w, 'a> FileFacts<'w, 'a> {
    pub fn new(model: &'w FileModel<'a>) -> Self {
        let mut system = Vec::new();
        for (index, write) in model.writes.iter().enumerate() {
            if let Some(location) = SystemLocation::of(write.hive, &write.key) {
                system.push((index, Classified { write, location }));
            }
        }
        let mut contents: HashMap<Vec<u8>, KeyContents> = HashMap::new();
        let mut current_writes: HashMap<_, Vec<usize>> = HashMap::new();
        for (index, c) in &system {
            let rest = rest_key(&c.location);
            // A value write marks its key as holding that value; a write in a subkey marks
            // every ancestor as holding something.
            if let Some(value) = &c.write.value {
                let entry = match contents.get_mut(&rest) {
                    Some(entry) => entry,
                    None => contents.entry(rest.clone()).or_default(),
                };
                entry.values.insert(value.to_ascii_lowercase());
            }
            // Every ancestor holds a subkey (a script may write a deep key without its parents).
            let mut ancestor = rest.as_slice();
            while let Some(cut) = ancestor.iter().rposition(|&b| b == b'\\') {
                ancestor = &ancestor[..cut];
                match contents.get_mut(ancestor) {
                    // Its ancestors were marked when it was.
                    Some(c) if c.has_subkeys => break,
                    Some(c) => c.has_subkeys = true,
                    None => {
                        let c = KeyContents {
                            has_subkeys: true,
                            ..KeyContents::default()
                        };
                        contents.insert(ancestor.to_vec(), c);
                    }
                }
            }
            if c.location.control_set == crate::model::ControlSet::Current {
                let value = c.write.value.as_ref().map(|v| v.to_ascii_lowercase());
                current_writes
                    .entry((rest, value))
                    .or_default()
                    .push(*index);
            }
        }
        Self {
            system,
            contents,
            current_writes,
            lines: std::cell::OnceCell::new(),
            language_suffix: std::cell::OnceCell::new(),
        }
    }

    /// Whether the key at `rest` (see [`rest_key`]) has value writes other than those named in
    /// `except` (lower-case), or (when `count_subkeys`) writes in subkeys.
    pub fn key_holds_other_than(&self, rest: &[u8], except: &[&[u8]], count_subkeys: bool) -> bool {
        self.contents.get(rest).is_some_and(|c| {
            (count_subkeys && c.has_subkeys)
                || c.values.iter().any(|v| !except.contains(&v.as_slice()))
        })
    }

    /// Indices of `CurrentControlSet` writes with this rest path and value name.
    pub fn current_writes(&self, rest: &[u8], value: Option<&[u8]>) -> &[usize] {
        let key = (rest.to_vec(), value.map(<[u8]>::to_ascii_lowercase));
        self.current_writes.get(&key).map_or(&[], Vec::as_slice)
    }

    pub fn lines(&self, source: &SourceFile) -> &LineIndex {
        self.lines.get_or_init(|| source.line_index())
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
