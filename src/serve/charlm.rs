//! `POST /v1/charlm/sample`: `seqmodels charlm sample --format json`.
//!
//! `{"model": "names", "count": 5, "temperature": 0.8, "top_k": null, "prefix": "",
//! "max_len": 0, "seed": 42}` answers `{"samples": ["mara", ...]}`; the fields are the
//! command's options, with its defaults. The same seed gives the same samples, whatever
//! else the server is doing: requests are not batched, since a batch would share one random
//! stream.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::limits::{ApiError, ApiJson, Limits};
use super::registry::{self, Load, ModelKind, ModelSource};
use super::routes::AppState;
use super::worker;
use crate::charlm::{CharLm, SampleOptions};

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SampleRequest {
    /// The model; may be left out when one is loaded.
    #[serde(default)]
    model: Option<String>,
    #[serde(default = "ten")]
    count: usize,
    #[serde(default = "unit")]
    temperature: f64,
    #[serde(default)]
    top_k: Option<usize>,
    #[serde(default)]
    prefix: String,
    /// Characters generated at most; 0 is the model's default (64 for lines, 500 for text).
    #[serde(default)]
    max_len: usize,
    #[serde(default = "default_seed")]
    seed: u64,
}

/// `seqmodels charlm sample`'s defaults.
fn ten() -> usize {
    10
}
fn unit() -> f64 {
    1.0
}
fn default_seed() -> u64 {
    SampleOptions::default().seed
}

/// The answer body.
#[derive(Debug, Serialize)]
pub(crate) struct SampleAnswer {
    samples: Vec<String>,
}

/// A character model on its worker.
pub(crate) struct CharlmEngine {
    model: CharLm,
}

impl Load for CharlmEngine {
    fn load(source: &ModelSource, device: tch::Device) -> crate::Result<(Self, serde_json::Value)> {
        let model = CharLm::load(source.path_of("a character model")?, device)?;
        let config = serde_json::to_value(model.config()).unwrap_or_default();
        Ok((CharlmEngine { model }, config))
    }
}

impl worker::Engine for CharlmEngine {
    type Request = SampleOptions;
    type Answer = Vec<String>;
    const BATCHES: bool = false;

    fn size(options: &SampleOptions) -> usize {
        options.count
    }

    fn compatible(_: &SampleOptions, _: &SampleOptions) -> bool {
        false
    }

    fn run(&self, requests: &[SampleOptions], _: usize) -> Vec<Result<Vec<String>, ApiError>> {
        requests
            .iter()
            .map(|options| self.model.sample(options).map_err(ApiError::from))
            .collect()
    }
}

/// `POST /v1/charlm/sample`.
pub(crate) async fn handle(
    State(app): State<Arc<AppState>>,
    ApiJson(req): ApiJson<SampleRequest>,
) -> Result<Json<SampleAnswer>, ApiError> {
    let handle = registry::pick(
        &app.registry.charlms,
        ModelKind::Charlm,
        req.model.as_deref(),
    )?;
    let limits = &app.limits;
    if req.count == 0 {
        return Err(ApiError::unprocessable("count must be at least 1"));
    }
    Limits::check_at_most("count", req.count, "max-inputs", limits.max_inputs)?;
    Limits::check_at_most(
        "max_len",
        req.max_len,
        "max-sample-chars",
        limits.max_sample_chars,
    )?;
    limits.check_inputs("prefix", &[&req.prefix])?;
    let options = SampleOptions {
        count: req.count,
        temperature: req.temperature,
        top_k: req.top_k,
        prefix: req.prefix,
        max_len: req.max_len,
        seed: req.seed,
    };
    let samples = handle.submit(options, app.timeout).await?;
    Ok(Json(SampleAnswer { samples }))
}
