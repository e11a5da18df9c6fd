//! The precedence table of docs/configuration.md, checked against
//! `Settings::resolve`: each row's sources, in the table's order (flag,
//! environment, config file, default), each winning over the ones after it.

use std::path::{Path, PathBuf};

use isaac_host::Settings;
use isaac_host::bindings::Level;
use isaac_host::settings::Flags;

/// One row of the table: the setting and its four cells.
struct Row {
    setting: String,
    flag: String,
    env: String,
    config: String,
    default: String,
}

fn table() -> Vec<Row> {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/configuration.md")).unwrap();
    let start = doc.find("| setting | flag | environment | config file | default |").expect("the table is in the doc");
    doc[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|line| {
            let cells: Vec<String> =
                line.trim_matches('|').split('|').map(|c| c.trim().trim_matches('`').to_owned()).collect();
            assert_eq!(cells.len(), 5, "{line}");
            let mut cells = cells.into_iter();
            let mut next = || cells.next().unwrap();
            Row { setting: next(), flag: next(), env: next(), config: next(), default: next() }
        })
        .collect()
}

/// The variable a cell names first (`ISAAC_X` (`…`) → `ISAAC_X`).
fn name_in(cell: &str) -> &str {
    let end = cell.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(cell.len());
    &cell[..end]
}

fn resolve(flags: &Flags, env: &[(&str, &str)]) -> Settings {
    Settings::resolve(flags, env, isaac_host::CONFIG_SECTIONS).unwrap()
}

fn config_file(dir: &Path, name: &str, workers: usize) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("[loader]\nmax_workers = {workers}\n")).unwrap();
    path
}

#[test]
fn the_documented_precedence_is_the_resolved_one() {
    let rows = table();
    let names: Vec<&str> = rows.iter().map(|r| r.setting.as_str()).collect();
    assert_eq!(
        names,
        [
            "home",
            "config file",
            "jobs",
            "log level",
            "pooling",
            "WASI file I/O on the calling thread",
            "tiered compilation",
            "registry tokens",
            "Docker credentials",
            "~ in file permissions",
        ],
        "a new row needs a check here"
    );
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let home_s = home.to_str().unwrap();
    for row in &rows {
        match row.setting.as_str() {
            "home" => {
                assert!(row.flag.starts_with("--home") && row.config.is_empty(), "home: {}", row.flag);
                let other = tmp.path().join("other");
                let env = [(row.env.as_str(), other.to_str().unwrap())];
                let flags = Flags { home: Some(home.clone()), ..Flags::default() };
                assert_eq!(resolve(&flags, &env).home(), home, "the flag wins over {}", row.env);
                assert_eq!(resolve(&Flags::default(), &env).home(), other, "{} wins over the default", row.env);
                assert!(row.default.starts_with("$XDG_DATA_HOME/isaac"), "{}", row.default);
                let xdg = [("XDG_DATA_HOME", "/data"), ("HOME", "/users/u")];
                assert_eq!(resolve(&Flags::default(), &xdg).home(), Path::new("/data/isaac"));
                let plain = [("HOME", "/users/u")];
                assert_eq!(resolve(&Flags::default(), &plain).home(), Path::new("/users/u/.local/share/isaac"));
            }
            "config file" => {
                assert!(row.flag.starts_with("--config") && row.config.is_empty());
                let named = config_file(tmp.path(), "named.toml", 3);
                let from_env = config_file(tmp.path(), "env.toml", 5);
                config_file(&home, "config.toml", 7);
                let env = [("ISAAC_HOME", home_s), (row.env.as_str(), from_env.to_str().unwrap())];
                let flags = Flags { config: Some(named.clone()), ..Flags::default() };
                assert_eq!(resolve(&flags, &env).config_file(), named, "the flag wins over {}", row.env);
                assert_eq!(resolve(&flags, &env).jobs(), 3, "and it is the file read");
                assert_eq!(resolve(&Flags::default(), &env).config_file(), from_env);
                assert_eq!(row.default, "$ISAAC_HOME/config.toml");
                let settings = resolve(&Flags::default(), &[("ISAAC_HOME", home_s)]);
                assert_eq!((settings.config_file(), settings.jobs()), (home.join("config.toml").as_path(), 7));
            }
            "jobs" => {
                assert!(row.flag.starts_with("--jobs"));
                assert_eq!(row.config, "[loader] max_workers");
                config_file(&home, "config.toml", 7);
                let env = [("ISAAC_HOME", home_s), (row.env.as_str(), "5")];
                let flags = Flags { jobs: std::num::NonZeroUsize::new(3), ..Flags::default() };
                assert_eq!(resolve(&flags, &env).jobs(), 3, "the flag wins over {}", row.env);
                assert_eq!(resolve(&Flags::default(), &env).jobs(), 5, "{} wins over the config file", row.env);
                assert_eq!(resolve(&Flags::default(), &env[..1]).jobs(), 7, "the config file wins over the default");
                std::fs::remove_file(home.join("config.toml")).unwrap();
                let cores = std::thread::available_parallelism().unwrap().get();
                assert_eq!(row.default, "all cores");
                assert_eq!(resolve(&Flags::default(), &env[..1]).jobs(), cores);
            }
            "log level" => {
                assert!(row.env.is_empty() && row.config.is_empty());
                assert!(row.flag.contains("-q") && row.flag.contains("-v"));
                let env = [("ISAAC_HOME", home_s)];
                let level = |verbose, quiet| resolve(&Flags { verbose, quiet, ..Flags::default() }, &env).log_level();
                assert_eq!(row.default, "warnings");
                assert_eq!(level(0, false), Level::Warn);
                assert_eq!(level(0, true), Level::Error);
                assert_eq!(level(1, false), Level::Info);
                assert_eq!(level(2, false), Level::Debug);
                assert_eq!(level(3, false), Level::Trace);
            }
            "tiered compilation" => {
                assert!(row.flag.is_empty());
                assert_eq!(row.config, "[loader] tiered");
                assert!(row.env.starts_with("ISAAC_TIERED"), "{}", row.env);
                let program = Some(PathBuf::from("/bin/isaac"));
                let flags = Flags { optimizer: program.clone(), ..Flags::default() };
                std::fs::write(home.join("config.toml"), "[loader]\ntiered = false\n").unwrap();
                let env = [("ISAAC_HOME", home_s), ("ISAAC_TIERED", "1")];
                assert_eq!(
                    resolve(&flags, &env).optimizer(),
                    program.as_deref(),
                    "ISAAC_TIERED wins over the config file"
                );
                assert_eq!(resolve(&flags, &env[..1]).optimizer(), None, "the config file wins over the default");
                std::fs::remove_file(home.join("config.toml")).unwrap();
                assert!(row.default.starts_with("on"), "{}", row.default);
                assert_eq!(resolve(&flags, &env[..1]).optimizer(), program.as_deref());
                let off = [("ISAAC_HOME", home_s), ("ISAAC_TIERED", "0")];
                assert_eq!(resolve(&flags, &off).optimizer(), None);
                // A library host (no program to run in the background) is never tiered.
                assert_eq!(resolve(&Flags::default(), &env).optimizer(), None);
            }
            "pooling" => {
                assert!(row.env.is_empty() && row.config.is_empty(), "pooling is the command's");
                let env = [("ISAAC_HOME", home_s)];
                assert_eq!(row.default, "on");
                assert!(resolve(&Flags::default(), &env).pooling());
                assert!(!resolve(&Flags { one_call: true, ..Flags::default() }, &env).pooling());
            }
            "WASI file I/O on the calling thread" => {
                assert!(row.flag == "(the command)" && row.env.is_empty() && row.config.is_empty());
                let env = [("ISAAC_HOME", home_s)];
                assert_eq!(row.default, "off (on for `isaac run` only)");
                assert!(!resolve(&Flags { one_call: true, ..Flags::default() }, &env).blocking_files());
                assert!(
                    resolve(&Flags { one_call: true, blocking_files: true, ..Flags::default() }, &env).blocking_files()
                );
            }
            "registry tokens" => {
                assert!(row.flag.is_empty() && row.config.is_empty());
                let var = name_in(&row.env);
                let settings = resolve(&Flags::default(), &[("ISAAC_HOME", home_s)]);
                assert_eq!(settings.downloads().registries.tokens.var(), var);
                assert_eq!(row.default, "none");
            }
            "Docker credentials" => {
                assert!(row.flag.is_empty() && row.config.is_empty());
                let env = [("ISAAC_HOME", home_s), ("HOME", "/users/u"), (name_in(&row.env), "/etc/docker")];
                let file =
                    |env: &[(&str, &str)]| resolve(&Flags::default(), env).downloads().registries.docker_config.clone();
                assert_eq!(file(&env), Some(PathBuf::from("/etc/docker/config.json")), "{} wins", row.env);
                assert_eq!(row.default, "~/.docker");
                assert_eq!(file(&env[..2]), Some(PathBuf::from("/users/u/.docker/config.json")));
                assert_eq!(file(&env[..1]), None, "no HOME, no default");
            }
            "~ in file permissions" => {
                assert!(row.flag.is_empty() && row.config.is_empty());
                let env = [("ISAAC_HOME", home_s), (name_in(&row.env), "/users/u")];
                assert_eq!(resolve(&Flags::default(), &env).user_home(), Some(Path::new("/users/u")));
                assert_eq!(row.default, "none");
                assert_eq!(resolve(&Flags::default(), &env[..1]).user_home(), None);
                let relative = [("ISAAC_HOME", home_s), (name_in(&row.env), "users/u")];
                assert_eq!(resolve(&Flags::default(), &relative).user_home(), None, "a relative HOME is none");
            }
            other => panic!("docs/configuration.md names a setting `{other}` this test does not check"),
        }
    }
}
