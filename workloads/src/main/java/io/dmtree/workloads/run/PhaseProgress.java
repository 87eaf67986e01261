package io.dmtree.workloads.run;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on the terminal for a long phase, or nothing at all when the program's output is
 * not a terminal ({@link System#console()} is null), so logs and pipes stay clean.
 */
public interface PhaseProgress extends AutoCloseable {
    PhaseProgress NONE = new PhaseProgress() {
        @Override
        public void stepTo(long done) {
        }

        @Override
        public void close() {
        }
    };

    void stepTo(long done);

    @Override
    void close();

    /** A bar named {@code task} counting to {@code total} when attached to a terminal, else {@link #NONE}. */
    static PhaseProgress start(String task, long total) {
        if (System.console() == null) {
            return NONE;
        }
        ProgressBar bar = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250)
                .showSpeed()
                .build();
        return new PhaseProgress() {
            @Override
            public void stepTo(long done) {
                bar.stepTo(done);
            }

            @Override
            public void close() {
                bar.close();
            }
        };
    }
}
