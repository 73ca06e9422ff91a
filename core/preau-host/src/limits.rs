//! The host's fixed caps on what crosses the boundary, beside the per-plugin [`crate::CallLimits`].
//! Each is documented in `docs/plugin-api.md` and tested; a value over a cap is refused with the
//! interface's typed error naming the field; only a log message and a failure's message are cut
//! instead.

/// A log message, in bytes; longer ones are cut.
pub const MAX_LOG_MESSAGE: usize = 4096;
/// A failure's message, in characters; longer ones are cut.
pub const MAX_FAILURE_CHARS: usize = 500;

/// An account, class-group or permission id a plugin passes (directory, rights, notifications).
pub const MAX_ID_BYTES: usize = 64;

/// Recipients of one notification.
pub const MAX_RECIPIENTS: usize = 1000;
/// A notification's title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// A notification's body, in characters.
pub const MAX_BODY_CHARS: usize = 2000;
/// A notification's link, in bytes.
pub const MAX_LINK_BYTES: usize = 1024;

/// A CAS service's name, in characters.
pub const MAX_SSO_NAME_CHARS: usize = 120;
/// A CAS service's URL prefix, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// Attributes released to one CAS service.
pub const MAX_SSO_ATTRIBUTES: usize = 32;

/// An outbound request's body.
pub const MAX_REQUEST_BODY: usize = 1 << 20;
/// An outbound response's body.
pub const MAX_RESPONSE_BODY: usize = 4 << 20;
/// Headers of an outbound request, and of its response.
pub const MAX_HEADERS: usize = 100;
/// One header (name and value), in bytes.
pub const MAX_HEADER_BYTES: usize = 8192;
/// An outbound URL, in bytes.
pub const MAX_OUTBOUND_URL_BYTES: usize = 8192;

/// A file path a plugin names (files, downloads); the core checks the rest.
pub const MAX_PATH_BYTES: usize = 512;

/// One chunk written to an upload, and one read from a download.
pub const MAX_CHUNK: usize = 64 << 10;
/// Uploads, and downloads, open at once in one call.
pub const MAX_OPEN_STREAMS: usize = 16;

/// A user-data export (JSON), in bytes.
pub const MAX_EXPORT_BYTES: usize = 8 << 20;
