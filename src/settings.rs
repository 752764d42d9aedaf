//! `svcscrub.toml` and command-line settings, merged into the [`Settings`] one package uses.
//!
//! The flow, for each package directory the CLI processes:
//! 1. find the configuration: `--config FILE`, or [`discover`] (cached by [`ConfigCache`]),
//!    or none with `--no-config`;
//! 2. [`load`] it into a [`ConfigFile`] (strict: unknown keys and wrong types are errors that
//!    name the file, the line:column and the key);
//! 3. [`Settings::resolve`] it with the command-line [`Overrides`] and the known rule codes.
//!
//! Command-line `--select`/`--ignore` replace the file's lists; `--service` adds to the file's
//! `services`; `--unsafe-fixes` turns unsafe fixes on whatever the file says.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::path::{Hive, segments};
use crate::text::{LineCol, LineIndex};

/// The configuration file's name.
pub const CONFIG_FILE_NAME: &str = "svcscrub.toml";

/// What a directory walk leaves out when no `exclude` is configured: version-control
/// directories and the usual build-output and dependency directories (as ruff does).
pub const DEFAULT_EXCLUDE: &[&str] = &[
    ".bzr",
    ".git",
    ".hg",
    ".svn",
    "build",
    "dist",
    "node_modules",
];

/// The contents of one `svcscrub.toml`. Every key is optional; unknown keys are an error.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConfigFile {
    /// Rule codes or prefixes to enable (default: every rule).
    pub select: Option<Vec<String>>,
    /// Rule codes or prefixes to disable.
    pub ignore: Option<Vec<String>>,
    /// Apply unsafe fixes with `svcscrub fix`.
    pub unsafe_fixes: Option<bool>,
    /// Services created by something the tool does not see (treated as created in the package).
    pub services: Option<Vec<String>>,
    /// Registry paths (`HIVE\key`) never reported, nor anything below them.
    pub allow: Option<Vec<String>>,
    /// Files and directories a directory walk leaves out (gitignore-style patterns, relative
    /// to this file's directory); replaces [`DEFAULT_EXCLUDE`].
    pub exclude: Option<Vec<String>>,
    /// More patterns left out, added to `exclude` (or to [`DEFAULT_EXCLUDE`]).
    pub extend_exclude: Option<Vec<String>>,
    /// Leave out what `.gitignore`, `.ignore`, `.git/info/exclude` and the global gitignore
    /// ignore (default true).
    pub respect_gitignore: Option<bool>,
    /// Rule codes or prefixes ignored in the files a glob matches (a glob without `/` matches
    /// the file name, one with `/` the path relative to this file's directory).
    pub per_file_ignores: Option<std::collections::BTreeMap<String, Vec<String>>>,
    /// The file this was loaded from (set by [`load`]; names the file in [`Settings::resolve`]
    /// errors).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// A bad configuration file or option. Printed as one line:
/// `ORIGIN:LINE:COL: message` (or `ORIGIN: message` where no position applies), where ORIGIN is
/// the configuration file's path or the command-line option (`--select`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration file's path as displayed, or the option, e.g. `--select`.
    pub origin: String,
    pub position: Option<LineCol>,
    /// The offending key (`select`, `unsafe_fix`, …), when known.
    pub key: Option<String>,
    /// What is wrong (already names the key, when known).
    pub message: String,
}

impl ConfigError {
    fn new(origin: impl Into<String>, key: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            origin: origin.into(),
            position: None,
            key: key.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(pos) => write!(f, "{}:{}: {}", self.origin, pos, self.message),
            None => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The largest configuration file read: room for a `services` list of millions of names.
pub const MAX_CONFIG_LEN: u64 = 64 << 20;

/// Reads and parses a configuration file. Unknown keys, values of the wrong type and TOML
/// syntax errors are errors naming the file, the line:column and (when known) the key.
pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
    use std::io::Read;
    let origin = path.display().to_string();
    let error = |e: &dyn fmt::Display| {
        ConfigError::new(&origin, None, format!("cannot read configuration: {e}"))
    };
    // A FIFO, a device or a huge file is refused before it is read.
    let (file, len) = crate::source::open_regular(path, MAX_CONFIG_LEN, "larger than 64 MiB")
        .map_err(|e| error(&e))?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    crate::source::Limited::new(file, MAX_CONFIG_LEN, "larger than 64 MiB")
        .read_to_end(&mut bytes)
        .map_err(|e| error(&e))?;
    let mut config = parse(&origin, &bytes)?;
    config.path = Some(path.to_path_buf());
    Ok(config)
}

/// Parses configuration text; `origin` names it in errors. [`load`] without the filesystem.
pub fn parse(origin: &str, bytes: &[u8]) -> Result<ConfigFile, ConfigError> {
    let bytes = bytes.strip_prefix(crate::source::UTF8_BOM).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let mut err = ConfigError::new(origin, None, "configuration is not valid UTF-8");
        err.position = Some(LineIndex::new(bytes, true).line_col(bytes, e.valid_up_to()));
        err
    })?;
    toml::from_str::<ConfigFile>(text).map_err(|e| toml_error(origin, text, &e))
}

/// Turns a TOML error into a [`ConfigError`] with a position and the top-level key it is in.
fn toml_error(origin: &str, text: &str, err: &toml::de::Error) -> ConfigError {
    let message = err.message().trim_end().to_owned();
    let Some(span) = err.span() else {
        return ConfigError::new(origin, None, message);
    };
    let index = LineIndex::new(text.as_bytes(), true);
    let position = Some(index.line_col(text.as_bytes(), span.start));
    let key = key_at(text, span.start);
    let message = match (&key, message.strip_prefix("unknown field ")) {
        (Some(_), Some(rest)) => format!("unknown key {rest}"),
        (Some(key), None) => format!("invalid value for `{key}`: {message}"),
        (None, _) => message,
    };
    ConfigError {
        origin: origin.to_owned(),
        position,
        key,
        message,
    }
}

/// The top-level key whose entry (key or value) contains byte `offset`, if the text parses.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let table = toml::de::DeTable::parse(text).ok()?;
    table
        .get_ref()
        .iter()
        .find(|(key, value)| {
            let (k, v) = (key.span(), value.span());
            k.contains(&offset) || v.contains(&offset) || (offset == v.start && v.is_empty())
        })
        .map(|(key, _)| key.get_ref().to_string())
}

/// The `svcscrub.toml` in `dir` or its nearest ancestor, stopping at the filesystem root.
/// `dir` may be relative (an empty path means the current directory); it is made absolute
/// first so the search reaches the root. Returns `None` when there is none.
pub fn discover(dir: &Path) -> Option<PathBuf> {
    ConfigCache::default().discover(dir)
}

/// [`discover`] with memory: every directory visited during a search remembers its answer, so
/// sibling and nested package directories cost one `stat` each.
#[derive(Clone, Debug, Default)]
pub struct ConfigCache {
    found: HashMap<PathBuf, Option<PathBuf>>,
}

impl ConfigCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Like [`discover`], remembering the answer for `dir` and each ancestor searched.
    pub fn discover(&mut self, dir: &Path) -> Option<PathBuf> {
        let start = absolute_dir(dir);
        let mut visited = Vec::new();
        let mut answer = None;
        for ancestor in start.ancestors() {
            if let Some(known) = self.found.get(ancestor) {
                answer = known.clone();
                break;
            }
            visited.push(ancestor.to_path_buf());
            let candidate = ancestor.join(CONFIG_FILE_NAME);
            if candidate.is_file() {
                answer = Some(candidate);
                break;
            }
        }
        for dir in visited {
            self.found.insert(dir, answer.clone());
        }
        answer
    }
}

/// `dir` as an absolute path with `.` and `..` resolved (symlinks too, when it exists).
fn absolute_dir(dir: &Path) -> PathBuf {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    dir.canonicalize()
        .or_else(|_| std::path::absolute(dir))
        .unwrap_or_else(|_| dir.to_path_buf())
}

/// Settings given on the command line, which take precedence over the file's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--select`: replaces the file's `select`.
    pub select: Option<Vec<String>>,
    /// `--ignore`: replaces the file's `ignore`.
    pub ignore: Option<Vec<String>>,
    /// `--extend-select`: added to the selection in effect.
    pub extend_select: Vec<String>,
    /// `--extend-ignore`: added to the ignore list in effect.
    pub extend_ignore: Vec<String>,
    /// `Some(true)` when `--unsafe-fixes` is given; `None` otherwise.
    pub unsafe_fixes: Option<bool>,
    /// `--service`: added to the file's `services`.
    pub services: Vec<String>,
}

/// The settings one package is checked or fixed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub selection: RuleSelection,
    pub unsafe_fixes: bool,
    /// Services treated as created in every package (configuration first, then `--service`;
    /// deduplicated case-insensitively as the registry compares names, first spelling kept).
    pub services: Vec<String>,
    /// Paths never reported.
    pub allow: Vec<AllowPath>,
}

impl Default for Settings {
    /// Every rule, safe fixes only, no extra services, nothing allowed.
    fn default() -> Self {
        Self {
            selection: RuleSelection::default(),
            unsafe_fixes: false,
            services: Vec::new(),
            allow: Vec::new(),
        }
    }
}

impl Settings {
    /// Merges a configuration file (if any) with the command line:
    /// - `--select` / `--ignore` each replace the file's list (independently);
    /// - unsafe fixes are on with `--unsafe-fixes`, else as the file says, else off;
    /// - `--service` names are added after the file's `services` (case-insensitive dedupe);
    /// - `allow` comes from the file only.
    ///
    /// `known_codes` are every rule's code; each selector in effect must be a prefix of at
    /// least one of them (case-insensitive), or the error names it and where it came from
    /// (`--select`, or the file and key). A file's list replaced on the command line is not
    /// checked.
    pub fn resolve(
        file: Option<&ConfigFile>,
        overrides: &Overrides,
        known_codes: &[&str],
    ) -> Result<Settings, ConfigError> {
        let file_origin = file
            .and_then(|f| f.path.as_deref())
            .map_or_else(|| CONFIG_FILE_NAME.to_owned(), |p| p.display().to_string());
        let empty = ConfigFile::default();
        let cfg = file.unwrap_or(&empty);

        let select = match (&overrides.select, cfg.select.as_ref()) {
            (Some(cli), _) => Some(selectors(cli, "--select", None, known_codes)?),
            (None, Some(list)) => Some(
                selectors(list, &file_origin, Some("select"), known_codes)
                    .map_err(|e| located(e, file))?,
            ),
            (None, None) => None,
        };
        let mut ignore = match (&overrides.ignore, cfg.ignore.as_ref()) {
            (Some(cli), _) => selectors(cli, "--ignore", None, known_codes)?,
            (None, Some(list)) => selectors(list, &file_origin, Some("ignore"), known_codes)
                .map_err(|e| located(e, file))?,
            (None, None) => Vec::new(),
        };
        // The extensions add to whatever is in effect (every rule, when nothing selects).
        let select = if overrides.extend_select.is_empty() {
            select
        } else {
            let mut list = select.unwrap_or_else(|| vec![String::new()]);
            list.extend(selectors(
                &overrides.extend_select,
                "--extend-select",
                None,
                known_codes,
            )?);
            Some(list)
        };
        ignore.extend(selectors(
            &overrides.extend_ignore,
            "--extend-ignore",
            None,
            known_codes,
        )?);

        let unsafe_fixes = overrides.unsafe_fixes.or(cfg.unsafe_fixes).unwrap_or(false);

        let mut services: Vec<String> = Vec::new();
        // Names seen, upper-cased as the registry compares them: a list of 400,000 names is
        // deduplicated in one pass.
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        let from_file = cfg.services.as_ref().into_iter().flatten();
        let named = from_file
            .map(|s| (s, file_origin.as_str(), Some("services")))
            .chain(overrides.services.iter().map(|s| (s, "--service", None)));
        for (name, origin, key) in named {
            let name = name.trim();
            if name.is_empty() {
                return Err(ConfigError::new(
                    origin,
                    key,
                    with_key(key, "a service name is empty"),
                ));
            }
            if seen.insert(crate::model::name::fold(name).into_owned()) {
                services.push(name.to_owned());
            }
        }

        let allow = cfg
            .allow
            .as_ref()
            .into_iter()
            .flatten()
            .map(|raw| {
                raw.parse::<AllowPath>().map_err(|e| {
                    ConfigError::new(
                        &file_origin,
                        Some("allow"),
                        with_key(Some("allow"), &format!("{e}: \"{raw}\"")),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;

        Ok(Settings {
            selection: RuleSelection { select, ignore },
            unsafe_fixes,
            services,
            allow,
        })
    }

    /// A write to `hive\key` is under an `allow` path and must not be reported.
    pub fn is_allowed(&self, hive: Hive, key: &[u8]) -> bool {
        self.allow.iter().any(|a| a.covers(hive, key))
    }
}

/// The rule selectors `config`'s `per-file-ignores` ignore in the file at `path` (validated
/// against `known_codes`, like `ignore`).
pub fn per_file_ignores(
    config: &ConfigFile,
    path: &Path,
    known_codes: &[&str],
) -> Result<Vec<String>, ConfigError> {
    let Some(table) = &config.per_file_ignores else {
        return Ok(Vec::new());
    };
    let origin = config
        .path
        .as_deref()
        .map_or_else(|| CONFIG_FILE_NAME.to_owned(), |p| p.display().to_string());
    let key = "per-file-ignores";
    let dir = config
        .path
        .as_deref()
        .and_then(Path::parent)
        .map(absolute_dir)
        .unwrap_or_else(|| absolute_dir(Path::new("")));
    let file = path
        .canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf());
    let relative = file.strip_prefix(&dir).unwrap_or(&file);
    let relative = relative.to_string_lossy().replace('\\', "/");
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut codes = Vec::new();
    for (pattern, list) in table {
        let glob = globset::Glob::new(pattern)
            .map_err(|e| {
                ConfigError::new(
                    &origin,
                    Some(key),
                    with_key(Some(key), &format!("invalid glob \"{pattern}\": {e}")),
                )
            })?
            .compile_matcher();
        let target = if pattern.contains('/') {
            relative.as_str()
        } else {
            name.as_str()
        };
        if glob.is_match(target) {
            codes.extend(selectors(list, &origin, Some(key), known_codes)?);
        }
    }
    Ok(codes)
}

/// `error` (about a value of a file's key) with the line:column of that value: the file is
/// read again to find it (on the error path only).
fn located(mut error: ConfigError, file: Option<&ConfigFile>) -> ConfigError {
    let (Some(path), Some(key)) = (file.and_then(|f| f.path.as_deref()), error.key.clone()) else {
        return error;
    };
    let Ok(text) = std::fs::read_to_string(path) else {
        return error;
    };
    // The offending value is quoted in the message: `… "SVC999"`.
    let quoted = error
        .message
        .rsplit_once('"')
        .and_then(|(head, _)| head.rsplit_once('"'))
        .map(|(_, value)| value.to_owned());
    let Ok(table) = toml::de::DeTable::parse(&text) else {
        return error;
    };
    let Some((_, value)) = table
        .get_ref()
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() as &str == key)
    else {
        return error;
    };
    let span = value.span();
    let within = &text[span.clone()];
    let at = quoted
        .as_deref()
        .and_then(|q| within.find(q).map(|i| span.start + i.saturating_sub(1)))
        .unwrap_or(span.start);
    let index = LineIndex::new(text.as_bytes(), true);
    error.position = Some(index.line_col(text.as_bytes(), at));
    error
}

fn with_key(key: Option<&str>, message: &str) -> String {
    match key {
        Some(key) => format!("`{key}`: {message}"),
        None => message.to_owned(),
    }
}

/// Validates and normalizes (trimmed, upper-case) a list of rule selectors.
fn selectors(
    list: &[String],
    origin: &str,
    key: Option<&str>,
    known_codes: &[&str],
) -> Result<Vec<String>, ConfigError> {
    list.iter()
        .map(|raw| {
            let selector = raw.trim().to_ascii_uppercase();
            // `ALL` selects every rule: the empty prefix, shorter than any code.
            if selector == "ALL" {
                return Ok(String::new());
            }
            if selector.is_empty() {
                return Err(ConfigError::new(
                    origin,
                    key,
                    with_key(key, "empty rule code or prefix"),
                ));
            }
            if !known_codes
                .iter()
                .any(|code| code.to_ascii_uppercase().starts_with(&selector))
            {
                return Err(ConfigError::new(
                    origin,
                    key,
                    with_key(
                        key,
                        &format!("unknown rule code or prefix \"{}\"", raw.trim()),
                    ),
                ));
            }
            Ok(selector)
        })
        .collect()
}

/// Which rules are enabled: the resolved `select` and `ignore` selectors (codes or prefixes,
/// stored upper-case).
///
/// Precedence, as in ruff: for a code, the **longest** selector that is a prefix of it decides;
/// a `select` selector enables, an `ignore` selector disables, and on a tie (the same selector
/// in both lists) `ignore` wins. Without `select`, every code is selected by an implicit empty
/// selector (shorter than any real one). So `--select SVC0 --ignore SVC001` disables `SVC001`
/// (the ignore is more specific), and `--select SVC001 --ignore SVC0` enables it (the select is
/// more specific). A code no `select` selector matches is disabled.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleSelection {
    /// `None`: every rule is selected.
    select: Option<Vec<String>>,
    ignore: Vec<String>,
}

impl RuleSelection {
    /// A selection from selectors, without validation (see [`Settings::resolve`] for that).
    pub fn new(select: Option<Vec<String>>, ignore: Vec<String>) -> Self {
        let upper = |v: Vec<String>| v.into_iter().map(|s| s.to_ascii_uppercase()).collect();
        Self {
            select: select.map(upper),
            ignore: upper(ignore),
        }
    }

    /// Whether rule `code` runs.
    pub fn enabled(&self, code: &str) -> bool {
        let longest = |list: &[String]| {
            list.iter()
                .filter(|sel| starts_with_ignore_case(code, sel))
                .map(String::len)
                .max()
        };
        let selected = match &self.select {
            None => Some(0),
            Some(list) => longest(list),
        };
        match (selected, longest(&self.ignore)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(sel), Some(ign)) => sel > ign,
        }
    }
}

fn starts_with_ignore_case(code: &str, prefix: &str) -> bool {
    code.len() >= prefix.len()
        && code.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// A registry path from `allow`: a hive and a key, e.g.
/// `HKLM\SYSTEM\CurrentControlSet\Services\Foo\Parameters`. Covers that key and every key
/// below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowPath {
    pub hive: Hive,
    /// The key below the hive, as written (may be empty: the whole hive).
    pub key: String,
}

/// Why an `allow` entry is not a registry path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AllowPathError {
    #[error("unknown registry hive \"{0}\" (expected e.g. HKLM or HKEY_LOCAL_MACHINE)")]
    UnknownHive(String),
}

impl std::str::FromStr for AllowPath {
    type Err = AllowPathError;

    /// `HIVE\key`, with the hive's full or abbreviated name in any case (`HKLM`,
    /// `hkey_local_machine`). Empty segments (leading, doubled or trailing `\`) are ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().trim_start_matches('\\');
        let (hive_name, key) = s.split_once('\\').unwrap_or((s, ""));
        let hive = Hive::from_name(hive_name.as_bytes());
        if hive == Hive::Unknown {
            return Err(AllowPathError::UnknownHive(hive_name.to_owned()));
        }
        Ok(Self {
            hive,
            key: key.to_owned(),
        })
    }
}

impl fmt::Display for AllowPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\\{}", self.hive, self.key)
    }
}

impl AllowPath {
    /// `hive\key` is this path or lies below it: segment-wise, ASCII case-insensitive, empty
    /// segments ignored. Under `HKLM\SYSTEM`, a `CurrentControlSet` segment here also matches
    /// a `ControlSetNNN` segment in `key`.
    pub fn covers(&self, hive: Hive, key: &[u8]) -> bool {
        if hive != self.hive {
            return false;
        }
        let mut keys = segments(key).map(|(_, s)| s);
        for (i, (_, allowed)) in segments(self.key.as_bytes()).enumerate() {
            let Some(seg) = keys.next() else {
                return false;
            };
            let same = allowed.eq_ignore_ascii_case(seg)
                || (i == 1
                    && hive == Hive::LocalMachine
                    && allowed.eq_ignore_ascii_case(b"CurrentControlSet")
                    && is_numbered_control_set(seg)
                    && self.under_system());
            if !same {
                return false;
            }
        }
        true
    }

    fn under_system(&self) -> bool {
        segments(self.key.as_bytes())
            .next()
            .is_some_and(|(_, s)| s.eq_ignore_ascii_case(b"SYSTEM"))
    }
}

/// `ControlSetNNN` (three digits), any case.
fn is_numbered_control_set(seg: &[u8]) -> bool {
    seg.len() == 13
        && seg[..10].eq_ignore_ascii_case(b"ControlSet")
        && seg[10..].iter().all(u8::is_ascii_digit)
}
