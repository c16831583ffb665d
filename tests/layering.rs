//! The library's layering (ARCHITECTURE.md "Layers"): within every folder of `src/`, the sibling
//! modules form no cycle — a module uses only modules "above" it. References are found in the
//! code, not the comments: `super::NAME` from a file of the folder, `crate::…::NAME` naming the
//! folder's module path, and `use` lists of either. Test modules (`#[cfg(test)]` to the end of a
//! file, `*_tests.rs`, `tests.rs`) may use anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Source text without comments and without the trailing `#[cfg(test)]` module.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The files of a module: `name.rs`, or every `.rs` under `name/`.
fn files_of(path: &Path) -> Vec<PathBuf> {
    if path.is_dir() {
        let mut out = Vec::new();
        for e in std::fs::read_dir(path).into_iter().flatten().flatten() {
            out.extend(files_of(&e.path()));
        }
        out
    } else if path.extension().is_some_and(|e| e == "rs") {
        vec![path.to_path_buf()]
    } else {
        Vec::new()
    }
}

fn is_test_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == "tests.rs" || name.ends_with("_tests.rs")
}

/// Identifiers that follow `prefix` in `code` (also inside `prefix{a, b::c}` lists).
fn names_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let before_ok = i == 0 || !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':');
        rest = &rest[i + prefix.len()..];
        if !before_ok {
            continue;
        }
        if let Some(list) = rest.strip_prefix('{') {
            let end = list.find('}').unwrap_or(list.len());
            for item in list[..end].split(',') {
                let id: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !id.is_empty() {
                    out.insert(id);
                }
            }
        } else {
            let id: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !id.is_empty() {
                out.insert(id);
            }
        }
    }
    out
}

/// Sibling-module edges of one folder: module → modules it uses.
fn edges_of(dir: &Path, crate_path: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut modules: BTreeMap<String, PathBuf> = BTreeMap::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        let name = p.file_stem().and_then(|n| n.to_str()).unwrap_or("").to_string();
        if name == "mod" || name == "lib" || name == "main" || is_test_file(&p) {
            continue;
        }
        if p.is_dir() || p.extension().is_some_and(|x| x == "rs") {
            modules.entry(name).or_insert(p);
        }
    }
    let mut edges = BTreeMap::new();
    for (name, path) in &modules {
        let mut used = BTreeSet::new();
        for f in files_of(path).into_iter().filter(|f| !is_test_file(f)) {
            let code = code_of(&f);
            // `super::` means this folder only from a file directly in it
            if f.parent() == Some(dir) {
                used.extend(names_after(&code, "super::"));
            }
            used.extend(names_after(&code, &format!("{crate_path}::")));
        }
        used.retain(|m| m != name && modules.contains_key(m));
        edges.insert(name.clone(), used);
    }
    edges
}

/// A cycle in the graph, if any (depth-first search).
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(n: &str, edges: &BTreeMap<String, BTreeSet<String>>, state: &mut BTreeMap<String, u8>, stack: &mut Vec<String>) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let i = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut c = stack[i..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(m, edges, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, edges, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

fn folders(dir: &Path, crate_path: &str, out: &mut Vec<(PathBuf, String)>) {
    out.push((dir.to_path_buf(), crate_path.to_string()));
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
            folders(&p, &format!("{crate_path}::{name}"), out);
        }
    }
}

#[test]
fn no_module_cycles_in_any_folder() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    folders(&src, "crate", &mut all);
    // the executable's command line is its own crate (src/main.rs, src/cli/)
    all.retain(|(d, _)| !d.ends_with("cli"));
    let mut cycles = Vec::new();
    let mut checked = 0;
    for (dir, path) in &all {
        let edges = edges_of(dir, path);
        checked += edges.len();
        if let Some(c) = find_cycle(&edges) {
            cycles.push(format!("{}: {}", dir.strip_prefix(&src).unwrap_or(dir).display(), c.join(" → ")));
        }
    }
    assert!(checked > 100, "only {checked} modules found: is the scan looking in the right place?");
    assert!(cycles.is_empty(), "module cycles (a module must use only modules above it):\n{}", cycles.join("\n"));
}

#[test]
fn the_scan_finds_a_cycle_when_there_is_one() {
    let dir = tempfile::tempdir().expect("temporary folder");
    std::fs::write(dir.path().join("a.rs"), "use super::b::X;\npub struct Y;\n").expect("write");
    std::fs::write(dir.path().join("b.rs"), "// super::a is only a comment\npub struct X;\n").expect("write");
    std::fs::write(dir.path().join("c.rs"), "use crate::m::{a, b};\n").expect("write");
    assert_eq!(find_cycle(&edges_of(dir.path(), "crate::m")), None);
    std::fs::write(dir.path().join("b.rs"), "pub fn f() -> crate::m::a::Y { todo!() }\n").expect("write");
    let c = find_cycle(&edges_of(dir.path(), "crate::m")).expect("a ↔ b is a cycle");
    assert!(c.contains(&"a".to_string()) && c.contains(&"b".to_string()), "{c:?}");
}
