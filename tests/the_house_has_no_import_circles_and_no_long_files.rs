//! The house rules of issue 13, checked on the source text of every crate: no import circle
//! between the files of a crate, no file over 450 lines outside tests, and each crate's `lib.rs`
//! or `main.rs` opening with its `//!` map.
//!
//! Imports are found textually: every `crate::…` and `super::…` path outside comments and string
//! literals (brace groups of `use` expanded) is resolved to the longest prefix that names a module
//! file of the same crate. Test code does not count: files named `*tests.rs`, files under a
//! `tests/` module folder and a file's inline `#[cfg(test)] mod … { … }` block are left out of
//! both the graph and the line count.
//!
//! What still breaks a rule is listed below with a reason. The lists can only shrink: the test
//! also fails when a listed entry is no longer needed, naming the entry to delete.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The longest a file outside tests may be.
const MAX_LINES: usize = 450;

/// The source folders of the workspace's crates, relative to the workspace root.
const CRATES: &[&str] = &[
    "contract/src",
    "proto/src",
    "devices/src",
    "broker/src",
    "edge/src",
    "cloud/src",
    "sim/src",
    "src",
];

/// Files still over `MAX_LINES` (path from the workspace root, reason).
const LONG_FILES_ALLOWED: &[(&str, &str)] = &[];

/// Import circles still present: the files of each circle, sorted, with a reason.
const CIRCLES_ALLOWED: &[(&[&str], &str)] = &[];

/// Crate roots that do not yet open with a `//!` map.
const MAPLESS_ROOTS_ALLOWED: &[(&str, &str)] = &[];

#[test]
fn the_house_has_no_import_circles_and_no_long_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();

    let mut long_seen = BTreeSet::new();
    let mut circles_seen = BTreeSet::new();
    let mut mapless_seen = BTreeSet::new();

    for src in CRATES {
        let dir = root.join(src);
        let files = rust_files(&dir);
        assert!(!files.is_empty(), "no .rs files under {src}");
        let krate = Crate::read(root, &dir, &files);

        // Each crate root opens with its map.
        for name in ["lib.rs", "main.rs"] {
            let path = dir.join(name);
            let Ok(text) = fs::read_to_string(&path) else {
                continue;
            };
            let rel = relative(root, &path);
            let opens_with_map = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .is_some_and(|l| l.trim_start().starts_with("//!"));
            if !opens_with_map {
                mapless_seen.insert(rel.clone());
                if !MAPLESS_ROOTS_ALLOWED.iter().any(|(p, _)| *p == rel) {
                    problems.push(format!(
                        "{rel} does not open with a `//!` map of its modules"
                    ));
                }
            }
        }

        // No long file outside tests.
        for file in &krate.files {
            if file.is_test {
                continue;
            }
            if file.counted_lines > MAX_LINES {
                long_seen.insert(file.rel.clone());
                if !LONG_FILES_ALLOWED.iter().any(|(p, _)| *p == file.rel) {
                    problems.push(format!(
                        "{} has {} lines outside its tests (at most {MAX_LINES}): split it into modules named after its concepts",
                        file.rel, file.counted_lines
                    ));
                }
            }
        }

        // No import circle.
        for circle in krate.circles() {
            let names: Vec<String> = circle.iter().map(|&i| krate.files[i].rel.clone()).collect();
            let key = names.join(" ");
            circles_seen.insert(key.clone());
            let allowed = CIRCLES_ALLOWED
                .iter()
                .any(|(files, _)| files.join(" ") == key);
            if !allowed {
                problems.push(format!(
                    "import circle in {src} between {} files: {}\n    e.g. {}",
                    names.len(),
                    key,
                    krate.example_cycle(&circle)
                ));
            }
        }
    }

    // The allow-lists stay honest.
    for (path, _) in LONG_FILES_ALLOWED {
        if !long_seen.contains(*path) {
            problems.push(format!(
                "{path} is listed in LONG_FILES_ALLOWED but is no longer over {MAX_LINES} lines: delete its entry"
            ));
        }
    }
    for (files, _) in CIRCLES_ALLOWED {
        let key = files.join(" ");
        if !circles_seen.contains(&key) {
            problems.push(format!(
                "the circle [{key}] in CIRCLES_ALLOWED is no longer found as listed: delete or shrink its entry"
            ));
        }
    }
    for (path, _) in MAPLESS_ROOTS_ALLOWED {
        if !mapless_seen.contains(*path) {
            problems.push(format!(
                "{path} is listed in MAPLESS_ROOTS_ALLOWED but opens with its map now: delete its entry"
            ));
        }
    }

    assert!(
        problems.is_empty(),
        "the house rules are broken:\n  {}",
        problems.join("\n  ")
    );
}

/// One crate's files and the imports between them.
struct Crate {
    files: Vec<SourceFile>,
    /// Module path (`["lane", "runner"]`) to index in `files`.
    modules: BTreeMap<Vec<String>, usize>,
    /// For each file, the files it imports.
    edges: Vec<BTreeSet<usize>>,
}

struct SourceFile {
    rel: String,
    module: Vec<String>,
    is_test: bool,
    counted_lines: usize,
    /// Code with comments, string literals and inline test modules blanked out.
    code: String,
}

impl Crate {
    fn read(root: &Path, dir: &Path, paths: &[PathBuf]) -> Crate {
        let mut files = Vec::new();
        let mut modules = BTreeMap::new();
        for path in paths {
            let text = fs::read_to_string(path).expect("read source");
            let inside = path.strip_prefix(dir).expect("under the crate");
            let module = module_path(inside);
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let is_test = file_name.ends_with("tests.rs")
                || inside
                    .parent()
                    .is_some_and(|p| p.components().any(|c| c.as_os_str() == "tests"));
            let blanked = blank_comments_and_strings(&text);
            let (code, test_lines) = blank_inline_tests(&blanked);
            let counted_lines = text.lines().count() - test_lines;
            if !is_test {
                modules.insert(module.clone(), files.len());
            }
            files.push(SourceFile {
                rel: relative(root, path),
                module,
                is_test,
                counted_lines,
                code,
            });
        }
        let mut krate = Crate {
            edges: vec![BTreeSet::new(); files.len()],
            files,
            modules,
        };
        for i in 0..krate.files.len() {
            if krate.files[i].is_test {
                continue;
            }
            let targets: BTreeSet<usize> =
                imported_paths(&krate.files[i].code, &krate.files[i].module)
                    .iter()
                    .filter_map(|p| krate.resolve(p))
                    .filter(|&t| t != i)
                    .collect();
            krate.edges[i] = targets;
        }
        krate
    }

    /// The file of the longest prefix of `path` that is a module file.
    fn resolve(&self, path: &[String]) -> Option<usize> {
        (1..=path.len())
            .rev()
            .find_map(|n| self.modules.get(&path[..n]).copied())
            .or_else(|| self.modules.get(&Vec::new()).copied())
    }

    /// Strongly connected components of more than one file (Tarjan), each sorted by path.
    fn circles(&self) -> Vec<Vec<usize>> {
        struct Tarjan<'a> {
            edges: &'a [BTreeSet<usize>],
            index: Vec<Option<usize>>,
            low: Vec<usize>,
            on_stack: Vec<bool>,
            stack: Vec<usize>,
            next: usize,
            out: Vec<Vec<usize>>,
        }
        impl Tarjan<'_> {
            fn visit(&mut self, v: usize) {
                self.index[v] = Some(self.next);
                self.low[v] = self.next;
                self.next += 1;
                self.stack.push(v);
                self.on_stack[v] = true;
                for &w in self.edges[v].iter() {
                    match self.index[w] {
                        None => {
                            self.visit(w);
                            self.low[v] = self.low[v].min(self.low[w]);
                        }
                        Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                        Some(_) => {}
                    }
                }
                if Some(self.low[v]) == self.index[v] {
                    let mut component = Vec::new();
                    loop {
                        let w = self.stack.pop().expect("on the stack");
                        self.on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        self.out.push(component);
                    }
                }
            }
        }
        let n = self.files.len();
        let mut t = Tarjan {
            edges: &self.edges,
            index: vec![None; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            next: 0,
            out: Vec::new(),
        };
        for v in 0..n {
            if t.index[v].is_none() {
                t.visit(v);
            }
        }
        let mut out = t.out;
        for c in &mut out {
            c.sort_by(|&a, &b| self.files[a].rel.cmp(&self.files[b].rel));
        }
        out.sort_by(|a, b| self.files[a[0]].rel.cmp(&self.files[b[0]].rel));
        out
    }

    /// One shortest cycle through the circle's first file, as `a -> b -> a`.
    fn example_cycle(&self, circle: &[usize]) -> String {
        let members: BTreeSet<usize> = circle.iter().copied().collect();
        let start = circle[0];
        let mut previous: BTreeMap<usize, usize> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut end = None;
        'search: while let Some(v) = queue.pop_front() {
            for &w in &self.edges[v] {
                if !members.contains(&w) {
                    continue;
                }
                if w == start {
                    end = Some(v);
                    break 'search;
                }
                if let std::collections::btree_map::Entry::Vacant(e) = previous.entry(w) {
                    e.insert(v);
                    queue.push_back(w);
                }
            }
        }
        let mut path = vec![start];
        let mut v = end.unwrap_or(start);
        let mut back = Vec::new();
        while v != start {
            back.push(v);
            v = previous[&v];
        }
        path.extend(back.into_iter().rev());
        path.push(start);
        path.iter()
            .map(|&i| self.files[i].rel.as_str())
            .collect::<Vec<_>>()
            .join(" -> ")
    }
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// `lane/runner.rs` and `lane/runner/mod.rs` are `["lane", "runner"]`; `lib.rs` is `[]`.
fn module_path(inside: &Path) -> Vec<String> {
    let mut parts: Vec<String> = inside
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if !(stem == "mod" || (parts.is_empty() && (stem == "lib" || stem == "main"))) {
        parts.push(stem.to_string());
    }
    parts
}

/// The text with comments and the contents of string and char literals replaced by spaces,
/// keeping every newline so line numbers stay.
fn blank_comments_and_strings(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < c.len() {
        if c[i] == '/' && c.get(i + 1).copied() == Some('/') {
            while i < c.len() && c[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c[i] == '/' && c.get(i + 1).copied() == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1).copied() == Some('*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1).copied() == Some('/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && matches!(c.get(i + 1).copied(), Some('"') | Some('#'))
            && (i == 0 || !is_ident(c[i - 1]))
        {
            // A raw string r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            for _ in i..=j {
                out.push(' ');
            }
            i = j + 1;
            while i < c.len() {
                if c[i] == '"' && (1..=hashes).all(|k| c.get(i + k) == Some(&'#')) {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    i += hashes + 1;
                    break;
                }
                out.push(blank(c[i]));
                i += 1;
            }
        } else if c[i] == '"' {
            out.push(' ');
            i += 1;
            while i < c.len() {
                if c[i] == '\\' {
                    out.push(' ');
                    if let Some(&n) = c.get(i + 1) {
                        out.push(blank(n));
                    }
                    i += 2;
                } else if c[i] == '"' {
                    out.push(' ');
                    i += 1;
                    break;
                } else {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
        } else if c[i] == '\'' {
            // A char literal ('x', '\n', '\u{1F600}'), else a lifetime.
            let end = if c.get(i + 1).copied() == Some('\\') {
                (i + 2..c.len().min(i + 12)).find(|&k| c[k] == '\'')
            } else if c.get(i + 2).copied() == Some('\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(e) => {
                    for _ in i..=e {
                        out.push(' ');
                    }
                    i = e + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Blanks each `#[cfg(test)] mod name { … }` block; returns the code and the block's line count.
fn blank_inline_tests(code: &str) -> (String, usize) {
    let mut c: Vec<char> = code.chars().collect();
    let mut lines = 0;
    let marker: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut i = 0;
    while i + marker.len() <= c.len() {
        if c[i..i + marker.len()] != marker[..] {
            i += 1;
            continue;
        }
        // Skip further attributes and whitespace, then expect `mod name {`.
        let mut j = i + marker.len();
        loop {
            while j < c.len() && c[j].is_whitespace() {
                j += 1;
            }
            if c.get(j) == Some(&'#') {
                while j < c.len() && c[j] != ']' {
                    j += 1;
                }
                j += 1;
            } else {
                break;
            }
        }
        let word: String = c[j..].iter().take_while(|ch| is_ident(**ch)).collect();
        let word = if word == "pub" {
            j += 3;
            while j < c.len() && c[j].is_whitespace() {
                j += 1;
            }
            c[j..].iter().take_while(|ch| is_ident(**ch)).collect()
        } else {
            word
        };
        if word != "mod" {
            i += marker.len();
            continue;
        }
        let Some(open) = (j..c.len()).find(|&k| c[k] == '{' || c[k] == ';') else {
            break;
        };
        if c[open] == ';' {
            i = open;
            continue;
        }
        let mut depth = 0;
        let mut close = open;
        for (k, &ch) in c.iter().enumerate().skip(open) {
            if ch == '{' {
                depth += 1;
            } else if ch == '}' {
                depth -= 1;
                if depth == 0 {
                    close = k;
                    break;
                }
            }
        }
        // The block's lines, from the attribute's line to the closing brace's line.
        lines += c[i..=close].iter().filter(|&&ch| ch == '\n').count() + 1;
        for ch in &mut c[i..=close] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
        i = close + 1;
    }
    (c.into_iter().collect(), lines)
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// Every module path that `code`, in module `module`, names through `crate::` or `super::`.
fn imported_paths(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let boundary = i == 0 || !(is_ident(c[i - 1]) || c[i - 1] == '$' || c[i - 1] == ':');
        if !boundary || !is_ident(c[i]) {
            i += 1;
            continue;
        }
        let word: String = c[i..].iter().take_while(|ch| is_ident(**ch)).collect();
        let after = i + word.chars().count();
        if !(word == "crate" || word == "super") || !starts_with(&c, after, "::") {
            i = after;
            continue;
        }
        // Leading `super::super::…` chains climb one module each.
        let mut base: Vec<String> = if word == "crate" {
            Vec::new()
        } else {
            module[..module.len().saturating_sub(1)].to_vec()
        };
        let mut j = after + 2;
        if word == "super" {
            while starts_with(&c, j, "super::") {
                base.pop();
                j += "super::".len();
            }
        }
        let (paths, end) = parse_tree(&c, j);
        for p in paths {
            let mut full = base.clone();
            full.extend(p.into_iter().filter(|s| s != "self"));
            out.push(full);
        }
        i = end.max(j);
    }
    out
}

fn starts_with(c: &[char], at: usize, s: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    c.len() >= at + s.len() && c[at..at + s.len()] == s[..]
}

fn skip_space(c: &[char], mut i: usize) -> usize {
    while i < c.len() && c[i].is_whitespace() {
        i += 1;
    }
    i
}

/// A use tree at `i` (`a::b`, `a::{b, c::d}`, `a::*`): its paths and where it ends.
fn parse_tree(c: &[char], i: usize) -> (Vec<Vec<String>>, usize) {
    let mut i = skip_space(c, i);
    if c.get(i) == Some(&'{') {
        let mut paths = Vec::new();
        i += 1;
        loop {
            i = skip_space(c, i);
            match c.get(i) {
                None => return (paths, i),
                Some('}') => return (paths, i + 1),
                Some(',') => i += 1,
                Some(_) => {
                    let (sub, end) = parse_tree(c, i);
                    paths.extend(sub);
                    if end == i {
                        i += 1;
                    } else {
                        i = end;
                    }
                }
            }
        }
    }
    if c.get(i) == Some(&'*') {
        return (vec![Vec::new()], i + 1);
    }
    let word: String = c[i..].iter().take_while(|ch| is_ident(**ch)).collect();
    if word.is_empty() {
        return (vec![Vec::new()], i);
    }
    let after = i + word.chars().count();
    let next = skip_space(c, after);
    if starts_with(c, next, "::") && !starts_with(c, skip_space(c, next + 2), "<") {
        let (subs, end) = parse_tree(c, next + 2);
        let paths = subs
            .into_iter()
            .map(|mut s| {
                s.insert(0, word.clone());
                s
            })
            .collect();
        return (paths, end);
    }
    (vec![vec![word]], after)
}
