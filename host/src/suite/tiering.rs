//! The tiering phase of `isaac bench`: a big plugin installed Winch first
//! beside Cranelift only, a CPU-bound command on the code of each, and the
//! function cache's second plugin of a language (Python, JavaScript), every
//! figure a whole `isaac` process as a user runs it.
//!
//! Winch-first homes compile every component with Winch first
//! (`baseline_above_kb = 0`, whatever the plugin's size). To time Winch code
//! alone, the bench holds the component's optimiser lock
//! ([`tiers::claim`]): no background compile runs beside the timed
//! processes, and the code stays Winch's. One more add is left to finish
//! on its own, to time how long after the add the optimised code is in use.
//! Where it is, the second plugin of its language is added, as it is in a
//! home without the function cache; the same for two JavaScript plugins.
//! Beside the adds, wasmtime alone compiles the same components in this
//! process ([`floor`]): the goals allow for what it cannot go below.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::phases::{Ran, SuiteError, child, fail, median};
use super::{Figure, SuiteOptions, floor, judge};
use crate::digest::sha256_hex;
use crate::loader;
use crate::manifest::Manifest;
use crate::tiers;

const WINCH_FIRST: &str = "[loader]\ntiered = true\nbaseline_above_kb = 0\n";
const CRANELIFT_ONLY: &str = "[loader]\ntiered = false\n";
const NO_FUNCTION_CACHE: &str = "[loader]\ntiered = true\nbaseline_above_kb = 0\nfunction_cache_mb = 0\n";

/// How long the bench waits for the background compile.
const READY_WITHIN: Duration = Duration::from_secs(600);

/// A plugin folder the phase installs.
struct Plugin {
    dir: String,
    name: String,
    sha256: String,
    /// Its component (wasmtime alone compiles it too).
    bytes: Vec<u8>,
}

impl Plugin {
    /// The plugin in `dir`; `None` when there is none (not built).
    fn read(dir: &Path) -> Result<Option<Plugin>, SuiteError> {
        if !dir.join(Manifest::FILE_NAME).is_file() {
            return Ok(None);
        }
        let source = loader::read_source(dir, None).map_err(|e| fail("reading a plugin")(&e))?;
        let bytes = std::fs::read(&source.wasm).map_err(|e| fail(&format!("reading {}", source.wasm.display()))(&e))?;
        let (name, sha256) = (source.manifest.name, sha256_hex(&bytes));
        Ok(Some(Plugin { dir: dir.display().to_string(), name, sha256, bytes }))
    }
}

/// A fresh home under `scratch` with `config`.
fn home(scratch: &Path, name: &str, config: &str) -> Result<PathBuf, SuiteError> {
    let home = scratch.join(name);
    let make = fail("making a home for the tiering phase");
    std::fs::create_dir_all(home.join("compiled")).map_err(|e| make(&e))?;
    std::fs::write(home.join("config.toml"), config).map_err(|e| make(&e))?;
    Ok(home)
}

/// Hold the optimiser of `plugin` off in `home` while the file is open.
fn hold_off(home: &Path, plugin: &Plugin) -> Result<File, SuiteError> {
    tiers::claim(&home.join("compiled"), &plugin.sha256)
        .map_err(|e| fail("locking the optimiser out")(&e))?
        .ok_or_else(|| SuiteError(format!("an optimiser of {} is at work in {}", plugin.name, home.display())))
}

/// The tier `isaac plugins list` reports for `plugin` in `home`.
fn tier(o: &SuiteOptions, home: &Path, plugin: &Plugin) -> Result<String, SuiteError> {
    let listed = child(o, home, &["plugins", "list", "--json"])?.stdout;
    let list: serde_json::Value = serde_json::from_str(&listed).map_err(|e| fail("reading plugins list")(&e))?;
    let found = list.as_array().into_iter().flatten().find(|p| p["name"] == plugin.name.as_str());
    Ok(found.and_then(|p| p["tier"].as_str()).unwrap_or("unknown").to_owned())
}

/// Install `plugin` in `home` and run it once with `arg`: the two wall
/// times, after checking that its code is of `expected` tier.
fn add_and_run(
    o: &SuiteOptions,
    home: &Path,
    plugin: &Plugin,
    arg: &str,
    expected: &str,
) -> Result<(Duration, Duration), SuiteError> {
    let add = child(o, home, &["plugins", "add", "--yes", &plugin.dir])?.took;
    let first = child(o, home, &["run", &plugin.name, arg])?.took;
    let tier = tier(o, home, plugin)?;
    if tier != expected {
        return Err(SuiteError(format!("{} was installed on {tier} code, not {expected}", plugin.name)));
    }
    Ok((add, first))
}

/// The median wall time of `runs` processes of `isaac ARGS` in `home`.
fn warm(o: &SuiteOptions, home: &Path, args: &[&str], runs: usize) -> Result<Duration, SuiteError> {
    let mut took: Vec<Duration> =
        (0..runs.max(1)).map(|_| child(o, home, args).map(|r: Ran| r.took)).collect::<Result<_, _>>()?;
    Ok(median(&mut took))
}

/// The bytes of compiled code in `home`, in MB.
fn compiled_mb(home: &Path) -> f64 {
    let entries = std::fs::read_dir(home.join("compiled")).into_iter().flatten().flatten();
    let cwasm = entries.filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"));
    cwasm.filter_map(|e| e.metadata().ok()).map(|m| m.len() as f64).sum::<f64>() / 1e6
}

/// Run the phase; a note for what was not measured (a plugin not built,
/// or left to a full run).
pub(super) fn run(o: &SuiteOptions, scratch: &Path, figures: &mut Vec<Figure>) -> Result<Vec<String>, SuiteError> {
    let (Some(big), Some(cpu)) = (Plugin::read(&o.tiered_plugin)?, Plugin::read(&o.cpu_plugin)?) else {
        return Ok(vec![format!(
            "tiering: not measured: no plugin in {} or {} (build them with example-plugins/build.sh, or pass --tiered-plugin and --cpu-plugin)",
            o.tiered_plugin.display(),
            o.cpu_plugin.display()
        )]);
    };
    let cycles = o.tiering_cycles.max(1);
    let (mut winch_add, mut winch_first, mut cranelift_add, mut cranelift_first) = (vec![], vec![], vec![], vec![]);
    let mut winch_home = PathBuf::new();
    let mut held = None;
    // Each cycle's home replaces the one before (45 MB of code each).
    for i in 0..cycles {
        if i > 0 {
            let _ = std::fs::remove_dir_all(&winch_home);
        }
        winch_home = home(scratch, &format!("tiering-winch-{i}"), WINCH_FIRST)?;
        held = Some(hold_off(&winch_home, &big)?);
        let (add, first) = add_and_run(o, &winch_home, &big, "bench", "baseline")?;
        winch_add.push(add);
        winch_first.push(first);
    }
    // Wasmtime alone compiling the same component, as many times (at most 3).
    let wasmtime_winch = floor::winch(&big.name, &big.bytes, cycles.min(3))?;
    if !o.tiering_in_full {
        drop(held);
        let (add, first) = (median(&mut winch_add), median(&mut winch_first));
        figures.extend(judge::tiering_winch(&big.name, cycles, add, first, wasmtime_winch));
        return Ok(vec![
            "tiering: --quick times Winch-first adds and their first run only; a full run measures Cranelift-only adds, the background compile, each tier's code and the function cache (a second Python and a second JavaScript plugin)".to_owned(),
        ]);
    }
    let mut cranelift_home = PathBuf::new();
    for i in 0..cycles.min(3) {
        if i > 0 {
            let _ = std::fs::remove_dir_all(&cranelift_home);
        }
        cranelift_home = home(scratch, &format!("tiering-cranelift-{i}"), CRANELIFT_ONLY)?;
        let (add, first) = add_and_run(o, &cranelift_home, &big, "bench", "optimized")?;
        cranelift_add.push(add);
        cranelift_first.push(first);
    }
    let run_big = ["run", big.name.as_str(), "bench"];
    let warm_winch = warm(o, &winch_home, &run_big, o.startup_runs)?;
    let warm_cranelift = warm(o, &cranelift_home, &run_big, o.startup_runs)?;
    let (winch_mb, cranelift_mb) = (compiled_mb(&winch_home), compiled_mb(&cranelift_home));
    drop(held);

    // One add left to finish on its own: the optimised code is in use when
    // `plugins list` says so.
    let ready_home = home(scratch, "tiering-ready", WINCH_FIRST)?;
    let (_, ready) = add_until_optimized(o, &ready_home, &big)?;
    // The big plugin's optimised code is in use here, so its functions are
    // in the function cache: the second plugin of its language now.
    let second = match Plugin::read(&o.second_plugin)? {
        Some(second) => Ok(second_plugin(o, scratch, &ready_home, &big, None, &second)?),
        None => Err(format!(
            "tiering: the function cache not measured for {}: no plugin in {} (build it with example-plugins/build.sh, or pass --second-plugin)",
            big.name,
            o.second_plugin.display()
        )),
    };

    let (cpu_winch, cpu_cranelift) =
        (home(scratch, "cpu-winch", WINCH_FIRST)?, home(scratch, "cpu-cranelift", CRANELIFT_ONLY)?);
    let _held = hold_off(&cpu_winch, &cpu)?;
    let below = o.primes_below.to_string();
    add_and_run(o, &cpu_winch, &cpu, &below, "baseline")?;
    add_and_run(o, &cpu_cranelift, &cpu, &below, "optimized")?;
    let run_cpu = ["run", cpu.name.as_str(), below.as_str()];
    let cpu_runs = cycles.min(5);
    let (mut on_winch, mut on_cranelift) = (vec![], vec![]);
    for _ in 0..cpu_runs {
        on_winch.push(warm(o, &cpu_winch, &run_cpu, 1)?);
        on_cranelift.push(warm(o, &cpu_cranelift, &run_cpu, 1)?);
    }

    figures.extend(judge::tiering(&judge::TieringRun {
        plugin: &big.name,
        cycles,
        add: (median(&mut winch_add), median(&mut cranelift_add)),
        first_run: (median(&mut winch_first), median(&mut cranelift_first)),
        wasmtime_winch,
        cranelift_cycles: cranelift_add.len(),
        warm: (warm_winch, warm_cranelift),
        warm_runs: o.startup_runs.max(1),
        ready,
        compiled_mb: (winch_mb, cranelift_mb),
        cpu: &format!("{} {below}", cpu.name),
        cpu_time: (median(&mut on_winch), median(&mut on_cranelift)),
        cpu_runs,
    }));
    let mut notes = Vec::new();
    match second {
        Ok(second) => figures.extend(second),
        Err(note) => notes.push(note),
    }
    // Two JavaScript plugins: the first added until its optimised code is
    // in use, then the second.
    match (Plugin::read(&o.js_plugin)?, Plugin::read(&o.second_js_plugin)?) {
        (Some(first), Some(second)) => {
            let js_home = home(scratch, "tiering-js", WINCH_FIRST)?;
            let (_, first_ready) = add_until_optimized(o, &js_home, &first)?;
            figures.extend(second_plugin(o, scratch, &js_home, &first, Some(first_ready), &second)?);
        }
        _ => notes.push(format!(
            "tiering: the function cache not measured for JavaScript: no plugin in {} or {} (build them with example-plugins/build.sh, or pass --js-plugin and --second-js-plugin)",
            o.js_plugin.display(),
            o.second_js_plugin.display()
        )),
    }
    Ok(notes)
}

/// The figures of `second`, added to `home_with_first`, where `first`'s
/// optimised code is in use (it was `first_ready` after the start of its
/// add, if no other figure says so), and to a fresh home without the
/// function cache.
fn second_plugin(
    o: &SuiteOptions,
    scratch: &Path,
    home_with_first: &Path,
    first: &Plugin,
    first_ready: Option<Duration>,
    second: &Plugin,
) -> Result<Vec<Figure>, SuiteError> {
    let (add_on, ready_on) = add_until_optimized(o, home_with_first, second)?;
    let reused_percent = reused_percent(o, home_with_first, second)?;
    let off_home = home(scratch, &format!("tiering-no-function-cache-{}", second.name), NO_FUNCTION_CACHE)?;
    let (add_off, ready_off) = add_until_optimized(o, &off_home, second)?;
    // Its code is not needed again (tens of MB).
    let _ = std::fs::remove_dir_all(&off_home);
    let wasmtime = floor::cranelift_after((&first.name, &first.bytes), (&second.name, &second.bytes))?;
    Ok(judge::function_cache(&judge::FunctionCacheRun {
        first: &first.name,
        first_ready,
        second: &second.name,
        add: (add_on, add_off),
        ready: (ready_on, ready_off),
        reused_percent,
        wasmtime,
    }))
}

/// Add `plugin` to `home` and wait until its optimised code is in use:
/// the add's wall time, and the time from its start to that moment.
fn add_until_optimized(o: &SuiteOptions, home: &Path, plugin: &Plugin) -> Result<(Duration, Duration), SuiteError> {
    let start = Instant::now();
    let add = child(o, home, &["plugins", "add", "--yes", &plugin.dir])?.took;
    while tier(o, home, plugin)? != "optimized" {
        if start.elapsed() > READY_WITHIN {
            return Err(SuiteError(format!("no optimised code for {} after {READY_WITHIN:?}", plugin.name)));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok((add, start.elapsed()))
}

/// The share of `plugin`'s functions that came from the function cache.
fn reused_percent(o: &SuiteOptions, home: &Path, plugin: &Plugin) -> Result<f64, SuiteError> {
    let info = child(o, home, &["plugins", "info", &plugin.name, "--json"])?.stdout;
    let info: serde_json::Value = serde_json::from_str(&info).map_err(|e| fail("reading plugins info")(&e))?;
    let (reused, compiled) = (info["functions"]["reused"].as_f64(), info["functions"]["compiled"].as_f64());
    Ok(match (reused, compiled) {
        (Some(r), Some(c)) if r + c > 0.0 => r * 100.0 / (r + c),
        _ => 0.0,
    })
}
