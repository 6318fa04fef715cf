//! What the offline CLI tests share: `maint` run with AWS settings that point
//! at a dead port (so a call to AWS would exit 1, and bad input must exit 2
//! before any), in a fresh working directory.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `maint ARGS` in `dir`, without AWS.
pub fn maint(dir: &Path, args: &[&str]) -> Output {
    maint_with(dir, args, &[])
}

/// [`maint`] with the environment variables in `set` added (they win).
pub fn maint_with(dir: &Path, args: &[&str], set: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maint"))
        .args(args)
        .current_dir(dir)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("NO_COLOR", "1")
        .env_remove("MAINT_CONFIG")
        .env_remove("AWS_PROFILE")
        .envs(set.iter().copied())
        .output()
        .expect("run maint")
}

/// A fresh, empty working directory.
pub fn workdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "maint-offline-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The words of an output, whatever the terminal width.
pub fn words(bytes: &[u8]) -> String {
    text(bytes).split_whitespace().collect::<Vec<_>>().join(" ")
}
