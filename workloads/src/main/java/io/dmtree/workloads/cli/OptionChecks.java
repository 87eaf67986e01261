package io.dmtree.workloads.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * Range checks of option values. A violation is a {@link ParameterException}: picocli prints the
 * message and the usage on stderr and exits with code 2.
 */
final class OptionChecks {
    private OptionChecks() {
    }

    static long inRange(CommandSpec spec, String option, long value, long min, long max) {
        if (value < min || value > max) {
            throw usage(spec, option + " must be in [" + min + ", " + max + "]: " + value);
        }
        return value;
    }

    static int inRange(CommandSpec spec, String option, int value, int min, int max) {
        return (int) inRange(spec, option, (long) value, min, max);
    }

    static ParameterException usage(CommandSpec spec, String message) {
        CommandLine cl = spec.commandLine();
        return new ParameterException(cl, message);
    }
}
