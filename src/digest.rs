//! SHA-256 digests of bytes and files, as lowercase hex. One implementation for the source
//! cache, the rebuild cache and the index.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The digest and size of a file, read in chunks.
pub fn sha256_file_sized(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = fs_err::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// The digest of a file.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    sha256_file_sized(path).map(|(digest, _)| digest)
}

/// A digest of a directory's contents: every file's relative path and digest, in sorted order.
pub fn sha256_tree(root: &Path) -> std::io::Result<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> std::io::Result<()> {
        for entry in fs_err::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                out.push((relative, sha256_file(&path)?));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(root, root, &mut files)?;
    files.sort();
    let mut hasher = Sha256::new();
    for (path, digest) in files {
        hasher.update(format!("{path}\0{digest}\n"));
    }
    Ok(hex::encode(hasher.finalize()))
}
