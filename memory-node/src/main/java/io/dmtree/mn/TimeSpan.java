package io.dmtree.mn;

import java.util.Locale;

/**
 * Parses durations such as {@code 500ms}, {@code 5s}, {@code 15m}, {@code 1h}, or a bare number of
 * milliseconds, with a message naming the input when it is not one.
 */
public final class TimeSpan {
    private TimeSpan() {
    }

    /** Milliseconds of {@code text}; at most {@link Integer#MAX_VALUE}. */
    public static int parseMillis(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("duration is missing");
        }
        String s = text.trim().toLowerCase(Locale.ROOT);
        long unit;
        String digits;
        if (s.endsWith("ms")) {
            unit = 1;
            digits = s.substring(0, s.length() - 2);
        } else if (s.endsWith("s")) {
            unit = 1000;
            digits = s.substring(0, s.length() - 1);
        } else if (s.endsWith("m")) {
            unit = 60_000;
            digits = s.substring(0, s.length() - 1);
        } else if (s.endsWith("h")) {
            unit = 3_600_000;
            digits = s.substring(0, s.length() - 1);
        } else {
            unit = 1;
            digits = s;
        }
        long n;
        try {
            n = Long.parseLong(digits.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a duration: '" + text + "' (use e.g. 500ms, 5s, 15m, 1h)");
        }
        if (n < 0 || n > Integer.MAX_VALUE / unit) {
            throw new IllegalArgumentException("duration out of range: '" + text + "' (at most " + Integer.MAX_VALUE + " ms)");
        }
        return (int) (n * unit);
    }

    /** {@code 5000} as {@code 5s}, {@code 900000} as {@code 15m}, {@code 1500} as {@code 1500ms}. */
    public static String format(long millis) {
        if (millis != 0 && millis % 3_600_000 == 0) {
            return millis / 3_600_000 + "h";
        }
        if (millis != 0 && millis % 60_000 == 0) {
            return millis / 60_000 + "m";
        }
        if (millis != 0 && millis % 1000 == 0) {
            return millis / 1000 + "s";
        }
        return millis + "ms";
    }
}
