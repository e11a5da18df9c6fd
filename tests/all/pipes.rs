//! Plugins as Unix filters, through the real binary and real pipes: stdin
//! in, stdout streamed out (exact to a pipe, sanitised on a terminal),
//! stderr as diagnostics, a closed reader, deadlines that fit filters, AI
//! answers streamed through a plugin, and the 0.1.0/0.2.0 plugins that keep
//! what they had.

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use isaac_host::config::ProviderKind;
use isaac_host::testing::SimConfig;
use rexpect::session::spawn_command;

use crate::ai::{Sims, home_with};
use crate::support::{TestHome, dist, fixture, isaac_bin, manifest, text};

/// A home with the filters fixture and wordcount installed.
fn home() -> TestHome {
    let home = TestHome::new();
    home.ok(&["plugins", "add", dist("wordcount").to_str().unwrap()]);
    home.plant("filters", &manifest("filters", ""), "filters.wasm", &fixture("filters"));
    home
}

/// `bash -c SCRIPT` with `$ISAAC` the binary and this home.
fn sh(home: &TestHome, script: &str) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(script)
        .env("ISAAC", isaac_bin())
        .env("ISAAC_HOME", home.path())
        .env("ISAAC_TIERED", "0")
        .env_remove("ISAAC_CONFIG");
    cmd
}

/// Run `input | isaac ARGS` and return what it did.
fn piped(home: &TestHome, args: &[&str], input: &[u8]) -> Output {
    let mut cmd = home.isaac();
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // A writer of its own: a plugin may finish before it reads it all.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

#[test]
fn wc_counts_what_is_piped_in_and_an_empty_stdin() {
    let home = home();
    let text_in = "one two\nthree  héllo\n\nlast line without end";
    let out = piped(&home, &["run", "wc"], text_in.as_bytes());
    assert!(out.status.success(), "{}", text(&out).1);
    let chars = text_in.chars().count();
    assert_eq!(text(&out).0, format!("4 8 {chars}\n"), "lines, words, characters of stdin");
    // The same text as arguments counts the same.
    let words: Vec<&str> = text_in.split(' ').collect();
    let mut args = vec!["run", "wc"];
    args.extend(&words);
    assert_eq!(home.ok(&args), format!("4 8 {chars}\n"));
    // A large input is read in pieces: a character cut between two reads
    // counts once.
    let big = "é ".repeat(300_000);
    let out = piped(&home, &["run", "wc"], big.as_bytes());
    assert_eq!(text(&out).0, "1 300000 600000\n");
    // stdin closed from the start (here /dev/null): nothing to count.
    let out = home.isaac().args(["run", "wc"]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(text(&out).0, "0 0 0\n");
}

#[test]
fn a_pipe_gets_the_exact_bytes_as_they_are_written() {
    let home = home();
    let data: Vec<u8> = (0..3 << 20).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let out = piped(&home, &["run", "cat"], &data);
    assert!(out.status.success(), "{}", text(&out).1);
    assert!(out.stdout == data, "3 MiB of bytes through the plugin arrive exactly");
    // What it wrote, then its result; escapes reach a pipe as they are.
    assert_eq!(home.ok(&["run", "both"]), "streamed\nreturned\n");
    assert_eq!(home.run(&["run", "split"]).stdout, b"clear\x1b[2J; caf\xc3\xa9\r\n");
    // --json collects what it wrote into the one object.
    let json = home.json(&["--json", "run", "both"]);
    assert_eq!(json["output"], "streamed\nreturned");
}

#[test]
fn a_closed_reader_ends_the_call_quietly() {
    let home = home();
    // `head -1` exits after the first line: the plugin's next write ends the
    // call, with no error text and the status of a tool killed by SIGPIPE.
    let out = sh(&home, r#""$ISAAC" run gen | head -1; echo "status ${PIPESTATUS[0]}" >&2"#).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(stdout, "line 0\n");
    assert_eq!(stderr, "status 141\n", "no error text, status 141");
    // A plugin writing without end into `head -c 1M` ends too.
    let out = sh(&home, r#""$ISAAC" run gen | head -c 1048576 | wc -c; echo "status ${PIPESTATUS[0]}" >&2"#)
        .output()
        .unwrap();
    assert_eq!(text(&out), ("1048576\n".to_owned(), "status 141\n".to_owned()));
}

#[test]
fn a_plugin_that_never_reads_stdin_does_not_hang_isaac_or_the_writer() {
    let home = home();
    // 100 MB offered; the plugin reads none of it and isaac ends at once,
    // which ends the writer too (its pipe closes).
    let out = sh(&home, r#"head -c 100000000 /dev/zero | "$ISAAC" run ignore; echo "status ${PIPESTATUS[*]}" >&2"#)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(stdout, "ignored\n");
    assert!(stderr.ends_with(" 0\n"), "isaac succeeds, the writer is stopped by the closed pipe: {stderr}");
}

#[test]
fn time_blocked_on_stdin_is_not_running_time_but_a_busy_loop_is() {
    let home = TestHome::new();
    let limits = "[limits]\ndeadline_ms = 300\n";
    home.plant("filters", &manifest("filters", limits), "filters.wasm", &fixture("filters"));
    home.plant("misbehave", &manifest("misbehave", limits), "misbehave.wasm", &fixture("misbehave"));
    // Five lines, 200 ms apart: a second in all, past the 300 ms deadline,
    // spent waiting on the writer.
    let script = r#"for i in 1 2 3 4 5; do echo $i; sleep 0.2; done | "$ISAAC" run tick"#;
    let out = sh(&home, script).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "a filter making progress is not cut: {stderr}");
    assert_eq!(stdout, "got 1\ngot 2\ngot 3\ngot 4\ngot 5\n");
    // A busy loop with the same input waiting is still stopped.
    let out = sh(&home, r#"sleep 5 | "$ISAAC" run spin"#).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("ran past its deadline of 300 ms"), "{}", text(&out).1);
}

#[test]
fn note_add_keeps_what_is_piped_in() {
    let home = TestHome::new();
    home.ok(&["plugins", "add", "--yes", dist("notes").to_str().unwrap()]);
    let out = piped(&home, &["run", "note", "add"], b"disk 91% full\nrotate logs\n");
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(home.ok(&["run", "note", "list"]), "1. disk 91% full rotate logs\n");
    // Nothing piped in and no text: how to call it.
    let out = home.isaac().args(["run", "note", "add"]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("note add with no text adds stdin"), "{}", text(&out).1);
}

#[test]
fn the_shell_takes_a_file_as_a_lines_input() {
    let home = home();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("words.txt");
    std::fs::write(&file, "a b c\nd\n").unwrap();
    let lines =
        format!("wc < {}\nwc <{}\nwc \"<\" x\nwc < /no/such/file\nwc < /dev/null\n", file.display(), file.display());
    let mut cmd = home.isaac();
    cmd.arg("shell").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(lines.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    // A quoted `<` is an argument.
    assert_eq!(stdout, "2 4 8\n2 4 8\n1 2 3\n");
    assert!(stderr.contains("cannot read /no/such/file as the command's input"), "{stderr}");
    // Not a regular file: refused (it could block where Ctrl-C cannot reach).
    assert!(stderr.contains("cannot read /dev/null as the command's input: not a regular file"), "{stderr}");
}

#[test]
fn a_terminal_gets_sanitised_output_even_when_an_escape_is_split_across_writes() {
    let home = home();
    let mut cmd = home.isaac();
    cmd.args(["run", "split"]);
    let mut p = spawn_command(cmd, Some(20_000)).unwrap();
    let shown = p.exp_eof().unwrap();
    // (rexpect shows each byte of the output as a character: é is its two.)
    assert!(shown.contains("clear\\x1b[2J; caf\u{c3}\u{a9}\r"), "the escape is shown, not obeyed: {shown:?}");
    assert!(!shown.contains('\x1b'), "no raw escape reaches the terminal: {shown:?}");
    // A flood on a terminal stops at the cap.
    let mut cmd = home.isaac();
    cmd.args(["run", "gen"]);
    let mut p = spawn_command(cmd, Some(60_000)).unwrap();
    p.exp_string("wrote more than 4096 KiB to stdout, and was stopped").unwrap();
}

#[test]
fn diagnostics_on_stderr_are_prefixed_sanitised_and_capped() {
    let home = TestHome::new();
    home.plant("hostile", &manifest("hostile", ""), "hostile.wasm", &fixture("hostile"));
    let out = home.run(&["run", "err-flood"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.is_empty());
    assert!(stderr.contains("hostile| eeee"), "diagnostics are shown, prefixed");
    assert!(
        stderr.contains("wrote more than 1024 KiB to stderr, and was stopped"),
        "{}",
        &stderr[stderr.len() - 300..]
    );
    assert!(stderr.len() < 1100 << 10, "the cap holds: {} bytes", stderr.len());
}

#[test]
fn plugins_built_for_0_1_0_and_0_2_0_keep_what_they_had() {
    let home = TestHome::new();
    let prebuilt = |name: &str| {
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/prebuilt").join(name))
            .unwrap()
    };
    home.plant("wc2", &manifest("wc2", ""), "wc2.wasm", &prebuilt("wordcount-wit-0.2.0.wasm"));
    let cache = "[permissions]\ncache = true\n";
    home.plant("probe1", &manifest("probe1", cache), "probe1.wasm", &prebuilt("cache-probe-wit-0.1.0.wasm"));
    home.grant("probe1");
    // No stdin for a 0.2.0 plugin: `wc` without arguments is a usage error,
    // as it was.
    let out = piped(&home, &["run", "wc2:wc"], b"a b c\n");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out).1);
    assert_eq!(home.ok(&["run", "wc2:wc", "a", "b"]), "1 2 3\n");
    let info = home.json(&["plugins", "info", "wc2", "--json"]);
    assert_eq!(info["wit_version"], "0.2.0", "{info}");
    let info = home.json(&["plugins", "info", "probe1", "--json"]);
    assert_eq!(info["wit_version"], "0.1.0", "{info}");
    // A 0.1.0 plugin still runs, through the 0.2.0 adapter.
    home.ok(&["run", "probe1:set", "k", "kept"]);
    assert_eq!(home.ok(&["run", "probe1:get", "k"]), "kept\n");
}

#[test]
fn an_mcp_tool_passes_stdin_to_a_filter() {
    let home = home();
    crate::support::runtime().block_on(async {
        let service = crate::mcp::connect(&home, crate::mcp::Client::default()).await;
        let tools = service.list_all_tools().await.unwrap();
        let wc = tools.iter().find(|t| t.name == "wordcount__wc").unwrap();
        assert!(wc.input_schema["properties"].get("stdin").is_some(), "a filter's tool takes stdin");
        let arguments = serde_json::json!({ "args": [], "stdin": "one two\nthree\n" });
        let call = rmcp::model::CallToolRequestParams::new("wordcount__wc".to_owned())
            .with_arguments(arguments.as_object().unwrap().clone());
        let result = service.call_tool(call).await.unwrap();
        assert_eq!(crate::mcp::text(&result), "2 3 14");
        // What a filter writes is the tool's answer, before its result.
        let both = crate::mcp::call("filters__both", &[]);
        let result = service.call_tool(both).await.unwrap();
        assert_eq!(crate::mcp::text(&result), "streamed\nreturned");
        service.cancel().await.unwrap();
    });
}

/// Providers whose streamed answers come one word each `piece_delay`.
fn slow_streams(piece_delay: Duration) -> (Sims, TestHome) {
    let sims = Sims::new().add("oa", ProviderKind::Openai, SimConfig { piece_delay, ..SimConfig::default() }).add(
        "an",
        ProviderKind::Anthropic,
        SimConfig { piece_delay, ..SimConfig::default() },
    );
    let home = home_with(&sims, "default_provider = \"oa\"");
    (sims, home)
}

#[test]
fn summarize_streams_an_answer_about_stdin_on_both_wire_formats() {
    let (_sims, home) = slow_streams(Duration::ZERO);
    home.ok(&["plugins", "add", "--yes", dist("summarize").to_str().unwrap()]);
    for provider in ["oa", "an"] {
        std::fs::write(
            home.path().join("config.toml"),
            std::fs::read_to_string(home.path().join("config.toml"))
                .unwrap()
                .replacen("default_provider = \"oa\"", &format!("default_provider = \"{provider}\""), 1)
                .replacen("default_provider = \"an\"", &format!("default_provider = \"{provider}\""), 1),
        )
        .unwrap();
        let out = piped(&home, &["run", "summarize"], b"the diff of a change");
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{provider}: {stderr}");
        assert_eq!(stdout, "Simulated answer to: Summarize in one sentence: the diff of a change\n", "{provider}");
    }
    // The same question again is answered from the response cache, whole.
    let out = piped(&home, &["run", "summarize"], b"the diff of a change");
    assert!(text(&out).0.starts_with("Simulated answer to:"));
}

#[test]
fn the_first_streamed_words_are_on_the_screen_while_the_model_still_writes() {
    let (sims, home) = slow_streams(Duration::from_millis(400));
    home.ok(&["plugins", "add", "--yes", dist("summarize").to_str().unwrap()]);
    // stdin a pipe, stdout a terminal.
    let mut cmd = sh(&home, r#"printf 'a long diff' | "$ISAAC" run summarize"#);
    cmd.env("TERM", "xterm");
    let mut p = spawn_command(cmd, Some(30_000)).unwrap();
    let pieces = || sims.stats("oa").pieces.load(std::sync::atomic::Ordering::SeqCst);
    p.exp_string("Simulated").unwrap();
    // The first word is on the screen: how much had the simulator sent?
    let when_shown = pieces();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("Summarize in one sentence: a long diff"), "{rest:?}");
    assert!(
        when_shown < pieces(),
        "the first word was shown after {when_shown} of {} events: while the rest was still being written",
        pieces()
    );
}

#[test]
fn a_stream_held_past_the_deadline_is_cancelled_and_a_forged_one_is_refused() {
    let (sims, home) = slow_streams(Duration::from_millis(300));
    let perms = "[limits]\ndeadline_ms = 1000\n[permissions]\nai = { max_requests = 5, max_tokens = 5000 }\n";
    home.plant("hostile", &manifest("hostile", perms), "hostile.wasm", &fixture("hostile"));
    home.grant("hostile");
    // The plugin passes on the first piece, then spins holding the stream.
    let out = home.run(&["run", "ai-hold", "hold this"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout, "Simulated ", "the first piece got through");
    assert!(stderr.contains("ran past its deadline of 1000 ms"), "{stderr}");
    // Its request was cancelled with the call, not left running.
    let stats = sims.stats("oa");
    let cancelled = || stats.cancelled.load(std::sync::atomic::Ordering::SeqCst);
    for _ in 0..100 {
        if cancelled() == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(cancelled(), 1, "the provider saw the request go away");
    // A handle the call was never given (an earlier call's) ends the call.
    let out = home.run(&["run", "ai-forge"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("plugin `hostile` crashed"), "{}", text(&out).1);
    // Answers held open without reading are capped per call.
    let out = home.run(&["run", "ai-hoard"]);
    assert_eq!(
        text(&out).0,
        "16 open, then: over budget: more than 16 streamed answers open at once (drop one first)\n"
    );
}

#[test]
fn ctrl_c_ends_a_filter_waiting_on_its_input() {
    let home = home();
    let mut child = home.isaac().args(["run", "tick"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"first\n").unwrap();
    let mut first = [0u8; 10];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    assert_eq!(&first, b"got first\n", "the filter answers each line as it comes");
    // Waiting for the next line, Ctrl-C (SIGINT) ends it.
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(!status.success());
    drop(stdin);
}
