//! Which big components' code is mostly known already. The code section of
//! each of a component's core modules (CPython in a componentize-py plugin,
//! the JavaScript engine in a componentize-js one) is hashed when Cranelift
//! compiles it and noted beside the function cache's entries; a big
//! component whose code is mostly in noted code sections is compiled with
//! Cranelift at once, since its functions come from the function cache,
//! rather than with Winch first and Cranelift again in the background.
//!
//! The note is of the code section and the declarations it is compiled
//! against, not of the whole module: what the function cache holds is
//! functions, and two plugins of one language can share every function
//! while their modules differ. componentize-js
//! snapshots the engine with each plugin's script, so the engine's module
//! differs from plugin to plugin in its data segments only (two plugins of
//! one world: 9.2 MB of code byte for byte the same, 3 MB of data not).
//!
//! A note is only a hint: a wrong one costs time, never safety (every
//! function is still checked, the artifact still hashed).

use wasmparser::{Chunk, Parser, Payload};

/// The folder, in a namespace of the function cache, of the notes.
pub const NOTES: &str = "modules";

/// The share of a component's code that must be known for it to skip
/// Winch.
pub const KNOWN_SHARE: f64 = 0.8;

/// One core module inside a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// sha256 of its code and the declarations it is compiled against
    /// (every section but data and custom ones), hex.
    pub code_sha256: String,
    /// The size of its code section, what compiling it is about (a
    /// CPython module's 11 MB are mostly data).
    pub code_bytes: u64,
}

/// The core modules of component `bytes`, nested components' included, in
/// order; empty if it does not parse (compiling it will say why).
pub fn modules(bytes: &[u8]) -> Vec<Module> {
    let mut out = Vec::new();
    if collect(bytes, 0, &mut out).is_none() {
        out.clear();
    }
    out
}

/// The payloads of one binary (a component or a core module), each at
/// the top level: a nested module or component is a whole binary of its
/// own, which the walk steps over (its range is in its payload).
struct Walk<'a> {
    bytes: &'a [u8],
    parser: Parser,
    offset: usize,
}

impl<'a> Walk<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Walk { bytes, parser: Parser::new(0), offset: 0 }
    }

    /// The next payload; `None` if the binary does not parse.
    fn next(&mut self) -> Option<Payload<'a>> {
        let Chunk::Parsed { consumed, payload } = self.parser.parse(self.bytes.get(self.offset..)?, true).ok()? else {
            return None;
        };
        self.offset += consumed;
        if let Payload::ModuleSection { unchecked_range, .. } | Payload::ComponentSection { unchecked_range, .. } =
            &payload
        {
            self.offset = unchecked_range.end;
        }
        Some(payload)
    }
}

/// Components nested deeper than this are not walked, nor compiled: the
/// bytes are a plugin's, read before anything validated them, each level
/// is a frame of this walk's stack, and wasmtime took tens of gigabytes to
/// parse 100 000 levels.
pub const MAX_DEPTH: usize = 32;

/// Past this many core modules the walk gives up (wasmtime's own limit on
/// a component's modules is 1000).
const MAX_MODULES: usize = 1000;

/// Whether component `bytes` nests components at most `max` deep (a binary
/// that does not parse is left to wasmtime to refuse).
pub fn nested_within(bytes: &[u8], max: usize) -> bool {
    fn within(bytes: &[u8], left: usize) -> Option<bool> {
        let mut walk = Walk::new(bytes);
        loop {
            match walk.next()? {
                Payload::ComponentSection { .. } if left == 0 => return Some(false),
                Payload::ComponentSection { unchecked_range, .. }
                    if !within(bytes.get(unchecked_range.clone())?, left - 1)? =>
                {
                    return Some(false);
                }
                Payload::End(_) => return Some(true),
                _ => {}
            }
        }
    }
    within(bytes, max).unwrap_or(true)
}

/// Add the core modules of component `bytes`, nested `depth` deep, and
/// its nested components' too, to `out`.
fn collect(bytes: &[u8], depth: usize, out: &mut Vec<Module>) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut walk = Walk::new(bytes);
    loop {
        match walk.next()? {
            Payload::ModuleSection { unchecked_range, .. } => {
                let module = bytes.get(unchecked_range)?;
                if out.len() == MAX_MODULES {
                    return None;
                }
                out.push(code_section(module)?);
            }
            Payload::ComponentSection { unchecked_range, .. } => {
                collect(bytes.get(unchecked_range)?, depth + 1, out)?;
            }
            Payload::End(_) => return Some(()),
            _ => {}
        }
    }
}

/// Core module `module`'s code digest and code section's size.
///
/// The digest covers every section but data, data count and custom ones,
/// each with its id: the code, and what Cranelift compiles it against
/// (types, imports, functions, tables, memories, globals, exports, start,
/// elements), since each function's cache key depends on those too. A
/// module that copies another's code section into other declarations
/// gets another digest and so cannot claim that module's functions.
fn code_section(module: &[u8]) -> Option<Module> {
    use sha2::{Digest, Sha256};
    const CUSTOM: u8 = 0;
    const CODE: u8 = 10;
    const DATA: u8 = 11;
    const DATA_COUNT: u8 = 12;
    let mut digest = Sha256::new();
    let mut code_bytes = 0;
    let mut sections = wasmparser::BinaryReader::new(module.get(8..)?, 8);
    while !sections.eof() {
        let id = sections.read_u8().ok()?;
        let size = sections.read_var_u32().ok()?;
        let contents = sections.read_bytes(size as usize).ok()?;
        if !matches!(id, CUSTOM | DATA | DATA_COUNT) {
            digest.update([id]);
            digest.update(u64::from(size).to_le_bytes());
            digest.update(contents);
        }
        if id == CODE {
            code_bytes = u64::from(size);
        }
    }
    Some(Module { code_sha256: crate::digest::hex(&digest.finalize()), code_bytes })
}

/// The share of `modules`' code for which `known` says yes.
pub fn known_share(modules: &[Module], known: impl Fn(&Module) -> bool) -> f64 {
    let total: u64 = modules.iter().map(|m| m.code_bytes).sum();
    let known: u64 = modules.iter().filter(|m| known(m)).map(|m| m.code_bytes).sum();
    if total == 0 { 0.0 } else { known as f64 / total as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_component_lists_its_core_modules_and_garbage_lists_none() {
        // Two core modules, one with more code, and a third inside a
        // nested component.
        let component = wat::parse_str(
            r#"(component
                (core module (func (result i32) i32.const 1))
                (core module
                    (func (param i32) (result i32) local.get 0 i32.const 7 i32.mul i32.const 3 i32.add)
                    (func (result i64) i64.const 42))
                (component (core module (func)))
            )"#,
        )
        .unwrap();
        let found = modules(&component);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[1].code_bytes > found[0].code_bytes, "{found:?}");
        assert!(found.iter().all(|m| m.code_bytes > 0 && m.code_sha256.len() == 64), "{found:?}");
        assert_ne!(found[0].code_sha256, found[1].code_sha256);
        assert_eq!(modules(&component), found, "the same bytes give the same digests");
        assert!(modules(b"not wasm at all").is_empty());
        assert!(modules(b"\0asm\x0d\0\x01\0").is_empty(), "an empty component");
    }

    #[test]
    fn modules_that_differ_only_in_data_share_their_code_digest() {
        // The same engine snapshotted with two scripts (componentize-js):
        // one code section, two data segments.
        let engine = |data: &str| {
            wat::parse_str(format!(
                r#"(component (core module
                    (memory 1)
                    (func (export "get") (result i32) i32.const 0 i32.load)
                    (data (i32.const 0) "{data}")))"#
            ))
            .unwrap()
        };
        let (one, two) = (engine("first script"), engine("the second one"));
        assert_ne!(one, two);
        assert_eq!(modules(&one), modules(&two));
        let other_code = wat::parse_str(r#"(component (core module (func (result i32) i32.const 2)))"#).unwrap();
        assert_ne!(modules(&one)[0].code_sha256, modules(&other_code)[0].code_sha256);
        let other_import = wat::parse_str(
            r#"(component (core module
                (import "env" "f" (func))
                (memory 1)
                (func (export "get") (result i32) i32.const 0 i32.load)
                (data (i32.const 0) "first script")))"#,
        )
        .unwrap();
        assert_ne!(
            modules(&one)[0].code_sha256,
            modules(&other_import)[0].code_sha256,
            "the same code, other declarations"
        );
        assert_eq!(modules(&one)[0].code_bytes, modules(&other_import)[0].code_bytes);
        let no_code = wat::parse_str("(component (core module (memory 1)))").unwrap();
        assert_eq!(modules(&no_code)[0].code_bytes, 0);
    }

    #[test]
    fn components_nested_past_the_limit_are_not_walked() {
        // A core module (empty) inside `levels` components, each inside the
        // last (section id 1 or 4, a LEB128 size, the inner binary): a
        // hostile plugin nests deep to overflow the walk's stack.
        fn section(id: u8, inner: &[u8]) -> Vec<u8> {
            let mut out = b"\0asm\x0d\0\x01\0".to_vec();
            out.push(id);
            let mut size = inner.len();
            loop {
                let byte = (size & 0x7f) as u8;
                size >>= 7;
                out.push(if size == 0 { byte } else { byte | 0x80 });
                if size == 0 {
                    break;
                }
            }
            out.extend_from_slice(inner);
            out
        }
        let nested = |levels: usize| {
            let mut bytes = section(1, b"\0asm\x01\0\0\0");
            for _ in 0..levels {
                bytes = section(4, &bytes);
            }
            bytes
        };
        assert_eq!(modules(&nested(10)).len(), 1, "found at depth 10");
        assert!(modules(&nested(MAX_DEPTH + 1)).is_empty(), "not walked past the limit");
        assert!(nested_within(&nested(MAX_DEPTH), MAX_DEPTH));
        assert!(!nested_within(&nested(MAX_DEPTH + 1), MAX_DEPTH));
    }

    #[test]
    fn the_share_is_by_bytes() {
        let m = |sha: &str, code_bytes| Module { code_sha256: sha.to_owned(), code_bytes };
        let modules = [m("big", 900), m("small", 100)];
        assert_eq!(known_share(&modules, |m| m.code_sha256 == "big"), 0.9);
        assert_eq!(known_share(&modules, |m| m.code_sha256 == "small"), 0.1);
        assert_eq!(known_share(&[], |_| true), 0.0);
    }
}
