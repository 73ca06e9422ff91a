//! Typed documents: a [`Collection<T>`] over the `documents` import, where `T` is any type
//! serde turns into a JSON object. Get, put (with an optional precondition), delete, query an
//! index or the keys (equality on the first fields, a range on the next, pages), and commit
//! several operations at once; every failure is a [`StoreError`].
//!
//! ```ignore
//! #[derive(Serialize, Deserialize)]
//! struct Devoir { classe: String, due: String, titre: String }
//!
//! let devoirs = Collection::<Devoir>::new("homework");
//! let rev = devoirs.create("42", &devoir, &[teacher_id])?;          // absent before
//! let page = devoirs.by_index("by-class-due").equals("4B").from(monday).limit(20).fetch()?;
//! for doc in page.docs { /* doc.key, doc.revision, doc.value */ }
//! ```
//!
//! The collection and its indexes are declared in the manifest (`[[collections]]`); a value
//! compared with an index field must have the field's declared type (`string`: `&str`,
//! `integer`: `i64`, `boolean`: `bool`, `datetime`: [`datetime`]). `docs/plugin-api.md` says how
//! queries, preconditions and transactions behave, and gives the guard pattern that makes
//! bookings of one room exclusive (see [`retry_on_conflict`]).

use std::marker::PhantomData;

use chrono::NaiveDate;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Failure;
use crate::api::documents as wit;

pub use wit::{IndexValue, Outcome, Precondition, Revision, WriteOp};

/// Why a documents operation did not apply. Nothing of a failed commit was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Operation `op` required the document to be absent; it exists at `actual`.
    #[error(
        "le document {collection}/{key} existe déjà / the document {collection}/{key} already exists"
    )]
    Exists {
        /// The operation's position in the commit.
        op: u32,
        /// Its collection.
        collection: String,
        /// Its key.
        key: String,
        /// Its current revision.
        actual: Revision,
    },
    /// Operation `op` required revision `expected`; the document is at `actual` (`None`:
    /// absent).
    #[error(
        "le document {collection}/{key} a changé entre-temps / the document {collection}/{key} changed meanwhile"
    )]
    Revision {
        /// The operation's position in the commit.
        op: u32,
        /// Its collection.
        collection: String,
        /// Its key.
        key: String,
        /// The revision required.
        expected: Revision,
        /// The current one, `None` when the document is absent.
        actual: Option<Revision>,
    },
    /// Operation `op` would put a value a unique index already holds, for document `holder`.
    #[error(
        "valeur déjà prise dans l'index {collection}/{index} / value already taken in index {collection}/{index}"
    )]
    Unique {
        /// The operation's position in the commit.
        op: u32,
        /// Its collection.
        collection: String,
        /// The unique index.
        index: String,
        /// The key of the document holding the value (empty if it went away meanwhile).
        holder: String,
    },
    /// Refused as malformed: `field` names the part at fault (`ops[0].body.start`).
    #[error("{field} : {message}")]
    Invalid {
        /// What is at fault.
        field: String,
        /// Why, French then English.
        message: String,
    },
    /// Over a limit: `field` names it.
    #[error("{field} : {message}")]
    TooLarge {
        /// What is too large.
        field: String,
        /// Why, French then English.
        message: String,
    },
    /// The storage could not answer; the call may be retried later.
    #[error("stockage indisponible / storage unavailable: {0}")]
    Unavailable(String),
    /// The value did not serialize to a JSON object (a document is an object).
    #[error(
        "le document {collection}/{key} n'est pas un objet JSON / the document {collection}/{key} is not a JSON object: {reason}"
    )]
    Encode {
        /// The collection written.
        collection: String,
        /// The key written.
        key: String,
        /// Why.
        reason: String,
    },
    /// A stored document does not fit the type (its fields changed since it was written?).
    #[error(
        "le document {collection}/{key} ne correspond pas au type attendu / the document {collection}/{key} does not fit the expected type: {reason}"
    )]
    Decode {
        /// The collection read.
        collection: String,
        /// The key read.
        key: String,
        /// What serde said.
        reason: String,
    },
}

impl StoreError {
    /// Whether the failure is a conflict (a precondition or a unique index): read again and
    /// decide, or retry.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            StoreError::Exists { .. } | StoreError::Revision { .. } | StoreError::Unique { .. }
        )
    }
}

impl From<wit::Error> for StoreError {
    fn from(e: wit::Error) -> StoreError {
        match e {
            wit::Error::Conflict(wit::Conflict::Exists(c)) => StoreError::Exists {
                op: c.op,
                collection: c.collection,
                key: c.key,
                actual: c.actual,
            },
            wit::Error::Conflict(wit::Conflict::Revision(c)) => StoreError::Revision {
                op: c.op,
                collection: c.collection,
                key: c.key,
                expected: c.expected,
                actual: c.actual,
            },
            wit::Error::Conflict(wit::Conflict::Unique(c)) => StoreError::Unique {
                op: c.op,
                collection: c.collection,
                index: c.index,
                holder: c.holder,
            },
            wit::Error::Invalid(r) => StoreError::Invalid {
                field: r.field,
                message: r.message,
            },
            wit::Error::TooLarge(r) => StoreError::TooLarge {
                field: r.field,
                message: r.message,
            },
            wit::Error::Unavailable(m) => StoreError::Unavailable(m),
        }
    }
}

impl From<StoreError> for Failure {
    /// 409 for a conflict ("someone changed it meanwhile"), 400 for a refusal, 500 otherwise.
    fn from(e: StoreError) -> Failure {
        let status = match &e {
            e if e.is_conflict() => 409,
            StoreError::Invalid { .. } | StoreError::TooLarge { .. } => 400,
            _ => 500,
        };
        Failure {
            status,
            message: e.to_string(),
        }
    }
}

/// A stored document, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc<T> {
    /// Its key in the collection.
    pub key: String,
    /// Its revision, for a later write's precondition (`update`, `delete`, `require_op`).
    pub revision: Revision,
    /// When it was last written, in milliseconds since the Unix epoch.
    pub updated_at: i64,
    /// Its value.
    pub value: T,
}

/// One page of a query's documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocPage<T> {
    /// The documents, in the query's order.
    pub docs: Vec<Doc<T>>,
    /// Present when more documents follow: give it to [`Query::cursor`] for the next page.
    pub next_cursor: Option<String>,
}

/// A collection of the plugin's documents, each a `T`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection<T> {
    name: String,
    _type: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Collection<T> {
    /// The collection `name`, as declared in the manifest.
    pub fn new(name: impl Into<String>) -> Collection<T> {
        Collection {
            name: name.into(),
            _type: PhantomData,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The document at `key`, `None` when absent.
    pub fn get(&self, key: &str) -> Result<Option<Doc<T>>, StoreError> {
        wit::get(&self.name, key)?
            .map(|d| self.decode(d))
            .transpose()
    }

    /// Writes `value` at `key` under `precondition` (none: create or replace); `subjects` are
    /// the account ids the document is about (its author, the pupils concerned), which the
    /// export and deletion of a person's data reach. Its new revision.
    pub fn put(
        &self,
        key: &str,
        value: &T,
        subjects: &[&str],
        precondition: Option<Precondition>,
    ) -> Result<Revision, StoreError> {
        let op = self.put_op(key, value, subjects, precondition)?;
        match commit(&[op])?.first() {
            Some(Outcome::Written(revision)) => Ok(*revision),
            _ => Err(StoreError::Unavailable(
                "réponse inattendue / unexpected answer".into(),
            )),
        }
    }

    /// Creates the document at `key` (refused with [`StoreError::Exists`] if there is one).
    pub fn create(&self, key: &str, value: &T, subjects: &[&str]) -> Result<Revision, StoreError> {
        self.put(key, value, subjects, Some(Precondition::Absent))
    }

    /// Replaces the document at `key` if it is still at `revision` (refused with
    /// [`StoreError::Revision`] otherwise).
    pub fn update(
        &self,
        key: &str,
        value: &T,
        subjects: &[&str],
        revision: Revision,
    ) -> Result<Revision, StoreError> {
        self.put(
            key,
            value,
            subjects,
            Some(Precondition::AtRevision(revision)),
        )
    }

    /// Deletes the document at `key` (only at `revision`, when given); whether there was one.
    pub fn delete(&self, key: &str, revision: Option<Revision>) -> Result<bool, StoreError> {
        match commit(&[self.delete_op(key, revision)])?.first() {
            Some(Outcome::Deleted(existed)) => Ok(*existed),
            _ => Err(StoreError::Unavailable(
                "réponse inattendue / unexpected answer".into(),
            )),
        }
    }

    /// A query by key (text bounds on the keys, in key order).
    pub fn query(&self) -> Query<T> {
        Query::new(&self.name, None)
    }

    /// A query on the index `index` declared for this collection.
    pub fn by_index(&self, index: &str) -> Query<T> {
        Query::new(&self.name, Some(index.to_owned()))
    }

    /// The operation writing `value` at `key`, for [`commit`].
    pub fn put_op(
        &self,
        key: &str,
        value: &T,
        subjects: &[&str],
        precondition: Option<Precondition>,
    ) -> Result<WriteOp, StoreError> {
        Ok(WriteOp::Put(wit::PutOp {
            collection: self.name.clone(),
            key: key.to_owned(),
            body: self.encode(key, value)?,
            subjects: subjects.iter().map(|s| (*s).to_owned()).collect(),
            precondition,
        }))
    }

    /// The operation deleting `key` (only at `revision`, when given), for [`commit`].
    pub fn delete_op(&self, key: &str, revision: Option<Revision>) -> WriteOp {
        WriteOp::Delete(wit::DeleteOp {
            collection: self.name.clone(),
            key: key.to_owned(),
            revision,
        })
    }

    /// The operation requiring `key` to stay at `revision` until the commit, for [`commit`].
    pub fn require_op(&self, key: &str, revision: Revision) -> WriteOp {
        WriteOp::Require(wit::RequireOp {
            collection: self.name.clone(),
            key: key.to_owned(),
            revision,
        })
    }

    /// `value` as a document body: a JSON object, as text.
    pub fn encode(&self, key: &str, value: &T) -> Result<String, StoreError> {
        let encode = |reason: String| StoreError::Encode {
            collection: self.name.clone(),
            key: key.chars().take(200).collect(),
            reason,
        };
        match serde_json::to_value(value) {
            Ok(v @ serde_json::Value::Object(_)) => Ok(v.to_string()),
            Ok(_) => Err(encode("pas un objet / not an object".into())),
            Err(e) => Err(encode(e.to_string())),
        }
    }

    /// A stored document of this collection, decoded.
    pub fn decode(&self, doc: wit::Document) -> Result<Doc<T>, StoreError> {
        let value = serde_json::from_str(&doc.body).map_err(|e| StoreError::Decode {
            collection: doc.collection.clone(),
            key: doc.key.clone(),
            reason: e.to_string(),
        })?;
        Ok(Doc {
            key: doc.key,
            revision: doc.revision,
            updated_at: doc.updated_at,
            value,
        })
    }
}

/// Applies every operation, or none: what each did, in order.
pub fn commit(ops: &[WriteOp]) -> Result<Vec<Outcome>, StoreError> {
    Ok(wit::commit(ops)?)
}

/// Runs `attempt` until it succeeds, fails otherwise than by a conflict, or has failed by a
/// conflict `attempts` times (then that conflict): the loop of the guard pattern
/// (`docs/plugin-api.md`), where each attempt reads again and commits.
pub fn retry_on_conflict<R>(
    attempts: u32,
    mut attempt: impl FnMut() -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    let mut left = attempts.max(1);
    loop {
        match attempt() {
            Err(e) if e.is_conflict() && left > 1 => left -= 1,
            other => return other,
        }
    }
}

/// A datetime index value: RFC 3339, e.g. `2026-11-30T08:00:00+01:00`.
pub fn datetime(rfc3339: impl Into<String>) -> IndexValue {
    IndexValue::Datetime(rfc3339.into())
}

impl From<&str> for IndexValue {
    fn from(s: &str) -> IndexValue {
        IndexValue::Text(s.to_owned())
    }
}

impl From<String> for IndexValue {
    fn from(s: String) -> IndexValue {
        IndexValue::Text(s)
    }
}

impl From<i64> for IndexValue {
    fn from(n: i64) -> IndexValue {
        IndexValue::Integer(n)
    }
}

impl From<i32> for IndexValue {
    fn from(n: i32) -> IndexValue {
        IndexValue::Integer(n.into())
    }
}

impl From<bool> for IndexValue {
    fn from(b: bool) -> IndexValue {
        IndexValue::Boolean(b)
    }
}

impl From<NaiveDate> for IndexValue {
    /// A day as text, `YYYY-MM-DD` (for a `string` index field holding days: their text order
    /// is their date order).
    fn from(d: NaiveDate) -> IndexValue {
        IndexValue::Text(crate::calendar::iso(d))
    }
}

/// A query being built: equality on the index's first fields, then a range on the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query<T> {
    selection: wit::Selection,
    _type: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Query<T> {
    fn new(collection: &str, index: Option<String>) -> Query<T> {
        Query {
            selection: wit::Selection {
                collection: collection.to_owned(),
                index,
                equals: Vec::new(),
                lower: wit::Bound::Unbounded,
                upper: wit::Bound::Unbounded,
                descending: false,
                limit: None,
                cursor: None,
            },
            _type: PhantomData,
        }
    }

    /// The next index field equals `value`.
    pub fn equals(mut self, value: impl Into<IndexValue>) -> Self {
        self.selection.equals.push(value.into());
        self
    }

    /// The range starts at `value`, included.
    pub fn from(mut self, value: impl Into<IndexValue>) -> Self {
        self.selection.lower = wit::Bound::Included(value.into());
        self
    }

    /// The range starts after `value`.
    pub fn after(mut self, value: impl Into<IndexValue>) -> Self {
        self.selection.lower = wit::Bound::Excluded(value.into());
        self
    }

    /// The range ends at `value`, included.
    pub fn until(mut self, value: impl Into<IndexValue>) -> Self {
        self.selection.upper = wit::Bound::Included(value.into());
        self
    }

    /// The range ends before `value`.
    pub fn before(mut self, value: impl Into<IndexValue>) -> Self {
        self.selection.upper = wit::Bound::Excluded(value.into());
        self
    }

    /// Last first.
    pub fn descending(mut self) -> Self {
        self.selection.descending = true;
        self
    }

    /// At most `n` documents per page (1 to 500; 50 by default).
    pub fn limit(mut self, n: u32) -> Self {
        self.selection.limit = Some(n);
        self
    }

    /// Continues after a previous page (its `next_cursor`, with the same query).
    pub fn cursor(mut self, cursor: Option<String>) -> Self {
        self.selection.cursor = cursor;
        self
    }

    /// The selection sent to the core.
    pub fn selection(&self) -> &wit::Selection {
        &self.selection
    }

    /// One page of documents.
    pub fn fetch(&self) -> Result<DocPage<T>, StoreError> {
        let page = wit::query(&self.selection)?;
        self.decode_page(page)
    }

    /// A page the core answered, decoded.
    pub fn decode_page(&self, page: wit::Page) -> Result<DocPage<T>, StoreError> {
        let collection: Collection<T> = Collection::new(self.selection.collection.clone());
        let docs = page
            .documents
            .into_iter()
            .map(|d| collection.decode(d))
            .collect::<Result<_, _>>()?;
        Ok(DocPage {
            docs,
            next_cursor: page.next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Devoir {
        classe: String,
        titre: String,
    }

    fn devoir() -> Devoir {
        Devoir {
            classe: "4B".into(),
            titre: "Ex. 4".into(),
        }
    }

    #[test]
    fn operations_carry_json_objects() {
        let devoirs = Collection::<Devoir>::new("homework");
        let op = devoirs
            .put_op("42", &devoir(), &["u-1"], Some(Precondition::Absent))
            .expect("an object");
        let WriteOp::Put(put) = op else {
            panic!("a put")
        };
        assert_eq!(put.collection, "homework");
        assert_eq!(put.key, "42");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&put.body).expect("json"),
            serde_json::json!({"classe": "4B", "titre": "Ex. 4"})
        );
        assert_eq!(put.subjects, ["u-1"]);
        assert_eq!(put.precondition, Some(Precondition::Absent));
        assert_eq!(
            devoirs.delete_op("42", Some(3)),
            WriteOp::Delete(wit::DeleteOp {
                collection: "homework".into(),
                key: "42".into(),
                revision: Some(3),
            })
        );
        assert!(matches!(devoirs.require_op("42", 3), WriteOp::Require(r) if r.revision == 3));
        let numbers = Collection::<Vec<u32>>::new("numbers");
        let e = numbers
            .put_op("k", &vec![1], &[], None)
            .expect_err("not an object");
        assert!(matches!(e, StoreError::Encode { .. }));
        assert_eq!(Failure::from(e).status, 500);
    }

    #[test]
    fn documents_are_decoded_or_named() {
        let devoirs = Collection::<Devoir>::new("homework");
        let stored = |body: &str| wit::Document {
            collection: "homework".into(),
            key: "42".into(),
            revision: 7,
            body: body.into(),
            updated_at: 1_764_486_000_000,
        };
        let doc = devoirs
            .decode(stored(r#"{"classe":"4B","titre":"Ex. 4","extra":1}"#))
            .expect("fits");
        assert_eq!(
            doc,
            Doc {
                key: "42".into(),
                revision: 7,
                updated_at: 1_764_486_000_000,
                value: devoir(),
            }
        );
        let e = devoirs
            .decode(stored(r#"{"classe":"4B"}"#))
            .expect_err("misses titre");
        assert!(
            matches!(&e, StoreError::Decode { key, .. } if key == "42"),
            "{e}"
        );
        let page = devoirs
            .query()
            .decode_page(wit::Page {
                documents: vec![stored(r#"{"classe":"4B","titre":"Ex. 4"}"#)],
                next_cursor: Some("c".into()),
            })
            .expect("page");
        assert_eq!(page.docs.len(), 1);
        assert_eq!(page.next_cursor.as_deref(), Some("c"));
    }

    #[test]
    fn queries_build_the_selection() {
        let devoirs = Collection::<Devoir>::new("homework");
        let monday = crate::calendar::parse_date("2026-11-30").expect("date");
        let q = devoirs
            .by_index("by-class-due")
            .equals("4B")
            .from(datetime("2026-11-30T00:00:00+01:00"))
            .before(datetime("2026-12-07T00:00:00+01:00"))
            .descending()
            .limit(20)
            .cursor(Some("next".into()));
        assert_eq!(
            q.selection(),
            &wit::Selection {
                collection: "homework".into(),
                index: Some("by-class-due".into()),
                equals: vec![IndexValue::Text("4B".into())],
                lower: wit::Bound::Included(IndexValue::Datetime(
                    "2026-11-30T00:00:00+01:00".into()
                )),
                upper: wit::Bound::Excluded(IndexValue::Datetime(
                    "2026-12-07T00:00:00+01:00".into()
                )),
                descending: true,
                limit: Some(20),
                cursor: Some("next".into()),
            }
        );
        let by_key = devoirs.query().after("a").until(monday);
        assert_eq!(by_key.selection().index, None);
        assert_eq!(
            by_key.selection().upper,
            wit::Bound::Included(IndexValue::Text("2026-11-30".into()))
        );
        assert_eq!(IndexValue::from(3), IndexValue::Integer(3));
        assert_eq!(IndexValue::from(true), IndexValue::Boolean(true));
    }

    #[test]
    fn wit_errors_map_to_store_errors_and_failures() {
        let conflict = StoreError::from(wit::Error::Conflict(wit::Conflict::Revision(
            wit::RevisionConflict {
                op: 1,
                collection: "guards".into(),
                key: "salle-101/2026-11-30".into(),
                expected: 3,
                actual: Some(4),
            },
        )));
        assert!(conflict.is_conflict());
        let failure = Failure::from(conflict);
        assert_eq!(failure.status, 409);
        assert!(failure.message.contains(" / "), "{}", failure.message);
        let invalid = StoreError::from(wit::Error::Invalid(wit::Refusal {
            field: "ops[0].body.start".into(),
            message: "un instant RFC 3339 / an RFC 3339 instant".into(),
        }));
        assert!(!invalid.is_conflict());
        assert_eq!(
            Failure::from(invalid).message,
            "ops[0].body.start : un instant RFC 3339 / an RFC 3339 instant"
        );
        let unique = StoreError::from(wit::Error::Conflict(wit::Conflict::Unique(
            wit::UniqueConflict {
                op: 0,
                collection: "rooms".into(),
                index: "by-name".into(),
                holder: "r-1".into(),
            },
        )));
        assert!(unique.is_conflict());
        let down = StoreError::from(wit::Error::Unavailable("x".into()));
        assert_eq!(Failure::from(down).status, 500);
    }

    #[test]
    fn retrying_on_conflicts_only() {
        let conflict = || StoreError::Exists {
            op: 0,
            collection: "c".into(),
            key: "k".into(),
            actual: 1,
        };
        let mut calls = 0;
        let r = retry_on_conflict(5, || {
            calls += 1;
            if calls < 3 {
                Err(conflict())
            } else {
                Ok(calls)
            }
        });
        assert_eq!(r, Ok(3));
        let mut calls = 0;
        let r: Result<(), _> = retry_on_conflict(2, || {
            calls += 1;
            Err(conflict())
        });
        assert!(r.is_err());
        assert_eq!(calls, 2);
        let mut calls = 0;
        let r: Result<(), _> = retry_on_conflict(5, || {
            calls += 1;
            Err(StoreError::Unavailable("x".into()))
        });
        assert!(r.is_err());
        assert_eq!(calls, 1);
    }
}
