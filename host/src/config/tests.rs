use std::path::Path;

use super::*;
use crate::capabilities::CONFIG_SECTIONS;

fn parse(text: &str) -> Result<Config, TomlError> {
    Config::parse(Path::new("config.toml"), text, CONFIG_SECTIONS)
}

#[test]
fn missing_default_file_is_defaults_but_a_named_one_is_an_error() {
    let p = Path::new("/nonexistent/isaac/config.toml");
    let defaults = Config::load(p, false, CONFIG_SECTIONS).unwrap();
    assert_eq!(defaults.limits, LimitsConfig::default());
    // Not parsed, yet what an empty file gives, the capabilities' tables too.
    assert_eq!(defaults, parse("").unwrap());
    assert!(Config::load(p, true, CONFIG_SECTIONS).unwrap_err().message.contains("cannot read"));
}

#[test]
fn values_out_of_range_name_their_line() {
    let cases = [
        ("[limits]\nmemory_mb = 0\n", (2, 13), "[limits] memory_mb must be at least 1"),
        ("[cache]\nl1_entries = 5\nmax_key_bytes = 4000\n", (3, 17), "at most 400"),
        ("[ai]\ndefault_provider = \"x\"\n", (2, 20), "names no [ai.providers.x] table"),
        (
            "[ai.providers.local]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:1\"\nmodel = \"m\"\nmax_concurrency = 0\n",
            (5, 19),
            "[ai.providers.local] max_concurrency",
        ),
        ("[storage]\ncold = \"memcached://x\"\n", (2, 8), "expected \"lmdb\""),
        ("[storage.redis]\npool_size = 0\n", (2, 13), "[storage.redis] pool_size"),
        ("[mcp]\nmax_concurrent_calls = 0\n", (2, 24), "[mcp] max_concurrent_calls"),
    ];
    for (text, position, message) in cases {
        let err = parse(text).unwrap_err();
        assert_eq!(err.position, Some(position), "{err}");
        assert!(err.message.contains(message), "{err}");
    }
}

#[test]
fn a_capability_s_table_is_checked_by_it_and_read_back() {
    let config = parse("[http]\nresolve = { \"api.test\" = [\"192.0.2.1\"] }\n").unwrap();
    assert!(config.sections.contains_key("http"));
    let err = parse("[limits]\nmemory_mb = 8\n\n[http]\nca_flie = \"x.pem\"\n").unwrap_err();
    assert_eq!(err.position, Some((5, 1)), "{err}");
    assert!(err.message.contains("unknown field `ca_flie`"), "{err}");
}

#[test]
fn an_unknown_table_lists_the_file_s_and_the_capabilities() {
    let err = parse("[limits]\nmemory_mb = 8\n[htpp]\n").unwrap_err();
    assert_eq!(err.position, Some((3, 2)), "{err}");
    assert!(err.message.starts_with("unknown field `htpp`, expected one of `ai`, `cache`"), "{err}");
    assert!(err.message.contains("`http`"), "{err}");
}

#[test]
fn every_table_the_file_declares_is_one_of_its_own_keys() {
    for key in Config::OWN_KEYS {
        parse(&format!("[{key}]\n")).unwrap_or_else(|e| panic!("[{key}]: {e}"));
    }
}
