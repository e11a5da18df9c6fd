//! A granted directory is an identity: a plugin that renames it and plants
//! a symlink in its place reaches nothing outside its grants, in `isaac
//! run` and in `isaac shell`; nested grants are refused at review.

use std::path::Path;
use std::process::Stdio;

use crate::support::{TestHome, distinct, fixture, manifest, text};

fn plant_with_dirs(home: &TestHome, name: &str, files: &str, copy: usize) {
    let perms = format!("[permissions]\nfiles = {{ {files} }}\n");
    home.plant(name, &manifest(name, &perms), &format!("{name}.wasm"), &distinct(&fixture("hostile"), copy));
}

fn shell_script(home: &TestHome, script: &str) -> (String, String) {
    let mut child =
        home.isaac().arg("shell").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), script.as_bytes()).unwrap();
    text(&child.wait_with_output().unwrap())
}

#[test]
fn a_symlink_planted_in_place_of_a_granted_directory_reaches_nothing() {
    let home = TestHome::new();
    let base = tempfile::tempdir().unwrap();
    let base = base.path().canonicalize().unwrap();
    let (dir, sub, elsewhere) = (base.join("dir"), base.join("dir/sub"), base.join("elsewhere"));
    for d in [&sub, &elsewhere] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(sub.join("ok.txt"), "inside").unwrap();
    std::fs::write(elsewhere.join("secret.txt"), "outside every grant").unwrap();
    let (d, s) = (dir.display(), sub.display());

    // One plugin asking to write DIR and read DIR/sub: refused at review.
    plant_with_dirs(&home, "nested", &format!("write = [\"{d}\"], read = [\"{s}\"]"), 1);
    let out = home.run(&["plugins", "grant", "nested", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out).1);
    assert!(text(&out).1.contains("are nested"), "{}", text(&out).1);

    // Two plugins do the same: the writer retargets the reader's grant.
    plant_with_dirs(&home, "writer", &format!("write = [\"{d}\"]"), 2);
    plant_with_dirs(&home, "reader", &format!("read = [\"{s}\"]"), 3);
    home.grant("writer");
    home.grant("reader");
    let swap = format!(
        "reader:read {s}/ok.txt\nwriter:rename {s} {d}/moved\nwriter:symlink ../elsewhere {s}\nreader:read {s}/secret.txt\n"
    );
    let (stdout, stderr) = shell_script(&home, &swap);
    assert!(stdout.starts_with("inside\nrenamed\nlinked\n"), "the attack ran: {stdout} {stderr}");
    assert!(!stdout.contains("outside"), "the shell re-checks the grant at every call: {stdout}");
    assert!(stderr.contains("cannot be opened without following a symbolic link"), "{stderr}");
    assert!(stderr.contains("`isaac plugins grant reader`"), "{stderr}");
    assert!(std::fs::symlink_metadata(&sub).unwrap().file_type().is_symlink());

    // `isaac run` refuses too, naming the grant and the fix.
    let out = home.run(&["run", "reader:read", &format!("{s}/secret.txt")]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stdout.contains("outside"), "{stdout}");
    assert!(stderr.contains(&format!("the granted directory \"{s}\"")), "{stderr}");

    // A real directory put back in its place is another directory: refused.
    std::fs::remove_file(&sub).unwrap();
    std::fs::create_dir(&sub).unwrap();
    let stderr = text(&home.run(&["run", "reader:read", &format!("{s}/ok.txt")])).1;
    assert!(stderr.contains("no longer the directory that was granted"), "{stderr}");
    // Granting again takes the new directory's identity.
    std::fs::write(sub.join("ok.txt"), "new").unwrap();
    home.grant("reader");
    assert_eq!(text(&home.run(&["run", "reader:read", &format!("{s}/ok.txt")])).0, "new\n");
    assert!(Path::new(&elsewhere.join("secret.txt")).exists());
}

#[test]
fn a_grant_that_comes_to_cover_the_home_is_refused_at_every_call() {
    let home = TestHome::new();
    let outer = tempfile::tempdir().unwrap();
    let granted = outer.path().canonicalize().unwrap().join("granted");
    std::fs::create_dir(&granted).unwrap();
    plant_with_dirs(&home, "reader", &format!("read = [\"{}\"]", granted.display()), 4);
    home.grant("reader");
    // The user's config file is moved inside the granted directory.
    let config = granted.join("config.toml");
    std::fs::write(&config, "").unwrap();
    let out = home.isaac().args(["--config", config.to_str().unwrap(), "run", "reader:list", "/"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("covers the config file"), "{}", text(&out).1);
}
