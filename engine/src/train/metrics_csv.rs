//! `metrics.csv`: one row per epoch, flushed as it is written so a crash or
//! a plot reading the file live sees every finished epoch.

use std::path::Path;

use crate::csv_file::CsvLog;

pub const HEADER: [&str; 6] = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"];

/// Metrics of one finished epoch (1-based). Validation values are absent
/// when there is no validation set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_loss: f32,
    pub train_acc: f32,
    pub val_loss: Option<f32>,
    pub val_acc: Option<f32>,
    pub seconds: f32,
}

pub struct MetricsCsv(CsvLog);

impl MetricsCsv {
    /// Create (truncating) and write the header, or with `append` add to an
    /// existing file (resumed training), writing the header only if empty.
    pub fn open(path: &Path, append: bool) -> Result<Self, String> {
        CsvLog::open(path, &HEADER, append).map(MetricsCsv)
    }

    pub fn write(&mut self, m: &EpochMetrics) -> Result<(), String> {
        let opt = |v: Option<f32>| v.map(|v| v.to_string()).unwrap_or_default();
        self.0.row([m.epoch.to_string(), m.train_loss.to_string(), m.train_acc.to_string(), opt(m.val_loss), opt(m.val_acc), format!("{:.3}", m.seconds)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_header_and_rows_and_appends() {
        let path = std::env::temp_dir().join(format!("vislab-metrics-{}.csv", std::process::id()));
        let m = EpochMetrics { epoch: 1, train_loss: 0.5, train_acc: 0.75, val_loss: Some(0.25), val_acc: None, seconds: 1.23456 };
        MetricsCsv::open(&path, false).unwrap().write(&m).unwrap();
        MetricsCsv::open(&path, true).unwrap().write(&EpochMetrics { epoch: 2, ..m }).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "epoch,train_loss,train_acc,test_loss,test_acc,seconds\n1,0.5,0.75,0.25,,1.235\n2,0.5,0.75,0.25,,1.235\n");
        MetricsCsv::open(&path, false).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{}\n", HEADER.join(",")));
    }
}
