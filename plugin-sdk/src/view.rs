//! Builders of `view/1.0` documents (`docs/view-schema.md`): what a plugin answers instead of
//! HTML. The types hold exactly the node kinds and fields of the schema, so a built view never
//! has an unknown kind or field; what types cannot rule out (a link leaving the plugin, a field
//! name starting with `_`, a table row with the wrong number of cells, too deep or too many
//! nodes, a string over 100,000 bytes) is checked when the page is turned into JSON
//! ([`Page::to_value`]), with the same rules and the same paths as the host's checker
//! (`core/preau-host/src/view.rs`), so that a page the SDK lets out is a page the host accepts.
//! The one limit left to the author is the plugin's `view_kib` (1 MiB by default) on the whole
//! JSON.
//!
//! ```ignore
//! let page = Page::new("Cahier de textes")
//!     .push(notice(Level::Info, "3 devoirs cette semaine"))
//!     .push(section("Lundi 30 novembre").push(
//!         card("Mathématiques")
//!             .push(user_text("<p>Exercices 4 et 5 p. 82</p>"))
//!             .link(link("Voir le devoir", "/devoirs/42")),
//!     ))
//!     .push(Form::post("/devoirs", "Enregistrer").field(Field::text("titre", "Titre").required()));
//! page.respond() // Ok(Response::View(json))
//! ```

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Map, Value, json};

use crate::calendar::{YearMonth, iso};
use crate::{Failure, Response};

/// The schema this SDK writes.
pub const SCHEMA: &str = "view/1.0";
/// Deepest nesting of nodes the host accepts.
pub const MAX_DEPTH: usize = 16;
/// Most nodes in one view (form fields and calendar events count) the host accepts.
pub const MAX_NODES: usize = 5_000;
/// Longest string of a view, in bytes.
pub const MAX_STRING_BYTES: usize = 100_000;

/// A view the host would refuse: where (`body[2].href`) and why, French then English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at} : {reason}")]
pub struct ViewError {
    /// The path of the value at fault, as the host names it.
    pub at: String,
    /// What is wrong, French then English.
    pub reason: String,
}

impl From<ViewError> for Failure {
    /// A 500 failure: the plugin built a view the host would refuse.
    fn from(e: ViewError) -> Failure {
        Failure::internal(
            &format!("vue invalide ({e})"),
            &format!("invalid view ({})", e.at),
        )
    }
}

/// A page: its title and its nodes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    title: String,
    body: Vec<Node>,
}

impl Page {
    /// An empty page titled `title`.
    pub fn new(title: impl Into<String>) -> Page {
        Page {
            title: title.into(),
            body: Vec::new(),
        }
    }

    /// Adds a node.
    pub fn push(mut self, node: impl Into<Node>) -> Page {
        self.body.push(node.into());
        self
    }

    /// Adds nodes.
    pub fn extend<N: Into<Node>>(mut self, nodes: impl IntoIterator<Item = N>) -> Page {
        self.body.extend(nodes.into_iter().map(Into::into));
        self
    }

    /// The page as `view/1.0` JSON, checked against the host's rules.
    pub fn to_value(&self) -> Result<Value, ViewError> {
        let mut writer = Writer { nodes: 0 };
        let title = writer.string(&self.title, "title")?;
        let body = writer.nodes(&self.body, "body", 1)?;
        Ok(json!({"schema": SCHEMA, "title": title, "body": body}))
    }

    /// The page as `view/1.0` JSON text, checked against the host's rules.
    pub fn to_json(&self) -> Result<String, ViewError> {
        Ok(self.to_value()?.to_string())
    }

    /// The answer to a request: `Response::View` with the page, or a 500 failure naming what
    /// the host would refuse.
    pub fn respond(&self) -> Result<Response, Failure> {
        Ok(Response::View(self.to_json()?))
    }

    /// The answer of a widget: the page's JSON, or a 500 failure.
    pub fn render(&self) -> Result<String, Failure> {
        Ok(self.to_json()?)
    }
}

/// A node of a view.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A titled region (`section`).
    Section(Section),
    /// Plain text, escaped by the core (`text`).
    Text(String),
    /// Text written by users, HTML sanitized by the core (`user-text`).
    UserText(String),
    /// A bulleted or numbered list (`list`).
    List(List),
    /// A data table (`table`).
    Table(Table),
    /// A card (`card`).
    Card(Card),
    /// A status message (`notice`).
    Notice(Notice),
    /// A link inside the plugin (`link`).
    Link(Link),
    /// A link to a route answering a file or a raw export (`download`).
    Download(Link),
    /// A form (`form`).
    Form(Form),
    /// A week view (`week`).
    Week(Week),
    /// A month calendar (`month`).
    Month(Month),
}

/// Plain text.
pub fn text(text: impl Into<String>) -> Node {
    Node::Text(text.into())
}

/// Text written by users (HTML, sanitized by the core: an allow-list of tags).
pub fn user_text(html: impl Into<String>) -> Node {
    Node::UserText(html.into())
}

/// A link to `href`, a path inside the plugin (`/devoirs/42`).
pub fn link(label: impl Into<String>, href: impl Into<String>) -> Link {
    Link {
        label: label.into(),
        href: href.into(),
    }
}

/// A download link to `href`, a route of the plugin answering a file or a raw export.
pub fn download(label: impl Into<String>, href: impl Into<String>) -> Node {
    Node::Download(link(label, href))
}

/// A status message.
pub fn notice(level: Level, text: impl Into<String>) -> Node {
    Node::Notice(Notice {
        level,
        text: text.into(),
    })
}

/// An empty bulleted list.
pub fn list() -> List {
    List::default()
}

/// An empty section titled `title`.
pub fn section(title: impl Into<String>) -> Section {
    Section {
        title: Some(title.into()),
        body: Vec::new(),
    }
}

/// A card titled `title`.
pub fn card(title: impl Into<String>) -> Card {
    Card {
        title: title.into(),
        body: Vec::new(),
        link: None,
    }
}

/// A table with a caption and its column headers, without rows.
pub fn table<S: Into<String>>(
    caption: impl Into<String>,
    columns: impl IntoIterator<Item = S>,
) -> Table {
    Table {
        caption: caption.into(),
        columns: columns.into_iter().map(Into::into).collect(),
        rows: Vec::new(),
    }
}

/// A titled (or untitled) region.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Section {
    title: Option<String>,
    body: Vec<Node>,
}

impl Section {
    /// A section without a title.
    pub fn untitled() -> Section {
        Section::default()
    }

    /// Adds a node.
    pub fn push(mut self, node: impl Into<Node>) -> Section {
        self.body.push(node.into());
        self
    }

    /// Adds nodes.
    pub fn extend<N: Into<Node>>(mut self, nodes: impl IntoIterator<Item = N>) -> Section {
        self.body.extend(nodes.into_iter().map(Into::into));
        self
    }
}

/// A list of nodes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct List {
    items: Vec<Node>,
    ordered: bool,
}

impl List {
    /// Numbered rather than bulleted.
    pub fn ordered(mut self) -> List {
        self.ordered = true;
        self
    }

    /// Adds an item.
    pub fn item(mut self, node: impl Into<Node>) -> List {
        self.items.push(node.into());
        self
    }

    /// Adds items.
    pub fn items<N: Into<Node>>(mut self, nodes: impl IntoIterator<Item = N>) -> List {
        self.items.extend(nodes.into_iter().map(Into::into));
        self
    }
}

/// A cell of a table: a string or a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Plain text.
    Text(String),
    /// A node (a link, a notice…).
    Node(Node),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<Node> for Cell {
    fn from(n: Node) -> Cell {
        Cell::Node(n)
    }
}

impl From<Link> for Cell {
    fn from(l: Link) -> Cell {
        Cell::Node(Node::Link(l))
    }
}

/// A data table: a caption, header cells and rows (as many cells as columns).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    caption: String,
    columns: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// Adds a row; it must have as many cells as the table has columns.
    pub fn row<C: Into<Cell>>(mut self, cells: impl IntoIterator<Item = C>) -> Table {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }
}

/// A card: a title, nodes and an optional link.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    title: String,
    body: Vec<Node>,
    link: Option<Link>,
}

impl Card {
    /// Adds a node to its body.
    pub fn push(mut self, node: impl Into<Node>) -> Card {
        self.body.push(node.into());
        self
    }

    /// Where the card leads.
    pub fn link(mut self, link: Link) -> Card {
        self.link = Some(link);
        self
    }
}

/// How a notice reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// For information.
    Info,
    /// Something succeeded.
    Success,
    /// Something needs attention.
    Warning,
    /// Something failed.
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Success => "success",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// A status message.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    level: Level,
    text: String,
}

/// A link inside the plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    label: String,
    href: String,
}

/// How a form is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// In the query (searches, filters).
    Get,
    /// In the body (changes; the core adds the CSRF token).
    Post,
}

/// A form: where it goes, how, its fields and its button.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    action: String,
    method: Method,
    submit: String,
    fields: Vec<Field>,
}

impl Form {
    /// A form posted to `action` (a path inside the plugin), with the button `submit`.
    pub fn post(action: impl Into<String>, submit: impl Into<String>) -> Form {
        Form {
            action: action.into(),
            method: Method::Post,
            submit: submit.into(),
            fields: Vec::new(),
        }
    }

    /// A form sent by `GET` to `action` (a search, a filter).
    pub fn get(action: impl Into<String>, submit: impl Into<String>) -> Form {
        Form {
            method: Method::Get,
            ..Form::post(action, submit)
        }
    }

    /// Adds a field.
    pub fn field(mut self, field: Field) -> Form {
        self.fields.push(field);
        self
    }

    /// Its fields.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Its fields, to change them (see [`Form::with_submission`]).
    pub fn fields_mut(&mut self) -> &mut [Field] {
        &mut self.fields
    }
}

/// The type of a form field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// One line of text.
    Text,
    /// Several lines of text.
    Textarea,
    /// A number.
    Number,
    /// A day, `YYYY-MM-DD`.
    Date,
    /// A time, `HH:MM`.
    Time,
    /// A day and time, `YYYY-MM-DDTHH:MM`.
    Datetime,
    /// One of `options`, in a drop-down list.
    Select,
    /// A box checked (`on`) or not.
    Checkbox,
    /// One of `options`, as radio buttons.
    Radio,
    /// A value sent back as it is.
    Hidden,
    /// A file, stored by the core before the call (`request.uploads`).
    File,
}

impl FieldType {
    /// Its name in the schema.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Textarea => "textarea",
            FieldType::Number => "number",
            FieldType::Date => "date",
            FieldType::Time => "time",
            FieldType::Datetime => "datetime",
            FieldType::Select => "select",
            FieldType::Checkbox => "checkbox",
            FieldType::Radio => "radio",
            FieldType::Hidden => "hidden",
            FieldType::File => "file",
        }
    }
}

/// A form field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    name: String,
    label: String,
    kind: FieldType,
    required: bool,
    value: Option<String>,
    options: Vec<(String, String)>,
    help: Option<String>,
    error: Option<String>,
}

impl Field {
    /// A field of type `kind`, named `name` (not starting with `_`: those are the core's).
    pub fn new(kind: FieldType, name: impl Into<String>, label: impl Into<String>) -> Field {
        Field {
            name: name.into(),
            label: label.into(),
            kind,
            required: false,
            value: None,
            options: Vec::new(),
            help: None,
            error: None,
        }
    }

    /// One line of text.
    pub fn text(name: impl Into<String>, label: impl Into<String>) -> Field {
        Field::new(FieldType::Text, name, label)
    }

    /// Several lines of text.
    pub fn textarea(name: impl Into<String>, label: impl Into<String>) -> Field {
        Field::new(FieldType::Textarea, name, label)
    }

    /// A number.
    pub fn number(name: impl Into<String>, label: impl Into<String>) -> Field {
        Field::new(FieldType::Number, name, label)
    }

    /// A day.
    pub fn date(name: impl Into<String>, label: impl Into<String>) -> Field {
        Field::new(FieldType::Date, name, label)
    }

    /// A time.
    pub fn time(name: impl Into<String>, label: impl Into<String>) -> Field {
        Field::new(FieldType::Time, name, label)
    }

    /// A day and time.
    pub fn datetime(name: impl Into<String>, label: impl Into<String>) -> Field {
        Field::new(FieldType::Datetime, name, label)
    }

    /// A drop-down list of (value, label) options.
    pub fn select<V: Into<String>, L: Into<String>>(
        name: impl Into<String>,
        label: impl Into<String>,
        options: impl IntoIterator<Item = (V, L)>,
    ) -> Field {
        Field::new(FieldType::Select, name, label).options(options)
    }

    /// Radio buttons of (value, label) options.
    pub fn radio<V: Into<String>, L: Into<String>>(
        name: impl Into<String>,
        label: impl Into<String>,
        options: impl IntoIterator<Item = (V, L)>,
    ) -> Field {
        Field::new(FieldType::Radio, name, label).options(options)
    }

    /// A checkbox.
    pub fn checkbox(name: impl Into<String>, label: impl Into<String>) -> Field {
        Field::new(FieldType::Checkbox, name, label)
    }

    /// A hidden field holding `value`.
    pub fn hidden(name: impl Into<String>, value: impl Into<String>) -> Field {
        let name = name.into();
        Field::new(FieldType::Hidden, name.clone(), name).value(value)
    }

    /// A file.
    pub fn file(name: impl Into<String>, label: impl Into<String>) -> Field {
        Field::new(FieldType::File, name, label)
    }

    /// Required.
    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    /// Its value (a checkbox is checked when it is `on`: see [`Field::checked`]).
    pub fn value(mut self, value: impl Into<String>) -> Field {
        self.value = Some(value.into());
        self
    }

    /// A checkbox checked or not.
    pub fn checked(mut self, checked: bool) -> Field {
        self.value = checked.then(|| "on".to_owned());
        self
    }

    /// Adds (value, label) options.
    pub fn options<V: Into<String>, L: Into<String>>(
        mut self,
        options: impl IntoIterator<Item = (V, L)>,
    ) -> Field {
        self.options
            .extend(options.into_iter().map(|(v, l)| (v.into(), l.into())));
        self
    }

    /// A help text shown with the field.
    pub fn help(mut self, help: impl Into<String>) -> Field {
        self.help = Some(help.into());
        self
    }

    /// The message shown with the field after a refused submission.
    pub fn error(mut self, error: impl Into<String>) -> Field {
        self.error = Some(error.into());
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its type.
    pub fn kind(&self) -> FieldType {
        self.kind
    }

    /// Sets or clears its value.
    pub fn set_value(&mut self, value: Option<String>) {
        self.value = value;
    }

    /// Sets or clears its error.
    pub fn set_error(&mut self, error: Option<String>) {
        self.error = error;
    }

    /// Its value.
    pub fn current_value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// Its error.
    pub fn current_error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// A week view: the first day shown and its events.
#[derive(Debug, Clone, PartialEq)]
pub struct Week {
    start: NaiveDate,
    events: Vec<WeekEvent>,
}

/// An event of a week view.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekEvent {
    title: String,
    start: String,
    end: String,
    href: Option<String>,
}

impl WeekEvent {
    /// An event from `start` to `end`, written `YYYY-MM-DDTHH:MM`.
    pub fn new(title: impl Into<String>, start: NaiveDateTime, end: NaiveDateTime) -> WeekEvent {
        let write = |t: NaiveDateTime| t.format("%Y-%m-%dT%H:%M").to_string();
        WeekEvent {
            title: title.into(),
            start: write(start),
            end: write(end),
            href: None,
        }
    }

    /// Where the event leads (a path inside the plugin).
    pub fn href(mut self, href: impl Into<String>) -> WeekEvent {
        self.href = Some(href.into());
        self
    }
}

/// A week view starting on `start` (usually a Monday: [`week_start`](crate::calendar::week_start)).
pub fn week(start: NaiveDate) -> Week {
    Week {
        start,
        events: Vec::new(),
    }
}

impl Week {
    /// Adds an event.
    pub fn event(mut self, event: WeekEvent) -> Week {
        self.events.push(event);
        self
    }
}

/// A month calendar and its events.
#[derive(Debug, Clone, PartialEq)]
pub struct Month {
    month: YearMonth,
    events: Vec<MonthEvent>,
}

/// An event of a month calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthEvent {
    title: String,
    date: NaiveDate,
    href: Option<String>,
}

impl MonthEvent {
    /// An event on `date`.
    pub fn new(title: impl Into<String>, date: NaiveDate) -> MonthEvent {
        MonthEvent {
            title: title.into(),
            date,
            href: None,
        }
    }

    /// Where the event leads (a path inside the plugin).
    pub fn href(mut self, href: impl Into<String>) -> MonthEvent {
        self.href = Some(href.into());
        self
    }
}

/// A month calendar of `month`.
pub fn month(month: YearMonth) -> Month {
    Month {
        month,
        events: Vec::new(),
    }
}

impl Month {
    /// Adds an event.
    pub fn event(mut self, event: MonthEvent) -> Month {
        self.events.push(event);
        self
    }
}

macro_rules! into_node {
    ($($ty:ident),*) => {$(
        impl From<$ty> for Node {
            fn from(n: $ty) -> Node {
                Node::$ty(n)
            }
        }
    )*};
}
into_node!(Section, List, Table, Card, Notice, Link, Form, Week, Month);

/// Whether `path` is a path inside the plugin as the host reads it: starts with `/`, not
/// `//`, no backslash, tab or line break.
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.contains(['\\', '\r', '\n', '\t'])
}

/// Turns nodes into JSON while checking what the host checks.
struct Writer {
    nodes: usize,
}

type Written = Result<Value, ViewError>;

fn fail(at: &str, reason: &str) -> ViewError {
    ViewError {
        at: at.to_owned(),
        reason: reason.to_owned(),
    }
}

impl Writer {
    fn string(&self, s: &str, at: &str) -> Written {
        if s.len() > MAX_STRING_BYTES {
            return Err(fail(
                at,
                "un texte de plus de 100 000 octets / a string over 100,000 bytes",
            ));
        }
        Ok(Value::String(s.to_owned()))
    }

    fn path(&self, s: &str, at: &str) -> Written {
        if !is_local_path(s) {
            return Err(fail(
                at,
                "un chemin du service (« /… ») / a path of the service ('/…')",
            ));
        }
        self.string(s, at)
    }

    fn count(&mut self, at: &str) -> Result<(), ViewError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(fail(
                at,
                &format!("plus de {MAX_NODES} nœuds / more than {MAX_NODES} nodes"),
            ));
        }
        Ok(())
    }

    fn nodes(&mut self, nodes: &[Node], at: &str, depth: usize) -> Written {
        let mut out = Vec::with_capacity(nodes.len());
        for (n, node) in nodes.iter().enumerate() {
            out.push(self.node(node, &format!("{at}[{n}]"), depth)?);
        }
        Ok(Value::Array(out))
    }

    fn node(&mut self, node: &Node, at: &str, depth: usize) -> Written {
        self.count(at)?;
        if depth > MAX_DEPTH {
            return Err(fail(
                at,
                &format!("plus de {MAX_DEPTH} niveaux / more than {MAX_DEPTH} levels"),
            ));
        }
        let mut o = Map::new();
        let mut put = |k: &str, v: Value| {
            o.insert(k.to_owned(), v);
        };
        let kind = match node {
            Node::Section(s) => {
                if let Some(title) = &s.title {
                    put("title", self.string(title, &format!("{at}.title"))?);
                }
                put(
                    "body",
                    self.nodes(&s.body, &format!("{at}.body"), depth + 1)?,
                );
                "section"
            }
            Node::Text(t) => {
                put("text", self.string(t, &format!("{at}.text"))?);
                "text"
            }
            Node::UserText(h) => {
                put("html", self.string(h, &format!("{at}.html"))?);
                "user-text"
            }
            Node::List(l) => {
                put(
                    "items",
                    self.nodes(&l.items, &format!("{at}.items"), depth + 1)?,
                );
                if l.ordered {
                    put("ordered", Value::Bool(true));
                }
                "list"
            }
            Node::Table(t) => {
                put(
                    "caption",
                    self.string(&t.caption, &format!("{at}.caption"))?,
                );
                let mut columns = Vec::new();
                for (c, column) in t.columns.iter().enumerate() {
                    columns.push(self.string(column, &format!("{at}.columns[{c}]"))?);
                }
                put("columns", Value::Array(columns));
                let mut rows = Vec::new();
                for (r, row) in t.rows.iter().enumerate() {
                    if row.len() != t.columns.len() {
                        return Err(fail(
                            &format!("{at}.rows[{r}]"),
                            &format!(
                                "{} cellules pour {} colonnes / {} cells for {} columns",
                                row.len(),
                                t.columns.len(),
                                row.len(),
                                t.columns.len()
                            ),
                        ));
                    }
                    let mut cells = Vec::new();
                    for (c, cell) in row.iter().enumerate() {
                        let at = format!("{at}.rows[{r}][{c}]");
                        cells.push(match cell {
                            Cell::Text(s) => self.string(s, &at)?,
                            Cell::Node(n) => self.node(n, &at, depth + 1)?,
                        });
                    }
                    rows.push(Value::Array(cells));
                }
                put("rows", Value::Array(rows));
                "table"
            }
            Node::Card(c) => {
                put("title", self.string(&c.title, &format!("{at}.title"))?);
                if let Some(link) = &c.link {
                    let link = Node::Link(link.clone());
                    put("link", self.node(&link, &format!("{at}.link"), depth + 1)?);
                }
                if !c.body.is_empty() {
                    put(
                        "body",
                        self.nodes(&c.body, &format!("{at}.body"), depth + 1)?,
                    );
                }
                "card"
            }
            Node::Notice(n) => {
                put("level", Value::String(n.level.as_str().to_owned()));
                put("text", self.string(&n.text, &format!("{at}.text"))?);
                "notice"
            }
            Node::Link(l) | Node::Download(l) => {
                put("label", self.string(&l.label, &format!("{at}.label"))?);
                put("href", self.path(&l.href, &format!("{at}.href"))?);
                if matches!(node, Node::Link(_)) {
                    "link"
                } else {
                    "download"
                }
            }
            Node::Form(f) => {
                put("action", self.path(&f.action, &format!("{at}.action"))?);
                let method = match f.method {
                    Method::Get => "get",
                    Method::Post => "post",
                };
                put("method", Value::String(method.to_owned()));
                put("submit", self.string(&f.submit, &format!("{at}.submit"))?);
                let mut fields = Vec::new();
                for (i, field) in f.fields.iter().enumerate() {
                    let at = format!("{at}.fields[{i}]");
                    self.count(&at)?;
                    fields.push(self.field(field, &at)?);
                }
                put("fields", Value::Array(fields));
                "form"
            }
            Node::Week(w) => {
                put("start", self.date(w.start, &format!("{at}.start"))?);
                let mut events = Vec::new();
                for (e, event) in w.events.iter().enumerate() {
                    let at = format!("{at}.events[{e}]");
                    self.count(&at)?;
                    let mut o = Map::new();
                    o.insert(
                        "title".into(),
                        self.string(&event.title, &format!("{at}.title"))?,
                    );
                    o.insert(
                        "start".into(),
                        self.string(&event.start, &format!("{at}.start"))?,
                    );
                    o.insert("end".into(), self.string(&event.end, &format!("{at}.end"))?);
                    if let Some(href) = &event.href {
                        o.insert("href".into(), self.path(href, &format!("{at}.href"))?);
                    }
                    events.push(Value::Object(o));
                }
                put("events", Value::Array(events));
                "week"
            }
            Node::Month(m) => {
                put("month", Value::String(m.month.to_string()));
                let mut events = Vec::new();
                for (e, event) in m.events.iter().enumerate() {
                    let at = format!("{at}.events[{e}]");
                    self.count(&at)?;
                    let mut o = Map::new();
                    o.insert(
                        "title".into(),
                        self.string(&event.title, &format!("{at}.title"))?,
                    );
                    o.insert("date".into(), self.date(event.date, &format!("{at}.date"))?);
                    if let Some(href) = &event.href {
                        o.insert("href".into(), self.path(href, &format!("{at}.href"))?);
                    }
                    events.push(Value::Object(o));
                }
                put("events", Value::Array(events));
                "month"
            }
        };
        o.insert("kind".into(), Value::String(kind.to_owned()));
        Ok(Value::Object(o))
    }

    fn date(&self, date: NaiveDate, at: &str) -> Written {
        let s = iso(date);
        if s.len() != 10 {
            return Err(fail(at, "une date AAAA-MM-JJ / a YYYY-MM-DD date"));
        }
        Ok(Value::String(s))
    }

    fn field(&self, field: &Field, at: &str) -> Written {
        if field.name.starts_with('_') {
            return Err(fail(
                &format!("{at}.name"),
                "les noms en « _ » sont au cœur (CSRF) / names starting with '_' belong to the core (CSRF)",
            ));
        }
        let mut o = Map::new();
        o.insert(
            "name".into(),
            self.string(&field.name, &format!("{at}.name"))?,
        );
        o.insert(
            "label".into(),
            self.string(&field.label, &format!("{at}.label"))?,
        );
        o.insert("type".into(), Value::String(field.kind.as_str().to_owned()));
        if field.required {
            o.insert("required".into(), Value::Bool(true));
        }
        if let Some(value) = &field.value {
            o.insert("value".into(), self.string(value, &format!("{at}.value"))?);
        }
        if !field.options.is_empty() || matches!(field.kind, FieldType::Select | FieldType::Radio) {
            let mut options = Vec::new();
            for (i, (value, label)) in field.options.iter().enumerate() {
                let at = format!("{at}.options[{i}]");
                options.push(json!({
                    "value": self.string(value, &format!("{at}.value"))?,
                    "label": self.string(label, &format!("{at}.label"))?,
                }));
            }
            o.insert("options".into(), Value::Array(options));
        }
        if let Some(help) = &field.help {
            o.insert("help".into(), self.string(help, &format!("{at}.help"))?);
        }
        if let Some(error) = &field.error {
            o.insert("error".into(), self.string(error, &format!("{at}.error"))?);
        }
        Ok(Value::Object(o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_date;

    fn day(s: &str) -> NaiveDate {
        parse_date(s).expect("test date")
    }

    /// The example of `docs/view-schema.md`, built.
    #[test]
    fn the_documented_example_is_built_exactly() {
        let page = Page::new("Cahier de textes")
            .push(notice(Level::Info, "3 devoirs cette semaine"))
            .push(
                section("Lundi 30 novembre").push(
                    card("Mathématiques")
                        .push(user_text("<p>Exercices 4 et 5 p. 82</p>"))
                        .link(link("Voir le devoir", "/devoirs/42")),
                ),
            )
            .push(
                Form::post("/devoirs", "Enregistrer")
                    .field(Field::text("titre", "Titre").required()),
            );
        let expected = json!({
          "schema": "view/1.0",
          "title": "Cahier de textes",
          "body": [
            {"kind": "notice", "level": "info", "text": "3 devoirs cette semaine"},
            {"kind": "section", "title": "Lundi 30 novembre", "body": [
              {"kind": "card", "title": "Mathématiques",
               "body": [{"kind": "user-text", "html": "<p>Exercices 4 et 5 p. 82</p>"}],
               "link": {"kind": "link", "label": "Voir le devoir", "href": "/devoirs/42"}}
            ]},
            {"kind": "form", "action": "/devoirs", "method": "post", "submit": "Enregistrer", "fields": [
              {"name": "titre", "label": "Titre", "type": "text", "required": true}
            ]}
          ]
        });
        assert_eq!(page.to_value(), Ok(expected));
        assert!(matches!(page.respond(), Ok(Response::View(_))));
    }

    #[test]
    fn every_kind_and_field_is_written_as_the_schema_says() {
        let page = Page::new("Tout")
            .push(Section::untitled().push(text("a")))
            .push(list().ordered().item(text("un")).items([text("deux")]))
            .push(
                table("Notes", ["Élève", "Note"])
                    .row(["Ana", "15"])
                    .row([Cell::from("Léo"), Cell::from(link("12", "/notes/leo"))]),
            )
            .push(download("Exporter", "/export.csv"))
            .push(
                Form::get("/recherche", "Chercher")
                    .field(Field::select("classe", "Classe", [("4B", "4e B")]).value("4B"))
                    .field(Field::checkbox("fait", "Fait").checked(true))
                    .field(Field::radio(
                        "niveau",
                        "Niveau",
                        Vec::<(String, String)>::new(),
                    ))
                    .field(
                        Field::date("le", "Le")
                            .help("AAAA-MM-JJ")
                            .error("Date invalide"),
                    )
                    .field(Field::hidden("page", "2"))
                    .field(Field::file("piece", "Pièce jointe")),
            )
            .push(
                week(day("2026-11-30")).event(
                    WeekEvent::new(
                        "Salle 101",
                        day("2026-11-30").and_hms_opt(8, 0, 0).expect("time"),
                        day("2026-11-30").and_hms_opt(10, 0, 0).expect("time"),
                    )
                    .href("/reservations/1"),
                ),
            )
            .push(
                month(YearMonth::new(2026, 12).expect("month"))
                    .event(MonthEvent::new("Conseil de classe", day("2026-12-08")))
                    .event(MonthEvent::new("Vacances", day("2026-12-19")).href("/vacances")),
            );
        let body = page.to_value().expect("valid")["body"].clone();
        assert_eq!(
            body[0],
            json!({"kind": "section", "body": [{"kind": "text", "text": "a"}]})
        );
        assert_eq!(
            body[1],
            json!({"kind": "list", "ordered": true, "items": [
                {"kind": "text", "text": "un"}, {"kind": "text", "text": "deux"}]})
        );
        assert_eq!(
            body[2],
            json!({"kind": "table", "caption": "Notes", "columns": ["Élève", "Note"], "rows": [
                ["Ana", "15"], ["Léo", {"kind": "link", "label": "12", "href": "/notes/leo"}]]})
        );
        assert_eq!(
            body[3],
            json!({"kind": "download", "label": "Exporter", "href": "/export.csv"})
        );
        assert_eq!(
            body[4],
            json!({"kind": "form", "action": "/recherche", "method": "get", "submit": "Chercher",
            "fields": [
                {"name": "classe", "label": "Classe", "type": "select", "value": "4B",
                 "options": [{"value": "4B", "label": "4e B"}]},
                {"name": "fait", "label": "Fait", "type": "checkbox", "value": "on"},
                {"name": "niveau", "label": "Niveau", "type": "radio", "options": []},
                {"name": "le", "label": "Le", "type": "date", "help": "AAAA-MM-JJ",
                 "error": "Date invalide"},
                {"name": "page", "label": "page", "type": "hidden", "value": "2"},
                {"name": "piece", "label": "Pièce jointe", "type": "file"},
            ]})
        );
        assert_eq!(
            body[5],
            json!({"kind": "week", "start": "2026-11-30", "events": [
                {"title": "Salle 101", "start": "2026-11-30T08:00", "end": "2026-11-30T10:00",
                 "href": "/reservations/1"}]})
        );
        assert_eq!(
            body[6],
            json!({"kind": "month", "month": "2026-12", "events": [
                {"title": "Conseil de classe", "date": "2026-12-08"},
                {"title": "Vacances", "date": "2026-12-19", "href": "/vacances"}]})
        );
    }

    #[track_caller]
    fn refused(page: Page, at: &str) {
        let e = page.to_value().expect_err("refused");
        assert!(e.at.starts_with(at), "expected {at}, got: {e}");
        assert!(e.reason.contains(" / "), "French then English: {e}");
        let failure: Failure = e.into();
        assert_eq!(failure.status, 500);
    }

    #[test]
    fn what_the_host_refuses_is_refused_before_it_leaves() {
        refused(
            Page::new("t").push(link("x", "https://evil.example")),
            "body[0].href",
        );
        refused(
            Page::new("t").push(link("x", "//evil.example")),
            "body[0].href",
        );
        refused(
            Page::new("t").push(download("x", "export.csv")),
            "body[0].href",
        );
        refused(
            Page::new("t").push(card("c").link(link("x", "/a\nb"))),
            "body[0].link.href",
        );
        refused(
            Page::new("t").push(Form::post("http://x", "ok")),
            "body[0].action",
        );
        refused(
            Page::new("t").push(Form::post("/a", "ok").field(Field::hidden("_csrf", "x"))),
            "body[0].fields[0].name",
        );
        refused(
            Page::new("t").push(table("c", ["a", "b"]).row(["1"])),
            "body[0].rows[0]",
        );
        refused(
            Page::new("t").push(
                month(YearMonth::new(2026, 1).expect("month"))
                    .event(MonthEvent::new("x", day("2026-01-02")).href("x")),
            ),
            "body[0].events[0].href",
        );
        refused(
            Page::new("t").push(text("x".repeat(MAX_STRING_BYTES + 1))),
            "body[0].text",
        );
        let mut deep = Node::Text("x".into());
        for _ in 0..MAX_DEPTH {
            deep = Section::untitled().push(deep).into();
        }
        refused(Page::new("t").push(deep), "body[0]");
        refused(
            Page::new("t").extend((0..=MAX_NODES).map(|_| text("x"))),
            "body[",
        );
        // Exactly at the limits, it passes.
        let mut deep = Node::Text("x".into());
        for _ in 0..MAX_DEPTH - 1 {
            deep = Section::untitled().push(deep).into();
        }
        assert!(Page::new("t").push(deep).to_value().is_ok());
        assert!(
            Page::new("t")
                .extend((0..MAX_NODES).map(|_| text("x")))
                .to_value()
                .is_ok()
        );
    }
}
