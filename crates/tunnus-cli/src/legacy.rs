//! `tunnus import-legacy FILE`: reads a legacy export (CSV or JSON Lines)
//! twice — once to find duplicates across the whole file, once to import in
//! batches — shows progress, and writes the report.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tunnus_core::Clock as _;
use tunnus_core::Email;
use tunnus_core::SystemClock;
use tunnus_core::legacy::{self, ImportReport, LegacyRow, Skip, SkipReason};
use tunnus_server::Config;
use tunnus_server::services::legacy::{Checked, ImportSettings, Importer};
use tunnus_store::Backend;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

#[derive(Args)]
pub struct ImportArgs {
    /// The legacy export (columns: docs/legacy-import.md).
    file: PathBuf,
    /// File format; by default from the extension (.csv, .jsonl / .ndjson).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Do everything except storing: the report says what would happen.
    #[arg(long)]
    dry_run: bool,
    /// Where to write the JSON report (the summary goes next to it as .txt).
    /// Default: FILE.report.json.
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// Records per transaction.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch_size: u32,
}

/// One record of the file as read, before any check.
enum Raw<'a> {
    /// A CSV record, with where each header name sits in it.
    Csv(&'a csv::StringRecord, &'a HashMap<String, usize>),
    Json(Box<LegacyRow>),
    /// Not a record with the header's number of fields, or not a JSON object.
    Unreadable(String),
}

impl Raw<'_> {
    fn csv_field<'r>(record: &'r csv::StringRecord, columns: &HashMap<String, usize>, name: &str) -> Option<&'r str> {
        columns.get(name).and_then(|i| record.get(*i)).map(str::trim).filter(|v| !v.is_empty())
    }

    /// The legacy id and the normalised email: all the first pass needs,
    /// read without building the whole row.
    fn id_and_email(&self) -> (Option<&str>, Option<Email>) {
        match self {
            Raw::Csv(record, columns) => (
                Self::csv_field(record, columns, "legacy_id"),
                Self::csv_field(record, columns, "email").and_then(|e| Email::parse(e).ok()),
            ),
            Raw::Json(row) => (row.legacy_id(), row.email()),
            Raw::Unreadable(_) => (None, None),
        }
    }

    /// Every field is taken as text: a legacy id `007` stays `007`.
    fn into_row(self) -> Result<LegacyRow, String> {
        match self {
            Raw::Csv(record, columns) => Ok(LegacyRow::from_text(|name| Self::csv_field(record, columns, name))),
            Raw::Json(row) => Ok(*row),
            Raw::Unreadable(e) => Err(e),
        }
    }
}

fn format_of(path: &Path, given: Option<Format>) -> Result<Format, String> {
    if let Some(f) = given {
        return Ok(f);
    }
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("csv") => Ok(Format::Csv),
        Some("jsonl" | "ndjson") => Ok(Format::Jsonl),
        _ => Err(format!("{}: cannot tell the format from the name; give --format csv or jsonl", path.display())),
    }
}

/// Calls `each` with the number (1 = first after the CSV header) and the
/// contents of every record of the file, in order.
fn read_records(
    path: &Path,
    format: Format,
    mut each: impl FnMut(u64, Raw) -> Result<(), String>,
) -> Result<(), String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let reader = BufReader::with_capacity(1 << 20, file);
    match format {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().from_reader(reader);
            let headers = reader.headers().map_err(|e| format!("{}: {e}", path.display()))?.clone();
            let columns: HashMap<String, usize> =
                headers.iter().enumerate().map(|(i, h)| (h.trim().to_owned(), i)).collect();
            let missing: Vec<&str> = legacy::MANDATORY.iter().copied().filter(|c| !columns.contains_key(*c)).collect();
            if !missing.is_empty() {
                return Err(format!("{}: the header lacks the column(s) {}", path.display(), missing.join(", ")));
            }
            let mut record = csv::StringRecord::new();
            let mut n = 0;
            loop {
                n += 1;
                match reader.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => each(n, Raw::Csv(&record, &columns))?,
                    Err(e) if e.is_io_error() => return Err(format!("{}: {e}", path.display())),
                    Err(e) => each(n, Raw::Unreadable(e.to_string()))?,
                }
            }
        }
        Format::Jsonl => {
            let mut n = 0;
            for line in reader.lines() {
                let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
                if line.trim().is_empty() {
                    continue;
                }
                n += 1;
                match serde_json::from_str::<LegacyRow>(&line) {
                    Ok(row) => each(n, Raw::Json(Box::new(row)))?,
                    Err(e) => each(n, Raw::Unreadable(e.to_string()))?,
                }
            }
        }
    }
    Ok(())
}

/// How often each legacy id and each email occurs in the file.
#[derive(Default)]
struct Occurrences {
    records: u64,
    ids: HashMap<String, u32>,
    emails: HashMap<String, u32>,
}

impl Occurrences {
    fn count(&mut self, raw: &Raw) {
        self.records += 1;
        let (id, email) = raw.id_and_email();
        if let Some(id) = id {
            *self.ids.entry(id.to_owned()).or_default() += 1;
        }
        if let Some(email) = email {
            *self.emails.entry(email.as_str().to_owned()).or_default() += 1;
        }
    }

    /// The row's own checks, then the file-wide ones.
    fn check(&self, record: u64, raw: Raw) -> Checked {
        let row = match raw.into_row() {
            Ok(row) => row,
            Err(e) => {
                return Checked::Refused(Skip {
                    record,
                    legacy_id: None,
                    email: None,
                    reason: SkipReason::Unreadable,
                    detail: e,
                });
            }
        };
        let refuse = |reason, detail| {
            Checked::Refused(Skip {
                record,
                legacy_id: row.legacy_id().map(str::to_owned),
                email: row.email.as_ref().map(|e| e.0.trim().to_owned()),
                reason,
                detail,
            })
        };
        let account = match row.check() {
            Ok(account) => account,
            Err((reason, detail)) => return refuse(reason, detail),
        };
        if self.ids.get(&account.legacy_id).is_some_and(|n| *n > 1) {
            return refuse(SkipReason::DuplicateLegacyId, "another record has this legacy id".into());
        }
        if let Some(n) = self.emails.get(account.email.as_str()).filter(|n| **n > 1) {
            return refuse(SkipReason::DuplicateEmail, format!("{n} records have this email; none is imported"));
        }
        Checked::Account { record, account }
    }
}

fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} records  {per_sec}  ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

pub fn run(config: &Config, args: ImportArgs) -> Result<(), String> {
    let format = format_of(&args.file, args.format)?;
    let report_path = args.report.clone().unwrap_or_else(|| {
        let mut name = args.file.clone().into_os_string();
        name.push(".report.json");
        PathBuf::from(name)
    });
    let db = tunnus_server::state::open_database(config).map_err(|e| e.to_string())?;

    let mut seen = Occurrences::default();
    read_records(&args.file, format, |_, raw| {
        seen.count(&raw);
        Ok(())
    })?;

    let now = SystemClock.now();
    // PostgreSQL takes two batches at once on two connections; SQLite has
    // one writer, so a second importer would only wait for it.
    let lanes = match db.backend() {
        Backend::Postgres => 2,
        Backend::Sqlite => 1,
    };
    let importers = Importer::open(db, ImportSettings::from_config(config), args.dry_run, now)
        .map_err(|e| format!("cannot start the import: {e}"))?
        .into_lanes(lanes);
    let mut report = ImportReport { dry_run: args.dry_run, ..Default::default() };
    let bar = progress_bar(seen.records);
    let size = args.batch_size as usize;
    let stop = std::sync::atomic::AtomicBool::new(false);
    // The second pass reads and checks the next batches on another thread
    // while the importers store the current ones. Batches may finish out of
    // order; their reports are added in file order, so the report is the
    // same as with one importer.
    std::thread::scope(|scope| {
        let (batches, received) = std::sync::mpsc::sync_channel::<(usize, Vec<Checked>)>(2 * lanes as usize);
        let (done, finished) = std::sync::mpsc::channel::<(usize, u64, ImportReport)>();
        let (seen, file) = (&seen, &args.file);
        let reader = scope.spawn(move || {
            let mut batch = Vec::with_capacity(size);
            let mut index = 0;
            read_records(file, format, |record, raw| {
                batch.push(seen.check(record, raw));
                if batch.len() >= size {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(size));
                    // The importers stopped; they report why.
                    batches.send((index, full)).map_err(|_| String::new())?;
                    index += 1;
                }
                Ok(())
            })?;
            if !batch.is_empty() {
                batches.send((index, batch)).map_err(|_| String::new())?;
            }
            Ok::<(), String>(())
        });
        // Dropped with the last importer, which ends the reader's sending.
        let received = std::sync::Arc::new(std::sync::Mutex::new(received));
        let stop = &stop;
        let workers: Vec<_> = importers
            .into_iter()
            .map(|mut importer| {
                let (received, done) = (received.clone(), done.clone());
                scope.spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let next = received.lock().map_err(|_| "an importer failed".to_owned())?.recv();
                        let Ok((index, batch)) = next else { break };
                        let mut part = ImportReport::default();
                        if let Err(e) = importer.import_batch(&batch, &mut part, SystemClock.now()) {
                            stop.store(true, std::sync::atomic::Ordering::Relaxed);
                            return Err(e.to_string());
                        }
                        let _ = done.send((index, batch.len() as u64, part));
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        drop((received, done));
        let mut waiting = std::collections::BTreeMap::new();
        let mut next = 0;
        for (index, records, part) in finished {
            bar.inc(records);
            waiting.insert(index, part);
            while let Some(part) = waiting.remove(&next) {
                report.absorb(part);
                next += 1;
            }
        }
        for worker in workers {
            worker.join().map_err(|_| "an importer failed".to_owned())?.map_err(|e| {
                format!("import stopped after {} record(s) (rerun to continue; nothing is lost): {e}", report.records)
            })?;
        }
        reader.join().map_err(|_| "reading the file failed".to_owned())?
    })?;
    bar.finish_and_clear();

    let summary = report.summary();
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&report_path, json).map_err(|e| format!("{}: {e}", report_path.display()))?;
    let summary_path = report_path.with_extension("txt");
    std::fs::write(&summary_path, &summary).map_err(|e| format!("{}: {e}", summary_path.display()))?;
    print!("{summary}");
    println!("Report: {} (summary: {})", report_path.display(), summary_path.display());
    Ok(())
}
