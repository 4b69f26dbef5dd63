use std::process::ExitCode;

use vislab::cli::{self, Exit};
use vislab::shell::{StartOptions, VislabApp};
use vislab_engine::cpu::threads;

fn main() -> ExitCode {
    let (args, matches) = match cli::parse(std::env::args_os()) {
        Ok(parsed) => parsed,
        Err(Exit::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(Exit::Error(line)) => {
            eprintln!("{line}");
            return ExitCode::from(2);
        }
    };
    // Training uses every core unless --threads or VISLAB_THREADS says
    // otherwise; the UI thread is not one of the pool's, so it never waits
    // on training.
    if let Err(e) = args.threads.map_or_else(threads::from_env, |n| Ok(Some(n))).and_then(threads::set) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    if let Some(command) = &args.command {
        return match vislab::commands::run(command, &matches) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let app = args.app;
    let labs = vislab::labs::all();
    if app.list_labs {
        for lab in &labs {
            println!("{}\t{}", lab.name(), lab.title());
        }
        return ExitCode::SUCCESS;
    }
    if let Some(name) = &app.lab
        && !labs.iter().any(|l| l.name() == name)
    {
        let names: Vec<&str> = labs.iter().map(|l| l.name()).collect();
        eprintln!("error: no lab named {name}; labs are: {}", names.join(", "));
        return ExitCode::from(2);
    }
    drop(labs);
    let start = StartOptions { lab: app.lab.clone(), open: app.file() };

    if let Some(out) = &app.screenshot {
        return match vislab::headless::screenshot(start, out, app.size.0) {
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
