//! The textual rewrites between flang's stages: the ABI fixes that make flang's output a correct
//! wasm32 object.
//!
//! flang 22 cannot generate code for wasm32 (`fir::CodeGenSpecifics` has no wasm32 entry), so the
//! driver runs the front end for the real wasm32 target and lowers FIR with the i386 code
//! generator, whose calling convention is the closest to the wasm32 C ABI (see
//! `docs/fortran.md`). Each function here fixes one difference, on the text of one stage's
//! output; each is a pure function of its input, tested on small snippets below. This module
//! does not run any tool.

/// The triple the wasm32 objects are compiled for.
pub const WASM_TRIPLE: &str = "wasm32-unknown-wasip1";

/// The C library functions and compiler-rt helpers that return a `float _Complex`. The i386
/// code generator returns a COMPLEX(4) packed in an `i64`; on wasm32 C returns it through a
/// hidden pointer (`sret`). Calls to these are renamed to `__wf_NAME`, shims with the i64
/// convention (`toolchain/fortran/complex-shims.c`) that call the real function.
pub const COMPLEX4_RETURNING: &[&str] = &[
    "cacosf", "cacoshf", "casinf", "casinhf", "catanf", "catanhf", "ccosf", "ccoshf", "cexpf",
    "clogf", "conjf", "cpowf", "cprojf", "csinf", "csinhf", "csqrtf", "ctanf", "ctanhf",
    "__divsc3", "__mulsc3",
];

/// The prefix of the complex(4) shims.
pub const SHIM_PREFIX: &str = "__wf_";

/// The name the Fortran `main` is renamed to; `__main_argc_argv` calls it.
pub const FORTRAN_MAIN: &str = "__wf_fortran_main";

/// HLFIR fix: flang 22 lowers `fir.assumed_size_extent` (the extent of the last dimension of
/// an assumed-size array, `X(*)`) to a 64-bit constant and an `unrealized_conversion_cast` to
/// the 32-bit `index` type, which no later pass removes; LLVM translation then fails on every
/// 32-bit target. The op is a placeholder for the value -1 (flang's encoding of "assumed
/// size"), so it is replaced by that constant before lowering.
pub fn fix_assumed_size_extent(hlfir: &str) -> String {
    hlfir.replace(
        "fir.assumed_size_extent : index",
        "arith.constant -1 : index",
    )
}

/// All LLVM IR fixes, in order.
pub fn fix_llvm_ir(ir: &str) -> String {
    let ir = retarget(ir);
    let ir = common_to_weak(&ir);
    let ir = rename_complex4_calls(&ir);
    let ir = strip_cpu_attributes(&ir);
    bridge_main(&ir)
}

/// The i386 code generator writes its own triple; the object is wasm32. (The data layout is
/// already wasm32's: tco keeps the front end's.)
pub fn retarget(ir: &str) -> String {
    map_lines(ir, |line| {
        line.starts_with("target triple = ")
            .then(|| format!("target triple = \"{WASM_TRIPLE}\""))
    })
}

/// Uninitialized COMMON blocks come out with `common` linkage. The wasm backend has no common
/// symbols and silently emits them as *undefined* data symbols, so the link fails (or, with
/// imports allowed, the block is an unresolved import). `weak` keeps the one-definition-per-
/// program semantics of COMMON; what is lost is "the largest size wins", so every unit must
/// declare a block with the same size (standard Fortran requires it for named blocks).
pub fn common_to_weak(ir: &str) -> String {
    map_lines(ir, |line| {
        let (name, rest) = line.split_once(" = ")?;
        if !name.starts_with('@') {
            return None;
        }
        let rest = rest.strip_prefix("common ")?;
        Some(format!("{name} = weak {rest}"))
    })
}

/// Renames calls to the functions of [`COMPLEX4_RETURNING`] that are declared with the i386
/// packed-i64 return to their shims.
pub fn rename_complex4_calls(ir: &str) -> String {
    let mut out = ir.to_string();
    for name in COMPLEX4_RETURNING {
        if ir
            .lines()
            .any(|line| line.starts_with(&format!("declare i64 @{name}(")))
        {
            out = replace_symbol(&out, name, &format!("{SHIM_PREFIX}{name}"));
        }
    }
    out
}

/// The i386 code generator tags functions with `"target-cpu"="i686"` (and i386 features),
/// which clang for wasm32 warns about and ignores; they are removed.
pub fn strip_cpu_attributes(ir: &str) -> String {
    map_lines(ir, |line| {
        if !line.starts_with("attributes #") {
            return None;
        }
        let mut kept = line.to_string();
        for key in ["\"target-cpu\"=", "\"target-features\"=", "\"tune-cpu\"="] {
            while let Some(start) = kept.find(key) {
                let value_start = start + key.len();
                let Some(value_end) = kept[value_start + 1..].find('"') else {
                    break;
                };
                let end = value_start + 1 + value_end + 1;
                let end = if kept[end..].starts_with(' ') {
                    end + 1
                } else {
                    end
                };
                kept.replace_range(start..end, "");
            }
        }
        (kept != line).then_some(kept)
    })
}

/// A Fortran main program is `i32 @main(i32 argc, ptr argv, ptr envp)`. wasi-libc's start code
/// calls `__main_argc_argv(argc, argv)` (two arguments) and a three-argument `main` is a
/// signature mismatch. `main` is renamed and a `__main_argc_argv` is added that passes
/// `environ` as the third argument.
pub fn bridge_main(ir: &str) -> String {
    let Some(definition) = ir
        .lines()
        .find(|line| line.starts_with("define ") && line.contains(" @main("))
    else {
        return ir.to_string();
    };
    if !definition.contains("(i32 ") || definition.matches("ptr").count() < 2 {
        // A `main` of another shape (from C-interoperable code): leave it to the C start code.
        return ir.to_string();
    }
    let mut out = replace_symbol(ir, "main", FORTRAN_MAIN);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "\n@environ = external global ptr\n\n\
         define i32 @__main_argc_argv(i32 %argc, ptr %argv) {{\n\
         \x20 %envp = load ptr, ptr @environ\n\
         \x20 %status = call i32 @{FORTRAN_MAIN}(i32 %argc, ptr %argv, ptr %envp)\n\
         \x20 ret i32 %status\n\
         }}\n"
    ));
    out
}

/// flang records the name of the source (and of INCLUDEd files) in the object, as the absolute
/// path, for the Fortran runtime's I/O error messages: a NUL-terminated string constant named
/// after its content, `@_QQclX<hex> = linkonce constant [N x i8] c"/abs/x.f\00", comdat`. flang
/// has no `-ffile-prefix-map`, so objects would depend on where the build directory is. Each
/// such constant whose content `relative` maps to a new name is rewritten to that name (and
/// renamed after its new content, as flang names short strings), everywhere it is used.
pub fn relative_source_names(ir: &str, relative: impl Fn(&str) -> Option<String>) -> String {
    let mut renames = Vec::new();
    let ir = map_lines(ir, |line| {
        let (name, rest) = line
            .strip_prefix("@_QQclX")?
            .split_once(" = linkonce constant [")?;
        let (_, rest) = rest.split_once(" x i8] c\"")?;
        let (content, tail) = rest.split_once("\\00\"")?;
        let path = unescape(content)?;
        if !path.starts_with('/') {
            return None;
        }
        let new_path = relative(&path)?;
        let mut bytes = new_path.into_bytes();
        bytes.push(0);
        let new_name: String = bytes.iter().map(|byte| format!("{byte:02X}")).collect();
        let escaped = escape(&bytes[..bytes.len() - 1]);
        renames.push((format!("_QQclX{name}"), format!("_QQclX{new_name}")));
        Some(format!(
            "@_QQclX{new_name} = linkonce constant [{} x i8] c\"{escaped}\\00\"{tail}",
            bytes.len()
        ))
    });
    renames.iter().fold(ir, |ir, (old, new)| {
        let ir = replace_symbol(&ir, old, new);
        // The comdat of the constant (`$name = comdat any`, `comdat($name)`).
        ir.replace(&format!("${old} "), &format!("${new} "))
            .replace(&format!("${old})"), &format!("${new})"))
    })
}

/// The bytes of an LLVM IR string constant's content (`\XX` escapes), if it is UTF-8.
fn unescape(content: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(content.len());
    let mut rest = content.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'\\' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// `bytes` as an LLVM IR string constant's content.
fn escape(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&byte| match byte {
            b' '..=b'~' if byte != b'"' && byte != b'\\' => char::from(byte).to_string(),
            _ => format!("\\{byte:02X}"),
        })
        .collect()
}

/// Replaces whole-symbol references `@name` (followed by a non-identifier character).
fn replace_symbol(ir: &str, name: &str, new: &str) -> String {
    let needle = format!("@{name}");
    let mut out = String::with_capacity(ir.len());
    let mut rest = ir;
    while let Some(position) = rest.find(&needle) {
        let after = &rest[position + needle.len()..];
        let continues = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$'));
        out.push_str(&rest[..position]);
        if continues {
            out.push_str(&needle);
        } else {
            out.push('@');
            out.push_str(new);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Applies `change` to every line; `None` keeps the line.
fn map_lines(text: &str, mut change: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        match change(body) {
            Some(new) => out.push_str(&new),
            None => out.push_str(body),
        }
        out.push_str(end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_source_names_become_relative_and_are_renamed_after_their_content() {
        let ir = "$_QQclX2F772F782E6600 = comdat any\n\
                  $_QQclX4df4 = comdat any\n\
                  @_QQclX4df4 = linkonce constant [3 x i8] c\"(a)\", comdat\n\
                  @_QQclX2F772F782E6600 = linkonce constant [7 x i8] c\"/w/x.f\\00\", comdat\n\
                  @_QQclX2F6F7468657200 = linkonce constant [7 x i8] c\"/other\\00\", comdat\n\
                  \x20 %8 = call ptr @Begin(ptr @_QQclX4df4, i64 3, ptr @_QQclX2F772F782E6600, i32 87)\n";
        let fixed =
            relative_source_names(ir, |path| (path == "/w/x.f").then(|| "src/x.f".to_string()));
        assert_eq!(
            fixed,
            "$_QQclX7372632F782E6600 = comdat any\n\
             $_QQclX4df4 = comdat any\n\
             @_QQclX4df4 = linkonce constant [3 x i8] c\"(a)\", comdat\n\
             @_QQclX7372632F782E6600 = linkonce constant [8 x i8] c\"src/x.f\\00\", comdat\n\
             @_QQclX2F6F7468657200 = linkonce constant [7 x i8] c\"/other\\00\", comdat\n\
             \x20 %8 = call ptr @Begin(ptr @_QQclX4df4, i64 3, ptr @_QQclX7372632F782E6600, i32 87)\n"
        );
    }

    #[test]
    fn escaped_names_round_trip() {
        assert_eq!(unescape("/a b\\22c\\5Cd").as_deref(), Some("/a b\"c\\d"));
        assert_eq!(escape(b"/a b\"c\\d\n"), "/a b\\22c\\5Cd\\0A");
        assert_eq!(unescape("\\zz"), None);
    }

    #[test]
    fn assumed_size_extent_becomes_minus_one() {
        let hlfir = "    %5 = fir.assumed_size_extent : index\n    %6 = fir.shape %5 : (index) -> !fir.shape<1>\n";
        assert_eq!(
            fix_assumed_size_extent(hlfir),
            "    %5 = arith.constant -1 : index\n    %6 = fir.shape %5 : (index) -> !fir.shape<1>\n"
        );
    }

    #[test]
    fn the_triple_becomes_wasm32() {
        let ir =
            "target datalayout = \"e-m:e-p:32:32\"\ntarget triple = \"i386-unknown-linux-gnu\"\n";
        assert_eq!(
            retarget(ir),
            "target datalayout = \"e-m:e-p:32:32\"\ntarget triple = \"wasm32-unknown-wasip1\"\n"
        );
    }

    #[test]
    fn common_blocks_become_weak_definitions() {
        let ir = "@blk_ = common global [4 x i8] zeroinitializer, align 4\n\
                  @init_ = global [4 x i8] c\"\\01\\00\\00\\00\", align 4\n\
                  %x = call i32 @common(i32 0)\n";
        assert_eq!(
            common_to_weak(ir),
            "@blk_ = weak global [4 x i8] zeroinitializer, align 4\n\
             @init_ = global [4 x i8] c\"\\01\\00\\00\\00\", align 4\n\
             %x = call i32 @common(i32 0)\n"
        );
    }

    #[test]
    fn complex4_calls_with_the_i64_return_go_to_the_shims() {
        let ir = "  %11 = call i64 @cexpf(ptr byval({ float, float }) align 4 %7)\n\
                  \x20 %12 = call i64 @cexpf2(ptr %7)\n\
                  \x20 %34 = call i64 @__divsc3(float %30, float %31, float %32, float %33)\n\
                  \x20 %35 = call double @cabs(ptr %8)\n\
                  declare i64 @cexpf(ptr byval({ float, float }) align 4)\n\
                  declare i64 @__divsc3(float, float, float, float)\n\
                  declare void @csqrtf(ptr sret({ float, float }), ptr)\n";
        assert_eq!(
            rename_complex4_calls(ir),
            "  %11 = call i64 @__wf_cexpf(ptr byval({ float, float }) align 4 %7)\n\
             \x20 %12 = call i64 @cexpf2(ptr %7)\n\
             \x20 %34 = call i64 @__wf___divsc3(float %30, float %31, float %32, float %33)\n\
             \x20 %35 = call double @cabs(ptr %8)\n\
             declare i64 @__wf_cexpf(ptr byval({ float, float }) align 4)\n\
             declare i64 @__wf___divsc3(float, float, float, float)\n\
             declare void @csqrtf(ptr sret({ float, float }), ptr)\n"
        );
    }

    #[test]
    fn i386_cpu_attributes_are_removed() {
        let ir = "attributes #0 = { nounwind \"target-cpu\"=\"i686\" \"target-features\"=\"+x87,+cx8\" }\n\
                  attributes #1 = { nocallback nofree }\n";
        assert_eq!(
            strip_cpu_attributes(ir),
            "attributes #0 = { nounwind }\nattributes #1 = { nocallback nofree }\n"
        );
    }

    #[test]
    fn a_fortran_main_gets_a_two_argument_bridge() {
        let ir = "define i32 @main(i32 %0, ptr %1, ptr %2) {\n\
                  \x20 call void @_FortranAProgramStart(i32 %0, ptr %1, ptr %2, ptr null)\n\
                  \x20 ret i32 0\n}\n";
        let fixed = bridge_main(ir);
        assert_eq!(
            fixed,
            "define i32 @__wf_fortran_main(i32 %0, ptr %1, ptr %2) {\n\
             \x20 call void @_FortranAProgramStart(i32 %0, ptr %1, ptr %2, ptr null)\n\
             \x20 ret i32 0\n}\n\
             \n@environ = external global ptr\n\n\
             define i32 @__main_argc_argv(i32 %argc, ptr %argv) {\n\
             \x20 %envp = load ptr, ptr @environ\n\
             \x20 %status = call i32 @__wf_fortran_main(i32 %argc, ptr %argv, ptr %envp)\n\
             \x20 ret i32 %status\n\
             }\n"
        );
    }

    #[test]
    fn units_without_a_main_program_are_unchanged() {
        let ir = "define void @saxpy_(ptr %0) {\n  ret void\n}\ndeclare i32 @main_helper(i32)\n";
        assert_eq!(bridge_main(ir), ir);
    }

    #[test]
    fn symbol_replacement_respects_identifier_boundaries() {
        assert_eq!(
            replace_symbol("@main( @main_x @main.1 @main", "main", "m"),
            "@m( @main_x @main.1 @m"
        );
    }
}
