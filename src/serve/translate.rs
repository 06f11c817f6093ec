//! `POST /v1/translate`: `seqmodels translate` as JSON, with dynamic batching.
//!
//! `{"model": "dates", "inputs": ["Tue 10 Jul 2007"], "beam_width": 5}` answers
//! `{"outputs": [{"output": "2007-07-10", "score": -0.0001, "confidence": 0.9999,
//! "n_best": [...]}]}`, one entry per input in input order; an input that is refused or cannot
//! be translated carries `"error"` (and `"refused"`, its class) instead of `"output"`. The
//! fields are the command's options, with its defaults. Requests with the same decoding
//! options are decoded together; an input's answer does not depend on the inputs beside it.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::limits::{ApiError, ApiJson, Limits};
use super::registry::{self, Load, ModelKind, ModelSource};
use super::routes::AppState;
use super::worker;
use crate::seq2seq::{dates, AttentionMap, DecodeOptions, Translation, Translator};

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TranslateRequest {
    /// The translator; may be left out when one is loaded.
    #[serde(default)]
    model: Option<String>,
    inputs: Vec<String>,
    #[serde(default = "default_beam_width")]
    beam_width: usize,
    #[serde(default = "default_alpha")]
    alpha: f64,
    #[serde(default = "one")]
    n_best: usize,
    /// Also answer where the model looked for the best output.
    #[serde(default)]
    attention: bool,
    /// Date models: hold outputs to real dates (`--no-constrain` is `false`).
    #[serde(default = "yes")]
    constrain: bool,
    #[serde(default)]
    day_first: bool,
    #[serde(default)]
    min_confidence: f64,
    #[serde(default)]
    max_len_ratio: Option<f64>,
    #[serde(default)]
    min_len: Option<usize>,
    #[serde(default)]
    replace_unk: bool,
    #[serde(default)]
    strict: bool,
}

/// `seqmodels translate`'s defaults.
fn default_beam_width() -> usize {
    5
}
fn default_alpha() -> f64 {
    0.7
}
fn one() -> usize {
    1
}
fn yes() -> bool {
    true
}

/// The answer body.
#[derive(Debug, Serialize)]
pub(crate) struct TranslateAnswer {
    outputs: Vec<Output>,
}

/// One input's answer.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Output {
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// The refusal's class (`declined`, `impossible`, `low-confidence`).
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    n_best: Vec<Hypothesis>,
    /// Characters the model never saw, an input cut to the model's length.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attention: Option<Attention>,
}

/// One hypothesis of the n-best list.
#[derive(Debug, Clone, Serialize)]
struct Hypothesis {
    output: String,
    score: f64,
    log_prob: f64,
    confidence: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<&'static str>,
}

/// Where the model looked: `weights[t][j]`, output step t on source token j.
#[derive(Debug, Clone, Serialize)]
struct Attention {
    source: Vec<String>,
    output: Vec<String>,
    weights: Vec<Vec<f32>>,
}

impl From<AttentionMap> for Attention {
    fn from(map: AttentionMap) -> Self {
        Attention {
            source: map.source,
            output: map.output,
            weights: map.weights,
        }
    }
}

/// One request's work for the worker.
pub(crate) struct Job {
    inputs: Vec<String>,
    options: DecodeOptions,
    attention: bool,
}

/// A translator on its worker.
pub(crate) struct TranslateEngine {
    translator: Translator,
}

impl Load for TranslateEngine {
    fn load(source: &ModelSource, device: tch::Device) -> crate::Result<(Self, serde_json::Value)> {
        let translator = match source {
            ModelSource::BuiltinDates => Translator::builtin_dates(device)?,
            ModelSource::Path(dir) => Translator::load(dir, device)?,
        };
        let config = serde_json::to_value(translator.config()).unwrap_or_default();
        Ok((TranslateEngine { translator }, config))
    }
}

impl worker::Engine for TranslateEngine {
    type Request = Job;
    type Answer = Vec<Output>;
    const BATCHES: bool = true;
    const REPLICATES: bool = true;

    fn size(job: &Job) -> usize {
        job.inputs.len()
    }

    fn compatible(a: &Job, b: &Job) -> bool {
        a.options == b.options
    }

    fn run(&self, jobs: &[Job], max_batch: usize) -> Vec<Result<Vec<Output>, ApiError>> {
        let inputs: Vec<&str> = jobs
            .iter()
            .flat_map(|j| j.inputs.iter().map(String::as_str))
            .collect();
        let options = DecodeOptions {
            batch_size: max_batch,
            ..jobs[0].options.clone()
        };
        let mut results = match self.translator.translate(&inputs, &options) {
            Ok(results) => results.into_iter(),
            Err(err) => return vec![Err(ApiError::from(err)); jobs.len()],
        };
        jobs.iter()
            .map(|job| {
                let answers = job
                    .inputs
                    .iter()
                    .zip(results.by_ref())
                    .map(|(input, result)| self.output(input, result, job.attention))
                    .collect();
                Ok(answers)
            })
            .collect()
    }
}

impl TranslateEngine {
    /// The answer for `input`: its best hypothesis and n-best list, or its error.
    fn output(
        &self,
        input: &str,
        result: crate::Result<Vec<Translation>>,
        attention: bool,
    ) -> Output {
        let hyps = match result {
            Ok(hyps) => hyps,
            Err(err) => {
                return Output {
                    error: Some(err.to_string()),
                    ..Output::default()
                }
            }
        };
        let Some(best) = hyps.first() else {
            return Output {
                error: Some("no hypothesis".into()),
                ..Output::default()
            };
        };
        let mut warnings = Vec::new();
        let unseen: String = self
            .translator
            .unseen_characters(input)
            .into_iter()
            .collect();
        if !unseen.is_empty() {
            warnings.push(format!(
                "characters the model never saw, read as unknown: {unseen:?}; the output may be wrong"
            ));
        }
        if best.truncated {
            warnings.push(format!(
                "input longer than the model reads ({} tokens); translated its beginning",
                self.translator.config().model.max_src_len
            ));
        }
        let mut out = Output {
            score: Some(best.score),
            confidence: Some(best.confidence),
            warnings,
            ..Output::default()
        };
        match best.refused {
            Some(refusal) => {
                out.error = Some(format!("refused: {refusal}"));
                out.refused = Some(refusal.class());
            }
            None => {
                out.output = Some(best.text.clone());
                if attention {
                    match self.translator.attention(input, &best.text) {
                        Ok(map) => out.attention = Some(map.into()),
                        Err(err) => out.warnings.push(format!("no attention map: {err}")),
                    }
                }
            }
        }
        out.n_best = hyps
            .iter()
            .map(|h| Hypothesis {
                output: h.text.clone(),
                score: h.score,
                log_prob: h.log_prob,
                confidence: h.confidence,
                refused: h.refused.map(|r| r.class()),
            })
            .collect();
        out
    }
}

/// The decoding options of `req`, after the server's limits.
fn options(req: &TranslateRequest, limits: &Limits) -> Result<DecodeOptions, ApiError> {
    limits.check_inputs("inputs", &req.inputs)?;
    Limits::check_at_most(
        "beam_width",
        req.beam_width,
        "max-beam-width",
        limits.max_beam_width,
    )?;
    let defaults = DecodeOptions::default();
    Ok(DecodeOptions {
        beam_width: req.beam_width,
        alpha: req.alpha,
        n_best: req.n_best,
        constrain: req.constrain,
        batch_size: defaults.batch_size,
        max_len_ratio: req.max_len_ratio.unwrap_or(defaults.max_len_ratio),
        min_len: req.min_len.unwrap_or(defaults.min_len),
        replace_unk: req.replace_unk,
        strict: req.strict,
        tags: match req.day_first {
            true => vec![dates::DAY_FIRST.to_owned()],
            false => Vec::new(),
        },
        min_confidence: req.min_confidence,
    })
}

/// `POST /v1/translate`.
pub(crate) async fn handle(
    State(app): State<Arc<AppState>>,
    ApiJson(req): ApiJson<TranslateRequest>,
) -> Result<Json<TranslateAnswer>, ApiError> {
    let handle = registry::pick(
        &app.registry.translators,
        ModelKind::Translator,
        req.model.as_deref(),
    )?;
    let options = options(&req, &app.limits)?;
    if req.inputs.is_empty() {
        return Ok(Json(TranslateAnswer {
            outputs: Vec::new(),
        }));
    }
    let job = Job {
        inputs: req.inputs,
        options,
        attention: req.attention,
    };
    let outputs = handle.submit(job, app.timeout).await?;
    Ok(Json(TranslateAnswer { outputs }))
}
