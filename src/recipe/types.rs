//! The recipe's data types, exactly as `meta.yaml` spells them.
//!
//! Every struct denies unknown keys, and every scalar with a format is a validated newtype, so
//! that the YAML parser reports a bad value at its own line and column.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Declares a string newtype that is validated while it is deserialized.
macro_rules! validated_string {
    ($(#[$meta:meta])* $name:ident, $pattern:literal, $check:expr, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "pattern": $pattern,
                    "description": concat!("Must be ", $what, ".")
                })
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                let check: fn(&str) -> bool = $check;
                if check(&value) {
                    Ok($name(value))
                } else {
                    Err(format!(concat!("`{}` is not ", $what), value))
                }
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn is_project_name(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

validated_string!(
    /// A Python project name (PEP 508 `name`), e.g. `python-dateutil`.
    PackageName,
    r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$",
    is_project_name,
    "a valid project name (letters, digits, `-`, `_`, `.`; starting and ending with a letter or digit)"
);

validated_string!(
    /// A version as published on the package index, e.g. `2.9.0.post0`.
    Version,
    r"^[A-Za-z0-9][A-Za-z0-9.!+_-]*$",
    // The characters keep versions safe in file names and URLs; pep440_rs decides the rest.
    |text| {
        text.starts_with(|c: char| c.is_ascii_alphanumeric())
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".!+_-".contains(c))
            && text.parse::<pep440_rs::Version>().is_ok()
    },
    "a valid version (PEP 440, e.g. `2.9.0.post0`)"
);

validated_string!(
    /// A lowercase hexadecimal SHA-256 digest.
    Sha256,
    r"^[0-9a-f]{64}$",
    |text| text.len() == 64 && text.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')),
    "a SHA-256 digest: expected 64 lowercase hexadecimal digits"
);

/// Lowercase letters, digits and `-`, not starting with `-` (tags, variant names, suites).
fn is_slug(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

validated_string!(
    /// A recipe tag, e.g. `pandas-deps`, used as `wheelforge build tag:NAME`.
    Tag,
    r"^[a-z0-9][a-z0-9-]*$",
    is_slug,
    "a valid tag (lowercase letters, digits and `-`)"
);

validated_string!(
    /// A Debian suite or codename, e.g. `trixie` or `bookworm-backports`.
    DebianSuite,
    r"^[a-z0-9][a-z0-9-]*$",
    is_slug,
    "a Debian suite (lowercase letters, digits and `-`, such as `trixie`)"
);

validated_string!(
    /// A variant's name, e.g. `lapack`, used as `wheelforge build NAME --variant VARIANT`.
    VariantName,
    r"^[a-z0-9][a-z0-9-]*$",
    is_slug,
    "a valid variant name (lowercase letters, digits and `-`)"
);

validated_string!(
    /// The file name of a patch in `patches/<name>/`, e.g. `0001-fix-build.patch`.
    PatchFile,
    r"^[^/\\]+\.patch$",
    |text| text.ends_with(".patch")
        && text.len() > ".patch".len()
        && !text.contains(['/', '\\'])
        && !text.starts_with('.'),
    "a patch file name: expected a plain file name ending in `.patch` (patches live in patches/<name>/)"
);

validated_string!(
    /// A source URL (`https://...`, `http://...` or `file://...`).
    SourceUrl,
    r"^(https?|file)://.+$",
    |text| url::Url::parse(text).is_ok_and(|url| match url.scheme() {
        "https" | "http" => url.host().is_some(),
        "file" => url.to_file_path().is_ok(),
        _ => false,
    }),
    "a supported URL: expected https://HOST/..., http://HOST/... or file:///ABSOLUTE/PATH"
);

validated_string!(
    /// A relative path inside the recipe directory or the source tree.
    RelativePath,
    r"^[^/].*$",
    |text| !text.is_empty()
        && !text.starts_with('/')
        && !text.split(['/', '\\']).any(|part| part == ".."),
    "a relative path that stays inside its directory (no leading `/`, no `..`)"
);

/// A whole `meta.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "wheelforge recipe (meta.yaml)")]
pub struct Recipe {
    pub package: Package,
    pub source: Source,
    pub build: Build,
    #[serde(default)]
    pub requirements: Requirements,
    #[serde(default)]
    pub test: Test,
    pub about: About,
    /// Optional builds of the same package with other inputs (e.g. numpy on the LAPACK recipe
    /// instead of its bundled lapack_lite), built with `wheelforge build NAME --variant V`
    /// into their own index. The default build ignores them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<VariantName, Variant>,
}

/// `variants.<name>:` — what a variant adds to the recipe. Lists are appended to the recipe's,
/// `environment` is merged (the variant's value wins), `fortran: true` turns Fortran on.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Variant {
    /// What the variant is, one line (shown by `wheelforge graph` and in the build report).
    pub summary: String,
    #[serde(default)]
    pub build: VariantBuild,
    #[serde(default)]
    pub requirements: Requirements,
}

/// `variants.<name>.build:` — the build settings a variant adds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VariantBuild {
    #[serde(default)]
    pub cflags: Vec<String>,
    #[serde(default)]
    pub cxxflags: Vec<String>,
    #[serde(default)]
    pub ldflags: Vec<String>,
    #[serde(default)]
    pub backend_flags: Vec<String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fortran: bool,
}

impl Recipe {
    /// The recipe with `variant` applied and no variants left: what a variant build builds.
    /// `None` when the recipe has no such variant.
    pub fn with_variant(&self, variant: &str) -> Option<Recipe> {
        let (_, added) = self
            .variants
            .iter()
            .find(|(name, _)| name.as_str() == variant)?;
        let mut recipe = self.clone();
        recipe.variants.clear();
        let build = &mut recipe.build;
        build.cflags.extend(added.build.cflags.iter().cloned());
        build.cxxflags.extend(added.build.cxxflags.iter().cloned());
        build.ldflags.extend(added.build.ldflags.iter().cloned());
        build
            .backend_flags
            .extend(added.build.backend_flags.iter().cloned());
        build.environment.extend(
            added
                .build
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        build.fortran |= added.build.fortran;
        let requirements = &mut recipe.requirements;
        for (list, more) in [
            (&mut requirements.host, &added.requirements.host),
            (&mut requirements.run, &added.requirements.run),
        ] {
            for name in more {
                if !list.contains(name) {
                    list.push(name.clone());
                }
            }
        }
        for requirement in &added.requirements.build {
            if !requirements.build.contains(requirement) {
                requirements.build.push(requirement.clone());
            }
        }
        Some(recipe)
    }
}

/// `package:` — what is built.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Package {
    /// The project name as published; also the recipe directory's name.
    pub name: PackageName,
    /// The exact version built.
    pub version: Version,
    /// Groups for `wheelforge build tag:NAME`.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// `source:` — where the sdist comes from, and what is done to it before the build.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Source {
    /// The project on the package index whose sdist (at `package.version`) is fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pypi: Option<PackageName>,
    /// A URL of a source archive (`.tar.gz`, `.tgz`, `.tar.xz`, `.tar.bz2`, `.tar`, `.zip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<SourceUrl>,
    /// A Debian source package whose upstream tarball (`*.orig.tar.*`) is fetched with
    /// `apt-get source` inside the toolchain root, verified against the signed Sources index
    /// and against `sha256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debian: Option<PackageName>,
    /// With `debian`: the Debian suite to take the source package from (`trixie`), when the
    /// root's own suite (sid) has a revision the mirror does not carry or that is not wanted.
    /// wheelforge adds `deb-src` entries for it, derived from the root's own sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debian_suite: Option<DebianSuite>,
    /// A directory beside the recipe (relative to the recipe's directory) used as the source
    /// tree as it is: for fixtures and local packages. Its content is hashed into the rebuild key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<RelativePath>,
    /// The SHA-256 of the archive. Required with `pypi`, `url` and `debian`: a download that does not
    /// match is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256>,
    /// Patch files in `patches/<name>/`, applied in this order with `-p1`.
    #[serde(default)]
    pub patches: Vec<PatchFile>,
    /// Extra files copied from the recipe directory into the source tree.
    #[serde(default)]
    pub extras: Vec<Extra>,
}

impl Source {
    /// The archive digest of a `pypi` or `url` source (checked to be present at load).
    pub fn archive_sha256(&self) -> &Sha256 {
        self.sha256
            .as_ref()
            .expect("archive sources are checked to have sha256")
    }
}

/// One extra file: `from` (in the recipe directory) is copied to `to` (in the source tree).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Extra {
    pub from: RelativePath,
    pub to: RelativePath,
}

/// How the package is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// A pure-Python package, built by its own PEP 517 backend into a `py3-none-any` wheel.
    Pure,
    /// meson-python, cross-compiled for WASI.
    Meson,
    /// setuptools with C/C++ extensions, cross-compiled for WASI.
    Setuptools,
    /// A CMake-driven build (scikit-build-core), cross-compiled for WASI.
    Cmake,
    /// Any other PEP 517 backend with compiled sources (an in-tree wrapper of setuptools, a
    /// hatch or pdm build hook, ...): the project's own backend, run with the target
    /// environment and the compiler wrappers, with no build-system settings added.
    Pep517,
    /// A Rust extension built by maturin (PyO3, cffi or uniffi bindings), cross-compiled for
    /// WASI with the toolchain's Rust part: implies `build.rust`.
    Maturin,
    /// A static library for other recipes to link (no wheel).
    StaticLibrary,
    /// A maintainer-written build script.
    Script,
}

impl BackendKind {
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Pure => "pure",
            BackendKind::Meson => "meson",
            BackendKind::Setuptools => "setuptools",
            BackendKind::Cmake => "cmake",
            BackendKind::Pep517 => "pep517",
            BackendKind::Maturin => "maturin",
            BackendKind::StaticLibrary => "static_library",
            BackendKind::Script => "script",
        }
    }
}

/// `build:` — the backend and its inputs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Build {
    pub backend: BackendKind,
    /// Extra C compiler flags for the target.
    #[serde(default)]
    pub cflags: Vec<String>,
    /// Extra C++ compiler flags for the target.
    #[serde(default)]
    pub cxxflags: Vec<String>,
    /// Extra linker flags for the target.
    #[serde(default)]
    pub ldflags: Vec<String>,
    /// Flags passed to the build backend (e.g. meson `-Dx=y` options).
    #[serde(default)]
    pub backend_flags: Vec<String>,
    /// PEP 517 config settings for the backend, as `pip wheel -C KEY=VALUE` gives them (pillow's
    /// `platform-guessing: disable`). The keys wheelforge fills from the toolchain and
    /// `backend-flags` (`setup-args`, `cmake.args`, `--build-option`) are refused.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config_settings: BTreeMap<String, String>,
    /// Keep the DWARF of the wheel's extension modules (`.debug_*` sections), which release
    /// wheels drop: for a recipe whose users debug it under a wasm debugger.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_debug: bool,
    /// Environment variables set for the build.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// The shell script of a `static_library` or `script` backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// The build compiles Fortran: the toolchain's Fortran part is installed on demand, its
    /// identity joins the rebuild key, and the build gets `FC`, the meson Fortran cross file
    /// and the CMake Fortran toolchain file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fortran: bool,
    /// The build compiles Rust (setuptools-rust, or cargo from any other backend; implied by
    /// `backend: maturin`): the toolchain's Rust part is installed on demand, its identity
    /// joins the rebuild key, the crates are vendored, and cargo builds for `wasm32-wasip1`
    /// side modules.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rust: bool,
    /// The headers a `static_library` installs under `$PREFIX/include` that its users include
    /// (`yaml.h`, `libxml/tree.h`), or that a native package's wheel ships for others to
    /// compile against (numpy's `numpy/`): `wheelforge skeleton` adds the recipe to
    /// `requirements.host` of a package whose compiled sources include one of them (and a
    /// package, which the build also imports, to `requirements.build` at its version).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    /// Submodules the package imports lazily (`numpy.fft`) that its `__init__.py` imports at
    /// package import under WASI (`sys.platform == "wasi"`), added by the repair stage. A
    /// component linked by componentize-py holds only the modules imported while it links, so
    /// a consumer's `import numpy` then brings them along; elsewhere nothing changes
    /// (docs/consumers.md, "The stock path").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eager_imports: Vec<String>,
}

impl Build {
    /// Whether the build compiles Rust (`build.rust`, or the maturin backend).
    pub fn uses_rust(&self) -> bool {
        self.rust || self.backend == BackendKind::Maturin
    }
}

/// `requirements:` — what the build and the wheel need.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Requirements {
    /// Tools that run on the build machine (Cython, meson-python, ...), as PEP 508 requirement
    /// strings installed into the host build environment from the package index.
    #[serde(default)]
    pub build: Vec<String>,
    /// Recipes built for the target that this build compiles or links against (e.g. numpy).
    #[serde(default)]
    pub host: Vec<PackageName>,
    /// Recipes the wheel needs at run time; they are built into the index too.
    #[serde(default)]
    pub run: Vec<PackageName>,
}

/// `test:` — how a built wheel is proven.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Test {
    /// Modules that must import.
    #[serde(default)]
    pub imports: Vec<String>,
    /// Python code run after the imports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Recipes installed with the wheel for the test only (pytest, hypothesis); they are
    /// built into the index with the recipe.
    #[serde(default)]
    pub requires: Vec<PackageName>,
    /// The package's own test suite, run with pytest under the WASI runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pytest: Option<PytestSuite>,
    /// For a `static_library`: a C (`.c`) or Fortran (`.f`, `.f90`, ...) program beside the
    /// recipe, linked against the library and run under WASI; it must exit with status 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<RelativePath>,
    /// Linker arguments for `program`, after `-L<prefix>/lib` (e.g. `[-llapack, -lblas]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link: Vec<String>,
    /// Compiler arguments for `program`, after `-I<prefix>/include`. The program is compiled in
    /// its test directory, with the prefix at `prefix/`: `[-Iprefix/include/freetype2]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cflags: Vec<String>,
}

/// `test.pytest:` — the upstream test suite and what cannot run on WASI.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PytestSuite {
    /// pytest arguments selecting the suite, e.g. `[--pyargs, numpy]`, or paths among `files`.
    pub args: Vec<String>,
    /// Files or directories of the (patched) source tree that hold the suite, for packages
    /// whose tests are not in the wheel (`[tests]`): copied beside the installed wheel, into
    /// its `sdist-tests/` directory, for both runs; an argument that is one of them, or a
    /// path or node id inside one, names the copy.
    #[serde(default)]
    pub files: Vec<String>,
    /// The share of the natively passing tests that must pass under WASI (0 to 1).
    #[serde(default = "default_pass_ratio")]
    pub pass_ratio: f64,
    /// Tests that cannot work on WASI, each with its reason.
    #[serde(default)]
    pub skip: Vec<SkipEntry>,
    /// Run the suite in the directory the `files` are copied to (`sdist-tests/`), for suites
    /// that open their data by a path relative to the source tree (pillow's
    /// `Tests/images/hopper.ppm`); both runs, under WASI and natively.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub run_in_files: bool,
}

fn default_pass_ratio() -> f64 {
    0.95
}

/// One skip-list entry.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SkipEntry {
    /// A pytest node id relative to the install directory (`numpy/_core/tests/test_x.py::T::t`),
    /// or a prefix of one: a file, a directory ending in `/`, a class, or a test without its
    /// parameters.
    pub test: String,
    /// Why it cannot work on WASI.
    pub reason: String,
}

/// `about:` — for people reading the index.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct About {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<String>,
    pub license: String,
    pub summary: String,
}

#[cfg(test)]
mod tests {
    use super::SourceUrl;

    #[test]
    fn source_urls_need_a_host_or_an_absolute_file_path() {
        for good in [
            "https://example.invalid/a-1.0.tar.gz",
            "http://127.0.0.1:8000/a.zip",
            "file:///tmp/a%20b/a-1.0.tar.gz",
        ] {
            assert!(SourceUrl::try_from(good.to_string()).is_ok(), "{good}");
        }
        for bad in [
            "https://",
            "file://relative/a.tar.gz",
            "ftp://example.invalid/a.tar.gz",
            "a.tar.gz",
        ] {
            let error = SourceUrl::try_from(bad.to_string()).unwrap_err();
            assert!(error.contains("file:///ABSOLUTE/PATH"), "{bad}: {error}");
        }
    }
}
