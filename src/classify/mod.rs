//! Sentence classifiers (emoji, sentiment): so far, reading labelled sentences from CSV/TSV
//! tables, MR's positive/negative files and SST's `label sentence` lines, and fixing the classes.
//! The models and the `seqmodels classify` commands are still to come.

mod data;

pub use data::{
    read_labelled_lines, read_pos_neg, read_table, Column, Example, Labels, TableOptions,
};
