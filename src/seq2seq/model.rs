//! Bidirectional-LSTM encoder, additive attention and an LSTM decoder.
//!
//! The model of the Sequence Models course's "Neural machine translation with attention"
//! (after Bahdanau, Cho and Bengio 2015, *Neural Machine Translation by Jointly Learning to Align
//! and Translate*):
//!
//! - the encoder reads the source with a forward and a backward LSTM and keeps, for every
//!   position j, `a_j = [a→_j; a←_j]`;
//! - before each output step t, attention scores every position from the previous decoder state
//!   `s_{t-1}`: `e_tj = vᵀ tanh(W_s s_{t-1} + W_a a_j + b)` (the course's
//!   `concat(s_prev, a_j) -> Dense(10, tanh) -> Dense(1)`, with the `W_a a_j` half computed once
//!   per input), `α_t = softmax_j(e_t)` over the real positions only (padding gets `-inf`),
//!   and the context is `c_t = Σ_j α_tj a_j`;
//! - an LSTM cell takes `c_t` (the course), or `[embed(y_{t-1}); c_t]` when the decoder is fed its
//!   previous output, and its state `s_t` (with `c_t` when `output_uses_context`) gives the
//!   logits of `y_t`.
//!
//! Padding is masked in the encoder too: the backward LSTM reads each sequence reversed *within
//! its length*, so pads never reach a real position's state, and a padded batch gives the same
//! result as each input on its own.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, RNN};
use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};

/// Sizes of a [`Seq2Seq`] model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seq2SeqConfig {
    /// Source vocabulary size (id 0 is padding).
    pub src_vocab: usize,
    /// Target vocabulary size.
    pub tgt_vocab: usize,
    /// Source embedding size; `None` feeds one-hot vectors, as the course does.
    pub src_embed: Option<usize>,
    /// Target embedding size when the decoder is fed its previous output; `None` feeds only the
    /// attention context, as the course does.
    pub tgt_embed: Option<usize>,
    /// Encoder LSTM size per direction (the course's `n_a`).
    pub enc_hidden: usize,
    /// Stacked bidirectional encoder layers.
    pub enc_layers: usize,
    /// Decoder LSTM size (the course's `n_s`).
    pub dec_hidden: usize,
    /// Hidden size of the attention scorer (the course's `Dense(10)`).
    pub attn_hidden: usize,
    /// The output layer reads `[s_t; c_t]` rather than `s_t` alone.
    pub output_uses_context: bool,
    /// Dropout on embeddings, between encoder layers and before the output layer.
    pub dropout: f64,
    /// Longest source accepted (the course's `Tx`).
    pub max_src_len: usize,
    /// Longest output produced (the course's `Ty`).
    pub max_tgt_len: usize,
}

/// The longest input or output, in tokens, a model may read or write.
pub const MAX_LEN: usize = 4096;

impl Seq2SeqConfig {
    /// The course's sizes: `Tx = 30`, `Ty = 10`, `n_a = 32` per direction, `n_s = 64`, one-hot
    /// input, attention `Dense(10)`, decoder fed only the context.
    pub fn course(src_vocab: usize, tgt_vocab: usize) -> Self {
        Seq2SeqConfig {
            src_vocab,
            tgt_vocab,
            src_embed: None,
            tgt_embed: None,
            enc_hidden: 32,
            enc_layers: 1,
            dec_hidden: 64,
            attn_hidden: 10,
            output_uses_context: false,
            dropout: 0.0,
            max_src_len: 30,
            max_tgt_len: 10,
        }
    }

    /// Checks sizes before any tensor is made.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("src_vocab", self.src_vocab),
            ("tgt_vocab", self.tgt_vocab),
            ("enc_hidden", self.enc_hidden),
            ("enc_layers", self.enc_layers),
            ("dec_hidden", self.dec_hidden),
            ("attn_hidden", self.attn_hidden),
            ("max_src_len", self.max_src_len),
            ("max_tgt_len", self.max_tgt_len),
            ("src_embed", self.src_embed.unwrap_or(1)),
            ("tgt_embed", self.tgt_embed.unwrap_or(1)),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(Error::Config(format!("{name} must be at least 1")));
        }
        // An output may hold MAX_LEN tokens and its end token.
        for (name, len, max) in [
            ("max_src_len", self.max_src_len, MAX_LEN),
            ("max_tgt_len", self.max_tgt_len, MAX_LEN + 1),
        ] {
            if len > max {
                return Err(Error::Config(format!(
                    "{name} {len} is above the {max} tokens a model reads or writes"
                )));
            }
        }
        crate::limits::check_fraction("dropout", self.dropout)?;
        // In floating point: sizes from a config.json may be beyond any integer type's range.
        let f = |n: usize| n as f64;
        let (src_e, tgt_e) = (self.src_embed.map_or(0.0, f), self.tgt_embed.map_or(0.0, f));
        let (states, dec) = (2.0 * f(self.enc_hidden), f(self.dec_hidden));
        let src_in = self.src_embed.map_or(f(self.src_vocab), f);
        let rnn = crate::limits::rnn_weights;
        crate::limits::check_model_size(
            f(self.src_vocab) * src_e
                + f(self.tgt_vocab) * tgt_e
                + rnn(4.0, src_in, f(self.enc_hidden), self.enc_layers, 2.0)
                + rnn(4.0, states + tgt_e, dec, 1, 1.0)
                + f(self.attn_hidden) * (states + dec + 3.0)
                + f(self.tgt_vocab) * (dec + states + 1.0),
            self.enc_layers,
        )
    }
}

/// The encoder's output for a batch, ready for attention.
#[derive(Debug)]
pub struct Encoded {
    /// `a_j` for every position: `[batch, src_len, 2 * enc_hidden]`.
    pub states: Tensor,
    /// `W_a a_j + b`, precomputed: `[batch, src_len, attn_hidden]`.
    pub keys: Tensor,
    /// `true` at padding, `false` at real positions: `[batch, src_len]` (the attention's mask,
    /// kept in the form it is applied in, so that no step negates it again).
    pub padding: Tensor,
}

impl Encoded {
    /// The rows `rows` (an int64 index tensor) of every part, e.g. one row per beam.
    pub fn select(&self, rows: &Tensor) -> Encoded {
        Encoded {
            states: self.states.index_select(0, rows),
            keys: self.keys.index_select(0, rows),
            padding: self.padding.index_select(0, rows),
        }
    }
}

/// The decoder LSTM state `(s, c)`, one row per sequence being decoded.
#[derive(Debug)]
pub struct DecoderState {
    /// `s_t`: `[rows, dec_hidden]`.
    pub h: Tensor,
    /// The LSTM cell: `[rows, dec_hidden]`.
    pub c: Tensor,
}

impl DecoderState {
    /// The rows `rows` of the state, in that order.
    pub fn select(&self, rows: &Tensor) -> DecoderState {
        DecoderState {
            h: self.h.index_select(0, rows),
            c: self.c.index_select(0, rows),
        }
    }
}

/// One decoder step's results.
#[derive(Debug)]
pub struct Step {
    /// The state after the step.
    pub state: DecoderState,
    /// Unnormalised scores of the next token: `[rows, tgt_vocab]`.
    pub logits: Tensor,
    /// Attention weights used for this step: `[rows, src_len]`.
    pub attention: Tensor,
}

/// An LSTM cell with PyTorch `LSTMCell` parameter names (`weight_ih`, `weight_hh`, `bias_ih`,
/// `bias_hh`) and initialisation (uniform in ±1/√hidden).
#[derive(Debug)]
struct LstmCell {
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor,
    b_hh: Tensor,
}

/// Uniform in ±`bound`.
fn uniform(bound: f64) -> nn::Init {
    nn::Init::Uniform {
        lo: -bound,
        up: bound,
    }
}

/// A linear layer initialised as PyTorch's `nn.Linear`: weights and bias uniform in
/// ±1/√fan_in (tch's default weights are √6 times wider).
fn linear(p: nn::Path, input: i64, output: i64, bias: bool) -> nn::Linear {
    let init = uniform(1.0 / (input as f64).sqrt());
    let config = nn::LinearConfig {
        ws_init: init,
        bs_init: bias.then_some(init),
        bias,
    };
    nn::linear(p, input, output, config)
}

impl LstmCell {
    fn new(p: nn::Path, input: i64, hidden: i64) -> Self {
        let init = uniform(1.0 / (hidden as f64).sqrt());
        LstmCell {
            w_ih: p.var("weight_ih", &[4 * hidden, input], init),
            w_hh: p.var("weight_hh", &[4 * hidden, hidden], init),
            b_ih: p.var("bias_ih", &[4 * hidden], init),
            b_hh: p.var("bias_hh", &[4 * hidden], init),
        }
    }

    fn forward(&self, input: &Tensor, state: &DecoderState) -> DecoderState {
        let (h, c) = input.lstm_cell(
            &[&state.h, &state.c],
            &self.w_ih,
            &self.w_hh,
            Some(&self.b_ih),
            Some(&self.b_hh),
        );
        DecoderState { h, c }
    }
}

/// The attention seq2seq model. Build it with [`Seq2Seq::new`] on a `VarStore` path; load and
/// save its parameters through [`crate::checkpoint`].
///
/// # Panics
/// Its tensor-level methods (`encode`, `step`, `forward_teacher`, `forward_mixed`, and
/// `select` on [`Encoded`] and [`DecoderState`]) are the layer under
/// [`Translator`](super::Translator), which checks its inputs: like tch's own layers, they panic
/// on tensors of another shape than documented, on ids outside the vocabularies and on lengths
/// that do not match the batch.
#[derive(Debug)]
pub struct Seq2Seq {
    config: Seq2SeqConfig,
    src_embed: Option<nn::Embedding>,
    enc_fwd: Vec<nn::LSTM>,
    enc_bwd: Vec<nn::LSTM>,
    attn_state: nn::Linear,
    attn_key: nn::Linear,
    attn_score: nn::Linear,
    tgt_embed: Option<nn::Embedding>,
    cell: LstmCell,
    out: nn::Linear,
    device: Device,
}

impl Seq2Seq {
    /// Creates the parameters under `p` (`encoder.*`, `attention.*`, `decoder.*`).
    pub fn new(p: &nn::Path, config: &Seq2SeqConfig) -> Result<Self> {
        config.validate()?;
        crate::device::check_available(p.device())?;
        let c = config;
        let as_i = |v: usize| v as i64;
        let enc = p / "encoder";
        let src_embed = c.src_embed.map(|d| {
            nn::embedding(
                &enc / "embed",
                as_i(c.src_vocab),
                as_i(d),
                Default::default(),
            )
        });
        let input = as_i(c.src_embed.unwrap_or(c.src_vocab));
        let two_h = 2 * as_i(c.enc_hidden);
        // PyTorch's nn.LSTM initialisation (tch's default is Kaiming with zero biases).
        let lstm_init = uniform(1.0 / (c.enc_hidden as f64).sqrt());
        let lstm_cfg = nn::RNNConfig {
            batch_first: true,
            w_ih_init: lstm_init,
            w_hh_init: lstm_init,
            b_ih_init: Some(lstm_init),
            b_hh_init: Some(lstm_init),
            ..Default::default()
        };
        let mut enc_fwd = Vec::new();
        let mut enc_bwd = Vec::new();
        for layer in 0..c.enc_layers {
            let inp = if layer == 0 { input } else { two_h };
            let h = as_i(c.enc_hidden);
            enc_fwd.push(nn::lstm(&enc / format!("fwd{layer}"), inp, h, lstm_cfg));
            enc_bwd.push(nn::lstm(&enc / format!("bwd{layer}"), inp, h, lstm_cfg));
        }
        let att = p / "attention";
        let attn_state = linear(
            &att / "state",
            as_i(c.dec_hidden),
            as_i(c.attn_hidden),
            false,
        );
        let attn_key = linear(&att / "key", two_h, as_i(c.attn_hidden), true);
        let attn_score = linear(&att / "score", as_i(c.attn_hidden), 1, false);
        let dec = p / "decoder";
        let tgt_embed = c.tgt_embed.map(|d| {
            nn::embedding(
                &dec / "embed",
                as_i(c.tgt_vocab),
                as_i(d),
                Default::default(),
            )
        });
        let cell_in = two_h + c.tgt_embed.map_or(0, as_i);
        let cell = LstmCell::new(&dec / "cell", cell_in, as_i(c.dec_hidden));
        let out_in = as_i(c.dec_hidden) + if c.output_uses_context { two_h } else { 0 };
        let out = linear(&dec / "out", out_in, as_i(c.tgt_vocab), true);
        Ok(Seq2Seq {
            config: c.clone(),
            src_embed,
            enc_fwd,
            enc_bwd,
            attn_state,
            attn_key,
            attn_score,
            tgt_embed,
            cell,
            out,
            device: p.device(),
        })
    }

    /// The sizes this model was built with.
    pub fn config(&self) -> &Seq2SeqConfig {
        &self.config
    }

    /// The device of the parameters.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Encodes a right-padded batch `src: [batch, src_len]` (int64 ids, 0 = padding) whose real
    /// lengths are `lengths` (each at least 1).
    pub fn encode(&self, src: &Tensor, lengths: &[i64], train: bool) -> Encoded {
        let (batch, len) = src.size2().expect("src is [batch, src_len]");
        let mut x = match &self.src_embed {
            Some(e) => e.forward(src),
            None => src
                .one_hot(self.config.src_vocab as i64)
                .to_kind(Kind::Float),
        };
        x = self.dropout(x, train);
        let positions = Tensor::arange(len, (Kind::Int64, self.device)).unsqueeze(0);
        let lens = Tensor::from_slice(lengths)
            .to_device(self.device)
            .unsqueeze(1);
        let mask = positions.lt_tensor(&lens);
        // Position t of the reversed sequence reads position len-1-t; padding stays in place.
        let reversed = lens.g_sub(&positions).g_sub_scalar(1);
        let reverse_index = reversed.where_self(&mask, &positions.expand([batch, len], false));
        for (layer, (fwd, bwd)) in self.enc_fwd.iter().zip(&self.enc_bwd).enumerate() {
            if layer > 0 {
                x = self.dropout(x, train);
            }
            let (forward, _) = fwd.seq_init(&x, &fwd.zero_state(batch));
            let rev = |t: &Tensor| {
                let idx = reverse_index
                    .unsqueeze(-1)
                    .expand([batch, len, t.size()[2]], false);
                t.gather(1, &idx, false)
            };
            let (backward, _) = bwd.seq_init(&rev(&x), &bwd.zero_state(batch));
            x = Tensor::cat(&[forward, rev(&backward)], 2);
        }
        let keys = self.attn_key.forward(&x);
        Encoded {
            states: x,
            keys,
            padding: mask.logical_not(),
        }
    }

    /// Dropout while training, when there is any; otherwise the input itself.
    fn dropout(&self, x: Tensor, train: bool) -> Tensor {
        if train && self.config.dropout > 0.0 {
            x.dropout(self.config.dropout, true)
        } else {
            x
        }
    }

    /// The decoder's initial state for `rows` sequences: zeros, as in the course.
    pub fn initial_state(&self, rows: i64) -> DecoderState {
        let zeros = || {
            Tensor::zeros(
                [rows, self.config.dec_hidden as i64],
                (Kind::Float, self.device),
            )
        };
        DecoderState {
            h: zeros(),
            c: zeros(),
        }
    }

    /// Whether the decoder reads its previous output token (`prev` in [`Seq2Seq::step`]).
    pub fn feeds_previous(&self) -> bool {
        self.tgt_embed.is_some()
    }

    /// One decoder step for every row: attention from the previous state over `enc` (whose rows
    /// align with `state`'s), then the LSTM cell, then the output layer. `prev: [rows]` holds the
    /// previous output tokens; it is ignored when the decoder is not fed them.
    pub fn step(&self, enc: &Encoded, state: &DecoderState, prev: &Tensor, train: bool) -> Step {
        let query = self.attn_state.forward(&state.h).unsqueeze(1);
        let scores = self
            .attn_score
            .forward(&(&enc.keys + query).tanh())
            .squeeze_dim(-1)
            .masked_fill(&enc.padding, f64::NEG_INFINITY);
        let attention = scores.softmax(-1, Kind::Float);
        let context = attention.unsqueeze(1).bmm(&enc.states).squeeze_dim(1);
        let input = match &self.tgt_embed {
            Some(e) => Tensor::cat(
                &[
                    self.dropout(e.forward(prev), train),
                    context.shallow_clone(),
                ],
                1,
            ),
            None => context.shallow_clone(),
        };
        let state = self.cell.forward(&input, state);
        let features = if self.config.output_uses_context {
            Tensor::cat(&[&state.h, &context], 1)
        } else {
            state.h.shallow_clone()
        };
        let logits = self.out.forward(&self.dropout(features, train));
        Step {
            state,
            logits,
            attention,
        }
    }

    /// Teacher-forced decoding: feeds `prev: [batch, tgt_len]` (BOS then the target shifted
    /// right) and returns logits `[batch, tgt_len, tgt_vocab]` and attention
    /// `[batch, tgt_len, src_len]`.
    pub fn forward_teacher(&self, enc: &Encoded, prev: &Tensor, train: bool) -> (Tensor, Tensor) {
        let (batch, steps) = prev.size2().expect("prev is [batch, tgt_len]");
        let mut state = self.initial_state(batch);
        let mut logits = Vec::with_capacity(steps as usize);
        let mut attention = Vec::with_capacity(steps as usize);
        for t in 0..steps {
            let step = self.step(enc, &state, &prev.select(1, t), train);
            logits.push(step.logits);
            attention.push(step.attention);
            state = step.state;
        }
        (Tensor::stack(&logits, 1), Tensor::stack(&attention, 1))
    }
}

impl Seq2Seq {
    /// Decoding for training with a teacher-forcing ratio below 1: at each step after the first,
    /// each row is fed the reference token `prev[:, t]` with probability `ratio` and otherwise
    /// the model's own best guess from the step before (drawn with torch's seeded generator).
    /// Returns logits `[batch, tgt_len, tgt_vocab]`.
    pub fn forward_mixed(&self, enc: &Encoded, prev: &Tensor, ratio: f64, train: bool) -> Tensor {
        let (batch, steps) = prev.size2().expect("prev is [batch, tgt_len]");
        let mut state = self.initial_state(batch);
        let mut logits: Vec<Tensor> = Vec::with_capacity(steps as usize);
        for t in 0..steps {
            let gold = prev.select(1, t);
            let input = match logits.last() {
                Some(last) => {
                    let guess = last.argmax(-1, false).detach();
                    let teach = Tensor::rand([batch], (Kind::Float, self.device)).lt(ratio);
                    gold.where_self(&teach, &guess)
                }
                None => gold,
            };
            let step = self.step(enc, &state, &input, train);
            logits.push(step.logits);
            state = step.state;
        }
        Tensor::stack(&logits, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Seq2SeqConfig {
        Seq2SeqConfig {
            src_vocab: 7,
            tgt_vocab: 5,
            src_embed: Some(4),
            tgt_embed: Some(3),
            enc_hidden: 6,
            enc_layers: 2,
            dec_hidden: 8,
            attn_hidden: 5,
            output_uses_context: true,
            dropout: 0.0,
            max_src_len: 10,
            max_tgt_len: 4,
        }
    }

    #[test]
    fn padding_does_not_change_results() {
        let _lock = crate::device::torch_rng_lock();
        tch::manual_seed(1);
        for config in [small(), Seq2SeqConfig::course(7, 5)] {
            let vs = nn::VarStore::new(Device::Cpu);
            let model = Seq2Seq::new(&vs.root(), &config).unwrap();
            let a = [3i64, 4, 5];
            let b = [2i64, 6, 6, 1, 3];
            let batch = Tensor::from_slice(&[3i64, 4, 5, 0, 0, 2, 6, 6, 1, 3]).view([2, 5]);
            let prev = Tensor::from_slice(&[1i64, 2, 3, 1, 4, 4]).view([2, 3]);
            let (together, att) =
                model.forward_teacher(&model.encode(&batch, &[3, 5], false), &prev, false);
            let alone_a = model.encode(&Tensor::from_slice(&a).view([1, 3]), &[3], false);
            let (la, aa) = model.forward_teacher(&alone_a, &prev.narrow(0, 0, 1), false);
            let alone_b = model.encode(&Tensor::from_slice(&b).view([1, 5]), &[5], false);
            let (lb, _) = model.forward_teacher(&alone_b, &prev.narrow(0, 1, 1), false);
            let close = |x: &Tensor, y: &Tensor| (x - y).abs().max().double_value(&[]) < 1e-5;
            assert!(close(&together.narrow(0, 0, 1), &la));
            assert!(close(&together.narrow(0, 1, 1), &lb));
            assert!(close(&att.narrow(0, 0, 1).narrow(2, 0, 3), &aa));
            let on_pads = att
                .narrow(0, 0, 1)
                .narrow(2, 3, 2)
                .abs()
                .max()
                .double_value(&[]);
            assert_eq!(on_pads, 0.0, "attention on padding");
        }
    }

    #[test]
    fn parameter_names_read_like_pytorch() {
        let _lock = crate::device::torch_rng_lock(); // the model draws its initial weights
        let vs = nn::VarStore::new(Device::Cpu);
        let _model = Seq2Seq::new(&vs.root(), &small()).unwrap();
        let names = vs.variables();
        for name in [
            "encoder.fwd0.weight_ih_l0",
            "encoder.bwd1.weight_hh_l0",
            "attention.key.bias",
            "decoder.cell.weight_ih",
            "decoder.out.weight",
        ] {
            assert!(
                names.contains_key(name),
                "{name} missing from {:?}",
                names.keys()
            );
        }
    }

    #[test]
    fn invalid_sizes_are_errors() {
        let _lock = crate::device::torch_rng_lock(); // the model draws its initial weights
        let vs = nn::VarStore::new(Device::Cpu);
        let mut c = small();
        c.dec_hidden = 0;
        assert!(Seq2Seq::new(&vs.root(), &c)
            .unwrap_err()
            .to_string()
            .contains("dec_hidden"));
        c = small();
        c.dropout = 1.0;
        assert!(Seq2Seq::new(&vs.root(), &c).is_err());
        // Sizes beyond memory (say from a corrupt config.json) are refused before any tensor.
        c = small();
        c.enc_hidden = 100_000_000;
        let err = Seq2Seq::new(&vs.root(), &c).unwrap_err().to_string();
        assert!(err.contains("at most 2^31"), "{err}");
        c = small();
        c.enc_layers = 65;
        let err = Seq2Seq::new(&vs.root(), &c).unwrap_err().to_string();
        assert!(err.contains("65 layers"), "{err}");
    }
}
