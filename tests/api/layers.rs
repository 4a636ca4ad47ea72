//! The layering docs/ARCHITECTURE.md draws, checked: every module's `crate::…` paths name only
//! the layers below it. Edges (http, realtime) → services → views, store, hub → domain, clock.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What each top-level module may name besides itself. The wiring (`app`, `demo`, `lib`,
/// `main`) sits above everything and is not listed.
fn allowed(module: &str) -> Option<&'static [&'static str]> {
    Some(match module {
        "clock" => &[],
        "domain" => &["clock"],
        "store" | "hub" => &["domain", "clock"],
        "cluster" => &["hub", "domain", "clock"],
        "views" => &["store", "domain", "clock"],
        "services" => &["views", "store", "hub", "cluster", "domain", "clock"],
        "http" => &["services", "views", "store", "hub", "domain", "clock"],
        // A socket upgrade is an HTTP request: it reuses the HTTP edge's extractors and error
        // type. The HTTP edge never names the socket edge.
        "realtime" => &["http", "services", "views", "store", "hub", "domain", "clock"],
        _ => return None,
    })
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a source text names through `crate::`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        // `$crate::` inside macros names the crate too; anything else glued in front (an
        // identifier) is not a path into this crate.
        let before = text[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if rest.starts_with('{') {
            // `use crate::{a, b::c}`: every item of the group.
            let group = &rest[1..rest.find('}').unwrap_or(rest.len())];
            for item in group.split(',') {
                let head: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !head.is_empty() {
                    found.insert(head);
                }
            }
        } else if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

#[test]
fn every_module_names_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "found the sources");
    let mut violations = vec![];
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let first = relative.components().next().expect("a path").as_os_str().to_string_lossy().into_owned();
        let module = first.trim_end_matches(".rs");
        let Some(allowed) = allowed(module) else { continue };
        let text = std::fs::read_to_string(&file).expect("readable source");
        for named in named_modules(&text) {
            if named != module && !allowed.contains(&named.as_str()) {
                violations.push(format!("{} names crate::{named}", relative.display()));
            }
        }
    }
    assert!(violations.is_empty(), "imports against the layering:\n{}", violations.join("\n"));
}

#[test]
fn the_import_reader_sees_groups_and_inline_paths() {
    let names = named_modules("use crate::{store::Store, hub};\nfn f() { crate::http::x(); $crate::views::y(); }\nmycrate::nope");
    assert_eq!(names, ["http", "hub", "store", "views"].into_iter().map(String::from).collect());
}
