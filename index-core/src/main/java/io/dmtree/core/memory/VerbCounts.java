package io.dmtree.core.memory;

/**
 * An immutable snapshot of verb counters: verbs by kind, payload bytes and round trips. Differences
 * of two snapshots give the MN communication of whatever ran between them.
 */
public record VerbCounts(long reads, long writes, long cas, long faa, long readBytes, long writeBytes,
                         long roundTrips) {
    public static final VerbCounts ZERO = new VerbCounts(0, 0, 0, 0, 0, 0, 0);

    public long verbs() {
        return reads + writes + cas + faa;
    }

    public long bytes() {
        return readBytes + writeBytes;
    }

    public VerbCounts plus(VerbCounts o) {
        return new VerbCounts(reads + o.reads, writes + o.writes, cas + o.cas, faa + o.faa,
                readBytes + o.readBytes, writeBytes + o.writeBytes, roundTrips + o.roundTrips);
    }

    public VerbCounts minus(VerbCounts o) {
        return new VerbCounts(reads - o.reads, writes - o.writes, cas - o.cas, faa - o.faa,
                readBytes - o.readBytes, writeBytes - o.writeBytes, roundTrips - o.roundTrips);
    }
}
