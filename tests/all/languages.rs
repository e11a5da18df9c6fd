//! One plugin, many languages: `greet-LANG NAME` in Rust, Python,
//! JavaScript, C, Go, Zig, C++ and AssemblyScript, each built by `example-plugins/build.sh` and run through the
//! real binary from a home where it was installed with `isaac plugins add`;
//! and the second JavaScript example, `wordfreq-js`.
//! A language whose toolchain was missing at build time fails the test,
//! naming it (`scripts/setup.sh` installs them all).

use std::io::Write;
use std::process::Stdio;

use isaac_host::config::ProviderKind;
use isaac_host::testing::SimConfig;

use crate::ai::{Sims, home_with};
use crate::support::{dist, require_example, text};

const LANGS: [&str; 8] = ["rs", "py", "js", "c", "go", "zig", "cpp", "as"];

#[test]
fn greet_counts_visits_in_every_language() {
    // A simulated provider for the Python and JavaScript `ask`.
    let sims = Sims::new().add("sim", ProviderKind::Openai, SimConfig::default());
    let home = home_with(&sims, "default_provider = \"sim\"");
    for lang in LANGS {
        let name = format!("greet-{lang}");
        let lang_name = match lang {
            "rs" => "rust",
            "py" => "python",
            "as" => "assemblyscript",
            other => other,
        };
        require_example(&name, lang_name);
        let folder = dist(&name);
        let out = home.run(&["plugins", "add", "--yes", folder.to_str().unwrap()]);
        assert!(out.status.success(), "{name}: {}", text(&out).1);
        assert_eq!(text(&home.run(&["run", &name, "bars"])).0, "Hello, bars! (visit #1)\n", "{name}");
        let out = home.run(&["-v", "run", &name, "bars"]);
        let (stdout, stderr) = text(&out);
        assert_eq!(stdout, "Hello, bars! (visit #2)\n", "{name}");
        assert!(stderr.contains(&format!("{name}: info: greeted bars (visit #2)")), "{name}: {stderr}");
        // A call that errors: bad usage, exit status 2.
        let out = home.run(&["run", &name, "bars", "ada"]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(text(&out).1.contains(&format!("usage: {name} ")), "{name}: {}", text(&out).1);
        if lang == "py" || lang == "js" {
            // Without NAME it greets the lines of stdin: none here.
            let out = home.run(&["run", &name]);
            assert!(out.status.success(), "{name}: {}", text(&out).1);
            assert_eq!(text(&out).0.trim(), "", "{name}");
            // Lines piped in, each greeted as it comes.
            let mut child = home.isaac();
            child.args(["run", &name]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = child.spawn().unwrap();
            child.stdin.take().unwrap().write_all(b"Ann\n\nBob\n").unwrap();
            let out = child.wait_with_output().unwrap();
            assert_eq!(text(&out).0, "Hello, Ann! (visit #1)\nHello, Bob! (visit #1)\n", "{name}: {}", text(&out).1);
            // `ask` streams the answer through `ai.query-stream`.
            let out = home.run(&["run", &format!("{name}:ask"), "what", "is", "up"]);
            let (stdout, stderr) = text(&out);
            assert!(out.status.success(), "{name}: {stderr}");
            assert!(stdout.starts_with("Simulated answer to: what is up"), "{name}: {stdout}");
        }
        // Each language keeps its own namespace.
        assert_eq!(text(&home.run(&["run", &name, "ada"])).0, "Hello, ada! (visit #1)\n", "{name}");
    }
}

#[test]
fn wordfreq_js_counts_words_and_keeps_their_totals() {
    // The second JavaScript example: greet-js's world, the cache's get,
    // compare-and-swap and delete, stdin read in pieces.
    require_example("wordfreq-js", "js");
    let home = crate::support::TestHome::new();
    home.ok(&["plugins", "add", "--yes", dist("wordfreq-js").to_str().unwrap()]);
    let words = "The cat and the hat, and THE bat: don't";
    assert_eq!(home.ok(&["run", "wordfreq", words]), "3 the\n2 and\n1 bat\n1 cat\n1 don't\n1 hat\n");
    // Stdin, in pieces that cut a word: counted once.
    let mut child = home.isaac();
    child.args(["run", "wordfreq"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = child.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"the h").unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    stdin.write_all(b"at\nthe dog").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(text(&out).0, "2 the\n1 dog\n1 hat\n");
    // The totals of both texts, the most frequent first.
    assert_eq!(home.ok(&["run", "wordfreq-top", "3"]), "5 the\n2 and\n2 hat\n");
    let out = home.run(&["run", "wordfreq-top", "none"]);
    assert_eq!(out.status.code(), Some(2), "bad usage: {}", text(&out).1);
    assert_eq!(home.ok(&["run", "wordfreq-reset"]), "forgot 7 words\n");
    assert_eq!(home.ok(&["run", "wordfreq-top"]).trim(), "");
}
