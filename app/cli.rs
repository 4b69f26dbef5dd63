//! Command-line arguments. The same binary is the desktop app and a
//! headless tool, so everything the UI does can be scripted.

use std::path::PathBuf;

#[derive(Debug, Default, PartialEq)]
pub struct Args {
    pub list_labs: bool,
    pub help: bool,
    /// `vislab bench`: viewport frame-time benchmark.
    pub bench: bool,
    pub lab: Option<String>,
    pub open: Option<PathBuf>,
    pub screenshot: Option<PathBuf>,
    pub size: Option<[f32; 2]>,
}

pub const USAGE: &str = "\
vislab: a desktop lab for deep learning for computer vision

usage:
  vislab [FILE]                         open the app (optionally with a file)
  vislab --lab NAME [--open FILE]       open the app on a lab
  vislab --lab NAME [--open FILE] --screenshot OUT.png [--size WxH]
                                        render a lab offscreen to a PNG and exit
  vislab --list-labs                    print each lab's name and title
  vislab bench                          viewport frame times (100k..5M points, 100k-triangle mesh)
  vislab train --data mnist:DIR ...     train a model headless (vislab train --help)
  vislab eval --checkpoint FILE --data mnist:DIR
  vislab metrics NAME A B ...           chamfer, fscore, normal-consistency, voxel-iou, coco-map
";

pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut out = Args::default();
    let mut it = args.into_iter();
    let value = |it: &mut dyn Iterator<Item = String>, flag: &str| it.next().ok_or_else(|| format!("{flag} needs a value"));
    while let Some(a) = it.next() {
        match a.as_str() {
            "--list-labs" => out.list_labs = true,
            "bench" if out.open.is_none() => out.bench = true,
            "-h" | "--help" => out.help = true,
            "--lab" => out.lab = Some(value(&mut it, "--lab")?),
            "--open" => out.open = Some(value(&mut it, "--open")?.into()),
            "--screenshot" => out.screenshot = Some(value(&mut it, "--screenshot")?.into()),
            "--size" => {
                let v = value(&mut it, "--size")?;
                let parsed = v.split_once('x').and_then(|(w, h)| Some([w.parse::<f32>().ok()?, h.parse::<f32>().ok()?]));
                match parsed {
                    Some([w, h]) if (64.0..=8192.0).contains(&w) && (64.0..=8192.0).contains(&h) => out.size = Some([w, h]),
                    _ => return Err(format!("--size wants WIDTHxHEIGHT between 64 and 8192, got {v}")),
                }
            }
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n\n{USAGE}")),
            _ if out.open.is_none() => out.open = Some(a.into()),
            _ => return Err(format!("unexpected argument {a}\n\n{USAGE}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Args, String> {
        parse(s.split_whitespace().map(String::from))
    }

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(p("bunny.ply").unwrap().open, Some("bunny.ply".into()));
        let a = p("--lab mesh --open t.obj --screenshot o.png --size 800x600").unwrap();
        assert_eq!(a.lab.as_deref(), Some("mesh"));
        assert_eq!(a.screenshot, Some("o.png".into()));
        assert_eq!(a.size, Some([800.0, 600.0]));
        assert!(p("--list-labs").unwrap().list_labs);
    }

    #[test]
    fn rejects_bad_arguments_with_a_message() {
        assert!(p("--lab").unwrap_err().contains("needs a value"));
        assert!(p("--size 10x10").is_err());
        assert!(p("--frobnicate").unwrap_err().contains("unknown option"));
        assert!(p("a.ply b.ply").is_err());
    }
}
