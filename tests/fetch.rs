//! `neurotwin fetch hay` against a small HTTP/1.1 server on 127.0.0.1 (test code only): the real
//! cell served from `../shared`, a corrupted copy, an error status, a server that stalls, one that
//! never answers, an oversized answer, a closed port (offline). No case may leave a file behind.

use neurotwin::fetch::{fetch, sha256_hex, FetchError, FetchOptions, Fetched, HAY_CELL_SHA256};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CELL1: &str = "../shared/morphologies/cell1.asc";

/// What the test server does with each connection.
#[derive(Clone)]
enum Behaviour {
    /// 200 with this body (and a Content-Length).
    Serve(Vec<u8>),
    /// This status line code with a short body.
    Status(u16),
    /// Headers announcing `len` bytes, the first `sent` of them, then silence for `stall`.
    Stall { len: usize, sent: usize, stall: Duration },
    /// Read the request, then say nothing for `stall`.
    Silent { stall: Duration },
    /// A 200 without Content-Length streaming `len` bytes, then closing.
    Unsized { len: usize },
    /// Headers announcing `len` bytes, then one byte every `every` (never a per-read timeout).
    Trickle { len: usize, every: Duration },
}

/// Read one request's headers (up to the blank line).
fn read_request(stream: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") && seen.len() < 64 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => seen.push(byte[0]),
            _ => return,
        }
    }
}

/// Start a server for at most `connections` connections; returns its base URL.
fn serve(behaviour: Behaviour, connections: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            read_request(&mut s);
            let _ = match &behaviour {
                Behaviour::Serve(body) => s
                    .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes())
                    .and_then(|_| s.write_all(body)),
                Behaviour::Status(code) => {
                    s.write_all(format!("HTTP/1.1 {code} Nope\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope").as_bytes())
                }
                Behaviour::Stall { len, sent, stall } => s
                    .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n").as_bytes())
                    .and_then(|_| s.write_all(&vec![b'x'; *sent]))
                    .and_then(|_| s.flush())
                    .map(|_| std::thread::sleep(*stall)),
                Behaviour::Silent { stall } => {
                    std::thread::sleep(*stall);
                    Ok(())
                }
                Behaviour::Trickle { len, every } => {
                    let mut r = s.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n").as_bytes());
                    for _ in 0..*len {
                        if r.is_err() {
                            break;
                        }
                        std::thread::sleep(*every);
                        r = s.write_all(b"x").and_then(|_| s.flush());
                    }
                    r
                }
                Behaviour::Unsized { len } => s
                    .write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                    .and_then(|_| s.write_all(&vec![b'y'; *len])),
            };
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn options(url: String, sha256: String, out: PathBuf) -> FetchOptions {
    let mut o = FetchOptions::hay_cell(out);
    o.url = url;
    o.sha256 = sha256;
    o.connect_timeout = Duration::from_secs(5);
    o.read_timeout = Duration::from_millis(700);
    o
}

/// The folder holds nothing (no partial file, no temporary file).
fn assert_empty(dir: &Path) {
    let names: Vec<_> = std::fs::read_dir(dir).expect("read dir").map(|e| e.expect("entry").file_name()).collect();
    assert!(names.is_empty(), "left behind: {names:?}");
}

#[test]
fn the_shared_cell1_has_the_published_checksum() {
    let bytes = std::fs::read(CELL1).expect("../shared/morphologies/cell1.asc (the reference data folder beside the project)");
    assert_eq!(sha256_hex(&bytes), HAY_CELL_SHA256);
}

#[test]
fn downloads_verifies_and_writes_the_cell_then_says_it_is_already_there() {
    let body = std::fs::read(CELL1).expect("../shared/morphologies/cell1.asc");
    let base = serve(Behaviour::Serve(body.clone()), 1);
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("morphologies").join("cell1.asc"); // the folder is created
    let mut seen = Vec::new();
    let opts = options(format!("{base}/cell1.asc"), HAY_CELL_SHA256.into(), out.clone());
    let got = fetch(&opts, &mut |p| seen.push(p)).expect("download");
    assert_eq!(got, Fetched::Written { path: out.clone(), bytes: body.len() as u64 });
    assert_eq!(std::fs::read(&out).expect("written"), body);
    let last = seen.last().expect("progress reported");
    assert_eq!((last.received_bytes, last.total_bytes), (body.len() as u64, Some(body.len() as u64)));
    assert!(seen.windows(2).all(|w| w[0].received_bytes <= w[1].received_bytes));
    assert_eq!(std::fs::read_dir(out.parent().expect("folder")).expect("dir").count(), 1, "no temporary file left");
    // the server took one connection only: a second fetch must not need it
    assert_eq!(fetch(&opts, &mut |_| {}).expect("already there"), Fetched::AlreadyPresent { path: out.clone() });
    // and the file parses as the Hay cell
    let morph = neurotwin::morphology::load_hay2011(&out).expect("parses");
    assert_eq!(morph.sections.len(), 196);
}

#[test]
fn a_corrupted_copy_is_refused_and_nothing_is_written() {
    let mut body = std::fs::read(CELL1).expect("../shared/morphologies/cell1.asc");
    let mid = body.len() / 2;
    body[mid] ^= 0x01;
    let base = serve(Behaviour::Serve(body.clone()), 1);
    let dir = tempfile::tempdir().expect("tmp");
    let e = fetch(&options(format!("{base}/cell1.asc"), HAY_CELL_SHA256.into(), dir.path().join("cell1.asc")), &mut |_| {}).unwrap_err();
    assert!(matches!(&e, FetchError::Checksum { actual, .. } if *actual == sha256_hex(&body)), "{e}");
    let text = e.to_string();
    assert!(text.contains("checksum mismatch") && text.contains(HAY_CELL_SHA256) && text.contains("/cell1.asc"), "{text}");
    assert_empty(dir.path());
}

#[test]
fn an_existing_different_file_is_replaced_only_when_asked() {
    let body = b"the right content\n".to_vec();
    let base = serve(Behaviour::Serve(body.clone()), 1);
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("cell1.asc");
    std::fs::write(&out, "someone's own file").expect("write");
    let mut opts = options(format!("{base}/f"), sha256_hex(&body), out.clone());
    assert!(matches!(fetch(&opts, &mut |_| {}), Err(FetchError::ExistsDifferent { .. })));
    assert_eq!(std::fs::read_to_string(&out).expect("kept"), "someone's own file");
    opts.overwrite = true;
    assert!(matches!(fetch(&opts, &mut |_| {}), Ok(Fetched::Written { .. })));
    assert_eq!(std::fs::read(&out).expect("replaced"), body);
}

#[test]
fn an_http_error_status_is_named() {
    let base = serve(Behaviour::Status(404), 1);
    let dir = tempfile::tempdir().expect("tmp");
    let e = fetch(&options(format!("{base}/missing.asc"), HAY_CELL_SHA256.into(), dir.path().join("c.asc")), &mut |_| {}).unwrap_err();
    assert!(matches!(e, FetchError::Status { status: 404, .. }), "{e}");
    assert!(e.to_string().contains("HTTP 404") && e.to_string().contains("/missing.asc"), "{e}");
    assert_empty(dir.path());
}

#[test]
fn a_server_that_stalls_mid_body_times_out_and_leaves_nothing() {
    let base = serve(Behaviour::Stall { len: 10_000, sent: 1_000, stall: Duration::from_secs(8) }, 1);
    let dir = tempfile::tempdir().expect("tmp");
    let t = Instant::now();
    let e = fetch(&options(format!("{base}/slow"), HAY_CELL_SHA256.into(), dir.path().join("c.asc")), &mut |_| {}).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5), "gave up only after {:?}", t.elapsed());
    assert!(matches!(e, FetchError::Timeout { .. }), "{e}");
    assert!(e.to_string().contains("timed out after 0.7 s"), "{e}");
    assert_empty(dir.path());
}

#[test]
fn a_server_that_never_answers_times_out() {
    let base = serve(Behaviour::Silent { stall: Duration::from_secs(8) }, 1);
    let dir = tempfile::tempdir().expect("tmp");
    let t = Instant::now();
    let e = fetch(&options(format!("{base}/silent"), HAY_CELL_SHA256.into(), dir.path().join("c.asc")), &mut |_| {}).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5), "gave up only after {:?}", t.elapsed());
    assert!(matches!(e, FetchError::Timeout { .. }), "{e}");
    assert_empty(dir.path());
}

#[test]
fn answers_over_the_size_limit_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    // announced too large
    let base = serve(Behaviour::Serve(vec![b'z'; 5000]), 1);
    let mut opts = options(format!("{base}/big"), HAY_CELL_SHA256.into(), dir.path().join("c.asc"));
    opts.max_bytes = 4096;
    assert!(matches!(fetch(&opts, &mut |_| {}), Err(FetchError::TooLarge { limit_bytes: 4096, .. })));
    // no length announced: refused once the limit is passed
    let base = serve(Behaviour::Unsized { len: 200_000 }, 1);
    opts.url = format!("{base}/endless");
    let e = fetch(&opts, &mut |_| {}).unwrap_err();
    assert!(matches!(e, FetchError::TooLarge { .. }), "{e}");
    assert_empty(dir.path());
}

#[test]
fn a_closed_port_reads_as_offline() {
    // a port that was free a moment ago: nothing listens there now
    let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("tmp");
    let e = fetch(&options(format!("http://127.0.0.1:{port}/cell1.asc"), HAY_CELL_SHA256.into(), dir.path().join("c.asc")), &mut |_| {})
        .unwrap_err();
    assert!(matches!(e, FetchError::Connect { .. }), "{e:?}");
    assert!(e.to_string().contains("offline"), "{e}");
    assert_empty(dir.path());
}

#[test]
fn the_command_line_downloads_and_reports_a_mismatch() {
    let body = std::fs::read(CELL1).expect("../shared/morphologies/cell1.asc");
    let mut bad = body.clone();
    bad.truncate(body.len() - 10);
    let good = serve(Behaviour::Serve(body.clone()), 2);
    let corrupt = serve(Behaviour::Serve(bad), 1);
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("cell1.asc");
    let run = |url: String| {
        std::process::Command::new(env!("CARGO_BIN_EXE_neurotwin"))
            .args(["fetch", "hay", "--url", &url, "--out"])
            .arg(&out)
            .args(["--read-timeout-s", "5"])
            .output()
            .expect("run neurotwin")
    };
    let o = run(format!("{corrupt}/cell1.asc"));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && stderr.contains("checksum mismatch") && stderr.contains(HAY_CELL_SHA256), "{stderr}");
    assert_empty(dir.path());
    let o = run(format!("{good}/cell1.asc"));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && stdout.contains("wrote") && stdout.contains("verified"), "{stdout}{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&out).expect("written"), body);
    let o = run(format!("{good}/cell1.asc"));
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("already the Hay cell"));
}

#[test]
fn a_trickling_server_fails_at_the_overall_deadline() {
    // one byte every 100 ms never trips the 700-ms per-read timeout; the deadline ends it
    let base = serve(Behaviour::Trickle { len: 1000, every: Duration::from_millis(100) }, 1);
    let dir = tempfile::tempdir().expect("tmp");
    let mut o = options(format!("{base}/cell1.asc"), HAY_CELL_SHA256.into(), dir.path().join("cell1.asc"));
    o.deadline = Duration::from_millis(1500);
    let t = Instant::now();
    let e = fetch(&o, &mut |_| {}).expect_err("deadline");
    assert!(t.elapsed() < Duration::from_secs(4), "took {:?}", t.elapsed());
    assert!(matches!(e, FetchError::Timeout { .. }) && e.to_string().contains("overall deadline") && e.to_string().contains("1.5 s"), "{e}");
    assert_empty(dir.path());
}
