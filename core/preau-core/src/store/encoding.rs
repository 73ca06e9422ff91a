//! Index values as byte strings whose bytewise order is the order of the values, so that one
//! `BLOB`/`BYTEA` column and one B-tree serve every index, on both engines.
//!
//! An entry is the concatenation of its fields, each one tag byte then its value:
//!
//! | type | tag | value |
//! |---|---|---|
//! | boolean | `0x10` | `0x00` or `0x01` |
//! | integer | `0x20` | 8 bytes big-endian, sign bit flipped |
//! | datetime | `0x30` | milliseconds since the epoch, as integer |
//! | string | `0x40` | UTF-8 (or the French collation key), `0x00` escaped as `0x00 0xFF`, then `0x00` |
//!
//! Instants are compared to the millisecond (two instants within one millisecond are equal for
//! ranges and unique indexes). Tags are below `0xFF`, so "every entry that starts with the
//! encoded prefix P" is the byte range `[P, P ‖ 0xFF)`; equality on the first fields and a range
//! on the next one become one such range. Cursors carry the last (value, key) seen.

use std::ops::Bound;

use super::spec::{Collation, FieldType, IndexField, IndexSpec};
use super::{MAX_INDEXED_STRING_BYTES, StoreError, StoreResult};

const TAG_BOOLEAN: u8 = 0x10;
const TAG_INTEGER: u8 = 0x20;
const TAG_DATETIME: u8 = 0x30;
const TAG_STRING: u8 = 0x40;
const PAST_PREFIX: u8 = 0xFF;
/// Largest encoded index entry. With the key (at most 512 bytes) and the scope columns, it keeps
/// every B-tree row under PostgreSQL's limit (2,704 bytes), so both engines accept the same
/// documents.
pub const MAX_ENTRY_BYTES: usize = 1_600;

/// A value a query compares an indexed field with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexValue {
    String(String),
    Integer(i64),
    /// RFC 3339, as in documents.
    Datetime(String),
    Boolean(bool),
}

impl IndexValue {
    fn type_name(&self) -> &'static str {
        match self {
            IndexValue::String(_) => "string",
            IndexValue::Integer(_) => "integer",
            IndexValue::Datetime(_) => "datetime",
            IndexValue::Boolean(_) => "boolean",
        }
    }
}

/// The encoded entry of `body` in `index`, or `None` when the document lacks one of its fields
/// (or holds `null` there). A field of the wrong type is an error naming it.
pub fn entry_value(
    index: &IndexSpec,
    body: &serde_json::Map<String, serde_json::Value>,
) -> StoreResult<Option<Vec<u8>>> {
    let mut out = Vec::new();
    for field in &index.fields {
        let value = match body.get(&field.field) {
            None | Some(serde_json::Value::Null) => return Ok(None),
            Some(v) => v,
        };
        let at = format!("body.{}", field.field);
        let value = match (field.kind, value) {
            (FieldType::String, serde_json::Value::String(s)) => IndexValue::String(s.clone()),
            (FieldType::Integer, serde_json::Value::Number(n)) if n.as_i64().is_some() => {
                IndexValue::Integer(n.as_i64().unwrap_or_default())
            }
            (FieldType::Datetime, serde_json::Value::String(s)) => IndexValue::Datetime(s.clone()),
            (FieldType::Boolean, serde_json::Value::Bool(b)) => IndexValue::Boolean(*b),
            (kind, _) => {
                return Err(StoreError::invalid(
                    at,
                    format!(
                        "l'index « {} » attend ici un {} / index '{}' expects a {} here",
                        index.name,
                        kind.as_str(),
                        index.name,
                        kind.as_str()
                    ),
                ));
            }
        };
        encode(&mut out, field, &value, &at)?;
    }
    if out.len() > MAX_ENTRY_BYTES {
        return Err(StoreError::too_large(
            format!(
                "body.{}",
                index.fields.last().map_or("", |f| f.field.as_str())
            ),
            format!(
                "l'entrée de l'index « {} » dépasse {MAX_ENTRY_BYTES} octets (valeurs trop longues) / \
                 the entry of index '{}' exceeds {MAX_ENTRY_BYTES} bytes (values too long)",
                index.name, index.name
            ),
        ));
    }
    Ok(Some(out))
}

/// Appends the encoding of `value` as `field` to `out`.
fn encode(out: &mut Vec<u8>, field: &IndexField, value: &IndexValue, at: &str) -> StoreResult<()> {
    let mismatch = || {
        StoreError::invalid(
            at,
            format!(
                "le champ « {} » est de type {}, pas {} / field '{}' is a {}, not a {}",
                field.field,
                field.kind.as_str(),
                value.type_name(),
                field.field,
                field.kind.as_str(),
                value.type_name()
            ),
        )
    };
    match (field.kind, value) {
        (FieldType::Boolean, IndexValue::Boolean(b)) => {
            out.push(TAG_BOOLEAN);
            out.push(u8::from(*b));
        }
        (FieldType::Integer, IndexValue::Integer(n)) => {
            out.push(TAG_INTEGER);
            out.extend_from_slice(&order_i64(*n));
        }
        (FieldType::Datetime, IndexValue::Datetime(s)) => {
            let instant = chrono::DateTime::parse_from_rfc3339(s).map_err(|_| {
                StoreError::invalid(
                    at,
                    format!(
                        "« {s} » n'est pas une date RFC 3339 (2026-11-30T08:00:00+01:00) / \
                         is not an RFC 3339 date-time"
                    ),
                )
            })?;
            out.push(TAG_DATETIME);
            out.extend_from_slice(&order_i64(instant.timestamp_millis()));
        }
        (FieldType::String, IndexValue::String(s)) => {
            if s.len() > MAX_INDEXED_STRING_BYTES {
                return Err(StoreError::too_large(
                    at,
                    format!(
                        "une valeur indexée fait au plus {MAX_INDEXED_STRING_BYTES} octets / \
                         an indexed value is at most {MAX_INDEXED_STRING_BYTES} bytes"
                    ),
                ));
            }
            out.push(TAG_STRING);
            let collated;
            let bytes = match field.collation {
                Collation::Bytewise => s.as_bytes(),
                Collation::French => {
                    collated = preau_collate::sort_key_bytes(s);
                    collated.as_slice()
                }
            };
            for &b in bytes {
                out.push(b);
                if b == 0 {
                    out.push(0xFF);
                }
            }
            out.push(0);
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

/// Big-endian with the sign bit flipped: bytewise order is numeric order.
fn order_i64(n: i64) -> [u8; 8] {
    (n.cast_unsigned() ^ (1 << 63)).to_be_bytes()
}

/// The byte range of index entries a query reads: `lower <= value < upper`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteRange {
    pub lower: Vec<u8>,
    /// `None`: no upper limit.
    pub upper: Option<Vec<u8>>,
}

/// The entries whose first fields equal `equals` and whose next field lies between `lower` and
/// `upper`.
pub fn index_range(
    index: &IndexSpec,
    equals: &[IndexValue],
    lower: &Bound<IndexValue>,
    upper: &Bound<IndexValue>,
) -> StoreResult<ByteRange> {
    let ranged = !matches!((lower, upper), (Bound::Unbounded, Bound::Unbounded));
    let needed = equals.len() + usize::from(ranged);
    if needed > index.fields.len() {
        return Err(StoreError::invalid(
            "query.equals",
            format!(
                "l'index « {} » a {} champ(s) : trop de valeurs / index '{}' has {} field(s): too many values",
                index.name,
                index.fields.len(),
                index.name,
                index.fields.len()
            ),
        ));
    }
    let mut prefix = Vec::new();
    for (field, value) in index.fields.iter().zip(equals) {
        encode(
            &mut prefix,
            field,
            value,
            &format!("query.equals.{}", field.field),
        )?;
    }
    let past = |mut v: Vec<u8>| {
        v.push(PAST_PREFIX);
        v
    };
    let next = index.fields.get(equals.len());
    let bound = |value: &IndexValue| -> StoreResult<Vec<u8>> {
        let mut v = prefix.clone();
        if let Some(field) = next {
            encode(
                &mut v,
                field,
                value,
                &format!("query.range.{}", field.field),
            )?;
        }
        Ok(v)
    };
    let lower = match lower {
        Bound::Unbounded => prefix.clone(),
        Bound::Included(v) => bound(v)?,
        Bound::Excluded(v) => past(bound(v)?),
    };
    let upper = match upper {
        Bound::Unbounded if prefix.is_empty() => None,
        Bound::Unbounded => Some(past(prefix.clone())),
        Bound::Included(v) => Some(past(bound(v)?)),
        Bound::Excluded(v) => Some(bound(v)?),
    };
    Ok(ByteRange { lower, upper })
}

/// Where the next page starts: after this (value, key). Encoded as text for the plugin; a cursor
/// only moves within the query's own scope, so it needs no secrecy, only a check that it belongs
/// to the same index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub value: Vec<u8>,
    pub key: String,
}

impl Cursor {
    /// `index` is empty for queries by key.
    pub fn encode(&self, index: &str) -> String {
        format!(
            "{index}~{}~{}",
            hex::encode(&self.value),
            hex::encode(self.key.as_bytes())
        )
    }

    pub fn decode(text: &str, index: &str) -> StoreResult<Cursor> {
        let bad = || {
            StoreError::invalid(
                "query.cursor",
                "curseur invalide ou d'une autre requête / invalid cursor, or one from another query",
            )
        };
        let mut parts = text.split('~');
        let (Some(i), Some(v), Some(k), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if i != index {
            return Err(bad());
        }
        if text.len() > 2 * (MAX_ENTRY_BYTES + super::MAX_KEY_BYTES) + 200 {
            return Err(bad());
        }
        let value = hex::decode(v).map_err(|_| bad())?;
        let key = hex::decode(k)
            .ok()
            .and_then(|k| String::from_utf8(k).ok())
            .filter(|k| !k.chars().any(char::is_control))
            .ok_or_else(bad)?;
        Ok(Cursor { value, key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(fields: Vec<IndexField>) -> IndexSpec {
        IndexSpec {
            name: "i".into(),
            fields,
            unique: false,
        }
    }

    fn enc(field: IndexField, v: IndexValue) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&mut out, &field, &v, "t").expect("encodes");
        out
    }

    #[test]
    fn integers_and_datetimes_sort_numerically() {
        let f = || IndexField::new("n", FieldType::Integer);
        let ns = [i64::MIN, -300, -1, 0, 1, 255, 256, i64::MAX];
        for w in ns.windows(2) {
            assert!(
                enc(f(), IndexValue::Integer(w[0])) < enc(f(), IndexValue::Integer(w[1])),
                "{w:?}"
            );
        }
        let d = || IndexField::new("d", FieldType::Datetime);
        // Offsets are honoured: 08:00+01:00 is 07:00Z.
        let a = enc(d(), IndexValue::Datetime("2026-11-30T07:30:00Z".into()));
        let b = enc(
            d(),
            IndexValue::Datetime("2026-11-30T08:00:00+01:00".into()),
        );
        assert!(b < a);
        let e = IndexValue::Datetime("lundi".into());
        let mut out = Vec::new();
        assert!(
            encode(&mut out, &d(), &e, "body.start")
                .expect_err("bad date")
                .to_string()
                .starts_with("body.start")
        );
    }

    #[test]
    fn strings_sort_bytewise_with_nul_escaped() {
        let f = || IndexField::new("s", FieldType::String);
        let s = |x: &str| enc(f(), IndexValue::String(x.into()));
        assert!(s("") < s("\0") && s("\0") < s("a") && s("a") < s("a\0") && s("a\0") < s("ab"));
        assert!(
            s("Z") < s("a") && s("z") < s("é"),
            "bytewise, not alphabetical"
        );
    }

    #[test]
    fn french_collation_orders_names() {
        let f = || IndexField::french("name");
        let s = |x: &str| enc(f(), IndexValue::String(x.into()));
        assert!(s("Dupont") < s("Élodie") && s("Élodie") < s("Emma") && s("Emma") < s("zoé"));
    }

    #[test]
    fn a_prefix_range_holds_exactly_its_extensions() {
        let idx = index(vec![
            IndexField::new("room", FieldType::String),
            IndexField::new("n", FieldType::Integer),
        ]);
        let entry = |room: &str, n: i64| {
            let body = serde_json::json!({"room": room, "n": n});
            entry_value(&idx, body.as_object().expect("object"))
                .expect("valid")
                .expect("indexed")
        };
        let r = index_range(
            &idx,
            &[IndexValue::String("b".into())],
            &Bound::Unbounded,
            &Bound::Unbounded,
        )
        .expect("range");
        let inside =
            |v: &[u8]| r.lower.as_slice() <= v && r.upper.as_ref().is_none_or(|u| v < u.as_slice());
        assert!(inside(&entry("b", i64::MIN)) && inside(&entry("b", i64::MAX)));
        assert!(!inside(&entry("a", 5)) && !inside(&entry("b\0", 5)) && !inside(&entry("bb", 5)));
        let r = index_range(
            &idx,
            &[IndexValue::String("b".into())],
            &Bound::Excluded(IndexValue::Integer(2)),
            &Bound::Included(IndexValue::Integer(4)),
        )
        .expect("range");
        let inside =
            |v: &[u8]| r.lower.as_slice() <= v && r.upper.as_ref().is_none_or(|u| v < u.as_slice());
        let got: Vec<i64> = (0..7).filter(|n| inside(&entry("b", *n))).collect();
        assert_eq!(got, vec![3, 4]);
        let e = index_range(
            &idx,
            &[IndexValue::Integer(1)],
            &Bound::Unbounded,
            &Bound::Unbounded,
        )
        .expect_err("type")
        .to_string();
        assert!(e.starts_with("query.equals.room"), "{e}");
    }

    #[test]
    fn documents_without_the_field_are_not_indexed_and_wrong_types_are_named() {
        let idx = index(vec![IndexField::new("n", FieldType::Integer)]);
        let obj = |v: serde_json::Value| v.as_object().cloned().expect("object");
        assert_eq!(
            entry_value(&idx, &obj(serde_json::json!({"x": 1}))).expect("ok"),
            None
        );
        assert_eq!(
            entry_value(&idx, &obj(serde_json::json!({"n": null}))).expect("ok"),
            None
        );
        let e = entry_value(&idx, &obj(serde_json::json!({"n": 1.5})))
            .expect_err("float")
            .to_string();
        assert!(e.starts_with("body.n"), "{e}");
    }

    #[test]
    fn cursors_round_trip_and_belong_to_their_index() {
        let c = Cursor {
            value: vec![0x40, 0, 0xFF, 7],
            key: "clé~1".into(),
        };
        assert_eq!(
            Cursor::decode(&c.encode("by-room"), "by-room").expect("decodes"),
            c
        );
        assert!(Cursor::decode(&c.encode("by-room"), "by-day").is_err());
        assert!(Cursor::decode("garbage", "").is_err());
    }
}
