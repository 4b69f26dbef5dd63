//! How many threads the CPU program uses: one rayon pool for the process
//! (all cores unless told otherwise), or a pool of the caller's for one job.

/// The thread count asked for by `VISLAB_THREADS`, if set: Err names a bad value.
pub fn from_env() -> Result<Option<usize>, String> {
    match std::env::var("VISLAB_THREADS") {
        Err(_) => Ok(None),
        Ok(v) => parse(&v).map(Some).map_err(|e| format!("VISLAB_THREADS: {e}")),
    }
}

/// A thread count: a whole number from 1 to 1024.
pub fn parse(v: &str) -> Result<usize, String> {
    match v.trim().parse::<usize>() {
        Ok(n) if (1..=1024).contains(&n) => Ok(n),
        _ => Err(format!("`{v}` is not a thread count (a whole number from 1 to 1024)")),
    }
}

/// Size the process-wide pool before any program runs (`None`: every
/// core). Returns the threads it has; Err if it was already started with
/// another count.
pub fn set(threads: Option<usize>) -> Result<usize, String> {
    let mut b = rayon::ThreadPoolBuilder::new().thread_name(|i| format!("vislab-cpu-{i}"));
    if let Some(n) = threads {
        b = b.num_threads(n);
    }
    match b.build_global() {
        Ok(()) => Ok(current()),
        Err(_) if threads.is_none_or(|n| n == current()) => Ok(current()),
        Err(_) => Err(format!("the CPU thread pool already runs {} threads, cannot change to {threads:?}", current())),
    }
}

/// Threads a program run from here uses.
pub fn current() -> usize {
    rayon::current_num_threads()
}

/// Run `f` with programs on a pool of `threads` threads of its own.
pub fn with<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> Result<R, String> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| format!("cannot start {threads} threads: {e}"))?;
    Ok(pool.install(f))
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_parse_or_say_why() {
        assert_eq!(super::parse(" 3 "), Ok(3));
        for bad in ["0", "-1", "two", "", "5000"] {
            assert!(super::parse(bad).unwrap_err().contains("not a thread count"), "{bad}");
        }
        assert_eq!(super::with(3, super::current), Ok(3));
    }
}
