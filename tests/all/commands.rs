//! Plain WASI commands (`kind = "command"`, a `fn main` program exporting
//! `wasi:cli/run`, no SDK) installed, granted and run like any plugin,
//! through the real binary: arguments, stdin and stdout, a granted
//! directory, its exit status, and the attacks of `attack_cmd`.

use std::io::Write;
use std::process::Stdio;

use rexpect::session::spawn_command;

use crate::support::{TestHome, fixture, text};

/// A plugin folder for `attack_cmd` with `extra` after its commands.
fn attack_folder(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let manifest = format!(
        r#"name = "attack"
version = "0.1.0"
description = "A plain WASI command that attacks the host"
component = "attack.wasm"
kind = "command"

[commands.atk]
description = "Run one attack"
usage = "atk MODE [ARG]"

[commands.upper]
description = "Upper-case stdin"
usage = "upper"
args = ["upper"]
{extra}"#
    );
    std::fs::write(dir.path().join("plugin.toml"), manifest).unwrap();
    std::fs::write(dir.path().join("attack.wasm"), fixture("attack_cmd")).unwrap();
    dir
}

/// A home with `attack` installed (and granted what `extra` asks).
fn home(extra: &str) -> TestHome {
    let home = TestHome::new();
    let folder = attack_folder(extra);
    home.ok(&["plugins", "add", "--yes", folder.path().to_str().unwrap()]);
    home
}

fn piped(home: &TestHome, args: &[&str], input: &[u8]) -> std::process::Output {
    let mut cmd = home.isaac();
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_command_gets_its_arguments_stdin_and_stdout_and_its_status_is_isaacs() {
    let home = home("");
    let list = home.json(&["plugins", "info", "attack", "--json"]);
    assert_eq!(list["wit_version"], "command", "{list}");
    // argv[0] is the command's name; no environment but what is granted.
    assert_eq!(home.ok(&["run", "atk", "args", "x y", "-v"]), "atk\nargs\nx y\n-v\nHOME=(unset)\n");
    // Fixed arguments come first (busybox style), then stdin to stdout.
    let out = piped(&home, &["run", "upper"], b"shout this\n");
    assert_eq!(text(&out), ("SHOUT THIS\n".to_owned(), String::new()));
    // Its exit status is isaac's, quietly: the program said why on stderr.
    let out = home.run(&["run", "atk", "fail"]);
    assert_eq!(out.status.code(), Some(1));
    let (stdout, stderr) = text(&out);
    assert_eq!(stdout, "");
    assert_eq!(stderr, "attack| failing on request\n", "no isaac error line over the program's own");
    // A command in the shell, with a file as its stdin.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.txt"), "from a file\n").unwrap();
    let line = format!("upper < {}\n", dir.path().join("in.txt").display());
    let out = piped(&home, &["shell"], line.as_bytes());
    assert_eq!(text(&out).0, "FROM A FILE\n");
}

#[test]
fn a_command_reads_only_what_was_granted_whatever_the_path() {
    let home = home("");
    let dir = tempfile::tempdir().unwrap();
    let granted = dir.path().join("granted");
    std::fs::create_dir(&granted).unwrap();
    std::fs::write(granted.join("ok.txt"), "allowed\n").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "outside\n").unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.txt"), granted.join("link.txt")).unwrap();
    std::os::unix::fs::symlink("/etc", granted.join("etc")).unwrap();
    let g = granted.to_str().unwrap();
    let read = |path: String| home.run(&["run", "--allow-read", g, "atk", "read", &path]);
    assert_eq!(text(&read(format!("{g}/ok.txt"))).0, "allowed\n");
    for escape in [
        format!("{g}/../secret.txt"),
        format!("{g}/link.txt"),
        format!("{g}/etc/passwd"),
        "/etc/passwd".to_owned(),
        dir.path().join("secret.txt").display().to_string(),
    ] {
        let out = read(escape.clone());
        assert_eq!(out.status.code(), Some(1), "{escape}");
        let (stdout, _) = text(&out);
        assert!(!stdout.contains("outside") && !stdout.contains("root:"), "{escape}: {stdout}");
    }
    // Without the run's grant, not even the granted file.
    let out = home.run(&["run", "atk", "read", &format!("{g}/ok.txt")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!text(&out).0.contains("allowed"));
}

#[test]
fn a_looping_or_hoarding_command_is_stopped_at_its_limits() {
    let home = home("[limits]\ndeadline_ms = 500\nmemory_mb = 32\n");
    let out = home.run(&["run", "atk", "spin"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("ran past its deadline of 500 ms"), "{}", text(&out).1);
    let out = home.run(&["run", "atk", "bomb"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("tried to use more than its memory limit of 32 MiB"), "{}", text(&out).1);
    // The host carries on.
    assert_eq!(home.ok(&["run", "atk", "args"]), "atk\nargs\nHOME=(unset)\n");
}

/// `isaac run`'s deadline clock starts as a timer signal (`epoch.rs`): a
/// parent that blocks every signal, or ignores every real-time one and
/// `SIGALRM`, which the child inherits, must not stop it. Through python3,
/// which can do either before `exec`.
#[test]
fn the_deadline_holds_when_the_parent_blocks_or_ignores_signals() {
    const EXEC: &str = "import os, signal, sys\n\
        if HOW == 'block': signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())\n\
        else:\n    \
            for s in [signal.SIGALRM, *range(signal.SIGRTMIN, signal.SIGRTMAX + 1)]: signal.signal(s, signal.SIG_IGN)\n\
        os.execv(sys.argv[1], sys.argv[1:])\n";
    let home = home("[limits]\ndeadline_ms = 300\n");
    for how in ["block", "ignore"] {
        let mut cmd = home.isaac_from_python(&format!("HOW = '{how}'\n{EXEC}"), &["run", "atk", "spin"]);
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > std::time::Duration::from_secs(30) {
                child.kill().unwrap();
                panic!("signals {how}ed by the parent: the spinning call was never stopped");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{how}: {}", text(&out).1);
        assert!(text(&out).1.contains("ran past its deadline of 300 ms"), "{how}: {}", text(&out).1);
    }
}

#[test]
fn a_commands_escapes_do_not_reach_the_terminal() {
    let home = home("");
    let mut cmd = home.isaac();
    cmd.args(["run", "atk", "escapes"]);
    let mut p = spawn_command(cmd, Some(20_000)).unwrap();
    let shown = p.exp_eof().unwrap();
    assert!(!shown.contains('\x1b') && !shown.contains('\x07'), "{shown:?}");
    assert!(shown.contains(r"\x1b]0;pwned\x07title\x1b[2Jcleared"), "{shown:?}");
    assert!(shown.contains(r"attack| \x1b[1A\x1b[2Kisaac: all permissions granted"), "{shown:?}");
    // To a pipe, stdout is exact.
    let out = home.run(&["run", "atk", "escapes"]);
    assert_eq!(out.stdout, b"\x1b]0;pwned\x07title\x1b[2Jcleared\n");
}

#[test]
fn what_a_command_cannot_have_is_refused_at_add_by_name() {
    let home = TestHome::new();
    // It imports wasi:sockets: refused, the interface named.
    let dir = tempfile::tempdir().unwrap();
    let manifest = "name = \"sock\"\nversion = \"0.1.0\"\ndescription = \"d\"\ncomponent = \"sock.wasm\"\nkind = \"command\"\n[commands.sock]\ndescription = \"d\"\n";
    std::fs::write(dir.path().join("plugin.toml"), manifest).unwrap();
    std::fs::write(dir.path().join("sock.wasm"), fixture("sockets_cmd")).unwrap();
    let stderr = home.fails(&["plugins", "add", "--yes", dir.path().to_str().unwrap()]);
    assert!(stderr.contains("imports wasi:sockets/"), "{stderr}");
    assert!(stderr.contains("which isaac does not provide to a command"), "{stderr}");
    // A command not declared as one: the manifest says what to add.
    let undeclared = "name = \"sock\"\nversion = \"0.1.0\"\ndescription = \"d\"\ncomponent = \"sock.wasm\"\n";
    std::fs::write(dir.path().join("plugin.toml"), undeclared).unwrap();
    std::fs::write(dir.path().join("sock.wasm"), fixture("attack_cmd")).unwrap();
    let stderr = home.fails(&["plugins", "add", "--yes", dir.path().to_str().unwrap()]);
    assert!(stderr.contains("is a WASI command (it exports wasi:cli/run)"), "{stderr}");
    // A command with no [commands], and [commands] without kind.
    std::fs::write(dir.path().join("plugin.toml"), format!("{undeclared}kind = \"command\"\n")).unwrap();
    let stderr = home.fails(&["plugins", "add", "--yes", dir.path().to_str().unwrap()]);
    assert!(stderr.contains("plugin.toml:5:8: a WASI command names its commands"), "{stderr}");
    std::fs::write(dir.path().join("plugin.toml"), format!("{undeclared}[commands.x]\ndescription = \"d\"\n")).unwrap();
    let stderr = home.fails(&["plugins", "add", "--yes", dir.path().to_str().unwrap()]);
    assert!(stderr.contains("[commands] is for a WASI command: add kind = \"command\""), "{stderr}");
    assert!(home.run(&["plugins", "list"]).status.success());
}

#[test]
fn an_mcp_tool_runs_a_command_with_stdin_and_reports_its_status() {
    let home = home("");
    crate::support::runtime().block_on(async {
        let service = crate::mcp::connect(&home, crate::mcp::Client::default()).await;
        let arguments = serde_json::json!({ "args": [], "stdin": "quiet words" });
        let call = rmcp::model::CallToolRequestParams::new("attack__upper".to_owned())
            .with_arguments(arguments.as_object().unwrap().clone());
        let result = service.call_tool(call).await.unwrap();
        assert_eq!((crate::mcp::text(&result).as_str(), result.is_error), ("QUIET WORDS", Some(false)));
        let result = service.call_tool(crate::mcp::call("attack__atk", &["fail"])).await.unwrap();
        assert_eq!((crate::mcp::text(&result).as_str(), result.is_error), ("(exit status 1)", Some(true)));
        service.cancel().await.unwrap();
    });
}

#[test]
fn the_example_commands_run_as_they_would_anywhere() {
    let home = TestHome::new();
    for (name, lang) in [("upper", "rust"), ("rot13", "c"), ("ripgrep", "thirdparty")] {
        crate::support::require_example(name, lang);
        home.ok(&["plugins", "add", "--yes", crate::support::dist(name).to_str().unwrap()]);
    }
    // A plain Rust program, offered twice (the second with a fixed flag).
    assert_eq!(text(&piped(&home, &["run", "upper"], b"quiet\n")).0, "QUIET\n");
    assert_eq!(text(&piped(&home, &["run", "lower"], b"LOUD\n")).0, "loud\n");
    // A C program, and its own exit status (exit-with-code).
    assert_eq!(home.ok(&["run", "rot13", "abc"]), "nop\n");
    assert_eq!(home.run(&["run", "rot13", "-e", "3"]).status.code(), Some(3));
    // ripgrep from crates.io, unmodified: a directory granted for the run,
    // the same search refused without it, stdin with `-`.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.rs"), "fn main() {}\n// TODO: fix\n").unwrap();
    let d = dir.path().to_str().unwrap();
    let found = home.ok(&["run", "--allow-read", d, "rg", "-n", "TODO", d]);
    assert_eq!(found, format!("{d}/a.rs:2:// TODO: fix\n"));
    let out = home.run(&["run", "rg", "-n", "TODO", d]);
    assert_eq!(out.status.code(), Some(1), "not granted: nothing to search");
    assert!(text(&out).0.is_empty());
    assert_eq!(text(&piped(&home, &["run", "rg", "fix", "-"], b"keep\nfix this\n")).0, "fix this\n");
}
