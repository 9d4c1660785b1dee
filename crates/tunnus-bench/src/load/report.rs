//! Turns the JSON lines of a benchmark run into Markdown tables, one per
//! flow, with Tunnus/peer throughput ratios.

use std::fmt::Write as _;

use super::Outcome;

/// The signing algorithm a label names, so ratios compare like with like.
fn alg(label: &str) -> &str {
    ["RS256", "ES256"].into_iter().find(|a| label.contains(a)).unwrap_or("")
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// Server CPU time per completed flow, in µs: what the server spent,
/// whatever share of the machine the load generator took.
fn cpu_us_per_flow(o: &Outcome) -> Option<f64> {
    (o.per_second > 0.0 && o.server_cpu_pct > 0.0).then(|| o.server_cpu_pct * 10_000.0 / o.per_second)
}

fn cpu_cell(o: &Outcome) -> String {
    cpu_us_per_flow(o).map_or_else(|| "–".to_owned(), |us| format!("{us:.0}"))
}

/// Markdown for all outcomes, flows in their first-seen order.
pub fn markdown(outcomes: &[Outcome]) -> String {
    let mut flows: Vec<&str> = Vec::new();
    for o in outcomes {
        if !flows.contains(&o.flow.as_str()) {
            flows.push(&o.flow);
        }
    }
    let mut out = String::new();
    for flow in flows {
        let rows: Vec<&Outcome> = outcomes.iter().filter(|o| o.flow == flow).collect();
        let _ = writeln!(out, "\n### {flow}\n");
        let _ = writeln!(
            out,
            "| provider | setup | conc. | per s | p50 ms | p99 ms | server CPU % | CPU µs/flow | machine busy % | peak RSS MiB | errors |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for o in &rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.0} | {} | {:.0} | {} | {} |",
                o.provider,
                o.label,
                o.concurrency,
                o.per_second,
                o.p50_ms,
                o.p99_ms,
                o.server_cpu_pct,
                cpu_cell(o),
                o.machine_busy_pct,
                mib(o.hwm_kib),
                o.errors
            );
        }
        let ours: Vec<&&Outcome> = rows.iter().filter(|o| o.provider == "tunnus").collect();
        for peer in rows.iter().filter(|o| o.provider != "tunnus" && o.per_second > 0.0) {
            for t in ours.iter().filter(|t| alg(&t.label) == alg(&peer.label)) {
                let _ = write!(
                    out,
                    "\nTunnus ({}) / {} ({}): **{:.1}×**",
                    t.label,
                    peer.provider,
                    peer.label,
                    t.per_second / peer.per_second
                );
                if let (Some(ours), Some(theirs)) = (cpu_us_per_flow(t), cpu_us_per_flow(peer)) {
                    let _ = write!(out, " (server CPU per flow: {:.1}× less)", theirs / ours);
                }
                let _ = writeln!(out);
            }
        }
        for o in rows.iter().filter(|o| o.first_error.is_some()) {
            let _ = writeln!(
                out,
                "\nfirst error, {} {}: `{}`",
                o.provider,
                o.label,
                o.first_error.as_deref().unwrap_or("")
            );
        }
    }
    out
}

/// Parses a file of JSON lines; lines that are not outcomes are skipped.
pub fn parse_lines(text: &str) -> Vec<Outcome> {
    text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// What OpenSSL alone signs with RSA-2048 on all cores (`openssl speed
/// -multi`), measured by `bench/run` before and after the flows: the bound
/// of RS256 flows, which the machine's speed moves within a session.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct RsaBound {
    /// `before` or `after`.
    pub when: String,
    pub signatures_per_second: f64,
}

/// The lines of a results file that give the bound `name`, as `T`.
fn bound_lines<T: serde::de::DeserializeOwned>(text: &str, name: &str) -> Vec<T> {
    #[derive(serde::Deserialize)]
    struct Line<T> {
        bound: String,
        #[serde(flatten)]
        figures: T,
    }
    text.lines()
        .filter_map(|l| serde_json::from_str::<Line<T>>(l).ok())
        .filter(|l| l.bound == name)
        .map(|l| l.figures)
        .collect()
}

/// The RSA bounds among the lines of a results file.
pub fn parse_bounds(text: &str) -> Vec<RsaBound> {
    bound_lines(text, "rsa2048")
}

/// RSA signatures the server makes per flow with RS256 (the ID token and
/// the access token); `None` for flows not bound by signing.
fn signatures_per_flow(flow: &str) -> Option<f64> {
    match flow {
        "client-credentials" => Some(1.0),
        "code" | "refresh" => Some(2.0),
        _ => None,
    }
}

/// A bound measured before or after the flows: what per second, and when.
trait Bound {
    fn when(&self) -> &str;
    fn per_second(&self) -> f64;
}

impl Bound for RsaBound {
    fn when(&self) -> &str {
        &self.when
    }
    fn per_second(&self) -> f64 {
        self.signatures_per_second
    }
}

impl Bound for Argon2Bound {
    fn when(&self) -> &str {
        &self.when
    }
    fn per_second(&self) -> f64 {
        self.hashes_per_second
    }
}

/// The header cells of one column per bound, and the separator cells
/// (right-aligned) under them.
fn bound_columns(bounds: &[impl Bound]) -> (String, String) {
    let names: Vec<String> = bounds.iter().map(|b| format!("of the bound {}", b.when())).collect();
    (names.join(" | "), "---:|".repeat(bounds.len()))
}

/// `rate` as a share of each bound, as table cells.
fn shares_of(rate: f64, bounds: &[impl Bound]) -> String {
    bounds.iter().map(|b| format!("{:.0}%", 100.0 * rate / b.per_second())).collect::<Vec<_>>().join(" | ")
}

/// Markdown for Tunnus's RS256 flows as a share of each measured RSA bound.
pub fn rsa_shares(outcomes: &[Outcome], bounds: &[RsaBound]) -> String {
    let mut out = String::new();
    if bounds.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "
### RS256 flows against the RSA bound
"
    );
    let measured: Vec<String> =
        bounds.iter().map(|b| format!("{:.0} signatures/s {}", b.signatures_per_second, b.when)).collect();
    let _ = writeln!(
        out,
        "`openssl speed -multi` (all cores): {}.
",
        measured.join(", ")
    );
    let (columns, separators) = bound_columns(bounds);
    let _ = writeln!(out, "| setup | flow | per s | signatures/s | {columns} |");
    let _ = writeln!(out, "|---|---|---:|---:|{separators}");
    for o in outcomes.iter().filter(|o| o.provider == "tunnus" && alg(&o.label) == "RS256") {
        let Some(per_flow) = signatures_per_flow(&o.flow) else { continue };
        let signing = o.per_second * per_flow;
        let shares = shares_of(signing, bounds);
        let _ = writeln!(out, "| {} | {} | {:.0} | {:.0} | {shares} |", o.label, o.flow, o.per_second, signing);
    }
    out
}

/// An Argon2id bound line (`tunnus-load hash-rate`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Argon2Bound {
    /// `before` or `after`.
    pub when: String,
    pub memory_kib: u32,
    pub iterations: u32,
    pub hashes_per_second: f64,
}

/// The Argon2id bounds among the lines of a results file.
pub fn parse_argon2_bounds(text: &str) -> Vec<Argon2Bound> {
    bound_lines(text, "argon2id")
}

/// Markdown for Tunnus's full sign-ins (one password hash each) as a share
/// of each measured Argon2id bound.
pub fn argon2_shares(outcomes: &[Outcome], bounds: &[Argon2Bound]) -> String {
    let mut out = String::new();
    let Some(first) = bounds.first() else { return out };
    let measured: Vec<String> =
        bounds.iter().map(|b| format!("{:.0} hashes/s {}", b.hashes_per_second, b.when)).collect();
    let _ = writeln!(
        out,
        "
### Full sign-in against the Argon2id bound

Argon2id (m = {} KiB, t = {}) on all cores: {}.
",
        first.memory_kib,
        first.iterations,
        measured.join(", ")
    );
    let (columns, separators) = bound_columns(bounds);
    let _ = writeln!(out, "| setup | sign-ins/s | {columns} |");
    let _ = writeln!(out, "|---|---:|{separators}");
    for o in outcomes.iter().filter(|o| o.provider == "tunnus" && o.flow == "sign-in") {
        let _ = writeln!(out, "| {} | {:.0} | {} |", o.label, o.per_second, shares_of(o.per_second, bounds));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(provider: &str, label: &str, per_second: f64) -> Outcome {
        Outcome {
            provider: provider.into(),
            flow: "code".into(),
            label: label.into(),
            concurrency: 8,
            seconds: 5.0,
            ok: 100,
            errors: 0,
            per_second,
            p50_ms: 1.0,
            p99_ms: 2.0,
            server_cpu_pct: 150.0,
            machine_busy_pct: 100.0,
            rss_kib_before: 1,
            rss_kib_after: 2,
            hwm_kib: 2048,
            first_error: None,
        }
    }

    #[test]
    fn ratios_compare_the_same_algorithm() {
        let rows = vec![
            outcome("tunnus", "embedded ES256", 8000.0),
            outcome("tunnus", "embedded RS256", 2000.0),
            outcome("glewlwyd", "RS256", 500.0),
        ];
        let md = markdown(&rows);
        // Same CPU share, four times the flows: a quarter of the CPU per flow.
        assert!(
            md.contains("Tunnus (embedded RS256) / glewlwyd (RS256): **4.0×** (server CPU per flow: 4.0× less)"),
            "{md}"
        );
        assert!(!md.contains("ES256) / glewlwyd"), "{md}");
        assert!(md.contains("| glewlwyd | RS256 | 8 | 500 | 1.00 | 2.00 | 150 | 3000 | 100 | 2.0 | 0 |"), "{md}");
    }

    #[test]
    fn cpu_per_flow_needs_both_figures() {
        assert_eq!(cpu_us_per_flow(&outcome("tunnus", "x", 1000.0)), Some(1500.0));
        assert_eq!(cpu_us_per_flow(&outcome("tunnus", "x", 0.0)), None);
        let mut idle = outcome("tunnus", "x", 10.0);
        idle.server_cpu_pct = 0.0;
        assert_eq!(cpu_cell(&idle), "–");
    }

    #[test]
    fn rs256_flows_are_set_against_each_bound() {
        let mut cc = outcome("tunnus", "embedded RS256", 3000.0);
        cc.flow = "client-credentials".into();
        let rows = vec![cc, outcome("tunnus", "embedded RS256", 1500.0), outcome("tunnus", "embedded ES256", 9000.0)];
        let text = "{\"bound\":\"rsa2048\",\"when\":\"before\",\"cores\":2,\"signatures_per_second\":4000.0}\n\
                    {\"bound\":\"rsa2048\",\"when\":\"after\",\"cores\":2,\"signatures_per_second\":5000.0}\n";
        let bounds = parse_bounds(text);
        assert_eq!(bounds.len(), 2);
        assert!(parse_lines(text).is_empty(), "a bound is no outcome");
        let md = rsa_shares(&rows, &bounds);
        // One signature per client-credentials flow, two per code exchange.
        assert!(md.contains("| embedded RS256 | client-credentials | 3000 | 3000 | 75% | 60% |"), "{md}");
        assert!(md.contains("| embedded RS256 | code | 1500 | 3000 | 75% | 60% |"), "{md}");
        assert!(!md.contains("ES256"), "{md}");
        assert!(rsa_shares(&rows, &[]).is_empty(), "no bound measured, nothing said");
    }

    #[test]
    fn sign_ins_are_set_against_each_argon2_bound() {
        let mut sign_in = outcome("tunnus", "embedded ES256", 110.0);
        sign_in.flow = "sign-in".into();
        let mut peer = outcome("oidc-provider", "ES256 jwt", 280.0);
        peer.flow = "sign-in".into();
        let rows = vec![sign_in, peer, outcome("tunnus", "embedded ES256", 9000.0)];
        let text = "{\"bound\":\"argon2id\",\"when\":\"before\",\"cores\":2,\"memory_kib\":19456,\"iterations\":2,\"parallelism\":1,\"hashes_per_second\":137.5}\n\
                    {\"bound\":\"rsa2048\",\"when\":\"before\",\"cores\":2,\"signatures_per_second\":5000.0}\n\
                    {\"bound\":\"argon2id\",\"when\":\"after\",\"cores\":2,\"memory_kib\":19456,\"iterations\":2,\"parallelism\":1,\"hashes_per_second\":110.0}\n";
        let bounds = parse_argon2_bounds(text);
        assert_eq!(bounds.len(), 2, "the RSA line is not an Argon2 bound");
        assert_eq!(parse_bounds(text).len(), 1, "nor an Argon2 line an RSA bound");
        let md = argon2_shares(&rows, &bounds);
        assert!(md.contains("m = 19456 KiB, t = 2"), "{md}");
        assert!(md.contains("| embedded ES256 | 110 | 80% | 100% |"), "{md}");
        assert!(!md.contains("280"), "peers' sign-ins hash no password of ours: {md}");
        assert!(argon2_shares(&rows, &[]).is_empty(), "no bound measured, nothing said");
    }

    #[test]
    fn json_lines_round_trip_and_noise_is_skipped() {
        let line = serde_json::to_string(&outcome("tunnus", "x", 1.0)).unwrap();
        let parsed = parse_lines(&format!("starting…\n{line}\n\n"));
        assert_eq!(parsed, vec![outcome("tunnus", "x", 1.0)]);
    }
}
