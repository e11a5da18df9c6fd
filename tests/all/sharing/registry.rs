//! `isaac plugins publish` and `add oci://…` against a real registry.

use super::{hello_dist, hello_folder, s};
use crate::support::TestHome;
use crate::support::registry::{self, Registry};

const CACHE: &str = "[permissions]\ncache = true\n";

/// Publish `folder` to `reference`; returns the digest printed.
fn publish(home: &TestHome, folder: &std::path::Path, reference: &str) -> String {
    let out = home.json(&["plugins", "publish", s(folder), reference, "--json"]);
    let digest = out["digest"].as_str().unwrap().to_owned();
    assert!(digest.starts_with("sha256:") && digest.len() == 71, "{out}");
    digest
}

#[test]
fn published_plugins_install_by_tag_and_by_digest_with_their_provenance() {
    let reg = Registry::start();
    let home = TestHome::new();
    let tag = reg.reference("isaac/hello:1.0");
    let digest = publish(&home, &hello_dist(), &tag);
    let text = home.ok(&["plugins", "publish", s(&hello_dist()), &tag]);
    assert!(text.contains(&digest), "publishing the same bytes again gives the same digest: {text}");

    home.ok(&["plugins", "add", &tag]);
    assert_eq!(home.ok(&["run", "hello", "registry"]), "Hello, registry!\n");
    let info = home.json(&["plugins", "info", "hello", "--json"]);
    assert_eq!(info["source"]["kind"], "oci");
    assert_eq!(info["source"]["location"], tag.as_str());
    assert_eq!(info["source"]["digest"], digest.as_str());
    let list = home.json(&["plugins", "list", "--json"]);
    assert_eq!(list[0]["source"]["digest"], digest.as_str());
    assert!(home.ok(&["plugins", "info", "hello"]).contains(&format!("digest:    {digest}")));
    assert!(home.ok(&["plugins", "update"]).contains("hello: up to date"));

    // The CNCF wasm layout, as the registry holds it.
    let manifest = reg.manifest("isaac/hello", &digest);
    assert_eq!(manifest["config"]["mediaType"], "application/vnd.wasm.config.v0+json");
    let types: Vec<&str> =
        manifest["layers"].as_array().unwrap().iter().map(|l| l["mediaType"].as_str().unwrap()).collect();
    assert_eq!(types, ["application/wasm", "application/vnd.isaac.plugin.manifest.v1+toml"]);

    let pinned_home = TestHome::new();
    let pinned = format!("{}@{digest}", reg.reference("isaac/hello"));
    pinned_home.ok(&["plugins", "add", &pinned]);
    assert_eq!(pinned_home.ok(&["run", "hello"]), "Hello, world!\n");
    assert!(pinned_home.ok(&["plugins", "update", "hello"]).contains("pinned to"));
}

#[test]
fn updates_keep_the_grant_only_while_the_permissions_asked_are_unchanged() {
    let reg = Registry::start();
    let home = TestHome::new();
    let tag = reg.reference("isaac/hello:stable");
    publish(&home, hello_folder("1.0.0", CACHE, 1).path(), &tag);
    home.ok(&["plugins", "add", &tag, "--yes"]);
    assert_eq!(home.ok(&["run", "hello"]), "Hello, world!\n");

    // Same permissions: the grant moves to the new component.
    publish(&home, hello_folder("1.1.0", CACHE, 2).path(), &tag);
    let out = home.run(&["plugins", "update", "hello"]);
    let (stdout, stderr) = crate::support::text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("1.0.0 -> 1.1.0") && stdout.contains("permissions asked: unchanged"), "{stdout}");
    assert!(stderr.contains("its grant moved to the new component"), "{stderr}");
    assert_eq!(home.ok(&["run", "hello"]), "Hello, world!\n", "runs without a new grant");
    let info = home.json(&["plugins", "info", "hello", "--json"]);
    assert_eq!(info["grant"]["sha256"], info["sha256"]);
    assert_eq!(info["version"], "1.1.0");

    // More permissions: reviewed again; without --yes (and no terminal) nothing changes.
    let more = format!("{CACHE}env = [\"LANG\"]\n");
    publish(&home, hello_folder("2.0.0", &more, 3).path(), &tag);
    let dry = home.ok(&["plugins", "update", "hello", "--dry-run"]);
    assert!(dry.contains("1.1.0 -> 2.0.0") && dry.contains("+ asks for"), "{dry}");
    assert_eq!(home.json(&["plugins", "info", "hello", "--json"])["version"], "1.1.0", "--dry-run installs nothing");
    let refused = home.fails(&["plugins", "update", "hello"]);
    assert!(refused.contains("add --yes"), "{refused}");
    assert_eq!(home.json(&["plugins", "info", "hello", "--json"])["version"], "1.1.0");
    assert_eq!(home.ok(&["run", "hello"]), "Hello, world!\n", "the installed version still runs");
    home.ok(&["plugins", "update", "hello", "--yes"]);
    let info = home.json(&["plugins", "info", "hello", "--json"]);
    assert_eq!((info["version"].as_str(), info["granted"].as_bool()), (Some("2.0.0"), Some(true)));
    assert_eq!(home.ok(&["run", "hello"]), "Hello, world!\n");
}

#[test]
fn wrong_digests_altered_blobs_and_unreachable_registries_install_nothing() {
    let reg = Registry::start();
    let home = TestHome::new();
    let tag = reg.reference("isaac/hello:1.0");
    let digest = publish(&home, &hello_dist(), &tag);

    let wrong = format!("{}@sha256:{}", reg.reference("isaac/hello"), "0".repeat(64));
    let err = home.fails(&["plugins", "add", &wrong]);
    assert!(err.contains(&wrong), "the reference is named: {err}");

    // A registry that serves other bytes than the manifest names.
    reg.tamper_blob(&format!("sha256:{}", registry::sha256(&crate::support::example_wasm("hello"))));
    let err = home.fails(&["plugins", "add", &format!("{}@{digest}", reg.reference("isaac/hello"))]);
    assert!(err.contains("does not match"), "{err}");

    let nowhere = format!("oci://127.0.0.1:{}/isaac/hello:1.0", crate::support::free_port());
    let err = home.fails(&["plugins", "add", &nowhere]);
    assert!(err.contains("cannot reach the registry 127.0.0.1:"), "{err}");
    assert_eq!(home.json(&["plugins", "list", "--json"]), serde_json::json!([]), "nothing was installed");
    let leftovers: Vec<_> = std::fs::read_dir(home.path().join("plugins")).unwrap().collect();
    assert!(leftovers.is_empty(), "no download is left behind: {leftovers:?}");
}

#[test]
fn a_plugin_from_another_origin_inherits_neither_grant_nor_cached_data() {
    let reg = Registry::start();
    let home = TestHome::new();
    let folder = hello_folder("1.0.0", CACHE, 0);
    home.ok(&["plugins", "add", s(folder.path()), "--yes"]);
    home.ok(&["cache", "set", "--plugin", "hello", "secret", "kept by the folder's hello"]);

    let other = reg.reference("someone-else/hello:1.0");
    publish(&home, folder.path(), &other);
    let err = home.fails(&["plugins", "add", &other, "--yes"]);
    assert!(err.contains("is installed from") && err.contains("inherit neither"), "{err}");
    assert!(home.ok(&["cache", "get", "--plugin", "hello", "secret"]).contains("kept"));

    let out = home.run(&["plugins", "add", &other, "--yes", "--force"]);
    let (_, stderr) = crate::support::text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("grant and cached data were dropped"), "{stderr}");
    let gone = home.run(&["cache", "get", "--plugin", "hello", "secret"]);
    assert!(!gone.status.success(), "the other origin's plugin does not see the old data");
    let info = home.json(&["plugins", "info", "hello", "--json"]);
    assert_eq!(info["source"]["location"], other.as_str());
}

#[test]
fn registry_credentials_come_from_the_docker_credentials_file() {
    let reg = Registry::with_login("isaac", "s3cret");
    let home = TestHome::new();
    let tag = reg.reference("team/hello:1.0");
    let err = home.fails(&["plugins", "publish", s(&hello_dist()), &tag]);
    assert!(err.contains("wants credentials") && err.contains("docker login 127.0.0.1:"), "{err}");

    // What `docker login` writes: base64 of user:password under the registry.
    let docker = tempfile::tempdir().unwrap();
    let registry_host = tag.trim_start_matches("oci://").split('/').next().unwrap();
    let config = format!(r#"{{"auths": {{"{registry_host}": {{"auth": "aXNhYWM6czNjcmV0"}}}}}}"#);
    std::fs::write(docker.path().join("config.json"), config).unwrap();
    let with_login = |args: &[&str]| home.isaac().env("DOCKER_CONFIG", docker.path()).args(args).output().unwrap();
    assert!(with_login(&["plugins", "publish", s(&hello_dist()), &tag]).status.success());
    assert!(with_login(&["plugins", "add", &tag]).status.success());
    assert_eq!(home.ok(&["run", "hello"]), "Hello, world!\n");

    // A credential helper is named, never run.
    std::fs::write(docker.path().join("config.json"), r#"{"credsStore": "isaac-test-helper"}"#).unwrap();
    let out = with_login(&["plugins", "update", "hello"]);
    let (_, stderr) = crate::support::text(&out);
    assert!(
        !out.status.success() && stderr.contains("docker-credential-isaac-test-helper`, which isaac does not run"),
        "{stderr}"
    );
}
