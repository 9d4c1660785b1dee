//! `tunnus-load`: a bounded, closed-loop load generator for OpenID
//! providers. `concurrency` workers each repeat one flow for `seconds`
//! (after a short warm-up); it prints one JSON line with throughput,
//! latency percentiles and the server processes' CPU and memory.

pub mod flows;
pub mod measure;
pub mod report;
pub mod web;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use flows::{Ctx, Endpoints, Flow, ProviderKind};
use tokio::sync::oneshot;
use web::{Jar, Result};

#[derive(Parser, Debug, Clone)]
#[command(name = "tunnus-load", about = "Drives one OpenID Connect flow against a provider and reports figures")]
pub struct RunArgs {
    /// The provider's issuer, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub issuer: String,
    #[arg(long, value_enum, default_value = "tunnus")]
    pub provider: ProviderKind,
    #[arg(long, value_enum)]
    pub flow: Flow,
    /// A name for this row in reports (backend, algorithm, token format).
    #[arg(long, default_value = "")]
    pub label: String,
    /// Workers, each with its own browser and tokens.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub concurrency: u16,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// For `sessions`: how many sign-ins (instead of a time limit).
    #[arg(long, default_value_t = 0)]
    pub count: usize,
    /// Server process ids whose CPU and memory are read from /proc (repeatable).
    #[arg(long = "pid")]
    pub pids: Vec<u32>,
    #[arg(long)]
    pub client_id: String,
    #[arg(long, default_value = "")]
    pub client_secret: String,
    #[arg(long, default_value = "http://127.0.0.1:9/callback")]
    pub redirect_uri: String,
    #[arg(long, default_value = "openid profile email")]
    pub scope: String,
    /// Scope of client-credentials requests (none sent if empty).
    #[arg(long, default_value = "")]
    pub cc_scope: String,
    /// RFC 8707 resource for authorization and token requests.
    #[arg(long)]
    pub resource: Option<String>,
    /// The person signing in. For `sessions` with `--users N`, `{n}` in it
    /// becomes 0..N-1 in turn, spreading the sessions over N people.
    #[arg(long, default_value = "")]
    pub username: String,
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub users: u32,
    #[arg(long, default_value = "")]
    pub password: String,
}

impl RunArgs {
    /// Checks what clap cannot: the flow's own needs.
    pub fn validate(&self) -> Result<()> {
        // Written so that NaN fails too.
        let seconds_ok = self.seconds > 0.0 && self.seconds <= 600.0;
        if !seconds_ok || !(0.0..=60.0).contains(&self.warmup) {
            return Err("--seconds must be in (0, 600] and --warmup in [0, 60]".into());
        }
        let browser = matches!(
            self.flow,
            Flow::Code | Flow::SignIn | Flow::Refresh | Flow::Userinfo | Flow::Introspect | Flow::Sessions
        );
        if browser && (self.username.is_empty() || self.password.is_empty()) {
            return Err(format!("--flow {:?} needs --username and --password", self.flow));
        }
        if self.flow == Flow::Sessions && self.count == 0 {
            return Err("--flow sessions needs --count N".into());
        }
        url::Url::parse(&self.issuer).map_err(|e| format!("--issuer {}: {e}", self.issuer))?;
        Ok(())
    }
}

/// What one worker carries between iterations.
enum State {
    Nothing,
    Session(Jar),
    Refresh(String),
    Access(String),
}

async fn setup(ctx: &Ctx, flow: Flow) -> Result<State> {
    Ok(match flow {
        Flow::Code => {
            let mut jar = Jar::default();
            ctx.full_sign_in(&mut jar).await?;
            State::Session(jar)
        }
        Flow::Refresh => {
            let t = ctx.full_sign_in(&mut Jar::default()).await?;
            State::Refresh(t.refresh.ok_or("the sign-in gave no refresh_token")?)
        }
        Flow::Userinfo | Flow::Introspect => State::Access(ctx.full_sign_in(&mut Jar::default()).await?.access),
        _ => State::Nothing,
    })
}

async fn step(ctx: &Ctx, flow: Flow, cc_scope: Option<&str>, state: &mut State, n: usize) -> Result<()> {
    match (flow, state) {
        (Flow::Discovery, _) => ctx.get_ok(&ctx.ep.discovery).await,
        (Flow::Jwks, _) => ctx.get_ok(&ctx.ep.jwks).await,
        (Flow::ClientCredentials, _) => ctx.client_credentials(cc_scope).await,
        (Flow::Code, State::Session(jar)) => ctx.code_exchange(jar).await.map(drop),
        (Flow::SignIn, _) => ctx.full_sign_in(&mut Jar::default()).await.map(drop),
        (Flow::Refresh, State::Refresh(token)) => {
            *token = ctx.refresh(token).await?;
            Ok(())
        }
        (Flow::Userinfo, State::Access(at)) => ctx.userinfo(at).await,
        (Flow::Introspect, State::Access(at)) => ctx.introspect(at).await,
        (Flow::Sessions, _) => ctx.session(n).await,
        (flow, _) => Err(format!("{flow:?}: worker was not set up")),
    }
}

/// What every worker repeats, and until when.
#[derive(Clone)]
struct Plan {
    flow: Flow,
    cc_scope: String,
    /// `sessions`: a number of flows (`remaining`) instead of a time limit.
    counted: bool,
    remaining: Arc<AtomicUsize>,
    warm_end: Instant,
    end: Instant,
}

/// One worker's loop: the flow again and again until the plan says stop.
async fn repeat(ctx: Ctx, mut state: State, plan: Plan) -> Tally {
    let mut tally = Tally::default();
    let cc = (!plan.cc_scope.is_empty()).then_some(plan.cc_scope.as_str());
    loop {
        let t0 = Instant::now();
        let n = if plan.counted {
            match plan.remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)) {
                Ok(n) => n,
                Err(_) => break,
            }
        } else if t0 < plan.end {
            0
        } else {
            break;
        };
        match step(&ctx, plan.flow, cc, &mut state, n).await {
            Ok(()) if t0 >= plan.warm_end => tally.latencies.push(t0.elapsed()),
            Ok(()) => {}
            Err(e) => {
                tally.errors += 1;
                tally.first_error.get_or_insert(e);
            }
        }
    }
    tally
}

/// Starts the workers on one single-threaded runtime per core, each worker
/// with its connection on the runtime that runs it; each thread answers
/// its workers' tallies. On one multi-threaded runtime, a worker and the
/// task driving its connection often ran on different threads, and every
/// request woke the other thread and back: the generator's own cost, taken
/// from the cores it shares with the server (docs/performance.md).
fn start_on_each_core(workers: Vec<(Ctx, State)>, plan: Plan) -> Result<Vec<oneshot::Receiver<Result<Tally>>>> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from).min(workers.len().max(1));
    let mut groups: Vec<Vec<(Ctx, State)>> = (0..cores).map(|_| Vec::new()).collect();
    for (i, (mut ctx, state)) in workers.into_iter().enumerate() {
        // Opened during the set-up, on this runtime.
        ctx.http.disconnect();
        groups[i % cores].push((ctx, state));
    }
    let mut running = Vec::with_capacity(cores);
    for (i, group) in groups.into_iter().enumerate() {
        let (tx, rx) = oneshot::channel();
        let plan = plan.clone();
        std::thread::Builder::new()
            .name(format!("tunnus-load-{i}"))
            .spawn(move || {
                let tally = tokio::runtime::Builder::new_current_thread().enable_all().build().map(|rt| {
                    rt.block_on(async move {
                        let tasks: Vec<_> = group
                            .into_iter()
                            .map(|(ctx, state)| tokio::spawn(repeat(ctx, state, plan.clone())))
                            .collect();
                        let mut all = Tally::default();
                        for t in tasks {
                            match t.await {
                                Ok(t) => all.merge(t),
                                Err(e) => all.merge(Tally::failed(e.to_string())),
                            }
                        }
                        all
                    })
                });
                let _ = tx.send(tally.map_err(|e| e.to_string()));
            })
            .map_err(|e| e.to_string())?;
        running.push(rx);
    }
    Ok(running)
}

/// One run's figures (one JSON line).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Outcome {
    pub provider: String,
    pub flow: String,
    pub label: String,
    pub concurrency: u16,
    pub seconds: f64,
    pub ok: u64,
    pub errors: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Server CPU during the measured time, in % of one core.
    pub server_cpu_pct: f64,
    /// The whole machine's busy time, in % of all cores (load generator and databases included).
    pub machine_busy_pct: f64,
    pub rss_kib_before: u64,
    pub rss_kib_after: u64,
    pub hwm_kib: u64,
    pub first_error: Option<String>,
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn failed(error: String) -> Self {
        Self { latencies: Vec::new(), errors: 1, first_error: Some(error) }
    }

    fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

fn kebab<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

pub async fn run(args: RunArgs) -> Result<Outcome> {
    args.validate()?;
    let workers = usize::from(args.concurrency);
    let http = web::Http::new();
    let ep = Endpoints::discover(&http, &args.issuer).await?;
    let first = Ctx {
        http,
        kind: args.provider,
        ep,
        client_id: args.client_id.clone(),
        client_secret: args.client_secret.clone(),
        redirect_uri: args.redirect_uri.clone(),
        scope: args.scope.clone(),
        resource: args.resource.clone(),
        username: args.username.clone(),
        users: args.users as usize,
        password: args.password.clone(),
    };
    let mut workers_ready = Vec::with_capacity(workers);
    for _ in 0..workers {
        let ctx = first.for_worker();
        let state = setup(&ctx, args.flow).await?;
        workers_ready.push((ctx, state));
    }
    drop(first);
    let ticks = measure::clock_ticks();
    let counted = args.flow == Flow::Sessions;
    let remaining = Arc::new(AtomicUsize::new(args.count));
    let warm_end = Instant::now() + Duration::from_secs_f64(if counted { 0.0 } else { args.warmup });
    let end = warm_end + Duration::from_secs_f64(args.seconds);

    let plan = Plan { flow: args.flow, cc_scope: args.cc_scope.clone(), counted, remaining, warm_end, end };
    // The workers warm up (flows not counted) until warm_end; the server's
    // CPU and the machine are measured from then on.
    let running = start_on_each_core(workers_ready, plan)?;
    tokio::time::sleep_until(warm_end.into()).await;
    let before = measure::sample(&args.pids, ticks);
    let machine_before = measure::machine_jiffies();
    let started = Instant::now();
    let mut all = Tally::default();
    for thread in running {
        all.merge(thread.await.map_err(|_| "a load thread stopped".to_owned())??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = measure::sample(&args.pids, ticks);
    let machine = match (machine_before, measure::machine_jiffies()) {
        (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => 100.0 * (b1 - b0) as f64 / (t1 - t0) as f64,
        _ => 0.0,
    };
    all.latencies.sort_unstable();
    let ms = |d: Duration| (d.as_secs_f64() * 1e5).round() / 100.0;
    Ok(Outcome {
        provider: kebab(&args.provider),
        flow: kebab(&args.flow),
        label: args.label,
        concurrency: args.concurrency,
        seconds: (elapsed * 100.0).round() / 100.0,
        ok: all.latencies.len() as u64,
        errors: all.errors,
        per_second: (all.latencies.len() as f64 / elapsed).round(),
        p50_ms: ms(measure::quantile(&all.latencies, 0.5)),
        p99_ms: ms(measure::quantile(&all.latencies, 0.99)),
        server_cpu_pct: (100.0 * (after.cpu_seconds - before.cpu_seconds) / elapsed).round(),
        machine_busy_pct: machine.round(),
        rss_kib_before: before.rss_kib,
        rss_kib_after: after.rss_kib,
        hwm_kib: after.hwm_kib,
        first_error: all.first_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &[&str]) -> std::result::Result<RunArgs, clap::Error> {
        let mut argv = vec!["tunnus-load", "--issuer", "http://127.0.0.1:8080", "--client-id", "bench"];
        argv.extend_from_slice(extra);
        RunArgs::try_parse_from(argv)
    }

    #[test]
    fn arguments_parse_with_defaults() {
        let a = parse(&["--flow", "client-credentials", "--pid", "12", "--pid", "13"]).unwrap();
        assert_eq!(a.flow, Flow::ClientCredentials);
        assert_eq!(a.provider, ProviderKind::Tunnus);
        assert_eq!((a.concurrency, a.seconds, a.pids.as_slice()), (16, 5.0, [12, 13].as_slice()));
        assert!(a.validate().is_ok());
        let a =
            parse(&["--flow", "code", "--provider", "oidc-provider", "--username", "u", "--password", "p"]).unwrap();
        assert_eq!(a.provider, ProviderKind::OidcProvider);
        assert!(a.validate().is_ok());
    }

    #[test]
    fn bad_arguments_are_refused_clearly() {
        assert!(parse(&["--flow", "teleport"]).is_err());
        assert!(parse(&["--flow", "jwks", "--concurrency", "0"]).is_err());
        let e = parse(&["--flow", "code"]).unwrap().validate().unwrap_err();
        assert!(e.contains("--username"), "{e}");
        let e = parse(&["--flow", "sessions", "--username", "u", "--password", "p"]).unwrap().validate().unwrap_err();
        assert!(e.contains("--count"), "{e}");
        for bad in ["0", "NaN", "601"] {
            let e = parse(&["--flow", "jwks", "--seconds", bad]).unwrap().validate().unwrap_err();
            assert!(e.contains("--seconds"), "{bad}: {e}");
        }
    }

    #[test]
    fn outcome_names_are_kebab_case() {
        assert_eq!(kebab(&Flow::ClientCredentials), "client-credentials");
        assert_eq!(kebab(&ProviderKind::OidcProvider), "oidc-provider");
    }
}
