//! The `fakeaws` binary: see the library's documentation.

use std::time::Duration;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "fakeaws",
    about = "A loopback AWS fixture for scale benchmarks"
)]
struct Args {
    /// Accounts in the organization, the management account included.
    #[arg(long, default_value_t = 200)]
    accounts: usize,
    /// Delay before every answer, in milliseconds.
    #[arg(long = "latency-ms", default_value_t = 50)]
    latency_ms: u64,
    /// Port on 127.0.0.1; 0 lets the system choose (printed as JSON on stdout).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Worker threads (1: a single-threaded runtime).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Exit when standard input closes (for harnesses that may die without cleaning up).
    #[arg(long)]
    exit_on_eof: bool,
    /// STS AssumeRole requests answered per second for each caller (access key), as AWS
    /// throttles them; beyond that: 400 Throttling "Rate exceeded". Default: no limit.
    #[arg(long = "sts-assume-role-rate", value_name = "PER_SECOND")]
    sts_assume_role_rate: Option<f64>,
    /// Organizations requests answered per second for each caller (AWS: about 5);
    /// beyond that: 400 TooManyRequestsException. Default: no limit.
    #[arg(long = "organizations-rate", value_name = "PER_SECOND")]
    organizations_rate: Option<f64>,
    /// Scan calls answered per second for each account, service and region; beyond
    /// that the protocol's throttling error (EC2 503 RequestLimitExceeded, query 400
    /// Throttling, JSON 400 ThrottlingException). Default: no limit.
    #[arg(long = "call-rate", value_name = "PER_SECOND")]
    call_rate: Option<f64>,
    /// AWS-like limits, as the scale benchmarks use them: --latency-ms 50,
    /// --organizations-rate 5, --sts-assume-role-rate 20, --call-rate 20 (each
    /// overridable by its own flag).
    #[arg(long = "aws-limits")]
    aws_limits: bool,
}

fn main() {
    let args = Args::parse();
    for (flag, rate) in [
        ("--sts-assume-role-rate", args.sts_assume_role_rate),
        ("--organizations-rate", args.organizations_rate),
        ("--call-rate", args.call_rate),
    ] {
        if rate.is_some_and(|rate| !(rate.is_finite() && rate > 0.0)) {
            eprintln!("fakeaws: error: {flag} must be a positive number of requests per second, such as 20");
            std::process::exit(1);
        }
    }
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fakeaws: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if args.exit_on_eof {
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            std::process::exit(0);
        });
    }
    let limits = if args.aws_limits {
        fakeaws::Options::aws_like(args.accounts)
    } else {
        fakeaws::Options::default()
    };
    let options = fakeaws::Options {
        accounts: args.accounts,
        latency: Duration::from_millis(args.latency_ms),
        sts_assume_role_rate: args.sts_assume_role_rate.or(limits.sts_assume_role_rate),
        organizations_rate: args.organizations_rate.or(limits.organizations_rate),
        call_rate: args.call_rate.or(limits.call_rate),
    };
    if let Err(e) = runtime.block_on(fakeaws::run(args.port, options)) {
        eprintln!("fakeaws: {e}");
        std::process::exit(1);
    }
}
