//! `svcscrub.toml` loading and discovery, and the merge with command-line overrides.

use std::fs;
use std::path::{Path, PathBuf};

use svcscrub::model::path::Hive;
use svcscrub::settings::{
    AllowPath, ConfigCache, ConfigFile, Overrides, RuleSelection, Settings, discover, load, parse,
};
use svcscrub::text::LineCol;

const CODES: &[&str] = &[
    "SVC001", "SVC002", "SVC003", "SVC004", "SVC010", "SVC020", "SVC030", "SVC040", "SVC900",
];

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, text).unwrap();
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Canonical form of a temporary path (on some systems the temp dir is behind a symlink).
fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap()
}

// ---------------------------------------------------------------- load

#[test]
fn loads_every_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("svcscrub.toml");
    write(
        &path,
        r#"# comment
select = ["SVC"]
ignore = ["SVC030"]
unsafe-fixes = false
services = ["SYMEVENT"]
allow = ['HKLM\SYSTEM\CurrentControlSet\Services\Foo\Parameters']
"#,
    );
    let config = load(&path).unwrap();
    assert_eq!(
        config,
        ConfigFile {
            select: Some(strings(&["SVC"])),
            ignore: Some(strings(&["SVC030"])),
            unsafe_fixes: Some(false),
            services: Some(strings(&["SYMEVENT"])),
            allow: Some(strings(&[
                "HKLM\\SYSTEM\\CurrentControlSet\\Services\\Foo\\Parameters"
            ])),
            path: Some(path.clone()),
            ..ConfigFile::default()
        }
    );
}

#[test]
fn an_empty_file_sets_nothing() {
    let config = parse("svcscrub.toml", b"").unwrap();
    assert_eq!(config, ConfigFile::default());
    // A UTF-8 BOM (Notepad) is accepted.
    let config = parse("svcscrub.toml", b"\xEF\xBB\xBFunsafe-fixes = true\n").unwrap();
    assert_eq!(config.unsafe_fixes, Some(true));
}

#[test]
fn unknown_key_names_file_position_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("svcscrub.toml");
    write(&path, "select = [\"SVC\"]\nunsafe_fix = true\n");
    let err = load(&path).unwrap_err();
    assert_eq!(err.key.as_deref(), Some("unsafe_fix"));
    assert_eq!(err.position, Some(LineCol { line: 2, column: 1 }));
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2:1: unknown key `unsafe_fix`, expected one of `select`, `ignore`, \
             `unsafe-fixes`, `services`, `allow`, `exclude`, `extend-exclude`, \
             `respect-gitignore`, `per-file-ignores`",
            path.display()
        )
    );
}

#[test]
fn unknown_table_is_an_unknown_key() {
    let err = parse("cfg.toml", b"[tool.svcscrub]\nselect = []\n").unwrap_err();
    assert_eq!(err.key.as_deref(), Some("tool"));
    assert!(
        err.to_string()
            .starts_with("cfg.toml:1:2: unknown key `tool`"),
        "{err}"
    );
}

#[test]
fn bad_type_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("svcscrub.toml");
    write(&path, "select = \"SVC\"\n");
    let err = load(&path).unwrap_err();
    assert_eq!(err.key.as_deref(), Some("select"));
    assert_eq!(
        err.to_string(),
        format!(
            "{}:1:10: invalid value for `select`: invalid type: string \"SVC\", expected a sequence",
            path.display()
        )
    );
}

#[test]
fn bad_element_inside_a_multiline_array_names_the_key() {
    let err = parse("svcscrub.toml", b"ignore = [\n  \"SVC030\",\n  30,\n]\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "svcscrub.toml:3:3: invalid value for `ignore`: invalid type: integer `30`, expected a string"
    );
    let err = parse("svcscrub.toml", b"unsafe-fixes = \"yes\"\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "svcscrub.toml:1:16: invalid value for `unsafe-fixes`: invalid type: string \"yes\", \
         expected a boolean"
    );
}

#[test]
fn syntax_errors_have_a_position() {
    let err = parse("svcscrub.toml", b"select = [\n").unwrap_err();
    assert_eq!(err.key, None);
    assert_eq!(
        err.position,
        Some(LineCol {
            line: 1,
            column: 11
        })
    );
    assert!(err.to_string().starts_with("svcscrub.toml:1:11: "), "{err}");
    let err = parse("svcscrub.toml", b"select = [\"\xE9\"]\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "svcscrub.toml:1:12: configuration is not valid UTF-8"
    );
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.toml");
    let err = load(&path).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{}: cannot read configuration: ", path.display())),
        "{text}"
    );
}

// ---------------------------------------------------------------- discover

#[test]
fn discovers_the_nearest_ancestor() {
    let root = tempfile::tempdir().unwrap();
    let top = root.path().join("svcscrub.toml");
    let nested = root.path().join("packages/vendor/svcscrub.toml");
    write(&top, "");
    write(&nested, "");
    let deep = root.path().join("packages/vendor/norton/sub");
    let other = root.path().join("packages/other");
    fs::create_dir_all(&deep).unwrap();
    fs::create_dir_all(&other).unwrap();

    assert_eq!(discover(&deep), Some(canonical(&nested)));
    assert_eq!(
        discover(&root.path().join("packages/vendor")),
        Some(canonical(&nested))
    );
    assert_eq!(discover(&other), Some(canonical(&top)));
    assert_eq!(discover(root.path()), Some(canonical(&top)));
    // `..` is resolved before walking up.
    let dotted = root.path().join("packages/vendor/norton/../../other");
    assert_eq!(discover(&dotted), Some(canonical(&top)));
}

#[test]
fn discovery_ignores_directories_named_like_the_file() {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("a/svcscrub.toml")).unwrap();
    write(&root.path().join("svcscrub.toml"), "");
    assert_eq!(
        discover(&root.path().join("a")),
        Some(canonical(&root.path().join("svcscrub.toml")))
    );
}

#[test]
fn discovery_without_a_file_finds_nothing() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("x/y");
    fs::create_dir_all(&dir).unwrap();
    // Assumes no svcscrub.toml in the temporary directory's ancestors.
    assert_eq!(discover(&dir), None);
}

#[test]
fn cache_remembers_every_directory_it_walked() {
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("svcscrub.toml");
    write(&config, "");
    let a = root.path().join("a/b");
    let sibling = root.path().join("a/c");
    fs::create_dir_all(&a).unwrap();
    fs::create_dir_all(&sibling).unwrap();

    let mut cache = ConfigCache::new();
    assert_eq!(cache.discover(&a), Some(canonical(&config)));
    // Remove the file: answers for walked directories come from the cache, a fresh search
    // sees the change.
    fs::remove_file(&config).unwrap();
    assert_eq!(
        cache.discover(&a),
        Some(canonical(root.path()).join("svcscrub.toml"))
    );
    assert_eq!(
        cache.discover(&root.path().join("a")),
        Some(canonical(root.path()).join("svcscrub.toml"))
    );
    // `a/c` was not walked, but its parent `a` was.
    assert_eq!(
        cache.discover(&sibling),
        Some(canonical(root.path()).join("svcscrub.toml"))
    );
    assert_eq!(discover(&a), None);
}

// ---------------------------------------------------------------- resolve

fn file(text: &str) -> ConfigFile {
    parse("svcscrub.toml", text.as_bytes()).unwrap()
}

#[test]
fn defaults_without_file_or_options() {
    let settings = Settings::resolve(None, &Overrides::default(), CODES).unwrap();
    assert_eq!(settings, Settings::default());
    assert!(CODES.iter().all(|c| settings.selection.enabled(c)));
    assert!(!settings.unsafe_fixes);
}

#[test]
fn command_line_select_and_ignore_replace_the_file() {
    let config = file("select = [\"SVC00\"]\nignore = [\"SVC001\"]\n");
    let from_file = Settings::resolve(Some(&config), &Overrides::default(), CODES).unwrap();
    assert!(!from_file.selection.enabled("SVC001"));
    assert!(from_file.selection.enabled("SVC002"));
    assert!(!from_file.selection.enabled("SVC020"));

    let overrides = Overrides {
        select: Some(strings(&["SVC020"])),
        ..Overrides::default()
    };
    let cli = Settings::resolve(Some(&config), &overrides, CODES).unwrap();
    assert!(cli.selection.enabled("SVC020"));
    assert!(!cli.selection.enabled("SVC002"));
    // The file's ignore still applies when only --select is given.
    assert_eq!(
        cli.selection,
        RuleSelection::new(Some(strings(&["SVC020"])), strings(&["SVC001"]))
    );

    let overrides = Overrides {
        ignore: Some(Vec::new()),
        ..Overrides::default()
    };
    let cli = Settings::resolve(Some(&config), &overrides, CODES).unwrap();
    assert!(cli.selection.enabled("SVC001"));
    assert!(!cli.selection.enabled("SVC010"));
}

#[test]
fn unsafe_fixes_flag_overrides_the_file() {
    let on = file("unsafe-fixes = true\n");
    let off = file("unsafe-fixes = false\n");
    let flag = Overrides {
        unsafe_fixes: Some(true),
        ..Overrides::default()
    };
    let none = Overrides::default();
    let resolve =
        |f: &ConfigFile, o: &Overrides| Settings::resolve(Some(f), o, CODES).unwrap().unsafe_fixes;
    assert!(resolve(&on, &none));
    assert!(!resolve(&off, &none));
    assert!(resolve(&off, &flag));
    assert!(Settings::resolve(None, &flag, CODES).unwrap().unsafe_fixes);
}

#[test]
fn services_are_the_union_without_case_duplicates() {
    let config = file("services = [\"SYMEVENT\", \"kbstuff\", \"symevent\"]\n");
    let overrides = Overrides {
        services: strings(&["KBSTUFF", " NAVAP "]),
        ..Overrides::default()
    };
    let settings = Settings::resolve(Some(&config), &overrides, CODES).unwrap();
    assert_eq!(
        settings.services,
        strings(&["SYMEVENT", "kbstuff", "NAVAP"])
    );
}

/// Service names compare as the registry compares them: Unicode upper case, not ASCII only.
#[test]
fn services_are_deduplicated_in_unicode_case() {
    let config = file("services = [\"ÜberwachungsDienst\"]\n");
    let overrides = Overrides {
        services: strings(&["überwachungsdienst", "ÉCRAN"]),
        ..Overrides::default()
    };
    let settings = Settings::resolve(Some(&config), &overrides, CODES).unwrap();
    assert_eq!(settings.services, strings(&["ÜberwachungsDienst", "ÉCRAN"]));
}

#[test]
fn selectors_are_case_insensitive_and_trimmed() {
    let overrides = Overrides {
        select: Some(strings(&["svc00", " SVC020"])),
        ..Overrides::default()
    };
    let settings = Settings::resolve(None, &overrides, CODES).unwrap();
    assert!(settings.selection.enabled("SVC004"));
    assert!(settings.selection.enabled("svc020"));
    assert!(!settings.selection.enabled("SVC030"));
}

#[test]
fn unknown_codes_are_errors_naming_their_origin() {
    let overrides = Overrides {
        select: Some(strings(&["SVC001", "SVC99"])),
        ..Overrides::default()
    };
    let err = Settings::resolve(None, &overrides, CODES).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--select: unknown rule code or prefix \"SVC99\""
    );

    let overrides = Overrides {
        ignore: Some(strings(&["E501"])),
        ..Overrides::default()
    };
    let err = Settings::resolve(None, &overrides, CODES).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--ignore: unknown rule code or prefix \"E501\""
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("svcscrub.toml");
    write(&path, "ignore = [\"SVC0300\"]\n");
    let config = load(&path).unwrap();
    let err = Settings::resolve(Some(&config), &Overrides::default(), CODES).unwrap_err();
    assert_eq!(err.key.as_deref(), Some("ignore"));
    assert_eq!(
        err.to_string(),
        format!(
            "{}:1:11: `ignore`: unknown rule code or prefix \"SVC0300\"",
            path.display()
        )
    );

    let empty = Overrides {
        select: Some(strings(&[""])),
        ..Overrides::default()
    };
    let err = Settings::resolve(None, &empty, CODES).unwrap_err();
    assert_eq!(err.to_string(), "--select: empty rule code or prefix");
}

#[test]
fn a_file_code_replaced_on_the_command_line_is_not_checked() {
    let config = file("select = [\"NOPE\"]\n");
    let overrides = Overrides {
        select: Some(strings(&["SVC"])),
        ..Overrides::default()
    };
    assert!(Settings::resolve(Some(&config), &overrides, CODES).is_ok());
}

#[test]
fn bad_allow_paths_and_services_are_errors() {
    let config = file("allow = ['HKEY_NOWHERE\\Software']\n");
    let err = Settings::resolve(Some(&config), &Overrides::default(), CODES).unwrap_err();
    assert_eq!(
        err.to_string(),
        "svcscrub.toml: `allow`: unknown registry hive \"HKEY_NOWHERE\" (expected e.g. HKLM or \
         HKEY_LOCAL_MACHINE): \"HKEY_NOWHERE\\Software\""
    );
    let overrides = Overrides {
        services: strings(&[" "]),
        ..Overrides::default()
    };
    let err = Settings::resolve(None, &overrides, CODES).unwrap_err();
    assert_eq!(err.to_string(), "--service: a service name is empty");
}

// ---------------------------------------------------------------- selection

fn selection(select: Option<&[&str]>, ignore: &[&str]) -> RuleSelection {
    RuleSelection::new(select.map(strings), strings(ignore))
}

#[test]
fn longest_selector_wins() {
    // A more specific ignore beats a broader select...
    let s = selection(Some(&["SVC0"]), &["SVC001"]);
    assert!(!s.enabled("SVC001"));
    assert!(s.enabled("SVC002"));
    assert!(!s.enabled("SVC900"));
    // ...and a more specific select beats a broader ignore.
    let s = selection(Some(&["SVC001"]), &["SVC0"]);
    assert!(s.enabled("SVC001"));
    assert!(!s.enabled("SVC002"));
    // The same selector in both: ignore wins.
    let s = selection(Some(&["SVC01"]), &["SVC01"]);
    assert!(!s.enabled("SVC010"));
    // Without select, everything is selected; any matching ignore disables.
    let s = selection(None, &["SVC0"]);
    assert!(!s.enabled("SVC040"));
    assert!(s.enabled("SVC900"));
    // An empty select list enables nothing.
    let s = selection(Some(&[]), &[]);
    assert!(!s.enabled("SVC001"));
    // Several selects: the longest match among them counts.
    let s = selection(Some(&["SVC", "SVC02"]), &["SVC0"]);
    assert!(s.enabled("SVC020"));
    assert!(!s.enabled("SVC010"));
    assert!(s.enabled("SVC900"));
}

// ---------------------------------------------------------------- allow

fn allow(path: &str) -> AllowPath {
    path.parse().unwrap()
}

#[test]
fn allow_paths_parse_hive_names() {
    let full = allow("HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Foo");
    assert_eq!(full.hive, Hive::LocalMachine);
    assert_eq!(full.key, "SYSTEM\\CurrentControlSet\\Services\\Foo");
    assert_eq!(allow("hkcu\\Software").hive, Hive::CurrentUser);
    assert_eq!(allow("HKU").hive, Hive::Users);
    assert_eq!(allow("HKU").key, "");
    assert!("Software\\Foo".parse::<AllowPath>().is_err());
    assert!("".parse::<AllowPath>().is_err());
}

#[test]
fn allow_covers_the_key_and_below() {
    let a = allow("HKLM\\SYSTEM\\CurrentControlSet\\Services\\Foo\\Parameters\\");
    let lm = Hive::LocalMachine;
    assert!(a.covers(lm, b"SYSTEM\\CurrentControlSet\\Services\\Foo\\Parameters"));
    assert!(a.covers(
        lm,
        b"system\\currentcontrolset\\services\\FOO\\parameters\\"
    ));
    assert!(a.covers(
        lm,
        b"\\SYSTEM\\\\CurrentControlSet\\Services\\Foo\\Parameters\\Sub"
    ));
    assert!(a.covers(lm, b"SYSTEM\\ControlSet001\\Services\\Foo\\Parameters"));
    assert!(a.covers(lm, b"SYSTEM\\ControlSet002\\Services\\Foo\\Parameters\\x"));
    // Not above it, not a sibling, not a longer segment name, not another hive.
    assert!(!a.covers(lm, b"SYSTEM\\CurrentControlSet\\Services\\Foo"));
    assert!(!a.covers(lm, b"SYSTEM\\CurrentControlSet\\Services\\Foo\\Security"));
    assert!(!a.covers(lm, b"SYSTEM\\CurrentControlSet\\Services\\Foo\\Parameters2"));
    assert!(!a.covers(
        Hive::CurrentUser,
        b"SYSTEM\\CurrentControlSet\\Services\\Foo\\Parameters"
    ));
    assert!(!a.covers(lm, b"SYSTEM\\ControlSet1\\Services\\Foo\\Parameters"));
    assert!(!a.covers(lm, b"SOFTWARE\\ControlSet001\\Services\\Foo\\Parameters"));
}

#[test]
fn numbered_control_sets_in_allow_paths_match_only_themselves() {
    let a = allow("HKLM\\SYSTEM\\ControlSet001\\Services\\Foo");
    let lm = Hive::LocalMachine;
    assert!(a.covers(lm, b"SYSTEM\\ControlSet001\\Services\\Foo\\Enum"));
    assert!(!a.covers(lm, b"SYSTEM\\CurrentControlSet\\Services\\Foo"));
    assert!(!a.covers(lm, b"SYSTEM\\ControlSet002\\Services\\Foo"));
    // CurrentControlSet outside SYSTEM is an ordinary name.
    let b = allow("HKLM\\SOFTWARE\\CurrentControlSet");
    assert!(!b.covers(lm, b"SOFTWARE\\ControlSet001"));
}

#[test]
fn whole_hive_allow_covers_everything_in_it() {
    let a = allow("HKCU\\");
    assert!(a.covers(Hive::CurrentUser, b"Software\\Anything"));
    assert!(a.covers(Hive::CurrentUser, b""));
    assert!(!a.covers(Hive::LocalMachine, b"Software"));
}

#[test]
fn settings_allow_checks_every_path() {
    let config = file(
        "allow = ['HKLM\\SYSTEM\\CurrentControlSet\\Services\\Foo\\Parameters', 'HKCU\\Software\\Vendor']\n",
    );
    let settings = Settings::resolve(Some(&config), &Overrides::default(), CODES).unwrap();
    assert_eq!(settings.allow.len(), 2);
    assert!(settings.is_allowed(
        Hive::LocalMachine,
        b"SYSTEM\\ControlSet001\\Services\\Foo\\Parameters\\Linkage"
    ));
    assert!(settings.is_allowed(Hive::CurrentUser, b"Software\\Vendor\\App"));
    assert!(!settings.is_allowed(Hive::CurrentUser, b"Software\\Other"));
}
