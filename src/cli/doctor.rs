//! `seqmodels doctor`.

use clap::Args;
use seqmodels::doctor;
use seqmodels::{DeviceSpec, Progress};

use super::common::DeviceArgs;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
}

pub fn run(args: DoctorArgs, progress: &dyn Progress) -> anyhow::Result<()> {
    // `auto` checks every device this process can reach; a named device is checked alone and
    // must exist.
    let devices = match args.device.device {
        DeviceSpec::Auto => doctor::all_devices(),
        spec => vec![spec.resolve()?],
    };
    let report = doctor::run(&devices, progress);
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    println!("seqmodels {}", report.crate_version);
    println!("libtorch  {}", report.libtorch_version);
    if let Some(path) = &report.libtorch_path {
        println!("  from    {}", path.display());
    }
    println!("  built   {}", doctor::LIBTORCH_BUILD_VERSION);
    println!("threads   {}", report.threads);
    println!(
        "CUDA      built {}, available {}",
        yes_no(report.built_with_cuda),
        yes_no(report.cuda_available)
    );
    println!("cuDNN     {}", yes_no(report.cudnn_available));
    println!("GPUs      {}", report.gpu_count);
    let mut failed = Vec::new();
    for check in &report.checks {
        match &check.outcome {
            Ok(f) => {
                let verdict = if f.passed() { "ok" } else { "WRONG" };
                println!(
                    "check {:<7} {verdict}: matmul max |diff| {:.1e}, LSTM forward max |diff| {:.1e} ({:.1} ms)",
                    check.device, f.matmul_max_abs_diff, f.lstm_max_abs_diff, f.millis
                );
                if !f.passed() {
                    failed.push(check.device.clone());
                }
            }
            Err(e) => {
                println!("check {:<7} FAILED: {e}", check.device);
                failed.push(check.device.clone());
            }
        }
    }
    if !failed.is_empty() {
        anyhow::bail!("device check failed on {}", failed.join(", "));
    }
    Ok(())
}
