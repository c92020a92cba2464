//! Directory files: CSV and JSON import (validated whole), export, and the diff
//! between the current directory and an imported one (dry run).
//!
//! An import is all or nothing: the whole file is parsed and checked before
//! anything changes, and every problem is reported with its line number, so an
//! admin fixes the file once rather than once per error.
//!
//! Files as admins have them: UTF-8 with or without a BOM, or another
//! encoding (Windows-1252 from a French Excel…) declared by the caller or
//! detected; CSV separated by `,`, `;` or tabs (detected from the header, or
//! declared). [`parse_with`] says how it read the file ([`FileReading`]).
//!
//! CSV columns (header required, any order, names case-insensitive):
//! `name` (required), `aliases` (separated by `;`; an alias holding `;` or
//! `\` writes it `\;` or `\\`), `department`, `extension`
//! (digits), `target` (an extension or a `sip:`/`sips:` URI; defaults to the
//! extension), `fallback` (second target, tried when the first is busy or does not
//! answer), `enabled` (`true`/`false`/`yes`/`no`/`1`/`0`, default true).
//! JSON: an array of objects with the same fields (`aliases` an array), or
//! `{"entries": [...]}`.
//!
//! Exported CSV cells are formula-safe (OWASP CSV injection): a cell starting
//! with `=`, `+`, `-`, `@`, a tab, a carriage return or `'` is written with a
//! `'` in front, which the importer takes off again, so export → import gives
//! back exactly the same entries. [`CsvDialect::Excel`] also writes a BOM,
//! `;` separators and CRLF line ends, as a French Excel expects.

use std::collections::HashMap;
use std::fmt;

use super::{Entry, EntryId, TransferTarget};

/// Bounds on an imported file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportLimits {
    pub max_bytes: usize,
    pub max_entries: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        // A store has at most a few hundred staff; 20k leaves room for a group directory.
        ImportLimits { max_bytes: 4 * 1024 * 1024, max_entries: 20_000 }
    }
}

/// File format of a directory file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    /// Guesses the format from a file name's extension.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

pub use super::NewEntry;

/// Identity of an entry across directory versions (two entries with the same name
/// in one department would be indistinguishable to callers too).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryKey {
    name: String,
    department: String,
}

impl EntryKey {
    pub fn new(name: &str, department: Option<&str>) -> EntryKey {
        let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        EntryKey { name: norm(name), department: norm(department.unwrap_or("")) }
    }
}

impl fmt::Display for EntryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.department.is_empty() { write!(f, "{}", self.name) } else { write!(f, "{} ({})", self.name, self.department) }
    }
}

/// One problem in an imported file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImportProblem {
    #[error("file is {size} bytes, more than the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("line {line}: not valid {encoding} (save the file as UTF-8, or declare its encoding, e.g. windows-1252)")]
    Encoding { line: usize, encoding: String },
    #[error("line {line}: unknown column `{column}`, which holds `{separator}`: the file seems separated by `{separator}` (read with `{used}`); declare the separator if so")]
    Separator { line: usize, column: String, separator: char, used: char },
    #[error("line {line}: unknown column `{column}` (known: name, aliases, department, extension, target, fallback, enabled)")]
    UnknownColumn { line: usize, column: String },
    #[error("line {line}: column `{column}` appears twice")]
    DuplicateColumn { line: usize, column: String },
    #[error("line 1: the required column `name` is missing")]
    MissingNameColumn,
    #[error("line {line}: malformed {format}: {message}")]
    Syntax { line: usize, format: &'static str, message: String },
    #[error("line {line}: the name is empty")]
    EmptyName { line: usize },
    #[error("line {line}: `{field}` is too long ({len} characters, at most {max})")]
    TooLong { line: usize, field: &'static str, len: usize, max: usize },
    #[error("line {line}: `{field}` contains control characters")]
    ControlCharacters { line: usize, field: &'static str },
    #[error("line {line}: no target: give a `target` or an `extension`")]
    MissingTarget { line: usize },
    #[error("line {line}: `{field}` value `{value}` is neither an extension (digits) nor a sip:/sips: URI")]
    MalformedTarget { line: usize, field: &'static str, value: String },
    #[error("line {line}: extension `{value}` must be 1 to 15 digits")]
    MalformedExtension { line: usize, value: String },
    #[error("line {line}: `enabled` value `{value}` is not one of true/false/yes/no/1/0")]
    MalformedEnabled { line: usize, value: String },
    #[error("line {line}: duplicate entry `{key}`, first on line {first_line}")]
    DuplicateEntry { line: usize, first_line: usize, key: String },
    #[error("line {line}: extension {extension} is already used on line {first_line}")]
    DuplicateExtension { line: usize, first_line: usize, extension: String },
    #[error("the file has {count} entries, more than the limit of {limit}")]
    TooManyEntries { count: usize, limit: usize },
}

/// Every problem found in a file; nothing was imported. Its message counts
/// them; each is listed in `problems` (said once, not repeated).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("the file was rejected, nothing changed: {} problem{}", .problems.len(), if .problems.len() == 1 { "" } else { "s" })]
pub struct ImportRejected {
    pub problems: Vec<ImportProblem>,
}

impl ImportRejected {
    /// The problems of one entry typed in the API or console (validated as
    /// line 1 of a file), without the file's line numbers: "the name is
    /// empty; `target` value `x` is neither …".
    pub fn entry_message(&self) -> String {
        self.problems
            .iter()
            .map(|p| {
                let text = p.to_string();
                text.strip_prefix("line 1: ").map(str::to_owned).unwrap_or(text)
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// How to read a file's bytes: what the caller declares (`None`: detect).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// The file's encoding (a BOM, if present, wins).
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// The CSV separator: `,`, `;` or tab.
    pub separator: Option<u8>,
}

impl ReadOptions {
    /// Reads an encoding label as browsers and Excel name them ("utf-8",
    /// "windows-1252", "latin1", "iso-8859-1", "euc-kr"…).
    pub fn encoding_from_label(label: &str) -> Option<&'static encoding_rs::Encoding> {
        encoding_rs::Encoding::for_label(label.trim().as_bytes())
    }

    /// Reads a separator as written in a query: `,` `;` `tab` (or a tab character).
    pub fn separator_from_text(text: &str) -> Option<u8> {
        match text {
            "," | "comma" => Some(b','),
            ";" | "semicolon" => Some(b';'),
            "\t" | "\\t" | "tab" => Some(b'\t'),
            _ => None,
        }
    }
}

/// How a file was read, for the admin to check (shown with the preview).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileReading {
    /// The encoding used ("UTF-8", "windows-1252", …).
    pub encoding: String,
    /// How it was chosen: `bom`, `declared`, `utf8` (the bytes are valid UTF-8)
    /// or `guessed` (they are not: the most likely encoding was taken).
    pub encoding_source: &'static str,
    /// The CSV separator used (none for JSON).
    pub separator: Option<char>,
    /// `declared` or `detected` (from the header).
    pub separator_source: Option<&'static str>,
    /// What the admin should check, in words (empty when nothing is in doubt).
    pub notes: Vec<String>,
}

const MAX_NAME: usize = 120;
const MAX_ALIASES: usize = 20;

/// Parses and validates a whole directory file (encoding and separator detected).
pub fn parse(bytes: &[u8], format: Format, limits: ImportLimits) -> Result<Vec<NewEntry>, ImportRejected> {
    parse_with(bytes, format, limits, ReadOptions::default()).map(|(entries, _)| entries)
}

/// Parses and validates a whole directory file read as `options` say (what
/// they leave out is detected), and says how it was read.
pub fn parse_with(
    bytes: &[u8],
    format: Format,
    limits: ImportLimits,
    options: ReadOptions,
) -> Result<(Vec<NewEntry>, FileReading), ImportRejected> {
    let reject = |p| ImportRejected { problems: vec![p] };
    if bytes.len() > limits.max_bytes {
        return Err(reject(ImportProblem::TooLarge { size: bytes.len(), limit: limits.max_bytes }));
    }
    let (text, mut reading) = decode(bytes, options.encoding).map_err(reject)?;
    let rows = match format {
        Format::Csv => {
            let (separator, source) = match options.separator {
                Some(separator) => (separator, "declared"),
                None => (sniff_separator(&text), "detected"),
            };
            reading.separator = Some(char::from(separator));
            reading.separator_source = Some(source);
            if source == "detected" && separator != b',' {
                reading.notes.push(format!("columns separated by `{}` (detected from the header)", separator_name(separator)));
            }
            csv_rows(&text, separator)?
        }
        Format::Json => json_rows(&text)?,
    };
    if rows.len() > limits.max_entries {
        return Err(reject(ImportProblem::TooManyEntries { count: rows.len(), limit: limits.max_entries }));
    }
    Ok((validate(rows)?, reading))
}

fn separator_name(separator: u8) -> &'static str {
    match separator {
        b';' => ";",
        b'\t' => "tab",
        _ => ",",
    }
}

/// The text of a file: a BOM names its encoding; else the declared one; else
/// UTF-8 when the bytes are valid UTF-8; else the most likely encoding
/// (`chardetng`, as browsers guess), said in the reading's notes.
fn decode(bytes: &[u8], declared: Option<&'static encoding_rs::Encoding>) -> Result<(String, FileReading), ImportProblem> {
    let reading = |encoding: &'static encoding_rs::Encoding, source| FileReading {
        encoding: encoding.name().to_owned(),
        encoding_source: source,
        separator: None,
        separator_source: None,
        notes: Vec::new(),
    };
    let strict = |encoding: &'static encoding_rs::Encoding, body: &[u8]| {
        encoding.decode_without_bom_handling_and_without_replacement(body).map(|t| t.into_owned()).ok_or_else(|| {
            // The first line holding a byte the encoding cannot read.
            let valid = match encoding == encoding_rs::UTF_8 {
                true => std::str::from_utf8(body).err().map_or(body.len(), |e| e.valid_up_to()),
                false => 0,
            };
            ImportProblem::Encoding {
                line: 1 + body[..valid].iter().filter(|&&b| b == b'\n').count(),
                encoding: encoding.name().to_owned(),
            }
        })
    };
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return Ok((strict(encoding, &bytes[bom..])?, reading(encoding, "bom")));
    }
    if let Some(encoding) = declared {
        return Ok((strict(encoding, bytes)?, reading(encoding, "declared")));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_owned(), reading(encoding_rs::UTF_8, "utf8")));
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let encoding = detector.guess(None, false);
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    let mut reading = reading(encoding, "guessed");
    reading.notes.push(format!(
        "the file is not UTF-8: read as {} (the most likely encoding); if accents look wrong, declare the encoding",
        encoding.name()
    ));
    Ok((text.into_owned(), reading))
}

/// The separator of a CSV file, from its header line: the one of `,` `;`
/// tab that splits it into the most known column names (Excel in a French
/// locale writes `;`); among equals, the one splitting it into most fields;
/// `,` when nothing tells.
fn sniff_separator(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    let known = |separator: char| {
        let fields: Vec<String> =
            header.split(separator).map(|f| f.trim().trim_matches('"').trim().to_ascii_lowercase()).collect();
        (fields.iter().filter(|f| COLUMNS.contains(&f.as_str())).count(), fields.len())
    };
    let candidates = [b',', b';', b'\t'];
    let best = (0..candidates.len()).max_by_key(|&i| (known(char::from(candidates[i])), std::cmp::Reverse(i)));
    best.map_or(b',', |i| candidates[i])
}

/// The fields of one entry as an admin types them (API, console): the same
/// fields and rules as one line of an imported file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryFields {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub extension: Option<String>,
    /// An extension or a `sip:`/`sips:` URI; defaults to the extension.
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub fallback: Option<String>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

impl EntryFields {
    /// The fields of a stored entry, as [`validate_entry`] reads them back.
    pub fn from_entry(e: &NewEntry) -> EntryFields {
        EntryFields {
            name: e.display_name.clone(),
            aliases: e.aliases.clone(),
            department: e.department.clone(),
            extension: e.extension.clone(),
            target: Some(target_text(&e.target).to_owned()),
            fallback: e.fallback.as_ref().map(|f| target_text(f).to_owned()),
            enabled: Some(e.enabled),
        }
    }
}

/// Validates one entry with the rules of an imported line (reported as line 1).
/// Uniqueness within the store is checked by storage, which sees the others.
pub fn validate_entry(fields: EntryFields) -> Result<NewEntry, ImportRejected> {
    let row = RawRow {
        line: 1,
        name: fields.name,
        aliases: fields.aliases,
        department: fields.department,
        extension: fields.extension,
        target: fields.target,
        fallback: fields.fallback,
        enabled: fields.enabled.map(EnabledValue::Bool),
    };
    let mut entries = validate(vec![row])?;
    // validate returns one entry per row when it reports no problem.
    Ok(entries.remove(0))
}

/// A row before validation, with the line it came from.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    #[serde(skip)]
    line: usize,
    #[serde(default)]
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    extension: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    fallback: Option<String>,
    #[serde(default)]
    enabled: Option<EnabledValue>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum EnabledValue {
    Bool(bool),
    Text(String),
}

const COLUMNS: [&str; 7] = ["name", "aliases", "department", "extension", "target", "fallback", "enabled"];

fn csv_rows(text: &str, separator: u8) -> Result<Vec<RawRow>, ImportRejected> {
    let mut reader =
        csv::ReaderBuilder::new().delimiter(separator).flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let syntax = |line: usize, e: csv::Error| ImportProblem::Syntax { line, format: "CSV", message: e.to_string() };
    let headers = reader.headers().map_err(|e| ImportRejected { problems: vec![syntax(1, e)] })?.clone();
    let mut problems = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let h_lower = h.to_ascii_lowercase();
        match COLUMNS.iter().find(|c| **c == h_lower) {
            Some(c) => {
                if index.insert(c, i).is_some() {
                    problems.push(ImportProblem::DuplicateColumn { line: 1, column: h.to_string() });
                }
            }
            None => {
                let other = [',', ';', '\t'].into_iter().find(|&c| c != char::from(separator) && h.contains(c));
                problems.push(match other {
                    Some(other) => ImportProblem::Separator {
                        line: 1,
                        column: h.to_string(),
                        separator: other,
                        used: char::from(separator),
                    },
                    None => ImportProblem::UnknownColumn { line: 1, column: h.to_string() },
                })
            }
        }
    }
    if !index.contains_key("name") {
        problems.push(ImportProblem::MissingNameColumn);
    }
    if !problems.is_empty() {
        return Err(ImportRejected { problems });
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                problems.push(syntax(line, e));
                continue;
            }
        };
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        let get = |c: &str| index.get(c).and_then(|&i| record.get(i)).filter(|v| !v.is_empty()).map(formula_unsafe);
        rows.push(RawRow {
            line,
            name: get("name").unwrap_or_default(),
            aliases: get("aliases").map(|a| split_aliases(&a)).unwrap_or_default(),
            department: get("department"),
            extension: get("extension"),
            target: get("target"),
            fallback: get("fallback"),
            enabled: get("enabled").map(EnabledValue::Text),
        });
    }
    if problems.is_empty() { Ok(rows) } else { Err(ImportRejected { problems }) }
}

/// Characters that make a spreadsheet read a cell as a formula (OWASP).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as written to CSV: a `'` in front of one a spreadsheet would run
/// as a formula, and of one starting with `'` (so that the importer, which
/// takes one `'` off such cells, gives back the same text).
fn formula_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some(c) if FORMULA_STARTS.contains(&c) || c == '\'' => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// The inverse of [`formula_safe`]: a `'` followed by a formula character or
/// another `'` is taken off; any other text (`'t Hooft`) is kept as is.
fn formula_unsafe(cell: &str) -> String {
    let mut chars = cell.chars();
    match (chars.next(), chars.next()) {
        (Some('\''), Some(c)) if FORMULA_STARTS.contains(&c) || c == '\'' => cell[1..].to_owned(),
        _ => cell.to_owned(),
    }
}

/// The aliases of a cell: separated by `;`, where `\;` is a `;` inside an
/// alias and `\\` a backslash (another `\` is kept as written).
fn split_aliases(cell: &str) -> Vec<String> {
    let mut aliases = Vec::new();
    let mut current = String::new();
    let mut chars = cell.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some(';' | '\\')) => current.extend(chars.next()),
            ';' => aliases.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    aliases.push(current);
    aliases.into_iter().map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect()
}

/// The aliases cell of an entry, as [`split_aliases`] reads it back.
fn join_aliases(aliases: &[String]) -> String {
    aliases.iter().map(|a| a.replace('\\', "\\\\").replace(';', "\\;")).collect::<Vec<_>>().join(";")
}

fn json_rows(text: &str) -> Result<Vec<RawRow>, ImportRejected> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Doc {
        List(Vec<serde_json::Value>),
        Wrapped { entries: Vec<serde_json::Value> },
    }
    let syntax = |line: usize, e: serde_json::Error| ImportProblem::Syntax { line, format: "JSON", message: e.to_string() };
    let doc: Doc = serde_json::from_str(text).map_err(|e| ImportRejected { problems: vec![syntax(e.line(), e)] })?;
    let values = match doc {
        Doc::List(v) | Doc::Wrapped { entries: v } => v,
    };
    // Line numbers: serde_json::Value keeps none, so each object is located by
    // re-reading the text with a deserializer that counts objects at depth 2.
    let lines = object_lines(text);
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (i, value) in values.into_iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(0);
        match serde_json::from_value::<RawRow>(value) {
            Ok(mut row) => {
                row.line = line;
                rows.push(row);
            }
            Err(e) => {
                let message = e.to_string();
                match message.strip_prefix("unknown field `").and_then(|m| m.split('`').next()) {
                    Some(column) => problems.push(ImportProblem::UnknownColumn { line, column: column.to_string() }),
                    None => problems.push(ImportProblem::Syntax { line, format: "JSON", message }),
                }
            }
        }
    }
    if problems.is_empty() { Ok(rows) } else { Err(ImportRejected { problems }) }
}

/// Line numbers of the entry objects of a JSON directory (objects that open inside
/// the top-level array), in order. Strings are skipped so braces in names do not count.
fn object_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let (mut line, mut depth, mut in_string, mut escaped) = (1usize, 0usize, false, false);
    let mut array_depth = None;
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            if c == '\n' {
                line += 1;
            }
            continue;
        }
        match c {
            '\n' => line += 1,
            '"' => in_string = true,
            '[' => {
                depth += 1;
                array_depth.get_or_insert(depth);
            }
            '{' => {
                depth += 1;
                if array_depth == Some(depth - 1) {
                    lines.push(line);
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    lines
}

/// Reads a transfer target as an admin types it: extension digits, or a
/// `sip:`/`sips:` URI; `None` if it is neither.
pub fn parse_target_text(value: &str) -> Option<TransferTarget> {
    parse_target(1, "target", value).ok()
}

/// The text form of a target, as [`parse_target_text`] reads it.
pub fn target_text(t: &TransferTarget) -> &str {
    match t {
        TransferTarget::Extension(e) | TransferTarget::Uri(e) => e,
    }
}

fn parse_target(line: usize, field: &'static str, value: &str) -> Result<TransferTarget, ImportProblem> {
    let value = value.trim();
    if !value.is_empty() && value.len() <= 15 && value.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(TransferTarget::Extension(value.to_string()));
    }
    let lower = value.to_ascii_lowercase();
    let rest = lower.strip_prefix("sip:").or_else(|| lower.strip_prefix("sips:"));
    let well_formed = rest.is_some_and(|r| {
        let host = r.rsplit('@').next().unwrap_or("");
        let host = host.split([';', '?']).next().unwrap_or("");
        !host.is_empty()
            && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
            && !value.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
    });
    if well_formed && value.len() <= 256 {
        Ok(TransferTarget::Uri(value.to_string()))
    } else {
        Err(ImportProblem::MalformedTarget { line, field, value: value.to_string() })
    }
}

fn check_text(line: usize, field: &'static str, value: &str, problems: &mut Vec<ImportProblem>) {
    let len = value.chars().count();
    if len > MAX_NAME {
        problems.push(ImportProblem::TooLong { line, field, len, max: MAX_NAME });
    }
    if value.chars().any(char::is_control) {
        problems.push(ImportProblem::ControlCharacters { line, field });
    }
}

fn validate(rows: Vec<RawRow>) -> Result<Vec<NewEntry>, ImportRejected> {
    let mut problems = Vec::new();
    let mut entries = Vec::with_capacity(rows.len());
    let mut seen_keys: HashMap<EntryKey, usize> = HashMap::new();
    let mut seen_extensions: HashMap<String, usize> = HashMap::new();
    for row in rows {
        let line = row.line;
        let before = problems.len();
        let name = row.name.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            problems.push(ImportProblem::EmptyName { line });
        }
        check_text(line, "name", &name, &mut problems);
        let department = row.department.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
        if let Some(d) = &department {
            check_text(line, "department", d, &mut problems);
        }
        let aliases: Vec<String> = row.aliases.iter().map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect();
        if aliases.len() > MAX_ALIASES {
            problems.push(ImportProblem::TooLong { line, field: "aliases", len: aliases.len(), max: MAX_ALIASES });
        }
        for a in &aliases {
            check_text(line, "aliases", a, &mut problems);
        }
        let extension = row.extension.map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
        if let Some(e) = &extension {
            if e.is_empty() || e.len() > 15 || !e.bytes().all(|b| b.is_ascii_digit()) {
                problems.push(ImportProblem::MalformedExtension { line, value: e.clone() });
            } else if let Some(&first_line) = seen_extensions.get(e) {
                problems.push(ImportProblem::DuplicateExtension { line, first_line, extension: e.clone() });
            } else {
                seen_extensions.insert(e.clone(), line);
            }
        }
        let target = match (row.target.as_deref().map(str::trim).filter(|t| !t.is_empty()), &extension) {
            (Some(t), _) => parse_target(line, "target", t).map_err(|p| problems.push(p)).ok(),
            (None, Some(e)) => Some(TransferTarget::Extension(e.clone())),
            (None, None) => {
                problems.push(ImportProblem::MissingTarget { line });
                None
            }
        };
        let fallback = match row.fallback.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(f) => parse_target(line, "fallback", f).map_err(|p| problems.push(p)).ok(),
            None => None,
        };
        let enabled = match row.enabled {
            None => true,
            Some(EnabledValue::Bool(b)) => b,
            Some(EnabledValue::Text(t)) => match t.trim().to_ascii_lowercase().as_str() {
                "" | "true" | "yes" | "1" | "oui" => true,
                "false" | "no" | "0" | "non" => false,
                _ => {
                    problems.push(ImportProblem::MalformedEnabled { line, value: t });
                    true
                }
            },
        };
        let key = EntryKey::new(&name, department.as_deref());
        if !name.is_empty() {
            if let Some(&first_line) = seen_keys.get(&key) {
                problems.push(ImportProblem::DuplicateEntry { line, first_line, key: key.to_string() });
            } else {
                seen_keys.insert(key, line);
            }
        }
        if problems.len() == before {
            if let Some(target) = target {
                entries.push(NewEntry { display_name: name, aliases, department, extension, target, fallback, enabled });
            }
        }
    }
    if problems.is_empty() { Ok(entries) } else { Err(ImportRejected { problems }) }
}

/// How an imported file meets the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportMode {
    /// The file is the whole directory: entries not in it are removed.
    #[default]
    Replace,
    /// The file's entries are added, or update the entry with the same name
    /// and department; entries not in it are kept.
    Merge,
}

/// The entries a directory holds after importing `imported` in `mode`.
pub fn apply_mode(current: &[NewEntry], imported: &[NewEntry], mode: ImportMode) -> Vec<NewEntry> {
    match mode {
        ImportMode::Replace => imported.to_vec(),
        ImportMode::Merge => {
            let mut by_key: HashMap<EntryKey, &NewEntry> = imported.iter().map(|e| (e.key(), e)).collect();
            let mut merged: Vec<NewEntry> =
                current.iter().map(|e| by_key.remove(&e.key()).unwrap_or(e).clone()).collect();
            merged.extend(imported.iter().filter(|e| by_key.contains_key(&e.key())).cloned());
            merged
        }
    }
}

/// Two entries of `entries` with the same extension, if any (a merge can
/// bring a file's extension next to an existing entry's): the extension and
/// the two entries' keys.
pub fn duplicate_extension(entries: &[NewEntry]) -> Option<(String, EntryKey, EntryKey)> {
    let mut seen: HashMap<&str, &NewEntry> = HashMap::new();
    for e in entries {
        if let Some(ext) = e.extension.as_deref()
            && let Some(first) = seen.insert(ext, e)
        {
            return Some((ext.to_owned(), first.key(), e.key()));
        }
    }
    None
}

/// The fields of an entry that differ between `old` and `new` (same key):
/// `spelling` is the name written differently (case, spaces).
pub fn changed_fields(old: &NewEntry, new: &NewEntry) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let checks: [(&'static str, bool); 7] = [
        ("spelling", old.display_name != new.display_name),
        ("aliases", old.aliases != new.aliases),
        ("department", old.department != new.department),
        ("extension", old.extension != new.extension),
        ("target", old.target != new.target),
        ("fallback", old.fallback != new.fallback),
        ("enabled", old.enabled != new.enabled),
    ];
    for (name, differs) in checks {
        if differs {
            fields.push(name);
        }
    }
    fields
}

/// What applying an import would change, keyed by [`EntryKey`].
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct DirectoryDiff {
    pub added: Vec<NewEntry>,
    /// (current, imported) pairs that differ.
    pub changed: Vec<(NewEntry, NewEntry)>,
    pub removed: Vec<NewEntry>,
    pub unchanged: usize,
}

impl DirectoryDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// Diff between the current entries and an imported list, in a stable order.
pub fn diff(current: &[NewEntry], imported: &[NewEntry]) -> DirectoryDiff {
    let current_by_key: HashMap<EntryKey, &NewEntry> = current.iter().map(|e| (e.key(), e)).collect();
    let imported_by_key: HashMap<EntryKey, &NewEntry> = imported.iter().map(|e| (e.key(), e)).collect();
    let mut d = DirectoryDiff::default();
    for e in imported {
        match current_by_key.get(&e.key()) {
            None => d.added.push(e.clone()),
            Some(old) if *old != e => d.changed.push(((*old).clone(), e.clone())),
            Some(_) => d.unchanged += 1,
        }
    }
    d.removed = current.iter().filter(|e| !imported_by_key.contains_key(&e.key())).cloned().collect();
    d
}

/// The importable form of a stored entry (drops the id).
pub fn to_new_entry(e: &Entry) -> NewEntry {
    NewEntry::from(e)
}

/// A stored entry from an imported one, with the id storage gave it.
pub fn to_entry(id: EntryId, e: &NewEntry) -> Entry {
    e.with_id(id)
}

/// How an exported CSV is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CsvDialect {
    /// UTF-8 without BOM, `,` separators, LF line ends.
    #[default]
    Standard,
    /// What Excel in a French (or any `;`) locale opens as columns with the
    /// accents right: UTF-8 with a BOM, `;` separators, CRLF line ends.
    Excel,
}

/// Writes entries as a directory file that [`parse`] reads back to the same entries.
pub fn export(entries: &[NewEntry], format: Format) -> Vec<u8> {
    export_with(entries, format, CsvDialect::Standard)
}

/// [`export`] in a chosen CSV dialect (ignored for JSON). Cells are
/// formula-safe in both dialects.
pub fn export_with(entries: &[NewEntry], format: Format, dialect: CsvDialect) -> Vec<u8> {
    match format {
        Format::Csv => {
            let mut builder = csv::WriterBuilder::new();
            let mut out = Vec::new();
            if dialect == CsvDialect::Excel {
                builder.delimiter(b';').terminator(csv::Terminator::CRLF);
                out.extend_from_slice(b"\xEF\xBB\xBF");
            }
            let mut w = builder.from_writer(out);
            // Writing to a Vec cannot fail with an IO error; records have a fixed width.
            w.write_record(COLUMNS).expect("write to Vec");
            for e in entries {
                let target = match (&e.target, &e.extension) {
                    (TransferTarget::Extension(t), Some(ext)) if t == ext => "",
                    (t, _) => target_text(t),
                };
                let aliases = join_aliases(&e.aliases);
                let cells = [
                    e.display_name.as_str(),
                    &aliases,
                    e.department.as_deref().unwrap_or(""),
                    e.extension.as_deref().unwrap_or(""),
                    target,
                    e.fallback.as_ref().map(target_text).unwrap_or(""),
                    if e.enabled { "true" } else { "false" },
                ];
                w.write_record(cells.iter().map(|c| formula_safe(c).into_owned())).expect("write to Vec");
            }
            w.into_inner().expect("flush to Vec")
        }
        Format::Json => {
            let list: Vec<serde_json::Value> = entries
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "name": e.display_name,
                        "aliases": e.aliases,
                        "department": e.department,
                        "extension": e.extension,
                        "target": target_text(&e.target),
                        "fallback": e.fallback.as_ref().map(target_text),
                        "enabled": e.enabled,
                    })
                })
                .collect();
            // Serialising plain JSON values cannot fail.
            let mut out = serde_json::to_vec_pretty(&serde_json::json!({ "entries": list })).expect("JSON values serialise");
            out.push(b'\n');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    //! Imports are validated whole, every problem is reported with its line, and
    //! export → import gives back the same directory.
    use super::*;
    use ImportProblem as P;

    fn csv(text: &str) -> Result<Vec<NewEntry>, ImportRejected> {
        parse(text.as_bytes(), Format::Csv, ImportLimits::default())
    }

    fn problems(text: &str) -> Vec<ImportProblem> {
        csv(text).expect_err("must be rejected").problems
    }

    #[test]
    fn a_good_csv_imports() {
        let e = csv("name,aliases,department,extension,target,fallback,enabled\n\
                     Sophie Martin,Sophie;la boulangère,Boulangerie,201,,sip:accueil@pbx.example,\n\
                     \"Prodhomme, Hervé\",,Direction,,sip:herve@10.0.0.5:5060,,no\n")
            .unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].aliases, vec!["Sophie", "la boulangère"]);
        assert_eq!(e[0].target, TransferTarget::Extension("201".into()));
        assert_eq!(e[0].fallback, Some(TransferTarget::Uri("sip:accueil@pbx.example".into())));
        assert_eq!(e[1].display_name, "Prodhomme, Hervé");
        assert_eq!(e[1].target, TransferTarget::Uri("sip:herve@10.0.0.5:5060".into()));
        assert!(!e[1].enabled);
    }

    #[test]
    fn every_rule_reports_its_line() {
        let cases: Vec<(&str, ImportProblem)> = vec![
            ("name,extension\n,201\n", P::EmptyName { line: 2 }),
            ("name,extension\nA,201\nB,\n", P::MissingTarget { line: 3 }),
            ("name,target\nA,mailto:x@y\n", P::MalformedTarget { line: 2, field: "target", value: "mailto:x@y".into() }),
            ("name,target\nA,sip:\n", P::MalformedTarget { line: 2, field: "target", value: "sip:".into() }),
            ("name,extension\nA,20a\n", P::MalformedExtension { line: 2, value: "20a".into() }),
            ("name,extension,enabled\nA,201,maybe\n", P::MalformedEnabled { line: 2, value: "maybe".into() }),
            ("name,extension\nA,201\nB,201\n", P::DuplicateExtension { line: 3, first_line: 2, extension: "201".into() }),
            ("name,extension\nSophie  Martin,201\nsophie martin,202\n", P::DuplicateEntry { line: 3, first_line: 2, key: "sophie martin".into() }),
            ("name,extension,colour\nA,201,red\n", P::UnknownColumn { line: 1, column: "colour".into() }),
            ("nom,extension\nA,201\n", P::UnknownColumn { line: 1, column: "nom".into() }),
            ("name,extension\nA\u{7}B,201\n", P::ControlCharacters { line: 2, field: "name" }),
        ];
        for (text, expected) in cases {
            let got = problems(text);
            assert!(got.contains(&expected), "{text:?}: expected {expected:?}, got {got:?}");
        }
    }

    #[test]
    fn same_name_in_two_departments_is_not_a_duplicate() {
        assert_eq!(csv("name,department,extension\nMartin,Boulangerie,201\nMartin,Bricolage,202\n").unwrap().len(), 2);
    }

    #[test]
    fn one_bad_line_rejects_the_whole_file_and_all_problems_are_listed() {
        let p = problems("name,extension\nA,201\n,202\nC,abc\nD,\n");
        assert_eq!(p.len(), 3, "{p:?}");
        assert_eq!(p[0], P::EmptyName { line: 3 });
    }

    #[test]
    fn ragged_rows_are_syntax_errors_with_lines() {
        let p = problems("name,extension\nA,201\nB,202,extra\n");
        assert!(matches!(p[0], P::Syntax { line: 3, format: "CSV", .. }), "{p:?}");
    }

    #[test]
    fn wrong_encoding_is_reported_with_its_line() {
        let mut bytes = b"name,extension\nA,201\n".to_vec();
        bytes.extend(b"Herv\xE9,202\n"); // Latin-1 é
        let utf8 = ReadOptions { encoding: Some(encoding_rs::UTF_8), separator: None };
        let err = parse_with(&bytes, Format::Csv, ImportLimits::default(), utf8).unwrap_err();
        assert_eq!(err.problems, vec![P::Encoding { line: 3, encoding: "UTF-8".into() }]);
        // Not declared: read as the most likely encoding, and said so.
        let (entries, reading) = parse_with(&bytes, Format::Csv, ImportLimits::default(), ReadOptions::default()).unwrap();
        // Five letters say little: any single-byte Latin guess reads "é" here.
        assert_eq!(entries[1].display_name, "Hervé");
        assert_eq!(reading.encoding_source, "guessed");
        assert!(reading.notes[0].contains(&format!("not UTF-8: read as {}", reading.encoding)), "{:?}", reading.notes);
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/directory").join(name)).unwrap()
    }

    /// The same four entries as a French Excel saves them (`;` + Windows-1252,
    /// `;` + UTF-8 with BOM, tabs): all read alike, accents intact.
    #[test]
    fn french_excel_files_import_with_their_accents() {
        let mut seen = Vec::new();
        for (name, encoding, source, separator) in [
            ("fr-excel-cp1252.csv", "windows-1252", "guessed", ';'),
            ("fr-excel-utf8-bom.csv", "UTF-8", "bom", ';'),
            ("fr-excel-tab.txt", "UTF-8", "utf8", '\t'),
        ] {
            let (entries, reading) =
                parse_with(&fixture(name), Format::Csv, ImportLimits::default(), ReadOptions::default()).unwrap();
            assert_eq!(
                (reading.encoding.as_str(), reading.encoding_source, reading.separator),
                (encoding, source, Some(separator)),
                "{name}"
            );
            assert_eq!(entries[0].display_name, "Hélène Dupré", "{name}");
            assert_eq!(entries[0].aliases, vec!["Hélène", "la crèmerie"], "{name}");
            assert_eq!(entries[2].department.as_deref(), Some("Épicerie"), "{name}");
            assert!(!entries[2].enabled, "{name}");
            seen.push(entries);
        }
        assert!(seen.windows(2).all(|w| w[0] == w[1]));
        // Declared, the same file reads the same way without a guess.
        let declared = ReadOptions { encoding: ReadOptions::encoding_from_label("latin1"), separator: Some(b';') };
        let (entries, reading) =
            parse_with(&fixture("fr-excel-cp1252.csv"), Format::Csv, ImportLimits::default(), declared).unwrap();
        assert_eq!(entries, seen[0]);
        assert_eq!((reading.encoding_source, reading.separator_source), ("declared", Some("declared")));
    }

    #[test]
    fn a_wrong_separator_is_named() {
        let bytes = b"name;extension\nA;201\n";
        let comma = ReadOptions { encoding: None, separator: Some(b',') };
        let err = parse_with(bytes, Format::Csv, ImportLimits::default(), comma).unwrap_err();
        assert_eq!(err.problems[0], P::Separator { line: 1, column: "name;extension".into(), separator: ';', used: ',' });
        assert!(err.problems[0].to_string().contains("seems separated by `;`"));
    }

    /// OWASP CSV injection: cells a spreadsheet would run are prefixed, and
    /// read back exactly; an alias holding `;` stays one alias.
    #[test]
    fn exports_are_formula_safe_and_round_trip_exactly() {
        let base = sample()[0].clone();
        let tricky = vec![
            NewEntry { display_name: "=HYPERLINK(\"http://x\")".into(), aliases: vec!["+33 1".into(), "a;b".into(), "c\\;d".into()], ..base.clone() },
            NewEntry { display_name: "@SUM(A1)".into(), department: Some("-2".into()), extension: Some("301".into()), target: TransferTarget::Extension("301".into()), aliases: vec![], ..base.clone() },
            NewEntry { display_name: "'t Hooft".into(), extension: Some("302".into()), target: TransferTarget::Extension("302".into()), aliases: vec!["'=x".into()], ..base.clone() },
        ];
        for dialect in [CsvDialect::Standard, CsvDialect::Excel] {
            let bytes = export_with(&tricky, Format::Csv, dialect);
            let text = String::from_utf8_lossy(&bytes);
            for line in text.lines().skip(1) {
                let first = line.trim_start_matches('\u{feff}').chars().next().unwrap();
                assert!(!"=+-@".contains(first), "{dialect:?}: a formula cell starts a line: {line}");
            }
            assert!(text.contains("'=HYPERLINK") && text.contains("'@SUM") && text.contains("'-2"), "{text}");
            assert_eq!(parse(&bytes, Format::Csv, ImportLimits::default()).unwrap(), tricky, "{dialect:?}: {text}");
        }
        let excel = export_with(&tricky, Format::Csv, CsvDialect::Excel);
        assert!(excel.starts_with(b"\xEF\xBB\xBFname;aliases;department;"), "BOM and `;`");
        assert!(excel.windows(2).any(|w| w == b"\r\n"), "CRLF");
    }
    #[test]
    fn bom_is_accepted() {
        let bytes = b"\xEF\xBB\xBFname,extension\nA,201\n";
        assert_eq!(parse(bytes, Format::Csv, ImportLimits::default()).unwrap().len(), 1);
    }

    #[test]
    fn limits_are_enforced() {
        let limits = ImportLimits { max_bytes: 30, max_entries: 1 };
        let big = "name,extension\n".to_string() + &"A,1\n".repeat(10);
        assert!(matches!(parse(big.as_bytes(), Format::Csv, limits).unwrap_err().problems[0], P::TooLarge { .. }));
        let two = "name,extension\nA,1\nB,2\n";
        assert_eq!(parse(two.as_bytes(), Format::Csv, limits).unwrap_err().problems, vec![P::TooManyEntries { count: 2, limit: 1 }]);
    }

    #[test]
    fn sql_looking_input_is_just_text() {
        let e = csv("name,extension\n\"Robert'); DROP TABLE entries;--\",201\n").unwrap();
        assert_eq!(e[0].display_name, "Robert'); DROP TABLE entries;--");
    }

    #[test]
    fn json_imports_with_lines_for_problems() {
        let text = r#"{"entries": [
  {"name": "Sophie Martin", "extension": "201", "aliases": ["Sophie"]},
  {"name": "Paul {brace} \"quoted\"", "target": "sip:paul@pbx"},
  {"name": "", "extension": "203"},
  {"name": "X", "extension": "204", "colour": "red"}
]}"#;
        let err = parse(text.as_bytes(), Format::Json, ImportLimits::default()).unwrap_err();
        assert_eq!(err.problems, vec![P::UnknownColumn { line: 5, column: "colour".into() }]);
        let fixed = text.replace(r#", "colour": "red""#, "");
        let err = parse(fixed.as_bytes(), Format::Json, ImportLimits::default()).unwrap_err();
        assert_eq!(err.problems, vec![P::EmptyName { line: 4 }]);
        let ok = fixed.replace(r#""name": """#, r#""name": "Zoé""#);
        let e = parse(ok.as_bytes(), Format::Json, ImportLimits::default()).unwrap();
        assert_eq!(e.len(), 4);
        assert_eq!(e[1].display_name, "Paul {brace} \"quoted\"");
        let bad = parse(b"[{\"name\": 3}]", Format::Json, ImportLimits::default()).unwrap_err();
        assert!(matches!(bad.problems[0], P::Syntax { line: 1, format: "JSON", .. }), "{bad:?}");
        let broken = parse(b"[{\"name\": \"A\",\n", Format::Json, ImportLimits::default()).unwrap_err();
        assert!(matches!(broken.problems[0], P::Syntax { line: 2, .. }), "{broken:?}");
    }

    fn sample() -> Vec<NewEntry> {
        csv("name,aliases,department,extension,target,fallback,enabled\n\
             Sophie Martin,Sophie;la boulangère,Boulangerie,201,,sip:accueil@pbx,\n\
             \"Le rayon \"\"bricolage\"\"\",,Bricolage,,sip:brico@pbx,,false\n\
             Hervé Prodhomme,,,202,203,,\n")
            .unwrap()
    }

    #[test]
    fn export_then_import_round_trips_in_both_formats() {
        let entries = sample();
        for format in [Format::Csv, Format::Json] {
            let bytes = export(&entries, format);
            assert_eq!(parse(&bytes, format, ImportLimits::default()).unwrap(), entries, "{format:?}");
        }
    }

    #[test]
    fn diff_lists_added_changed_removed() {
        let current = sample();
        let mut imported = current.clone();
        imported.remove(2); // Hervé removed
        imported[0].extension = Some("209".into()); // Sophie changed
        imported[0].target = TransferTarget::Extension("209".into());
        imported.push(NewEntry { display_name: "Paul Martin".into(), ..current[2].clone() });
        let d = diff(&current, &imported);
        assert_eq!(d.added.iter().map(|e| e.display_name.as_str()).collect::<Vec<_>>(), ["Paul Martin"]);
        assert_eq!(d.changed.len(), 1);
        assert_eq!(d.changed[0].1.extension.as_deref(), Some("209"));
        assert_eq!(d.removed.iter().map(|e| e.display_name.as_str()).collect::<Vec<_>>(), ["Hervé Prodhomme"]);
        assert_eq!(d.unchanged, 1);
        assert!(diff(&current, &current).is_empty());
    }
}
