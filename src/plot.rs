//! The pictures every model draws share this: the bundled font, the check that a picture can
//! be written, and heatmaps (a PNG through plotters, or shaded text for a terminal) of a grid of
//! weights with labelled rows and columns, darker for more. A translator's attention and a
//! classifier's confusion matrix are drawn with them. PNGs need the `plot` feature (on by
//! default); text needs nothing.

use std::path::Path;

#[cfg(feature = "plot")]
use plotters::prelude::*;
#[cfg(feature = "plot")]
use plotters::style::FontStyle;

use crate::error::{Error, Result};

/// A grid of weights in [0, 1] with its labels: `weights[r][c]` for row `r`, column `c`.
#[derive(Debug, Clone, Copy)]
pub struct Heatmap<'a> {
    /// The title drawn above a PNG.
    pub title: &'a str,
    /// Column labels (written upwards in a PNG, across or numbered in text).
    pub columns: &'a [String],
    /// Row labels.
    pub rows: &'a [String],
    /// One row of weights per row label.
    pub weights: &'a [Vec<f32>],
}

/// DejaVu Sans Mono (see `assets/fonts/DejaVu-LICENSE.txt`), so drawing needs no system fonts.
#[cfg(feature = "plot")]
static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSansMono.ttf");
#[cfg(feature = "plot")]
const FONT_NAME: &str = "seqmodels-mono";

/// Registers the bundled font with plotters (again is harmless) and returns the name to draw
/// with; every picture the crate draws uses it, so the font is in the binary once.
#[cfg(feature = "plot")]
pub(crate) fn bundled_font() -> std::result::Result<&'static str, String> {
    plotters::style::register_font(FONT_NAME, FontStyle::Normal, FONT)
        .map_err(|_| "the bundled font cannot be read".to_owned())?;
    Ok(FONT_NAME)
}

/// Shades from no attention to all of it.
const SHADES: [char; 5] = [' ', '░', '▒', '▓', '█'];

/// Widest text heatmap, in characters, that writes word labels across their columns; wider
/// ones number the columns and list the words below.
const TEXT_WIDTH: usize = 100;

/// The heatmap as text: one line per row, one shaded cell per column. Single-character column
/// labels (a date model's characters) head one-character columns. Word labels head columns as
/// wide as they are, written across; when those would not fit in `TEXT_WIDTH` (100) characters, the
/// columns are numbered and a legend below gives each number's word.
pub fn heatmap_text(map: &Heatmap<'_>) -> String {
    let row_width = map
        .rows
        .iter()
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(1);
    let labels: Vec<String> = map.columns.iter().map(|s| label(s).collect()).collect();
    let chars = |l: &String| l.chars().count();
    let across: usize = labels.iter().map(|l| chars(l) + 1).sum();
    let fits = labels.iter().all(|l| chars(l) <= 1) || row_width + 1 + across <= TEXT_WIDTH;
    let (headers, legend): (Vec<String>, bool) = if fits {
        (labels, false)
    } else {
        ((1..=labels.len()).map(|i| i.to_string()).collect(), true)
    };
    let single = headers.iter().all(|h| chars(h) <= 1);
    // Each column is as wide as its header (one character for single ones, else the header
    // and a space).
    let widest = headers.iter().map(chars).max().unwrap_or(1);
    let widths: Vec<usize> = headers
        .iter()
        .map(|h| match (single, legend) {
            (true, _) => 1,
            // Numbers: all columns as wide as the widest.
            (false, true) => widest + 1,
            (false, false) => chars(h) + 1,
        })
        .collect();
    let mut text = " ".repeat(row_width + 1);
    for (h, &w) in headers.iter().zip(&widths) {
        if legend {
            text.push_str(&format!("{h:>0$} ", w - 1));
        } else {
            text.push_str(&format!("{h:<w$}"));
        }
    }
    let mut text = text.trim_end().to_owned();
    text.push('\n');
    for (token, row) in map.rows.iter().zip(map.weights) {
        text.push_str(&format!("{token:>row_width$} "));
        for (&w, &width) in row.iter().zip(&widths) {
            let level = (w.clamp(0.0, 1.0) * (SHADES.len() - 1) as f32).round() as usize;
            if single {
                text.push(SHADES[level]);
            } else {
                text.push_str(&SHADES[level].to_string().repeat(width - 1));
                text.push(' ');
            }
        }
        text.push('\n');
    }
    if legend {
        let items: Vec<String> = map
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} {}", i + 1, label(c).collect::<String>()))
            .collect();
        text.push_str(&format!("columns: {}\n", items.join(", ")));
    }
    text
}

/// The characters that show a token: a space as `·`.
fn label(token: &str) -> impl Iterator<Item = char> + '_ {
    token.chars().map(|c| if c == ' ' { '·' } else { c })
}

#[cfg(feature = "plot")]
fn visible(token: &str) -> String {
    label(token).collect()
}

/// `Ok` when a picture can go to `path`: its name ends in `.png` (the one format drawn) and its
/// folder exists. Commands check this before any work, so that a typo does not cost a run.
pub fn check_png_path(path: &Path) -> Result<()> {
    let bad = |reason: String| Error::InvalidInput {
        input: path.display().to_string(),
        reason,
    };
    if !path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
    {
        return Err(bad(
            "pictures are drawn as PNG: give a name ending in .png".into()
        ));
    }
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(bad(format!("there is no folder {}", folder.display())));
    }
    Ok(())
}

/// Draws the heatmap into a PNG at `path`, with the labels on the axes. The picture is drawn
/// into a temporary file next to `path` and renamed over it, so `path` is never half-written.
#[cfg(feature = "plot")]
pub fn heatmap_png(map: &Heatmap<'_>, path: &Path) -> Result<()> {
    crate::text::replace_atomically(path, |tmp| draw(map, tmp, path))
}

/// Draws the heatmap into `file`; errors name `path`, where it is going.
#[cfg(feature = "plot")]
fn draw(map: &Heatmap<'_>, file: &Path, path: &Path) -> Result<()> {
    let draw_err = |e: String| Error::io("drawing", path, std::io::Error::other(e));
    bundled_font().map_err(draw_err)?;
    let (cols, rows) = (map.columns.len().max(1), map.rows.len().max(1));
    let cell = 28u32;
    // Room for the longest labels: output tokens on the left, source tokens written upwards.
    let longest = |tokens: &[String]| tokens.iter().map(|t| t.chars().count()).max().unwrap_or(1);
    let left = 30 + 10 * longest(map.rows) as u32;
    let top = 40 + 10 * longest(map.columns) as u32;
    let margin = 20u32;
    let size = (
        // At least as wide as the title.
        (left + cols as u32 * cell + margin).max(340),
        top + rows as u32 * cell + margin,
    );
    let root = BitMapBackend::new(file, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_err(e.to_string()))?;
    let font = (FONT_NAME, 16).into_font().color(&BLACK);
    let title = (FONT_NAME, 14).into_font().color(&BLACK);
    root.draw_text(map.title, &title, (8, 8))
        .map_err(|e| draw_err(e.to_string()))?;
    let upwards = font.clone().transform(FontTransform::Rotate270);
    for (j, token) in map.columns.iter().enumerate() {
        let x = (left + j as u32 * cell + cell / 2 - 8) as i32;
        root.draw_text(&visible(token), &upwards, (x, (top - 6) as i32))
            .map_err(|e| draw_err(e.to_string()))?;
    }
    for (t, (token, row)) in map.rows.iter().zip(map.weights).enumerate() {
        let y = (top + t as u32 * cell) as i32;
        let label = visible(token);
        let x = left as i32 - 8 - 10 * label.chars().count() as i32;
        root.draw_text(&label, &font, (x, y + 5))
            .map_err(|e| draw_err(e.to_string()))?;
        for (j, &w) in row.iter().take(cols).enumerate() {
            let x = (left + j as u32 * cell) as i32;
            let level = 255 - (w.clamp(0.0, 1.0) * 255.0).round() as u8;
            let color = RGBColor(level, level, 255);
            root.draw(&Rectangle::new(
                [(x, y), (x + cell as i32, y + cell as i32)],
                color.filled(),
            ))
            .map_err(|e| draw_err(e.to_string()))?;
        }
    }
    root.present().map_err(|e| draw_err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn text_heatmap_shades_by_weight() {
        let (columns, rows) = (strings(&["a", " ", "b"]), strings(&["x", "y"]));
        let weights = vec![vec![1.0, 0.0, 0.0], vec![0.0, 0.5, 0.5]];
        let map = Heatmap {
            title: "t",
            columns: &columns,
            rows: &rows,
            weights: &weights,
        };
        let text = heatmap_text(&map);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "  a·b");
        assert_eq!(lines[1], "x █  ");
        assert_eq!(lines[2], "y  ▒▒");
        // Words are written downwards above their column.
        let (columns, rows) = (strings(&["je", "suis"]), strings(&["i", "am"]));
        let weights = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
        let words = Heatmap {
            title: "t",
            columns: &columns,
            rows: &rows,
            weights: &weights,
        };
        let text = heatmap_text(&words);
        let lines: Vec<&str> = text.lines().collect();
        // Words are written across, each over a column as wide as itself.
        assert_eq!(lines, ["   je suis", " i ██      ", "am    ████ "]);
        // A sentence too wide for the terminal: numbered columns and a legend.
        let columns: Vec<String> = (0..30).map(|i| format!("word{i}")).collect();
        let weights = vec![vec![1.0 / 30.0; 30]; 2];
        let wide = Heatmap {
            title: "t",
            columns: &columns,
            rows: &rows,
            weights: &weights,
        };
        let text = heatmap_text(&wide);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("    1  2  3"), "{text}");
        assert_eq!(
            lines[3],
            format!(
                "columns: {}",
                (0..30)
                    .map(|i| format!("{} word{i}", i + 1))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        );
    }

    #[cfg(feature = "plot")]
    #[test]
    fn png_heatmap_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("att.png");
        let (columns, rows) = (strings(&["a", "b"]), strings(&["x"]));
        let weights = vec![vec![0.2, 0.8]];
        let map = Heatmap {
            title: "attention",
            columns: &columns,
            rows: &rows,
            weights: &weights,
        };
        heatmap_png(&map, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
    }
}
