//! The Rust API's time per `status` of one target, for BENCHMARKS.md's
//! "Python call overhead" (scripts/bench): the same call as the Python
//! package's `Client.status`, through `Fleet::status` in one process.
//!
//! `status_loop ENDPOINT REGION TARGET N` prints one JSON line:
//! `{"n": N, "median_us": ..., "mean_us": ...}` (after 5 warm-up calls).

use std::time::Instant;

use maint_core::backend::AwsOptions;
use maint_core::fleet::Silent;
use maint_core::Fleet;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, endpoint, region, target, n] = args.as_slice() else {
        return Err("usage: status_loop ENDPOINT REGION TARGET N".into());
    };
    let n: usize = n.parse()?;
    let fleet = Fleet::builder()
        .region(region)
        .aws(AwsOptions {
            endpoint_url: Some(endpoint.clone()),
            ..AwsOptions::default()
        })
        .build()?;
    let targets = vec![target.clone()];
    for _ in 0..5 {
        fleet.status(&targets, &Silent).await?;
    }
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let run = fleet.status(&targets, &Silent).await?;
        times.push(started.elapsed().as_secs_f64() * 1e6);
        if run.failures().next().is_some() {
            return Err("status failed".into());
        }
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / n as f64;
    println!(
        "{{\"n\": {n}, \"median_us\": {:.1}, \"mean_us\": {mean:.1}}}",
        times[n / 2]
    );
    Ok(())
}
