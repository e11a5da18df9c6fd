//! `isaac shell`, driven through a pseudo-terminal (rexpect), and piped.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use rexpect::session::{PtySession, spawn_command};

use crate::support::{TestHome, dist, fixture, manifest, text};

fn home() -> TestHome {
    let home = TestHome::new();
    for name in ["hello", "wordcount"] {
        assert!(home.run(&["plugins", "add", dist(name).to_str().unwrap()]).status.success());
    }
    let limits = "[limits]\ndeadline_ms = 60000\n";
    home.plant("misbehave", &manifest("misbehave", limits), "misbehave.wasm", &fixture("misbehave"));
    // A deadline above the default is part of what the user grants.
    home.grant("misbehave");
    home
}

/// Wait for the next prompt: input typed before the editor reads is not
/// a fair test of it.
fn prompt(p: &mut PtySession) {
    p.exp_string("isaac> ").unwrap();
}

fn shell(home: &TestHome) -> PtySession {
    let mut cmd = home.isaac();
    cmd.arg("shell").env("TERM", "xterm");
    let mut p = spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_string("plugin(s) loaded").unwrap();
    p
}

#[test]
fn runs_commands_completes_names_and_quits() {
    let home = home();
    let mut p = shell(&home);
    // Quotes group words, as in a shell.
    prompt(&mut p);
    p.send_line("hello 'Ada Lovelace'").unwrap();
    p.exp_string("Hello, Ada Lovelace!").unwrap();
    prompt(&mut p);
    p.send_line("hello bars").unwrap();
    p.exp_string("Hello, bars!").unwrap();
    // Tab completes the command word: `wordcount:w` -> `wordcount:wc`.
    prompt(&mut p);
    p.send("wordcount:w").unwrap();
    p.send("\t").unwrap();
    p.flush().unwrap();
    p.send_line(" one two").unwrap();
    p.exp_string("1 2 7").unwrap();
    // An unknown command gets the same suggestion as `isaac run`.
    prompt(&mut p);
    p.send_line("helo").unwrap();
    p.exp_string("did you mean `hello`?").unwrap();
    // A trailing backslash continues the line.
    prompt(&mut p);
    p.send_line("echo first \\").unwrap();
    p.send_line("second").unwrap();
    p.exp_string("first second").unwrap();
    prompt(&mut p);
    p.send_line(":time hello").unwrap();
    p.exp_string("dispatch took").unwrap();
    prompt(&mut p);
    p.send_line(":stats").unwrap();
    p.exp_string("dispatch    p50").unwrap();
    prompt(&mut p);
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
    assert!(home.path().join("shell_history").is_file(), "history is kept in the home");
}

#[test]
fn ctrl_c_stops_a_looping_plugin_and_the_next_command_works() {
    let home = home();
    let mut p = shell(&home);
    prompt(&mut p);
    p.send_line("spin").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    p.send_control('c').unwrap();
    // The deadline is 60 s: only Ctrl-C can have stopped it.
    p.exp_string("plugin `misbehave` was interrupted").unwrap();
    prompt(&mut p);
    p.send_line("hello again").unwrap();
    p.exp_string("Hello, again!").unwrap();
    // Ctrl-C at the prompt clears the line; Ctrl-D leaves.
    prompt(&mut p);
    p.send("hello never").unwrap();
    p.flush().unwrap();
    p.exp_string("hello never").unwrap();
    p.send_control('c').unwrap();
    p.exp_string("isaac> ").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn reload_loads_a_plugin_added_meanwhile() {
    let home = TestHome::new();
    assert!(home.run(&["plugins", "add", dist("hello").to_str().unwrap()]).status.success());
    let mut p = shell(&home);
    prompt(&mut p);
    p.send_line("wc a b").unwrap();
    p.exp_string("unknown command `wc`").unwrap();
    assert!(home.run(&["plugins", "add", dist("wordcount").to_str().unwrap()]).status.success());
    prompt(&mut p);
    p.send_line(":reload").unwrap();
    p.exp_string("reloaded: 1 (wordcount) added, 0 changed, 0 removed, 1 kept").unwrap();
    prompt(&mut p);
    p.send_line("wc a b").unwrap();
    p.exp_string("1 2 3").unwrap();
    prompt(&mut p);
    p.send_line(":plugins").unwrap();
    p.exp_string("wordcount").unwrap();
    prompt(&mut p);
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn piped_scripts_print_results_only_and_exit_with_the_last_failure() {
    let home = home();
    let script = "hello\n# a comment\n\nwc \"two words\" three\necho a \\\n  b\nnope\nhello:hello piped\n";
    let mut child =
        home.isaac().arg("shell").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(stdout, "Hello, world!\n1 3 15\na b\nHello, piped!\n");
    assert!(stderr.contains("unknown command `nope`"), "{stderr}");
    assert!(!stderr.contains("isaac shell:"), "no banner when piped: {stderr}");
    assert_eq!(out.status.code(), Some(2));

    let mut child = home.isaac().arg("shell").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"fail\nhello\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "the last failure was `fail` (status 1)");
    let mut child = home.isaac().arg("shell").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(0));
}
