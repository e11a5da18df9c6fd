//! The doors of `plugins add oci://…` and `https://…`: a credential goes only
//! to the registry it names, a redirect elsewhere carries none and reaches
//! no address the user did not name, and every byte read is bounded.
//! Against recording servers on loopback, through the real binary.

use crate::support::TestHome;
use crate::support::recorder::{Recorder, Reply, Seen};

/// A registry that asks for credentials (Basic) and refuses everything.
fn challenging() -> Recorder {
    Recorder::start(|_: &Seen| {
        Reply::Status(401, vec![("www-authenticate".into(), "Basic realm=\"test\"".into())], b"{}".to_vec())
    })
}

#[test]
fn a_registry_token_is_sent_only_to_the_registry_it_names() {
    let ours = challenging();
    let attacker = challenging();
    let home = TestHome::new();
    let scoped = format!("127.0.0.1:{}=s3cret-for-ours", ours.port);
    for token in [scoped.as_str(), "s3cret-for-nobody"] {
        let out = home
            .isaac()
            .env("ISAAC_REGISTRY_TOKEN", token)
            .args(["plugins", "add", &format!("oci://127.0.0.1:{}/x/y:1", attacker.port)])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{stderr}");
        assert!(!attacker.seen.lock().unwrap().is_empty(), "isaac asked the attacker's registry");
        assert!(attacker.authorizations().is_empty(), "no credential went to it: {:?}", attacker.authorizations());
        assert!(!stderr.contains("s3cret"), "{stderr}");
    }
    // A token that names no registry is said to be ignored.
    let out = home
        .isaac()
        .env("ISAAC_REGISTRY_TOKEN", "s3cret-for-nobody")
        .args(["plugins", "add", &format!("oci://127.0.0.1:{}/x/y:1", ours.port)])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("names no registry"));
    assert!(ours.authorizations().is_empty());
    // The scoped one goes to its registry, after its challenge.
    let out = home
        .isaac()
        .env("ISAAC_REGISTRY_TOKEN", &scoped)
        .args(["plugins", "add", &format!("oci://127.0.0.1:{}/x/y:1", ours.port)])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(ours.authorizations().first().map(String::as_str), Some("Bearer s3cret-for-ours"));
}

#[test]
fn a_redirect_to_another_registry_carries_no_credential() {
    // The other one redirects once more, to itself: a second hop on the new
    // host must not get the first request's credentials back.
    let other = Recorder::start(|seen: &Seen| match seen.path.ends_with("/again") {
        true => Reply::Status(404, vec![], b"{}".to_vec()),
        false => Reply::Status(307, vec![("location".into(), format!("{}/again", seen.path))], vec![]),
    });
    let to = other.origin();
    let ours = Recorder::start(move |seen: &Seen| match &seen.authorization {
        None => Reply::Status(401, vec![("www-authenticate".into(), "Basic realm=\"test\"".into())], vec![]),
        Some(_) => Reply::Status(307, vec![("location".into(), format!("{to}{}", seen.path))], vec![]),
    });
    let home = TestHome::new();
    let out = home
        .isaac()
        .env("ISAAC_REGISTRY_TOKEN", format!("127.0.0.1:{}=s3cret", ours.port))
        .args(["plugins", "add", &format!("oci://127.0.0.1:{}/x/y:1", ours.port)])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(ours.authorizations(), vec!["Bearer s3cret".to_owned()], "our registry got the token");
    assert!(other.seen.lock().unwrap().iter().any(|s| s.path.ends_with("/again")), "both redirects were followed");
    assert!(other.authorizations().is_empty(), "without the token: {:?}", other.authorizations());
}

#[test]
fn a_redirect_to_an_address_nobody_named_is_not_followed() {
    let ours = Recorder::start(|_: &Seen| {
        Reply::Status(302, vec![("location".into(), "http://169.254.169.254/latest/meta-data/".into())], vec![])
    });
    let home = TestHome::new();
    let err = home.fails(&["plugins", "add", &format!("oci://127.0.0.1:{}/x/y:1", ours.port)]);
    assert!(err.contains("not followed") && err.contains("169.254.169.254"), "{err}");
    let archive = home.fails(&["plugins", "add", &format!("{}/plugin.tar.gz", ours.origin())]);
    assert!(archive.contains("not followed"), "{archive}");
}

#[test]
fn a_manifest_is_read_to_a_small_fixed_cap() {
    let big = Recorder::start(|seen: &Seen| match seen.path.contains("/endless/") {
        true => Reply::Endless,
        false => Reply::Status(200, vec![], vec![b' '; 16 << 20]),
    });
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), "[downloads]\nmax_mb = 64\n").unwrap();
    for repo in ["big", "endless"] {
        let err = home.fails(&["plugins", "add", &format!("oci://127.0.0.1:{}/{repo}/x:1", big.port)]);
        assert!(err.contains("manifest is refused") && err.contains("larger than 4194304 bytes"), "{err}");
    }
}
