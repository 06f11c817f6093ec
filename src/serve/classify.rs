//! `POST /v1/classify`: `seqmodels classify predict --format json`, with dynamic batching.
//!
//! `{"model": "emo", "inputs": ["I love you"], "top_k": 2}` answers `{"outputs": [{"labels":
//! [{"label": "❤️", "class": "0", "probability": 0.91}, ...]}]}`, one entry per input in input
//! order: the `top_k` most likely labels, none for a blank text (as the command prints an
//! empty line), or `"error"` for a text that cannot be read. Concurrent requests are
//! classified together.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::limits::{ApiError, ApiJson};
use super::registry::{self, Load, ModelKind, ModelSource};
use super::routes::AppState;
use super::worker;
use crate::classify::{self, Classifier};

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClassifyRequest {
    /// The classifier; may be left out when one is loaded.
    #[serde(default)]
    model: Option<String>,
    inputs: Vec<String>,
    #[serde(default = "one")]
    top_k: usize,
}

fn one() -> usize {
    1
}

/// The answer body.
#[derive(Debug, Serialize)]
pub(crate) struct ClassifyAnswer {
    outputs: Vec<Output>,
}

/// One input's answer: its labels, or its error.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub(crate) enum Output {
    Labels { labels: Vec<Label> },
    Error { error: String },
}

/// A label and its probability.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Label {
    /// The printed name (`--label-names`), else the class.
    label: String,
    /// The class as the training data wrote it.
    class: String,
    probability: f32,
}

/// One request's work for the worker.
pub(crate) struct Job {
    inputs: Vec<String>,
    top_k: usize,
}

/// A classifier on its worker.
pub(crate) struct ClassifyEngine {
    model: Classifier,
}

impl Load for ClassifyEngine {
    fn load(source: &ModelSource, device: tch::Device) -> crate::Result<(Self, serde_json::Value)> {
        let model = Classifier::load(source.path_of("a classifier")?, device)?;
        let config = serde_json::to_value(model.config()).unwrap_or_default();
        Ok((ClassifyEngine { model }, config))
    }
}

impl worker::Engine for ClassifyEngine {
    type Request = Job;
    type Answer = Vec<Output>;
    const BATCHES: bool = true;

    fn size(job: &Job) -> usize {
        job.inputs.len()
    }

    /// `top_k` only chooses what is answered: any requests can be classified together.
    fn compatible(_: &Job, _: &Job) -> bool {
        true
    }

    fn run(&self, jobs: &[Job], max_batch: usize) -> Vec<Result<Vec<Output>, ApiError>> {
        // Each text is encoded alone, so that one that cannot be read fails alone.
        let encoded: Vec<Option<crate::Result<Vec<i64>>>> = jobs
            .iter()
            .flat_map(|j| &j.inputs)
            .map(|text| (!text.trim().is_empty()).then(|| self.model.encode(text)))
            .collect();
        let ids: Vec<&[i64]> = encoded
            .iter()
            .filter_map(|e| e.as_ref()?.as_ref().ok().map(Vec::as_slice))
            .collect();
        let probabilities = match self.model.probabilities_of_ids(&ids, max_batch) {
            Ok(p) => p,
            Err(err) => return vec![Err(ApiError::from(err)); jobs.len()],
        };
        let mut rows = probabilities.into_iter();
        let mut encoded = encoded.into_iter();
        let config = self.model.config();
        jobs.iter()
            .map(|job| {
                let outputs = encoded
                    .by_ref()
                    .take(job.inputs.len())
                    .map(|e| match e {
                        None => Output::Labels { labels: Vec::new() },
                        Some(Err(err)) => Output::Error {
                            error: err.to_string(),
                        },
                        Some(Ok(_)) => {
                            let p = rows.next().unwrap_or_default();
                            let labels = classify::top_k(&p, job.top_k)
                                .into_iter()
                                .map(|(c, probability)| Label {
                                    label: config.display_name(c).to_owned(),
                                    class: config.labels.get(c).cloned().unwrap_or_default(),
                                    probability,
                                })
                                .collect();
                            Output::Labels { labels }
                        }
                    })
                    .collect();
                Ok(outputs)
            })
            .collect()
    }
}

/// `POST /v1/classify`.
pub(crate) async fn handle(
    State(app): State<Arc<AppState>>,
    ApiJson(req): ApiJson<ClassifyRequest>,
) -> Result<Json<ClassifyAnswer>, ApiError> {
    let handle = registry::pick(
        &app.registry.classifiers,
        ModelKind::Classifier,
        req.model.as_deref(),
    )?;
    app.limits.check_inputs("inputs", &req.inputs)?;
    if req.top_k == 0 {
        return Err(ApiError::unprocessable("top_k must be at least 1"));
    }
    if req.inputs.is_empty() {
        return Ok(Json(ClassifyAnswer {
            outputs: Vec::new(),
        }));
    }
    let job = Job {
        inputs: req.inputs,
        top_k: req.top_k,
    };
    let outputs = handle.submit(job, app.timeout).await?;
    Ok(Json(ClassifyAnswer { outputs }))
}
