package io.dmtree.mn;

/**
 * Where a memory node's region persists, and how its stores are made to: the points at which the
 * memory node asks for it are the protocol's (after formatting, after each chunk handed out, at a
 * clean stop); what survives which failure is the backing's to say ({@link
 * io.dmtree.mn.durable.DurableRegionFile}). A region in process memory persists nowhere
 * ({@link #NONE}).
 */
public interface RegionDurability {
    /** Whether the region outlives its process: a restart finds its bytes again. */
    boolean durable();

    /** Makes the region header (identity, chunk allocator, run state) persist; returns once it does. */
    void forceHeader();

    /** Makes every byte of the region persist; returns once it does. */
    void forceAll();

    /** Process memory: nothing persists, nothing to force. */
    RegionDurability NONE = new RegionDurability() {
        @Override
        public boolean durable() {
            return false;
        }

        @Override
        public void forceHeader() {
        }

        @Override
        public void forceAll() {
        }

        @Override
        public String toString() {
            return "process memory";
        }
    };
}
