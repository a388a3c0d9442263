//! Safe unpacking of source archives (`.tar.gz`, `.tgz`, `.tar.xz`, `.tar.bz2`, `.tar`, `.zip`).
//!
//! An sdist is hostile input. Unpacking refuses, naming the archive and the member: an absolute
//! path or one with `..`; a hard link, a device, a fifo and any other member that is not a
//! regular file, a directory or a symbolic link; a member written through a link (below one, or
//! replacing one); and a link that does not resolve inside the tree (an absolute target, a walk
//! that steps above the tree at any point, or a loop).
//!
//! Why this is sound where checking each name lexically is not (a chain defeats that:
//! `pkg/l -> ..`, then `pkg/l/m -> ..`, then `pkg/l/m/x` lands outside): nothing is ever
//! written through a link. Before each member is written, every ancestor of its path below the
//! staging root is checked with `symlink_metadata` to be a real directory (a missing one is
//! created here, as a real directory), an existing link is never replaced, and files are
//! created with `O_EXCL`, which follows no link. So each member lands exactly at the path it
//! names below the root, whatever links the archive holds. Links are created inert and judged
//! only once every member is written, when the tree is final: each is resolved physically, one
//! component at a time, following the links met on disk (at most 40, as Linux does), and is
//! refused if the walk ever steps above the root. The staging root is a fresh private tempdir
//! beside the destination, renamed into place only after every check passed, so a refused
//! archive leaves neither it nor the destination.
//!
//! Files keep their executable bits and nothing else (0o755 or 0o644): never setuid, setgid or
//! sticky. This module does not fetch or verify archives (see `crate::source`).

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use fs_err::os::unix::fs::OpenOptionsExt;

/// How many links one resolution may follow: Linux's `MAXSYMLINKS`, past which `open` fails.
const MAX_LINKS: usize = 40;
/// The longest link target read from a zip member: Linux's `PATH_MAX`.
const MAX_TARGET: u64 = 4096;

// Unix file-type bits of a zip member's mode; the zip crate keeps its own copies private.
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("refusing to unpack {archive}: entry `{entry}` {reason}\n  help: the archive is unsafe or corrupt; do not build it", archive = archive.display())]
    Unsafe {
        archive: PathBuf,
        entry: String,
        reason: &'static str,
    },
    #[error("cannot unpack {archive}: unsupported archive type\n  help: wheelforge unpacks .tar.gz, .tgz, .tar.xz, .tar.bz2, .tar and .zip archives", archive = archive.display())]
    Unsupported { archive: PathBuf },
    #[error("cannot unpack {archive}: {detail}", archive = archive.display())]
    Corrupt { archive: PathBuf, detail: String },
    #[error("{path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> UnpackError {
    let path = path.to_path_buf();
    move |source| UnpackError::Io { path, source }
}

/// Unpacks `archive` into `destination` (which must not exist) and returns the source root:
/// the single top-level directory if the archive has exactly one, else `destination`.
pub fn unpack(archive: &Path, destination: &Path) -> Result<PathBuf, UnpackError> {
    let parent = destination.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(parent).map_err(io(parent))?;
    // Dropped on every early return below, which deletes whatever was staged.
    let staging = tempfile::tempdir_in(parent).map_err(io(parent))?;
    let mut tree = Tree {
        archive,
        root: staging.path(),
        links: Vec::new(),
    };
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        let file = fs_err::File::open(archive).map_err(io(archive))?;
        unpack_tar(&mut tree, flate2::read::GzDecoder::new(file))?;
    } else if name.ends_with(".tar.xz") || name.ends_with(".txz") {
        // Upstream tarballs of Debian source packages (libxml2, freetype) are often xz.
        let file = fs_err::File::open(archive).map_err(io(archive))?;
        unpack_tar(&mut tree, liblzma::read::XzDecoder::new(file))?;
    } else if name.ends_with(".tar.bz2") || name.ends_with(".tbz2") {
        let file = fs_err::File::open(archive).map_err(io(archive))?;
        unpack_tar(&mut tree, bzip2::read::MultiBzDecoder::new(file))?;
    } else if name.ends_with(".tar") {
        let file = fs_err::File::open(archive).map_err(io(archive))?;
        unpack_tar(&mut tree, file)?;
    } else if name.ends_with(".zip") {
        unpack_zip(&mut tree)?;
    } else {
        return Err(UnpackError::Unsupported {
            archive: archive.to_path_buf(),
        });
    }
    tree.check_links()?;
    fs_err::rename(staging.path(), destination).map_err(io(destination))?;
    // Only now is the staged tree the destination's; until the rename, dropping cleans up.
    let _ = staging.keep();
    let entries: Vec<PathBuf> = fs_err::read_dir(destination)
        .map_err(io(destination))?
        .flatten()
        .map(|e| e.path())
        .collect();
    // `symlink_metadata`: a top-level link is not a source root, even if it names a directory.
    match entries.as_slice() {
        [only] if fs_err::symlink_metadata(only).is_ok_and(|m| m.is_dir()) => Ok(only.clone()),
        _ => Ok(destination.to_path_buf()),
    }
}

fn unpack_tar(tree: &mut Tree, reader: impl Read) -> Result<(), UnpackError> {
    let mut tar = tar::Archive::new(reader);
    for entry in tar.entries().map_err(|e| tree.corrupt(e))? {
        let mut entry = entry.map_err(|e| tree.corrupt(e))?;
        let kind = entry.header().entry_type();
        // Headers about members, not members: the tar crate applies the per-member ones itself
        // and yields the global one (`git archive` writes one with the commit).
        if matches!(
            kind,
            tar::EntryType::XGlobalHeader
                | tar::EntryType::XHeader
                | tar::EntryType::GNULongName
                | tar::EntryType::GNULongLink
        ) {
            continue;
        }
        let name = PathBuf::from(OsStr::from_bytes(&entry.path_bytes()));
        let member = name.to_string_lossy().into_owned();
        let relative = tree.relative(&member, &name)?;
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                let mode = entry.header().mode().map_err(|e| tree.corrupt(e))?;
                tree.file(&member, &relative, &mut entry, mode & 0o111 != 0)?;
            }
            tar::EntryType::Directory => tree.directory(&member, &relative)?,
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|bytes| PathBuf::from(OsStr::from_bytes(&bytes)))
                    .unwrap_or_default();
                tree.symlink(&member, &relative, &target)?;
            }
            // A hard link names another member as its contents; refused rather than copied,
            // since nothing about it is needed to build a source tree.
            tar::EntryType::Link => return Err(tree.refuse(&member, "is a hard link")),
            _ => return Err(tree.refuse(&member, "is a device, fifo or other special file")),
        }
    }
    Ok(())
}

fn unpack_zip(tree: &mut Tree) -> Result<(), UnpackError> {
    let file = fs_err::File::open(tree.archive).map_err(io(tree.archive))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| tree.corrupt(e))?;
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).map_err(|e| tree.corrupt(e))?;
        let member = entry.name().to_string();
        let relative = tree.relative(&member, Path::new(&member))?;
        // Our check is the stricter (any `..`); the zip crate's also refuses a NUL byte, and
        // keeping both costs nothing.
        if entry.enclosed_name().is_none() {
            return Err(tree.refuse(&member, "has a name that is not a plain relative path"));
        }
        let mode = entry.unix_mode();
        // No mode, or no file-type bits, is what zip tools write for plain files and dirs.
        match mode.map_or(0, |mode| mode & S_IFMT) {
            S_IFLNK => {
                // A zip link is a member whose contents are its target.
                let mut target = Vec::new();
                (&mut entry)
                    .take(MAX_TARGET + 1)
                    .read_to_end(&mut target)
                    .map_err(|e| tree.corrupt(e))?;
                if target.len() as u64 > MAX_TARGET {
                    return Err(tree.refuse(&member, "is a link with a target too long"));
                }
                tree.symlink(&member, &relative, Path::new(OsStr::from_bytes(&target)))?;
            }
            S_IFDIR => tree.directory(&member, &relative)?,
            0 | S_IFREG if entry.is_dir() => tree.directory(&member, &relative)?,
            0 | S_IFREG => {
                let executable = mode.is_some_and(|mode| mode & 0o111 != 0);
                tree.file(&member, &relative, &mut entry, executable)?;
            }
            _ => return Err(tree.refuse(&member, "is a device, fifo or other special file")),
        }
    }
    Ok(())
}

/// What is at a path in the staging tree, seen without following a link.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Existing {
    Nothing,
    Directory,
    /// A regular file: the only other kind ever created here.
    File,
    Link,
}

/// The staging tree an archive is written into. It writes only at the paths members name below
/// `root`, never through a link (see the module doc for why that is the whole argument).
struct Tree<'a> {
    archive: &'a Path,
    root: &'a Path,
    /// Every link written, as (member, path below `root`), resolved once the tree is final.
    links: Vec<(String, PathBuf)>,
}

impl Tree<'_> {
    fn refuse(&self, member: &str, reason: &'static str) -> UnpackError {
        UnpackError::Unsafe {
            archive: self.archive.to_path_buf(),
            entry: member.to_string(),
            reason,
        }
    }

    fn corrupt(&self, error: impl std::fmt::Display) -> UnpackError {
        UnpackError::Corrupt {
            archive: self.archive.to_path_buf(),
            detail: error.to_string(),
        }
    }

    /// Checks that `name` is a plain relative path and returns it without `.` components.
    fn relative(&self, member: &str, name: &Path) -> Result<PathBuf, UnpackError> {
        if name.as_os_str().as_bytes().contains(&0) {
            return Err(self.refuse(member, "contains a NUL byte"));
        }
        let mut out = PathBuf::new();
        for component in name.components() {
            match component {
                Component::Normal(part) => out.push(part),
                Component::CurDir => {}
                Component::ParentDir => return Err(self.refuse(member, "contains `..`")),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(self.refuse(member, "has an absolute path"));
                }
            }
        }
        Ok(out)
    }

    fn existing(path: &Path) -> Result<Existing, UnpackError> {
        match fs_err::symlink_metadata(path) {
            Ok(metadata) if metadata.file_type().is_symlink() => Ok(Existing::Link),
            Ok(metadata) if metadata.is_dir() => Ok(Existing::Directory),
            Ok(_) => Ok(Existing::File),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Existing::Nothing),
            Err(error) => Err(io(path)(error)),
        }
    }

    /// Makes every ancestor of `relative` a real directory below the root, refusing a member
    /// whose path runs through a link or a file, and returns its full path and what is there.
    fn prepare(&self, member: &str, relative: &Path) -> Result<(PathBuf, Existing), UnpackError> {
        let mut path = self.root.to_path_buf();
        let mut components = relative.components().peekable();
        while let Some(component) = components.next() {
            path.push(component);
            let existing = Self::existing(&path)?;
            if components.peek().is_none() {
                return Ok((path, existing));
            }
            match existing {
                Existing::Directory => {}
                Existing::Nothing => fs_err::create_dir(&path).map_err(io(&path))?,
                Existing::Link => return Err(self.refuse(member, "is written through a link")),
                Existing::File => return Err(self.refuse(member, "is written inside a file")),
            }
        }
        Err(self.refuse(member, "has an empty path"))
    }

    fn directory(&mut self, member: &str, relative: &Path) -> Result<(), UnpackError> {
        // `./` names the root itself, which exists.
        if relative.as_os_str().is_empty() {
            return Ok(());
        }
        let (path, existing) = self.prepare(member, relative)?;
        match existing {
            Existing::Nothing => fs_err::create_dir(&path).map_err(io(&path)),
            Existing::Directory => Ok(()),
            Existing::Link => Err(self.refuse(member, "would replace a link")),
            Existing::File => Err(self.refuse(member, "would replace a file with a directory")),
        }
    }

    fn file(
        &mut self,
        member: &str,
        relative: &Path,
        data: &mut dyn Read,
        executable: bool,
    ) -> Result<(), UnpackError> {
        let (path, existing) = self.prepare(member, relative)?;
        match existing {
            Existing::Nothing => {}
            // A later member of the same name wins, as with tar itself.
            Existing::File => fs_err::remove_file(&path).map_err(io(&path))?,
            Existing::Link => return Err(self.refuse(member, "would replace a link")),
            Existing::Directory => return Err(self.refuse(member, "would replace a directory")),
        }
        let mode = if executable { 0o755 } else { 0o644 };
        // `create_new` is `O_EXCL`, which never follows a link: the file is made at `path`.
        let mut out = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
            .map_err(io(&path))?;
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let read = match data.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(self.corrupt(error)),
            };
            out.write_all(&buffer[..read]).map_err(io(&path))?;
        }
        // The umask may have cleared bits of `mode`; the tree's modes do not depend on it.
        out.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(io(&path))
    }

    fn symlink(&mut self, member: &str, relative: &Path, target: &Path) -> Result<(), UnpackError> {
        if target.as_os_str().is_empty() {
            return Err(self.refuse(member, "is a link with no target"));
        }
        let (path, existing) = self.prepare(member, relative)?;
        match existing {
            Existing::Nothing => {}
            Existing::Link => return Err(self.refuse(member, "would replace a link")),
            Existing::Directory => return Err(self.refuse(member, "would replace a directory")),
            Existing::File => return Err(self.refuse(member, "would replace a file with a link")),
        }
        fs_err::os::unix::fs::symlink(target, &path).map_err(io(&path))?;
        self.links
            .push((member.to_string(), relative.to_path_buf()));
        Ok(())
    }

    /// Resolves every link in the finished tree; see `check_link`.
    fn check_links(&self) -> Result<(), UnpackError> {
        self.links
            .iter()
            .try_for_each(|(member, relative)| self.check_link(member, relative))
    }

    /// Walks the link at `relative` as the kernel would, one component at a time, and refuses
    /// it if the walk steps above the root. `reached` is the path walked so far below the root
    /// and holds no link (each link met is replaced by its target), so popping a component for
    /// `..` is the physical parent. A component that does not exist is walked on lexically:
    /// the kernel would stop there, so that cannot reach further than the real walk.
    fn check_link(&self, member: &str, relative: &Path) -> Result<(), UnpackError> {
        let outside = || self.refuse(member, "is a link that points outside the source tree");
        let path = self.root.join(relative);
        let target = fs_err::read_link(&path).map_err(io(&path))?;
        if target.has_root() {
            return Err(self.refuse(member, "is a link with an absolute target"));
        }
        let mut reached = relative.parent().unwrap_or(Path::new("")).to_path_buf();
        let mut pending = steps(&target);
        let mut followed = 1;
        while let Some(step) = pending.pop_front() {
            match step {
                Step::Root => return Err(outside()),
                Step::Up if !reached.pop() => return Err(outside()),
                Step::Up => {}
                Step::Down(name) => {
                    reached.push(&name);
                    let path = self.root.join(&reached);
                    if Self::existing(&path)? != Existing::Link {
                        continue;
                    }
                    followed += 1;
                    if followed > MAX_LINKS {
                        let reason = "is a link that does not resolve (a loop of links)";
                        return Err(self.refuse(member, reason));
                    }
                    reached.pop();
                    let next = fs_err::read_link(&path).map_err(io(&path))?;
                    for step in steps(&next).into_iter().rev() {
                        pending.push_front(step);
                    }
                }
            }
        }
        Ok(())
    }
}

/// One component of a link target, owned, so targets read on the way can be spliced in.
enum Step {
    Root,
    Up,
    Down(OsString),
}

fn steps(target: &Path) -> VecDeque<Step> {
    target
        .components()
        .filter_map(|component| match component {
            Component::RootDir | Component::Prefix(_) => Some(Step::Root),
            Component::CurDir => None,
            Component::ParentDir => Some(Step::Up),
            Component::Normal(name) => Some(Step::Down(name.to_os_string())),
        })
        .collect()
}

/// Copies a directory tree ([`crate::paths::copy_tree`]), with the failing path in the error.
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), UnpackError> {
    crate::paths::copy_tree(from, to).map_err(io(from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    /// One archive member, written with raw names so hostile ones (`..`, absolute) survive.
    enum Member<'a> {
        Dir(&'a str),
        File(&'a str, &'a [u8], u32),
        Link(&'a str, &'a str),
        HardLink(&'a str, &'a str),
        Special(&'a str, tar::EntryType),
    }

    #[derive(Clone, Copy, Debug)]
    enum Format {
        Tar,
        TarXz,
        TarBz2,
        Zip,
    }

    impl Format {
        const ALL: [Format; 4] = [Format::Tar, Format::TarXz, Format::TarBz2, Format::Zip];
    }

    /// An archive in one tempdir and a destination inside another, `outside`, whose listing
    /// shows anything written beside the destination (an escape, a leftover staging dir).
    struct Scene {
        archives: tempfile::TempDir,
        outside: tempfile::TempDir,
    }

    impl Scene {
        fn new() -> Self {
            Scene {
                archives: tempfile::tempdir().unwrap(),
                outside: tempfile::tempdir().unwrap(),
            }
        }

        fn destination(&self) -> PathBuf {
            self.outside.path().join("tree")
        }

        fn archive(&self, format: Format, members: &[Member]) -> PathBuf {
            match format {
                Format::Tar => tar_archive(self.archives.path(), members),
                Format::TarXz | Format::TarBz2 => {
                    let tar = fs_err::read(tar_archive(self.archives.path(), members)).unwrap();
                    let (path, compressed) = if let Format::TarXz = format {
                        let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 6);
                        encoder.write_all(&tar).unwrap();
                        ("source.tar.xz", encoder.finish().unwrap())
                    } else {
                        let mut encoder =
                            bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                        encoder.write_all(&tar).unwrap();
                        ("source.tar.bz2", encoder.finish().unwrap())
                    };
                    let path = self.archives.path().join(path);
                    fs_err::write(&path, compressed).unwrap();
                    path
                }
                Format::Zip => zip_archive(self.archives.path(), members),
            }
        }

        fn unpack(&self, format: Format, members: &[Member]) -> Result<PathBuf, UnpackError> {
            unpack(&self.archive(format, members), &self.destination())
        }

        fn outside_listing(&self) -> Vec<String> {
            let mut names: Vec<String> = fs_err::read_dir(self.outside.path())
                .unwrap()
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        }

        /// Asserts the refusal of `entry` for `reason`, and that nothing at all was left beside
        /// the destination: no destination, no staging dir, no escaped file.
        fn assert_refused(&self, format: Format, members: &[Member], entry: &str, reason: &str) {
            let archive = self.archive(format, members);
            let result = unpack(&archive, &self.destination());
            // Checked first: an escape is the worse failure, and the one to report.
            assert_eq!(
                self.outside_listing(),
                Vec::<String>::new(),
                "{format:?}: {result:?}"
            );
            match result {
                Err(UnpackError::Unsafe {
                    archive: named,
                    entry: refused,
                    reason: why,
                }) => {
                    assert_eq!(named, archive);
                    assert_eq!((refused.as_str(), why), (entry, reason), "{format:?}");
                }
                other => panic!("{format:?}: expected a refusal of `{entry}`, got {other:?}"),
            }
        }
    }

    fn set_raw(field: &mut [u8], value: &str) {
        assert!(
            value.len() < field.len(),
            "`{value}` is too long for a tar header"
        );
        field.fill(0);
        field[..value.len()].copy_from_slice(value.as_bytes());
    }

    fn tar_archive(dir: &Path, members: &[Member]) -> PathBuf {
        let path = dir.join("source.tar");
        let mut builder = tar::Builder::new(fs_err::File::create(&path).unwrap());
        for member in members {
            let mut header = tar::Header::new_gnu();
            let (name, kind, link, data, mode): (&str, _, Option<&str>, &[u8], u32) = match *member
            {
                Member::Dir(name) => (name, tar::EntryType::Directory, None, b"", 0o755),
                Member::File(name, data, mode) => (name, tar::EntryType::Regular, None, data, mode),
                Member::Link(name, target) => {
                    (name, tar::EntryType::Symlink, Some(target), b"", 0o777)
                }
                Member::HardLink(name, target) => {
                    (name, tar::EntryType::Link, Some(target), b"", 0o644)
                }
                Member::Special(name, kind) => (name, kind, None, b"", 0o644),
            };
            // Raw name fields: tar's `set_path` and `set_link_name` refuse `..` and strip a
            // leading `/`, which are exactly the names these tests need.
            set_raw(&mut header.as_old_mut().name, name);
            if let Some(link) = link {
                set_raw(&mut header.as_old_mut().linkname, link);
            }
            header.set_entry_type(kind);
            header.set_mode(mode);
            header.set_size(data.len() as u64);
            header.set_cksum();
            builder.append(&header, data).unwrap();
        }
        builder.into_inner().unwrap();
        path
    }

    fn zip_archive(dir: &Path, members: &[Member]) -> PathBuf {
        let path = dir.join("source.zip");
        let mut zip = zip::ZipWriter::new(fs_err::File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        for member in members {
            match *member {
                Member::Dir(name) => zip.add_directory(name, options).unwrap(),
                Member::File(name, data, mode) => {
                    zip.start_file(name, options.unix_permissions(mode))
                        .unwrap();
                    zip.write_all(data).unwrap();
                }
                Member::Link(name, target) => zip.add_symlink(name, target, options).unwrap(),
                Member::HardLink(..) | Member::Special(..) => {
                    panic!("zip archives have no hard links or special files")
                }
            }
        }
        zip.finish().unwrap();
        path
    }

    /// The chain, of `length` links: `base/l1 -> ..`, `base/l1/l2 -> ..`, ... then a
    /// file `base/l1/.../ln/x`. Each link climbs one directory further than the one it is
    /// written through, and `base` is deep enough that, unpacked naively, `x` lands exactly
    /// beside the destination (one level above the staging dir) and nowhere worse.
    fn chain(length: usize) -> Vec<(String, Option<&'static str>)> {
        let mut path = String::from("pkg");
        for level in 1..length.saturating_sub(1) {
            path.push_str(&format!("/b{level}"));
        }
        let mut entries = Vec::new();
        for link in 1..=length {
            path.push_str(&format!("/l{link}"));
            entries.push((path.clone(), Some("..")));
        }
        entries.push((format!("{path}/x"), None));
        entries
    }

    fn assert_chain_refused(format: Format, length: usize) {
        let entries = chain(length);
        let members: Vec<Member> = entries
            .iter()
            .map(|(name, target)| match target {
                Some(target) => Member::Link(name, target),
                None => Member::File(name, b"escaped", 0o644),
            })
            .collect();
        // The first entry written through a link is refused: `l2` for a chain, else `x`.
        let refused = &entries[1].0;
        Scene::new().assert_refused(format, &members, refused, "is written through a link");
    }

    #[test]
    fn tar_symlink_chain_of_1_is_refused() {
        assert_chain_refused(Format::Tar, 1);
    }

    #[test]
    fn tar_symlink_chain_of_2_is_refused() {
        assert_chain_refused(Format::Tar, 2);
    }

    #[test]
    fn tar_symlink_chain_of_3_is_refused() {
        assert_chain_refused(Format::Tar, 3);
    }

    #[test]
    fn tar_symlink_chain_of_10_is_refused() {
        assert_chain_refused(Format::Tar, 10);
    }

    #[test]
    fn zip_symlink_chain_of_1_is_refused() {
        assert_chain_refused(Format::Zip, 1);
    }

    #[test]
    fn zip_symlink_chain_of_2_is_refused() {
        assert_chain_refused(Format::Zip, 2);
    }

    #[test]
    fn zip_symlink_chain_of_3_is_refused() {
        assert_chain_refused(Format::Zip, 3);
    }

    #[test]
    fn zip_symlink_chain_of_10_is_refused() {
        assert_chain_refused(Format::Zip, 10);
    }

    #[test]
    fn a_file_written_through_an_in_tree_link_to_a_directory_is_refused() {
        for format in Format::ALL {
            let members = [
                Member::Dir("pkg/real/"),
                Member::Link("pkg/alias", "real"),
                Member::File("pkg/alias/x", b"x", 0o644),
            ];
            Scene::new().assert_refused(
                format,
                &members,
                "pkg/alias/x",
                "is written through a link",
            );
        }
    }

    #[test]
    fn a_directory_written_through_a_link_is_refused() {
        for format in Format::ALL {
            let members = [
                Member::Dir("pkg/real/"),
                Member::Link("pkg/alias", "real"),
                Member::Dir("pkg/alias/sub/"),
            ];
            Scene::new().assert_refused(
                format,
                &members,
                "pkg/alias/sub/",
                "is written through a link",
            );
        }
    }

    #[test]
    fn a_later_entry_does_not_replace_or_write_through_an_earlier_link() {
        for format in Format::ALL {
            let members = [
                Member::File("pkg/setup.py", b"print()", 0o644),
                Member::Link("pkg/alias", "setup.py"),
                // Spelled with `./`, which the zip writer needs to take a second member of one
                // path; unpacking normalizes it to `pkg/alias`.
                Member::File("pkg/./alias", b"overwritten", 0o644),
            ];
            Scene::new().assert_refused(format, &members, "pkg/./alias", "would replace a link");
        }
    }

    #[test]
    fn a_hard_link_is_refused() {
        let members = [
            Member::File("pkg/a", b"a", 0o644),
            Member::HardLink("pkg/b", "pkg/a"),
        ];
        Scene::new().assert_refused(Format::Tar, &members, "pkg/b", "is a hard link");
    }

    #[test]
    fn devices_and_fifos_are_refused() {
        for kind in [
            tar::EntryType::Fifo,
            tar::EntryType::Char,
            tar::EntryType::Block,
            tar::EntryType::new(b'Z'),
        ] {
            let members = [
                Member::File("pkg/a", b"a", 0o644),
                Member::Special("pkg/dev", kind),
            ];
            Scene::new().assert_refused(
                Format::Tar,
                &members,
                "pkg/dev",
                "is a device, fifo or other special file",
            );
        }
    }

    #[test]
    fn absolute_paths_and_parent_components_are_refused() {
        for format in Format::ALL {
            let scene = Scene::new();
            let absolute = scene.outside.path().join("absolute");
            let absolute = absolute.to_str().unwrap();
            let members = [Member::File(absolute, b"x", 0o644)];
            scene.assert_refused(format, &members, absolute, "has an absolute path");
            let members = [Member::File("pkg/../../x", b"x", 0o644)];
            scene.assert_refused(format, &members, "pkg/../../x", "contains `..`");
            let members = [Member::File("pkg/../x", b"x", 0o644)];
            scene.assert_refused(format, &members, "pkg/../x", "contains `..`");
        }
    }

    #[test]
    fn a_link_to_outside_is_refused() {
        for format in Format::ALL {
            let members = [Member::Link("pkg/etc", "../../etc")];
            let reason = "is a link that points outside the source tree";
            Scene::new().assert_refused(format, &members, "pkg/etc", reason);
            let members = [Member::Link("pkg/etc", "/etc")];
            let reason = "is a link with an absolute target";
            Scene::new().assert_refused(format, &members, "pkg/etc", reason);
        }
    }

    #[test]
    fn a_link_through_a_link_to_dot_is_resolved_physically_and_refused() {
        // Lexically `pkg/b -> a/../..` stays inside; physically `a` is `pkg`, so it is `..`
        // of the tree.
        for format in Format::ALL {
            let members = [Member::Link("pkg/a", "."), Member::Link("pkg/b", "a/../..")];
            let reason = "is a link that points outside the source tree";
            Scene::new().assert_refused(format, &members, "pkg/b", reason);
        }
    }

    #[test]
    fn a_loop_of_links_is_refused() {
        for format in Format::ALL {
            let members = [Member::Link("pkg/a", "b"), Member::Link("pkg/b", "a/x")];
            let reason = "is a link that does not resolve (a loop of links)";
            Scene::new().assert_refused(format, &members, "pkg/a", reason);
        }
    }

    #[test]
    fn links_that_stay_inside_are_kept_and_readable() {
        for format in Format::ALL {
            let scene = Scene::new();
            let members = [
                Member::Dir("pkg/"),
                Member::File("pkg/data/value.txt", b"hello", 0o644),
                Member::Link("pkg/alias", "data"),
                Member::Link("pkg/docs/value.txt", "../alias/value.txt"),
                Member::Link("pkg/here", "."),
                Member::Link("pkg/top", ".."),
                Member::Link("pkg/dangling", "not-yet-built.so"),
            ];
            let root = scene.unpack(format, &members).unwrap();
            assert_eq!(root, scene.destination().join("pkg"), "{format:?}");
            let read = |path: &str| fs_err::read_to_string(root.join(path)).unwrap();
            assert_eq!(read("alias/value.txt"), "hello");
            assert_eq!(read("docs/value.txt"), "hello");
            assert_eq!(read("here/here/data/value.txt"), "hello");
            assert_eq!(read("top/pkg/data/value.txt"), "hello");
            let link = fs_err::read_link(root.join("alias")).unwrap();
            assert_eq!(link, Path::new("data"));
            assert_eq!(scene.outside_listing(), ["tree"], "{format:?}");
        }
    }

    #[test]
    fn a_refusal_after_files_were_written_leaves_nothing_behind() {
        for format in Format::ALL {
            let members = [
                Member::File("pkg/setup.py", b"print()", 0o644),
                Member::File("pkg/src/module.py", b"x = 1", 0o644),
                Member::Link("pkg/escape", "../../.."),
            ];
            let reason = "is a link that points outside the source tree";
            Scene::new().assert_refused(format, &members, "pkg/escape", reason);
        }
    }

    #[test]
    fn executable_bits_are_kept_and_setuid_setgid_sticky_dropped() {
        for format in Format::ALL {
            let scene = Scene::new();
            let members = [
                Member::File("pkg/configure", b"#!/bin/sh", 0o7755),
                Member::File("pkg/setup.py", b"print()", 0o6644),
            ];
            let root = scene.unpack(format, &members).unwrap();
            let mode = |name: &str| {
                fs_err::metadata(root.join(name))
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o7777
            };
            assert_eq!(mode("configure"), 0o755, "{format:?}");
            assert_eq!(mode("setup.py"), 0o644, "{format:?}");
        }
    }

    #[test]
    fn a_global_pax_header_and_a_gnu_long_name_unpack_as_git_archive_and_gnu_tar_write_them() {
        let scene = Scene::new();
        let path = scene.archives.path().join("source.tar.gz");
        let gzip = flate2::write::GzEncoder::new(
            fs_err::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        let mut builder = tar::Builder::new(gzip);
        let comment = b"52 comment=0123456789abcdef0123456789abcdef01234567\n";
        let mut header = tar::Header::new_ustar();
        set_raw(&mut header.as_old_mut().name, "pax_global_header");
        header.set_entry_type(tar::EntryType::XGlobalHeader);
        header.set_size(comment.len() as u64);
        header.set_cksum();
        builder.append(&header, &comment[..]).unwrap();
        let long = format!("pkg/{}/module.py", "deep".repeat(40));
        let mut header = tar::Header::new_gnu();
        header.set_size(5);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, &long, &b"x = 1"[..])
            .unwrap();
        builder.into_inner().unwrap().finish().unwrap();
        let root = unpack(&path, &scene.destination()).unwrap();
        assert_eq!(root, scene.destination().join("pkg"));
        let module = scene.destination().join(&long);
        assert_eq!(fs_err::read_to_string(module).unwrap(), "x = 1");
    }

    #[test]
    fn the_refusal_names_the_archive_and_the_member_and_says_what_to_do() {
        let scene = Scene::new();
        let archive = scene.archive(Format::Tar, &[Member::HardLink("pkg/b", "pkg/a")]);
        let error = unpack(&archive, &scene.destination()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "refusing to unpack {}: entry `pkg/b` is a hard link\n  \
                 help: the archive is unsafe or corrupt; do not build it",
                archive.display()
            )
        );
    }
}
