//! Translation metrics that score any text file against its references, as sacreBLEU does by
//! default: corpus [BLEU](bleu) (13a tokenisation, exp smoothing) and [chrF](chrf).

pub mod bleu;
pub mod chrf;

pub use bleu::{corpus_bleu, Bleu, BLEU_SIGNATURE};
pub use chrf::{corpus_chrf, Chrf};
