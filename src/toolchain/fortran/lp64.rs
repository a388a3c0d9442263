//! The LP64 boundary of the Fortran runtime: the source patch that makes flang-rt, compiled for
//! wasm32, agree with the calls and descriptors that an x86-64 flang emits.
//!
//! flang's model of its runtime uses the *build machine's* C type sizes (its RTBuilder says
//! "all usages of sizeof in this file assume build == host == target"). Debian builds flang only
//! for 64-bit machines, so even for wasm32 it emits:
//! - array descriptors with a 64-bit `elem_len` and 64-bit dimension triples
//!   (`CFI_index_t`), and
//! - runtime calls with `i64` for every `std::size_t`, `std::intptr_t` and `std::ptrdiff_t`
//!   parameter or result (`_FortranAioOutputAscii(ptr, ptr, i64)`).
//!
//! Compiled unchanged for wasm32 these are 32 bits, and the first descriptor the runtime reads
//! is garbage ("TRIM: bad string type code 0"). So a copy of the runtime sources is patched:
//! `ISO_Fortran_binding.h` gets 64-bit `CFI_index_t` and `elem_len`, and in the signature (result
//! and parameters) of every runtime entry point — a declaration or definition written with
//! `RTDECL`, `RTDEF`, `IODECL`, `IODEF` or `RTNAME` — the pointer-sized integer types become
//! 64-bit ones. Inside the runtime these values are used as before (narrowed where they index
//! memory). This module is that patch, on text; `install` applies it to the extracted sources.

/// The entry-point macros whose use always declares or defines a function.
const DECLARING_MACROS: &[&str] = &["RTDECL", "RTDEF", "IODECL", "IODEF"];

/// What one file's patch changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Patched {
    pub text: String,
    /// Signatures whose types changed.
    pub signatures: usize,
}

/// `ISO_Fortran_binding.h`: 64-bit `CFI_index_t` and `elem_len`, as the descriptors flang
/// builds. `None` when the header does not have the expected lines (another flang version:
/// the patch must be revisited, not applied blindly).
pub fn patch_iso_fortran_binding(text: &str) -> Option<String> {
    let index = "typedef ptrdiff_t CFI_index_t;";
    let elem_len = "  size_t elem_len;";
    if !text.contains(index) || !text.contains(elem_len) {
        return None;
    }
    Some(
        text.replace(index, "typedef long long CFI_index_t;")
            .replace(elem_len, "  unsigned long long elem_len;"),
    )
}

/// Widens the pointer-sized integer types in every runtime entry-point signature of a C++ (or,
/// with `c_source`, C) file.
pub fn patch_entry_points(text: &str, c_source: bool) -> Patched {
    let mut out = String::with_capacity(text.len() + 1024);
    let mut signatures = 0;
    let mut copied = 0;
    let mut position = 0;
    while let Some((start, macro_name)) = next_macro(text, position) {
        position = start + macro_name.len();
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let prefix = &text[line_start..start];
        if prefix.trim_start().starts_with('#') || prefix.trim_start().starts_with("//") {
            continue;
        }
        if macro_name == "RTNAME" && !declares(prefix) {
            continue;
        }
        // `MACRO(Name)` then the parameter list.
        let Some(name_end) = matching_paren(text, start + macro_name.len()) else {
            continue;
        };
        let after = name_end + 1;
        let open = after + (text[after..].len() - text[after..].trim_start().len());
        if !text[open..].starts_with('(') {
            continue;
        }
        let Some(close) = matching_paren(text, open) else {
            continue;
        };
        // The result type: the text before the macro on its line.
        let result_region = line_start.max(copied)..start;
        let parameters = open..close + 1;
        let new_result = widen(&text[result_region.clone()], c_source);
        let new_parameters = widen(&text[parameters.clone()], c_source);
        if new_result == text[result_region.clone()] && new_parameters == text[parameters.clone()] {
            position = close + 1;
            continue;
        }
        signatures += 1;
        out.push_str(&text[copied..result_region.start]);
        out.push_str(&new_result);
        out.push_str(&text[start..parameters.start]);
        out.push_str(&new_parameters);
        copied = parameters.end;
        position = parameters.end;
    }
    out.push_str(&text[copied..]);
    Patched {
        text: out,
        signatures,
    }
}

/// Whether the text before an `RTNAME(` on its line makes it a declaration (a result type)
/// rather than a call.
fn declares(prefix: &str) -> bool {
    let trimmed = prefix.trim_end();
    if trimmed.trim().is_empty() || trimmed.ends_with("return") {
        return false;
    }
    trimmed
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '*' | '&' | '>'))
}

/// The next use of an entry-point macro at or after `from`: its offset and name.
fn next_macro(text: &str, from: usize) -> Option<(usize, &'static str)> {
    let mut best: Option<(usize, &'static str)> = None;
    for name in DECLARING_MACROS.iter().chain(&["RTNAME"]) {
        let mut search = from;
        while let Some(found) = text[search..].find(&format!("{name}(")) {
            let at = search + found;
            let before = text[..at].chars().last();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                search = at + name.len();
                continue;
            }
            if best.is_none_or(|(b, _)| at < b) {
                best = Some((at, name));
            }
            break;
        }
    }
    best
}

/// The offset of the `)` matching the `(` at `open`.
fn matching_paren(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (offset, byte) in text.as_bytes()[open..].iter().enumerate() {
        match byte {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + offset);
                }
            }
            _ => {}
        }
    }
    None
}

/// Replaces the pointer-sized integer type names by 64-bit ones.
fn widen(text: &str, c_source: bool) -> String {
    let (unsigned, signed) = if c_source {
        ("uint64_t", "int64_t")
    } else {
        ("std::uint64_t", "std::int64_t")
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for (name, wide) in [
            ("std::size_t", unsigned),
            ("std::intptr_t", signed),
            ("std::ptrdiff_t", signed),
            ("size_t", unsigned),
            ("intptr_t", signed),
            ("ptrdiff_t", signed),
        ] {
            if let Some(after) = rest.strip_prefix(name) {
                let before_ok = !out
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
                let after_ok = !after
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
                if before_ok && after_ok {
                    out.push_str(wide);
                    rest = after;
                    continue 'scan;
                }
            }
        }
        let c = rest.chars().next().expect("not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_fields_become_64_bit() {
        let header =
            "typedef ptrdiff_t CFI_index_t;\n#define X \\\n  size_t elem_len; /* bytes */ \\\n";
        assert_eq!(
            patch_iso_fortran_binding(header).unwrap(),
            "typedef long long CFI_index_t;\n#define X \\\n  unsigned long long elem_len; /* bytes */ \\\n"
        );
        assert_eq!(patch_iso_fortran_binding("typedef int CFI_index_t;"), None);
    }

    #[test]
    fn multi_line_declarations_widen_parameters_and_results() {
        let header = "Cookie IODECL(BeginExternalFormattedOutput)(const char *format, std::size_t,\n    ExternalUnit = DefaultOutputUnit, const char *sourceFile = nullptr);\n\
                      bool IODECL(OutputAscii)(Cookie, const char *, std::size_t);\n\
                      std::size_t RTDECL(SizeInBytes)(const Descriptor &);\n\
                      void RTDECL(Unchanged)(int, std::int32_t);\n";
        let patched = patch_entry_points(header, false);
        assert_eq!(
            patched.text,
            "Cookie IODECL(BeginExternalFormattedOutput)(const char *format, std::uint64_t,\n    ExternalUnit = DefaultOutputUnit, const char *sourceFile = nullptr);\n\
             bool IODECL(OutputAscii)(Cookie, const char *, std::uint64_t);\n\
             std::uint64_t RTDECL(SizeInBytes)(const Descriptor &);\n\
             void RTDECL(Unchanged)(int, std::int32_t);\n"
        );
        assert_eq!(patched.signatures, 3);
    }

    #[test]
    fn definitions_keep_their_bodies() {
        let source = "std::intptr_t RTNAME(Malloc)(std::size_t size) {\n  std::size_t n = size;\n  return reinterpret_cast<std::intptr_t>(malloc(n));\n}\n\
                      void f() { x = RTNAME(Malloc)(sizeof(std::size_t)); return RTNAME(Free)((std::intptr_t)p); }\n";
        let patched = patch_entry_points(source, false);
        assert_eq!(
            patched.text,
            "std::int64_t RTNAME(Malloc)(std::uint64_t size) {\n  std::size_t n = size;\n  return reinterpret_cast<std::intptr_t>(malloc(n));\n}\n\
             void f() { x = RTNAME(Malloc)(sizeof(std::size_t)); return RTNAME(Free)((std::intptr_t)p); }\n"
        );
        assert_eq!(patched.signatures, 1);
    }

    #[test]
    fn macro_definitions_and_other_identifiers_are_left_alone() {
        let source = "#define RTDECL(name) RT_API_ATTRS RTNAME(name)\nvoid MY_RTDECL(X)(size_t);\nvoid RTDECL(Y)(my_size_t, size_type);\n";
        let patched = patch_entry_points(source, false);
        assert_eq!(patched.text, source);
        assert_eq!(patched.signatures, 0);
    }

    #[test]
    fn c_sources_get_c_type_names() {
        let source = "size_t RTNAME(Count)(const char *, size_t n);\n";
        assert_eq!(
            patch_entry_points(source, true).text,
            "uint64_t RTNAME(Count)(const char *, uint64_t n);\n"
        );
    }
}
