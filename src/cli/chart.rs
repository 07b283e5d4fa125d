//! Small text charts for a terminal: a trust curve in a few lines.

/// A curve of `values` (0–100) as `height` lines of at most `width`
/// columns, oldest left. Values are resampled to fit the width.
pub fn curve(values: &[f64], width: usize, height: usize) -> String {
    if values.is_empty() || width == 0 || height == 0 {
        return String::new();
    }
    let cols = values.len().min(width);
    let sample: Vec<f64> = (0..cols)
        .map(|c| values[c * values.len() / cols].clamp(0.0, 100.0))
        .collect();
    let mut out = String::new();
    for row in (0..height).rev() {
        let lo = 100.0 * row as f64 / height as f64;
        let label = if row == height - 1 {
            "100 ┤"
        } else if row == 0 {
            "  0 ┤"
        } else if row == height / 2 {
            " 50 ┤"
        } else {
            "    │"
        };
        out.push_str(label);
        for v in &sample {
            let hi = lo + 100.0 / height as f64;
            out.push(if *v >= hi {
                '█'
            } else if *v > lo {
                '▄'
            } else {
                ' '
            });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_one_column_per_value() {
        let c = curve(&[0.0, 50.0, 100.0], 10, 2);
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], "100 ┤  █");
        assert_eq!(lines[1], "  0 ┤ ██");
    }
}
