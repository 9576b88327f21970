//! A `moto_server` process on a free loopback port.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::python::command;
use crate::AwsEndpoint;

/// How long moto may take to start and answer (it imports every backend; under a
/// parallel test run on two cores that takes a few seconds).
const START_DEADLINE: Duration = Duration::from_secs(90);

/// How much of moto's standard error is kept for failure messages.
const STDERR_TAIL: usize = 64 * 1024;

/// A running moto server on `127.0.0.1`, with its own empty state.
///
/// Started by `python/moto_server.py`, which binds port 0 and reports the port the OS
/// chose, so two tests never race for a port. The server runs in its own process
/// group; dropping the `Moto` kills that group. It also exits by itself when the test
/// process dies, because it watches its standard input.
///
/// Each test should start its own `Moto` (or call [`Moto::reset`]): the state of one
/// server is shared by everything that talks to it.
pub struct Moto {
    child: Child,
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
    stderr: Arc<Mutex<Vec<u8>>>,
    stderr_drain: Option<JoinHandle<()>>,
}

impl Moto {
    /// Starts moto and waits until `GET /moto-api/` answers.
    ///
    /// # Panics
    /// If Python is missing (the message says to run `scripts/setup-python.sh`), or moto
    /// does not start and answer within the deadline (the message holds moto's stderr).
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }

    /// Like [`Moto::start`], with extra environment variables for moto, such as
    /// `("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")` (about 70 ms less per account and
    /// region on the first EC2 call, and no public AMIs in DescribeImages).
    pub fn start_with(env: &[(&str, &str)]) -> Moto {
        let started = Instant::now();
        let mut cmd = command(None, "moto_server.py");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.arg("127.0.0.1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("could not start moto_server.py: {e}"));
        let stdin = child.stdin.take();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let stderr_drain = drain_into(child.stderr.take().expect("piped stderr"), stderr.clone());

        // The first stdout line is {"port": N}; the reader thread then keeps draining
        // stdout so that moto never blocks on a full pipe.
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut moto = Moto {
            child,
            stdin,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            stderr,
            stderr_drain: Some(stderr_drain),
        };
        let line = match rx.recv_timeout(START_DEADLINE) {
            Ok(line) => line,
            Err(_) => moto.fail(&format!("gave no port within {START_DEADLINE:?}")),
        };
        let port = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["port"].as_u64())
            .and_then(|p| u16::try_from(p).ok());
        match port {
            Some(port) => moto.addr.set_port(port),
            None if line.is_empty() => moto.fail("exited before it printed its port"),
            None => moto.fail(&format!("printed {line:?} instead of its port")),
        }

        // Bound before it printed the port, so this normally succeeds at once; the
        // poll covers a server that is bound but still setting up.
        loop {
            match http(moto.addr, "GET", "/moto-api/", b"") {
                Ok((200, _)) => break,
                Ok((status, _)) if started.elapsed() > START_DEADLINE => {
                    moto.fail(&format!("answers GET /moto-api/ with {status}"))
                }
                Err(e) if started.elapsed() > START_DEADLINE => {
                    moto.fail(&format!("does not answer GET /moto-api/: {e}"))
                }
                _ => {}
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                moto.fail(&format!("exited with {status}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        moto
    }

    /// One moto for the whole test process, started on first use.
    ///
    /// Its state is shared by every test of the binary that uses it, and tests run in
    /// parallel: use it only where that cannot matter (names unique to the test, reads
    /// of moto's fixed data, traffic that a [`crate::FaultProxy`] answers itself), and
    /// never [`Moto::reset`] it. It is never dropped; it exits with the test process
    /// because it watches its standard input.
    pub fn shared() -> &'static Moto {
        static SHARED: std::sync::OnceLock<Moto> = std::sync::OnceLock::new();
        SHARED.get_or_init(Moto::start)
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address moto listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's process id (also its process group's).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The port moto listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Forgets every resource, account and organization (`POST /moto-api/reset`).
    ///
    /// # Panics
    /// If moto does not answer 200.
    pub fn reset(&self) {
        match http(self.addr, "POST", "/moto-api/reset", b"") {
            Ok((200, _)) => {}
            Ok((status, body)) => panic!(
                "moto reset answered {status}: {}",
                String::from_utf8_lossy(&body)
            ),
            Err(e) => panic!("moto reset failed: {e}\n{}", self.stderr_tail()),
        }
    }

    /// The last part of what moto wrote on standard error (werkzeug logs one line
    /// per request there).
    pub fn stderr_tail(&self) -> String {
        let buf = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Runs `python/<script>` with boto3 pointed at this moto; see [`crate::python`].
    pub fn python(&self, script: &str, args: &[&str], env: &[(&str, &str)]) -> Value {
        crate::python(self, script, args, env)
    }

    fn fail(&mut self, what: &str) -> ! {
        self.kill();
        // The whole process group is dead, so the stderr pipe is closed and the drain
        // ends once it has read the last lines.
        if let Some(drain) = self.stderr_drain.take() {
            let _ = drain.join();
        }
        panic!(
            "moto_server {what}\n--- moto stderr ---\n{}",
            self.stderr_tail()
        );
    }

    fn kill(&mut self) {
        drop(self.stdin.take());
        // The child is the leader of its own process group (process_group(0)).
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) with a negative pid signals that process group; it
            // touches no memory of ours.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.kill();
    }
}

impl AwsEndpoint for Moto {
    fn endpoint_url(&self) -> String {
        self.endpoint()
    }
}

impl std::fmt::Debug for Moto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Moto")
            .field("endpoint", &self.endpoint())
            .field("pid", &self.child.id())
            .finish()
    }
}

/// Copies a pipe into a buffer that keeps only the last [`STDERR_TAIL`] bytes.
fn drain_into(mut pipe: impl Read + Send + 'static, buf: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            let mut buf = buf.lock().unwrap_or_else(|e| e.into_inner());
            buf.extend_from_slice(&chunk[..n]);
            if buf.len() > STDERR_TAIL {
                let cut = buf.len() - STDERR_TAIL;
                buf.drain(..cut);
            }
        }
    })
}

/// A minimal blocking HTTP/1.1 exchange for moto's own API (one request per
/// connection). Returns the status and the raw body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let timeout = Duration::from_secs(10);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("incomplete HTTP response"))?;
    let status = std::str::from_utf8(&response[..head_end])
        .ok()
        .and_then(|head| head.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad HTTP status line"))?;
    Ok((status, response[head_end + 4..].to_vec()))
}
