//! Load generator for `seqmodels serve` (scripts/bench/serve.sh): clients on keep-alive
//! HTTP/1.1 connections send one input per `POST /v1/translate`, as fast as answers come
//! (`--rate 0`) or at a steady total rate, with a share of malformed requests mixed in; it
//! prints one JSON line of figures: answers by status, 5xx among valid requests, malformed
//! requests not answered 4xx, throughput and latency percentiles of the valid ones.
//!
//! usage: serve_load ADDR INPUTS_FILE CLIENTS MAX_REQUESTS SECONDS [RATE=0] [BAD_SHARE=0]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Malformed requests, taken in turn: method, path, body.
const BAD: [(&str, &str, &str); 7] = [
    ("POST", "/v1/translate", "{\"inputs\": [\"1 May 2001\""),
    ("POST", "/v1/translate", "{\"inputs\": \"1 May 2001\"}"),
    (
        "POST",
        "/v1/translate",
        "{\"inputs\": [\"1 May 2001\"], \"beam\": 3}",
    ),
    (
        "POST",
        "/v1/translate",
        "{\"model\": \"nope\", \"inputs\": [\"1 May 2001\"]}",
    ),
    (
        "POST",
        "/v1/translate",
        "{\"inputs\": [\"1 May 2001\"], \"beam_width\": 1000}",
    ),
    ("GET", "/v1/translate", ""),
    ("POST", "/v1/nowhere", "{}"),
];

/// What one client saw: status counts, and latencies of valid requests in seconds.
#[derive(Default)]
struct Seen {
    status: BTreeMap<u16, usize>,
    valid_5xx: usize,
    bad_not_4xx: usize,
    latencies: Vec<f64>,
}

/// Sends one request on `conn` (reconnecting when needed); returns the status, or 0 when the
/// connection failed.
async fn send(conn: &mut Option<BufReader<TcpStream>>, addr: &str, req: &[u8]) -> u16 {
    for _ in 0..2 {
        if conn.is_none() {
            *conn = TcpStream::connect(addr).await.ok().map(BufReader::new);
        }
        let Some(c) = conn.as_mut() else { return 0 };
        if let Ok(status) = exchange(c, req).await {
            return status;
        }
        *conn = None;
    }
    0
}

async fn exchange(c: &mut BufReader<TcpStream>, req: &[u8]) -> std::io::Result<u16> {
    c.get_mut().write_all(req).await?;
    let (mut line, mut length, mut status) = (String::new(), 0usize, 0u16);
    loop {
        line.clear();
        if c.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end().to_ascii_lowercase();
        if status == 0 {
            status = l
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
        } else if let Some(v) = l.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        } else if l.is_empty() {
            break;
        }
    }
    let mut body = vec![0; length];
    c.read_exact(&mut body).await?;
    Ok(status)
}

fn request(method: &str, path: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: serve_load ADDR INPUTS_FILE CLIENTS MAX_REQUESTS SECONDS [RATE=0] [BAD_SHARE=0]");
        std::process::exit(2);
    }
    let arg = |i: usize, default: f64| args.get(i).map_or(default, |a| a.parse().expect(a));
    let addr = args[1].clone();
    let text = std::fs::read_to_string(&args[2]).expect("the inputs file");
    let inputs: Arc<Vec<String>> = Arc::new(text.lines().map(str::to_owned).collect());
    let (clients, max, seconds) = (arg(3, 1.0) as usize, arg(4, 0.0) as usize, arg(5, 0.0));
    let (rate, bad_share) = (arg(6, 0.0), arg(7, 0.0));
    let bad_every = if bad_share > 0.0 {
        (1.0 / bad_share).round() as usize
    } else {
        0
    };
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (addr, inputs, next) = (addr.clone(), inputs.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let (mut seen, mut conn) = (Seen::default(), None);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= max || Instant::now() >= deadline {
                    return seen;
                }
                if rate > 0.0 {
                    tokio::time::sleep_until(
                        (start + Duration::from_secs_f64(i as f64 / rate)).into(),
                    )
                    .await;
                }
                let bad = bad_every > 0 && i % bad_every == bad_every - 1;
                let req = if bad {
                    let (m, p, b) = BAD[(i / bad_every) % BAD.len()];
                    request(m, p, b)
                } else {
                    let input = serde_json::to_string(&inputs[i % inputs.len()]).unwrap();
                    request(
                        "POST",
                        "/v1/translate",
                        &format!("{{\"inputs\": [{input}]}}"),
                    )
                };
                let sent = Instant::now();
                let status = send(&mut conn, &addr, &req).await;
                *seen.status.entry(status).or_default() += 1;
                match bad {
                    true => seen.bad_not_4xx += usize::from(!(400..500).contains(&status)),
                    false if status == 200 => seen.latencies.push(sent.elapsed().as_secs_f64()),
                    false => seen.valid_5xx += usize::from(status >= 500 || status == 0),
                }
            }
        }));
    }
    let mut all = Seen::default();
    for t in tasks {
        let s = t.await.expect("a client task");
        s.status
            .into_iter()
            .for_each(|(k, v)| *all.status.entry(k).or_default() += v);
        all.valid_5xx += s.valid_5xx;
        all.bad_not_4xx += s.bad_not_4xx;
        all.latencies.extend(s.latencies);
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        let n = all.latencies.len();
        if n == 0 {
            f64::NAN
        } else {
            1000.0 * all.latencies[((p * n as f64) as usize).min(n - 1)]
        }
    };
    let status: BTreeMap<String, usize> = all
        .status
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "clients": clients, "seconds": elapsed, "answered_200": all.latencies.len(),
            "per_second": all.latencies.len() as f64 / elapsed, "p50_ms": pct(0.5), "p99_ms": pct(0.99),
            "status": status, "valid_5xx_or_failed": all.valid_5xx, "malformed_not_4xx": all.bad_not_4xx,
        })
    );
}
