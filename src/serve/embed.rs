//! `POST /v1/embeddings/{similar,similarity,analogy,vector}`: the `seqmodels embed` queries,
//! one per request, answered as the command's `--format json` answers them.
//!
//! - `similar`: `{"positive": ["king"], "negative": [], "k": 10}` answers `{"positive": ...,
//!   "negative": ..., "neighbours": [{"word": "queen", "score": 0.71}, ...]}`;
//! - `similarity`: `{"words": ["king", "queen"]}` answers `{"words": ..., "similarity": 0.65}`;
//! - `analogy`: `{"words": ["man", "king", "woman"], "k": 5, "method": "cosadd"}` answers
//!   `{"question": ..., "method": "cosadd", "neighbours": [...]}`;
//! - `vector`: `{"words": ["king"]}` answers `{"vectors": [{"word": "king", "vector": [...]}]}`.
//!
//! Every answer lists in `from_ngrams` the words outside the vocabulary that subword vectors
//! answered from their character n-grams. An unknown word is a 422 that names it with the
//! nearest spelling the vocabulary has. Queries are not batched: each is one pass over the
//! vectors, run on the model's worker as it comes.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::limits::{ApiError, ApiJson, Limits};
use super::registry::{self, Load, ModelKind, ModelSource};
use super::routes::AppState;
use super::worker;
use crate::embeddings::query::{AnalogyMethod, Neighbour};
use crate::embeddings::{formats, Embeddings};
use crate::Error;

/// `similar`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SimilarRequest {
    #[serde(default)]
    model: Option<String>,
    positive: Vec<String>,
    #[serde(default)]
    negative: Vec<String>,
    #[serde(default = "ten")]
    k: usize,
}

/// `similarity`'s and `vector`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WordsRequest {
    #[serde(default)]
    model: Option<String>,
    words: Vec<String>,
}

/// `analogy`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnalogyRequest {
    #[serde(default)]
    model: Option<String>,
    words: Vec<String>,
    #[serde(default = "five")]
    k: usize,
    /// `cosadd` or `cosmul`.
    #[serde(default = "cosadd")]
    method: String,
}

/// `seqmodels embed`'s defaults.
fn ten() -> usize {
    10
}
fn five() -> usize {
    5
}
fn cosadd() -> String {
    AnalogyMethod::CosAdd.to_string()
}

/// One query, for the worker.
pub(crate) enum Query {
    Similar {
        positive: Vec<String>,
        negative: Vec<String>,
        k: usize,
    },
    Similarity([String; 2]),
    Analogy {
        words: [String; 3],
        k: usize,
        method: AnalogyMethod,
    },
    Vector(Vec<String>),
}

/// Word vectors on their worker.
pub(crate) struct VectorsEngine {
    emb: Embeddings,
}

impl Load for VectorsEngine {
    fn load(source: &ModelSource, _: tch::Device) -> crate::Result<(Self, Value)> {
        let emb = formats::read(source.path_of("word vectors")?, None, None)?;
        let config = json!({
            "words": emb.len(),
            "dim": emb.dim(),
            "subwords": emb.subwords().is_some(),
        });
        Ok((VectorsEngine { emb }, config))
    }
}

impl worker::Engine for VectorsEngine {
    type Request = Query;
    type Answer = Value;
    const BATCHES: bool = false;

    fn size(_: &Query) -> usize {
        1
    }

    fn compatible(_: &Query, _: &Query) -> bool {
        false
    }

    fn run(&self, queries: &[Query], _: usize) -> Vec<Result<Value, ApiError>> {
        queries
            .iter()
            .map(|q| {
                self.answer(q).map_err(|err| match err {
                    Error::UnknownWords { words } => {
                        ApiError::unprocessable(self.emb.unknown_words_message(&words))
                    }
                    other => ApiError::from(other),
                })
            })
            .collect()
    }
}

impl VectorsEngine {
    fn answer(&self, query: &Query) -> crate::Result<Value> {
        let emb = &self.emb;
        let (mut value, asked) = match query {
            Query::Similar {
                positive,
                negative,
                k,
            } => {
                let (p, n) = (strs(positive), strs(negative));
                let found = emb.most_similar(&p, &n, *k, None)?;
                let value = json!({"positive": p, "negative": n, "neighbours": neighbours(&found)});
                (value, [p, n].concat())
            }
            Query::Similarity([a, b]) => {
                let s = emb.similarity(a, b)?;
                (
                    json!({"words": [a, b], "similarity": s}),
                    vec![&a[..], &b[..]],
                )
            }
            Query::Analogy { words, k, method } => {
                let w = strs(words);
                let found = emb.analogy([w[0], w[1], w[2]], *k, *method, None)?;
                let value = json!({"question": w, "method": method.to_string(), "neighbours": neighbours(&found)});
                (value, w)
            }
            Query::Vector(words) => {
                let w = strs(words);
                let vectors: Vec<Value> = w
                    .iter()
                    .zip(emb.get_vectors(&w)?)
                    .map(|(x, v)| json!({"word": x, "vector": v}))
                    .collect();
                (json!({ "vectors": vectors }), w)
            }
        };
        let from_ngrams: Vec<&str> = asked.into_iter().filter(|w| emb.id(w).is_none()).collect();
        value["from_ngrams"] = json!(from_ngrams);
        Ok(value)
    }
}

fn strs(words: &[String]) -> Vec<&str> {
    words.iter().map(String::as_str).collect()
}

fn neighbours(list: &[Neighbour]) -> Value {
    list.iter()
        .map(|n| json!({"word": n.word, "score": n.score}))
        .collect()
}

/// Asks `query` of the vectors `model` names, after the limits on its words.
async fn ask(
    app: &AppState,
    model: Option<&str>,
    words: &[&[String]],
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let handle = registry::pick(&app.registry.vectors, ModelKind::Vectors, model)?;
    app.limits.check_inputs("words", &words.concat())?;
    Ok(Json(handle.submit(query, app.timeout).await?))
}

/// The `n` words of a query that takes exactly `n`.
fn exactly<const N: usize>(words: Vec<String>) -> Result<[String; N], ApiError> {
    let given = words.len();
    words.try_into().map_err(|_| {
        ApiError::unprocessable(format!("expected {N} words in \"words\", got {given}"))
    })
}

fn check_k(k: usize, limits: &Limits) -> Result<(), ApiError> {
    if k == 0 {
        return Err(ApiError::unprocessable("k must be at least 1"));
    }
    Limits::check_at_most("k", k, "max-neighbours", limits.max_neighbours)
}

/// `POST /v1/embeddings/similar`.
pub(crate) async fn similar(
    State(app): State<Arc<AppState>>,
    ApiJson(req): ApiJson<SimilarRequest>,
) -> Result<Json<Value>, ApiError> {
    check_k(req.k, &app.limits)?;
    let words = [&req.positive[..], &req.negative[..]];
    let query = Query::Similar {
        positive: req.positive.clone(),
        negative: req.negative.clone(),
        k: req.k,
    };
    ask(&app, req.model.as_deref(), &words, query).await
}

/// `POST /v1/embeddings/similarity`.
pub(crate) async fn similarity(
    State(app): State<Arc<AppState>>,
    ApiJson(req): ApiJson<WordsRequest>,
) -> Result<Json<Value>, ApiError> {
    let words = exactly::<2>(req.words)?;
    let query = Query::Similarity(words.clone());
    ask(&app, req.model.as_deref(), &[&words[..]], query).await
}

/// `POST /v1/embeddings/analogy`.
pub(crate) async fn analogy(
    State(app): State<Arc<AppState>>,
    ApiJson(req): ApiJson<AnalogyRequest>,
) -> Result<Json<Value>, ApiError> {
    check_k(req.k, &app.limits)?;
    let method: AnalogyMethod = req.method.parse().map_err(ApiError::unprocessable)?;
    let words = exactly::<3>(req.words)?;
    let query = Query::Analogy {
        words: words.clone(),
        k: req.k,
        method,
    };
    ask(&app, req.model.as_deref(), &[&words[..]], query).await
}

/// `POST /v1/embeddings/vector`.
pub(crate) async fn vector(
    State(app): State<Arc<AppState>>,
    ApiJson(req): ApiJson<WordsRequest>,
) -> Result<Json<Value>, ApiError> {
    if req.words.is_empty() {
        return Err(ApiError::unprocessable(
            "give at least one word in \"words\"",
        ));
    }
    let query = Query::Vector(req.words.clone());
    ask(&app, req.model.as_deref(), &[&req.words[..]], query).await
}
