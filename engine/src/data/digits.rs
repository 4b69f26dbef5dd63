//! The built-in 8x8 handwritten digits (1,797 samples of the UCI "Optical
//! Recognition of Handwritten Digits" test set, as shipped by scikit-learn;
//! see scenes/README.md). Compiled in, so the kNN lab needs nothing on disk.
//!
//! The file is gzipped CSV: 64 pixel counts in 0..=16 then the label 0..=9
//! on each line. Pixels are scaled to [0, 1].

use std::io::Read;

use super::{DataError, Dataset};

pub const SIDE: usize = 8;
pub const CLASSES: usize = 10;
/// Largest pixel value in the file (a count of set bits in a 4x4 block).
const MAX_VALUE: f32 = 16.0;

const BUILT_IN: &[u8] = include_bytes!("../../../scenes/digits.csv.gz");

/// The built-in digits, shape [8, 8] per sample.
pub fn load() -> Result<Dataset, DataError> {
    parse_gz(BUILT_IN)
}

/// Parse gzipped digits CSV.
pub fn parse_gz(gz: &[u8]) -> Result<Dataset, DataError> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz).read_to_string(&mut text).map_err(|e| bad(0, &format!("not gzipped UTF-8 text: {e}")))?;
    parse_csv(&text)
}

/// Parse the CSV text: one sample a line, blank lines skipped.
pub fn parse_csv(text: &str) -> Result<Dataset, DataError> {
    let per = SIDE * SIDE;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    for record in reader.records() {
        let record = record.map_err(|e| bad(e.position().map_or(0, |p| p.line() as usize), &e.to_string()))?;
        let n = record.position().map_or(0, |p| p.line() as usize);
        let fields: Vec<&str> = record.iter().collect();
        let Some((label, pixels)) = fields.split_last().filter(|(_, p)| p.len() == per) else {
            return Err(bad(n, &format!("{} fields, expected {}", fields.len(), per + 1)));
        };
        for p in pixels {
            let v: f32 = p.parse().map_err(|_| bad(n, &format!("pixel '{p}' is not a number")))?;
            if !(0.0..=MAX_VALUE).contains(&v) {
                return Err(bad(n, &format!("pixel {v} is outside 0..=16")));
            }
            x.push(v / MAX_VALUE);
        }
        let l: usize = label.parse().ok().filter(|l| *l < CLASSES).ok_or_else(|| bad(n, &format!("label '{label}' is not a digit 0..=9")))?;
        y.push(l);
    }
    if y.is_empty() {
        return Err(bad(0, "no samples"));
    }
    Dataset::new(x, vec![SIDE, SIDE], y, CLASSES)
}

fn bad(line: usize, msg: &str) -> DataError {
    DataError::Invalid(if line == 0 { format!("digits: {msg}") } else { format!("digits line {line}: {msg}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_file_has_every_digit() {
        let d = load().unwrap();
        assert_eq!(d.len(), 1797);
        assert_eq!(d.sample_shape(), &[8, 8]);
        assert_eq!(d.num_classes(), 10);
        let mut counts = [0usize; 10];
        for &l in d.y() {
            counts[l] += 1;
        }
        // counted in the file with awk
        assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
        assert!(d.x().iter().all(|v| (0.0..=1.0).contains(v)));
        // first line: 0,0,5,13,9,1,0,0,... label 0
        let (x, l) = d.get(0).unwrap();
        assert_eq!(l, 0);
        assert_eq!(&x[..4], &[0.0, 0.0, 5.0 / 16.0, 13.0 / 16.0]);
        assert!(d.x().contains(&1.0), "some pixel is 16");
    }

    #[test]
    fn truncated_and_garbage_input_is_an_error() {
        // cut the gzip stream short
        let cut = &BUILT_IN[..BUILT_IN.len() / 2];
        assert!(parse_gz(cut).is_err());
        assert!(parse_gz(b"definitely not gzip").is_err());
        assert!(parse_gz(&[]).is_err());
        let line = |label: &str, v: &str| format!("{}{label}\n", format!("{v},").repeat(64));
        assert!(parse_csv(&line("3", "1")).is_ok());
        assert!(parse_csv("").is_err());
        assert!(parse_csv("1,2,3\n").is_err(), "a short line");
        assert!(parse_csv(&line("10", "1")).is_err(), "label out of range");
        assert!(parse_csv(&line("x", "1")).is_err());
        assert!(parse_csv(&line("3", "17")).is_err(), "pixel above 16");
        assert!(parse_csv(&line("3", "nan")).is_err());
        assert!(parse_csv(&line("3", "-1")).is_err());
        let err = parse_csv(&format!("{}{}", line("3", "1"), line("3", "a"))).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}
