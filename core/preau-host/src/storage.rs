//! The host side of `documents` and `files`: each call goes to the core's `Services` with the
//! call's context (the core scopes it to the plugin and the establishment), and the core's
//! refusals come back as the typed WIT errors; anything internal becomes a bare "unavailable".
//!
//! An upload is gathered here, chunk by chunk (at most 64 KiB each, at most the call's
//! `upload_bytes` in all the uploads open at once), and handed to the core only by `finish`:
//! an upload the plugin drops unfinished is forgotten and creates nothing. A download reads the
//! core's stream in chunks of at most 64 KiB. At most 16 uploads and 16 downloads are open at
//! once in a call.

use tokio::io::AsyncReadExt;
use wasmtime::component::Resource;

use crate::bindings::preau::plugin::documents::{self, Refusal};
use crate::bindings::preau::plugin::files;
use crate::limits::{MAX_CHUNK, MAX_OPEN_STREAMS};
use crate::state::{State, cut};
use crate::{FileReader, NewFile, ServiceError};

/// A file being written: what `files.upload` is on the host.
pub struct UploadState {
    path: String,
    content_type: String,
    subjects: Vec<String>,
    content: Vec<u8>,
    /// A refusal met while writing: `finish` answers it and stores nothing.
    failed: Option<files::Error>,
}

/// A file being read: what `files.download` is on the host.
pub struct DownloadState {
    reader: FileReader,
}

fn refusal(field: impl Into<String>, message: impl Into<String>) -> Refusal {
    Refusal {
        field: field.into(),
        message: message.into(),
    }
}

// --- documents ---

impl State {
    fn documents_error(&self, e: ServiceError) -> documents::Error {
        match e {
            ServiceError::Conflict(c) => documents::Error::Conflict(c),
            ServiceError::Invalid { field, message } => {
                documents::Error::Invalid(refusal(field, message))
            }
            ServiceError::TooLarge { field, message } => {
                documents::Error::TooLarge(refusal(field, message))
            }
            other => documents::Error::Unavailable(self.unavailable("documents", &other)),
        }
    }
}

impl documents::Host for State {
    async fn get(
        &mut self,
        collection: String,
        key: String,
    ) -> Result<Option<documents::Document>, documents::Error> {
        let answer = self
            .env
            .services
            .document_get(&self.env.ctx, collection, key)
            .await;
        answer.map_err(|e| self.documents_error(e))
    }

    async fn query(
        &mut self,
        q: documents::Selection,
    ) -> Result<documents::Page, documents::Error> {
        let answer = self.env.services.document_query(&self.env.ctx, q).await;
        answer.map_err(|e| self.documents_error(e))
    }

    async fn commit(
        &mut self,
        ops: Vec<documents::WriteOp>,
    ) -> Result<Vec<documents::Outcome>, documents::Error> {
        let answer = self.env.services.document_commit(&self.env.ctx, ops).await;
        answer.map_err(|e| self.documents_error(e))
    }
}

// --- files ---

impl State {
    fn files_error(&self, e: ServiceError) -> files::Error {
        match e {
            ServiceError::Invalid { field, message } => {
                files::Error::Invalid(refusal(field, message))
            }
            ServiceError::TooLarge { field, message } => {
                files::Error::TooLarge(refusal(field, message))
            }
            ServiceError::QuotaExceeded {
                quota,
                used,
                needed,
            } => files::Error::QuotaExceeded(files::QuotaExceeded {
                quota,
                used,
                needed,
            }),
            ServiceError::NotFound(what) => files::Error::NotFound(what),
            other => files::Error::Unavailable(self.unavailable("files", &other)),
        }
    }

    fn too_many_streams(what: &str) -> files::Error {
        files::Error::TooLarge(refusal(
            what,
            format!(
                "au plus {MAX_OPEN_STREAMS} flux ouverts à la fois / at most {MAX_OPEN_STREAMS} streams open at once"
            ),
        ))
    }

    /// Forgets an upload (finished or dropped), and what it held.
    fn close_upload(&mut self, upload: Resource<UploadState>) -> wasmtime::Result<UploadState> {
        let upload = self.table.delete(upload)?;
        self.streams.uploads = self.streams.uploads.saturating_sub(1);
        self.streams.buffered = self.streams.buffered.saturating_sub(upload.content.len());
        Ok(upload)
    }
}

/// A content type, in bytes.
const MAX_CONTENT_TYPE_BYTES: usize = 255;

impl files::Host for State {
    async fn create(
        &mut self,
        path: String,
        content_type: String,
        subjects: Vec<String>,
    ) -> Result<Resource<UploadState>, files::Error> {
        if path.is_empty() || path.len() > crate::limits::MAX_PATH_BYTES {
            return Err(files::Error::Invalid(refusal(
                "path",
                "un chemin de 1 à 512 octets / a path of 1 to 512 bytes",
            )));
        }
        if content_type.len() > MAX_CONTENT_TYPE_BYTES {
            return Err(files::Error::Invalid(refusal(
                "content-type",
                "255 octets au plus / at most 255 bytes",
            )));
        }
        if self.streams.uploads >= MAX_OPEN_STREAMS {
            return Err(State::too_many_streams("uploads"));
        }
        let upload = UploadState {
            path,
            content_type,
            subjects,
            content: Vec::new(),
            failed: None,
        };
        match self.table.push(upload) {
            Ok(handle) => {
                self.streams.uploads += 1;
                Ok(handle)
            }
            Err(e) => Err(files::Error::Unavailable(
                self.unavailable("files", &ServiceError::Internal(Box::new(e))),
            )),
        }
    }

    async fn open(
        &mut self,
        path: String,
    ) -> Result<(files::FileMeta, Resource<DownloadState>), files::Error> {
        if self.streams.downloads >= MAX_OPEN_STREAMS {
            return Err(State::too_many_streams("downloads"));
        }
        let answer = self.env.services.file_open(&self.env.ctx, path).await;
        let (meta, reader) = answer.map_err(|e| self.files_error(e))?;
        match self.table.push(DownloadState { reader }) {
            Ok(handle) => {
                self.streams.downloads += 1;
                Ok((meta, handle))
            }
            Err(e) => Err(files::Error::Unavailable(
                self.unavailable("files", &ServiceError::Internal(Box::new(e))),
            )),
        }
    }

    async fn stat(&mut self, path: String) -> Result<Option<files::FileMeta>, files::Error> {
        let answer = self.env.services.file_stat(&self.env.ctx, path).await;
        answer.map_err(|e| self.files_error(e))
    }

    async fn delete(&mut self, path: String) -> Result<bool, files::Error> {
        let answer = self.env.services.file_delete(&self.env.ctx, path).await;
        answer.map_err(|e| self.files_error(e))
    }

    async fn list(
        &mut self,
        prefix: String,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<files::FileMeta>, files::Error> {
        let answer = self
            .env
            .services
            .file_list(&self.env.ctx, prefix, after, limit)
            .await;
        answer.map_err(|e| self.files_error(e))
    }

    async fn usage(&mut self) -> Result<files::FileUsage, files::Error> {
        let answer = self.env.services.file_usage(&self.env.ctx).await;
        answer.map_err(|e| self.files_error(e))
    }
}

impl files::HostUpload for State {
    async fn write(
        &mut self,
        upload: Resource<UploadState>,
        chunk: Vec<u8>,
    ) -> Result<(), files::Error> {
        let limit = self.env.limits.upload_bytes;
        let buffered = self.streams.buffered;
        let state = match self.table.get_mut(&upload) {
            Ok(state) => state,
            Err(e) => {
                return Err(files::Error::Unavailable(
                    self.unavailable("files", &ServiceError::Internal(Box::new(e))),
                ));
            }
        };
        if let Some(failed) = &state.failed {
            return Err(failed.clone());
        }
        if chunk.len() > MAX_CHUNK {
            return Err(files::Error::TooLarge(refusal(
                "chunk",
                "64 Kio au plus par écriture / at most 64 KiB per write",
            )));
        }
        let refused = if state.content.len() + chunk.len() > limit {
            Some(files::Error::TooLarge(refusal(
                "file",
                format!("un fichier fait au plus {limit} octets / a file is at most {limit} bytes"),
            )))
        } else if buffered + chunk.len() > limit {
            Some(files::Error::TooLarge(refusal(
                "uploads",
                format!(
                    "les fichiers en cours d'écriture font au plus {limit} octets ensemble / \
                     files being written hold at most {limit} bytes together"
                ),
            )))
        } else {
            None
        };
        if let Some(error) = refused {
            // The upload is spoiled: its bytes are released, `finish` will answer the refusal.
            let released = std::mem::take(&mut state.content).len();
            state.failed = Some(error.clone());
            self.streams.buffered = self.streams.buffered.saturating_sub(released);
            return Err(error);
        }
        state.content.extend_from_slice(&chunk);
        self.streams.buffered += chunk.len();
        Ok(())
    }

    async fn finish(
        &mut self,
        upload: Resource<UploadState>,
    ) -> Result<files::FileMeta, files::Error> {
        let upload = match self.close_upload(upload) {
            Ok(upload) => upload,
            Err(e) => {
                return Err(files::Error::Unavailable(self.unavailable(
                    "files",
                    &ServiceError::Internal(e.to_string().into()),
                )));
            }
        };
        if let Some(failed) = upload.failed {
            return Err(failed);
        }
        let file = NewFile {
            path: upload.path,
            content_type: upload.content_type,
            subjects: upload.subjects,
            content: upload.content,
        };
        let answer = self.env.services.file_put(&self.env.ctx, file).await;
        answer.map_err(|e| self.files_error(e))
    }

    async fn drop(&mut self, upload: Resource<UploadState>) -> wasmtime::Result<()> {
        // Unfinished: nothing reaches the core.
        let upload = self.close_upload(upload)?;
        if upload.failed.is_none() {
            tracing::debug!(
                plugin = self.env.ctx.plugin(),
                request_id = self.env.ctx.request_id(),
                path = cut(&upload.path, 80),
                "envoi abandonné / upload abandoned"
            );
        }
        Ok(())
    }
}

impl files::HostDownload for State {
    async fn read(
        &mut self,
        download: Resource<DownloadState>,
        max: u32,
    ) -> Result<Vec<u8>, files::Error> {
        if max == 0 {
            return Err(files::Error::Invalid(refusal(
                "max",
                "au moins 1 octet / at least 1 byte",
            )));
        }
        let want = (max as usize).min(MAX_CHUNK);
        let state = match self.table.get_mut(&download) {
            Ok(state) => state,
            Err(e) => {
                return Err(files::Error::Unavailable(
                    self.unavailable("files", &ServiceError::Internal(Box::new(e))),
                ));
            }
        };
        let mut buf = vec![0u8; want];
        match state.reader.read(&mut buf).await {
            Ok(n) => {
                buf.truncate(n);
                Ok(buf)
            }
            Err(e) => Err(files::Error::Unavailable(
                self.unavailable("files", &ServiceError::Internal(Box::new(e))),
            )),
        }
    }

    async fn drop(&mut self, download: Resource<DownloadState>) -> wasmtime::Result<()> {
        self.table.delete(download)?;
        self.streams.downloads = self.streams.downloads.saturating_sub(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use files::{Host as _, HostUpload as _};

    use super::*;
    use crate::state::{CallEnv, UNAVAILABLE};
    use crate::{CallContext, CallLimits, Grants, Unavailable};

    fn state(upload_bytes: usize) -> State {
        let env = CallEnv {
            ctx: CallContext::new("essai:fichiers", "0750652C", None, "req-files"),
            services: Arc::new(Unavailable),
            grants: Arc::new(Grants::default()),
            limits: CallLimits {
                upload_bytes,
                ..CallLimits::default()
            },
        };
        State::new(env, "sha".into())
    }

    fn borrow(upload: &Resource<UploadState>) -> Resource<UploadState> {
        Resource::new_borrow(upload.rep())
    }

    #[test]
    fn the_core_s_refusals_keep_their_type_and_internal_errors_their_secrets() {
        let state = state(1 << 20);
        let conflict = documents::Conflict::Exists(documents::ExistsConflict {
            op: 1,
            collection: "salles".into(),
            key: "101".into(),
            actual: 7,
        });
        assert_eq!(
            state.documents_error(ServiceError::Conflict(conflict.clone())),
            documents::Error::Conflict(conflict)
        );
        assert_eq!(
            state.documents_error(ServiceError::TooLarge {
                field: "ops[0].body".into(),
                message: "trop grand / too large".into(),
            }),
            documents::Error::TooLarge(refusal("ops[0].body", "trop grand / too large"))
        );
        let internal = || {
            ServiceError::Internal(Box::new(std::io::Error::other(
                "disk full at /var/lib/preau/secret-7c1e",
            )))
        };
        assert_eq!(
            state.documents_error(internal()),
            documents::Error::Unavailable(UNAVAILABLE.into())
        );
        assert_eq!(
            state.files_error(internal()),
            files::Error::Unavailable(UNAVAILABLE.into())
        );
        assert_eq!(
            state.files_error(ServiceError::QuotaExceeded {
                quota: 10,
                used: 8,
                needed: 5
            }),
            files::Error::QuotaExceeded(files::QuotaExceeded {
                quota: 10,
                used: 8,
                needed: 5
            })
        );
        assert_eq!(
            state.files_error(ServiceError::NotFound("fichier / file a.txt".into())),
            files::Error::NotFound("fichier / file a.txt".into())
        );
        // A variant `documents` has no case for is a bug of the service: unavailable.
        assert_eq!(
            state.documents_error(ServiceError::QuotaExceeded {
                quota: 1,
                used: 1,
                needed: 1
            }),
            documents::Error::Unavailable(UNAVAILABLE.into())
        );
    }

    #[tokio::test]
    async fn uploads_are_capped_chunk_file_and_count_and_a_spoiled_one_stores_nothing() {
        let mut state = state(100 << 10);
        let upload = state
            .create("a.txt".into(), "text/plain".into(), vec![])
            .await
            .expect("create");
        let chunk = |n| vec![b'x'; n];
        let refused_field = |e: files::Error| match e {
            files::Error::TooLarge(r) => r.field,
            other => format!("{other:?}"),
        };
        let e = state
            .write(borrow(&upload), chunk(MAX_CHUNK + 1))
            .await
            .expect_err("chunk over 64 KiB");
        assert_eq!(refused_field(e), "chunk");
        state
            .write(borrow(&upload), chunk(MAX_CHUNK))
            .await
            .expect("a 64 KiB chunk");
        assert_eq!(state.streams.buffered, MAX_CHUNK);
        let e = state
            .write(borrow(&upload), chunk(40 << 10))
            .await
            .expect_err("over the file limit");
        assert_eq!(refused_field(e), "file");
        assert_eq!(state.streams.buffered, 0, "a spoiled upload holds nothing");
        // `finish` answers the refusal; the core (here: unavailable) is never asked.
        let e = state.finish(upload).await.expect_err("spoiled");
        assert_eq!(refused_field(e), "file");
        assert_eq!(state.streams.uploads, 0);

        // Two uploads share the call's upload budget.
        let a = state
            .create("a.txt".into(), "text/plain".into(), vec![])
            .await
            .expect("a");
        let b = state
            .create("b.txt".into(), "text/plain".into(), vec![])
            .await
            .expect("b");
        state.write(borrow(&a), chunk(60 << 10)).await.expect("a");
        let e = state
            .write(borrow(&b), chunk(60 << 10))
            .await
            .expect_err("over the call's budget");
        assert_eq!(refused_field(e), "uploads");
        files::HostUpload::drop(&mut state, a)
            .await
            .expect("drop a");
        files::HostUpload::drop(&mut state, b)
            .await
            .expect("drop b");
        assert_eq!((state.streams.uploads, state.streams.buffered), (0, 0));

        // At most MAX_OPEN_STREAMS uploads at once.
        let mut open = Vec::new();
        for n in 0..MAX_OPEN_STREAMS {
            open.push(
                state
                    .create(format!("{n}.txt"), "text/plain".into(), vec![])
                    .await
                    .expect("open"),
            );
        }
        let e = state
            .create("one-too-many.txt".into(), "text/plain".into(), vec![])
            .await
            .expect_err("too many");
        assert_eq!(refused_field(e), "uploads");
        let e = state
            .create(String::new(), "text/plain".into(), vec![])
            .await;
        assert!(matches!(e, Err(files::Error::Invalid(_))));
    }
}
