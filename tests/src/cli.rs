//! Running the real `maint` binary against the shared moto server, in a
//! scratch directory of its own, as a user would.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::moto::{server, REGION};
use crate::seed;

/// The `maint` binary that `cargo test --workspace` builds next to the test
/// executables (`target/<profile>/maint`).
pub fn maint_binary() -> PathBuf {
    let binary = profile_dir().join("maint");
    assert!(
        binary.exists(),
        "{} is missing: run the tests with `cargo test --workspace` (or ./scripts/test), \
         which builds the maint binary, or `cargo build -p maint-cli` first",
        binary.display()
    );
    binary
}

/// A cargo example of maint-core (`target/<profile>/examples/NAME`), which
/// `cargo test --workspace` builds.
pub fn example_binary(name: &str) -> PathBuf {
    let binary = profile_dir().join("examples").join(name);
    assert!(
        binary.exists(),
        "{} is missing: run the tests with `cargo test --workspace` (or ./scripts/test), \
         which builds maint-core's examples, or `cargo build -p maint-core --example {name}` \
         first",
        binary.display()
    );
    binary
}

/// `target/<profile>`: the test executables are in its `deps`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    exe.parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("unexpected test executable path {}", exe.display()))
        .to_path_buf()
}

/// What one run of `maint` did.
#[derive(Debug)]
pub struct Run {
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Standard output parsed as JSON (panics, showing both streams, if not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// A scratch directory to run `maint` in, with its own files.
pub struct Workdir {
    /// The directory.
    pub path: PathBuf,
}

impl Workdir {
    /// `maint allowlist add SERVICE ADDRESS`, then checks that `status`
    /// shows `expected` as the allowlist of every target of the service.
    pub fn add_to_allowlist_of_every_target(
        &self,
        service: &str,
        address: &str,
        expected: &[&str],
    ) {
        let added = self.maint(&["--json", "allowlist", "add", service, address]);
        assert_eq!(added.code, 0, "{}\n{}", added.stdout, added.stderr);
        let status = self.maint(&["--json", "status", service]);
        let targets = status.json()["targets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!targets.is_empty(), "{}", status.stdout);
        for t in targets {
            assert_eq!(t["allowlist"], serde_json::json!(expected), "{t}");
        }
    }

    /// A new, empty scratch directory.
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!(
            "maint-cli-{}-{}",
            std::process::id(),
            seed::unique_lb_name("w")
        ));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
        Self { path }
    }

    /// Writes a file relative to the directory; returns its path.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let file = self.path.join(name);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir: {e}"));
        }
        std::fs::write(&file, content).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
        file
    }

    /// Runs `maint ARGS` here against moto, with stdin closed.
    pub fn maint(&self, args: &[&str]) -> Run {
        self.maint_without(args, &[])
    }

    /// Runs `maint ARGS` with the environment variables in `unset` left out
    /// (e.g. `AWS_REGION`). The EC2 instance metadata service is always off:
    /// tests never leave the loopback interface.
    pub fn maint_without(&self, args: &[&str], unset: &[&str]) -> Run {
        self.maint_with(args, unset, &[])
    }

    /// Runs `maint ARGS` with the variables in `unset` left out and those
    /// in `set` added (after the defaults, so they win).
    pub fn maint_with(&self, args: &[&str], unset: &[&str], set: &[(&str, &str)]) -> Run {
        self.run_with(&maint_binary(), args, unset, set)
    }

    /// Runs `binary ARGS` here as [`maint_with`](Self::maint_with) runs
    /// `maint`: against moto, with the same environment (e.g. a tool built
    /// on maint-core, see [`example_binary`]).
    pub fn run_with(
        &self,
        binary: &Path,
        args: &[&str],
        unset: &[&str],
        set: &[(&str, &str)],
    ) -> Run {
        let mut command = Command::new(binary);
        command
            .args(args)
            .current_dir(&self.path)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.path)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .env("AWS_ENDPOINT_URL", server().endpoint())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("NO_COLOR", "1")
            // moto has no call-rate quotas to pace to.
            .env("MAINT_WAF_QUOTA_PERCENT", "0");
        for name in unset {
            command.env_remove(name);
        }
        for (name, value) in set {
            command.env(name, value);
        }
        let out = command
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", binary.display()));
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Default for Workdir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
