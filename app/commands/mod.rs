//! Headless subcommands of the `vislab` binary (`vislab <command> ...`).
//! Each takes the arguments after its name and returns an exit code.

pub mod metrics;
pub mod train;
pub mod train_detector;
pub mod train_gan;
pub mod train_pixelcnn;
pub mod train_vae;

use vislab_engine::cpu::threads;

/// The subcommand named by the first argument, if any.
pub fn dispatch(args: &[String]) -> Option<std::process::ExitCode> {
    let (first, rest) = args.split_first()?;
    let run: fn(&[String]) -> std::process::ExitCode = match first.as_str() {
        "train" => train::train,
        "eval" => train::eval,
        "metrics" => metrics::run,
        _ => return None,
    };
    // `--threads N` (or VISLAB_THREADS) sizes the CPU pool for every model.
    let rest = match take_threads(rest).and_then(|(rest, n)| threads::set(n).map(|_| rest)) {
        Ok(rest) => rest,
        Err(e) => return Some(train::fail(e)),
    };
    Some(run(&rest))
}

/// The arguments without `--threads N`, and the thread count asked for
/// there or in VISLAB_THREADS (the flag wins).
fn take_threads(args: &[String]) -> Result<(Vec<String>, Option<usize>), String> {
    let Some(i) = args.iter().position(|a| a == "--threads") else {
        return Ok((args.to_vec(), threads::from_env()?));
    };
    let v = args.get(i + 1).ok_or("--threads needs a value")?;
    let n = threads::parse(v).map_err(|e| format!("--threads: {e}"))?;
    let rest = args[..i].iter().chain(&args[i + 2..]).cloned().collect();
    Ok((rest, Some(n)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn threads_flag_is_taken_out() {
        let args: Vec<String> = ["--data", "digits", "--threads", "3", "--epochs", "1"].iter().map(|s| s.to_string()).collect();
        let (rest, n) = super::take_threads(&args).unwrap();
        assert_eq!((rest.join(" "), n), ("--data digits --epochs 1".to_string(), Some(3)));
        let bad: Vec<String> = ["--threads", "0"].iter().map(|s| s.to_string()).collect();
        assert!(super::take_threads(&bad).unwrap_err().starts_with("--threads: `0` is not a thread count"));
        assert_eq!(super::take_threads(&bad[..1]).unwrap_err(), "--threads needs a value");
    }
}
