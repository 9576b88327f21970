//! A real PostgreSQL server on a free loopback port, in a temporary folder.
//!
//! The server comes from Debian's packages (`apt-get install postgresql`, as `.ci/run`
//! does): `initdb`, `pg_ctl`, `postgres` and `createdb` under
//! `/usr/lib/postgresql/<version>/bin` (the newest version found), or under
//! `$CENSUS_PG_BIN`. PostgreSQL refuses to run as root, so when the tests run as root
//! the server's commands run as the `postgres` system user (through `runuser`), and its
//! data folder belongs to that user.
//!
//! The server listens on 127.0.0.1 only (no Unix socket), trusts every local
//! connection (any user name, any password: tests can put a password in a URL and see
//! that it is never printed), and runs without fsync (test data need not survive a
//! power cut). It is stopped, and its folder removed, when the [`Postgres`] is
//! dropped; a watcher process also stops it if the test process dies first.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::TempDir;

const INSTALL: &str =
    "install PostgreSQL server packages (apt-get install postgresql), as .ci/run does";

/// How long the server may take to start.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// A running PostgreSQL server on 127.0.0.1.
pub struct Postgres {
    bin: PathBuf,
    data: TempDir,
    addr: SocketAddr,
    /// The `postgres` user's (uid, gid) when the commands run as that user.
    run_as: Option<(u32, u32)>,
    watcher: Option<Child>,
}

impl Postgres {
    /// Creates a cluster in a temporary folder and starts it on a free loopback port.
    ///
    /// # Panics
    /// When the server binaries are missing (the message says which packages to
    /// install), or the server does not start (the message holds its log).
    pub fn start() -> Postgres {
        Postgres::start_with(false)
    }

    /// Like [`Postgres::start`], with TLS on (`ssl=on`), its certificate self-signed
    /// for 127.0.0.1 (so that no system CA store trusts it); plain connections are
    /// still accepted. Needs `openssl` (which the PostgreSQL packages bring).
    pub fn start_tls() -> Postgres {
        Postgres::start_with(true)
    }

    fn start_with(tls: bool) -> Postgres {
        let bin = bin_dir();
        let run_as = if unsafe { libc::geteuid() } == 0 {
            Some(postgres_user())
        } else {
            None
        };
        let data = TempDir::new("census-postgres");
        if let Some((uid, gid)) = run_as {
            chown(&data, uid, gid);
        }
        let mut pg = Postgres {
            bin,
            data,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            run_as,
            watcher: None,
        };
        let cluster = pg.cluster_dir();
        pg.run(
            "initdb",
            &[
                "-D",
                cluster.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
        );
        let mut extra = String::new();
        if tls {
            let (crt, key) = (pg.data.join("server.crt"), pg.data.join("server.key"));
            let out = Command::new("openssl")
                .args([
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                ])
                .args(["-subj", "/CN=127.0.0.1", "-keyout"])
                .arg(&key)
                .arg("-out")
                .arg(&crt)
                .output()
                .unwrap_or_else(|e| panic!("cannot run openssl: {e}; {INSTALL}"));
            assert!(
                out.status.success(),
                "openssl: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
            if let Some((uid, gid)) = pg.run_as {
                chown(&key, uid, gid);
                chown(&crt, uid, gid);
            }
            extra = format!(
                " -c ssl=on -c ssl_cert_file='{}' -c ssl_key_file='{}'",
                crt.display(),
                key.display()
            );
        }
        // A free port can be taken by someone else between our look and the server's
        // bind: try a few.
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            pg.addr.set_port(port);
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' \
                 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
                 -c max_connections=200{extra}"
            );
            let log = pg.data.join("server.log");
            let status = pg
                .command("pg_ctl")
                .args(["-D", cluster.to_str().unwrap(), "-o", &options, "-l"])
                .arg(&log)
                .args(["-w", "-t", &START_DEADLINE.as_secs().to_string(), "start"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap_or_else(|e| panic!("cannot run pg_ctl: {e}; {INSTALL}"));
            if status.success() && pg.answers() {
                pg.watch();
                return pg;
            }
            last = std::fs::read_to_string(&log).unwrap_or_default();
            pg.stop();
        }
        panic!("PostgreSQL did not start\n--- server log ---\n{last}");
    }

    /// One server for the whole test process, started on first use; tests make
    /// databases of their own on it ([`Postgres::create_database`]). It is never
    /// dropped: its watcher stops it when the test process exits.
    pub fn shared() -> &'static Postgres {
        static SHARED: std::sync::OnceLock<Postgres> = std::sync::OnceLock::new();
        SHARED.get_or_init(Postgres::start)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A connection URL for `database` as user `postgres`.
    pub fn url(&self, database: &str) -> String {
        format!("postgresql://postgres@{}/{database}", self.addr)
    }

    /// Creates a new database, named `<prefix>_<n>` (unique in this process), whose
    /// collation is ICU's `en-US` (not byte order, as on most servers people run), and
    /// returns its URL.
    ///
    /// # Panics
    /// When `createdb` fails.
    pub fn create_database(&self, prefix: &str) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("{prefix}_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let port = self.port().to_string();
        self.run(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-T",
                "template0",
                "-E",
                "UTF8",
                "--locale-provider=icu",
                "--icu-locale=en-US",
                "--locale=C.UTF-8",
                &name,
            ],
        );
        self.url(&name)
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.join("server.log")).unwrap_or_default()
    }

    fn cluster_dir(&self) -> PathBuf {
        self.data.join("cluster")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match self.run_as {
            Some(_) => {
                let mut c = Command::new(runuser());
                c.args(["-u", "postgres", "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self
            .command(program)
            .args(args)
            .env("LC_ALL", "C.UTF-8")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}; {INSTALL}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn answers(&self) -> bool {
        let started = Instant::now();
        while started.elapsed() < START_DEADLINE {
            if TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// A shell that stops the server once this process is gone.
    fn watch(&mut self) {
        let stop = self.stop_command_line();
        let script = format!(
            "while kill -0 {} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{}'",
            std::process::id(),
            self.data.display()
        );
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        self.watcher = cmd.spawn().ok();
    }

    fn stop_command_line(&self) -> String {
        let pg_ctl = self.bin.join("pg_ctl");
        let prefix = match self.run_as {
            Some(_) => format!("{} -u postgres -- ", runuser().display()),
            None => String::new(),
        };
        format!(
            "{prefix}'{}' -D '{}' -m immediate -w stop",
            pg_ctl.display(),
            self.cluster_dir().display()
        )
    }

    fn stop(&self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", self.cluster_dir().to_str().unwrap()])
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
        if let Some(mut w) = self.watcher.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` with the server in it.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CENSUS_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            ["initdb", "pg_ctl", "postgres", "createdb"]
                .iter()
                .all(|p| bin.join(p).is_file())
                .then_some((version, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "no PostgreSQL server under /usr/lib/postgresql/*/bin (initdb, pg_ctl, postgres, createdb): {INSTALL}"
        ),
    }
}

fn runuser() -> PathBuf {
    ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("runuser"))
}

/// The `postgres` system user's uid and gid.
fn postgres_user() -> (u32, u32) {
    let name = std::ffi::CString::new("postgres").unwrap();
    // SAFETY: getpwnam returns a pointer to static storage or null; it is read at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        panic!("running as root, and there is no `postgres` system user to run the server as: {INSTALL}");
    }
    // SAFETY: not null, checked above.
    unsafe { ((*pw).pw_uid, (*pw).pw_gid) }
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_serves_and_stops() {
        let pg = Postgres::start();
        let url = pg.create_database("testkit");
        assert!(url.starts_with("postgresql://postgres@127.0.0.1:"), "{url}");
        assert!(TcpStream::connect(pg.addr()).is_ok());
        let addr = pg.addr();
        let dir = pg.data.to_path_buf();
        drop(pg);
        assert!(TcpStream::connect(addr).is_err(), "still listening");
        assert!(!dir.exists());
    }
}
