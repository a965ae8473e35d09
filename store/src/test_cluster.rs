//! A private PostgreSQL server for tests: one cluster per test process, started on first use,
//! and a fresh, empty database for every caller.
//!
//! This module is compiled for this crate's own tests and, with the feature `test-cluster`, for
//! other crates' tests (`store = { workspace = true, features = ["test-cluster"] }` under
//! `[dev-dependencies]`). It is test support: when something is wrong it panics, with what to
//! do about it and the tail of the server's log.
//!
//! # Use
//!
//! [`database`] returns the URL of a new database, `postgres://postgres@127.0.0.1:{port}/t{n}`.
//! Connect to it as the superuser `postgres` with any client; no password is needed (trust
//! authentication on loopback). Tests may call it from any number of threads at once; each call
//! creates another database, so tests never see each other's tables.
//!
//! ```no_run
//! let url = store::test_cluster::database();
//! assert!(url.starts_with("postgres://postgres@127.0.0.1:"));
//! ```
//!
//! Where the environment variable `JINCHENG_TEST_PG` names a running server instead
//! (`postgres://user:password@host:5432/postgres`, a role that may create databases), every
//! database is created there and no cluster is started.
//!
//! # What it needs
//!
//! Debian's PostgreSQL server: the newest `/usr/lib/postgresql/<version>/bin/` that holds
//! `initdb` and `postgres` is used, with the `psql` beside it (or `/usr/bin/psql`). When there
//! is none, a test running as root installs the package `postgresql` with apt-get (as
//! `tests/browser.rs` installs Chromium, and as `.ci/run` does before the tests); any other user
//! gets a panic saying what to install. `setpriv` from util-linux (always installed on Debian)
//! starts the server (see [Stopping](#stopping-with-the-test-process)).
//!
//! # The cluster
//!
//! `initdb` and `postgres` refuse to run as root, so a root test process runs them as the
//! `postgres` system user that the Debian package creates; anyone else runs them as themselves.
//! The data directory is `$TMPDIR/jincheng-pg-{pid}` (mode 0700, owned by that user), made with
//! `initdb --auth=trust --username=postgres --encoding=UTF8 --locale=C`. The server listens on
//! a free port of 127.0.0.1 (and on a Unix socket in the data directory, not in
//! `/var/run/postgresql`), with `fsync`, `synchronous_commit` and `full_page_writes` off:
//! nothing a test writes needs to survive a crash of the machine. Its output goes to
//! `postgres.log` in the data directory. It is ready when it answers `SHOW data_directory` with
//! its own directory, polled for up to a minute: a server that another process started on the
//! same port meanwhile does not count, and our postgres, failing to bind, is retried on
//! another port.
//!
//! # Stopping with the test process
//!
//! Statics are never dropped and a test process may be killed, so nothing in it can be counted
//! on to stop the server. Linux's parent-death signal does it instead: the server is started as
//! `setpriv --pdeathsig QUIT -- postgres …`, which asks the kernel to send it `SIGQUIT`
//! (PostgreSQL's immediate shutdown, which also ends its backends) when its parent goes away,
//! then execs `postgres`, which keeps the setting. Two details make this hold:
//!
//! - The kernel ties the death signal to the *thread* that spawned the child, not to the
//!   process: it fires when that thread ends. A test's thread ends with the test, so the server
//!   is spawned from a dedicated thread that then waits on it for as long as the process lives
//!   (the signal fires when the process exits, which ends all its threads).
//! - A change of credentials clears the death signal. `Command::uid`/`gid` switch to the
//!   `postgres` user in the forked child before it execs `setpriv`, so the signal is set after
//!   the switch, and exec'ing `postgres` (not set-user-ID) keeps it.
//!
//! Setting it with `prctl(PR_SET_PDEATHSIG)` in a `pre_exec` hook would do the same, but
//! `pre_exec` is unsafe and the workspace forbids unsafe code.
//!
//! A server stopped this way leaves its data directory behind: starting a cluster removes every
//! `jincheng-pg-{pid}` directory whose process is gone (stopping its postmaster first, if one
//! somehow survived).

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

/// How long the server may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How many ports to try when another process takes the free port before the server binds it.
const PORT_ATTEMPTS: u32 = 5;
/// Data directories are `$TMPDIR/jincheng-pg-{pid}`.
const DIR_PREFIX: &str = "jincheng-pg-";
/// The server's output, in the data directory.
const LOG: &str = "postgres.log";

/// A fresh, empty database on the process's private cluster, as a connection URL
/// `postgres://postgres@127.0.0.1:{port}/{name}`. The first call starts the cluster.
///
/// # Panics
///
/// When the cluster cannot be started or the database cannot be created; the message says why
/// and ends with the tail of the server's log.
pub fn database() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    if let Ok(server) = std::env::var("JINCHENG_TEST_PG") {
        return database_on(&server, NEXT.fetch_add(1, Ordering::Relaxed));
    }
    let cluster = cluster();
    let name = format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed));
    if let Err(err) = psql(
        &cluster.psql,
        cluster.port,
        "postgres",
        &format!("CREATE DATABASE {name}"),
    ) {
        panic!(
            "creating database {name} on the test cluster: {err}\n{}",
            log_tail(&cluster.dir)
        );
    }
    format!("postgres://postgres@127.0.0.1:{}/{name}", cluster.port)
}

/// A new database on the server of `JINCHENG_TEST_PG` (a URL such as
/// `postgres://user:password@host:5432/postgres`, of a role that may create databases),
/// named for this process so that test runs sharing the server never meet.
fn database_on(server: &str, n: usize) -> String {
    let name = format!("jincheng_t{}_{n}", std::process::id());
    let output = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", server, "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .unwrap_or_else(|err| panic!("JINCHENG_TEST_PG is set, but psql cannot run: {err}"));
    assert!(
        output.status.success(),
        "creating database {name} on JINCHENG_TEST_PG's server: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (base, query) = server
        .split_once('?')
        .map_or((server, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// The process's running cluster.
struct Cluster {
    /// Its data directory.
    dir: PathBuf,
    port: u16,
    /// The `psql` to talk to it with.
    psql: PathBuf,
}

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(Cluster::start)
}

impl Cluster {
    fn start() -> Cluster {
        let bin = server_binaries();
        let psql = Some(bin.join("psql"))
            .filter(|psql| psql.exists())
            .unwrap_or_else(|| PathBuf::from("/usr/bin/psql"));
        let owner = server_user();
        let dir = create_data_dir(owner);

        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&dir)
            .args([
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--locale=C",
            ])
            .args(["--no-sync", "--no-instructions"])
            .current_dir(&dir);
        as_server_user(&mut initdb, owner);
        let output = initdb
            .output()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", bin.join("initdb").display()));
        assert!(
            output.status.success(),
            "initdb of the test cluster in {} failed ({}):\n{}{}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );

        // The server's parent must outlive every test: see "Stopping with the test process".
        let (ready, started) = mpsc::channel();
        let (thread_dir, thread_psql) = (dir.clone(), psql.clone());
        std::thread::Builder::new()
            .name("postgres-test-cluster".into())
            .spawn(move || run_postmaster(&bin, &thread_psql, &thread_dir, owner, &ready))
            .expect("spawning the thread that starts the test cluster");
        match started.recv() {
            Ok(Ok(port)) => Cluster { dir, port, psql },
            Ok(Err(problem)) => panic!("{problem}\n{}", log_tail(&dir)),
            Err(_) => panic!(
                "the test cluster's thread ended without a word\n{}",
                log_tail(&dir)
            ),
        }
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` with `initdb` and `postgres`, installing
/// Debian's `postgresql` first when there is none and we are root.
fn server_binaries() -> PathBuf {
    if let Some(bin) = newest_server_binaries() {
        return bin;
    }
    assert!(
        is_root(),
        "the PostgreSQL test cluster needs initdb and postgres in /usr/lib/postgresql/<version>/bin; \
         install Debian's server as root with `apt-get install -y --no-install-recommends postgresql` \
         (or run .ci/run as root)"
    );
    let install = || {
        let mut command = Command::new("apt-get");
        command
            .args(["install", "-y", "-q", "--no-install-recommends", "postgresql"])
            .env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    // Package lists may be missing or stale on a fresh machine: update once and retry.
    if !install().output().is_ok_and(|o| o.status.success()) {
        run(Command::new("apt-get").args(["update", "-q"]), "apt-get update");
        run(&mut install(), "apt-get install postgresql");
    }
    newest_server_binaries()
        .expect("apt-get installed postgresql but /usr/lib/postgresql/*/bin/initdb is still missing")
}

fn newest_server_binaries() -> Option<PathBuf> {
    fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            // "15", "16", or an old "9.6": compared as numbers.
            let version: Vec<u32> = (entry.file_name().to_str()?.split('.'))
                .map(|part| part.parse().ok())
                .collect::<Option<_>>()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists() && bin.join("postgres").exists())
        .max()
        .map(|(_, bin)| bin)
}

/// Who runs `initdb` and `postgres`: the `postgres` system user (uid, gid) when we are root,
/// since they refuse to run as root; `None` (ourselves) otherwise.
fn server_user() -> Option<(u32, u32)> {
    is_root().then(|| (id(&["-u", "postgres"]), id(&["-g", "postgres"])))
}

fn as_server_user(command: &mut Command, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        // Clears the supplementary groups too (std does so when root sets a uid).
        command.uid(uid).gid(gid);
    }
}

fn is_root() -> bool {
    id(&["-u"]) == 0
}

/// The number `id` prints for `args`.
fn id(args: &[&str]) -> u32 {
    let output = Command::new("id")
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("cannot run `id`: {err}"));
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| {
            panic!(
                "`id {}` failed: {} (as root, the test cluster runs as the `postgres` system user that \
             Debian's postgresql package creates)",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            )
        })
}

/// Runs `command`, panicking with its output when it cannot start or fails.
fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("{what}: cannot start {command:?}: {err}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// An empty `$TMPDIR/jincheng-pg-{pid}`, mode 0700, owned by `owner`; stale ones are removed
/// first.
fn create_data_dir(owner: Option<(u32, u32)>) -> PathBuf {
    remove_stale_data_dirs();
    let dir = std::env::temp_dir().join(format!("{DIR_PREFIX}{}", std::process::id()));
    // A dead process with our pid may have left one.
    let _ = fs::remove_dir_all(&dir);
    let prepare = || -> std::io::Result<()> {
        fs::create_dir(&dir)?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))?;
        }
        Ok(())
    };
    if let Err(err) = prepare() {
        panic!(
            "creating the test cluster's data directory {}: {err}",
            dir.display()
        );
    }
    dir
}

/// Removes the data directories of test processes that are gone.
fn remove_stale_data_dirs() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = (file_name.to_str())
            .and_then(|name| name.strip_prefix(DIR_PREFIX))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || is_alive(pid) {
            continue;
        }
        let dir = entry.path();
        // The death signal stops the postmaster with its parent; should one have survived, it is
        // the process of `postmaster.pid` whose command line names this directory.
        if let Some(postmaster) = postmaster_pid(&dir)
            && fs::read(format!("/proc/{postmaster}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(&*dir.to_string_lossy()))
        {
            let _ = Command::new("kill")
                .args(["-QUIT", &postmaster.to_string()])
                .status();
        }
        let _ = fs::remove_dir_all(&dir);
    }
}

fn is_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The pid on the first line of the data directory's `postmaster.pid`.
fn postmaster_pid(dir: &Path) -> Option<u32> {
    fs::read_to_string(dir.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Starts the postmaster on a free port, tells `ready` the port (or why it could not), then
/// waits on the server: this thread's life is what keeps the server's death signal from firing.
fn run_postmaster(
    bin: &Path,
    psql: &Path,
    dir: &Path,
    owner: Option<(u32, u32)>,
    ready: &mpsc::Sender<Result<u16, String>>,
) {
    for attempt in 1..=PORT_ATTEMPTS {
        let port = match TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()) {
            Ok(address) => address.port(),
            Err(err) => {
                let _ = ready.send(Err(format!("cannot find a free port on 127.0.0.1: {err}")));
                return;
            }
        };
        let mut server = match spawn_postmaster(bin, dir, port, owner) {
            Ok(server) => server,
            Err(err) => {
                let _ = ready.send(Err(format!(
                    "cannot start `setpriv … {}` (setpriv is in util-linux): {err}",
                    bin.join("postgres").display()
                )));
                return;
            }
        };
        let problem = match wait_until_ready(psql, dir, port, &mut server) {
            Startup::Ready => {
                let _ = ready.send(Ok(port));
                let _ = server.wait();
                return;
            }
            Startup::Exited(_)
                if attempt < PORT_ATTEMPTS && log_tail(dir).contains("Address already in use") =>
            {
                continue;
            }
            Startup::Exited(status) => format!("the test cluster's postgres exited ({status})"),
            Startup::TimedOut(last_error) => {
                let _ = server.kill();
                let _ = server.wait();
                format!(
                    "the test cluster's postgres did not accept connections on port {port} within \
                     {READY_TIMEOUT:?}; psql said: {last_error}"
                )
            }
        };
        let _ = ready.send(Err(problem));
        return;
    }
}

fn spawn_postmaster(bin: &Path, dir: &Path, port: u16, owner: Option<(u32, u32)>) -> std::io::Result<Child> {
    // A fresh log per attempt, so that a failed attempt's "Address already in use" is not read as
    // the next one's.
    let log = fs::File::create(dir.join(LOG))?;
    let mut command = Command::new("setpriv");
    command
        .args(["--pdeathsig", "QUIT", "--"])
        .arg(bin.join("postgres"))
        .arg("-D")
        .arg(dir)
        .arg("-p")
        .arg(port.to_string())
        .arg("-k")
        .arg(dir)
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
        ])
        .args(["-c", "full_page_writes=off", "-c", "max_connections=300"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    as_server_user(&mut command, owner);
    command.spawn()
}

enum Startup {
    Ready,
    Exited(ExitStatus),
    /// With psql's last complaint.
    TimedOut(String),
}

/// Polls until the server on `port` is ours (its data directory is `dir`) and accepts
/// connections, or exits, or [`READY_TIMEOUT`] passes.
fn wait_until_ready(psql_bin: &Path, dir: &Path, port: u16, server: &mut Child) -> Startup {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Ok(Some(status)) = server.try_wait() {
            return Startup::Exited(status);
        }
        let last_error = match psql(psql_bin, port, "postgres", "SHOW data_directory") {
            Ok(data_directory) if Path::new(&data_directory) == dir => return Startup::Ready,
            Ok(other) => format!("port {port} is served from {other}, not {}", dir.display()),
            Err(err) => err,
        };
        if Instant::now() > deadline {
            return Startup::TimedOut(last_error);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `sql` on `database` as `postgres` and returns what it printed (unaligned, tuples only),
/// or psql's complaint.
fn psql(psql: &Path, port: u16, database: &str, sql: &str) -> Result<String, String> {
    let output = Command::new(psql)
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
        ])
        .arg("-p")
        .arg(port.to_string())
        .arg("-d")
        .arg(database)
        .arg("-c")
        .arg(sql)
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .map_err(|err| format!("cannot run {}: {err}", psql.display()))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// The last lines of the server's log, for panic messages.
fn log_tail(dir: &Path) -> String {
    let path = dir.join(LOG);
    let log = fs::read_to_string(&path).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    let tail = lines[lines.len().saturating_sub(30)..].join("\n");
    format!("--- the last lines of {} ---\n{tail}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `sql` on the database of `url` with psql, as a client of the backend would connect.
    fn query(url: &str, sql: &str) -> String {
        let output = Command::new(&cluster().psql)
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                url,
                "-c",
                sql,
            ])
            .output()
            .expect("running psql");
        assert!(
            output.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    #[test]
    fn databases_are_fresh_distinct_and_usable() {
        let threads: Vec<_> = (0..2).map(|_| std::thread::spawn(database)).collect();
        let urls: Vec<String> = threads
            .into_iter()
            .map(|t| t.join().expect("database()"))
            .collect();
        assert_ne!(urls[0], urls[1]);
        for url in &urls {
            assert!(url.starts_with("postgres://postgres@127.0.0.1:"), "{url}");
        }

        let sum = query(
            &urls[0],
            "CREATE TABLE x(a bigint); INSERT INTO x VALUES (1), (2), (40); SELECT sum(a) FROM x",
        );
        assert_eq!(sum, "43");
        // The other database is a separate one, without the table.
        assert_eq!(
            query(&urls[1], "SELECT count(*) FROM pg_tables WHERE tablename = 'x'"),
            "0"
        );
    }

    #[test]
    fn the_server_does_not_run_as_root() {
        database();
        let dir = &cluster().dir;
        let pid = postmaster_pid(dir).expect("the cluster's postmaster.pid");
        let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("the postmaster's status");
        let uid = status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .expect("a Uid line in /proc/<pid>/status");
        // Real, effective, saved and filesystem uids.
        assert!(
            uid.split_whitespace().all(|id| id != "0"),
            "postmaster {pid} runs as uid {uid}"
        );
        if is_root() {
            let postgres = id(&["-u", "postgres"]).to_string();
            assert!(uid.split_whitespace().all(|id| id == postgres), "Uid: {uid}");
        }
    }
}
