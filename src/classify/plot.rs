//! A picture of a classifier's confusion matrix: a PNG heatmap (plotters), rows the true
//! classes, columns the predicted ones, each cell shaded by its share of its row (so the
//! diagonal shows each class's recall) and labelled with its count.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::FontTransform;

use super::metrics::Evaluation;
use crate::error::{Error, Result};

/// The label drawn for a class: its display name when the font has glyphs for it (every char
/// below U+2000), otherwise its raw label, so emoji classes read 0, 1, 2, ...
fn axis_label(name: &str, label: &str) -> String {
    if name.chars().all(|c| (c as u32) < 0x2000) {
        name.to_owned()
    } else {
        label.to_owned()
    }
}

/// The most classes a confusion matrix picture shows; a model with more is drawn for its most
/// frequent classes.
pub const MAX_DRAWN_CLASSES: usize = 30;

/// Longest class name drawn, in characters (longer ones are cut with `…`).
const MAX_NAME_CHARS: usize = 24;

/// Draws the confusion matrix of `eval` into a PNG at `path`.
///
/// `names` are the classes' display names (the labels are used if there are not as many);
/// names the bundled font cannot draw are replaced by the labels. With more than
/// [`MAX_DRAWN_CLASSES`] classes, the picture shows the rows and columns of the most frequent
/// ones (by true count; the title says so). The picture is drawn into a temporary file next to
/// `path` and renamed over it, so `path` is never half-written.
pub fn confusion_png(eval: &Evaluation, names: &[String], path: &Path) -> Result<()> {
    let names = if names.len() == eval.labels.len() {
        names
    } else {
        &eval.labels
    };
    let shown = most_frequent(eval, MAX_DRAWN_CLASSES);
    let view = Evaluation {
        labels: shown.iter().map(|&c| eval.labels[c].clone()).collect(),
        confusion: shown
            .iter()
            .map(|&t| shown.iter().map(|&p| eval.confusion[t][p]).collect())
            .collect(),
        ..eval.clone()
    };
    let view_names: Vec<String> = shown.iter().map(|&c| names[c].clone()).collect();
    let mut title = format!("confusion matrix (accuracy {:.1}%", 100.0 * eval.accuracy);
    if shown.len() < eval.labels.len() {
        title.push_str(&format!(
            "; the {} most frequent of {} classes",
            shown.len(),
            eval.labels.len()
        ));
    }
    title.push(')');
    crate::text::replace_atomically(path, |tmp| {
        draw(&view, &view_names, &title, tmp).map_err(|e| Error::io("drawing", path, e))
    })
}

/// The ids of the (at most) `max` classes with the most true examples, in id order.
fn most_frequent(eval: &Evaluation, max: usize) -> Vec<usize> {
    let mut ids: Vec<usize> = (0..eval.labels.len()).collect();
    if ids.len() > max {
        let support = |c: usize| eval.confusion[c].iter().sum::<usize>();
        ids.sort_by_key(|&c| (std::cmp::Reverse(support(c)), c));
        ids.truncate(max);
        ids.sort_unstable();
    }
    ids
}

/// `name` cut to [`MAX_NAME_CHARS`] characters.
fn short(name: &str) -> String {
    if name.chars().count() <= MAX_NAME_CHARS {
        name.to_owned()
    } else {
        let mut s: String = name.chars().take(MAX_NAME_CHARS - 1).collect();
        s.push('…');
        s
    }
}

/// Draws the heatmap into `file` (a `.png` path); the backend is dropped before returning.
fn draw(eval: &Evaluation, names: &[String], title: &str, file: &Path) -> std::io::Result<()> {
    let err = |e: String| std::io::Error::other(e);
    // The bundled DejaVu Sans Mono, so drawing needs no system fonts.
    let font_name = crate::plot::bundled_font().map_err(err)?;
    let font = (font_name, 14).into_font();
    let title_font = (font_name, 16).into_font();
    let size_of = |f: &FontDesc, s: &str| f.box_size(s).map_err(|e| err(e.to_string()));

    let labels: Vec<String> = names
        .iter()
        .zip(&eval.labels)
        .map(|(n, l)| short(&axis_label(n, l)))
        .collect();
    let n = labels.len().max(1) as u32;
    let mut label_w = 0;
    for l in &labels {
        label_w = label_w.max(size_of(&font, l)?.0);
    }
    let title_w = size_of(&title_font, title)?.0;

    let cell = (label_w + 12).max(44);
    let (left, top, bottom, margin) = (label_w + 40, 44u32, 56u32, 20u32);
    let width = (left + n * cell + margin).max(title_w + 2 * margin);
    let height = top + n * cell + bottom;

    let root = BitMapBackend::new(file, (width, height)).into_drawing_area();
    let e = |e: DrawingAreaErrorKind<_>| err(e.to_string());
    root.fill(&WHITE).map_err(e)?;
    root.draw_text(title, &title_font.color(&BLACK), (margin as i32, 12))
        .map_err(e)?;

    let black = font.color(&BLACK);
    let white = font.color(&WHITE);
    let grid_bottom = (top + n * cell) as i32;
    for (j, label) in labels.iter().enumerate() {
        let (w, _) = size_of(&font, label)?;
        let x = (left + j as u32 * cell + (cell - w) / 2) as i32;
        root.draw_text(label, &black, (x, grid_bottom + 6))
            .map_err(e)?;
    }
    let (pw, _) = size_of(&font, "predicted")?;
    let x = (left + (n * cell).saturating_sub(pw) / 2) as i32;
    root.draw_text("predicted", &black, (x, grid_bottom + 28))
        .map_err(e)?;
    let (tw, _) = size_of(&font, "true")?;
    let y = (top + (n * cell + tw) / 2) as i32;
    root.draw_text(
        "true",
        &font.transform(FontTransform::Rotate270).color(&BLACK),
        (10, y),
    )
    .map_err(e)?;

    for (t, (label, row)) in labels.iter().zip(&eval.confusion).enumerate() {
        let y = (top + t as u32 * cell) as i32;
        let (w, h) = size_of(&font, label)?;
        root.draw_text(
            label,
            &black,
            ((left - 8 - w) as i32, y + (cell as i32 - h as i32) / 2),
        )
        .map_err(e)?;
        let support: usize = row.iter().sum();
        for (p, &count) in row.iter().enumerate() {
            let x = (left + p as u32 * cell) as i32;
            let share = if support == 0 {
                0.0
            } else {
                count as f64 / support as f64
            };
            let level = 255 - (share.clamp(0.0, 1.0) * 255.0).round() as u8;
            root.draw(&Rectangle::new(
                [(x, y), (x + cell as i32, y + cell as i32)],
                RGBColor(level, level, 255).filled(),
            ))
            .map_err(e)?;
            root.draw(&Rectangle::new(
                [(x, y), (x + cell as i32, y + cell as i32)],
                RGBColor(200, 200, 200),
            ))
            .map_err(e)?;
            let text = count.to_string();
            let (w, h) = size_of(&font, &text)?;
            let style = if share > 0.5 { &white } else { &black };
            let pos = (
                x + (cell as i32 - w as i32) / 2,
                y + (cell as i32 - h as i32) / 2,
            );
            root.draw_text(&text, style, pos).map_err(e)?;
        }
    }
    root.present().map_err(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_avoid_emoji() {
        assert_eq!(axis_label("positive", "1"), "positive");
        assert_eq!(axis_label("❤️", "0"), "0");
        assert_eq!(axis_label("😄", "2"), "2");
    }

    #[test]
    fn png_confusion_matrix_is_written_atomically() {
        let gold = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2];
        let pred = [0, 0, 0, 1, 1, 1, 2, 2, 0, 0];
        let labels: Vec<String> = ["0", "1", "2"].iter().map(|s| s.to_string()).collect();
        let eval = Evaluation::new(labels, &gold, &pred).unwrap();
        let names: Vec<String> = ["❤️", "neutral", "😄"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("confusion.png");
        confusion_png(&eval, &names, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(files, vec![std::ffi::OsString::from("confusion.png")]);
    }

    #[test]
    fn a_model_with_many_classes_is_drawn_for_its_most_frequent() {
        // 200 classes, class c seen c % 7 + 1 times, every prediction right.
        let labels: Vec<String> = (0..200)
            .map(|c| format!("class number {c} with a long name"))
            .collect();
        let gold: Vec<usize> = (0..200)
            .flat_map(|c| std::iter::repeat_n(c, c % 7 + 1))
            .collect();
        let eval = Evaluation::new(labels.clone(), &gold, &gold).unwrap();
        let shown = most_frequent(&eval, MAX_DRAWN_CLASSES);
        assert_eq!(shown.len(), MAX_DRAWN_CLASSES);
        // The 28 classes seen 7 times, then the first two seen 6 times (ties go to lower ids).
        let mut expected: Vec<usize> = (0..200).filter(|c| c % 7 == 6).chain([5, 12]).collect();
        expected.sort_unstable();
        assert_eq!(shown, expected);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.png");
        confusion_png(&eval, &labels, &path).unwrap();
        assert!(std::fs::read(&path).unwrap().starts_with(b"\x89PNG"));
        assert_eq!(short(&labels[0]).chars().count(), MAX_NAME_CHARS);
    }
}
