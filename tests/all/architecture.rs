//! The shape of `host/src`, checked: no cycle between its top-level modules
//! (a module that uses another never is used back by it, directly or through
//! others), so each can be read, tested and changed from the bottom up.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module → the top-level modules its code (tests and comments
/// aside) names as `crate::NAME`.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let top = |path: &Path| {
        let rel = path.strip_prefix(src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        first.trim_end_matches(".rs").to_owned()
    };
    let tests = test_modules(&files);
    files.retain(|f| !tests.iter().any(|t| f == t || f.starts_with(t.with_extension(""))));
    let modules: BTreeSet<String> = files.iter().map(|f| top(f)).filter(|m| m != "lib" && m != "main").collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = modules.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    for file in &files {
        let from = top(file);
        if !modules.contains(&from) {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or("")
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for (i, _) in code.match_indices("crate::") {
            let name: String = code[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if name != from && modules.contains(&name) {
                edges.get_mut(&from).unwrap().insert(name);
            }
        }
    }
    edges
}

/// The files of modules declared `#[cfg(test)] mod NAME;` (test code in
/// files of its own: `tests.rs`, a test-only capability).
fn test_modules(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let dir = match file.file_name().and_then(|n| n.to_str()) {
            Some("mod.rs" | "lib.rs" | "main.rs") => file.parent().unwrap().to_owned(),
            _ => file.with_extension(""),
        };
        let mut rest = text.as_str();
        while let Some(at) = rest.find("#[cfg(test)]") {
            rest = &rest[at + "#[cfg(test)]".len()..];
            let item = rest.trim_start();
            if let Some(name) = item.strip_prefix("mod ").and_then(|m| m.split_once(';')).map(|(n, _)| n.trim()) {
                found.push(dir.join(format!("{name}.rs")));
                found.push(dir.join(name).join("mod.rs"));
            }
        }
    }
    found
}

/// A path from `from` back to `to`, if there is one.
fn path_back(edges: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![from.to_owned()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap().clone();
        if last == to {
            return Some(path);
        }
        if !seen.insert(last.clone()) {
            continue;
        }
        for next in &edges[&last] {
            let mut longer = path.clone();
            longer.push(next.clone());
            stack.push(longer);
        }
    }
    None
}

#[test]
fn host_src_has_no_module_cycle() {
    let edges = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("host/src"));
    assert!(edges.len() > 10, "found the modules: {:?}", edges.keys());
    assert!(edges["host"].contains("loader"), "the graph sees `crate::` uses");
    let mut cycles = Vec::new();
    for (module, uses) in &edges {
        for used in uses {
            if let Some(back) = path_back(&edges, used, module) {
                cycles.push(format!("{module} -> {}", back.join(" -> ")));
            }
        }
    }
    assert!(cycles.is_empty(), "module cycles in host/src:\n{}", cycles.join("\n"));
}
