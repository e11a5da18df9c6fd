//! The shell's own commands: `:help`, `:plugins`, `:stats`, `:reload`,
//! `:time CMD`, `:quit`.

use std::fmt::Write as _;
use std::time::Instant;

use super::{Outcome, dispatch};
use crate::session::Session;

const HELP: &str = "\
Type a plugin command as after `isaac run`: `wc some text`, `hello:hello bars`.
Quotes and backslashes work as in a shell; a trailing \\ continues the line.
Tab completes command names; Ctrl-R searches history; Ctrl-C stops a running
command or clears the line; Ctrl-D leaves.

  :help            this text
  :plugins         the loaded plugins and their commands
  :stats           load time, commands run, dispatch p50/p95, cache statistics
  :reload          load new and changed plugins, drop removed ones, keep the rest
  :time CMD ARGS   run a command and print how long its dispatch took
  :quit            leave (also :exit, Ctrl-D)";

pub async fn run(session: &mut Session<'_>, name: &str, args: &[String], interruptible: bool) -> Outcome {
    match name {
        "help" | "h" | "?" => Outcome::Output(HELP.to_owned()),
        "quit" | "q" | "exit" => Outcome::Quit,
        "plugins" => Outcome::Output(plugins(session)),
        "stats" => Outcome::Output(stats(session)),
        "reload" => match session.reload(&|_| {}).await {
            Ok(s) => Outcome::Output(format!(
                "reloaded: {} added, {} changed, {} removed, {} kept{}",
                list(&s.added),
                list(&s.changed),
                list(&s.removed),
                s.kept,
                if s.failed.is_empty() { String::new() } else { format!("; not loaded: {}", s.failed.join(", ")) }
            )),
            Err(e) => Outcome::Failed(1, crate::error::one_line(&e)),
        },
        "time" if args.is_empty() => Outcome::Failed(2, "usage: :time COMMAND [ARGS...]".to_owned()),
        "time" => {
            let start = Instant::now();
            let stdio = crate::pipes::Stdio { output: crate::pipes::Output::Console, ..Default::default() };
            let result = dispatch(session, args, &stdio, interruptible).await;
            let took = start.elapsed();
            match result {
                Ok(output) => Outcome::Output(format!("{output}\n(dispatch took {took:.1?})")),
                Err(e) => Outcome::Failed(e.exit_code(), format!("{} (after {took:.1?})", crate::error::OneLine(&e))),
            }
        }
        other => Outcome::Failed(2, format!("unknown shell command `:{other}`; :help lists them")),
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() { "0".to_owned() } else { format!("{} ({})", names.len(), names.join(", ")) }
}

fn plugins(session: &Session<'_>) -> String {
    let loaded = session.loaded();
    let mut out = String::new();
    for p in &loaded.plugins {
        let commands: Vec<&str> = p.meta.commands.iter().map(|c| c.name.as_str()).collect();
        let _ = writeln!(out, "{:<16} {:<10} {}", p.name, p.manifest.version, commands.join(", "));
    }
    for f in &loaded.failures {
        let _ = writeln!(out, "{:<16} not loaded: {}", f.plugin, f.error);
    }
    if out.is_empty() {
        out.push_str("no plugins installed (isaac plugins add PATH)");
    }
    out.trim_end().to_owned()
}

fn stats(session: &Session<'_>) -> String {
    let s = session.stats();
    let loaded = session.loaded();
    let ms = |d: Option<std::time::Duration>| d.map_or("-".to_owned(), |d| format!("{:.1} µs", d.as_secs_f64() * 1e6));
    let mut out = format!(
        "plugins     {} loaded in {:.1} ms ({} not loaded)\ncommands    {} run, {} failed\ndispatch    p50 {}, p95 {}",
        loaded.plugins.len(),
        session.load_time().as_secs_f64() * 1e3,
        loaded.failures.len(),
        s.commands,
        s.failures,
        ms(s.percentile(50.0)),
        ms(s.percentile(95.0)),
    );
    match session.host().cache().stats() {
        Ok(c) => {
            let _ = write!(
                out,
                "\ncache       {} gets, hit rate {:.1} % (memory {:.1} %), {} sets, {} entries on disk",
                c.hits + c.counters.misses,
                c.hit_rate * 100.0,
                c.memory_hit_rate * 100.0,
                c.counters.sets,
                c.l3_entries
            );
        }
        Err(e) => {
            let _ = write!(out, "\ncache       unavailable: {}", crate::error::OneLine(&e));
        }
    }
    out
}
