//! Applying unified-diff patches (from `git format-patch`, `git diff` or `diff -u`) to an
//! unpacked source tree, like `patch -p1` without fuzz. This module owns parsing the patch,
//! placing each hunk at its stated line or the nearest exact match, and writing the result
//! all-or-nothing: new contents are computed in memory and written only if every hunk of every
//! file applies. It does not own choosing which patches apply to a package or in what order, nor
//! fetching or unpacking sources. Binary patches, pure renames, mode changes, git-quoted
//! (non-ASCII) names and fuzzy matching are not supported: such patches are reported, not guessed
//! at, so that they get regenerated.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{self, ErrorKind, Write};
use std::path::{Component, Path, PathBuf};

/// What a successfully applied patch changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchSummary {
    /// Files created, modified or deleted, relative to the tree, in patch order.
    pub files_changed: Vec<PathBuf>,
    /// Number of hunks applied, over all files.
    pub hunks: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error(
        "patch `{patch}` does not apply: hunk #{hunk} of `{file}` ({header}) does not match the source (searched the whole file for its {lines} context/removed lines); regenerate the patch against this source version"
    )]
    HunkMismatch {
        patch: PathBuf,
        file: PathBuf,
        hunk: usize,
        header: String,
        lines: usize,
    },
    #[error(
        "patch `{patch}` does not apply: `{file}` does not exist in the source tree; check the path (patches are applied with -p1 from the source root)"
    )]
    MissingFile { patch: PathBuf, file: PathBuf },
    #[error("patch `{patch}` creates `{file}`, which already exists")]
    AlreadyExists { patch: PathBuf, file: PathBuf },
    #[error(
        "patch `{patch}` deletes `{file}`, but the file has lines the patch does not remove; regenerate the patch against this source version"
    )]
    DeletionIncomplete { patch: PathBuf, file: PathBuf },
    #[error("patch `{patch}` is malformed at line {line}: {what}")]
    Malformed {
        patch: PathBuf,
        line: usize,
        what: String,
    },
    #[error("patch `{patch}` contains no file changes")]
    Empty { patch: PathBuf },
    #[error(
        "patch `{patch}` names the unsafe path `{path}`: paths must be relative and stay inside the source tree"
    )]
    UnsafePath { patch: PathBuf, path: String },
    #[error("patch `{patch}` could not be applied: cannot {action} `{path}`")]
    Io {
        patch: PathBuf,
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl PatchError {
    /// The patch file the error is about.
    pub fn patch_file(&self) -> &Path {
        match self {
            PatchError::HunkMismatch { patch, .. }
            | PatchError::MissingFile { patch, .. }
            | PatchError::AlreadyExists { patch, .. }
            | PatchError::DeletionIncomplete { patch, .. }
            | PatchError::Malformed { patch, .. }
            | PatchError::Empty { patch }
            | PatchError::UnsafePath { patch, .. }
            | PatchError::Io { patch, .. } => patch,
        }
    }
}

fn io_error(
    patch: &Path,
    action: &'static str,
    path: &Path,
) -> impl FnOnce(io::Error) -> PatchError {
    let (patch, path) = (patch.to_path_buf(), path.to_path_buf());
    move |source| PatchError::Io {
        patch,
        action,
        path,
        source,
    }
}

struct Hunk {
    header: String,
    old_start: usize,
    /// Tagged `b' '`, `b'-'` or `b'+'`; each keeps its `\n` unless "\ No newline at end of file".
    lines: Vec<(u8, Vec<u8>)>,
}

struct FilePatch {
    /// Names as written in the patch, before stripping; `None` is `/dev/null`.
    old: Option<String>,
    new: Option<String>,
    /// Line of the `---` header, for reporting a header without hunks.
    line: usize,
    hunks: Vec<Hunk>,
}

/// A line number in the patch and what is wrong there.
type Malformed = (usize, String);

/// Real path -> content after the patch (`None`: deleted).
type Staged = BTreeMap<PathBuf, Option<Vec<u8>>>;

/// Applies one patch file to `tree`. Either every hunk of every file in the patch applies and the
/// files are written, or nothing in the tree changes.
pub fn apply_patch(tree: &Path, patch: &Path) -> Result<PatchSummary, PatchError> {
    let text = fs_err::read(patch).map_err(io_error(patch, "read", patch))?;
    let files = parse(&text).map_err(|(line, what)| PatchError::Malformed {
        patch: patch.into(),
        line,
        what,
    })?;
    if files.is_empty() {
        return Err(PatchError::Empty {
            patch: patch.into(),
        });
    }
    let tree = fs_err::canonicalize(tree).map_err(io_error(patch, "resolve", tree))?;
    // Later sections of the same patch read the staged content, so touching a file twice works.
    let mut staged = Staged::new();
    let mut summary = PatchSummary {
        files_changed: Vec::new(),
        hunks: 0,
    };
    for file in &files {
        let resolve = |name: &Option<String>| {
            let name = name.as_deref();
            name.map(|name| resolve(&tree, patch, name)).transpose()
        };
        let (source, target) = (resolve(&file.old)?, resolve(&file.new)?);
        let original = match &source {
            None => Vec::new(),
            Some((relative, real)) => current(&staged, patch, real)?.ok_or_else(|| {
                let file = relative.clone();
                PatchError::MissingFile {
                    patch: patch.into(),
                    file,
                }
            })?,
        };
        if let Some((relative, real)) = &target
            && source
                .as_ref()
                .is_none_or(|(_, source_real)| source_real != real)
            && current(&staged, patch, real)?.is_some()
        {
            return Err(PatchError::AlreadyExists {
                patch: patch.into(),
                file: relative.clone(),
            });
        }
        let (shown, _) = target
            .as_ref()
            .or(source.as_ref())
            .expect("parse rejects /dev/null twice");
        let content = apply_hunks(&original, &file.hunks).map_err(|index| {
            let hunk = &file.hunks[index];
            let lines = hunk.lines.iter().filter(|(kind, _)| *kind != b'+').count();
            let (file, header) = (shown.clone(), hunk.header.clone());
            PatchError::HunkMismatch {
                patch: patch.into(),
                file,
                hunk: index + 1,
                header,
                lines,
            }
        })?;
        if target.is_none() && !content.is_empty() {
            return Err(PatchError::DeletionIncomplete {
                patch: patch.into(),
                file: shown.clone(),
            });
        }
        summary.hunks += file.hunks.len();
        for (relative, real) in source.iter().chain(&target) {
            staged.insert(real.clone(), None);
            if !summary.files_changed.contains(relative) {
                summary.files_changed.push(relative.clone());
            }
        }
        if let Some((_, real)) = target {
            staged.insert(real, Some(content));
        }
    }
    commit(&staged, patch)?;
    Ok(summary)
}

/// Strips the `a/` or `b/` component and returns (relative path, real path inside `tree`).
fn resolve(tree: &Path, patch: &Path, name: &str) -> Result<(PathBuf, PathBuf), PatchError> {
    let path = Path::new(name);
    // Only plain names: this refuses `/absolute`, `..` and `.`.
    let plain = path
        .components()
        .all(|component| matches!(component, Component::Normal(_)));
    let relative: PathBuf = path.components().skip(1).collect();
    let joined = tree.join(&relative);
    let real = match plain && !relative.as_os_str().is_empty() {
        true => real_path(tree, &joined).map_err(io_error(patch, "resolve", &joined))?,
        false => None,
    };
    let unsafe_path = || PatchError::UnsafePath {
        patch: patch.into(),
        path: name.into(),
    };
    Ok((relative, real.ok_or_else(unsafe_path)?))
}

/// Resolves symlinks in `joined`, including in its not-yet-existing tail, so writes land where
/// the file really is. `None` if that is outside the canonical `tree` or behind a dangling
/// symlink, either of which could otherwise be used to write anywhere.
fn real_path(tree: &Path, joined: &Path) -> io::Result<Option<PathBuf>> {
    let (mut existing, mut missing) = (joined.to_path_buf(), Vec::<OsString>::new());
    loop {
        match fs_err::symlink_metadata(&existing) {
            Ok(_) => break,
            Err(error) if error.kind() == ErrorKind::NotFound => {
                missing.extend(existing.file_name().map(OsString::from));
                if !existing.pop() {
                    return Ok(None);
                }
            }
            Err(error) => return Err(error),
        }
    }
    let mut real = match fs_err::canonicalize(&existing) {
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        result => result?,
    };
    real.extend(missing.iter().rev());
    Ok(real.starts_with(tree).then_some(real))
}

/// The content of `real` as staged by earlier sections of the patch, else on disk.
fn current(staged: &Staged, patch: &Path, real: &Path) -> Result<Option<Vec<u8>>, PatchError> {
    match staged.get(real) {
        Some(content) => Ok(content.clone()),
        None => match fs_err::read(real) {
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            result => result.map(Some).map_err(io_error(patch, "read", real)),
        },
    }
}

/// Writes every new content to a temporary sibling first, so a failure (disk full, permissions)
/// before the renames leaves the tree untouched; renames within a directory do not fail that way.
fn commit(staged: &Staged, patch: &Path) -> Result<(), PatchError> {
    let mut temporaries: Vec<(PathBuf, &Path)> = Vec::new();
    for (real, content) in staged {
        let Some(content) = content else { continue };
        let name = real.file_name().unwrap_or_default().to_string_lossy();
        let temporary = real.with_file_name(format!(".{name}.patch-{}", std::process::id()));
        if let Err(error) = write_temporary(real, &temporary, content) {
            for (written, _) in &temporaries {
                let _ = fs_err::remove_file(written);
            }
            let _ = fs_err::remove_file(&temporary);
            return Err(io_error(patch, "write", &temporary)(error));
        }
        temporaries.push((temporary, real));
    }
    for (temporary, real) in temporaries {
        fs_err::rename(&temporary, real).map_err(io_error(patch, "replace", real))?;
    }
    for (real, _) in staged.iter().filter(|(_, content)| content.is_none()) {
        match fs_err::remove_file(real) {
            Err(error) if error.kind() != ErrorKind::NotFound => {
                Err(io_error(patch, "delete", real)(error))?
            }
            _ => {}
        }
    }
    Ok(())
}

fn write_temporary(real: &Path, temporary: &Path, content: &[u8]) -> io::Result<()> {
    fs_err::create_dir_all(temporary.parent().expect("resolved paths have a parent"))?;
    // A leftover from a crashed run must not block us; `create_new` then refuses to follow a
    // symlink planted at the temporary name.
    match fs_err::remove_file(temporary) {
        Err(error) if error.kind() != ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let mut file = fs_err::File::create_new(temporary)?;
    file.write_all(content)?;
    if let Ok(metadata) = fs_err::metadata(real) {
        fs_err::set_permissions(temporary, metadata.permissions())?;
    }
    Ok(())
}

fn trim_newline(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn parse(text: &[u8]) -> Result<Vec<FilePatch>, Malformed> {
    let lines: Vec<&[u8]> = text.split_inclusive(|&byte| byte == b'\n').collect();
    let mut files: Vec<FilePatch> = Vec::new();
    // Whether `@@` lines have a file to belong to (reset by each `diff --git`).
    let mut in_file = false;
    // A git change without hunks (empty file, pure rename) that would otherwise be skipped silently.
    let mut hunkless: Option<Malformed> = None;
    let mut index = 0;
    while index < lines.len() {
        let line = trim_newline(lines[index]);
        let hunkless_change = [
            ("new file mode", "creating an empty file"),
            ("deleted file mode", "deleting an empty file"),
            ("rename from", "a pure rename"),
            ("copy from", "a copy"),
        ]
        .into_iter()
        .find(|(prefix, _)| line.starts_with(prefix.as_bytes()));
        if line.starts_with(b"diff --git ") {
            hunkless.take().map_or(Ok(()), Err)?;
            in_file = false;
        } else if line.starts_with(b"GIT binary patch") || line.starts_with(b"Binary files ") {
            return Err((index + 1, "binary patches are not supported".into()));
        } else if let Some((_, what)) = hunkless_change {
            hunkless = Some((
                index + 1,
                format!("{what} without a content diff is not supported"),
            ));
        } else if line.starts_with(b"--- ")
            && lines
                .get(index + 1)
                .is_some_and(|next| next.starts_with(b"+++ "))
        {
            hunkless = None;
            let old = parse_name(&line[4..]).map_err(|what| (index + 1, what))?;
            let new = parse_name(&trim_newline(lines[index + 1])[4..])
                .map_err(|what| (index + 2, what))?;
            if old.is_none() && new.is_none() {
                return Err((index + 1, "both file names are /dev/null".into()));
            }
            files.push(FilePatch {
                old,
                new,
                line: index + 1,
                hunks: Vec::new(),
            });
            in_file = true;
            index += 2;
            continue;
        } else if line.starts_with(b"@@ ") {
            let file = files.last_mut().filter(|_| in_file);
            let file = file.ok_or((
                index + 1,
                "hunk before any file header (`--- `/`+++ ` lines)".into(),
            ))?;
            let hunk;
            (hunk, index) = parse_hunk(&lines, index)?;
            file.hunks.push(hunk);
            continue;
        }
        // Everything else is mail headers, commit message, diffstat or git extended headers.
        index += 1;
    }
    hunkless.map_or(Ok(()), Err)?;
    match files.iter().find(|file| file.hunks.is_empty()) {
        Some(file) => Err((file.line, "file header is not followed by any hunk".into())),
        None => Ok(files),
    }
}

/// Parses the name in a `---`/`+++` line; `None` for a missing side of a creation or deletion.
fn parse_name(raw: &[u8]) -> Result<Option<String>, String> {
    if raw.starts_with(b"\"") {
        return Err(
            "quoted file names (git's escaping of unusual characters) are not supported".into(),
        );
    }
    // `diff -u` appends a tab and a timestamp; `diff -N` marks the missing side with the epoch
    // (in local time, hence 1969 west of UTC) where git writes /dev/null.
    let (name, timestamp) = raw.split_at(
        raw.iter()
            .position(|&byte| byte == b'\t')
            .unwrap_or(raw.len()),
    );
    let epoch = timestamp.starts_with(b"\t1970-01-01 ") || timestamp.starts_with(b"\t1969-12-31 ");
    let name = String::from_utf8(name.to_vec()).map_err(|_| "file name is not valid UTF-8")?;
    Ok((name != "/dev/null" && !epoch).then_some(name))
}

/// `@@ -12,3 +12,4 @@ context` -> (old start, old count, new count); omitted counts are 1.
fn parse_hunk_header(header: &str) -> Option<(usize, usize, usize)> {
    let (ranges, _) = header.strip_prefix("@@ -")?.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let range = |range: &str| match range.split_once(',') {
        Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
        None => Some((range.parse().ok()?, 1)),
    };
    let ((old_start, old_count), (_, new_count)) = (range(old)?, range(new)?);
    Some((old_start, old_count, new_count))
}

/// Parses the hunk whose header is at `lines[start]`; returns it and the index after it.
fn parse_hunk(lines: &[&[u8]], start: usize) -> Result<(Hunk, usize), Malformed> {
    let header = String::from_utf8_lossy(trim_newline(lines[start])).into_owned();
    let Some((old_start, mut old_left, mut new_left)) = parse_hunk_header(&header) else {
        return Err((start + 1, format!("invalid hunk header `{header}`")));
    };
    let mut hunk = Hunk {
        header,
        old_start,
        lines: Vec::new(),
    };
    let mut index = start + 1;
    loop {
        let header = &hunk.header;
        let Some(raw) = lines.get(index) else {
            if old_left == 0 && new_left == 0 {
                return Ok((hunk, index));
            }
            let what = format!(
                "the patch ends inside hunk `{header}`, {old_left} old and {new_left} new lines short"
            );
            return Err((lines.len(), what));
        };
        // "\ No newline at end of file" is about the line just before it.
        if raw.starts_with(b"\\")
            && let Some((_, previous)) = hunk.lines.last_mut()
        {
            previous.pop_if(|last| *last == b'\n');
            index += 1;
            continue;
        }
        if old_left == 0 && new_left == 0 {
            return Ok((hunk, index));
        }
        let (kind, text) = match raw.first() {
            // Some tools strip the leading space of an empty context line.
            Some(b'\n' | b'\r') => (b' ', &raw[..]),
            Some(&kind @ (b' ' | b'-' | b'+')) => (kind, &raw[1..]),
            _ => {
                let what = format!(
                    "expected a ` `, `-`, `+` or `\\` line in hunk `{header}` ({old_left} old and {new_left} new lines to go)"
                );
                return Err((index + 1, what));
            }
        };
        let (takes_old, takes_new) = (kind != b'+', kind != b'-');
        if (takes_old && old_left == 0) || (takes_new && new_left == 0) {
            return Err((
                index + 1,
                format!("hunk `{header}` has more lines than its header counts"),
            ));
        }
        old_left -= usize::from(takes_old);
        new_left -= usize::from(takes_new);
        let mut text = text.to_vec();
        // The patch file's own last line may lack a newline without meaning anything.
        if !text.ends_with(b"\n") {
            text.push(b'\n');
        }
        hunk.lines.push((kind, text));
        index += 1;
    }
}

/// Applies `hunks` in order; on failure returns the 0-based index of the hunk that did not match.
fn apply_hunks(original: &[u8], hunks: &[Hunk]) -> Result<Vec<u8>, usize> {
    let lines: Vec<&[u8]> = original.split_inclusive(|&byte| byte == b'\n').collect();
    // Added lines follow the file's convention so a CRLF file does not end up with mixed endings.
    let crlf = lines.first().is_some_and(|line| line.ends_with(b"\r\n"));
    let mut output = Vec::with_capacity(original.len());
    let (mut cursor, mut offset) = (0usize, 0isize);
    for (index, hunk) in hunks.iter().enumerate() {
        let old: Vec<&[u8]> = hunk
            .lines
            .iter()
            .filter(|(kind, _)| *kind != b'+')
            .map(|(_, text)| &text[..])
            .collect();
        // A hunk that removes nothing inserts after its stated line; others name their first line.
        let stated = hunk.old_start.saturating_sub(usize::from(!old.is_empty())) as isize;
        let position = locate(&lines, cursor, &old, stated + offset).ok_or(index)?;
        offset = position as isize - stated;
        output.extend(lines[cursor..position].concat());
        let mut file_lines = lines[position..].iter();
        for (kind, text) in &hunk.lines {
            match kind {
                // Context comes from the file, keeping its exact bytes (CR included).
                b' ' => output.extend_from_slice(file_lines.next().expect("locate checked length")),
                b'-' => _ = file_lines.next(),
                _ if crlf && text.ends_with(b"\n") && !text.ends_with(b"\r\n") => {
                    output.extend([&text[..text.len() - 1], b"\r\n"].concat());
                }
                _ => output.extend_from_slice(text),
            }
        }
        cursor = position + old.len();
    }
    output.extend(lines[cursor..].concat());
    Ok(output)
}

/// Finds where `old` matches exactly, at or after `start`, trying `guess` first and then
/// searching outward, nearest first (forward before backward), like GNU patch without fuzz.
fn locate(lines: &[&[u8]], start: usize, old: &[&[u8]], guess: isize) -> Option<usize> {
    let last = lines
        .len()
        .checked_sub(old.len())
        .filter(|last| *last >= start)?;
    // Clamping keeps the nearest-first order: out of range, the nearest candidate is the edge.
    let guess = guess.clamp(start as isize, last as isize) as usize;
    let matches = |at: &usize| {
        old.iter()
            .zip(&lines[*at..])
            .all(|(patch, file)| line_matches(file, patch))
    };
    for distance in 0..=(last - start) {
        let forward = Some(guess + distance).filter(|forward| *forward <= last);
        let backward = guess
            .checked_sub(distance)
            .filter(|backward| *backward >= start && distance > 0);
        if let Some(found) = forward.into_iter().chain(backward).find(matches) {
            return Some(found);
        }
    }
    None
}

/// Exact match, except that a CRLF file line matches an LF patch line (patches of CRLF files
/// often lose their CRs in mail or editors).
fn line_matches(file: &[u8], patch: &[u8]) -> bool {
    fn split(line: &[u8]) -> (&[u8], bool) {
        line.strip_suffix(b"\n")
            .map_or((line, false), |body| (body, true))
    }
    let ((file_body, file_newline), (patch_body, patch_newline)) = (split(file), split(patch));
    file == patch
        || (file_newline == patch_newline
            && !patch_body.ends_with(b"\r")
            && file_body.strip_suffix(b"\r") == Some(patch_body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

    type Files<'a> = &'a [(&'a str, &'a str)];

    fn tree(files: Files) -> TempDir {
        let root = tempfile::tempdir().unwrap();
        for (name, content) in files {
            let path = root.path().join(name);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(path, content).unwrap();
        }
        root
    }

    /// Every file under `root` except `.git`, with its bytes.
    fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let (mut files, mut pending) = (BTreeMap::new(), vec![root.to_path_buf()]);
        while let Some(directory) = pending.pop() {
            for entry in fs_err::read_dir(&directory).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() && !path.ends_with(".git") {
                    pending.push(path);
                } else if path.is_file() {
                    let relative = path.strip_prefix(root).unwrap().to_path_buf();
                    files.insert(relative, fs_err::read(&path).unwrap());
                }
            }
        }
        files
    }

    type Outcome = (TempDir, PathBuf, Result<PatchSummary, PatchError>);

    /// Applies `text` (saved outside the tree) to a tree of `files`.
    fn apply(files: Files, text: &str) -> Outcome {
        let (source, patches) = (tree(files), tree(&[("fix.patch", text)]));
        let patch = patches.path().join("fix.patch");
        let result = apply_patch(source.path(), &patch);
        (source, patch, result)
    }

    fn assert_applies(files: Files, text: &str, expected: Files) -> PatchSummary {
        let (source, _, result) = apply(files, text);
        assert_eq!(snapshot(source.path()), snapshot(tree(expected).path()));
        result.unwrap()
    }

    /// Asserts the whole message (after "patch `{patch}` ") and that no byte of the tree changed.
    fn assert_fails(files: Files, text: &str, message: &str) {
        let (source, patch, result) = apply(files, text);
        let expected = format!("patch `{}` {message}", patch.display());
        assert_eq!(result.unwrap_err().to_string(), expected);
        assert_eq!(snapshot(source.path()), snapshot(tree(files).path()));
    }

    const MAIL: &str = "From 1234 Mon Sep 17 00:00:00 2001\nFrom: A <a@example.com>\nSubject: [PATCH] fix build\n\nUse clang.\n---\n setup.py | 2 +-\n\ndiff --git a/setup.py b/setup.py\nindex 83db48f..bf269f4 100644\n--- a/setup.py\n+++ b/setup.py\n@@ -1,3 +1,3 @@\n import os\n-CC = 'gcc'\n+CC = 'clang'\n setup()\ndiff --git a/src/lib.c b/src/lib.c\nindex 1111111..2222222 100644\n--- a/src/lib.c\n+++ b/src/lib.c\n@@ -1,2 +1,3 @@ int a;\n int a;\n+int b;\n int c;\n-- \n2.47.3\n";
    const SETUP: (&str, &str) = ("setup.py", "import os\nCC = 'gcc'\nsetup()\n");

    #[test]
    fn multi_file_patch_with_mail_headers() {
        let before = [SETUP, ("src/lib.c", "int a;\nint c;\n")];
        let setup = ("setup.py", "import os\nCC = 'clang'\nsetup()\n");
        let after = [setup, ("src/lib.c", "int a;\nint b;\nint c;\n")];
        let summary = assert_applies(&before, MAIL, &after);
        assert_eq!(
            summary.files_changed,
            [Path::new("setup.py"), Path::new("src/lib.c")]
        );
        assert_eq!(summary.hunks, 2);
    }

    #[test]
    fn hunks_apply_at_an_offset_that_later_hunks_track() {
        let text = "--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n 2\n-3\n+three\n 4\n@@ -15,3 +15,3 @@\n 15\n-16\n+sixteen\n 17\n";
        let body: String = (1..=20).map(|number| format!("{number}\n")).collect();
        let before = format!("0\n0\n{body}");
        let after = before.replace("\n3\n", "\nthree\n");
        let after = after.replace("16", "sixteen");
        assert_applies(&[("f", &before)], text, &[("f", &after)]);
        // The nearest of several matches wins.
        let text = "--- a/f\n+++ b/f\n@@ -4 +4 @@\n-x\n+y\n";
        let (before, after) = ("x\nx\nx\nx\nx\n", "x\nx\nx\ny\nx\n");
        assert_applies(&[("f", before)], text, &[("f", after)]);
    }

    #[test]
    fn files_are_created_and_deleted() {
        let text = "diff --git a/new/dir/new.txt b/new/dir/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/new/dir/new.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\ndiff --git a/old.txt b/old.txt\ndeleted file mode 100644\n--- a/old.txt\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-bye\n-now\n";
        let after = [("new/dir/new.txt", "hello\nworld\n")];
        let summary = assert_applies(&[("old.txt", "bye\nnow\n")], text, &after);
        let changed = [Path::new("new/dir/new.txt"), Path::new("old.txt")];
        assert_eq!(summary.files_changed, changed);
        // `diff -N` marks the missing side with an epoch timestamp instead of /dev/null.
        let text = "--- a/n\t1970-01-01 00:00:00.000000000 +0000\n+++ b/n\t2024-05-01 10:00:00.0 +0200\n@@ -0,0 +1 @@\n+x\n--- a/o\t2024-05-01 10:00:00.0 -0700\n+++ b/o\t1969-12-31 17:00:00.0 -0700\n@@ -1 +0,0 @@\n-y\n";
        assert_applies(&[("o", "y\n")], text, &[("n", "x\n")]);
    }

    #[test]
    fn missing_newline_at_end_of_file_in_both_directions() {
        let text = "--- a/add\n+++ b/add\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n--- a/drop\n+++ b/drop\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n";
        let before = [("add", "a\nb"), ("drop", "a\nb\n")];
        let after = [("add", "a\nb\n"), ("drop", "a\nb")];
        assert_applies(&before, text, &after);
    }

    #[test]
    fn crlf_file_keeps_its_line_endings() {
        let text = "--- a/w.bat\n+++ b/w.bat\n@@ -1,3 +1,4 @@\n @echo off\n-set A=1\n+set A=2\n+set B=3\n exit\n";
        let before = [("w.bat", "@echo off\r\nset A=1\r\nexit\r\n")];
        let after = [("w.bat", "@echo off\r\nset A=2\r\nset B=3\r\nexit\r\n")];
        assert_applies(&before, text, &after);
    }

    #[cfg(unix)]
    #[test]
    fn permissions_are_preserved() {
        use std::os::unix::fs::PermissionsExt;
        let text = "--- a/run.sh\n+++ b/run.sh\n@@ -1 +1 @@\n-echo a\n+echo b\n";
        let source = tree(&[("run.sh", "echo a\n"), ("fix.patch", text)]);
        let script = source.path().join("run.sh");
        fs_err::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        apply_patch(source.path(), &source.path().join("fix.patch")).unwrap();
        let mode = fs_err::metadata(&script).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
        let files = snapshot(source.path());
        assert_eq!(files.len(), 2, "a temporary file was left behind");
    }

    #[test]
    fn a_failing_hunk_leaves_every_file_untouched() {
        let message = "does not apply: hunk #1 of `src/lib.c` (@@ -1,2 +1,3 @@ int a;) does not match the source (searched the whole file for its 2 context/removed lines); regenerate the patch against this source version";
        assert_fails(&[SETUP, ("src/lib.c", "int a;\nint z;\n")], MAIL, message);
    }

    const UNSAFE: &str = "paths must be relative and stay inside the source tree";

    #[test]
    fn unsafe_paths_are_refused() {
        for path in ["a/../../etc/passwd", "/etc/passwd", "a", "./x"] {
            let text = format!("--- {path}\n+++ {path}\n@@ -1 +1 @@\n-1\n+2\n");
            let message = format!("names the unsafe path `{path}`: {UNSAFE}");
            assert_fails(&[("x", "1\n")], &text, &message);
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_tree_are_refused() {
        let outside = tree(&[("x", "1\n")]);
        let text = "--- a/link/x\n+++ b/link/x\n@@ -1 +1 @@\n-1\n+2\n";
        let source = tree(&[("fix.patch", text)]);
        std::os::unix::fs::symlink(outside.path(), source.path().join("link")).unwrap();
        let patch = source.path().join("fix.patch");
        let error = apply_patch(source.path(), &patch).unwrap_err().to_string();
        let message = format!("names the unsafe path `a/link/x`: {UNSAFE}");
        assert_eq!(error, format!("patch `{}` {message}", patch.display()));
        let content = fs_err::read_to_string(outside.path().join("x")).unwrap();
        assert_eq!(content, "1\n");
    }

    #[test]
    fn malformed_patches_name_the_line() {
        let short = "5: the patch ends inside hunk `@@ -1,2 +1,2 @@`, 1 old and 1 new lines short";
        let long = "5: hunk `@@ -1 +1 @@` has more lines than its header counts";
        let orphan = "2: hunk before any file header (`--- `/`+++ ` lines)";
        let garbage = "5: expected a ` `, `-`, `+` or `\\` line in hunk `@@ -1,2 +1,2 @@` (1 old and 2 new lines to go)";
        let header = "3: invalid hunk header `@@ -1,x +1 @@`";
        let hunkless = "1: file header is not followed by any hunk";
        let empty = "2: creating an empty file without a content diff is not supported";
        let cases = [
            ("--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-1\n+2\n", short),
            ("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-1\n-1\n+2\n", long),
            ("Subject: x\n@@ -1 +1 @@\n-1\n+2\n", orphan),
            ("--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-1\n*2\n", garbage),
            ("--- a/x\n+++ b/x\n@@ -1,x +1 @@\n", header),
            ("--- a/x\n+++ b/x\n", hunkless),
            ("diff --git a/e b/e\nnew file mode 100644\n", empty),
        ];
        for (text, message) in cases {
            let message = format!("is malformed at line {message}");
            assert_fails(&[("x", "1\n1\n")], text, &message);
        }
    }

    #[test]
    fn file_level_errors() {
        let text = "--- a/gone.c\n+++ b/gone.c\n@@ -1 +1 @@\n-1\n+2\n";
        let message = "does not apply: `gone.c` does not exist in the source tree; check the path (patches are applied with -p1 from the source root)";
        assert_fails(&[], text, message);
        let text = "--- /dev/null\n+++ b/x\n@@ -0,0 +1 @@\n+1\n";
        assert_fails(&[("x", "1\n")], text, "creates `x`, which already exists");
        let text = "--- a/x\n+++ /dev/null\n@@ -1 +0,0 @@\n-1\n";
        let message = "deletes `x`, but the file has lines the patch does not remove; regenerate the patch against this source version";
        assert_fails(&[("x", "1\n2\n")], text, message);
        let text = "Subject: nothing here\n\nJust words.\n";
        assert_fails(&[], text, "contains no file changes");
        let missing = Path::new("/nonexistent/fix.patch");
        let error = apply_patch(Path::new("."), missing).unwrap_err();
        let message = "patch `/nonexistent/fix.patch` could not be applied: cannot read `/nonexistent/fix.patch`";
        assert_eq!(error.to_string(), message);
        assert!(std::error::Error::source(&error).is_some());
    }

    /// Runs git with `arguments` split at spaces, isolated from the user's configuration.
    fn git(directory: &Path, arguments: &str) -> Vec<u8> {
        let identity = "-c user.name=T -c user.email=t@example.com -c commit.gpgsign=false";
        let output = std::process::Command::new("git")
            .args(identity.split(' ').chain(arguments.split(' ')))
            .current_dir(directory)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "git {arguments}: {stderr}");
        output.stdout
    }

    /// A `git format-patch` patch gives git's own tree, also when the source has drifted so that
    /// hunks land at an offset (checked against `git apply`).
    #[test]
    fn agrees_with_git() {
        let function = |n| format!("def f{n}():\n    return {n}\n\n");
        let module: String = (1..=60).map(function).collect();
        let (readme, gone) = (("README", "readme\nno newline"), ("gone", "bye\n"));
        let original = [("pkg/module.py", module.as_str()), readme, gone];
        let repository = tree(&original);
        let path = |name| repository.path().join(name);
        for command in ["init -q", "add -A", "commit -q -m original"] {
            git(repository.path(), command);
        }
        let changed = module.replace("return 3\n", "return 3 * 1\n");
        let changed = changed.replace("return 50\n", "return 5\n\n# added\n");
        fs_err::write(path("pkg/module.py"), changed).unwrap();
        fs_err::write(path("README"), "readme\nwith newline\n").unwrap();
        fs_err::write(path("pkg/new.py"), "print('new')\n").unwrap();
        fs_err::remove_file(path("gone")).unwrap();
        git(repository.path(), "add -A");
        git(repository.path(), "commit -q -m change");
        let text = git(repository.path(), "format-patch -1 --stdout");
        let patches = tree(&[("0001-change.patch", &String::from_utf8(text).unwrap())]);
        let patch = patches.path().join("0001-change.patch");

        let ours = tree(&original);
        assert_eq!(apply_patch(ours.path(), &patch).unwrap().hunks, 5);
        assert_eq!(snapshot(ours.path()), snapshot(repository.path()));

        let drifted = module.replace("def f30", "# note\ndef f30");
        let drifted = format!("# header\n# more\n{drifted}");
        let drifted = [("pkg/module.py", drifted.as_str()), readme, gone];
        let (ours, theirs) = (tree(&drifted), tree(&drifted));
        apply_patch(ours.path(), &patch).unwrap();
        git(theirs.path(), &format!("apply {}", patch.display()));
        assert_eq!(snapshot(ours.path()), snapshot(theirs.path()));
    }
}
