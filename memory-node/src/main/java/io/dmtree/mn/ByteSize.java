package io.dmtree.mn;

import java.util.Locale;

/**
 * Parses sizes such as {@code 4096}, {@code 64K}, {@code 512M}, {@code 2G}, {@code 1T} (binary
 * multiples; an optional {@code B} or {@code iB} suffix is accepted), with a message naming the
 * input when it is not one.
 */
public final class ByteSize {
    private ByteSize() {
    }

    public static long parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("size is missing");
        }
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) {
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("B")) {
            s = s.substring(0, s.length() - 1);
        }
        int shift = 0;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'K' -> shift = 10;
                case 'M' -> shift = 20;
                case 'G' -> shift = 30;
                case 'T' -> shift = 40;
                default -> shift = 0;
            }
            if (shift != 0) {
                s = s.substring(0, s.length() - 1);
            }
        }
        long n;
        try {
            n = Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + text + "' (use a number with an optional K, M, G or T suffix)");
        }
        if (n < 0 || (shift > 0 && n > (Long.MAX_VALUE >> shift))) {
            throw new IllegalArgumentException("size out of range: '" + text + "'");
        }
        return n << shift;
    }

    /** {@code 1073741824} as {@code 1G}, {@code 1536} as {@code 1536}. */
    public static String format(long bytes) {
        String[] units = {"", "K", "M", "G", "T"};
        int u = 0;
        while (u < units.length - 1 && bytes != 0 && bytes % 1024 == 0) {
            bytes /= 1024;
            u++;
        }
        return bytes + units[u];
    }
}
