//! The deployment files in `deploy/`: every Kubernetes manifest validates
//! against the Kubernetes schemas (`kubernetes-validate --strict`, offline),
//! the kustomization lists them, the Compose file has the services the docs
//! promise, and the `TUNNUS_*` settings both give are keys Tunnus accepts.
//!
//! Needs `kubernetes-validate` (`python3 -m pip install kubernetes-validate`,
//! which `.ci/run` does) and PyYAML (a dependency of it). Without the
//! validator the test says `SKIPPED`, or fails under `CI=true`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The manifests in `deploy/kubernetes/`, by file name, sorted.
fn manifests(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .collect();
    names.sort();
    names
}

/// Reads the YAML files the assertions need and prints them as one JSON
/// object (Rust has no YAML parser in this workspace; Python's is at hand).
const EXTRACT: &str = r#"
import json, sys, yaml
root = sys.argv[1]
def load(path):
    with open(root + "/" + path) as f:
        return yaml.safe_load(f)
compose = load("deploy/compose.yaml")
kustomization = load("deploy/kubernetes/kustomization.yaml")
ingress = load("deploy/kubernetes/ingress.yaml")
print(json.dumps({
    "services": compose["services"],
    "kustomization_resources": kustomization.get("resources", []),
    "configmap": load("deploy/kubernetes/configmap.yaml")["data"],
    "secret": load("deploy/kubernetes/secret.example.yaml")["stringData"],
    "ingress_hosts": [rule["host"] for rule in ingress["spec"]["rules"]],
    "ingress_tls_hosts": [h for tls in ingress["spec"]["tls"] for h in tls["hosts"]],
}))
"#;

/// A map of strings (environment variables) from a JSON object.
fn env_map(value: &Value) -> Vec<(String, String)> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("expected a map of variables, got {value}"))
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
        .collect()
}

/// Runs `tunnus migrate` on a scratch SQLite file with `vars` as its
/// environment: the configuration is strict, so this fails on any variable
/// that names no key or holds a value of the wrong type.
fn assert_tunnus_accepts(what: &str, vars: &[(String, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_tunnus"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("TUNNUS_")) {
        command.env_remove(key);
    }
    for (key, value) in vars {
        assert!(key.starts_with("TUNNUS_"), "{what}: {key} is not a TUNNUS_* variable");
        command.env(key, value);
    }
    let db = format!("sqlite://{}", dir.path().join("tunnus.db").display());
    let o = command
        .arg("migrate")
        .current_dir(dir.path())
        .env("TUNNUS_DATABASE_URL", db)
        .env("TUNNUS_DATA_DIR", dir.path())
        .env("TUNNUS_LOG__FILTER", "off")
        .output()
        .unwrap();
    assert!(o.status.success(), "{what}: tunnus refuses these settings:\n{}", text(&o));
}

#[test]
fn deployment_files_are_valid() {
    let root = repo();
    let kube = root.join("deploy/kubernetes");
    let files = manifests(&kube);
    for expected in [
        "namespace.yaml",
        "configmap.yaml",
        "secret.example.yaml",
        "migration-job.yaml",
        "deployment.yaml",
        "service.yaml",
        "ingress.yaml",
        "hpa.yaml",
        "kustomization.yaml",
    ] {
        assert!(files.iter().any(|f| f == expected), "deploy/kubernetes/{expected} is missing");
    }
    // kubernetes-validate has no schema for Kustomization; it only warns.
    let validated: Vec<&String> = files.iter().filter(|f| *f != "kustomization.yaml").collect();

    // 1. Every document against the Kubernetes schemas, rejecting unknown fields.
    if let Err(e) = Command::new("kubernetes-validate").arg("--version").output() {
        tunnus_store::testing::service_missing(
            "kubernetes-validate",
            &format!("{e}; install it with `python3 -m pip install kubernetes-validate`"),
        );
        return;
    }
    let o = Command::new("kubernetes-validate").arg("--strict").args(&validated).current_dir(&kube).output().unwrap();
    let report = text(&o);
    eprintln!("{report}");
    assert!(o.status.success(), "kubernetes-validate --strict failed:\n{report}");
    // A warning means a document was not checked (e.g. an unknown kind).
    for line in report.lines().filter(|l| !l.trim().is_empty()) {
        assert!(line.starts_with("INFO") && line.contains(" passed "), "not validated: {line}");
    }
    for file in &validated {
        assert!(report.contains(&format!("INFO {file} passed")), "{file} was not validated:\n{report}");
    }

    // 2. The YAML the validator does not cover, and what the files promise.
    let yaml = Command::new("python3").args(["-c", "import yaml"]).output();
    if !yaml.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: python3 with PyYAML unavailable; deploy/compose.yaml and kustomization.yaml not checked");
        return;
    }
    let o = Command::new("python3").args(["-c", EXTRACT]).arg(&root).output().unwrap();
    assert!(o.status.success(), "cannot read the deployment YAML:\n{}", text(&o));
    let parsed: Value = serde_json::from_slice(&o.stdout).unwrap();

    // The kustomization lists every manifest except itself and the secret
    // example (applying that would overwrite the real Secret).
    let listed: BTreeSet<&str> =
        parsed["kustomization_resources"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let expected: BTreeSet<&str> = files
        .iter()
        .map(String::as_str)
        .filter(|f| *f != "kustomization.yaml" && *f != "secret.example.yaml")
        .collect();
    assert_eq!(listed, expected, "kustomization.yaml resources");

    // The Ingress serves the host of TUNNUS_PUBLIC_URL, with TLS.
    let public_url = parsed["configmap"]["TUNNUS_PUBLIC_URL"].as_str().unwrap();
    let host = public_url.strip_prefix("https://").expect("TUNNUS_PUBLIC_URL is https").trim_end_matches('/');
    assert_eq!(parsed["ingress_hosts"], serde_json::json!([host]), "ingress rule host vs TUNNUS_PUBLIC_URL");
    assert_eq!(parsed["ingress_tls_hosts"], serde_json::json!([host]), "ingress TLS host vs TUNNUS_PUBLIC_URL");

    // The ConfigMap and the Secret together are a configuration Tunnus accepts.
    let mut k8s_env = env_map(&parsed["configmap"]);
    k8s_env.extend(env_map(&parsed["secret"]));
    assert_tunnus_accepts("deploy/kubernetes (configmap + secret)", &k8s_env);

    // Compose: the services, the one-shot migration before the replicas,
    // and the replicas' settings.
    let services = parsed["services"].as_object().unwrap();
    for name in ["postgres", "redis", "migrate", "tunnus-1", "tunnus-2", "tunnus-3", "nginx", "mailpit"] {
        assert!(services.contains_key(name), "deploy/compose.yaml lacks the service {name}");
    }
    assert_eq!(services["migrate"]["command"], serde_json::json!(["migrate"]));
    for replica in ["tunnus-1", "tunnus-2", "tunnus-3"] {
        let service = &services[replica];
        assert_eq!(
            service["depends_on"]["migrate"]["condition"], "service_completed_successfully",
            "{replica} waits for the migration"
        );
        assert!(service["healthcheck"]["test"].to_string().contains("/readyz"), "{replica} health check");
        assert_eq!(service["image"], services["migrate"]["image"], "{replica} runs the migrated image");
        let env = env_map(&service["environment"]);
        let get = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        for (key, value) in [
            ("TUNNUS_PUBLIC_URL", "http://localhost:8080"),
            ("TUNNUS_LISTEN", "0.0.0.0:8080"),
            ("TUNNUS_TRUST_FORWARDED_FOR", "true"),
            ("TUNNUS_LOG__FORMAT", "json"),
            ("TUNNUS_REDIS_URL", "redis://redis:6379"),
            ("TUNNUS_MAIL__SMTP__HOST", "mailpit"),
            ("TUNNUS_MAIL__SMTP__PORT", "1025"),
            ("TUNNUS_MAIL__SMTP__SECURITY", "none"),
        ] {
            assert_eq!(get(key), Some(value), "{replica}: {key}");
        }
        assert!(get("TUNNUS_DATABASE_URL").is_some_and(|v| v.starts_with("postgres://")), "{replica} database");
        assert!(get("TUNNUS_SECRET_KEY").is_some_and(|v| v.contains("${TUNNUS_SECRET_KEY")), "{replica} secret");
        assert_tunnus_accepts(&format!("deploy/compose.yaml ({replica})"), &env);
    }
    assert_tunnus_accepts("deploy/compose.yaml (migrate)", &env_map(&services["migrate"]["environment"]));
}
