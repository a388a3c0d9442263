//! indicatif progress for builds: one spinner per recipe that is building, showing its stage,
//! and a download bar where the size is known. Hidden when stderr is not a terminal.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use wheelforge::reporter::{Reporter, Stage};

pub struct BarReporter {
    multi: MultiProgress,
    show: bool,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl BarReporter {
    pub fn new(show: bool) -> BarReporter {
        let target = if show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        BarReporter {
            multi: MultiProgress::with_draw_target(target),
            show,
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn bar(&self, recipe: &str) -> ProgressBar {
        let mut bars = self.bars.lock().expect("not poisoned");
        bars.entry(recipe.to_string())
            .or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix:.bold} {msg}")
                        .expect("a valid template"),
                );
                bar.set_prefix(recipe.to_string());
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            })
            .clone()
    }

    /// Removes the bars and stops their ticking (before a guest takes the terminal).
    pub fn clear(&self) {
        for bar in self
            .bars
            .lock()
            .expect("not poisoned")
            .drain()
            .map(|(_, bar)| bar)
        {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

impl Reporter for BarReporter {
    fn stage(&self, recipe: &str, stage: Stage) {
        self.bar(recipe).set_message(stage.to_string());
    }

    fn message(&self, subject: &str, message: &str) {
        self.bar(subject).set_message(message.to_string());
    }

    fn waiting(&self, subject: &str, message: &str) {
        let line = format!("{subject}: {message}");
        // A hidden target (not a terminal, or -v) drops println: the line goes to stderr.
        if !self.show || self.multi.is_hidden() || self.multi.println(&line).is_err() {
            eprintln!("{line}");
        }
    }

    fn download(&self, recipe: &str, done: u64, total: Option<u64>) {
        let bar = self.bar(recipe);
        let message = match total {
            Some(total) => format!(
                "fetch {} / {}",
                indicatif::HumanBytes(done),
                indicatif::HumanBytes(total)
            ),
            None => format!("fetch {}", indicatif::HumanBytes(done)),
        };
        bar.set_message(message);
    }

    fn finished(&self, recipe: &str, summary: &str) {
        let bar = self.bars.lock().expect("not poisoned").remove(recipe);
        if let Some(bar) = bar {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        let _ = self.multi.println(format!("{recipe}: {summary}"));
    }
}
