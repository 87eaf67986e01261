package io.dmtree.workloads.cn;

import io.dmtree.cn.DmIndex;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.tree.TreeReport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * The line protocol of a long-lived compute node ({@code dmtree cn --serve}): one command per
 * line, one answer per command, so a script or a person can use the index of a running cluster.
 *
 * <pre>
 *   put KEY VALUE      -> ok
 *   get KEY            -> VALUE | absent
 *   delete KEY         -> deleted | absent
 *   scan KEY COUNT     -> up to COUNT lines "KEY VALUE", then "end N"
 *   check              -> the tree checker's report (quiescent use)
 *   stats              -> this compute node's memory node traffic and index cache
 *   help | quit
 * </pre>
 * With 8-byte keys (values) a key (value) is a signed decimal {@code long}; otherwise it is text,
 * stored as its UTF-8 bytes zero-padded to the width (longer text is refused), printed without the
 * padding. A bad command gets {@code error: reason} and the shell goes on.
 */
public final class IndexShell {
    private final DmIndex index;
    private final PrintWriter out;

    public IndexShell(DmIndex index, PrintWriter out) {
        this.index = index;
        this.out = out;
    }

    /** Answers commands until end of input or {@code quit}; returns true on {@code quit}. */
    public boolean serve(BufferedReader in) throws IOException {
        String line;
        while ((line = in.readLine()) != null) {
            if (!answer(line)) {
                return true;
            }
        }
        return false;
    }

    /** Answers one command line; false for {@code quit}. */
    public boolean answer(String line) {
        String[] w = line.trim().split("\\s+");
        if (w.length == 0 || w[0].isEmpty() || w[0].startsWith("#")) {
            return true;
        }
        try {
            switch (w[0].toLowerCase(Locale.ROOT)) {
                case "put" -> {
                    arity(w, 3, "put KEY VALUE");
                    if (longKeys() && longValues()) {
                        index.put(parseLong(w[1], "key"), parseLong(w[2], "value"));
                    } else {
                        index.put(key(w[1]), value(w[2]));
                    }
                    out.println("ok");
                }
                case "get" -> {
                    arity(w, 2, "get KEY");
                    if (longKeys() && longValues()) {
                        OptionalLong v = index.get(parseLong(w[1], "key"));
                        out.println(v.isPresent() ? Long.toString(v.getAsLong()) : "absent");
                    } else {
                        byte[] v = index.get(key(w[1]));
                        out.println(v == null ? "absent" : showValue(v));
                    }
                }
                case "delete" -> {
                    arity(w, 2, "delete KEY");
                    boolean was = longKeys() ? index.delete(parseLong(w[1], "key")) : index.delete(key(w[1]));
                    out.println(was ? "deleted" : "absent");
                }
                case "scan" -> {
                    arity(w, 3, "scan KEY COUNT");
                    long count = parseLong(w[2], "count");
                    if (count < 0 || count > 1_000_000) {
                        throw new IllegalArgumentException("count must be in [0, 1000000]: " + count);
                    }
                    int n;
                    if (longKeys() && longValues()) {
                        List<DmIndex.LongEntry> entries = index.scan(parseLong(w[1], "key"), (int) count);
                        entries.forEach(e -> out.println(e.key() + " " + e.value()));
                        n = entries.size();
                    } else {
                        n = index.scan(key(w[1]), (int) count, (k, v) -> {
                            out.println(showKey(k) + " " + showValue(v));
                            return true;
                        });
                    }
                    out.println("end " + n);
                }
                case "check" -> {
                    arity(w, 1, "check");
                    TreeReport r = index.check();
                    out.println(r);
                }
                case "stats" -> {
                    arity(w, 1, "stats");
                    VerbCounts t = index.memoryNodeTraffic();
                    DmIndex.CacheStats c = index.cacheStats();
                    out.printf(Locale.ROOT, "verbs %d (READ %d, WRITE %d, CAS %d, FAA %d), round trips %d, bytes %d;"
                                    + " cache hits %d, misses %d, %d of %d bytes%n", t.verbs(), t.reads(), t.writes(), t.cas(),
                            t.faa(), t.roundTrips(), t.bytes(), c.hits(), c.misses(), c.bytes(), c.capacityBytes());
                }
                case "help" -> out.println("commands: put KEY VALUE | get KEY | delete KEY | scan KEY COUNT | check | stats | quit");
                case "quit", "exit" -> {
                    out.println("bye");
                    return false;
                }
                default -> throw new IllegalArgumentException("unknown command '" + w[0] + "' (help lists them)");
            }
        } catch (RuntimeException e) {
            out.println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        } finally {
            out.flush();
        }
        return true;
    }

    private boolean longKeys() {
        return index.keyBytes() == Long.BYTES;
    }

    private boolean longValues() {
        return index.valueBytes() == Long.BYTES;
    }

    private static void arity(String[] w, int n, String usage) {
        if (w.length != n) {
            throw new IllegalArgumentException("usage: " + usage);
        }
    }

    private static long parseLong(String s, String what) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " '" + s + "' is not a decimal long");
        }
    }

    private byte[] key(String s) {
        if (longKeys()) {
            long k = parseLong(s, "key");
            // the index's byte order of long keys: big-endian with the sign bit flipped
            byte[] b = new byte[Long.BYTES];
            long flipped = k ^ Long.MIN_VALUE;
            for (int i = 0; i < Long.BYTES; i++) {
                b[i] = (byte) (flipped >>> (56 - 8 * i));
            }
            return b;
        }
        return padded(s, index.keyBytes(), "key");
    }

    private byte[] value(String s) {
        if (longValues()) {
            long v = parseLong(s, "value");
            byte[] b = new byte[Long.BYTES];
            for (int i = 0; i < Long.BYTES; i++) {
                b[i] = (byte) (v >>> (56 - 8 * i));
            }
            return b;
        }
        return padded(s, index.valueBytes(), "value");
    }

    private static byte[] padded(String s, int width, String what) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > width) {
            throw new IllegalArgumentException(what + " of " + b.length + " bytes is wider than the index's " + width);
        }
        return Arrays.copyOf(b, width);
    }

    private String showKey(byte[] k) {
        if (longKeys()) {
            long flipped = 0;
            for (byte b : k) {
                flipped = (flipped << 8) | (b & 0xFF);
            }
            return Long.toString(flipped ^ Long.MIN_VALUE);
        }
        return unpadded(k);
    }

    private String showValue(byte[] v) {
        if (longValues()) {
            long x = 0;
            for (byte b : v) {
                x = (x << 8) | (b & 0xFF);
            }
            return Long.toString(x);
        }
        return unpadded(v);
    }

    private static String unpadded(byte[] b) {
        int n = b.length;
        while (n > 0 && b[n - 1] == 0) {
            n--;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }
}
