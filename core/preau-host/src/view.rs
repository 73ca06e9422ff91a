//! The `view/1.x` schema, checked when a view crosses the boundary (`docs/view-schema.md` is
//! its reference). A plugin never emits HTML: it answers with this JSON, and the core renders it
//! (accessible HTML, or JSON for API clients). Anything outside the schema — an unknown node
//! kind, an unknown field, a link leaving the plugin, too deep or too many nodes — is refused
//! with the path of the node at fault (`body[2].items[0].kind`).

use serde_json::{Map, Value};

/// Deepest nesting of nodes.
pub const MAX_DEPTH: usize = 16;
/// Most nodes in one view.
pub const MAX_NODES: usize = 5_000;

/// Node kinds of `view/1.0`, with their fields: (name, required).
const KINDS: &[(&str, &[(&str, bool)])] = &[
    ("section", &[("title", false), ("body", true)]),
    ("text", &[("text", true)]),
    ("user-text", &[("html", true)]),
    ("list", &[("items", true), ("ordered", false)]),
    (
        "table",
        &[("caption", true), ("columns", true), ("rows", true)],
    ),
    ("card", &[("title", true), ("body", false), ("link", false)]),
    ("notice", &[("level", true), ("text", true)]),
    ("link", &[("label", true), ("href", true)]),
    (
        "form",
        &[
            ("action", true),
            ("method", true),
            ("fields", true),
            ("submit", true),
        ],
    ),
    ("week", &[("start", true), ("events", true)]),
    ("month", &[("month", true), ("events", true)]),
    ("download", &[("label", true), ("href", true)]),
];

const FIELD_TYPES: &[&str] = &[
    "text", "textarea", "number", "date", "time", "datetime", "select", "checkbox", "radio",
    "hidden", "file",
];

struct Checker {
    nodes: usize,
}

type Check = Result<(), String>;

/// Checks a parsed view: `Err` names the path and the problem, French then English.
pub fn check(view: &Value) -> Check {
    let top = view
        .as_object()
        .ok_or("la vue est un objet JSON / the view is a JSON object")?;
    allow_fields("", top, &["schema", "title", "body"])?;
    let schema = top
        .get("schema")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let minor = schema
        .strip_prefix("view/1.")
        .filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()));
    if minor.is_none() {
        let shown: String = schema.chars().take(40).collect();
        return Err(format!(
            "schema : « view/1.x » attendu, pas « {shown} » / schema: 'view/1.x' expected, not '{shown}'"
        ));
    }
    text(top, "title", "title", true)?;
    let mut checker = Checker { nodes: 0 };
    checker.nodes_of(top.get("body"), "body", 1, false)
}

impl Checker {
    fn nodes_of(&mut self, value: Option<&Value>, at: &str, depth: usize, optional: bool) -> Check {
        let Some(value) = value else {
            return if optional {
                Ok(())
            } else {
                Err(format!("{at} : requis / required"))
            };
        };
        let items = value
            .as_array()
            .ok_or_else(|| format!("{at} : une liste de nœuds / a list of nodes"))?;
        for (n, item) in items.iter().enumerate() {
            self.node(item, &format!("{at}[{n}]"), depth)?;
        }
        Ok(())
    }

    fn node(&mut self, value: &Value, at: &str, depth: usize) -> Check {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(format!(
                "{at} : plus de {MAX_NODES} nœuds / more than {MAX_NODES} nodes"
            ));
        }
        if depth > MAX_DEPTH {
            return Err(format!(
                "{at} : plus de {MAX_DEPTH} niveaux / more than {MAX_DEPTH} levels"
            ));
        }
        let node = value
            .as_object()
            .ok_or_else(|| format!("{at} : un nœud est un objet / a node is an object"))?;
        let kind = node.get("kind").and_then(Value::as_str).unwrap_or_default();
        let Some((_, fields)) = KINDS.iter().find(|(k, _)| *k == kind) else {
            let shown: String = kind.chars().take(40).collect();
            return Err(format!(
                "{at}.kind : type de nœud inconnu « {shown} » / unknown node kind '{shown}'"
            ));
        };
        let mut allowed: Vec<&str> = vec!["kind"];
        allowed.extend(fields.iter().map(|(f, _)| *f));
        allow_fields(at, node, &allowed)?;
        for (field, required) in fields.iter() {
            if *required && !node.contains_key(*field) {
                return Err(format!("{at}.{field} : requis / required"));
            }
        }
        match kind {
            "section" => {
                text(node, "title", &format!("{at}.title"), false)?;
                self.nodes_of(node.get("body"), &format!("{at}.body"), depth + 1, false)
            }
            "text" => text(node, "text", &format!("{at}.text"), true),
            "user-text" => text(node, "html", &format!("{at}.html"), true),
            "list" => self.nodes_of(node.get("items"), &format!("{at}.items"), depth + 1, false),
            "table" => {
                text(node, "caption", &format!("{at}.caption"), true)?;
                let columns = strings(node.get("columns"), &format!("{at}.columns"))?;
                let rows = node
                    .get("rows")
                    .and_then(Value::as_array)
                    .ok_or_else(|| format!("{at}.rows : une liste / a list"))?;
                for (r, row) in rows.iter().enumerate() {
                    let cells = row
                        .as_array()
                        .ok_or_else(|| format!("{at}.rows[{r}] : une liste / a list"))?;
                    if cells.len() != columns {
                        return Err(format!(
                            "{at}.rows[{r}] : {} cellules pour {columns} colonnes / {} cells for {columns} columns",
                            cells.len(),
                            cells.len()
                        ));
                    }
                    for (c, cell) in cells.iter().enumerate() {
                        if !cell.is_string() {
                            self.node(cell, &format!("{at}.rows[{r}][{c}]"), depth + 1)?;
                        }
                    }
                }
                Ok(())
            }
            "card" => {
                text(node, "title", &format!("{at}.title"), true)?;
                if let Some(link) = node.get("link") {
                    self.node(link, &format!("{at}.link"), depth + 1)?;
                }
                self.nodes_of(node.get("body"), &format!("{at}.body"), depth + 1, true)
            }
            "notice" => {
                let level = node
                    .get("level")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !["info", "success", "warning", "error"].contains(&level) {
                    return Err(format!(
                        "{at}.level : info, success, warning ou error / info, success, warning or error"
                    ));
                }
                text(node, "text", &format!("{at}.text"), true)
            }
            "link" | "download" => {
                text(node, "label", &format!("{at}.label"), true)?;
                local_path(node, "href", &format!("{at}.href"))
            }
            "form" => {
                local_path(node, "action", &format!("{at}.action"))?;
                let method = node
                    .get("method")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if method != "get" && method != "post" {
                    return Err(format!("{at}.method : get ou post / get or post"));
                }
                text(node, "submit", &format!("{at}.submit"), true)?;
                let fields = node
                    .get("fields")
                    .and_then(Value::as_array)
                    .ok_or_else(|| format!("{at}.fields : une liste / a list"))?;
                for (f, field) in fields.iter().enumerate() {
                    self.nodes += 1;
                    form_field(field, &format!("{at}.fields[{f}]"))?;
                }
                Ok(())
            }
            "week" => {
                let start = node
                    .get("start")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if chrono_like_date(start).is_none() {
                    return Err(format!(
                        "{at}.start : une date AAAA-MM-JJ / a YYYY-MM-DD date"
                    ));
                }
                let events = node
                    .get("events")
                    .and_then(Value::as_array)
                    .ok_or_else(|| format!("{at}.events : une liste / a list"))?;
                for (e, event) in events.iter().enumerate() {
                    self.nodes += 1;
                    let at = format!("{at}.events[{e}]");
                    let event = event
                        .as_object()
                        .ok_or_else(|| format!("{at} : un objet / an object"))?;
                    allow_fields(&at, event, &["title", "start", "end", "href"])?;
                    text(event, "title", &format!("{at}.title"), true)?;
                    text(event, "start", &format!("{at}.start"), true)?;
                    text(event, "end", &format!("{at}.end"), true)?;
                    if event.contains_key("href") {
                        local_path(event, "href", &format!("{at}.href"))?;
                    }
                }
                Ok(())
            }
            "month" => {
                let month = node
                    .get("month")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if chrono_like_date(&format!("{month}-01")).is_none() {
                    return Err(format!("{at}.month : un mois AAAA-MM / a YYYY-MM month"));
                }
                let events = node
                    .get("events")
                    .and_then(Value::as_array)
                    .ok_or_else(|| format!("{at}.events : une liste / a list"))?;
                for (e, event) in events.iter().enumerate() {
                    self.nodes += 1;
                    let at = format!("{at}.events[{e}]");
                    let event = event
                        .as_object()
                        .ok_or_else(|| format!("{at} : un objet / an object"))?;
                    allow_fields(&at, event, &["title", "date", "href"])?;
                    text(event, "title", &format!("{at}.title"), true)?;
                    let date = event
                        .get("date")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if chrono_like_date(date).is_none() {
                        return Err(format!(
                            "{at}.date : une date AAAA-MM-JJ / a YYYY-MM-DD date"
                        ));
                    }
                    if event.contains_key("href") {
                        local_path(event, "href", &format!("{at}.href"))?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn form_field(value: &Value, at: &str) -> Check {
    let field = value
        .as_object()
        .ok_or_else(|| format!("{at} : un objet / an object"))?;
    allow_fields(
        at,
        field,
        &[
            "name", "label", "type", "required", "value", "options", "help", "error",
        ],
    )?;
    text(field, "error", &format!("{at}.error"), false)?;
    text(field, "value", &format!("{at}.value"), false)?;
    if field.get("required").is_some_and(|r| !r.is_boolean()) {
        return Err(format!("{at}.required : true ou false / true or false"));
    }
    if let Some(options) = field.get("options") {
        let options = options
            .as_array()
            .ok_or_else(|| format!("{at}.options : une liste / a list"))?;
        for (o, option) in options.iter().enumerate() {
            let at = format!("{at}.options[{o}]");
            let option = option.as_object().ok_or_else(|| {
                format!("{at} : un objet {{value, label}} / a {{value, label}} object")
            })?;
            allow_fields(&at, option, &["value", "label"])?;
            text(option, "value", &format!("{at}.value"), true)?;
            text(option, "label", &format!("{at}.label"), true)?;
        }
    }
    text(field, "help", &format!("{at}.help"), false)?;
    text(field, "name", &format!("{at}.name"), true)?;
    text(field, "label", &format!("{at}.label"), true)?;
    let kind = field
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !FIELD_TYPES.contains(&kind) {
        return Err(format!(
            "{at}.type : type de champ inconnu / unknown field type « {kind} » ({})",
            FIELD_TYPES.join(", ")
        ));
    }
    if field
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| n.starts_with('_'))
    {
        return Err(format!(
            "{at}.name : les noms en « _ » sont au cœur (CSRF) / names starting with '_' belong to the core (CSRF)"
        ));
    }
    Ok(())
}

/// Only the listed fields.
fn allow_fields(at: &str, object: &Map<String, Value>, allowed: &[&str]) -> Check {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => {
            let shown: String = k.chars().take(40).collect();
            let sep = if at.is_empty() { "" } else { "." };
            Err(format!("{at}{sep}{shown} : champ inconnu / unknown field"))
        }
        None => Ok(()),
    }
}

/// A string field (at most 100,000 characters).
fn text(object: &Map<String, Value>, field: &str, at: &str, required: bool) -> Check {
    match object.get(field) {
        None if !required => Ok(()),
        Some(Value::String(s)) if s.len() <= 100_000 => Ok(()),
        _ => Err(format!("{at} : un texte / a string")),
    }
}

/// A list of strings: its length.
fn strings(value: Option<&Value>, at: &str) -> Result<usize, String> {
    let items = value
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{at} : une liste de textes / a list of strings"))?;
    if items.iter().all(Value::is_string) {
        Ok(items.len())
    } else {
        Err(format!("{at} : une liste de textes / a list of strings"))
    }
}

/// A path inside the plugin: `/…`, no scheme, no `//`, no backslash or line break.
fn local_path(object: &Map<String, Value>, field: &str, at: &str) -> Check {
    let path = object
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default();
    if is_local_path(path) {
        Ok(())
    } else {
        Err(format!(
            "{at} : un chemin du service (« /… ») / a path of the service ('/…')"
        ))
    }
}

/// A path inside the plugin: `/…`, not `//…`, no backslash or line break, and no segment that
/// a browser would resolve upwards or across (`.`, `..`, nor their percent-encoded forms, nor an
/// encoded `/` or `\\`) — the core prefixes the plugin's base, and nothing may climb out of it.
pub fn is_local_path(path: &str) -> bool {
    if !path.starts_with('/') || path.starts_with("//") || path.contains(['\\', '\r', '\n', '\t']) {
        return false;
    }
    let path_part = path.split(['?', '#']).next().unwrap_or_default();
    path_part.split('/').all(|segment| {
        let decoded = percent_decode(segment);
        decoded != "." && decoded != ".." && !decoded.contains(['/', '\\'])
    })
}

/// `%XX` escapes decoded (repeatedly, so `%252e` is no way around), others kept.
fn percent_decode(segment: &str) -> String {
    let mut current = segment.to_owned();
    for _ in 0..4 {
        let bytes = current.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && i + 2 < bytes.len()
                && let Some(hex) = current.get(i + 1..i + 3)
                && let Ok(b) = u8::from_str_radix(hex, 16)
            {
                out.push(b);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        let next = String::from_utf8_lossy(&out).into_owned();
        if next == current {
            break;
        }
        current = next;
    }
    current
}

fn chrono_like_date(s: &str) -> Option<()> {
    let b = s.as_bytes();
    (b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit()))
    .then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn local_paths_cannot_climb_out_of_the_plugin() {
        for ok in [
            "/",
            "/devoirs/42",
            "/a.b/c?x=../y",
            "/fichiers/%C3%A9t%C3%A9",
            "/a%20b",
        ] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in [
            "/../services",
            "/a/../../b",
            "/.",
            "/a/./b",
            "/%2e%2e/x",
            "/%2E%2E/x",
            "/.%2e/x",
            "/%252e%252e/x",
            "/a%2fb",
            "/a%5Cb",
            "//evil.example",
            "https://evil.example",
            "/a\\b",
        ] {
            assert!(!is_local_path(bad), "{bad}");
        }
    }

    #[test]
    fn a_complete_view_passes() {
        let view = json!({
            "schema": "view/1.0",
            "title": "Cahier de textes",
            "body": [
                {"kind": "notice", "level": "info", "text": "3 devoirs cette semaine"},
                {"kind": "section", "title": "Lundi", "body": [
                    {"kind": "card", "title": "Maths", "body": [{"kind": "user-text", "html": "<p>Ex. 4</p>"}],
                     "link": {"kind": "link", "label": "Voir", "href": "/devoirs/4"}},
                    {"kind": "list", "items": [{"kind": "text", "text": "Lire le chapitre 2"}]}
                ]},
                {"kind": "table", "caption": "Notes", "columns": ["Élève", "Note"], "rows": [["Ana", {"kind": "text", "text": "15"}]]},
                {"kind": "form", "action": "/devoirs", "method": "post", "submit": "Enregistrer", "fields": [
                    {"name": "titre", "label": "Titre", "type": "text", "required": true}
                ]},
                {"kind": "week", "start": "2026-11-30", "events": [{"title": "Salle 101", "start": "08:00", "end": "10:00"}]}
            ]
        });
        check(&view).expect("valid");
    }

    #[track_caller]
    fn refused(view: Value, at: &str) {
        let e = check(&view).expect_err("refused");
        assert!(e.starts_with(at), "expected {at}, got: {e}");
        assert!(e.contains(" / "), "French then English: {e}");
    }

    #[test]
    fn anything_outside_the_schema_is_refused_with_its_path() {
        let v = |body: Value| json!({"schema": "view/1.0", "title": "t", "body": body});
        refused(v(json!([{"kind": "script", "src": "x"}])), "body[0].kind");
        refused(
            v(json!([{"kind": "section", "body": [{"kind": "html", "html": "<b>"}]}])),
            "body[0].body[0].kind",
        );
        refused(
            v(json!([{"kind": "text", "text": "a", "onclick": "x"}])),
            "body[0].onclick",
        );
        refused(
            v(json!([{"kind": "link", "label": "x", "href": "https://evil.example"}])),
            "body[0].href",
        );
        refused(
            v(json!([{"kind": "link", "label": "x", "href": "//evil.example"}])),
            "body[0].href",
        );
        refused(
            v(
                json!([{"kind": "form", "action": "/a", "method": "post", "submit": "ok",
            "fields": [{"name": "_csrf", "label": "x", "type": "hidden"}]}]),
            ),
            "body[0].fields[0].name",
        );
        refused(
            v(json!([{"kind": "table", "caption": "c", "columns": ["a", "b"], "rows": [["1"]]}])),
            "body[0].rows[0]",
        );
        refused(
            v(json!([{"kind": "notice", "level": "panic", "text": "x"}])),
            "body[0].level",
        );
        refused(
            json!({"schema": "view/1.0", "title": "t", "body": [], "script": "x"}),
            "script",
        );
        refused(
            json!({"schema": "view/2.0", "title": "t", "body": []}),
            "schema",
        );
        let mut deep = json!({"kind": "text", "text": "x"});
        for _ in 0..MAX_DEPTH {
            deep = json!({"kind": "section", "body": [deep]});
        }
        refused(v(json!([deep])), "body[0]");
        let many: Vec<Value> = (0..=MAX_NODES)
            .map(|_| json!({"kind": "text", "text": "x"}))
            .collect();
        refused(v(Value::Array(many)), "body[");
    }
}
