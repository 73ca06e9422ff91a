//! What a plugin declares about its documents: collections, and per collection the indexes it
//! queries by. The manifest is parsed elsewhere (the package crate); this is the checked form the
//! store works from, so a query or a write can only name what was declared.

use std::collections::BTreeMap;

use super::{StoreError, StoreResult};

/// Most collections per plugin.
pub const MAX_COLLECTIONS: usize = 64;
/// Most indexes per collection.
pub const MAX_INDEXES: usize = 16;
/// Most fields per index.
pub const MAX_INDEX_FIELDS: usize = 4;

/// The type of an indexed field, as found in the document's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A JSON string; compared bytewise, or in French alphabetical order with [`Collation::French`].
    String,
    /// A JSON integer (i64).
    Integer,
    /// A JSON string in RFC 3339 (`2026-11-30T08:00:00+01:00`); compared as instants.
    Datetime,
    /// A JSON boolean; `false` sorts first.
    Boolean,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Datetime => "datetime",
            FieldType::Boolean => "boolean",
        }
    }
}

/// How an indexed string compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Collation {
    /// Byte by byte (UTF-8), identically on both engines.
    #[default]
    Bytewise,
    /// French alphabetical order (the key of `preau-collate`, computed by the core).
    French,
}

/// One field of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexField {
    /// A top-level field of the document.
    pub field: String,
    pub kind: FieldType,
    pub collation: Collation,
}

impl IndexField {
    pub fn new(field: &str, kind: FieldType) -> IndexField {
        IndexField {
            field: field.to_owned(),
            kind,
            collation: Collation::Bytewise,
        }
    }

    /// A string field ordered the French way.
    pub fn french(field: &str) -> IndexField {
        IndexField {
            field: field.to_owned(),
            kind: FieldType::String,
            collation: Collation::French,
        }
    }
}

/// An index: documents ordered by the tuple of its fields, then by key. A document lacking one of
/// the fields is not in the index (so a unique index ignores it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: String,
    pub fields: Vec<IndexField>,
    pub unique: bool,
}

impl IndexSpec {
    /// The canonical text of the definition, stored when the index is built: when it changes
    /// (fields, uniqueness, or the collation algorithm), the index is rebuilt.
    pub fn definition(&self) -> String {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|f| match f.collation {
                Collation::Bytewise => format!("{}:{}", f.field, f.kind.as_str()),
                Collation::French => {
                    format!("{}:string:{}", f.field, preau_collate::COLLATION_VERSION)
                }
            })
            .collect();
        format!(
            "{}({}){}",
            self.name,
            fields.join(","),
            if self.unique { " unique" } else { "" }
        )
    }
}

/// A collection of documents and its indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionSpec {
    pub name: String,
    pub indexes: Vec<IndexSpec>,
}

impl CollectionSpec {
    pub fn index(&self, name: &str) -> StoreResult<&IndexSpec> {
        self.indexes.iter().find(|i| i.name == name).ok_or_else(|| {
            StoreError::invalid(
                "index",
                format!(
                    "la collection « {} » n'a pas d'index « {name} » / collection '{}' has no index '{name}'",
                    self.name, self.name
                ),
            )
        })
    }
}

/// Every collection a plugin declared, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreSpec {
    collections: BTreeMap<String, CollectionSpec>,
}

impl StoreSpec {
    /// Checks names, counts and types; the error names the collection, index or field at fault.
    pub fn new(collections: Vec<CollectionSpec>) -> StoreResult<StoreSpec> {
        if collections.len() > MAX_COLLECTIONS {
            return Err(StoreError::too_large(
                "collections",
                format!(
                    "au plus {MAX_COLLECTIONS} collections / at most {MAX_COLLECTIONS} collections"
                ),
            ));
        }
        let mut map = BTreeMap::new();
        for c in collections {
            check_name("collections.name", &c.name)?;
            let at = format!("collections.{}", c.name);
            if c.indexes.len() > MAX_INDEXES {
                return Err(StoreError::too_large(
                    format!("{at}.indexes"),
                    format!("au plus {MAX_INDEXES} index / at most {MAX_INDEXES} indexes"),
                ));
            }
            for (n, index) in c.indexes.iter().enumerate() {
                check_name(&format!("{at}.indexes.name"), &index.name)?;
                if c.indexes[..n].iter().any(|other| other.name == index.name) {
                    return Err(StoreError::invalid(
                        format!("{at}.indexes.{}", index.name),
                        "index déclaré deux fois / index declared twice",
                    ));
                }
                let at = format!("{at}.indexes.{}", index.name);
                if index.fields.is_empty() || index.fields.len() > MAX_INDEX_FIELDS {
                    return Err(StoreError::invalid(
                        format!("{at}.fields"),
                        format!(
                            "un index a de 1 à {MAX_INDEX_FIELDS} champs / an index has 1 to {MAX_INDEX_FIELDS} fields"
                        ),
                    ));
                }
                for f in &index.fields {
                    check_field(&format!("{at}.fields"), &f.field)?;
                    if f.collation == Collation::French && f.kind != FieldType::String {
                        return Err(StoreError::invalid(
                            format!("{at}.fields.{}", f.field),
                            "seul un champ texte a une collation / only a string field has a collation",
                        ));
                    }
                }
            }
            if map.insert(c.name.clone(), c).is_some() {
                return Err(StoreError::invalid(
                    at,
                    "collection déclarée deux fois / collection declared twice",
                ));
            }
        }
        Ok(StoreSpec { collections: map })
    }

    /// The declared collection `name`, or an error naming it.
    pub fn collection(&self, name: &str) -> StoreResult<&CollectionSpec> {
        self.collections.get(name).ok_or_else(|| {
            StoreError::invalid(
                "collection",
                format!(
                    "collection « {name} » non déclarée dans le manifeste / collection '{name}' is not declared in the manifest"
                ),
            )
        })
    }

    pub fn collections(&self) -> impl Iterator<Item = &CollectionSpec> {
        self.collections.values()
    }
}

impl StoreSpec {
    /// The checked form of what a manifest declares (its `[[collections]]`); the manifest was
    /// checked already, so an error here names a declaration the store cannot hold.
    pub fn from_manifest(manifest: &preau_package::Manifest) -> StoreResult<StoreSpec> {
        let mut collections = Vec::with_capacity(manifest.collections.len());
        for c in &manifest.collections {
            let mut indexes = Vec::with_capacity(c.indexes.len());
            for i in &c.indexes {
                let mut fields = Vec::with_capacity(i.fields.len());
                for f in &i.fields {
                    let kind = match f.kind.as_str() {
                        "string" => FieldType::String,
                        "integer" => FieldType::Integer,
                        "datetime" => FieldType::Datetime,
                        "boolean" => FieldType::Boolean,
                        other => {
                            return Err(StoreError::invalid(
                                format!(
                                    "collections.{}.indexes.{}.fields.{}",
                                    c.name, i.name, f.field
                                ),
                                format!("type inconnu « {other} » / unknown type '{other}'"),
                            ));
                        }
                    };
                    let collation = match f.collation.as_deref() {
                        Some("fr") => Collation::French,
                        _ => Collation::Bytewise,
                    };
                    fields.push(IndexField {
                        field: f.field.clone(),
                        kind,
                        collation,
                    });
                }
                indexes.push(IndexSpec {
                    name: i.name.clone(),
                    fields,
                    unique: i.unique,
                });
            }
            collections.push(CollectionSpec {
                name: c.name.clone(),
                indexes,
            });
        }
        StoreSpec::new(collections)
    }
}

/// Collection and index names: lowercase ASCII letters, digits, `-` and `_`, starting with a
/// letter, at most 64 bytes.
fn check_name(field: &str, name: &str) -> StoreResult<()> {
    if preau_package::names::is_name(name) {
        Ok(())
    } else {
        Err(StoreError::invalid(
            field,
            format!(
                "« {name} » : lettres minuscules, chiffres, - et _, commençant par une lettre (64 au plus) / \
                 lowercase letters, digits, - and _, starting with a letter (64 at most)"
            ),
        ))
    }
}

/// Field names: ASCII letters, digits and `_`, not starting with a digit, at most 64 bytes.
fn check_field(field: &str, name: &str) -> StoreResult<()> {
    if preau_package::names::is_field_name(name) {
        Ok(())
    } else {
        Err(StoreError::invalid(
            field,
            format!(
                "« {name} » : un champ de premier niveau, lettres, chiffres et _ / \
                 a top-level field, letters, digits and _"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bookings() -> CollectionSpec {
        CollectionSpec {
            name: "bookings".into(),
            indexes: vec![IndexSpec {
                name: "by-room".into(),
                fields: vec![
                    IndexField::new("room", FieldType::String),
                    IndexField::new("start", FieldType::Datetime),
                ],
                unique: false,
            }],
        }
    }

    #[test]
    fn a_valid_spec_is_accepted_and_lookups_name_what_is_missing() {
        let spec = StoreSpec::new(vec![bookings()]).expect("valid");
        let c = spec.collection("bookings").expect("declared");
        assert!(c.index("by-room").is_ok());
        let e = c.index("by-day").expect_err("undeclared").to_string();
        assert!(e.contains("by-day"), "{e}");
        let e = spec
            .collection("posts")
            .expect_err("undeclared")
            .to_string();
        assert!(e.starts_with("collection:") && e.contains("posts"), "{e}");
    }

    #[test]
    fn bad_declarations_name_the_field() {
        let mut c = bookings();
        c.name = "Bookings".into();
        assert!(
            StoreSpec::new(vec![c])
                .expect_err("uppercase")
                .to_string()
                .starts_with("collections.name")
        );
        let mut c = bookings();
        c.indexes.push(c.indexes[0].clone());
        let e = StoreSpec::new(vec![c]).expect_err("twice").to_string();
        assert!(e.starts_with("collections.bookings.indexes.by-room"), "{e}");
        let mut c = bookings();
        c.indexes[0].fields.push(IndexField {
            field: "n".into(),
            kind: FieldType::Integer,
            collation: Collation::French,
        });
        let e = StoreSpec::new(vec![c])
            .expect_err("collated integer")
            .to_string();
        assert!(
            e.starts_with("collections.bookings.indexes.by-room.fields.n"),
            "{e}"
        );
        let mut c = bookings();
        c.indexes[0].fields[0].field = "a.b".into();
        assert!(StoreSpec::new(vec![c]).is_err());
        assert!(StoreSpec::new(vec![bookings(), bookings()]).is_err());
    }

    #[test]
    fn the_definition_changes_with_the_collation_version() {
        let index = IndexSpec {
            name: "by-name".into(),
            fields: vec![IndexField::french("name")],
            unique: true,
        };
        let d = index.definition();
        assert!(
            d.contains(preau_collate::COLLATION_VERSION) && d.ends_with(" unique"),
            "{d}"
        );
    }
}
