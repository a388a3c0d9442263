//! Merging index directories (a CI run's shard outputs) into one index.
//!
//! Every input is an index root as `wheelforge build --out DIR` leaves it; only its wheels are
//! taken (its pages and `.metadata` files are regenerated), with its variant indexes
//! (`variants/NAME`) and library archives (`libraries/`). Two files of one name must have the
//! same bytes, in the inputs and in the output's existing wheels; otherwise nothing is written.
//! Wheels are copied into the output through temporary files and renames, then every page is
//! regenerated, all under the output's lock, so the result depends only on the set of wheels:
//! the same inputs in any order give byte-identical output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::atomic::{copy_atomically, hash_file};
use super::metadata::read_metadata;
use super::{Index, IndexError, IndexSummary};
use crate::library::LIBRARIES_DIR;

/// Why a merge was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error(
        "{dir} is not an index directory: it has no packages/\n  help: pass directories written by `wheelforge build --out DIR` (each has packages/ and simple/)", dir = dir.display()
    )]
    NotAnIndex { dir: PathBuf },
    #[error("{0}")]
    Conflict(Box<Conflict>),
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// Two files of one name with different bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub name: String,
    pub first: PathBuf,
    pub first_sha256: String,
    pub second: PathBuf,
    pub second_sha256: String,
    /// The output, which was not changed.
    pub out: PathBuf,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "two different files are named {}:\n  {} (sha256 {})\n  {} (sha256 {})\n  help: they were built differently (another recipe version, toolchain or a build that is not reproducible); rebuild both from one commit and toolchain, or remove one; {} was not changed",
            self.name,
            self.first.display(),
            self.first_sha256,
            self.second.display(),
            self.second_sha256,
            self.out.display()
        )
    }
}

/// What `merge` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeSummary {
    /// Distinct wheel files found in the inputs' main indexes.
    pub wheels: usize,
    /// Of these, wheels copied into the output (the others were there already, with the same
    /// bytes).
    pub copied: usize,
    /// The regeneration of the output's pages.
    pub index: IndexSummary,
    /// The variant indexes (`variants/NAME`, [`crate::paths::variant_out_dir`]), by name,
    /// merged the same way.
    pub variants: BTreeMap<String, MergeSummary>,
    /// Library archives (`libraries/`, [`crate::library::LIBRARIES_DIR`]) found and copied.
    pub libraries: (usize, usize),
}

/// One wheel file: where it is and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    path: PathBuf,
    sha256: String,
}

/// Merges the index directories `inputs` into the index at `out` (created if absent; its own
/// files are kept) and regenerates its pages: the wheels of the main indexes, those of each
/// variant index `variants/NAME` into the output's `variants/NAME`, and the library archives
/// in `libraries/`. Every conflict, in any of these, is found before anything is written.
pub fn merge(out: &Path, inputs: &[PathBuf]) -> Result<MergeSummary, MergeError> {
    for input in inputs {
        if !input.join("packages").is_dir() {
            return Err(MergeError::NotAnIndex { dir: input.clone() });
        }
    }
    // Refuse conflicts among the inputs, and wheels that cannot be indexed, before the output
    // is created or touched.
    let main = choose_wheels(inputs.iter().cloned(), out)?;
    let variants = choose_variants(out, inputs)?;
    let libraries = agree(library_candidates(inputs)?, out)?;

    let index = Index::open(out)?;
    let _lock = index.lock()?;
    // Against the output's own files, in every area, before the first copy.
    check_existing(&index, &main, out)?;
    for (name, chosen) in &variants {
        let root = out.join(VARIANTS_DIR).join(name);
        if root.join("packages").is_dir() {
            check_existing(&Index { root }, chosen, out)?;
        }
    }
    check_existing_libraries(&libraries, out)?;

    let mut summary = copy_and_rebuild(&index, &main)?;
    for (name, chosen) in &variants {
        let variant = Index::open(&out.join(VARIANTS_DIR).join(name))?;
        let _lock = variant.lock()?;
        summary
            .variants
            .insert(name.clone(), copy_and_rebuild(&variant, chosen)?);
    }
    let library_dir = out.join(LIBRARIES_DIR);
    let mut copied_libraries = 0;
    for (name, candidate) in &libraries {
        let to = library_dir.join(name);
        if !to.is_file() {
            fs_err::create_dir_all(&library_dir).map_err(IndexError::from)?;
            copy_atomically(&candidate.path, &to)?;
            copied_libraries += 1;
        }
    }
    summary.libraries = (libraries.len(), copied_libraries);
    Ok(summary)
}

/// The wheels of each variant index (`variants/NAME`) any input has, chosen as for the main
/// index.
fn choose_variants(
    out: &Path,
    inputs: &[PathBuf],
) -> Result<BTreeMap<String, BTreeMap<String, Candidate>>, MergeError> {
    let mut variant_names = BTreeSet::new();
    for input in inputs {
        for entry in super::sorted_entries(&input.join(VARIANTS_DIR)).map_err(IndexError::from)? {
            if entry.join("packages").is_dir() {
                variant_names.insert(entry.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut variants = BTreeMap::new();
    for name in &variant_names {
        let roots = inputs
            .iter()
            .map(|input| input.join(VARIANTS_DIR).join(name))
            .filter(|root| root.join("packages").is_dir());
        variants.insert(
            name.clone(),
            choose_wheels(roots, &out.join(VARIANTS_DIR).join(name))?,
        );
    }
    Ok(variants)
}

/// Every input's library archives, by file name.
fn library_candidates(inputs: &[PathBuf]) -> Result<BTreeMap<String, Vec<Candidate>>, MergeError> {
    let mut libraries: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    for input in inputs {
        for path in super::sorted_entries(&input.join(LIBRARIES_DIR)).map_err(IndexError::from)? {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // Temporary files of an interrupted write are not archives.
            if path.is_file() && !name.starts_with('.') {
                let (sha256, _) = hash_file(&path)?;
                libraries
                    .entry(name)
                    .or_default()
                    .push(Candidate { path, sha256 });
            }
        }
    }
    Ok(libraries)
}

/// A library archive the output already has must be the same file.
fn check_existing_libraries(
    libraries: &BTreeMap<String, Candidate>,
    out: &Path,
) -> Result<(), MergeError> {
    let library_dir = out.join(LIBRARIES_DIR);
    for (name, candidate) in libraries {
        let there = library_dir.join(name);
        if there.is_file() {
            let (sha256, _) = hash_file(&there)?;
            if sha256 != candidate.sha256 {
                let there = Candidate {
                    path: there,
                    sha256,
                };
                return Err(conflict(name, &there, candidate, out));
            }
        }
    }
    Ok(())
}

/// The directory of variant indexes under an index root.
const VARIANTS_DIR: &str = "variants";

/// The wheels of the index roots `roots`, one per file name, refusing two of one name with
/// other bytes and any wheel that cannot be indexed.
fn choose_wheels(
    roots: impl Iterator<Item = PathBuf>,
    out: &Path,
) -> Result<BTreeMap<String, Candidate>, MergeError> {
    let mut wanted: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    for root in roots {
        for (name, candidate) in wheels(&Index { root })? {
            wanted.entry(name).or_default().push(candidate);
        }
    }
    let chosen = agree(wanted, out)?;
    for (name, candidate) in &chosen {
        let filename = super::metadata::parse_wheel_filename(name).map_err(|reason| {
            IndexError::NotAWheel {
                path: candidate.path.clone(),
                reason,
            }
        })?;
        read_metadata(&candidate.path, &filename)?;
    }
    Ok(chosen)
}

/// One file per name, when all files of that name have the same bytes.
fn agree(
    mut wanted: BTreeMap<String, Vec<Candidate>>,
    out: &Path,
) -> Result<BTreeMap<String, Candidate>, MergeError> {
    let mut chosen = BTreeMap::new();
    for (name, candidates) in &mut wanted {
        candidates.sort();
        candidates.dedup();
        if let Some(other) = candidates.iter().find(|c| c.sha256 != candidates[0].sha256) {
            return Err(conflict(name, &candidates[0], other, out));
        }
        chosen.insert(name.clone(), candidates[0].clone());
    }
    Ok(chosen)
}

fn check_existing(
    index: &Index,
    chosen: &BTreeMap<String, Candidate>,
    out: &Path,
) -> Result<(), MergeError> {
    let existing = wheels(index)?;
    for (name, candidate) in chosen {
        if let Some(there) = existing.get(name)
            && there.sha256 != candidate.sha256
        {
            return Err(conflict(name, there, candidate, out));
        }
    }
    Ok(())
}

/// Copies the chosen wheels the (locked) index lacks, then regenerates its pages.
fn copy_and_rebuild(
    index: &Index,
    chosen: &BTreeMap<String, Candidate>,
) -> Result<MergeSummary, MergeError> {
    let existing = wheels(index)?;
    let mut copied = 0;
    for (name, candidate) in chosen {
        if !existing.contains_key(name) {
            copy_atomically(&candidate.path, &index.packages_dir().join(name))?;
            copied += 1;
        }
    }
    Ok(MergeSummary {
        wheels: chosen.len(),
        copied,
        index: index.rebuild_locked()?,
        variants: BTreeMap::new(),
        libraries: (0, 0),
    })
}

/// The wheels in an index's `packages/`, by file name.
fn wheels(index: &Index) -> Result<BTreeMap<String, Candidate>, IndexError> {
    let listing = index.scan()?;
    let mut found = BTreeMap::new();
    for name in listing.projects.values().flat_map(|wheels| wheels.keys()) {
        let path = index.packages_dir().join(name);
        let (sha256, _) = hash_file(&path)?;
        found.insert(name.clone(), Candidate { path, sha256 });
    }
    Ok(found)
}

fn conflict(name: &str, first: &Candidate, second: &Candidate, out: &Path) -> MergeError {
    MergeError::Conflict(Box::new(Conflict {
        name: name.to_string(),
        first: first.path.clone(),
        first_sha256: first.sha256.clone(),
        second: second.path.clone(),
        second_sha256: second.sha256.clone(),
        out: out.to_path_buf(),
    }))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::index::testing::make_wheel;

    /// An index directory holding the given wheels (already written elsewhere).
    fn shard(root: &Path, wheels: &[&Path]) -> PathBuf {
        let index = Index::open(root).unwrap();
        for wheel in wheels {
            index.add_wheel(wheel).unwrap();
        }
        root.to_path_buf()
    }

    /// Every file under `root` with its bytes, by relative path.
    fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in fs_err::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let relative = path.strip_prefix(root).unwrap().display().to_string();
                    files.insert(relative, fs_err::read(&path).unwrap());
                }
            }
        }
        files
    }

    #[test]
    fn inputs_in_any_order_give_byte_identical_indexes() {
        let work = tempfile::tempdir().unwrap();
        let wheels = work.path().join("wheels");
        fs_err::create_dir_all(&wheels).unwrap();
        let alpha = make_wheel(&wheels, "alpha", "1.0", None);
        let beta = make_wheel(&wheels, "beta", "2.0", Some(">=3.8"));
        let gamma = make_wheel(&wheels, "gamma", "0.1", None);
        // `beta` is in both shards, with the same bytes.
        let one = shard(&work.path().join("one"), &[&alpha, &beta]);
        let two = shard(&work.path().join("two"), &[&beta, &gamma]);

        let forward = work.path().join("forward");
        let summary = merge(&forward, &[one.clone(), two.clone()]).unwrap();
        assert_eq!((summary.wheels, summary.copied), (3, 3));
        assert_eq!(summary.index.projects, 3);
        let backward = work.path().join("backward");
        merge(&backward, &[two.clone(), one.clone(), two.clone()]).unwrap();
        let forward_tree = tree(&forward);
        assert_eq!(forward_tree, tree(&backward));
        assert!(forward_tree.contains_key("simple/beta/index.html"));
        assert!(forward_tree.contains_key("packages/gamma-0.1-py3-none-any.whl.metadata"));

        // Merging again changes nothing; the output is also what adding the wheels one by one
        // gives.
        let again = merge(&forward, &[one, two]).unwrap();
        assert_eq!((again.copied, again.index.written), (0, 0));
        let added = shard(&work.path().join("added"), &[&gamma, &alpha, &beta]);
        assert_eq!(forward_tree, tree(&added));
    }

    #[test]
    fn two_files_of_one_name_with_other_bytes_are_refused_and_the_output_is_untouched() {
        let work = tempfile::tempdir().unwrap();
        let first = work.path().join("first");
        let second = work.path().join("second");
        fs_err::create_dir_all(&first).unwrap();
        fs_err::create_dir_all(&second).unwrap();
        let original = make_wheel(&first, "alpha", "1.0", None);
        let other = make_wheel(&second, "alpha", "1.0", Some(">=3.9"));
        let one = shard(&work.path().join("one"), &[&original]);
        let two = shard(&work.path().join("two"), &[&other]);

        let out = work.path().join("out");
        let error = merge(&out, &[two.clone(), one.clone()]).unwrap_err();
        let MergeError::Conflict(conflict) = &error else {
            panic!("{error}");
        };
        let name = "alpha-1.0-py3-none-any.whl";
        assert_eq!(conflict.name, name);
        assert_eq!(conflict.first, one.join("packages").join(name));
        assert_eq!(conflict.second, two.join("packages").join(name));
        assert!(!out.exists(), "a refused merge created {}", out.display());

        // Against the output's own wheels: refused, and the output keeps its bytes.
        merge(&out, std::slice::from_ref(&one)).unwrap();
        let before = tree(&out);
        let error = merge(&out, std::slice::from_ref(&two)).unwrap_err();
        assert!(
            error.to_string().starts_with(&format!(
                "two different files are named alpha-1.0-py3-none-any.whl:\n  {}",
                out.join("packages/alpha-1.0-py3-none-any.whl").display()
            )),
            "{error}"
        );
        assert_eq!(tree(&out), before);
    }

    #[test]
    fn variant_indexes_and_library_archives_are_merged_too() {
        let work = tempfile::tempdir().unwrap();
        let wheels = work.path().join("wheels");
        fs_err::create_dir_all(&wheels).unwrap();
        let alpha = make_wheel(&wheels, "alpha", "1.0", None);
        let beta = make_wheel(&wheels, "beta", "2.0", None);
        // Shard one built the default alpha and a library; shard two alpha's `fast` variant
        // (its own index) and the same library.
        let one = shard(&work.path().join("one"), &[&alpha]);
        let two = shard(&work.path().join("two"), &[]);
        shard(&two.join("variants/fast"), &[&beta]);
        for root in [&one, &two] {
            fs_err::create_dir_all(root.join("libraries")).unwrap();
            fs_err::write(
                root.join("libraries/lib-1.0-wasi_0_2_wasm32.tar.gz"),
                "archive",
            )
            .unwrap();
        }
        fs_err::write(two.join("libraries/.lib.tmp"), "partial").unwrap();

        let out = work.path().join("out");
        let summary = merge(&out, &[one.clone(), two.clone()]).unwrap();
        assert_eq!((summary.wheels, summary.copied), (1, 1));
        assert_eq!(summary.variants["fast"].copied, 1);
        assert_eq!(summary.libraries, (1, 1));
        let merged = tree(&out);
        assert!(merged.contains_key("simple/alpha/index.html"));
        assert!(
            !merged.contains_key("simple/beta/index.html"),
            "a variant in the main index"
        );
        assert!(merged.contains_key("variants/fast/simple/beta/index.html"));
        assert!(merged.contains_key("variants/fast/packages/beta-2.0-py3-none-any.whl"));
        assert_eq!(
            merged["libraries/lib-1.0-wasi_0_2_wasm32.tar.gz"],
            b"archive"
        );
        assert!(!merged.keys().any(|name| name.contains(".lib.tmp")));
        // In any order, the same bytes.
        let backward = work.path().join("backward");
        merge(&backward, &[two.clone(), one.clone()]).unwrap();
        assert_eq!(tree(&backward), merged);

        // A library of one name with other bytes: refused before anything is written, even
        // the main index's new wheels.
        let three = shard(&work.path().join("three"), &[&beta]);
        fs_err::create_dir_all(three.join("libraries")).unwrap();
        fs_err::write(
            three.join("libraries/lib-1.0-wasi_0_2_wasm32.tar.gz"),
            "other",
        )
        .unwrap();
        let error = merge(&out, std::slice::from_ref(&three)).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("two different files are named lib-1.0-wasi_0_2_wasm32.tar.gz"),
            "{error}"
        );
        assert_eq!(tree(&out), merged);
        // So is a variant wheel that differs from the output's.
        fs_err::create_dir_all(work.path().join("other")).unwrap();
        let other_beta = make_wheel(&work.path().join("other"), "beta", "2.0", Some(">=3.9"));
        let four = shard(&work.path().join("four"), &[&alpha]);
        shard(&four.join("variants/fast"), &[&other_beta]);
        let error = merge(&out, &[four]).unwrap_err();
        assert!(matches!(error, MergeError::Conflict(_)), "{error}");
        assert_eq!(tree(&out), merged);
    }

    #[test]
    fn an_input_without_packages_is_not_an_index() {
        let work = tempfile::tempdir().unwrap();
        let error = merge(&work.path().join("out"), &[work.path().join("missing")]).unwrap_err();
        assert!(matches!(error, MergeError::NotAnIndex { .. }), "{error}");
        assert!(!work.path().join("out").exists());
    }
}
