//! Path helpers shared by the stages.

use std::path::{Component, Path, PathBuf};

/// `target` relative to the directory `base`, both made absolute first and compared by their
/// components (`..` in either is resolved lexically, without following symbolic links).
pub fn relative_path(base: &Path, target: &Path) -> PathBuf {
    let parts = |path: &Path| -> Vec<std::ffi::OsString> {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let mut parts = Vec::new();
        for component in absolute.components() {
            match component {
                Component::Normal(part) => parts.push(part.to_os_string()),
                Component::ParentDir => {
                    parts.pop();
                }
                _ => {}
            }
        }
        parts
    };
    let (base, target) = (parts(base), parts(target));
    let common = base.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut relative: PathBuf =
        std::iter::repeat_n(Component::ParentDir.as_os_str(), base.len() - common).collect();
    relative.extend(&target[common..]);
    relative
}

/// Where a variant's wheels go: an index of their own beside the main one, so that the
/// default build stays what `pip install NAME` gets from the main index.
pub fn variant_out_dir(out_dir: &Path, variant: &str) -> PathBuf {
    out_dir.join("variants").join(variant)
}

/// Copies a directory tree (regular files keep their executable bit; links are followed), in
/// name order. The error is `fs_err`'s, which names the path.
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs_err::create_dir_all(to)?;
    let mut entries: Vec<_> = fs_err::read_dir(from)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let source = entry.path();
        let target = to.join(entry.file_name());
        if source.is_dir() {
            copy_tree(&source, &target)?;
        } else {
            fs_err::copy(&source, &target)?;
        }
    }
    Ok(())
}

/// The local path of a `file://` URL, percent-decoded; `None` for another scheme or a URL
/// that names no local absolute path.
pub fn file_url_path(url: &str) -> Option<PathBuf> {
    url::Url::parse(url)
        .ok()
        .filter(|url| url.scheme() == "file")?
        .to_file_path()
        .ok()
}

/// The `file://` URL of an absolute path, percent-encoded.
pub fn file_url(path: &Path) -> Option<String> {
    url::Url::from_file_path(path).ok().map(String::from)
}

#[cfg(test)]
mod tests {
    use super::relative_path;
    use std::path::{Path, PathBuf};

    #[test]
    fn paths_are_relative_to_the_base_directory() {
        let cases = [
            ("/w/build", "/w/build/six/build.log", "six/build.log"),
            (
                "/w/build",
                "/w/dist/packages/six.whl",
                "../dist/packages/six.whl",
            ),
            (
                "/w/build/lapack/build",
                "/w/build/lapack/source/SRC/x.f",
                "../source/SRC/x.f",
            ),
            ("/w/a/../b", "/w/b/c", "c"),
        ];
        for (base, target, expected) in cases {
            assert_eq!(
                relative_path(Path::new(base), Path::new(target)),
                PathBuf::from(expected),
                "{target} from {base}"
            );
        }
    }
}
