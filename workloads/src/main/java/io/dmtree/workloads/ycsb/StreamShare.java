package io.dmtree.workloads.ycsb;

/**
 * The part of a YCSB run one process executes when {@code count} processes share it: share
 * {@code index} loads records {@code [records*index/count, records*(index+1)/count)} and runs the
 * operations {@code j} with {@code j mod count == index}. Inside a process of {@code threads}
 * workers, worker {@code w} is global lane {@code w*count + index} of {@code threads*count}: it runs
 * the operations {@code j} with {@code j mod (threads*count) == w*count + index}. So with the same
 * total threads, operation {@code j} goes to compute node {@code j mod count} exactly as the embedded
 * runner sends it (worker {@code t} uses compute node {@code t mod cns}). {@link #WHOLE} is the
 * single-process run.
 *
 * @param index this process's share, {@code 0 .. count-1}
 * @param count processes sharing the run
 */
public record StreamShare(int index, int count) {
    public static final StreamShare WHOLE = new StreamShare(0, 1);

    public StreamShare {
        if (count < 1 || index < 0 || index >= count) {
            throw new IllegalArgumentException("share " + index + " of " + count);
        }
    }

    /** First record this share loads. */
    public long firstRecord(long records) {
        return records / count * index + records % count * index / count; // floor(records*index/count), no overflow
    }

    /** One past the last record this share loads. */
    public long endRecord(long records) {
        return index + 1 == count ? records : new StreamShare(index + 1, count).firstRecord(records);
    }

    /** Operations of a stream of {@code size} this share runs. */
    public long operations(long size) {
        return size <= index ? 0 : (size - index + count - 1) / count;
    }

    /** Global lane of worker {@code worker}. */
    public int lane(int worker) {
        return worker * count + index;
    }

    /** Lanes in all: {@code threads * count}. */
    public int lanes(int threads) {
        return threads * count;
    }
}
