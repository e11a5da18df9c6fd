//! One plugin, many languages: `greet-LANG NAME` in Rust, Python,
//! JavaScript, C, Go, Zig, C++ and AssemblyScript, each built by `example-plugins/build.sh` and run through the
//! real binary from a home where it was installed with `isaac plugins add`.
//! A language whose toolchain was missing at build time fails the test,
//! naming it (`scripts/setup.sh` installs them all).

use crate::support::{TestHome, dist, require_example, text};

const LANGS: [&str; 8] = ["rs", "py", "js", "c", "go", "zig", "cpp", "as"];

#[test]
fn greet_counts_visits_in_every_language() {
    let home = TestHome::new();
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
        }
        // Each language keeps its own namespace.
        assert_eq!(text(&home.run(&["run", &name, "ada"])).0, "Hello, ada! (visit #1)\n", "{name}");
    }
}
