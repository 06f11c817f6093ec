//! The attention weights of one translation, as a terminal heatmap or a PNG.

#[cfg(feature = "plot")]
use std::path::Path;

#[cfg(feature = "plot")]
use crate::error::Result;

/// Attention weights of one translation, for drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct AttentionMap {
    /// Source tokens (x axis).
    pub source: Vec<String>,
    /// Output tokens (y axis).
    pub output: Vec<String>,
    /// `weights[t][j]`: attention of output step t on source position j; rows sum to 1.
    pub weights: Vec<Vec<f32>>,
}

impl AttentionMap {
    fn heatmap(&self) -> crate::plot::Heatmap<'_> {
        crate::plot::Heatmap {
            title: "attention (rows: output, columns: input)",
            columns: &self.source,
            rows: &self.output,
            weights: &self.weights,
        }
    }

    /// The map as shaded text for a terminal: one line per output token, source tokens written
    /// downwards above their columns.
    pub fn text(&self) -> String {
        crate::plot::heatmap_text(&self.heatmap())
    }

    /// The map as a PNG at `path`, written atomically.
    #[cfg(feature = "plot")]
    pub fn png(&self, path: &Path) -> Result<()> {
        crate::plot::heatmap_png(&self.heatmap(), path)
    }
}
