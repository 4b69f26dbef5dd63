use std::process::ExitCode;

use vislab::cli;
use vislab::shell::{StartOptions, VislabApp};

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if let Some(code) = vislab::commands::dispatch(&raw) {
        return code;
    }
    let args = match cli::parse(raw) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if args.help {
        print!("{}", cli::USAGE);
        return ExitCode::SUCCESS;
    }
    if args.bench {
        return match vislab::bench::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let labs = vislab::labs::all();
    if args.list_labs {
        for lab in &labs {
            println!("{}\t{}", lab.name(), lab.title());
        }
        return ExitCode::SUCCESS;
    }
    if let Some(name) = &args.lab {
        if !labs.iter().any(|l| l.name() == name) {
            let names: Vec<&str> = labs.iter().map(|l| l.name()).collect();
            eprintln!("error: no lab named {name}; labs are: {}", names.join(", "));
            return ExitCode::from(2);
        }
    }
    drop(labs);
    // Training uses every core (VISLAB_THREADS to change it); the UI thread
    // is not one of the pool's, so it never waits on training.
    if let Err(e) = vislab_engine::cpu::threads::from_env().and_then(vislab_engine::cpu::threads::set) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let start = StartOptions { lab: args.lab.clone(), open: args.open.clone() };

    if let Some(out) = &args.screenshot {
        return match vislab::headless::screenshot(start, out, args.size.unwrap_or([1280.0, 800.0])) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }

    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Wgpu,
        viewport: egui::ViewportBuilder::default().with_inner_size([1400.0, 860.0]).with_title("Vislab").with_drag_and_drop(true),
        ..Default::default()
    };
    let result = eframe::run_native("vislab", options, Box::new(|cc| Ok(Box::new(VislabApp::new(cc, start)))));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: could not open the window: {e}");
            ExitCode::FAILURE
        }
    }
}
