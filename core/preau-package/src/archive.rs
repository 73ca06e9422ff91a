//! The `.preau` file: a gzip'd ustar archive holding `plugin.toml` first, then exactly the files
//! the manifest names (component, translations, assets) in byte order of their paths. Every
//! entry is a regular file with fixed metadata (mode 0644, owner 0, time 0), so packing the same
//! directory twice gives the same bytes, and the sha256 that signatures and the registry carry
//! identifies the content.
//!
//! [`pack`] reads a plugin's directory (it never builds anything); [`unpack`] checks an archive
//! from anywhere — sizes are capped before anything is inflated past them, paths are checked
//! like the manifest's, and every file must be one the manifest names.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::manifest::Manifest;
use crate::{PackageError, PackageResult, sha256_hex};

/// Largest `.preau` file.
pub const MAX_PACKAGE_BYTES: u64 = 32 * 1024 * 1024;
/// Largest total of the unpacked files.
pub const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;
/// Largest single file (the component, usually).
pub const MAX_ENTRY_BYTES: u64 = 32 * 1024 * 1024;
/// Most entries in a package.
pub const MAX_ENTRIES: usize = 256;
/// The name of the manifest inside a package, always its first entry.
pub const MANIFEST: &str = "plugin.toml";

/// A checked package.
#[derive(Debug, Clone)]
pub struct Package {
    pub manifest: Manifest,
    /// Every file by path, `plugin.toml` included.
    pub files: BTreeMap<String, Vec<u8>>,
    /// SHA-256 (hex) of the `.preau` bytes.
    pub sha256: String,
    /// Size of the `.preau` bytes.
    pub size: u64,
}

impl Package {
    /// The component's bytes.
    pub fn component(&self) -> &[u8] {
        self.files
            .get(&self.manifest.component)
            .map_or(&[], Vec::as_slice)
    }
}

/// The files a manifest names, besides itself, in archive order.
fn named_files(manifest: &Manifest) -> Vec<String> {
    let mut files: Vec<String> = std::iter::once(manifest.component.clone())
        .chain(manifest.translations.values().cloned())
        .chain(manifest.assets.iter().cloned())
        .collect();
    files.sort();
    files.dedup();
    files
}

/// Packs the plugin in `dir` (its `plugin.toml` and the files it names) into `.preau` bytes.
pub fn pack(dir: &Path) -> PackageResult<Vec<u8>> {
    let manifest_text = read_regular(dir, MANIFEST)?;
    let text = String::from_utf8(manifest_text.clone())
        .map_err(|_| PackageError::manifest(MANIFEST, "pas de l'UTF-8 / not UTF-8"))?;
    let manifest = Manifest::parse(&text)?;
    let mut entries = vec![(MANIFEST.to_owned(), manifest_text)];
    for path in named_files(&manifest) {
        let bytes = read_regular(dir, &path)?;
        entries.push((path, bytes));
    }
    let files: BTreeMap<String, Vec<u8>> = entries.iter().cloned().collect();
    check_contents(&manifest, &files)?;

    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    for (path, bytes) in &entries {
        let mut header = tar::Header::new_ustar();
        header
            .set_path(path)
            .map_err(|e| PackageError::archive(path, e.to_string()))?;
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar.append(&header, bytes.as_slice())
            .map_err(|e| PackageError::archive(path, e.to_string()))?;
    }
    let gz = tar
        .into_inner()
        .map_err(|e| PackageError::archive("(archive)", e.to_string()))?;
    let bytes = gz
        .finish()
        .map_err(|e| PackageError::archive("(gzip)", e.to_string()))?;
    if bytes.len() as u64 > MAX_PACKAGE_BYTES {
        return Err(PackageError::archive(
            "(package)",
            format!("plus de {MAX_PACKAGE_BYTES} octets / more than {MAX_PACKAGE_BYTES} bytes"),
        ));
    }
    Ok(bytes)
}

/// A regular file of the plugin's directory (a symlink or anything else is refused).
fn read_regular(dir: &Path, rel: &str) -> PackageResult<Vec<u8>> {
    let path = dir.join(rel);
    let meta = std::fs::symlink_metadata(&path)
        .map_err(|e| PackageError::archive(rel, format!("introuvable / not found ({e})")))?;
    if !meta.file_type().is_file() {
        return Err(PackageError::archive(
            rel,
            "pas un fichier ordinaire (lien ?) / not a regular file (link?)",
        ));
    }
    if meta.len() > MAX_ENTRY_BYTES {
        return Err(PackageError::archive(
            rel,
            format!("plus de {MAX_ENTRY_BYTES} octets / more than {MAX_ENTRY_BYTES} bytes"),
        ));
    }
    std::fs::read(&path).map_err(|e| PackageError::archive(rel, e.to_string()))
}

/// Reads and checks `.preau` bytes.
pub fn unpack(bytes: &[u8]) -> PackageResult<Package> {
    if bytes.len() as u64 > MAX_PACKAGE_BYTES {
        return Err(PackageError::archive(
            "(package)",
            format!("plus de {MAX_PACKAGE_BYTES} octets / more than {MAX_PACKAGE_BYTES} bytes"),
        ));
    }
    let bad = |path: &str, why: &str| PackageError::archive(path, why.to_owned());
    // The inflated stream is capped: a small archive cannot inflate past the total allowed.
    let gz = flate2::read::GzDecoder::new(bytes).take(MAX_UNPACKED_BYTES + 64 * 1024 * 4);
    let mut archive = tar::Archive::new(gz);
    let mut files = BTreeMap::new();
    let mut order = Vec::new();
    let mut total: u64 = 0;
    let entries = archive
        .entries()
        .map_err(|e| PackageError::archive("(archive)", e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| {
            PackageError::archive("(archive)", format!("illisible / unreadable: {e}"))
        })?;
        if order.len() >= MAX_ENTRIES {
            return Err(bad("(archive)", "trop de fichiers / too many files"));
        }
        let header = entry.header();
        let path = String::from_utf8(entry.path_bytes().into_owned())
            .map_err(|_| bad("(archive)", "chemin non UTF-8 / non-UTF-8 path"))?;
        if header.entry_type() != tar::EntryType::Regular {
            return Err(bad(&path, "pas un fichier ordinaire / not a regular file"));
        }
        let fixed = header.mode().ok() == Some(0o644)
            && header.mtime().ok() == Some(0)
            && header.uid().ok() == Some(0)
            && header.gid().ok() == Some(0);
        if !fixed {
            return Err(bad(
                &path,
                "métadonnées non canoniques (mode, date, propriétaire) / non-canonical metadata (mode, time, owner)",
            ));
        }
        if path != MANIFEST {
            crate::manifest::check_relative(&path, &path)
                .map_err(|_| bad(&path, "chemin refusé / path refused"))?;
        }
        let size = entry.size();
        if size > MAX_ENTRY_BYTES {
            return Err(bad(&path, "fichier trop gros / file too large"));
        }
        total += size;
        if total > MAX_UNPACKED_BYTES {
            return Err(bad(
                "(archive)",
                "contenu total trop gros / total content too large",
            ));
        }
        let mut content = Vec::with_capacity(size as usize);
        entry
            .read_to_end(&mut content)
            .map_err(|e| PackageError::archive(&path, e.to_string()))?;
        if files.insert(path.clone(), content).is_some() {
            return Err(bad(&path, "fichier en double / duplicate file"));
        }
        order.push(path);
    }
    if order.first().map(String::as_str) != Some(MANIFEST) {
        return Err(bad(
            MANIFEST,
            "doit être le premier fichier / must be the first file",
        ));
    }
    if !order[1..].windows(2).all(|w| w[0] < w[1]) {
        return Err(bad("(archive)", "fichiers non triés / files not sorted"));
    }
    let text = std::str::from_utf8(&files[MANIFEST])
        .map_err(|_| bad(MANIFEST, "pas de l'UTF-8 / not UTF-8"))?;
    let manifest = Manifest::parse(text)?;
    let named = named_files(&manifest);
    if let Some(extra) = order[1..].iter().find(|p| !named.contains(p)) {
        return Err(bad(
            extra,
            "fichier non déclaré dans le manifeste / file not named by the manifest",
        ));
    }
    check_contents(&manifest, &files)?;
    Ok(Package {
        manifest,
        files,
        sha256: sha256_hex(bytes),
        size: bytes.len() as u64,
    })
}

/// Every named file is present and is what its name says: a component (not a core module), UTF-8
/// Fluent files, raster images and PDFs by their magic bytes.
fn check_contents(manifest: &Manifest, files: &BTreeMap<String, Vec<u8>>) -> PackageResult<()> {
    let get = |path: &str| {
        files.get(path).ok_or_else(|| {
            PackageError::archive(path, "absent du paquet / missing from the package")
        })
    };
    let component = get(&manifest.component)?;
    // `\0asm`, then the component-model layer (a core module has version 1, layer 0).
    if component.len() < 8 || &component[..4] != b"\0asm" || component[6..8] != [1, 0] {
        return Err(PackageError::manifest(
            "component",
            "pas un composant WebAssembly (construire pour wasm32-wasip2) / not a WebAssembly component (build for wasm32-wasip2)",
        ));
    }
    for (lang, path) in &manifest.translations {
        if std::str::from_utf8(get(path)?).is_err() {
            return Err(PackageError::manifest(
                format!("translations.{lang}"),
                "pas de l'UTF-8 / not UTF-8",
            ));
        }
    }
    for (n, path) in manifest.assets.iter().enumerate() {
        let b = get(path)?;
        let ext = path
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        // The content must be what the extension says (a browser trusts the type it is served as).
        let ok = match ext.as_str() {
            "png" => b.starts_with(b"\x89PNG\r\n\x1a\n"),
            "jpg" | "jpeg" => b.starts_with(&[0xFF, 0xD8, 0xFF]),
            "gif" => b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a"),
            "webp" => b.len() > 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP",
            "pdf" => b.starts_with(b"%PDF-"),
            _ => false,
        };
        if !ok {
            return Err(PackageError::manifest(
                format!("assets[{n}]"),
                format!(
                    "« {path} » n'est pas un fichier {ext} (contenu) / is not a {ext} file (content)"
                ),
            ));
        }
    }
    Ok(())
}
