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
        match Manifest::parse(Path::new("plugin.toml"), &text) {
            Ok(m) => prop_assert!(isaac_host::manifest::check_name(&m.name).is_ok()),
            Err(e) => prop_assert!(e.to_string().starts_with("plugin.toml")),
        }
    }

    #[test]
    fn configs_never_panic_and_errors_name_the_file(text in tomlish()) {
        if let Err(e) = Config::parse(Path::new("config.toml"), &text) {
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
