//! Test helpers shared by the index and server tests: tiny wheels built with the zip crate.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes a tiny pure wheel `<name>-<version>-py3-none-any.whl` into `dir`.
pub(crate) fn make_wheel(
    dir: &Path,
    name: &str,
    version: &str,
    requires_python: Option<&str>,
) -> PathBuf {
    let escaped = crate::tags::escape_wheel_name(name);
    let path = dir.join(format!("{escaped}-{version}-py3-none-any.whl"));
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    let dist_info = format!("{escaped}-{version}.dist-info");
    zip.start_file(format!("{escaped}/__init__.py"), options)
        .unwrap();
    zip.write_all(b"VALUE = 1\n").unwrap();
    zip.start_file(format!("{dist_info}/METADATA"), options)
        .unwrap();
    let mut metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
    if let Some(requires) = requires_python {
        metadata.push_str(&format!("Requires-Python: {requires}\n"));
    }
    metadata.push_str("\nA description.\nRequires-Python: <0\n");
    zip.write_all(metadata.as_bytes()).unwrap();
    zip.start_file(format!("{dist_info}/WHEEL"), options)
        .unwrap();
    zip.write_all(b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        .unwrap();
    zip.finish().unwrap();
    path
}
