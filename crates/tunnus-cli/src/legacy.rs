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
use tunnus_core::SystemClock;
use tunnus_core::legacy::{self, ImportReport, LegacyRow, Skip, SkipReason};
use tunnus_server::Config;
use tunnus_server::services::legacy::{Checked, ImportSettings, Importer};

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

/// One record of the file: its number, and the row or why it could not be read.
type Record = (u64, Result<LegacyRow, String>);

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

/// Calls `each` for every record of the file, in order.
fn read_records(path: &Path, format: Format, mut each: impl FnMut(Record) -> Result<(), String>) -> Result<(), String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    match format {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(BufReader::new(file));
            let headers = reader.headers().map_err(|e| format!("{}: {e}", path.display()))?.clone();
            let missing: Vec<&str> =
                legacy::MANDATORY.iter().copied().filter(|c| !headers.iter().any(|h| h == *c)).collect();
            if !missing.is_empty() {
                return Err(format!("{}: the header lacks the column(s) {}", path.display(), missing.join(", ")));
            }
            let mut record = csv::StringRecord::new();
            let mut n = 0;
            loop {
                n += 1;
                match reader.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => each((n, csv_row(&headers, &record)))?,
                    Err(e) if e.is_io_error() => return Err(format!("{}: {e}", path.display())),
                    Err(e) => each((n, Err(e.to_string())))?,
                }
            }
        }
        Format::Jsonl => {
            let mut n = 0;
            for line in BufReader::new(file).lines() {
                let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
                if line.trim().is_empty() {
                    continue;
                }
                n += 1;
                each((n, serde_json::from_str::<LegacyRow>(&line).map_err(|e| e.to_string())))?;
            }
        }
    }
    Ok(())
}

/// A CSV record as a row. Every field is taken as text: letting the CSV
/// reader guess types would turn a legacy id `007` into `7`.
fn csv_row(headers: &csv::StringRecord, record: &csv::StringRecord) -> Result<LegacyRow, String> {
    let fields: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .zip(record.iter())
        .filter(|(_, value)| !value.is_empty())
        .map(|(h, v)| (h.to_owned(), serde_json::Value::String(v.to_owned())))
        .collect();
    serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| e.to_string())
}

/// How often each legacy id and each email occurs in the file.
#[derive(Default)]
struct Occurrences {
    records: u64,
    ids: HashMap<String, u32>,
    emails: HashMap<String, u32>,
}

impl Occurrences {
    fn count(&mut self, (_, row): &Record) {
        self.records += 1;
        if let Ok(row) = row {
            if let Some(id) = row.legacy_id() {
                *self.ids.entry(id.to_owned()).or_default() += 1;
            }
            if let Some(email) = row.email() {
                *self.emails.entry(email.as_str().to_owned()).or_default() += 1;
            }
        }
    }

    /// The row's own checks, then the file-wide ones.
    fn check(&self, (record, row): Record) -> Checked {
        let row = match row {
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
    read_records(&args.file, format, |r| {
        seen.count(&r);
        Ok(())
    })?;

    let now = SystemClock.now();
    let mut importer = Importer::open(db, ImportSettings::from_config(config), args.dry_run, now)
        .map_err(|e| format!("cannot start the import: {e}"))?;
    let mut report = ImportReport { dry_run: args.dry_run, ..Default::default() };
    let bar = progress_bar(seen.records);
    let size = args.batch_size as usize;
    let mut batch = Vec::with_capacity(size);
    let mut flush = |batch: &mut Vec<Checked>, report: &mut ImportReport| -> Result<(), String> {
        importer.import_batch(batch, report, SystemClock.now()).map_err(|e| {
            format!("import stopped after {} record(s) (rerun to continue; nothing is lost): {e}", report.records)
        })?;
        bar.inc(batch.len() as u64);
        batch.clear();
        Ok(())
    };
    read_records(&args.file, format, |r| {
        batch.push(seen.check(r));
        if batch.len() >= size { flush(&mut batch, &mut report) } else { Ok(()) }
    })?;
    flush(&mut batch, &mut report)?;
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
