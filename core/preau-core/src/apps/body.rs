//! The body of a request to a plugin route, read within limits: a urlencoded form, a flat JSON
//! object (API clients), or a multipart form whose files are streamed into the plugin's file
//! store (quota and `upload_mib` enforced by the store) before the plugin is called. The `_csrf`
//! field is taken out for the core's check; other `_` names are the core's and are dropped.
//! Files of a refused or failed request are deleted again ([`Submitted::discard`]).

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use futures_util::TryStreamExt;
use preau_host::Upload;

use crate::auth::token::constant_time_eq;
use crate::plugins::host::LoadedPlugin;
use crate::store::{PluginStorage, Scope, StoreError};

/// Largest urlencoded or JSON body (the fields of a form).
pub const MAX_FIELDS_BYTES: usize = 256 * 1024;
/// Most fields in one form.
pub const MAX_FIELDS: usize = 500;
/// Most files in one form.
pub const MAX_FILES: usize = 10;

/// What a form refused for its CSRF token says (French, English).
pub const CSRF_MESSAGE: (&str, &str) = (
    "Ce formulaire a expiré ou ne vient pas de Préau : rechargez la page et recommencez.",
    "This form expired or did not come from Préau: reload the page and try again.",
);

/// Whether `sent` is the form's `expected` token; an empty expected token (no pre-session
/// cookie) never matches.
pub fn token_matches(expected: &str, sent: &str) -> bool {
    !expected.is_empty() && constant_time_eq(sent.as_bytes(), expected.as_bytes())
}

/// The limits of one body.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub fields_bytes: usize,
    pub file_bytes: u64,
}

impl BodyLimits {
    /// The plugin's limits: its `upload_mib` for each file.
    pub fn of(loaded: &LoadedPlugin) -> BodyLimits {
        BodyLimits {
            fields_bytes: MAX_FIELDS_BYTES,
            file_bytes: loaded.limits.upload_bytes as u64,
        }
    }
}

/// Why a body was refused.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("body too large")]
    TooLarge,
    #[error("file too large")]
    FileTooLarge,
    #[error("too many fields or files")]
    TooMany,
    #[error("unreadable body: {0}")]
    Unreadable(String),
    #[error("unsupported content type")]
    Unsupported,
    #[error("quota")]
    Quota,
    #[error("storage: {0}")]
    Store(StoreError),
    /// A file came before a valid `_csrf` field (and no `X-CSRF-Token` header proved the form).
    #[error("csrf")]
    Csrf,
}

impl BodyError {
    pub fn status(&self) -> StatusCode {
        match self {
            BodyError::TooLarge | BodyError::FileTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BodyError::Quota => StatusCode::INSUFFICIENT_STORAGE,
            BodyError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            BodyError::Csrf => StatusCode::FORBIDDEN,
            BodyError::TooMany | BodyError::Unreadable(_) => StatusCode::BAD_REQUEST,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            BodyError::TooLarge | BodyError::FileTooLarge => "payload_too_large",
            BodyError::Unsupported => "unsupported_media_type",
            BodyError::Quota => "quota_exceeded",
            BodyError::Store(_) => "internal",
            BodyError::Csrf => "csrf",
            BodyError::TooMany | BodyError::Unreadable(_) => "bad_request",
        }
    }

    /// For people: French, English.
    pub fn messages(&self) -> (String, String) {
        match self {
            BodyError::TooLarge => (
                format!("Le formulaire dépasse {} Kio.", MAX_FIELDS_BYTES / 1024),
                format!("The form exceeds {} KiB.", MAX_FIELDS_BYTES / 1024),
            ),
            BodyError::FileTooLarge => (
                "Un fichier dépasse la taille permise par ce service.".into(),
                "A file exceeds the size this service allows.".into(),
            ),
            BodyError::TooMany => (
                format!(
                    "Trop de champs (plus de {MAX_FIELDS}) ou de fichiers (plus de {MAX_FILES})."
                ),
                format!("Too many fields (over {MAX_FIELDS}) or files (over {MAX_FILES})."),
            ),
            BodyError::Unreadable(_) => (
                "Le formulaire est illisible.".into(),
                "The form is unreadable.".into(),
            ),
            BodyError::Unsupported => (
                "Envoyez un formulaire (urlencoded ou multipart) ou un objet JSON.".into(),
                "Send a form (urlencoded or multipart) or a JSON object.".into(),
            ),
            BodyError::Quota => (
                "L'espace de fichiers de ce service est plein.".into(),
                "This service's file space is full.".into(),
            ),
            BodyError::Store(_) => (
                "Le fichier n'a pas pu être enregistré.".into(),
                "The file could not be stored.".into(),
            ),
            BodyError::Csrf => (CSRF_MESSAGE.0.into(), CSRF_MESSAGE.1.into()),
        }
    }
}

/// A file stored for the request.
#[derive(Debug, Clone)]
pub struct StoredUpload {
    pub upload: Upload,
}

/// What a body held.
#[derive(Debug, Default)]
pub struct Submitted {
    /// The fields, in order, without the core's (`_…`).
    pub fields: Vec<(String, String)>,
    /// The `_csrf` field, when sent.
    pub csrf: Option<String>,
    pub files: Vec<StoredUpload>,
}

impl Submitted {
    /// The stored files, as the plugin receives them.
    pub fn uploads(&self) -> Vec<Upload> {
        self.files.iter().map(|f| f.upload.clone()).collect()
    }

    /// Deletes the stored files (the request was refused or the call failed).
    pub async fn discard(&self, storage: &PluginStorage, scope: &Scope, loaded: &LoadedPlugin) {
        let files = storage.files(scope, loaded.store_limits);
        for f in &self.files {
            if let Err(e) = files.delete(&f.upload.path).await {
                tracing::warn!(error = %e, path = f.upload.path, "could not delete a discarded upload");
            }
        }
    }

    fn push(&mut self, name: String, value: String) -> Result<(), BodyError> {
        if name == "_csrf" {
            self.csrf = Some(value);
        } else if !name.starts_with('_') {
            if self.fields.len() >= MAX_FIELDS {
                return Err(BodyError::TooMany);
            }
            self.fields.push((name, value));
        }
        Ok(())
    }
}

/// Reads the body as its `Content-Type` says. Files are stored by `to` under
/// `uploads/{uuid}/{name}`, their subject the uploading person (so that export and deletion
/// reach them).
pub async fn read(
    headers: &HeaderMap,
    body: Body,
    limits: &BodyLimits,
    to: &Uploader<'_>,
) -> Result<Submitted, BodyError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // The boundary is case-sensitive: only the media type is compared without case.
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "" => Ok(Submitted::default()),
        "application/x-www-form-urlencoded" => {
            let bytes = bytes(body, limits.fields_bytes).await?;
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                .map_err(|e| BodyError::Unreadable(e.to_string()))?;
            let mut s = Submitted::default();
            for (k, v) in pairs {
                s.push(k, v)?;
            }
            Ok(s)
        }
        "application/json" => {
            let bytes = bytes(body, limits.fields_bytes).await?;
            let value: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&bytes).map_err(|e| BodyError::Unreadable(e.to_string()))?;
            let mut s = Submitted::default();
            for (k, v) in value {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(true) => "on".into(),
                    serde_json::Value::Bool(false) | serde_json::Value::Null => continue,
                    _ => {
                        return Err(BodyError::Unreadable(format!(
                            "{k}: texte, nombre ou booléen / string, number or boolean"
                        )));
                    }
                };
                s.push(k, v)?;
            }
            Ok(s)
        }
        "multipart/form-data" => {
            let boundary = multer::parse_boundary(content_type)
                .map_err(|e| BodyError::Unreadable(e.to_string()))?;
            let mut s = Submitted::default();
            match multipart(body, &boundary, limits, to, &mut s).await {
                Ok(()) => Ok(s),
                Err(e) => {
                    s.discard(to.storage, to.scope, to.loaded).await;
                    Err(e)
                }
            }
        }
        _ => Err(BodyError::Unsupported),
    }
}

async fn bytes(body: Body, limit: usize) -> Result<axum::body::Bytes, BodyError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| BodyError::TooLarge)
}

/// Where and for whom a multipart form's files are stored.
pub struct Uploader<'a> {
    pub storage: &'a PluginStorage,
    pub scope: &'a Scope,
    pub loaded: &'a LoadedPlugin,
    pub user: Option<&'a str>,
    /// When given (a cookie session's form whose header did not carry the token), no file is
    /// stored before a `_csrf` field matching it: the portal's forms send it first.
    pub files_need_token: Option<&'a str>,
}

async fn multipart(
    body: Body,
    boundary: &str,
    limits: &BodyLimits,
    to: &Uploader<'_>,
    into: &mut Submitted,
) -> Result<(), BodyError> {
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(limits.fields_bytes as u64 + limits.file_bytes * MAX_FILES as u64)
            .per_field(limits.file_bytes.max(limits.fields_bytes as u64)),
    );
    let mut form =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let mut text_bytes = 0usize;
    let files = to.storage.files(to.scope, to.loaded.store_limits);
    let subjects: Vec<String> = to.user.map(|u| vec![u.to_owned()]).unwrap_or_default();
    while let Some(field) = form.next_field().await.map_err(multer_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(clean_file_name) {
            Some(filename) => {
                if into.files.len() >= MAX_FILES {
                    return Err(BodyError::TooMany);
                }
                if filename.is_empty() {
                    // An empty file input: the browser sends a part without a name.
                    continue;
                }
                let proven = |expected| {
                    into.csrf
                        .as_deref()
                        .is_some_and(|sent| token_matches(expected, sent))
                };
                if to
                    .files_need_token
                    .is_some_and(|expected| !proven(expected))
                {
                    return Err(BodyError::Csrf);
                }
                let content_type = field
                    .content_type()
                    .map(|m| m.essence_str().to_owned())
                    .unwrap_or_else(|| "application/octet-stream".into());
                let path = format!("uploads/{}/{filename}", uuid::Uuid::new_v4().simple());
                let reader = tokio_util::io::StreamReader::new(field.map_err(|e| match e {
                    multer::Error::FieldSizeExceeded { .. }
                    | multer::Error::StreamSizeExceeded { .. } => {
                        std::io::Error::from(std::io::ErrorKind::FileTooLarge)
                    }
                    other => std::io::Error::other(other.to_string()),
                }));
                let meta = files
                    .put(&path, &content_type, &subjects, reader)
                    .await
                    .map_err(|e| match e {
                        StoreError::QuotaExceeded { .. } => BodyError::Quota,
                        StoreError::TooLarge { .. } => BodyError::FileTooLarge,
                        // multer's size limit cut the stream, or the stream broke.
                        StoreError::Io(e) if e.kind() == std::io::ErrorKind::FileTooLarge => {
                            BodyError::FileTooLarge
                        }
                        StoreError::Io(e) => BodyError::Unreadable(e.to_string()),
                        other => BodyError::Store(other),
                    })?;
                into.files.push(StoredUpload {
                    upload: Upload {
                        field: name,
                        path: meta.path,
                        filename,
                        content_type: meta.content_type,
                        size: meta.size,
                    },
                });
            }
            None => {
                // Read chunk by chunk, stopping as soon as the fields' cap is passed: a text
                // field never gets the file limit.
                let mut field = field;
                let mut value = Vec::new();
                text_bytes += name.len();
                while let Some(chunk) = field.chunk().await.map_err(multer_error)? {
                    text_bytes += chunk.len();
                    if text_bytes > limits.fields_bytes {
                        return Err(BodyError::TooLarge);
                    }
                    value.extend_from_slice(&chunk);
                }
                let value =
                    String::from_utf8(value).map_err(|_| BodyError::Unreadable("UTF-8".into()))?;
                into.push(name, value)?;
            }
        }
    }
    Ok(())
}

fn multer_error(e: multer::Error) -> BodyError {
    match e {
        multer::Error::FieldSizeExceeded { .. } => BodyError::FileTooLarge,
        multer::Error::StreamSizeExceeded { .. } => BodyError::TooLarge,
        other => BodyError::Unreadable(other.to_string()),
    }
}

/// The last component of a browser's file name, as a storage path segment: ASCII letters,
/// digits, `.`, `-`, `_` (others become `_`), not starting with `.`, at most 100 bytes.
fn clean_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let folded = deunicode::deunicode(last);
    let mut out: String = folded
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    while out.starts_with('.') {
        out.remove(0);
    }
    out.truncate(100);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(
            clean_file_name("C:\\Users\\élève\\Devoir n°1.pdf"),
            "Devoir_ndeg1.pdf"
        );
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name(".htaccess"), "htaccess");
        assert_eq!(clean_file_name(""), "");
    }
}
