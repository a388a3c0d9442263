//! The intrinsic modules for wasm32.
//!
//! Debian's flang ships `iso_c_binding.mod` built for x86-64, and flang's source hardcodes
//! `c_long = c_int64_t` and derives `c_size_t` (and so `c_intptr_t`, `c_ptrdiff_t`) from the
//! 64-bit result of `c_sizeof`. On wasm32 C, `long`, `size_t`, `intptr_t` and `ptrdiff_t` are
//! 32-bit, so a `BIND(C)` interface written with these kinds would pass the wrong width. The
//! install compiles all intrinsic modules from the same flang sources for the wasm32 triple,
//! with this patch applied to `iso_c_binding.f90`. This module is the patch.

/// `iso_c_binding.f90` with the kinds of wasm32's C types; `None` if the source does not
/// have the expected definitions (another flang version: revisit the patch).
pub fn wasm32_iso_c_binding(source: &str) -> Option<String> {
    let long = "c_long = c_int64_t,";
    let size = "c_size_t = kind(c_sizeof(1)),";
    if !source.contains(long) || !source.contains(size) {
        return None;
    }
    Some(
        source
            .replace(long, "c_long = c_int32_t,")
            .replace(size, "c_size_t = c_int32_t,"),
    )
}

#[cfg(test)]
mod tests {
    use super::wasm32_iso_c_binding;

    #[test]
    fn c_long_and_c_size_t_are_32_bit() {
        let source = "  integer, parameter, public :: &\n    c_long = c_int64_t, &\n    c_long_long = c_int64_t, &\n    c_size_t = kind(c_sizeof(1)), &\n    c_intptr_t = c_size_t\n";
        assert_eq!(
            wasm32_iso_c_binding(source).unwrap(),
            "  integer, parameter, public :: &\n    c_long = c_int32_t, &\n    c_long_long = c_int64_t, &\n    c_size_t = c_int32_t, &\n    c_intptr_t = c_size_t\n"
        );
        assert_eq!(wasm32_iso_c_binding("c_long = c_int32_t,"), None);
    }
}
