//! Préau plugin packages, shared by the core and the forge registry (no wasmtime here):
//!
//! - [`manifest`]: `plugin.toml`, checked field by field (`docs/plugin-manifest.md`), the limits
//!   table and the capabilities digest an establishment approves;
//! - [`archive`]: the deterministic `.preau` archive (`pack`, `unpack`) and its caps;
//! - [`signing`]: publisher keys and detached, canonical signatures;
//! - [`names`]: the naming rules the core's storage shares;
//! - [`imports`]: a component's imports against its manifest's capabilities and the host's API.

pub mod archive;
pub mod imports;
pub mod manifest;
pub mod names;
pub mod signing;

pub use archive::{Package, pack, unpack};
pub use manifest::Manifest;

/// Errors of packages: each names where the problem is (a manifest field, a file of the archive)
/// and says what it is, in French then English.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("manifeste / manifest, {field} : {message}")]
    Manifest { field: String, message: String },
    #[error("paquet / package, {path} : {message}")]
    Archive { path: String, message: String },
    #[error("signature : {0}")]
    Signature(String),
}

impl PackageError {
    pub(crate) fn manifest(field: impl Into<String>, message: impl Into<String>) -> PackageError {
        PackageError::Manifest {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn archive(path: impl Into<String>, message: impl Into<String>) -> PackageError {
        PackageError::Archive {
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn signature(message: impl Into<String>) -> PackageError {
        PackageError::Signature(message.into())
    }
}

pub type PackageResult<T> = Result<T, PackageError>;

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
