//! Every CSV the program writes goes through the `csv` crate, so a field
//! holding a comma, a quote or a newline (a class name, a series label) is
//! quoted correctly.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// A CSV file written a row at a time, each row flushed, so a crash or a
/// plot reading the file live sees every finished row.
pub struct CsvLog {
    writer: csv::Writer<File>,
    path: PathBuf,
}

impl CsvLog {
    /// Create (truncating) `path` and write `header`.
    pub fn create(path: &Path, header: &[&str]) -> Result<CsvLog, String> {
        CsvLog::open(path, header, false)
    }

    /// With `append`, add to an existing file (a resumed run), writing the
    /// header only when the file is empty.
    pub fn open(path: &Path, header: &[&str], append: bool) -> Result<CsvLog, String> {
        let fail = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
        let file = OpenOptions::new().create(true).write(true).append(append).truncate(!append).open(path).map_err(|e| fail(&e))?;
        let empty = file.metadata().map_err(|e| fail(&e))?.len() == 0;
        let mut log = CsvLog { writer: csv::Writer::from_writer(file), path: path.to_path_buf() };
        if empty {
            log.row(header)?;
        }
        Ok(log)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write one row and flush it.
    pub fn row<I, T>(&mut self, fields: I) -> Result<(), String>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let fail = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", self.path.display());
        self.writer.write_record(fields).map_err(|e| fail(&e))?;
        self.writer.flush().map_err(|e| fail(&e))
    }
}

/// `header` and `rows` as CSV text (for exports the user saves).
pub fn to_string<R, T>(header: &[&str], rows: impl IntoIterator<Item = R>) -> String
where
    R: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail.
    let _ = w.write_record(header);
    for r in rows {
        let _ = w.write_record(r);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_quotes_and_newlines_are_quoted() {
        let text = to_string(&["name", "value"], [vec!["plain", "1"], vec!["a, b", "2"], vec!["say \"hi\"", "3"], vec!["two\nlines", "4"]]);
        assert_eq!(text, "name,value\nplain,1\n\"a, b\",2\n\"say \"\"hi\"\"\",3\n\"two\nlines\",4\n");
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let back: Vec<String> = r.records().map(|rec| rec.unwrap()[0].to_string()).collect();
        assert_eq!(back, ["plain", "a, b", "say \"hi\"", "two\nlines"]);
    }

    #[test]
    fn a_log_writes_its_header_once_and_appends() {
        let path = std::env::temp_dir().join(format!("vislab-csvlog-{}.csv", std::process::id()));
        CsvLog::create(&path, &["a", "b"]).unwrap().row(["1", "x,y"]).unwrap();
        CsvLog::open(&path, &["a", "b"], true).unwrap().row(["2", ""]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a,b\n1,\"x,y\"\n2,\n");
        CsvLog::create(&path, &["a", "b"]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a,b\n");
        let e = CsvLog::create(Path::new("/no/such/dir/m.csv"), &["a"]).err().unwrap();
        assert!(e.starts_with("cannot write /no/such/dir/m.csv: "), "{e}");
    }
}
