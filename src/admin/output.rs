//! Output of the admin subcommands: one `Rows` value rendered as an aligned table for humans
//! (colours only when stdout is a terminal and `NO_COLOR` is unset), CSV with a header line
//! (RFC 4180 quoting) or JSON (an array, one object a line, keys in column order) for
//! scripts. Column names and order are part of the interface documented in rebound(8).

use serde_json::Value;
use std::io::{IsTerminal, Write};

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// The `--format` / `--json` pair every data-printing subcommand takes.
#[derive(Debug, Clone, clap::Args)]
pub struct FormatArgs {
    /// Output format [default: table, or csv for export].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

impl FormatArgs {
    pub fn get(&self, default: Format) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format.unwrap_or(default)
        }
    }
}

/// A result set: column names and rows of JSON scalars (null, number, string).
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    pub fn new(columns: &[&str]) -> Rows {
        Rows {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Run `sql` and collect every column of every row.
    pub fn query(
        conn: &rusqlite::Connection,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> rusqlite::Result<Rows> {
        let mut stmt = conn.prepare(sql)?;
        let columns: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
        let n = columns.len();
        let rows = stmt
            .query_map(params, |r| {
                (0..n).map(|i| r.get_ref(i).map(to_json)).collect()
            })?
            .collect::<rusqlite::Result<Vec<Vec<Value>>>>()?;
        Ok(Rows { columns, rows })
    }

    /// The rows as JSON objects (keys in column order).
    pub fn objects(&self) -> Vec<Obj> {
        self.rows
            .iter()
            .map(|r| {
                Obj(self
                    .columns
                    .iter()
                    .cloned()
                    .zip(r.iter().cloned().map(Json::Value))
                    .collect())
            })
            .collect()
    }

    pub fn print(&self, format: Format) -> std::io::Result<()> {
        let stdout = std::io::stdout();
        let colour = colour_stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        match format {
            Format::Json => self.write_json(&mut out)?,
            Format::Csv => self.write_csv(&mut out)?,
            Format::Table => self.write_table(&mut out, colour)?,
        }
        out.flush()
    }

    pub fn write_json(&self, out: &mut impl Write) -> std::io::Result<()> {
        let objects = self.objects();
        if objects.is_empty() {
            return writeln!(out, "[]");
        }
        writeln!(out, "[")?;
        for (i, o) in objects.iter().enumerate() {
            let sep = if i + 1 < objects.len() { "," } else { "" };
            writeln!(out, "{o}{sep}")?;
        }
        writeln!(out, "]")
    }

    pub fn write_csv(&self, out: &mut impl Write) -> std::io::Result<()> {
        let header: Vec<String> = self.columns.iter().map(|c| csv_field(c)).collect();
        write!(out, "{}\r\n", header.join(","))?;
        for r in &self.rows {
            let line: Vec<String> = r.iter().map(|v| csv_field(&plain(v))).collect();
            write!(out, "{}\r\n", line.join(","))?;
        }
        Ok(())
    }

    pub fn write_table(&self, out: &mut impl Write, colour: bool) -> std::io::Result<()> {
        if self.rows.is_empty() {
            return writeln!(out, "(none)");
        }
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(|v| clip(&plain(v), MAX_CELL)).collect())
            .collect();
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for r in &cells {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let last = self.columns.len().saturating_sub(1);
        let mut line = String::new();
        for (i, (c, w)) in self.columns.iter().zip(&widths).enumerate() {
            line.push_str(&pad(c, if i == last { 0 } else { *w }));
            if i != last {
                line.push_str("  ");
            }
        }
        writeln!(out, "{}", paint(line.trim_end(), BOLD, colour))?;
        for r in &cells {
            let mut line = String::new();
            for (i, (c, w)) in r.iter().zip(&widths).enumerate() {
                let padded = pad(c, if i == last { 0 } else { *w });
                let col = self.columns[i].as_str();
                line.push_str(&match (col, colour) {
                    ("cause" | "kind", true) => paint(&padded, cause_colour(c), true),
                    _ => padded,
                });
                if i != last {
                    line.push_str("  ");
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// A JSON object that keeps its keys in the order they were pushed (serde_json's own map
/// sorts them), so that column order is the same in every format.
#[derive(Debug, Clone, Default)]
pub struct Obj(pub Vec<(String, Json)>);

/// A value inside an [`Obj`].
#[derive(Debug, Clone)]
pub enum Json {
    Value(Value),
    Obj(Obj),
    List(Vec<Obj>),
}

impl Obj {
    pub fn push(&mut self, key: &str, value: impl Into<Json>) -> &mut Obj {
        self.0.push((key.to_string(), value.into()));
        self
    }
}

impl From<Value> for Json {
    fn from(v: Value) -> Json {
        Json::Value(v)
    }
}

impl From<Obj> for Json {
    fn from(o: Obj) -> Json {
        Json::Obj(o)
    }
}

impl From<Vec<Obj>> for Json {
    fn from(l: Vec<Obj>) -> Json {
        Json::List(l)
    }
}

impl serde::Serialize for Obj {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl serde::Serialize for Json {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Value(v) => v.serialize(s),
            Json::Obj(o) => o.serialize(s),
            Json::List(l) => l.serialize(s),
        }
    }
}

impl std::fmt::Display for Obj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match serde_json::to_string(self) {
            Ok(s) => f.write_str(&s),
            Err(_) => Err(std::fmt::Error),
        }
    }
}

/// Widest cell of a table before it is cut with an ellipsis (CSV and JSON are never cut).
const MAX_CELL: usize = 72;

pub const BOLD: &str = "1";
pub const RED: &str = "31";
pub const GREEN: &str = "32";
pub const YELLOW: &str = "33";
pub const MAGENTA: &str = "35";
pub const CYAN: &str = "36";

/// Whether stdout gets colours: a terminal and no `NO_COLOR` (no-color.org).
pub fn colour_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Wrap `s` in an SGR colour when `on`.
pub fn paint(s: &str, sgr: &str, on: bool) -> String {
    if on && !sgr.is_empty() {
        format!("\x1b[{sgr}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

/// Colour of a suppression cause or event kind.
pub fn cause_colour(c: &str) -> &'static str {
    match c.trim() {
        "hard" | "bounce" => RED,
        "complaint" => MAGENTA,
        "soft" | "delayed" => YELLOW,
        "manual" => CYAN,
        "ok" | "delivered" => GREEN,
        _ => "",
    }
}

fn pad(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n >= w {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(w - n))
    }
}

fn clip(s: &str, max: usize) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut t: String = one_line.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// A cell as plain text: null is empty.
pub fn plain(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A SQLite value as JSON: integers and reals as numbers, text as strings, blobs as lossy text.
pub fn to_json(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Value::from(f),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Value::from(String::from_utf8_lossy(t).into_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Rows {
        Rows {
            columns: vec!["address".into(), "cause".into(), "n".into()],
            rows: vec![
                vec![
                    Value::from("joe@example.com"),
                    Value::from("hard"),
                    Value::from(3),
                ],
                vec![
                    Value::from("a,\"b\"@example.net"),
                    Value::Null,
                    Value::from(10),
                ],
            ],
        }
    }

    #[test]
    fn csv_quotes() {
        let mut v = Vec::new();
        sample().write_csv(&mut v).unwrap();
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "address,cause,n\r\njoe@example.com,hard,3\r\n\"a,\"\"b\"\"@example.net\",,10\r\n"
        );
    }

    #[test]
    fn json_lines_in_an_array() {
        let mut v = Vec::new();
        sample().write_json(&mut v).unwrap();
        let s = String::from_utf8(v).unwrap();
        let parsed: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(parsed[0]["address"], "joe@example.com");
        assert_eq!(parsed[1]["cause"], Value::Null);
        assert_eq!(s.lines().count(), 4);
        assert!(
            s.contains("{\"address\":\"joe@example.com\",\"cause\":\"hard\",\"n\":3}"),
            "{s}"
        );
    }

    #[test]
    fn table_aligns() {
        let mut v = Vec::new();
        sample().write_table(&mut v, false).unwrap();
        let s = String::from_utf8(v).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "address            cause  n");
        assert_eq!(lines[1], "joe@example.com    hard   3");
        assert_eq!(lines[2], "a,\"b\"@example.net         10");
    }
}
