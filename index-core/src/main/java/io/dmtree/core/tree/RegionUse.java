package io.dmtree.core.tree;

/**
 * Where the chunk areas of all memory nodes went, in bytes, as {@link RegionAudit} found them on a
 * quiescent cluster. {@code allocated} (chunks not free) splits exactly into the other parts:
 * {@code allocated = reachable + metadata + removed + pinned + free + leaked}.
 *
 * @param capacity  bytes of every chunk area
 * @param allocated bytes of chunks owned by a member, adopted or pinned
 * @param reachable tree nodes a walk from the root reaches
 * @param metadata  members' metadata blocks (redo blocks a directory word names)
 * @param removed   nodes merged away or old roots, unreachable, waiting for safe reuse
 * @param pinned    chunks the control plane handed out whole for shared objects
 * @param free      free blocks of the pool, members' unused reserve, and chunk slack
 * @param leaked    everything else: held by nobody who can still use it (must be 0)
 * @param records   keys in the leaves, for bytes per record
 * @param recordBytes key and value bytes of one record (the payload)
 */
public record RegionUse(long capacity, long allocated, long reachable, long metadata, long removed, long pinned,
                        long free, long leaked, long records, int recordBytes) {
    public RegionUse {
        if (reachable + metadata + removed + pinned + free + leaked != allocated) {
            throw new IllegalArgumentException("region use does not add up: " + reachable + " + " + metadata + " + "
                    + removed + " + " + pinned + " + " + free + " + " + leaked + " != " + allocated);
        }
    }

    /** Bytes in use: allocated and not free (reachable, metadata, removed, pinned, leaked). */
    public long used() {
        return allocated - free;
    }

    /** Allocated bytes per record (0 without records). */
    public double bytesPerRecord() {
        return records == 0 ? 0 : (double) allocated / records;
    }

    /** Allocated bytes over the records' payload (0 without records): the overhead ratio. */
    public double overhead() {
        return records == 0 ? 0 : (double) allocated / ((double) records * recordBytes);
    }

    @Override
    public String toString() {
        return "region bytes: " + allocated + " allocated of " + capacity + " (" + reachable + " reachable, " + metadata
                + " metadata, " + removed + " removed, " + pinned + " pinned, " + free + " free), leaked " + leaked
                + (records == 0 ? "" : String.format(java.util.Locale.ROOT, ", %.1f bytes per record (%.2fx its %d-byte payload)",
                bytesPerRecord(), overhead(), recordBytes));
    }
}
