//! The Redis backend on a real Redis Cluster (three masters, made with
//! `redis-cli --cluster create`) and on a master found through a real
//! Sentinel, across a failover: the same contract as on one server. Each test runs its own
//! `redis-server` processes on free loopback ports and stops them after.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tunnus_store::Ephemeral;
use tunnus_store::ephemeral::RedisStore;
use tunnus_store::testing::service_missing;

use crate::ephemeral::contract;

/// Child processes killed when the test ends, however it ends.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `N` free ports, all different: each is held until all are chosen (one
/// at a time, a port just released can be handed out again, and two
/// servers of a test would then fight over it).
fn free_ports<const N: usize>() -> [u16; N] {
    let held: Vec<std::net::TcpListener> =
        (0..N).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    std::array::from_fn(|i| held[i].local_addr().unwrap().port())
}

/// `redis-server ARGS` in `dir`, or `None` (skipped) without the binary.
fn redis_server(dir: &Path, args: &[&str]) -> Option<Child> {
    match Command::new("redis-server").args(args).current_dir(dir).stdout(Stdio::null()).stderr(Stdio::null()).spawn() {
        Ok(c) => Some(c),
        Err(e) => {
            service_missing("redis-server binary", &e.to_string());
            None
        }
    }
}

fn redis_cli(args: &[&str]) -> String {
    let out = Command::new("redis-cli").args(args).stdin(Stdio::null()).output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Polls `check` every 50 ms for up to 15 s.
fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn answers(port: u16) -> bool {
    redis_cli(&["-p", &port.to_string(), "PING"]).contains("PONG")
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_cluster_contract() {
    if Command::new("redis-cli").arg("--version").output().is_err() {
        service_missing("redis-cli binary", "not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ports = free_ports::<3>();
    let mut procs = Processes(Vec::new());
    for port in &ports {
        let (port, conf) = (port.to_string(), format!("nodes-{port}.conf"));
        let args = ["--port", &port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
        let cluster = ["--cluster-enabled", "yes", "--cluster-config-file", &conf];
        let Some(child) = redis_server(dir.path(), &[&args[..], &cluster[..]].concat()) else { return };
        procs.0.push(child);
    }
    for port in &ports {
        wait_for("a cluster node", || answers(*port));
    }
    let nodes: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let mut create = vec!["--cluster", "create"];
    create.extend(nodes.iter().map(String::as_str));
    create.extend(["--cluster-replicas", "0", "--cluster-yes"]);
    let created = redis_cli(&create);
    assert!(created.contains("All 16384 slots covered"), "{created}");
    for port in &ports {
        wait_for("cluster_state:ok", || {
            redis_cli(&["-p", &port.to_string(), "CLUSTER", "INFO"]).contains("cluster_state:ok")
        });
    }

    // Two seed nodes are enough; the client learns the third from them.
    let url = format!("redis+cluster://{},{}", nodes[0], nodes[1]);
    let store = RedisStore::connect(&url, "cluster-test:", Duration::from_secs(2)).await.unwrap();
    contract(Ephemeral::Redis(store.clone())).await;
    // Keys spread over the masters, and each is found again through any of them.
    for i in 0..60 {
        store.put(&format!("spread-{i}"), &i.to_string(), Duration::from_secs(60)).await.unwrap();
    }
    for i in 0..60 {
        assert_eq!(store.get(&format!("spread-{i}")).await.unwrap(), Some(i.to_string()));
    }
    let holding = ports
        .iter()
        .filter(|p| redis_cli(&["-p", &p.to_string(), "DBSIZE"]).trim().parse::<u64>().unwrap() > 0)
        .count();
    assert!(holding >= 2, "keys live on {holding} of 3 masters");
    assert!(store.ping().await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_sentinel_contract() {
    if Command::new("redis-cli").arg("--version").output().is_err() {
        service_missing("redis-cli binary", "not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let [master, replica, sentinel] = free_ports();
    let mut procs = Processes(Vec::new());
    let Some(child) = redis_server(
        dir.path(),
        &["--port", &master.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    ) else {
        return;
    };
    procs.0.push(child);
    wait_for("the master", || answers(master));
    let replica_args = ["--port", &replica.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    let follow = ["--replicaof", "127.0.0.1", &master.to_string()];
    let Some(child) = redis_server(dir.path(), &[&replica_args[..], &follow[..]].concat()) else { return };
    procs.0.push(child);
    wait_for("the replica to be in sync", || {
        redis_cli(&["-p", &replica.to_string(), "INFO", "replication"]).contains("master_link_status:up")
    });
    // Sentinel rewrites its configuration file, so it lives in the temp dir.
    let conf = dir.path().join("sentinel.conf");
    std::fs::write(
        &conf,
        format!("bind 127.0.0.1\nport {sentinel}\nsentinel monitor tunnusmaster 127.0.0.1 {master} 1\n"),
    )
    .unwrap();
    let Some(child) = redis_server(dir.path(), &[conf.to_str().unwrap(), "--sentinel"]) else { return };
    procs.0.push(child);
    wait_for("the sentinel to know the master", || {
        redis_cli(&["-p", &sentinel.to_string(), "SENTINEL", "get-master-addr-by-name", "tunnusmaster"])
            .contains(&master.to_string())
    });

    let url = format!("redis+sentinel://127.0.0.1:{sentinel}/tunnusmaster");
    let store = RedisStore::connect(&url, "sentinel-test:", Duration::from_secs(2)).await.unwrap();
    contract(Ephemeral::Redis(store.clone())).await;
    // The values went to the master Sentinel named.
    store.put("where", "master", Duration::from_secs(60)).await.unwrap();
    let direct = redis_cli(&["-p", &master.to_string(), "GET", "sentinel-test:where"]);
    assert_eq!(direct.trim(), "master");

    // A failover: the replica becomes the master and the old master a
    // read-only replica. The store notices (READONLY), asks Sentinel again
    // and carries on against the new master, with the data replicated so far.
    wait_for("the sentinel to know the replica", || {
        redis_cli(&["-p", &sentinel.to_string(), "SENTINEL", "replicas", "tunnusmaster"]).contains(&replica.to_string())
    });
    // Until Sentinel has fresh news of the replica it answers NOGOODSLAVE; ask again.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let failover = redis_cli(&["-p", &sentinel.to_string(), "SENTINEL", "FAILOVER", "tunnusmaster"]);
        if failover.contains("OK") {
            break;
        }
        assert!(Instant::now() < deadline, "no failover: {failover}");
        std::thread::sleep(Duration::from_millis(200));
    }
    wait_for("the sentinel to name the new master", || {
        redis_cli(&["-p", &sentinel.to_string(), "SENTINEL", "get-master-addr-by-name", "tunnusmaster"])
            .contains(&replica.to_string())
    });
    wait_for("the old master to turn replica", || redis_cli(&["-p", &master.to_string(), "ROLE"]).starts_with("slave"));
    assert_eq!(store.get("where").await.unwrap().as_deref(), Some("master"), "replicated before the failover");
    store.put("after", "failover", Duration::from_secs(60)).await.unwrap();
    let direct = redis_cli(&["-p", &replica.to_string(), "GET", "sentinel-test:after"]);
    assert_eq!(direct.trim(), "failover", "written to the new master");
    assert_eq!(store.incr("n-after", Duration::from_secs(60)).await.unwrap(), 1);

    // An unknown master name is a clear start-up error.
    let wrong = format!("redis+sentinel://127.0.0.1:{sentinel}/nosuchmaster");
    let err = RedisStore::connect(&wrong, "x:", Duration::from_secs(2)).await.unwrap_err();
    assert_eq!(err.kind(), tunnus_store::StoreErrorKind::Unavailable, "{err}");
}

/// Redis stops and comes back empty (a restart) while HTTP workers hold
/// connections of their own: once the server answers again, a worker's
/// next command works, as a single-connection store's would once its
/// connection is found broken (by `/readyz`, say). The command during the
/// outage fails with `Unavailable`, loudly rather than slowly.
#[test]
fn after_a_redis_restart_a_worker_works_again_at_its_next_command() {
    let dir = tempfile::tempdir().unwrap();
    let [port] = free_ports::<1>();
    let port_arg = port.to_string();
    let args = ["--port", &port_arg, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    let Some(first) = redis_server(dir.path(), &args) else { return };
    let mut procs = Processes(vec![first]);
    wait_for("redis-server", || answers(port));
    // The last command of the newest connection other than redis-cli's own.
    let newest_connection_ran = || {
        let list = redis_cli(&["-p", &port_arg, "CLIENT", "LIST"]);
        let field = |line: &str, name: &str| {
            line.split_whitespace().find_map(|f| f.strip_prefix(name)).map(str::to_owned).unwrap_or_default()
        };
        list.lines()
            .filter(|l| field(l, "cmd=") != "client|list")
            .max_by_key(|l| field(l, "id=").parse::<u64>().unwrap_or(0))
            .map(|l| field(l, "cmd="))
            .unwrap_or_default()
    };

    // The store opens on a multi-threaded runtime (the server's main one);
    // the worker is a single-threaded one, as each actix worker is.
    let main = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let worker = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let url = format!("redis://127.0.0.1:{port}");
    let store = main.block_on(RedisStore::connect(&url, "restart-test:", Duration::from_secs(1))).unwrap();
    worker.block_on(store.put("before", "1", Duration::from_secs(60))).unwrap();
    // The worker's reads go over the shared connection until its own is
    // open, then over its own, the newest: wait until that one has served
    // one, so the outage below meets a connection the worker uses.
    for _ in 0..100 {
        assert_eq!(worker.block_on(store.get("before")).unwrap().as_deref(), Some("1"));
        if newest_connection_ran() == "get" {
            break;
        }
        worker.block_on(async { tokio::time::sleep(Duration::from_millis(20)).await });
    }
    assert_eq!(newest_connection_ran(), "get", "the worker reads over a connection of its own");

    let mut stopped = procs.0.pop().unwrap();
    stopped.kill().unwrap();
    stopped.wait().unwrap();
    let lost = worker.block_on(store.get("before")).unwrap_err();
    assert_eq!(lost.kind(), tunnus_store::StoreErrorKind::Unavailable, "{lost}");
    // A worker's runtime keeps running through an outage, and with it its
    // connection's attempts to reconnect, which fail.
    worker.block_on(async { tokio::time::sleep(Duration::from_secs(1)).await });

    procs.0.push(redis_server(dir.path(), &args).unwrap());
    wait_for("redis-server again", || answers(port));
    // The shared connection learns of the restart at its first command.
    let deadline = Instant::now() + Duration::from_secs(10);
    while main.block_on(store.ping()).is_err() {
        assert!(Instant::now() < deadline, "the shared connection never recovered");
        std::thread::sleep(Duration::from_millis(100));
    }
    worker.block_on(store.put("after", "2", Duration::from_secs(60))).unwrap();
    assert_eq!(worker.block_on(store.get("after")).unwrap().as_deref(), Some("2"));
    assert_eq!(worker.block_on(store.get("before")).unwrap(), None, "a restarted Redis is empty");
}
