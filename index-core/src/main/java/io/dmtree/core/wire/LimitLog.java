package io.dmtree.core.wire;

import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counts the limits a {@link FrameServer}'s peers hit, one counter per {@link Kind}, and reports
 * each kind on stderr at most once per {@link #REPORT_INTERVAL_NANOS}: the line says how often it
 * happened since the last report and names the latest peer, so a flood of refusals costs one line
 * per interval, not one per connection. Thread-safe.
 */
final class LimitLog {
    static final long REPORT_INTERVAL_NANOS = 10_000_000_000L;

    enum Kind {
        REFUSED_OVER_LIMIT("refused connections over the limit of open connections"),
        HELLO_TOO_LARGE("closed connections that sent a frame larger than the HELLO buffer before HELLO"),
        HELLO_TIMEOUT("closed connections that did not complete HELLO in time"),
        IDLE_TIMEOUT("closed idle connections"),
        FRAME_TOO_LARGE("closed connections that sent a frame beyond their service's limit"),
        BUDGET_WAIT("made connections wait for the receive budget before growing their buffer"),
        TLS_REFUSED("closed connections whose TLS did not match (a plaintext peer of a TLS node or the reverse, an untrusted certificate)");

        final String what;

        Kind(String what) {
            this.what = what;
        }
    }

    private static final int KINDS = Kind.values().length;
    private final String name;
    private final AtomicLongArray counts = new AtomicLongArray(KINDS);
    private final AtomicLongArray reported = new AtomicLongArray(KINDS);
    private final AtomicLongArray lastReportNanos = new AtomicLongArray(KINDS);

    LimitLog(String name) {
        this.name = name;
        long now = System.nanoTime();
        for (int i = 0; i < KINDS; i++) {
            lastReportNanos.set(i, now - REPORT_INTERVAL_NANOS);
        }
    }

    void hit(Kind kind, SocketAddress peer, String detail) {
        int i = kind.ordinal();
        long total = counts.incrementAndGet(i);
        long now = System.nanoTime();
        long last = lastReportNanos.get(i);
        if (now - last >= REPORT_INTERVAL_NANOS && lastReportNanos.compareAndSet(i, last, now)) {
            long since = total - reported.getAndSet(i, total);
            System.err.println(name + ": " + kind.what + ": " + since + " since the last report, " + total
                    + " in all (latest: " + FrameServer.describe(peer) + ", " + detail + ")");
        }
    }

    long count(Kind kind) {
        return counts.get(kind.ordinal());
    }
}
