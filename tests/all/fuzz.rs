//! Property tests over what parses user input: `plugin.toml`, `config.toml`,
//! and the arguments `isaac run` passes to a plugin. They run briefly on
//! every test run (a few hundred cases each).

use std::path::Path;

use isaac_host::{Config, Manifest};
use proptest::prelude::*;

use crate::support::{TestHome, dist, text};

/// TOML-ish text: fragments of real manifests and configs, mixed with noise.
fn tomlish() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("name = \"p\"\n".to_owned()),
        Just("version = \"1\"\n".to_owned()),
        Just("[limits]\n".to_owned()),
        Just("memory_mb = 64\n".to_owned()),
        Just("[permissions]\n".to_owned()),
        Just("cache = true\n".to_owned()),
        Just("files = { read = [\"/tmp\"] }\n".to_owned()),
        Just("[cache]\nl1_entries = 0\n".to_owned()),
        Just("[ai.providers.x]\nkind = \"openai\"\n".to_owned()),
        "[a-z_]{1,12} = [0-9]{1,20}\n",
        "[a-z_]{1,8} = \"[^\"\\\\]{0,20}\"\n",
        "\\PC{0,40}",
    ];
    prop::collection::vec(fragment, 0..8).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn manifests_never_panic_and_errors_name_the_file(text in tomlish()) {
        match Manifest::parse(Path::new("plugin.toml"), &text, isaac_host::PERMISSION_SECTIONS) {
            Ok(m) => prop_assert!(isaac_host::manifest::check_name(&m.name).is_ok()),
            Err(e) => prop_assert!(e.to_string().starts_with("plugin.toml")),
        }
    }

    #[test]
    fn configs_never_panic_and_errors_name_the_file(text in tomlish()) {
        if let Err(e) = Config::parse(Path::new("config.toml"), &text, isaac_host::CONFIG_SECTIONS) {
            prop_assert!(e.to_string().starts_with("config.toml"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn run_passes_every_argument_untouched(args in prop::collection::vec("[^\\x00]{0,12}", 0..6)) {
        let home = fuzz_home();
        let mut cmd = home.isaac();
        cmd.args(["run", "echo"]).args(&args);
        let out = cmd.output().unwrap();
        prop_assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
        // The result is printed as it is, ended with a newline if it has none.
        let result = args.join(" ");
        let expected = if result.ends_with('\n') { result } else { format!("{result}\n") };
        prop_assert_eq!(String::from_utf8_lossy(&out.stdout).into_owned(), expected);
    }
}

fn fuzz_home() -> &'static TestHome {
    static HOME: std::sync::OnceLock<TestHome> = std::sync::OnceLock::new();
    HOME.get_or_init(|| {
        let home = TestHome::new();
        assert!(home.run(&["plugins", "add", dist("hello").to_str().unwrap()]).status.success());
        home
    })
}

/// A TOML basic-string body: plain characters, and escapes that decode to
/// control characters (C0, DEL, C1) or to ordinary ones.
fn string_body() -> impl Strategy<Value = (String, bool)> {
    let piece = prop_oneof![
        "[a-zA-Z0-9 .,:/_-]{0,6}".prop_map(|s| (s, false)),
        (0u32..0x20).prop_map(|c| (format!("\\u{c:04x}"), true)),
        (0x7fu32..0xa0).prop_map(|c| (format!("\\u{c:04x}"), true)),
        prop::sample::select(vec!["\\b", "\\t", "\\n", "\\f", "\\r", "\\e"]).prop_map(|e| (e.to_owned(), true)),
        prop::sample::select(vec!["\\u00e9", "\\u202e", "\\\\", "\\\""]).prop_map(|e| (e.to_owned(), false)),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|pieces| {
        let control = pieces.iter().any(|(_, c)| *c);
        (pieces.into_iter().map(|(s, _)| s).collect(), control)
    })
}

/// A path under a test tree made of real directories, `..`, `.` and
/// symbolic links (to a directory, and to a parent).
fn tree_path() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "..", ".", "link", "up"]), 1..6)
}

fn tree() -> &'static (tempfile::TempDir, std::path::PathBuf) {
    static TREE: std::sync::OnceLock<(tempfile::TempDir, std::path::PathBuf)> = std::sync::OnceLock::new();
    TREE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap().join("base");
        for d in ["a/a/a", "a/b", "b/a", "b/b", "elsewhere"] {
            std::fs::create_dir_all(base.join(d)).unwrap();
        }
        for parent in [base.clone(), base.join("a"), base.join("b"), base.join("a/a")] {
            std::os::unix::fs::symlink(base.join("elsewhere"), parent.join("link")).unwrap();
            std::os::unix::fs::symlink("..", parent.join("up")).unwrap();
        }
        (dir, base)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn manifest_strings_with_control_characters_are_refused_where_they_are(
        (body, control) in string_body(),
        field in prop::sample::select(vec!["description", "version", "env", "read"]),
    ) {
        let value = format!("\"x{body}\"");
        let (line, text) = match field {
            "description" => (3, format!("name = \"p\"\nversion = \"1\"\ndescription = {value}\n")),
            "version" => (2, format!("name = \"p\"\nversion = {value}\n")),
            "env" => (4, format!("name = \"p\"\nversion = \"1\"\n[permissions]\nenv = [{value}]\n")),
            _ => (4, format!("name = \"p\"\nversion = \"1\"\n[permissions]\nfiles = {{ read = [{value}] }}\n")),
        };
        match Manifest::parse(Path::new("plugin.toml"), &text, isaac_host::PERMISSION_SECTIONS) {
            Ok(_) => prop_assert!(!control, "a control character was accepted: {text}"),
            Err(e) => {
                prop_assert!(control, "plain text was refused: {text}: {e}");
                prop_assert!(e.message.contains("control character"), "{e}");
                prop_assert_eq!(e.position.map(|p| p.0), Some(line), "{}", e);
            }
        }
    }

    #[test]
    fn a_granted_directory_is_reached_only_through_real_directories(parts in tree_path()) {
        use isaac_host::dirs::{DirIdentity, open_no_follow};
        let (_, base) = tree();
        let path = parts.iter().fold(base.clone(), |p, part| p.join(part));
        // Walk the path as written: is any component a symbolic link?
        let mut walked = base.clone();
        let mut through_link = false;
        for part in &parts {
            walked.push(part);
            through_link |= std::fs::symlink_metadata(&walked).is_ok_and(|m| m.file_type().is_symlink());
        }
        let opened = open_no_follow(&path);
        if through_link {
            prop_assert!(opened.is_err(), "{} was opened through a symlink", path.display());
        }
        // A grant records the canonical directory; opening it again finds the
        // same identity, through real directories only.
        if let Ok(identity) = DirIdentity::of(&path) {
            prop_assert_eq!(&identity.path, &path.canonicalize().unwrap());
            let verified = identity.open().unwrap();
            let meta = std::fs::metadata(verified.proc_path()).unwrap();
            prop_assert_eq!(std::os::unix::fs::MetadataExt::ino(&meta), identity.ino);
        }
    }
}
