//! `isaac plugins add https://…/plugin.tar.gz --sha256 HEX` against a real
//! HTTP server on loopback, hostile archives included, and updates from
//! URLs and folders.

use std::io::Write;

use super::{hello_dist, hello_folder, s, write_hello};
use crate::support::TestHome;
use crate::support::registry::{FileServer, sha256, tar_gz};

/// Nothing of a failed install is left: no plugin, no download folder.
fn assert_nothing_installed(home: &TestHome) {
    assert_eq!(home.json(&["plugins", "list", "--json"]), serde_json::json!([]));
    let plugins = home.path().join("plugins");
    let left: Vec<_> = std::fs::read_dir(&plugins).map(|d| d.collect::<Vec<_>>()).unwrap_or_default();
    assert!(left.is_empty(), "left behind in {}: {left:?}", plugins.display());
}

/// A gzip'd tar whose entries are written as given, paths unchecked: what
/// an attacker builds. Each entry: path, kind, data, link target.
fn hostile(entries: &[(&str, tar::EntryType, &[u8], &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, kind, data, link) in entries {
        let mut header = tar::Header::new_gnu();
        header.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_entry_type(*kind);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        if !link.is_empty() {
            header.as_gnu_mut().unwrap().linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_cksum();
        builder.append(&header, *data).unwrap();
    }
    gzip(&builder.into_inner().unwrap())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn a_pinned_url_installs_and_records_its_digest() {
    let server = FileServer::start();
    let archive = tar_gz(&hello_dist(), "hello");
    let digest = sha256(&archive);
    let url = server.put("hello.tar.gz", &archive);
    let home = TestHome::new();
    home.ok(&["plugins", "add", &url, "--sha256", &digest]);
    assert_eq!(home.ok(&["run", "hello", "url"]), "Hello, url!\n");
    let info = home.json(&["plugins", "info", "hello", "--json"]);
    assert_eq!(info["source"]["kind"], "url");
    assert_eq!(info["source"]["location"], url.as_str());
    assert_eq!(info["source"]["digest"], format!("sha256:{digest}").as_str());

    // Files at the archive's root work too, and `sha256:` may lead the pin.
    let flat = tar_gz(&hello_dist(), "");
    let url = server.put("flat.tar.gz", &flat);
    let other = TestHome::new();
    other.ok(&["plugins", "add", &url, "--sha256", &format!("sha256:{}", sha256(&flat))]);
    assert_eq!(other.ok(&["run", "hello"]), "Hello, world!\n");
}

#[test]
fn wrong_or_missing_digests_install_nothing() {
    let server = FileServer::start();
    let archive = tar_gz(&hello_dist(), "hello");
    let url = server.put("hello.tar.gz", &archive);
    let home = TestHome::new();
    let err = home.fails(&["plugins", "add", &url, "--sha256", &"ab".repeat(32)]);
    assert!(err.contains("sha256 mismatch") && err.contains(&sha256(&archive)), "{err}");
    assert_nothing_installed(&home);

    let err = home.fails(&["plugins", "add", &url, "--yes"]);
    assert!(err.contains("not pinned") && err.contains("--sha256"), "{err}");
    let err = home.fails(&["plugins", "add", &url]);
    assert!(err.contains(&format!("add --sha256 {}", sha256(&archive))), "the digest is shown: {err}");
    assert_nothing_installed(&home);

    let err = home.fails(&["plugins", "add", "http://example.com/hello.tar.gz", "--sha256", &"ab".repeat(32)]);
    assert!(err.contains("only for loopback"), "{err}");
    let missing = format!("{}-missing", url);
    let err = home.fails(&["plugins", "add", &missing, "--sha256", &"ab".repeat(32)]);
    assert!(err.contains("404"), "{err}");
}

#[test]
fn truncated_and_hostile_archives_are_refused_whole() {
    let server = FileServer::start();
    let home = TestHome::new();
    let add = |name: &str, bytes: &[u8]| {
        let url = server.put(name, bytes);
        let err = home.fails(&["plugins", "add", &url, "--sha256", &sha256(bytes)]);
        assert_nothing_installed(&home);
        err
    };
    let archive = tar_gz(&hello_dist(), "hello");
    let err = add("cut.tar.gz", &archive[..archive.len() / 2]);
    assert!(err.contains("truncated"), "{err}");

    let manifest = std::fs::read(hello_dist().join("plugin.toml")).unwrap();
    let file = tar::EntryType::Regular;
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("up.tar.gz", hostile(&[("plugin.toml", file, &manifest, ""), ("../../escaped", file, b"x", "")]), "(`..`)"),
        ("abs.tar.gz", hostile(&[("/tmp/isaac-escaped", file, b"x", "")]), "absolute"),
        ("sym.tar.gz", hostile(&[("plugin.toml", tar::EntryType::Symlink, b"", "/etc/passwd")]), "symbolic link"),
        ("hard.tar.gz", hostile(&[("hello.wasm", tar::EntryType::Link, b"", "/etc/passwd")]), "hard link"),
        ("dev.tar.gz", hostile(&[("tty", tar::EntryType::Char, b"", "")]), "device"),
    ];
    for (name, bytes, why) in &cases {
        let err = add(name, bytes);
        assert!(err.contains(why), "{name}: {err}");
    }
    assert!(!home.path().join("escaped").exists() && !std::path::Path::new("/tmp/isaac-escaped").exists());
}

#[test]
fn downloads_and_archives_are_bounded() {
    let server = FileServer::start();
    let home = TestHome::new();
    std::fs::write(
        home.path().join("config.toml"),
        "[downloads]\nmax_mb = 1\nmax_unpacked_mb = 2\nmax_entries = 50\ntimeout_secs = 30\n",
    )
    .unwrap();
    let add = |name: &str, bytes: &[u8]| {
        let url = server.put(name, bytes);
        home.fails(&["plugins", "add", &url, "--sha256", &sha256(bytes)])
    };
    // 3 MiB of zeros compress to a few KiB: a small download, a big unpack.
    let zeros = vec![0u8; 3 << 20];
    let bomb = hostile(&[("plugin.toml", tar::EntryType::Regular, &zeros, "")]);
    assert!(bomb.len() < 1 << 20);
    let err = add("bomb.tar.gz", &bomb);
    assert!(err.contains("unpacks to more than 2 MiB") && err.contains("[downloads]"), "{err}");
    let many: Vec<(String, Vec<u8>)> = (0..60).map(|i| (format!("f{i}"), vec![b'x'])).collect();
    let entries: Vec<(&str, tar::EntryType, &[u8], &str)> =
        many.iter().map(|(n, d)| (n.as_str(), tar::EntryType::Regular, d.as_slice(), "")).collect();
    let err = add("many.tar.gz", &hostile(&entries));
    assert!(err.contains("more than 50 entries"), "{err}");
    let noise: Vec<u8> = (0..(2u32 << 20)).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let err = add("big.tar.gz", &noise);
    assert!(err.contains("larger than 1 MiB"), "{err}");
    assert_nothing_installed(&home);
}

#[test]
fn urls_and_folders_update_from_their_source() {
    let server = FileServer::start();
    let home = TestHome::new();
    let v1 = tar_gz(hello_folder("1.0.0", "", 1).path(), "hello");
    let url = server.put("hello.tar.gz", &v1);
    home.ok(&["plugins", "add", &url, "--sha256", &sha256(&v1)]);
    assert!(home.ok(&["plugins", "update"]).contains("up to date"));

    // The URL now serves other bytes: not installed until pinned.
    let v2 = tar_gz(hello_folder("2.0.0", "", 2).path(), "hello");
    server.put("hello.tar.gz", &v2);
    let err = home.fails(&["plugins", "update", "hello"]);
    assert!(err.contains(&sha256(&v2)), "the new digest is shown: {err}");
    assert_eq!(home.json(&["plugins", "info", "hello", "--json"])["version"], "1.0.0");
    home.ok(&["plugins", "update", "hello", "--sha256", &sha256(&v2)]);
    assert_eq!(home.json(&["plugins", "info", "hello", "--json"])["version"], "2.0.0");

    // A folder source updates from the folder.
    let folder_home = TestHome::new();
    let folder = hello_folder("1.0.0", "", 3);
    folder_home.ok(&["plugins", "add", s(folder.path())]);
    write_hello(folder.path(), "1.0.1", "", 4);
    let out = folder_home.ok(&["plugins", "update", "hello"]);
    assert!(out.contains("1.0.0 -> 1.0.1") && out.contains("updated to 1.0.1"), "{out}");
    assert_eq!(folder_home.ok(&["run", "hello"]), "Hello, world!\n");
}
