//! Callees of the CPython C API whose type differs from the type CPython calls them with.
//!
//! C extensions routinely define a `METH_NOARGS` method with one parameter, or a getter without
//! its closure parameter, and cast it to `PyCFunction` or `getter`. CPython calls every such
//! pointer with the full parameter list. Native ABIs ignore the extra arguments; on wasm32 an
//! indirect call whose type differs from the callee's traps ("indirect call type mismatch"),
//! and the consumer's CPython has no trampoline for it (CPython has one only for Emscripten).
//! regex, bitarray and multidict all do it.
//!
//! The fix is made on a translation unit's LLVM IR, where the tables keep their C types
//! (`%struct.PyMethodDef`, `%struct.PyGetSetDef`, and the `tp_init`, `tp_new` and `tp_call`
//! entries of `%struct.PyType_Slot`): every entry whose function has fewer
//! parameters than its flags (or its slot) call it with gets a thunk with the full parameter
//! list that calls the function with the parameters it has, and the entry points at the thunk.
//! A function with more parameters (a `METH_VARARGS` method that also takes `kwds`, called with
//! two) gets null (or 0) for the ones the call does not pass.
//! Nothing else changes; a function that is also called directly keeps its own type. This
//! module only rewrites text; the C compiler wrapper (`wheelforge wrap cc`) runs the compiles.

use std::collections::BTreeMap;

/// The parameter types CPython passes to a `PyMethodDef` function with these `ml_flags`
/// (wasm32: pointers and `Py_ssize_t` are 32 bits), or `None` for flags it does not know.
fn method_parameters(flags: u32) -> Option<&'static [&'static str]> {
    // METH_CLASS, METH_STATIC and METH_COEXIST do not change the call.
    const CALLING: u32 = !(0x0010 | 0x0020 | 0x0040);
    Some(match flags & CALLING {
        // METH_VARARGS, METH_NOARGS, METH_O
        0x0001 | 0x0004 | 0x0008 => &["ptr", "ptr"],
        // METH_VARARGS | METH_KEYWORDS
        0x0003 => &["ptr", "ptr", "ptr"],
        // METH_FASTCALL
        0x0080 => &["ptr", "ptr", "i32"],
        // METH_FASTCALL | METH_KEYWORDS
        0x0082 => &["ptr", "ptr", "i32", "ptr"],
        // METH_METHOD | METH_FASTCALL | METH_KEYWORDS
        0x0282 => &["ptr", "ptr", "ptr", "i32", "ptr"],
        _ => return None,
    })
}

/// A function's return type and parameter types, as defined or declared in the module.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signature {
    returns: String,
    parameters: Vec<String>,
}

/// The signatures of the functions the module defines or declares, by name (`@name`).
fn signatures(ir: &str) -> BTreeMap<String, Signature> {
    let mut found = BTreeMap::new();
    for line in ir.lines() {
        let Some(rest) = line
            .strip_prefix("define ")
            .or_else(|| line.strip_prefix("declare "))
        else {
            continue;
        };
        let Some(at) = rest.find(" @") else { continue };
        let Some(open) = rest[at..].find('(').map(|i| at + i) else {
            continue;
        };
        let name = rest[at + 1..open].to_string();
        if name.starts_with("@\"") {
            continue;
        }
        let Some(close) = matching_paren(rest, open) else {
            continue;
        };
        let returns = rest[..at]
            .split_whitespace()
            .last()
            .unwrap_or_default()
            .to_string();
        let parameters = split_top(&rest[open + 1..close])
            .into_iter()
            .filter(|p| !p.is_empty() && *p != "...")
            .map(|p| p.split_whitespace().next().unwrap_or_default().to_string())
            .collect();
        found.insert(
            name,
            Signature {
                returns,
                parameters,
            },
        );
    }
    found
}

fn matching_paren(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in text[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits at the commas outside brackets and quotes.
fn split_top(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' | '{' | '[' | '<' if !quoted => depth += 1,
            ')' | '}' | ']' | '>' if !quoted => depth -= 1,
            ',' if depth == 0 && !quoted => {
                parts.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts
}

/// The C types of the tables whose entries are fixed.
const KINDS: [&str; 3] = ["PyMethodDef", "PyGetSetDef", "PyType_Slot"];

/// Where a table entry's function is called with `parameters` and must return `returns`.
struct Call {
    returns: &'static str,
    parameters: &'static [&'static str],
}

/// The rewritten IR, or `None` when no table entry needs a thunk.
pub fn fix(ir: &str) -> Option<String> {
    if !KINDS
        .iter()
        .any(|kind| ir.contains(&format!("%struct.{kind} {{")))
    {
        return None;
    }
    let signatures = signatures(ir);
    // (function, call) -> thunk name
    let mut thunks: BTreeMap<(String, &'static [&'static str]), (String, Signature, &'static str)> =
        BTreeMap::new();
    let mut out = String::with_capacity(ir.len());
    let mut rest = ir;
    while let Some((before, entry, after)) = next_entry(rest) {
        out.push_str(before);
        let (kind, body) = entry;
        let fields = split_top(body);
        let mut fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        let slots: Vec<(usize, Call)> = match kind {
            "PyMethodDef" if fields.len() == 4 => fields[2]
                .strip_prefix("i32 ")
                .and_then(|flags| flags.trim().parse::<u32>().ok())
                .and_then(method_parameters)
                .map(|parameters| {
                    vec![(
                        1,
                        Call {
                            returns: "ptr",
                            parameters,
                        },
                    )]
                })
                .unwrap_or_default(),
            // `PyType_Spec` slots whose functions take `(self, args, kwds)`, which C
            // extensions define without `kwds` (zstandard's tp_init).
            "PyType_Slot" if fields.len() == 2 => {
                match fields[0].strip_prefix("i32 ").map(str::trim) {
                    // Py_tp_init
                    Some("60") => vec![(
                        1,
                        Call {
                            returns: "i32",
                            parameters: &["ptr", "ptr", "ptr"],
                        },
                    )],
                    // Py_tp_call, Py_tp_new
                    Some("50" | "65") => vec![(
                        1,
                        Call {
                            returns: "ptr",
                            parameters: &["ptr", "ptr", "ptr"],
                        },
                    )],
                    _ => Vec::new(),
                }
            }
            "PyGetSetDef" if fields.len() == 5 => vec![
                (
                    1,
                    Call {
                        returns: "ptr",
                        parameters: &["ptr", "ptr"],
                    },
                ),
                (
                    2,
                    Call {
                        returns: "i32",
                        parameters: &["ptr", "ptr", "ptr"],
                    },
                ),
            ],
            _ => Vec::new(),
        };
        for (index, call) in slots {
            let Some(function) = fields[index].strip_prefix("ptr ").map(str::trim) else {
                continue;
            };
            let Some(signature) = signatures.get(function) else {
                continue;
            };
            // Fewer parameters than the call passes, or more (a METH_VARARGS method that also
            // takes `kwds`): the thunk passes what both have and null/0 for the rest.
            let prefix = signature.parameters.len() != call.parameters.len()
                && signature
                    .parameters
                    .iter()
                    .zip(call.parameters)
                    .all(|(have, want)| have == want)
                && signature.parameters[call.parameters.len().min(signature.parameters.len())..]
                    .iter()
                    .all(|extra| extra == "ptr" || extra == "i32");
            if !prefix || signature.returns != call.returns {
                continue;
            }
            let thunk = thunks
                .entry((function.to_string(), call.parameters))
                .or_insert_with(|| {
                    (
                        format!("{function}.wheelforge.{}", call.parameters.len()),
                        signature.clone(),
                        call.returns,
                    )
                });
            fields[index] = format!("ptr {}", thunk.0);
        }
        out.push_str(&format!("%struct.{kind} {{ {} }}", fields.join(", ")));
        rest = after;
    }
    out.push_str(rest);
    if thunks.is_empty() {
        return None;
    }
    out.push('\n');
    for ((function, parameters), (thunk, signature, returns)) in &thunks {
        let declared: Vec<String> = parameters
            .iter()
            .enumerate()
            .map(|(i, t)| format!("{t} %p{i}"))
            .collect();
        let passed: Vec<String> = signature
            .parameters
            .iter()
            .enumerate()
            .map(|(i, t)| match (i < parameters.len(), t.as_str()) {
                (true, _) => format!("{t} %p{i}"),
                (false, "ptr") => "ptr null".to_string(),
                (false, _) => format!("{t} 0"),
            })
            .collect();
        let call = parameters.len();
        out.push_str(&format!(
            "\n; wheelforge: {function} takes {} parameters and is called with {call}\n\
             define internal {returns} {thunk}({}) {{\n  %result = tail call {returns} {function}({})\n  ret {returns} %result\n}}\n",
            signature.parameters.len(),
            declared.join(", "),
            passed.join(", "),
        ));
    }
    Some(out)
}

/// The next `%struct.KIND { ... }` initializer of a table entry: the text before it, its kind
/// and the text between its braces, and the text after it.
fn next_entry(text: &str) -> Option<(&str, (&'static str, &str), &str)> {
    let mut best: Option<(usize, &'static str)> = None;
    for kind in KINDS {
        if let Some(at) = text.find(&format!("%struct.{kind} {{"))
            && best.is_none_or(|(b, _)| at < b)
        {
            best = Some((at, kind));
        }
    }
    let (at, kind) = best?;
    let open = at + format!("%struct.{kind} ").len();
    let close = text[open..].find('}').map(|i| open + i)?;
    Some((
        &text[..at],
        (kind, &text[open + 1..close]),
        &text[close + 1..],
    ))
}

#[cfg(test)]
mod tests {
    use super::fix;

    const IR: &str = r#"@.str = private constant [4 x i8] c"all\00"
@methods = internal global [5 x %struct.PyMethodDef] [%struct.PyMethodDef { ptr @.str, ptr @all, i32 4, ptr null }, %struct.PyMethodDef { ptr @.str, ptr @two, i32 4, ptr null }, %struct.PyMethodDef { ptr @.str, ptr @kw, i32 3, ptr null }, %struct.PyMethodDef { ptr @.str, ptr @three, i32 1, ptr null }, %struct.PyMethodDef zeroinitializer]
@slots = internal global [3 x %struct.PyType_Slot] [%struct.PyType_Slot { i32 60, ptr @init }, %struct.PyType_Slot { i32 52, ptr @all }, %struct.PyType_Slot zeroinitializer]
@getset = internal global [2 x %struct.PyGetSetDef] [%struct.PyGetSetDef { ptr @.str, ptr @get, ptr null, ptr null, ptr null }, %struct.PyGetSetDef zeroinitializer]

define internal ptr @all(ptr noundef %0) #0 {
  ret ptr %0
}

define internal ptr @two(ptr noundef %0, ptr noundef %1) #0 {
  ret ptr %0
}

define internal ptr @kw(ptr noundef %0, ptr noundef %1) #0 {
  ret ptr %0
}

declare ptr @get(ptr noundef) #1

define internal ptr @three(ptr noundef %0, ptr noundef %1, ptr noundef %2) #0 {
  ret ptr %0
}

define internal i32 @init(ptr noundef %0, ptr noundef %1) #0 {
  ret i32 0
}
"#;

    #[test]
    fn entries_whose_function_takes_fewer_parameters_get_a_thunk() {
        let fixed = fix(IR).expect("three entries need thunks");
        assert!(
            fixed.contains(
                "%struct.PyMethodDef { ptr @.str, ptr @all.wheelforge.2, i32 4, ptr null }"
            ),
            "{fixed}"
        );
        // Right already: unchanged.
        assert!(fixed.contains("%struct.PyMethodDef { ptr @.str, ptr @two, i32 4, ptr null }"));
        // METH_VARARGS | METH_KEYWORDS passes three.
        assert!(fixed.contains("ptr @kw.wheelforge.3, i32 3"), "{fixed}");
        assert!(fixed.contains("ptr @get.wheelforge.2, ptr null"), "{fixed}");
        assert!(fixed.contains(
            "define internal ptr @all.wheelforge.2(ptr %p0, ptr %p1) {\n  %result = tail call ptr @all(ptr %p0)\n  ret ptr %result\n}"
        ));
        assert!(fixed.contains(
            "define internal ptr @kw.wheelforge.3(ptr %p0, ptr %p1, ptr %p2) {\n  %result = tail call ptr @kw(ptr %p0, ptr %p1)"
        ));
        // More parameters than METH_VARARGS passes: the extra one gets null.
        assert!(fixed.contains("ptr @three.wheelforge.2, i32 1"), "{fixed}");
        assert!(
            fixed.contains("%result = tail call ptr @three(ptr %p0, ptr %p1, ptr null)"),
            "{fixed}"
        );
        // tp_init without kwds; tp_dealloc (one parameter, as called) is left alone.
        assert!(
            fixed.contains("%struct.PyType_Slot { i32 60, ptr @init.wheelforge.3 }"),
            "{fixed}"
        );
        assert!(
            fixed.contains("%struct.PyType_Slot { i32 52, ptr @all }"),
            "{fixed}"
        );
        // The functions themselves keep their types.
        assert!(fixed.contains("define internal ptr @all(ptr noundef %0) #0 {"));
    }

    #[test]
    fn a_module_without_tables_or_mismatches_is_left_alone() {
        assert_eq!(fix("define i32 @f(i32 %0) {\n  ret i32 %0\n}\n"), None);
        let right = IR
            .replace("ptr @all, i32 4", "ptr @two, i32 4")
            .replace("ptr @kw, i32 3", "ptr @two, i32 1")
            .replace("ptr @get, ptr null", "ptr null, ptr null")
            .replace("ptr @three, i32 1", "ptr @two, i32 4")
            .replace("i32 60, ptr @init", "i32 60, ptr null");
        assert_eq!(fix(&right), None);
    }
}
