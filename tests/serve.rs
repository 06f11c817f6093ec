//! `seqmodels serve` through the built binary on port 0: every endpoint against what the
//! command line answers, every error class, batch invariance under concurrency, and the
//! drain on SIGTERM. The models are the built-in dates model and tiny ones trained here.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A running server, killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    /// Starts `seqmodels serve --addr 127.0.0.1:0 ARGS` (split at spaces) and waits for its
    /// address line.
    fn start(args: &str) -> Server {
        let bin = std::env::var("SEQMODELS_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_seqmodels").to_owned());
        let mut child = Command::new(bin)
            .args(["--threads", "1", "serve", "--addr", "127.0.0.1:0"])
            .args(args.split_whitespace())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the seqmodels binary runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(addr) = line.trim().strip_prefix("listening on http://") else {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("the server did not start: {line}{err}");
        };
        Server {
            addr: addr.to_owned(),
            child,
        }
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.raw("POST", path, body.to_string().as_bytes())
    }

    fn get(&self, path: &str) -> (u16, String) {
        let (status, body) = http(&self.addr, "GET", path, b"");
        (status, String::from_utf8(body).unwrap())
    }

    /// Any request; the answer's body as JSON.
    fn raw(&self, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
        let (status, body) = http(&self.addr, method, path, body);
        let value = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}: {}", String::from_utf8_lossy(&body)));
        (status, value)
    }

    /// Sends SIGTERM and waits for the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        // SAFETY: kill(2) on the PID of a child this test started and has not reaped.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 exchange on a fresh connection: the status and the body.
fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before it has read the whole body, and close.
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {:?}", String::from_utf8_lossy(&answer)));
    let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut rest = answer[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        rest = dechunk(&rest);
    }
    (status, rest)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..eol]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 4 + size..];
    }
}

/// Runs `seqmodels LINE TAIL...`: LINE split at spaces, then each of TAIL whole (paths, texts).
fn run_cli(line: &str, tail: &[&str]) -> common::Run {
    let mut args: Vec<&str> = line.split_whitespace().collect();
    args.extend(tail);
    common::seqmodels(&args)
}

/// Dates, each a different day.
fn dates(n: usize) -> Vec<String> {
    let months = ["Jan", "March", "jul", "Sept.", "december", "Feb"];
    (0..n)
        .map(|i| {
            format!(
                "{} {} {}",
                1 + i % 28,
                months[i % months.len()],
                1950 + i % 70
            )
        })
        .collect()
}

#[test]
fn translate_answers_as_the_command_line_does() {
    let server = Server::start("");
    let inputs = ["Tue 10 Jul 2007", "3/4/2001", "good morning", ""];
    let (status, answer) = server.post("/v1/translate", &json!({"inputs": inputs}));
    assert_eq!(status, 200, "{answer}");
    let outputs = answer["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 4);
    let cli = run_cli("--threads 1 translate --format json", &inputs[..3]);
    for (output, line) in outputs.iter().zip(cli.stdout.lines()) {
        let expected: Value = serde_json::from_str(line).unwrap();
        let best = &expected["outputs"][0];
        match best["refused"].as_str() {
            None => assert_eq!(output["output"], best["text"], "{output}"),
            Some(class) => {
                assert_eq!(output["refused"], class, "{output}");
                assert!(output["error"].as_str().unwrap().starts_with("refused"));
                assert!(output.get("output").is_none());
            }
        }
        let score = output["score"].as_f64().unwrap();
        assert!(
            (score - best["score"].as_f64().unwrap()).abs() < 1e-5,
            "{output} {best}"
        );
    }
    assert_eq!(outputs[0]["output"], "2007-07-10");
    assert_eq!(outputs[2]["refused"], "declined", "{}", outputs[2]);
    assert!(
        outputs[3]["error"].is_string(),
        "an empty input: {}",
        outputs[3]
    );

    let (status, answer) = server.post(
        "/v1/translate",
        &json!({"model": "dates", "inputs": ["1 May 2001"], "beam_width": 4, "n_best": 3,
                "attention": true, "alpha": 1.0}),
    );
    assert_eq!(status, 200, "{answer}");
    let out = &answer["outputs"][0];
    assert_eq!(out["n_best"].as_array().unwrap().len(), 3);
    assert_eq!(out["n_best"][0]["output"], "2001-05-01");
    let attention = &out["attention"];
    assert_eq!(attention["output"].as_array().unwrap().len(), 10);
    assert_eq!(attention["weights"].as_array().unwrap().len(), 10);

    let (status, answer) = server.post(
        "/v1/translate",
        &json!({"inputs": ["05/03/2004"], "day_first": true, "beam_width": 1}),
    );
    assert_eq!(
        (status, &answer["outputs"][0]["output"]),
        (200, &json!("2004-03-05"))
    );
}

#[test]
fn concurrent_requests_are_batched_and_answered_as_alone() {
    // A long wait gathers the concurrent requests into batches, on two copies of the model
    // that take 8 inputs each at a time.
    let server = Server::start("--max-wait-ms 100 --max-batch 16 --replicas 2");
    let inputs = dates(48);
    let alone: Vec<Value> = inputs
        .iter()
        .take(6)
        .map(|i| server.post("/v1/translate", &json!({"inputs": [i]})).1)
        .collect();
    let together: Vec<(u16, Value)> = std::thread::scope(|s| {
        let server = &server;
        let handles: Vec<_> = inputs
            .iter()
            .map(|i| s.spawn(move || server.post("/v1/translate", &json!({"inputs": [i]}))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut args = vec!["--threads", "1", "translate", "--format", "json"];
    args.extend(inputs.iter().map(String::as_str));
    let reference = common::seqmodels(&args);
    let lines: Vec<&str> = reference.stdout.lines().collect();
    assert_eq!(lines.len(), inputs.len(), "{}", reference.stderr);
    for (i, (status, answer)) in together.iter().enumerate() {
        assert_eq!(*status, 200, "{answer}");
        let expected: Value = serde_json::from_str(lines[i]).unwrap();
        assert_eq!(
            answer["outputs"][0]["output"], expected["outputs"][0]["text"],
            "{}",
            inputs[i]
        );
        if i < alone.len() {
            assert_eq!(answer, &alone[i], "{}: batched and alone differ", inputs[i]);
        }
    }
    let (_, metrics) = server.get("/metrics");
    let count = |line: &str| -> f64 {
        let l = metrics
            .lines()
            .find(|l| l.starts_with(line))
            .unwrap_or_else(|| panic!("{line}\n{metrics}"));
        l.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let singles = count("seqmodels_batch_size_bucket{model=\"translator/dates\",le=\"1\"}");
    let calls = count("seqmodels_batch_size_count{model=\"translator/dates\"}");
    assert!(calls < 54.0 && singles < calls, "no batching:\n{metrics}");
    assert_eq!(
        count("seqmodels_model_inputs_total{model=\"translator/dates\"}"),
        54.0
    );
}

#[test]
fn bad_requests_get_4xx_that_name_the_fault_and_the_server_goes_on() {
    let server =
        Server::start("--max-body-bytes 2K --max-inputs 3 --max-input-bytes 40 --max-beam-width 8");
    let long = format!("{{\"inputs\": [\"{}\"]}}", "9".repeat(41));
    // (method, path, body, status, what the error says)
    #[rustfmt::skip]
    let cases: [(&str, &str, &[u8], u16, &str); 16] = [
        ("POST", "/v1/translate", b"{\"inputs\": [", 400, "invalid request"),
        ("POST", "/v1/translate", b"", 400, "invalid request"),
        ("POST", "/v1/translate", br#"{"inputs": "1 May 2001"}"#, 400, "inputs"),
        ("POST", "/v1/translate", br#"{"inputs": ["x"], "beam_width": "five"}"#, 400, "beam_width"),
        ("POST", "/v1/translate", br#"{"inputs": ["x"], "beam": 3}"#, 400, "unknown field `beam`"),
        ("POST", "/v1/translate", br#"{"model": "fr", "inputs": ["x"]}"#, 400,
            "unknown model \"fr\"; loaded translator models: dates"),
        ("POST", "/v1/classify", br#"{"inputs": ["x"]}"#, 400, "no classifier model is loaded"),
        ("POST", "/v1/translate", &[b' '; 3000], 413, "--max-body-bytes 2048"),
        ("POST", "/v1/translate", br#"{"inputs": ["a", "b", "c", "d"]}"#, 422,
            "4 inputs in one request, above the limit (--max-inputs 3)"),
        ("POST", "/v1/translate", long.as_bytes(), 422, "--max-input-bytes 40"),
        ("POST", "/v1/translate", br#"{"inputs": ["x"], "beam_width": 9}"#, 422, "--max-beam-width 8"),
        ("POST", "/v1/translate", br#"{"inputs": ["x"], "beam_width": 2, "n_best": 3}"#, 422,
            "invalid configuration"),
        ("POST", "/v1/translate", br#"{"inputs": ["x"], "min_confidence": 2}"#, 422, "minimum confidence"),
        ("GET", "/v1/translate", b"", 405, "takes POST"),
        ("POST", "/healthz", b"", 405, "takes GET"),
        ("GET", "/v2/everything", b"", 404, "no endpoint /v2/everything"),
    ];
    for (method, path, body, status, needle) in cases {
        let (got, answer) = server.raw(method, path, body);
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        assert_eq!(got, status, "{method} {path} {shown}: {answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(needle), "{shown}: {message}");
        if status == 413 || (status == 422 && needle.contains("max-")) {
            assert!(
                answer["limit"].as_str().unwrap().starts_with("max-"),
                "{answer}"
            );
        }
    }
    let (status, answer) = server.post("/v1/translate", &json!({"inputs": ["1 May 2001"]}));
    assert_eq!(
        (status, &answer["outputs"][0]["output"]),
        (200, &json!("2001-05-01"))
    );
    let (_, metrics) = server.get("/metrics");
    assert!(
        metrics.contains(
            "seqmodels_request_errors_total{endpoint=\"/v1/translate\",status=\"422\"} 5"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("seqmodels_requests_total{endpoint=\"other\",status=\"404\"} 1"),
        "{metrics}"
    );
}

#[test]
fn a_request_that_waits_past_the_timeout_gets_503() {
    let server = Server::start("--max-wait-ms 3000 --timeout 0.2s");
    let start = Instant::now();
    let (status, answer) = server.post("/v1/translate", &json!({"inputs": ["1 May 2001"]}));
    assert_eq!(status, 503, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("--timeout"),
        "{answer}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.get("/healthz").0, 200);
}

#[test]
fn sigterm_answers_the_requests_in_flight_then_exits_0() {
    let server = Server::start("--max-wait-ms 1500");
    let addr = server.addr.clone();
    let in_flight = std::thread::spawn(move || {
        http(
            &addr,
            "POST",
            "/v1/translate",
            json!({"inputs": ["1 May 2001"]}).to_string().as_bytes(),
        )
    });
    // The request is now waiting in the batcher.
    std::thread::sleep(Duration::from_millis(500));
    let addr = server.addr.clone();
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    let (code, body) = in_flight.join().unwrap();
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (code, &answer["outputs"][0]["output"]),
        (200, &json!("2001-05-01"))
    );
    assert!(
        TcpStream::connect(&addr).is_err(),
        "still listening after the drain"
    );
}

#[test]
fn models_health_and_metrics() {
    let server = Server::start("--translator dates");
    let (status, health) = server.get("/healthz");
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&health).unwrap()["status"],
        "ok"
    );
    let (_, models) = server.get("/v1/models");
    let models: Value = serde_json::from_str(&models).unwrap();
    let dates = &models["models"][0];
    assert_eq!(
        (&dates["name"], &dates["kind"], &dates["source"]),
        (&json!("dates"), &json!("translator"), &json!("built-in"))
    );
    assert_eq!(dates["config"]["task"], "dates");
    server.post(
        "/v1/translate",
        &json!({"inputs": ["1 May 2001", "2 May 2001"]}),
    );
    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200);
    for name in [
        "# TYPE seqmodels_requests_total counter",
        "seqmodels_requests_total{endpoint=\"/v1/translate\",status=\"200\"} 1",
        "seqmodels_requests_total{endpoint=\"/healthz\",status=\"200\"} 1",
        "seqmodels_request_duration_seconds_bucket{endpoint=\"/v1/translate\",le=\"+Inf\"} 1",
        "seqmodels_batch_size_bucket{model=\"translator/dates\",le=\"2\"} 1",
        "seqmodels_queue_depth{model=\"translator/dates\"} 0",
        "seqmodels_requests_in_flight 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == name),
            "{name} missing:\n{metrics}"
        );
    }
}

#[test]
fn start_up_refuses_a_remote_address_a_bad_spec_and_a_missing_model() {
    common::fails(&["serve", "--addr", "0.0.0.0:0"], "--allow-remote");
    common::fails(&["serve", "--classifier", "emo"], "expected NAME=PATH");
    common::fails(
        &["serve", "--charlm", "n=/nonexistent/model"],
        "/nonexistent/model",
    );
    common::fails(
        &["serve", "--translator", "dates", "--translator", "dates"],
        "two translator models are named \"dates\"",
    );
}

/// A classifier, a character model and word vectors, made once for the tests below.
fn tiny_models() -> &'static (tempfile::TempDir, [String; 3]) {
    static MODELS: OnceLock<(tempfile::TempDir, [String; 3])> = OnceLock::new();
    MODELS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
        let (emo, names, vectors) = (path("emo"), path("names"), path("vectors.txt"));
        let train = concat!(env!("CARGO_MANIFEST_DIR"), "/corpora/emoji/train.csv");
        let run = run_cli("-q --threads 1 classify train --label-names emojify --epochs 2 --hidden 8 --embed-dim 16 --seed 3 --device cpu", &["--train", train, "--out", &emo]);
        assert!(run.ok, "{}", run.stderr);
        let words: Vec<String> = ["mar", "lin", "tor"]
            .iter()
            .flat_map(|s| ["a", "o", "ina"].iter().map(move |e| format!("{s}{e}")))
            .collect();
        std::fs::write(path("names.txt"), words.join("\n") + "\n").unwrap();
        let run = run_cli("-q --threads 1 charlm train --hidden 8 --embed 4 --epochs 2 --valid-count 2 --seed 3 --device cpu", &["--data", &path("names.txt"), "--out", &names]);
        assert!(run.ok, "{}", run.stderr);
        std::fs::write(
            &vectors,
            "5 3\nking 1 0.1 0\nqueen 0.9 0.2 0.1\nman 0.1 1 0\nwoman 0 0.9 0.2\napple 0 0 1\n",
        )
        .unwrap();
        (dir, [emo, names, vectors])
    })
}

#[test]
fn classify_embeddings_and_charlm_answer_as_their_commands() {
    let (_, [emo, names, vectors]) = tiny_models();
    let server = Server::start(&format!(
        "--classifier emo={emo} --charlm names={names} --vectors w={vectors}"
    ));
    let (_, models) = server.get("/v1/models");
    let kinds: Vec<String> = serde_json::from_str::<Value>(&models).unwrap()["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["classifier", "vectors", "charlm"]);
    assert_eq!(
        server.post("/v1/translate", &json!({"inputs": ["x"]})).0,
        400,
        "no translator"
    );

    let texts = ["I love you", "lets play ball", "   "];
    let (status, answer) = server.post("/v1/classify", &json!({"inputs": texts, "top_k": 2}));
    assert_eq!(status, 200, "{answer}");
    let cli = run_cli(
        "--threads 1 classify predict --format json -k 2 --model",
        &[&emo[..], texts[0], texts[1], texts[2]],
    );
    for (out, line) in answer["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .zip(cli.stdout.lines())
    {
        let expected: Value = serde_json::from_str(line).unwrap();
        assert_eq!(
            out["labels"].as_array().unwrap().len(),
            expected["labels"].as_array().unwrap().len()
        );
        for (got, want) in out["labels"]
            .as_array()
            .unwrap()
            .iter()
            .zip(expected["labels"].as_array().unwrap())
        {
            assert_eq!(
                (&got["label"], &got["class"]),
                (&want["label"], &want["class"])
            );
            assert!(
                (got["probability"].as_f64().unwrap() - want["probability"].as_f64().unwrap())
                    .abs()
                    < 1e-5
            );
        }
    }
    assert_eq!(
        server
            .post("/v1/classify", &json!({"inputs": ["x"], "top_k": 0}))
            .0,
        422
    );

    let (status, answer) = server.post(
        "/v1/charlm/sample",
        &json!({"count": 4, "seed": 5, "temperature": 0.9}),
    );
    assert_eq!(status, 200, "{answer}");
    let cli = run_cli(
        "--threads 1 charlm sample -n 4 --seed 5 --temperature 0.9 --format json -m",
        &[names],
    );
    let expected: Vec<Value> = cli
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answer["samples"].as_array().unwrap(), &expected);
    let (status, answer) = server.post("/v1/charlm/sample", &json!({"temperature": -1}));
    assert_eq!(status, 422, "{answer}");

    let (status, answer) = server.post(
        "/v1/embeddings/similar",
        &json!({"positive": ["king"], "k": 2}),
    );
    assert_eq!(status, 200, "{answer}");
    let cli = run_cli("embed similar -k 2 --format json king -v", &[vectors]);
    assert_eq!(
        answer,
        serde_json::from_str::<Value>(cli.stdout.trim()).unwrap()
    );
    let (_, answer) = server.post(
        "/v1/embeddings/similarity",
        &json!({"words": ["king", "queen"]}),
    );
    let cli = run_cli("embed similarity --format json king queen -v", &[vectors]);
    assert_eq!(
        answer,
        serde_json::from_str::<Value>(cli.stdout.trim()).unwrap()
    );
    let (_, answer) = server.post(
        "/v1/embeddings/analogy",
        &json!({"words": ["man", "king", "woman"], "k": 1}),
    );
    assert_eq!(answer["neighbours"][0]["word"], "queen", "{answer}");
    let (_, answer) = server.post("/v1/embeddings/vector", &json!({"words": ["apple"]}));
    assert_eq!(answer["vectors"][0]["vector"], json!([0.0, 0.0, 1.0]));
    let (status, answer) = server.post("/v1/embeddings/similar", &json!({"positive": ["Kings"]}));
    assert_eq!(status, 422);
    assert_eq!(answer["error"], "unknown word: Kings (did you mean king?)");
    let (status, _) = server.post("/v1/embeddings/similarity", &json!({"words": ["king"]}));
    assert_eq!(status, 422);
    let (status, answer) = server.post(
        "/v1/embeddings/analogy",
        &json!({"words": ["a", "b", "c"], "method": "cosdiv"}),
    );
    assert_eq!(status, 422, "{answer}");
}
