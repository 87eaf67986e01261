package io.dmtree.cn.carrier.tcp;

/**
 * What the tcp carrier's connections did on the wire, summed: the effect of request batching
 * ({@code framesWritten / socketWrites}) and of leading ({@code repliesForOthers}: replies read by
 * one caller for another, each one hand-off; the rest were read by their own caller).
 *
 * @param framesWritten    request frames written
 * @param socketWrites     gathering writes that carried them
 * @param writesCutShort   writes the socket took only part of (it was full; the rest went later)
 * @param repliesRead      reply frames read
 * @param socketReads      socket reads that carried them (including empty ones)
 * @param repliesForOthers replies a leader delivered to another waiting caller
 */
public record WireStats(long framesWritten, long socketWrites, long writesCutShort, long repliesRead, long socketReads,
                        long repliesForOthers) {
    public static final WireStats ZERO = new WireStats(0, 0, 0, 0, 0, 0);

    public WireStats plus(WireStats o) {
        return new WireStats(framesWritten + o.framesWritten, socketWrites + o.socketWrites, writesCutShort + o.writesCutShort,
                repliesRead + o.repliesRead, socketReads + o.socketReads, repliesForOthers + o.repliesForOthers);
    }

    public WireStats minus(WireStats o) {
        return new WireStats(framesWritten - o.framesWritten, socketWrites - o.socketWrites, writesCutShort - o.writesCutShort,
                repliesRead - o.repliesRead, socketReads - o.socketReads, repliesForOthers - o.repliesForOthers);
    }

    /** Request frames per socket write (1 without batching). */
    public double framesPerWrite() {
        return socketWrites == 0 ? 0 : (double) framesWritten / socketWrites;
    }

    /** Share of replies read by a caller other than the one waiting for it. */
    public double handOffShare() {
        return repliesRead == 0 ? 0 : (double) repliesForOthers / repliesRead;
    }
}
