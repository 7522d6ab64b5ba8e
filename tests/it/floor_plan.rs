//! The floor plan of `src/`: every `crate::` path in the code names the
//! top-level module it comes from, and those imports go down the floors (shared
//! types at the bottom, the web and the binary's wiring at the top), never up, so
//! no import loop spans two top-level modules. A loop inside one folder is fine.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The floors, bottom first. A module may import its own floor or lower ones.
const FLOORS: &[&[&str]] = &[
    &["domain"],
    &["config", "metrics", "secrets", "store", "telemetry"],
    &["accounts", "intake", "unsubscribe", "connectors"],
    &["services"],
    &["compose", "assets", "experiments"],
    &["steps"],
    &["engine"],
    &["actors"],
    &["web"],
    &["app", "demo", "sandbox", "bench", "cli", "main", "lib"],
];

/// (from module, to module) → the files that make that import.
type Imports = BTreeMap<(String, String), BTreeSet<String>>;

#[test]
fn imports_go_down_the_floors_and_no_loop_spans_two_top_level_modules() {
    let imports = imports_of(Path::new(env!("CARGO_MANIFEST_DIR")).join("src").as_path());
    assert!(
        imports
            .keys()
            .any(|(from, to)| from == "steps" && to == "domain"),
        "the scan found the steps' imports of shared types: {:?}",
        imports.keys()
    );
    let floor = |module: &str| {
        FLOORS
            .iter()
            .position(|f| f.contains(&module))
            .unwrap_or_else(|| panic!("src/{module} is on no floor of the plan in this test"))
    };
    let upward: Vec<String> = imports
        .iter()
        .filter(|((from, to), _)| floor(from) < floor(to))
        .map(|((from, to), files)| format!("{from} → {to} (up) in {files:?}"))
        .collect();
    assert!(
        upward.is_empty(),
        "imports going up:\n{}",
        upward.join("\n")
    );
    let loops = loops(&imports);
    assert!(
        loops.is_empty(),
        "import loops between top-level modules: {loops:?}"
    );
}

#[test]
fn the_loop_finder_finds_a_loop_and_the_scanner_reads_nested_braces() {
    let mut imports = Imports::new();
    imports.insert(("a".into(), "b".into()), BTreeSet::new());
    imports.insert(("b".into(), "c".into()), BTreeSet::new());
    imports.insert(("c".into(), "a".into()), BTreeSet::new());
    imports.insert(("c".into(), "d".into()), BTreeSet::new());
    assert_eq!(loops(&imports), vec![vec!["a", "b", "c"]]);

    let code =
        "use crate::{a::{x, y}, b::z};\n// crate::ignored in a comment\nfn f() { crate::c::g() }";
    assert_eq!(
        modules_named(code),
        BTreeSet::from(["a".to_string(), "b".to_string(), "c".to_string()])
    );
}

/// Every import of one top-level module by another, read from the sources.
fn imports_of(src: &Path) -> Imports {
    let mut imports = Imports::new();
    let mut files = Vec::new();
    collect_rs(src, &mut files);
    for file in files {
        let relative = file.strip_prefix(src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let from = first.to_string_lossy().trim_end_matches(".rs").to_string();
        let code = std::fs::read_to_string(&file).unwrap();
        for to in modules_named(&code) {
            if to != from {
                imports
                    .entry((from.clone(), to))
                    .or_default()
                    .insert(relative.display().to_string());
            }
        }
    }
    imports
}

fn collect_rs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a source file names through `crate::` (in `use` lists,
/// nested braces included, and in paths), comments left out.
fn modules_named(code: &str) -> BTreeSet<String> {
    let code: String = code
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut named = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(list) = rest.strip_prefix('{') {
            // The first identifier of every item at the list's own depth.
            let (mut depth, mut expect_name) = (1, true);
            let mut chars = list.char_indices();
            while let Some((i, c)) = chars.next() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 1 => break,
                    '}' => depth -= 1,
                    ',' if depth == 1 => expect_name = true,
                    c if expect_name && depth == 1 && (c.is_alphabetic() || c == '_') => {
                        let name: String = list[i..]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        for _ in 1..name.chars().count() {
                            chars.next();
                        }
                        named.insert(name);
                        expect_name = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                named.insert(name);
            }
        }
    }
    named.retain(|n| n != "self");
    named
}

/// Groups of two or more modules that import each other, directly or around a
/// loop (strongly connected components, Tarjan's algorithm).
fn loops(imports: &Imports) -> Vec<Vec<String>> {
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in imports.keys() {
        edges.entry(from).or_default().push(to);
        edges.entry(to).or_default();
    }
    struct Walk<'a> {
        edges: &'a BTreeMap<&'a str, Vec<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a str) {
        let i = w.index.len();
        w.index.insert(v, i);
        w.low.insert(v, i);
        w.stack.push(v);
        for &next in &w.edges[v] {
            if !w.index.contains_key(next) {
                visit(w, next);
                let low = w.low[v].min(w.low[next]);
                w.low.insert(v, low);
            } else if w.stack.contains(&next) {
                let low = w.low[v].min(w.index[next]);
                w.low.insert(v, low);
            }
        }
        if w.low[v] == w.index[v] {
            let mut group = Vec::new();
            while let Some(top) = w.stack.pop() {
                group.push(top.to_string());
                if top == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                w.found.push(group);
            }
        }
    }
    let mut walk = Walk {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for &v in edges.keys() {
        if !walk.index.contains_key(v) {
            visit(&mut walk, v);
        }
    }
    walk.found
}
