//! Streaming read of a large observations CSV file: rows are parsed,
//! checked and handed on in batches while the file is read, so memory does
//! not grow with the file. Used for UTF-8 CSV files of observations read
//! from disk; everything else goes through [`crate::read_file`].
//!
//! What needs the whole file is left to the caller's database (a key given
//! twice: the caller's load reports such keys, and
//! [`ObservationFile::finish`] reads the file once more to name their rows).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use citykpi_domain::observation::Observation;
use citykpi_domain::{Kind, KnownKeys};

use crate::error::{ImportError, Problem, Problems, RowUnit};
use crate::import::{Parsed, Resolved, RowParser};
use crate::table::{Cells, HEADER_SCAN_ROWS, csv_reader};
use crate::{Format, Header, RowSink, resolve_header, validate};

/// Bytes read at a time when checking that a file is UTF-8.
const CHUNK: usize = 1 << 20;

/// An observations CSV file ready to be read row by row.
pub struct ObservationFile {
    path: PathBuf,
    name: String,
    map: Resolved,
    header_row: usize,
    delimiter: u8,
    /// Bytes of a UTF-8 byte order mark to skip.
    skip: usize,
    warnings: Vec<Problem>,
}

/// What one read of an [`ObservationFile`] found.
pub struct StreamRead {
    pub rows_read: usize,
    problems: Problems,
}

/// What a finished streaming import reports.
#[derive(Debug)]
pub struct StreamOutcome {
    pub rows_read: usize,
    pub warnings: Vec<Problem>,
}

fn io_error(name: &str, source: std::io::Error) -> ImportError {
    ImportError::Io {
        file: name.to_string(),
        source,
    }
}

/// Whether the whole file is UTF-8 (after an optional byte order mark),
/// checked a chunk at a time; returns the bytes of the mark, or None.
fn utf8_file(name: &str, path: &Path) -> Result<Option<usize>, ImportError> {
    let mut f = File::open(path).map_err(|e| io_error(name, e))?;
    let mut buf = vec![0u8; CHUNK];
    let mut carry = 0usize; // bytes of an unfinished character kept at the front
    let mut first = true;
    let mut skip = 0;
    loop {
        let n = f.read(&mut buf[carry..]).map_err(|e| io_error(name, e))?;
        if n == 0 {
            return Ok((carry == 0).then_some(skip));
        }
        let mut filled = carry + n;
        let mut start = 0;
        if first {
            first = false;
            if buf[..filled].starts_with(b"\xEF\xBB\xBF") {
                start = 3;
                skip = 3;
            }
        }
        match std::str::from_utf8(&buf[start..filled]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_none() => {
                let valid = start + e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                filled -= valid;
                carry = filled;
            }
            Err(_) => return Ok(None),
        }
    }
}

impl ObservationFile {
    /// Opens `path` for streaming when it is a UTF-8 CSV file whose header
    /// is that of observations (or `kind` says so); None when it must be
    /// read whole (another format, encoding or kind). A header with problems
    /// is the same error [`crate::read_file`] gives.
    pub fn open(path: &Path, kind: Option<Kind>) -> Result<Option<ObservationFile>, ImportError> {
        if kind.is_some_and(|k| k != Kind::Observations) {
            return Ok(None);
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        if Format::from_file_name(&name) != Some(Format::Csv) {
            return Ok(None);
        }
        let empty = std::fs::metadata(path)
            .map_err(|e| io_error(&name, e))?
            .len()
            == 0;
        if empty {
            return Ok(None);
        }
        let Some(skip) = utf8_file(&name, path)? else {
            return Ok(None);
        };
        // The header scan: the first lines as text (the delimiter from the first).
        let mut first_line = String::new();
        {
            let mut r = BufReader::new(File::open(path).map_err(|e| io_error(&name, e))?);
            let mut bytes = Vec::new();
            std::io::BufRead::read_until(&mut r, b'\n', &mut bytes)
                .map_err(|e| io_error(&name, e))?;
            first_line.push_str(&String::from_utf8_lossy(&bytes[skip.min(bytes.len())..]));
        }
        let delimiter = crate::table::sniff_delimiter(&first_line);
        let mut reader = open_csv(&name, path, skip, delimiter)?;
        let mut head: Vec<(usize, Vec<String>)> = Vec::new();
        let mut rec = csv::StringRecord::new();
        while head.len() < HEADER_SCAN_ROWS {
            match reader.read_record(&mut rec) {
                Ok(true) => head.push((head.len() + 1, rec.iter().map(str::to_string).collect())),
                Ok(false) => break,
                // Read whole, the file gives its own message for this.
                Err(_) => return Ok(None),
            }
        }
        let kind_seen = match kind {
            Some(k) => k,
            None => match head.iter().find_map(|(_, r)| crate::import::detect_kind(r)) {
                Some(k) => k,
                None => return Ok(None),
            },
        };
        if kind_seen != Kind::Observations {
            return Ok(None);
        }
        let Header {
            map,
            header_row,
            warnings,
        } = resolve_header(&name, &head, kind, true)?;
        if map.kind != Kind::Observations {
            return Ok(None);
        }
        Ok(Some(ObservationFile {
            path: path.to_path_buf(),
            name,
            map,
            header_row,
            delimiter,
            skip,
            warnings,
        }))
    }

    /// The file's name as messages give it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads every data row, handing on batches of at most `batch_rows`
    /// valid observations (in file order) to `send`, which returns false to
    /// stop the read (the receiver is gone). Rows with problems are not
    /// handed on; the problems are kept (up to [`crate::MAX_PROBLEMS`]) for
    /// [`ObservationFile::finish`]. Codes of KPIs not in `known` are problems.
    pub fn read(
        &self,
        known: &KnownKeys,
        batch_rows: usize,
        send: &mut dyn FnMut(Vec<Observation>) -> bool,
    ) -> StreamRead {
        let mut problems = Problems::default();
        let mut parser = RowParser::new(&self.map);
        let mut parsed = Parsed::default();
        let kpi_column = self.map.name("kpi_code");
        let mut rows_read = 0;
        let mut last_ok = String::new();
        let mut open = true;
        let result = self.each_record(&mut |n, cells| {
            if !open {
                return false;
            }
            let mut sink = RowSink::new(&self.map, &mut parser, &mut parsed, &mut problems);
            sink.row(n, cells);
            rows_read += sink.rows_read;
            if parsed.ds.observations.len() >= batch_rows {
                let batch = checked(&mut parsed, known, &kpi_column, &mut last_ok, &mut problems);
                open = send(batch);
            }
            open
        });
        if let Err(p) = result {
            problems.push(p);
        }
        if open {
            let batch = checked(&mut parsed, known, &kpi_column, &mut last_ok, &mut problems);
            if !batch.is_empty() {
                send(batch);
            }
        }
        StreamRead {
            rows_read,
            problems,
        }
    }

    /// The result of an import read by [`ObservationFile::read`]: its
    /// problems, and for each key in `duplicates` (keys the load found more
    /// than once: KPI code, period, area code) the rows that repeat an
    /// earlier one, found by reading the file once more.
    pub fn finish(
        &self,
        read: StreamRead,
        duplicates: &[(String, String, String)],
    ) -> Result<StreamOutcome, ImportError> {
        let StreamRead {
            rows_read,
            mut problems,
        } = read;
        if !duplicates.is_empty() {
            self.name_duplicates(duplicates, &mut problems);
        }
        if !problems.is_empty() {
            return Err(ImportError::Invalid(
                problems.into_report(&self.name, RowUnit::Line),
            ));
        }
        let mut warnings = self.warnings.clone();
        if rows_read == 0 {
            warnings.push(Problem::file("データ行がありません / no data rows"));
        }
        Ok(StreamOutcome {
            rows_read,
            warnings,
        })
    }

    fn name_duplicates(&self, keys: &[(String, String, String)], problems: &mut Problems) {
        let wanted: HashSet<(&str, &str, &str)> = keys
            .iter()
            .map(|(k, p, a)| (k.as_str(), p.as_str(), a.as_str()))
            .collect();
        let mut parser = RowParser::new(&self.map);
        let mut parsed = Parsed::default();
        let mut ignored = Problems::default();
        let mut first: HashMap<(String, String, String), usize> = HashMap::new();
        let column = self.map.name("kpi_code");
        let mut found = Vec::new();
        let mut period = String::new();
        let _ = self.each_record(&mut |n, cells| {
            let mut sink = RowSink::new(&self.map, &mut parser, &mut parsed, &mut ignored);
            sink.row(n, cells);
            for (o, row) in parsed
                .ds
                .observations
                .drain(..)
                .zip(parsed.rows.observations.drain(..))
            {
                period.clear();
                {
                    use std::fmt::Write as _;
                    let _ = write!(period, "{}", o.period);
                }
                if !wanted.contains(&(o.kpi_code.as_str(), period.as_str(), o.area_code.as_str())) {
                    continue;
                }
                let key = (o.kpi_code.clone(), period.clone(), o.area_code.clone());
                match first.get(&key) {
                    Some(prev) => found.push((*prev, row, o)),
                    None => {
                        first.insert(key, row);
                    }
                }
            }
            ignored = Problems::default();
            true
        });
        let naming = validate::Naming::Table(&self.map);
        for (prev, row, o) in found {
            validate::observation_duplicate(problems, &o, prev, row, &column, &naming);
        }
    }

    /// Calls `f(row_number, cells)` for each record after the header row
    /// until it returns false; a CSV syntax error ends the file as a problem.
    fn each_record(&self, f: &mut dyn FnMut(usize, &dyn Cells) -> bool) -> Result<(), Problem> {
        let mut reader = match open_csv(&self.name, &self.path, self.skip, self.delimiter) {
            Ok(r) => r,
            Err(e) => return Err(Problem::file(e.to_string())),
        };
        let mut rec = csv::StringRecord::new();
        let mut n = 0;
        loop {
            match reader.read_record(&mut rec) {
                Ok(true) => {
                    n += 1;
                    if n > self.header_row && !f(n, &rec) {
                        return Ok(());
                    }
                }
                Ok(false) => return Ok(()),
                Err(e) => return Err(crate::table::csv_problem(n + 1, &e)),
            }
        }
    }
}

/// The parsed rows so far as a batch, each KPI code checked against the
/// database's (observations come in runs of one KPI: checked once per run).
fn checked(
    parsed: &mut Parsed,
    known: &KnownKeys,
    kpi_column: &str,
    last_ok: &mut String,
    problems: &mut Problems,
) -> Vec<Observation> {
    let mut batch = Vec::with_capacity(parsed.ds.observations.len());
    for (o, row) in parsed
        .ds
        .observations
        .drain(..)
        .zip(parsed.rows.observations.drain(..))
    {
        if *last_ok != o.kpi_code {
            if known.kpis.contains(&o.kpi_code) {
                last_ok.clone_from(&o.kpi_code);
            } else {
                validate::unknown(
                    problems,
                    row,
                    kpi_column.to_string(),
                    &o.kpi_code,
                    "KPI",
                    "KPI",
                );
                continue;
            }
        }
        batch.push(o);
    }
    batch
}

fn open_csv(
    name: &str,
    path: &Path,
    skip: usize,
    delimiter: u8,
) -> Result<csv::Reader<BufReader<File>>, ImportError> {
    let mut f = File::open(path).map_err(|e| io_error(name, e))?;
    if skip > 0 {
        let mut bom = [0u8; 3];
        f.read_exact(&mut bom[..skip.min(3)])
            .map_err(|e| io_error(name, e))?;
    }
    Ok(csv_reader(delimiter, BufReader::with_capacity(1 << 16, f)))
}
